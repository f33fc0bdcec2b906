"""The ways out when a scenario does not fit, and the room left when it does, each with its numbers and the
change that applies it. The note this project grew from names four: more GPUs, a bigger GPU, a smaller
model, quantization; the KV dtype and the context are the cheapest of all."""

from collections.abc import Sequence
from typing import Any, NamedTuple

from vramscope.core.estimate import estimate
from vramscope.core.precision import known_format
from vramscope.core.scenario import Deployment, GpuSpec, ModelSpec, Workload
from vramscope.core.solve import (
    best_format,
    best_kv_dtype,
    fewest_gpus,
    fits,
    max_batch,
    max_context,
    smallest_gpu,
)
from vramscope.core.units import format_bytes


class Advice(NamedTuple):
    kind: str  # kv | format | context | gpus | gpu | model | batch
    text: str  # "KV cache fp8: fits with 3.2 GiB to spare"
    change: dict[str, Any]  # what applying it sets: workload fields, "gpu_count", "gpu" (GpuSpec), "model"


def _spare(model: ModelSpec, workload: Workload, deployment: Deployment) -> str:
    est = estimate(model, workload, deployment)
    return format_bytes(est.headroom_bytes) if est.headroom_bytes is not None else "room"


def _with(workload: Workload, **change: Any) -> Workload:
    return Workload.model_validate({**workload.model_dump(), **change})


def ways_out(
    model: ModelSpec,
    workload: Workload,
    deployment: Deployment,
    gpus: Sequence[GpuSpec] = (),
    models: Sequence[ModelSpec] = (),
) -> list[Advice]:
    """What would make it fit, cheapest first; empty when it already fits or nothing is known to plan for.
    `gpus` are the GPUs one could buy (the catalog), `models` the ones one could run instead (presets)."""
    if not deployment.gpus or estimate(model, workload, deployment).fits is not False:
        return []
    out: list[Advice] = []
    kv = best_kv_dtype(model, workload, deployment)
    if kv is not None and kv != workload.kv_dtype:
        label = "the engine's default" if kv == "auto" else kv
        out.append(
            Advice(
                "kv",
                f"KV cache {label}: fits with {_spare(model, _with(workload, kv_dtype=kv), deployment)} to spare",
                {"kv_dtype": kv},
            )
        )
    fmt = best_format(model, workload, deployment)
    if fmt is not None and fmt != (workload.weight_format or model.native_format):
        label = known.label if (known := known_format(fmt)) else fmt
        spare = _spare(model, _with(workload, weight_format=fmt), deployment)
        out.append(Advice("format", f"{label} fits with {spare} to spare", {"weight_format": fmt}))
    context = max_context(model, workload, deployment)
    if context is not None and context < workload.context:
        out.append(Advice("context", f"Context {context:,} fits", {"context": context}))
    n = fewest_gpus(model, workload, deployment, most=64)
    if n is not None and n != deployment.gpu_count:
        name = deployment.gpus[0].name
        out.append(Advice("gpus", f"{n} x {name}, split over {n} GPUs", {"gpu_count": n}))
    bigger = smallest_gpu(model, workload, deployment, [g for g in gpus if g.capacity_bytes])
    if bigger is not None:
        count = f"{deployment.gpu_count} x " if deployment.gpu_count > 1 else "a GPU like "
        out.append(Advice("gpu", f"{count}{bigger.name} or larger", {"gpu": bigger}))
    smaller = [m for m in models if m.parameter_count() < model.parameter_count()]
    # the largest smaller model that fits as it is asked for now, of the same family first
    for other in sorted(smaller, key=lambda m: (m.family != model.family, -m.parameter_count())):
        other_workload = _with(workload, context=min(workload.context, other.architecture.max_context))
        if fits(other, other_workload, deployment):
            fmt = workload.weight_format or f"its own {other.native_format}"
            out.append(Advice("model", f"{other.name} fits at {fmt}", {"model": other}))
            break
    return out


def room_left(model: ModelSpec, workload: Workload, deployment: Deployment) -> list[Advice]:
    """When it fits: how far it could go, as changes to apply."""
    if not deployment.gpus or not estimate(model, workload, deployment).fits:
        return []
    out = []
    context = max_context(model, workload, deployment)
    if context is not None and context > workload.context:
        out.append(Advice("context", f"Room for a context of {context:,}", {"context": context}))
    batch = max_batch(model, workload, deployment)
    if batch is not None and batch > workload.batch:
        out.append(Advice("batch", f"Room for {batch:,} sequences at once", {"batch": batch}))
    own = model.native_format
    if (
        workload.weight_format not in (None, own)
        and estimate(model, _with(workload, weight_format=None), deployment).fits
    ):
        out.append(Advice("format", f"The model's own {own} fits too", {"weight_format": None}))
    return out
