"""Probe speed on this machine (without a driver: the fallback path).

Run: uv run python tests/benchmarks/bench_probe.py
"""

import statistics
import time

from vramscope.hardware.probe import probe

probe()  # import pynvml and psutil once, as the app's first probe does
times = []
for _ in range(200):
    start = time.perf_counter()
    snapshot = probe()
    times.append(time.perf_counter() - start)
print(
    f"probe(): status {snapshot.status.value}, median {statistics.median(times) * 1e3:.2f} ms, "
    f"p95 {sorted(times)[189] * 1e3:.2f} ms over 200 runs"
)
