"""Compare as a person uses it: pin, change a setting, read the deltas and the two sets of bars."""

import pytest

from vramscope.core.units import GIB
from vramscope.gui.main_window import MainWindow
from vramscope.sources.presets import load_preset

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_pin_then_quantize_shows_both_bars_and_the_deltas(window: MainWindow) -> None:
    c = window.controller
    c.set_model(load_preset("qwen2.5-32b"))
    panel = window.compare
    assert not panel.isVisibleTo(window) and panel.button.text() == "Pin to compare"
    panel.button.click()
    pinned = c.pinned
    assert pinned is not None and panel.button.text() == "Unpin"
    c.set_workload(weight_format="awq-int4", kv_dtype="q8_0")
    c.finish_limits()
    live = c.result
    text = panel.deltas.text()
    assert text.startswith("Against the pinned scenario: weights bf16 → awq-int4; KV cache bf16 → q8_0")
    assert "(does not fit → fits)" in text
    saved = (pinned.estimate.total_bytes - live.estimate.total_bytes) / GIB
    assert f"Total -{saved:,.2f} GiB" in text
    assert f"largest context none → {live.max_context:,}" in text
    chart = window.chart
    assert chart is not None
    assert [r.label for r in chart.gpus] == ["GPU 0", "Pinned GPU 0"]
    assert chart.gpus[1].capacity_bytes == pinned.estimate.per_gpu[0].capacity_bytes
    assert sum(s.bytes for s in chart.gpus[1].segments) == pinned.estimate.per_gpu[0].total_bytes
    panel.button.click()
    assert c.pinned is None and [r.label for r in chart.gpus] == ["GPU 0"]
    assert not panel.isVisibleTo(window)
