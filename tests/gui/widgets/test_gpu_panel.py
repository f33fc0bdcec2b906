"""The GPUs of this machine as the window plans for them: every detected GPU, each against its own free
memory, what others hold drawn first, mixed cards split the way each engine splits them."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot

from tests.fixtures.fake_nvml import H100, RTX3060, RTX4090, make_fake_pynvml
from vramscope.cli import main
from vramscope.core.estimate import SegmentKind
from vramscope.core.scenario import Engine
from vramscope.core.units import GIB
from vramscope.gui.app import build_window
from vramscope.gui.main_window import MainWindow
from vramscope.hardware.probe import HardwareSnapshot, probe
from vramscope.sources.presets import load_preset

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

BUSY_4090 = {**RTX4090, "memory": (RTX4090["memory"][0], 3 * 2**30, 0), "processes": [(4242, 3 * 2**30)]}
WORKSTATION = [BUSY_4090, RTX3060]
NO_SYSFS = Path("/nonexistent-sysfs")


def snapshot(monkeypatch: pytest.MonkeyPatch, devices: list[dict[str, object]]) -> HardwareSnapshot:
    monkeypatch.setitem(sys.modules, "pynvml", make_fake_pynvml(devices))
    return probe(sysfs=NO_SYSFS)


@pytest.fixture
def workstation(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> MainWindow:
    w = build_window(probe=lambda: snapshot(monkeypatch, WORKSTATION))
    qtbot.addWidget(w)
    w.hardware.finish(snapshot(monkeypatch, WORKSTATION))
    return w


def choose_engine(w: MainWindow, engine: Engine) -> None:
    combo = w.engine_panel.engine_combo
    combo.setCurrentIndex(combo.findData(engine.value))
    combo.activated.emit(combo.currentIndex())


def test_opens_planning_for_every_detected_gpu_at_its_own_free_memory(workstation: MainWindow) -> None:
    c = workstation.controller
    assert [g.name for g in c.gpus] == ["NVIDIA GeForce RTX 4090", "NVIDIA GeForce RTX 3060"]
    assert [g.capacity_bytes for g in c.gpus] == [25_757_220_864 - 3 * GIB, 12_884_901_888 - 300 * 2**20]
    caps = [g.capacity_bytes for g in c.result.estimate.per_gpu]
    assert caps == [g.capacity_bytes for g in c.gpus]
    assert workstation.workload_panel.gpu_spin.value() == 2
    assert not workstation.workload_panel.gpu_spin.isEnabled()  # the count follows the ticks


def test_what_others_hold_is_drawn_before_the_model(workstation: MainWindow) -> None:
    chart = workstation.chart
    assert chart is not None
    held = list(np.asarray(chart.held.opts["width"]))
    assert held == pytest.approx([3.0, 300 / 1024])
    weights_start = list(np.asarray(chart.bars[SegmentKind.WEIGHTS].opts["x0"]))
    assert weights_start == pytest.approx(held)
    ends = sorted(set(np.round(chart.capacity_line.getData()[0], 6)))
    assert ends == pytest.approx([12.0, 25_757_220_864 / GIB])  # each line at its GPU's total
    text = chart.tooltip_at(1 * GIB, 0.0)
    assert text.startswith("GPU 0 · held by others: 3,221,225,472 bytes = 3.00 GiB")
    assert "(PID 4242) 3.00 GiB" in text


def test_llama_cpp_gives_the_emptier_gpu_more_layers(workstation: MainWindow) -> None:
    choose_engine(workstation, Engine.LLAMACPP)
    details = workstation.controller.result.estimate.engine_details
    first, second = (int(n) for n in str(details["layers_per_gpu"]).split(","))
    free = [g.capacity_bytes or 0 for g in workstation.controller.gpus]
    assert first + second == 32
    assert first / (first + second + 1) == pytest.approx(free[0] / sum(free), abs=0.04)


def test_vllm_names_the_gpu_that_bounds_every_rank(workstation: MainWindow) -> None:
    choose_engine(workstation, Engine.VLLM)
    text = workstation.verdict.details.text()
    assert "GPU 1 (NVIDIA GeForce RTX 3060) bounds every rank" in text


def test_unticking_a_gpu_plans_for_the_other(workstation: MainWindow) -> None:
    box, _ = workstation.gpu_panel.checks[1]
    box.setChecked(False)
    assert [g.name for g in workstation.controller.gpus] == ["NVIDIA GeForce RTX 4090"]
    assert workstation.workload_panel.gpu_spin.value() == 1
    first, _ = workstation.gpu_panel.checks[0]
    first.setChecked(False)  # the last tick cannot go
    assert first.isChecked() and len(workstation.controller.gpus) == 1


def test_a_lone_gpu_1_is_gpu_1_in_the_bar_and_the_command(workstation: MainWindow) -> None:
    choose_engine(workstation, Engine.VLLM)
    box, _ = workstation.gpu_panel.checks[0]
    box.setChecked(False)  # the RTX 3060 alone
    assert workstation.chart is not None and [row.label for row in workstation.chart.gpus] == ["GPU 1"]
    command = workstation.engine_panel.launch.text()
    assert command.startswith("CUDA_DEVICE_ORDER=PCI_BUS_ID CUDA_VISIBLE_DEVICES=1 vllm serve ")
    workstation.engine_panel.copy_button.click()
    assert QGuiApplication.clipboard().text() == command


def test_window_and_cli_give_the_same_numbers(
    workstation: MainWindow, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    choose_engine(workstation, Engine.LLAMACPP)
    monkeypatch.setitem(sys.modules, "pynvml", make_fake_pynvml(WORKSTATION))
    code = main(["estimate", "llama-3.1-8b", "--engine", "llama.cpp", "--gpu", "auto", "--json"])  # all, as the window
    doc = json.loads(capsys.readouterr().out)
    assert code == 0
    window = workstation.controller.result.estimate
    assert [g["total_bytes"] for g in doc["per_gpu"]] == [g.total_bytes for g in window.per_gpu]
    assert [g["capacity_bytes"] for g in doc["per_gpu"]] == [g.capacity_bytes for g in window.per_gpu]


def test_refresh_picks_up_memory_freed_and_a_lost_gpu(workstation: MainWindow, monkeypatch: pytest.MonkeyPatch) -> None:
    freed = [{**BUSY_4090, "memory": (RTX4090["memory"][0], 0, 0), "processes": []}, RTX3060]
    workstation.hardware.finish(snapshot(monkeypatch, freed))
    assert workstation.controller.gpus[0].capacity_bytes == 25_757_220_864
    lost = [{**BUSY_4090, "lost": True}, RTX3060]
    workstation.hardware.finish(snapshot(monkeypatch, lost))
    assert [g.name for g in workstation.controller.gpus] == ["NVIDIA GeForce RTX 3060"]
    assert "not responding" in workstation.gpu_panel.status.text()


def test_refresh_runs_the_probe_again(workstation: MainWindow, qtbot: QtBot) -> None:
    workstation.refresh_gpus()
    qtbot.waitUntil(lambda: workstation.hardware.worker is None)
    assert workstation.refresh_action.shortcut().toString() == "F5"
    assert len(workstation.controller.gpus) == 2


def test_mig_slices_are_gpus_to_tick(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    slices = [{"name": "3g.40gb", "uuid": f"MIG-{k}", "memory": (40 * GIB, 0, 0)} for k in range(2)]
    w = build_window()
    qtbot.addWidget(w)
    w.hardware.finish(snapshot(monkeypatch, [{**H100, "mig_slices": slices}]))
    assert [g.capacity_bytes for g in w.controller.gpus] == [40 * GIB, 40 * GIB]
    assert all("MIG" in box.text() for box, _ in w.gpu_panel.checks)


def test_catalog_and_system_memory_stay_choices(workstation: MainWindow) -> None:
    picker = workstation.gpu_panel.picker
    picker.setCurrentIndex(picker.findData("catalog:nvidia-h100-sxm"))
    picker.activated.emit(picker.currentIndex())
    assert workstation.controller.gpus[0].name == "NVIDIA H100 SXM5 80GB"
    assert workstation.workload_panel.gpu_spin.isEnabled()
    assert workstation.gpu_panel.checks_box.isHidden()


def test_a_running_engine_is_measured_beside_the_prediction(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    import vramscope.hardware.probe as probe_module

    monkeypatch.setattr(probe_module, "_process_name", lambda pid: "llama-server" if pid == 4242 else None)
    w = build_window()
    qtbot.addWidget(w)
    w.hardware.finish(snapshot(monkeypatch, WORKSTATION))
    text = w.verdict.running.text()
    assert text.startswith("Running now on GPU 0: llama.cpp, llama-server (PID 4242) 3.00 GiB")
    predicted = w.controller.result.estimate.per_gpu[0].total_bytes
    assert f"predicts {predicted / GIB:.2f} GiB" in text


# --- system memory: a capacity with its own bar ---------------------------------------------------------


def seventy_b_partly_on_the_cpu(w: MainWindow, layers: int, weights: str = "q4_k_m") -> None:
    c = w.controller
    c.set_model(load_preset("llama-3.1-70b"))
    choose_engine(w, Engine.LLAMACPP)
    c.set_workload(weight_format=weights)
    c.set_engine_settings(n_gpu_layers=layers)
    c.finish_limits()


def test_the_ram_bar_is_drawn_against_this_machines_available_memory(workstation: MainWindow) -> None:
    seventy_b_partly_on_the_cpu(workstation, 45)
    c, chart = workstation.controller, workstation.chart
    assert chart is not None
    ram = probe(sysfs=NO_SYSFS).host
    assert ram is not None and c.host is not None
    assert c.host.total_bytes == ram.total_bytes and c.host.basis.startswith("this machine's available memory")
    row = chart.gpus[-1]
    assert row.label == "RAM" and row.capacity_bytes == c.host.capacity_bytes
    assert row.bytes_of(SegmentKind.WEIGHTS) == c.result.estimate.host_bytes - row.bytes_of(
        SegmentKind.KV_CACHE
    ) - row.bytes_of(SegmentKind.ACTIVATIONS)
    # what other programs hold is hatched first, so the RAM bar's line stands at the machine's total
    assert row.held_bytes + row.capacity_bytes == c.host.total_bytes
    ends = chart.capacity_line.getData()[0]
    assert any(e == pytest.approx(c.host.total_bytes / GIB) for e in ends)
    assert "System memory:" in workstation.verdict.details.text()


def test_stating_the_ram_replans_and_a_short_host_is_a_red_verdict(workstation: MainWindow) -> None:
    seventy_b_partly_on_the_cpu(workstation, 5, weights="bf16")
    workstation.gpu_panel.ram.setValue(64)
    c, chart = workstation.controller, workstation.chart
    assert c.host is not None and c.host.capacity_bytes == 64 * GIB and c.host.basis == "64 GiB as stated"
    est = c.result.estimate
    assert est.gpus_fit is True and est.host_fits is False and est.fits is False
    assert workstation.verdict.headline.text().startswith("✘ Does not fit in system memory — short by")
    assert chart is not None
    ram_row = len(chart.gpus) - 1
    spilled_rows = list(np.asarray(chart.overflow.opts["y"]))
    assert spilled_rows == [ram_row]  # only the RAM bar runs past its line
    assert workstation.gpu_panel.choice()["ram_gib"] == 64


def test_the_ram_choice_comes_back_next_session(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    w = build_window(probe=lambda: snapshot(monkeypatch, WORKSTATION))
    qtbot.addWidget(w)
    w.gpu_panel.restore_choice({"picker": "custom", "ram_gib": 32.0, "ram_bandwidth_gbps": 200.0})
    host = w.controller.host
    assert host is not None and host.capacity_bytes == 32 * GIB and host.bandwidth_bytes_per_s == 200e9
    w.gpu_panel.restore_choice({"ram_gib": "lots", "ram_bandwidth_gbps": True})  # a hand-edited file: ignored
    assert w.gpu_panel.ram.value() == 32


def test_a_catalog_mac_plans_its_gpu_against_the_working_set(workstation: MainWindow) -> None:
    panel = workstation.gpu_panel
    panel.picker.setCurrentIndex(panel.picker.findData("catalog:apple-m3-max-128gb"))
    panel.picker.activated.emit(panel.picker.currentIndex())
    c = workstation.controller
    assert c.gpu.capacity_bytes == 96 * GIB and c.gpu.backend == "metal"
    assert c.host is not None and c.host.capacity_bytes == 128 * GIB  # the Mac's RAM, not this machine's
    assert "GPU 96.00 GiB of 128.00 GiB" in panel.picker.currentText()


def test_a_way_out_of_more_gpus_shows_them_and_survives_a_reprobe(
    workstation: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vramscope.hardware.catalog import catalog

    c, panel = workstation.controller, workstation.gpu_panel
    rtx4090 = next(g for g in catalog() if g.name == "NVIDIA GeForce RTX 4090")
    c.apply({"gpu": rtx4090.spec()})
    c.apply({"gpu_count": 7})  # "7 x RTX 4090": catalog cards, not the two detected
    assert len(c.gpus) == 7 and panel.picker.currentData() == f"catalog:{rtx4090.id}"
    assert workstation.workload_panel.gpu_spin.isEnabled() and workstation.workload_panel.gpu_spin.value() == 7
    workstation.hardware.finish(snapshot(monkeypatch, WORKSTATION))  # the window regains focus: a re-probe
    assert len(c.gpus) == 7 and c.gpus[0].name == rtx4090.name  # the way out is not undone


def test_the_gpu_picker_is_searched_by_part_of_a_name(window: MainWindow) -> None:
    panel, c = window.gpu_panel, window.controller
    completer = panel.picker.completer()
    assert completer is not None
    completer.setCompletionPrefix("h200")  # any part, any case
    assert completer.completionCount() >= 1
    completer.activated.emit(completer.currentCompletion())  # the first match, chosen
    assert c.gpu is not None and "H200" in c.gpu.name


def test_a_reprobe_that_finds_other_gpus_says_so_and_waits(
    workstation: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    c, panel = workstation.controller, workstation.gpu_panel
    planned = c.gpus
    workstation.hardware.finish(snapshot(monkeypatch, [*WORKSTATION, H100]))  # an H100 appears
    assert c.gpus == planned  # nothing the user set changes under them
    assert "The GPUs changed since the last look" in panel.status.text() and not panel.adopt.isHidden()
    panel.adopt.click()
    assert len(c.gpus) == 3 and c.gpus[2].name.startswith("NVIDIA H100") and panel.adopt.isHidden()


def test_a_reprobe_that_finds_the_same_gpus_changes_nothing_set(
    workstation: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = workstation.controller
    c.set_workload(context=16384)
    workstation.hardware.finish(snapshot(monkeypatch, WORKSTATION))
    assert c.workload.context == 16384 and len(c.gpus) == 2 and workstation.gpu_panel.adopt.isHidden()


def test_the_memory_line_names_the_gpu_planned_for(window: MainWindow) -> None:
    from vramscope.hardware.catalog import find_gpu

    h100 = find_gpu("nvidia-h100-sxm")
    assert h100 is not None
    window.gpu_panel.select_catalog(h100.id)  # as --screenshot --gpu does, before the scenario
    window.controller.apply({"gpu": h100.spec()})
    assert window.gpu_panel.picker.currentData() == f"catalog:{h100.id}"
    assert window.gpu_panel.memory.text() == "Catalog: 79.65 GiB as the driver reports it, 3,350 GB/s"


def test_a_nodes_gpus_from_nvidia_smi_are_planned_and_survive_a_reprobe(
    workstation: MainWindow, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    listing = tmp_path / "node7.csv"
    listing.write_text(
        "index, name, memory.total [MiB], memory.used [MiB]\n"
        + "".join(f"{i}, NVIDIA H100 80GB HBM3, 81559 MiB, {1 + 1000 * i} MiB\n" for i in range(4))
    )
    workstation.read_listing_file(str(listing))
    c, panel = workstation.controller, workstation.gpu_panel
    assert len(c.gpus) == 4 and c.gpus[3].capacity_bytes == (81559 - 3001) * 2**20
    assert panel.picker.currentText() == "nvidia-smi listing: 4 x NVIDIA H100 80GB HBM3"
    assert panel.memory.text().splitlines()[0] == "From node7.csv:"
    workstation.hardware.finish(snapshot(monkeypatch, WORKSTATION))  # this machine probed again
    assert len(c.gpus) == 4 and c.gpus[0].name == "NVIDIA H100 80GB HBM3"
    workstation.plan_listing("hello", "the pasted nvidia-smi output")  # not a listing: said, plan kept
    assert "Not an nvidia-smi listing" in workstation.statusBar().currentMessage() and len(c.gpus) == 4
