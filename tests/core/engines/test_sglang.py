"""SGLang profile: the token pool from mem_fraction_static (model_runner.profile_max_num_token)."""

import pytest

from vramscope.core.engines.sglang import default_mem_fraction
from vramscope.core.estimate import SegmentKind, estimate
from vramscope.core.scenario import Deployment, Engine, EngineSettings, GpuSpec, Workload
from vramscope.core.solve import max_batch
from vramscope.core.units import GIB
from vramscope.sources.presets import load_preset

L4 = GpuSpec(name="NVIDIA L4", capacity_bytes=round(22.03 * GIB), total_bytes=round(22.03 * GIB))


def sglang(tp: int, **settings: object) -> Deployment:
    return Deployment(
        gpus=(L4,), tensor_parallel=tp, engine=Engine.SGLANG, settings=EngineSettings.model_validate(settings)
    )


def test_qwq_32b_on_four_l4s_holds_the_logged_pool() -> None:
    """QwQ-32B (the Qwen2.5-32B architecture), tp 4, mem_fraction_static 0.85: '#tokens: 46611'."""
    est = estimate(load_preset("qwen2.5-32b"), Workload(context=32768), sglang(4, mem_fraction_static=0.85))
    assert est.engine_details["kv_capacity_tokens"] == pytest.approx(46_611, rel=0.07)
    per_token = 64 * 2 * 128 * 2 * 2  # 64 layers, 2 KV heads per rank, K and V, bf16
    gpu = est.per_gpu[0]
    pool = gpu.bytes_of(SegmentKind.KV_CACHE) + gpu.bytes_of(SegmentKind.KV_RESERVED)
    assert pool == est.engine_details["kv_capacity_tokens"] * per_token


def test_a_larger_fraction_gives_a_larger_pool() -> None:
    model = load_preset("qwen2.5-32b")
    small = estimate(model, Workload(context=8192), sglang(4, mem_fraction_static=0.8)).engine_details
    large = estimate(model, Workload(context=8192), sglang(4, mem_fraction_static=0.9)).engine_details
    assert large["kv_pool_bytes"] - small["kv_pool_bytes"] == pytest.approx(0.1 * 22.03 * GIB, rel=0.001)


def test_no_room_for_the_pool_is_refused_in_sglangs_words() -> None:
    est = estimate(load_preset("qwen2.5-32b"), Workload(context=8192), sglang(2, mem_fraction_static=0.7))
    assert est.refusal == "Not enough memory. Please try to increase --mem-fraction-static."
    assert est.fits is False


def test_default_fraction_shrinks_with_tensor_parallel() -> None:
    assert [default_mem_fraction(tp) for tp in (1, 2, 4, 8, 16)] == [0.88, 0.87, 0.85, 0.81, 0.79]


def test_the_request_pool_bounds_the_concurrent_requests() -> None:
    h200 = GpuSpec(name="NVIDIA H200", capacity_bytes=round(140 * GIB), total_bytes=round(140 * GIB))
    deployment = Deployment(gpus=(h200,), engine=Engine.SGLANG)
    model = load_preset("qwen2.5-0.5b")
    est = estimate(model, Workload(context=128, batch=5000), deployment)
    assert "its request pool runs at most 4,096 requests at once, not 5,000" in est.shortfall
    assert max_batch(model, Workload(context=128), deployment) == 4096
