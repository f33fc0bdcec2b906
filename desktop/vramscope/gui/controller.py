"""The one state owner: the scenario being looked at and its analysis. Widgets are views of it."""

from typing import Any, NamedTuple

from pydantic import ValidationError
from PySide6.QtCore import QObject, QTimer, Signal

from vramscope.core.analysis import Analysis, analyse, with_limits
from vramscope.core.engines import engine_profile
from vramscope.core.precision import known_format
from vramscope.core.scenario import (
    MAX_GPUS,
    PARALLEL_ENGINES,
    Deployment,
    Engine,
    EngineSettings,
    GpuSpec,
    HostSpec,
    ModelSpec,
    Workload,
    validation_message,
)
from vramscope.core.units import Unit
from vramscope.hardware.probe import HardwareSnapshot

Result = Analysis  # what the window shows for one scenario
LIMITS_DELAY_MS = 40  # the largest context and batch are solved once a drag pauses: the bar moves every frame


class Scenario(NamedTuple):
    model: ModelSpec
    workload: Workload
    gpus: tuple[GpuSpec, ...]  # one per GPU used: the same catalog GPU n times, or the detected GPUs ticked
    engine: Engine
    settings: EngineSettings
    draft: ModelSpec | None = None  # speculative decoding
    host: HostSpec | None = None  # system memory to plan against (None: not compared)
    data_parallel: int = 1  # replicas the GPUs are split into (vLLM, SGLang); tensor parallel inside each
    expert_parallel: bool = False
    nodes: int = 1  # machines the GPUs are spread over, evenly

    def deployment(self) -> Deployment:
        replicas = self.data_parallel
        if len(self.gpus) % replicas:
            raise ValueError(f"{len(self.gpus)} GPUs do not split into {replicas} data-parallel replicas")
        return Deployment(
            gpus=self.gpus,
            host=self.host,
            tensor_parallel=len(self.gpus) // replicas,
            data_parallel=replicas,
            expert_parallel=self.expert_parallel,
            nodes=self.nodes,
            engine=self.engine,
            settings=self.settings,
            draft=self.draft,
        )


def _for_engine(engine: Engine, workload: Workload, settings: EngineSettings) -> tuple[Workload, list[str]]:
    """The workload with what the engine does not run set back to its default, and what was changed."""
    profile, notes = engine_profile(engine), []
    if workload.kv_dtype != "auto" and workload.kv_dtype not in profile.kv_dtypes():
        notes.append(f"{profile.label} has no {workload.kv_dtype} KV cache: its default is used")
        workload = workload.model_copy(update={"kv_dtype": "auto"})
    fmt = known_format(workload.weight_format)
    if fmt is not None and fmt.family.value not in profile.weight_families(settings):
        notes.append(f"{profile.label} does not run {fmt.label} weights: the model's own are used")
        workload = workload.model_copy(update={"weight_format": None})
    return workload, notes


class Controller(QObject):
    """Validates every change, recomputes, then emits. The limits (a few estimates each) follow a change
    once the controls rest for LIMITS_DELAY_MS, with a second estimate_changed.

    Signals:
        estimate_changed(Analysis): after any change of model, workload, GPUs or engine, and once its
            limits are known
        model_changed(ModelSpec): a new model was chosen
        hardware_changed(HardwareSnapshot): the probe returned
        error_changed(str): a rejected change ("" once a change is accepted)
        pinned_changed(object): a scenario was pinned to compare with (its Analysis), or unpinned (None)
    """

    estimate_changed = Signal(object)
    model_changed = Signal(object)
    hardware_changed = Signal(object)
    error_changed = Signal(str)
    pinned_changed = Signal(object)

    def __init__(self, model: ModelSpec, gpu: GpuSpec, parent: QObject | None = None) -> None:
        super().__init__(parent)
        workload = Workload(context=min(8192, model.architecture.max_context))
        self.scenario = Scenario(model, workload, (gpu,), Engine.TRANSFORMERS, EngineSettings())
        self.unit = Unit.GIB
        self.hardware: HardwareSnapshot | None = None
        self.pinned: Analysis | None = None  # a scenario kept to compare the live one with
        self.result = with_limits(self._compute(self.scenario))
        self._limits_timer = QTimer(self)
        self._limits_timer.setSingleShot(True)
        self._limits_timer.setInterval(LIMITS_DELAY_MS)
        self._limits_timer.timeout.connect(self.finish_limits)

    # read-only views of the scenario, for the widgets
    @property
    def model(self) -> ModelSpec:
        return self.scenario.model

    @property
    def workload(self) -> Workload:
        return self.scenario.workload

    @property
    def gpus(self) -> tuple[GpuSpec, ...]:
        return self.scenario.gpus

    @property
    def gpu(self) -> GpuSpec:
        return self.scenario.gpus[0]

    @property
    def gpu_count(self) -> int:
        return len(self.scenario.gpus)

    @property
    def mixed_gpus(self) -> bool:
        """Planning for GPUs that differ (detected ones): the count follows the GPUs chosen."""
        return len(set(self.scenario.gpus)) > 1

    @property
    def engine(self) -> Engine:
        return self.scenario.engine

    @property
    def settings(self) -> EngineSettings:
        return self.scenario.settings

    def deployment(self) -> Deployment:
        return self.scenario.deployment()

    @staticmethod
    def _compute(scenario: Scenario) -> Analysis:
        return analyse(scenario.model, scenario.workload, scenario.deployment(), limits=False)

    def finish_limits(self) -> None:
        """Solve the largest context and batch of the scenario shown, now."""
        self._limits_timer.stop()
        if self.result.limits_pending:
            self.result = with_limits(self.result)
            self.estimate_changed.emit(self.result)

    def _change(self, **changes: Any) -> bool:
        """Adopt a new scenario only if it computes; otherwise keep the old one and say why."""
        scenario = self.scenario._replace(**changes)
        try:
            result = self._compute(scenario)
        except ValueError as exc:  # a format, split or setting the core or the engine refuses
            self.error_changed.emit(validation_message(exc) if isinstance(exc, ValidationError) else str(exc))
            self.estimate_changed.emit(self.result)  # puts the widgets back on the scenario still shown
            return False
        except Exception as exc:  # a bug: the scenario shown stays the one computed, the details are logged
            from vramscope.crashlog import write_crash_log

            path = write_crash_log(exc, f"computing {scenario.model.name}")
            self.error_changed.emit(f"Internal error ({type(exc).__name__}); this change was undone. Details: {path}")
            self.estimate_changed.emit(self.result)
            return False
        old_model = self.scenario.model
        self.scenario, self.result = scenario, result
        if scenario.model is not old_model:
            self.model_changed.emit(scenario.model)
        self.error_changed.emit("")
        self.estimate_changed.emit(result)
        self._limits_timer.start()
        return True

    def set_model(self, model: ModelSpec) -> None:
        context = min(self.workload.context, model.architecture.max_context)
        workload = Workload.model_validate({**self.workload.model_dump(), "context": context})
        self._change(model=model, workload=workload)

    def set_workload(self, **changes: Any) -> None:
        try:
            workload = Workload.model_validate({**self.workload.model_dump(), **changes})
        except ValidationError as exc:
            self.error_changed.emit(validation_message(exc))
            return
        if workload != self.workload:
            self._change(workload=workload)

    def set_gpu(self, gpu: GpuSpec, count: int | None = None) -> None:
        """Plan for `count` GPUs of one kind (a catalog GPU, a custom size, one detected GPU)."""
        count = self.gpu_count if count is None or count < 1 else count
        if self.mixed_gpus and count == self.gpu_count and gpu not in self.gpus:
            count = 1  # leaving a mixed set of detected GPUs: start again from one
        self._change(gpus=(gpu,) * count)

    def set_gpus(self, gpus: tuple[GpuSpec, ...]) -> None:
        """Plan for these GPUs, one rank each (the detected GPUs the user ticked)."""
        if gpus and gpus != self.gpus:
            self._change(gpus=gpus)

    def set_gpu_count(self, count: int) -> None:
        if count == self.gpu_count or count < 1:
            return
        if count > MAX_GPUS:
            self.error_changed.emit(f"{count:,} GPUs is beyond any deployment planned here (at most {MAX_GPUS:,})")
            self.estimate_changed.emit(self.result)
            return
        if self.mixed_gpus:
            self.error_changed.emit("The GPU count follows the detected GPUs ticked in the GPU panel")
            self.estimate_changed.emit(self.result)
            return
        self._change(gpus=(self.gpu,) * count)

    def set_host(self, host: HostSpec | None) -> None:
        """The system memory to plan against: this machine's, or what the user states."""
        if host != self.scenario.host:
            self._change(host=host)

    @property
    def host(self) -> HostSpec | None:
        return self.scenario.host

    def set_engine(self, engine: Engine) -> None:
        """Switch engine; a KV dtype or weight format the new engine does not run falls back to its default,
        and the status bar says so, rather than the switch being refused."""
        if engine != self.engine:
            self.set_scenario(engine=engine)

    def set_scenario(
        self,
        *,
        model: ModelSpec | None = None,
        engine: Engine | None = None,
        gpus: tuple[GpuSpec, ...] | None = None,
        settings: dict[str, Any] | None = None,
        workload: dict[str, Any] | None = None,
    ) -> bool:
        """One change of several parts (a log, a way out, an engine switch), computed once and adopted whole
        or not at all: never a scenario half changed, nor one refused for the order its parts came in. The
        context stays within the model's; an engine that lacks the KV dtype or weight format takes its
        default and says so. True when adopted."""
        current = self.scenario
        model = model or current.model
        engine = engine or current.engine
        fields = {**current.workload.model_dump(), **(workload or {})}
        fields["context"] = min(int(fields["context"]), model.architecture.max_context)
        # a release number is one engine's: another starts at its newest
        base = (
            current.settings
            if engine == current.engine
            else current.settings.model_copy(update={"engine_version": None})
        )
        try:
            new_workload = Workload.model_validate(fields)
            new_settings = EngineSettings.model_validate({**base.model_dump(), **(settings or {})})
        except ValidationError as exc:
            self.error_changed.emit(validation_message(exc))
            return False
        new_workload, notes = _for_engine(engine, new_workload, new_settings)
        changes: dict[str, Any] = {"model": model, "engine": engine, "gpus": gpus or current.gpus}
        changes["settings"] = new_settings
        if engine not in PARALLEL_ENGINES and (
            current.data_parallel > 1 or current.expert_parallel or current.nodes > 1
        ):
            changes.update(data_parallel=1, expert_parallel=False, nodes=1)
            notes.append(f"{engine_profile(engine).label} has no data parallel or nodes: one server on all the GPUs")
        adopted = self._change(**changes, workload=new_workload)
        if adopted and notes:
            self.error_changed.emit("; ".join(notes))
        return adopted

    def set_parallel(self, data_parallel: int, expert_parallel: bool, nodes: int | None = None) -> None:
        """Split the GPUs into data-parallel replicas, with the experts shared out over all of them, and over
        nodes (machines)."""
        current = self.scenario
        nodes = current.nodes if nodes is None else max(1, nodes)
        if (data_parallel, expert_parallel, nodes) != (current.data_parallel, current.expert_parallel, current.nodes):
            self._change(data_parallel=max(1, data_parallel), expert_parallel=expert_parallel, nodes=nodes)

    def set_draft(self, draft: ModelSpec | None) -> None:
        """A draft model for speculative decoding, or None."""
        if draft is not self.scenario.draft:
            self._change(draft=draft)

    def set_engine_settings(self, **changes: Any) -> None:
        try:
            settings = EngineSettings.model_validate({**self.settings.model_dump(), **changes})
        except ValidationError as exc:
            self.error_changed.emit(validation_message(exc))
            return
        if settings != self.settings:
            self._change(settings=settings)

    def apply(self, change: dict[str, Any]) -> None:
        """A suggested change: workload fields, "settings" (engine settings), "engine", "gpu_count", "gpu" (a
        GpuSpec) or "model" (a ModelSpec)."""
        if "model" in change:
            self.set_scenario(model=change["model"])
        elif "settings" in change:
            self.set_scenario(settings=change["settings"])
        elif "engine" in change:
            self.set_scenario(engine=change["engine"])
        elif "gpu" in change:
            self.set_gpu(change["gpu"])
        elif "gpu_count" in change:
            self.set_gpu(self.gpu, change["gpu_count"])
        else:
            self.set_scenario(workload=change)
        self.finish_limits()

    def pin(self) -> None:
        """Keep the scenario on screen to compare what follows with it."""
        self.finish_limits()
        self.pinned = self.result
        self.pinned_changed.emit(self.pinned)

    def unpin(self) -> None:
        self.pinned = None
        self.pinned_changed.emit(None)

    def set_hardware(self, snapshot: HardwareSnapshot) -> None:
        self.hardware = snapshot
        self.hardware_changed.emit(snapshot)

    def set_unit(self, unit: Unit) -> None:
        self.unit = unit
        self.estimate_changed.emit(self.result)  # same numbers, other unit
