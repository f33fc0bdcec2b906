"""Core speed: estimate() per call, and the `vramscope estimate --json` command wall time.

Run: uv run python tests/benchmarks/bench_core.py
"""

import statistics
import subprocess
import sys
import time

from vramscope.core.analysis import analyse
from vramscope.core.estimate import estimate
from vramscope.core.scenario import Deployment, Engine, GpuSpec, Workload
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


def bench_analyse(preset: str, engine: Engine, rounds: int = 300) -> tuple[float, float]:
    """(estimate alone, analyse = estimate + largest context and batch + speed + launch command), median µs."""
    model = load_preset(preset)
    deployment = Deployment(gpus=(GpuSpec(name="g", capacity_bytes=24 * GIB, total_bytes=24 * GIB),), engine=engine)
    workloads = [Workload(context=1024 + i, batch=1 + i % 4) for i in range(64)]
    for w in workloads:
        analyse(model, w, deployment)
    alone, full = [], []
    for i in range(rounds):
        w = workloads[i % 64]
        start = time.perf_counter()
        estimate(model, w, deployment)
        alone.append(time.perf_counter() - start)
        start = time.perf_counter()
        analyse(model, w, deployment)
        full.append(time.perf_counter() - start)
    return statistics.median(alone) * 1e6, statistics.median(full) * 1e6


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
    for engine in Engine:
        alone, full = bench_analyse("llama-3.1-8b", engine)
        print(f"{engine.value:<12} estimate {alone:7.1f} µs, analyse {full:8.1f} µs (llama-3.1-8b, 24 GiB)")
    median, worst = bench_cli()
    print(f"vramscope estimate llama-3.1-8b --json: median {median:.0f} ms, max {worst:.0f} ms (wall)")
