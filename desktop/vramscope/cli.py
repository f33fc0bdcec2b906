"""The `vramscope` command. No sub-command opens the window; the others print text or --json.

Never imports Qt or pyqtgraph outside `_open_window`, so scripts and servers stay fast and headless.
"""

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from vramscope.core.estimate import SEGMENT_LABELS, Estimate, estimate
from vramscope.core.precision import KV_DTYPES, WEIGHT_FORMATS, weight_format
from vramscope.core.scenario import Deployment, Engine, GpuSpec, ModelSpec, Workload, validation_message
from vramscope.core.solve import max_batch, max_context
from vramscope.core.speed import decode_tokens_per_s
from vramscope.core.units import GIB, format_bytes
from vramscope.hardware.catalog import catalog, find_gpu, unknown_gpu_message
from vramscope.sources.errors import ModelFileError
from vramscope.sources.presets import DEFAULT_PRESET, load_preset, preset_documents
from vramscope.sources.resolve import resolve_model

EXIT_FITS, EXIT_DOES_NOT_FIT, EXIT_BAD_INPUT = 0, 1, 2
DEFAULT_CONTEXT = 8192


class BadInput(Exception):
    """A user error: the message goes to stderr and the exit code is 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse's own errors exit 2 as well, with our wording
        raise BadInput(message)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="vramscope", description="Will this model fit on my GPUs?")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    est = sub.add_parser("estimate", help="memory for one scenario")
    est.add_argument("model", help="preset id (llama-3.1-8b), org/Name, or a model folder / config.json")
    est.add_argument("--weights", metavar="FORMAT", help=f"weight format: {', '.join(WEIGHT_FORMATS)}")
    est.add_argument("--kv-dtype", default="auto", help=f"KV-cache dtype: auto, {', '.join(KV_DTYPES)}")
    est.add_argument(
        "--context", type=int, help=f"tokens per sequence (default {DEFAULT_CONTEXT}, capped at the model's maximum)"
    )
    est.add_argument("--batch", type=int, default=1, help="concurrent sequences (default 1)")
    est.add_argument("--engine", default="generic", help="inference engine: generic")
    est.add_argument("--gpu", metavar="NAME", help="catalog GPU id or name (see `vramscope gpus`), or auto")
    est.add_argument("--gpus", type=int, help="number of GPUs (default: tp x pp)")
    est.add_argument("--gpu-memory", type=float, metavar="GIB", help="capacity per GPU in GiB (overrides)")
    est.add_argument("--tp", type=int, help="tensor parallel size")
    est.add_argument("--pp", type=int, default=1, help="pipeline parallel size")
    est.add_argument("--gpu-util", type=float, default=0.9, help="vLLM gpu_memory_utilization (default 0.9)")
    est.add_argument("--json", action="store_true", help="print one JSON object")
    est.add_argument("--screenshot", metavar="PATH", help="render the window for this scenario to a PNG and exit")
    for name, text in (
        ("models", "list the model presets"),
        ("gpus", "list the GPU catalog"),
        ("probe", "the GPUs detected on this machine"),
    ):
        listing = sub.add_parser(name, help=text)
        listing.add_argument("--json", action="store_true")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if not args_list:
        return _open_window()
    if args_list[0] == "--screenshot" and len(args_list) >= 2:  # vramscope --screenshot PATH [estimate options]
        path, rest = args_list[1], args_list[2:]
        if not rest or rest[0].startswith("-"):
            rest = [DEFAULT_PRESET, *rest]
        args_list = ["estimate", *rest, "--screenshot", path]
    try:
        args = _parser().parse_args(args_list)
        if args.command == "estimate":
            return _estimate(args)
        if args.command == "models":
            return _models(args.json)
        if args.command == "gpus":
            return _gpus(args.json)
        if args.command == "probe":
            return _probe(args.json)
        return _open_window()
    except (BadInput, ModelFileError) as exc:
        print(f"vramscope: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except SystemExit as exc:  # --help
        return int(exc.code or 0)


def _open_window() -> int:
    from vramscope.gui.app import main as gui_main  # Qt only when the window is asked for

    return gui_main()


def _screenshot(args: argparse.Namespace, model: ModelSpec) -> int:
    from pathlib import Path

    from vramscope.gui.app import screenshot

    workload = _workload(args, model)
    deployment = _deployment(args)
    capacity = round(args.gpu_memory * GIB) if args.gpu_memory else None
    gpu = args.gpu if args.gpu and args.gpu != "auto" else None
    screenshot(Path(args.screenshot), model, workload, gpu, deployment.gpu_count, capacity)
    print(f"saved {args.screenshot}")
    return EXIT_FITS


# --- estimate ---------------------------------------------------------------------------------------


def _deployment(args: argparse.Namespace) -> Deployment:
    pp = args.pp
    tp = args.tp
    if tp is None:
        tp = 1 if args.gpus is None else max(1, args.gpus // pp)
    if args.gpus is not None and args.gpus != tp * pp:
        raise BadInput(f"--gpus {args.gpus} does not equal --tp {tp} x --pp {pp}")
    if args.engine != Engine.GENERIC:
        raise BadInput(f"engine '{args.engine}' is not modelled yet; available: generic")
    if not 0 < args.gpu_util <= 1:
        raise BadInput(f"--gpu-util must be in (0, 1], got {args.gpu_util}")
    gpus: tuple[GpuSpec, ...] = ()
    capacity = None
    if args.gpu_memory is not None:
        if not 0 < args.gpu_memory < 1e7:
            raise BadInput(f"--gpu-memory must be a positive number of GiB, got {args.gpu_memory}")
        capacity = round(args.gpu_memory * GIB)
    if args.gpu and args.gpu.lower() == "auto":
        gpus = _detected_gpus(tp * pp, capacity)
    elif args.gpu:
        found = find_gpu(args.gpu)
        if found is None:
            raise BadInput(unknown_gpu_message(args.gpu))
        gpus = (found.spec(capacity),)
    elif capacity is not None:
        gpus = (GpuSpec(name=f"{args.gpu_memory:g} GiB GPU", capacity_bytes=capacity, total_bytes=capacity),)
    try:
        return Deployment(gpus=gpus, tensor_parallel=tp, pipeline_parallel=pp)
    except ValidationError as exc:
        raise BadInput(validation_message(exc)) from None


def _detected_gpus(count: int, capacity: int | None) -> tuple[GpuSpec, ...]:
    """`--gpu auto`: the first `count` detected GPUs at their free memory; system memory when none."""
    from vramscope.hardware.probe import probe, system_memory_device

    snapshot = probe()
    usable = snapshot.usable_gpus()
    if not usable:
        ram = system_memory_device()
        print(f"vramscope: no GPU detected — {snapshot.message}", file=sys.stderr)
        if ram is None:
            raise BadInput("no GPU detected and system memory unreadable: give --gpu NAME or --gpu-memory GIB")
        usable = (ram,)
    if count > len(usable) and len(usable) > 1:
        raise BadInput(f"{count} GPUs asked for, {len(usable)} detected")
    specs = [d.gpu_spec() for d in usable[:count]]
    if capacity is not None:
        specs = [s.model_copy(update={"capacity_bytes": capacity}) for s in specs]
    return tuple(specs)


def _workload(args: argparse.Namespace, model: ModelSpec) -> Workload:
    if args.weights:
        try:
            weight_format(args.weights)
        except ValueError as exc:
            raise BadInput(str(exc)) from None
    if args.kv_dtype != "auto" and args.kv_dtype.lower() not in KV_DTYPES:
        raise BadInput(f"unknown KV-cache dtype '{args.kv_dtype}'; known: auto, {', '.join(KV_DTYPES)}")
    context = args.context if args.context is not None else min(DEFAULT_CONTEXT, model.architecture.max_context)
    try:
        workload = Workload(
            context=context, batch=args.batch, weight_format=args.weights, kv_dtype=args.kv_dtype.lower()
        )
    except ValidationError as exc:
        raise BadInput(f"--{validation_message(exc)}") from None
    return workload


def _estimate(args: argparse.Namespace) -> int:
    model = resolve_model(args.model)
    if args.screenshot:
        return _screenshot(args, model)
    workload = _workload(args, model)
    deployment = _deployment(args)
    result = estimate(model, workload, deployment)
    limits = (max_context(model, workload, deployment), max_batch(model, workload, deployment))
    speed = decode_tokens_per_s(model, result, deployment)
    if args.json:
        print(json.dumps(_estimate_json(model, result, deployment, args, limits, speed), indent=2))
    else:
        print(_estimate_text(model, result, limits, speed))
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return EXIT_DOES_NOT_FIT if result.fits is False else EXIT_FITS


def _estimate_json(
    model: ModelSpec,
    est: Estimate,
    deployment: Deployment,
    args: argparse.Namespace,
    limits: tuple[int | None, int | None],
    speed: float | None,
) -> dict[str, Any]:
    arch = model.architecture
    return {
        "model": {
            "name": model.name,
            "source": model.source.value,
            "source_detail": model.source_detail,
            "parameters": est.parameters,
            "active_parameters": est.active_parameters,
            "max_context": arch.max_context,
        },
        "scenario": {
            "weights": est.weight_format,
            "kv_dtype": est.kv_dtype,
            "context": est.context,
            "batch": est.batch,
            "engine": deployment.engine.value,
            "gpu": deployment.gpus[0].name if deployment.gpus else None,
            "gpus": deployment.gpu_count,
            "tp": deployment.tensor_parallel,
            "pp": deployment.pipeline_parallel,
            "gpu_util": args.gpu_util,
        },
        "weights_bytes": est.weights_bytes,
        "kv_cache_bytes": est.kv_cache_bytes,
        "kv_bytes_per_token": est.kv_bytes_per_token,
        "activation_bytes": est.activation_bytes,
        "overhead_bytes": est.overhead_bytes,
        "total_bytes": est.total_bytes,
        "capacity_bytes": est.capacity_bytes,
        "fits": est.fits,
        "headroom_bytes": est.headroom_bytes,
        "max_context": limits[0],
        "max_batch": limits[1],
        "per_gpu": [
            {
                "index": g.index,
                "name": g.name,
                "capacity_bytes": g.capacity_bytes,
                **{f"{s.kind.value}_bytes".replace("activations_", "activation_"): s.bytes for s in g.segments},
                "total_bytes": g.total_bytes,
                "fits": g.fits,
                "provenance": {s.kind.value: s.provenance.value for s in g.segments},
            }
            for g in est.per_gpu
        ],
        "engine_details": {},
        "decode_tokens_per_s": round(speed, 2) if speed is not None else None,
        "warnings": list(est.warnings),
    }


def _estimate_text(model: ModelSpec, est: Estimate, limits: tuple[int | None, int | None], speed: float | None) -> str:
    fmt = WEIGHT_FORMATS.get(est.weight_format)
    lines = [
        f"{model.name} ({model.source.value}) · {est.parameters:,} parameters"
        + (f" ({est.active_parameters:,} active)" if est.active_parameters != est.parameters else ""),
        f"{fmt.label if fmt else est.weight_format} weights · {est.kv_dtype} KV cache · context {est.context:,}"
        f" · batch {est.batch:,} · KV {est.kv_bytes_per_token:,} B/token",
    ]
    for g in est.per_gpu:
        capacity = f" ({format_bytes(g.capacity_bytes)})" if g.capacity_bytes is not None else ""
        lines.append(f"\n{g.name}{capacity}" if len(est.per_gpu) == 1 else f"\nGPU {g.index}: {g.name}{capacity}")
        for s in g.segments:
            lines.append(
                f"  {SEGMENT_LABELS[s.kind]:<12} {format_bytes(s.bytes):>12}  {s.provenance.value:<9} {s.note}"
            )
        lines.append(f"  {'total':<12} {format_bytes(g.total_bytes):>12}")
    if est.fits is None:
        lines.append("\nNo capacity given (--gpu or --gpu-memory): nothing to fit against.")
    else:
        assert est.headroom_bytes is not None
        share = (est.headroom_share() or 0.0) * 100
        if est.fits:
            lines.append(f"\nFITS — headroom {format_bytes(est.headroom_bytes)} ({share:.0f}%) on the tightest GPU")
        else:
            lines.append(f"\nDOES NOT FIT — short by {format_bytes(-est.headroom_bytes)} ({-share:.0f}%)")
        ctx, batch = limits
        lines.append(
            f"Largest context that fits: {f'{ctx:,}' if ctx else 'none'} · largest batch: "
            f"{f'{batch:,}' if batch else 'none'}"
        )
    if speed is not None:
        lines.append(f"Decode ≈ {speed:,.1f} tokens/s per sequence (estimate: 70% of peak memory bandwidth)")
    return "\n".join(lines)


# --- listings ---------------------------------------------------------------------------------------


def _models(as_json: bool) -> int:
    rows = []
    for pid in preset_documents():
        spec = load_preset(pid)
        arch = spec.architecture
        rows.append(
            {
                "id": pid,
                "name": spec.name,
                "hf_id": spec.hf_id,
                "family": spec.family,
                "parameters": arch.parameter_count(),
                "active_parameters": arch.active_parameter_count(),
                "max_context": arch.max_context,
                "native_format": spec.native_format,
                "attention": arch.attention_summary(),
            }
        )
    if as_json:
        print(json.dumps(rows, indent=2))
        return EXIT_FITS
    print(f"{'id':<20} {'parameters':>18} {'context':>9}  {'format':<9} attention")
    for r in rows:
        print(f"{r['id']:<20} {r['parameters']:>18,} {r['max_context']:>9,}  {r['native_format']:<9} {r['attention']}")
    return EXIT_FITS


def _probe(as_json: bool) -> int:
    from vramscope.hardware.probe import probe

    snapshot = probe()
    if as_json:
        print(json.dumps(snapshot.model_dump(mode="json"), indent=2))
        return EXIT_FITS
    print(f"status: {snapshot.status.value} — {snapshot.message}")
    for d in snapshot.devices:
        memory = d.memory_summary() if d.total_bytes else "memory unknown"
        bandwidth = (
            f", {d.bandwidth_bytes_per_s / 1e9:,.0f} GB/s ({d.bandwidth_source})" if d.bandwidth_bytes_per_s else ""
        )
        print(f"  [{d.index}] {d.name}: {memory}{bandwidth}{'' if d.healthy else ' — NOT RESPONDING'}")
        for note in d.notes:
            print(f"      {note}")
    return EXIT_FITS


def _gpus(as_json: bool) -> int:
    if as_json:
        print(json.dumps([g.model_dump() for g in catalog()], indent=2))
        return EXIT_FITS
    print(f"{'id':<32} {'memory':>11} {'bandwidth':>12}  name")
    for g in catalog():
        print(f"{g.id:<32} {format_bytes(g.memory_bytes):>11} {g.bandwidth_gbps:>8,.0f} GB/s  {g.name}")
    return EXIT_FITS
