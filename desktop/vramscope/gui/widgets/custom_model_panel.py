"""A what-if model from five numbers: "what about a 30B model with 8 KV heads?"."""

import math

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDoubleSpinBox, QGridLayout, QGroupBox, QLabel, QSlider, QSpinBox, QWidget

from vramscope.gui.qt_util import signals_blocked

SLIDER_STEPS = 1000


class _Row:
    """A slider (log or linear) paired with a spin box over one integer or decimal value."""

    def __init__(self, spin: QSpinBox | QDoubleSpinBox, log: bool) -> None:
        self.spin, self.log = spin, log
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, SLIDER_STEPS)
        self.slider.setAccessibleName(spin.accessibleName())
        self.slider.setToolTip(spin.toolTip())
        self.slider.valueChanged.connect(self._on_slider_value_changed)
        spin.valueChanged.connect(self._on_spin_value_changed)
        self._on_spin_value_changed(spin.value())

    def _on_slider_value_changed(self, position: int) -> None:
        low, high, t = self.spin.minimum(), self.spin.maximum(), position / SLIDER_STEPS
        value = math.exp(math.log(low) + t * (math.log(high) - math.log(low))) if self.log else low + t * (high - low)
        snapped = round(value / self.spin.singleStep()) * self.spin.singleStep()
        if isinstance(self.spin, QSpinBox):
            self.spin.setValue(int(snapped))
        else:
            self.spin.setValue(snapped)

    def _on_spin_value_changed(self, value: float) -> None:
        low, high = self.spin.minimum(), self.spin.maximum()
        if self.log:
            t = (math.log(value) - math.log(low)) / (math.log(high) - math.log(low))
        else:
            t = (value - low) / (high - low)
        with signals_blocked(self.slider):
            self.slider.setValue(round(t * SLIDER_STEPS))


class CustomModelPanel(QGroupBox):
    """Signals:
    custom_model_requested(dict): parameters, num_layers, hidden_size, num_kv_heads, head_dim
    custom_mode_changed(bool): the custom model was switched on or off
    """

    custom_model_requested = Signal(dict)
    custom_mode_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Custom model (what if…)", parent)
        self.setCheckable(True)
        self.setChecked(False)
        self.setToolTip("Describe a model by its size instead of picking a preset")
        self.parameters = QDoubleSpinBox()
        self.parameters.setRange(0.1, 3000)
        self.parameters.setDecimals(1)
        self.parameters.setSingleStep(0.1)
        self.parameters.setSuffix(" B")
        self.parameters.setValue(30)
        self.layers = self._spin(1, 256, 1, 60)
        self.hidden = self._spin(256, 65536, 128, 6656)
        self.kv_heads = self._spin(1, 128, 1, 8)
        self.head_dim = self._spin(16, 512, 16, 128)
        specs: list[tuple[str, QSpinBox | QDoubleSpinBox, bool, str]] = [
            ("Parameters", self.parameters, True, "Total parameters, in billions"),
            ("Layers", self.layers, False, "Decoder layers"),
            ("Hidden size", self.hidden, True, "Hidden (model) dimension"),
            ("KV heads", self.kv_heads, True, "Key/value heads (grouped-query attention)"),
            ("Head dim", self.head_dim, False, "Dimension of one attention head"),
        ]
        grid = QGridLayout(self)
        self.rows = []
        for r, (label, spin, log, tip) in enumerate(specs):
            spin.setAccessibleName(label)
            spin.setToolTip(tip)
            spin.setKeyboardTracking(False)
            spin.setFixedWidth(110)
            row = _Row(spin, log)
            self.rows.append(row)
            text = QLabel(label)
            text.setBuddy(spin)
            grid.addWidget(text, r, 0)
            grid.addWidget(row.slider, r, 1)
            grid.addWidget(spin, r, 2)
        self.note = QLabel(
            "Llama-style dense model, vocabulary 128,256, untied embeddings; the MLP width is "
            "derived to match the parameters."
        )
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: palette(mid); font-size: 11px;")
        grid.addWidget(self.note, len(specs), 0, 1, 3)
        self._show_rows(False)
        self._connect_signals()

    def _show_rows(self, on: bool) -> None:
        """Folded to its title while off, so the presets keep the room."""
        for child in self.findChildren(QWidget):
            child.setVisible(on)

    def _spin(self, low: int, high: int, step: int, value: int) -> QSpinBox:
        spin = QSpinBox()
        spin.setRange(low, high)
        spin.setSingleStep(step)
        spin.setValue(value)
        return spin

    def _connect_signals(self) -> None:
        self.toggled.connect(self._on_toggled)
        for spin in (self.parameters, self.layers, self.hidden, self.kv_heads, self.head_dim):
            spin.valueChanged.connect(self._emit)

    def _on_toggled(self, on: bool) -> None:
        self._show_rows(on)
        self.custom_mode_changed.emit(on)
        self._emit()

    def values(self) -> dict[str, int]:
        return {
            "parameters": round(self.parameters.value() * 1e9),
            "num_layers": self.layers.value(),
            "hidden_size": self.hidden.value(),
            "num_kv_heads": self.kv_heads.value(),
            "head_dim": self.head_dim.value(),
        }

    def _emit(self) -> None:
        if self.isChecked():
            self.custom_model_requested.emit(self.values())
