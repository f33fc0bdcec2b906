"""What fits, as a person uses it: open the tab, read a row, click it and see the scenario change."""

from collections.abc import Callable

import pytest
from pytestqt.qtbot import QtBot

from vramscope.core.estimate import estimate
from vramscope.core.scenario import Workload
from vramscope.core.solve import best_format
from vramscope.core.units import format_bytes
from vramscope.gui.main_window import MainWindow
from vramscope.sources.presets import all_presets, load_preset

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def cells(table: object, row: int) -> list[str]:
    t = table.table  # type: ignore[attr-defined]
    return [t.item(row, col).text() for col in range(t.columnCount())]


def test_the_formats_table_lists_each_format_and_a_click_applies_it(
    window: MainWindow, qtbot: QtBot, show_tab: Callable[[str], None]
) -> None:
    c = window.controller
    c.set_model(load_preset("qwen2.5-32b"))  # 65 GB at bf16: not on a 24 GiB RTX 4090
    c.finish_limits()
    show_tab("What fits")
    table = window.formats_table
    qtbot.waitUntil(lambda: table.job is None and bool(table.rows), timeout=20_000)
    first = cells(table, 0)
    assert first[0] == "BF16 (~16 bit)" and first[1] == "engine default" and first[3].startswith("✗ short by")
    assert table.table.item(0, 0).font().bold()  # the scenario on screen
    row = next(i for i, r in enumerate(table.rows) if r.fits)  # the first, with the most bits, that fits
    r = table.rows[row]
    assert r.weight_format == best_format(c.model, c.workload, c.deployment())
    table.table.cellClicked.emit(row, 0)
    assert c.workload.weight_format == r.weight_format and c.workload.kv_dtype == r.kv_dtype
    assert c.result.estimate.fits and window.verdict.headline.text().startswith(("✔ Fits", "⚠ Tight"))
    assert cells(table, row)[2] == format_bytes(c.result.estimate.total_bytes)
    assert table.table.item(row, 0).font().bold() and not table.table.item(0, 0).font().bold()


def test_the_models_table_ranks_what_fits_and_a_click_opens_it(
    window: MainWindow, qtbot: QtBot, show_tab: Callable[[str], None]
) -> None:
    show_tab("Models that fit")
    table = window.models_table
    qtbot.waitUntil(lambda: table.job is None and bool(table.rows), timeout=20_000)
    c = window.controller
    params = [r.model.parameter_count() for r in table.rows]
    assert params == sorted(params, reverse=True)
    assert table.table.rowCount() == len(table.rows)
    assert f"of {len(all_presets())} presets fit at context 8,192" in table.note.text()
    top = table.rows[0]
    assert cells(table, 0)[0] == top.model.name and top.model.parameter_count() > 30e9  # 4-bit 30B-class
    table.table.cellClicked.emit(0, 0)
    assert c.model.name == top.model.name
    assert (c.workload.weight_format or c.model.native_format) == top.weight_format
    assert c.result.estimate.fits
    expected = estimate(top.model, Workload(context=8192, weight_format=top.weight_format), c.deployment())
    assert c.result.estimate.total_bytes == expected.total_bytes


def test_a_desktop_that_turns_dark_recolours_the_window_while_it_runs(
    window: MainWindow, qtbot: QtBot, show_tab: Callable[[str], None]
) -> None:
    from PySide6.QtGui import QColor, QPalette
    from PySide6.QtWidgets import QApplication

    from vramscope.gui.colors import DARK, LIGHT

    c = window.controller
    c.set_model(load_preset("qwen2.5-32b"))
    c.finish_limits()
    window.resize(800, 600)  # the tabs' compact titles, once a style sheet that stopped the palette
    show_tab("What fits")
    table = window.formats_table
    qtbot.waitUntil(lambda: table.job is None and bool(table.rows), timeout=20_000)
    qtbot.waitUntil(lambda: bool(window.views.tabBar().styleSheet()))
    window.model_panel.show_error("not a model folder")
    assert table.table.item(0, 3).foreground().color() == QColor(LIGHT["no"])
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    light = app.palette()
    dark = QPalette(light)
    for role, color in ((QPalette.ColorRole.Window, "#2b2b2b"), (QPalette.ColorRole.Base, "#1e1e1e")):
        dark.setColor(role, QColor(color))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text):
        dark.setColor(role, QColor("#f0f0f0"))
    try:
        app.setPalette(dark)  # what Qt does when the desktop's colour scheme changes
        qtbot.wait(10)
        assert table.table.item(0, 3).foreground().color() == QColor(DARK["no"])  # ✗ short by …
        assert DARK["no"] in window.verdict.headline.styleSheet()
        assert DARK["no"] in window.model_panel.error.styleSheet()
    finally:
        app.setPalette(light)
    qtbot.wait(10)
    assert LIGHT["no"] in window.verdict.headline.styleSheet()


@pytest.mark.parametrize(("engine", "context"), [("transformers", 8192), ("llama.cpp", 8192), ("llama.cpp", 131072)])
def test_vramscope_fit_is_the_models_table_row_for_row(
    window: MainWindow, qtbot: QtBot, show_tab: Callable[[str], None], engine: str, context: int
) -> None:
    import contextlib
    import io
    import json

    from vramscope.cli import main
    from vramscope.core.scenario import Engine

    c = window.controller
    c.set_scenario(engine=Engine(engine), workload={"context": context})
    show_tab("Models that fit")
    table = window.models_table
    qtbot.waitUntil(lambda: table.job is None and table._computed is not None, timeout=20_000)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        main(["fit", "--gpu", "rtx-4090", "--engine", engine, "--context", str(context), "--json"])
    fit = json.loads(out.getvalue())["models"]
    window_rows = [(r.model.name, r.weight_format) for r in table.rows]
    assert [(load_preset(m["id"]).name, m["weights"]) for m in fit] == window_rows
    assert all(m["bits_per_weight"] is None or m["bits_per_weight"] >= 4 for m in fit)  # the 4-bit floor
    assert all(r.model.architecture.max_context >= context for r in table.rows)  # none priced at less


def test_what_fits_stops_at_4_bits_unless_asked_and_names_each_types_published_cost(
    window: MainWindow, qtbot: QtBot, show_tab: Callable[[str], None]
) -> None:
    from vramscope.core.scenario import Engine

    window.controller.set_scenario(model=load_preset("llama-3.1-70b"), engine=Engine.LLAMACPP)
    show_tab("What fits")
    table = window.formats_table
    qtbot.waitUntil(lambda: table.job is None and bool(table.rows), timeout=20_000)
    assert min(r.bits for r in table.rows) >= 4 and not table.below_floor.isChecked()
    names = [cells(table, i)[0] for i in range(table.table.rowCount())]
    assert any(n.startswith("GGUF Q4_K_M") and n.endswith("· +0.18 ppl") for n in names), names
    table.below_floor.setChecked(True)
    qtbot.waitUntil(lambda: table.job is None and min(r.bits for r in table.rows) < 4, timeout=20_000)
    names = [cells(table, i)[0] for i in range(table.table.rowCount())]
    assert any("Q2_K" in n and n.endswith("· +3.52 ppl") for n in names)  # llama.cpp's own figure, cited
