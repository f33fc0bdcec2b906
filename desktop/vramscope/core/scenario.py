"""What is being asked: the model, the workload on it, and the GPUs it is deployed on."""

from enum import StrEnum
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, ValidationError, field_validator, model_validator

from vramscope.core.architecture import Architecture
from vramscope.core.inventory import TensorInventory
from vramscope.core.precision import kv_dtype, weight_format

MAX_CONTEXT = 10**9  # far past any model; keeps arithmetic and sliders sane
MAX_BATCH = 10**7
MAX_GPUS = 1024  # tensor x pipeline parallel: a bound on the per-rank loops
MIN_FRACTION = 0.01  # the smallest memory fraction planned (the window's spin boxes show two decimals)


def validation_message(exc: ValidationError) -> str:
    """'field: message' of the first error, which is what a person needs to fix."""
    first = exc.errors()[0]
    message = str(first["ctx"]["error"]) if first["type"] == "value_error" and "ctx" in first else first["msg"]
    where = ".".join(str(p) for p in first["loc"])
    return f"{where}: {message}" if where else message


def error_message(exc: ValueError) -> str:
    """One line for any refusal: a validation error's first complaint, else the error's own words."""
    return validation_message(exc) if isinstance(exc, ValidationError) else str(exc)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class Source(StrEnum):
    PRESET = "preset"
    CONFIG = "config"
    SAFETENSORS = "safetensors"
    GGUF = "gguf"
    HUB = "hub"
    CUSTOM = "custom"


class Release(_Frozen):
    """A published checkpoint of a model in one weight format (safetensors with its quantization_config)."""

    format: str  # a weight format name: awq-int4, fp8-block …
    repo: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")
    source: str  # where it is listed
    note: str = ""  # "of the Instruct model"


class GgufRelease(_Frozen):
    """A Hub repository of GGUF files, one per quantization type, which llama.cpp (-hf repo:Q4_K_M) and
    Ollama (hf.co/repo:Q4_K_M) download by type."""

    repo: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")
    quants: tuple[str, ...]  # as in its file names: Q4_K_M, Q8_0, BF16 …
    source: str
    note: str = ""


class OllamaTag(_Frozen):
    format: str  # a weight format name
    tag: str = Field(pattern=r"^[a-z0-9][a-z0-9._/-]*:[A-Za-z0-9._-]+$")


class OllamaLibrary(_Frozen):
    tags: tuple[OllamaTag, ...]
    source: str


class Checkpoints(_Frozen):
    """Where a model's weights are published, per format; what is not listed must be made."""

    releases: tuple[Release, ...] = ()
    gguf: GgufRelease | None = None
    ollama: OllamaLibrary | None = None


class ModelSpec(_Frozen):
    """A model as a reader found it: its architecture, native format and where the facts come from;
    with a file, the file's own tensors too (then the weights are exact to the byte)."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    name: str
    source: Source
    source_detail: str = ""  # "preset (config.json of meta-llama/Llama-3.1-8B)", a path …
    hf_id: str = ""
    path: str = ""  # the file or folder it was read from: what an engine's command points at
    family: str = ""
    architecture: Architecture
    native_format: str = "bf16"
    inventory: TensorInventory | None = None
    checkpoints: Checkpoints = Checkpoints()  # its published quantized copies (presets)
    mistral_format: bool = False  # it also ships Mistral's consolidated*.safetensors and params.json

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
    kv_dtype: str = "auto"  # auto: the engine's default for the model
    images: int = Field(default=0, ge=0, le=1000)  # images per sequence, for a model with a vision encoder

    @field_validator("weight_format")
    @classmethod
    def _known_format(cls, name: str | None) -> str | None:
        return None if name is None else weight_format(name).name  # raises ValueError naming the known ones

    @field_validator("kv_dtype")
    @classmethod
    def _known_kv_dtype(cls, name: str) -> str:
        return "auto" if name.strip().lower() == "auto" else kv_dtype(name).name


Backend = Literal["cuda", "rocm", "metal", "cpu"]


class GpuSpec(_Frozen):
    name: str
    capacity_bytes: int | None = Field(default=None, ge=0)  # what the estimate may use (free or total)
    total_bytes: int | None = Field(default=None, ge=0)
    held_bytes: int | None = Field(default=None, ge=0)  # what other processes and the driver hold of the total
    held_note: str = ""  # who holds it: processes with their PIDs, the driver's reserve
    bandwidth_bytes_per_s: float | None = Field(default=None, gt=0)
    bf16_flops: float | None = Field(default=None, gt=0)
    unified_memory: bool = False  # its memory is the host's RAM (Apple Silicon, an APU, GB10, the CPU itself)
    backend: Backend = "cuda"  # what the engine runs on (its overheads follow)
    # how CUDA_VISIBLE_DEVICES names a detected GPU: its NVML index (PCI bus order) or a MIG slice's UUID
    device: str | None = Field(default=None, max_length=100, pattern=r"^(\d{1,4}|MIG-[0-9A-Za-z/-]{1,90})$")


# A decode step on the CPU reaches about 60 GB/s of dual-channel DDR5's 80-90 GB/s peak (estimate); the
# user states their own (--ram-bandwidth) when it differs.
DEFAULT_HOST_BANDWIDTH_BYTES_PER_S = 60e9


class HostSpec(_Frozen):
    """System memory: where llama.cpp keeps the layers and experts left on the CPU and what Ollama falls
    back to. A capacity like a GPU's: a plan fits only when the host holds its part too."""

    capacity_bytes: int = Field(ge=0)  # what the plan may use: available memory, or what the user stated
    total_bytes: int | None = Field(default=None, ge=0)
    basis: str = ""  # why: "this machine's available memory (23.54 GiB in all)", "64 GiB as stated"
    bandwidth_bytes_per_s: float = Field(default=DEFAULT_HOST_BANDWIDTH_BYTES_PER_S, gt=0)  # achieved in decode
    bandwidth_basis: str = "60 GB/s, an estimate for dual-channel DDR5"


class Engine(StrEnum):
    TRANSFORMERS = "transformers"
    VLLM = "vllm"
    LLAMACPP = "llama.cpp"
    OLLAMA = "ollama"
    SGLANG = "sglang"


# the engines with data and expert parallel and a plan over nodes (the others run one server per machine)
PARALLEL_ENGINES = (Engine.VLLM, Engine.SGLANG)


class Calibration(_Frozen):
    """Figures measured on this machine (an engine's start-up log), used in place of a profile's defaults."""

    source: str  # "your vLLM log of 2026-12-01"
    activation_bytes: int | None = Field(default=None, ge=0)
    non_torch_bytes: int | None = Field(default=None, ge=0)
    cuda_graph_bytes: int | None = Field(default=None, ge=0)


class EngineSettings(_Frozen):
    """Each engine's own knobs; None means the engine's default (which may depend on the GPU).
    An engine reads only its own fields."""

    engine_version: str | None = Field(default=None, max_length=40)  # None: the newest the profile models
    # vLLM (vllm/config/cache.py, scheduler.py); None: the version's default (0.9, 0.92 from 0.20)
    gpu_memory_utilization: float | None = Field(default=None, ge=MIN_FRACTION, le=1)
    max_num_batched_tokens: int | None = Field(default=None, ge=1, le=MAX_CONTEXT)
    max_num_seqs: int | None = Field(default=None, ge=1, le=MAX_BATCH)
    block_size: int = Field(default=16, ge=1, le=65_536)
    enforce_eager: bool = False
    # FlashInfer's top-k/top-p sampler (installed: the Docker image, vllm[flashinfer]); V1 uses it by default
    # up to 0.11, from 0.12 with VLLM_USE_FLASHINFER_SAMPLER=1 (v1/sample/ops/topk_topp_sampler.py)
    flashinfer_sampler: bool = False
    # the GPUs reach each other directly (NVLink, PCIe P2P): else no custom all-reduce, and NCCL's buffers
    # are in host memory (custom_all_reduce.py: "your platform lacks GPU P2P capability")
    peer_to_peer: bool = True
    # llama.cpp and Ollama (common/arg.cpp): n_ctx and n_parallel come from the workload
    n_ubatch: int = Field(default=512, ge=1, le=65_536)
    flash_attn: bool | None = None  # None: llama.cpp's auto (on where supported), Ollama's default (off)
    n_gpu_layers: int | None = Field(default=None, ge=0, le=100_000)  # None: all (llama.cpp), as fits (Ollama)
    n_cpu_moe: int = Field(default=0, ge=0, le=100_000)  # --n-cpu-moe: the experts of the first N layers on the CPU
    swa_full: bool = False  # --swa-full: sliding-window layers keep the whole context
    kv_unified: bool = False  # one KV buffer shared by all slots (--kv-unified); else one stream per slot
    split_mode: Literal["layer", "none"] = "layer"
    tensor_split: tuple[float, ...] = ()  # proportions per GPU; empty: by free memory
    # SGLang (python/sglang/srt/server_args.py)
    mem_fraction_static: float | None = Field(default=None, gt=0, lt=1)
    # transformers
    attn_implementation: Literal["sdpa", "eager", "flash_attention_2"] = "sdpa"
    cache_implementation: Literal["dynamic", "static"] = "dynamic"
    calibration: Calibration | None = None  # measured on this machine; None: the profile's defaults

    @field_validator("tensor_split")
    @classmethod
    def _proportions(cls, split: tuple[float, ...]) -> tuple[float, ...]:
        if split and (any(not 0 <= p < 1e9 for p in split) or sum(split) <= 0):
            raise ValueError("tensor split needs non-negative proportions that do not all equal 0")
        return split


class Deployment(_Frozen):
    """GPUs and how the model is split over them. `gpus` empty = no capacity given;
    one entry = that GPU for every rank; else one entry per rank."""

    gpus: tuple[GpuSpec, ...] = ()
    host: HostSpec | None = None  # None: system memory not compared
    tensor_parallel: PositiveInt = Field(default=1, le=MAX_GPUS)
    pipeline_parallel: PositiveInt = Field(default=1, le=MAX_GPUS)
    # replicas of the tp x pp group, each with its own KV pool; vLLM and SGLang shard the routed experts over
    # all dp x tp ranks of a stage (FusedMoEParallelConfig.make: TP flattened across DP)
    data_parallel: PositiveInt = Field(default=1, le=MAX_GPUS)
    expert_parallel: bool = False  # whole experts per rank (--enable-expert-parallel) instead of slices of each
    nodes: PositiveInt = Field(default=1, le=MAX_GPUS)  # machines the ranks are spread over, in rank order
    engine: Engine = Engine.TRANSFORMERS
    settings: EngineSettings = EngineSettings()
    draft: ModelSpec | None = None  # a draft model for speculative decoding, at its own format

    @property
    def gpu_count(self) -> int:
        return self.tensor_parallel * self.pipeline_parallel * self.data_parallel

    @property
    def replica_size(self) -> int:
        """GPUs of one data-parallel replica: tp x pp."""
        return self.tensor_parallel * self.pipeline_parallel

    @property
    def gpus_per_node(self) -> int:
        return self.gpu_count // self.nodes

    def node_of(self, rank: int) -> int:
        return rank // self.gpus_per_node

    def replica(self, r: int) -> "Deployment":
        """Data-parallel replica r on its own GPUs, as one tp x pp deployment."""
        size = self.replica_size
        gpus = self.gpus[r * size : (r + 1) * size] if len(self.gpus) > 1 else self.gpus
        return Deployment.model_validate(
            {**dict(self), "gpus": gpus, "data_parallel": 1, "expert_parallel": False, "nodes": 1}
        )

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.gpu_count > MAX_GPUS:
            raise ValueError(f"{self.gpu_count:,} GPUs is beyond any deployment planned here (at most {MAX_GPUS:,})")
        if len(self.gpus) > 1 and len(self.gpus) != self.gpu_count:
            dp = f" x data parallel {self.data_parallel}" if self.data_parallel > 1 else ""
            raise ValueError(
                f"{len(self.gpus)} GPUs listed for tensor parallel {self.tensor_parallel} x pipeline "
                f"parallel {self.pipeline_parallel}{dp} = {self.gpu_count} ranks"
            )
        if self.gpu_count % self.nodes:
            raise ValueError(f"{self.gpu_count} ranks do not spread evenly over {self.nodes} nodes")
        return self

    def gpu(self, rank: int) -> GpuSpec | None:
        if not self.gpus:
            return None
        return self.gpus[0] if len(self.gpus) == 1 else self.gpus[rank]
