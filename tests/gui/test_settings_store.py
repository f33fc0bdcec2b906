"""The settings file holds only strings the app reads with their type: a value Qt would deserialise into a
Python object (a pickle, which runs code) is dropped before Qt reads the file."""

import os
import subprocess
import sys
from pathlib import Path

from pytestqt.qtbot import QtBot

from vramscope.gui.app import build_window
from vramscope.gui.scenario_settings import restore_settings
from vramscope.gui.settings_store import MAX_SETTINGS_BYTES, clean_settings_file, open_settings

WRITE_EVIL = """
import os, sys
from PySide6.QtCore import QCoreApplication, QSettings
app = QCoreApplication([])
class Evil:
    def __reduce__(self):
        return (os.system, ("touch " + sys.argv[2],))
s = QSettings(sys.argv[1], QSettings.Format.IniFormat)
s.setValue("model", Evil())
s.setValue("engine", "vllm")
s.sync()
"""
READ_RAW = """
import sys
from PySide6.QtCore import QCoreApplication, QSettings
app = QCoreApplication([])
QSettings(sys.argv[1], QSettings.Format.IniFormat).value("engine")
"""


def evil_settings(tmp_path: Path) -> tuple[Path, Path]:
    path, marker = tmp_path / "settings.ini", tmp_path / "owned"
    subprocess.run([sys.executable, "-c", WRITE_EVIL, str(path), str(marker)], check=True, timeout=60)
    assert "@Variant(" in path.read_text(encoding="utf-8") and not marker.exists()
    return path, marker


def test_a_pickled_object_runs_when_qt_reads_the_raw_file(tmp_path: Path) -> None:
    """What the guard is for: Qt alone runs the pickle on reading any key."""
    path, marker = evil_settings(tmp_path)
    subprocess.run([sys.executable, "-c", READ_RAW, str(path)], check=True, timeout=60)
    assert marker.exists()


def test_the_window_drops_serialised_objects_before_reading(qtbot: QtBot, tmp_path: Path) -> None:
    path, marker = evil_settings(tmp_path)
    settings, note = open_settings(path)
    assert settings is not None and note.startswith("1 setting holding serialised objects were dropped")
    w = build_window(settings=settings)
    qtbot.addWidget(w)
    restore_settings(w, settings)
    assert not marker.exists()
    assert w.controller.engine.value == "vllm"  # the rest of the file still counts
    assert "@Variant(" not in path.read_text(encoding="utf-8")


def test_a_huge_settings_file_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "settings.ini"
    path.write_bytes(b"[General]\n" + b"x" * (MAX_SETTINGS_BYTES + 1))
    assert "too large" in clean_settings_file(path) and not path.exists()
    assert clean_settings_file(tmp_path / "none.ini") == ""


def test_the_settings_file_is_ini_in_the_apps_config_folder() -> None:
    from vramscope.gui.settings_store import settings_path

    assert settings_path().name == "settings.ini"
    assert str(settings_path()).startswith(os.environ["XDG_CONFIG_HOME"])  # the test run's own folder
