import pytest

from vramscope.core.estimate import SegmentKind, estimate
from vramscope.core.scenario import Deployment, Engine, GpuSpec, Workload
from vramscope.core.solve import max_context
from vramscope.core.sweep import memory_curve, sample_points, tightest_gpu
from vramscope.core.units import GIB
from vramscope.sources.presets import load_preset


def gpu(gib: float, bandwidth: float | None = 1.0e12) -> GpuSpec:
    return GpuSpec(name="g", capacity_bytes=int(gib * GIB), bandwidth_bytes_per_s=bandwidth)


def test_sample_points_span_the_range_on_a_log_scale_and_keep_the_chosen_values() -> None:
    points = sample_points(128, 131_072, 11, include=(5000,))
    assert points[0] == 128 and points[-1] == 131_072
    assert 5000 in points and 1024 in points  # 128 * 2^3: every third step of a 2^10 span in 10 steps
    assert points == sorted(set(points))


@pytest.mark.parametrize("engine", list(Engine))
@pytest.mark.parametrize("axis", ["context", "batch"])
def test_the_curve_equals_the_point_estimates_where_it_is_sampled(engine: Engine, axis: str) -> None:
    model = load_preset("llama-3.1-8b")
    deployment = Deployment(gpus=(gpu(24),), engine=engine)
    workload = Workload(context=4096, batch=2)
    curve = memory_curve(model, workload, deployment, axis)  # type: ignore[arg-type]
    assert len(curve.points) >= 30
    for point in curve.points[::7]:
        est = estimate(model, Workload.model_validate({**workload.model_dump(), axis: point.value}), deployment)
        g = est.per_gpu[0]
        assert point.weights_bytes == g.bytes_of(SegmentKind.WEIGHTS)
        assert point.fits == est.fits
        if est.fits:  # within a pool or a GPU, the curve is what the bar shows
            assert point.kv_bytes == g.bytes_of(SegmentKind.KV_CACHE)
            assert point.used_bytes == g.total_bytes - g.bytes_of(SegmentKind.KV_RESERVED)


def test_the_curve_crosses_its_limit_at_the_solved_largest_context() -> None:
    model, deployment = load_preset("llama-3.1-8b"), Deployment(gpus=(gpu(24),))
    workload = Workload(context=4096)
    best = max_context(model, workload, deployment)
    assert best is not None
    curve = memory_curve(model, workload, deployment, "context")
    for point in curve.points:
        assert point.fits == (point.value <= best)
        assert point.limit_bytes is not None
        assert (point.used_bytes <= point.limit_bytes) == point.fits


def test_sliding_window_layers_flatten_the_kv_slope_past_the_window() -> None:
    model = load_preset("gemma-3-27b")  # five sliding layers (1024 tokens) to one global
    window = model.architecture.sliding_window
    assert window == 1024
    curve = memory_curve(model, Workload(context=8192), Deployment(gpus=(gpu(80),)), "context")
    by_value = {p.value: p.kv_bytes for p in curve.points}
    assert window in by_value
    below = [p for p in curve.points if p.value <= window]
    above = [p for p in curve.points if p.value >= 4 * window]
    slope_below = (below[-1].kv_bytes - below[0].kv_bytes) / (below[-1].value - below[0].value)
    slope_above = (above[-1].kv_bytes - above[0].kv_bytes) / (above[-1].value - above[0].value)
    assert slope_above < slope_below / 3  # past the window only the global layers grow


@pytest.mark.parametrize("engine", [Engine.VLLM, Engine.SGLANG])
def test_a_preallocated_pool_is_the_limit_and_the_need_crosses_it_at_the_largest_context(engine: Engine) -> None:
    model = load_preset("llama-3.1-8b")
    deployment = Deployment(gpus=(gpu(24),), engine=engine)
    workload = Workload(context=4096, batch=8)
    best = max_context(model, workload, deployment)
    curve = memory_curve(model, workload, deployment, "context")
    assert best is not None and best < curve.points[-1].value
    for point in curve.points:
        assert point.limit_bytes is not None and point.limit_bytes < 24 * GIB  # the engine's budget
        assert point.fits == (point.value <= best) == (point.used_bytes <= point.limit_bytes)
    kv = [p.kv_bytes for p in curve.points]
    assert kv == sorted(kv) and kv[-1] > kv[0] * 100  # the need keeps growing past the pool's end


def test_decode_speed_falls_as_the_cache_to_read_grows() -> None:
    model, deployment = load_preset("llama-3.1-8b"), Deployment(gpus=(gpu(80, 2.0e12),))
    curve = memory_curve(model, Workload(context=4096), deployment, "context")
    speeds = [p.tokens_per_s for p in curve.points]
    assert all(s is not None for s in speeds)
    assert speeds == sorted(speeds, reverse=True)  # type: ignore[type-var]


def test_the_curve_follows_the_gpu_with_the_least_room() -> None:
    small, big = gpu(20), gpu(40)
    deployment = Deployment(gpus=(big, small), tensor_parallel=2)
    est = estimate(load_preset("llama-3.1-8b"), Workload(context=4096), deployment)
    assert tightest_gpu(est) == 1
