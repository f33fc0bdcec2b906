"""The one state owner: the scenario being looked at and its estimate. Widgets are views of it."""

from typing import Any, NamedTuple

from pydantic import ValidationError
from PySide6.QtCore import QObject, Signal

from vramscope.core.estimate import Estimate, estimate
from vramscope.core.scenario import Deployment, GpuSpec, ModelSpec, Workload, validation_message
from vramscope.core.solve import max_batch, max_context
from vramscope.core.speed import decode_tokens_per_s
from vramscope.core.units import Unit
from vramscope.hardware.probe import HardwareSnapshot


class Result(NamedTuple):
    """What the window shows for one scenario."""

    model: ModelSpec
    workload: Workload
    deployment: Deployment
    estimate: Estimate
    max_context: int | None
    max_batch: int | None
    decode_tokens_per_s: float | None


class Controller(QObject):
    """Validates every change, recomputes, then emits.

    Signals:
        estimate_changed(Result): after any change of model, workload or GPUs
        model_changed(ModelSpec): a new model was chosen
        hardware_changed(HardwareSnapshot): the probe returned
        error_changed(str): a rejected change ("" once a change is accepted)
    """

    estimate_changed = Signal(object)
    model_changed = Signal(object)
    hardware_changed = Signal(object)
    error_changed = Signal(str)

    def __init__(self, model: ModelSpec, gpu: GpuSpec, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.workload = Workload(context=min(8192, model.architecture.max_context))
        self.gpu = gpu
        self.gpu_count = 1
        self.unit = Unit.GIB
        self.hardware: HardwareSnapshot | None = None
        self.result = self._compute()

    def deployment(self) -> Deployment:
        return Deployment(gpus=(self.gpu,), tensor_parallel=self.gpu_count)

    def _compute(self) -> Result:
        deployment = self.deployment()
        est = estimate(self.model, self.workload, deployment)
        return Result(
            self.model,
            self.workload,
            deployment,
            est,
            max_context(self.model, self.workload, deployment),
            max_batch(self.model, self.workload, deployment),
            decode_tokens_per_s(self.model, est, deployment),
        )

    def _change(self, model: ModelSpec, workload: Workload, gpu: GpuSpec, gpu_count: int) -> None:
        """Adopt a new scenario only if it computes; otherwise keep the old one and say why."""
        old = (self.model, self.workload, self.gpu, self.gpu_count)
        self.model, self.workload, self.gpu, self.gpu_count = model, workload, gpu, gpu_count
        try:
            result = self._compute()
        except ValueError as exc:  # a format or split the core refuses (pydantic errors included)
            self.model, self.workload, self.gpu, self.gpu_count = old
            self.error_changed.emit(validation_message(exc) if isinstance(exc, ValidationError) else str(exc))
            self.estimate_changed.emit(self.result)  # puts the widgets back on the scenario still shown
            return
        self.result = result
        if model is not old[0]:
            self.model_changed.emit(model)
        self.error_changed.emit("")
        self.estimate_changed.emit(result)

    def set_model(self, model: ModelSpec) -> None:
        context = min(self.workload.context, model.architecture.max_context)
        workload = Workload.model_validate({**self.workload.model_dump(), "context": context})
        self._change(model, workload, self.gpu, self.gpu_count)

    def set_workload(self, **changes: Any) -> None:
        try:
            workload = Workload.model_validate({**self.workload.model_dump(), **changes})
        except ValidationError as exc:
            self.error_changed.emit(validation_message(exc))
            return
        if workload != self.workload:
            self._change(self.model, workload, self.gpu, self.gpu_count)

    def set_gpu(self, gpu: GpuSpec, count: int | None = None) -> None:
        self._change(self.model, self.workload, gpu, self.gpu_count if count is None else max(1, count))

    def set_gpu_count(self, count: int) -> None:
        if count != self.gpu_count and count >= 1:
            self._change(self.model, self.workload, self.gpu, count)

    def set_hardware(self, snapshot: HardwareSnapshot) -> None:
        self.hardware = snapshot
        self.hardware_changed.emit(snapshot)

    def set_unit(self, unit: Unit) -> None:
        self.unit = unit
        self.estimate_changed.emit(self.result)  # same numbers, other unit
