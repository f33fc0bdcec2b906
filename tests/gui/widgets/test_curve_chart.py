"""The curves as a person uses them: open the tab, read the curve and the largest context, drag the marker."""

import math
from collections.abc import Callable

import numpy as np
import pytest
from pytestqt.qtbot import QtBot

from vramscope.core.estimate import SegmentKind, estimate
from vramscope.core.units import GIB
from vramscope.gui.main_window import MainWindow
from vramscope.gui.widgets.curve_chart import log_ticks, token_label
from vramscope.sources.presets import load_preset

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_the_context_curve_draws_the_estimates_and_marks_the_largest_context(
    window: MainWindow, qtbot: QtBot, show_tab: Callable[[str], None]
) -> None:
    show_tab("Against context")  # Llama-3.1-8B on an RTX 4090
    c, chart = window.controller, window.context_curve
    assert chart is not None
    c.set_workload(context=16384)
    c.finish_limits()
    x, y = chart.total_fill.getData()
    assert x[0] == pytest.approx(math.log10(128)) and x[-1] == pytest.approx(math.log10(131072))  # log axis
    assert 10 ** chart.marker.value() == pytest.approx(16384)
    for i in (0, 10, 25, len(x) - 1):
        context = round(10 ** x[i])
        at = estimate(c.model, c.workload.model_copy(update={"context": context}), c.deployment())
        assert y[i] * GIB == pytest.approx(at.per_gpu[0].total_bytes)  # the bar's total at that context
    est = estimate(c.model, c.workload, c.deployment())
    weights = chart.weights_fill.getData()[1]
    assert set(np.round(weights * GIB)) == {est.per_gpu[0].bytes_of(SegmentKind.WEIGHTS)}
    assert c.result.max_context == 38_828  # the solver's answer, also in the verdict
    assert chart.largest.isVisible() and 10 ** chart.largest.value() == pytest.approx(38_828)
    assert "largest that fits: 38,828" in chart.largest.label.format
    assert "Largest context that fits: 38,828" in chart.note.text()
    limit = chart.limit.getData()[1]
    assert limit * GIB == pytest.approx([est.per_gpu[0].capacity_bytes] * len(limit))


def test_dragging_the_marker_sets_the_context(
    window: MainWindow, qtbot: QtBot, show_tab: Callable[[str], None]
) -> None:
    show_tab("Against context")
    chart = window.context_curve
    assert chart is not None
    chart.marker.setValue(math.log10(32768))
    chart.marker.sigPositionChangeFinished.emit(chart.marker)
    assert window.controller.workload.context == 32768
    assert window.workload_panel.context_spin.value() == 32768


def test_the_batch_curve_follows_the_engine_and_the_hover_reads_a_point(
    window: MainWindow, qtbot: QtBot, show_tab: Callable[[str], None]
) -> None:
    show_tab("Against batch")
    chart = window.batch_curve
    assert chart is not None
    c = window.controller
    c.set_model(load_preset("qwen2.5-7b"))
    c.finish_limits()
    assert c.result.max_batch is not None
    assert 10 ** chart.largest.value() == pytest.approx(c.result.max_batch)
    point = chart.point_at(4)
    assert point is not None and point.value == 4
    text = chart.describe(point)
    assert text.startswith("batch 4: ") and "tokens/s per sequence (estimate)" in text


def test_a_drag_along_the_axis_moves_only_the_marker(
    window: MainWindow, qtbot: QtBot, show_tab: Callable[[str], None]
) -> None:
    show_tab("Against context")
    chart = window.context_curve
    assert chart is not None
    drawn = chart.curve
    window.controller.set_workload(context=20000)
    assert chart.curve is drawn and 10 ** chart.marker.value() == pytest.approx(20000)
    window.controller.set_workload(batch=2)  # another setting: a new curve, coarse while controls move
    assert chart.curve is not drawn and chart.curve is not None and len(chart.curve.points) <= 9
    window.controller.finish_limits()  # at rest: the full curve
    assert len(chart.curve.points) >= 40


def test_a_curve_is_made_when_first_shown_and_does_no_work_hidden(
    window: MainWindow, qtbot: QtBot, show_tab: Callable[[str], None]
) -> None:
    assert window.context_curve is None and window.batch_curve is None  # start-up does not pay for them
    show_tab("Against context")
    show_tab("Memory")
    chart = window.context_curve
    assert chart is not None and not chart.isVisible() and window.batch_curve is None
    drawn = chart.curve
    window.controller.set_workload(context=4000)
    assert chart.curve is drawn


def test_context_ticks_read_as_people_name_context_lengths() -> None:
    assert [label for _, label in log_ticks(128, 131072)] == ["128", "512", "2k", "8k", "32k", "128k"]
    assert token_label(1 << 20) == "1M" and token_label(3000) == "3,000"
