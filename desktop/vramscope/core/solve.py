"""Inverse questions: the largest context or batch that still fits (exact at the boundary), and the ways out
when it does not: a weight format, a KV dtype, more GPUs, a bigger GPU."""

from collections.abc import Callable, Sequence
from typing import NamedTuple

from vramscope.core.engines import engine_profile
from vramscope.core.estimate import estimate
from vramscope.core.precision import KV_DTYPES, WEIGHT_FORMATS, WeightFormat, known_format, weight_format
from vramscope.core.scenario import MAX_BATCH, MAX_CONTEXT, PARALLEL_ENGINES, Deployment, GpuSpec, ModelSpec, Workload

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
    """Largest number of concurrent sequences that fits at this context, never more than the engine runs at
    once (llama.cpp's 256 slots, vLLM's --max-num-seqs, SGLang's request pool)."""
    if not deployment.gpus or any(g.capacity_bytes is None for g in deployment.gpus):
        return None
    top = engine_profile(deployment.engine).max_sequences(deployment) or MAX_BATCH
    return _largest(1, min(top, MAX_BATCH), _probe(model, workload, deployment, "batch"))


class Sizing(NamedTuple):
    """How many data-parallel replicas serve a load: each holds what its own KV pool and limits allow."""

    replicas: int
    gpus: int  # replicas x tp x pp
    sequences_per_replica: int  # at this context, the most one replica holds at once (sharing experts with all)
    deployment: Deployment  # the replicas as one data-parallel deployment; one replica for engines without


MAX_REPLICAS = 1024


def replicas_for(model: ModelSpec, workload: Workload, deployment: Deployment, sequences: int) -> Sizing | None:
    """The fewest replicas of the tp x pp group that hold `sequences` concurrent sequences at this context
    (None: a replica holds none, or the engine has no data parallel and one replica is not enough). For a MoE
    model in vLLM or SGLang more replicas also spread the experts thinner, so each holds more: the capacity
    is found per replica count, by doubling and then bisection."""
    one = deployment.replica(0).model_copy(update={"expert_parallel": deployment.expert_parallel})
    parallel = deployment.engine in PARALLEL_ENGINES

    def at(dp: int) -> Deployment:  # dp replicas, each on GPUs like the first's
        if dp == 1 or not parallel:
            return one
        gpus = one.gpus * dp if len(one.gpus) > 1 else one.gpus
        return Deployment.model_validate({**dict(one), "data_parallel": dp, "gpus": gpus})

    def held(dp: int) -> int:  # sequences dp replicas hold together
        try:
            return dp * (max_batch(model, workload, at(dp)) or 0)
        except ValueError:  # a layout the engine refuses
            return 0

    def sized(count: int, per: int) -> Sizing:
        return Sizing(count, count * one.gpu_count, per, at(count))

    per = held(1)
    if per >= sequences:
        return sized(1, per)
    if model.architecture.moe is None or not parallel:  # replicas alike whatever their number
        count = -(-sequences // per) if per else MAX_REPLICAS + 1
        return sized(count, per) if count <= MAX_REPLICAS else None
    lo, hi = 1, 2
    while held(hi) < sequences:
        lo, hi = hi, hi * 2
        if hi > MAX_REPLICAS:
            return None
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if held(mid) >= sequences else (mid, hi)
    return sized(hi, held(hi) // hi)


# --- the ways out: what to change so that it fits ----------------------------------------------------------


def fits(model: ModelSpec, workload: Workload, deployment: Deployment) -> bool:
    """Whether a changed scenario fits; a change the engine refuses outright does not."""
    try:
        return bool(estimate(model, workload, deployment).fits)
    except ValueError:
        return False


def formats_for(model: ModelSpec, deployment: Deployment) -> list[str]:
    """The weight formats the engine runs, the model's own first, then from the most bits to the fewest
    (never above the model's own precision: fp32 is no way out)."""
    families = set(engine_profile(deployment.engine).weight_families(deployment.settings))
    try:
        own: WeightFormat | None = weight_format(model.native_format)
    except ValueError:
        own = None  # a GGUF's own mix of types, priced from its file
    ceiling = own.bits if own is not None else 16
    names = [
        n
        for n, f in sorted(WEIGHT_FORMATS.items(), key=lambda item: -item[1].bits)
        if f.family.value in families and f.bits <= ceiling and n != model.native_format
    ]
    return [model.native_format, *names] if own is not None else names


# The note this project grew from: a larger model quantized keeps its edge over a smaller one only down to
# about 4 bits per weight, "the sweet spot"; below it quality falls fast. Lists of what fits stop there
# unless asked to go lower (`fit --min-bits`)
MIN_BITS = 4.0


def format_bits(name: str) -> float | None:
    """Bits per weight of a named format; None for a GGUF's own mix (priced from its file)."""
    known = known_format(name)
    return known.bits if known is not None else None


def best_format(model: ModelSpec, workload: Workload, deployment: Deployment, min_bits: float = 0.0) -> str | None:
    """The weight format with the most bits (the least quality given up) that fits, of at least min_bits."""
    for name in formats_for(model, deployment):
        bits = format_bits(name)
        if bits is not None and bits < min_bits:
            break  # from the most bits to the fewest: the rest are lower still
        changed = Workload.model_validate({**workload.model_dump(), "weight_format": name})
        if fits(model, changed, deployment):
            return name
    return None


def kv_choices(deployment: Deployment) -> list[str]:
    """The engine's default, then its KV dtypes from the most bytes per element to the fewest."""
    names = sorted(engine_profile(deployment.engine).kv_dtypes(), key=lambda n: -KV_DTYPES[n].bytes_per_element)
    return ["auto", *names]


def best_kv_dtype(model: ModelSpec, workload: Workload, deployment: Deployment) -> str | None:
    """The KV-cache dtype with the most bytes per element that fits."""
    for name in kv_choices(deployment):
        changed = Workload.model_validate({**workload.model_dump(), "kv_dtype": name})
        if fits(model, changed, deployment):
            return name
    return None


def listed_gpus(deployment: Deployment) -> bool:
    """Whether the GPUs are told apart (detected ones, of different kinds or memory), not n of one GPU."""
    return any(g != deployment.gpus[0] for g in deployment.gpus)


def with_gpu_count(deployment: Deployment, n: int) -> Deployment:
    """The deployment on n GPUs: the first n of GPUs listed one by one (detected ones), else n of its one GPU."""
    gpus = deployment.gpus[:n] if listed_gpus(deployment) else (deployment.gpus[0],) * n
    fields = {"gpus": gpus, "tensor_parallel": n, "pipeline_parallel": 1, "data_parallel": 1, "nodes": 1}
    return Deployment.model_validate({**dict(deployment), **fields})


def fewest_gpus(model: ModelSpec, workload: Workload, deployment: Deployment, most: int = 64) -> int | None:
    """The fewest GPUs (tensor parallel, or a layer split) that fit: of those listed one by one (the detected
    GPUs, in order), else like the one given, up to `most`."""
    if not deployment.gpus:
        return None
    top = len(deployment.gpus) if listed_gpus(deployment) else most
    for n in range(1, top + 1):
        if fits(model, workload, with_gpu_count(deployment, n)):
            return n
    return None


def smallest_gpu(
    model: ModelSpec, workload: Workload, deployment: Deployment, candidates: Sequence[GpuSpec]
) -> GpuSpec | None:
    """The GPU with the least memory, among `candidates`, that fits as many of it as the deployment uses."""
    for gpu in sorted(candidates, key=lambda g: g.capacity_bytes or 0):
        changed = Deployment.model_validate({**dict(deployment), "gpus": (gpu,)})
        if fits(model, workload, changed):
            return gpu
    return None
