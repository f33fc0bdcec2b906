"""The ways out when it does not fit (and the room left when it does), each a button that applies it.
Subscribes to the controller itself; computed once the limits are known, not on every drag step."""

from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QPushButton, QWidget

from vramscope.core.advice import Advice, room_left, ways_out
from vramscope.core.analysis import Analysis
from vramscope.gui.controller import Controller
from vramscope.gui.flow_layout import FlowLayout
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
        controller.estimate_changed.connect(self.show_analysis)
        self.show_analysis(controller.result)

    def show_analysis(self, analysis: Analysis) -> None:
        if analysis.limits_pending:
            return  # the bar moves while dragging; the advice comes when the controls rest
        a = analysis
        advice = ways_out(a.model, a.workload, a.deployment, catalog_gpus(), all_presets())
        title = "Ways out:" if advice else ""
        if not advice:
            advice = room_left(a.model, a.workload, a.deployment)
            title = "Room left:" if advice else ""
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
