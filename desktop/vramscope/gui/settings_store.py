"""The settings file: INI text the app reads as plain strings. Qt turns an `@Variant(…)` value back into
whatever it serialised, and for PySide a Python object is a pickle that runs code when read: such a value
is dropped before Qt opens the file, since Qt parses every key on the first read of any."""

from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths

MAX_SETTINGS_BYTES = 1 << 20  # the app writes a few KiB; a larger file is not ours
SERIALISED_VARIANT = "@Variant("  # QDataStream-serialised values: the app never writes one


def settings_path() -> Path:
    """INI on every platform (not the registry or a plist), so the file can be checked before it is read."""
    folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppConfigLocation)
    return Path(folder) / "settings.ini"


def clean_settings_file(path: Path) -> str:
    """Drop what must not be read from the file; what was dropped, in words ("" when nothing)."""
    try:
        if not path.is_file():
            return ""
        if path.stat().st_size > MAX_SETTINGS_BYTES:
            path.unlink()
            return "The settings file was too large to be the app's own and was removed; starting from the defaults"
        text = path.read_text(encoding="utf-8", errors="replace")
        kept = [line for line in text.splitlines() if SERIALISED_VARIANT not in line]
        if len(kept) == len(text.splitlines()):
            return ""
        path.write_text("\n".join(kept) + "\n", encoding="utf-8")
    except OSError as exc:
        return f"The settings file could not be checked ({exc.strerror or exc}); starting from the defaults"
    dropped = len(text.splitlines()) - len(kept)
    return f"{dropped} setting{'s' if dropped > 1 else ''} holding serialised objects were dropped from {path.name}"


def open_settings(path: Path | None = None) -> tuple[QSettings | None, str]:
    """The app's settings, checked first; None (with why) when the file cannot be made safe to read."""
    path = path or settings_path()
    note = clean_settings_file(path)
    if note.startswith("The settings file could not be checked"):
        return None, note
    return QSettings(str(path), QSettings.Format.IniFormat), note
