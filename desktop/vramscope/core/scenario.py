"""What is being asked: the model, the workload on it, and the GPUs it is deployed on."""

from enum import StrEnum
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, ValidationError, model_validator

from vramscope.core.architecture import Architecture
from vramscope.core.inventory import TensorInventory

MAX_CONTEXT = 10**9  # far past any model; keeps arithmetic and sliders sane
MAX_BATCH = 10**7


def validation_message(exc: ValidationError) -> str:
    """'field: message' of the first error, which is what a person needs to fix."""
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "value"
    return f"{where}: {first['msg']}"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class Source(StrEnum):
    PRESET = "preset"
    CONFIG = "config"
    SAFETENSORS = "safetensors"
    GGUF = "gguf"
    HUB = "hub"
    CUSTOM = "custom"


class ModelSpec(_Frozen):
    """A model as a reader found it: its architecture, native format and where the facts come from;
    with a file, the file's own tensors too (then the weights are exact to the byte)."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    name: str
    source: Source
    source_detail: str = ""  # "preset (config.json of meta-llama/Llama-3.1-8B)", a path …
    hf_id: str = ""
    family: str = ""
    architecture: Architecture
    native_format: str = "bf16"
    inventory: TensorInventory | None = None

    def parameter_count(self) -> int:
        return self.inventory.parameter_count() if self.inventory else self.architecture.parameter_count()

    def active_parameter_count(self) -> int:
        if self.inventory is None:
            return self.architecture.active_parameter_count()
        return max(0, self.inventory.parameter_count() - self.architecture.unused_expert_parameters())


class Workload(_Frozen):
    context: PositiveInt = Field(default=8192, le=MAX_CONTEXT)  # tokens per sequence
    batch: PositiveInt = Field(default=1, le=MAX_BATCH)  # concurrent sequences
    weight_format: str | None = None  # None: the model's own
    kv_dtype: str = "auto"  # auto: the model's 16-bit compute dtype


class GpuSpec(_Frozen):
    name: str
    capacity_bytes: int | None = Field(default=None, ge=0)  # what the estimate may use (free or total)
    total_bytes: int | None = Field(default=None, ge=0)
    bandwidth_bytes_per_s: float | None = Field(default=None, gt=0)
    bf16_flops: float | None = Field(default=None, gt=0)


class Engine(StrEnum):
    GENERIC = "generic"


class Deployment(_Frozen):
    """GPUs and how the model is split over them. `gpus` empty = no capacity given;
    one entry = that GPU for every rank; else one entry per rank."""

    gpus: tuple[GpuSpec, ...] = ()
    tensor_parallel: PositiveInt = Field(default=1, le=1024)
    pipeline_parallel: PositiveInt = Field(default=1, le=1024)
    engine: Engine = Engine.GENERIC

    @property
    def gpu_count(self) -> int:
        return self.tensor_parallel * self.pipeline_parallel

    @model_validator(mode="after")
    def _check(self) -> Self:
        if len(self.gpus) > 1 and len(self.gpus) != self.gpu_count:
            raise ValueError(
                f"{len(self.gpus)} GPUs listed for tensor parallel {self.tensor_parallel} x pipeline "
                f"parallel {self.pipeline_parallel} = {self.gpu_count} ranks"
            )
        return self

    def gpu(self, rank: int) -> GpuSpec | None:
        if not self.gpus:
            return None
        return self.gpus[0] if len(self.gpus) == 1 else self.gpus[rank]
