"""estimate(model, workload, deployment): per-GPU memory segments with provenance, as the chosen engine
allocates them. The only formula path: the engine profile fills the GPUs, this module sums and compares."""

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

from vramscope.core.architecture import Architecture
from vramscope.core.engines import engine_profile
from vramscope.core.engines.base import Allocation, EngineSettingsError, Request, cache_bytes
from vramscope.core.precision import KvDtype, kv_dtype
from vramscope.core.scenario import PARALLEL_ENGINES, Deployment, GpuSpec, ModelSpec, Workload
from vramscope.core.segments import SEGMENT_LABELS, Provenance, Segment, SegmentKind, segment
from vramscope.core.weights import WeightPlan, pipeline_stages, weight_plan

__all__ = [
    "SEGMENT_LABELS",
    "Estimate",
    "GpuEstimate",
    "Provenance",
    "Segment",
    "SegmentKind",
    "estimate",
    "pipeline_stages",
    "resolve_kv_dtype",
    "weight_plan",
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)


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

    def bytes_of(self, kind: SegmentKind) -> int:
        return sum(s.bytes for s in self.segments if s.kind is kind)

    def segment(self, kind: SegmentKind) -> Segment:
        """The segments of one kind as one (bytes summed, notes joined)."""
        found = [s for s in self.segments if s.kind is kind]
        if len(found) == 1:
            return found[0]
        provenance = found[0].provenance if found else Provenance.FORMULA
        note = "; ".join(f"{s.title}: {s.note}" for s in found)
        return segment(kind, sum(s.bytes for s in found), provenance, note)


class Estimate(_Frozen):
    model_name: str
    engine: str
    parameters: int
    active_parameters: int
    weight_format: str
    kv_dtype: str
    context: int
    batch: int
    kv_bytes_per_token: int  # one sequence, all layers, below every sliding window
    weights_bytes: int  # all GPUs together (replicated parts counted on each)
    kv_cache_bytes: int
    kv_reserved_bytes: int  # preallocated pool this workload does not use
    activation_bytes: int
    overhead_bytes: int
    total_bytes: int
    capacity_bytes: int | None
    fits: bool | None  # every GPU and the host hold their part, and the engine starts
    headroom_bytes: int | None  # the tightest GPU's headroom
    slack_bytes: int | None  # how far the workload could still grow: the headroom, or what a pool has left
    per_gpu: tuple[GpuEstimate, ...]
    host: tuple[Segment, ...]  # what the engine keeps in system memory
    host_capacity_bytes: int | None  # system memory the plan may use; None: not compared
    host_need_bytes: int  # the host's part, plus what unified-memory GPUs take from the same RAM
    host_fits: bool | None
    margin_bytes: int | None  # the error this engine profile has been measured to make, for this scenario
    tight: bool  # fits, but by less than the margin: the engine may not start
    engine_details: Mapping[str, Any]
    refusal: str  # the engine would not start, in its words
    shortfall: str  # it starts but cannot hold this workload
    engine_verdict: str
    warnings: tuple[str, ...]

    @property
    def host_bytes(self) -> int:
        return sum(s.bytes for s in self.host)

    @property
    def host_headroom_bytes(self) -> int | None:
        return None if self.host_capacity_bytes is None else self.host_capacity_bytes - self.host_need_bytes

    @property
    def gpus_fit(self) -> bool | None:
        """Every GPU holds its part (None: a capacity is unknown); the host aside."""
        return None if self.capacity_bytes is None else all(g.fits for g in self.per_gpu)

    def headroom_share(self) -> float | None:
        """Headroom (negative: shortfall) as a share of the tightest GPU's capacity."""
        if self.headroom_bytes is None:
            return None
        tight = next(g for g in self.per_gpu if g.headroom_bytes == self.headroom_bytes)
        return self.headroom_bytes / tight.capacity_bytes if tight.capacity_bytes else 0.0


def resolve_kv_dtype(model: ModelSpec, workload: Workload, deployment: Deployment, weights: str) -> KvDtype:
    """'auto' is the engine's default (the compute dtype for PyTorch engines, f16 for llama.cpp)."""
    profile = engine_profile(deployment.engine)
    if workload.kv_dtype == "auto":
        return profile.default_kv_dtype(model, weights)
    if workload.kv_dtype not in profile.kv_dtypes():
        raise EngineSettingsError(
            f"{profile.label} has no {workload.kv_dtype} KV cache; it offers auto, {', '.join(profile.kv_dtypes())}"
        )
    return kv_dtype(workload.kv_dtype)


def kv_bytes_per_token(arch: Architecture, dtype: KvDtype) -> int:
    return cache_bytes(arch.kv_elements_per_token_total(), dtype)


def estimate(model: ModelSpec, workload: Workload, deployment: Deployment) -> Estimate:
    """Raises EngineSettingsError (a ValueError) for settings the engine refuses outright."""
    profile = engine_profile(deployment.engine)
    if deployment.pipeline_parallel > model.architecture.num_layers:
        raise EngineSettingsError(
            f"pipeline parallel {deployment.pipeline_parallel} exceeds the {model.architecture.num_layers} layers: "
            "some stages would hold none"
        )
    dp, ep = deployment.data_parallel, deployment.expert_parallel
    if (dp > 1 or ep or deployment.nodes > 1) and deployment.engine not in PARALLEL_ENGINES:
        raise EngineSettingsError(
            f"{profile.label} has no data or expert parallel, nor a plan over nodes here: start one server per "
            "machine or group of GPUs (tensor and pipeline parallel split a model inside one)"
        )
    replica = deployment.replica(0) if dp > 1 or ep or deployment.nodes > 1 else deployment
    profile.check(model, workload, replica)
    plan = weight_plan(model, workload)
    dtype = resolve_kv_dtype(model, workload, deployment, plan.name)

    def allocate(r: int) -> Allocation:
        return profile.allocate(
            Request(model, workload, deployment.replica(r) if r else replica, plan, dtype, dp, ep, deployment.nodes)
        )

    allocation = allocate(0) if dp == 1 else _replicas(allocate, deployment)
    allocation = _across_nodes(allocation, deployment)
    gpus = tuple(
        _gpu_estimate(i, deployment.gpu(i), part.segments, part.expert_weight_bytes, part.stage)
        for i, part in enumerate(allocation.gpus)
    )
    return _summarize(model, plan, dtype, workload, deployment, gpus, allocation)


def _replicas(allocate: Callable[[int], Allocation], deployment: Deployment) -> Allocation:
    """Every data-parallel replica on its own GPUs (one plan when they are alike); the engine refuses when any
    rank does, and each replica holds the workload on its own."""
    dp, size = deployment.data_parallel, deployment.replica_size
    alike = len(deployment.gpus) <= 1 or len(set(deployment.gpus)) == 1
    plans = [allocate(0)] * dp if alike else [allocate(r) for r in range(dp)]
    first = plans[0]
    refused = next((r for r, a in enumerate(plans) if a.refusal), None)
    short = next((r for r, a in enumerate(plans) if a.shortfall), None)
    slack = [a.pool_slack for a in plans if a.pool_slack is not None]
    return Allocation(
        gpus=tuple(part for a in plans for part in a.gpus),
        host=first.host,
        details={**first.details, "data_parallel": dp, "expert_parallel": deployment.expert_parallel},
        refusal=plans[refused].refusal if refused is not None else "",  # in the engine's words, as it logs them
        shortfall=plans[short].shortfall if short is not None else "",
        verdict=f"{first.verdict}, on each of {dp} data-parallel replicas" if first.verdict else "",
        warnings=tuple(dict.fromkeys(w for a in plans for w in a.warnings))
        + ((f"data-parallel replica {refused} (from GPU {refused * size}) is the one refused",) if refused else ()),
        pool_slack=min(slack) if slack else None,
    )


def _across_nodes(allocation: Allocation, deployment: Deployment) -> Allocation:
    """Tensor parallel inside a node, pipeline and data parallel across them: say where TP would cross."""
    per_node = deployment.gpus_per_node
    if deployment.nodes == 1 or per_node % deployment.tensor_parallel == 0:  # every TP group inside one node
        return allocation
    warning = (
        f"tensor parallel {deployment.tensor_parallel} crosses nodes of {per_node} GPUs: its all-reduces, one "
        "per layer and token, go over the network; put pipeline (or data) parallel across nodes instead"
    )
    return allocation._replace(warnings=(*allocation.warnings, warning))


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
    deployment: Deployment,
    gpus: tuple[GpuEstimate, ...],
    allocation: Allocation,
) -> Estimate:
    def total(kind: SegmentKind) -> int:
        return sum(g.bytes_of(kind) for g in gpus)

    capacities = [g.capacity_bytes for g in gpus]
    known = all(c is not None for c in capacities)
    refused = bool(allocation.refusal or allocation.shortfall)
    headroom = min(g.headroom_bytes for g in gpus if g.headroom_bytes is not None) if known else None
    # A preallocated pool keeps the GPUs' use constant: within it, the workload grows into the pool.
    slack = allocation.pool_slack if allocation.pool_slack is not None and (headroom or 0) >= 0 else headroom
    host = deployment.host
    # A unified-memory GPU's share comes out of the same RAM as the host's part
    host_need = sum(s.bytes for s in allocation.host) + sum(
        g.total_bytes for i, g in enumerate(gpus) if (spec := deployment.gpu(i)) is not None and spec.unified_memory
    )
    host_fits = None if host is None else host_need <= host.capacity_bytes
    if host is not None and slack is not None:
        slack = min(slack, host.capacity_bytes - host_need)  # the host bounds the growth as well
    gpus_fit = all(g.fits for g in gpus) if known else None
    if refused or host_fits is False or gpus_fit is False:
        fits: bool | None = False
    else:
        fits = gpus_fit
    margin = _margin(gpus, headroom, deployment) if known else None
    # Within the profile's own error the outcome could go either way: a plain fit, but flagged. Beside a pool,
    # what the engine allocates after it (CUDA graphs, the sampler's warm-up) needs the room outside it too
    least = slack if slack is None or headroom is None else min(slack, headroom)
    tight = bool(fits) and margin is not None and least is not None and least < margin
    return Estimate.model_construct(
        model_name=model.name,
        engine=deployment.engine.value,
        parameters=model.parameter_count(),
        active_parameters=model.active_parameter_count(),
        weight_format=plan.name,
        kv_dtype=dtype.name,
        context=workload.context,
        batch=workload.batch,
        kv_bytes_per_token=kv_bytes_per_token(model.architecture, dtype),
        weights_bytes=total(SegmentKind.WEIGHTS),
        kv_cache_bytes=total(SegmentKind.KV_CACHE),
        kv_reserved_bytes=total(SegmentKind.KV_RESERVED),
        activation_bytes=total(SegmentKind.ACTIVATIONS),
        overhead_bytes=total(SegmentKind.OVERHEAD),
        total_bytes=sum(g.total_bytes for g in gpus),
        capacity_bytes=sum(c for c in capacities if c is not None) if known else None,
        fits=fits,
        headroom_bytes=headroom,
        slack_bytes=slack,
        per_gpu=gpus,
        host=allocation.host,
        host_capacity_bytes=None if host is None else host.capacity_bytes,
        host_need_bytes=host_need,
        host_fits=host_fits,
        margin_bytes=margin,
        tight=tight,
        engine_details=dict(allocation.details),
        refusal=allocation.refusal,
        shortfall=allocation.shortfall,
        engine_verdict=allocation.verdict,
        warnings=_warnings(model, plan, workload, deployment) + allocation.warnings,
    )


def _margin(gpus: tuple[GpuEstimate, ...], headroom: int | None, deployment: Deployment) -> int:
    """The profile's measured error (a share of what it predicts a GPU holds) in bytes, on the tightest GPU."""
    tightest = next(g for g in gpus if g.headroom_bytes == headroom)
    return round(engine_profile(deployment.engine).measured_error(deployment.settings).share * tightest.total_bytes)


def _warnings(model: ModelSpec, plan: WeightPlan, workload: Workload, deployment: Deployment) -> tuple[str, ...]:
    arch = model.architecture
    out = []
    if workload.context > arch.max_context:
        out.append(
            f"context {workload.context:,} is above {model.name}'s maximum of {arch.max_context:,} "
            "tokens: the model was not trained for it"
        )
    if plan.fmt is not None and plan.fmt.family == "mxfp4" and arch.moe is None:
        out.append("MXFP4 applies to expert weights only and this model has none: weights stay 16-bit")
    tp = deployment.tensor_parallel
    splits_tensors = deployment.engine.value not in ("llama.cpp", "ollama")
    if splits_tensors and arch.mla is None and tp > arch.num_kv_heads:
        out.append(f"tensor parallel {tp} exceeds the {arch.num_kv_heads} KV heads: K/V heads are replicated")
    return tuple(out)
