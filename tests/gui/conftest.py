"""The window as the tests open it: a preset, the catalog GPU, no settings file."""

from collections.abc import Callable

import pytest
from pytestqt.qtbot import QtBot

from vramscope.gui.app import build_window
from vramscope.gui.main_window import MainWindow


@pytest.fixture
def window(qtbot: QtBot) -> MainWindow:
    w = build_window()
    qtbot.addWidget(w)
    return w


@pytest.fixture
def show_tab(window: MainWindow, qtbot: QtBot) -> Callable[[str], None]:
    """Show the window and bring one of its views (a tab, by its title) to the front."""

    def show(title: str) -> None:
        window.show()
        qtbot.waitExposed(window)
        index = next(i for i in range(window.views.count()) if window.views.tabText(i) == title)
        window.views.setCurrentIndex(index)

    return show
