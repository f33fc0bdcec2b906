"""One renderer: the verdict, the terminal text, the Markdown summary and the JSON contract agree."""

from vramscope import report
from vramscope.core.analysis import analyse
from vramscope.core.scenario import Deployment, Engine, GpuSpec, Workload
from vramscope.core.units import GIB
from vramscope.sources.presets import load_preset

GPU = GpuSpec(name="NVIDIA GeForce RTX 4090", capacity_bytes=24 * GIB, total_bytes=24 * GIB)


def test_vllm_verdict_speaks_vllms_language() -> None:
    a = analyse(load_preset("llama-3.1-8b"), Workload(context=8192), Deployment(gpus=(GPU,), engine=Engine.VLLM))
    headline, details = report.verdict(a)
    assert headline.startswith("✔ Fits")
    concurrent = int(a.estimate.engine_details["max_concurrency"])
    assert f"vLLM starts; {concurrent} concurrent 8k-token sequences fit its KV pool" in details


def test_per_gpu_and_total_are_stated_apart() -> None:
    a = analyse(load_preset("llama-3.1-70b"), Workload(context=8192), Deployment(gpus=(GPU,), tensor_parallel=2))
    _, details = report.verdict(a)
    tight = max(a.estimate.per_gpu, key=lambda g: g.total_bytes)
    assert f"Needs {tight.total_bytes / GIB:.2f} GiB of 24.00 GiB on GPU" in details
    assert f"All 2 GPUs together: {a.estimate.total_bytes / GIB:.2f} GiB of 48.00 GiB." in details


def test_text_markdown_and_json_carry_the_same_numbers() -> None:
    a = analyse(load_preset("llama-3.1-8b"), Workload(), Deployment(gpus=(GPU,), engine=Engine.LLAMACPP))
    doc = report.to_json(a, launch_command=True)
    assert doc["launch_command"] == a.launch_command
    assert doc["engine_details"]["n_ctx_cells"] == 8192
    text = report.text(a)
    assert "Compute buffer" in text and "System memory" in text
    md = report.markdown(a)
    assert f"`{a.launch_command}`" in md and "| GPU |" in md


def test_comparison_names_what_changed_and_the_deltas() -> None:
    model, deployment = load_preset("llama-3.1-8b"), Deployment(gpus=(GPU,))
    before = analyse(model, Workload(context=8192), deployment)
    after = analyse(model, Workload(context=16384), deployment)
    text = report.comparison(before, after)
    assert text.startswith("Against the pinned scenario: context 8,192 → 16,384 (fits).")
    kv = (after.estimate.kv_cache_bytes - before.estimate.kv_cache_bytes) / GIB
    assert f"KV cache +{kv:.2f} GiB" in text and "weights +0.00 GiB" in text
    assert f"largest context {after.max_context:,} (same)" in text
    assert report.comparison(before, before).startswith("Against the pinned scenario: the same settings (fits).")
