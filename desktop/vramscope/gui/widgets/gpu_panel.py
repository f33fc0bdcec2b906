"""Which GPU to plan for: a detected one (free or total memory), a catalog GPU, or a custom capacity."""

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from vramscope.core.scenario import GpuSpec
from vramscope.core.units import GIB, format_bytes
from vramscope.gui.qt_util import signals_blocked
from vramscope.hardware.catalog import catalog
from vramscope.hardware.probe import Device, DeviceKind, HardwareSnapshot

CUSTOM = "custom"


class GpuPanel(QGroupBox):
    """Signals:
    gpu_requested(GpuSpec): the GPU to plan against
    """

    gpu_requested = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("GPU", parent)
        self.status = QLabel("Detecting GPUs…")
        self.status.setWordWrap(True)
        self.picker = QComboBox()
        self.picker.setAccessibleName("GPU to plan for")
        self.picker.setToolTip("A detected GPU, a GPU from the catalog, or a custom capacity")
        self.use_free = QCheckBox("Plan against free memory")
        self.use_free.setChecked(True)
        self.use_free.setToolTip("Memory other processes hold is really gone; untick to plan against the total")
        self.custom = QDoubleSpinBox()
        self.custom.setRange(0.5, 4096)
        self.custom.setDecimals(1)
        self.custom.setSuffix(" GiB")
        self.custom.setValue(24)
        self.custom.setAccessibleName("Custom capacity")
        self.custom.setToolTip("Capacity per GPU in GiB, for the custom choice")
        self.memory = QLabel()
        self.memory.setWordWrap(True)
        outer = QVBoxLayout(self)  # wrapped labels outside the form, which would clip them
        outer.addWidget(self.status)
        form = QFormLayout()
        outer.addLayout(form)
        form.addRow("Plan for", self.picker)
        form.addRow("", self.use_free)
        form.addRow("Custom", self.custom)
        outer.addWidget(self.memory)
        self.devices: list[Device] = []
        self._fill(())
        self._connect_signals()

    def _connect_signals(self) -> None:
        self.picker.activated.connect(lambda _: self._emit())
        self.use_free.toggled.connect(lambda _: self._emit())
        self.custom.valueChanged.connect(lambda _: self._emit() if self.picker.currentData() == CUSTOM else None)

    def _fill(self, devices: tuple[Device, ...]) -> None:
        """List the choices again; what was chosen stays chosen (the chart keeps planning for it)."""
        self.devices = list(devices)
        chosen = self.picker.currentData()
        with signals_blocked(self.picker):
            self.picker.clear()
            for i, d in enumerate(devices):
                self.picker.addItem(f"Detected: {d.name}", f"device:{i}")
            for gpu in catalog():
                self.picker.addItem(f"{gpu.name} ({format_bytes(gpu.memory_bytes)})", f"catalog:{gpu.id}")
            self.picker.addItem("Custom capacity", CUSTOM)
            self.picker.setCurrentIndex(max(0, self.picker.findData(chosen)))

    def select_catalog(self, gpu_id: str) -> None:
        with signals_blocked(self.picker):
            self.picker.setCurrentIndex(self.picker.findData(f"catalog:{gpu_id}"))

    def show_hardware(self, snapshot: HardwareSnapshot) -> None:
        usable = snapshot.usable_gpus()
        ram = [d for d in snapshot.devices if d.kind is DeviceKind.SYSTEM]
        self._fill(usable + tuple(ram))
        if usable:
            self.status.setText(f"✔ {snapshot.message}")
            self.picker.setCurrentIndex(0)
            self._emit()
        else:
            self.status.setText(
                f"No GPU detected: {snapshot.message} Planning for the GPU chosen below; system memory is in the list."
            )

    def current_gpu(self) -> GpuSpec:
        data = self.picker.currentData()
        if data == CUSTOM:
            capacity = round(self.custom.value() * GIB)
            return GpuSpec(name=f"Custom {self.custom.value():g} GiB", capacity_bytes=capacity, total_bytes=capacity)
        kind, key = str(data).split(":", 1)
        if kind == "device":
            device = self.devices[int(key)]
            self._show_device(device)
            return device.gpu_spec(self.use_free.isChecked())
        gpu = next(g for g in catalog() if g.id == key)
        self.memory.setText(
            f"Catalog: {format_bytes(gpu.memory_bytes)} as the driver reports it, {gpu.bandwidth_gbps:,.0f} GB/s"
        )
        return gpu.spec()

    def _show_device(self, d: Device) -> None:
        self.memory.setText(d.memory_summary() + ("\n" + " ".join(d.notes) if d.notes else ""))

    def _emit(self) -> None:
        self.gpu_requested.emit(self.current_gpu())
