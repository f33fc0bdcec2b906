"""The window as the tests open it: a preset, the catalog GPU, no settings file."""

import pytest
from pytestqt.qtbot import QtBot

from vramscope.gui.app import build_window
from vramscope.gui.main_window import MainWindow


@pytest.fixture
def window(qtbot: QtBot) -> MainWindow:
    w = build_window()
    qtbot.addWidget(w)
    return w
