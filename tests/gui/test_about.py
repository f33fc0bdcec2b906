"""Help → About and Help → Where do these numbers come from?, as a person reads them."""

import pytest
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMenu
from pytestqt.qtbot import QtBot

from vramscope import __version__
from vramscope.core.analysis import analyse
from vramscope.core.scenario import Deployment, GpuSpec, Workload
from vramscope.core.units import format_bytes
from vramscope.gui.about import APP_ID, about_html, numbers_html
from vramscope.gui.app import present_to_desktop
from vramscope.gui.main_window import MainWindow
from vramscope.sources.presets import all_presets, load_preset

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_about_names_the_version_licence_and_data_sources() -> None:
    html = about_html()
    assert f"VRAM Scope {__version__}" in html and "Licence: MIT" in html
    assert f"{len(all_presets())} model presets" in html and "GPUs in the catalog" in html


def test_the_worked_example_is_the_estimate_itself() -> None:
    html = numbers_html()
    model = load_preset("llama-3.1-8b")
    gpu = GpuSpec(name="a 24 GiB GPU", capacity_bytes=24 << 30, total_bytes=24 << 30)
    est = analyse(model, Workload(context=8192), Deployment(gpus=(gpu,))).estimate
    assert "8,030,261,248 parameters" in html and "16,060,522,496 bytes" in html  # x 2 bytes in BF16
    assert "= 131,072 bytes per token" in html  # 2 x 32 layers x 8 KV heads x 128 x 2 bytes
    assert "1,073,741,824 bytes" in html and est.kv_cache_bytes == 1 << 30
    assert f"Total {format_bytes(est.total_bytes)}" in html
    for kind in ("exact", "formula", "empirical"):
        assert f"<b>{kind}</b>" in html


def test_the_help_menu_opens_both_pages(window: MainWindow, qtbot: QtBot) -> None:
    # the menu by its title among the bar's children: a Python reference to what action.menu() returns
    # does not keep the C++ menu alive on every PySide6 version
    menu = next(m for m in window.menuBar().findChildren(QMenu) if m.title() == "&Help")
    titles = [a.text() for a in menu.actions()]
    assert titles == ["Where do these numbers come from?", "About VRAM Scope"]
    menu.actions()[0].trigger()
    dialog = next(w for w in window.findChildren(type(window.show_text("x", ""))) if w.windowTitle() != "x")
    assert "A worked example: Llama-3.1-8B" in dialog.browser.toPlainText()


def test_the_desktop_sees_the_app_by_its_name_and_icon() -> None:
    app = QGuiApplication.instance()
    present_to_desktop(app)  # type: ignore[arg-type]
    assert app.applicationDisplayName() == "VRAM Scope" and app.desktopFileName() == APP_ID  # type: ignore[union-attr]
    assert not QGuiApplication.windowIcon().isNull()
    assert {s.width() for s in QGuiApplication.windowIcon().availableSizes()} >= {16, 32, 48, 256}
