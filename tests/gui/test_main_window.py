"""The window as a person uses it: move a control, read the chart and the verdict."""

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from tests.fixtures.fake_nvml import RTX4090
from vramscope.core.estimate import SegmentKind, estimate
from vramscope.core.precision import WEIGHT_FORMATS
from vramscope.core.scenario import Engine
from vramscope.core.units import GIB, Unit
from vramscope.gui.app import build_window
from vramscope.gui.colors import TIGHT_COLOR
from vramscope.gui.export import title_lines
from vramscope.gui.main_window import MainWindow
from vramscope.gui.scenario_settings import restore_settings
from vramscope.gui.widgets.memory_chart import KINDS
from vramscope.gui.widgets.workload_panel import LOG_STEPS, MIN_CONTEXT_SLIDER, log_to_value
from vramscope.hardware.probe import Device, DeviceKind, HardwareSnapshot, ProbeStatus
from vramscope.sources.presets import load_preset

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def bar_widths(w: MainWindow, kind: SegmentKind) -> list[float]:
    return list(np.asarray(w.chart.bars[kind].opts["width"]))


def assert_chart_matches(w: MainWindow) -> None:
    c = w.controller
    expected = estimate(c.model, c.workload, c.deployment())
    assert c.result.estimate == expected
    for kind in KINDS:
        gpus = len(expected.per_gpu)  # a RAM bar may follow (llama.cpp's host buffers)
        assert bar_widths(w, kind)[:gpus] == pytest.approx([g.segment(kind).bytes / GIB for g in expected.per_gpu])


def test_context_slider_redraws_the_chart(window: MainWindow) -> None:
    window.workload_panel.context_slider.setValue(LOG_STEPS)
    assert window.controller.workload.context == 131072
    assert_chart_matches(window)
    assert window.verdict.headline.text().startswith("✘ Does not fit")
    kv = bar_widths(window, SegmentKind.KV_CACHE)[0]
    assert kv == pytest.approx(16.0)  # 131,072 B/token x 131,072 tokens = 16 GiB


def test_spin_boxes_and_sliders(window: MainWindow) -> None:
    panel = window.workload_panel
    panel.context_spin.setValue(4096)
    assert window.controller.workload.context == 4096
    panel.batch_spin.setValue(3)
    assert window.controller.workload.batch == 3
    panel.batch_slider.setValue(LOG_STEPS)
    assert window.controller.workload.batch == 1024
    assert panel.weight_combo.findData("q4_k_m") == -1  # transformers does not run GGUF quants
    window.controller.set_engine(Engine.LLAMACPP)
    panel.weight_combo.setCurrentIndex(panel.weight_combo.findData("q4_k_m"))
    panel.weight_combo.activated.emit(panel.weight_combo.currentIndex())
    assert window.controller.workload.weight_format == "q4_k_m"
    panel.context_slider.setValue(0)
    assert window.controller.workload.context == log_to_value(0, MIN_CONTEXT_SLIDER, 131072) == 256
    assert_chart_matches(window)


def test_fitting_model_verdict(window: MainWindow) -> None:
    est = window.controller.result.estimate
    assert est.fits
    assert window.verdict.headline.text() == "✔ Fits — 6.78 GiB (28%) headroom"
    assert "Largest context that fits: 38,828" in window.verdict.details.text()


def test_two_gpus_draw_two_bars(window: MainWindow) -> None:
    window.workload_panel.gpu_spin.setValue(2)
    assert len(window.chart.gpus) == 2
    assert len(bar_widths(window, SegmentKind.WEIGHTS)) == 2
    assert_chart_matches(window)


def test_with_eight_gpus_the_legend_stays_clear_of_the_first_total(window: MainWindow, qtbot: QtBot) -> None:
    window.resize(1280, 780)
    window.show()
    qtbot.waitExposed(window)
    window.workload_panel.gpu_spin.setValue(8)
    qtbot.wait(20)  # the legend lays itself out on the next event loop turn
    chart = window.chart
    assert chart is not None and len(chart.gpus) == 8
    legend = chart.legend.mapRectToScene(chart.legend.boundingRect())
    total = next(label for (row, kind), label in chart.labels.items() if row == 0 and kind is None)
    assert total.isVisible()
    assert legend.bottom() <= total.mapRectToScene(total.boundingRect()).top()


def test_detected_gpus_replace_the_catalog_default(window: MainWindow) -> None:
    gpus = tuple(
        Device(
            kind=DeviceKind.NVIDIA,
            index=i,
            name=RTX4090["name"],
            total_bytes=24 * GIB,
            used_bytes=GIB,
            free_bytes=23 * GIB,
        )
        for i in range(2)
    )
    window.hardware.finish(HardwareSnapshot(status=ProbeStatus.OK, message="2 NVIDIA GPUs detected.", devices=gpus))
    assert window.controller.gpu.capacity_bytes == 23 * GIB
    assert window.gpu_panel.status.text().startswith("✔ 2 NVIDIA GPUs detected")


def test_probe_failure_shows_status_and_catalog(window: MainWindow) -> None:
    window.hardware.finish(HardwareSnapshot(status=ProbeStatus.NO_DRIVER, message="No NVIDIA driver found."))
    assert "No GPU detected: No NVIDIA driver found." in window.gpu_panel.status.text()
    assert window.gpu_panel.picker.count() >= 40


def test_hover_names_the_segment(window: MainWindow) -> None:
    text = window.chart.tooltip_at(1 * GIB, 0.0)
    assert text.startswith("GPU 0 · Weights: 16,060,522,496 bytes = 14.96 GiB")
    assert "exact" in text
    assert window.chart.tooltip_at(1 * GIB, 3.0) == ""


def test_copy_summary(window: MainWindow) -> None:
    window.copy_summary()
    from PySide6.QtGui import QGuiApplication

    text = QGuiApplication.clipboard().text()
    assert "**Llama-3.1-8B**" in text and "14.96 GiB (exact)" in text


def test_settings_round_trip(qtbot: QtBot, tmp_path: Path) -> None:
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    first = build_window(settings=settings)
    qtbot.addWidget(first)
    first.controller.set_workload(context=12345, batch=2)
    first.save_settings()
    settings.sync()
    second = build_window(settings=settings)
    qtbot.addWidget(second)
    restore_settings(second, settings)
    assert second.controller.workload.context == 12345 and second.controller.workload.batch == 2


def test_every_control_is_remembered(qtbot: QtBot, tmp_path: Path) -> None:
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    first = build_window(settings=settings)
    qtbot.addWidget(first)
    c = first.controller
    first.gpu_panel.select_catalog("nvidia-a100-sxm4-80gb")
    first.gpu_panel.picker.activated.emit(first.gpu_panel.picker.currentIndex())
    c.set_engine(Engine.VLLM)
    c.set_engine_settings(gpu_memory_utilization=0.8)
    c.set_gpu_count(2)
    first.gb_action.trigger()
    first.show_view("What fits")
    first.save_settings()
    settings.sync()
    second = build_window(settings=settings, defer_chart=True)
    qtbot.addWidget(second)
    restore_settings(second, settings)
    s = second.controller
    assert (s.engine, s.settings.gpu_memory_utilization, s.gpu_count) == (Engine.VLLM, 0.8, 2)
    assert s.gpu.name == c.gpu.name and "A100" in s.gpu.name
    assert s.unit is Unit.GB and second.gb_action.isChecked()
    assert second.views.tabText(second.views.currentIndex()) == "What fits"
    gpu = Device(kind=DeviceKind.NVIDIA, index=0, name=RTX4090["name"], total_bytes=24 * GIB, free_bytes=23 * GIB)
    second.hardware.finish(HardwareSnapshot(status=ProbeStatus.OK, message="1 GPU", devices=(gpu,)))
    assert "A100" in s.gpu.name  # a GPU chosen from the catalog outlives the detection


def test_corrupt_settings_are_survived(qtbot: QtBot, tmp_path: Path) -> None:
    path = tmp_path / "s.ini"
    path.write_bytes(b"[General]\nworkload={not json\ngpu_count=lots\nmodel=\x00\xff\ngeometry=zz\n")
    settings = QSettings(str(path), QSettings.Format.IniFormat)
    w = build_window(settings=settings)
    qtbot.addWidget(w)
    restore_settings(w, settings)
    assert w.controller.workload.context == 8192


def test_screenshot_command(tmp_path: Path) -> None:
    from vramscope.cli import main

    out = tmp_path / "shot.png"
    assert main(["--screenshot", str(out), "llama-3.1-70b", "--gpu", "rtx-4090"]) == 0
    assert out.stat().st_size > 10_000


def test_kv_dtype_combo(window: MainWindow) -> None:
    combo = window.workload_panel.kv_combo
    combo.setCurrentIndex(combo.findData("q4_0"))  # transformers' quanto cache: 4 bits + a scale per 32
    combo.activated.emit(combo.currentIndex())
    assert window.controller.result.estimate.kv_cache_bytes == GIB * 18 // 64
    assert bar_widths(window, SegmentKind.KV_CACHE) == pytest.approx([18 / 64])


def test_custom_model_mode(window: MainWindow) -> None:
    custom = window.custom_panel
    custom.setChecked(True)
    assert window.controller.model.source.value == "custom"
    assert not window.model_panel.picker.isEnabled()
    custom.kv_heads.setValue(4)
    arch = window.controller.model.architecture
    assert arch.num_kv_heads == 4 and arch.num_layers == 60
    assert window.controller.result.estimate.kv_bytes_per_token == 60 * 4 * 256 * 2
    assert_chart_matches(window)
    custom.setChecked(False)
    assert window.controller.model.name == "Llama-3.1-8B"


def test_custom_sliders_drive_the_spin_boxes(window: MainWindow) -> None:
    custom = window.custom_panel
    custom.setChecked(True)
    custom.rows[1].slider.setValue(custom.rows[1].slider.maximum())
    assert custom.layers.value() == 256
    model = window.controller.model
    assert model.architecture.num_layers == 256
    assert model.name == f"Custom {model.parameter_count() / 1e9:,.3g}B"  # what the sizes make


def test_picking_a_preset_clears_an_earlier_open_error(window: MainWindow) -> None:
    window.opener.open_failed.emit("not a model folder")
    assert window.model_panel.error.isVisibleTo(window)
    window.model_panel.model_requested.emit("qwen2.5-7b")
    assert not window.model_panel.error.isVisibleTo(window)


def test_ctrl_c_in_the_search_box_copies_the_summary_unless_text_is_selected(window: MainWindow, qtbot: QtBot) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication

    window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)  # a window shortcut needs an active window
    line = window.model_panel.picker.lineEdit()
    line.setFocus()
    qtbot.waitUntil(line.hasFocus)
    QGuiApplication.clipboard().setText("")
    qtbot.keyClick(line, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert "**Llama-3.1-8B**" in QGuiApplication.clipboard().text()
    line.setSelection(0, 5)
    qtbot.keyClick(line, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QGuiApplication.clipboard().text() == line.text()[:5]


def test_chart_arrives_after_the_first_paint(qtbot: QtBot) -> None:
    w = build_window(defer_chart=True)
    qtbot.addWidget(w)
    assert w.chart is None
    with qtbot.waitSignal(w.chart_ready, timeout=5000):
        w.show()
    assert w.chart is not None
    assert_chart_matches(w)


def test_mouse_over_a_bar_sets_the_tooltip(window: MainWindow, qtbot: QtBot) -> None:
    from PySide6.QtCore import QPointF

    chart = window.chart
    assert chart is not None
    window.resize(1200, 700)
    window.show()
    scene_point = chart.item.vb.mapViewToScene(QPointF(5.0, 0.0))  # 5 GiB into GPU 0's bar: weights
    chart.plot.scene().sigMouseMoved.emit(scene_point)  # rate-limited: arrives on the next timer tick
    qtbot.waitUntil(lambda: chart.plot.toolTip().startswith("GPU 0 · Weights: 16,060,522,496 bytes"))


def test_gb_switch(window: MainWindow) -> None:
    window.gb_action.trigger()
    assert window.controller.unit.value == "GB"
    assert bar_widths(window, SegmentKind.WEIGHTS) == pytest.approx([16.060522496])
    assert window.verdict.headline.text() == "✔ Fits — 7.28 GB (28%) headroom"


def test_export_png(window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from PySide6.QtWidgets import QFileDialog

    target = tmp_path / "chart.png"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), "PNG images (*.png)"))
    window._export_png()
    assert target.stat().st_size > 1000
    from PySide6.QtGui import QImage

    saved = QImage(str(target))
    assert saved.height() > window.chart.grab().height() + 5 * window.fontMetrics().height()  # the title block
    lines = title_lines(window.controller)
    assert lines[0].startswith("Llama-3.1-8B · 8,030,261,248 parameters · 1 x NVIDIA GeForce RTX 4090")
    assert lines[2].startswith("✔ Fits") and "context 8,192" in lines[1]


def test_a_scenario_the_core_refuses_keeps_the_last_good_one(window: MainWindow, qtbot: QtBot) -> None:
    odd = window.controller.model.model_copy(update={"native_format": "fp7", "name": "Odd"})
    with qtbot.waitSignal(window.controller.error_changed, check_params_cb=lambda m: "unknown weight format" in m):
        window.controller.set_model(odd)
    assert window.controller.model.name == "Llama-3.1-8B"
    window.workload_panel.gpu_spin.setValue(2)  # the window keeps working
    assert len(window.controller.result.estimate.per_gpu) == 2


def test_weight_slider_walks_the_formats(window: MainWindow) -> None:
    panel = window.workload_panel
    window.controller.set_engine(Engine.LLAMACPP)
    bits = [WEIGHT_FORMATS[f or "bf16"].bits for f in panel.formats]
    assert panel.formats[0] is None and bits == sorted(bits, reverse=True)  # the model's own, then fewer bits
    assert panel.weight_combo.itemText(0) == "Model's own: BF16 · 16 bit"
    assert "fp32" not in panel.formats and "awq-int4" not in panel.formats  # above bf16; not a llama.cpp format
    panel.weight_slider.setValue(panel.formats.index("q4_k_m"))
    assert window.controller.workload.weight_format == "q4_k_m"
    assert panel.weight_combo.currentData() == "q4_k_m"
    assert_chart_matches(window)
    panel.weight_slider.setValue(panel.weight_slider.maximum())  # the fewest bits
    assert window.controller.workload.weight_format == "iq2_xxs"
    assert window.controller.result.estimate.weights_bytes < 3 * GIB


def test_limits_follow_once_the_slider_rests(window: MainWindow, qtbot: QtBot) -> None:
    from vramscope.core.solve import max_batch, max_context

    window.workload_panel.context_spin.setValue(4096)
    assert "Largest context and batch that fit: …" in window.verdict.details.text()  # the bar moved at once
    qtbot.waitUntil(lambda: not window.controller.result.limits_pending)
    c = window.controller
    best = max_context(c.model, c.workload, c.deployment())
    batch = max_batch(c.model, c.workload, c.deployment())
    assert f"Largest context that fits: {best:,} · largest batch: {batch:,}" in window.verdict.details.text()


def test_deeply_nested_settings_do_not_stop_the_window(qtbot: QtBot, tmp_path: Path) -> None:
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    settings.setValue("workload", "[" * 100_000 + "]" * 100_000)
    w = build_window(settings=settings)
    qtbot.addWidget(w)
    restore_settings(w, settings)
    assert w.controller.workload.context == 8192
    assert "could not be read" in w.statusBar().currentMessage()


def test_an_internal_error_is_undone_and_said(
    window: MainWindow, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import vramscope.gui.controller as controller_module

    shown = window.controller.result
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    monkeypatch.setattr(controller_module, "analyse", lambda *a, **k: 1 / 0)
    window.workload_panel.context_spin.setValue(4096)
    assert window.controller.result is shown  # state and result still agree
    assert window.workload_panel.context_spin.value() == shown.workload.context
    assert window.statusBar().currentMessage().startswith("Internal error (ZeroDivisionError)")


def test_absurd_values_in_the_controls_are_refused_with_a_message(window: MainWindow) -> None:
    c = window.controller
    c.set_workload(context=10**12)
    assert c.workload.context == 8192 and "context" in window.statusBar().currentMessage()
    c.set_engine_settings(gpu_memory_utilization=7)
    assert c.settings.gpu_memory_utilization is None  # still the version's default
    c.set_gpu_count(10**6)
    assert c.gpu_count == 1 and "GPUs" in window.statusBar().currentMessage()


def test_a_way_out_is_a_button_that_applies_it(window: MainWindow, qtbot: QtBot) -> None:
    window.controller.set_model(load_preset("llama-3.1-70b"))
    window.controller.finish_limits()
    panel = window.ways_out
    assert all(not b.isEnabled() for b in panel.buttons)  # the last scenario's, until this one's are found
    qtbot.waitUntil(lambda: panel.job is None, timeout=20_000)  # found in a worker: the window does not freeze
    assert panel.title.text() == "Ways out:"
    button = next(b for b, a in zip(panel.buttons, panel.advice, strict=True) if a.kind == "gpus")
    button.click()
    assert window.controller.result.estimate.fits is True
    assert window.verdict.headline.text().startswith(("✔ Fits", "⚠ Tight"))  # the fewest GPUs fit just


def test_the_bar_behind_another_tab_catches_up_when_shown(window: MainWindow, show_tab: Callable[[str], None]) -> None:
    show_tab("What fits")
    before = bar_widths(window, SegmentKind.KV_CACHE)
    window.controller.set_workload(context=32768)
    assert bar_widths(window, SegmentKind.KV_CACHE) == before  # no work for a chart nobody sees
    show_tab("Memory")
    assert_chart_matches(window)


def test_the_model_panel_lists_a_vision_encoder_apart(window: MainWindow) -> None:
    window.model_panel.model_requested.emit("qwen3-vl-8b")
    text = window.model_panel.facts.text()
    assert "8,767,123,696" in text  # 8,190,735,360 text + 576,388,336 vision
    assert "Vision encoder" in text and "576,388,336 of them" in text
    window.model_panel.model_requested.emit("qwen2.5-7b")
    assert "Vision encoder" not in window.model_panel.facts.text()


def test_the_images_box_says_what_one_image_is_assumed_to_cost(window: MainWindow) -> None:
    window.model_panel.model_requested.emit("qwen3-vl-8b")
    tip = window.workload_panel.images_spin.toolTip()
    assert "1024x1024 pixels, 1,024 tokens (an assumed size" in tip
    window.model_panel.model_requested.emit("gemma-3-4b")
    assert "896x896 pixels, 256 tokens" in window.workload_panel.images_spin.toolTip()


def test_a_fit_within_the_profiles_error_is_amber_and_says_so(window: MainWindow) -> None:
    c = window.controller
    c.set_engine(Engine.VLLM)
    c.set_workload(context=40_000)
    c.finish_limits()
    assert c.result.estimate.fits is True and c.result.estimate.tight is True
    assert window.verdict.headline.text().startswith("⚠ Tight — ")
    assert TIGHT_COLOR in window.verdict.headline.styleSheet()
    assert "May not start: within the 3.0%" in window.verdict.details.text()  # no log of 0.20-0.33: V0's miss


def test_the_kv_cache_vllm_needs_is_drawn_over_the_pool_it_has(window: MainWindow) -> None:
    c, chart = window.controller, window.chart
    c.set_engine(Engine.VLLM)
    c.set_workload(context=131_072, batch=2)
    assert chart is not None and c.result.estimate.refusal
    (width,) = np.asarray(chart.kv_needed.opts["width"])
    assert width == pytest.approx(2 * 131_072 * 131_072 / GIB)  # two 128k sequences at 128 KiB a token
    (start,) = np.asarray(chart.kv_needed.opts["x0"])
    assert start == pytest.approx(c.result.estimate.weights_bytes / GIB)  # from where the pool begins
    assert "KV cache needed" in [label.text for _, label in chart.legend.items]
    c.set_workload(context=8192, batch=1)
    assert len(np.asarray(chart.kv_needed.opts["width"])) == 0  # the pool holds it: no outline


def _wheel(widget: QWidget, steps: int = -1) -> None:
    from PySide6.QtCore import QPoint, QPointF
    from PySide6.QtGui import QWheelEvent

    centre = QPointF(widget.rect().center())
    event = QWheelEvent(
        centre, QPointF(widget.mapToGlobal(centre.toPoint())), QPoint(), QPoint(0, 120 * steps),
        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False,
    )  # fmt: skip
    QApplication.sendEvent(widget, event)


def test_the_wheel_over_an_unfocused_control_scrolls_the_panel(window: MainWindow) -> None:
    window.resize(900, 500)  # the side panel needs its scroll bar
    window.show()
    c, panel = window.controller, window.workload_panel
    context = c.workload.context
    _wheel(panel.context_slider)
    _wheel(panel.context_spin)
    assert c.workload.context == context  # not 8,192 -> 7,342 on the way down the panel
    assert window.side_scroll.verticalScrollBar().value() > 0
    window.activateWindow()
    panel.context_spin.setFocus(Qt.FocusReason.MouseFocusReason)
    QApplication.processEvents()
    assert panel.context_spin.hasFocus()
    _wheel(panel.context_spin)  # a control the user clicked wheels through its values
    assert c.workload.context != context


@pytest.mark.parametrize("background", ["#ffffff", "#efefef", "#2b2b2b", "#1e1e1e", "#353535"])
def test_verdict_colours_read_on_light_and_dark_windows(background: str) -> None:
    from PySide6.QtGui import QColor

    from vramscope.gui.colors import contrast, verdict_colors

    window = QColor(background)
    assert all(contrast(QColor(c), window) >= 4.5 for c in verdict_colors(window).values())


def test_a_dark_palette_gets_the_light_shades(window: MainWindow) -> None:
    from PySide6.QtGui import QColor, QPalette

    from vramscope.gui.colors import DARK

    palette = window.verdict.palette()
    palette.setColor(QPalette.ColorRole.Window, QColor("#2b2b2b"))
    window.verdict.setPalette(palette)
    window.controller.set_workload(context=4096)
    assert DARK["fits"] in window.verdict.headline.styleSheet()


def test_without_a_gpu_the_verdict_names_the_gpu_it_assumes(window: MainWindow) -> None:
    from vramscope.hardware.probe import HardwareSnapshot, ProbeStatus

    c = window.controller
    gpu = c.gpu.name if c.gpu is not None else ""
    c.set_hardware(HardwareSnapshot(status=ProbeStatus.NO_DRIVER, message="No NVIDIA driver found"))
    assert window.verdict.headline.text().endswith(f"— on an assumed {gpu}: no GPU detected")


def test_the_gpu_panel_follows_a_gpu_set_elsewhere(window: MainWindow) -> None:
    from vramscope.hardware.catalog import catalog

    h200 = next(g for g in catalog() if "H200" in g.name)
    c = window.controller
    c.apply({"gpu": h200.spec()})  # the "bigger GPU" way out
    assert c.gpu is not None and c.gpu.name == h200.name
    assert window.gpu_panel.picker.currentData() == f"catalog:{h200.id}"  # not the GPU it showed before
    assert h200.name in window.gpu_panel.picker.currentText()


def test_every_tab_shows_at_800_pixels(window: MainWindow, qtbot: QtBot) -> None:
    window.resize(800, 600)
    window.show()
    qtbot.waitExposed(window)
    window.install_chart()
    QApplication.processEvents()
    bar = window.views.tabBar()
    assert not bar.usesScrollButtons()
    assert all(bar.tabRect(i).right() <= bar.width() for i in range(bar.count()))  # none behind an arrow
    assert [bar.tabText(i) for i in range(bar.count())] == ["Memory", "Context", "Batch", "Formats", "Models"]
    assert bar.tabToolTip(bar.count() - 1) == "Models that fit"
    window.show_view("What fits")  # tabs are still known by their titles
    assert window.views.currentWidget() is window.formats_table
    window.resize(1400, 800)
    QApplication.processEvents()
    assert bar.tabText(bar.count() - 1) == "Models that fit"


def test_the_legend_sits_outside_the_plot_even_in_a_small_window(window: MainWindow, qtbot: QtBot) -> None:
    window.resize(800, 600)
    window.show()
    qtbot.waitExposed(window)
    window.install_chart()
    qtbot.wait(20)
    chart = window.chart
    assert chart is not None
    legend = chart.legend.mapRectToScene(chart.legend.boundingRect())
    view = chart.item.getViewBox()
    assert legend.bottom() <= view.mapRectToScene(view.boundingRect()).top()  # above the bars' area, not on it


def test_the_curves_legend_sits_above_the_plot_and_wraps_in_a_small_window(window: MainWindow, qtbot: QtBot) -> None:
    window.resize(800, 600)
    window.show()
    qtbot.waitExposed(window)
    window.install_chart()
    window.views.setCurrentIndex(1)  # Against context
    qtbot.wait(20)
    chart = window.context_curve
    assert chart is not None
    legend = chart.legend.mapRectToScene(chart.legend.boundingRect())
    view = chart.memory.getViewBox()
    assert legend.bottom() <= view.mapRectToScene(view.boundingRect()).top()
    assert [label.text for _, label in chart.legend.items] == ["KV cache", "Activations + overhead", "Weights", "Limit"]
    assert chart.legend.columnCount < 4  # wrapped: four entries do not fit beside each other in 800 px
    assert chart.memory.sceneBoundingRect().right() <= chart.view.width()  # the plot is not widened past its view


def test_the_gpu_picker_is_seen_without_scrolling_in_a_small_window(window: MainWindow, qtbot: QtBot) -> None:
    window.resize(800, 600)
    window.show()
    qtbot.waitExposed(window)
    viewport = window.side_scroll.viewport()
    picker = window.gpu_panel.picker
    bottom = picker.mapTo(viewport, picker.rect().bottomLeft()).y()
    assert window.side_scroll.verticalScrollBar().value() == 0 and bottom < viewport.height()


def test_under_a_german_desktop_the_entry_fields_write_numbers_as_the_labels_do(qtbot: QtBot) -> None:
    from PySide6.QtCore import QLocale

    before = QLocale()
    QLocale.setDefault(QLocale(QLocale.Language.German, QLocale.Country.Germany))
    try:
        w = build_window()
        qtbot.addWidget(w)
        w.controller.set_workload(context=32768)
        w.controller.finish_limits()
        assert w.workload_panel.context_spin.text() == "32,768"
        assert "38,828" in w.verdict.headline.text() + w.verdict.details.text()  # largest context, same format
        assert w.gpu_panel.custom.text().startswith("24.0")
    finally:
        QLocale.setDefault(before)


def test_the_users_own_knob_comes_first_and_its_button_sets_the_engine_panel(window: MainWindow, qtbot: QtBot) -> None:
    from vramscope.core.scenario import HostSpec

    c = window.controller
    c.set_scenario(model=load_preset("llama-3.1-70b"), engine=Engine.LLAMACPP, workload={"weight_format": "q4_k_m"})
    c.set_host(HostSpec(capacity_bytes=64 * GIB, basis="64 GiB stated"))
    c.finish_limits()
    panel = window.ways_out
    qtbot.waitUntil(lambda: panel.job is None, timeout=20_000)
    first = panel.advice[0]
    assert first.kind == "settings" and "layers on the GPUs" in panel.buttons[0].text()
    panel.buttons[0].click()
    layers = first.change["settings"]["n_gpu_layers"]
    assert c.settings.n_gpu_layers == layers and window.engine_panel.gpu_layers.value() == layers
    assert c.result.estimate.fits is True and window.verdict.headline.text().startswith(("✔ Fits", "⚠ Tight"))
