"""An engine's start-up log beside the prediction for the scenario it describes: the figures it reported,
what the engine profile predicts for them, and the error of each. The CLI's `check` and the window use it."""

from typing import Any, NamedTuple

from vramscope.core.analysis import Analysis, analyse
from vramscope.core.estimate import Estimate, SegmentKind
from vramscope.core.scenario import Calibration, Deployment, EngineSettings, GpuSpec, ModelSpec, Workload
from vramscope.core.segments import Provenance, Segment, segment
from vramscope.report import SCHEMA_VERSION
from vramscope.sources.engine_log import EngineLog, log_gpu_count, log_settings, log_workload, preset_for
from vramscope.sources.presets import load_preset

# What each reported figure is compared with, for people
FIGURE_LABELS = {
    "weights_bytes": "Weights (per GPU)",
    "activation_bytes": "Activation peak",
    "non_torch_bytes": "Non-torch memory",
    "cuda_graph_bytes": "CUDA graphs",
    "kv_pool_bytes": "KV pool",
    "kv_capacity_tokens": "KV tokens",
    "max_concurrency": "Max concurrency",
    "num_gpu_blocks": "KV blocks",
    "kv_cache_bytes": "KV cache",
    "compute_buffer_bytes": "Compute buffers",
    "n_ctx_cells": "KV cells",
    "n_gpu_layers": "Layers on GPU",
}


class LogCheck(NamedTuple):
    log: EngineLog
    analysis: Analysis | None  # None: the log does not say which model, and none was given
    predicted: dict[str, Any]
    errors: dict[str, float]  # relative error of the prediction, per figure both have
    note: str  # what is missing to predict, if anything

    def worst(self) -> tuple[str, float] | None:
        """The figure the prediction got most wrong."""
        if not self.errors:
            return None
        key = max(self.errors, key=lambda k: abs(self.errors[k]))
        return key, self.errors[key]


def scenario_of(
    log: EngineLog, model: ModelSpec | None = None, gpu: GpuSpec | None = None
) -> tuple[ModelSpec, Workload, Deployment] | None:
    """The scenario a log describes: its model (or `model`), context, formats, engine settings and GPUs."""
    if model is None:
        layers = log.settings.get("n_layer")
        preset = preset_for(log.model, layers if isinstance(layers, int) else None) if log.model else None
        if preset is None:
            return None
        model = load_preset(preset)
    workload = Workload.model_validate(log_workload(log, model.architecture.max_context))
    if gpu is None and (log.gpu_total_bytes or log.gpu_free_bytes):
        total = log.gpu_total_bytes or log.gpu_free_bytes
        gpu = GpuSpec(name="the GPU of the log", capacity_bytes=log.gpu_free_bytes or total, total_bytes=total)
    deployment = Deployment(
        gpus=(gpu,) if gpu is not None else (),
        tensor_parallel=log_gpu_count(log),
        engine=log.engine,
        settings=EngineSettings.model_validate(log_settings(log)),
    )
    return model, workload, deployment


def predicted_figures(est: Estimate) -> dict[str, Any]:
    """The estimate in the log's key names."""
    gpu0 = est.per_gpu[0]
    out: dict[str, Any] = {
        "weights_bytes": gpu0.bytes_of(SegmentKind.WEIGHTS),
        "activation_bytes": gpu0.bytes_of(SegmentKind.ACTIVATIONS),
        "kv_cache_bytes": est.kv_cache_bytes,
        "per_gpu": [
            {
                "name": g.name,
                "weights_bytes": g.bytes_of(SegmentKind.WEIGHTS),
                "kv_cache_bytes": g.bytes_of(SegmentKind.KV_CACHE),
                "compute_buffer_bytes": g.bytes_of(SegmentKind.ACTIVATIONS),
            }
            for g in est.per_gpu
        ],
    }
    for s in gpu0.segments:
        if s.title == "Non-torch":
            out["non_torch_bytes"] = s.bytes
        if s.title == "CUDA graphs":
            out["cuda_graph_bytes"] = s.bytes
        if s.title == "Loading":  # SGLang's 'mem usage' of loading counts its rounding and tables as weights
            out["weights_bytes"] += s.bytes
    details = est.engine_details
    for key in ("kv_pool_bytes", "kv_capacity_tokens", "max_concurrency", "num_gpu_blocks", "n_ctx_cells"):
        if details.get(key) is not None:
            out[key] = details[key]
    if "compute_buffer_bytes" in details:
        out["compute_buffer_bytes"] = details["compute_buffer_bytes"]
        out["weights_bytes"] = est.weights_bytes  # llama.cpp logs model buffers of every GPU
        out["n_gpu_layers"] = details.get("n_gpu_layers")
    return out


def check(log: EngineLog, model: ModelSpec | None = None, gpu: GpuSpec | None = None) -> LogCheck:
    scenario = scenario_of(log, model, gpu)
    if scenario is None:
        return LogCheck(log, None, {}, {}, f"the log names no known model ({log.model or 'none'}): give one")
    analysis = analyse(*scenario)
    predicted = predicted_figures(analysis.estimate)
    errors = {
        key: (predicted[key] - value) / value
        for key, value in log.reported.items()
        if isinstance(value, int | float) and value and isinstance(predicted.get(key), int | float)
    }
    note = "" if scenario[2].gpus else "the log states no GPU memory: the pool figures need --gpu"
    return LogCheck(log, analysis, predicted, errors, note)


def check_json(result: LogCheck) -> dict[str, Any]:
    """The contract's `check LOGFILE --json` object."""
    log = result.log
    a = result.analysis
    return {
        "schema_version": SCHEMA_VERSION,
        "engine": log.engine.value,
        "model": {"as_logged": log.model, "name": a.model.name if a else None},
        "settings": log.settings,
        "reported": log.reported,
        "predicted": result.predicted,
        "errors": {k: round(v, 4) for k, v in result.errors.items()},
        "refusal": log.refusal or None,
        "note": result.note or None,
    }


def check_text(result: LogCheck) -> str:
    log, a = result.log, result.analysis
    lines = [f"{log.engine.value} log · model {log.model or 'not named'}" + (f" → {a.model.name}" if a else "")]
    if result.note:
        lines.append(result.note)
    lines.append(f"\n{'figure':<20} {'reported':>16} {'predicted':>16} {'error':>8}")
    for key, value in log.reported.items():
        if not isinstance(value, int | float):
            continue
        ours = result.predicted.get(key)
        error = result.errors.get(key)
        lines.append(
            f"{FIGURE_LABELS.get(key, key):<20} {show_figure(key, value):>16} {show_figure(key, ours):>16} "
            + (f"{error * 100:+7.1f}%" if error is not None else "")
        )
    worst = result.worst()
    if worst is not None:
        key, error = worst
        lines.append(f"\nLargest difference: {FIGURE_LABELS.get(key, key)}, {error * 100:+.1f}%")
    if log.refusal:
        lines.append(f"The engine stopped: {log.refusal}")
    return "\n".join(lines)


def show_figure(key: str, value: object) -> str:
    """A reported or predicted figure as the terminal and the window show it."""
    if not isinstance(value, int | float):
        return "—"
    if key.endswith("_bytes"):
        return f"{value / 2**30:,.2f} GiB"
    return f"{value:,.2f}" if isinstance(value, float) else f"{value:,}"


def calibration_from(log: EngineLog, day: str) -> Calibration | None:
    """The figures of this machine's run that the profiles take in place of their defaults."""
    measured = {
        key: int(log.reported[key])
        for key in ("activation_bytes", "non_torch_bytes", "cuda_graph_bytes")
        if isinstance(log.reported.get(key), int | float)
    }
    if not measured:
        return None
    return Calibration(source=f"your {log.engine.value} log of {day}", **measured)


def reported_segments(log: EngineLog) -> tuple[Segment, ...]:
    """One GPU's memory as the log reported it, as segments to draw beside the prediction."""
    r = log.reported
    note = f"reported by {log.engine.value}"
    parts = [
        (SegmentKind.WEIGHTS, "weights_bytes", "Weights"),
        (SegmentKind.KV_CACHE, "kv_pool_bytes" if "kv_pool_bytes" in r else "kv_cache_bytes", "KV"),
        (SegmentKind.ACTIVATIONS, "activation_bytes", "Activation peak"),
        (SegmentKind.ACTIVATIONS, "compute_buffer_bytes", "Compute buffers"),
        (SegmentKind.OVERHEAD, "non_torch_bytes", "Non-torch"),
        (SegmentKind.OVERHEAD, "cuda_graph_bytes", "CUDA graphs"),
    ]
    per_gpu = r.get("per_gpu")
    first = per_gpu[0] if isinstance(per_gpu, list) and per_gpu else {}
    out = []
    for kind, key, label in parts:
        value = first.get(key, r.get(key)) if key != "kv_pool_bytes" else r.get(key)
        if isinstance(value, int | float) and value > 0:
            out.append(segment(kind, int(value), Provenance.EMPIRICAL, note, label))
    return tuple(out)
