"""The ways out when a scenario does not fit, and the room left when it does, each with its numbers and the
change that applies it. The note this project grew from names four: more GPUs, a bigger GPU, a smaller
model, quantization; the KV dtype and the context are the cheapest of all."""

from collections.abc import Sequence
from typing import Any, NamedTuple

from vramscope.core.engines import engine_profile
from vramscope.core.estimate import estimate
from vramscope.core.precision import known_format
from vramscope.core.scenario import Deployment, Engine, GpuSpec, ModelSpec, Workload
from vramscope.core.solve import (
    best_format,
    best_kv_dtype,
    fewest_gpus,
    fits,
    listed_gpus,
    max_batch,
    max_context,
    smallest_gpu,
    with_gpu_count,
)
from vramscope.core.units import GIB, format_bytes


class Advice(NamedTuple):
    kind: str  # settings | kv | context | batch | engine | format | gpus | process | gpu | model
    text: str  # "KV cache fp8: fits with 3.2 GiB to spare"
    change: dict[str, Any]  # what applying it sets: workload fields, "settings", "engine", "gpu_count", "gpu", "model"
    args: tuple[str, ...] = ()  # the CLI flags that apply it (a model's name first, for another model)


# The engines' memory fraction: (setting, CLI flag). Lowered where other processes hold part of the GPU
# (the budget must fit what is free), raised where the pool is a little short
FRACTIONS = {
    Engine.VLLM: ("gpu_memory_utilization", "--gpu-util"),
    Engine.SGLANG: ("mem_fraction_static", "--mem-fraction"),
}
BIGGER_GPU = 1.1
FRACTION_RANGE = (50, 98)  # hundredths tried: below half the GPU, or all of it, no engine is run that way


def _spare(model: ModelSpec, workload: Workload, deployment: Deployment) -> str:
    est = estimate(model, workload, deployment)
    return format_bytes(est.headroom_bytes) if est.headroom_bytes is not None else "room"


def _with(workload: Workload, **change: Any) -> Workload:
    return Workload.model_validate({**workload.model_dump(), **change})


def _with_settings(deployment: Deployment, **change: Any) -> Deployment:
    return deployment.model_copy(update={"settings": deployment.settings.model_copy(update=change)})


def _fraction(model: ModelSpec, workload: Workload, deployment: Deployment) -> Advice | None:
    """The memory fraction nearest the one in use that fits, a hundredth at a time either way."""
    knob = FRACTIONS.get(deployment.engine)
    if knob is None:
        return None
    key, flag = knob
    current = estimate(model, workload, deployment).engine_details.get(key)
    if not isinstance(current, float):
        return None
    now = round(current * 100)
    low, high = FRACTION_RANGE
    for step in range(1, high - low + 1):
        for value in (now - step, now + step):
            if low <= value <= high:
                changed = _with_settings(deployment, **{key: value / 100})
                if fits(model, workload, changed):
                    spare = _spare(model, workload, changed)
                    return Advice(
                        "settings",
                        f"{key} {value / 100:.2f}: fits with {spare} to spare",
                        {"settings": {key: value / 100}},
                        (flag, f"{value / 100:.2f}"),
                    )
    return None


def _gpu_layers(model: ModelSpec, workload: Workload, deployment: Deployment) -> Advice | None:
    """llama.cpp's partial offload: the most layers the GPUs hold, the rest in system memory (-ngl)."""
    if deployment.engine != Engine.LLAMACPP:
        return None  # Ollama places as many as fit by itself

    def on_gpus(n: int) -> bool:
        return _on_gpus(model, workload, _with_settings(deployment, n_gpu_layers=n))

    lo, hi = 0, model.architecture.num_layers  # fewer layers on the GPUs never needs more of them
    if not on_gpus(lo):
        return None
    while lo < hi:
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if on_gpus(mid) else (lo, mid - 1)
    changed = _with_settings(deployment, n_gpu_layers=lo)
    if lo == 0 or not fits(model, workload, changed):  # the rest must fit system memory too
        return None
    layers = model.architecture.num_layers
    text = f"{lo} of {layers} layers on the GPUs, the rest in system memory (-ngl {lo}): fits, decode slower"
    return Advice("settings", text, {"settings": {"n_gpu_layers": lo}}, ("--ngl", str(lo)))


def _first_fitting(
    model: ModelSpec, workload: Workload, deployment: Deployment, values: Sequence[int], key: str
) -> int | None:
    """The first of these values of one setting that fits, or None (values from the least change on)."""
    for value in values:
        if fits(model, workload, _with_settings(deployment, **{key: value})):
            return value
    return None


def _on_gpus(model: ModelSpec, workload: Workload, deployment: Deployment) -> bool:
    """Whether every GPU holds its part (system memory aside)."""
    try:
        return all(g.fits for g in estimate(model, workload, deployment).per_gpu)
    except ValueError:
        return False


def _fewest_cpu_moe(model: ModelSpec, workload: Workload, deployment: Deployment) -> int | None:
    """--n-cpu-moe: the fewest layers whose experts, moved to system memory, let the GPUs hold the rest."""
    lo, hi = deployment.settings.n_cpu_moe + 1, model.architecture.num_layers
    if lo > hi or not _on_gpus(model, workload, _with_settings(deployment, n_cpu_moe=hi)):
        return None
    while lo < hi:  # more experts moved never needs more of the GPUs
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if _on_gpus(model, workload, _with_settings(deployment, n_cpu_moe=mid)) else (mid + 1, hi)
    return lo if fits(model, workload, _with_settings(deployment, n_cpu_moe=lo)) else None


def _engine_knobs(model: ModelSpec, workload: Workload, deployment: Deployment) -> list[Advice]:
    """The engine's other memory settings, each alone: what they free, at what cost."""
    engine, settings, out = deployment.engine, deployment.settings, []

    def offer(text: str, change: dict[str, Any], args: tuple[str, ...]) -> None:
        if fits(model, workload, _with_settings(deployment, **change)):
            out.append(Advice("settings", text, {"settings": change}, args))

    if engine in (Engine.LLAMACPP, Engine.OLLAMA) and settings.flash_attn is not True:
        offer("Flash attention on (a smaller compute buffer): fits", {"flash_attn": True}, ("--flash-attn", "on"))
    if engine in (Engine.LLAMACPP, Engine.OLLAMA):
        smaller = [u for u in (256, 128, 64) if u < settings.n_ubatch]
        if (u := _first_fitting(model, workload, deployment, smaller, "n_ubatch")) is not None:
            text = f"A micro-batch of {u} tokens (--ubatch {u}, a smaller compute buffer): fits, prompts slower"
            out.append(Advice("settings", text, {"settings": {"n_ubatch": u}}, ("--ubatch", str(u))))
    if engine is Engine.LLAMACPP and model.architecture.moe is not None:
        n = _fewest_cpu_moe(model, workload, deployment)
        if n is not None:
            text = f"The experts of the first {n} layers in system memory (--n-cpu-moe {n}): fits, decode slower"
            out.append(Advice("settings", text, {"settings": {"n_cpu_moe": n}}, ("--n-cpu-moe", str(n))))
    if engine is Engine.VLLM and not settings.enforce_eager:
        offer("CUDA graphs off (--enforce-eager): fits, decode slower", {"enforce_eager": True}, ("--enforce-eager",))
    return out


def _other_engine(model: ModelSpec, workload: Workload, deployment: Deployment) -> Advice | None:
    for engine in Engine:
        if engine == deployment.engine:
            continue
        _, _, changed = apply_change(model, workload, deployment, {"engine": engine})
        if fits(model, workload, changed):
            label = engine_profile(engine).label
            spare = _spare(model, workload, changed)
            return Advice(
                "engine", f"{label} fits with {spare} to spare", {"engine": engine}, ("--engine", engine.value)
            )
    return None


def _gpus_text(deployment: Deployment, n: int) -> str:
    gpus = deployment.gpus
    if listed_gpus(deployment) and n < len(gpus):  # the detected GPUs told apart: the first n of them
        names = ", ".join(f"GPU {i} ({g.name})" for i, g in enumerate(gpus[:n]))
        return f"Only {names}: fits" if n > 1 else f"Only {names}, without the others: fits"
    return f"{n} x {gpus[0].name}, split over {n} GPUs"


def _freed(model: ModelSpec, workload: Workload, deployment: Deployment) -> Advice | None:
    """Where other processes hold part of the GPU (the same GPU on every rank): what stopping them gives."""
    gpu = deployment.gpus[0]
    if any(g != gpu for g in deployment.gpus) or not gpu.held_bytes or not gpu.total_bytes or not gpu.held_note:
        return None
    whole = gpu.model_copy(update={"capacity_bytes": gpu.total_bytes, "held_bytes": 0, "held_note": ""})
    _, _, changed = apply_change(model, workload, deployment, {"gpu": whole})
    if not fits(model, workload, changed):
        return None
    text = f"Free the {format_bytes(gpu.held_bytes)} held by others ({gpu.held_note}): fits"
    return Advice("process", text, {"gpu": whole}, ("--gpu-memory", f"{gpu.total_bytes / GIB:.2f}"))


def ways_out(
    model: ModelSpec,
    workload: Workload,
    deployment: Deployment,
    gpus: Sequence[GpuSpec] = (),
    models: Sequence[ModelSpec] = (),
) -> list[Advice]:
    """What would make it fit, cheapest first: the user's own setup, then the weights, then hardware to buy,
    then another model; empty when it already fits or nothing is known to plan for. `gpus` are the GPUs one
    could buy (the catalog), `models` the ones one could run instead (presets)."""
    if not deployment.gpus or estimate(model, workload, deployment).fits is not False:
        return []
    out = _own_setup(model, workload, deployment)
    fmt = best_format(model, workload, deployment)
    if fmt is not None and fmt != (workload.weight_format or model.native_format):
        label = known.label if (known := known_format(fmt)) else fmt
        spare = _spare(model, _with(workload, weight_format=fmt), deployment)
        out.append(Advice("format", f"{label} fits with {spare} to spare", {"weight_format": fmt}, ("--weights", fmt)))
    out += _hardware(model, workload, deployment, gpus)
    if other := _other_model(model, workload, deployment, models):
        fmt = workload.weight_format or f"its own {other.native_format}"
        out.append(Advice("model", f"{other.name} fits at {fmt}", {"model": other}, (other.name,)))
    return out


def _own_setup(model: ModelSpec, workload: Workload, deployment: Deployment) -> list[Advice]:
    """The engine's settings, the KV dtype, the context and batch, the GPUs already here, another engine."""
    # the cheapest first: a budget, then settings that cost prompt or decode speed, then whole layers moved
    out = [a for a in (_fraction(model, workload, deployment),) if a]
    out += _engine_knobs(model, workload, deployment)
    out += [a for a in (_gpu_layers(model, workload, deployment),) if a]
    kv = best_kv_dtype(model, workload, deployment)
    if kv is not None and kv != workload.kv_dtype:
        label = "the engine's default" if kv == "auto" else kv
        spare = _spare(model, _with(workload, kv_dtype=kv), deployment)
        out.append(Advice("kv", f"KV cache {label}: fits with {spare} to spare", {"kv_dtype": kv}, ("--kv-dtype", kv)))
    context = max_context(model, workload, deployment)
    if context is not None and context < workload.context:
        out.append(Advice("context", f"Context {context:,} fits", {"context": context}, ("--context", str(context))))
    batch = max_batch(model, workload, deployment) if workload.batch > 1 else None
    if batch is not None and batch < workload.batch:
        out.append(Advice("batch", f"{batch:,} sequences at once fit", {"batch": batch}, ("--batch", str(batch))))
    if listed_gpus(deployment):  # the detected GPUs told apart: fewer of them (without a busy or small one)
        n = fewest_gpus(model, workload, deployment)
        if n is not None and n < deployment.gpu_count:
            out.append(Advice("gpus", _gpus_text(deployment, n), {"gpu_count": n}, ("--gpus", str(n))))
    out += [a for a in (_freed(model, workload, deployment), _other_engine(model, workload, deployment)) if a]
    return out


def _hardware(model: ModelSpec, workload: Workload, deployment: Deployment, gpus: Sequence[GpuSpec]) -> list[Advice]:
    """More of the same GPU, or a GPU with more memory."""
    out = []
    if not listed_gpus(deployment):
        n = fewest_gpus(model, workload, deployment, most=64)
        if n is not None and n > deployment.gpu_count:
            out.append(Advice("gpus", _gpus_text(deployment, n), {"gpu_count": n}, ("--gpus", str(n))))
    # only GPUs with more memory than the largest one planned for: one that merely has more free is no way
    # out. A catalog's sizes are nominal and a driver reports a little less ("24 GB" A30, 23.99 GiB 4090): a
    # bigger GPU has at least BIGGER_GPU times the memory
    largest = max(g.total_bytes or g.capacity_bytes or 0 for g in deployment.gpus)
    larger = [g for g in gpus if (g.total_bytes or g.capacity_bytes or 0) >= largest * BIGGER_GPU]
    bigger = smallest_gpu(model, workload, deployment, larger)
    if bigger is not None:
        count = f"{deployment.gpu_count} x " if deployment.gpu_count > 1 else "a GPU like "
        out.append(Advice("gpu", f"{count}{bigger.name} or larger", {"gpu": bigger}, ("--gpu", bigger.name)))
    return out


def _other_model(
    model: ModelSpec, workload: Workload, deployment: Deployment, models: Sequence[ModelSpec]
) -> ModelSpec | None:
    """The largest smaller model that fits as asked now, of the same family first; only one trained for at
    least the context asked (a 4k model is no way out at 128k, and is never priced at a shorter one)."""
    smaller = [
        m
        for m in models
        if m.parameter_count() < model.parameter_count() and m.architecture.max_context >= workload.context
    ]
    for other in sorted(smaller, key=lambda m: (m.family != model.family, -m.parameter_count())):
        if fits(other, workload, deployment):
            return other
    return None


def room_left(model: ModelSpec, workload: Workload, deployment: Deployment) -> list[Advice]:
    """When it fits: how far it could go, as changes to apply."""
    if not deployment.gpus or not estimate(model, workload, deployment).fits:
        return []
    out = []
    context = max_context(model, workload, deployment)
    if context is not None and context > workload.context:
        out.append(
            Advice("context", f"Room for a context of {context:,}", {"context": context}, ("--context", str(context)))
        )
    batch = max_batch(model, workload, deployment)
    if batch is not None and batch > workload.batch:
        out.append(Advice("batch", f"Room for {batch:,} sequences at once", {"batch": batch}, ("--batch", str(batch))))
    own = model.native_format
    if (
        workload.weight_format not in (None, own)
        and estimate(model, _with(workload, weight_format=None), deployment).fits
    ):
        out.append(Advice("format", f"The model's own {own} fits too", {"weight_format": None}, ("--weights", own)))
    return out


def apply_change(
    model: ModelSpec, workload: Workload, deployment: Deployment, change: dict[str, Any]
) -> tuple[ModelSpec, Workload, Deployment]:
    """The scenario with a way out applied, as the window applies it (Controller.apply)."""
    if "model" in change:
        return change["model"], workload, deployment
    if "settings" in change:
        return model, workload, _with_settings(deployment, **change["settings"])
    if "engine" in change:  # the settings carry over; a release number is the old engine's
        settings = deployment.settings.model_copy(update={"engine_version": None})
        return model, workload, deployment.model_copy(update={"engine": change["engine"], "settings": settings})
    if "gpu" in change:
        gpus = (change["gpu"],) * deployment.gpu_count
        return model, workload, Deployment.model_validate({**dict(deployment), "gpus": gpus})
    if "gpu_count" in change:
        return model, workload, with_gpu_count(deployment, change["gpu_count"])
    return model, _with(workload, **change), deployment
