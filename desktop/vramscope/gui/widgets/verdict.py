"""Fits / does not fit in the engine's words, the headroom, and the limits the solver found."""

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QPalette, QResizeEvent
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from vramscope.core.analysis import Analysis
from vramscope.core.units import Unit
from vramscope.gui.colors import verdict_colors
from vramscope.gui.controller import Controller
from vramscope.gui.qt_util import fit_wrapped_height
from vramscope.report import verdict


class VerdictPanel(QWidget):
    """Subscribes to the controller itself."""

    def __init__(self, controller: Controller, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.headline = QLabel()
        self.headline.setAccessibleName("Verdict")
        font = self.headline.font()
        font.setPointSize(font.pointSize() + 5)
        font.setBold(True)
        self.headline.setFont(font)
        self.headline.setWordWrap(True)  # a narrow window wraps the verdict rather than cutting it
        self.details = QLabel()
        self.details.setWordWrap(True)
        self.details.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        self.running = QLabel()
        self.running.setWordWrap(True)
        self.running.setAccessibleName("Engines running now")
        self.running.setVisible(False)
        layout.addWidget(self.headline)
        layout.addWidget(self.details)
        layout.addWidget(self.running)
        self._color = ""
        controller.estimate_changed.connect(self._on_controller_estimate_changed)  # a method: dropped with the panel
        controller.hardware_changed.connect(self._on_controller_hardware_changed)
        self.show_result(controller.result, controller.unit)

    def _assumed_gpu(self, result: Analysis) -> str:
        """The catalog GPU planned for when the probe found none (the window's fallback), else ''."""
        hardware = self.controller.hardware
        gpus = result.deployment.gpus
        if hardware is None or hardware.usable_gpus() or not gpus or gpus[0].backend == "cpu":
            return ""
        count = len(gpus)
        return gpus[0].name if count == 1 else f"{count} x {gpus[0].name}"

    def _on_controller_hardware_changed(self, _snapshot: object) -> None:
        self.show_result(self.controller.result, self.controller.unit)

    def _on_controller_estimate_changed(self, result: Analysis) -> None:
        self.show_result(result, self.controller.unit)

    def show_result(self, result: Analysis, unit: Unit) -> None:
        headline, details = verdict(result, unit)
        assumed = self._assumed_gpu(result)
        if assumed:  # a ✔ for a GPU the user does not have must say so where it is read first
            headline += f" — on an assumed {assumed}: no GPU detected"
        fits = result.estimate.fits
        colors = verdict_colors(self.palette().color(QPalette.ColorRole.Window))
        if result.estimate.tight:
            color = colors["tight"]
        else:
            color = colors["fits"] if fits else colors["no"] if fits is False else "palette(text)"
        if color != self._color:  # a style sheet change restyles the widget: only on a new verdict
            self._color = color
            self.headline.setStyleSheet(f"color: {color};")
        self.headline.setText(headline)
        self.details.setText(details)
        self._fit_details()

    def show_running(self, text: str) -> None:
        """What engines running on this machine use now, beside the prediction ("" hides it)."""
        self.running.setText(text)
        self.running.setVisible(bool(text))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_details()

    def changeEvent(self, event: QEvent) -> None:
        """A desktop that turns dark (or light) gets the verdict's shades for its new background."""
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self.show_result(self.controller.result, self.controller.unit)

    def _fit_details(self) -> None:
        fit_wrapped_height(self.details)
