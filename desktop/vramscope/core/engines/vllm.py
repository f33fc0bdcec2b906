"""vLLM: a budget of gpu_memory_utilization x total memory, out of which the weights, the profile run's
activation peak and non-torch memory (and from 0.20 the CUDA graphs) are taken; the rest becomes a paged
KV pool. What differs by release is in vllm_versions.py.

Sources: vllm/v1/worker/gpu_worker.py (determine_available_memory), vllm/v1/core/kv_cache_utils.py
(get_num_blocks, groups of layers, _check_enough_kv_cache_memory), vllm/v1/kv_cache_interface.py (page
sizes, sliding-window usage), vllm/worker/worker.py (V0), vllm/engine/arg_utils.py (batch defaults);
checked against the start-up logs of tests/truths/accuracy.py."""

import re
from dataclasses import replace
from enum import StrEnum
from math import ceil
from typing import NamedTuple

from vramscope.core.architecture import Architecture, Rotary, VisionKind
from vramscope.core.checkpoints import safetensors_target, with_todo
from vramscope.core.engines.base import (
    CUDA_CONTEXT_BYTES,
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
    rolling_state_elements,
    sequences,
    smallest_rank_note,
    stage_cache,
    stage_weights,
    visible_devices,
    weights_segment,
)
from vramscope.core.engines.vllm_versions import (
    BITSANDBYTES_REMOVED,
    VllmRules,
    batch_defaults,
    flashinfer_needs_opt_in,
    loads_mistral_format,
    online_quantization,
    reports_tokens_by_concurrency,
    runs_bitsandbytes,
    sampler_bytes_per_logit,
    vllm_rules,
    window_tokens_in_flight,
)
from vramscope.core.precision import KvDtype
from vramscope.core.scenario import Deployment, Engine, EngineSettings, GpuSpec, ModelSpec, Workload
from vramscope.core.segments import Provenance, Segment, SegmentKind, segment
from vramscope.core.units import KIB, MIB
from vramscope.core.weights import pipeline_stages

VOCAB_PADDING = 64  # vocab_parallel_embedding.py DEFAULT_VOCAB_PADDING_SIZE
# V1's persistent buffers under the profile peak (the model runner's input buffers, the in-place sampler's
# per-SM scratch): what the v0.19 H100 logs hold beyond the sampler's logits and the forward's output, the
# median over the 30 sampler-bound dense runs (each within -24 to +48 MiB of it; a first pipeline stage,
# which only forwards, 70 MiB more). V0 has no such buffers
PROFILE_BASE_BYTES = 128 * MIB
# "non-torch forward increase": 0.25 GiB at tp 1; 2.07-2.21 GiB at tp >= 2 where NCCL and custom all-reduce
# buffers are charged (v0.19 H100 logs of 1-4 GPUs); other releases' figures in _non_torch
NON_TORCH_BYTES = {1: 256 * MIB, 2: 2120 * MIB}
# tests/truths/accuracy.py: the largest miss of the KV pool (what decides a fit) over the logs of each release
# line, as a share of the GPU; a line without logs takes the largest over all lines
MEASURED_ERRORS = {
    "V0 (0.6.3-0.10)": MeasuredError(0.03, "the KV pool's largest miss over 7 vLLM V0 logs (0.6.4-0.8.2): 2.7 %"),
    "0.9.1-0.10": MeasuredError(
        0.016, "the KV pool's largest miss over 7 vLLM 0.10.1-0.10.2 logs (A100, H200; 1-4 GPUs, Ray): 1.5 %"
    ),
    "0.11": MeasuredError(0.037, "the KV pool's largest miss over 9 vLLM 0.11.0 logs (H100, 1-2 GPUs): 3.7 %"),
    "0.14-0.16": MeasuredError(0.014, "2 vLLM 0.15-0.16 logs (0.09 %), and 0.8 % over 67 of 0.17-0.19; 1.4 % kept"),
    "0.17-0.19": MeasuredError(
        0.014, "the KV pool's largest miss over 67 vLLM 0.17-0.19 logs (H100, 1-4 GPUs): 0.8 %, kept at 1.4 %"
    ),
    "0.20-0.33": MeasuredError(0.03, "2 vLLM 0.27.1 logs (1.4 %), too few alone: 3 %, as for releases without logs"),
}
UNMEASURED = "no log of vLLM {line} checked: the largest miss over the releases that were (V0's 2.7 %)"
# Captured CUDA graphs, per batch size captured: the whole-model graph, and the piecewise graphs between
# attention layers (one set per layer). Fitted on the 36 graph figures of the llm-d-planner 0.19 sweep on H100
# (51 sizes each; 8-80 layers a rank): 0.05 GiB median miss, where one constant missed by 0.16 GiB
CUDA_GRAPH_PER_SIZE = 7_475 * KIB
CUDA_GRAPH_PER_SIZE_AND_LAYER = 338 * KIB
SPECULATIVE_TOKENS = 5  # what the printed --speculative-config asks for


def rules_of(settings: EngineSettings) -> VllmRules:
    try:
        return vllm_rules(settings.engine_version)
    except ValueError as e:
        raise EngineSettingsError(str(e)) from None


def utilization(settings: EngineSettings, rules: VllmRules) -> float:
    return settings.gpu_memory_utilization or rules.default_utilization


def vocab_padding_bytes(arch: Architecture, tp: int, element_bytes: int) -> int:
    """Extra rows of the embedding (and an untied head) once the vocabulary is padded to 64 per rank."""
    padded = ceil(arch.vocab_size / VOCAB_PADDING) * VOCAB_PADDING
    extra = ceil((padded - arch.vocab_size) / tp) * arch.hidden_size * element_bytes
    return extra * (1 if arch.tie_word_embeddings else 2)


class Mxfp4Kernel(StrEnum):
    """The MoE kernel vLLM runs MXFP4 experts with (fused_moe/oracle/mxfp4.py select_mxfp4_moe_backend)."""

    MARLIN = "Marlin"  # Ampere, Ada, consumer Blackwell (SM 12.x); every GPU before 0.12
    TRITON = "Triton"  # Hopper from 0.12: the triton_kernels vLLM bundles, swizzled for Hopper's MMA
    TRTLLM = "FlashInfer TRT-LLM"  # datacenter Blackwell (SM 10.x)


_HOPPER = re.compile(r"\b(GH200|H100|H200|H800|H20)\b", re.IGNORECASE)
_BLACKWELL_DC = re.compile(r"\b(GB200|GB300|B100|B200|B300)\b", re.IGNORECASE)
TRITON_KERNELS_BUNDLED = (0, 12)  # vllm/third_party/triton_kernels, with torch 2.9 (Hopper swizzle from 2.8.1)


def mxfp4_kernel(gpu: GpuSpec | None, rules: VllmRules) -> Mxfp4Kernel:
    """Hopper runs the bundled Triton kernels, datacenter Blackwell FlashInfer's; the rest Marlin. Before
    0.12 triton_kernels was a separate install (and torch 2.8.0 left Hopper unswizzled): Marlin, as the
    0.10 A100 log of gpt-oss-120b says (-0.1 %)."""
    if gpu is None or rules.version < TRITON_KERNELS_BUNDLED:
        return Mxfp4Kernel.MARLIN
    if _HOPPER.search(gpu.name):
        return Mxfp4Kernel.TRITON
    return Mxfp4Kernel.TRTLLM if _BLACKWELL_DC.search(gpu.name) else Mxfp4Kernel.MARLIN


def _up(n: int, to: int) -> int:
    return -(-n // to) * to


def mxfp4_padding_bytes(arch: Architecture, layers: range, tp: int, kernel: Mxfp4Kernel = Mxfp4Kernel.MARLIN) -> int:
    """What vLLM adds to a rank's MXFP4 experts over the checkpoint's 17 bytes per 32 values and bf16 biases,
    by kernel (oracle/mxfp4.py mxfp4_round_up_hidden_size_and_intermediate_size, convert_to_mxfp4_moe_kernel
    _format): Marlin rounds each rank's intermediate to 128 and the hidden size to 256 (gpt-oss 2,880 ->
    3,072); FlashInfer's TRT-LLM both to 256, biases in fp32. Triton rounds the intermediate to 64 only, then
    swizzles copies for Hopper (triton_kernels HopperMXValueLayout: both sides of the packed weight to 64;
    HopperMXScaleLayout: the scales' rows to 256) while the loaded scales stay on the layer, biases in fp32."""
    if arch.moe is None:
        return 0
    moe, h = arch.moe, arch.hidden_size
    i = ceil(moe.expert_intermediate_size / tp)
    stored = 3 * i * h * 17 // 32 + (2 * i + h) * 2
    if kernel is Mxfp4Kernel.TRITON:
        ip = _up(i, 64)
        values = _up(h // 2, 64) * _up(2 * ip, 64) + _up(ip // 2, 64) * _up(h, 64)
        loaded_scales = 3 * ip * ceil(h / 32)
        swizzled_scales = _up(2 * ip, 256) * _up(ceil(h / 32), 2) + _up(h, 256) * _up(ceil(ip / 32), 2)
        held = values + loaded_scales + swizzled_scales + (2 * ip + h) * 4
    else:
        align = (256, 256) if kernel is Mxfp4Kernel.TRTLLM else (128, 256)
        ip, hp = _up(i, align[0]), _up(h, align[1])
        held = 3 * ip * hp * 17 // 32 + (2 * ip + hp) * (4 if kernel is Mxfp4Kernel.TRTLLM else 2)
    per_layer = moe.num_experts * (held - stored)
    return sum(per_layer for layer in layers if arch.is_moe_layer(layer))


def _quantized_on_load(request: Request) -> Request:
    """NF4 planned from 16-bit weights is vLLM quantizing them as it loads, with bitsandbytes' double
    quantization (bitsandbytes_loader.py: quantize_4bit(compress_statistics=True)); a bitsandbytes checkpoint
    is priced from its own tensors (no format to plan)."""
    fmt = request.plan.fmt
    if fmt is None or fmt.family != "nf4" or fmt.nested_absmax:
        return request
    note = f"{request.plan.note}; quantized as it loads, absmax double-quantized"
    return request._replace(plan=request.plan._replace(fmt=replace(fmt, nested_absmax=True), note=note))


def _mistral_format_loaded(request: Request) -> Request:
    """Where the repository also ships Mistral's own files and the plan is its own format, vLLM 0.12 and later
    load those (loads_mistral_format), whose Pixtral encoder (pixtral.py VisionTransformer) is plain linears
    on every rank; a checkpoint of another format (RedHatAI's w8a8 …) is in transformers' layout, split."""
    model, vision = request.model, request.arch.vision
    if vision is None or vision.kind is not VisionKind.PIXTRAL or not model.mistral_format:
        return request
    if request.plan.name != model.native_format or not loads_mistral_format(rules_of(request.settings)):
        return request
    arch = request.arch.model_copy(update={"vision": vision.model_copy(update={"replicated": True})})
    return request._replace(model=model.model_copy(update={"architecture": arch}))


def rotary_tables(arch: Architecture) -> tuple[tuple[int, int], ...]:
    """(positions, width) of each cos/sin table vLLM's get_rope builds, one per distinct rotary setting and
    shared by the layers that use it: linear and dynamic scaling stretch max_position_embeddings by their
    factor, yarn the original length, longrope keeps a short and a long table; Gemma 3's sliding layers add
    an unscaled one (layers/rotary_embedding/)."""
    if arch.learned_positions:
        return ()
    rotary = arch.rotary or Rotary()
    width = arch.mla.qk_rope_head_dim if arch.mla is not None else int(arch.head_dim * rotary.fraction)
    longest, trained = arch.max_context, rotary.original_max_context or arch.max_context
    rows = {
        "linear": ceil(longest * rotary.factor),
        "dynamic": ceil(longest * rotary.factor),
        "yarn": ceil(trained * rotary.factor),
        "longrope": trained + longest,
    }.get(rotary.scaling, longest)
    return ((rows, width), (longest, arch.head_dim)) if rotary.local_table else ((rows, width),)


def rotary_cache_bytes(arch: Architecture, dtype: KvDtype) -> int:
    """vLLM's cos/sin tables, in the model's dtype (counted in 'Model loading took')."""
    return sum(cache_bytes(rows * width, dtype) for rows, width in rotary_tables(arch))


class KvPages:
    """vLLM's paging of one rank's attention layers. V1 groups layers by kind with one page size for all
    (kv_cache_utils._get_kv_cache_groups_uniform_page_size, unify_kv_cache_spec_page_size: a kind of smaller
    pages takes proportionally more tokens per block); V0 pages every layer's whole context."""

    def __init__(
        self,
        arch: Architecture,
        layers: range,
        tp: int,
        kv: KvDtype,
        block_size: int,
        draft_per_token: int = 0,
        v0: bool = False,
    ) -> None:
        cache = stage_cache(arch, layers, tp)
        self.block_size = self.full_block = self.sliding_block = block_size
        self.window = arch.sliding_window or 0
        # recurrent states at the model dtype, one per running sequence (mamba_utils: kernel - 1 conv inputs)
        self.state_bytes = rolling_state_elements(arch, layers, tp) * 2
        self.state_groups = 0
        recurrent = [i for i in layers if not arch.layer_kind(i).attends and arch.state_elements_per_sequence(i, tp)]
        if not v0 and recurrent and cache.full_layers and not cache.sliding_layers:
            self._hybrid(arch, recurrent, cache.full // cache.full_layers, cache.full_layers, tp, kv, block_size)
        elif v0 or arch.compressed is not None:
            # V0's cache engine: one block holds every layer's K/V. DeepSeek-V4 (no vLLM log measured): the
            # compressed history in blocks of every layer, windows and compressor buffers once per sequence
            self.group_size, self.full_groups, self.sliding_groups = 1, 1, 0
            paged = cache.full + (cache.sliding if v0 else 0)
            self.page_bytes = cache_bytes(block_size * paged, kv)
            if arch.compressed is not None:
                self.state_bytes += cache_bytes(cache.sliding * self.window, kv)
        else:
            counts = [c for c in (cache.full_layers, cache.sliding_layers) if c]
            lo, hi = (min(counts), max(counts)) if counts else (0, 0)
            self.group_size = hi if hi < 1.5 * lo else lo  # kinds of near-equal counts share one group size
            self.full_groups = ceil(cache.full_layers / self.group_size) if cache.full_layers else 0
            self.sliding_groups = ceil(cache.sliding_layers / self.group_size) if cache.sliding_layers else 0
            full = cache.full // max(1, cache.full_layers)
            sliding = cache.sliding // max(1, cache.sliding_layers)
            widest = max(full, sliding)
            self.page_bytes = cache_bytes(block_size * widest, kv)
            self.full_block = block_size * (widest // full) if full else block_size
            self.sliding_block = block_size * (widest // sliding) if sliding else block_size
        # A draft model's layers join the cache spec as full attention: counted with every block (approximate
        # when the target has several layer groups)
        self.draft_block_bytes = cache_bytes(block_size * draft_per_token, kv) // max(1, self.groups)

    def _hybrid(
        self,
        arch: Architecture,
        recurrent: list[int],
        per_layer: int,
        full_layers: int,
        tp: int,
        kv: KvDtype,
        block: int,
    ) -> None:
        """Attention beside recurrent layers (HybridAttentionMambaModelConfig, kv_cache_utils): one block per
        request holds a recurrent layer's state; the attention block grows in steps of the kernel's 16 tokens
        until its page holds a state, and both kinds share that page and the groups."""
        state = max(rolling_state_elements(arch, range(i, i + 1), tp) for i in recurrent) * 2
        token = cache_bytes(per_layer, kv)
        self.full_block = block * ceil(state / (block * token))
        self.page_bytes = self.full_block * token
        lo, hi = min(full_layers, len(recurrent)), max(full_layers, len(recurrent))
        self.group_size = hi if hi < 1.5 * lo else lo
        self.full_groups = ceil(full_layers / self.group_size)
        self.sliding_groups = 0
        self.state_groups = ceil(len(recurrent) / self.group_size)
        self.state_bytes = 0  # in the pool's blocks now

    @property
    def groups(self) -> int:
        return self.full_groups + self.sliding_groups + self.state_groups

    @property
    def block_bytes(self) -> int:
        """One block of every layer of a group: the unit the pool is counted in."""
        return self.page_bytes * self.group_size + self.draft_block_bytes

    @property
    def tokens_per_block(self) -> int:
        """The smallest block's tokens: what vLLM's 'GPU KV cache size' counts per block of each group."""
        if not self.sliding_groups:
            return self.full_block
        return min(self.full_block if self.full_groups else self.sliding_block, self.sliding_block)

    def num_blocks(self, pool: int) -> int:
        """get_num_blocks: the pool in blocks of every layer of a group."""
        return pool // self.block_bytes if self.block_bytes and pool > 0 else 0

    def blocks_per_request(self, tokens: int, batched_tokens: int) -> int:
        full = ceil(tokens / self.full_block)
        # SlidingWindowSpec.max_memory_usage_bytes: window - 1 + one scheduled chunk, plus a block
        sliding = ceil(min(self.window - 1 + batched_tokens, tokens) / self.sliding_block) + 1
        return self.full_groups * full + self.sliding_groups * sliding + self.state_groups

    def request_bytes(self, tokens: int, batched_tokens: int) -> int:
        return self.blocks_per_request(tokens, batched_tokens) * self.block_bytes + self.state_bytes


class VllmProfile:
    engine = Engine.VLLM
    label = "vLLM"

    def measured_error(self, settings: EngineSettings) -> MeasuredError:
        line = rules_of(settings).line
        return MEASURED_ERRORS.get(line) or MeasuredError(0.03, UNMEASURED.format(line=line))

    def max_sequences(self, deployment: Deployment) -> int | None:
        """--max-num-seqs when set; else none of its own: the launch command raises it to the batch."""
        return deployment.settings.max_num_seqs

    def weight_families(self, settings: EngineSettings | None = None) -> tuple[str, ...]:
        families = ("float", "fp8", "fp8-block", "gptq", "awq", "nf4", "mxfp4", "nvfp4", "int4")
        if runs_bitsandbytes(rules_of(settings or EngineSettings())):
            return families
        return tuple(f for f in families if f != "nf4")

    def kv_dtypes(self) -> tuple[str, ...]:
        return ("bf16", "fp16", "fp8")  # CacheDType: auto, fp8 (= e4m3), fp8_e5m2 …

    def default_kv_dtype(self, model: ModelSpec, weights: str) -> KvDtype:
        return model_compute_dtype(model, weights)

    def check(self, model: ModelSpec, workload: Workload, deployment: Deployment) -> None:
        check_tensor_parallel(model.architecture, deployment.tensor_parallel)
        refuse_metal(self.label, deployment)
        rules = rules_of(deployment.settings)
        gpu = deployment.gpu(0)
        default_tokens, default_seqs = batch_defaults(rules, gpu, gpu_total(gpu), workload.context)
        tokens = deployment.settings.max_num_batched_tokens or default_tokens
        seqs = deployment.settings.max_num_seqs or default_seqs
        fmt = workload.weight_format or model.native_format
        if fmt.startswith("nf4") and not runs_bitsandbytes(rules):
            raise EngineSettingsError(
                f"vLLM {'.'.join(map(str, BITSANDBYTES_REMOVED))} and later have no bitsandbytes quantization: "
                "take AWQ, GPTQ or INT4 weights, or plan for --engine-version 0.27"
            )
        if tokens < seqs:  # config/scheduler.py SchedulerConfig._verify_args
            raise EngineSettingsError(
                f"max_num_batched_tokens ({tokens}) must be greater than or equal to max_num_seqs ({seqs})."
            )

    def allocate(self, request: Request) -> Allocation:
        request = _mistral_format_loaded(_quantized_on_load(request))
        arch, deployment, workload, settings = request.arch, request.deployment, request.workload, request.settings
        tp, pp = deployment.tensor_parallel, deployment.pipeline_parallel
        context, batch = workload.context, workload.batch
        rules = rules_of(settings)
        util = utilization(settings, rules)
        default_tokens, default_seqs = batch_defaults(rules, deployment.gpu(0), gpu_total(deployment.gpu(0)), context)
        batched = settings.max_num_batched_tokens or default_tokens
        seqs = settings.max_num_seqs or default_seqs
        in_flight = window_tokens_in_flight(rules, batched, pp)
        layout = request.layout(tp)
        compute = model_compute_dtype(request.model, request.plan.name)
        extra = rotary_cache_bytes(arch, compute)
        if request.plan.fmt is not None and request.plan.fmt.family == "float":
            extra += vocab_padding_bytes(arch, tp, request.plan.fmt.element_bytes)
        fused_moe = request.plan.fmt is None or request.plan.fmt.family not in ("mxfp4", "gguf")
        per_logit = sampler_bytes_per_logit(rules, settings.flashinfer_sampler)
        profile = Profile(batched, seqs, rules, fused_moe, int(compute.bytes_per_element), True, per_logit)
        peaks = (_profile_peak(arch, tp, profile._replace(samples=False)), _profile_peak(arch, tp, profile))
        non_torch, non_torch_note = _non_torch(tp, rules, settings.peer_to_peer)
        sizes = capture_sizes(seqs, batched, SPECULATIVE_TOKENS if deployment.draft is not None else 0)
        graphs: Segment | None = None  # each stage's own, unless measured
        measured = settings.calibration
        if measured is not None:  # figures this machine's own log gave, in place of the fitted ones
            where = f"measured: {measured.source}"
            if measured.activation_bytes is not None:
                peaks = (
                    segment(
                        SegmentKind.ACTIVATIONS,
                        measured.activation_bytes,
                        Provenance.EMPIRICAL,
                        where,
                        "Activation peak",
                    ),
                ) * 2
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
            pages = KvPages(arch, layers, tp, request.kv, settings.block_size, draft_tokens, rules.v0)
            weights, experts = stage_weights(layout, layers, s == 0, s == pp - 1)
            if request.plan.name == "mxfp4":
                weights += mxfp4_padding_bytes(arch, layers, tp, mxfp4_kernel(deployment.gpu(s * tp), rules))
            weights += extra
            stage_graphs = graphs or _cuda_graphs(sizes, len(layers))
            captured = () if settings.enforce_eager else (stage_graphs,)
            for r in range(tp):
                gpu = deployment.gpu(s * tp + r)
                total = gpu_total(gpu)
                fixed = (
                    weights_segment(request.plan, weights, _weights_note(request, extra)),
                    *(draft_segments(draft, 0, request.kv)[:1] if draft is not None and with_draft else ()),
                    peaks[s == pp - 1],
                    overhead(non_torch, non_torch_note, "Non-torch"),
                    *(captured if rules.graphs_in_budget else ()),  # 0.20+: profiled before the pool is sized
                )
                need = pages.request_bytes(context, in_flight) * batch
                needed = max(needed, need)
                after = (cuda_context(gpu), *(() if rules.graphs_in_budget else captured))
                if total is None:
                    kv = segment(SegmentKind.KV_CACHE, need, Provenance.FORMULA, _kv_note(pages, context, batch))
                    parts.append(GpuPart(s, (*_weights_first(fixed, (kv,)), *after), experts))
                    continue
                budget = ceil(total * util)
                pool = budget - sum(seg.bytes for seg in fixed)
                pools.append((pool, pages, s * tp + r, gpu.name if gpu is not None else f"GPU {s * tp + r}"))
                used = min(need, max(pool, 0))
                kv = segment(SegmentKind.KV_CACHE, used, Provenance.FORMULA, _kv_note(pages, context, batch))
                free = segment(
                    SegmentKind.KV_RESERVED,
                    max(pool - used, 0),
                    Provenance.FORMULA,
                    f"the rest of the KV pool: {util:g} x {gib(total)} budget minus weights, activation peak and "
                    "non-torch memory" + (" and CUDA graphs" if rules.graphs_in_budget else ""),
                )
                parts.append(GpuPart(s, (*_weights_first(fixed, (kv, free)), *after), experts))
                free_memory = gpu.capacity_bytes if gpu is not None else None
                if not refusal and free_memory is not None and free_memory < budget + after[0].bytes:
                    refusal = _busy_gpu(rules, free_memory - after[0].bytes, total, util, budget)
        outcome = _outcome(
            tuple(parts), pools, context, batch, (batched, in_flight), refusal, settings.max_num_seqs, rules
        )
        return outcome._replace(
            details={
                **outcome.details,
                "kv_needed_bytes": needed,
                "engine_version": rules.line,
                "gpu_memory_utilization": util,
            }
        )

    def launch_command(self, request: Request) -> str:
        model, deployment, settings = request.model, request.deployment, request.settings
        rules = rules_of(settings)
        opt_in = settings.flashinfer_sampler and not rules.v0 and flashinfer_needs_opt_in(rules)
        env = visible_devices(deployment) + ("VLLM_USE_FLASHINFER_SAMPLER=1 " if opt_in else "")
        target = safetensors_target(model, request.plan.name, Engine.VLLM, online_quantization(rules))
        args = [f"{env}vllm serve {target.quoted}"]
        args.append(f"--max-model-len {request.workload.context}")
        args.append(f"--gpu-memory-utilization {utilization(settings, rules):g}")
        if deployment.tensor_parallel > 1:
            args.append(f"--tensor-parallel-size {deployment.tensor_parallel}")
        if deployment.pipeline_parallel > 1:
            args.append(f"--pipeline-parallel-size {deployment.pipeline_parallel}")
        if request.data_parallel > 1:
            args.append(f"--data-parallel-size {request.data_parallel}")
        if request.expert_parallel:
            args.append("--enable-expert-parallel")
        if request.workload.kv_dtype == "fp8":
            args.append("--kv-cache-dtype fp8")
        if target.flag:
            args.append(target.flag)
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
            args.append(
                f'--speculative-config \'{{"model": "{draft}", "num_speculative_tokens": {SPECULATIVE_TOKENS}}}\''
            )
        nodes = request.nodes
        if nodes > 1:  # one Ray cluster over the nodes; the server starts on its head
            args[0] = f"ray start --head --port 6379 && {args[0]}"
            args.append("--distributed-executor-backend ray")
            if request.data_parallel > 1:
                args.append("--data-parallel-backend ray")
        join = f"first, on each of the other {nodes - 1} nodes: ray start --address <head-ip>:6379" if nodes > 1 else ""
        return with_todo(" ".join(args), target, also=join)


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


class Profile(NamedTuple):
    """What the profile run covers on a rank."""

    batched_tokens: int
    seqs: int
    rules: VllmRules
    fused_moe: bool  # the bf16 / FP8 fused-MoE kernels (not MXFP4's)
    element_bytes: int  # the compute dtype's
    samples: bool  # the last pipeline stage: it alone computes logits and runs the sampler
    sampler_bytes: int  # per logit, the compute dtype's logits at 16 bits


def _profile_peak(arch: Architecture, tp: int, profile: Profile) -> Segment:
    """The profile run's torch peak over persistent buffers: the forward over max_num_batched_tokens or the
    dummy sampler over max_num_seqs rows of logits (beside the forward's output), whichever is larger; from
    0.14 the fused-MoE workspace stays allocated under the sampler, so the two add for MoE models. Earlier
    pipeline stages only forward."""
    batched_tokens, seqs, rules, fused_moe = profile.batched_tokens, profile.seqs, profile.rules, profile.fused_moe
    forward = batched_tokens * forward_bytes_per_token(arch, tp, profile.element_bytes)
    rows = (seqs if rules.v0 else min(seqs, batched_tokens)) if profile.samples else 0
    # logits come in the compute dtype beside their fp32 copy: 2 B more per logit for an fp32 model
    per_logit = profile.sampler_bytes + profile.element_bytes - 2
    sampler = rows * arch.vocab_size * per_logit
    if rows:  # the forward's output stays alive while it samples (V0 execute_model, V1 profile_run)
        sampler += batched_tokens * arch.hidden_size * profile.element_bytes
    stacked = rules.moe_workspace_with_sampler and fused_moe and arch.moe is not None
    workspace = moe_workspace_bytes(arch, tp, batched_tokens) if stacked else 0
    note = f"vLLM {rules.line} profile run: the forward over {batched_tokens:,} batched tokens" + (
        f" or the sampler over {rows:,} sequences ({per_logit} B per logit)"
        + (f" on top of the fused-MoE workspace ({gib(workspace)}, kept by the WorkspaceManager)" if stacked else "")
        if rows
        else " (no sampler on this pipeline stage)"
    )
    encoder = 0
    if arch.vision is not None:  # the profile run also encodes a budget's worth of dummy images, apart
        images = max(1, min(batched_tokens // arch.vision.image_tokens, seqs))
        encoder = arch.vision.encoder_peak_bytes(images, fused_attention=True)
        note += f", or the vision encoder over {images} images (encoder cache budget)"
    decoder = max(forward, workspace + sampler)
    return segment(
        SegmentKind.ACTIVATIONS,
        (0 if rules.v0 else PROFILE_BASE_BYTES) + max(decoder, encoder),
        Provenance.FORMULA,
        note,
        "Activation peak",
    )


def _non_torch(tp: int, rules: VllmRules, peer_to_peer: bool = True) -> tuple[int, str]:
    """Memory outside PyTorch's allocator that the profile charges: cuBLAS and attention workspaces, plus
    NCCL and custom all-reduce buffers at tp > 1 where the version counts them (0.11 takes its baseline
    after them: 0.54-0.55 GiB left at tp 2 in llm-d-benchmark's 0.11.0 runs), plus the CUDA context in
    0.8-0.9.0. At tp 1: 0.13 GiB in the 0.11-0.17 logs, 0.25 GiB in 0.18-0.19's. GPUs without P2P have no
    custom all-reduce and NCCL's buffers in host memory: 0.10.1 on A100s without P2P (same node and over
    Ray) charged as at tp 1."""
    single = NON_TORCH_BYTES[1] if rules.v0 or rules.version >= (0, 18) or rules.version < (0, 11) else 133 * MIB
    if tp == 1 or not peer_to_peer:
        charged = single
        note = "non-torch memory of the forward pass" + ("" if tp == 1 else " (no GPU P2P: no all-reduce buffers)")
    elif rules.charges_tp_buffers:
        charged, note = NON_TORCH_BYTES[2], "non-torch memory of the forward pass (NCCL, all-reduce buffers)"
    else:
        charged, note = 563 * MIB, "non-torch memory of the forward pass (NCCL buffers before the baseline)"
    if rules.charges_cuda_context:
        charged += CUDA_CONTEXT_BYTES
        note += " and the CUDA context (vLLM 0.8-0.9.0 count it)"
    return charged, note


def _busy_gpu(rules: VllmRules, free: int, total: int, util: float, budget: int) -> str:
    if rules.v0:  # V0 does not compare: the cache allocation itself fails
        return (
            f"CUDA out of memory while allocating the KV cache: {gib(budget)} ({util:g} x {gib(total)}) planned, "
            f"{gib(free)} free (vLLM V0 does not check the free memory at start-up)"
        )
    return (
        f"Free memory on device ({gib(free)}/{gib(total)}) on startup is less than desired GPU memory "
        f"utilization ({util:g}, {gib(budget)}). Decrease GPU memory utilization or reduce GPU memory used by "
        "other processes."
    )


MOE_CHUNK_TOKENS = 65_536  # envs.VLLM_FUSED_MOE_CHUNK_SIZE: the fused-MoE kernels work in chunks of this many


def moe_workspace_bytes(arch: Architecture, tp: int, tokens: int) -> int:
    """The fused-MoE workspace for `tokens` tokens (TritonExperts.workspace_shapes: workspace13 of
    top-k x max(2I, H), workspace2 of top-k x I, the output of H per token; 16-bit)."""
    if arch.moe is None:
        return 0
    moe, h = arch.moe, arch.hidden_size
    i = ceil(moe.expert_intermediate_size / tp)
    return min(tokens, MOE_CHUNK_TOKENS) * (moe.experts_per_token * (max(2 * i, h) + i) + h) * 2


def forward_bytes_per_token(arch: Architecture, tp: int, element_bytes: int = 2) -> int:
    """Intermediates one token holds at the forward's peak, at the compute dtype: the MLP's gate/up and
    activation outputs, or fused MoE's three caches per chosen expert (gate/up, activation, down:
    fused_moe.py), plus hidden states and residuals."""
    h = arch.hidden_size
    if arch.moe is None:
        mlp = 3 * ceil(max(arch.intermediate_per_layer, default=arch.intermediate_size) / tp)
    else:
        moe = arch.moe
        mlp = moe.experts_per_token * (3 * ceil(moe.expert_intermediate_size / tp) + h)
        mlp += 3 * ceil(moe.shared_intermediate_size / tp)
    return (mlp + 4 * h) * element_bytes


def _weights_note(request: Request, extra: int) -> str:
    note = " + rotary cos/sin cache" if extra else ""
    if request.plan.name != "mxfp4":
        return note
    kernel = mxfp4_kernel(request.deployment.gpu(0), rules_of(request.settings))
    return note + f" + MXFP4 experts laid out for the {kernel} MoE kernel"


def _weights_first(fixed: tuple[Segment, ...], cache: tuple[Segment, ...]) -> tuple[Segment, ...]:
    weights = tuple(s for s in fixed if s.kind is SegmentKind.WEIGHTS)
    return weights + cache + tuple(s for s in fixed if s.kind is not SegmentKind.WEIGHTS)


def capture_sizes(seqs: int, batched_tokens: int, speculative_tokens: int = 0) -> int:
    """How many batch sizes vLLM captures graphs for by default (config/vllm.py): 1, 2, 4, then every 8 below
    256 and every 16 from 256, up to twice the decode tokens of max_num_seqs sequences (at most 512 and at
    most max_num_batched_tokens, which is captured itself when it falls below)."""
    largest = min(seqs * (1 + speculative_tokens) * 2, 512, batched_tokens)
    sizes = {s for s in (1, 2, 4) if s <= largest} | set(range(8, min(largest + 1, 256), 8))
    sizes |= set(range(256, largest + 1, 16)) | ({batched_tokens} if batched_tokens <= largest else set())
    return len(sizes)


def _cuda_graphs(sizes: int, layers: int) -> Segment:
    graphs = sizes * (CUDA_GRAPH_PER_SIZE + CUDA_GRAPH_PER_SIZE_AND_LAYER * layers)
    note = (
        f"captured CUDA graphs: {sizes} batch sizes over {layers} layers, measured per graph (off with --enforce-eager)"
    )
    return overhead(graphs, note, "CUDA graphs")


def _kv_note(pages: KvPages, context: int, batch: int) -> str:
    return f"{batch:,} x {context:,} tokens in {pages.block_size}-token blocks" + (
        f" ({pages.groups} layer groups)" if pages.groups > 1 else ""
    )


def _outcome(
    parts: tuple[GpuPart, ...],
    pools: list[tuple[int, KvPages, int, str]],
    context: int,
    batch: int,
    scheduled: tuple[int, int],
    refusal: str,
    max_num_seqs: int | None,
    rules: VllmRules,
) -> Allocation:
    """vLLM's verdict: the smallest rank's pool decides the blocks every rank gets. `scheduled`: the batched
    tokens, and those a sliding window keeps in flight."""
    batched, in_flight = scheduled
    if not pools:
        return Allocation(parts, details={"max_num_batched_tokens": batched})
    pool, pages, _, _ = min(pools, key=lambda p: p[1].num_blocks(p[0]) if p[1].block_bytes else p[0])
    bounded = smallest_rank_note("vLLM", [(p[1].num_blocks(p[0]), p[2], p[3]) for p in pools], "KV blocks")
    blocks = pages.num_blocks(pool)
    per_request = pages.blocks_per_request(context, in_flight)
    if not pages.groups:
        tokens = None
    elif reports_tokens_by_concurrency(rules) and per_request:
        tokens = int(blocks / per_request * context)
    else:
        tokens = blocks // pages.groups * pages.tokens_per_block
    details: dict[str, int | float | str | None] = {
        "kv_pool_bytes": pool,
        "num_gpu_blocks": blocks,
        "kv_capacity_tokens": tokens,
        "max_concurrency": round(blocks / per_request, 2) if per_request else None,
        "max_num_batched_tokens": batched,
        "block_size": pages.block_size,
    }
    refusal = refusal or _pool_refusal(pages, pool, context, in_flight, rules)
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


def _pool_refusal(pages: KvPages, pool: int, context: int, batched: int, rules: VllmRules) -> str:
    """The refusal vLLM stops with when the pool cannot hold one request of the longest context, in its words
    (V0: worker.py raise_if_cache_size_invalid; V1: kv_cache_utils._check_enough_kv_cache_memory)."""
    blocks = pages.num_blocks(pool)
    if pool <= 0 or (rules.v0 and blocks == 0):
        return (
            "No available memory for the cache blocks. Try increasing `gpu_memory_utilization` when initializing "
            "the engine."
        )
    if rules.v0 and blocks * pages.block_size < context:
        return (
            f"The model's max seq len ({context}) is larger than the maximum number of tokens that can be stored "
            f"in KV cache ({blocks * pages.block_size}). Try increasing `gpu_memory_utilization` or decreasing "
            "`max_model_len` when initializing the engine."
        )
    per_request = pages.blocks_per_request(context, batched)
    if rules.v0 or blocks >= per_request:
        return ""
    longest = _longest_request(pages, blocks, context, batched)
    return (
        f"To serve at least one request with the models's max seq len ({context}), "
        f"({gib(pages.request_bytes(context, batched))} KV cache is needed, which is larger than the available "
        f"KV cache memory ({gib(pool)}). Based on the available memory, the estimated maximum model length is "
        f"{longest}. Try increasing `gpu_memory_utilization` or decreasing `max_model_len` when initializing "
        "the engine."
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
