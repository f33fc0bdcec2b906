"""SGLang profile: the token pool from mem_fraction_static (model_runner.profile_max_num_token)."""

import pytest

from vramscope.core.engines.base import CUDA_CONTEXT_BYTES
from vramscope.core.engines.sglang import default_mem_fraction
from vramscope.core.estimate import SegmentKind, estimate
from vramscope.core.scenario import Deployment, Engine, EngineSettings, GpuSpec, Workload
from vramscope.core.solve import max_batch
from vramscope.core.units import GIB, MIB
from vramscope.sources.presets import load_preset

L4 = GpuSpec(name="NVIDIA L4", capacity_bytes=round(22.03 * GIB), total_bytes=round(22.03 * GIB))


def sglang(tp: int, **settings: object) -> Deployment:
    return Deployment(
        gpus=(L4,), tensor_parallel=tp, engine=Engine.SGLANG, settings=EngineSettings.model_validate(settings)
    )


def test_qwq_32b_on_four_l4s_holds_the_logged_pool() -> None:
    """QwQ-32B (the Qwen2.5-32B architecture), tp 4, mem_fraction_static 0.85: '#tokens: 46611'."""
    est = estimate(load_preset("qwen2.5-32b"), Workload(context=32768), sglang(4, mem_fraction_static=0.85))
    # The log: 21.63 GB free before loading, 6.09 after: 6.09 - 21.63 x 0.15 = 2.845 GiB = 46,620 tokens. Its
    # weights figure (15.54) is 0.28 GiB above the tensor bytes: the 'Loading' segment's rounding and tables
    assert est.engine_details["kv_capacity_tokens"] == pytest.approx(46_611, rel=0.015)
    per_token = 64 * 2 * 128 * 2 * 2  # 64 layers, 2 KV heads per rank, K and V, bf16
    gpu = est.per_gpu[0]
    pool = gpu.bytes_of(SegmentKind.KV_CACHE) + gpu.bytes_of(SegmentKind.KV_RESERVED)
    assert pool == est.engine_details["kv_capacity_tokens"] * per_token


def test_a_larger_fraction_gives_a_larger_pool() -> None:
    model = load_preset("qwen2.5-32b")
    small = estimate(model, Workload(context=8192), sglang(4, mem_fraction_static=0.8)).engine_details
    large = estimate(model, Workload(context=8192), sglang(4, mem_fraction_static=0.9)).engine_details
    before = L4.capacity_bytes - CUDA_CONTEXT_BYTES  # what is free when the weights start to load
    assert large["kv_pool_bytes"] - small["kv_pool_bytes"] == pytest.approx(0.1 * before, rel=0.001)


def test_no_room_for_the_pool_is_refused_in_sglangs_words() -> None:
    est = estimate(load_preset("qwen2.5-32b"), Workload(context=8192), sglang(2, mem_fraction_static=0.7))
    assert est.refusal == "Not enough memory. Please try to increase --mem-fraction-static."
    assert est.fits is False


H100_NVML = 81_559 * MIB  # what nvidia-smi reports for an H100 80GB, as SGLang reads it


@pytest.mark.parametrize(
    ("version", "fractions"),
    [  # server_args.py of each release: tp 1, 2, 4, 8 on an H100
        ((0, 4, 6), [0.88, 0.87, 0.85, 0.81]),  # a table by parallel size
        ((0, 5, 0), [0.874, 0.868, 0.856, 0.831]),  # (9.5 + tp/2) GiB reserved
        ((0, 5, 5), [0.835, 0.834, 0.824, 0.818]),  # 512 MiB + 1.5 x chunk + 2 x graph batch + tp/8 GiB
        ((0, 5, 10), [0.830, 0.828, 0.819, 0.812]),  # + 8 MiB per piecewise CUDA graph
    ],
)
def test_the_default_fraction_by_release(version: tuple[int, ...], fractions: list[float]) -> None:
    arch = load_preset("llama-3.1-8b").architecture
    assert [default_mem_fraction(version, H100_NVML, arch, tp, 1) for tp in (1, 2, 4, 8)] == fractions


def test_0_828_on_an_h100_is_tp_2_on_0_5_10() -> None:  # the fraction seen on an H100 (issue 24)
    h100 = GpuSpec(name="NVIDIA H100 80GB HBM3", capacity_bytes=80 * GIB, total_bytes=H100_NVML)
    est = estimate(
        load_preset("llama-3.1-8b"),
        Workload(context=8192),
        Deployment(gpus=(h100,), tensor_parallel=2, engine=Engine.SGLANG),
    )
    assert est.engine_details["mem_fraction_static"] == 0.828 and est.engine_details["engine_version"] == "0.5.23"


def test_an_unknown_release_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown SGLang version"):
        estimate(load_preset("llama-3.1-8b"), Workload(), sglang(1, engine_version="next"))


def test_the_request_pool_bounds_the_concurrent_requests() -> None:
    h200 = GpuSpec(name="NVIDIA H200", capacity_bytes=round(140 * GIB), total_bytes=round(140 * GIB))
    deployment = Deployment(gpus=(h200,), engine=Engine.SGLANG)
    model = load_preset("qwen2.5-0.5b")
    est = estimate(model, Workload(context=128, batch=5000), deployment)
    assert "its request pool runs at most 4,096 requests at once, not 5,000" in est.shortfall
    assert max_batch(model, Workload(context=128), deployment) == 4096


def test_loading_rounds_large_parameters_and_keeps_fp32_rotary_tables() -> None:
    """SGLang reads loading's memory from the driver: each fused parameter of 10 MiB or more in a segment of
    its own rounded up to 2 MiB (PyTorch's caching allocator), and the cos/sin tables in fp32. Qwen3-14B at tp 4
    on RTX 4090s: 'mem usage=7.08 GB' for 6.88 GiB of tensors; per rank qkv 17.5 MiB, o 12.5, gate_up 85 and
    down 42.5 round up by 4.5 MiB a layer, the embedding and head (37,984 x 5,120) by 1.1 each."""
    model = load_preset("qwen3-14b")
    est = estimate(model, Workload(context=40960), sglang(4, mem_fraction_static=0.8))
    loading = next(s for s in est.per_gpu[0].segments if s.title == "Loading").bytes
    table = 40960 * 128 * 4
    assert loading == 40 * 4.5 * MIB + 2 * (-(151936 // 4 * 5120 * 2) % (2 * MIB)) + table
    weights = est.per_gpu[0].bytes_of(SegmentKind.WEIGHTS)
    assert (weights + loading) / GIB == pytest.approx(7.08, abs=0.01)


def test_deepseek_r1_distill_on_a_3090_holds_the_logged_pool() -> None:
    """DeepSeek-R1-Distill-Qwen-7B (Qwen2.5-7B's architecture) on an RTX 3090, 0.4.2, mem_fraction_static 0.88:
    'avail mem=22.76 GB' before loading, max_total_num_tokens=105531 (jerryzsj/my-deepseek-r1)."""
    rtx_3090 = GpuSpec(name="NVIDIA GeForce RTX 3090", capacity_bytes=round(22.76 * GIB) + CUDA_CONTEXT_BYTES)
    deployment = Deployment(
        gpus=(rtx_3090.model_copy(update={"total_bytes": 24 * GIB}),),
        engine=Engine.SGLANG,
        settings=EngineSettings(mem_fraction_static=0.88, engine_version="0.4.2"),
    )
    est = estimate(load_preset("qwen2.5-7b"), Workload(context=131072), deployment)
    assert est.engine_details["kv_capacity_tokens"] == pytest.approx(105_531, rel=0.01)
