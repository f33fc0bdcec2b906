"""Which GPUs to plan for: the detected ones (a check box each, free or total memory), a catalog GPU, a custom
capacity, or system memory; and the system memory beside them (this machine's, or a size the user states)."""

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QCompleter,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from vramscope.core.scenario import DEFAULT_HOST_BANDWIDTH_BYTES_PER_S, GpuSpec, HostSpec
from vramscope.core.units import GIB, format_bytes
from vramscope.gui.qt_util import narrow_combo, signals_blocked
from vramscope.hardware.catalog import CatalogGpu, catalog
from vramscope.hardware.host import host_of, stated_host, unified_host, with_bandwidth
from vramscope.hardware.probe import Device, DeviceKind, HardwareSnapshot

DETECTED = "detected"
SYSTEM = "system"
CUSTOM = "custom"
LISTING = "listing"  # GPUs read from nvidia-smi's listing of a machine elsewhere


def device_label(d: Device) -> str:
    """'GPU 0: RTX 4090 · 20.99 of 23.99 GiB free': short enough for the side panel."""
    name = d.name.replace("NVIDIA ", "").replace("GeForce ", "")
    total = format_bytes(d.total_bytes or 0)
    memory = f"{format_bytes(d.free_bytes).removesuffix(' GiB')} of {total} free" if d.free_bytes is not None else total
    return f"GPU {d.index}: {name} · {memory}"


def device_key(d: Device) -> str:
    """Stays the same across probes while the GPU does: its UUID, else its index."""
    return d.uuid or f"{d.kind.value}:{d.index}"


class GpuPanel(QGroupBox):
    """Signals:
    gpu_requested(GpuSpec): plan for GPUs of this one kind (the count stays the workload's)
    gpus_requested(tuple): plan for exactly these GPUs, one rank each (the detected GPUs ticked)
    count_follows_changed(bool): whether the GPU count follows the GPUs ticked here
    host_requested(object): plan against this system memory (a HostSpec; None until it is known)
    """

    gpu_requested = Signal(object)
    gpus_requested = Signal(object)
    count_follows_changed = Signal(bool)
    host_requested = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("GPU", parent)
        self.status = QLabel("Detecting GPUs…")
        self.status.setWordWrap(True)
        self.picker = QComboBox()
        self.picker.setEditable(True)  # type part of a name: "4090", "h200", "mi300"
        self.picker.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        completer = QCompleter(self.picker.model(), self)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.picker.setCompleter(completer)
        completer.activated.connect(self._on_completer_activated)
        self.picker.setAccessibleName("GPUs to plan for")
        self.picker.setToolTip("The GPUs detected here, a GPU from the catalog, a custom capacity or system memory")
        self.checks_box = QWidget()
        self.checks_layout = QVBoxLayout(self.checks_box)
        self.checks_layout.setContentsMargins(0, 0, 0, 0)
        self.checks: list[tuple[QCheckBox, Device]] = []
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
        self.ram = QDoubleSpinBox()
        self.ram.setRange(0, 65_536)
        self.ram.setDecimals(1)
        self.ram.setSuffix(" GiB")
        self.ram.setSpecialValueText("this machine's")  # 0: what the probe read
        self.ram.setAccessibleName("System memory")
        self.ram.setToolTip(
            "System memory to plan against: what llama.cpp keeps on the CPU and where Ollama puts the layers the "
            "GPUs cannot hold. At its lowest: this machine's available memory."
        )
        self.ram_bandwidth = QDoubleSpinBox()
        self.ram_bandwidth.setRange(1, 5000)
        self.ram_bandwidth.setDecimals(0)
        self.ram_bandwidth.setSuffix(" GB/s")
        self.ram_bandwidth.setValue(DEFAULT_HOST_BANDWIDTH_BYTES_PER_S / 1e9)
        self.ram_bandwidth.setAccessibleName("System memory bandwidth")
        self.ram_bandwidth.setToolTip(
            "What a decode step reaches from system memory for the part on the CPU: 60 GB/s is dual-channel DDR5 "
            "(an estimate); eight-channel server memory reaches 250 or more"
        )
        self.host_note = QLabel()
        self.host_note.setWordWrap(True)
        self.host_device: Device | None = None  # this machine's system memory, as the probe read it
        outer = QVBoxLayout(self)  # wrapped labels outside the form, which would clip them
        outer.addWidget(self.status)
        self.adopt = QPushButton("Plan for the GPUs found now")
        self.adopt.setToolTip("A new look found other GPUs than those planned for: the plan waits for you")
        self.adopt.setVisible(False)
        self.adopt.clicked.connect(self._on_adopt_clicked)
        outer.addWidget(self.adopt)
        form = QFormLayout()
        outer.addLayout(form)
        form.addRow("Plan for", self.picker)
        outer.addWidget(self.checks_box)
        form2 = QFormLayout()
        outer.addLayout(form2)
        form2.addRow("", self.use_free)
        form2.addRow("Custom", self.custom)
        outer.addWidget(self.memory)
        form3 = QFormLayout()
        outer.addLayout(form3)
        form3.addRow("System memory", self.ram)
        form3.addRow("Its bandwidth", self.ram_bandwidth)
        outer.addWidget(self.host_note)
        self.devices: list[Device] = []  # detected accelerators, in probe order
        self.listing: tuple[GpuSpec, ...] = ()  # GPUs of an nvidia-smi listing, once one was read
        self.listing_source = ""
        self.pending: HardwareSnapshot | None = None  # a probe that found other GPUs, until the user adopts it
        self.system: Device | None = None
        self.kept_choice = False  # a choice brought back from the last session outlives the first probe
        self.unticked_before: set[str] = set()  # detected GPUs the last session left unticked
        self._fill()
        self._connect_signals()

    def _on_completer_activated(self, text: str) -> None:
        """A GPU picked from what was typed: choose it as if from the list."""
        found = self.picker.findText(text)
        if found >= 0:
            self.picker.setCurrentIndex(found)
            self._emit()

    def _connect_signals(self) -> None:
        self.picker.activated.connect(lambda _: self._emit())
        self.use_free.toggled.connect(lambda _: self._emit())
        self.custom.valueChanged.connect(lambda _: self._emit() if self.picker.currentData() == CUSTOM else None)
        self.ram.valueChanged.connect(lambda _: self._emit_host())
        self.ram_bandwidth.valueChanged.connect(lambda _: self._emit_host())

    def _fill(self) -> None:
        """List the choices again; what was chosen stays chosen (the chart keeps planning for it)."""
        chosen = self.picker.currentData()
        with signals_blocked(self.picker):
            self.picker.clear()
            if self.devices:
                self.picker.addItem(f"Detected GPUs ({len(self.devices)})", DETECTED)
            for gpu in catalog():
                memory = format_bytes(gpu.gpu_memory_bytes)
                if gpu.apple:  # the GPU's working set of the RAM
                    memory = f"GPU {memory} of {format_bytes(gpu.memory_bytes)}"
                self.picker.addItem(f"{gpu.name} ({memory})", f"catalog:{gpu.id}")
            self.picker.addItem("Custom capacity", CUSTOM)
            if self.listing:
                self.picker.addItem(self._listing_title(), LISTING)
            if self.system is not None:
                self.picker.addItem(f"System memory ({format_bytes(self.system.total_bytes or 0)})", SYSTEM)
            self.picker.setCurrentIndex(max(0, self.picker.findData(chosen)))
        narrow_combo(self.picker)
        self._show_mode()

    def _fill_checks(self) -> None:
        """One check box per detected GPU; a GPU seen before keeps its tick."""
        ticked = {device_key(d) for box, d in self.checks if box.isChecked()}
        known = {device_key(d) for _, d in self.checks}
        for box, _ in self.checks:
            self.checks_layout.removeWidget(box)
            box.deleteLater()
        self.checks = []
        for d in self.devices:
            box = QCheckBox(device_label(d))
            box.setToolTip(d.memory_summary() + (f"\nheld by {d.held_note()}" if d.held_bytes() else ""))
            box.setChecked(device_key(d) in ticked or (device_key(d) not in known | self.unticked_before))
            box.toggled.connect(lambda _=False: self._emit())
            self.checks_layout.addWidget(box)
            self.checks.append((box, d))

    def select_catalog(self, gpu_id: str) -> None:
        with signals_blocked(self.picker):
            self.picker.setCurrentIndex(self.picker.findData(f"catalog:{gpu_id}"))
        self._show_mode()
        self.current_gpus()  # its memory line names this GPU, not the one picked before

    def show_plan(self, gpus: tuple[GpuSpec, ...]) -> None:
        """Follow the GPUs the scenario plans for when they were set elsewhere (a way out, a log): the picker
        names them, so the panel never shows one GPU while the plan is for another."""
        if not gpus:
            return
        data = self.picker.currentData()
        names = {g.name for g in gpus}
        use_free = self.use_free.isChecked()
        if data == LISTING and gpus == self.listing:
            return  # the listing's GPUs, chosen here
        if data == DETECTED and gpus == tuple(d.gpu_spec(use_free) for d in self.ticked()):
            return  # the detected GPUs ticked here
        if len(names) == 1 and (entry := next((g for g in catalog() if g.name == gpus[0].name), None)):
            if data != f"catalog:{entry.id}":
                self.select_catalog(entry.id)
            return
        if len(names) == 1 and gpus[0].name.startswith("Custom ") and gpus[0].capacity_bytes:
            with signals_blocked(self.picker, self.custom):
                self.picker.setCurrentIndex(self.picker.findData(CUSTOM))
                self.custom.setValue(gpus[0].capacity_bytes / GIB)
            self._show_mode()

    def choice(self) -> dict[str, object]:
        """What the user chose, to bring back next time."""
        return {
            "picker": self.picker.currentData(),
            "custom_gib": self.custom.value(),
            "use_free": self.use_free.isChecked(),
            "unticked": sorted(device_key(d) for box, d in self.checks if not box.isChecked()),
            "ram_gib": self.ram.value(),
            "ram_bandwidth_gbps": self.ram_bandwidth.value(),
        }

    def restore_choice(self, choice: dict[str, object]) -> None:
        """The last session's choice; a catalog GPU or custom size stays chosen when the GPUs are detected."""
        custom, use_free, unticked = choice.get("custom_gib"), choice.get("use_free"), choice.get("unticked")
        ram, bandwidth = choice.get("ram_gib"), choice.get("ram_bandwidth_gbps")
        with signals_blocked(self.custom, self.use_free, self.ram, self.ram_bandwidth):
            if isinstance(custom, int | float) and 0.5 <= custom <= 4096:
                self.custom.setValue(float(custom))
            if isinstance(use_free, bool):
                self.use_free.setChecked(use_free)
            if isinstance(ram, int | float) and not isinstance(ram, bool) and 0 <= ram <= 65_536:
                self.ram.setValue(float(ram))
            if isinstance(bandwidth, int | float) and not isinstance(bandwidth, bool) and 1 <= bandwidth <= 5000:
                self.ram_bandwidth.setValue(float(bandwidth))
        if isinstance(unticked, list):
            self.unticked_before = {str(k) for k in unticked}
        index = self.picker.findData(choice.get("picker"))
        if index >= 0 and choice.get("picker") != DETECTED:
            self.kept_choice = True
            with signals_blocked(self.picker):
                self.picker.setCurrentIndex(index)
            self._emit()

    def show_hardware(self, snapshot: HardwareSnapshot) -> None:
        """A probe (first, or after a refresh): list what it found and plan for the detected GPUs. A later
        probe that finds GPUs not planned for says so and waits (Plan for the GPUs found now); one that finds
        the same GPUs only updates their free memory, and one that lost a GPU plans for what remains."""
        usable = snapshot.usable_gpus()
        first = not self.devices and not self.checks
        was_detected = self.picker.currentData() == DETECTED
        before, now = {device_key(d) for d in self.devices}, {device_key(d) for d in usable}
        if not first and was_detected and before and not now <= before:  # a GPU gone is planned without
            self.pending = snapshot
            names = ", ".join(device_label(d) for d in usable) or "none"
            self.status.setText(f"The GPUs changed since the last look: now {names}. The plan is unchanged.")
            self.adopt.setVisible(True)
            return
        self.pending = None
        self.adopt.setVisible(False)
        self.devices = list(usable)
        self.system = next((d for d in snapshot.devices if d.kind is DeviceKind.SYSTEM), None)
        self.host_device = snapshot.host or self.system
        self._fill_checks()
        self._fill()
        if usable:
            self.status.setText(f"✔ {snapshot.message}")
            if (first and not self.kept_choice) or was_detected:
                with signals_blocked(self.picker):
                    self.picker.setCurrentIndex(self.picker.findData(DETECTED))
                self._emit()
            else:
                self._emit_host()
            return
        self.status.setText(
            f"No GPU detected: {snapshot.message} Planning for the GPU chosen below; system memory is in the list."
        )
        if was_detected:  # the GPUs planned for are gone (a lost GPU, a driver reload): plan for what remains
            self._emit()
        else:
            self._emit_host()

    def _on_adopt_clicked(self) -> None:
        snapshot, self.devices = self.pending, []  # seen afresh: the GPUs found now are planned for
        if snapshot is not None:
            self.show_hardware(snapshot)

    def show_listing(self, gpus: tuple[GpuSpec, ...], source: str) -> None:
        """Plan for the GPUs of an nvidia-smi listing (a node elsewhere): a choice of its own, so a re-probe
        of this machine leaves it alone."""
        self.listing, self.listing_source = gpus, source
        self._fill()
        with signals_blocked(self.picker):
            self.picker.setCurrentIndex(self.picker.findData(LISTING))
        self._emit()

    def _listing_title(self) -> str:
        names = sorted({g.name for g in self.listing})
        kind = names[0] if len(names) == 1 else f"{len(names)} kinds"
        return f"nvidia-smi listing: {len(self.listing)} x {kind}"

    def _show_mode(self) -> None:
        detected = self.picker.currentData() == DETECTED
        self.checks_box.setVisible(detected)
        self.custom.setEnabled(self.picker.currentData() == CUSTOM)
        self.count_follows_changed.emit(detected)

    def ticked(self) -> tuple[Device, ...]:
        return tuple(d for box, d in self.checks if box.isChecked())

    def current_gpus(self) -> tuple[GpuSpec, ...]:
        """What the choice plans for: the ticked detected GPUs, or one GPU spec for the others."""
        data = self.picker.currentData()
        use_free = self.use_free.isChecked()
        if data == DETECTED:
            devices = self.ticked() or tuple(d for _, d in self.checks[:1])
            self.memory.setText("\n".join(f"GPU {d.index}: {d.memory_summary()}" for d in devices))
            return tuple(d.gpu_spec(use_free) for d in devices)
        if data == SYSTEM and self.system is not None:
            self.memory.setText(self.system.memory_summary() + "\n" + " ".join(self.system.notes))
            return (self.system.gpu_spec(use_free),)
        if data == LISTING and self.listing:
            self.memory.setText(
                f"From {self.listing_source}:\n"
                + "\n".join(f"GPU {g.device}: {format_bytes(g.capacity_bytes or 0)} free" for g in self.listing)
            )
            return self.listing
        if data == CUSTOM:
            capacity = round(self.custom.value() * GIB)
            self.memory.setText("A custom capacity per GPU")
            return (GpuSpec(name=f"Custom {self.custom.value():g} GiB", capacity_bytes=capacity, total_bytes=capacity),)
        key = str(data).split(":", 1)[-1]
        gpu = next((g for g in catalog() if g.id == key), catalog()[0])
        if gpu.apple:
            self.memory.setText(
                f"Catalog: {format_bytes(gpu.gpu_memory_bytes)} of its {format_bytes(gpu.memory_bytes)} for the GPU "
                "(macOS's default working set; `sudo sysctl iogpu.wired_limit_mb=N` raises it: then set Custom), "
                f"{gpu.bandwidth_gbps:,.0f} GB/s"
            )
        else:
            self.memory.setText(
                f"Catalog: {format_bytes(gpu.memory_bytes)} as the driver reports it, {gpu.bandwidth_gbps:,.0f} GB/s"
            )
        return (gpu.spec(),)

    def _emit(self) -> None:
        if self.checks and not self.ticked():  # at least one GPU: the last tick cannot go
            with signals_blocked(self.checks[0][0]):
                self.checks[0][0].setChecked(True)
        self._show_mode()
        gpus = self.current_gpus()
        if self.picker.currentData() in (DETECTED, LISTING):
            self.gpus_requested.emit(gpus)
        else:
            self.gpu_requested.emit(gpus[0])
        self._emit_host()

    def current_host(self) -> HostSpec | None:
        """The size stated, else a catalog machine's own unified memory, else this machine's."""
        bandwidth = self.ram_bandwidth.value()
        stated_bandwidth = None if bandwidth * 1e9 == DEFAULT_HOST_BANDWIDTH_BYTES_PER_S else bandwidth
        gpu = self._catalog_gpu()
        if self.ram.value() > 0:
            host: HostSpec | None = stated_host(self.ram.value())
        elif gpu is not None and gpu.unified_memory:
            host = unified_host(gpu.name, gpu.memory_bytes, gpu.bandwidth_gbps * 1e9)
        else:
            host = host_of(self.host_device)
        if host is not None and stated_bandwidth is not None:
            host = with_bandwidth(host, stated_bandwidth)
        self.host_note.setText(f"Planned against {host.basis}." if host else "System memory: not known yet.")
        return host

    def _catalog_gpu(self) -> CatalogGpu | None:
        data = str(self.picker.currentData())
        if not data.startswith("catalog:"):
            return None
        return next((g for g in catalog() if g.id == data.split(":", 1)[1]), None)

    def _emit_host(self) -> None:
        self.host_requested.emit(self.current_host())
