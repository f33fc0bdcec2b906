"""System memory as a capacity to plan against: this machine's, the one the user states, a unified-memory
machine's own."""

from vramscope.core.scenario import HostSpec
from vramscope.core.speed import MEMORY_BANDWIDTH_UTILIZATION
from vramscope.core.units import GIB, format_bytes
from vramscope.hardware.probe import Device, system_memory_device


def detect_host() -> HostSpec | None:
    """This machine's system memory, read now."""
    return host_of(system_memory_device())


def host_of(ram: Device | None) -> HostSpec | None:
    """Available memory (psutil's `available`: what programs can take without swapping), not the total:
    what other programs hold is no more free for a model than another process's GPU memory is."""
    if ram is None or ram.total_bytes is None:
        return None
    available = ram.free_bytes if ram.free_bytes is not None else ram.total_bytes
    return HostSpec(
        capacity_bytes=available,
        total_bytes=ram.total_bytes,
        basis=f"this machine's available memory ({format_bytes(ram.total_bytes)} in all)",
    )


def stated_host(gib: float, bandwidth_gbps: float | None = None) -> HostSpec:
    """System memory the user states (--ram, the GPU panel's field)."""
    host = HostSpec(capacity_bytes=round(gib * GIB), basis=f"{gib:g} GiB as stated")
    return host if bandwidth_gbps is None else with_bandwidth(host, bandwidth_gbps)


def with_bandwidth(host: HostSpec, gbps: float) -> HostSpec:
    """The host with the bandwidth the user states (--ram-bandwidth, the GPU panel's field)."""
    changes = {"bandwidth_bytes_per_s": gbps * 1e9, "bandwidth_basis": f"{gbps:g} GB/s as stated"}
    return HostSpec.model_validate({**host.model_dump(), **changes})


def unified_host(name: str, ram_bytes: int, bandwidth_bytes_per_s: float | None) -> HostSpec:
    """A unified-memory machine the user picked from the catalog: its own RAM is the host, whole."""
    fields: dict[str, object] = {
        "capacity_bytes": ram_bytes,
        "total_bytes": ram_bytes,
        "basis": f"the {format_bytes(ram_bytes)} of {name}, shared by its GPU and CPU",
    }
    if bandwidth_bytes_per_s:
        # the CPU reaches about the share of the peak that decode kernels do (an estimate)
        achieved = bandwidth_bytes_per_s * MEMORY_BANDWIDTH_UTILIZATION
        fields |= {"bandwidth_bytes_per_s": achieved, "bandwidth_basis": f"{achieved / 1e9:,.0f} GB/s of its memory"}
    return HostSpec.model_validate(fields)
