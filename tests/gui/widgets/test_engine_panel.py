"""The engine switch as a person uses it: pick an engine, change its settings, copy its launch command."""

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtGui import QGuiApplication

from vramscope.core.estimate import SegmentKind
from vramscope.core.scenario import Engine
from vramscope.core.units import GIB
from vramscope.gui.main_window import MainWindow
from vramscope.gui.widgets.memory_chart import chart_rows
from vramscope.sources.presets import load_preset

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def choose_engine(w: MainWindow, engine: Engine) -> None:
    combo = w.engine_panel.engine_combo
    combo.setCurrentIndex(combo.findData(engine.value))
    combo.activated.emit(combo.currentIndex())


def widths(w: MainWindow, kind: SegmentKind) -> list[float]:
    assert w.chart is not None
    return list(np.asarray(w.chart.bars[kind].opts["width"]))


def test_vllm_draws_its_pool_and_speaks_its_language(window: MainWindow) -> None:
    choose_engine(window, Engine.VLLM)
    result = window.controller.result
    assert result.deployment.engine is Engine.VLLM
    details = result.estimate.engine_details
    used = widths(window, SegmentKind.KV_CACHE)[0]
    free = widths(window, SegmentKind.KV_RESERVED)[0]
    assert (used + free) * GIB == pytest.approx(details["kv_pool_bytes"])
    assert used == pytest.approx(1.0, rel=0.01)  # one 8k sequence of Llama-3.1-8B: 1 GiB in 16-token pages
    concurrent = int(details["max_concurrency"])
    assert f"vLLM starts; {concurrent} concurrent 8k-token sequences" in window.verdict.details.text()
    assert window.engine_panel.launch.text().startswith("vllm serve meta-llama/Llama-3.1-8B --max-model-len 8192")
    assert window.engine_panel.pages.currentIndex() == window.engine_panel.page_of[Engine.VLLM]


def test_gpu_memory_utilization_moves_the_pool(window: MainWindow) -> None:
    choose_engine(window, Engine.VLLM)
    details = window.controller.result.estimate.engine_details
    assert window.engine_panel.gpu_util.value() == details["gpu_memory_utilization"] == 0.92  # 0.20's default
    before = details["kv_pool_bytes"]
    window.engine_panel.gpu_util.setValue(0.8)
    after = window.controller.result.estimate.engine_details["kv_pool_bytes"]
    total = window.controller.gpu.total_bytes
    assert total is not None
    assert before - after == pytest.approx(0.12 * total, abs=2)
    assert "--gpu-memory-utilization 0.8" in window.engine_panel.launch.text()


def test_the_version_box_picks_the_rules_and_names_them(window: MainWindow) -> None:
    choose_engine(window, Engine.VLLM)
    panel = window.engine_panel
    newest = window.controller.result.estimate.engine_details["kv_pool_bytes"]
    panel.version.setCurrentIndex(panel.version.findData("0.19"))
    panel.version.activated.emit(panel.version.currentIndex())
    c = window.controller
    assert c.settings.engine_version == "0.19" and c.result.estimate.engine_details["engine_version"] == "0.17-0.19"
    assert panel.gpu_util.value() == 0.9  # 0.19's default utilization
    total = c.gpu.total_bytes
    assert total is not None  # 0.19 budgets 0.9 of the GPU and keeps the CUDA graphs outside it
    graphs = next(s for s in c.result.estimate.per_gpu[0].segments if s.title == "CUDA graphs").bytes
    assert c.result.estimate.engine_details["kv_pool_bytes"] - newest == pytest.approx(-0.02 * total + graphs, abs=2)
    activation = next(s for s in c.result.estimate.per_gpu[0].segments if s.kind.value == "activations")
    assert "vLLM 0.17-0.19 profile run" in activation.note
    choose_engine(window, Engine.SGLANG)
    assert c.settings.engine_version is None  # a vLLM release is no SGLang release


def test_partial_offload_draws_a_ram_bar(window: MainWindow) -> None:
    choose_engine(window, Engine.LLAMACPP)
    window.engine_panel.gpu_layers.setValue(20)
    assert window.chart is not None
    assert [row.label for row in window.chart.gpus] == ["GPU 0", "RAM"]
    est = window.controller.result.estimate
    assert widths(window, SegmentKind.WEIGHTS)[1] * GIB == pytest.approx(
        sum(s.bytes for s in est.host if s.kind is SegmentKind.WEIGHTS)
    )
    assert "-ngl 20" in window.engine_panel.launch.text()
    assert "offloads 20/33 layers" in window.verdict.details.text()


def test_a_split_the_engine_refuses_is_reported_and_undone(window: MainWindow) -> None:
    choose_engine(window, Engine.VLLM)
    window.workload_panel.gpu_spin.setValue(3)  # Llama-3.1-8B has 32 heads
    assert window.controller.gpu_count == 1
    assert window.workload_panel.gpu_spin.value() == 1
    message = window.statusBar().currentMessage()
    assert message == "Total number of attention heads (32) must be divisible by tensor parallel size (3)."


def test_copy_puts_the_launch_command_on_the_clipboard(window: MainWindow) -> None:
    choose_engine(window, Engine.OLLAMA)
    window.engine_panel.copy_button.click()
    assert QGuiApplication.clipboard().text() == window.engine_panel.launch.text()
    assert window.engine_panel.launch.text().startswith("OLLAMA_CONTEXT_LENGTH=8192 ollama serve")


def test_a_draft_model_adds_its_segments_and_its_flag(window: MainWindow) -> None:
    choose_engine(window, Engine.LLAMACPP)
    combo = window.engine_panel.draft
    combo.setCurrentIndex(combo.findData("llama-3.2-1b"))
    combo.activated.emit(combo.currentIndex())
    est = window.controller.result.estimate
    titles = [s.title for s in est.per_gpu[0].segments]
    assert "Draft weights" in titles and "Draft KV cache" in titles
    assert "-md Llama-3.2-1B-BF16.gguf" in window.engine_panel.launch.text()
    combo.setCurrentIndex(0)
    combo.activated.emit(0)
    assert window.controller.result.deployment.draft is None


def test_llama_cpp_cache_switches_change_the_cache_and_the_command(window: MainWindow) -> None:
    c = window.controller
    c.set_model(load_preset("gemma-2-9b"))  # sliding-window layers of 4,096
    c.set_workload(context=32768, batch=2)
    choose_engine(window, Engine.LLAMACPP)
    panel = window.engine_panel
    kv = c.result.estimate.kv_cache_bytes
    panel.swa_full.setChecked(True)
    assert c.settings.swa_full and c.result.estimate.kv_cache_bytes > kv  # the sliding layers keep 16k cells
    assert "--swa-full" in panel.launch.text()
    panel.kv_unified.setChecked(True)
    assert c.settings.kv_unified and "--kv-unified" in panel.launch.text()
    panel.cpu_moe.setValue(4)
    assert c.settings.n_cpu_moe == 4


def test_sglang_and_llama_cpp_have_their_own_releases_and_ollama_none(window: MainWindow) -> None:
    choose_engine(window, Engine.SGLANG)
    panel, c = window.engine_panel, window.controller
    assert not panel.version.isHidden() and panel.version.findData("0.4.7") > 0
    panel.version.setCurrentIndex(panel.version.findData("0.4.7"))
    panel.version.activated.emit(panel.version.currentIndex())
    assert c.result.estimate.engine_details["mem_fraction_static"] == 0.88  # 0.4.7's table at tp 1
    choose_engine(window, Engine.LLAMACPP)
    assert not panel.version.isHidden() and c.settings.engine_version is None  # an SGLang release is no build
    newest = c.result.estimate.engine_details["compute_buffer_bytes"]
    panel.version.setCurrentIndex(panel.version.findData("b9453"))
    panel.version.activated.emit(panel.version.currentIndex())
    assert c.settings.engine_version == "b9453"  # before the server reserved logits for its slots only
    assert c.result.estimate.engine_details["compute_buffer_bytes"] > newest  # type: ignore[operator]
    choose_engine(window, Engine.OLLAMA)
    assert panel.version.isHidden() and c.settings.engine_version is None


def test_a_switch_to_an_engine_without_the_kv_dtype_falls_back_and_says_so(window: MainWindow) -> None:
    c = window.controller
    choose_engine(window, Engine.VLLM)
    c.set_workload(kv_dtype="fp8")
    assert c.workload.kv_dtype == "fp8"
    choose_engine(window, Engine.OLLAMA)  # Ollama has no fp8 cache
    assert c.engine is Engine.OLLAMA and c.workload.kv_dtype == "auto"
    assert "Ollama has no fp8 KV cache: its default is used" in window.statusBar().currentMessage()
    c.set_workload(context=4096)  # the next change that computes clears what was said
    assert window.statusBar().currentMessage() == ""


def test_vllms_sampler_and_p2p_switches_change_the_pool(window: MainWindow) -> None:
    c = window.controller
    choose_engine(window, Engine.VLLM)
    c.set_gpu_count(2)
    panel = window.engine_panel
    panel.flashinfer_sampler.setChecked(True)  # the newest release asks for it by name
    assert panel.launch.text().startswith("VLLM_USE_FLASHINFER_SAMPLER=1 vllm serve ")
    c.set_engine_settings(engine_version="0.11")  # where it replaces the sort-based sampler by default
    pool = c.result.estimate.engine_details["kv_pool_bytes"]
    panel.flashinfer_sampler.setChecked(False)
    assert not c.settings.flashinfer_sampler and c.result.estimate.engine_details["kv_pool_bytes"] < pool
    assert panel.launch.text().startswith("vllm serve ")
    assert panel.peer_to_peer.isChecked()
    pool = c.result.estimate.engine_details["kv_pool_bytes"]
    panel.peer_to_peer.setChecked(False)  # two GPUs without P2P: no custom all-reduce buffers
    assert not c.settings.peer_to_peer and c.result.estimate.engine_details["kv_pool_bytes"] > pool


def test_the_command_loads_the_published_copy_or_says_what_to_make_first(window: MainWindow) -> None:
    choose_engine(window, Engine.VLLM)
    panel = window.engine_panel
    window.controller.set_workload(weight_format="awq-int4")
    assert panel.launch.text().startswith("vllm serve hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4 ")
    assert panel.launch_todo.isHidden()
    window.controller.set_workload(weight_format="nvfp4")  # nobody published Llama-3.1-8B in NVFP4
    assert panel.launch.text().startswith("vllm serve ./Llama-3.1-8B-NVFP4 ")
    assert not panel.launch_todo.isHidden()
    assert panel.launch_todo.text() == (
        "Before you run it: no NVFP4 (16-value FP8 scales) checkpoint of meta-llama/Llama-3.1-8B is known: make "
        "./Llama-3.1-8B-NVFP4 with llm-compressor (scheme NVFP4) or NVIDIA TensorRT Model Optimizer"
    )
    panel.copy_button.click()  # the whole line, its comment with it, as the CLI prints it
    assert QGuiApplication.clipboard().text() == panel.launch.text()


def test_data_and_expert_parallel_split_the_gpus_into_replicas(window: MainWindow) -> None:
    from vramscope.hardware.catalog import find_gpu

    h100 = find_gpu("nvidia-h100-sxm")
    assert h100 is not None
    window.controller.set_scenario(model=load_preset("qwen3-30b-a3b"), engine=Engine.VLLM, gpus=(h100.spec(),) * 4)
    panel = window.engine_panel
    assert panel.parallel_row.isVisibleTo(panel)
    panel.data_parallel.setValue(2)
    panel.expert_parallel.setChecked(True)
    d = window.controller.result.deployment
    assert (d.tensor_parallel, d.data_parallel, d.expert_parallel) == (2, 2, True)
    assert "--tensor-parallel-size 2 --data-parallel-size 2 --enable-expert-parallel" in panel.launch.text()
    assert window.chart is not None
    labels = [row.label for row in chart_rows(window.controller.result)]
    assert labels[:4] == ["GPU 0 · DP 0", "GPU 1 · DP 0", "GPU 2 · DP 1", "GPU 3 · DP 1"]
    window.controller.finish_limits()
    panel.load.setValue(100)  # replicas like this one, each of 2 of the GPUs listed
    assert panel.sizing.text().startswith("100 sequences of 8,192 tokens: ") and " of 2 GPUs = " in panel.sizing.text()
    panel.data_parallel.setValue(3)  # 4 GPUs do not split in 3: refused, the plan stays
    assert window.controller.result.deployment.data_parallel == 2 and panel.data_parallel.value() == 2
    choose_engine(window, Engine.LLAMACPP)  # no data parallel there: one replica, said so
    assert window.controller.result.deployment.data_parallel == 1 and panel.parallel_row.isHidden()
    assert "llama.cpp has no data parallel" in window.statusBar().currentMessage()


def test_the_replicas_for_a_load_are_shown_once_the_controls_rest(window: MainWindow) -> None:
    from vramscope.core.solve import max_batch

    choose_engine(window, Engine.VLLM)
    c, panel = window.controller, window.engine_panel
    c.finish_limits()
    per = max_batch(c.model, c.workload, c.deployment())
    assert per is not None
    panel.load.setValue(3 * per + 1)
    assert panel.sizing.text() == (
        f"{3 * per + 1:,} sequences of 8,192 tokens: 4 replicas of 1 GPU = 4 GPUs, each replica holding {per:,} of them"
    )
    panel.load.setValue(0)
    assert panel.sizing.isHidden()


def test_nodes_group_the_bars_and_export_a_leaderworkerset(window: MainWindow, tmp_path: Path) -> None:
    import json

    from vramscope.hardware.catalog import find_gpu

    h100 = find_gpu("nvidia-h100-sxm")
    assert h100 is not None
    c, panel = window.controller, window.engine_panel
    c.set_scenario(model=load_preset("llama-3.1-405b"), engine=Engine.VLLM, gpus=(h100.spec(),) * 16)
    c.set_workload(weight_format="fp8")
    panel.nodes.setValue(2)
    d = c.result.deployment
    assert (d.tensor_parallel, d.nodes, d.gpus_per_node) == (16, 2, 8)
    labels = [row.label for row in chart_rows(c.result)]
    assert labels[0] == "node 0 · GPU 0" and labels[8] == "node 1 · GPU 8"
    assert any("crosses nodes of 8 GPUs" in w for w in c.result.estimate.warnings)  # tp 16 over two nodes
    assert window.write_manifest(str(tmp_path / "lws.json"))
    lws = json.loads((tmp_path / "lws.json").read_text())["items"][0]
    assert lws["spec"]["leaderWorkerTemplate"]["size"] == 2
    assert "kubectl apply -f" in window.statusBar().currentMessage()
