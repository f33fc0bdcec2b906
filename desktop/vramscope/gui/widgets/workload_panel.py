"""Sliders paired with spin boxes for the workload: weight format, KV dtype, context, batch, GPUs."""

import math
from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QGridLayout, QGroupBox, QLabel, QSlider, QSpinBox, QWidget

from vramscope.core.analysis import Analysis
from vramscope.core.architecture import VisionKind
from vramscope.core.precision import KV_DTYPES, known_format
from vramscope.core.scenario import MAX_BATCH, MAX_CONTEXT, ModelSpec, Workload
from vramscope.core.solve import formats_for, kv_choices
from vramscope.gui.controller import Controller
from vramscope.gui.qt_util import narrow_combo, signals_blocked

LOG_STEPS = 1000  # slider resolution of the log-scale sliders
MIN_CONTEXT_SLIDER = 256
MAX_BATCH_SLIDER = 1024


def log_to_value(position: int, low: int, high: int) -> int:
    if high <= low:
        return low
    return round(math.exp(math.log(low) + position / LOG_STEPS * (math.log(high) - math.log(low))))


def value_to_log(value: int, low: int, high: int) -> int:
    if high <= low:
        return 0
    value = min(max(value, low), high)
    return round((math.log(value) - math.log(low)) / (math.log(high) - math.log(low)) * LOG_STEPS)


class WorkloadPanel(QGroupBox):
    """Shows the controller's workload and sends it the changes; subscribes to it itself.

    Signals:
    workload_requested(dict): changed Workload fields
    gpu_count_requested(int)
    """

    workload_requested = Signal(dict)
    gpu_count_requested = Signal(int)

    def __init__(self, controller: Controller, parent: QWidget | None = None) -> None:
        super().__init__("Workload", parent)
        self.controller = controller
        self.formats: list[str | None] = [None]  # None: the model's own; then the engine's, fewer bits rightwards
        self.weight_slider = self._slider(
            0, 0, "Weight format", "Weight precision and quantization format: the model's own, then fewer bits"
        )
        self.weight_combo = QComboBox()
        self.weight_combo.setAccessibleName("Weight format")
        self.weight_combo.setToolTip("Weight precision and quantization format the engine runs, by bits per weight")
        self.kv_dtypes: list[str] = []
        self.kv_combo = QComboBox()
        self.kv_combo.setAccessibleName("KV-cache dtype")
        self.kv_combo.setToolTip("Data type of the KV cache the engine offers (block scales included for Q8_0/Q4_0)")
        self.context_slider = self._slider(0, LOG_STEPS, "Context length", "Tokens per sequence (log scale)")
        self.context_spin = self._spin(1, MAX_CONTEXT, "Context length", "Tokens per sequence: type any value")
        self.batch_slider = self._slider(0, LOG_STEPS, "Batch", "Concurrent sequences (log scale, 1-1024)")
        self.batch_spin = self._spin(1, MAX_BATCH, "Batch", "Concurrent sequences: type any value")
        self.images_spin = self._spin(0, 1000, "Images", "Images per sequence: the vision encoder's peak and weights")
        self.gpu_spin = self._spin(
            1, 64, "Number of GPUs", "GPUs: tensor parallel (vLLM, SGLang, transformers) or a layer split (llama.cpp)"
        )
        grid = QGridLayout(self)
        rows = [
            ("Weights", self.weight_slider, self.weight_combo),
            ("KV cache", None, self.kv_combo),
            ("Context", self.context_slider, self.context_spin),
            ("Batch", self.batch_slider, self.batch_spin),
            ("Images", None, self.images_spin),
            ("GPUs", None, self.gpu_spin),
        ]
        for r, (label, slider, box) in enumerate(rows):
            text = QLabel(label)
            text.setBuddy(box)
            grid.addWidget(text, r, 0)
            if slider is not None:
                box.setMinimumWidth(110)  # the slider gives way first in a narrow window
                box.setMaximumWidth(190)
                grid.addWidget(slider, r, 1)
                grid.addWidget(box, r, 2)
            else:
                grid.addWidget(box, r, 1, 1, 2)
        grid.setColumnStretch(1, 1)
        self.max_context = 131072
        self._connect_signals()
        self.show_analysis(controller.result)

    def _slider(self, low: int, high: int, name: str, tip: str) -> QSlider:
        slider = QSlider(Qt.Orientation.Horizontal)
        slider.setRange(low, high)
        slider.setAccessibleName(name)
        slider.setToolTip(tip)
        return slider

    def _spin(self, low: int, high: int, name: str, tip: str) -> QSpinBox:
        spin = QSpinBox()
        spin.setRange(low, high)
        spin.setGroupSeparatorShown(True)
        spin.setAccessibleName(name)
        spin.setToolTip(tip)
        spin.setKeyboardTracking(False)
        return spin

    def _connect_signals(self) -> None:
        self.weight_slider.valueChanged.connect(self._on_weight_slider_value_changed)
        self.weight_combo.activated.connect(self._on_weight_combo_activated)
        self.kv_combo.activated.connect(lambda i: self.workload_requested.emit({"kv_dtype": self.kv_combo.itemData(i)}))
        self.context_slider.valueChanged.connect(self._on_context_slider_value_changed)
        self.context_spin.valueChanged.connect(lambda v: self.workload_requested.emit({"context": v}))
        self.batch_slider.valueChanged.connect(self._on_batch_slider_value_changed)
        self.batch_spin.valueChanged.connect(lambda v: self.workload_requested.emit({"batch": v}))
        self.images_spin.valueChanged.connect(lambda v: self.workload_requested.emit({"images": v}))
        self.gpu_spin.valueChanged.connect(self.gpu_count_requested.emit)
        c = self.controller
        self.workload_requested.connect(lambda changes: c.set_workload(**changes))
        self.gpu_count_requested.connect(c.set_gpu_count)
        c.estimate_changed.connect(self.show_analysis)

    def _on_weight_slider_value_changed(self, position: int) -> None:
        self.workload_requested.emit({"weight_format": self.formats[position]})

    def _on_weight_combo_activated(self, index: int) -> None:
        self.workload_requested.emit({"weight_format": self.weight_combo.itemData(index)})

    def _on_context_slider_value_changed(self, position: int) -> None:
        self.workload_requested.emit({"context": log_to_value(position, MIN_CONTEXT_SLIDER, self.max_context)})

    def _on_batch_slider_value_changed(self, position: int) -> None:
        self.workload_requested.emit({"batch": log_to_value(position, 1, MAX_BATCH_SLIDER)})

    def set_count_follows_gpus(self, follows: bool) -> None:
        """Planning for detected GPUs: the count is the GPUs ticked, not a number to type."""
        self.gpu_spin.setEnabled(not follows)
        self.gpu_spin.setToolTip(
            "The GPUs ticked in the GPU panel"
            if follows
            else "GPUs: tensor parallel (vLLM, SGLang, transformers) or a layer split (llama.cpp)"
        )

    def show_analysis(self, analysis: Analysis) -> None:
        a = analysis
        formats = formats_for(a.model, a.deployment)
        self.show_workload(a.model, a.workload, a.deployment.gpu_count, formats, kv_choices(a.deployment)[1:])

    def _offer(self, model: ModelSpec, workload: Workload, formats: Sequence[str], kv_dtypes: Sequence[str]) -> None:
        """Fill the format and KV choices with what the engine runs for this model (the current choice
        too, should it be another), only when they change: a drag must not rebuild a combo box."""
        own = model.native_format
        wanted: list[str | None] = [None, *(f for f in formats if f != own)]
        if workload.weight_format not in wanted:
            wanted.append(workload.weight_format)
        if wanted != self.formats:
            self.formats = wanted
            self.weight_combo.clear()
            for name in wanted:
                fmt = known_format(name or own)
                label = f"{fmt.label} · {fmt.bits:.3g} bit" if fmt else (name or own)
                self.weight_combo.addItem(f"Model's own: {label}" if name is None else label, name)
                self.weight_combo.setItemData(self.weight_combo.count() - 1, label, Qt.ItemDataRole.ToolTipRole)
            narrow_combo(self.weight_combo, 12)
            self.weight_slider.setMaximum(len(wanted) - 1)
        kv = ["auto", *kv_dtypes]
        if workload.kv_dtype not in kv:
            kv.append(workload.kv_dtype)
        if kv != self.kv_dtypes:
            self.kv_dtypes = kv
            self.kv_combo.clear()
            for name in kv:
                self.kv_combo.addItem("Engine default" if name == "auto" else KV_DTYPES[name].label, name)

    def show_workload(
        self,
        model: ModelSpec,
        workload: Workload,
        gpu_count: int,
        formats: Sequence[str],
        kv_dtypes: Sequence[str],
    ) -> None:
        """Show the scenario; `formats` and `kv_dtypes` are what the engine offers, most bits first."""
        self.max_context = max(MIN_CONTEXT_SLIDER + 1, model.architecture.max_context)
        widgets = (
            self.weight_slider,
            self.weight_combo,
            self.kv_combo,
            self.context_slider,
            self.context_spin,
            self.batch_slider,
            self.batch_spin,
            self.images_spin,
            self.gpu_spin,
        )
        with signals_blocked(*widgets):
            self._offer(model, workload, formats, kv_dtypes)
            fmt = workload.weight_format
            self.weight_slider.setValue(self.formats.index(fmt) if fmt in self.formats else 0)
            self.weight_combo.setCurrentIndex(self.weight_combo.findData(workload.weight_format))
            self.kv_combo.setCurrentIndex(self.kv_combo.findData(workload.kv_dtype))
            self.context_slider.setValue(value_to_log(workload.context, MIN_CONTEXT_SLIDER, self.max_context))
            self.context_spin.setValue(workload.context)
            self.batch_slider.setValue(value_to_log(workload.batch, 1, MAX_BATCH_SLIDER))
            self.batch_spin.setValue(workload.batch)
            self.images_spin.setValue(workload.images)
            vision = model.architecture.vision
            self.images_spin.setEnabled(vision is not None)
            if vision is not None:  # what one image costs the encoder, and the size assumed where any is read
                self.images_spin.setToolTip(
                    f"Images per sequence: the vision encoder's peak and weights; each image is "
                    f"{vision.image_size}x{vision.image_size} pixels, {vision.image_tokens:,} tokens"
                    + (" (an assumed size: this encoder reads any)" if vision.kind is VisionKind.QWEN_VL else "")
                )
            self.gpu_spin.setValue(gpu_count)
