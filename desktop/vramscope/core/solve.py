"""Inverse questions: the largest context or batch that still fits, exact at the boundary."""

from collections.abc import Callable

from vramscope.core.estimate import estimate
from vramscope.core.scenario import MAX_BATCH, MAX_CONTEXT, Deployment, ModelSpec, Workload

Probe = Callable[[int], tuple[bool, float | None]]  # n -> (fits, slack: room left, in any unit)


def _largest(lo: int, hi: int, probe: Probe) -> int | None:
    """The largest n in [lo, hi] that fits, for a fits that turns false once and stays false.

    Memory grows about linearly with context and batch, so the boundary is guessed by interpolating the
    slack between the last point that fits and the first that does not (regula falsi): a linear boundary
    takes four or five estimates instead of a binary search's forty. Whenever a guess fails to halve the
    interval (padding steps, a curved slack) a bisection follows, so the search stays exact at the boundary
    whatever the shape and never takes more than two estimates per halving."""
    fits_lo, slack_lo = probe(lo)
    if not fits_lo:
        return None
    fits_hi, slack_hi = probe(hi)
    if fits_hi:
        return hi
    while hi - lo > 1:
        width = hi - lo
        guess = (lo + hi) // 2
        if slack_lo is not None and slack_hi is not None and slack_lo > slack_hi:
            step = round(slack_lo / (slack_lo - slack_hi) * width)
            guess = min(max(lo + step, lo + 1), hi - 1)
        fits, slack = probe(guess)
        if fits:
            lo, slack_lo = guess, slack
        else:
            hi, slack_hi = guess, slack
        mid = (lo + hi) // 2
        if hi - lo > width // 2 and lo < mid < hi:  # the guess barely moved a bound: bisect as well
            fits, slack = probe(mid)
            if fits:
                lo, slack_lo = mid, slack
            else:
                hi, slack_hi = mid, slack
    return lo


def _probe(model: ModelSpec, workload: Workload, deployment: Deployment, field: str) -> Probe:
    def probe(n: int) -> tuple[bool, float | None]:
        changed = Workload.model_construct(**{**workload.__dict__, field: n})  # n is in range: no re-validation
        est = estimate(model, changed, deployment)
        return bool(est.fits), est.slack_bytes

    return probe


def max_context(model: ModelSpec, workload: Workload, deployment: Deployment) -> int | None:
    """Largest context (never above the model's maximum) that fits at this batch; None if none does
    or no capacity is known."""
    if not deployment.gpus or any(g.capacity_bytes is None for g in deployment.gpus):
        return None
    top = min(model.architecture.max_context, MAX_CONTEXT)  # a config may claim more than a workload takes
    return _largest(1, top, _probe(model, workload, deployment, "context"))


def max_batch(model: ModelSpec, workload: Workload, deployment: Deployment) -> int | None:
    """Largest number of concurrent sequences that fits at this context."""
    if not deployment.gpus or any(g.capacity_bytes is None for g in deployment.gpus):
        return None
    return _largest(1, MAX_BATCH, _probe(model, workload, deployment, "batch"))
