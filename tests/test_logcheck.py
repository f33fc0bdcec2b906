"""A log beside its prediction, and calibration from it."""

import json

import pytest

from tests.sources.test_engine_log import VLLM_V1
from vramscope.core.analysis import analyse
from vramscope.core.segments import SegmentKind
from vramscope.logcheck import calibration_from, check, check_json, scenario_of
from vramscope.sources.engine_log import read_engine_log


def test_vllm_log_beside_the_prediction() -> None:
    result = check(read_engine_log(VLLM_V1))
    assert result.analysis is not None and result.analysis.model.name == "Llama-3.1-8B"
    assert result.analysis.workload.context == 8192
    assert result.analysis.deployment.settings.gpu_memory_utilization == 0.95
    for key in ("weights_bytes", "kv_pool_bytes", "kv_capacity_tokens", "max_concurrency"):
        assert abs(result.errors[key]) < 0.01, key
    doc = check_json(result)
    assert {"engine", "model", "settings", "reported", "predicted", "errors"} <= set(doc)
    json.dumps(doc)


def test_calibration_moves_the_pool_by_exactly_the_measured_difference() -> None:
    log = read_engine_log(VLLM_V1)
    scenario = scenario_of(log)
    assert scenario is not None
    model, workload, deployment = scenario
    before = analyse(model, workload, deployment).estimate
    calibration = calibration_from(log, "2026-12-01")
    assert calibration is not None and calibration.source == "your vllm log of 2026-12-01"
    calibrated = deployment.settings.model_copy(update={"calibration": calibration})
    after = analyse(model, workload, deployment.model_copy(update={"settings": calibrated})).estimate
    gpu_before, gpu_after = before.per_gpu[0], after.per_gpu[0]
    assert gpu_after.bytes_of(SegmentKind.ACTIVATIONS) == log.reported["activation_bytes"]
    activation_shift = log.reported["activation_bytes"] - gpu_before.bytes_of(SegmentKind.ACTIVATIONS)
    non_torch = next(s for s in gpu_before.segments if s.title == "Non-torch").bytes
    non_torch_shift = log.reported["non_torch_bytes"] - non_torch
    pool_shift = before.engine_details["kv_pool_bytes"] - after.engine_details["kv_pool_bytes"]
    assert pool_shift == activation_shift + non_torch_shift
    peak = next(s for s in gpu_after.segments if s.kind is SegmentKind.ACTIVATIONS)
    assert peak.note == "measured: your vllm log of 2026-12-01"


def test_a_log_without_a_known_model_asks_for_one() -> None:
    result = check(read_engine_log(VLLM_V1.replace("meta-llama/Llama-3.1-8B-Instruct", "acme/mystery")))
    assert result.analysis is None and "give one" in result.note


@pytest.mark.parametrize("flag", [[], ["--json"]])
def test_check_command(tmp_path: object, capsys: pytest.CaptureFixture[str], flag: list[str]) -> None:
    from pathlib import Path

    from vramscope.cli import main

    log = Path(str(tmp_path)) / "vllm.log"
    log.write_text(VLLM_V1)
    assert main(["check", str(log), *flag]) == 0
    out = capsys.readouterr().out
    if flag:
        assert json.loads(out)["engine"] == "vllm"
    else:
        assert "Largest difference" in out
    junk = Path(str(tmp_path)) / "junk.log"
    junk.write_text("nothing here")
    assert main(["check", str(junk)]) == 2


def test_sglangs_loading_is_compared_with_the_weights_and_what_loading_holds_beside_them() -> None:
    # QwQ-32B on 4 x L4: "Load weight end. ... mem usage=15.54 GB": the tensors (15.26 GiB) and the 'Loading'
    # segment (the allocator's rounding of large parameters, fp32 rotary tables)
    from tests.sources.test_engine_log import SGLANG
    from vramscope.core.scenario import GpuSpec
    from vramscope.core.units import GIB
    from vramscope.sources.presets import load_preset

    l4 = GpuSpec(name="NVIDIA L4", capacity_bytes=round(22.03 * GIB), total_bytes=round(22.03 * GIB))
    result = check(read_engine_log(SGLANG), load_preset("qwen2.5-32b"), l4)  # QwQ-32B's architecture
    assert abs(result.errors["weights_bytes"]) < 0.005
