"""Small Qt helpers shared by the widgets."""

from collections.abc import Iterator
from contextlib import contextmanager

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QComboBox, QLabel


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
