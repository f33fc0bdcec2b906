"""Hostile input, round two: every value a 2025-26 family reader takes from config.json or a GGUF file, the
NVML readings and the remembered settings. Each ends in a clear message (ModelFileError) or a correct
answer, quickly; never another exception, a hang, or a number no model could have."""

import copy
import json
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fixtures.tiny_config import TINY_LLAMA
from vramscope.sources.errors import MAX_PARAMETERS, ModelFileError
from vramscope.sources.gguf_file import architecture_from_gguf
from vramscope.sources.hf_config import architecture_from_config

CONFIGS = Path(__file__).parent / "fixtures" / "configs"


def config(name: str) -> dict[str, Any]:
    return json.loads((CONFIGS / name / "config.json").read_text(encoding="utf-8"))


def text(doc: dict[str, Any]) -> dict[str, Any]:
    """Where a multimodal config keeps the text model's keys."""
    return doc["text_config"] if isinstance(doc.get("text_config"), dict) else doc


GEMMA4, MIMO, V4, QWEN_VL = (
    "google__gemma-4-26B-A4B",
    "XiaomiMiMo__MiMo-V2-Flash",
    "deepseek-ai__DeepSeek-V4-Flash",
    "Qwen__Qwen3-VL-8B-Instruct",
)


@pytest.mark.parametrize(
    ("name", "key", "value", "message"),
    [
        (GEMMA4, "sliding_window", "4", "'sliding_window' must be a whole number"),
        (MIMO, "sliding_window", "4", "'sliding_window' must be a whole number"),
        (MIMO, "sliding_window", 1.5, "'sliding_window' must be a whole number"),
        (MIMO, "sliding_window", True, "'sliding_window' must be a whole number"),
        (GEMMA4, "sliding_window", 0, "sliding layers but 'sliding_window' gives no window"),
        (GEMMA4, "layer_types", ["foo_attention"] * 30, "unknown layer type 'foo_attention'"),
        (GEMMA4, "layer_types", "abc", "'layer_types' must be a list"),
        (MIMO, "hybrid_layer_pattern", "abc", "'hybrid_layer_pattern' must be a list"),
        (MIMO, "hybrid_layer_pattern", [2] * 48, "entries must be 0 (full) or 1 (sliding)"),
        (MIMO, "moe_layer_freq", ["0"] * 48, "entries must be 0 (dense) or 1 (MoE)"),
        (MIMO, "swa_v_head_dim", "4", "'swa_v_head_dim' must be a whole number"),
        (MIMO, "n_shared_experts", -1, "'n_shared_experts' must not be negative"),
        (V4, "compress_rates", {"compressed_sparse_attention": "a"}, "must be a whole number"),
        (V4, "compress_rates", {"heavily_compressed_attention": None, "compressed_sparse_attention": [1]}, "whole"),
        (V4, "compress_ratios", "abc", "'compress_ratios' must be a list"),
        (V4, "num_hash_layers", 10**6, "'num_hash_layers' must be from 0 to"),
        (V4, "mlp_layer_types", ["hash_moe"] * 1000, "'mlp_layer_types' has 1000 entries"),
    ],
)
def test_a_family_key_of_the_wrong_kind_is_refused_by_name(name: str, key: str, value: Any, message: str) -> None:
    doc = config(name)
    target = text(doc) if key in text(doc) or key != "compress_rates" else doc
    target[key] = value
    if name == V4 and key in ("num_hash_layers",):
        target.pop("mlp_layer_types", None)
    if name == V4 and key == "compress_ratios":
        target.pop("layer_types", None)
    with pytest.raises(ModelFileError, match=message.replace("(", r"\(").replace(")", r"\)")):
        architecture_from_config(doc)


def test_deepstack_indexes_must_name_vision_layers() -> None:
    doc = config(QWEN_VL)
    doc["vision_config"]["deepstack_visual_indexes"] = list(range(300_000))
    start = time.monotonic()
    with pytest.raises(ModelFileError, match="distinct vision layers below its depth"):
        architecture_from_config(doc)
    assert time.monotonic() - start < 2  # not a 12-trillion-parameter model built first
    doc["vision_config"]["deepstack_visual_indexes"] = ["a"]
    with pytest.raises(ModelFileError, match="deepstack_visual_indexes"):
        architecture_from_config(doc)


def test_sizes_no_model_could_have_are_refused() -> None:
    doc = {**TINY_LLAMA, "hidden_size": 2**40, "head_dim": 128}
    with pytest.raises(ModelFileError, match="beyond any real model"):
        architecture_from_config(doc)


LLAMA_GGUF = {
    "llama.block_count": 32,
    "llama.embedding_length": 4096,
    "llama.attention.head_count": 32,
    "llama.attention.head_count_kv": 8,
    "llama.vocab_size": 128256,
    "llama.feed_forward_length": 14336,
}


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("llama.embedding_length", 2**64 - 1, "is not a real model's"),
        ("llama.attention.head_count_kv", 1.5, "a whole number is needed"),
        ("llama.attention.head_count_kv", True, "a whole number is needed"),
        ("llama.attention.head_count_kv", "32", "a whole number is needed"),
        ("llama.feed_forward_length", [14336] * 31 + ["x"], "a whole number is needed"),
        ("llama.attention.value_length", 1.5, "a whole number is needed"),
        ("llama.context_length", -5, "is not a real model's"),
    ],
)
def test_a_gguf_size_that_is_no_size_is_refused(key: str, value: Any, message: str) -> None:
    with pytest.raises(ModelFileError, match=message):
        architecture_from_gguf({**LLAMA_GGUF, key: value}, "llama", tied=False)


def test_an_array_is_not_read_as_its_length() -> None:
    from vramscope.sources.gguf_file import _Counted

    with pytest.raises(ModelFileError, match="a whole number is needed"):
        architecture_from_gguf({**LLAMA_GGUF, "llama.embedding_length": _Counted(70_000)}, "llama", tied=False)


def test_negative_shared_experts_in_a_gguf_are_refused() -> None:
    meta = {k.replace("llama.", "deepseek2."): v for k, v in LLAMA_GGUF.items()}
    meta |= {"deepseek2.expert_count": 256, "deepseek2.expert_used_count": 8}
    meta |= {"deepseek2.expert_feed_forward_length": 2048, "deepseek2.expert_shared_count": -100_000}
    with pytest.raises(ModelFileError, match="is not a real model's"):
        architecture_from_gguf(meta, "deepseek2", tied=False)


def test_a_tensor_index_of_thousands_of_digits_is_no_layer() -> None:
    from vramscope.sources.tensor_names import classify

    assert classify(f"blk.{'9' * 5000}.attn_q.weight", (4, 4)).layer == -1


# --- the property: anything a family key can hold ends in an answer or a clear refusal ------------------

ODD = st.one_of(
    st.integers(min_value=-3, max_value=3),
    st.sampled_from([2**31, 2**40, 2**64 - 1, 10**300]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=4),
    st.booleans(),
    st.none(),
    st.lists(st.integers(min_value=-1, max_value=3), max_size=5),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
FAMILIES = (GEMMA4, MIMO, V4, QWEN_VL, "Qwen__Qwen3.5-35B-A3B", "deepseek-ai__DeepSeek-V3.2", "zai-org__GLM-5")
BASES = {name: config(name) for name in FAMILIES}


@st.composite
def mutated(draw: Any) -> dict[str, Any]:
    doc = copy.deepcopy(BASES[draw(st.sampled_from(FAMILIES))])
    keys = text(doc)
    names = sorted(k for k, v in keys.items() if isinstance(v, int | float | list | dict) and not isinstance(v, bool))
    for key in draw(st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True)):
        keys[key] = draw(ODD)
    return doc


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_any_value_of_any_family_key_is_an_answer_or_a_clear_refusal(doc: dict[str, Any]) -> None:
    start = time.monotonic()
    try:
        arch = architecture_from_config(doc)
    except ModelFileError:
        return
    finally:
        assert time.monotonic() - start < 2
    assert 0 < arch.parameter_count() <= MAX_PARAMETERS


# --- NVML readings and remembered settings -----------------------------------------------------------------

READINGS = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**64 - 1), st.sampled_from([0, 2**64 - 1, 2**63, 24 * 2**30])
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(READINGS, READINGS, READINGS)
def test_any_nvml_memory_reading_is_a_gpu_or_a_reason(
    monkeypatch: pytest.MonkeyPatch, total: int, used: int, reserved: int
) -> None:
    from tests.fixtures.fake_nvml import RTX4090, make_fake_pynvml
    from vramscope.hardware.probe import MAX_GPU_MEMORY_BYTES, probe

    monkeypatch.setitem(
        __import__("sys").modules, "pynvml", make_fake_pynvml([{**RTX4090, "memory": (total, used, reserved)}])
    )
    snapshot = probe(sysfs=Path("/nonexistent-sysfs"))
    for gpu in snapshot.usable_gpus():
        assert gpu.total_bytes is not None and 0 < gpu.total_bytes <= MAX_GPU_MEMORY_BYTES
        assert gpu.free_bytes is not None and 0 <= gpu.free_bytes <= gpu.total_bytes


SETTING_VALUES = st.one_of(
    st.text(max_size=30),
    st.integers(min_value=-(2**62), max_value=2**62),  # what Qt can store; an INI edited by hand reads as text
    st.lists(st.text(max_size=5), max_size=3),
    st.sampled_from(["{}", "[]", "null"]),
)
SETTING_KEYS = ("geometry", "model", "workload", "gpu_count", "engine", "engine_settings", "unit", "gpu_choice", "view")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.sampled_from(SETTING_KEYS), SETTING_VALUES, min_size=1))
def test_any_remembered_setting_leaves_a_working_window(
    qtbot: Any, tmp_path_factory: Any, values: dict[str, Any]
) -> None:
    from PySide6.QtCore import QSettings

    from vramscope.gui.app import build_window
    from vramscope.gui.scenario_settings import restore_settings

    path = tmp_path_factory.mktemp("settings") / "settings.ini"
    written = QSettings(str(path), QSettings.Format.IniFormat)
    for key, value in values.items():
        written.setValue(key, value)
    written.sync()
    w = build_window(settings=QSettings(str(path), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    restore_settings(w, w.settings)
    result = w.controller.result  # a scenario the window can show
    assert result.estimate.per_gpu and 1 <= w.controller.gpu_count <= 64


# --- GGUF per-family keys and engine logs: the same property, with the 2 s and 200 MB bounds ----------------


def gguf_bases() -> dict[str, dict[str, Any]]:
    from tests.fixtures.families import gemma4_meta, hybrid_meta
    from vramscope.sources.presets import load_preset

    gemma = load_preset("gemma-4-26b-a4b").architecture.model_copy(update={"vision": None})
    nemotron = load_preset("nemotron-h-56b").architecture
    ffn = [nemotron.intermediate_size if nemotron.ffn_kind(i).value == "dense" else 0 for i in range(52)]
    deepseek = {k.replace("llama.", "deepseek2."): v for k, v in LLAMA_GGUF.items()}
    deepseek |= {"deepseek2.expert_count": 256, "deepseek2.expert_used_count": 8}
    deepseek |= {"deepseek2.expert_feed_forward_length": 2048, "deepseek2.attention.kv_lora_rank": 512}
    return {
        "llama": LLAMA_GGUF,
        "gemma4": gemma4_meta(gemma),
        "nemotron_h": hybrid_meta("nemotron_h", nemotron, ffn[: nemotron.num_layers]),
        "deepseek2": deepseek,
    }


GGUF_BASES = gguf_bases()


@st.composite
def mutated_gguf(draw: Any) -> tuple[str, dict[str, Any]]:
    family = draw(st.sampled_from(sorted(GGUF_BASES)))
    meta = dict(GGUF_BASES[family])
    for key in draw(st.lists(st.sampled_from(sorted(meta)), min_size=1, max_size=3, unique=True)):
        meta[key] = draw(ODD)
    return family, meta


def bounded(read: Any) -> Any:
    """read() within 2 s and 200 MB of Python memory, or its clear refusal (None)."""
    import tracemalloc

    tracemalloc.start()
    start = time.monotonic()
    try:
        return read()
    except ModelFileError:
        return None
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert time.monotonic() - start < 2 and peak < 200 * 2**20


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_gguf())
def test_any_value_of_any_gguf_family_key_is_an_answer_or_a_clear_refusal(case: tuple[str, dict[str, Any]]) -> None:
    family, meta = case
    arch = bounded(lambda: architecture_from_gguf(meta, family, tied=False))
    assert arch is None or 0 < arch.parameter_count() <= MAX_PARAMETERS


def log_lines() -> list[str]:
    from tests.sources import test_engine_log as logs

    return [
        line
        for text in (logs.VLLM_V1, logs.VLLM_V0, logs.SGLANG, logs.LLAMA_SERVER, logs.BREAKDOWN, logs.OLLAMA)
        for line in text.splitlines()
    ]


LOG_LINES = log_lines()
HOSTILE_TEXT = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["1.2.3", ".", "9" * 400, "²", "\x1b[2J", "ollama", "sglang", "hf_abcdefgh123", "-c ", "\n"]),
    st.integers(1, 70_000).map(lambda n: "1" * n),
)


@st.composite
def hostile_log(draw: Any) -> str:
    lines = draw(st.lists(st.sampled_from(LOG_LINES), min_size=1, max_size=30))
    for _ in range(draw(st.integers(0, 4))):  # a figure or a word swapped for hostile text, or a line inserted
        i = draw(st.integers(0, len(lines) - 1))
        words = lines[i].split(" ")
        words[draw(st.integers(0, len(words) - 1))] = draw(HOSTILE_TEXT)
        lines[i] = " ".join(words)
    return "\n".join(lines) * draw(st.sampled_from([1, 1, 2, 1000]))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_log())
def test_any_engine_log_is_read_or_refused_within_bounds(text: str) -> None:
    from vramscope.logcheck import check, check_json
    from vramscope.sources.engine_log import read_engine_log

    log = bounded(lambda: read_engine_log(text))
    if log is not None:
        assert "hf_abcdefgh123" not in repr(log)
        with __import__("contextlib").suppress(ModelFileError, ValueError):
            json.dumps(check_json(check(log)))


def test_a_breakdown_line_with_a_device_name_of_70_kb_is_given_up_in_one_pass() -> None:
    # found by the test above: the name and the text after it overlapped, and each failing line cost n² steps
    line = "CUDA1 compute buffer size = 237.51 MiB |   - " + "1" * 70_000 + " (8060S) | 115200 = 120459 + (7132"
    from vramscope.sources.engine_log import read_engine_log

    bounded(lambda: read_engine_log("\n".join([line] * 1000)))
