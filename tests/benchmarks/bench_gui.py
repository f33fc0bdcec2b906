"""Window speed: one slider step, start-up to first paint and to the chart, beside a bare PySide6 +
pyqtgraph window measured the same way, and resident memory after start-up.

Run: QT_QPA_PLATFORM=offscreen uv run python tests/benchmarks/bench_gui.py
"""

import json
import os
import statistics
import subprocess
import sys
import time

# Each child reports seconds since the parent's clock at Popen. The bare window quits at its first paint;
# ours at the chart, which arrives after the first paint.
PREAMBLE = """
import json, resource, sys, time
t0 = float(sys.argv[1])
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow
marks = {}
QUIT_ON_PAINT = %s
class FirstPaint(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and obj.isWidgetType() and "first_paint" not in marks:
            marks["first_paint"] = time.time() - t0
            if QUIT_ON_PAINT:
                QTimer.singleShot(0, app.quit)
        return False
app = QApplication([])
spy = FirstPaint(); app.installEventFilter(spy)
"""
FINISH = """
app.exec()
marks.setdefault("rss_mib", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
print(json.dumps(marks))
"""
APP = (
    PREAMBLE % "False"
    + """
from vramscope.gui.app import start
window = start()
def ready():
    marks["chart_ready"] = time.time() - t0
    marks["rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    app.quit()
window.chart_ready.connect(ready)
"""
    + FINISH
)
BARE = (
    PREAMBLE % "True"
    + """
import pyqtgraph as pg
window = QMainWindow(); window.setCentralWidget(pg.PlotWidget()); window.resize(1280, 780); window.show()
"""
    + FINISH
)


def run_child(code: str) -> dict[str, float]:
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen"),
        "XDG_CONFIG_HOME": "/tmp/vramscope-bench-config",
    }
    out = subprocess.run(
        [sys.executable, "-c", code, str(time.time())], capture_output=True, text=True, env=env, check=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def startup(rounds: int = 5) -> None:
    for name, code in (("VRAM Scope", APP), ("bare PySide6 + pyqtgraph", BARE)):
        runs = [run_child(code) for _ in range(rounds)]
        line = f"{name:<26} first paint median {statistics.median(r['first_paint'] for r in runs) * 1e3:.0f} ms"
        if "chart_ready" in runs[0]:
            line += f", chart ready {statistics.median(r['chart_ready'] for r in runs) * 1e3:.0f} ms"
        line += f", max RSS {statistics.median(r['rss_mib'] for r in runs):.0f} MiB"
        print(line)


def slider_steps(steps: int = 500) -> None:
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    from vramscope.core.scenario import Engine
    from vramscope.gui.app import build_window

    window = build_window()
    window.resize(1280, 780)
    window.show()
    app.processEvents()
    slider = window.workload_panel.context_slider
    for engine in Engine:
        window.controller.set_engine(engine)
        for i in range(50):  # warm-up: caches, fonts, the first repaints
            slider.setValue(100 + i)
            app.processEvents()
        times = []
        for i in range(steps):  # analyse (estimate + limits + launch command) + chart + repaint of what changed
            start = time.perf_counter()
            slider.setValue(200 + (i * 7) % 800)
            app.processEvents()
            times.append(time.perf_counter() - start)
        times.sort()
        p95 = times[int(0.95 * steps) - 1]
        print(
            f"slider step, {engine.value:<12} over {steps}: median {statistics.median(times) * 1e3:.2f} ms, "
            f"p95 {p95 * 1e3:.2f} ms"
        )
    switches = []
    for i in range(100):
        start = time.perf_counter()
        window.controller.set_engine(list(Engine)[i % len(Engine)])
        app.processEvents()
        switches.append(time.perf_counter() - start)
    switches.sort()
    print(f"engine switch over 100: median {statistics.median(switches) * 1e3:.2f} ms, p95 {switches[94] * 1e3:.2f} ms")


if __name__ == "__main__":
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if "--slider-only" not in sys.argv:
        startup()
    slider_steps()
