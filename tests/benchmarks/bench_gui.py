"""Window speed: one slider step, start-up to first paint and to the chart, beside a bare PySide6 +
pyqtgraph window measured the same way, and resident memory after start-up.

Run: QT_QPA_PLATFORM=offscreen uv run python tests/benchmarks/bench_gui.py
"""

import compileall
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

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
    # as a second launch finds them: where PYTHONDONTWRITEBYTECODE is set (CI images, this sandbox) every
    # launch would compile the package again, which a user's machine does once; site-packages are compiled
    compileall.compile_dir(str(Path(__file__).parents[2] / "desktop" / "vramscope"), quiet=1)
    for name, code in (("VRAM Scope", APP), ("bare PySide6 + pyqtgraph", BARE)):
        runs = [run_child(code) for _ in range(rounds)]
        line = f"{name:<26} first paint median {statistics.median(r['first_paint'] for r in runs) * 1e3:.0f} ms"
        if "chart_ready" in runs[0]:
            line += f", chart ready {statistics.median(r['chart_ready'] for r in runs) * 1e3:.0f} ms"
        line += f", max RSS {statistics.median(r['rss_mib'] for r in runs):.0f} MiB"
        print(line)


def _p95(times: list[float]) -> float:
    return sorted(times)[max(0, int(0.95 * len(times)) - 1)]


def slider_steps(steps: int = 300) -> None:
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    from vramscope.core.scenario import Engine
    from vramscope.gui.app import build_window

    window = build_window()
    window.resize(1280, 780)
    window.show()
    app.processEvents()
    slider = window.workload_panel.context_slider
    for view in ("Memory", "Against context", "Against batch", "What fits", "Models that fit"):
        window.show_view(view)
        for engine in Engine:
            window.controller.set_engine(engine)
            for i in range(30):  # warm-up: caches, fonts, the first repaints
                slider.setValue(100 + i)
                app.processEvents()
            times = []
            for i in range(steps):  # analyse without limits + the view shown + repaint of what changed
                start = time.perf_counter()
                slider.setValue(200 + (i * 7) % 800)
                app.processEvents()
                times.append(time.perf_counter() - start)
            print(
                f"slider step, {view:<16} {engine.value:<12} over {steps}: "
                f"median {statistics.median(times) * 1e3:.2f} ms, p95 {_p95(times) * 1e3:.2f} ms"
            )
    bar_alone(window, app, steps)
    switches = []
    window.show_view("Memory")
    for i in range(100):
        start = time.perf_counter()
        window.controller.set_engine(list(Engine)[i % len(Engine)])
        app.processEvents()
        switches.append(time.perf_counter() - start)
    print(
        f"engine switch over 100: median {statistics.median(switches) * 1e3:.2f} ms, p95 {_p95(switches) * 1e3:.2f} ms"
    )
    at_rest(window, app)


def bar_alone(window: object, app: object, steps: int) -> None:
    """The bar chart by itself: its update from an analysis already made, then its synchronous repaint."""
    from vramscope.core.analysis import analyse
    from vramscope.core.scenario import Engine, Workload

    window.show_view("Memory")  # type: ignore[attr-defined]
    c, chart = window.controller, window.chart  # type: ignore[attr-defined]
    app.processEvents()  # type: ignore[attr-defined]
    for engine in (Engine.TRANSFORMERS, Engine.VLLM, Engine.LLAMACPP):
        c.set_engine(engine)
        results = [
            analyse(c.model, Workload(context=1000 + 97 * i), c.deployment(), limits=False) for i in range(steps)
        ]
        times = []
        for result in results:
            start = time.perf_counter()
            chart.show_analysis(result)
            chart.plot.viewport().repaint()
            times.append(time.perf_counter() - start)
        print(
            f"bar alone, {engine.value:<12} over {steps}: median {statistics.median(times) * 1e3:.2f} ms, "
            f"p95 {_p95(times) * 1e3:.2f} ms"
        )


def at_rest(window: object, app: object) -> None:
    """What follows once a drag pauses: the limits, the ways out and the table shown; and the models view."""
    from vramscope.core.scenario import Engine
    from vramscope.core.tables import model_table
    from vramscope.sources.presets import all_presets

    c = window.controller  # type: ignore[attr-defined]
    for view in ("Memory", "What fits"):
        window.show_view(view)  # type: ignore[attr-defined]
        for engine in Engine:
            c.set_engine(engine)
            times = []
            for i in range(20):
                c.set_workload(context=4000 + 97 * i)
                start = time.perf_counter()
                c.finish_limits()
                app.processEvents()  # type: ignore[attr-defined]
                times.append(time.perf_counter() - start)
            print(
                f"controls rest, {view:<10} {engine.value:<12}: median {statistics.median(times) * 1e3:.1f} ms, "
                f"max {max(times) * 1e3:.1f} ms"
            )
    presets = all_presets()
    for engine in Engine:
        c.set_engine(engine)
        a = c.result
        runs = []
        for _ in range(3):  # the first run prices every preset's formats; later runs find them cached
            start = time.perf_counter()
            rows = model_table(presets, a.workload, a.deployment)
            runs.append(time.perf_counter() - start)
        print(
            f"models view, {engine.value:<12} {len(rows)} of {len(presets)} fit: first {runs[0] * 1e3:.0f} ms, "
            f"then {min(runs[1:]) * 1e3:.0f} ms (a worker thread)"
        )


if __name__ == "__main__":
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if "--slider-only" not in sys.argv:
        startup()
    slider_steps()
