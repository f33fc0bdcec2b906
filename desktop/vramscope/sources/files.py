"""Opening the files a user points at: regular files only, never blocking, never past a size limit.

A FIFO named model.gguf blocks open() for ever and /dev/urandom named config.json reads for ever, so the
kind of file is checked before it is opened, and O_NONBLOCK guards the gap between the check and the open.
"""

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO

from vramscope.sources.errors import ModelFileError


def reason(exc: OSError) -> str:
    """What went wrong, in words ("Permission denied", "File name too long")."""
    if exc.errno == errno.ENAMETOOLONG:
        return "a name in the path is too long"
    return exc.strerror or str(exc)


def exists(path: Path) -> bool:
    """Path.exists that says no, rather than raising, for names too long or folders not readable."""
    try:
        return path.exists()
    except OSError:
        return False


def open_regular(path: Path) -> BinaryIO:
    """Open a regular file for reading, or raise ModelFileError saying why not."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise ModelFileError(f"{path.name} is not a regular file (a device, pipe or socket is never read)")
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
        file = os.fdopen(fd, "rb")
        if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):  # swapped for a pipe since the check
            file.close()
            raise ModelFileError(f"{path.name} is not a regular file")
        return file
    except OSError as exc:
        raise ModelFileError(f"cannot read {path}: {reason(exc)}") from None


def read_limited(path: Path, limit: int, what: str) -> bytes:
    """The whole of a small file (a config, an index): refused when larger than `limit` bytes."""
    with open_regular(path) as file:
        try:
            size = os.fstat(file.fileno()).st_size
            if size > limit:
                raise ModelFileError(f"{what} is {size:,} bytes: more than the {limit:,} a real one needs")
            data = file.read(limit + 1)
        except OSError as exc:
            raise ModelFileError(f"cannot read {path}: {reason(exc)}") from None
    if len(data) > limit:
        raise ModelFileError(f"{what} grew past {limit:,} bytes while being read")
    return data


def read_head(path: Path, limit: int) -> bytes:
    """The first `limit` bytes of a file that may be far longer (a log whose start is what matters)."""
    with open_regular(path) as file:
        try:
            return file.read(limit)
        except OSError as exc:
            raise ModelFileError(f"cannot read {path}: {reason(exc)}") from None


def inside(folder: Path, path: Path) -> bool:
    """Whether `path`, links followed, stays inside `folder` (a shard linked from elsewhere is refused)."""
    try:
        return path.resolve().is_relative_to(folder.resolve())
    except OSError:
        return False
