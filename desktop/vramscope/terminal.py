"""Text for a terminal that may not be ours: no control sequences from a log, a model file or a GPU name
reach it, and a console that cannot encode "✔" (cp1252) reads plain ASCII instead of failing."""

import codecs
import sys
import unicodedata
from typing import TextIO

# What the output uses beyond ASCII, as a console without it should read it
ASCII_FALLBACKS = {
    "\u2714": "OK",  # check mark
    "\u2718": "X",  # ballot x
    "\u2717": "x",
    "\u26a0": "!",  # warning sign
    "\u2014": "-",  # em dash
    "\u2013": "-",  # en dash
    "\u2248": "~",  # almost equal
    "\u00b7": "|",  # middle dot
    "\u2026": "...",
    "\u2192": "->",
    "\u00d7": "x",  # multiplication sign
    "\u201c": '"',
    "\u201d": '"',
    "\u2019": "'",
    "\u00b2": "2",
    "\u2264": "<=",
    "\u2265": ">=",
}


def _ascii_fallback(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeEncodeError):
        raise error
    text = error.object[error.start : error.end]
    return "".join(ASCII_FALLBACKS.get(ch, "?") for ch in text), error.end


codecs.register_error("vramscope-ascii", _ascii_fallback)

# C0 controls but tab and newline, DEL and the C1 controls: ESC [ … is how a log would move the cursor
_CONTROLS = {c: None for c in (*range(0x00, 0x09), *range(0x0B, 0x20), 0x7F, *range(0x80, 0xA0))}


def printable(text: str) -> str:
    """The text with control characters removed, and other invisible formatting characters (bidi
    overrides) too: what is printed is what the text says."""
    text = text.translate(_CONTROLS)
    if text.isascii():
        return text
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cf")


class SafeStream:
    """A text stream that prints only printable text, in any encoding the console has."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="vramscope-ascii")

    def write(self, text: str) -> int:
        return self.stream.write(printable(text))

    def flush(self) -> None:
        self.stream.flush()

    def __getattr__(self, name: str) -> object:  # isatty, fileno, encoding …: the stream's own
        return getattr(self.stream, name)


def guard_streams() -> tuple[TextIO, TextIO]:
    """Wrap stdout and stderr; the originals are returned to put back."""
    original = sys.stdout, sys.stderr
    sys.stdout = SafeStream(sys.stdout)
    sys.stderr = SafeStream(sys.stderr)
    return original
