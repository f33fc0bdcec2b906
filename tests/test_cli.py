"""The command line as scripts use it: exit codes, JSON keys, messages without tracebacks."""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.sources.test_hf_config import LLAMA_3_1_8B
from vramscope.cli import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_estimate_json_contract(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "estimate", "llama-3.1-8b", "--context", "8192", "--json")
    doc = json.loads(out)
    assert code == 0
    assert doc["model"]["parameters"] == 8_030_261_248
    assert doc["model"]["max_context"] == 131072
    assert doc["kv_bytes_per_token"] == 131_072
    assert doc["kv_cache_bytes"] == 1_073_741_824
    for key in (
        "weights_bytes",
        "activation_bytes",
        "overhead_bytes",
        "total_bytes",
        "capacity_bytes",
        "fits",
        "max_context",
        "max_batch",
        "per_gpu",
        "engine_details",
        "decode_tokens_per_s",
        "scenario",
    ):
        assert key in doc
    gpu = doc["per_gpu"][0]
    assert (
        gpu["weights_bytes"] + gpu["kv_cache_bytes"] + gpu["activation_bytes"] + gpu["overhead_bytes"]
        == gpu["total_bytes"]
    )


def test_fits_exit_0_and_limits(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "estimate", "llama-3.1-8b", "--gpu", "rtx-4090", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["fits"] is True
    assert doc["capacity_bytes"] == 25_757_220_864
    assert doc["max_context"] >= 8192 and doc["max_batch"] >= 1
    assert doc["decode_tokens_per_s"] > 0


def test_does_not_fit_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "estimate", "llama-3.1-70b", "--gpu-memory", "24")
    assert code == 1
    assert "Does not fit" in out


def test_two_gpus_split(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(
        capsys, "estimate", "llama-3.1-70b", "--gpu", "rtx-4090", "--gpus", "2", "--weights", "q4_k_m", "--json"
    )
    doc = json.loads(out)
    assert len(doc["per_gpu"]) == 2 and doc["scenario"]["tp"] == 2


def test_unknown_model_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "estimate", "lama-3.1-8b")
    assert code == 2
    assert "unknown model 'lama-3.1-8b' — did you mean llama-3.1-8b" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "args",
    [
        ("--context", "0"),
        ("--batch", "-1"),
        ("--weights", "q9"),
        ("--kv-dtype", "int3"),
        ("--gpu", "rtx-9999"),
        ("--engine", "magic"),
        ("--gpus", "3", "--tp", "2"),
        ("--gpu-memory", "-5"),
        ("--context", "lots"),
    ],
)
def test_bad_options_exit_2(capsys: pytest.CaptureFixture[str], args: tuple[str, ...]) -> None:
    code, _, err = run(capsys, "estimate", "llama-3.1-8b", *args)
    assert code == 2
    assert err.startswith("vramscope: ") and "Traceback" not in err


def test_config_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "config.json").write_text(json.dumps(LLAMA_3_1_8B))
    code, out, _ = run(capsys, "estimate", str(tmp_path), "--json")
    doc = json.loads(out)
    assert code == 0 and doc["model"]["parameters"] == 8_030_261_248 and doc["model"]["source"] == "config"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{oops", "not valid JSON"),
        (json.dumps({"model_type": "llama"}), "lacks 'hidden_size'"),
        (json.dumps({**LLAMA_3_1_8B, "hidden_size": 0}), "'hidden_size' must be positive"),
    ],
)
def test_bad_config_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str) -> None:
    (tmp_path / "config.json").write_text(text)
    code, _, err = run(capsys, "estimate", str(tmp_path))
    assert code == 2 and message in err


def test_context_above_maximum_warns(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "estimate", "llama-2-7b", "--context", "100000000", "--batch", "100000")
    assert code == 0 and "above Llama-2-7B's maximum" in err


def test_default_context_capped_at_model_maximum(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "estimate", "gpt2", "--json")
    assert json.loads(out)["scenario"]["context"] == 1024


def test_listings(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "models", "--json")
    assert code == 0 and len(json.loads(out)) >= 35
    code, out, _ = run(capsys, "gpus", "--json")
    assert code == 0 and len(json.loads(out)) >= 40
    code, out, _ = run(capsys, "models")
    assert "llama-3.1-8b" in out


def test_command_line_never_imports_qt_or_nvml() -> None:
    probe = (
        "import sys, vramscope.cli, vramscope.core.estimate, vramscope.sources.presets, vramscope.hardware.catalog;"
        "from vramscope.cli import main; main(['estimate', 'llama-3.1-8b', '--json']);"
        "print(sorted(m for m in ('PySide6', 'pyqtgraph', 'pynvml') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip().endswith("[]")


def test_estimate_a_gguf_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.fixtures.model_files import write_gguf
    from tests.sources.test_hf_folder import tiny_arch

    path = tmp_path / "tiny.gguf"
    write_gguf(path, tiny_arch())
    code, out, _ = run(capsys, "estimate", str(path), "--json")
    doc = json.loads(out)
    assert code == 0 and doc["model"]["source"] == "gguf"
    assert doc["model"]["parameters"] == tiny_arch().parameter_count()
    assert doc["scenario"]["weights"] == "q4_k_m"
    assert doc["per_gpu"][0]["provenance"]["weights"] == "exact"


def test_estimate_a_pickle_folder_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "pytorch_model.bin").write_bytes(b"\x80")
    code, _, err = run(capsys, "estimate", str(tmp_path / "pytorch_model.bin"))
    assert code == 2 and "PyTorch pickle checkpoints are not read" in err


def test_vllm_engine_details_and_launch_command(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "estimate", "llama-3.1-8b", "--engine", "vllm", "--gpu", "rtx-4090", "--tp", "2",
        "--kv-dtype", "fp8", "--gpu-util", "0.85", "--launch-command", "--json",
    )  # fmt: skip
    doc = json.loads(out)
    assert code == 0
    details = doc["engine_details"]
    assert details["kv_capacity_tokens"] > 0 and details["max_concurrency"] > 1
    gpu = doc["per_gpu"][0]
    assert gpu["kv_cache_bytes"] + gpu["kv_reserved_bytes"] == details["kv_pool_bytes"]
    assert doc["launch_command"] == (
        "vllm serve meta-llama/Llama-3.1-8B --max-model-len 8192 --gpu-memory-utilization 0.85 "
        "--tensor-parallel-size 2 --kv-cache-dtype fp8"
    )


def test_llama_cpp_flags_reach_the_profile(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "estimate", "llama-3.1-8b", "--engine", "llama.cpp", "--weights", "q4_k_m", "--gpus", "2",
        "--gpu", "rtx-4090", "--tensor-split", "3,1", "--ubatch", "256", "--flash-attn", "off", "--batch", "2",
        "--launch-command", "--json",
    )  # fmt: skip
    doc = json.loads(out)
    assert code == 0
    assert doc["engine_details"]["n_ctx_cells"] == 16384
    assert doc["engine_details"]["layers_per_gpu"] == "25,7"  # 33 layers with the output at 3:1: 25 | 7 + output
    assert doc["launch_command"] == (
        "llama-server -hf QuantFactory/Meta-Llama-3.1-8B-GGUF:Q4_K_M -c 16384 -np 2 -ngl 33 -ub 256 -fa off -ts 3,1"
    )
    assert doc["host_bytes"] > 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--engine", "vllm", "--tp", "3", "--model-placeholder"), ""),
        (("--engine", "tgi"), "unknown engine 'tgi'"),
        (("--engine", "llama.cpp", "--kv-dtype", "fp8"), "llama.cpp has no fp8 KV cache"),
        (("--engine", "vllm", "--kv-dtype", "q4_0"), "vLLM has no q4_0 KV cache"),
        (("--engine", "llama.cpp", "--tensor-split", "a,b"), "--tensor-split takes numbers"),
        (("--engine", "sglang", "--mem-fraction", "1.5"), "mem_fraction_static"),
    ],
)
def test_settings_an_engine_refuses_exit_2(
    capsys: pytest.CaptureFixture[str], args: tuple[str, ...], message: str
) -> None:
    if args[-1] == "--model-placeholder":  # 28 heads over 3 GPUs: vLLM's own words
        args, message = args[:-1], "Total number of attention heads (28) must be divisible by tensor parallel size (3)."
        code, _, err = run(capsys, "estimate", "qwen2.5-7b", *args)
    else:
        code, _, err = run(capsys, "estimate", "llama-3.1-8b", *args)
    assert code == 2
    assert message in err and "Traceback" not in err


def test_engine_refusal_is_does_not_fit(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "estimate", "llama-3.1-8b", "--engine", "vllm", "--gpu", "rtx-4090", "--context", "131072"
    )
    assert code == 1
    assert "vLLM does not start" in out and "To serve at least one request" in out


def test_draft_model_flag(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "estimate", "llama-3.1-8b", "--engine", "vllm", "--gpu", "h100-sxm", "--draft", "llama-3.2-1b",
        "--launch-command", "--json",
    )  # fmt: skip
    doc = json.loads(out)
    assert code == 0
    assert any(s["label"] == "Draft weights" for s in doc["per_gpu"][0]["segments"])
    assert '"model": "meta-llama/Llama-3.2-1B"' in doc["launch_command"]


@pytest.mark.parametrize(
    "args",
    [
        ("--tp", "1024", "--pp", "1024"),
        ("--pp", "40"),
        ("--gpu", ""),
        ("--weights", ""),
        ("--context", "0"),
        ("--context", str(10**12)),
        ("--batch", "-3"),
        ("--gpu-memory", "nan"),
        ("--gpu-util", "7"),
        ("--ubatch", "0"),
        ("--images", "-1"),
        ("--mem-fraction", "-1"),
        ("--max-num-seqs", "0"),
        ("--tensor-split", ","),
    ],
)
def test_absurd_values_are_one_line_and_exit_2(capsys: pytest.CaptureFixture[str], args: tuple[str, ...]) -> None:
    code, _, err = run(capsys, "estimate", "llama-3.1-8b", *args)
    assert code == 2
    assert err.startswith("vramscope: ") and err.count("\n") == 1 and "Traceback" not in err


def test_a_bug_exits_3_and_says_where_its_details_are(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import vramscope.cli

    def broken(*args: object, **kwargs: object) -> object:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(vramscope.cli, "analyse", broken)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    code, _, err = run(capsys, "estimate", "llama-3.1-8b")
    assert code == 3
    assert "internal error (ZeroDivisionError: a bug)" in err and str(tmp_path) in err
    assert "Traceback" in (tmp_path / "vramscope" / "vramscope.log").read_text()


@pytest.mark.parametrize(("target", "value"), [("context", 38_828), ("batch", 4), ("format", "bf16"), ("gpus", 1)])
def test_solve_gives_the_answer_and_the_estimate_at_it(
    capsys: pytest.CaptureFixture[str], target: str, value: object
) -> None:
    code, out, _ = run(capsys, "estimate", "llama-3.1-8b", "--gpu", "rtx-4090", "--solve", target, "--json")
    solution = json.loads(out)["solution"]
    assert code == 0 and solution["target"] == target and solution["value"] == value
    assert solution["estimate"]["fits"] is True


def test_solve_when_nothing_fits_says_why(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "estimate", "llama-3.1-405b", "--gpu", "rtx-3060-12gb", "--solve", "format", "--json")
    solution = json.loads(out)["solution"]
    assert code == 1 and solution["value"] is None and "nothing fits" in solution["reason"]


def test_fit_lists_the_presets_that_fit_largest_first(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "fit", "--gpu-memory", "24", "--engine", "llama.cpp", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["capacity_bytes"] == 24 * 2**30 and doc["context"] == 8192
    models = doc["models"]
    assert models[0]["parameters"] >= models[-1]["parameters"]
    assert {"llama-3.1-8b", "qwen2.5-7b"} <= {m["id"] for m in models}
    assert "llama-3.1-405b" not in {m["id"] for m in models}


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    from vramscope import __version__

    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"vramscope {__version__}"


def test_qt_options_open_the_window_with_them(monkeypatch: pytest.MonkeyPatch) -> None:
    import vramscope.gui.app as app

    seen: list[list[str]] = []
    monkeypatch.setattr(app, "main", lambda argv=None: seen.append(list(argv or [])) or 0)
    assert main(["-style", "fusion"]) == 0
    assert seen[0][1:] == ["-style", "fusion"]


def test_without_a_display_the_window_says_why_and_a_screenshot_renders_offscreen(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from vramscope.gui import app

    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(app.sys, "platform", "linux")
    assert "no display to open the window on" in app.no_display()
    assert app.main(["vramscope"]) == 1
    assert "vramscope --screenshot" in capsys.readouterr().err
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert app.no_display() == ""


# --- fits means fits: the host's memory, offload to the CPU, the margin ----------------------------------


def estimate_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code, out, _ = run(capsys, "estimate", *args, "--json")
    return code, json.loads(out)


def test_a_bf16_70b_with_five_gpu_layers_does_not_fit_64_gib_of_ram(capsys: pytest.CaptureFixture[str]) -> None:
    args = ("llama-3.1-70b", "--engine", "llama.cpp", "--gpu", "rtx-4090", "--ngl", "5", "--ram", "64")
    code, doc = estimate_json(capsys, *args)
    assert code == 1 and doc["fits"] is False and doc["host_fits"] is False
    assert doc["host_capacity_bytes"] == 64 * 2**30 and doc["per_gpu"][0]["fits"] is True
    assert doc["schema_version"] == 2 and doc["tight"] is False and doc["margin_bytes"] > 0
    code, out, _ = run(capsys, "estimate", *args)
    assert "✘ Does not fit in system memory — short by" in out
    assert "System memory: 126.04 GiB of 64.00 GiB, does not fit — 64 GiB as stated." in out


def test_ollama_does_not_put_405b_on_a_4090_and_64_gib(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = estimate_json(
        capsys, "llama-3.1-405b", "--engine", "ollama", "--gpu", "rtx-4090", "--ram", "64", "--weights", "q4_k_m"
    )
    assert code == 1 and doc["fits"] is False
    assert doc["refusal"].startswith("model requires more system memory")


def test_ollamas_largest_batch_is_one_ollama_can_run(capsys: pytest.CaptureFixture[str]) -> None:
    _, doc = estimate_json(
        capsys, "llama-3.1-8b", "--engine", "ollama", "--gpu", "h200", "--ram", "64", "--context", "512"
    )
    assert doc["max_batch"] == 256  # llama.cpp's LLAMA_MAX_SEQ, though the H200 would hold more


def test_seventy_b_with_45_gpu_layers_fits_its_host_part_priced_and_slower(capsys: pytest.CaptureFixture[str]) -> None:
    common = ("llama-3.1-70b", "--engine", "llama.cpp", "--weights", "q4_k_m", "--gpu", "rtx-4090", "--ram", "64")
    code, split = estimate_json(capsys, *common, "--ngl", "45")
    assert code == 0 and split["fits"] is True and split["host_fits"] is True
    assert split["host_need_bytes"] > 17 * 2**30  # 35 layers and the output in Q4_K_M
    _, two = estimate_json(capsys, *common, "--gpus", "2")
    assert split["decode_tokens_per_s"] < two["decode_tokens_per_s"] / 3


def test_moe_experts_on_the_cpu_fit_an_8_gib_gpu(capsys: pytest.CaptureFixture[str]) -> None:
    common = ("qwen3-30b-a3b", "--engine", "llama.cpp", "--weights", "q4_k_m", "--gpu-memory", "8", "--ram", "64")
    code, doc = estimate_json(capsys, *common)
    assert code == 1 and doc["fits"] is False
    code, doc = estimate_json(capsys, *common, "--n-cpu-moe", "48", "--launch-command")
    assert code == 0 and doc["fits"] is True
    assert "--n-cpu-moe 48" in doc["launch_command"]


def test_fit_with_16_gib_of_ram_lists_no_400b_class_model(capsys: pytest.CaptureFixture[str]) -> None:
    for engine in ("ollama", "llama.cpp"):
        code, out, _ = run(capsys, "fit", "--engine", engine, "--gpu-memory", "24", "--ram", "16", "--json")
        doc = json.loads(out)
        assert code == 0 and doc["host_capacity_bytes"] == 16 * 2**30 and doc["models"]
        assert all(m["parameters"] < 200e9 for m in doc["models"])
    _, out, _ = run(capsys, "fit", "--engine", "ollama", "--gpu-memory", "0.000001", "--ram", "16", "--json")
    models = json.loads(out)["models"]
    assert models and all(m["host_bytes"] <= 16 * 2**30 for m in models)  # on the CPU, within the RAM


def test_the_default_host_is_this_machines(capsys: pytest.CaptureFixture[str]) -> None:
    from tests.conftest import TEST_HOST  # what detect_host gives in the test suite

    _, doc = estimate_json(capsys, "llama-3.1-8b", "--gpu", "rtx-4090")
    assert doc["host_capacity_bytes"] == TEST_HOST.capacity_bytes and doc["host_basis"] == TEST_HOST.basis
    _, doc = estimate_json(capsys, "llama-3.1-8b")
    assert doc["host_capacity_bytes"] is None and doc["fits"] is None  # no capacity given: nothing compared


def test_a_catalog_mac_is_planned_against_its_own_unified_memory(capsys: pytest.CaptureFixture[str]) -> None:
    _, doc = estimate_json(capsys, "llama-3.1-8b", "--engine", "llama.cpp", "--gpu", "apple-m3-max-128gb")
    assert doc["per_gpu"][0]["capacity_bytes"] == 96 * 2**30
    assert doc["host_capacity_bytes"] == 128 * 2**30
    assert doc["host_need_bytes"] == doc["host_bytes"] + doc["per_gpu"][0]["total_bytes"]
    code, _, err = run(capsys, "estimate", "llama-3.1-8b", "--engine", "vllm", "--gpu", "apple-m3-max-128gb")
    assert code == 2 and "no Metal backend" in err


def test_ram_must_be_a_positive_size(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "estimate", "llama-3.1-8b", "--gpu", "rtx-4090", "--ram", "-1")
    assert code == 2 and "--ram must be a positive number of GiB" in err


# --- a well-kept Unix tool --------------------------------------------------------------------------------


def vramscope_shell(command: str, encoding: str = "utf-8", **env: str) -> subprocess.CompletedProcess[str]:
    """The command as a shell runs it: `vramscope` is this interpreter's `-m vramscope`."""
    import os

    line = command.replace("vramscope", f"{sys.executable} -m vramscope", 1)
    return subprocess.run(
        ["bash", "-c", line],
        capture_output=True,
        encoding=encoding,
        env={**os.environ, **env},
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("command", ["gpus --json", "models", "fit --gpu-memory 24"])
def test_a_closed_pipe_ends_the_command_quietly(command: str) -> None:
    done = vramscope_shell(f"set -o pipefail; vramscope {command} | head -1")
    assert done.returncode == 0 and done.stderr == "" and done.stdout.count("\n") == 1


def test_a_cp1252_console_reads_plain_ascii_marks() -> None:
    done = vramscope_shell("vramscope estimate llama-3.1-8b --gpu rtx-4090", "cp1252", PYTHONIOENCODING="cp1252")
    assert done.returncode == 0 and "OK Fits" in done.stdout and "Decode ~ " in done.stdout


def test_control_sequences_never_reach_the_terminal(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    log = tmp_path / "vllm.log"
    log.write_text("INFO model='\x1b]0;owned\x07evil\x1b[2J' Available KV cache memory: 12.34 GiB\n", encoding="utf-8")
    code, out, err = run(capsys, "check", str(log))
    assert code == 0 and "\x1b" not in out + err and "\x07" not in out + err
    code, out, err = run(capsys, "estimate", "no\x1b[31mmodel")
    assert code == 2 and "\x1b" not in err and "no[31mmodel" in err


def test_a_missing_local_file_is_not_looked_up_on_the_hub(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "estimate", "org/model.gguf")
    assert code == 2 and "org/model.gguf: no such file or folder" in err


def test_help_shows_examples_with_gguf_files_and_hub_ids(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "estimate", "--help")
    assert code == 0 and "examples:" in out and ".gguf" in out and "Hub id" in out


def test_shell_completion_completes_commands_presets_and_values(tmp_path: Path) -> None:
    script = tmp_path / "vramscope.bash"
    done = vramscope_shell(f"vramscope completion bash > {script}")
    assert done.returncode == 0
    probe = (
        f"source {script}; "
        "COMP_WORDS=(vramscope est); COMP_CWORD=1; _vramscope; echo ${COMPREPLY[@]}; "
        "COMP_WORDS=(vramscope estimate llama-3.1-8); COMP_CWORD=2; _vramscope; echo ${COMPREPLY[@]}; "
        "COMP_WORDS=(vramscope estimate x --n-cpu); COMP_CWORD=3; _vramscope; echo ${COMPREPLY[@]}; "
        "COMP_WORDS=(vramscope estimate x --engine oll); COMP_CWORD=4; _vramscope; echo ${COMPREPLY[@]}"
    )
    lines = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, check=True).stdout.splitlines()
    assert lines == ["estimate", "llama-3.1-8b", "--n-cpu-moe", "ollama"]


def test_the_tests_write_their_crash_log_into_their_own_folder() -> None:
    import tempfile

    from vramscope.crashlog import log_dir

    assert log_dir().is_relative_to(tempfile.gettempdir())


@pytest.mark.parametrize(("model", "fewest"), [("llama-3.1-8b", 1), ("qwen2.5-14b", 2), ("llama-3.1-70b", None)])
def test_solving_for_gpus_among_the_detected_ones(
    model: str, fewest: int | None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.fixtures.fake_nvml import RTX3060, RTX4090, make_fake_pynvml

    monkeypatch.setitem(sys.modules, "pynvml", make_fake_pynvml([RTX4090, RTX3060]))
    code, out, _ = run(capsys, "estimate", model, "--engine", "llama.cpp", "--gpu", "auto", "--solve", "gpus", "--json")
    solution = json.loads(out)["solution"]
    assert code in (0, 1) and solution["value"] == fewest  # of the two detected GPUs, never a third
    if fewest:
        assert len(solution["estimate"]["per_gpu"]) == fewest and solution["estimate"]["fits"]


def test_a_log_whose_settings_cannot_be_planned_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from tests.sources.test_engine_log import VLLM_V1

    log = tmp_path / "vllm.log"
    log.write_text(VLLM_V1.replace("'gpu_memory_utilization': 0.95", "'gpu_memory_utilization': 7.5"), encoding="utf-8")
    code, _, err = run(capsys, "check", str(log))
    assert code == 2 and err.count("\n") == 1 and "gpu_memory_utilization: Input should be less than" in err


@pytest.mark.parametrize("figure", ["1.2.3", ".", "9" * 400, "1" * 5000])
def test_check_drops_a_figure_no_engine_prints(figure: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from tests.sources.test_engine_log import LLAMA_SERVER, VLLM_V1

    for text in (VLLM_V1.replace("58.11 GiB", f"{figure} GiB"), LLAMA_SERVER.replace("-c 32768", f"-c {figure}")):
        log = tmp_path / "engine.log"
        log.write_text(text, encoding="utf-8")
        code, _, err = run(capsys, "check", str(log))
        assert code in (0, 1, 2) and "internal error" not in err


def test_check_json_never_copies_a_token(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from tests.sources.test_engine_log import VLLM_V1

    log = tmp_path / "vllm.log"
    log.write_text(VLLM_V1.replace("'model_tag'", "'hf_token': 'hf_SeCrEtToKeN12345', 'model_tag'"), encoding="utf-8")
    code, out, _ = run(capsys, "check", str(log), "--json")
    assert code in (0, 1) and "hf_SeCrEtToKeN12345" not in out and json.loads(out)["engine"] == "vllm"


def test_check_reads_only_the_head_of_a_huge_log(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from tests.sources.test_engine_log import VLLM_V1
    from vramscope.sources.engine_log import MAX_LOG_BYTES
    from vramscope.sources.files import read_head

    log = tmp_path / "huge.log"
    with log.open("wb") as file:
        file.write(VLLM_V1.encode())
        file.truncate(1024**3)  # a sparse GiB of zeros after the start-up lines
    assert len(read_head(log, MAX_LOG_BYTES)) == MAX_LOG_BYTES
    code, out, _ = run(capsys, "check", str(log), "--json")
    assert code in (0, 1) and json.loads(out)["engine"] == "vllm"


def test_each_way_out_carries_the_flags_that_apply_it_and_they_fit_as_printed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    scenario = ["llama-3.1-70b", "--engine", "llama.cpp", "--weights", "q4_k_m", "--gpu", "rtx-4090", "--ram", "64"]
    code, out, _ = run(capsys, "estimate", *scenario, "--json")
    doc = json.loads(out)
    assert code == 1 and doc["fits"] is False
    ways = doc["ways_out"]
    assert ways[0]["kind"] == "settings" and ways[0]["args"][0] == "--ngl"  # partial offload, the user's own knob
    for way in ways:
        assert {"kind", "label", "args", "fits", "headroom_bytes"} <= set(way)
        args = way["args"]
        rerun = [args[0], *scenario[1:], *args[1:]] if way["kind"] == "model" else [*scenario, *args]
        code, out, _ = run(capsys, "estimate", *rerun, "--json")
        assert code == 0 and json.loads(out)["fits"] is True and way["fits"] is True, way["label"]


def test_the_chosen_gpus_are_the_ones_the_command_starts_on(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.fixtures.fake_nvml import RTX3060, RTX4090, make_fake_pynvml

    monkeypatch.setitem(sys.modules, "pynvml", make_fake_pynvml([RTX4090, RTX3060]))
    args = ("estimate", "llama-3.1-8b", "--gpu", "auto", "--launch-command", "--json")
    _, out, _ = run(capsys, *args, "--devices", "1", "--engine", "vllm")
    result = json.loads(out)
    assert result["launch_command"].startswith("CUDA_DEVICE_ORDER=PCI_BUS_ID CUDA_VISIBLE_DEVICES=1 vllm serve ")
    assert [g["name"] for g in result["per_gpu"]] == ["NVIDIA GeForce RTX 3060"]  # GPU 1 alone
    _, out, _ = run(capsys, *args, "--devices", "1,0", "--engine", "llama.cpp")
    assert "CUDA_VISIBLE_DEVICES=1,0 llama-server " in json.loads(out)["launch_command"]
    _, out, _ = run(capsys, *args, "--engine", "ollama")  # every detected GPU, named
    assert json.loads(out)["launch_command"].startswith("CUDA_DEVICE_ORDER=PCI_BUS_ID CUDA_VISIBLE_DEVICES=0,1 ")
    for bad, message in (
        ("2", "no detected GPU 2 (detected: 0, 1"),
        ("0,0", "distinct GPU indexes"),
        ("x", "e.g. 0,2"),
    ):
        code, _, err = run(capsys, *args, "--devices", bad)
        assert code == 2 and message in err
    code, _, err = run(capsys, "estimate", "llama-3.1-8b", "--gpu", "rtx-4090", "--devices", "0")
    assert code == 2 and "--gpu auto" in err


def test_catalog_gpus_set_no_devices(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(
        capsys, "estimate", "llama-3.1-8b", "--gpu", "rtx-4090", "--engine", "vllm", "--launch-command", "--json"
    )
    assert json.loads(out)["launch_command"].startswith("vllm serve ")


def test_data_expert_parallel_and_nodes_from_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "estimate", "qwen3-30b-a3b", "--engine", "vllm", "--gpu", "nvidia-h100-sxm", "--gpus", "8",
        "--dp", "4", "--ep", "--json", "--launch-command",
    )  # fmt: skip
    doc = json.loads(out)
    assert code == 0 and doc["scenario"]["tp"] == 2 and doc["scenario"]["dp"] == 4 and doc["scenario"]["ep"] is True
    assert [g["dp_rank"] for g in doc["per_gpu"]] == [0, 0, 1, 1, 2, 2, 3, 3]
    assert "--tensor-parallel-size 2 --data-parallel-size 4 --enable-expert-parallel" in doc["launch_command"]
    code, out, _ = run(
        capsys, "estimate", "llama-3.1-405b", "--engine", "vllm", "--gpu", "nvidia-h100-sxm", "--weights", "fp8",
        "--nodes", "2", "--gpus-per-node", "8", "--json",
    )  # fmt: skip
    doc = json.loads(out)
    assert (doc["scenario"]["tp"], doc["scenario"]["pp"], doc["scenario"]["nodes"]) == (8, 2, 2)
    assert [g["node"] for g in doc["per_gpu"]] == [0] * 8 + [1] * 8
    assert [g["pp_stage"] for g in doc["per_gpu"]] == [0] * 8 + [1] * 8


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--gpus", "6", "--dp", "4"], "6 GPUs do not equal --tp 1 x --pp 1 x --dp 4"),
        (
            ["--nodes", "2", "--gpus-per-node", "4", "--gpus", "6"],
            "--gpus 6 does not equal --nodes 2 x --gpus-per-node 4",
        ),
        (["--dp", "0"], "--dp must be at least 1"),
        (["--nodes", "3", "--tp", "2"], "2 ranks do not spread evenly over 3 nodes"),
    ],
)
def test_parallel_sizes_that_do_not_add_up_are_refused(
    capsys: pytest.CaptureFixture[str], flags: list[str], message: str
) -> None:
    code, _, err = run(capsys, "estimate", "qwen3-30b-a3b", "--engine", "vllm", "--gpu-memory", "80", *flags)
    assert code == 2 and message in err


def test_solve_replicas_sizes_a_load(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "estimate", "llama-3.1-70b", "--engine", "vllm", "--gpu", "nvidia-h100-sxm", "--tp", "4",
        "--context", "32768", "--solve", "replicas", "--sequences", "500", "--json",
    )  # fmt: skip
    solution = json.loads(out)["solution"]
    per = solution["sequences_per_replica"]
    assert code == 0 and solution["value"] == -(-500 // per) and solution["gpus"] == 4 * solution["value"]
    assert solution["estimate"]["scenario"]["batch"] == per and solution["estimate"]["fits"] is True
    code, _, err = run(capsys, "estimate", "llama-3.1-8b", "--gpu-memory", "80", "--solve", "replicas")
    assert code == 2 and "--solve replicas and --sequences N go together" in err


def test_gpus_from_an_nvidia_smi_listing(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    listing = tmp_path / "node.csv"
    listing.write_text(
        "index, name, memory.total [MiB], memory.used [MiB]\n"
        + "".join(f"{i}, NVIDIA H100 80GB HBM3, 81559 MiB, 1 MiB\n" for i in range(8))
    )
    code, out, _ = run(
        capsys, "estimate", "llama-3.1-405b", "--engine", "vllm", "--weights", "fp8", "--gpus-from", str(listing),
        "--nodes", "2", "--json", "--launch-command",
    )  # fmt: skip
    doc = json.loads(out)
    assert code in (0, 1) and (doc["scenario"]["tp"], doc["scenario"]["pp"]) == (8, 2) and len(doc["per_gpu"]) == 16
    assert doc["per_gpu"][0]["capacity_bytes"] == (81559 - 1) * 2**20
    assert doc["launch_command"].startswith("ray start --head")
    listing.write_text("not a listing\n")
    code, _, err = run(capsys, "estimate", "llama-3.1-8b", "--gpus-from", str(listing))
    assert code == 2 and "--gpus-from" in err and "line 1 has 1 of the 4 columns" in err


def test_solve_replicas_on_gpus_listed_one_by_one(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    listing = tmp_path / "node.csv"
    listing.write_text("".join(f"{i}, NVIDIA H100 80GB HBM3, 81559, 1\n" for i in range(4)))
    code, out, _ = run(
        capsys, "estimate", "qwen3-30b-a3b", "--engine", "vllm", "--gpus-from", str(listing), "--dp", "2",
        "--solve", "replicas", "--sequences", "100", "--json",
    )  # fmt: skip
    solution = json.loads(out)["solution"]
    assert code == 0 and solution["gpus"] == 2 * solution["value"]  # replicas of tp 2, like the first
    assert solution["estimate"]["scenario"]["dp"] == solution["value"]
