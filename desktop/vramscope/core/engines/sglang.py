"""SGLang: mem_fraction_static of the GPU's memory holds the weights and a token pool; the rest is left for
activations and CUDA graphs. Sources: python/sglang/srt/model_executor/model_runner.py (profile_max_num_token:
the free memory after loading minus total x (1 - mem_fraction_static), divided by one token's K/V over
all layers), mem_cache/memory_pool.py, server_args.py (defaults); the QwQ-32B log in
reference/engine_logs.json."""

from vramscope.core.engines.base import (
    Allocation,
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
    weights_segment,
)
from vramscope.core.engines.vllm import check_tensor_parallel, forward_bytes_per_token
from vramscope.core.precision import KvDtype
from vramscope.core.scenario import Deployment, Engine, EngineSettings, ModelSpec, Workload
from vramscope.core.segments import Provenance, Segment, SegmentKind, segment
from vramscope.core.units import GIB, MIB
from vramscope.core.weights import pipeline_stages

MAX_REQUESTS = 4096  # model_runner.py: the request pool holds min(max(tokens / context x 512, 2048), 4096)
CUDA_GRAPH_BYTES = 930 * MIB  # "cuda graph ... mem usage=0.93 GB" in the QwQ-32B log (L4, tp 4)


def default_mem_fraction(tp: int) -> float:
    """server_args.py before GPU-size-based defaults: less for the larger all-reduce buffers of wide tp."""
    for width, fraction in ((16, 0.79), (8, 0.81), (4, 0.85), (2, 0.87)):
        if tp >= width:
            return fraction
    return 0.88


def chunked_prefill_size(total: int | None) -> int:
    """server_args.py: 2048 on small GPUs, 8192 on 80 GB-class ones."""
    if total is None or total < 35 * GIB:
        return 2048
    return 8192 if total >= 70 * GIB else 4096


class SGLangProfile:
    engine = Engine.SGLANG
    label = "SGLang"
    measured = MeasuredError(
        0.01, "the token pool's miss on the one SGLang log (QwQ-32B on 4 x L4, 0.4.3)"
    )  # tests/truths/accuracy.py: 0.99 % of the GPU, the token pool's miss

    def measured_error(self, settings: EngineSettings) -> MeasuredError:
        return self.measured

    def max_sequences(self, deployment: Deployment) -> int | None:
        return MAX_REQUESTS

    def weight_families(self) -> tuple[str, ...]:
        return ("float", "fp8", "fp8-block", "gptq", "awq", "mxfp4", "nvfp4", "int4")

    def kv_dtypes(self) -> tuple[str, ...]:
        return ("bf16", "fp16", "fp8")  # --kv-cache-dtype auto | fp8_e4m3 | fp8_e5m2

    def default_kv_dtype(self, model: ModelSpec, weights: str) -> KvDtype:
        return model_compute_dtype(model, weights)

    def check(self, model: ModelSpec, workload: Workload, deployment: Deployment) -> None:
        check_tensor_parallel(model.architecture, deployment.tensor_parallel)
        refuse_metal(self.label, deployment)

    def allocate(self, request: Request) -> Allocation:
        arch, deployment, workload = request.arch, request.deployment, request.workload
        tp, pp = deployment.tensor_parallel, deployment.pipeline_parallel
        fraction = request.settings.mem_fraction_static or default_mem_fraction(tp)
        layout = request.layout(tp)
        parts: list[GpuPart] = []
        pools: list[tuple[int, int]] = []  # (tokens, bytes per token)
        ranks: list[tuple[int, int, str]] = []  # (tokens, rank, GPU name)
        draft = request.draft(tp)
        for s, layers in enumerate(pipeline_stages(arch.num_layers, pp)):
            cache = stage_cache(arch, layers, tp)
            elements = cache.full + cache.sliding  # SWA layers get full pools too
            weights, experts = stage_weights(layout, layers, s == 0, s == pp - 1)
            extra: tuple[Segment, ...] = ()
            if draft is not None and s == 0:  # the draft's layers take slots in the same token pool
                elements += draft.cache_per_token
                extra = draft_segments(draft, 0, request.kv)[:1]  # its cache is in the pool
            per_token = cache_bytes(elements, request.kv)
            need = per_token * workload.context * workload.batch
            for r in range(tp):
                gpu = deployment.gpu(s * tp + r)
                total = gpu_total(gpu)
                chunk = chunked_prefill_size(total)
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
                    parts.append(GpuPart(s, (weights_segment(request.plan, weights), *extra, kv, *after), experts))
                    continue
                after_weights = gpu.capacity_bytes - context.bytes - weights - sum(e.bytes for e in extra)
                rest = after_weights - round(total * (1 - fraction))
                tokens = max(rest // per_token, 0) if per_token else 0
                pools.append((tokens, per_token))
                ranks.append((tokens, s * tp + r, gpu.name))
                pool = tokens * per_token
                used = min(need, pool)
                note = f"token pool of {tokens:,} tokens: mem_fraction_static {fraction:g} x {gib(total)} minus weights"
                segments = (
                    weights_segment(request.plan, weights),
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
        args = [
            f"python -m sglang.launch_server --model-path {model.hf_id or model.source_detail or model.name}",
            f"--context-length {request.workload.context}",
        ]
        if settings.mem_fraction_static:
            args.append(f"--mem-fraction-static {settings.mem_fraction_static:g}")
        if deployment.tensor_parallel > 1:
            args.append(f"--tp {deployment.tensor_parallel}")
        if deployment.pipeline_parallel > 1:
            args.append(f"--pp {deployment.pipeline_parallel}")
        if request.kv.name == "fp8":
            args.append("--kv-cache-dtype fp8_e4m3")
        return " ".join(args)
