import time

import pytest

from vramscope.core.engines import engine_profile
from vramscope.core.estimate import Provenance, SegmentKind, estimate, pipeline_stages
from vramscope.core.scenario import Deployment, Engine, EngineSettings, GpuSpec, HostSpec, Workload
from vramscope.core.units import GIB
from vramscope.sources.presets import load_preset

ONE_GPU = Deployment(gpus=(GpuSpec(name="24 GiB", capacity_bytes=24 * GIB),))


def run(preset: str, **workload: object) -> object:
    return estimate(load_preset(preset), Workload.model_validate(workload), Deployment())


def test_llama_3_1_8b_at_8k() -> None:
    est = estimate(load_preset("llama-3.1-8b"), Workload(context=8192), Deployment())
    assert est.parameters == 8_030_261_248
    assert est.kv_bytes_per_token == 131_072
    assert est.kv_cache_bytes == 1_073_741_824
    assert est.weights_bytes == 2 * 8_030_261_248
    weights = est.per_gpu[0].segment(SegmentKind.WEIGHTS)
    assert weights.provenance is Provenance.EXACT
    assert est.fits is None


def test_kv_scales_with_batch_and_dtype() -> None:
    model = load_preset("qwen2.5-7b")
    est = estimate(model, Workload(context=32768, batch=3, kv_dtype="fp8"), Deployment(engine=Engine.VLLM))
    assert est.kv_cache_bytes == 57_344 // 2 * 32768 * 3
    q8 = estimate(model, Workload(context=32768, kv_dtype="q8_0"), Deployment())
    assert q8.kv_cache_bytes == 57_344 // 2 * 32768 * 34 // 32


def test_deepseek_v3_mla_latent() -> None:
    est = estimate(load_preset("deepseek-v3"), Workload(context=1000), Deployment())
    assert est.kv_bytes_per_token == 70_272
    assert est.kv_cache_bytes == 70_272 * 1000


@pytest.mark.parametrize(
    ("preset", "window", "full_per_token", "sliding_per_token"),
    [
        ("gemma-2-9b", 4096, 21 * 8 * 512 * 2, 21 * 8 * 512 * 2),  # 21 global + 21 sliding layers
        ("gemma-3-27b", 1024, 81_920, 425_984),
    ],
)
def test_sliding_layers_stop_growing_at_the_window(
    preset: str, window: int, full_per_token: int, sliding_per_token: int
) -> None:
    model = load_preset(preset)

    def kv(context: int) -> int:
        return estimate(model, Workload(context=context), Deployment()).kv_cache_bytes

    assert kv(window) == (full_per_token + sliding_per_token) * window
    assert kv(window + 1000) - kv(window) == full_per_token * 1000
    assert kv(100_000) == full_per_token * 100_000 + sliding_per_token * window


def test_jamba_mamba_state_is_constant_per_sequence() -> None:
    model = load_preset("jamba-v0.1")
    state = 28 * 8192 * (16 + 4) * 2  # 28 Mamba layers, inner 8192, SSM 16 + conv 4, 16-bit
    for context in (1, 1000, 100_000):
        for batch in (1, 4):
            est = estimate(model, Workload(context=context, batch=batch), Deployment())
            assert est.kv_cache_bytes == 16_384 * context * batch + state * batch


def test_fit_and_headroom() -> None:
    est = estimate(load_preset("llama-3.1-8b"), Workload(context=8192), ONE_GPU)
    assert est.fits is True
    assert est.headroom_bytes == 24 * GIB - est.total_bytes
    big = estimate(load_preset("llama-3.1-70b"), Workload(context=8192), ONE_GPU)
    assert big.fits is False and big.headroom_bytes is not None and big.headroom_bytes < 0


def test_tensor_parallel_replicates_kv_heads_beyond_their_count() -> None:
    model = load_preset("llama-3.1-8b")  # 8 KV heads
    gpus = (GpuSpec(name="g", capacity_bytes=80 * GIB),)
    tp8 = estimate(model, Workload(context=8192), Deployment(gpus=gpus, tensor_parallel=8))
    tp16 = estimate(model, Workload(context=8192), Deployment(gpus=gpus, tensor_parallel=16))
    assert tp8.per_gpu[0].segment(SegmentKind.KV_CACHE).bytes == 1 * GIB // 8
    assert tp16.per_gpu[0].segment(SegmentKind.KV_CACHE).bytes == 1 * GIB // 8  # one head each, replicated
    assert any("replicated" in w for w in tp16.warnings)
    assert len(tp16.per_gpu) == 16


def test_mla_latent_is_not_split_by_tensor_parallel() -> None:
    model = load_preset("deepseek-v3")
    est = estimate(model, Workload(context=1000), Deployment(gpus=(GpuSpec(name="g"),), tensor_parallel=8))
    assert all(g.segment(SegmentKind.KV_CACHE).bytes == 70_272 * 1000 for g in est.per_gpu)


def test_pipeline_parallel_splits_layers() -> None:
    assert [len(r) for r in pipeline_stages(80, 3)] == [27, 27, 26]
    model = load_preset("llama-3.1-70b")
    est = estimate(model, Workload(context=8192), Deployment(pipeline_parallel=2))
    first, last = est.per_gpu
    assert first.segment(SegmentKind.KV_CACHE).bytes == last.segment(SegmentKind.KV_CACHE).bytes == 40 * 4096 * 8192
    assert sum(g.segment(SegmentKind.WEIGHTS).bytes for g in est.per_gpu) == 2 * 70_553_706_496


def test_context_above_maximum_warns() -> None:
    est = estimate(load_preset("llama-2-7b"), Workload(context=8192), Deployment())
    assert any("above Llama-2-7B's maximum of 4,096" in w for w in est.warnings)


def test_absurd_values_compute_instantly() -> None:
    model = load_preset("llama-3.1-405b")
    start = time.process_time()
    est = estimate(model, Workload(context=10**8, batch=10**5), Deployment())
    assert time.process_time() - start < 1.0  # generous: a guard against loops over tokens, not a benchmark
    assert est.kv_cache_bytes == 516_096 * 10**8 * 10**5


def test_two_trillion_parameters_do_not_overflow() -> None:
    from vramscope.core.architecture import Architecture

    arch = Architecture(
        model_type="x",
        vocab_size=200_000,
        hidden_size=65536,
        num_layers=160,
        num_attention_heads=512,
        num_kv_heads=64,
        head_dim=128,
        intermediate_size=262144,
        max_context=10**6,
    )
    model = load_preset("llama-3.1-8b").model_copy(update={"architecture": arch})
    est = estimate(model, Workload(context=10**6), Deployment())
    assert est.parameters > 2 * 10**12
    assert est.weights_bytes == 2 * est.parameters


def _llama_cpp_on(capacity: int, host: HostSpec | None = None) -> Deployment:
    gpu = GpuSpec(name="GPU", capacity_bytes=capacity, total_bytes=capacity)
    return Deployment(gpus=(gpu,), host=host, engine=Engine.LLAMACPP)


def test_a_fit_within_the_profiles_measured_error_is_tight() -> None:
    model, workload = load_preset("llama-3.1-8b"), Workload(weight_format="q4_k_m")
    need = estimate(model, workload, _llama_cpp_on(100 * GIB)).per_gpu[0].total_bytes
    error = engine_profile(Engine.LLAMACPP).measured_error(EngineSettings()).share
    near = estimate(model, workload, _llama_cpp_on(need + round(need * error / 2)))
    assert near.fits is True and near.tight is True  # fits stays the plain comparison
    assert near.margin_bytes == round(error * need)
    clear = estimate(model, workload, _llama_cpp_on(need + round(need * error * 2)))
    assert clear.fits is True and clear.tight is False
    short = estimate(model, workload, _llama_cpp_on(need - 1))
    assert short.fits is False and short.tight is False


def test_no_host_given_is_not_compared_and_a_host_given_is() -> None:
    model, workload = load_preset("llama-3.1-8b"), Workload(weight_format="q4_k_m")
    free = estimate(model, workload, _llama_cpp_on(24 * GIB))
    assert free.host_capacity_bytes is None and free.host_fits is None and free.fits is True
    small = HostSpec(capacity_bytes=free.host_bytes - 1, basis="test")
    short = estimate(model, workload, _llama_cpp_on(24 * GIB, small))
    assert short.gpus_fit is True and short.host_fits is False and short.fits is False
    assert short.host_headroom_bytes == -1
