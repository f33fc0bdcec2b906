"""vLLM's rules by release, each against a start-up log of that release (tests/truths/engine_runs.json,
reference/engine_logs.json) or the figure its source fixes."""

from dataclasses import replace

import pytest

from vramscope.core.analysis import launch_command
from vramscope.core.engines.base import EngineSettingsError
from vramscope.core.engines.vllm import KvPages, Mxfp4Kernel, mxfp4_kernel, mxfp4_padding_bytes
from vramscope.core.engines.vllm_versions import parse_version, vllm_rules, window_tokens_in_flight
from vramscope.core.estimate import Estimate, SegmentKind, estimate
from vramscope.core.precision import KV_DTYPES, TensorContext, tensor_bytes, weight_format
from vramscope.core.roles import Group, Split, Tensor
from vramscope.core.scenario import Deployment, Engine, EngineSettings, GpuSpec, Workload
from vramscope.core.units import GIB
from vramscope.hardware.catalog import find_gpu
from vramscope.sources.presets import load_preset

H100 = GpuSpec(name="NVIDIA H100 80GB HBM3", capacity_bytes=round(79.19 * GIB), total_bytes=round(79.19 * GIB))


def run(
    preset: str, version: str, gpu: GpuSpec = H100, tp: int = 1, pp: int = 1, context: int = 8192, **settings: object
) -> Estimate:
    deployment = Deployment(
        gpus=(gpu,),
        tensor_parallel=tp,
        pipeline_parallel=pp,
        engine=Engine.VLLM,
        settings=EngineSettings.model_validate({"engine_version": version, **settings}),
    )
    return estimate(load_preset(preset), Workload(context=context), deployment)


def activation_gib(est: Estimate) -> float:
    return est.per_gpu[0].bytes_of(SegmentKind.ACTIVATIONS) / GIB


@pytest.mark.parametrize(
    ("text", "version", "v0"),
    [("0.19.1", (0, 19, 1), False), ("0.8.2-v0", (0, 8, 2), True), ("0.6.4.post1", (0, 6, 4), True),
     ("v0", (0, 10, 2), True), ("0.8.3.dev172+g2b", (0, 8, 3), False), (None, (0, 33), False)],
)  # fmt: skip
def test_versions_as_users_and_logs_write_them(text: str | None, version: tuple[int, ...], v0: bool) -> None:
    assert parse_version(text) == (version, v0)


@pytest.mark.parametrize("text", ["0.12-v0", "nightly", "0.5.0"])
def test_a_release_not_modelled_is_refused_by_name(text: str) -> None:
    with pytest.raises(EngineSettingsError, match="vLLM"):
        run("llama-3.1-8b", text)


def test_defaults_by_release() -> None:
    assert vllm_rules("0.19").default_utilization == 0.9 and not vllm_rules("0.19").graphs_in_budget
    assert vllm_rules("0.20").default_utilization == 0.92 and vllm_rules("0.20").graphs_in_budget  # config/cache.py


def test_v0_prefills_the_whole_context() -> None:
    # 0.7.2 on a T4 (14.56 GiB), Qwen2.5-1.5B fp16 at 32,768: "PyTorch activation peak memory takes 2.02GiB"
    t4 = GpuSpec(name="Tesla T4", capacity_bytes=round(14.56 * GIB), total_bytes=round(14.56 * GIB))
    est = run("qwen2.5-1.5b", "0.7.2", t4, context=32768, gpu_memory_utilization=0.5)
    assert activation_gib(est) == pytest.approx(2.02, rel=0.01)
    assert est.engine_details["engine_version"] == "V0 (0.6.3-0.10)"


def test_v0_refuses_in_its_own_words() -> None:
    # 0.6.4 on an RTX 3090, Llama-3.1-8B at 29,000: "The model's max seq len (29000) is larger than the maximum
    # number of tokens that can be stored in KV cache (23648)"
    rtx3090 = GpuSpec(name="NVIDIA GeForce RTX 3090", capacity_bytes=round(23.58 * GIB), total_bytes=round(23.58 * GIB))
    est = run("llama-3.1-8b", "0.6.4", rtx3090, context=29000)
    assert est.refusal.startswith("The model's max seq len (29000) is larger than the maximum number of tokens")
    assert est.engine_details["kv_capacity_tokens"] == pytest.approx(23648, rel=0.1)
    assert not run("llama-3.1-8b", "0.6.4", rtx3090, context=20000).refusal  # the 20k run started


def test_the_sampler_by_release() -> None:
    # Qwen3-14B on an H100 at 0.95: torch peak 5.64 GiB on 0.15 and 0.16, 2.23 GiB on 0.17 and 0.18
    assert activation_gib(run("qwen3-14b", "0.16", gpu_memory_utilization=0.95)) == pytest.approx(5.64, rel=0.02)
    assert activation_gib(run("qwen3-14b", "0.17", gpu_memory_utilization=0.95)) == pytest.approx(2.23, rel=0.03)


A100 = GpuSpec(name="NVIDIA A100-SXM4-80GB", capacity_bytes=round(79.25 * GIB), total_bytes=round(79.25 * GIB))


def kv_pool_gib(est: Estimate) -> float:
    gpu = est.per_gpu[0]
    return (gpu.bytes_of(SegmentKind.KV_CACHE) + gpu.bytes_of(SegmentKind.KV_RESERVED)) / GIB


def test_flashinfers_sampler_holds_less_than_the_sort() -> None:
    # 0.10.1.1, Qwen2-7B on an A100 at 0.25, "Using FlashInfer for top-p & top-k sampling.": 5.01 GiB of KV
    sort, flashinfer = (
        run("qwen2.5-7b", "0.10.1", A100, context=16384, gpu_memory_utilization=0.25, flashinfer_sampler=on)
        for on in (False, True)
    )
    logits = 256 * 152_064  # max_num_seqs rows of the vocabulary
    assert activation_gib(sort) - activation_gib(flashinfer) == pytest.approx(logits * (38 - 14) / GIB, rel=1e-6)
    assert kv_pool_gib(flashinfer) == pytest.approx(5.01, rel=0.07)
    assert kv_pool_gib(sort) < 0.8 * 5.01  # the sort-based figure was 24 % low
    # V0's sampler takes FlashInfer's only when asked: the setting changes nothing there
    v0 = (run("qwen2.5-7b", "0.8.2-v0", A100, flashinfer_sampler=on) for on in (False, True))
    assert len({activation_gib(e) for e in v0}) == 1


def test_gpus_without_p2p_have_no_all_reduce_buffers() -> None:
    # 0.10.1.1 at tp 2 on A100s, "Custom allreduce is disabled because your platform lacks GPU P2P capability":
    # 12.02 GiB of KV per GPU at 0.25, 31.83 at 0.5 (the profile charged 2.07 GiB of buffers, 24 % low)
    for util, logged in ((0.25, 12.02), (0.5, 31.83)):
        est = run(
            "qwen2.5-7b", "0.10.1", A100, tp=2, context=16384,
            gpu_memory_utilization=util, flashinfer_sampler=True, peer_to_peer=False,
        )  # fmt: skip
        assert kv_pool_gib(est) == pytest.approx(logged, rel=0.025)
    non_torch = next(s for s in est.per_gpu[0].segments if s.title == "Non-torch")
    single = next(s for s in run("qwen2.5-7b", "0.10.1", A100).per_gpu[0].segments if s.title == "Non-torch")
    assert non_torch.bytes == single.bytes and "no GPU P2P" in non_torch.note


def test_flashinfers_sampler_is_asked_for_from_0_12() -> None:
    def command(version: str) -> str:
        settings = EngineSettings(engine_version=version, flashinfer_sampler=True)
        deployment = Deployment(gpus=(H100,), engine=Engine.VLLM, settings=settings)
        return launch_command(load_preset("qwen2.5-7b"), Workload(context=8192), deployment)

    assert command("0.19").startswith("VLLM_USE_FLASHINFER_SAMPLER=1 vllm serve ")
    assert command("0.11").startswith("vllm serve ")  # on by default there, where installed


def test_only_the_last_pipeline_stage_samples() -> None:
    # 0.19, Llama-3.1-8B at pp 2: the first stage's torch peak is 1.10 GiB (1.89 GiB without pipeline parallel;
    # ours 1.03: the buffers beside the forward are the sampling runs' median)
    est = run("llama-3.1-8b", "0.19", pp=2, gpu_memory_utilization=0.95)
    assert activation_gib(est) == pytest.approx(1.10, rel=0.07)
    assert est.per_gpu[1].bytes_of(SegmentKind.ACTIVATIONS) / GIB == pytest.approx(1.89, rel=0.02)


def test_the_moe_workspace_stays_under_the_sampler() -> None:
    # 0.19, DeepSeek-V2-Lite: torch peak 1.93 GiB; the sampler alone would be 1.52
    assert activation_gib(run("deepseek-v2-lite", "0.19", gpu_memory_utilization=0.95)) == pytest.approx(1.93, rel=0.02)


def test_v0_samples_with_the_sort_beside_the_forwards_output() -> None:
    # 0.6.5 (V0) on an H100, Llama-3-8B at 8,192 tokens: "PyTorch activation peak memory takes 1.26GiB". The
    # profile samples 256 rows of 128,256 logits at 38 B each (16-bit logits, their fp32 copy, sorted values
    # and int64 indices, the sort's working set) while execute_model holds the 8,192 x 4,096 bf16 output
    est = run("llama-3.1-8b", "0.6.5-v0", H100.model_copy(update={"total_bytes": round(79.22 * GIB)}))
    peak = est.per_gpu[0].bytes_of(SegmentKind.ACTIVATIONS)
    assert peak == 256 * 128_256 * 38 + 8192 * 4096 * 2
    assert peak / GIB == pytest.approx(1.26, rel=0.03)
    # and Phi-4 (100,352 logits) at 2,048 tokens, in GPTQ: 0.94 GiB logged
    phi4 = Deployment(gpus=(H100,), engine=Engine.VLLM, settings=EngineSettings(engine_version="0.6.5-v0"))
    est = estimate(load_preset("phi-4"), Workload(context=2048, weight_format="gptq-int4"), phi4)
    assert est.per_gpu[0].bytes_of(SegmentKind.ACTIVATIONS) / GIB == pytest.approx(0.94, rel=0.02)


def test_mxfp4_experts_as_the_hopper_triton_kernels_hold_them() -> None:
    # 0.19 on H100s, gpt-oss-20b: "Model loading took 13.64 GiB" at tp 1, 7.01 at tp 2, 3.63 at tp 4
    for tp, logged in ((1, 13.64), (2, 7.01), (4, 3.63)):
        weights = run("gpt-oss-20b", "0.19", tp=tp).per_gpu[0].bytes_of(SegmentKind.WEIGHTS) / GIB
        assert weights == pytest.approx(logged, rel=0.015)
    arch = load_preset("gpt-oss-20b").architecture
    # a layer at tp 4: the intermediate 720 -> 768 (64), the packed w13 1,440 x 1,536 -> 1,472 x 1,536 and
    # w2 384 x 2,880; swizzled scales of 1,536 x 90 and 2,880 -> 3,072 x 24 beside the loaded 3 x 768 x 90;
    # fp32 biases of 2 x 768 + 2,880, over the checkpoint's 3 x 720 x 2,880 x 17/32 and bf16 biases
    held = 1472 * 1536 + 384 * 2880 + 3 * 768 * 90 + 1536 * 90 + 3072 * 24 + (2 * 768 + 2880) * 4
    stored = 3 * 720 * 2880 * 17 // 32 + (2 * 720 + 2880) * 2
    assert mxfp4_padding_bytes(arch, range(1), 4, Mxfp4Kernel.TRITON) == 32 * (held - stored)


@pytest.mark.parametrize(
    ("gpu", "version", "kernel"),
    [("NVIDIA H100 80GB HBM3", "0.19", Mxfp4Kernel.TRITON), ("NVIDIA H100 80GB HBM3", "0.11", Mxfp4Kernel.MARLIN),
     ("NVIDIA A100-SXM4-80GB", "0.19", Mxfp4Kernel.MARLIN), ("NVIDIA B200", "0.19", Mxfp4Kernel.TRTLLM),
     ("NVIDIA GeForce RTX 5090", "0.19", Mxfp4Kernel.MARLIN)],
)  # fmt: skip
def test_the_mxfp4_kernel_by_gpu_and_release(gpu: str, version: str, kernel: Mxfp4Kernel) -> None:
    assert mxfp4_kernel(GpuSpec(name=gpu), vllm_rules(version)) is kernel


def test_mxfp4_experts_padded_for_marlin() -> None:
    # 0.10.1 on A100s, gpt-oss-120b at tp 4: "Model loading took 17.22 GiB" (2,880 -> 3,072 hidden)
    a100 = H100.model_copy(update={"name": "NVIDIA A100-SXM4-80GB"})
    weights = run("gpt-oss-120b", "0.10", a100, tp=4).per_gpu[0].bytes_of(SegmentKind.WEIGHTS) / GIB
    assert weights == pytest.approx(17.22, rel=0.005)
    arch = load_preset("gpt-oss-20b").architecture
    per_layer = mxfp4_padding_bytes(arch, range(1), 1)
    assert per_layer == 32 * ((3 * 2944 * 3072 - 3 * 2880 * 2880) * 17 // 32 + (2 * 64 + 192) * 2)


def test_0_11_leaves_the_nccl_buffers_out() -> None:
    non_torch = {
        version: next(s for s in run("llama-3.1-8b", version, tp=2).per_gpu[0].segments if s.title == "Non-torch")
        for version in ("0.11", "0.19")
    }
    # 0.54-0.55 GiB at tp 2 in llm-d-benchmark's 0.11.0 runs, 2.07 GiB in the 0.19 logs
    assert non_torch["0.11"].bytes / GIB == pytest.approx(0.55, abs=0.01)
    assert non_torch["0.19"].bytes / GIB == pytest.approx(2.07, abs=0.01)


def test_from_0_20_the_graphs_come_out_of_the_budget() -> None:
    est = run("llama-3.1-8b", "0.24")
    gpu = est.per_gpu[0]
    graphs = next(s for s in gpu.segments if s.title == "CUDA graphs").bytes
    fixed = sum(s.bytes for s in gpu.segments if s.kind in (SegmentKind.WEIGHTS, SegmentKind.ACTIVATIONS))
    non_torch = next(s for s in gpu.segments if s.title == "Non-torch").bytes
    expected = -(-(H100.total_bytes or 0) * 92 // 100) - fixed - non_torch - graphs
    assert est.engine_details["kv_pool_bytes"] == pytest.approx(expected, abs=2)


def _gemma4_awq_on_an_a100(version: str, context: int) -> Estimate:
    a100 = find_gpu("nvidia-a100-sxm4-80gb")
    assert a100 is not None
    deployment = Deployment(
        gpus=(a100.spec(),),
        engine=Engine.VLLM,
        settings=EngineSettings(engine_version=version, gpu_memory_utilization=0.9),
    )
    return estimate(load_preset("gemma-4-31b"), Workload(context=context, weight_format="awq-int4"), deployment)


def test_from_0_21_the_token_count_is_concurrency_times_the_longest_request() -> None:
    # vllm#43308, Gemma-4-31B AWQ on an A100 80GB at 0.9: "GPU KV cache size" ~55k tokens on 0.20.0, ~525k on
    # 0.21.0 with the same ~50 GB pool: 0.21 reports max concurrency x max_model_len, where a sliding-window
    # layer holds only its window's blocks (kv_cache_utils._report_kv_cache_config)
    before = _gemma4_awq_on_an_a100("0.20", 131_072).engine_details
    assert before["kv_capacity_tokens"] == pytest.approx(55_000, rel=0.05)
    for context in (131_072, 262_144):  # the report gives no max_model_len: Gemma 4's 128k and 256k
        after = _gemma4_awq_on_an_a100("0.21", context).engine_details
        assert after["kv_pool_bytes"] == before["kv_pool_bytes"]
        assert after["kv_capacity_tokens"] == pytest.approx(525_000, rel=0.15)
        blocks, concurrency = after["num_gpu_blocks"], after["max_concurrency"]
        assert isinstance(blocks, int) and isinstance(concurrency, float)
        assert after["kv_capacity_tokens"] == pytest.approx(concurrency * context, rel=0.005)


def test_from_0_26_a_window_keeps_every_batch_in_flight() -> None:
    # SlidingWindowSpec.max_admission_blocks_per_request: window - 1 + max_in_flight_tokens (two batches of
    # 2,048 with async scheduling at pp 1), where 0.25 kept one
    assert window_tokens_in_flight(vllm_rules("0.25"), 2048, 1) == 2048
    assert window_tokens_in_flight(vllm_rules("0.26"), 2048, 1) == 4096
    assert window_tokens_in_flight(vllm_rules("0.26"), 2048, 4) == 8192
    arch = load_preset("gemma-4-31b").architecture
    pages = KvPages(arch, range(arch.num_layers), 1, KV_DTYPES["bf16"], 16)
    full = pages.full_groups * -(-131_072 // pages.full_block)
    for in_flight in (2048, 4096):
        sliding = pages.sliding_groups * (-(-(1023 + in_flight) // pages.sliding_block) + 1)
        assert pages.blocks_per_request(131_072, in_flight) == full + sliding
    assert (
        _gemma4_awq_on_an_a100("0.26", 131_072).engine_details["max_concurrency"]
        < (
            _gemma4_awq_on_an_a100("0.25", 131_072).engine_details["max_concurrency"]  # type: ignore[operator]
        )
    )


@pytest.mark.parametrize(
    ("preset", "groups", "blocks", "tokens"),
    [  # _get_kv_cache_groups_uniform_page_size and the logged "GPU KV cache size" for a 50 GiB pool
        ("gemma-4-31b", 6, 20_480, 54_608),  # full layers' pages half as wide: 32-token blocks
        ("gpt-oss-120b", 2, 91_022, 728_176),
        ("gpt-oss-20b", 2, 136_533, 1_092_256),
    ],
)
def test_layer_groups_share_one_page_size(preset: str, groups: int, blocks: int, tokens: int) -> None:
    arch = load_preset(preset).architecture
    pages = KvPages(arch, range(arch.num_layers), 1, KV_DTYPES["bf16"], 16)
    assert pages.groups == groups and pages.num_blocks(50 * GIB) == blocks
    assert blocks // groups * pages.tokens_per_block == tokens


def test_little_room_outside_the_budget_is_tight() -> None:
    # 0.19, gpt-oss-20b at tp 2 and 0.95 with 77.18 GiB free: the pool was sized, then the sampler's warm-up
    # ran out of memory after the CUDA graphs; at 0.90 it started
    busy = H100.model_copy(update={"capacity_bytes": round(77.18 * GIB)})
    assert run("gpt-oss-20b", "0.19", busy, tp=2, gpu_memory_utilization=0.95).tight
    assert not run("gpt-oss-20b", "0.19", busy, tp=2, gpu_memory_utilization=0.9).tight


def test_recurrent_layers_take_a_block_of_the_pool() -> None:
    # 0.10.2, Qwen3-Next-80B at tp 2 on an H200: "attention block 544 tokens", 7,162 blocks, 4 groups,
    # "GPU KV cache size: 973,760 tokens" = 7,162 // 4 x 544
    arch = load_preset("qwen3-next-80b-a3b").architecture
    pages = KvPages(arch, range(arch.num_layers), 2, KV_DTYPES["bf16"], 16)
    assert pages.full_block == 544 and pages.groups == 4 and pages.state_bytes == 0
    assert 7_162 // pages.groups * pages.tokens_per_block == 973_760
    assert pages.blocks_per_request(8192, 8192) == 16 + 3  # ceil(8192 / 544) attention blocks, one per state group


def test_nf4_quantized_on_load_has_a_double_quantized_absmax() -> None:
    # 0.8.2 quantizing Phi-4 as it loads (bitsandbytes_loader: compress_statistics=True): "Model loading took
    # 8.6253 GB" on an A100, which holds a rank-16 LoRA slot besides (about 0.12 GiB, not modelled)
    a100 = GpuSpec(name="NVIDIA A100-SXM4-80GB", capacity_bytes=round(79.15 * GIB), total_bytes=round(79.15 * GIB))
    deployment = Deployment(
        gpus=(a100,),
        engine=Engine.VLLM,
        settings=EngineSettings(engine_version="0.8.2-v0", gpu_memory_utilization=0.7, max_num_seqs=320),
    )
    est = estimate(load_preset("phi-4"), Workload(context=512, weight_format="nf4"), deployment)
    assert est.per_gpu[0].bytes_of(SegmentKind.WEIGHTS) / GIB == pytest.approx(8.63 - 0.12, rel=0.01)
    # bitsandbytes' own layout of one 4096 x 4096 matrix: packed values, a uint8 absmax per 64, fp32 per 256 of them
    square = Tensor("blk.0.attn_q.weight", "attn_q", 0, (4096, 4096), Split.COLUMN, Group.LINEAR)
    nested = replace(weight_format("nf4"), nested_absmax=True)
    assert tensor_bytes(nested, square, TensorContext(1, 0, 1)) == 8_388_608 + 262_144 + 1_024 * 4
