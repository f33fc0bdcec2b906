import json
import sys
from pathlib import Path

import pytest

from tests.fixtures.fake_nvml import H100, RTX4090, make_fake_pynvml
from vramscope.cli import main
from vramscope.hardware.probe import DeviceKind, ProbeStatus, probe

NO_SYSFS = Path("/nonexistent-sysfs")


@pytest.fixture
def no_psutil(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psutil", None)


def use(monkeypatch: pytest.MonkeyPatch, module: object) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", module)


def meminfo(tmp_path: Path, total_kb: int = 32_000_000, available_kb: int = 20_000_000) -> Path:
    path = tmp_path / "meminfo"
    path.write_text(f"MemTotal: {total_kb} kB\nMemFree: 1000 kB\nMemAvailable: {available_kb} kB\n")
    return path


def test_two_gpus_with_v2_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = make_fake_pynvml([H100, {**RTX4090, "processes": [(4242, 3 * 2**30), (7, None)]}])
    use(monkeypatch, fake)
    snap = probe(sysfs=NO_SYSFS)
    assert snap.status is ProbeStatus.OK
    assert snap.driver_version == "550.54.15" and snap.cuda_version == "12.4"
    h100, rtx = snap.devices
    assert h100.total_bytes == 85_520_809_984
    assert h100.reserved_bytes == 541_065_216
    assert h100.free_bytes == 85_520_809_984 - 2 * 2**30 - 541_065_216
    assert h100.compute_capability == "9.0" and h100.bus_id == "00000000:18:00.0"
    assert h100.bandwidth_source == "catalog" and h100.bandwidth_bytes_per_s == 3350e9
    assert [(p.pid, p.used_bytes) for p in rtx.processes] == [(4242, 3 * 2**30), (7, None)]
    assert fake.state["init"] == 0  # every init is shut down


def test_capacity_defaults_to_free_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    use(monkeypatch, make_fake_pynvml([RTX4090]))
    gpu = probe(sysfs=NO_SYSFS).devices[0]
    assert gpu.gpu_spec().capacity_bytes == 25_757_220_864 - 480 * 2**20
    assert gpu.gpu_spec(use_free=False).capacity_bytes == 25_757_220_864


def test_unknown_card_bandwidth_is_derived(monkeypatch: pytest.MonkeyPatch) -> None:
    use(monkeypatch, make_fake_pynvml([{**RTX4090, "name": "NVIDIA Mystery Card"}]))
    gpu = probe(sysfs=NO_SYSFS).devices[0]
    assert gpu.bandwidth_source == "derived"
    assert gpu.bandwidth_bytes_per_s == pytest.approx(384 / 8 * 10501e6 * 2)  # 1008 GB/s


def test_v1_only_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    use(monkeypatch, make_fake_pynvml([H100], v1_only=True))
    gpu = probe(sysfs=NO_SYSFS).devices[0]
    assert gpu.reserved_bytes is None
    assert gpu.used_bytes == 2 * 2**30 + 541_065_216  # v1 counts the reserve as used


def test_one_lost_gpu_does_not_hide_the_other(monkeypatch: pytest.MonkeyPatch) -> None:
    use(monkeypatch, make_fake_pynvml([{**H100, "lost": True}, RTX4090]))
    snap = probe(sysfs=NO_SYSFS)
    assert snap.status is ProbeStatus.OK
    lost, rtx = snap.devices
    assert not lost.healthy and "not responding" in snap.message
    assert snap.usable_gpus() == (rtx,)


def test_not_supported_fields_stay_empty(monkeypatch: pytest.MonkeyPatch) -> None:
    use(monkeypatch, make_fake_pynvml([{**RTX4090, "cc": None, "bus": None, "uuid": None}]))
    gpu = probe(sysfs=NO_SYSFS).devices[0]
    assert gpu.compute_capability is None and gpu.bus_id is None and gpu.total_bytes == 25_757_220_864


def test_mig_slices_are_their_own_devices(monkeypatch: pytest.MonkeyPatch) -> None:
    slices = [{"name": "1g.10gb", "uuid": f"MIG-{k}", "memory": (10 * 2**30, 0, 0)} for k in range(3)]
    use(monkeypatch, make_fake_pynvml([{**H100, "mig_slices": slices}]))
    snap = probe(sysfs=NO_SYSFS)
    assert snap.devices[0].mig_enabled
    usable = snap.usable_gpus()
    assert [d.kind for d in usable] == [DeviceKind.MIG] * 3
    assert usable[0].total_bytes == 10 * 2**30 and usable[0].uuid == "MIG-0"


def test_unified_memory_gpu_uses_system_ram(monkeypatch: pytest.MonkeyPatch) -> None:
    use(monkeypatch, make_fake_pynvml([{"name": "NVIDIA GB10", "memory": None, "cc": (12, 1)}]))
    gpu = probe(sysfs=NO_SYSFS).devices[0]
    assert gpu.unified_memory and gpu.total_bytes and "system RAM" in gpu.notes[0]


@pytest.mark.parametrize(
    ("error", "status", "words"),
    [
        ("LibraryNotFound", ProbeStatus.NO_DRIVER, "No NVIDIA driver"),
        ("DriverNotLoaded", ProbeStatus.DRIVER_NOT_LOADED, "not loaded"),
        ("LibRmVersionMismatch", ProbeStatus.VERSION_MISMATCH, "Reboot after a driver update"),
        ("NoPermission", ProbeStatus.NO_PERMISSION, "Not permitted"),
    ],
)
def test_init_failures_fall_back_to_system_memory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, no_psutil: None, error: str, status: ProbeStatus, words: str
) -> None:
    use(monkeypatch, make_fake_pynvml([], init_error=error))
    snap = probe(sysfs=NO_SYSFS, meminfo=meminfo(tmp_path))
    assert snap.status is status and words in snap.message
    (ram,) = snap.devices
    assert ram.kind is DeviceKind.SYSTEM
    assert ram.total_bytes == 32_000_000 * 1024 and ram.free_bytes == 20_000_000 * 1024


def test_no_bindings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    use(monkeypatch, None)
    snap = probe(sysfs=NO_SYSFS, meminfo=meminfo(tmp_path))
    assert snap.status is ProbeStatus.NO_BINDINGS and "nvidia-ml-py" in snap.message


def test_amd_sysfs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    use(monkeypatch, make_fake_pynvml([], init_error="LibraryNotFound"))
    card = tmp_path / "class" / "drm" / "card0" / "device"
    card.mkdir(parents=True)
    (tmp_path / "class" / "drm" / "card0-DP-1").mkdir()
    (card / "vendor").write_text("0x1002\n")
    (card / "mem_info_vram_total").write_text(f"{24 * 2**30}\n")
    (card / "mem_info_vram_used").write_text(f"{2**30}\n")
    (card / "product_name").write_text("AMD Radeon RX 7900 XTX\n")
    snap = probe(sysfs=tmp_path)
    (gpu,) = snap.devices
    assert gpu.kind is DeviceKind.AMD and gpu.free_bytes == 23 * 2**30
    assert gpu.catalog_id == "amd-rx-7900-xtx" and gpu.bandwidth_bytes_per_s == 960e9
    assert not gpu.unified_memory and gpu.gpu_spec().backend == "rocm"


def test_an_amd_apu_says_which_of_carve_out_and_gtt_is_planned(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    use(monkeypatch, make_fake_pynvml([], init_error="LibraryNotFound"))
    card = tmp_path / "class" / "drm" / "card0" / "device"
    card.mkdir(parents=True)
    (card / "vendor").write_text("0x1002\n")
    (card / "mem_info_vram_total").write_text(f"{96 * 2**30}\n")
    (card / "mem_info_vram_used").write_text(f"{2**30}\n")
    (card / "mem_info_gtt_total").write_text(f"{16 * 2**30}\n")
    (card / "product_name").write_text("AMD Radeon 8060S\n")
    (gpu, *_) = probe(sysfs=tmp_path).devices
    assert gpu.unified_memory and gpu.gpu_spec().unified_memory
    assert "planned against the BIOS carve-out of 96.00 GiB" in gpu.notes[0] and "GTT 16.00 GiB" in gpu.notes[0]


def test_probe_command_always_exits_0(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    use(monkeypatch, make_fake_pynvml([], init_error="DriverNotLoaded"))
    assert main(["probe", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["status"] == "driver_not_loaded"


def test_estimate_gpu_auto_uses_detected_free_memory(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use(monkeypatch, make_fake_pynvml([RTX4090]))
    assert main(["estimate", "llama-3.1-8b", "--gpu", "auto", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["capacity_bytes"] == 25_757_220_864 - 480 * 2**20
    assert doc["per_gpu"][0]["name"] == "NVIDIA GeForce RTX 4090"


@pytest.mark.gpu
def test_real_driver() -> None:
    snap = probe()
    if snap.status is not ProbeStatus.OK:
        pytest.skip(f"no NVIDIA driver here: {snap.message}")
    assert snap.usable_gpus()


def test_a_mac_plans_against_the_working_set_with_no_nvidia_advice(monkeypatch: pytest.MonkeyPatch) -> None:
    import vramscope.hardware.probe as probe_module

    use(monkeypatch, make_fake_pynvml([], init_error="LibraryNotFound"))
    monkeypatch.setattr(probe_module.sys, "platform", "darwin")
    monkeypatch.setattr(probe_module.platform, "machine", lambda: "arm64")
    monkeypatch.setattr(probe_module, "_sysctl_int", lambda key: 64 * 2**30 if key == "hw.memsize" else None)
    snap = probe(sysfs=Path("/nonexistent-sysfs"))
    (mac,) = snap.devices
    assert "NVIDIA" not in snap.message and snap.status is ProbeStatus.OK
    assert mac.total_bytes == 48 * 2**30  # macOS's default: 3/4 of 64 GiB (reference/probing.md)
    spec = mac.gpu_spec()
    assert spec.backend == "metal" and spec.unified_memory
