"""Inverse questions: the largest context or batch that still fits, exact at the boundary."""

from collections.abc import Callable

from vramscope.core.estimate import estimate
from vramscope.core.scenario import MAX_BATCH, Deployment, ModelSpec, Workload


def _largest(lo: int, hi: int, fits: Callable[[int], bool]) -> int | None:
    """The largest n in [lo, hi] with fits(n), for a fits that turns false once and stays false.
    Gallops up from lo first, so a small answer (a batch of 4 under a cap of 10^7) takes a few steps."""
    if not fits(lo):
        return None
    step = 1
    while lo + step <= hi and fits(lo + step):
        lo += step
        step *= 2
    hi = min(hi, lo + step - 1)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if fits(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo


def _fits(model: ModelSpec, workload: Workload, deployment: Deployment, **change: int) -> bool:
    changed = Workload.model_validate({**workload.model_dump(), **change})
    return bool(estimate(model, changed, deployment).fits)


def max_context(model: ModelSpec, workload: Workload, deployment: Deployment) -> int | None:
    """Largest context (never above the model's maximum) that fits at this batch; None if none does
    or no capacity is known."""
    if not deployment.gpus or any(g.capacity_bytes is None for g in deployment.gpus):
        return None
    top = model.architecture.max_context
    return _largest(1, top, lambda n: _fits(model, workload, deployment, context=n))


def max_batch(model: ModelSpec, workload: Workload, deployment: Deployment) -> int | None:
    """Largest number of concurrent sequences that fits at this context."""
    if not deployment.gpus or any(g.capacity_bytes is None for g in deployment.gpus):
        return None
    return _largest(1, MAX_BATCH, lambda n: _fits(model, workload, deployment, batch=n))
