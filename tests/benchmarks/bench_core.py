"""Core speed: estimate() per call, and the `vramscope estimate --json` command wall time.

Run: uv run python tests/benchmarks/bench_core.py
"""

import statistics
import subprocess
import sys
import time

from vramscope.core.estimate import estimate
from vramscope.core.scenario import Deployment, GpuSpec, Workload
from vramscope.core.units import GIB
from vramscope.sources.presets import load_preset


def bench_estimate(preset: str, rounds: int = 5000) -> float:
    model = load_preset(preset)
    deployment = Deployment(gpus=(GpuSpec(name="g", capacity_bytes=24 * GIB),))
    workloads = [Workload(context=1024 + i, batch=1 + i % 4) for i in range(64)]
    for w in workloads * 8:  # warm the per-model caches and the CPU, as a slider drag does
        estimate(model, w, deployment)
    times = []
    for i in range(rounds):
        start = time.perf_counter()
        estimate(model, workloads[i % 64], deployment)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


def bench_cli(rounds: int = 15) -> tuple[float, float]:
    cmd = [sys.executable, "-m", "vramscope", "estimate", "llama-3.1-8b", "--context", "8192", "--json"]
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3, max(times) * 1e3


if __name__ == "__main__":
    for preset in ("llama-3.1-8b", "deepseek-v3", "gemma-3-27b", "llama-3.1-405b"):
        print(f"estimate({preset}): median {bench_estimate(preset):.1f} µs")
    median, worst = bench_cli()
    print(f"vramscope estimate llama-3.1-8b --json: median {median:.0f} ms, max {worst:.0f} ms (wall)")
