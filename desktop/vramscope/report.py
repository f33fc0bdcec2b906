"""One analysis, rendered: the verdict in words, plain text for the terminal, Markdown for the clipboard
and the JSON of the command-line contract (../shared/DESIGN.md). The CLI and the window both use it."""

from typing import Any

from vramscope.core.advice import Advice, apply_change
from vramscope.core.analysis import Analysis
from vramscope.core.engines import engine_profile
from vramscope.core.estimate import Estimate, GpuEstimate, estimate
from vramscope.core.precision import known_format
from vramscope.core.segments import SEGMENT_LABELS, Segment, SegmentKind
from vramscope.core.speed import speed_note
from vramscope.core.units import Unit, format_bytes

# Raised when a key of the --json output changes meaning. 2: `fits` includes the host's memory.
SCHEMA_VERSION = 2

CONTRACT_KEYS = {  # per-GPU byte keys of the contract, by segment kind
    SegmentKind.WEIGHTS: "weights_bytes",
    SegmentKind.KV_CACHE: "kv_cache_bytes",
    SegmentKind.KV_RESERVED: "kv_reserved_bytes",
    SegmentKind.ACTIVATIONS: "activation_bytes",
    SegmentKind.OVERHEAD: "overhead_bytes",
}


def _tightest(est: Estimate) -> GpuEstimate:
    """The GPU with the least room (the most short): the one the verdict speaks of."""
    return max(est.per_gpu, key=lambda g: g.total_bytes - (g.capacity_bytes or 0))


def verdict(a: Analysis, unit: Unit = Unit.GIB) -> tuple[str, str]:
    """(headline, details) in the engine's words: what fits, by how much, and the limits."""
    est = a.estimate
    engine = a.engine_label
    if est.refusal:
        headline = f"✘ {engine} does not start"
    elif est.fits is None or est.headroom_bytes is None:
        headline = "No capacity to fit against"
    elif est.gpus_fit and est.host_fits is False and est.host_capacity_bytes is not None:
        short = -(est.host_headroom_bytes or 0)
        share = short / est.host_capacity_bytes * 100 if est.host_capacity_bytes else 100.0
        headline = f"✘ Does not fit in system memory — short by {format_bytes(short, unit)} ({share:.0f}%)"
    elif not est.fits and est.headroom_bytes >= 0:
        headline = f"✘ Does not fit in {engine}'s pool"
    elif est.tight:
        amount = format_bytes(est.slack_bytes or 0, unit)
        headline = f"⚠ Tight — {amount} to spare, within this profile's error: {engine} may not start"
    else:
        share = abs(est.headroom_share() or 0.0) * 100
        amount = format_bytes(abs(est.headroom_bytes), unit)
        where = f" on GPU {_tightest(est).index}" if len(est.per_gpu) > 1 else ""
        headline = (
            f"✔ Fits — {amount} ({share:.0f}%) headroom{where}"
            if est.fits
            else f"✘ Does not fit — short by {amount} ({share:.0f}%){where}"
        )
    lines = []
    if est.refusal:
        lines.append(f"{engine}: “{est.refusal}”")
    if est.shortfall:
        lines.append(est.shortfall)
    elif est.engine_verdict and est.fits is not False:
        lines.append(est.engine_verdict)
    if est.capacity_bytes is not None:
        tight = _tightest(est)
        per_gpu = f"{format_bytes(tight.total_bytes, unit)} of {format_bytes(tight.capacity_bytes or 0, unit)}"
        gpus = len(est.per_gpu)
        if gpus > 1:  # the verdict is per GPU; the whole deployment on a line of its own
            lines.append(f"Needs {per_gpu} on GPU {tight.index}, the tightest of {gpus}.")
            lines.append(
                f"All {gpus} GPUs together: {format_bytes(est.total_bytes, unit)} of "
                f"{format_bytes(est.capacity_bytes, unit)}."
            )
        else:
            lines.append(f"Needs {per_gpu}.")
        if a.limits_pending:
            lines.append("Largest context and batch that fit: …")
        else:
            ctx = f"{a.max_context:,}" if a.max_context else "none"
            batch = f"{a.max_batch:,}" if a.max_batch else "none"
            lines.append(f"Largest context that fits: {ctx} · largest batch: {batch}")
    if est.tight:
        lines.append(margin_line(a, unit))
    if est.host or est.host_fits is False:
        lines.append(host_line(a, unit))
    if a.decode_tokens_per_s:
        lines.append(f"Decode ≈ {a.decode_tokens_per_s:,.1f} tokens/s per sequence ({speed_note(est, a.deployment)})")
    lines += [f"⚠ {w}" for w in est.warnings]
    return headline, "\n".join(lines)


def margin_line(a: Analysis, unit: Unit = Unit.GIB) -> str:
    error = engine_profile(a.deployment.engine).measured_error(a.deployment.settings)
    return (
        f"May not start: within the {error.share:.1%} ({format_bytes(a.estimate.margin_bytes or 0, unit)}) "
        f"this profile has missed by ({error.basis})."
    )


def host_line(a: Analysis, unit: Unit = Unit.GIB) -> str:
    """'System memory: 17.20 GiB of 61.30 GiB — this machine's available memory (63.00 GiB in all). Holds: …'."""
    est, host = a.estimate, a.deployment.host
    parts = ", ".join(s.title for s in est.host) or "nothing"
    unified = est.host_need_bytes - est.host_bytes
    need = format_bytes(est.host_need_bytes, unit)
    if unified:
        parts += f"; {format_bytes(unified, unit)} of it is the unified-memory GPU's"
    if host is None:
        return f"System memory: {need} ({parts}); not compared: no system memory given (--ram)"
    mark = ", does not fit" if est.host_fits is False else ""
    return f"System memory: {need} of {format_bytes(host.capacity_bytes, unit)}{mark} — {host.basis}. Holds: {parts}"


def scenario_line(a: Analysis) -> str:
    est = a.estimate
    fmt = known_format(est.weight_format)
    return (
        f"{fmt.label if fmt else est.weight_format} weights · {est.kv_dtype} KV cache · context {est.context:,}"
        f" · batch {est.batch:,} · KV {est.kv_bytes_per_token:,} B/token · {a.engine_label}"
    )


def text(a: Analysis, unit: Unit = Unit.GIB) -> str:
    est, model = a.estimate, a.model
    lines = [
        f"{model.name} ({model.source.value}) · {est.parameters:,} parameters"
        + (f" ({est.active_parameters:,} active)" if est.active_parameters != est.parameters else ""),
        scenario_line(a),
    ]

    def row(s: Segment) -> str:
        return f"  {s.title:<15} {format_bytes(s.bytes, unit):>12}  {s.provenance.value:<9} {s.note}"

    for g in est.per_gpu:
        capacity = f" ({format_bytes(g.capacity_bytes, unit)})" if g.capacity_bytes is not None else ""
        lines.append(f"\n{g.name}{capacity}" if len(est.per_gpu) == 1 else f"\nGPU {g.index}: {g.name}{capacity}")
        lines += [row(s) for s in g.segments]
        lines.append(f"  {'total':<15} {format_bytes(g.total_bytes, unit):>12}")
    if est.host:
        lines.append("\nSystem memory")
        lines += [row(s) for s in est.host]
    headline, details = verdict(a, unit)
    if est.fits is None and not est.refusal:
        headline = "No capacity given (--gpu or --gpu-memory): nothing to fit against."
    lines += ["", headline, details]
    return "\n".join(lines)


def markdown(a: Analysis, unit: Unit = Unit.GIB) -> str:
    est = a.estimate
    kinds = [k for k in SegmentKind if any(g.bytes_of(k) for g in est.per_gpu)]
    gpu_names = sorted({g.name for g in est.per_gpu})
    lines = [
        f"**{a.model.name}** · {scenario_line(a)} · {len(est.per_gpu)} x {' + '.join(gpu_names)}",
        "",
        "| GPU | " + " | ".join(SEGMENT_LABELS[k] for k in kinds) + " | total | capacity |",
        "|---|" + "---:|" * (len(kinds) + 2),
    ]
    for g in est.per_gpu:
        cells = [f"{format_bytes(g.bytes_of(k), unit)} ({g.segment(k).provenance.value})" for k in kinds]
        lines.append(
            f"| {g.index} | " + " | ".join(cells) + f" | {format_bytes(g.total_bytes, unit)} | "
            f"{format_bytes(g.capacity_bytes or 0, unit)} |"
        )
    headline, details = verdict(a, unit)
    lines += ["", headline, details.replace("\n", "  \n"), "", f"`{a.launch_command}`"]
    return "\n".join(lines)


def to_json(a: Analysis, launch_command: bool = False) -> dict[str, Any]:
    est, model, deployment = a.estimate, a.model, a.deployment
    out: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "model": {
            "name": model.name,
            "source": model.source.value,
            "source_detail": model.source_detail,
            "parameters": est.parameters,
            "active_parameters": est.active_parameters,
            "max_context": model.architecture.max_context,
        },
        "scenario": {
            "weights": est.weight_format,
            "kv_dtype": est.kv_dtype,
            "context": est.context,
            "batch": est.batch,
            "engine": deployment.engine.value,
            "engine_settings": deployment.settings.model_dump(mode="json"),
            "gpu": deployment.gpus[0].name if deployment.gpus else None,
            "gpus": deployment.gpu_count,
            "tp": deployment.tensor_parallel,
            "pp": deployment.pipeline_parallel,
            "dp": deployment.data_parallel,
            "ep": deployment.expert_parallel,
            "nodes": deployment.nodes,
            "gpu_util": deployment.settings.gpu_memory_utilization or est.engine_details.get("gpu_memory_utilization"),
            "engine_version": est.engine_details.get("engine_version") or deployment.settings.engine_version,
        },
        "weights_bytes": est.weights_bytes,
        "kv_cache_bytes": est.kv_cache_bytes,
        "kv_reserved_bytes": est.kv_reserved_bytes,
        "kv_bytes_per_token": est.kv_bytes_per_token,
        "activation_bytes": est.activation_bytes,
        "overhead_bytes": est.overhead_bytes,
        "total_bytes": est.total_bytes,
        "host_bytes": est.host_bytes,
        "capacity_bytes": est.capacity_bytes,
        "host_capacity_bytes": est.host_capacity_bytes,
        "host_need_bytes": est.host_need_bytes,
        "host_fits": est.host_fits,
        "host_basis": deployment.host.basis if deployment.host else None,
        "fits": est.fits,
        "tight": est.tight,
        "margin_bytes": est.margin_bytes,
        "headroom_bytes": est.headroom_bytes,
        "max_context": a.max_context,
        "max_batch": a.max_batch,
        "per_gpu": [
            {
                "index": g.index,
                "name": g.name,
                "node": deployment.node_of(g.index),
                "dp_rank": g.index // deployment.replica_size,
                "pp_stage": g.stage,
                "capacity_bytes": g.capacity_bytes,
                **{key: g.bytes_of(kind) for kind, key in CONTRACT_KEYS.items()},
                "total_bytes": g.total_bytes,
                "fits": g.fits,
                "provenance": {s.kind.value: s.provenance.value for s in g.segments},
                "segments": [
                    {"kind": s.kind.value, "label": s.title, "bytes": s.bytes, "provenance": s.provenance.value}
                    for s in g.segments
                ],
            }
            for g in est.per_gpu
        ],
        "host": [{"label": s.title, "bytes": s.bytes, "provenance": s.provenance.value} for s in est.host],
        "engine_details": dict(est.engine_details),
        "engine_verdict": est.engine_verdict,
        "refusal": est.refusal or None,
        "shortfall": est.shortfall or None,
        "decode_tokens_per_s": round(a.decode_tokens_per_s, 2) if a.decode_tokens_per_s is not None else None,
        "warnings": list(est.warnings),
    }
    if launch_command:
        out["launch_command"] = a.launch_command
    return out


def comparison(pinned: Analysis, live: Analysis, unit: Unit = Unit.GIB) -> str:
    """What changed from a pinned scenario to the live one: the settings that differ and the numbers that
    follow, as deltas (live minus pinned)."""
    old, new = pinned.estimate, live.estimate
    changes = [
        f"{label} {a} → {b}"
        for label, a, b in (
            ("model", old.model_name, new.model_name),
            ("engine", pinned.engine_label, live.engine_label),
            ("weights", old.weight_format, new.weight_format),
            ("KV cache", old.kv_dtype, new.kv_dtype),
            ("context", f"{old.context:,}", f"{new.context:,}"),
            ("batch", f"{old.batch:,}", f"{new.batch:,}"),
            ("GPUs", str(len(old.per_gpu)), str(len(new.per_gpu))),
        )
        if a != b
    ]

    def delta(before: int | None, after: int | None) -> str:
        if before is None or after is None:
            return "—"
        sign = "+" if after >= before else "-"
        return f"{sign}{format_bytes(abs(after - before), unit)}"

    def count(before: int | None, after: int | None) -> str:
        def show(n: int | None) -> str:
            return f"{n:,}" if n else "none"

        return f"{show(before)} → {show(after)}" if before != after else f"{show(after)} (same)"

    fits = {True: "fits", False: "does not fit", None: "no capacity"}
    parts = [
        f"Total {delta(old.total_bytes, new.total_bytes)}",
        f"weights {delta(old.weights_bytes, new.weights_bytes)}",
        f"KV cache {delta(old.kv_cache_bytes, new.kv_cache_bytes)}",
        f"headroom {delta(old.headroom_bytes, new.headroom_bytes)}",
        f"largest context {count(pinned.max_context, live.max_context)}",
    ]
    if pinned.decode_tokens_per_s and live.decode_tokens_per_s:
        parts.append(f"decode {pinned.decode_tokens_per_s:,.1f} → {live.decode_tokens_per_s:,.1f} tokens/s")
    verdict_change = f"{fits[old.fits]} → {fits[new.fits]}" if old.fits != new.fits else fits[new.fits]
    head = "Against the pinned scenario: " + ("; ".join(changes) if changes else "the same settings")
    return f"{head} ({verdict_change}).\n" + " · ".join(parts)


def ways_out_json(a: Analysis, advice: list[Advice]) -> list[dict[str, Any]]:
    """The estimate JSON's `ways_out`: each with the CLI flags that apply it, and what it comes to applied."""
    out = []
    for way in advice:
        model, workload, deployment = apply_change(a.model, a.workload, a.deployment, way.change)
        try:
            est = estimate(model, workload, deployment)
            fits, headroom = est.fits, est.headroom_bytes
        except ValueError:
            fits, headroom = False, None
        out.append(
            {"kind": way.kind, "label": way.text, "args": list(way.args), "fits": fits, "headroom_bytes": headroom}
        )
    return out
