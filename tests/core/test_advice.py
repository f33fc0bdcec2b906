"""The ways out: every suggestion, applied, fits."""

import pytest

from vramscope.core.advice import apply_change, room_left, ways_out
from vramscope.core.estimate import estimate
from vramscope.core.scenario import Deployment, Engine, GpuSpec, Workload
from vramscope.core.units import GIB
from vramscope.hardware.catalog import catalog
from vramscope.sources.presets import load_preset, preset_ids

RTX_4090 = GpuSpec(name="RTX 4090", capacity_bytes=round(23.99 * GIB), total_bytes=round(23.99 * GIB))


@pytest.mark.parametrize("engine", [Engine.TRANSFORMERS, Engine.LLAMACPP, Engine.VLLM])
def test_every_way_out_applied_fits(engine: Engine) -> None:
    model, workload = load_preset("llama-3.1-70b"), Workload(context=8192)
    deployment = Deployment(gpus=(RTX_4090,), engine=engine)
    advice = ways_out(
        model, workload, deployment, [g.spec() for g in catalog()], [load_preset(p) for p in preset_ids()]
    )
    kinds = {a.kind for a in advice}
    assert {"gpus", "gpu", "model"} <= kinds
    for a in advice:
        assert estimate(*apply_change(model, workload, deployment, a.change)).fits, a.text
    gpus = next(a for a in advice if a.kind == "gpus")
    assert gpus.text.startswith(f"{gpus.change['gpu_count']} x RTX 4090")


def test_kv_fp8_comes_before_any_change_of_weights_or_hardware() -> None:
    model, workload = load_preset("llama-3.1-8b"), Workload(context=60_000)
    deployment = Deployment(gpus=(RTX_4090,), engine=Engine.VLLM)
    advice = ways_out(model, workload, deployment)
    kv = next(a for a in advice if a.kind == "kv")
    assert kv.change == {"kv_dtype": "fp8"} and kv.text.startswith("KV cache fp8: fits with")
    assert kv.args == ("--kv-dtype", "fp8")
    assert [a.kind for a in advice].index("kv") < [a.kind for a in advice].index("format")


def test_room_left_when_it_fits() -> None:
    from vramscope.core.solve import max_context

    model, deployment = load_preset("llama-3.1-8b"), Deployment(gpus=(RTX_4090,))
    advice = room_left(model, Workload(), deployment)
    assert [a.kind for a in advice] == ["context", "batch"]
    best = max_context(model, Workload(), deployment)
    assert best is not None and advice[0].text == f"Room for a context of {best:,}"
    assert advice[0].change == {"context": best}


CATALOG = [g.spec() for g in catalog()]
PRESETS = [load_preset(p) for p in preset_ids()]
BUSY_4090 = RTX_4090.model_copy(update={"capacity_bytes": round(20.99 * GIB), "held_bytes": 3 * GIB})


@pytest.mark.parametrize(
    ("preset", "context", "engine", "gpus"),
    [
        ("llama-3.1-70b", 8192, Engine.VLLM, (RTX_4090,)),
        ("llama-3.1-70b", 8192, Engine.LLAMACPP, (RTX_4090,)),
        ("llama-3.1-70b", 8192, Engine.OLLAMA, (RTX_4090, RTX_4090)),
        ("llama-3.1-8b", 131072, Engine.VLLM, (BUSY_4090,)),
        ("llama-3.1-8b", 131072, Engine.SGLANG, (RTX_4090,)),
        ("qwen2.5-32b", 32768, Engine.TRANSFORMERS, (RTX_4090, RTX_4090)),
        ("qwen3-30b-a3b", 65536, Engine.VLLM, (RTX_4090,)),
        ("qwen3-30b-a3b", 8192, Engine.LLAMACPP, (BUSY_4090,)),
    ],
)
def test_every_way_out_offered_applied_fits_and_none_goes_backwards(
    preset: str, context: int, engine: Engine, gpus: tuple[GpuSpec, ...]
) -> None:
    from vramscope.core.scenario import HostSpec

    model, workload = load_preset(preset), Workload(context=context)
    host = HostSpec(capacity_bytes=64 * GIB, basis="64 GiB stated")
    deployment = Deployment(gpus=gpus, engine=engine, tensor_parallel=len(gpus), host=host)
    advice = ways_out(model, workload, deployment, CATALOG, PRESETS)
    assert advice, "no way out at all"
    largest = max(g.total_bytes or 0 for g in gpus)
    for a in advice:
        assert estimate(*apply_change(model, workload, deployment, a.change)).fits, a.text
        assert a.args, a.text  # the CLI flags that apply it
        if a.kind == "gpu":
            assert (a.change["gpu"].total_bytes or 0) >= 1.1 * largest, a.text  # never one with as little memory
        if a.kind == "model":
            assert a.change["model"].architecture.max_context >= context, a.text  # never a shorter-trained model


def test_on_a_busy_gpu_vllm_is_first_told_to_take_less_of_it() -> None:
    """A 4090 with 3 GiB held by another process: vLLM's budget (a share of the whole GPU) must shrink to what
    is free; an A10 (less memory than the 4090) is no way out."""
    model, workload = load_preset("llama-3.1-8b"), Workload(context=16384)
    settings = {"gpu_memory_utilization": 0.9}
    deployment = Deployment(gpus=(BUSY_4090,), engine=Engine.VLLM).model_copy(
        update={"settings": Deployment().settings.model_copy(update=settings)}
    )
    assert estimate(model, workload, deployment).fits is False
    advice = ways_out(model, workload, deployment, CATALOG, PRESETS)
    first = advice[0]
    assert first.kind == "settings" and first.args[0] == "--gpu-util"
    assert float(first.args[1]) < 0.9
    bigger = next(a.change["gpu"] for a in advice if a.kind == "gpu")
    assert bigger.total_bytes >= 1.1 * BUSY_4090.total_bytes  # not an A10 or A30: 24 GB, no more than the 4090


def test_llama_cpp_is_offered_its_partial_offload() -> None:
    from vramscope.core.scenario import HostSpec

    model, workload = load_preset("llama-3.1-70b"), Workload(context=8192, weight_format="q4_k_m")
    host = HostSpec(capacity_bytes=64 * GIB, basis="64 GiB stated")
    deployment = Deployment(gpus=(RTX_4090,), engine=Engine.LLAMACPP, host=host)
    advice = ways_out(model, workload, deployment, CATALOG, PRESETS)
    assert advice[0].kind == "settings" and advice[0].args[0] == "--ngl"
    layers = int(advice[0].args[1])
    assert 30 < layers < 80  # most of the 80 layers, not all
    more = apply_change(model, workload, deployment, {"settings": {"n_gpu_layers": layers + 1}})
    assert not estimate(*more).fits  # the most that fit


def test_memory_another_process_holds_is_a_way_out_named_with_the_process() -> None:
    busy = BUSY_4090.model_copy(update={"held_note": "pid 4242 python"})
    model, workload = load_preset("llama-3.1-8b"), Workload(context=32768)
    deployment = Deployment(gpus=(busy,), engine=Engine.VLLM)
    advice = ways_out(model, workload, deployment, CATALOG, PRESETS)
    freed = next(a for a in advice if a.kind == "process")
    assert freed.text == "Free the 3.00 GiB held by others (pid 4242 python): fits"
    assert freed.args == ("--gpu-memory", "23.99")
    assert estimate(*apply_change(model, workload, deployment, freed.change)).fits
    assert [a.kind for a in advice].index("process") < [a.kind for a in advice].index("gpu")  # before buying


def test_a_moe_model_in_llama_cpp_is_offered_its_experts_in_system_memory_before_whole_layers() -> None:
    from vramscope.core.scenario import HostSpec

    small = GpuSpec(name="RTX 4060", capacity_bytes=round(7.6 * GIB), total_bytes=8 * GIB)
    model, workload = load_preset("qwen3-30b-a3b"), Workload(context=8192, weight_format="q4_k_m")
    host = HostSpec(capacity_bytes=64 * GIB, basis="64 GiB stated")
    deployment = Deployment(gpus=(small,), engine=Engine.LLAMACPP, host=host)
    advice = ways_out(model, workload, deployment, CATALOG, PRESETS)
    kinds = [a.args[0] for a in advice if a.kind == "settings"]
    assert kinds.index("--n-cpu-moe") < kinds.index("--ngl")  # attention stays on the GPU: the faster split
    moe = next(a for a in advice if a.args[0] == "--n-cpu-moe")
    n = int(moe.args[1])
    assert estimate(*apply_change(model, workload, deployment, moe.change)).fits
    fewer = apply_change(model, workload, deployment, {"settings": {"n_cpu_moe": n - 1}})
    assert not estimate(*fewer).fits  # the fewest layers' experts that must move
