"""The 2025-26 families read from their real config.json files (tests/data/configs, sources in SOURCES.md),
checked against transformers itself: parameters counted on the meta device, active parameters, cache bytes
per token and fixed state per sequence measured on a shrunk copy run on CPU (TRUTHS.json, written by
tests/benchmarks/crosscheck_transformers.py with transformers 5.24)."""

import json
from pathlib import Path
from typing import Any

import pytest

from vramscope.core.architecture import Architecture, Group
from vramscope.sources.errors import ModelFileError
from vramscope.sources.hf_config import architecture_from_config

CONFIGS = Path(__file__).resolve().parents[1] / "data" / "configs"
TRUTHS: dict[str, dict[str, Any]] = json.loads((CONFIGS / "TRUTHS.json").read_text())
MODELLED = [m for m, t in TRUTHS.items() if t["model_type"] != "deepseek_v4"]


def architecture(model_id: str) -> Architecture:
    config = json.loads((CONFIGS / model_id.replace("/", "__") / "config.json").read_text())
    return architecture_from_config(config)


def text_parameters(arch: Architecture) -> int:
    return arch.parameter_count() - sum(t.numel for t in arch.tensors() if t.group is Group.VISION)


def buffers(arch: Architecture) -> int:
    """Router score biases: stored and read by every token, but buffers to transformers."""
    return sum(t.numel for t in arch.tensors() if t.group is Group.BUFFER)


@pytest.mark.parametrize("model_id", MODELLED)
def test_parameters_equal_transformers(model_id: str) -> None:
    arch = architecture(model_id)
    truth = TRUTHS[model_id]
    assert text_parameters(arch) == truth["parameters"]
    assert arch.active_parameter_count() - buffers(arch) == truth["active_parameters"]


@pytest.mark.parametrize("model_id", MODELLED)
def test_cache_per_token_and_state_equal_the_measured_cache(model_id: str) -> None:
    arch = architecture(model_id)
    truth = TRUTHS[model_id]
    kinds = [arch.layer_kind(i) for i in range(arch.num_layers)]
    kv_truth = sum(
        truth["kv_bytes_per_token_bf16_by_layer_type"][name] * count
        for name, count in truth["layer_counts_by_type"].items()
    )
    state_truth = sum(
        truth["state_bytes_per_sequence_bf16_by_layer_type"].get(name, 0) * count
        for name, count in truth["layer_counts_by_type"].items()
    )
    assert arch.kv_elements_per_token_total() * 2 == kv_truth
    assert sum(arch.state_elements_per_sequence(i) for i in range(arch.num_layers)) * 2 == state_truth
    attention_layers = sum(1 for k in kinds if k.attends)
    attention_truth = sum(
        count for name, count in truth["layer_counts_by_type"].items() if "attention" in name and "linear" not in name
    )
    assert attention_layers == attention_truth or truth["model_type"] == "nemotron_h"


@pytest.mark.parametrize(
    ("model_id", "summary"),
    [
        ("Qwen/Qwen3.5-27B", "48/64 linear-attention layers"),
        ("meta-llama/Llama-4-Scout-17B-16E-Instruct", "36/48 layers chunked (8192)"),
        ("nvidia/Nemotron-H-56B-Base-8K", "54/118 Mamba layers"),
        ("deepseek-ai/DeepSeek-V3.2", "sparse-attention indexer"),
        ("XiaomiMiMo/MiMo-V2-Flash", "39/48 layers sliding (128)"),
    ],
)
def test_the_model_panel_names_the_layout(model_id: str, summary: str) -> None:
    assert summary in architecture(model_id).attention_summary()


def test_a_family_not_modelled_is_refused_by_name_never_miscounted() -> None:
    with pytest.raises(ModelFileError, match=r"compressed sparse attention .* is not modelled yet"):
        architecture("deepseek-ai/DeepSeek-V4-Flash")


def test_gemma4_global_layers_have_their_own_heads_and_no_value_projection() -> None:
    arch = architecture("google/gemma-4-26B-A4B")
    sliding, full = 0, 5  # five sliding layers, then a global one
    assert (arch.kv_heads(sliding), arch.head_dims(sliding)) == (8, (256, 256))
    assert (arch.kv_heads(full), arch.head_dims(full)) == (2, (512, 512))
    roles = {t.role for t in arch.tensors() if t.layer == full}
    assert "attn_v" not in roles and "attn_k" in roles  # the key doubles as the value; both are cached
    assert {"ffn_gate_shexp", "ffn_gate_exps", "ffn_gate_inp_scale", "post_ffw_norm_2"} <= roles


@pytest.mark.parametrize("key", ["hidden_size_per_layer_input", "num_kv_shared_layers"])
def test_gemma4_parts_not_modelled_are_refused_by_name(key: str) -> None:
    config = json.loads((CONFIGS / "google__gemma-4-26B-A4B" / "config.json").read_text())
    config["text_config"][key] = 256
    with pytest.raises(ModelFileError, match=f"'{key}' .* is not modelled yet"):
        architecture_from_config(config)


def test_an_unknown_family_missing_a_key_is_refused_naming_it() -> None:
    with pytest.raises(ModelFileError, match="lacks 'intermediate_size'"):
        architecture_from_config(
            {
                "model_type": "brand_new",
                "hidden_size": 64,
                "num_hidden_layers": 2,
                "num_attention_heads": 4,
                "vocab_size": 100,
            }
        )
