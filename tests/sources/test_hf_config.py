"""Configs written with the keys real Hugging Face files use give the preset's numbers."""

import json
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.tiny_config import TINY_LLAMA
from vramscope.core.architecture import Rotary
from vramscope.core.estimate import kv_bytes_per_token
from vramscope.core.precision import KV_DTYPES
from vramscope.sources.errors import ModelFileError
from vramscope.sources.hf_config import architecture_from_config, native_format, read_config_file
from vramscope.sources.presets import load_preset

LLAMA_3_1_8B = {
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "hidden_size": 4096,
    "intermediate_size": 14336,
    "num_hidden_layers": 32,
    "num_attention_heads": 32,
    "num_key_value_heads": 8,
    "vocab_size": 128256,
    "max_position_embeddings": 131072,
    "tie_word_embeddings": False,
    "torch_dtype": "bfloat16",
    "rope_scaling": {"factor": 8.0, "rope_type": "llama3"},
}
GEMMA_3_27B = {  # multimodal: the language model nests under text_config, with defaults left out
    "model_type": "gemma3",
    "torch_dtype": "bfloat16",
    "text_config": {
        "model_type": "gemma3_text",
        "head_dim": 128,
        "hidden_size": 5376,
        "intermediate_size": 21504,
        "num_attention_heads": 32,
        "num_hidden_layers": 62,
        "num_key_value_heads": 16,
        "rope_scaling": {"factor": 8.0, "rope_type": "linear"},
        "sliding_window": 1024,
    },
    "vision_config": {
        "hidden_size": 1152,
        "image_size": 896,
        "intermediate_size": 4304,
        "model_type": "siglip_vision_model",
        "num_hidden_layers": 27,
        "patch_size": 14,
    },
}
DEEPSEEK_V3 = {
    "model_type": "deepseek_v3",
    "hidden_size": 7168,
    "intermediate_size": 18432,
    "moe_intermediate_size": 2048,
    "n_routed_experts": 256,
    "n_shared_experts": 1,
    "num_experts_per_tok": 8,
    "first_k_dense_replace": 3,
    "moe_layer_freq": 1,
    "num_hidden_layers": 61,
    "num_attention_heads": 128,
    "num_key_value_heads": 128,
    "q_lora_rank": 1536,
    "kv_lora_rank": 512,
    "qk_nope_head_dim": 128,
    "qk_rope_head_dim": 64,
    "v_head_dim": 128,
    "vocab_size": 129280,
    "max_position_embeddings": 163840,
    "tie_word_embeddings": False,
    "topk_method": "noaux_tc",
    "quantization_config": {"quant_method": "fp8", "fmt": "e4m3", "weight_block_size": [128, 128]},
}
GPT_OSS_20B = {
    "model_type": "gpt_oss",
    "attention_bias": True,
    "head_dim": 64,
    "hidden_size": 2880,
    "intermediate_size": 2880,
    "max_position_embeddings": 131072,
    "num_attention_heads": 64,
    "num_experts_per_tok": 4,
    "num_hidden_layers": 24,
    "num_key_value_heads": 8,
    "num_local_experts": 32,
    "sliding_window": 128,
    "tie_word_embeddings": False,
    "vocab_size": 201088,
    "layer_types": ["sliding_attention", "full_attention"] * 12,
    "quantization_config": {"quant_method": "mxfp4"},
}
FALCON_7B_REFINEDWEB = {  # the original RefinedWeb key names
    "model_type": "RefinedWebModel",
    "hidden_size": 4544,
    "n_head": 71,
    "n_layer": 32,
    "multi_query": True,
    "parallel_attn": True,
    "bias": False,
    "vocab_size": 65024,
    "torch_dtype": "bfloat16",
}
JAMBA = {
    "model_type": "jamba",
    "hidden_size": 4096,
    "intermediate_size": 14336,
    "num_hidden_layers": 32,
    "num_attention_heads": 32,
    "num_key_value_heads": 8,
    "num_experts": 16,
    "num_experts_per_tok": 2,
    "expert_layer_offset": 1,
    "expert_layer_period": 2,
    "attn_layer_offset": 4,
    "attn_layer_period": 8,
    "mamba_d_state": 16,
    "mamba_d_conv": 4,
    "mamba_expand": 2,
    "mamba_dt_rank": 256,
    "mamba_conv_bias": True,
    "mamba_proj_bias": False,
    "vocab_size": 65536,
    "max_position_embeddings": 262144,
    "tie_word_embeddings": False,
}


@pytest.mark.parametrize(
    ("config", "preset"),
    [
        (LLAMA_3_1_8B, "llama-3.1-8b"),
        (GEMMA_3_27B, "gemma-3-27b"),
        (DEEPSEEK_V3, "deepseek-v3"),
        (GPT_OSS_20B, "gpt-oss-20b"),
        (FALCON_7B_REFINEDWEB, "falcon-7b"),
        (JAMBA, "jamba-v0.1"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_config_gives_the_presets_numbers(config: dict[str, Any], preset: str) -> None:
    arch = architecture_from_config(config)
    expected = load_preset(preset)
    assert arch.parameter_count() == expected.architecture.parameter_count()
    assert arch.active_parameter_count() == expected.architecture.active_parameter_count()
    assert kv_bytes_per_token(arch, KV_DTYPES["bf16"]) == kv_bytes_per_token(expected.architecture, KV_DTYPES["bf16"])
    assert arch == expected.architecture
    assert native_format(config) == expected.native_format


def test_native_format_from_quantization_config() -> None:
    assert native_format({"quantization_config": {"quant_method": "awq", "group_size": 64}}) == "awq-int4-g64"
    assert native_format({"torch_dtype": "float16"}) == "fp16"
    assert native_format({"quantization_config": {"quant_method": "bitsandbytes", "load_in_4bit": True}}) == "nf4"


def test_missing_key_is_named() -> None:
    config = {k: v for k, v in LLAMA_3_1_8B.items() if k != "hidden_size"}
    with pytest.raises(ModelFileError, match="lacks 'hidden_size'"):
        architecture_from_config(config)


@pytest.mark.parametrize("value", [0, -4, "many", 3.5, True])
def test_bad_sizes_are_named(value: object) -> None:
    with pytest.raises(ModelFileError, match="'num_hidden_layers'"):
        architecture_from_config({**LLAMA_3_1_8B, "num_hidden_layers": value})


def test_impossible_model_is_reported() -> None:
    with pytest.raises(ModelFileError, match="num_key_value_heads"):
        architecture_from_config({**LLAMA_3_1_8B, "num_key_value_heads": 64})


def test_not_json(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text("{ not json")
    with pytest.raises(ModelFileError, match="not valid JSON"):
        read_config_file(path)


def test_not_an_object(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps([1, 2]))
    with pytest.raises(ModelFileError, match="JSON object"):
        read_config_file(path)


def test_deep_nesting_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ModelFileError):
        read_config_file(path)


HOSTILE_BASE = {k: v for k, v in TINY_LLAMA.items() if k != "max_position_embeddings"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"num_hidden_layers": 1_000_000_000}, "beyond any real model"),
        ({"tie_word_embeddings": "false"}, "must be true or false"),
        ({"num_key_value_heads": 3}, r"num_key_value_heads \(3\) must divide num_attention_heads \(4\)"),
        (
            {
                "model_type": "gemma3",
                "vision_config": {
                    "hidden_size": 8,
                    "intermediate_size": 8,
                    "num_hidden_layers": 10**9,
                    "patch_size": 1,
                    "image_size": 2,
                },
            },
            "impossible model",
        ),
    ],
)
def test_hostile_configs_end_at_once(change: dict[str, object], message: str) -> None:
    import time

    start = time.monotonic()
    with pytest.raises(ModelFileError, match=message):
        architecture_from_config({**HOSTILE_BASE, **change})
    assert time.monotonic() - start < 2  # a guard against building a billion layers, not a benchmark


@pytest.mark.parametrize(
    ("change", "rotary"),
    [
        ({}, None),
        ({"rope_scaling": {"rope_type": "llama3", "factor": 8.0}}, None),  # keeps max_position_embeddings rows
        ({"rope_scaling": {"type": "linear", "factor": 4}}, Rotary(scaling="linear", factor=4)),
        (
            {"rope_scaling": {"type": "deepseek_yarn", "factor": 40, "original_max_position_embeddings": 4096}},
            Rotary(scaling="yarn", factor=40, original_max_context=4096),
        ),
        ({"partial_rotary_factor": 0.25}, Rotary(fraction=0.25)),
        ({"rotary_dim": 8}, Rotary(fraction=0.5)),  # TINY_LLAMA's heads are 16 wide
        (  # transformers 5 writes the settings by layer type
            {
                "rope_parameters": {
                    "full_attention": {"rope_type": "linear", "factor": 8.0},
                    "sliding_attention": {"rope_type": "default", "rope_theta": 10000.0},
                }
            },
            Rotary(scaling="linear", factor=8, local_table=True),
        ),
        (
            {"rope_parameters": {"rope_type": "default", "partial_rotary_factor": 0.5, "mrope_section": [2, 2]}},
            Rotary(fraction=0.5),
        ),
    ],
)
def test_rotary_settings_as_the_engines_read_them(change: dict[str, object], rotary: Rotary | None) -> None:
    assert architecture_from_config({**TINY_LLAMA, **change}).rotary == rotary


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"rope_scaling": {"type": "linear", "factor": "8"}}, "'rope factor' must be a number"),
        ({"rope_scaling": {"type": "yarn", "factor": 1e9}}, "impossible rotary settings"),
        ({"partial_rotary_factor": 3.0}, "impossible rotary settings"),
        ({"rotary_dim": float("nan")}, "'rotary_dim' must be a number"),
    ],
)
def test_impossible_rotary_settings_are_named(change: dict[str, object], message: str) -> None:
    with pytest.raises(ModelFileError, match=message):
        architecture_from_config({**TINY_LLAMA, **change})
