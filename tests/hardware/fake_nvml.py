"""A fake `pynvml` module with the names the probe uses, driven by plain dicts."""

import types
from typing import Any

ERRORS = (
    "Uninitialized",
    "InvalidArgument",
    "NotSupported",
    "NoPermission",
    "NotFound",
    "InsufficientPower",
    "DriverNotLoaded",
    "Timeout",
    "LibraryNotFound",
    "FunctionNotFound",
    "GpuIsLost",
    "LibRmVersionMismatch",
    "ArgumentVersionMismatch",
    "Unknown",
)


def make_fake_pynvml(
    devices: list[dict[str, Any]],
    init_error: str | None = None,
    v1_only: bool = False,
    fail: dict[str, tuple[str, int | None]] | None = None,
) -> types.ModuleType:
    """`fail` makes a call raise: {"nvmlDeviceGetName": ("NotFound", 1)} fails it for device 1 (None: all)."""
    m = types.ModuleType("pynvml")

    class NVMLError(Exception):
        value = 999

        def __str__(self) -> str:
            return type(self).__name__.removeprefix("NVMLError_")

    m.NVMLError = NVMLError  # type: ignore[attr-defined]
    for name in ERRORS:
        setattr(m, f"NVMLError_{name}", type(f"NVMLError_{name}", (NVMLError,), {}))
    m.NVMLLibraryMismatchError = type("NVMLLibraryMismatchError", (Exception,), {})  # type: ignore[attr-defined]
    m.nvmlMemory_v2, m.NVML_CLOCK_MEM, m.NVML_DEVICE_MIG_ENABLE = 0x02000028, 2, 1  # type: ignore[attr-defined]
    state = {"init": 0}

    def err(name: str) -> Exception:
        return getattr(m, f"NVMLError_{name}")()  # type: ignore[no-any-return]

    def nvmlInit() -> None:
        if init_error:
            raise err(init_error)
        state["init"] += 1

    def nvmlShutdown() -> None:
        state["init"] -= 1

    def dev(h: Any) -> dict[str, Any]:
        if h.get("lost"):
            raise err("GpuIsLost")
        return h

    def field(h: Any, key: str) -> Any:
        value = dev(h).get(key)
        if value is None:
            raise err("NotSupported")
        return value

    def memory(h: Any, version: int = 0) -> types.SimpleNamespace:
        d = dev(h)
        if version and v1_only:
            raise err("FunctionNotFound")
        if d.get("memory") is None:
            raise err("NotSupported")
        total, used, reserved = d["memory"]
        if version:
            return types.SimpleNamespace(
                version=version, total=total, reserved=reserved, used=used, free=total - used - reserved
            )
        return types.SimpleNamespace(total=total, used=used + reserved, free=total - used - reserved)

    def handle(i: int) -> dict[str, Any]:
        d = devices[i]
        if d.get("lost_handle"):
            raise err("GpuIsLost")
        return d

    def mig_handle(h: dict[str, Any], k: int) -> dict[str, Any]:
        slices = h.get("mig_slices", [])
        if k >= len(slices):
            raise err("NotFound") if hasattr(m, "NVMLError_NotFound") else err("Unknown")
        return slices[k]  # type: ignore[no-any-return]

    m.__dict__.update(
        nvmlInit=nvmlInit,
        nvmlShutdown=nvmlShutdown,
        nvmlSystemGetDriverVersion=lambda: "550.54.15",
        nvmlSystemGetCudaDriverVersion=lambda: 12040,
        nvmlDeviceGetCount=lambda: len(devices),
        nvmlDeviceGetHandleByIndex=handle,
        nvmlDeviceGetName=lambda h: field(h, "name"),
        nvmlDeviceGetUUID=lambda h: field(h, "uuid"),
        nvmlDeviceGetPciInfo=lambda h: types.SimpleNamespace(busId=field(h, "bus")),
        nvmlDeviceGetMemoryInfo=memory,
        nvmlDeviceGetCudaComputeCapability=lambda h: field(h, "cc"),
        nvmlDeviceGetMemoryBusWidth=lambda h: field(h, "bus_bits"),
        nvmlDeviceGetMaxClockInfo=lambda h, kind: field(h, "mem_clock"),
        nvmlDeviceGetMigMode=lambda h: [1, 1] if dev(h).get("mig_slices") else [0, 0],
        nvmlDeviceGetMaxMigDeviceCount=lambda h: 7,
        nvmlDeviceGetMigDeviceHandleByIndex=mig_handle,
        nvmlDeviceGetComputeRunningProcesses=lambda h: [
            types.SimpleNamespace(pid=pid, usedGpuMemory=used) for pid, used in dev(h).get("processes", [])
        ],
        state=state,
    )
    for call, (error, index) in (fail or {}).items():
        original = getattr(m, call)

        def failing(*args: Any, _original: Any = original, _error: str = error, _index: int | None = index) -> Any:
            target = args[0] if args else None  # a device index, or the device's dict as its handle
            if _index is None or target == _index or target is devices[_index]:
                raise err(_error)
            return _original(*args)

        setattr(m, call, failing)
    return m


H100 = {
    "name": "NVIDIA H100 80GB HBM3",
    "uuid": "GPU-aaaa",
    "bus": "00000000:18:00.0",
    "cc": (9, 0),
    "bus_bits": 5120,
    "mem_clock": 2619,
    "memory": (85_520_809_984, 2 * 2**30, 541_065_216),
}
RTX4090 = {
    "name": "NVIDIA GeForce RTX 4090",
    "uuid": "GPU-bbbb",
    "bus": "00000000:01:00.0",
    "cc": (8, 9),
    "bus_bits": 384,
    "mem_clock": 10501,
    "memory": (25_757_220_864, 480 * 2**20, 0),
}
RTX3060 = {
    "name": "NVIDIA GeForce RTX 3060",
    "uuid": "GPU-cccc",
    "bus": "00000000:02:00.0",
    "cc": (8, 6),
    "bus_bits": 192,
    "mem_clock": 7501,
    "memory": (12_884_901_888, 300 * 2**20, 0),
}
