"""Every NVML error class at every call site: the probe never raises, one failing GPU is shown with its
reason and the others stay usable."""

import sys
from pathlib import Path

import pytest

from tests.fixtures.fake_nvml import ERRORS, H100, RTX4090, make_fake_pynvml
from vramscope.hardware.probe import ProbeStatus, probe

PER_DEVICE_CALLS = (
    "nvmlDeviceGetHandleByIndex",
    "nvmlDeviceGetName",
    "nvmlDeviceGetMemoryInfo",
    "nvmlDeviceGetUUID",
    "nvmlDeviceGetPciInfo",
    "nvmlDeviceGetCudaComputeCapability",
    "nvmlDeviceGetMemoryBusWidth",
    "nvmlDeviceGetMaxClockInfo",
    "nvmlDeviceGetMigMode",
    "nvmlDeviceGetComputeRunningProcesses",
)
SYSTEM_CALLS = ("nvmlInit", "nvmlSystemGetDriverVersion", "nvmlSystemGetCudaDriverVersion", "nvmlDeviceGetCount")
NO_SYSFS = Path("/nonexistent-sysfs")


@pytest.mark.parametrize("error", ERRORS)
@pytest.mark.parametrize("call", PER_DEVICE_CALLS)
def test_one_gpu_failing_leaves_the_other_usable(monkeypatch: pytest.MonkeyPatch, call: str, error: str) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", make_fake_pynvml([H100, RTX4090], fail={call: (error, 1)}))
    snapshot = probe(sysfs=NO_SYSFS)
    assert snapshot.status is ProbeStatus.OK
    usable = snapshot.usable_gpus()
    assert usable and usable[0].name == "NVIDIA H100 80GB HBM3"
    assert usable[0].free_bytes == H100["memory"][0] - H100["memory"][1] - H100["memory"][2]
    second = next(d for d in snapshot.devices if d.index == 1)
    if not second.healthy:
        assert second.notes and "GPU 1" in second.notes[0]


@pytest.mark.parametrize("error", ERRORS)
@pytest.mark.parametrize("call", SYSTEM_CALLS)
def test_a_failing_driver_is_a_status(monkeypatch: pytest.MonkeyPatch, call: str, error: str) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", make_fake_pynvml([RTX4090], fail={call: (error, None)}))
    snapshot = probe(sysfs=NO_SYSFS)
    assert snapshot.message  # never raises; says something


@pytest.mark.parametrize("error", ["ArgumentVersionMismatch", "NotSupported", "FunctionNotFound", "InvalidArgument"])
def test_memory_v2_refused_falls_back_to_v1(monkeypatch: pytest.MonkeyPatch, error: str) -> None:
    fake = make_fake_pynvml([RTX4090])
    v1 = fake.nvmlDeviceGetMemoryInfo

    def v2_refused(handle: object, version: int = 0) -> object:
        if version:
            raise getattr(fake, f"NVMLError_{error}")()
        return v1(handle)

    fake.nvmlDeviceGetMemoryInfo = v2_refused
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    gpu = probe(sysfs=NO_SYSFS).usable_gpus()[0]
    assert gpu.total_bytes == RTX4090["memory"][0] and gpu.reserved_bytes is None


def test_free_memory_below_zero_is_clamped(monkeypatch: pytest.MonkeyPatch) -> None:
    odd = {**RTX4090, "memory": (RTX4090["memory"][0], RTX4090["memory"][0] + 2**30, 0)}
    monkeypatch.setitem(sys.modules, "pynvml", make_fake_pynvml([odd]))
    device = probe(sysfs=NO_SYSFS).devices[0]
    assert device.free_bytes == 0
    assert device.gpu_spec().capacity_bytes == 0


@pytest.mark.parametrize("total", [2**64 - 1, 2**50])
def test_nvmls_not_available_total_is_no_reading(monkeypatch: pytest.MonkeyPatch, total: int) -> None:
    odd = {**RTX4090, "memory": (total, 0, 0)}
    monkeypatch.setitem(sys.modules, "pynvml", make_fake_pynvml([odd]))
    snapshot = probe(sysfs=NO_SYSFS)
    device = snapshot.devices[0]
    assert device.total_bytes is None and "does not report this GPU's memory" in " ".join(device.notes)
    assert not snapshot.usable_gpus()  # never planned as 16 EiB


def test_a_driver_that_never_answers_is_abandoned(monkeypatch: pytest.MonkeyPatch) -> None:
    import threading
    import time

    from vramscope.hardware.probe import probe_with_timeout

    fake = make_fake_pynvml([RTX4090])
    release = threading.Event()
    fake.nvmlInit = lambda: release.wait(30)  # a wedged driver
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    start = time.monotonic()
    snapshot = probe_with_timeout(timeout=0.5)
    release.set()
    assert time.monotonic() - start < 5
    assert snapshot.status is ProbeStatus.ERROR and "did not answer within 0.5 s" in snapshot.message
