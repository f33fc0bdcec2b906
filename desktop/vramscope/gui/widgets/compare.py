"""Compare: pin the scenario on screen and read the live one against it (the chart draws the pinned bars
below the live ones). Subscribes to the controller itself."""

from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from vramscope.core.analysis import Analysis
from vramscope.gui.controller import Controller
from vramscope.report import comparison


class ComparePanel(QWidget):
    def __init__(self, controller: Controller, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.button = QPushButton("Pin to compare")
        self.button.setToolTip("Keep this scenario on the chart and compare what you change next with it (Ctrl+P)")
        self.deltas = QLabel()
        self.deltas.setWordWrap(True)
        self.deltas.setAccessibleName("Against the pinned scenario")
        row = QHBoxLayout(self)  # the button is placed by whoever composes the window (the tab bar's corner)
        row.setContentsMargins(4, 0, 4, 0)
        row.addWidget(self.deltas, 1)
        self.compact = False  # a narrow window: "Pin", not "Pin to compare"
        self.button.clicked.connect(self.toggle)
        controller.estimate_changed.connect(self.show_analysis)
        controller.pinned_changed.connect(self._on_controller_pinned_changed)
        self.show_analysis(controller.result)

    def _on_controller_pinned_changed(self, _pinned: Analysis | None) -> None:
        self.show_analysis(self.controller.result)

    def set_compact(self, compact: bool) -> None:
        if compact != self.compact:
            self.compact = compact
            self.show_analysis(self.controller.result)

    def toggle(self) -> None:
        if self.controller.pinned is None:
            self.controller.pin()
        else:
            self.controller.unpin()

    def show_analysis(self, analysis: Analysis) -> None:
        pinned = self.controller.pinned
        self.button.setText("Unpin" if pinned is not None else "Pin" if self.compact else "Pin to compare")
        self.setVisible(pinned is not None)
        if pinned is not None and not analysis.limits_pending:
            self.deltas.setText(comparison(pinned, analysis, self.controller.unit))
