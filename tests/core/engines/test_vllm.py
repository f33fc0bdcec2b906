"""vLLM profile against vLLM 0.19's own start-up logs on an H100 (reference/engine_logs.json) and its rules."""

import pytest

from vramscope.core.engines.base import EngineSettingsError
from vramscope.core.engines.vllm import KvPages, capture_sizes, rotary_tables
from vramscope.core.engines.vllm_versions import batch_defaults, vllm_rules
from vramscope.core.estimate import SegmentKind, estimate
from vramscope.core.precision import KV_DTYPES
from vramscope.core.scenario import Deployment, Engine, EngineSettings, GpuSpec, Workload
from vramscope.core.solve import max_batch
from vramscope.core.units import GIB
from vramscope.sources.presets import load_preset

H100 = GpuSpec(name="NVIDIA H100 80GB HBM3", capacity_bytes=round(79.19 * GIB), total_bytes=round(79.19 * GIB))
RTX_4090 = GpuSpec(name="NVIDIA GeForce RTX 4090", capacity_bytes=round(23.99 * GIB), total_bytes=round(23.99 * GIB))


def vllm(gpu: GpuSpec = H100, tp: int = 1, **settings: object) -> Deployment:
    return Deployment(
        gpus=(gpu,),
        tensor_parallel=tp,
        engine=Engine.VLLM,
        settings=EngineSettings.model_validate({"gpu_memory_utilization": 0.95, "engine_version": "0.19", **settings}),
    )


@pytest.mark.parametrize(
    ("preset", "tp", "weights_gib", "pool_gib", "tokens", "concurrency"),
    [  # "Model loading took", "Available KV cache memory", "GPU KV cache size", "Maximum concurrency"
        ("llama-3.1-8b", 1, 14.99, 58.11, 476_016, 58.11),
        ("qwen3-8b", 1, 15.27, 57.50, 418_688, 51.11),
        ("gemma-2-9b", 1, 17.22, 54.12, 168_880, 20.60),  # two layer groups: full and sliding
        ("mixtral-8x7b", 2, 43.51, 28.44, 465_936, 56.88),
        ("llama-3.1-8b", 2, 7.51, 63.76, 1_044_688, 127.53),
        ("gemma-3-4b", 1, 8.58, 62.51, 468_144, 57.05),  # 0.56 GiB of rotary tables among the weights
    ],
)
def test_the_logged_figures_of_vllm_0_19(
    preset: str, tp: int, weights_gib: float, pool_gib: float, tokens: int, concurrency: float
) -> None:
    est = estimate(load_preset(preset), Workload(context=8192), vllm(tp=tp))
    details = est.engine_details
    assert est.per_gpu[0].bytes_of(SegmentKind.WEIGHTS) / GIB == pytest.approx(weights_gib, rel=0.01)
    assert details["kv_pool_bytes"] / GIB == pytest.approx(pool_gib, rel=0.02)
    assert details["kv_capacity_tokens"] == pytest.approx(tokens, rel=0.02)
    assert details["max_concurrency"] == pytest.approx(concurrency, rel=0.02)
    assert est.fits is True and est.engine_verdict.startswith("vLLM starts")


@pytest.mark.parametrize(
    ("preset", "tables"),
    [
        ("llama-3.1-8b", ((131_072, 128),)),  # llama3 scaling keeps max_position_embeddings rows
        ("gemma-3-4b", ((1_048_576, 256), (131_072, 256))),  # linear x 8, and the sliding layers' own table
        ("phi-4-mini", ((4_096 + 131_072, 96),)),  # longrope: short and long tables, 3/4 of each head rotates
        ("gpt-oss-20b", ((131_072, 64),)),  # yarn: 4,096 trained positions x 32
        ("deepseek-v3", ((163_840, 64),)),  # MLA rotates its 64-wide rope part only
        ("gpt2", ()),  # learned positions
    ],
)
def test_the_rotary_tables_get_rope_builds(preset: str, tables: tuple[tuple[int, int], ...]) -> None:
    assert rotary_tables(load_preset(preset).architecture) == tables


def test_kv_fp8_doubles_the_tokens_of_the_same_pool() -> None:
    model = load_preset("llama-3.1-8b")
    bf16 = estimate(model, Workload(context=8192), vllm()).engine_details
    fp8 = estimate(model, Workload(context=8192, kv_dtype="fp8"), vllm()).engine_details
    assert fp8["kv_pool_bytes"] == bf16["kv_pool_bytes"]
    assert fp8["num_gpu_blocks"] == 2 * bf16["num_gpu_blocks"]  # 952,032 vs 476,016 tokens in the logs


def test_pages_of_a_sliding_window_model() -> None:
    arch = load_preset("gemma-2-9b").architecture  # 21 global + 21 sliding layers, 8 KV heads of 256
    pages = KvPages(arch, range(42), 1, KV_DTYPES["bf16"], 16)
    assert pages.page_bytes == 16 * 8 * 512 * 2
    assert (pages.group_size, pages.groups) == (21, 2)
    # full: 8192 / 16 blocks; sliding: min(4096 - 1 + 8192, 8192) / 16 + 1 (SlidingWindowSpec)
    assert pages.blocks_per_request(8192, 8192) == 512 + 513
    assert pages.blocks_per_request(32768, 2048) == 2048 + ceil_div(4095 + 2048, 16) + 1


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def test_the_pool_is_the_budget_minus_what_the_profile_run_took() -> None:
    est = estimate(load_preset("llama-3.1-8b"), Workload(context=8192), vllm())
    gpu = est.per_gpu[0]
    budget = round(0.95 * 79.19 * GIB)
    taken = gpu.bytes_of(SegmentKind.WEIGHTS) + gpu.bytes_of(SegmentKind.ACTIVATIONS)
    non_torch = next(s for s in gpu.segments if s.title == "Non-torch").bytes
    assert abs(est.engine_details["kv_pool_bytes"] - (budget - taken - non_torch)) <= 1
    assert (
        gpu.bytes_of(SegmentKind.KV_CACHE) + gpu.bytes_of(SegmentKind.KV_RESERVED)
        == est.engine_details["kv_pool_bytes"]
    )


def test_refuses_a_max_model_len_its_pool_cannot_hold_in_its_own_words() -> None:
    est = estimate(load_preset("llama-3.1-8b"), Workload(context=131072), vllm(RTX_4090, gpu_memory_utilization=0.9))
    assert est.fits is False
    assert est.refusal.startswith("To serve at least one request with the models's max seq len (131072), (16.00 GiB")
    longest = int(est.refusal.split("maximum model length is ")[1].split(".")[0])
    fits = estimate(load_preset("llama-3.1-8b"), Workload(context=longest), vllm(RTX_4090, gpu_memory_utilization=0.9))
    assert fits.refusal == "" and fits.fits is True


def test_a_busy_gpu_cannot_give_the_budget() -> None:
    busy = RTX_4090.model_copy(update={"capacity_bytes": 18 * GIB})
    est = estimate(load_preset("llama-3.2-1b"), Workload(context=8192), vllm(busy, gpu_memory_utilization=0.9))
    assert (
        est.refusal.startswith("Free memory on device")
        and "less than desired GPU memory utilization (0.9" in est.refusal
    )


def test_more_sequences_than_the_pool_holds_is_a_shortfall() -> None:
    est = estimate(
        load_preset("llama-3.1-8b"), Workload(context=32768, batch=64), vllm(RTX_4090, gpu_memory_utilization=0.9)
    )
    assert est.fits is False and est.refusal == ""
    assert est.shortfall.startswith("vLLM starts, but its KV pool holds")


def test_tensor_parallel_must_divide_the_heads() -> None:
    with pytest.raises(
        EngineSettingsError,
        match=r"Total number of attention heads \(28\) must be divisible by tensor parallel size \(3\)",
    ):
        estimate(load_preset("qwen2.5-7b"), Workload(), vllm(tp=3))


def test_defaults_follow_the_gpu() -> None:
    rules = vllm_rules("0.19")
    assert batch_defaults(rules, H100, H100.total_bytes, 8192) == (8192, 1024)
    assert batch_defaults(rules, RTX_4090, RTX_4090.total_bytes, 8192) == (2048, 256)
    a100 = GpuSpec(name="NVIDIA A100-SXM4-80GB", total_bytes=80 * GIB)
    assert batch_defaults(rules, a100, a100.total_bytes, 8192) == (
        2048,
        256,
    )  # vLLM keeps A100s on the smaller defaults


def test_enforce_eager_drops_the_cuda_graphs() -> None:
    model = load_preset("llama-3.1-8b")
    graphs = estimate(model, Workload(), vllm()).per_gpu[0]
    eager = estimate(model, Workload(), vllm(enforce_eager=True)).per_gpu[0]
    assert any(s.title == "CUDA graphs" for s in graphs.segments)
    assert not any(s.title == "CUDA graphs" for s in eager.segments)


@pytest.mark.parametrize(
    ("seqs", "batched", "speculative", "sizes"),
    [  # config/vllm.py: 1, 2, 4, every 8 below 256, every 16 from 256, up to min(2 x decode tokens, 512, batched)
        (256, 8192, 0, 51),  # H100 defaults: 1, 2, 4, 8 ... 248 (31), 256 ... 512 (17)
        (32, 8192, 0, 11),  # up to 64: 1, 2, 4, 8 ... 64
        (1, 8192, 0, 2),  # 1, 2
        (16, 8192, 5, 27),  # 192 decode tokens a step with 5 speculative each
        (256, 100, 0, 16),  # max_num_batched_tokens 100 caps the sizes and is captured itself
    ],
)
def test_the_batch_sizes_vllm_captures(seqs: int, batched: int, speculative: int, sizes: int) -> None:
    assert capture_sizes(seqs, batched, speculative) == sizes


@pytest.mark.parametrize(
    ("preset", "tp", "logged_gib"),
    [  # "Graph capturing finished in N secs, took X GiB" of 0.19 on H100s (llm-d-planner sweep)
        ("llama-3.1-8b", 1, 0.91),
        ("qwen2.5-7b", 1, 0.87),
        ("phi-4", 1, 1.07),
        ("llama-3.3-70b", 2, 1.79),  # 1.85 in the sweep's other 70B run at tp 2
        ("llama-3.3-70b", 4, 1.66),
    ],
)
def test_the_cuda_graphs_by_captures_and_layers(preset: str, tp: int, logged_gib: float) -> None:
    gpu = estimate(load_preset(preset), Workload(context=8192), vllm(tp=tp)).per_gpu[0]
    graphs = next(s for s in gpu.segments if s.title == "CUDA graphs")
    assert graphs.bytes / GIB == pytest.approx(logged_gib, abs=0.12)  # the sweep's median miss is 0.05 GiB
    assert "51 batch sizes" in graphs.note


def test_a_draft_model_comes_out_of_the_pool() -> None:
    model, draft = load_preset("llama-3.1-8b"), load_preset("llama-3.2-1b")
    plain = estimate(model, Workload(context=8192), vllm())
    spec = estimate(model, Workload(context=8192), vllm().model_copy(update={"draft": draft}))
    assert plain.engine_details["kv_pool_bytes"] - spec.engine_details["kv_pool_bytes"] == 2 * 1_235_814_400
    # every 16-token block now also holds the draft's 16 x 32 KiB
    ratio = plain.engine_details["kv_capacity_tokens"] / spec.engine_details["kv_capacity_tokens"]
    assert ratio == pytest.approx((131_072 + 32_768) / 131_072 * 58.11 / (58.11 - 2.30), rel=0.01)
    assert any(s.title == "Draft weights" for s in spec.per_gpu[0].segments)


def test_deepseek_v4_pages_its_compressed_history_not_the_window_width() -> None:
    """No vLLM log of DeepSeek-V4 yet: its cache is priced as transformers holds it (a 320 B entry share per
    token in each sparse layer, 8 B in each heavily compressed one, the windows and buffers once per
    sequence), never at the window's 2 KB per token for every layer."""
    from tests.fixtures.families import architecture
    from vramscope.core.scenario import ModelSpec, Source

    arch = architecture("deepseek-ai/DeepSeek-V4-Flash")
    model = ModelSpec(name="DeepSeek-V4-Flash", source=Source.CONFIG, architecture=arch, native_format="bf16")
    est = estimate(model, Workload(context=131072, batch=2), Deployment(engine=Engine.VLLM))
    compressed = 21 * 320 + 20 * 8
    fixed = 2 * (2 * 1024 * 128 + sum(arch.state_elements_per_sequence(i) for i in range(arch.num_layers)))
    assert est.kv_cache_bytes == 2 * (131072 * compressed + fixed)


def test_more_sequences_than_max_num_seqs_wait_in_the_queue() -> None:
    h100 = GpuSpec(name="NVIDIA H100 80GB HBM3", capacity_bytes=round(79.19 * GIB), total_bytes=round(79.19 * GIB))
    settings = EngineSettings(max_num_seqs=8)
    deployment = Deployment(gpus=(h100,), engine=Engine.VLLM, settings=settings)
    est = estimate(load_preset("llama-3.1-8b"), Workload(context=1024, batch=16), deployment)
    assert est.shortfall.startswith("vLLM starts, but runs at most 8 sequences at once (--max-num-seqs)")
    assert est.fits is False
    assert max_batch(load_preset("llama-3.1-8b"), Workload(context=1024), deployment) == 8


def test_fewer_batched_tokens_than_sequences_is_refused_as_vllm_refuses_it() -> None:
    h100 = GpuSpec(name="NVIDIA H100 80GB HBM3", capacity_bytes=round(79.19 * GIB), total_bytes=round(79.19 * GIB))
    settings = EngineSettings(max_num_batched_tokens=128)  # below the default 1,024 sequences of an H100
    deployment = Deployment(gpus=(h100,), engine=Engine.VLLM, settings=settings)
    with pytest.raises(EngineSettingsError, match=r"max_num_batched_tokens \(128\) must be greater than or equal"):
        estimate(load_preset("llama-3.1-8b"), Workload(), deployment)
