"""Pick a preset (searchable) and see the model's key facts."""

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QPalette, QResizeEvent
from PySide6.QtWidgets import QComboBox, QCompleter, QFormLayout, QGroupBox, QLabel, QWidget

from vramscope.core.architecture import Group
from vramscope.core.scenario import ModelSpec
from vramscope.gui.colors import verdict_colors
from vramscope.gui.qt_util import fit_wrapped_height, narrow_combo, signals_blocked
from vramscope.sources.presets import preset_documents


class ModelPanel(QGroupBox):
    """Signals:
    model_requested(str): a preset id was picked
    """

    model_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Model", parent)
        self.picker = QComboBox()
        self.picker.setEditable(True)
        self.picker.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.picker.setAccessibleName("Model preset")
        self.picker.setToolTip("Type to search the presets by name, family or Hugging Face id")
        for pid, doc in preset_documents().items():  # counting every preset's parameters would slow start-up
            context = doc["architecture"]["max_context"]
            self.picker.addItem(f"{doc['name']}  ·  {doc['family']}  ·  {context // 1024:,}k context", pid)
        narrow_combo(self.picker)
        completer = QCompleter(self.picker.model(), self)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.picker.setCompleter(completer)
        self.facts = QLabel()
        self.facts.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.facts.setWordWrap(True)
        self.source = QLabel()
        self.source.setWordWrap(True)
        self.source.setStyleSheet("color: palette(mid); font-size: 11px;")
        form = QFormLayout(self)
        form.addRow(self.picker)
        form.addRow(self.facts)
        form.addRow(self.source)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setVisible(False)
        self._error_color = ""
        self._color_error()
        form.addRow(self.error)
        self._connect_signals()

    def _connect_signals(self) -> None:
        self.picker.activated.connect(self._on_picker_activated)

    def _on_picker_activated(self, index: int) -> None:
        self.model_requested.emit(self.picker.itemData(index))

    def show_error(self, message: str) -> None:
        """A model that could not be opened, in words ("" hides it)."""
        self.error.setText(f"Could not open the model: {message}" if message else "")
        self.error.setVisible(bool(message))

    def show_model(self, model: ModelSpec, preset_id: str | None) -> None:
        index = self.picker.findData(preset_id) if preset_id else -1
        with signals_blocked(self.picker):
            if index >= 0:
                self.picker.setCurrentIndex(index)
            else:  # a file, a Hub id or a custom model: its own name, not the last preset's
                self.picker.setEditText(model.name)
        arch = model.architecture
        parameters, active = model.parameter_count(), model.active_parameter_count()
        vision = sum(t.numel for t in arch.tensors() if t.group is Group.VISION)
        rows = [
            ("Parameters", f"{parameters:,}"),
            *([("Active / token", f"{active:,}")] if active != parameters else []),
            *([("Vision encoder", f"{vision:,} of them")] if vision else []),
            ("Layers", f"{arch.num_layers}"),
            ("Attention", arch.attention_summary()),
            ("Head dim", f"{arch.head_dim}" if arch.mla is None else "latent"),
            ("Native format", model.native_format),
            ("Max context", f"{arch.max_context:,}"),
        ]
        self.facts.setText(
            "<table>" + "".join(f"<tr><td>{k}&nbsp;&nbsp;</td><td><b>{v}</b></td></tr>" for k, v in rows) + "</table>"
        )
        weights = f"<br>Weights exact: {model.inventory.describe()}" if model.inventory else ""
        self.source.setText(f"Source: {model.source_detail}{weights}")
        self._fit_labels()

    def _color_error(self) -> None:
        """The error in the verdict's red for this background: readable on a light or a dark desktop."""
        color = verdict_colors(self.palette().color(QPalette.ColorRole.Window))["no"]
        if color != self._error_color:
            self._error_color = color
            self.error.setStyleSheet(f"color: {color};")

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._color_error()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_labels()

    def _fit_labels(self) -> None:
        for label in (self.facts, self.source, self.error):
            fit_wrapped_height(label)
