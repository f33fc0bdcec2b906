"""An engine log dropped on the window: the scenario follows it, its figures sit beside the prediction,
and "Use this run" makes the machine's own figures the profile's."""

import numpy as np
import pytest
from pytestqt.qtbot import QtBot

from tests.sources.test_engine_log import LLAMA_SERVER, VLLM_V1
from vramscope.core.estimate import SegmentKind
from vramscope.core.scenario import Engine
from vramscope.core.units import GIB
from vramscope.gui.main_window import MainWindow

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def open_log(window: MainWindow, qtbot: QtBot, text: str) -> None:
    """Paste a log and wait for the worker that reads it: the window stays responsive meanwhile."""
    with qtbot.waitSignal(window.log_read, timeout=10_000):
        window.open_log_text(text)


def test_a_vllm_log_sets_the_scenario_and_sits_beside_it(window: MainWindow, qtbot: QtBot) -> None:
    open_log(window, qtbot, VLLM_V1)
    c = window.controller
    assert c.engine is Engine.VLLM and c.workload.context == 8192
    assert c.settings.gpu_memory_utilization == 0.95
    assert c.gpu.total_bytes == round(79.19 * GIB) and c.gpu.capacity_bytes == round(78.68 * GIB)
    panel = window.log_panel
    assert panel.isVisibleTo(window)
    rows = {panel.table.item(r, 0).text(): panel.table.item(r, 3).text() for r in range(panel.table.rowCount())}
    assert rows["KV pool"] in ("-0.0%", "+0.0%") and rows["Weights (per GPU)"] in ("-0.0%", "+0.0%")
    assert "furthest on CUDA graphs, -2.2%" in panel.summary.text()  # 0.89 GiB for 51 captures, the log 0.91
    assert window.chart is not None and [r.label for r in window.chart.gpus][-1] == "Log"
    log_weights = list(np.asarray(window.chart.bars[SegmentKind.WEIGHTS].opts["width"]))[-1]
    assert log_weights == pytest.approx(14.99)


def test_use_this_run_then_reset(window: MainWindow, qtbot: QtBot) -> None:
    open_log(window, qtbot, VLLM_V1)
    window.log_panel.calibrate.click()
    c = window.controller
    assert c.settings.calibration is not None
    assert c.result.estimate.per_gpu[0].bytes_of(SegmentKind.ACTIVATIONS) == round(1.89 * GIB)
    assert "measured on this machine" in window.log_panel.summary.text()
    window.log_panel.reset.click()
    assert c.settings.calibration is None


def test_close_takes_the_log_bar_away(window: MainWindow, qtbot: QtBot) -> None:
    unknown = LLAMA_SERVER.replace("qwen2.5-coder:32b-instruct-q8_0.gguf", "mystery-7b.gguf")
    open_log(window, qtbot, unknown)  # names no preset: compared with the model shown
    assert window.controller.engine is Engine.LLAMACPP
    assert window.controller.workload.kv_dtype == "q8_0" and window.controller.gpu_count == 2
    assert "names no model the app knows" in window.statusBar().currentMessage()
    window.log_panel.close_button.click()
    assert not window.log_panel.isVisibleTo(window)
    assert window.chart is not None and "Log" not in [r.label for r in window.chart.gpus]


def test_not_a_log_is_a_message(window: MainWindow, qtbot: QtBot) -> None:
    open_log(window, qtbot, "just some text")
    assert "no vLLM, llama.cpp" in window.statusBar().currentMessage()
    assert not window.log_panel.isVisibleTo(window)


def test_a_log_whose_settings_the_core_refuses_is_a_message_not_a_crash(window: MainWindow, qtbot: QtBot) -> None:
    refused = VLLM_V1.replace("'gpu_memory_utilization': 0.95", "'gpu_memory_utilization': 7.5")
    assert refused != VLLM_V1
    open_log(window, qtbot, refused)
    message = window.statusBar().currentMessage()
    assert message.startswith("The log's settings cannot be planned: gpu_memory_utilization: Input should be")


def test_a_log_of_another_model_opens_that_model_with_its_settings(window: MainWindow, qtbot: QtBot) -> None:
    # llama-server's own name for Qwen2.5-Coder-32B: no preset by that name, but 64 layers (kv_size line) and
    # two words shared with qwen2.5-32b; its -ub 256 and -ts 10,6 apply to its two GPUs
    open_log(window, qtbot, LLAMA_SERVER)
    c = window.controller
    assert c.model.name == "Qwen2.5-32B" and c.engine is Engine.LLAMACPP
    assert c.settings.n_ubatch == 256 and c.settings.tensor_split == (10.0, 6.0)
    assert len(c.scenario.gpus) == 2
    assert "names no model the app knows" not in window.statusBar().currentMessage()


def test_a_llama_cpp_log_plans_for_the_build_it_names(window: MainWindow, qtbot: QtBot) -> None:
    # issue 11200's llama-server was build 4462, before the server reserved logits for its slots only
    open_log(window, qtbot, "build: 4462 (c05e8c99) with cc (GCC) 13.3.0 for x86_64-linux-gnu\n" + LLAMA_SERVER)
    c = window.controller
    assert c.settings.engine_version == "b4462"
    version = window.engine_panel.version
    assert version.currentText() == "b4462" and version.currentData() == "b4462"
    assert "(llama.cpp b4462)" in c.result.estimate.per_gpu[0].segments[2].note
