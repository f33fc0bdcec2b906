"""estimate(model, workload, deployment): per-GPU memory segments with provenance. The only formula path."""

from enum import StrEnum
from functools import lru_cache
from math import ceil
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict

from vramscope.core.architecture import Architecture, LayerKind
from vramscope.core.engines import engine_profile
from vramscope.core.inventory import InventoryLayout, TensorInventory, inventory_layout
from vramscope.core.precision import (
    KV_DTYPES,
    KvDtype,
    WeightFormat,
    WeightLayout,
    kv_dtype,
    weight_format,
    weight_layout,
)
from vramscope.core.scenario import Deployment, GpuSpec, ModelSpec, Workload

STATE_BYTES_PER_ELEMENT = 2  # recurrent (Mamba) state kept at the 16-bit compute dtype


class SegmentKind(StrEnum):
    WEIGHTS = "weights"
    KV_CACHE = "kv_cache"
    ACTIVATIONS = "activations"
    OVERHEAD = "overhead"


SEGMENT_LABELS = {
    SegmentKind.WEIGHTS: "Weights",
    SegmentKind.KV_CACHE: "KV cache",
    SegmentKind.ACTIVATIONS: "Activations",
    SegmentKind.OVERHEAD: "Overhead",
}


class Provenance(StrEnum):
    EXACT = "exact"  # fixed by the model's own numbers
    FORMULA = "formula"  # computed by a documented rule that may differ from an engine's
    EMPIRICAL = "empirical"  # a measured figure, not derived from this model


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)


class Segment(_Frozen):
    kind: SegmentKind
    bytes: int
    provenance: Provenance
    note: str


class GpuEstimate(_Frozen):
    index: int
    name: str
    capacity_bytes: int | None
    segments: tuple[Segment, ...]
    total_bytes: int
    fits: bool | None
    headroom_bytes: int | None  # capacity - total; negative = shortfall
    expert_weight_bytes: int  # the routed-expert part of the weights (decode reads only some of it)
    stage: int

    def segment(self, kind: SegmentKind) -> Segment:
        return next(s for s in self.segments if s.kind is kind)


class Estimate(_Frozen):
    model_name: str
    parameters: int
    active_parameters: int
    weight_format: str
    kv_dtype: str
    context: int
    batch: int
    kv_bytes_per_token: int  # one sequence, all layers, below every sliding window
    weights_bytes: int  # all GPUs together (replicated parts counted on each)
    kv_cache_bytes: int
    activation_bytes: int
    overhead_bytes: int
    total_bytes: int
    capacity_bytes: int | None
    fits: bool | None
    headroom_bytes: int | None  # the tightest GPU's headroom
    per_gpu: tuple[GpuEstimate, ...]
    warnings: tuple[str, ...]

    def headroom_share(self) -> float | None:
        """Headroom (negative: shortfall) as a share of the tightest GPU's capacity."""
        if self.headroom_bytes is None:
            return None
        tight = next(g for g in self.per_gpu if g.headroom_bytes == self.headroom_bytes)
        return self.headroom_bytes / tight.capacity_bytes if tight.capacity_bytes else 0.0


class WeightPlan(NamedTuple):
    """How the weights are priced: the file's own bytes (fmt None) or a format's rules."""

    name: str  # what the estimate reports as its weight format
    fmt: WeightFormat | None
    exact: bool
    note: str


def weight_plan(model: ModelSpec, workload: Workload) -> WeightPlan:
    inventory = model.inventory
    if inventory is not None and workload.weight_format in (None, model.native_format):
        return WeightPlan(model.native_format, None, True, f"exact: {inventory.describe()}")
    fmt = weight_format(workload.weight_format or model.native_format)
    if inventory is not None:
        return WeightPlan(fmt.name, fmt, False, f"{fmt.label}, re-priced tensor by tensor from the file's tensors")
    if fmt.name == model.native_format and fmt.family == "float":
        return WeightPlan(fmt.name, fmt, True, f"{model.parameter_count():,} parameters in {fmt.label}")
    note = f"{fmt.label}, priced tensor by tensor (scales included; embeddings, norms kept per format rules)"
    return WeightPlan(fmt.name, fmt, False, note)


def resolve_kv_dtype(model: ModelSpec, workload: Workload, weights: str) -> KvDtype:
    """'auto' is the 16-bit compute dtype: fp16 for fp16 checkpoints, fp32 for fp32 weights, else bf16."""
    if workload.kv_dtype != "auto":
        return kv_dtype(workload.kv_dtype)
    if weights == "fp32":
        return KV_DTYPES["fp32"]
    return KV_DTYPES["fp16" if model.native_format == "fp16" else "bf16"]


def kv_bytes_per_token(arch: Architecture, dtype: KvDtype) -> int:
    return _bytes(arch.kv_elements_per_token_total(), dtype)


def _bytes(elements: int, dtype: KvDtype) -> int:
    bpe = dtype.bytes_per_element
    return -(-elements * bpe.numerator // bpe.denominator)


def pipeline_stages(num_layers: int, pp: int) -> tuple[range, ...]:
    """Layers per stage: an even split, the remainder on the stages before the last (as vLLM does),
    since the last stage also holds the output head."""
    sizes = [num_layers // pp] * pp
    for k in range(num_layers % pp):
        sizes[-2 - k if pp > 1 else 0] += 1
    starts = [sum(sizes[:s]) for s in range(pp)]
    return tuple(range(starts[s], starts[s] + sizes[s]) for s in range(pp))


class _Stage(NamedTuple):
    """What one tensor-parallel rank of a pipeline stage holds, independent of context and batch."""

    weights: int
    expert_weights: int
    full: int  # cache elements per token, full-attention layers
    sliding: int  # cache elements per token, sliding layers
    state: int  # recurrent-state elements per sequence


@lru_cache(maxsize=512)
def _stages(
    arch: Architecture, fmt: WeightFormat | None, tp: int, pp: int, inventory: TensorInventory | None
) -> tuple[_Stage, ...]:
    if inventory is not None:
        layout: WeightLayout | InventoryLayout = inventory_layout(inventory, arch, fmt, tp)
    else:
        assert fmt is not None
        layout = weight_layout(arch, fmt, tp)
    out = []
    for s, layers in enumerate(pipeline_stages(arch.num_layers, pp)):
        weights = sum(layout.per_layer[i] for i in layers)
        weights += (layout.first_stage if s == 0 else 0) + (layout.last_stage if s == pp - 1 else 0)
        experts = sum(layout.expert_per_layer[i] for i in layers)
        out.append(_Stage(weights, experts, *_stage_kv(arch, tp, layers)))
    return tuple(out)


def _stage_kv(arch: Architecture, tp: int, layers: range) -> tuple[int, int, int]:
    full = sliding = state = 0
    for i in layers:
        kind = arch.layer_kind(i)
        if kind is LayerKind.MAMBA:
            state += ceil(arch.state_elements_per_sequence(i) / tp)
            continue
        if arch.mla is not None:
            per_token = arch.kv_elements_per_token(i)  # one latent, not split by tensor parallelism
        else:
            heads = arch.kv_heads(i)
            per_token = max(1, ceil(heads / tp)) * (arch.head_dim + arch.v_dim) if heads else 0
        if kind is LayerKind.SLIDING:
            sliding += per_token
        else:
            full += per_token
    return full, sliding, state


def estimate(model: ModelSpec, workload: Workload, deployment: Deployment) -> Estimate:
    arch = model.architecture
    plan = weight_plan(model, workload)
    dtype = resolve_kv_dtype(model, workload, plan.name)
    engine = engine_profile(deployment.engine)
    tp, pp = deployment.tensor_parallel, deployment.pipeline_parallel
    T, B = workload.context, workload.batch
    activation = engine.activation_bytes(arch, T, B, tp)
    overhead = engine.overhead_bytes(tp)
    per_token = kv_bytes_per_token(arch, dtype)
    kv_note = f"{per_token:,} B/token x {T:,} tokens x {B:,} seq in {dtype.label}"
    gpus: list[GpuEstimate] = []
    for s, stage in enumerate(_stages(arch, plan.fmt, tp, pp, model.inventory)):
        kv_tokens = stage.full * engine.kv_tokens(T, LayerKind.FULL, None)
        if stage.sliding:
            kv_tokens += stage.sliding * engine.kv_tokens(T, LayerKind.SLIDING, arch.sliding_window)
        kv_bytes = _bytes(kv_tokens * B, dtype) + stage.state * B * STATE_BYTES_PER_ELEMENT
        segments = (
            Segment.model_construct(
                kind=SegmentKind.WEIGHTS,
                bytes=stage.weights,
                provenance=Provenance.EXACT if plan.exact else Provenance.FORMULA,
                note=plan.note,
            ),
            Segment.model_construct(
                kind=SegmentKind.KV_CACHE, bytes=kv_bytes, provenance=Provenance.EXACT, note=kv_note
            ),
            Segment.model_construct(
                kind=SegmentKind.ACTIVATIONS,
                bytes=activation.bytes,
                provenance=Provenance.FORMULA,
                note=activation.note,
            ),
            Segment.model_construct(
                kind=SegmentKind.OVERHEAD, bytes=overhead.bytes, provenance=Provenance.EMPIRICAL, note=overhead.note
            ),
        )
        for r in range(tp):
            gpus.append(_gpu_estimate(s * tp + r, deployment.gpu(s * tp + r), segments, stage.expert_weights, s))
    return _summarize(model, plan, dtype, workload, tuple(gpus), per_token)


def _gpu_estimate(
    index: int, gpu: GpuSpec | None, segments: tuple[Segment, ...], experts: int, stage: int
) -> GpuEstimate:
    total = sum(s.bytes for s in segments)
    capacity = gpu.capacity_bytes if gpu is not None else None
    return GpuEstimate.model_construct(
        index=index,
        name=gpu.name if gpu is not None else f"GPU {index}",
        capacity_bytes=capacity,
        segments=segments,
        total_bytes=total,
        fits=None if capacity is None else total <= capacity,
        headroom_bytes=None if capacity is None else capacity - total,
        expert_weight_bytes=experts,
        stage=stage,
    )


def _summarize(
    model: ModelSpec,
    plan: WeightPlan,
    dtype: KvDtype,
    workload: Workload,
    gpus: tuple[GpuEstimate, ...],
    per_token: int,
) -> Estimate:
    def total(kind: Any) -> int:
        return sum(g.segment(kind).bytes for g in gpus)

    capacities = [g.capacity_bytes for g in gpus]
    known = all(c is not None for c in capacities)
    return Estimate.model_construct(
        model_name=model.name,
        parameters=model.parameter_count(),
        active_parameters=model.active_parameter_count(),
        weight_format=plan.name,
        kv_dtype=dtype.name,
        context=workload.context,
        batch=workload.batch,
        kv_bytes_per_token=per_token,
        weights_bytes=total(SegmentKind.WEIGHTS),
        kv_cache_bytes=total(SegmentKind.KV_CACHE),
        activation_bytes=total(SegmentKind.ACTIVATIONS),
        overhead_bytes=total(SegmentKind.OVERHEAD),
        total_bytes=sum(g.total_bytes for g in gpus),
        capacity_bytes=sum(c for c in capacities if c is not None) if known else None,
        fits=all(g.fits for g in gpus) if known else None,
        headroom_bytes=min(g.headroom_bytes for g in gpus if g.headroom_bytes is not None) if known else None,
        per_gpu=gpus,
        warnings=_warnings(model, plan, workload, gpus),
    )


def _warnings(model: ModelSpec, plan: WeightPlan, workload: Workload, gpus: tuple[GpuEstimate, ...]) -> tuple[str, ...]:
    arch = model.architecture
    out = []
    if workload.context > arch.max_context:
        out.append(
            f"context {workload.context:,} is above {model.name}'s maximum of {arch.max_context:,} "
            "tokens: the model was not trained for it"
        )
    if plan.fmt is not None and plan.fmt.family == "mxfp4" and arch.moe is None:
        out.append("MXFP4 applies to expert weights only and this model has none: weights stay 16-bit")
    tp = len({g.index for g in gpus if g.stage == 0})
    if arch.mla is None and tp > arch.num_kv_heads:
        out.append(f"tensor parallel {tp} exceeds the {arch.num_kv_heads} KV heads: K/V heads are replicated")
    return tuple(out)
