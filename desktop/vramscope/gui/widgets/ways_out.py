"""The ways out when it does not fit (and the room left when it does), each a button that applies it.
Subscribes to the controller itself; computed once the limits are known, not on every drag step, and in a
worker: for a 70B on one GPU that is a fifth of a second the window would otherwise freeze for."""

from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QPushButton, QWidget

from vramscope.core.advice import Advice, room_left, ways_out
from vramscope.core.analysis import Analysis
from vramscope.gui.controller import Controller
from vramscope.gui.flow_layout import FlowLayout
from vramscope.gui.workers import Job
from vramscope.hardware.catalog import catalog_gpus
from vramscope.sources.presets import all_presets

MAX_BUTTONS = 6


class WaysOutPanel(QWidget):
    def __init__(self, controller: Controller, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.title = QLabel()
        self.buttons: list[QPushButton] = []
        self.advice: list[Advice] = []
        self.flow = FlowLayout(self)  # the buttons wrap: each keeps its whole text in a narrow window
        self.flow.setContentsMargins(4, 0, 4, 0)
        self.flow.addWidget(self.title)
        self.job: Job | None = None  # the ways out under way
        self.pending: Analysis | None = None  # the scenario they are for
        self._computed: object = None  # the scenario the buttons are for
        controller.estimate_changed.connect(self.show_analysis)
        self.show_analysis(controller.result)
        self.finish()

    def show_analysis(self, analysis: Analysis) -> None:
        if analysis.limits_pending:
            return  # the bar moves while dragging; the advice comes when the controls rest
        key = (analysis.model, analysis.workload, analysis.deployment)
        if key == self._computed:
            return
        self._computed = key
        for button in self.buttons:  # the old scenario's: not to be applied to this one
            button.setEnabled(False)
        job = Job(lambda: advice_for(analysis), "finding the ways out", self)
        job.job_finished.connect(lambda found: self._on_job_finished(job, found))
        self.pending = analysis
        self.job = job.start()

    def finish(self) -> None:
        """The ways out for the scenario on screen, now (a screenshot, a test that reads them)."""
        if self.job is not None and self.pending is not None:
            self.job = None
            self._show(advice_for(self.pending))

    def _on_job_finished(self, job: Job, found: tuple[str, list[Advice]]) -> None:
        if job is self.job:  # else a later scenario's are on their way
            self.job = None
            self._show(found)

    def _show(self, found: tuple[str, list[Advice]]) -> None:
        title, advice = found
        self.advice = advice[:MAX_BUTTONS]
        self.title.setText(title)
        for button in self.buttons:
            self.flow.removeWidget(button)
            button.hide()
            button.deleteLater()
        self.buttons = []
        for i, item in enumerate(self.advice):
            button = QPushButton(item.text)
            button.setToolTip("Apply this change")
            button.clicked.connect(lambda _=False, k=i: self.apply(k))
            self.flow.addWidget(button)
            self.buttons.append(button)
        self.setVisible(bool(self.advice))
        self._fit_height()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_height()

    def _fit_height(self) -> None:
        """As many rows as the buttons need at this width (a box layout asks only for one)."""
        height = self.flow.heightForWidth(max(self.width(), 200))
        if height != self.minimumHeight():
            self.setMinimumHeight(height)

    def apply(self, index: int) -> None:
        self.controller.apply(self.advice[index].change)


def advice_for(a: Analysis) -> tuple[str, list[Advice]]:
    """The title and the buttons: the ways out when it does not fit, else the room left. Core calls only."""
    advice = ways_out(a.model, a.workload, a.deployment, catalog_gpus(), all_presets())
    if advice:
        return "Ways out:", advice
    room = room_left(a.model, a.workload, a.deployment)
    return ("Room left:" if room else ""), room
