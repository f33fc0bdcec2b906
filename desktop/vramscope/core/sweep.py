"""Memory and decode speed against context length or batch: the curves beside the bar. Every point is one
call of `estimate`, so a curve equals the point estimates wherever it is sampled."""

import math
from typing import Literal, NamedTuple

from vramscope.core.estimate import Estimate, SegmentKind, estimate
from vramscope.core.scenario import MAX_BATCH, MAX_CONTEXT, Deployment, ModelSpec, Workload
from vramscope.core.speed import decode_tokens_per_s

Axis = Literal["context", "batch"]
CURVE_POINTS = 40  # enough to show a sliding-window knee; 40 estimates take 3-7 ms (bench_gui.py)
SHORTEST_CONTEXT = 128  # the curve starts where a prompt plus a reply would


class CurvePoint(NamedTuple):
    value: int  # the context or batch at this point
    weights_bytes: int  # on the GPU the curve follows
    kv_bytes: int  # the KV cache this workload needs (beyond a preallocated pool's end when it does not fit)
    other_bytes: int  # activations and overhead
    limit_bytes: int | None  # what it may grow to: the GPU's capacity, or the end of a preallocated pool
    fits: bool | None
    tokens_per_s: float | None  # None where it does not fit or a bandwidth is unknown

    @property
    def used_bytes(self) -> int:
        return self.weights_bytes + self.kv_bytes + self.other_bytes


class Curve(NamedTuple):
    axis: Axis
    gpu_index: int  # the GPU followed: the tightest one at the current workload
    points: tuple[CurvePoint, ...]


def sample_points(lo: int, hi: int, count: int, include: tuple[int, ...] = ()) -> list[int]:
    """`count` integers spread evenly on a log scale from lo to hi, plus `include` (the values the user
    chose, a window edge), sorted and without repeats."""
    if hi <= lo:
        return sorted({lo, *(v for v in include if lo <= v <= hi)})
    step = (math.log(hi) - math.log(lo)) / max(count - 1, 1)
    values = {round(math.exp(math.log(lo) + i * step)) for i in range(count)}
    values |= {lo, hi, *(v for v in include if lo <= v <= hi)}
    return sorted(values)


def axis_range(model: ModelSpec, axis: Axis, current: int) -> tuple[int, int]:
    """Context: from a short prompt to the model's maximum. Batch: 1 to well past the current batch."""
    if axis == "context":
        top = min(model.architecture.max_context, MAX_CONTEXT)
        return min(SHORTEST_CONTEXT, top), top
    return 1, min(MAX_BATCH, max(256, 4 * current))


def _point(model: ModelSpec, deployment: Deployment, est: Estimate, gpu_index: int, value: int) -> CurvePoint:
    gpu = next((g for g in est.per_gpu if g.index == gpu_index), est.per_gpu[0])
    weights = gpu.bytes_of(SegmentKind.WEIGHTS)
    kv = gpu.bytes_of(SegmentKind.KV_CACHE)
    other = gpu.total_bytes - weights - kv - gpu.bytes_of(SegmentKind.KV_RESERVED)
    limit = gpu.capacity_bytes
    # A preallocated pool (vLLM, SGLang) fixes the GPU's use; the workload fits while it needs no more than
    # the pool holds, so the pool's end is the limit. The bar caps the cache at that end; past it, the need
    # is the end plus what the pool lacks.
    if est.slack_bytes is not None and est.slack_bytes != est.headroom_bytes:
        limit = gpu.total_bytes
        if est.slack_bytes < 0:
            kv = gpu.total_bytes - est.slack_bytes - weights - other
    tokens = decode_tokens_per_s(model, est, deployment) if est.fits is not False else None  # it would not run
    return CurvePoint(value, weights, kv, other, limit, est.fits, tokens)


def tightest_gpu(est: Estimate) -> int:
    """The GPU with the least headroom: the one a curve follows."""
    known = [g for g in est.per_gpu if g.headroom_bytes is not None]
    if not known:
        return est.per_gpu[0].index if est.per_gpu else 0
    return min(known, key=lambda g: g.headroom_bytes or 0).index


def memory_curve(
    model: ModelSpec, workload: Workload, deployment: Deployment, axis: Axis, count: int = CURVE_POINTS
) -> Curve:
    """Memory on the tightest GPU and decode speed at `count` points of the axis (and a sliding window's
    edge, where the curve bends). The points do not depend on the workload's own value on the axis, so a
    drag along it moves only the marker. A point the engine refuses is left out."""
    gpu_index = tightest_gpu(estimate(model, workload, deployment))
    lo, hi = axis_range(model, axis, getattr(workload, axis))
    window = model.architecture.sliding_window if axis == "context" else None
    points = []
    for value in sample_points(lo, hi, count, (window,) if window else ()):
        changed = Workload.model_construct(**{**workload.__dict__, axis: value})  # in range: no re-validation
        try:
            est = estimate(model, changed, deployment)
        except ValueError:
            continue
        points.append(_point(model, deployment, est, gpu_index, value))
    return Curve(axis, gpu_index, tuple(points))
