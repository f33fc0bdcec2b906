"""Small Qt helpers shared by the widgets."""

from collections.abc import Iterator
from contextlib import contextmanager

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractSlider, QAbstractSpinBox, QComboBox, QLabel, QScrollArea, QWidget


@contextmanager
def signals_blocked(*objects: QObject) -> Iterator[None]:
    """Write model values back into widgets without their change signals firing."""
    previous = [o.blockSignals(True) for o in objects]
    try:
        yield
    finally:
        for o, was in zip(objects, previous, strict=True):
            o.blockSignals(was)


def narrow_combo(combo: QComboBox, characters: int = 22) -> QComboBox:
    """A combo box that may be narrower than its longest entry (a narrow window) and whose list opens as
    wide as that entry; call again after refilling it."""
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(characters)
    combo.view().setMinimumWidth(combo.view().sizeHintForColumn(0) + 24)
    return combo


def fit_wrapped_height(label: QLabel) -> None:
    """A word-wrapped label gets the height its text needs at its width (form and box layouts underestimate
    it, so the text would be cut)."""
    height = label.heightForWidth(max(label.width(), 200)) if label.text() else 0
    if height != label.minimumHeight():
        label.setMinimumHeight(max(height, 0))


class WheelToScroll(QObject):
    """A wheel over a slider, spin box or combo box that has no keyboard focus scrolls the panel instead of
    changing the value (a context of 8,192 must not become 7,342 on the way down the panel); click the
    control first to wheel through its values."""

    def __init__(self, area: QScrollArea) -> None:
        super().__init__(area)
        self.area = area

    def watch(self, root: QWidget) -> None:
        for widget in root.findChildren(QWidget):
            if isinstance(widget, QAbstractSlider | QAbstractSpinBox | QComboBox):
                widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # the wheel alone does not give focus
                widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Wheel and isinstance(watched, QWidget) and not watched.hasFocus():
            bar = self.area.verticalScrollBar()
            QCoreApplication.sendEvent(bar, event)
            return True
        return False
