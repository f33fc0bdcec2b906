"""vLLM (V1 engine): a budget of gpu_memory_utilization x total memory, out of which the weights, the
profile run's activation peak and non-torch memory are taken; the rest becomes a paged KV pool.

Sources: vllm/v1/worker/gpu_worker.py (determine_available_memory), vllm/v1/core/kv_cache_utils.py
(get_num_blocks, groups of layers, _check_enough_kv_cache_memory), vllm/v1/kv_cache_interface.py (page
sizes, sliding-window usage), vllm/engine/arg_utils.py (get_batch_defaults); figures in
reference/engine_logs.json (v0.19 on H100)."""

from math import ceil

from vramscope.core.architecture import Architecture
from vramscope.core.engines.base import (
    Allocation,
    EngineSettingsError,
    GpuPart,
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
from vramscope.core.precision import KvDtype
from vramscope.core.scenario import Deployment, Engine, GpuSpec, ModelSpec, Workload
from vramscope.core.segments import Provenance, Segment, SegmentKind, segment
from vramscope.core.units import GIB, MIB
from vramscope.core.weights import pipeline_stages

VOCAB_PADDING = 64  # vocab_parallel_embedding.py DEFAULT_VOCAB_PADDING_SIZE
LARGE_GPU_BYTES = 70 * GIB  # arg_utils.get_batch_defaults: larger defaults from 70 GiB (A100 excluded)
# Profile-run activation peak, fitted to the v0.19 H100 logs (reference/engine_logs.json): the dummy sampler
# over max_num_seqs rows of fp32 logits costs ~14 B per row and vocabulary entry (Llama-3.1-8B 1.89 GiB,
# Qwen3-8B 2.21, Gemma-2-9B 3.65, gpt-oss-20b 2.87 GiB), on top of ~160 MiB of persistent buffers.
SAMPLER_BYTES_PER_LOGIT = 14
PROFILE_BASE_BYTES = 160 * MIB
NON_TORCH_BYTES = {1: 256 * MIB, 2: 2120 * MIB}  # "non-torch forward increase": 0.25 GiB at tp 1, 2.07-2.17 GiB
# (NCCL and custom all-reduce buffers) at tp >= 2 in the same logs
# tests/truths/accuracy.py: the KV pool's largest miss over every vLLM log, as a share of the GPU. The
# profile is vLLM 0.19's (largest miss 1.1 %, Llama-4-Scout tp 4); earlier versions profile differently
# (0.6.4: 7.0 %, 0.7.2: 13.0 %, prefill without chunking), and a user's version is not known
VLLM_MEASURED_ERROR = 0.131
VLLM_ERROR_BASIS = "the KV pool's largest miss over 17 vLLM logs, 0.6 to 0.19; 1.1 % on 0.19 alone"
CUDA_GRAPH_BYTES = 930 * MIB  # captured graphs: 0.87-1.09 GiB at tp 1, 0.76-1.57 GiB beyond (same logs)


def batch_defaults(gpu: GpuSpec | None) -> tuple[int, int]:
    """(max_num_batched_tokens, max_num_seqs) that `vllm serve` picks for this GPU."""
    total = gpu_total(gpu) or 0
    if total >= LARGE_GPU_BYTES and gpu is not None and "a100" not in gpu.name.lower():
        return 8192, 1024
    return 2048, 256


def vocab_padding_bytes(arch: Architecture, tp: int, element_bytes: int) -> int:
    """Extra rows of the embedding (and an untied head) once the vocabulary is padded to 64 per rank."""
    padded = ceil(arch.vocab_size / VOCAB_PADDING) * VOCAB_PADDING
    extra = ceil((padded - arch.vocab_size) / tp) * arch.hidden_size * element_bytes
    return extra * (1 if arch.tie_word_embeddings else 2)


def rotary_cache_bytes(arch: Architecture, dtype: KvDtype) -> int:
    """The cos/sin table vLLM builds once for max_position_embeddings (counted in 'Model loading took')."""
    if arch.learned_positions:
        return 0
    rotary_dim = arch.mla.qk_rope_head_dim if arch.mla is not None else arch.head_dim
    return cache_bytes(arch.max_context * rotary_dim, dtype)


class KvPages:
    """vLLM's paging of one rank's attention layers: layers grouped by kind, one block table per group."""

    def __init__(
        self, arch: Architecture, layers: range, tp: int, kv: KvDtype, block_size: int, draft_per_token: int = 0
    ) -> None:
        cache = stage_cache(arch, layers, tp)
        counts = [c for c in (cache.full_layers, cache.sliding_layers) if c]
        self.group_size = min(counts) if counts else 0  # _get_kv_cache_groups_uniform_page_size
        self.full_groups = ceil(cache.full_layers / self.group_size) if cache.full_layers else 0
        self.sliding_groups = ceil(cache.sliding_layers / self.group_size) if cache.sliding_layers else 0
        per_layer = max(  # one page size for all groups: the larger layer kind's
            cache.full // max(1, cache.full_layers), cache.sliding // max(1, cache.sliding_layers)
        )
        self.page_bytes = cache_bytes(block_size * per_layer, kv)
        # A draft model's layers join the cache spec as full attention: counted with every block (approximate
        # when the target has several layer groups)
        self.draft_block_bytes = cache_bytes(block_size * draft_per_token, kv) // max(1, self.groups)
        self.block_size = block_size
        self.window = arch.sliding_window or 0
        self.state_bytes = cache.state * 2  # Mamba state at the model dtype, one per running sequence
        if arch.compressed is not None:
            # DeepSeek-V4 (no vLLM log measured): the compressed history in blocks of every layer, the windows
            # and compressor buffers once per sequence, as transformers holds them
            self.group_size, self.full_groups, self.sliding_groups = 1, 1, 0
            self.page_bytes = cache_bytes(block_size * cache.full, kv)
            self.state_bytes += cache_bytes(cache.sliding * self.window, kv)

    @property
    def groups(self) -> int:
        return self.full_groups + self.sliding_groups

    @property
    def block_bytes(self) -> int:
        """One block of every layer of a group: the unit the pool is counted in."""
        return self.page_bytes * self.group_size + self.draft_block_bytes

    def num_blocks(self, pool: int) -> int:
        """get_num_blocks: the pool in blocks of every layer of a group."""
        return pool // self.block_bytes if self.block_bytes and pool > 0 else 0

    def blocks_per_request(self, tokens: int, batched_tokens: int) -> int:
        full = ceil(tokens / self.block_size)
        # SlidingWindowSpec.max_memory_usage_bytes: window - 1 + one scheduled chunk, plus a block
        sliding = ceil(min(self.window - 1 + batched_tokens, tokens) / self.block_size) + 1
        return self.full_groups * full + self.sliding_groups * sliding

    def request_bytes(self, tokens: int, batched_tokens: int) -> int:
        return self.blocks_per_request(tokens, batched_tokens) * self.block_bytes + self.state_bytes


class VllmProfile:
    engine = Engine.VLLM
    label = "vLLM"
    measured_error = VLLM_MEASURED_ERROR
    error_basis = VLLM_ERROR_BASIS

    def max_sequences(self, deployment: Deployment) -> int | None:
        """--max-num-seqs when set; else none of its own: the launch command raises it to the batch."""
        return deployment.settings.max_num_seqs

    def weight_families(self) -> tuple[str, ...]:
        return ("float", "fp8", "fp8-block", "gptq", "awq", "nf4", "mxfp4", "nvfp4", "int4")

    def kv_dtypes(self) -> tuple[str, ...]:
        return ("bf16", "fp16", "fp8")  # CacheDType: auto, fp8 (= e4m3), fp8_e5m2 …

    def default_kv_dtype(self, model: ModelSpec, weights: str) -> KvDtype:
        return model_compute_dtype(model, weights)

    def check(self, model: ModelSpec, workload: Workload, deployment: Deployment) -> None:
        check_tensor_parallel(model.architecture, deployment.tensor_parallel)
        refuse_metal(self.label, deployment)
        default_tokens, default_seqs = batch_defaults(deployment.gpu(0))
        tokens = deployment.settings.max_num_batched_tokens or default_tokens
        seqs = deployment.settings.max_num_seqs or default_seqs
        if tokens < seqs:  # config/scheduler.py SchedulerConfig._verify_args
            raise EngineSettingsError(
                f"max_num_batched_tokens ({tokens}) must be greater than or equal to max_num_seqs ({seqs})."
            )

    def allocate(self, request: Request) -> Allocation:
        arch, deployment, workload, settings = request.arch, request.deployment, request.workload, request.settings
        tp, pp = deployment.tensor_parallel, deployment.pipeline_parallel
        context, batch = workload.context, workload.batch
        default_tokens, default_seqs = batch_defaults(deployment.gpu(0))
        batched = settings.max_num_batched_tokens or default_tokens
        seqs = settings.max_num_seqs or default_seqs
        layout = request.layout(tp)
        compute = model_compute_dtype(request.model, request.plan.name)
        extra = rotary_cache_bytes(arch, compute)
        if request.plan.fmt is not None and request.plan.fmt.family == "float":
            extra += vocab_padding_bytes(arch, tp, request.plan.fmt.element_bytes)
        peak = _profile_peak(arch, tp, batched, seqs)
        non_torch = NON_TORCH_BYTES[min(tp, 2)]
        non_torch_note = "non-torch memory of the forward pass (NCCL, all-reduce buffers at tp > 1)"
        graphs = _cuda_graphs()
        measured = settings.calibration
        if measured is not None:  # figures this machine's own log gave, in place of the fitted ones
            where = f"measured: {measured.source}"
            if measured.activation_bytes is not None:
                peak = segment(
                    SegmentKind.ACTIVATIONS, measured.activation_bytes, Provenance.EMPIRICAL, where, "Activation peak"
                )
            if measured.non_torch_bytes is not None:
                non_torch, non_torch_note = measured.non_torch_bytes, where
            if measured.cuda_graph_bytes is not None:
                graphs = overhead(measured.cuda_graph_bytes, where, "CUDA graphs")
        parts: list[GpuPart] = []
        pools: list[tuple[int, KvPages, int, str]] = []  # (pool, pages, rank, GPU name)
        needed = 0  # the workload's KV cache on the rank that needs the most
        refusal = ""
        draft = request.draft(tp)
        for s, layers in enumerate(pipeline_stages(arch.num_layers, pp)):
            with_draft = draft is not None and s == pp - 1  # the draft runs beside the last stage
            draft_tokens = draft.cache_per_token if draft is not None and with_draft else 0
            pages = KvPages(arch, layers, tp, request.kv, settings.block_size, draft_tokens)
            weights, experts = stage_weights(layout, layers, s == 0, s == pp - 1)
            weights += extra
            for r in range(tp):
                gpu = deployment.gpu(s * tp + r)
                total = gpu_total(gpu)
                fixed = (
                    weights_segment(request.plan, weights, " + rotary cos/sin cache" if extra else ""),
                    *(draft_segments(draft, 0, request.kv)[:1] if draft is not None and with_draft else ()),
                    peak,
                    overhead(non_torch, non_torch_note, "Non-torch"),
                )
                need = pages.request_bytes(context, batched) * batch
                needed = max(needed, need)
                after = (cuda_context(gpu),) + (() if settings.enforce_eager else (graphs,))
                if total is None:
                    kv = segment(SegmentKind.KV_CACHE, need, Provenance.FORMULA, _kv_note(pages, context, batch))
                    parts.append(GpuPart(s, (*_weights_first(fixed, (kv,)), *after), experts))
                    continue
                budget = ceil(total * settings.gpu_memory_utilization)
                pool = budget - sum(seg.bytes for seg in fixed)
                pools.append((pool, pages, s * tp + r, gpu.name if gpu is not None else f"GPU {s * tp + r}"))
                used = min(need, max(pool, 0))
                kv = segment(SegmentKind.KV_CACHE, used, Provenance.FORMULA, _kv_note(pages, context, batch))
                free = segment(
                    SegmentKind.KV_RESERVED,
                    max(pool - used, 0),
                    Provenance.FORMULA,
                    f"the rest of the KV pool: {settings.gpu_memory_utilization:g} x {gib(total)} budget "
                    "minus weights, activation peak and non-torch memory",
                )
                parts.append(GpuPart(s, (*_weights_first(fixed, (kv, free)), *after), experts))
                free_memory = gpu.capacity_bytes if gpu is not None else None
                if not refusal and free_memory is not None and free_memory < budget + after[0].bytes:
                    refusal = (
                        f"Free memory on device ({gib(free_memory - after[0].bytes)}/{gib(total)}) on startup is "
                        f"less than desired GPU memory utilization ({settings.gpu_memory_utilization:g}, "
                        f"{gib(budget)}). Decrease GPU memory utilization or reduce GPU memory used by other "
                        "processes."
                    )
        outcome = _outcome(tuple(parts), pools, context, batch, batched, refusal, settings.max_num_seqs)
        return outcome._replace(details={**outcome.details, "kv_needed_bytes": needed})

    def launch_command(self, request: Request) -> str:
        model, deployment, settings = request.model, request.deployment, request.settings
        args = [f"vllm serve {model.hf_id or model.source_detail or model.name}"]
        args.append(f"--max-model-len {request.workload.context}")
        args.append(f"--gpu-memory-utilization {settings.gpu_memory_utilization:g}")
        if deployment.tensor_parallel > 1:
            args.append(f"--tensor-parallel-size {deployment.tensor_parallel}")
        if deployment.pipeline_parallel > 1:
            args.append(f"--pipeline-parallel-size {deployment.pipeline_parallel}")
        if request.workload.kv_dtype == "fp8":
            args.append("--kv-cache-dtype fp8")
        quantization = {"fp8": "fp8", "fp8-block": "fp8", "nf4": "bitsandbytes", "int8": "bitsandbytes"}
        if request.plan.name in quantization and request.plan.name != request.model.native_format:
            args.append(f"--quantization {quantization[request.plan.name]}")
        if request.workload.batch > 1 or settings.max_num_seqs:
            args.append(f"--max-num-seqs {settings.max_num_seqs or max(request.workload.batch, 1)}")
        if settings.max_num_batched_tokens:
            args.append(f"--max-num-batched-tokens {settings.max_num_batched_tokens}")
        if settings.block_size != 16:
            args.append(f"--block-size {settings.block_size}")
        if settings.enforce_eager:
            args.append("--enforce-eager")
        if deployment.draft is not None:
            draft = deployment.draft.hf_id or deployment.draft.name
            args.append(f'--speculative-config \'{{"model": "{draft}", "num_speculative_tokens": 5}}\'')
        return " ".join(args)


def check_tensor_parallel(arch: Architecture, tp: int) -> None:
    """vLLM's own refusals (config/model.py verify_with_parallel_config, QKVParallelLinear)."""
    if arch.num_attention_heads % tp:
        raise EngineSettingsError(
            f"Total number of attention heads ({arch.num_attention_heads}) must be divisible by tensor "
            f"parallel size ({tp})."
        )
    kv = arch.num_kv_heads
    if arch.mla is None and kv % tp and tp % kv:
        raise EngineSettingsError(
            f"Total number of KV heads ({kv}) and tensor parallel size ({tp}) must divide one another."
        )


def _profile_peak(arch: Architecture, tp: int, batched_tokens: int, seqs: int) -> Segment:
    """The profile run's torch peak: the larger of the forward over max_num_batched_tokens and the dummy
    sampler over max_num_seqs rows of logits, over persistent buffers."""
    forward = batched_tokens * forward_bytes_per_token(arch, tp)
    sampler = min(seqs, batched_tokens) * arch.vocab_size * SAMPLER_BYTES_PER_LOGIT
    note = (
        f"profile-run peak: forward over {batched_tokens:,} batched tokens or the sampler over "
        f"{min(seqs, batched_tokens):,} sequences, fitted to vLLM 0.19 logs"
    )
    encoder = 0
    if arch.vision is not None:  # the profile run also encodes a budget's worth of dummy images
        images = max(1, batched_tokens // arch.vision.image_tokens)
        encoder = arch.vision.encoder_peak_bytes(images)
        note += f", or the vision encoder over {images} images (encoder cache budget)"
    return segment(
        SegmentKind.ACTIVATIONS,
        PROFILE_BASE_BYTES + max(forward, sampler, encoder),
        Provenance.EMPIRICAL,
        note,
        "Activation peak",
    )


def forward_bytes_per_token(arch: Architecture, tp: int) -> int:
    """16-bit intermediates one token holds at the forward's peak: the MLP's gate/up and activation outputs,
    or fused MoE's three caches per chosen expert (gate/up, activation, down: fused_moe.py), plus hidden
    states and residuals."""
    h = arch.hidden_size
    if arch.moe is None:
        mlp = 3 * ceil(max(arch.intermediate_per_layer, default=arch.intermediate_size) / tp)
    else:
        moe = arch.moe
        mlp = moe.experts_per_token * (3 * ceil(moe.expert_intermediate_size / tp) + h)
        mlp += 3 * ceil(moe.shared_intermediate_size / tp)
    return (mlp + 4 * h) * 2


def _weights_first(fixed: tuple[Segment, ...], cache: tuple[Segment, ...]) -> tuple[Segment, ...]:
    weights = tuple(s for s in fixed if s.kind is SegmentKind.WEIGHTS)
    return weights + cache + tuple(s for s in fixed if s.kind is not SegmentKind.WEIGHTS)


def _cuda_graphs() -> Segment:
    return overhead(
        CUDA_GRAPH_BYTES, "captured CUDA graphs, measured 0.8-1.1 GiB (off with --enforce-eager)", "CUDA graphs"
    )


def _kv_note(pages: KvPages, context: int, batch: int) -> str:
    return f"{batch:,} x {context:,} tokens in {pages.block_size}-token blocks" + (
        f" ({pages.groups} layer groups)" if pages.groups > 1 else ""
    )


def _outcome(
    parts: tuple[GpuPart, ...],
    pools: list[tuple[int, KvPages, int, str]],
    context: int,
    batch: int,
    batched: int,
    refusal: str,
    max_num_seqs: int | None,
) -> Allocation:
    """vLLM's verdict: the smallest rank's pool decides the blocks every rank gets."""
    if not pools:
        return Allocation(parts, details={"max_num_batched_tokens": batched})
    pool, pages, _, _ = min(pools, key=lambda p: p[1].num_blocks(p[0]) if p[1].block_bytes else p[0])
    bounded = smallest_rank_note("vLLM", [(p[1].num_blocks(p[0]), p[2], p[3]) for p in pools], "KV blocks")
    blocks = pages.num_blocks(pool)
    per_request = pages.blocks_per_request(context, batched)
    details: dict[str, int | float | str | None] = {
        "kv_pool_bytes": pool,
        "num_gpu_blocks": blocks,
        "kv_capacity_tokens": blocks // max(1, pages.groups) * pages.block_size if pages.groups else None,
        "max_concurrency": round(blocks / per_request, 2) if per_request else None,
        "max_num_batched_tokens": batched,
        "block_size": pages.block_size,
    }
    if not refusal and pool <= 0:
        refusal = (
            "No available memory for the cache blocks. Try increasing `gpu_memory_utilization` when initializing "
            "the engine."
        )
    elif not refusal and per_request and blocks < per_request:
        longest = _longest_request(pages, blocks, context, batched)
        refusal = (
            f"To serve at least one request with the models's max seq len ({context}), "
            f"({gib(pages.request_bytes(context, batched))} KV cache is needed, which is larger than the available "
            f"KV cache memory ({gib(pool)}). Based on the available memory, the estimated maximum model length is "
            f"{longest}. Try increasing `gpu_memory_utilization` or decreasing `max_model_len` when initializing "
            "the engine."
        )
    slack = (blocks - per_request * batch) * pages.block_bytes if per_request else None
    concurrent = blocks // per_request if per_request else batch
    shortfall = verdict = ""
    if not refusal and max_num_seqs is not None and max_num_seqs < min(batch, concurrent):
        shortfall = (
            f"vLLM starts, but runs at most {max_num_seqs:,} sequences at once (--max-num-seqs), "
            f"not {batch:,}: the rest wait in the queue"
        )
    elif not refusal and concurrent < batch:
        shortfall = (
            f"vLLM starts, but its KV pool holds {sequences(concurrent, context)}, "
            f"not {batch:,}: the rest wait in the queue"
        )
    elif not refusal:
        verdict = f"vLLM starts; {sequences(concurrent, context)} fit its KV pool"
    return Allocation(
        parts,
        details=details,
        refusal=refusal,
        shortfall=shortfall,
        verdict=verdict,
        pool_slack=slack,
        warnings=bounded,
    )


def _longest_request(pages: KvPages, blocks: int, context: int, batched: int) -> int:
    lo, hi = 0, context
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if pages.blocks_per_request(mid, batched) <= blocks:
            lo = mid
        else:
            hi = mid - 1
    return lo
