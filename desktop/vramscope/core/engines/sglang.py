"""SGLang: mem_fraction_static of the memory free at start holds the weights and a token pool; the rest is
left for activations and CUDA graphs. Sources: python/sglang/srt/model_executor/model_runner.py
(profile_max_num_token: the free memory after loading minus the free memory before it x (1 -
mem_fraction_static), divided by one token's K/V over all layers), mem_cache/memory_pool.py, server_args.py
(the defaults, by release: 0.4.6-0.5.10 sdists and the 0.5.23 wheel); the QwQ-32B log in
reference/engine_logs.json and a DeepSeek-R1-Distill-Qwen-7B log of 0.4.2 (tests/truths/engine_runs.json)."""

import re
from functools import lru_cache

from vramscope.core.architecture import Architecture
from vramscope.core.checkpoints import safetensors_target, with_todo
from vramscope.core.engines.base import (
    Allocation,
    EngineSettingsError,
    GpuPart,
    MeasuredError,
    Request,
    cache_bytes,
    cuda_context,
    draft_segments,
    gib,
    gpu_total,
    model_compute_dtype,
    overhead,
    refuse_metal,
    sequences,
    smallest_rank_note,
    stage_cache,
    stage_weights,
    visible_devices,
    weights_segment,
)
from vramscope.core.engines.vllm import check_tensor_parallel, forward_bytes_per_token, rotary_cache_bytes
from vramscope.core.precision import (
    KV_DTYPES,
    KvDtype,
    WeightFormat,
    context_for,
    local_shape,
    on_last_stage,
    tensor_bytes,
)
from vramscope.core.scenario import Deployment, Engine, EngineSettings, ModelSpec, Workload
from vramscope.core.segments import Provenance, Segment, SegmentKind, segment
from vramscope.core.units import GIB, MIB
from vramscope.core.weights import pipeline_stages

MAX_REQUESTS = 4096  # model_runner.py: the request pool holds min(max(tokens / context x 512, 2048), 4096)
CUDA_GRAPH_BYTES = 930 * MIB  # "cuda graph ... mem usage=0.93 GB" in the QwQ-32B log (L4, tp 4)


NEWEST = (0, 5, 23)
OFFERED = ("0.5.23", "0.5.9", "0.5.2", "0.4.7")  # the newest release of each rule set, for the window
_RELEASE = re.compile(r"^v?(\d{1,3})\.(\d{1,3})(?:\.(\d{1,3}))?[.\w+-]*$", re.ASCII)


def release(text: str | None) -> tuple[int, ...]:
    """'0.5.10.post1' -> (0, 5, 10); None -> the newest modelled."""
    if text is None or not text.strip():
        return NEWEST
    m = _RELEASE.match(text.strip().lower())
    if m is None:
        raise EngineSettingsError(f"unknown SGLang version {text[:40]!r}: give one such as 0.4.6 or 0.5.10")
    return tuple(int(p) for p in m.groups() if p is not None)


def chunked_prefill_size(version: tuple[int, ...], total: int | None) -> int:
    """server_args.py's default by the GPU's memory, by release."""
    gib_ = (total or 0) / GIB
    if total is None:
        return 4096
    if version < (0, 4, 8):
        return 2048 if total < 25_000 * MIB else 8192
    if gib_ >= 160:
        return 16384
    if gib_ >= 60 or (version < (0, 5, 3) and gib_ >= 35):
        return 8192
    if gib_ >= 35 or (version >= (0, 5, 23) and gib_ >= 20):
        return 4096
    return 2048


def cuda_graph_max_bs(version: tuple[int, ...], total: int | None, tp: int) -> int:
    gib_ = (total or 0) / GIB
    wide = tp >= 4
    if total is None:
        return 160
    if version < (0, 5, 3):  # set on small GPUs only, else the runner's 160
        small = total < 25_000 * MIB if version < (0, 4, 8) else gib_ < 35
        return (80 if wide else 8) if small else 160
    if gib_ < 20:
        return 8
    if gib_ < 35:
        narrow = 48 if version >= (0, 5, 23) else 24 if version >= (0, 5, 5) else 16
        return (160 if version >= (0, 5, 23) else 80) if wide else narrow
    if gib_ < 60:
        return 160 if wide else 32
    return 512 if wide or gib_ >= 160 else 256


def piecewise_graph_sizes(max_tokens: int) -> int:
    """How many piecewise CUDA graphs 0.5.10+ captures up to `max_tokens` tokens."""
    sizes = [*range(4, 33, 4), *range(48, 257, 16), *range(288, 513, 32), *range(576, 1025, 64)]
    sizes += [*range(1280, 4097, 256), *range(4608, max_tokens + 1, 512)]
    return sum(1 for t in sizes if t <= max_tokens)


def default_mem_fraction(version: tuple[int, ...], total: int | None, arch: Architecture, tp: int, pp: int) -> float:
    """server_args.py: the fraction SGLang picks when --mem-fraction-static is not given."""
    ranks = tp * pp
    if total is None:
        return 0.95 if version >= (0, 5, 23) else 0.88
    mib = total / MIB
    if version < (0, 4, 8):  # by parallel size on 80 GB-class GPUs and smaller
        if mib > 81_920:
            return round((mib - 13 * 1024) / mib, 3)
        return next((f for width, f in ((16, 0.79), (8, 0.81), (4, 0.85), (2, 0.87)) if ranks >= width), 0.88)
    if version < (0, 5, 3):  # a reserve per GPU size
        reserve = (2.8 + ranks / 10) if mib < 35 * 1024 else (9.5 + ranks / 2) if mib < 90 * 1024 else 12 + ranks / 2
        reserved = (reserve if mib < 160 * 1024 else 32) * 1024
    else:
        chunk = chunked_prefill_size(version, total)
        reserved = 512 + max(chunk, 2048) * 1.5 + cuda_graph_max_bs(version, total, tp) * 2 + ranks / 8 * 1024
        if version >= (0, 5, 10) and pp == 1 and arch.vision is None:  # piecewise CUDA graphs, on by default
            reserved += 1536 if arch.mla is not None else piecewise_graph_sizes(chunk) * 8
        if mib > 60 * 1024:
            reserved = max(reserved, 10 * 1024)
    fraction = round((mib - reserved) / mib, 3)
    if arch.vision is not None and version >= (0, 5, 3):  # adjust_mem_fraction_for_vlm
        v = arch.vision
        scale = 1 - 0.1 * (v.num_layers * v.hidden_size**2 / (24 * 1024**2) - 1)
        fraction = round(fraction * 0.95 * min(max(scale, 0.8), 1.05), 3)
    return fraction


# PyTorch's caching allocator (c10/cuda/CUDACachingAllocator.cpp): a block of kMinLargeAlloc or more gets a
# segment of its own rounded up to kRoundLarge; SGLang reads the free memory after loading from the driver
# (get_available_gpu_memory: empty_cache, then mem_get_info), so that rounding counts as loading's
ROUND_LARGE = 2 * MIB
LOADING_NOTE = "loading's rounding of large parameters (PyTorch's caching allocator) and the fp32 rotary tables"
MIN_LARGE_ALLOC = 10 * MIB
# the parameters SGLang's linear layers fuse (QKVParallelLinear, MergedColumnParallelLinear, FusedMoE's w13)
FUSED = {
    "attn_q": "qkv", "attn_k": "qkv", "attn_v": "qkv",
    "ffn_gate": "gate_up", "ffn_up": "gate_up",
    "ffn_gate_shexp": "gate_up_shexp", "ffn_up_shexp": "gate_up_shexp",
    "ffn_gate_exps": "w13", "ffn_up_exps": "w13",
}  # fmt: skip


def loading_overhead(
    arch: Architecture, fmt: WeightFormat | None, tp: int, layers: range, first: bool, last: bool
) -> int:
    """What SGLang's 'mem usage' of loading holds beyond the tensors: each parameter of 10 MiB or more in its
    own segment, rounded up to 2 MiB, for a 16-bit checkpoint (one tensor per parameter; quantized ones carry
    scales beside, not counted), and the rotary cos/sin tables, kept in fp32 on CUDA (rotary_embedding.py).
    QwQ-32B at tp 4: 0.27 GiB, where the log's 'mem usage' is 0.28 above the tensors; Qwen3-14B at tp 4 0.20
    (0.20); DeepSeek-R1-Distill-Qwen-7B 0.16 (0.21)."""
    tables = rotary_cache_bytes(arch, KV_DTYPES["fp32"]) if first else 0
    if fmt is None or fmt.family != "float":
        return tables
    return tables + _segment_rounding(arch, fmt, tp, layers, first, last)


@lru_cache(maxsize=256)  # a slider step estimates the same stages over and over
def _segment_rounding(arch: Architecture, fmt: WeightFormat, tp: int, layers: range, first: bool, last: bool) -> int:
    ctx = context_for(arch)
    params: dict[tuple[int, str], int] = {}
    for t in arch.tensors():
        if 0 <= t.layer < arch.num_layers:
            here = t.layer in layers
        else:  # embeddings and the vision tower on the first stage
            here = last if on_last_stage(t, arch.num_layers) else first
        if not here:
            continue
        local = t._replace(shape=local_shape(t, arch, tp)) if tp > 1 else t
        key = (t.layer, FUSED.get(t.role, t.role))
        params[key] = params.get(key, 0) + tensor_bytes(fmt, local, ctx)
    return sum(-size % ROUND_LARGE for size in params.values() if size >= MIN_LARGE_ALLOC)


class SGLangProfile:
    engine = Engine.SGLANG
    label = "SGLang"
    # tests/truths/accuracy.py: the token pool's largest miss, as a share of the GPU, over the two SGLang logs
    # with their figures: 0.2 % since loading's rounding is modelled (1.4 % before); kept at 1.4 % for so few
    measured = MeasuredError(
        0.014, "the token pool's miss on 2 SGLang logs (0.4.2, 0.4.3): 0.2 %, kept at 1.4 % for so few"
    )

    def measured_error(self, settings: EngineSettings) -> MeasuredError:
        return self.measured

    def max_sequences(self, deployment: Deployment) -> int | None:
        return MAX_REQUESTS

    def weight_families(self, settings: EngineSettings | None = None) -> tuple[str, ...]:
        return ("float", "fp8", "fp8-block", "gptq", "awq", "mxfp4", "nvfp4", "int4")

    def kv_dtypes(self) -> tuple[str, ...]:
        return ("bf16", "fp16", "fp8")  # --kv-cache-dtype auto | fp8_e4m3 | fp8_e5m2

    def default_kv_dtype(self, model: ModelSpec, weights: str) -> KvDtype:
        return model_compute_dtype(model, weights)

    def check(self, model: ModelSpec, workload: Workload, deployment: Deployment) -> None:
        check_tensor_parallel(model.architecture, deployment.tensor_parallel)
        refuse_metal(self.label, deployment)
        release(deployment.settings.engine_version)

    def allocate(self, request: Request) -> Allocation:
        arch, deployment, workload = request.arch, request.deployment, request.workload
        tp, pp = deployment.tensor_parallel, deployment.pipeline_parallel
        version = release(request.settings.engine_version)
        total0 = gpu_total(deployment.gpu(0))
        fraction = request.settings.mem_fraction_static or default_mem_fraction(version, total0, arch, tp, pp)
        layout = request.layout(tp)
        parts: list[GpuPart] = []
        pools: list[tuple[int, int]] = []  # (tokens, bytes per token)
        ranks: list[tuple[int, int, str]] = []  # (tokens, rank, GPU name)
        draft = request.draft(tp)
        for s, layers in enumerate(pipeline_stages(arch.num_layers, pp)):
            cache = stage_cache(arch, layers, tp)
            elements = cache.full + cache.sliding  # SWA layers get full pools too
            weights, experts = stage_weights(layout, layers, s == 0, s == pp - 1)
            loading = loading_overhead(arch, request.plan.fmt, tp, layers, s == 0, s == pp - 1)
            held = (overhead(loading, LOADING_NOTE, "Loading", Provenance.FORMULA),) if loading else ()
            extra: tuple[Segment, ...] = ()
            if draft is not None and s == 0:  # the draft's layers take slots in the same token pool
                elements += draft.cache_per_token
                extra = draft_segments(draft, 0, request.kv)[:1]  # its cache is in the pool
            per_token = cache_bytes(elements, request.kv)
            need = per_token * workload.context * workload.batch
            for r in range(tp):
                gpu = deployment.gpu(s * tp + r)
                total = gpu_total(gpu)
                chunk = chunked_prefill_size(version, total)
                context = cuda_context(gpu)
                peak = segment(
                    SegmentKind.ACTIVATIONS,
                    chunk * forward_bytes_per_token(arch, tp),
                    Provenance.FORMULA,
                    f"estimate: one {chunk:,}-token prefill chunk (MLP intermediates, hidden states)",
                )
                after = (peak, context, overhead(CUDA_GRAPH_BYTES, "captured CUDA graphs, measured", "CUDA graphs"))
                if total is None or gpu is None or gpu.capacity_bytes is None:
                    kv = segment(
                        SegmentKind.KV_CACHE,
                        need,
                        Provenance.EXACT,
                        f"{workload.batch:,} x {workload.context:,} tokens",
                    )
                    parts.append(
                        GpuPart(s, (weights_segment(request.plan, weights), *held, *extra, kv, *after), experts)
                    )
                    continue
                before = gpu.capacity_bytes - context.bytes  # free when the weights start to load
                after_weights = before - weights - loading - sum(e.bytes for e in extra)
                rest = after_weights - round(before * (1 - fraction))
                tokens = max(rest // per_token, 0) if per_token else 0
                pools.append((tokens, per_token))
                ranks.append((tokens, s * tp + r, gpu.name))
                pool = tokens * per_token
                used = min(need, pool)
                note = (
                    f"token pool of {tokens:,} tokens: mem_fraction_static {fraction:g} of the {gib(before)} free "
                    f"before loading, minus weights (SGLang {'.'.join(map(str, version))})"
                )
                segments = (
                    weights_segment(request.plan, weights),
                    *held,
                    *extra,
                    segment(
                        SegmentKind.KV_CACHE,
                        used,
                        Provenance.FORMULA,
                        f"{workload.batch:,} x {workload.context:,} tokens",
                    ),
                    segment(SegmentKind.KV_RESERVED, pool - used, Provenance.FORMULA, note),
                    *after,
                )
                parts.append(GpuPart(s, segments, experts))
        if not pools:
            return Allocation(tuple(parts))
        tokens = min(t for t, _ in pools)
        details: dict[str, int | float | str | None] = {
            "kv_pool_bytes": min(t * b for t, b in pools),
            "kv_capacity_tokens": tokens,
            "max_concurrency": round(tokens / workload.context, 2),
            "mem_fraction_static": fraction,
            "engine_version": ".".join(map(str, version)),
            "kv_needed_bytes": max(b for _, b in pools) * workload.context * workload.batch,
        }
        concurrent = tokens // workload.context
        slack = (tokens - workload.context * workload.batch) * min(b for _, b in pools)
        bounded = smallest_rank_note("SGLang", ranks, "tokens")
        if tokens <= 0:
            return Allocation(
                tuple(parts),
                details=details,
                refusal="Not enough memory. Please try to increase --mem-fraction-static.",
                pool_slack=slack,
                warnings=bounded,
            )
        requests = min(max(tokens * 512 // workload.context, 2048), MAX_REQUESTS)
        if requests < workload.batch <= concurrent:
            return Allocation(
                tuple(parts),
                details=details,
                pool_slack=slack,
                warnings=bounded,
                shortfall=f"SGLang starts, but its request pool runs at most {requests:,} requests at once, "
                f"not {workload.batch:,}",
            )
        if concurrent < workload.batch:
            return Allocation(
                tuple(parts),
                details=details,
                pool_slack=slack,
                warnings=bounded,
                shortfall=(
                    f"SGLang starts, but its token pool ({tokens:,} tokens) holds "
                    f"{sequences(concurrent, workload.context)}, not {workload.batch:,}"
                ),
            )
        return Allocation(
            tuple(parts),
            details=details,
            pool_slack=slack,
            warnings=bounded,
            verdict=(f"SGLang starts; its pool of {tokens:,} tokens holds {sequences(concurrent, workload.context)}"),
        )

    def launch_command(self, request: Request) -> str:
        model, deployment, settings = request.model, request.deployment, request.settings
        target = safetensors_target(model, request.plan.name, Engine.SGLANG)
        args = [
            f"{visible_devices(deployment)}python -m sglang.launch_server --model-path {target.quoted}",
            f"--context-length {request.workload.context}",
        ]
        if target.flag:
            args.append(target.flag)
        if settings.mem_fraction_static:
            args.append(f"--mem-fraction-static {settings.mem_fraction_static:g}")
        # full option names: argparse takes a prefix only while it is unique (0.5.23: --pp also starts
        # --pp-max-micro-batch-size), so the short forms break as options are added
        dp, tp = request.data_parallel, deployment.tensor_parallel
        if dp > 1 and request.arch.moe is not None:  # DP attention: attention per replica, the MoE over all ranks
            args.append(f"--tp-size {tp * dp} --dp-size {dp} --enable-dp-attention")
        elif dp > 1:  # replicas behind SGLang's router
            args.append(f"--dp-size {dp}" + (f" --tp-size {tp}" if tp > 1 else ""))
        elif tp > 1:
            args.append(f"--tp-size {tp}")
        if request.expert_parallel:
            args.append(f"--ep-size {deployment.tensor_parallel * dp}")
        if deployment.pipeline_parallel > 1:
            args.append(f"--pp-size {deployment.pipeline_parallel}")
        if request.kv.name == "fp8":
            args.append("--kv-cache-dtype fp8_e4m3")
        if request.nodes > 1:
            args.append(f"--nnodes {request.nodes} --node-rank 0 --dist-init-addr <head-ip>:5000")
        others = "on node k of the others: the same command with --node-rank k, <head-ip> being this node's address"
        return with_todo(" ".join(args), target, also=others if request.nodes > 1 else "")
