"""System memory as a capacity: this machine's, the one the user states, a unified-memory machine's own."""

import psutil
import pytest

from vramscope.core.units import GIB
from vramscope.hardware import host
from vramscope.hardware.catalog import find_gpu, metal_working_set


@pytest.mark.real_host
def test_the_default_host_is_this_machines_available_memory() -> None:
    found = host.detect_host()
    memory = psutil.virtual_memory()
    assert found is not None
    assert found.total_bytes == memory.total
    assert abs(found.capacity_bytes - memory.available) < 0.05 * memory.total  # memory moves between the calls
    assert found.basis.startswith("this machine's available memory")


def test_a_stated_host_carries_its_bandwidth() -> None:
    stated = host.stated_host(64, bandwidth_gbps=100)
    assert stated.capacity_bytes == 64 * GIB and stated.basis == "64 GiB as stated"
    assert stated.bandwidth_bytes_per_s == 100e9
    assert host.stated_host(16).bandwidth_basis == "60 GB/s, an estimate for dual-channel DDR5"


def test_macs_plan_the_gpu_against_macos_working_set() -> None:
    # reference/probing.md: 16 GB -> 10.9 GB (2/3), 64 GB -> 48 GiB, 192 GB -> 144 GB (3/4)
    assert metal_working_set(16 * GIB) == 16 * GIB * 2 // 3
    assert metal_working_set(64 * GIB) == 48 * GIB
    ultra = find_gpu("apple-m2-ultra-192gb")
    assert ultra is not None and ultra.spec().capacity_bytes == 144 * GIB
    assert ultra.spec().backend == "metal"
    rtx = find_gpu("rtx-4090")
    assert rtx is not None and rtx.spec().backend == "cuda" and not rtx.spec().unified_memory
