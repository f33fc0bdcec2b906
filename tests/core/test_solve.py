import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vramscope.core.estimate import estimate
from vramscope.core.scenario import Deployment, Engine, GpuSpec, Workload
from vramscope.core.solve import (
    best_format,
    best_kv_dtype,
    fewest_gpus,
    formats_for,
    max_batch,
    max_context,
    smallest_gpu,
)
from vramscope.core.units import GIB
from vramscope.sources.presets import load_preset


def deployment(gib: float) -> Deployment:
    return Deployment(gpus=(GpuSpec(name="g", capacity_bytes=int(gib * GIB)),))


@pytest.mark.parametrize(
    ("preset", "gib"), [("llama-3.1-8b", 24), ("gemma-3-27b", 80), ("jamba-v0.1", 120), ("qwen2.5-7b", 20)]
)
def test_max_context_is_exact_at_the_boundary(preset: str, gib: float) -> None:
    model, dep = load_preset(preset), deployment(gib)
    workload = Workload(context=1024)
    best = max_context(model, workload, dep)
    assert best is not None
    assert estimate(model, Workload(context=best), dep).fits
    if best < model.architecture.max_context:
        assert not estimate(model, Workload(context=best + 1), dep).fits


def test_max_batch_is_exact_at_the_boundary() -> None:
    model, dep = load_preset("llama-3.1-8b"), deployment(24)
    best = max_batch(model, Workload(context=4096), dep)
    assert best is not None and best > 1
    assert estimate(model, Workload(context=4096, batch=best), dep).fits
    assert not estimate(model, Workload(context=4096, batch=best + 1), dep).fits


def test_nothing_fits_gives_none() -> None:
    model, dep = load_preset("llama-3.1-70b"), deployment(24)
    assert max_context(model, Workload(), dep) is None
    assert max_batch(model, Workload(), dep) is None


def test_no_capacity_gives_none() -> None:
    assert max_context(load_preset("llama-3.1-8b"), Workload(), Deployment()) is None


def test_context_limit_never_exceeds_model_maximum() -> None:
    assert max_context(load_preset("gpt2"), Workload(context=16), deployment(80)) == 1024


SLACK_SHAPES = {  # how the room left might fall as n grows: the search must be exact for each
    "linear": lambda n, t: float(t - n),
    "steps of 256": lambda n, t: float((t // 256 - n // 256) * 256 + 1),
    "quadratic": lambda n, t: float(t * t - n * n),
    "flat, then a cliff": lambda n, t: 1.0 if n <= t else -1.0,
    "unknown": lambda n, t: None,
    "misleading": lambda n, t: float(n),  # rises: the search must fall back to bisection
}


@given(
    st.integers(min_value=0, max_value=5000),
    st.integers(min_value=1, max_value=5000),
    st.sampled_from(sorted(SLACK_SHAPES)),
)
def test_largest_matches_brute_force(threshold: int, top: int, shape: str) -> None:
    from vramscope.core.solve import _largest

    slack = SLACK_SHAPES[shape]
    calls: list[int] = []

    def probe(n: int) -> tuple[bool, float | None]:
        calls.append(n)
        return n <= threshold, slack(n, threshold)

    expected = min(threshold, top) if threshold >= 1 else None
    assert _largest(1, top, probe) == expected
    assert len(calls) <= 2 + 2 * top.bit_length()  # never worse than a bisection that probes twice a step


def test_a_linear_boundary_takes_a_few_estimates() -> None:
    from vramscope.core.solve import _largest

    calls: list[int] = []

    def probe(n: int) -> tuple[bool, float | None]:
        calls.append(n)
        return n <= 734_511, float(734_511 - n) + 0.5

    assert _largest(1, 10**7, probe) == 734_511
    assert len(calls) <= 6


PRESETS = ["llama-3.1-8b", "qwen2.5-7b", "gemma-2-9b", "mixtral-8x7b", "deepseek-v2-lite", "gpt-oss-20b"]


@settings(max_examples=25, deadline=None)
@given(
    st.sampled_from(PRESETS),
    st.sampled_from(list(Engine)),
    st.sampled_from([12, 24, 48, 80]),
    st.integers(min_value=512, max_value=65536),
)
def test_each_way_out_fits_and_the_step_past_it_does_not(preset: str, engine: Engine, gib: int, context: int) -> None:
    model = load_preset(preset)
    gpu = GpuSpec(name="g", capacity_bytes=gib * GIB, total_bytes=gib * GIB)
    dep = Deployment(gpus=(gpu,), engine=engine)
    workload = Workload(context=min(context, model.architecture.max_context))
    fmt = best_format(model, workload, dep)
    if fmt is not None:
        at = Workload.model_validate({**workload.model_dump(), "weight_format": fmt})
        assert estimate(model, at, dep).fits
        richer = formats_for(model, dep)[: formats_for(model, dep).index(fmt)]
        for name in richer:  # every format with more bits does not fit
            assert not estimate(
                model, Workload.model_validate({**workload.model_dump(), "weight_format": name}), dep
            ).fits
    n = fewest_gpus(model, workload, dep, most=8)
    if n is not None:
        assert estimate(model, workload, dep.model_copy(update={"tensor_parallel": n})).fits
    kv = best_kv_dtype(model, workload, dep)
    if kv is not None:
        assert estimate(model, workload.model_copy(update={"kv_dtype": kv}), dep).fits


def test_smallest_gpu_is_the_first_that_fits() -> None:
    model = load_preset("llama-3.1-8b")
    sizes = [8, 12, 16, 24, 48]
    candidates = [GpuSpec(name=f"{g} GiB", capacity_bytes=g * GIB, total_bytes=g * GIB) for g in sizes]
    found = smallest_gpu(model, Workload(context=8192), Deployment(), candidates)
    assert found is not None and found.name == "24 GiB"  # 16 GiB of bf16 weights + cache + activations


def test_four_bits_is_the_way_out_for_70b_on_two_4090s() -> None:
    gpu = GpuSpec(name="RTX 4090", capacity_bytes=round(23.99 * GIB), total_bytes=round(23.99 * GIB))
    dep = Deployment(gpus=(gpu,), tensor_parallel=2, engine=Engine.LLAMACPP)
    assert best_format(load_preset("llama-3.1-70b"), Workload(context=8192), dep) == "q4_k_m"


def test_replicas_for_a_load_come_from_each_replicas_own_pool() -> None:
    from vramscope.core.solve import max_batch, replicas_for

    h100 = GpuSpec(name="H100", capacity_bytes=80 * GIB, total_bytes=80 * GIB)
    model, workload = load_preset("llama-3.1-8b"), Workload(context=32768)
    one = Deployment(gpus=(h100,), engine=Engine.VLLM)
    per = max_batch(model, workload, one)
    assert per is not None and per > 1
    sizing = replicas_for(model, workload, one, 10 * per + 1)  # a dense model: replicas alike
    assert sizing is not None and (sizing.replicas, sizing.gpus, sizing.sequences_per_replica) == (11, 11, per)
    alone = replicas_for(model, workload, one, per)
    assert alone is not None and alone[:3] == (1, 1, per) and alone.deployment.data_parallel == 1


def test_moe_replicas_spread_the_experts_so_fewer_serve_the_load() -> None:
    from vramscope.core.solve import max_batch, replicas_for

    h100 = GpuSpec(name="H100", capacity_bytes=80 * GIB, total_bytes=80 * GIB)
    model, workload = load_preset("qwen3-30b-a3b"), Workload(context=32768)
    one = Deployment(gpus=(h100,), engine=Engine.VLLM)
    alone = max_batch(model, workload, one)
    assert alone is not None
    sizing = replicas_for(model, workload, one, 500)
    assert sizing is not None and sizing.replicas < -(-500 // alone)  # the experts of 24 GPUs, not 1
    dp = Deployment(gpus=(h100,), engine=Engine.VLLM, data_parallel=sizing.replicas)
    assert sizing.replicas * (max_batch(model, workload, dp) or 0) >= 500
    fewer = Deployment(gpus=(h100,), engine=Engine.VLLM, data_parallel=sizing.replicas - 1)
    assert (sizing.replicas - 1) * (max_batch(model, workload, fewer) or 0) < 500
