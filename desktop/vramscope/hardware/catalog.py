"""The GPU catalog (resources/gpus.json): memory as the driver reports it, bandwidth, FLOPS."""

import difflib
import json
from functools import lru_cache

from pydantic import BaseModel, ConfigDict

from vramscope.core.scenario import GpuSpec
from vramscope.resources import resources_dir


class CatalogGpu(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    id: str
    name: str
    vendor: str
    category: str
    memory_bytes: int
    memory_basis: str
    bandwidth_gbps: float
    bf16_tflops: float | None = None
    fp8_tflops: float | None = None
    reported_names: tuple[str, ...] = ()
    unified_memory: bool = False
    source: str = ""

    @property
    def apple(self) -> bool:
        return self.category == "apple-silicon"

    @property
    def gpu_memory_bytes(self) -> int:
        """What the GPU may use: a Mac's GPU gets macOS's working set of the RAM, not all of it."""
        return metal_working_set(self.memory_bytes) if self.apple else self.memory_bytes

    def spec(self, capacity_bytes: int | None = None) -> GpuSpec:
        return GpuSpec(
            name=self.name,
            capacity_bytes=self.gpu_memory_bytes if capacity_bytes is None else capacity_bytes,
            total_bytes=self.gpu_memory_bytes,
            bandwidth_bytes_per_s=self.bandwidth_gbps * 1e9,
            bf16_flops=self.bf16_tflops * 1e12 if self.bf16_tflops else None,
            unified_memory=self.unified_memory,
            backend="metal" if self.apple else "rocm" if self.vendor.lower() == "amd" else "cuda",
        )


def metal_working_set(ram_bytes: int) -> int:
    """macOS's default GPU working set (recommendedMaxWorkingSetSize): about 2/3 of RAM up to 32 GiB, 3/4
    above (reference/probing.md, Apple Silicon: 16 GB -> 10.9 GB, 64 GB -> 48 GiB, 192 GB -> 144 GB);
    `sudo sysctl iogpu.wired_limit_mb=N` raises it."""
    return ram_bytes * 2 // 3 if ram_bytes <= 32 * 2**30 else ram_bytes * 3 // 4


@lru_cache(maxsize=1)
def catalog() -> tuple[CatalogGpu, ...]:
    doc = json.loads((resources_dir() / "gpus.json").read_text(encoding="utf-8"))
    return tuple(CatalogGpu.model_validate(g) for g in doc["gpus"])


@lru_cache(maxsize=1)
def catalog_gpus() -> tuple[GpuSpec, ...]:
    """The catalog as GPUs to plan for: what a 'bigger GPU' way out chooses from."""
    return tuple(g.spec() for g in catalog())


def _normalise(name: str) -> str:
    return " ".join(name.lower().replace("nvidia", "").replace("geforce", "").replace("-", " ").split())


def find_gpu(name: str) -> CatalogGpu | None:
    """A catalog GPU by id, name or the name a driver reports ('NVIDIA GeForce RTX 4090', 'rtx-4090')."""
    key = _normalise(name)
    for gpu in catalog():
        names = (gpu.id, gpu.name, *gpu.reported_names)
        if any(_normalise(n) == key for n in names):
            return gpu
    for gpu in catalog():  # a bare id without vendor: "rtx-4090", "h100-sxm"
        if _normalise(gpu.id.split("-", 1)[1]) == key:
            return gpu
    return None


def unknown_gpu_message(name: str) -> str:
    ids = [g.id for g in catalog()]
    close = difflib.get_close_matches(name.lower(), ids, n=3, cutoff=0.4)
    hint = f" — did you mean {', '.join(close)}?" if close else " — `vramscope gpus` lists the catalog"
    return f"unknown GPU '{name}'{hint}"
