"""Small Qt helpers shared by the widgets."""

from collections.abc import Iterator
from contextlib import contextmanager

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QComboBox


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
