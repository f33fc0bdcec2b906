"""What memory this machine has for a model: NVIDIA GPUs through NVML, AMD through sysfs, Apple unified
memory, else system RAM. Never raises: every failure becomes a status and a message a user can act on.

`pynvml` (from nvidia-ml-py) is imported inside the probe, so importing this module stays cheap and
tests can put a fake in sys.modules.
"""

import contextlib
import os
import platform
import re
import subprocess
import sys
import warnings
from enum import StrEnum
from pathlib import Path
from types import ModuleType
from typing import Any

from pydantic import BaseModel, ConfigDict

from vramscope.core.scenario import Backend, GpuSpec
from vramscope.core.units import format_bytes
from vramscope.hardware.catalog import find_gpu, metal_working_set

_NOT_AVAILABLE = 2**64 - 1  # NVML_VALUE_NOT_AVAILABLE_ulonglong
MAX_GPU_MEMORY_BYTES = 2**44  # 16 TiB: past any GPU; NVML_VALUE_NOT_AVAILABLE_ULL and worse are no reading
_UNIFIED_NAMES = re.compile(r"GB10|Jetson|Orin|Thor", re.IGNORECASE)
# AMD's integrated GPUs (Strix Halo's 8060S, the 780M …): their memory is a BIOS carve-out of the RAM plus GTT
_AMD_APU_NAMES = re.compile(r"Radeon\s*(\d{3,4}[MS]\b|Graphics|Vega)", re.IGNORECASE)


class ProbeStatus(StrEnum):
    OK = "ok"
    NO_BINDINGS = "no_bindings"  # nvidia-ml-py not installed
    NO_DRIVER = "no_driver"
    DRIVER_NOT_LOADED = "driver_not_loaded"
    VERSION_MISMATCH = "version_mismatch"
    NO_PERMISSION = "no_permission"
    NO_GPU = "no_gpu"
    ERROR = "error"


class DeviceKind(StrEnum):
    NVIDIA = "nvidia"
    MIG = "nvidia-mig"
    AMD = "amd"
    APPLE = "apple"
    SYSTEM = "system"  # CPU / system memory


_BACKENDS: dict[DeviceKind, Backend] = {DeviceKind.APPLE: "metal", DeviceKind.SYSTEM: "cpu", DeviceKind.AMD: "rocm"}


class GpuProcess(BaseModel):
    model_config = ConfigDict(frozen=True)

    pid: int
    used_bytes: int | None
    name: str | None = None

    def describe(self) -> str:
        """'python3 (PID 4242) 3.00 GiB'."""
        used = f" {format_bytes(self.used_bytes)}" if self.used_bytes is not None else ""
        return f"{self.name or 'process'} (PID {self.pid}){used}"


class Device(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: DeviceKind
    index: int
    name: str
    total_bytes: int | None = None
    used_bytes: int | None = None
    free_bytes: int | None = None
    reserved_bytes: int | None = None  # driver/firmware reserve (NVML memory v2 only)
    uuid: str | None = None
    bus_id: str | None = None
    compute_capability: str | None = None
    memory_bus_bits: int | None = None
    max_memory_clock_mhz: int | None = None
    bandwidth_bytes_per_s: float | None = None
    bandwidth_source: str | None = None  # catalog | derived
    bf16_flops: float | None = None
    catalog_id: str | None = None
    mig_enabled: bool = False
    parent_index: int | None = None  # MIG slices: the physical GPU
    processes: tuple[GpuProcess, ...] = ()
    healthy: bool = True
    unified_memory: bool = False
    notes: tuple[str, ...] = ()

    def capacity_bytes(self, use_free: bool = True) -> int | None:
        """What an estimate may plan against: free memory by default (other processes' memory is gone)."""
        if use_free and self.free_bytes is not None:
            return self.free_bytes
        return self.total_bytes

    def memory_summary(self) -> str:
        """'total 23.99 GiB, used by others 0.47 GiB, free 23.52 GiB' with what is known."""
        parts = [f"total {format_bytes(self.total_bytes or 0)}"]
        if self.used_bytes is not None:
            parts.append(f"used by others {format_bytes(self.used_bytes)}")
        if self.free_bytes is not None:
            parts.append(f"free {format_bytes(self.free_bytes)}")
        return ", ".join(parts)

    def held_bytes(self) -> int | None:
        """What is not free of the total: other processes, the desktop, the driver's reserve."""
        if self.total_bytes is None or self.free_bytes is None:
            return None
        return max(0, self.total_bytes - self.free_bytes)

    def held_note(self) -> str:
        parts = [p.describe() for p in self.processes]
        if self.reserved_bytes:
            parts.append(f"driver reserve {format_bytes(self.reserved_bytes)}")
        return "; ".join(parts) if parts else "other processes and the driver"

    def gpu_spec(self, use_free: bool = True) -> GpuSpec:
        held = self.held_bytes() if use_free else None
        return GpuSpec(
            unified_memory=self.unified_memory or self.kind is DeviceKind.SYSTEM,
            backend=_BACKENDS.get(self.kind, "cuda"),
            name=self.name,
            capacity_bytes=self.capacity_bytes(use_free),
            total_bytes=self.total_bytes,
            held_bytes=held,
            held_note=self.held_note() if held else "",
            bandwidth_bytes_per_s=self.bandwidth_bytes_per_s,
            bf16_flops=self.bf16_flops,
            device=self.cuda_name(),
        )

    def cuda_name(self) -> str | None:
        """What CUDA_VISIBLE_DEVICES calls it: the NVML index, a MIG slice by its UUID; None off CUDA."""
        if self.kind is DeviceKind.NVIDIA:
            return str(self.index)
        if self.kind is DeviceKind.MIG and self.uuid and self.uuid.startswith("MIG-") and len(self.uuid) <= 100:
            return self.uuid
        return None


class HardwareSnapshot(BaseModel):
    model_config = ConfigDict(frozen=True)

    status: ProbeStatus
    message: str
    devices: tuple[Device, ...] = ()
    driver_version: str | None = None
    cuda_version: str | None = None
    host: Device | None = None  # the system memory, read whatever the GPUs (the host is a capacity too)

    def usable_gpus(self) -> tuple[Device, ...]:
        """Healthy accelerators with known memory (MIG slices instead of their parents)."""
        with_slices = {d.parent_index for d in self.devices if d.kind is DeviceKind.MIG}
        return tuple(
            d
            for d in self.devices
            if d.healthy
            and d.kind is not DeviceKind.SYSTEM
            and d.total_bytes
            and not (d.kind is DeviceKind.NVIDIA and d.index in with_slices)
        )


_ENGINE_PROCESSES = (  # how inference engines appear in a process list
    ("vllm", "vLLM"),
    ("sglang", "SGLang"),
    ("llama-server", "llama.cpp"),
    ("llama_server", "Ollama"),
    ("ollama", "Ollama"),
    ("llama-cli", "llama.cpp"),
    ("python", "a Python process (PyTorch)"),
)


def engine_of(process: GpuProcess) -> str | None:
    """The engine a GPU process looks like, by its name; None for anything else."""
    name = (process.name or "").lower()
    return next((engine for key, engine in _ENGINE_PROCESSES if key in name), None)


def running_engines(snapshot: HardwareSnapshot) -> list[tuple[Device, GpuProcess, str]]:
    """(GPU, process, engine) for every process on a GPU that looks like an inference engine."""
    return [
        (d, p, engine)
        for d in snapshot.devices
        for p in d.processes
        if (engine := engine_of(p)) is not None and p.used_bytes
    ]


_INIT_MESSAGES = {
    "NVMLError_LibraryNotFound": (
        ProbeStatus.NO_DRIVER,
        "No NVIDIA driver found (NVML library missing). Install "
        "the NVIDIA driver, or start the container with GPU access (--gpus all).",
    ),
    "NVMLError_DriverNotLoaded": (
        ProbeStatus.DRIVER_NOT_LOADED,
        "The NVIDIA driver is installed but not loaded: reboot, or load the kernel module.",
    ),
    "NVMLError_LibRmVersionMismatch": (
        ProbeStatus.VERSION_MISMATCH,
        "NVIDIA driver version mismatch: the driver "
        "was updated but the old kernel module still runs. Reboot after a driver update.",
    ),
    "NVMLError_NoPermission": (
        ProbeStatus.NO_PERMISSION,
        "Not permitted to query the NVIDIA driver: check access to /dev/nvidia* (user groups, container options).",
    ),
}


PROBE_TIMEOUT_S = 15.0  # nvmlInit has no time limit of its own: a wedged driver would hang for ever


def probe_with_timeout(timeout: float = PROBE_TIMEOUT_S) -> HardwareSnapshot:
    """probe() in a daemon thread that is abandoned if the driver does not answer in time."""
    import threading

    answer: list[HardwareSnapshot] = []
    worker = threading.Thread(target=lambda: answer.append(probe()), name="vramscope-probe", daemon=True)
    worker.start()
    worker.join(timeout)
    if answer:
        return answer[0]
    ram = system_memory_device()
    return HardwareSnapshot(
        status=ProbeStatus.ERROR,
        message=f"The NVIDIA driver did not answer within {timeout:g} s (a wedged driver or GPU): "
        "check nvidia-smi and the system log. Falling back to system memory.",
        devices=(ram,) if ram else (),
        host=ram,
    )


def probe(sysfs: Path = Path("/sys"), meminfo: Path = Path("/proc/meminfo")) -> HardwareSnapshot:
    """Detect the devices of this machine and its system memory. Never raises."""
    snapshot = _probe_devices(sysfs, meminfo)
    try:
        host = system_memory_device(meminfo)
    except Exception:  # an odd reading leaves the host unknown, not the GPUs
        host = None
    return HardwareSnapshot.model_validate({**dict(snapshot), "host": host})


def _probe_devices(sysfs: Path, meminfo: Path) -> HardwareSnapshot:
    try:
        nvidia = _probe_nvidia()
    except Exception as exc:  # a broken binding must not take the app down
        nvidia = HardwareSnapshot(status=ProbeStatus.ERROR, message=f"NVIDIA query failed: {exc}")
    if nvidia.usable_gpus() or (nvidia.status is ProbeStatus.OK and nvidia.devices):
        return nvidia
    try:
        return _fallbacks(nvidia, sysfs, meminfo)
    except Exception as exc:  # an odd sysfs or RAM reading must not leave the window waiting
        return HardwareSnapshot(
            status=nvidia.status, message=f"{nvidia.message} Other detection failed: {exc}", devices=nvidia.devices
        )


def _fallbacks(nvidia: HardwareSnapshot, sysfs: Path, meminfo: Path) -> HardwareSnapshot:
    """AMD, Apple, then system RAM, when NVML found nothing usable."""
    others = _probe_amd(sysfs) or _probe_apple()
    if others and others[0].kind is DeviceKind.APPLE:  # a Mac has no NVIDIA driver to install: no advice of it
        return HardwareSnapshot(
            status=ProbeStatus.OK, message="Apple Silicon GPU (unified memory) detected.", devices=others
        )
    if others:
        return HardwareSnapshot(
            status=nvidia.status, message=f"{nvidia.message} Using the GPUs found otherwise.", devices=others
        )
    ram = system_memory_device(meminfo)
    return HardwareSnapshot(
        status=nvidia.status,
        message=f"{nvidia.message} Falling back to system memory (CPU inference).",
        devices=(*nvidia.devices, ram) if ram else nvidia.devices,
    )


def _import_pynvml() -> ModuleType | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the deprecated `pynvml` shim warns on import
            import pynvml  # type: ignore[import-untyped]
    except ImportError:
        return None
    module: ModuleType = pynvml
    return module


def _probe_nvidia() -> HardwareSnapshot:
    nvml = _import_pynvml()
    if nvml is None:
        return HardwareSnapshot(
            status=ProbeStatus.NO_BINDINGS,
            message="NVIDIA detection unavailable: the nvidia-ml-py package is not installed.",
        )
    try:
        nvml.nvmlInit()
    except nvml.NVMLError as exc:
        status, message = _INIT_MESSAGES.get(type(exc).__name__, (ProbeStatus.ERROR, f"NVML failed to start: {exc}"))
        return HardwareSnapshot(status=status, message=message)
    try:
        driver = _call(nvml, nvml.nvmlSystemGetDriverVersion)
        cuda = _call(nvml, nvml.nvmlSystemGetCudaDriverVersion)
        cuda_text = f"{cuda // 1000}.{cuda % 1000 // 10}" if isinstance(cuda, int) else None
        count = nvml.nvmlDeviceGetCount()
        devices: list[Device] = []
        for i in range(count):
            devices.extend(_nvidia_device(nvml, i))
        if not devices:
            return HardwareSnapshot(
                status=ProbeStatus.NO_GPU,
                message="The NVIDIA driver reports no GPU.",
                driver_version=driver,
                cuda_version=cuda_text,
            )
        lost = [d for d in devices if not d.healthy]
        message = f"{count} NVIDIA GPU{'s' if count != 1 else ''} detected (driver {driver}, CUDA {cuda_text})."
        if lost:
            message += " " + " ".join(n for d in lost for n in d.notes)
        return HardwareSnapshot(
            status=ProbeStatus.OK,
            message=message,
            devices=tuple(devices),
            driver_version=driver,
            cuda_version=cuda_text,
        )
    except nvml.NVMLError as exc:
        return HardwareSnapshot(status=ProbeStatus.ERROR, message=f"NVIDIA query failed: {exc}")
    finally:
        with contextlib.suppress(nvml.NVMLError):
            nvml.nvmlShutdown()


def _call(nvml: ModuleType, fn: Any, *args: Any) -> Any:
    """A per-field query: NotSupported, NoPermission or an old driver leave the field empty."""
    try:
        return fn(*args)
    except (nvml.NVMLError, getattr(nvml, "NVMLLibraryMismatchError", nvml.NVMLError)):
        return None


_V1_FALLBACK = ("FunctionNotFound", "ArgumentVersionMismatch", "NotSupported", "InvalidArgument")


def _memory(nvml: ModuleType, handle: Any) -> tuple[Any, bool]:
    """NVML memory info v2 (reserved separate) where the driver has it, else v1: an old driver answers the
    v2 call with FunctionNotFound, ArgumentVersionMismatch, NotSupported or InvalidArgument."""
    try:
        return nvml.nvmlDeviceGetMemoryInfo(handle, version=nvml.nvmlMemory_v2), True
    except (TypeError, AttributeError):  # bindings without the version argument or the v2 constant
        return nvml.nvmlDeviceGetMemoryInfo(handle), False
    except nvml.NVMLError as exc:
        if type(exc).__name__.removeprefix("NVMLError_") not in _V1_FALLBACK:
            raise
        return nvml.nvmlDeviceGetMemoryInfo(handle), False


def _unusable(i: int, name: str, exc: Exception) -> list[Device]:
    """A GPU NVML cannot answer for: shown with its reason, while the others stay usable."""
    kind = type(exc).__name__.removeprefix("NVMLError_")
    if kind in ("GpuIsLost", "Unknown", "Timeout"):
        why = f"is not responding ({exc}) and was left out: check the system log, reboot."
    elif kind == "NoPermission":
        why = "cannot be queried: not permitted (check access to its /dev/nvidia* device)."
    elif kind == "InsufficientPower":
        why = "reports insufficient power: check its power cables."
    else:
        why = f"could not be queried ({exc}) and was left out."
    return [Device(kind=DeviceKind.NVIDIA, index=i, name=name, healthy=False, notes=(f"GPU {i} ({name}) {why}",))]


def _nvidia_device(nvml: ModuleType, i: int) -> list[Device]:
    name = f"GPU {i}"
    try:
        handle = nvml.nvmlDeviceGetHandleByIndex(i)
        name = str(nvml.nvmlDeviceGetName(handle))
        return _query_device(nvml, handle, i, name)
    except nvml.NVMLError as exc:
        return _unusable(i, name, exc)


def _query_device(nvml: ModuleType, handle: Any, i: int, name: str) -> list[Device]:
    fields: dict[str, Any] = {"kind": DeviceKind.NVIDIA, "index": i, "name": name}
    notes: list[str] = []
    try:
        mem, v2 = _memory(nvml, handle)
        if not 0 < int(mem.total or 0) <= MAX_GPU_MEMORY_BYTES:  # 0, or NVML's "not available" (2^64 - 1)
            raise nvml.NVMLError_NotSupported()
        total = int(mem.total)
        free = min(max(0, int(mem.free)), total)  # a driver's odd reading must not give negative memory
        fields.update(total_bytes=total, used_bytes=min(max(0, int(mem.used)), total), free_bytes=free)
        if v2:
            fields["reserved_bytes"] = min(max(0, int(mem.reserved)), total)
    except nvml.NVMLError_NotSupported:
        if _UNIFIED_NAMES.search(name):
            ram = system_memory_device(Path("/proc/meminfo"))
            fields.update(unified_memory=True)
            if ram is not None:
                fields.update(total_bytes=ram.total_bytes, free_bytes=ram.free_bytes, used_bytes=ram.used_bytes)
            notes.append("NVML reports no memory for this unified-memory GPU: system RAM is used instead.")
        else:
            notes.append("NVML does not report this GPU's memory.")
    except nvml.NVMLError_NoPermission:
        notes.append("Not permitted to read this GPU's memory.")
    fields["uuid"] = _call(nvml, nvml.nvmlDeviceGetUUID, handle)
    pci = _call(nvml, nvml.nvmlDeviceGetPciInfo, handle)
    fields["bus_id"] = str(pci.busId) if pci is not None else None
    cc = _call(nvml, nvml.nvmlDeviceGetCudaComputeCapability, handle)
    fields["compute_capability"] = f"{cc[0]}.{cc[1]}" if cc else None
    bus = _call(nvml, nvml.nvmlDeviceGetMemoryBusWidth, handle)
    clock = _call(nvml, nvml.nvmlDeviceGetMaxClockInfo, handle, nvml.NVML_CLOCK_MEM)
    fields.update(memory_bus_bits=bus or None, max_memory_clock_mhz=clock or None)
    fields.update(_bandwidth(name, bus, clock))
    fields["processes"] = _processes(nvml, handle)
    mig = _call(nvml, nvml.nvmlDeviceGetMigMode, handle)
    fields["mig_enabled"] = bool(mig) and mig[0] == nvml.NVML_DEVICE_MIG_ENABLE
    fields["notes"] = tuple(notes)
    device = Device(**fields)
    return [device, *(_mig_slices(nvml, handle, device) if device.mig_enabled else [])]


def _bandwidth(name: str, bus_bits: int | None, clock_mhz: int | None) -> dict[str, Any]:
    known = find_gpu(name)
    if known is not None:
        return {
            "bandwidth_bytes_per_s": known.bandwidth_gbps * 1e9,
            "bandwidth_source": "catalog",
            "catalog_id": known.id,
            "bf16_flops": known.bf16_tflops * 1e12 if known.bf16_tflops else None,
        }
    if bus_bits and clock_mhz:
        # bus bytes x max memory clock x 2 (double data rate)
        return {"bandwidth_bytes_per_s": bus_bits / 8 * clock_mhz * 1e6 * 2, "bandwidth_source": "derived"}
    return {}


def _processes(nvml: ModuleType, handle: Any) -> tuple[GpuProcess, ...]:
    procs = _call(nvml, nvml.nvmlDeviceGetComputeRunningProcesses, handle)
    if procs is None and hasattr(nvml, "nvmlDeviceGetComputeRunningProcesses_v2"):
        procs = _call(nvml, nvml.nvmlDeviceGetComputeRunningProcesses_v2, handle)
    out = []
    for p in procs or ():
        used = p.usedGpuMemory
        pid = int(p.pid)
        out.append(
            GpuProcess(
                pid=pid, used_bytes=None if used in (None, _NOT_AVAILABLE) else int(used), name=_process_name(pid)
            )
        )
    return tuple(out)


def _process_name(pid: int) -> str | None:
    """The name of a process NVML lists; None where it ended or belongs to another container or user."""
    try:
        import psutil  # type: ignore[import-untyped]

        return str(psutil.Process(pid).name())
    except Exception:  # gone, not permitted, or no psutil: the PID alone still says something
        return None


def _mig_slices(nvml: ModuleType, handle: Any, parent: Device) -> list[Device]:
    slices = []
    for k in range(_call(nvml, nvml.nvmlDeviceGetMaxMigDeviceCount, handle) or 0):
        try:
            mig = nvml.nvmlDeviceGetMigDeviceHandleByIndex(handle, k)
        except nvml.NVMLError:
            continue  # an empty slot
        mem = _call(nvml, nvml.nvmlDeviceGetMemoryInfo, mig)
        slices.append(
            Device(
                kind=DeviceKind.MIG,
                index=parent.index * 100 + k,
                parent_index=parent.index,
                name=f"{parent.name} MIG {_call(nvml, nvml.nvmlDeviceGetName, mig) or k}",
                uuid=_call(nvml, nvml.nvmlDeviceGetUUID, mig),
                total_bytes=int(mem.total) if mem else None,
                used_bytes=int(mem.used) if mem else None,
                free_bytes=int(mem.free) if mem else None,
                bandwidth_bytes_per_s=parent.bandwidth_bytes_per_s,
                bandwidth_source=parent.bandwidth_source,
            )
        )
    return slices


def _probe_amd(sysfs: Path) -> tuple[Device, ...]:
    devices: list[Device] = []
    drm = sysfs / "class" / "drm"
    cards = sorted(p for p in drm.glob("card*") if re.fullmatch(r"card\d+", p.name)) if drm.is_dir() else []
    for card in cards:
        dev = card / "device"
        try:
            if _read(dev / "vendor") != "0x1002":
                continue
            total = int(_read(dev / "mem_info_vram_total"))
            used = int(_read(dev / "mem_info_vram_used"))
        except (OSError, ValueError):
            continue
        name = _safe_read(dev / "product_name") or f"AMD GPU ({_safe_read(dev / 'device') or card.name})"
        known = find_gpu(name)
        apu = bool(_AMD_APU_NAMES.search(name))
        notes: tuple[str, ...] = ()
        if apu:
            gtt = _safe_read(dev / "mem_info_gtt_total")
            gtt_note = f"; GTT {format_bytes(int(gtt))}" if gtt and gtt.isdigit() else ""
            notes = (
                f"Integrated GPU: planned against the BIOS carve-out of {format_bytes(total)} (what ROCm reports as "
                f"its memory){gtt_note}. Engines that allocate from GTT can use more: set --gpu-memory to plan so.",
            )
        devices.append(
            Device(
                kind=DeviceKind.AMD,
                index=len(devices),
                name=name,
                total_bytes=total,
                used_bytes=used,
                free_bytes=max(0, total - used),
                catalog_id=known.id if known else None,
                bandwidth_bytes_per_s=known.bandwidth_gbps * 1e9 if known else None,
                bandwidth_source="catalog" if known else None,
                unified_memory=apu,
                notes=notes,
            )
        )
    return tuple(devices)


def _read(path: Path) -> str:
    return path.read_text(encoding="ascii", errors="replace").strip()


def _safe_read(path: Path) -> str | None:
    try:
        return _read(path)
    except OSError:
        return None


def _probe_apple() -> tuple[Device, ...]:
    if sys.platform != "darwin" or platform.machine() != "arm64":
        return ()
    total = _sysctl_int("hw.memsize")
    if not total:
        return ()
    wired_mb = _sysctl_int("iogpu.wired_limit_mb")
    if wired_mb:
        limit, note = wired_mb * 2**20, "GPU limit from iogpu.wired_limit_mb."
    else:
        limit = metal_working_set(total)
        note = (
            "Estimate: macOS lets the GPU use about 2/3 (≤ 32 GiB) or 3/4 of RAM by default; "
            "`sudo sysctl iogpu.wired_limit_mb=N` raises it."
        )
    return (
        Device(
            kind=DeviceKind.APPLE,
            index=0,
            name="Apple Silicon (unified memory)",
            total_bytes=limit,
            unified_memory=True,
            notes=(note, f"Total RAM {total / 2**30:.0f} GiB."),
        ),
    )


def _sysctl_int(key: str) -> int | None:
    try:
        out = subprocess.run(["sysctl", "-n", key], capture_output=True, text=True, timeout=2, check=False)
        return int(out.stdout.strip())
    except (OSError, ValueError, subprocess.SubprocessError):
        return None


def system_memory_device(meminfo: Path = Path("/proc/meminfo")) -> Device | None:
    """System RAM as a device, for CPU inference: psutil, else /proc/meminfo."""
    total = available = None
    try:
        import psutil

        vm = psutil.virtual_memory()
        total, available = int(vm.total), int(vm.available)
    except Exception:  # no psutil, or psutil cannot read this system: /proc/meminfo
        try:
            fields = dict(line.split(":", 1) for line in meminfo.read_text().splitlines() if ":" in line)
            total = int(fields["MemTotal"].split()[0]) * 1024
            available = int(fields["MemAvailable"].split()[0]) * 1024
        except (OSError, KeyError, ValueError, IndexError):
            return None
    return Device(
        kind=DeviceKind.SYSTEM,
        index=0,
        name="CPU / system memory",
        total_bytes=total,
        free_bytes=available,
        used_bytes=total - available if available is not None else None,
        notes=(f"{os.cpu_count() or 1} CPU cores; decode speed on the CPU is not estimated.",),
    )
