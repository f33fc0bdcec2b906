"""Where the shipped data lives: inside the installed package, or beside `desktop/` in a checkout."""

from importlib.resources import files
from pathlib import Path


def resources_dir() -> Path:
    packaged = Path(str(files("vramscope"))) / "resources"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "resources"
