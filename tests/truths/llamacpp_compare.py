"""The llama.cpp profile against llama.cpp itself: the rows `llamacpp_measure.py` measured, predicted.

For every measured run (a tiny GGUF with a real architecture's layout, one setting of -c, -ub, -np, -fa,
-ctk/-ctv and --kv-unified) the profile reads the same GGUF through the app's reader and predicts the
cells, the cache bytes (base, sliding window and recurrent together, exact from llama.cpp's memory
breakdown), the output buffer and the CPU compute buffer. Not run in CI: it needs the measurements.

Run: uv run python tests/truths/llamacpp_compare.py [/tmp/llamacpp/measurements.json [GGUF folder]]
"""

import json
import statistics
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from vramscope.core.engines.llamacpp import cells, cpu_compute_buffer
from vramscope.core.estimate import estimate
from vramscope.core.scenario import Deployment, Engine, EngineSettings, Workload
from vramscope.sources.errors import ModelFileError
from vramscope.sources.gguf_file import read_gguf

REFUSED: dict[str, str] = {}  # GGUFs the app's reader does not take yet
KV_TYPES = {"f16": "fp16", "f32": "fp32", "bf16": "bf16", "q8_0": "q8_0", "q4_0": "q4_0"}


def compare(row: dict[str, Any], folder: Path) -> dict[str, Any] | None:
    s = row["settings"]
    if row.get("rc") != 0 or s["type_k"] != s["type_v"]:
        return None  # a refusal, or mixed K/V types: not a setting the app offers
    try:
        model = read_gguf(folder / f"{row['model']}.gguf")
    except ModelFileError as exc:
        REFUSED[row["model"]] = str(exc)
        return None
    slots = s["n_seq_max"]
    workload = Workload(context=s["n_ctx"] // slots, batch=slots, kv_dtype=KV_TYPES[s["type_k"]])
    unified, swa_full = bool(s["kv_unified"]), bool(s["swa_full"])
    settings = EngineSettings(
        n_ubatch=s["n_ubatch"], flash_attn=bool(s["fa"]), n_gpu_layers=0, kv_unified=unified, swa_full=swa_full
    )
    est = estimate(model, workload, Deployment(engine=Engine.LLAMACPP, settings=settings))
    d = est.engine_details
    cell = cells(model.architecture, workload.context, slots, s["n_ubatch"], unified, swa_full)
    cache = sum(int(d[k] or 0) for k in ("kv_full_bytes", "kv_swa_bytes", "kv_recurrent_bytes"))
    compute = cpu_compute_buffer(model.architecture, cell, cell.ubatch, bool(s["fa"]))
    output = slots * model.architecture.vocab_size * 4
    return {
        "model": row["model"],
        "cells_ok": d["n_ctx_cells"] == row["n_ctx"] and d["n_ctx_per_seq"] == row["n_ctx_seq"],
        "cache_ok": cache == row["context_bytes"],
        "cache": (row["context_bytes"], cache),
        "output_ok": abs(output - row["output_bytes_log"]) <= 0.005 * 2**20,
        "compute_error": (compute - row["compute_bytes"]) / row["compute_bytes"] * 100,
        "setting": f"-c {s['n_ctx']} -ub {s['n_ubatch']} -np {slots} -fa {s['fa']} {s['type_k']}"
        + (" --kv-unified" if unified else "")
        + (" --swa-full" if swa_full else ""),
        "unified": unified,
        "swa_full": swa_full,
    }


def main(measurements: Path, folder: Path) -> int:
    rows = json.loads(measurements.read_text(encoding="utf-8"))
    results = [r for r in (compare(row, folder) for row in rows) if r is not None]
    by_model: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in results:
        by_model[r["model"]].append(r)
    print(f"{'model':<14} {'runs':>5} {'cells exact':>12} {'cache exact':>12} {'output':>7} compute |err| mean/max")
    for name, rs in by_model.items():
        errors = [abs(r["compute_error"]) for r in rs]
        print(
            f"{name:<14} {len(rs):>5} {sum(r['cells_ok'] for r in rs):>12} {sum(r['cache_ok'] for r in rs):>12} "
            f"{sum(r['output_ok'] for r in rs):>7} {statistics.mean(errors):>14.1f}% / {max(errors):5.1f}%"
        )
    for flag in ("unified", "swa_full"):
        chosen = [r for r in results if r[flag]]
        exact = sum(r["cells_ok"] and r["cache_ok"] for r in chosen)
        print(f"  with {'--kv-unified' if flag == 'unified' else '--swa-full'}: {exact} of {len(chosen)} exact")
    misses = [r for r in results if not (r["cells_ok"] and r["cache_ok"] and r["output_ok"])]
    print(f"\n{len(results)} runs compared; {len(results) - len(misses)} exact in cells, cache bytes and output")
    for r in misses[:20]:
        print(f"  miss: {r['model']} {r['setting']}: cache measured {r['cache'][0]:,}, predicted {r['cache'][1]:,}")
    for name, why in REFUSED.items():
        print(f"  not read: {name}: {why}")
    return 0


if __name__ == "__main__":
    data = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/tmp/llamacpp/measurements.json")
    ggufs = Path(sys.argv[2]) if len(sys.argv) > 2 else data.parent / "work"
    if not data.exists():
        print(f"no measurements at {data}: run tests/truths/llamacpp_measure.py first")
        sys.exit(0)
    sys.exit(main(data, ggufs))
