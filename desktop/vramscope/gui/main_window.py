"""Composes the panels around the controller; wires them in one place."""

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QGuiApplication,
    QKeyEvent,
    QKeySequence,
    QPaintEvent,
    QPixmap,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from vramscope.core.architecture import custom_architecture
from vramscope.core.manifest import lws_manifest
from vramscope.core.scenario import ModelSpec, Source, error_message
from vramscope.core.sweep import Axis
from vramscope.core.units import Unit, format_bytes
from vramscope.gui.about import TextDialog, about_html, numbers_html
from vramscope.gui.controller import Controller, Result
from vramscope.gui.export import titled_chart
from vramscope.gui.hardware_watch import HardwareWatch
from vramscope.gui.model_opener import ModelOpener
from vramscope.gui.qt_util import WheelToScroll, signals_blocked
from vramscope.gui.scenario_settings import save_scenario
from vramscope.gui.widgets.compare import ComparePanel
from vramscope.gui.widgets.custom_model_panel import CustomModelPanel
from vramscope.gui.widgets.engine_panel import EnginePanel
from vramscope.gui.widgets.fits_tables import FormatsTable, ModelsTable
from vramscope.gui.widgets.gpu_panel import GpuPanel
from vramscope.gui.widgets.log_panel import LogPanel
from vramscope.gui.widgets.model_panel import ModelPanel
from vramscope.gui.widgets.verdict import VerdictPanel
from vramscope.gui.widgets.ways_out import WaysOutPanel
from vramscope.gui.widgets.workload_panel import WorkloadPanel
from vramscope.gui.workers import Job
from vramscope.hardware.nvidia_smi import QUERY as NVIDIA_SMI_QUERY
from vramscope.hardware.probe import (
    HardwareSnapshot,
)
from vramscope.report import markdown
from vramscope.sources.errors import ModelFileError
from vramscope.sources.presets import find_preset, load_preset
from vramscope.sources.resolve import resolve_model

if TYPE_CHECKING:
    from vramscope.gui.widgets.curve_chart import CurveChart
    from vramscope.gui.widgets.memory_chart import MemoryChart
    from vramscope.sources.engine_log import EngineLog


CURVE_TABS: dict[str, Axis] = {"Against context": "context", "Against batch": "batch"}  # tab title: its axis
# What a tab is called where the window is too narrow for its title (the title stays its tooltip)
SHORT_TITLES = {
    "Against context": "Context",
    "Against batch": "Batch",
    "What fits": "Formats",
    "Models that fit": "Models",
}


class MainWindow(QMainWindow):
    """Signals:
    chart_ready(): the chart replaced its placeholder (pyqtgraph is imported after the first paint)
    log_read(object): an engine log was read and laid beside the prediction (its EngineLog), or not (None)
    """

    chart_ready = Signal()
    log_read = Signal(object)

    def __init__(
        self,
        controller: Controller,
        settings: QSettings | None = None,
        defer_chart: bool = False,
        read_model: Callable[[str], ModelSpec] = resolve_model,
        probe: Callable[[], HardwareSnapshot] | None = None,
    ) -> None:
        super().__init__()
        self.controller = controller
        self.hardware = HardwareWatch(probe, self)  # probe None: no detection (tests, screenshots)
        self.settings = settings
        self.opener = ModelOpener(settings, read_model, self)
        self.setAcceptDrops(True)
        self.setWindowTitle("VRAM Scope — will it fit?")
        self.model_panel = ModelPanel()
        self.custom_panel = CustomModelPanel()
        self.workload_panel = WorkloadPanel(controller)
        self.engine_panel = EnginePanel(controller)
        self.gpu_panel = GpuPanel()
        self.chart: MemoryChart | None = None
        self.context_curve: CurveChart | None = None
        self.batch_curve: CurveChart | None = None
        self.chart_placeholder = QLabel("Loading chart…")
        self.chart_placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._chart_pending = defer_chart
        self._wanted_view = "Memory"
        self._log_job: Job | None = None  # held while a log is read
        self.verdict = VerdictPanel(controller)
        self.log_panel = LogPanel(controller)
        self.ways_out = WaysOutPanel(controller)
        self.compare = ComparePanel(controller)
        side = QVBoxLayout()
        # the GPU before the workload: what is planned for is seen and changed without scrolling
        for panel in (self.model_panel, self.custom_panel, self.gpu_panel, self.workload_panel, self.engine_panel):
            side.addWidget(panel)
        side.addStretch(1)
        main = QVBoxLayout()
        main.addWidget(self.verdict)
        main.addWidget(self.ways_out)
        main.addWidget(self.compare)
        self.views = QTabWidget()  # the bar, the curves, what fits: one at a time, each redrawn only when shown
        self.views.setDocumentMode(True)
        self.views.setCornerWidget(self.compare.button, Qt.Corner.TopRightCorner)
        self.views.addTab(self.chart_placeholder, "Memory")
        self.formats_table = FormatsTable(controller)
        self.models_table = ModelsTable(controller)
        self.views.addTab(self.formats_table, "What fits")
        self.views.addTab(self.models_table, "Models that fit")
        bar = self.views.tabBar()  # a narrow window shortens the titles rather than hiding tabs behind arrows
        bar.setUsesScrollButtons(False)
        bar.setElideMode(Qt.TextElideMode.ElideRight)
        bar.setExpanding(False)
        main.addWidget(self.views, 1)
        main.addWidget(self.log_panel)
        left = QWidget()
        left.setLayout(side)
        scroll = QScrollArea()  # the panels stay reachable on a small screen
        scroll.setWidget(left)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(left.minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width())
        self.wheel_guard = WheelToScroll(scroll)
        self.wheel_guard.watch(left)
        self.side_scroll = scroll
        right = QWidget()
        right.setLayout(main)
        central = QSplitter()  # the controls' column gives way in a narrow window; the user can drag it
        central.addWidget(scroll)
        central.addWidget(right)
        central.setStretchFactor(1, 1)
        central.setChildrenCollapsible(False)
        central.setSizes([400, 880])
        self.setCentralWidget(central)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop waiting for the model being read")
        self.cancel_button.setVisible(False)
        self.statusBar().addPermanentWidget(self.cancel_button)
        self._build_menu()
        self._connect_signals()
        self._on_controller_model_changed(controller.model)
        self._on_controller_estimate_changed(controller.result)
        if not defer_chart:
            self.install_chart()

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if self._chart_pending:  # the window is on screen: now pay for pyqtgraph
            self._chart_pending = False
            QTimer.singleShot(0, self.install_chart)

    def install_chart(self) -> None:
        """Import pyqtgraph and put the chart where its placeholder was."""
        from vramscope.gui.widgets.memory_chart import MemoryChart

        self._chart_pending = False
        if self.chart is not None:
            return
        self.chart = MemoryChart(self.controller)
        self.views.removeTab(0)
        self.views.insertTab(0, self.chart, "Memory")
        self.views.setCurrentIndex(0)
        self.chart_placeholder.deleteLater()
        for index, title in enumerate(CURVE_TABS, start=1):  # made when first shown
            self.views.insertTab(index, QLabel("Drawing the curve…"), title)
        self._keep_titles()
        self.views.currentChanged.connect(self._on_views_current_changed)
        self.show_view(self._wanted_view)
        self._draw_chart()
        self.chart_ready.emit()

    def _on_views_current_changed(self, index: int) -> None:
        """A curve's tab shown for the first time: make its chart now (start-up does not pay for it)."""
        from vramscope.gui.widgets.curve_chart import CurveChart

        title = self.tab_title(index)
        axis = CURVE_TABS.get(title)
        if axis is None or isinstance(self.views.widget(index), CurveChart):
            return
        chart = CurveChart(self.controller, axis)
        placeholder = self.views.widget(index)
        with signals_blocked(self.views):
            self.views.removeTab(index)
            self.views.insertTab(index, chart, title)
            self._keep_titles()
            self.views.setCurrentIndex(index)
        if placeholder is not None:
            placeholder.deleteLater()
        if axis == "context":
            self.context_curve = chart
        else:
            self.batch_curve = chart

    def tab_title(self, index: int) -> str:
        """A tab's own title (its tooltip), whatever the bar shows."""
        return self.views.tabToolTip(index) or self.views.tabText(index)

    def _keep_titles(self) -> None:
        for index in range(self.views.count()):
            if not self.views.tabToolTip(index):
                self.views.setTabToolTip(index, self.views.tabText(index))
        self._fit_titles()

    def _fit_titles(self) -> None:
        """The titles, or short ones where the bar beside the corner button is too narrow for them."""
        bar = self.views.tabBar()
        titles = [self.tab_title(i) for i in range(self.views.count())]
        metrics = bar.fontMetrics()
        room = self.views.width() - QPushButton("Pin to compare").sizeHint().width() - 8
        needed = sum(metrics.horizontalAdvance(t) + 2 * metrics.averageCharWidth() + 16 for t in titles)
        compact = needed > room
        self.compare.set_compact(compact)  # the button gives the tabs room first, then their padding
        style = "QTabBar::tab { padding: 4px 6px; }" if compact else ""
        if bar.styleSheet() != style:
            bar.setStyleSheet(style)
        for i, title in enumerate(titles):
            text = title if needed <= room else SHORT_TITLES.get(title, title)
            if self.views.tabText(i) != text:
                self.views.setTabText(i, text)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        QTimer.singleShot(0, self._fit_titles)  # once the layouts gave the tabs their new width

    def show_view(self, title: str) -> None:
        """Bring a tab to the front by its title; a chart tab not made yet comes up once it is."""
        self._wanted_view = title
        for i in range(self.views.count()):
            if self.tab_title(i) == title:
                self.views.setCurrentIndex(i)

    def _build_menu(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self._action(file_menu, "Open model folder…", QKeySequence.StandardKey.Open, self._open_folder)
        self._action(file_menu, "Open GGUF…", QKeySequence("Ctrl+Shift+O"), self._open_gguf)
        self._action(file_menu, "Open from Hub…", QKeySequence("Ctrl+H"), self._open_hub)
        self._action(file_menu, "Compare with an engine log…", QKeySequence("Ctrl+L"), self._open_log)
        self._action(file_menu, "Plan for a node's GPUs (nvidia-smi output)…", QKeySequence(), self._open_listing)
        self.recent_menu = file_menu.addMenu("Recent models")
        self._on_opener_recent_changed(self.opener.recent)
        file_menu.addSeparator()
        self._action(file_menu, "Export chart as PNG…", QKeySequence("Ctrl+E"), self._export_png)
        self._action(file_menu, "Export Kubernetes manifest…", QKeySequence(), self._export_manifest)
        self._action(file_menu, "Quit", QKeySequence.StandardKey.Quit, self.close)
        edit = self.menuBar().addMenu("&Edit")
        self._action(edit, "Copy summary", QKeySequence.StandardKey.Copy, self.copy_summary)
        self._action(
            edit,
            "Paste engine log",
            QKeySequence("Ctrl+Shift+V"),
            lambda: self.open_log_text(QGuiApplication.clipboard().text()),
        )
        self._action(
            edit,
            "Paste nvidia-smi output",
            QKeySequence(),
            lambda: self.plan_listing(QGuiApplication.clipboard().text(), "the pasted nvidia-smi output"),
        )
        self._action(edit, "Pin to compare / unpin", QKeySequence("Ctrl+P"), self.compare.toggle)
        view = self.menuBar().addMenu("&View")
        self.gb_action = self._action(view, "Show decimal GB", QKeySequence("Ctrl+G"), self._toggle_unit)
        self.gb_action.setCheckable(True)
        self.refresh_action = self._action(
            view, "Refresh GPUs", QKeySequence(QKeySequence.StandardKey.Refresh), self.refresh_gpus
        )
        self.refresh_action.setEnabled(self.hardware.probe is not None)
        help_menu = self.menuBar().addMenu("&Help")
        self._action(
            help_menu,
            "Where do these numbers come from?",
            QKeySequence(QKeySequence.StandardKey.HelpContents),
            lambda: self.show_text("Where do these numbers come from?", numbers_html()),
        )
        self._action(
            help_menu, "About VRAM Scope", QKeySequence(), lambda: self.show_text("About VRAM Scope", about_html())
        )

    def _action(
        self, menu: QMenu, text: str, shortcut: QKeySequence | QKeySequence.StandardKey, slot: Callable[[], object]
    ) -> QAction:
        action = QAction(text, self)
        action.setShortcut(shortcut)
        action.triggered.connect(lambda _=False: slot())
        menu.addAction(action)
        return action

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Ctrl+C in the search box copies its selection, or the summary when nothing is selected."""
        picker = self.model_panel.picker
        line = picker.lineEdit()
        if watched in (line, picker) and event.type() == QEvent.Type.ShortcutOverride and line is not None:
            assert isinstance(event, QKeyEvent)
            if event.matches(QKeySequence.StandardKey.Copy) and not line.hasSelectedText():
                event.ignore()  # neither the line edit's nor its combo box's: the window's Copy summary takes it
                return True
        return super().eventFilter(watched, event)

    def _connect_signals(self) -> None:
        c = self.controller
        search = self.model_panel.picker.lineEdit()
        if search is not None:
            search.installEventFilter(self)
            self.model_panel.picker.installEventFilter(self)
        c.estimate_changed.connect(self._on_controller_estimate_changed)
        c.model_changed.connect(self._on_controller_model_changed)
        c.hardware_changed.connect(self.gpu_panel.show_hardware)
        self.model_panel.model_requested.connect(self._on_model_panel_model_requested)
        self.custom_panel.custom_model_requested.connect(self._on_custom_panel_custom_model_requested)
        self.custom_panel.custom_mode_changed.connect(self._on_custom_panel_custom_mode_changed)
        self.gpu_panel.gpu_requested.connect(c.set_gpu)
        self.gpu_panel.gpus_requested.connect(c.set_gpus)
        self.gpu_panel.host_requested.connect(c.set_host)
        self.gpu_panel.count_follows_changed.connect(self.workload_panel.set_count_follows_gpus)
        c.error_changed.connect(self._on_controller_error_changed)
        self.opener.model_opened.connect(self._on_opener_model_opened)
        self.opener.open_failed.connect(self._on_opener_open_failed)
        self.opener.busy_changed.connect(self._on_opener_busy_changed)
        self.opener.recent_changed.connect(self._on_opener_recent_changed)
        self.cancel_button.clicked.connect(self.opener.cancel)
        self.log_panel.closed.connect(self._on_log_panel_closed)
        self.hardware.probed.connect(self._on_hardware_probed)

    # --- opening models ---------------------------------------------------------------------------

    def _open_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open a Hugging Face model folder")
        if folder:
            self.opener.open(folder)

    def _open_gguf(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a GGUF file", "", "GGUF models (*.gguf)")
        if path:
            self.opener.open(path)

    def _open_hub(self) -> None:
        repo, ok = QInputDialog.getText(self, "Open from the Hugging Face Hub", "Model id (organisation/name):")
        if ok and repo.strip():
            self.opener.open(repo.strip())

    def _on_opener_model_opened(self, model: ModelSpec) -> None:
        self.custom_panel.setChecked(False)
        self.model_panel.show_error("")
        self.controller.set_model(model)

    def _on_opener_open_failed(self, message: str) -> None:
        self.model_panel.show_error(message)
        self.statusBar().showMessage("Could not open the model", 5000)

    def _on_opener_busy_changed(self, source: str) -> None:
        self.cancel_button.setVisible(bool(source))
        if source:
            self.statusBar().showMessage(f"Reading {source}…")
        else:
            self.statusBar().clearMessage()

    def _on_opener_recent_changed(self, recent: list[str]) -> None:
        self.recent_menu.clear()
        for source in recent:
            action = self.recent_menu.addAction(source)
            action.triggered.connect(lambda _=False, s=source: self.opener.open(s))
        self.recent_menu.setEnabled(bool(recent))

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and all(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        urls = event.mimeData().urls()
        if urls:
            path = urls[0].toLocalFile()
            if path.lower().endswith((".log", ".txt", ".out")):
                self._read_log_file(path)
            else:
                self.opener.open(path)
            event.acceptProposedAction()

    # --- a node elsewhere: its GPUs from nvidia-smi ----------------------------------------------------

    def _open_listing(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, f"What `{NVIDIA_SMI_QUERY}` printed on the node", "", "CSV or text (*.csv *.txt);;All (*)"
        )
        if path:
            self.read_listing_file(path)

    def read_listing_file(self, path: str) -> None:
        from pathlib import Path

        from vramscope.hardware.nvidia_smi import MAX_TEXT
        from vramscope.sources.files import read_head

        try:
            raw = read_head(Path(path), MAX_TEXT + 1)
        except ModelFileError as exc:
            self.statusBar().showMessage(str(exc), 8000)
            return
        self.plan_listing(raw.decode("utf-8", errors="replace"), Path(path).name)

    def plan_listing(self, text: str, source: str) -> None:
        """Plan for the GPUs nvidia-smi listed on a node elsewhere; text that is no listing says what to run."""
        from vramscope.hardware.nvidia_smi import NvidiaSmiError, read_nvidia_smi

        try:
            gpus = read_nvidia_smi(text)
        except NvidiaSmiError as exc:
            self.statusBar().showMessage(f"Not an nvidia-smi listing: {exc}", 10000)
            return
        self.gpu_panel.show_listing(gpus, source)

    # --- engine logs ------------------------------------------------------------------------------

    def _open_log(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "An engine's start-up log", "", "Logs (*.log *.txt *.out);;All (*)")
        if path:
            self._read_log_file(path)

    def _read_log_file(self, path: str) -> None:
        from pathlib import Path

        from vramscope.sources.engine_log import MAX_LOG_BYTES
        from vramscope.sources.files import read_head

        try:
            raw = read_head(Path(path), MAX_LOG_BYTES)
        except ModelFileError as exc:
            self.statusBar().showMessage(str(exc), 8000)
            return
        self.open_log_text(raw.decode("utf-8", errors="replace"))

    def open_log_text(self, text: str) -> None:
        """Read an engine's log off the GUI thread (a long log takes a while), then set the scenario it
        describes and lay its figures beside the prediction; log_read follows either way."""
        from vramscope.sources.engine_log import read_engine_log

        self.statusBar().showMessage("Reading the engine log…")
        job = Job(lambda: read_engine_log(text), "reading an engine log", self)
        job.job_finished.connect(self._on_log_job_finished)
        job.job_failed.connect(self._on_log_job_failed)
        self._log_job = job.start()

    def _on_log_job_failed(self, message: str) -> None:
        self.statusBar().showMessage(message, 8000)
        self.log_read.emit(None)

    def _on_log_job_finished(self, log: "EngineLog") -> None:
        try:
            self._show_log(log)
        except ValueError as exc:  # settings the log states that the core refuses: what the CLI says too
            self.statusBar().showMessage(f"The log's settings cannot be planned: {error_message(exc)}", 8000)
            self.log_read.emit(None)
            return
        self.log_read.emit(log)

    def _show_log(self, log: "EngineLog") -> None:
        from vramscope.logcheck import reported_segments, scenario_of
        from vramscope.sources.engine_log import log_settings, log_workload

        self.statusBar().clearMessage()
        c = self.controller
        known = scenario_of(log)  # the log names a model the app knows
        scenario = known or scenario_of(log, c.model)
        if scenario is None:
            return
        model, _, deployment = scenario
        gpu = deployment.gpus[0] if deployment.gpus else c.gpu
        c.set_scenario(  # one change: a tensor split of two proportions comes with its two GPUs
            model=model,
            engine=log.engine,
            gpus=(gpu,) * deployment.gpu_count if gpu is not None else None,
            settings=log_settings(log),
            workload=log_workload(log, model.architecture.max_context),
        )
        if self.chart is not None:
            self.chart.set_reported(reported_segments(log))
        self.log_panel.show_log(log)
        self._draw_chart()
        if known is None:
            self.statusBar().showMessage("The log names no model the app knows: compared with the model shown", 8000)

    def _on_log_panel_closed(self) -> None:
        if self.chart is not None:
            self.chart.set_reported(None)
        self._draw_chart()

    def _on_model_panel_model_requested(self, preset_id: str) -> None:
        self.custom_panel.setChecked(False)  # a picked preset ends the what-if
        self.model_panel.show_error("")  # and an earlier file's error no longer applies
        self.controller.set_model(load_preset(preset_id))

    def _on_custom_panel_custom_model_requested(self, sizes: dict[str, int]) -> None:
        arch = custom_architecture(**sizes)
        billions = arch.parameter_count() / 1e9  # what the sizes make, not the target they started from
        self.controller.set_model(
            ModelSpec(
                name=f"Custom {billions:,.3g}B",
                source=Source.CUSTOM,
                source_detail="custom: a Llama-style model built from the sizes above (estimate)",
                architecture=arch,
            )
        )

    def _on_custom_panel_custom_mode_changed(self, on: bool) -> None:
        self.model_panel.picker.setEnabled(not on)
        if not on:
            self.controller.set_model(load_preset(self.model_panel.picker.currentData()))

    def _on_controller_model_changed(self, model: object) -> None:
        c = self.controller
        self.model_panel.show_model(c.model, find_preset(c.model.name) or find_preset(c.model.hf_id))

    def _on_controller_error_changed(self, text: str) -> None:
        if text:
            self.statusBar().showMessage(text)
        else:  # a change that computed: what was said about an earlier one no longer holds
            self.statusBar().clearMessage()

    def _on_controller_estimate_changed(self, result: Result) -> None:
        self._show_running(result)
        self.gpu_panel.show_plan(result.deployment.gpus)

    def _draw_chart(self) -> None:
        if self.chart is not None:
            self.chart.redraw()

    def refresh_gpus(self) -> None:
        """Probe the GPUs again (F5): another process may have taken or freed memory, a GPU may be gone."""
        if self.hardware.refresh():
            self.statusBar().showMessage("Detecting GPUs…", 3000)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.ActivationChange and self.isActiveWindow():
            self.hardware.window_activated()
        if event.type() == QEvent.Type.PaletteChange:
            # the desktop's theme changed: Qt stops the palette at a widget whose child has a style sheet
            # (the compact tab bar's), so the views, their pages and the bar are handed it here
            self.views.setPalette(self.palette())
            self.views.tabBar().setPalette(self.palette())

    def _on_hardware_probed(self, snapshot: HardwareSnapshot) -> None:
        self.statusBar().clearMessage()
        self.controller.set_hardware(snapshot)
        self._show_running(self.controller.result)

    def _show_running(self, result: Result) -> None:
        """Engines running now on the GPUs planned for, measured by NVML, beside the prediction."""
        lines = []
        for device, process, engine in self.hardware.running:
            used = process.used_bytes or 0
            predicted = next((g.total_bytes for g in result.estimate.per_gpu if g.index == device.index), None)
            line = f"Running now on GPU {device.index}: {engine}, {process.describe()}"
            if predicted:
                line += (
                    f" — the scenario on screen predicts {format_bytes(predicted, self.controller.unit)} "
                    f"({(predicted - used) / used * 100:+.0f}%)"
                )
            lines.append(line)
        self.verdict.show_running("\n".join(lines))

    def _toggle_unit(self) -> None:
        self.controller.set_unit(Unit.GB if self.gb_action.isChecked() else Unit.GIB)

    def summary(self) -> str:
        """A Markdown summary of what the window shows."""
        self.controller.finish_limits()
        return markdown(self.controller.result, self.controller.unit)

    def copy_summary(self) -> None:
        QGuiApplication.clipboard().setText(self.summary())
        self.statusBar().showMessage("Summary copied", 3000)

    def _export_png(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export chart", "vramscope-chart.png", "PNG images (*.png)")
        if path and self.chart is not None:
            if self.chart_image().save(path, "PNG"):
                self.statusBar().showMessage(f"Chart saved to {path}", 5000)
            else:
                self.statusBar().showMessage(f"Could not write {path}", 8000)

    def _export_manifest(self) -> None:
        a = self.controller.result
        if lws_manifest(a.model, a.workload, a.deployment) is None:
            self.statusBar().showMessage("A Kubernetes manifest is written for vLLM over 2 or more nodes", 8000)
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export manifest", "vllm-lws.json", "Kubernetes manifests (*.json)")
        if path:
            self.write_manifest(path)

    def write_manifest(self, path: str) -> bool:
        """The LeaderWorkerSet of the scenario shown (vLLM over nodes), for `kubectl apply -f`."""
        a = self.controller.result
        manifest = lws_manifest(a.model, a.workload, a.deployment)
        try:
            if manifest is None:
                raise OSError("no manifest for this scenario: vLLM over 2 or more nodes has one")
            with open(path, "w", encoding="utf-8") as out:
                out.write(manifest + "\n")
        except OSError as exc:
            self.statusBar().showMessage(f"Could not write {path}: {exc.strerror or exc}", 8000)
            return False
        self.statusBar().showMessage(f"Manifest saved to {path}: kubectl apply -f {path}", 8000)
        return True

    def show_text(self, title: str, html: str) -> TextDialog:
        dialog = TextDialog(title, html, self)
        dialog.show()  # modeless: the window stays usable beside it
        return dialog

    def chart_image(self) -> QPixmap:
        """The bar chart under a title block, for a PNG that explains itself."""
        assert self.chart is not None
        return titled_chart(self.chart, self.controller, self)

    def save_settings(self) -> None:
        if self.settings is not None:
            save_scenario(self, self.settings)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_settings()
        super().closeEvent(event)
