"""The engine switch, each engine's own settings beside it, and the launch command for what is on screen.
Subscribes to the controller itself: it asks for changes and shows what the controller holds."""

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from vramscope.core.analysis import Analysis
from vramscope.core.checkpoints import COMMENT
from vramscope.core.engines import PROFILES, llamacpp, sglang
from vramscope.core.engines.vllm_versions import OFFERED, vllm_rules
from vramscope.core.scenario import MIN_FRACTION, PARALLEL_ENGINES, Engine, EngineSettings
from vramscope.core.solve import replicas_for
from vramscope.gui.controller import Controller
from vramscope.gui.qt_util import signals_blocked
from vramscope.sources.presets import find_preset, load_preset, preset_documents

FLASH_ATTN = {"auto": None, "on": True, "off": False}


def _spin(low: int, high: int, tip: str, special: str = "") -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(low, high)
    spin.setGroupSeparatorShown(True)
    spin.setKeyboardTracking(False)
    spin.setToolTip(tip)
    spin.setAccessibleName(tip.split(":")[0])
    if special:
        spin.setSpecialValueText(special)  # shown at the minimum: the engine's default
    return spin


def _fraction(tip: str, special: str = "") -> QDoubleSpinBox:
    spin = QDoubleSpinBox()
    spin.setRange(0.0 if special else MIN_FRACTION, 0.99 if special else 1.0)
    spin.setSingleStep(0.01)
    spin.setDecimals(2)
    spin.setKeyboardTracking(False)
    spin.setToolTip(tip)
    spin.setAccessibleName(tip.split(":")[0])
    if special:
        spin.setSpecialValueText(special)
    return spin


class EnginePanel(QGroupBox):
    def __init__(self, controller: Controller, parent: QWidget | None = None) -> None:
        super().__init__("Engine", parent)
        self.controller = controller
        self.engine_combo = QComboBox()
        for engine, profile in PROFILES.items():
            self.engine_combo.addItem(profile.label, engine.value)
        self.engine_combo.setAccessibleName("Inference engine")
        self.engine_combo.setToolTip("The engine you run: each allocates memory its own way")
        self.version = QComboBox()  # filled for the engine shown: the releases whose rules differ
        self.version.setAccessibleName("Engine version")
        self.version.setToolTip("The release you run: profiling, defaults and the pool's rules differ by version")
        self.versions_of: Engine | None = None
        # vLLM
        self.gpu_util = _fraction("GPU memory utilization: vLLM's budget as a share of each GPU's memory")
        self.max_seqs = _spin(0, 1_000_000, "Max sequences: vLLM's max_num_seqs (default by GPU)", "default")
        self.batched_tokens = _spin(0, 10_000_000, "Batched tokens: max_num_batched_tokens", "default")
        self.cuda_graphs = QCheckBox("CUDA graphs")
        self.cuda_graphs.setToolTip("Unchecked: --enforce-eager, no graph memory")
        self.flashinfer_sampler = QCheckBox("FlashInfer sampler")
        self.flashinfer_sampler.setToolTip(
            "FlashInfer installed (the Docker image, vllm[flashinfer]): its top-k/top-p sampler profiles smaller; "
            "on by default up to 0.11, from 0.12 with VLLM_USE_FLASHINFER_SAMPLER=1"
        )
        self.peer_to_peer = QCheckBox("GPU peer-to-peer (NVLink / P2P)")
        self.peer_to_peer.setToolTip(
            "Unchecked: GPUs without P2P (or on several nodes) get no custom all-reduce buffers at tp > 1"
        )
        # llama.cpp and Ollama
        self.ubatch = _spin(1, 65_536, "ubatch: tokens per compute step (-ub)")
        self.flash_attn = QComboBox()
        self.flash_attn.addItems(list(FLASH_ATTN))
        self.flash_attn.setToolTip("Flash attention (-fa); quantized V caches need it")
        self.flash_attn.setAccessibleName("Flash attention")
        self.gpu_layers = _spin(-1, 100_000, "GPU layers: -ngl / num_gpu (the rest stay on the CPU)", "all / auto")
        self.tensor_split = QLineEdit()
        self.tensor_split.setPlaceholderText("by free memory")
        self.tensor_split.setToolTip("Tensor split (-ts): proportions per GPU, e.g. 3,1")
        self.tensor_split.setAccessibleName("Tensor split")
        self.cpu_moe = _spin(0, 100_000, "Experts on the CPU: --n-cpu-moe, the routed experts of the first N layers")
        self.swa_full = QCheckBox("Full-size sliding-window cache")
        self.swa_full.setToolTip("--swa-full: sliding-window layers keep the whole context (needed to reuse prompts)")
        self.kv_unified = QCheckBox("One KV buffer for all slots")
        self.kv_unified.setToolTip("--kv-unified: the slots share one cache instead of n_ctx / slots each")
        # SGLang
        self.mem_fraction = _fraction("mem_fraction_static: SGLang's share for weights and token pool", "default")
        # vLLM and SGLang: the GPUs split into replicas
        self.data_parallel = _spin(1, 1024, "Data parallel: replicas of the model, each with its own KV pool")
        self.expert_parallel = QCheckBox("Expert parallel")
        self.expert_parallel.setToolTip("Whole experts per GPU over all replicas (--enable-expert-parallel)")
        self.parallel_row = QWidget()
        parallel = QFormLayout(self.parallel_row)
        parallel.setContentsMargins(0, 0, 0, 0)
        self.nodes = _spin(1, 1024, "Nodes: machines the GPUs are spread over (tensor parallel inside each)")
        parallel.addRow("Data parallel", self.data_parallel)
        parallel.addRow("", self.expert_parallel)
        parallel.addRow("Nodes", self.nodes)
        self.load = _spin(0, 10_000_000, "Load: concurrent sequences to serve at this context", "none")
        self.sizing = QLabel()  # the replicas that serve the load, once the controls rest
        self.sizing.setWordWrap(True)
        self.sizing.setAccessibleName("Replicas for the load")
        parallel.addRow("Serve", self.load)
        parallel.addRow("", self.sizing)
        # transformers
        self.attention = QComboBox()
        self.attention.addItems(["sdpa", "eager", "flash_attention_2"])
        self.attention.setToolTip("attn_implementation: eager materialises the attention scores")
        self.attention.setAccessibleName("Attention implementation")
        self.cache = QComboBox()
        self.cache.addItems(["dynamic", "static"])
        self.cache.setToolTip("cache_implementation: a static cache is allocated for the whole context")
        self.cache.setAccessibleName("Cache implementation")
        self.draft = QComboBox()
        self.draft.addItem("none", "")
        for preset in preset_documents():
            self.draft.addItem(preset, preset)
        self.draft.setAccessibleName("Draft model")
        self.draft.setToolTip("A draft model for speculative decoding: its weights and cache come on top")
        self.pages = QStackedWidget()
        self.page_of: dict[Engine, int] = {}
        llama_rows = None
        for engine in PROFILES:
            page = QWidget()
            form = QFormLayout(page)
            form.setContentsMargins(0, 0, 0, 0)
            if engine is Engine.VLLM:
                form.addRow("GPU memory util.", self.gpu_util)
                form.addRow("Max sequences", self.max_seqs)
                form.addRow("Batched tokens", self.batched_tokens)
                form.addRow("", self.cuda_graphs)
                form.addRow("", self.flashinfer_sampler)
                form.addRow("", self.peer_to_peer)
            elif engine in (Engine.LLAMACPP, Engine.OLLAMA):
                if llama_rows is None:  # one set of widgets, shown on the first of the two pages
                    llama_rows = page
                    form.addRow("ubatch", self.ubatch)
                    form.addRow("Flash attention", self.flash_attn)
                    form.addRow("GPU layers", self.gpu_layers)
                    form.addRow("Tensor split", self.tensor_split)
                    form.addRow("Experts on CPU", self.cpu_moe)
                    form.addRow("", self.swa_full)
                    form.addRow("", self.kv_unified)
                else:
                    self.page_of[engine] = self.page_of[Engine.LLAMACPP]
                    continue
            elif engine is Engine.SGLANG:
                form.addRow("mem_fraction_static", self.mem_fraction)
            else:
                form.addRow("Attention", self.attention)
                form.addRow("Cache", self.cache)
            self.page_of[engine] = self.pages.addWidget(page)
        self.launch = QLineEdit()
        self.launch.setReadOnly(True)
        self.launch.setAccessibleName("Launch command")
        self.launch.setToolTip("The command that starts this scenario in the chosen engine")
        self.copy_button = QPushButton("Copy")
        self.copy_button.setToolTip("Copy the launch command")
        launch_row = QHBoxLayout()
        launch_row.addWidget(self.launch, 1)
        launch_row.addWidget(self.copy_button)
        self.launch_todo = QLabel()  # what the user must do before the command runs: make its checkpoint
        self.launch_todo.setWordWrap(True)
        self.launch_todo.setAccessibleName("Before launching")
        self.launch_todo.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.launch_todo.hide()
        layout = QVBoxLayout(self)
        engine_row = QHBoxLayout()
        engine_row.addWidget(self.engine_combo, 1)
        engine_row.addWidget(self.version, 1)
        layout.addLayout(engine_row)
        layout.addWidget(self.pages)
        layout.addWidget(self.parallel_row)
        draft_row = QFormLayout()
        draft_row.setContentsMargins(0, 0, 0, 0)
        draft_row.addRow("Draft model", self.draft)
        layout.addLayout(draft_row)
        layout.addLayout(launch_row)
        layout.addWidget(self.launch_todo)
        self._connect_signals()
        self.show_analysis(controller.result)

    def _connect_signals(self) -> None:
        c = self.controller
        c.estimate_changed.connect(self.show_analysis)
        self.engine_combo.activated.connect(lambda i: c.set_engine(Engine(self.engine_combo.itemData(i))))
        self.version.activated.connect(lambda i: c.set_engine_settings(engine_version=self.version.itemData(i)))
        self.gpu_util.valueChanged.connect(lambda v: c.set_engine_settings(gpu_memory_utilization=v))
        self.max_seqs.valueChanged.connect(lambda v: c.set_engine_settings(max_num_seqs=v or None))
        self.batched_tokens.valueChanged.connect(lambda v: c.set_engine_settings(max_num_batched_tokens=v or None))
        self.cuda_graphs.toggled.connect(lambda on: c.set_engine_settings(enforce_eager=not on))
        self.flashinfer_sampler.toggled.connect(lambda on: c.set_engine_settings(flashinfer_sampler=on))
        self.peer_to_peer.toggled.connect(lambda on: c.set_engine_settings(peer_to_peer=on))
        self.ubatch.valueChanged.connect(lambda v: c.set_engine_settings(n_ubatch=v))
        self.flash_attn.activated.connect(
            lambda i: c.set_engine_settings(flash_attn=FLASH_ATTN[self.flash_attn.itemText(i)])
        )
        self.gpu_layers.valueChanged.connect(lambda v: c.set_engine_settings(n_gpu_layers=None if v < 0 else v))
        self.tensor_split.editingFinished.connect(self._on_tensor_split_editing_finished)
        self.cpu_moe.valueChanged.connect(lambda v: c.set_engine_settings(n_cpu_moe=v))
        self.swa_full.toggled.connect(lambda on: c.set_engine_settings(swa_full=on))
        self.kv_unified.toggled.connect(lambda on: c.set_engine_settings(kv_unified=on))
        self.mem_fraction.valueChanged.connect(lambda v: c.set_engine_settings(mem_fraction_static=v or None))
        self.attention.activated.connect(
            lambda i: c.set_engine_settings(attn_implementation=self.attention.itemText(i))
        )
        self.cache.activated.connect(lambda i: c.set_engine_settings(cache_implementation=self.cache.itemText(i)))
        self.data_parallel.valueChanged.connect(lambda v: c.set_parallel(v, self.expert_parallel.isChecked()))
        self.expert_parallel.toggled.connect(lambda on: c.set_parallel(self.data_parallel.value(), on))
        self.nodes.valueChanged.connect(
            lambda n: c.set_parallel(self.data_parallel.value(), self.expert_parallel.isChecked(), n)
        )
        self.load.valueChanged.connect(lambda _: self._show_sizing(self.controller.result))
        self.draft.activated.connect(self._on_draft_activated)
        self.copy_button.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.launch.text()))

    def _show_versions(self, engine: Engine, version: str | None, analysis: Analysis) -> None:
        """The releases of the engine shown, the chosen one selected; hidden for engines modelled at one."""
        if engine is not self.versions_of:
            self.versions_of = engine
            self.version.clear()
            if engine is Engine.VLLM:
                self.version.addItem(f"newest ({vllm_rules(None).line})", None)
                for v in OFFERED:
                    self.version.addItem(f"{v} ({vllm_rules(v).line})", v)
            elif engine is Engine.SGLANG:
                self.version.addItem(f"newest ({'.'.join(map(str, sglang.NEWEST))})", None)
                for v in sglang.OFFERED:
                    self.version.addItem(f"{v}", v)
            elif engine is Engine.LLAMACPP:
                self.version.addItem(f"newest (b{llamacpp.NEWEST_BUILD})", None)
                for v in llamacpp.OFFERED:
                    self.version.addItem(v, v)
            self.version.setVisible(self.version.count() > 0)
        if version and self.version.findData(version) < 0:  # a release a log named, beyond the list
            rules = analysis.estimate.engine_details.get("engine_version")
            self.version.addItem(version if rules in (None, version) else f"{version} ({rules})", version)
        self.version.setCurrentIndex(max(0, self.version.findData(version)) if version else 0)

    def _show_page(self, index: int) -> None:
        """Only the shown page takes room: the panel is as tall as the chosen engine's settings."""
        pages = [p for p in (self.pages.widget(i) for i in range(self.pages.count())) if p is not None]
        for i, page in enumerate(pages):
            policy = QSizePolicy.Policy.Preferred if i == index else QSizePolicy.Policy.Ignored
            if page.sizePolicy().verticalPolicy() != policy:
                page.setSizePolicy(policy, policy)
        if index != self.pages.currentIndex():
            self.pages.setCurrentIndex(index)
            self.pages.adjustSize()

    def _show_sizing(self, analysis: Analysis) -> None:
        """How many replicas of the GPUs planned serve the load: solved once the controls rest (a few
        estimates per replica count), from each replica's own pool."""
        sequences = self.load.value()
        self.sizing.setVisible(bool(sequences))
        if not sequences or analysis.limits_pending:
            return
        context = f"sequences of {analysis.workload.context:,} tokens"
        try:
            sizing = replicas_for(analysis.model, analysis.workload, analysis.deployment, sequences)
        except ValueError as exc:  # a layout the core refuses: said, never raised into Qt
            self.sizing.setText(f"No sizing: {exc}")
            return
        if sizing is None:
            self.sizing.setText(f"No number of replicas holds {sequences:,} {context}")
            return
        group, replicas = analysis.deployment.replica_size, sizing.replicas
        plural = "s" if replicas != 1 else ""
        gpus = f"{group} GPU{'s' if group != 1 else ''}"
        self.sizing.setText(
            f"{sequences:,} {context}: {replicas:,} replica{plural} of {gpus} = {sizing.gpus:,} GPUs, "
            f"each replica holding {sizing.sequences_per_replica:,} of them"
        )

    def _on_draft_activated(self, index: int) -> None:
        preset = self.draft.itemData(index)
        self.controller.set_draft(load_preset(preset) if preset else None)

    def _on_tensor_split_editing_finished(self) -> None:
        text = self.tensor_split.text().strip()
        try:
            split = tuple(float(p) for p in text.split(",")) if text else ()
        except ValueError:
            self.controller.error_changed.emit(f"tensor split: '{text}' is not a list of numbers such as 3,1")
            return
        self.controller.set_engine_settings(tensor_split=split)

    def show_analysis(self, analysis: Analysis) -> None:
        settings: EngineSettings = analysis.deployment.settings
        engine = analysis.deployment.engine
        widgets = (
            self.engine_combo,
            self.version,
            self.gpu_util,
            self.max_seqs,
            self.batched_tokens,
            self.cuda_graphs,
            self.flashinfer_sampler,
            self.peer_to_peer,
            self.ubatch,
            self.flash_attn,
            self.gpu_layers,
            self.tensor_split,
            self.cpu_moe,
            self.swa_full,
            self.kv_unified,
            self.mem_fraction,
            self.attention,
            self.cache,
            self.draft,
            self.data_parallel,
            self.expert_parallel,
            self.nodes,
        )
        with signals_blocked(*widgets):
            self.parallel_row.setVisible(engine in PARALLEL_ENGINES)
            self.data_parallel.setValue(analysis.deployment.data_parallel)
            self.expert_parallel.setChecked(analysis.deployment.expert_parallel)
            self.nodes.setValue(analysis.deployment.nodes)
            self.engine_combo.setCurrentIndex(self.engine_combo.findData(engine.value))
            self._show_page(self.page_of[engine])
            self._show_versions(engine, settings.engine_version, analysis)
            util = analysis.estimate.engine_details.get("gpu_memory_utilization")
            self.gpu_util.setValue(settings.gpu_memory_utilization or (util if isinstance(util, float) else 0.9))
            self.max_seqs.setValue(settings.max_num_seqs or 0)
            self.batched_tokens.setValue(settings.max_num_batched_tokens or 0)
            self.cuda_graphs.setChecked(not settings.enforce_eager)
            self.flashinfer_sampler.setChecked(settings.flashinfer_sampler)
            self.peer_to_peer.setChecked(settings.peer_to_peer)
            self.ubatch.setValue(settings.n_ubatch)
            self.flash_attn.setCurrentText(next(k for k, v in FLASH_ATTN.items() if v == settings.flash_attn))
            self.gpu_layers.setValue(-1 if settings.n_gpu_layers is None else settings.n_gpu_layers)
            self.cpu_moe.setValue(settings.n_cpu_moe)
            self.swa_full.setChecked(settings.swa_full)
            self.kv_unified.setChecked(settings.kv_unified)
            if not self.tensor_split.hasFocus():
                self.tensor_split.setText(",".join(f"{p:g}" for p in settings.tensor_split))
            self.mem_fraction.setValue(settings.mem_fraction_static or 0.0)
            self.attention.setCurrentText(settings.attn_implementation)
            self.cache.setCurrentText(settings.cache_implementation)
            draft = analysis.deployment.draft
            self.draft.setCurrentIndex(max(0, self.draft.findData(find_preset(draft.name) if draft else "")))
        self._show_sizing(analysis)
        if self.launch.text() != analysis.launch_command:
            self.launch.setText(analysis.launch_command)
            self.launch.setCursorPosition(0)
            todo = analysis.launch_command.partition(COMMENT)[2]
            self.launch_todo.setText(f"Before you run it: {todo}" if todo else "")
            self.launch_todo.setVisible(bool(todo))
