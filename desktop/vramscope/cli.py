"""The `vramscope` command. No sub-command opens the window; the others print text or --json.

Never imports Qt or pyqtgraph outside `_open_window`, so scripts and servers stay fast and headless.
"""

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from vramscope import __version__, report
from vramscope.core.advice import ways_out
from vramscope.core.analysis import analyse
from vramscope.core.manifest import lws_manifest
from vramscope.core.precision import KV_DTYPES, WEIGHT_FORMATS
from vramscope.core.quality import quality_cost
from vramscope.core.scenario import (
    MAX_BATCH,
    MIN_FRACTION,
    Deployment,
    Engine,
    EngineSettings,
    GpuSpec,
    HostSpec,
    ModelSpec,
    Workload,
    error_message,
    validation_message,
)
from vramscope.core.solve import MIN_BITS
from vramscope.core.tables import model_table
from vramscope.core.units import GIB, format_bytes
from vramscope.hardware.catalog import catalog, catalog_gpus, find_gpu, unknown_gpu_message
from vramscope.hardware.nvidia_smi import MAX_TEXT as MAX_LISTING
from vramscope.sources.errors import ModelFileError
from vramscope.sources.presets import DEFAULT_PRESET, all_presets, find_preset, load_preset, preset_documents
from vramscope.sources.resolve import resolve_model

EXIT_FITS, EXIT_DOES_NOT_FIT, EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
DEFAULT_CONTEXT = 8192


class BadInput(Exception):
    """A user error: the message goes to stderr and the exit code is 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse's own errors exit 2 as well, with our wording
        raise BadInput(message)


EXAMPLES = """examples:
  vramscope estimate llama-3.1-8b --gpu rtx-4090 --context 32768
  vramscope estimate qwen2.5-32b --engine vllm --gpu auto --solve context --launch-command
  vramscope estimate ./Llama-3.1-70B-Q4_K_M.gguf --engine llama.cpp --gpu rtx-4090 --ngl 45 --ram 64
  vramscope estimate qwen3-30b-a3b --engine llama.cpp --weights q4_k_m --gpu-memory 8 --n-cpu-moe 48
  vramscope estimate ~/models/Qwen3-8B --json          (a Hugging Face folder: config.json + safetensors)
  vramscope estimate mistralai/Mistral-Small-3.1-24B-Instruct-2503 --gpu h100-sxm   (a Hub id, online)
  vramscope fit --gpu auto --context 32768
  vramscope check vllm-startup.log
  vramscope completion bash > ~/.local/share/bash-completion/completions/vramscope
"""


def _deployment_options() -> _Parser:
    """The GPUs, the split, the engine and its settings: shared by estimate and fit."""
    opts = _Parser(add_help=False)
    opts.add_argument(
        "--context", type=int, help=f"tokens per sequence (default {DEFAULT_CONTEXT}, capped at the model's maximum)"
    )
    opts.add_argument("--batch", type=int, default=1, help="concurrent sequences (default 1)")
    opts.add_argument(
        "--engine", default="transformers", help=f"inference engine: {', '.join(e.value for e in Engine)}"
    )
    opts.add_argument(
        "--gpu",
        metavar="NAME",
        help="catalog GPU id or name (see `vramscope gpus`), or auto (the detected GPUs: all unless --gpus)",
    )
    opts.add_argument("--gpus", type=int, help="number of GPUs (default: tp x pp)")
    opts.add_argument(
        "--devices",
        metavar="I,J,…",
        help="with --gpu auto: the detected GPUs to use, by index (the launch command sets CUDA_VISIBLE_DEVICES)",
    )
    opts.add_argument(
        "--gpus-from",
        metavar="FILE",
        help="a node's GPUs as `nvidia-smi --query-gpu=index,name,memory.total,memory.used --format=csv` lists "
        "them (- reads standard input); with --nodes, every node alike",
    )
    opts.add_argument("--gpu-memory", type=float, metavar="GIB", help="capacity per GPU in GiB (overrides)")
    opts.add_argument("--tp", type=int, help="tensor parallel size")
    opts.add_argument("--pp", type=int, help="pipeline parallel size (default 1; across nodes with --nodes)")
    opts.add_argument("--dp", type=int, default=1, help="data-parallel replicas of the tp x pp group (vLLM, SGLang)")
    opts.add_argument(
        "--ep", action="store_true", help="expert parallel: whole experts per rank over dp x tp (vLLM, SGLang)"
    )
    opts.add_argument("--nodes", type=int, default=1, help="machines the ranks are spread over")
    opts.add_argument("--gpus-per-node", type=int, metavar="M", help="GPUs in each node (with --nodes)")
    opts.add_argument(
        "--ram",
        type=float,
        metavar="GIB",
        help="system memory to plan against (default: this machine's available memory, with GPUs given)",
    )
    opts.add_argument(
        "--ram-bandwidth",
        type=float,
        metavar="GB/S",
        help="achieved system-memory bandwidth for what runs on the CPU (default 60, dual-channel DDR5)",
    )
    vllm = opts.add_argument_group("vLLM")
    opts.add_argument(
        "--engine-version",
        metavar="V",
        help="the engine release to plan for, e.g. 0.11, 0.19 or 0.10-v0 for vLLM, 0.5.9 for SGLang, b4462 for "
        "llama.cpp (default: the newest modelled)",
    )
    vllm.add_argument("--gpu-util", type=float, help="gpu_memory_utilization (default: 0.9; 0.92 from vLLM 0.20)")
    vllm.add_argument("--max-num-batched-tokens", type=int, help="default: 8192 on 70 GiB+ GPUs, else 2048")
    vllm.add_argument("--max-num-seqs", type=int, help="default: 1024 on 70 GiB+ GPUs, else 256")
    vllm.add_argument("--block-size", type=int, default=16, help="KV block size in tokens (default 16)")
    vllm.add_argument("--enforce-eager", action="store_true", help="no CUDA graphs")
    vllm.add_argument(
        "--flashinfer-sampler",
        action="store_true",
        help="FlashInfer's sampler (installed; on by default up to 0.11, from 0.12 VLLM_USE_FLASHINFER_SAMPLER=1)",
    )
    vllm.add_argument(
        "--no-p2p", action="store_true", help="GPUs without NVLink/PCIe P2P, or across nodes: no all-reduce buffers"
    )
    llama = opts.add_argument_group("llama.cpp and Ollama (--batch is the number of parallel slots)")
    llama.add_argument("--ubatch", type=int, default=512, help="n_ubatch (default 512)")
    llama.add_argument("--flash-attn", choices=("on", "off"), help="default: on (llama.cpp), off (Ollama)")
    llama.add_argument("--ngl", type=int, help="layers on the GPUs (default: all; Ollama: as many as fit)")
    llama.add_argument("--tensor-split", metavar="A,B,…", help="proportions per GPU (default: by free memory)")
    llama.add_argument("--split-mode", choices=("layer", "none"), default="layer")
    llama.add_argument(
        "--n-cpu-moe", type=int, default=0, metavar="N", help="llama.cpp: the experts of the first N layers on the CPU"
    )
    llama.add_argument("--swa-full", action="store_true", help="llama.cpp: full-size cache for sliding-window layers")
    llama.add_argument("--kv-unified", action="store_true", help="llama.cpp: one KV buffer shared by all slots")
    sglang = opts.add_argument_group("SGLang")
    sglang.add_argument("--mem-fraction", type=float, help="mem_fraction_static (default by tensor parallel)")
    hf = opts.add_argument_group("transformers")
    hf.add_argument("--attn-implementation", choices=("sdpa", "eager", "flash_attention_2"), default="sdpa")
    hf.add_argument("--cache-implementation", choices=("dynamic", "static"), default="dynamic")
    opts.add_argument("--json", action="store_true", help="print one JSON object")
    return opts


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="vramscope",
        description="Will this model fit on my GPUs? With no command, the window opens; Qt's own options "
        "(-style fusion, -platform offscreen, -reverse …) are passed to it.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"vramscope {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    shared = _deployment_options()
    est = sub.add_parser(
        "estimate",
        help="memory for one scenario",
        parents=[shared],
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    est.add_argument(
        "model",
        help="a preset id (llama-3.1-8b; `vramscope models` lists them), a model folder or its config.json, "
        "a .gguf file, or a Hugging Face Hub id (org/name, online)",
    )
    est.add_argument("--weights", metavar="FORMAT", help=f"weight format: {', '.join(WEIGHT_FORMATS)}")
    est.add_argument("--kv-dtype", default="auto", help=f"KV-cache dtype: auto, {', '.join(KV_DTYPES)}")
    est.add_argument("--images", type=int, default=0, help="images per sequence (models with a vision encoder)")
    est.add_argument("--draft", metavar="MODEL", help="a draft model for speculative decoding (preset, folder, GGUF)")
    est.add_argument("--launch-command", action="store_true", help="also print the engine's launch command")
    est.add_argument(
        "--manifest",
        action="store_true",
        help="with --engine vllm --nodes N: also print a Kubernetes LeaderWorkerSet for it (kubectl apply -f)",
    )
    est.add_argument(
        "--solve",
        choices=("context", "batch", "gpus", "format", "gpu", "replicas"),
        help="the largest context or batch, the fewest GPUs, the best weight format, the smallest GPU that fits, "
        "the data-parallel replicas that serve --sequences",
    )
    est.add_argument(
        "--sequences",
        type=int,
        metavar="N",
        help="with --solve replicas: the concurrent sequences (at --context) to serve",
    )
    est.add_argument("--screenshot", metavar="PATH", help="render the window for this scenario to a PNG and exit")
    fit = sub.add_parser(
        "fit", help="the presets that fit these GPUs at this context, each with its format", parents=[shared]
    )
    fit.add_argument(
        "--min-bits",
        type=float,
        default=MIN_BITS,
        metavar="B",
        help=f"the fewest bits per weight a model is run at (default {MIN_BITS:g}: below it a smaller model does "
        "better)",
    )
    chk = sub.add_parser("check", help="an engine's start-up log beside the prediction for its scenario")
    chk.add_argument("logfile", help="a vLLM, llama.cpp, Ollama or SGLang log (- for standard input)")
    chk.add_argument("--model", help="the model, where the log does not name one the app knows")
    chk.add_argument("--gpu", metavar="NAME", help="the GPU, where the log does not say its memory")
    chk.add_argument("--json", action="store_true", help="print one JSON object")
    for name, text in (
        ("models", "list the model presets"),
        ("gpus", "list the GPU catalog"),
        ("probe", "the GPUs detected on this machine"),
    ):
        listing = sub.add_parser(name, help=text)
        listing.add_argument("--json", action="store_true")
    shells = sub.add_parser("completion", help="print a shell completion script (bash, zsh)")
    shells.add_argument("shell", choices=("bash", "zsh"))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Every outcome is an exit code: 0 fits, 1 does not fit, 2 bad input (one line), 3 a bug of ours (one
    line and where its details are), 130 interrupted."""
    from vramscope.terminal import guard_streams

    original = guard_streams()
    try:
        return _main(argv)
    except KeyboardInterrupt:
        print("vramscope: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `vramscope gpus --json | head -1`: the reader has what it wanted
        _silence_stdout()
        return EXIT_FITS
    except Exception as exc:
        from vramscope.crashlog import write_crash_log

        path = write_crash_log(exc, "vramscope " + " ".join(sys.argv[1:] if argv is None else argv))
        print(f"vramscope: internal error ({type(exc).__name__}: {exc}); details in {path}", file=sys.stderr)
        return EXIT_INTERNAL
    finally:
        try:
            sys.stdout.flush()
        except (BrokenPipeError, ValueError):
            _silence_stdout()
        sys.stdout, sys.stderr = original


def _silence_stdout() -> None:
    """A closed pipe: what is still buffered goes nowhere, and Python's own flush at exit stays quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.__stdout__.fileno() if sys.__stdout__ else 1)
    except (OSError, ValueError):
        pass


def _main(argv: Sequence[str] | None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if not args_list:
        return _open_window()
    if _qt_options(args_list):
        return _open_window(args_list)
    if args_list[0] == "--screenshot" and len(args_list) >= 2:  # vramscope --screenshot PATH [estimate options]
        path, rest = args_list[1], args_list[2:]
        if not rest or rest[0].startswith("-"):
            rest = [DEFAULT_PRESET, *rest]
        args_list = ["estimate", *rest, "--screenshot", path]
    try:
        args = _parser().parse_args(args_list)
        if args.command == "estimate":
            return _estimate(args)
        if args.command == "fit":
            return _fit(args)
        if args.command == "check":
            return _check(args)
        if args.command == "models":
            return _models(args.json)
        if args.command == "gpus":
            return _gpus(args.json)
        if args.command == "probe":
            return _probe(args.json)
        if args.command == "completion":
            from vramscope.completion import script

            print(script(_parser(), args.shell), end="")
            return EXIT_FITS
        return _open_window()
    except (BadInput, ModelFileError) as exc:
        print(f"vramscope: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except SystemExit as exc:  # --help
        return int(exc.code or 0)


def gui_main() -> int:
    """`vramscope-gui`: the window only, with Qt's own options (-style fusion …), never a sub-command."""
    qt_args = [a for a in sys.argv[1:] if a.startswith("-")]
    return main(qt_args) if qt_args and _qt_options(qt_args) else main([])


QT_OPTIONS = ("-style", "-platform", "-reverse", "-qwindow", "-geometry", "-stylesheet", "-widgetcount", "-session")


def _qt_options(args: list[str]) -> bool:
    """Qt's standard options (one dash: -style fusion, -platform offscreen) open the window with them."""
    return args[0].startswith(QT_OPTIONS) or args[0].startswith(("--style", "--platform"))


def _open_window(qt_args: Sequence[str] = ()) -> int:
    from vramscope.gui.app import main as gui_main  # Qt only when the window is asked for

    return gui_main([sys.argv[0], *qt_args])


def _screenshot(args: argparse.Namespace, model: ModelSpec) -> int:

    from vramscope.gui.app import screenshot

    target = Path(args.screenshot)
    if not target.parent.is_dir():
        raise BadInput(f"--screenshot: the folder {target.parent} does not exist")
    workload = _workload(args, model)
    deployment = _deployment(args)
    capacity = round(args.gpu_memory * GIB) if args.gpu_memory else None
    gpu = args.gpu if args.gpu and args.gpu != "auto" else None
    saved = screenshot(
        target,
        model,
        workload,
        gpu,
        deployment.gpu_count,
        capacity,
        deployment.engine,
        deployment.settings,
        deployment.host,
    )
    if not saved:
        raise BadInput(f"--screenshot: could not write {target}")
    print(f"saved {target}")
    return EXIT_FITS


# --- estimate ---------------------------------------------------------------------------------------


def _deployment(args: argparse.Namespace) -> Deployment:
    listed = _listed_gpus(args)
    if listed and args.gpus is None and args.gpus_per_node is None and args.tp is None:
        args.gpus_per_node = len(listed)  # the node listed, as many times as there are nodes
    tp, pp, dp, count = _parallel_sizes(args)
    engine = _engine(args.engine)
    if args.gpu_util is not None and not MIN_FRACTION <= args.gpu_util <= 1:
        raise BadInput(f"--gpu-util must be between {MIN_FRACTION} and 1, got {args.gpu_util}")
    gpus: tuple[GpuSpec, ...] = ()
    capacity = None
    if args.gpu_memory is not None:
        if not 0 < args.gpu_memory < 1e7:
            raise BadInput(f"--gpu-memory must be a positive number of GiB, got {args.gpu_memory}")
        capacity = round(args.gpu_memory * GIB)
    if args.gpu is not None and not args.gpu.strip():
        raise BadInput("--gpu needs a catalog id or name (see `vramscope gpus`), or auto")
    if args.devices is not None and (not args.gpu or args.gpu.lower() != "auto"):
        raise BadInput("--devices picks detected GPUs: give it with --gpu auto")
    if listed:
        every = listed * args.nodes  # every node like the one listed
        if len(every) < tp * pp * dp:
            raise BadInput(f"the nvidia-smi listing has {len(listed)} GPUs per node, {tp * pp * dp} ranks need more")
        gpus = tuple(g.model_copy(update={"capacity_bytes": capacity}) if capacity else g for g in every)
        gpus = gpus[: tp * pp * dp]
    elif args.gpu and args.gpu.lower() == "auto":
        every = count is None and args.tp is None and pp == 1 and dp == 1  # as the window: all detected GPUs
        chosen = _device_indexes(args.devices)
        if chosen is not None:
            gpus = _chosen_gpus(chosen, capacity)
            if every:
                tp = len(gpus)
            elif len(gpus) != tp * pp * dp:
                raise BadInput(
                    f"--devices names {len(gpus)} GPUs, --tp {tp} x --pp {pp} x --dp {dp} needs {tp * pp * dp}"
                )
        else:
            gpus = _detected_gpus(None if every else tp * pp * dp, capacity)
        if every and len(gpus) > 1:
            tp = len(gpus)
    elif args.gpu:
        found = find_gpu(args.gpu)
        if found is None:
            raise BadInput(unknown_gpu_message(args.gpu))
        gpus = (found.spec(capacity),)
    elif capacity is not None:
        gpus = (GpuSpec(name=f"{args.gpu_memory:g} GiB GPU", capacity_bytes=capacity, total_bytes=capacity),)
    try:
        return Deployment(
            gpus=gpus,
            host=_host(args, gpus),
            tensor_parallel=tp,
            pipeline_parallel=pp,
            data_parallel=dp,
            expert_parallel=args.ep,
            nodes=args.nodes,
            engine=engine,
            settings=_engine_settings(args),
        )
    except ValidationError as exc:
        raise BadInput(validation_message(exc)) from None


def _parallel_sizes(args: argparse.Namespace) -> tuple[int, int, int, int | None]:
    """(tp, pp, dp, GPUs asked for): tp x pp x dp ranks; with --nodes, tensor parallel inside a node and
    pipeline parallel across nodes unless said otherwise."""
    dp, nodes = args.dp, args.nodes
    for flag, value in (("--dp", dp), ("--nodes", nodes), ("--gpus-per-node", args.gpus_per_node)):
        if value is not None and value < 1:
            raise BadInput(f"{flag} must be at least 1, got {value}")
    count = args.gpus
    if args.gpus_per_node is not None:
        if count is not None and count != nodes * args.gpus_per_node:
            raise BadInput(f"--gpus {count} does not equal --nodes {nodes} x --gpus-per-node {args.gpus_per_node}")
        count = nodes * args.gpus_per_node
    pp, tp = args.pp, args.tp
    if tp is None:
        per_node = count // nodes if count is not None else None
        tp = 1 if count is None else max(1, per_node if nodes > 1 and per_node else count // ((pp or 1) * dp))
    if pp is None:
        pp = max(1, count // (tp * dp)) if count is not None and nodes > 1 else 1
    if count is not None and count != tp * pp * dp:
        raise BadInput(f"{count} GPUs do not equal --tp {tp} x --pp {pp} x --dp {dp}")
    return tp, pp, dp, count


def _host(args: argparse.Namespace, gpus: tuple[GpuSpec, ...]) -> HostSpec | None:
    """--ram as stated; a catalog Mac's own unified memory; else, with GPUs to fit, this machine's."""
    from vramscope.hardware.host import detect_host, stated_host, unified_host, with_bandwidth

    bandwidth = args.ram_bandwidth
    if bandwidth is not None and not 0 < bandwidth < 1e6:
        raise BadInput(f"--ram-bandwidth must be a positive number of GB/s, got {bandwidth}")
    if args.ram is not None:
        if not 0 < args.ram < 1e7:
            raise BadInput(f"--ram must be a positive number of GiB, got {args.ram}")
        return stated_host(args.ram, bandwidth)
    if not gpus:
        return None
    found = find_gpu(args.gpu) if args.gpu and args.gpu.lower() != "auto" else None
    host = (
        unified_host(found.name, found.memory_bytes, found.bandwidth_gbps * 1e9)
        if found is not None and found.unified_memory
        else detect_host()
    )
    return host if host is None or bandwidth is None else with_bandwidth(host, bandwidth)


ENGINE_ALIASES = {"llamacpp": Engine.LLAMACPP, "llama-cpp": Engine.LLAMACPP, "llama-server": Engine.LLAMACPP}


def _engine(name: str) -> Engine:
    key = name.strip().lower()
    if key in ENGINE_ALIASES:
        return ENGINE_ALIASES[key]
    try:
        return Engine(key)
    except ValueError:
        raise BadInput(f"unknown engine '{name}'; known: {', '.join(e.value for e in Engine)}") from None


def _engine_settings(args: argparse.Namespace) -> EngineSettings:
    split: tuple[float, ...] = ()
    if args.tensor_split:
        try:
            split = tuple(float(p) for p in args.tensor_split.split(","))
        except ValueError:
            raise BadInput(f"--tensor-split takes numbers separated by commas, got '{args.tensor_split}'") from None
    fields = {
        "engine_version": args.engine_version,
        "gpu_memory_utilization": args.gpu_util,
        "max_num_batched_tokens": args.max_num_batched_tokens,
        "max_num_seqs": args.max_num_seqs,
        "block_size": args.block_size,
        "enforce_eager": args.enforce_eager,
        "flashinfer_sampler": args.flashinfer_sampler,
        "peer_to_peer": not args.no_p2p,
        "n_ubatch": args.ubatch,
        "flash_attn": None if args.flash_attn is None else args.flash_attn == "on",
        "n_gpu_layers": args.ngl,
        "n_cpu_moe": args.n_cpu_moe,
        "swa_full": args.swa_full,
        "kv_unified": args.kv_unified,
        "split_mode": args.split_mode,
        "tensor_split": split,
        "mem_fraction_static": args.mem_fraction,
        "attn_implementation": args.attn_implementation,
        "cache_implementation": args.cache_implementation,
    }
    try:
        return EngineSettings.model_validate(fields)
    except ValidationError as exc:
        raise BadInput(f"engine setting {validation_message(exc)}") from None


def _detected_gpus(count: int | None, capacity: int | None) -> tuple[GpuSpec, ...]:
    """`--gpu auto`: the first `count` detected GPUs (None: all of them) at their free memory; system
    memory when none."""
    from vramscope.hardware.probe import probe_with_timeout, system_memory_device

    snapshot = probe_with_timeout()
    usable = snapshot.usable_gpus()
    if not usable:
        ram = system_memory_device()
        print(f"vramscope: no GPU detected — {snapshot.message}", file=sys.stderr)
        if ram is None:
            raise BadInput("no GPU detected and system memory unreadable: give --gpu NAME or --gpu-memory GIB")
        usable = (ram,)
    if count is not None and count > len(usable) and len(usable) > 1:
        raise BadInput(f"{count} GPUs asked for, {len(usable)} detected")
    specs = [d.gpu_spec() for d in usable[: count or len(usable)]]
    if capacity is not None:
        specs = [s.model_copy(update={"capacity_bytes": capacity}) for s in specs]
    return tuple(specs)


def _listed_gpus(args: argparse.Namespace) -> tuple[GpuSpec, ...]:
    """`--gpus-from FILE` (- for standard input): a node's GPUs as nvidia-smi lists them."""
    from vramscope.hardware.nvidia_smi import NvidiaSmiError, read_nvidia_smi

    if args.gpus_from is None:
        return ()
    if args.gpu or args.devices:
        raise BadInput("--gpus-from lists the GPUs: leave out --gpu and --devices")
    try:
        if args.gpus_from == "-":
            text = sys.stdin.read(MAX_LISTING + 1)
        else:
            with open(args.gpus_from, encoding="utf-8", errors="replace") as listing:
                text = listing.read(MAX_LISTING + 1)
        return read_nvidia_smi(text)
    except OSError as exc:
        raise BadInput(f"--gpus-from: cannot read {args.gpus_from}: {exc.strerror or exc}") from None
    except NvidiaSmiError as exc:
        raise BadInput(f"--gpus-from {args.gpus_from}: {exc}") from None


def _device_indexes(text: str | None) -> list[int] | None:
    if text is None:
        return None
    parts = [p.strip() for p in text.split(",")]
    if not all(p.isascii() and p.isdigit() and len(p) <= 4 for p in parts) or len(set(parts)) != len(parts):
        raise BadInput(f"--devices takes distinct GPU indexes separated by commas, e.g. 0,2; got '{text[:40]}'")
    return [int(p) for p in parts]


def _chosen_gpus(indexes: list[int], capacity: int | None) -> tuple[GpuSpec, ...]:
    """`--devices`: these detected GPUs, by the index `vramscope probe` shows, in the order given."""
    from vramscope.hardware.probe import probe_with_timeout

    usable = {d.index: d for d in probe_with_timeout().usable_gpus()}
    missing = [i for i in indexes if i not in usable]
    if missing:
        found = ", ".join(str(i) for i in sorted(usable)) or "none"
        raise BadInput(f"--devices: no detected GPU {missing[0]} (detected: {found}; see `vramscope probe`)")
    specs = [usable[i].gpu_spec() for i in indexes]
    if capacity is not None:
        specs = [s.model_copy(update={"capacity_bytes": capacity}) for s in specs]
    return tuple(specs)


def _workload(args: argparse.Namespace, model: ModelSpec) -> Workload:
    context = args.context if args.context is not None else min(DEFAULT_CONTEXT, model.architecture.max_context)
    try:
        return Workload(
            context=context, batch=args.batch, weight_format=args.weights, kv_dtype=args.kv_dtype, images=args.images
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        if first["type"] == "value_error":  # an unknown format or dtype: the message names the known ones
            raise BadInput(str(first["ctx"]["error"])) from None
        raise BadInput(f"--{validation_message(exc)}") from None


def _estimate(args: argparse.Namespace) -> int:
    model = resolve_model(args.model)
    if args.screenshot:
        return _screenshot(args, model)
    workload = _workload(args, model)
    deployment = _deployment(args)
    if args.draft:
        deployment = Deployment(**{**dict(deployment), "draft": resolve_model(args.draft)})
    try:
        analysis = analyse(model, workload, deployment)
    except ValueError as exc:  # a setting the engine refuses (tensor parallel that does not divide the heads …)
        raise BadInput(error_message(exc)) from None
    if (args.solve == "replicas") != (args.sequences is not None):
        raise BadInput("--solve replicas and --sequences N go together: the load to size the replicas for")
    if args.sequences is not None and not 1 <= args.sequences <= MAX_BATCH:
        raise BadInput(f"--sequences must be between 1 and {MAX_BATCH:,}, got {args.sequences}")
    solution = _solve(args.solve, model, workload, deployment, args.sequences) if args.solve else None
    if args.json:
        doc = report.to_json(analysis, launch_command=args.launch_command)
        advice = ways_out(model, workload, deployment, catalog_gpus(), all_presets())
        doc["ways_out"] = report.ways_out_json(analysis, advice)
        if solution is not None:
            doc["solution"] = solution
        if args.manifest:
            doc["kubernetes_manifest"] = lws_manifest(model, workload, deployment)
        print(json.dumps(doc, indent=2))
    else:
        print(report.text(analysis))
        if args.launch_command:
            print(f"\nLaunch: {analysis.launch_command}")
        if args.manifest:
            manifest = lws_manifest(model, workload, deployment)
            print(
                f"\nKubernetes (kubectl apply -f vllm.json):\n{manifest}"
                if manifest
                else "\nNo manifest: a LeaderWorkerSet is written for vLLM over --nodes 2 or more"
            )
        if solution is not None:
            value = solution["value"]
            answer = f"{value:,}" if isinstance(value, int) else str(value)
            print(f"\nSolve {args.solve}: {answer if value is not None else solution['reason']}")
    for warning in analysis.estimate.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return EXIT_DOES_NOT_FIT if analysis.estimate.fits is False else EXIT_FITS


def _solve(
    target: str, model: ModelSpec, workload: Workload, deployment: Deployment, sequences: int | None = None
) -> dict[str, Any]:
    """`--solve`: the answer and the full estimate at it, or why there is none."""
    from vramscope.core import solve
    from vramscope.hardware.catalog import catalog

    if target in ("context", "batch", "gpus", "gpu", "replicas") and not deployment.gpus:
        return {"target": target, "value": None, "reason": "no capacity given (--gpu or --gpu-memory)"}
    value: Any = None
    at_workload, at_deployment = workload, deployment
    if target == "context":
        value = solve.max_context(model, workload, deployment)
        at_workload = workload.model_copy(update={"context": value or 1})
    elif target == "batch":
        value = solve.max_batch(model, workload, deployment)
        at_workload = workload.model_copy(update={"batch": value or 1})
    elif target == "format":
        value = solve.best_format(model, workload, deployment)
        at_workload = workload.model_copy(update={"weight_format": value})
    elif target == "replicas":
        sizing = solve.replicas_for(model, workload, deployment, sequences or 1)
        if sizing is None:
            return {"target": target, "value": None, "reason": f"no number of replicas holds {sequences:,} sequences"}
        fill = Workload.model_validate({**workload.model_dump(), "batch": sizing.sequences_per_replica})
        return {
            "target": target,
            "value": sizing.replicas,
            "gpus": sizing.gpus,
            "sequences_per_replica": sizing.sequences_per_replica,
            "estimate": report.to_json(analyse(model, fill, sizing.deployment)),
        }
    elif target == "gpus":
        value = solve.fewest_gpus(model, workload, deployment)
        at_deployment = solve.with_gpu_count(deployment, value or 1)
    else:
        known = {g.id: g.spec() for g in catalog()}
        found = solve.smallest_gpu(model, workload, deployment, list(known.values()))
        value = next((gid for gid, spec in known.items() if spec == found), None)
        if found is not None:
            at_deployment = Deployment.model_validate({**dict(deployment), "gpus": (found,)})
    if value is None:
        return {"target": target, "value": None, "reason": f"nothing fits: no {target} makes it fit"}
    return {"target": target, "value": value, "estimate": report.to_json(analyse(model, at_workload, at_deployment))}


def _fit(args: argparse.Namespace) -> int:
    """`vramscope fit`: every preset that fits these GPUs at this context, with the format it needs."""
    from vramscope.core import solve

    deployment = _deployment(args)
    if not deployment.gpus:
        raise BadInput("fit needs GPUs: --gpu NAME, --gpu auto or --gpu-memory GIB")
    workload = Workload(context=args.context or DEFAULT_CONTEXT, batch=args.batch)
    rows: list[dict[str, Any]] = []
    for row in model_table(all_presets(), workload, deployment, args.min_bits):  # the window's table
        a = analyse(row.model, workload.model_copy(update={"weight_format": row.weight_format}), deployment)
        rows.append(
            {
                "id": find_preset(row.model.name) or row.model.name,
                "parameters": a.estimate.parameters,
                "weights": row.weight_format,
                "bits_per_weight": solve.format_bits(row.weight_format),
                "perplexity_delta": cost.perplexity_delta if (cost := quality_cost(row.weight_format)) else None,
                "kv_dtype": a.estimate.kv_dtype,
                "total_bytes": a.estimate.total_bytes,
                "host_bytes": a.estimate.host_bytes,
                "max_context": a.max_context,
            }
        )
    capacity = sum((deployment.gpu(i) or deployment.gpus[0]).capacity_bytes or 0 for i in range(deployment.gpu_count))
    if args.json:
        print(
            json.dumps(
                {
                    "schema_version": report.SCHEMA_VERSION,
                    "capacity_bytes": capacity,
                    "host_capacity_bytes": deployment.host.capacity_bytes if deployment.host else None,
                    "context": args.context or DEFAULT_CONTEXT,
                    "models": rows,
                },
                indent=2,
            )
        )
        return EXIT_FITS
    print(f"{'id':<20} {'parameters':>18} {'weights':<10} {'GPUs':>12} {'host':>12} {'max context':>12}")
    for r in rows:
        ctx = f"{r['max_context']:,}" if r["max_context"] else "—"
        print(
            f"{r['id']:<20} {r['parameters']:>18,} {r['weights']:<10} {format_bytes(r['total_bytes']):>12} "
            f"{format_bytes(r['host_bytes']):>12} {ctx:>12}"
        )
    return EXIT_FITS


def _check(args: argparse.Namespace) -> int:
    from vramscope.logcheck import check, check_json, check_text
    from vramscope.sources.engine_log import MAX_LOG_BYTES, read_engine_log
    from vramscope.sources.files import read_head

    if args.logfile == "-":
        raw: bytes = sys.stdin.buffer.read(MAX_LOG_BYTES)
    else:  # a start-up log is its first megabytes: what follows is request traffic
        raw = read_head(Path(args.logfile), MAX_LOG_BYTES)
    log = read_engine_log(raw)
    model = resolve_model(args.model) if args.model else None
    gpu = None
    if args.gpu:
        found = find_gpu(args.gpu)
        if found is None:
            raise BadInput(unknown_gpu_message(args.gpu))
        gpu = found.spec()
    try:
        result = check(log, model, gpu)
    except ValueError as exc:
        raise BadInput(f"the log's settings cannot be planned: {error_message(exc)}") from None
    print(json.dumps(check_json(result), indent=2) if args.json else check_text(result))
    return EXIT_FITS


# --- listings ---------------------------------------------------------------------------------------


def _models(as_json: bool) -> int:
    rows: list[dict[str, Any]] = []
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
    from vramscope.hardware.probe import probe_with_timeout

    snapshot = probe_with_timeout()
    if as_json:
        print(json.dumps({"schema_version": report.SCHEMA_VERSION, **snapshot.model_dump(mode="json")}, indent=2))
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
