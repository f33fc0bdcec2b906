"""An engine's start-up log beside the prediction: each reported figure, what the profile predicts for the
scenario on screen, the error; "Use this run" makes this machine's measured figures the profile's own.
Subscribes to the controller itself, so the predictions follow every change."""

import datetime

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from vramscope.core.analysis import Analysis
from vramscope.gui.controller import Controller
from vramscope.logcheck import FIGURE_LABELS, calibration_from, predicted_figures, show_figure
from vramscope.sources.engine_log import EngineLog


class LogPanel(QGroupBox):
    """Signals:
    closed(): the log was put away
    """

    closed = Signal()

    def __init__(self, controller: Controller, parent: QWidget | None = None) -> None:
        super().__init__("Engine log beside the prediction", parent)
        self.controller = controller
        self.log: EngineLog | None = None
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["Figure", "Reported", "Predicted", "Error"])
        self.table.verticalHeader().setVisible(False)
        self.table.setAccessibleName("Reported and predicted figures")
        self.calibrate = QPushButton("Use this run")
        self.calibrate.setToolTip("Predict with this machine's measured activation peak, non-torch memory and graphs")
        self.reset = QPushButton("Reset calibration")
        self.reset.setToolTip("Back to the profile's own figures")
        self.close_button = QPushButton("Close")
        buttons = QHBoxLayout()
        for b in (self.calibrate, self.reset, self.close_button):
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.table)
        layout.addLayout(buttons)
        self.setVisible(False)
        controller.estimate_changed.connect(self.show_analysis)
        self.calibrate.clicked.connect(self._on_calibrate_clicked)
        self.reset.clicked.connect(lambda: controller.set_engine_settings(calibration=None))
        self.close_button.clicked.connect(self._on_close_button_clicked)

    def show_log(self, log: EngineLog | None) -> None:
        self.log = log
        self.setVisible(log is not None)
        self.calibrate.setEnabled(log is not None and calibration_from(log, "") is not None)
        self.show_analysis(self.controller.result)

    def rows(self, analysis: Analysis) -> list[tuple[str, object, object, float | None]]:
        """(figure, reported, predicted, error) for each figure the log reported."""
        if self.log is None:
            return []
        predicted = predicted_figures(analysis.estimate)
        out: list[tuple[str, object, object, float | None]] = []
        for key, value in self.log.reported.items():
            if not isinstance(value, int | float):
                continue
            ours = predicted.get(key)
            error = (ours - value) / value if isinstance(ours, int | float) and value else None
            out.append((key, value, ours, error))
        return out

    def show_analysis(self, analysis: Analysis) -> None:
        if self.log is None:
            return
        rows = self.rows(analysis)
        self.table.setRowCount(len(rows))
        for r, (key, reported, predicted, error) in enumerate(rows):
            cells = (FIGURE_LABELS.get(key, key), show_figure(key, reported), show_figure(key, predicted))
            for c, text in enumerate((*cells, f"{error * 100:+.1f}%" if error is not None else "")):
                self.table.setItem(r, c, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
        errors = [(abs(e), k, e) for k, _, _, e in rows if e is not None]
        text = f"{self.log.engine.value} log" + (f" of {self.log.model}" if self.log.model else "")
        if analysis.deployment.engine is not self.log.engine:
            text += f" — the window shows {analysis.deployment.engine.value}: switch engines to compare"
        elif errors:
            _, key, error = max(errors)
            text += f": the prediction is furthest on {FIGURE_LABELS.get(key, key)}, {error * 100:+.1f}%"
        if self.log.refusal:
            text += f"\nThe engine stopped: {self.log.refusal}"
        calibration = analysis.deployment.settings.calibration
        if calibration is not None:
            text += f"\nPredicting with figures measured on this machine ({calibration.source})."
        self.summary.setText(text)

    def _on_close_button_clicked(self) -> None:
        self.show_log(None)
        self.closed.emit()

    def _on_calibrate_clicked(self) -> None:
        if self.log is None:
            return
        calibration = calibration_from(self.log, datetime.date.today().isoformat())
        if calibration is not None:
            self.controller.set_engine_settings(calibration=calibration)
