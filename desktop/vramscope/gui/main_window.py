"""Composes the panels around the controller; wires them in one place."""

from collections.abc import Callable

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QMainWindow, QMenu, QVBoxLayout, QWidget

from vramscope.core.estimate import SEGMENT_LABELS
from vramscope.core.units import Unit, format_bytes
from vramscope.gui.controller import Controller, Result
from vramscope.gui.widgets.gpu_panel import GpuPanel
from vramscope.gui.widgets.memory_chart import MemoryChart
from vramscope.gui.widgets.model_panel import ModelPanel
from vramscope.gui.widgets.verdict import VerdictPanel, verdict_text
from vramscope.gui.widgets.workload_panel import WorkloadPanel
from vramscope.hardware.probe import HardwareSnapshot
from vramscope.sources.presets import find_preset, load_preset


class MainWindow(QMainWindow):
    def __init__(self, controller: Controller, settings: QSettings | None = None) -> None:
        super().__init__()
        self.controller = controller
        self.settings = settings
        self.setWindowTitle("VRAM Scope — will it fit?")
        self.model_panel = ModelPanel()
        self.workload_panel = WorkloadPanel()
        self.gpu_panel = GpuPanel()
        self.chart = MemoryChart()
        self.verdict = VerdictPanel()
        side = QVBoxLayout()
        for panel in (self.model_panel, self.workload_panel, self.gpu_panel):
            side.addWidget(panel)
        side.addStretch(1)
        main = QVBoxLayout()
        main.addWidget(self.verdict)
        main.addWidget(self.chart, 1)
        root = QHBoxLayout()
        left = QWidget()
        left.setLayout(side)
        left.setFixedWidth(420)
        root.addWidget(left)
        root.addLayout(main, 1)
        central = QWidget()
        central.setLayout(root)
        self.setCentralWidget(central)
        self._build_menu()
        self._connect_signals()
        self._on_controller_model_changed(controller.model)
        self._on_controller_estimate_changed(controller.result)

    def _build_menu(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self._action(file_menu, "Export chart as PNG…", QKeySequence("Ctrl+E"), self._export_png)
        self._action(file_menu, "Quit", QKeySequence.StandardKey.Quit, self.close)
        edit = self.menuBar().addMenu("&Edit")
        self._action(edit, "Copy summary", QKeySequence.StandardKey.Copy, self.copy_summary)
        view = self.menuBar().addMenu("&View")
        self.gb_action = self._action(view, "Show decimal GB", QKeySequence("Ctrl+G"), self._toggle_unit)
        self.gb_action.setCheckable(True)

    def _action(
        self, menu: QMenu, text: str, shortcut: QKeySequence | QKeySequence.StandardKey, slot: Callable[[], object]
    ) -> QAction:
        action = QAction(text, self)
        action.setShortcut(shortcut)
        action.triggered.connect(lambda _=False: slot())
        menu.addAction(action)
        return action

    def _connect_signals(self) -> None:
        c = self.controller
        c.estimate_changed.connect(self._on_controller_estimate_changed)
        c.model_changed.connect(self._on_controller_model_changed)
        c.hardware_changed.connect(self.gpu_panel.show_hardware)
        self.model_panel.model_requested.connect(lambda pid: c.set_model(load_preset(pid)))
        self.workload_panel.workload_requested.connect(lambda changes: c.set_workload(**changes))
        self.workload_panel.gpu_count_requested.connect(c.set_gpu_count)
        self.gpu_panel.gpu_requested.connect(c.set_gpu)
        c.error_changed.connect(lambda text: self.statusBar().showMessage(text) if text else None)

    def _on_controller_model_changed(self, model: object) -> None:
        c = self.controller
        self.model_panel.show_model(c.model, find_preset(c.model.name) or find_preset(c.model.hf_id))

    def _on_controller_estimate_changed(self, result: Result) -> None:
        c = self.controller
        self.workload_panel.show_workload(result.model, result.workload, c.gpu_count)
        totals = tuple(c.gpu.total_bytes for _ in result.estimate.per_gpu)
        self.chart.show_estimate(result.estimate, c.unit, totals)
        self.verdict.show_result(result, c.unit)

    def on_probe_finished(self, snapshot: HardwareSnapshot) -> None:
        self.controller.set_hardware(snapshot)

    def _toggle_unit(self) -> None:
        self.controller.set_unit(Unit.GB if self.gb_action.isChecked() else Unit.GIB)

    def summary(self) -> str:
        """A Markdown summary of what the window shows."""
        r, unit = self.controller.result, self.controller.unit
        est = r.estimate
        headline, details = verdict_text(r, unit)
        lines = [
            f"**{r.model.name}** · {est.weight_format} weights · {est.kv_dtype} KV · context "
            f"{est.context:,} · batch {est.batch:,} · {len(est.per_gpu)} x {self.controller.gpu.name}",
            "",
            "| GPU | " + " | ".join(SEGMENT_LABELS.values()) + " | total | capacity |",
            "|---|" + "---:|" * 6,
        ]
        for g in est.per_gpu:
            cells = [format_bytes(s.bytes, unit) + f" ({s.provenance.value})" for s in g.segments]
            lines.append(
                f"| {g.index} | " + " | ".join(cells) + f" | {format_bytes(g.total_bytes, unit)} | "
                f"{format_bytes(g.capacity_bytes or 0, unit)} |"
            )
        lines += ["", headline, details.replace("\n", "  \n")]
        return "\n".join(lines)

    def copy_summary(self) -> None:
        QGuiApplication.clipboard().setText(self.summary())
        self.statusBar().showMessage("Summary copied", 3000)

    def _export_png(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export chart", "vramscope-chart.png", "PNG images (*.png)")
        if path:
            self.chart.grab().save(path, "PNG")

    def save_settings(self) -> None:
        if self.settings is None:
            return
        c = self.controller
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("model", find_preset(c.model.name) or "")
        self.settings.setValue("workload", c.workload.model_dump_json())
        self.settings.setValue("gpu_count", c.gpu_count)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_settings()
        super().closeEvent(event)


def restore_settings(window: MainWindow, settings: QSettings) -> None:
    """Bring back the last scenario; anything corrupt or foreign is ignored."""
    c = window.controller
    try:
        geometry = settings.value("geometry")
        if geometry is not None:
            window.restoreGeometry(geometry)
        preset = settings.value("model")
        if isinstance(preset, str) and find_preset(preset):
            c.set_model(load_preset(find_preset(preset) or preset))
        workload = settings.value("workload")
        if isinstance(workload, str):
            import json

            fields = json.loads(workload)
            if isinstance(fields, dict):
                c.set_workload(
                    **{k: v for k, v in fields.items() if k in ("context", "batch", "weight_format", "kv_dtype")}
                )
        count = settings.value("gpu_count")
        if count is not None and str(count).isdigit():
            c.set_gpu_count(min(64, max(1, int(str(count)))))
    except (ValueError, TypeError, KeyError, AttributeError):
        pass  # settings from another version or a broken file: start from the defaults
    window.setWindowState(window.windowState() & ~Qt.WindowState.WindowMinimized)
