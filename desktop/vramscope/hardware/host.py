"""System memory as a capacity to plan against: this machine's, the one the user states, a unified-memory
machine's own."""

from vramscope.core.scenario import HostSpec
from vramscope.core.units import GIB, format_bytes
from vramscope.hardware.probe import system_memory_device


def detect_host() -> HostSpec | None:
    """Available memory (psutil's `available`: what programs can take without swapping), not the total:
    what other programs hold is no more free for a model than another process's GPU memory is."""
    ram = system_memory_device()
    if ram is None or ram.total_bytes is None:
        return None
    available = ram.free_bytes if ram.free_bytes is not None else ram.total_bytes
    return HostSpec(
        capacity_bytes=available,
        total_bytes=ram.total_bytes,
        basis=f"available memory of this machine ({format_bytes(available)} of {format_bytes(ram.total_bytes)})",
    )


def stated_host(gib: float, bandwidth_gbps: float | None = None, total_bytes: int | None = None) -> HostSpec:
    """System memory the user states (--ram, the GPU panel's field)."""
    fields: dict[str, object] = {
        "capacity_bytes": round(gib * GIB),
        "total_bytes": total_bytes,
        "basis": f"{gib:g} GiB as stated",
    }
    if bandwidth_gbps is not None:
        fields |= {
            "bandwidth_bytes_per_s": bandwidth_gbps * 1e9,
            "bandwidth_basis": f"{bandwidth_gbps:g} GB/s as stated",
        }
    return HostSpec.model_validate(fields)


def unified_host(name: str, ram_bytes: int, bandwidth_bytes_per_s: float | None) -> HostSpec:
    """A unified-memory machine the user picked from the catalog: its own RAM is the host, whole."""
    fields: dict[str, object] = {
        "capacity_bytes": ram_bytes,
        "total_bytes": ram_bytes,
        "basis": f"the {format_bytes(ram_bytes)} of {name}, shared by its GPU and CPU",
    }
    if bandwidth_bytes_per_s:
        fields |= {"bandwidth_bytes_per_s": bandwidth_bytes_per_s * 0.7, "bandwidth_basis": "its unified memory"}
    return HostSpec.model_validate(fields)
