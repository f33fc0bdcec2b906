"""Where an internal error's details go: one log file in the platform's log folder, never a traceback on a
user's screen. No Qt here: the command line uses it too."""

import os
import sys
import tempfile
import time
import traceback
from pathlib import Path


def log_dir() -> Path:
    """~/.local/state/vramscope (XDG), ~/Library/Logs/VRAM Scope, or %LOCALAPPDATA%\\VRAM Scope\\Logs."""
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Logs" / "VRAM Scope"
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA", Path.home())) / "VRAM Scope" / "Logs"
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "vramscope"


def write_crash_log(error: BaseException, context: str = "") -> Path:
    """Append the error with its traceback to vramscope.log; the path written (a temp file if the log
    folder cannot be written)."""
    text = (
        f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} {context}\n"
        + "".join(traceback.format_exception(type(error), error, error.__traceback__))
        + "\n"
    )
    for folder in (log_dir(), Path(tempfile.gettempdir())):
        path = folder / "vramscope.log"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as log:
                log.write(text)
            return path
        except OSError:
            continue
    return Path(tempfile.gettempdir()) / "vramscope.log"
