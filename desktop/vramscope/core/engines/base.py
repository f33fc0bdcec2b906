"""The seam every engine profile plugs into: what it is given, what it gives back, and shared pieces."""

from collections.abc import Mapping
from functools import lru_cache
from typing import NamedTuple, Protocol

from vramscope.core.architecture import Architecture
from vramscope.core.precision import KV_DTYPES, KvDtype, WeightLayout
from vramscope.core.scenario import Deployment, Engine, EngineSettings, GpuSpec, ModelSpec, Workload
from vramscope.core.segments import Provenance, Segment, SegmentKind, segment
from vramscope.core.units import GIB, MIB
from vramscope.core.weights import WeightPlan, rank_layout, weight_plan

# CUDA context + runtime reserve of a PyTorch process per GPU: 287 MB with lazy loading (pytorch PR #86509),
# ~300-400 MB (issues #107667, #109888); vLLM's worker init snapshot reads 0.51 GiB on an H100
# (reference/engine_logs.json). reference/formulas.md §3.1 recommends 0.4-0.5 GiB.
CUDA_CONTEXT_BYTES = 450 * MIB
CUDA_CONTEXT_NOTE = "CUDA context and runtime reserve, measured 0.3-0.5 GiB per GPU"


class EngineSettingsError(ValueError):
    """A setting the engine itself refuses (tensor parallel that does not divide the heads …)."""


class Request(NamedTuple):
    """One scenario as a profile sees it; the weight plan and KV dtype are already resolved."""

    model: ModelSpec
    workload: Workload
    deployment: Deployment
    plan: WeightPlan
    kv: KvDtype
    data_parallel: int = 1  # replicas beside this one, over which the routed experts are sharded too
    expert_parallel: bool = False
    nodes: int = 1  # machines the whole deployment spans (the launch commands)

    @property
    def arch(self) -> Architecture:
        return self.model.architecture

    @property
    def settings(self) -> EngineSettings:
        return self.deployment.settings

    def layout(self, tp: int) -> WeightLayout:
        return expert_sharded_layout(self.model, self.plan, tp, self.data_parallel, self.expert_parallel)

    def draft(self, tp: int) -> "DraftCost | None":
        """The draft model's share of one of `tp` ranks, if speculative decoding is on."""
        draft = self.deployment.draft
        return None if draft is None else draft_cost(draft, tp)


def expert_sharded_layout(model: ModelSpec, plan: WeightPlan, tp: int, dp: int, ep: bool) -> WeightLayout:
    """A rank's weights when the routed experts are shared out over dp x tp ranks (vLLM's FusedMoE flattens TP
    across DP; SGLang's DP attention likewise): attention and dense layers are split tp ways, the experts
    dp x tp ways, as slices of every expert or, with expert parallel, as whole experts (the first ranks take
    one more where they do not divide: determine_expert_map)."""
    layout = rank_layout(model, plan, tp)
    moe = model.architecture.moe
    if moe is None or (dp == 1 and not ep):
        return layout
    shards = dp * tp
    if ep:
        whole = rank_layout(model, plan, 1).expert_per_layer
        experts = tuple(e * -(-moe.num_experts // shards) // moe.num_experts for e in whole)
    else:
        experts = rank_layout(model, plan, shards).expert_per_layer
    per_layer = tuple(p - e + x for p, e, x in zip(layout.per_layer, layout.expert_per_layer, experts, strict=True))
    return layout._replace(per_layer=per_layer, expert_per_layer=experts)


class DraftCost(NamedTuple):
    """A speculative-decoding draft model on one rank: its weights (at its own format) and its cache."""

    name: str
    weights: int
    cache_per_token: int  # cache elements per token over all its layers
    plan_note: str
    exact: bool


@lru_cache(maxsize=64)
def draft_cost(draft: ModelSpec, tp: int) -> DraftCost:
    plan = weight_plan(draft, Workload())
    layout = rank_layout(draft, plan, tp)
    weights = sum(layout.per_layer) + layout.first_stage + layout.last_stage
    cache = stage_cache(draft.architecture, range(draft.architecture.num_layers), tp)
    return DraftCost(draft.name, weights, cache.full + cache.sliding, plan.note, plan.exact)


def draft_segments(draft: DraftCost, tokens: int, kv: KvDtype) -> tuple[Segment, Segment]:
    """The draft's weights and the cache it keeps for `tokens` tokens (it drafts over the same sequences)."""
    return (
        segment(
            SegmentKind.WEIGHTS,
            draft.weights,
            Provenance.EXACT if draft.exact else Provenance.FORMULA,
            f"draft model {draft.name} for speculative decoding: {draft.plan_note}",
            "Draft weights",
        ),
        segment(
            SegmentKind.KV_CACHE,
            cache_bytes(draft.cache_per_token * tokens, kv),
            Provenance.EXACT,
            f"the draft's cache over the same {tokens:,} tokens in {kv.label}",
            "Draft KV cache",
        ),
    )


class GpuPart(NamedTuple):
    """What one GPU holds, before its capacity is compared."""

    stage: int
    segments: tuple[Segment, ...]
    expert_weight_bytes: int  # routed-expert weights (decode reads only some of them)


class Allocation(NamedTuple):
    gpus: tuple[GpuPart, ...]  # one per GPU, in deployment order
    host: tuple[Segment, ...] = ()  # what stays in system memory (llama.cpp)
    details: Mapping[str, int | float | str | None] = {}
    refusal: str = ""  # the engine would not start, in its own words
    shortfall: str = ""  # it starts but cannot hold this workload
    verdict: str = ""  # how the engine would put a good outcome ("vLLM starts; 51 concurrent …")
    warnings: tuple[str, ...] = ()
    pool_slack: int | None = None  # a preallocated pool's bytes beyond what the workload needs (negative: short)


class MeasuredError(NamedTuple):
    """The largest miss of a profile against the real runs it was checked on, as a share of what it predicts
    a GPU holds (tests/truths/accuracy.py prints it per engine version): a fit by less is shown as tight."""

    share: float
    basis: str  # which runs, for people


class EngineProfile(Protocol):
    engine: Engine
    label: str

    def measured_error(self, settings: EngineSettings) -> MeasuredError:
        """The miss to allow for with these settings (the engine version among them)."""
        ...

    def max_sequences(self, deployment: Deployment) -> int | None:
        """The most sequences the engine runs at once with these settings (None: no bound of its own)."""
        ...

    def kv_dtypes(self) -> tuple[str, ...]:
        """The KV dtypes this engine offers, besides auto."""
        ...

    def weight_families(self, settings: EngineSettings | None = None) -> tuple[str, ...]:
        """The weight format families this engine runs (precision.Family values), in the release `settings`
        name (None: the newest modelled)."""
        ...

    def default_kv_dtype(self, model: ModelSpec, weights: str) -> KvDtype: ...

    def check(self, model: ModelSpec, workload: Workload, deployment: Deployment) -> None:
        """Raise EngineSettingsError for a setting the engine refuses outright."""
        ...

    def allocate(self, request: Request) -> Allocation: ...

    def launch_command(self, request: Request) -> str: ...


# --- pieces the profiles share -----------------------------------------------------------------------


def model_compute_dtype(model: ModelSpec, weights: str) -> KvDtype:
    """The 16-bit dtype a PyTorch engine computes in: fp16 for fp16 checkpoints, fp32 for fp32, else bf16."""
    if weights == "fp32":
        return KV_DTYPES["fp32"]
    return KV_DTYPES["fp16" if model.native_format == "fp16" else "bf16"]


def cache_bytes(elements: int, dtype: KvDtype) -> int:
    bpe = dtype.bytes_per_element
    return -(-elements * bpe.numerator // bpe.denominator)


class StageCache(NamedTuple):
    """Cache elements of a set of layers on one rank."""

    full: int  # per token, full-attention layers
    sliding: int  # per token, sliding-window and chunked layers (at most sliding_window tokens)
    conv: int  # per sequence, the convolution windows of recurrent layers (Mamba, linear attention)
    ssm: int  # per sequence, their recurrent states
    full_layers: int
    sliding_layers: int

    @property
    def state(self) -> int:
        return self.conv + self.ssm


@lru_cache(maxsize=1024)
def stage_cache(arch: Architecture, layers: range, tp: int) -> StageCache:
    full = sliding = conv = ssm = n_full = n_sliding = 0
    for i in layers:
        kind = arch.layer_kind(i)
        window, state = arch.state_parts(i, tp)  # recurrent layers, and the Mamba half of parallel ones
        conv, ssm = conv + window, ssm + state
        if not kind.attends:
            continue
        per_token = arch.kv_elements_per_token(i, tp)
        if not per_token:
            continue
        if kind.windowed:
            sliding += per_token
            n_sliding += 1
        else:
            full += per_token
            n_full += 1
    return StageCache(full, sliding, conv, ssm, n_full, n_sliding)


def rolling_state_elements(arch: Architecture, layers: range, tp: int) -> int:
    """Per sequence, what vLLM keeps of recurrent layers: the last kernel - 1 inputs of each convolution
    (transformers keeps the whole kernel) and the recurrent states (mamba_utils state shapes)."""
    total = 0
    for i in layers:
        window, state = arch.state_parts(i, tp)
        kernel = arch.conv_kernel(i)
        total += (window // kernel * (kernel - 1) if kernel else window) + state
    return total


def stage_weights(layout: WeightLayout, layers: range, first: bool, last: bool) -> tuple[int, int]:
    """(weights, routed-expert part) of a run of layers, with the embeddings on the first and the head on
    the last."""
    weights = sum(layout.per_layer[i] for i in layers)
    weights += (layout.first_stage if first else 0) + (layout.last_stage if last else 0)
    return weights, sum(layout.expert_per_layer[i] for i in layers)


def weights_segment(plan: WeightPlan, size: int, extra_note: str = "") -> Segment:
    provenance = Provenance.EXACT if plan.exact else Provenance.FORMULA
    return segment(SegmentKind.WEIGHTS, size, provenance, plan.note + extra_note)


def overhead(size: int, note: str, label: str = "", provenance: Provenance = Provenance.EMPIRICAL) -> Segment:
    return segment(SegmentKind.OVERHEAD, size, provenance, note, label)


def cuda_context(gpu: GpuSpec | None = None) -> Segment:
    """A PyTorch process's context on this GPU: none on Apple's GPU (MPS) or on the CPU."""
    if gpu is not None and gpu.backend in ("metal", "cpu"):
        return overhead(0, f"no CUDA context on {'Metal' if gpu.backend == 'metal' else 'the CPU'}", "Runtime")
    return overhead(CUDA_CONTEXT_BYTES, CUDA_CONTEXT_NOTE, "CUDA context")


def refuse_metal(label: str, deployment: Deployment) -> None:
    """vLLM and SGLang have CUDA and ROCm backends, none for Apple's GPU."""
    if any(g.backend == "metal" for g in deployment.gpus):
        raise EngineSettingsError(f"{label} does not run on Apple's GPU (no Metal backend): pick llama.cpp or Ollama")


def mlp_width(arch: Architecture) -> int:
    """Intermediate width a token passes through in the widest feed-forward layer (routed experts it
    picks + shared experts for MoE)."""
    dense = max(arch.intermediate_per_layer, default=arch.intermediate_size)
    width = dense if arch.moe is None or arch.moe.first_dense_layers else 0
    if arch.moe is not None:
        routed = arch.moe.experts_per_token * arch.moe.expert_intermediate_size
        width = max(width, routed + arch.moe.shared_intermediate_size)
    return width


def gpu_total(gpu: GpuSpec | None) -> int | None:
    """The GPU's whole memory, which budgets such as vLLM's are fractions of."""
    if gpu is None:
        return None
    return gpu.total_bytes if gpu.total_bytes is not None else gpu.capacity_bytes


def smallest_rank_note(engine: str, sizes: list[tuple[int, int, str]], unit: str) -> tuple[str, ...]:
    """Tensor parallelism gives every rank the same share: with mixed GPUs the smallest bounds them all.
    `sizes` holds (size, rank, GPU name) per rank."""
    if len({size for size, _, _ in sizes}) < 2:
        return ()
    size, rank, name = min(sizes)
    largest = max(s for s, _, _ in sizes)
    return (
        f"GPU {rank} ({name}) bounds every rank: {engine} gives each the {size:,} {unit} of the smallest, "
        f"{largest - size:,} {unit} go unused on the largest",
    )


def gib(size: float) -> str:
    return f"{size / GIB:.2f} GiB"


def sequences(n: int, tokens: int) -> str:
    """'51 concurrent 8k-token sequences', '1 concurrent 32k-token sequence'."""
    return f"{n:,} concurrent {short_tokens(tokens)}-token sequence{'' if n == 1 else 's'}"


def short_tokens(n: int) -> str:
    """8192 -> '8k', 131072 -> '128k', 1000 -> '1,000'."""
    return f"{n // 1024}k" if n >= 1024 and n % 1024 == 0 else f"{n:,}"


def visible_devices(deployment: Deployment) -> str:
    """The environment that confines an engine to the chosen GPUs ('' where they are not detected ones):
    NVML's indices follow the PCI bus, CUDA's default order puts the fastest first, so the order is named."""
    names = [gpu.device for gpu in deployment.gpus]
    if not names or None in names or len(set(names)) != len(names) or len(names) < deployment.gpu_count:
        return ""  # catalog GPUs, or one detected GPU standing for several ranks
    order = "" if all(str(n).startswith("MIG-") for n in names) else "CUDA_DEVICE_ORDER=PCI_BUS_ID "
    return f"{order}CUDA_VISIBLE_DEVICES={','.join(str(n) for n in names)} "
