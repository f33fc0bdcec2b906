"""Fits / does not fit, the headroom, and the limits the solver found."""

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from vramscope.core.units import Unit, format_bytes
from vramscope.gui.controller import Result


def verdict_text(result: Result, unit: Unit) -> tuple[str, str]:
    """(headline, details) as the window shows them."""
    est = result.estimate
    if est.fits is None or est.headroom_bytes is None:
        return "No capacity to fit against", ""
    share = abs(est.headroom_share() or 0.0) * 100
    if est.fits:
        headline = f"✔ Fits — {format_bytes(est.headroom_bytes, unit)} ({share:.0f}%) headroom"
    else:
        headline = f"✘ Does not fit — short by {format_bytes(-est.headroom_bytes, unit)} ({share:.0f}%)"
    ctx = f"{result.max_context:,}" if result.max_context else "none"
    batch = f"{result.max_batch:,}" if result.max_batch else "none"
    details = (
        f"Needs {format_bytes(est.total_bytes, unit)} of {format_bytes(est.capacity_bytes or 0, unit)}. "
        f"Largest context that fits: {ctx} · largest batch: {batch}"
    )
    if result.decode_tokens_per_s:
        details += f" · decode ≈ {result.decode_tokens_per_s:,.0f} tok/s per sequence (estimate)"
    if est.warnings:
        details += "\n⚠ " + "\n⚠ ".join(est.warnings)
    return headline, details


class VerdictPanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.headline = QLabel()
        self.headline.setAccessibleName("Verdict")
        font = self.headline.font()
        font.setPointSize(font.pointSize() + 5)
        font.setBold(True)
        self.headline.setFont(font)
        self.details = QLabel()
        self.details.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.addWidget(self.headline)
        layout.addWidget(self.details)
        self._color = ""

    def show_result(self, result: Result, unit: Unit) -> None:
        headline, details = verdict_text(result, unit)
        fits = result.estimate.fits
        color = "#1b7f3b" if fits else "#c62828" if fits is False else "palette(text)"
        if color != self._color:  # a style sheet change restyles the widget: only on a new verdict
            self._color = color
            self.headline.setStyleSheet(f"color: {color};")
        self.headline.setText(headline)
        self.details.setText(details)
