import pytest
from hypothesis import given
from hypothesis import strategies as st

from vramscope.core.estimate import estimate
from vramscope.core.scenario import Deployment, GpuSpec, Workload
from vramscope.core.solve import max_batch, max_context
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
