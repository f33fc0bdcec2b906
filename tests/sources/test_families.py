"""The 2025-26 families read from their real config.json files (tests/data/configs, sources in SOURCES.md),
checked against transformers itself: parameters counted on the meta device, active parameters, cache bytes
per token and fixed state per sequence measured on a shrunk copy run on CPU (TRUTHS.json, written by
tests/benchmarks/crosscheck_transformers.py with transformers 5.24)."""

import json
from pathlib import Path
from typing import Any

import pytest

from vramscope.core.architecture import Architecture, Group, LayerKind
from vramscope.sources.errors import ModelFileError
from vramscope.sources.hf_config import architecture_from_config

DATA = Path(__file__).resolve().parents[1] / "data"
CONFIGS = DATA / "configs"
# configs written for these tests where no real one was found (Falcon-H1, Granite 4 hybrid, Gemma 4 E2B/E4B
# layouts): built from the families' config classes, measured by the same script
SYNTHETIC = DATA / "configs_synthetic"
TRUTHS: dict[str, dict[str, Any]] = {
    **json.loads((CONFIGS / "TRUTHS.json").read_text()),
    **json.loads((SYNTHETIC / "TRUTHS.json").read_text()),
}
# DeepSeek-V4's window (128 tokens) holds the shrunk copy's whole run of 32..128 tokens: its per-token cache is
# checked past the window instead (test_deepseek_v4_caches_a_window_and_a_compressed_history)
WINDOWED_RUN = [m for m, t in TRUTHS.items() if t["model_type"] != "deepseek_v4"]


def architecture(model_id: str) -> Architecture:
    folder = SYNTHETIC if model_id.startswith("synthetic/") else CONFIGS
    config = json.loads((folder / model_id.replace("/", "__") / "config.json").read_text())
    return architecture_from_config(config)


def text_parameters(arch: Architecture) -> int:
    return arch.parameter_count() - sum(t.numel for t in arch.tensors() if t.group is Group.VISION)


def buffers(arch: Architecture) -> int:
    """Router score biases: stored and read by every token, but buffers to transformers."""
    return sum(t.numel for t in arch.tensors() if t.group is Group.BUFFER)


@pytest.mark.parametrize("model_id", list(TRUTHS))
def test_parameters_equal_transformers(model_id: str) -> None:
    arch = architecture(model_id)
    truth = TRUTHS[model_id]
    assert text_parameters(arch) == truth["parameters"]
    vision = arch.parameter_count() - text_parameters(arch)
    assert arch.active_parameter_count() - buffers(arch) - vision == truth["active_parameters"]
    assert vision == truth["vision_parameters"]  # SigLIP, Qwen-VL and Gemma 4 encoders, counted apart


@pytest.mark.parametrize("model_id", WINDOWED_RUN)
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
        count
        for name, count in truth["layer_counts_by_type"].items()
        # dummy: reads another layer's cache; hybrid: attention beside Mamba (Falcon-H1)
        if ("attention" in name and "linear" not in name) or name in ("dummy", "hybrid")
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


def test_deepseek_v4_caches_a_window_and_a_compressed_history() -> None:
    """Measured past the 128-token window (T = 1,024 and 2,048): a sparse layer adds a 512-wide entry and a
    128-wide indexer key every 4 tokens (320 B per token), a heavily compressed layer one entry every 128 (8 B);
    each keeps 127 tokens of its shared K/V, and a sparse layer its compressors' overlap (10,240 B at bf16)."""
    arch = architecture("deepseek-ai/DeepSeek-V4-Flash")
    per_type = TRUTHS["deepseek-ai/DeepSeek-V4-Flash"]["cache_detail"]["per_type"]
    sparse, heavy = per_type["compressed_sparse_attention"], per_type["heavily_compressed_attention"]
    sparse_layer, heavy_layer = 2, 3
    assert 2 * arch.kv_elements_per_token(sparse_layer) == sparse["kv_bytes_per_token_bf16_beyond_window"] == 320
    assert 2 * arch.kv_elements_per_token(heavy_layer) == heavy["kv_bytes_per_token_bf16_beyond_window"] == 8
    assert 2 * arch.state_elements_per_sequence(sparse_layer) == sparse["fixed_bytes_bf16_beyond_window"]
    assert 2 * arch.state_elements_per_sequence(heavy_layer) == heavy["fixed_bytes_bf16_beyond_window"]
    kinds = [arch.layer_kind(i) for i in range(arch.num_layers)]
    assert (kinds.count(LayerKind.SLIDING), kinds.count(LayerKind.COMPRESSED)) == (2, 41)
    assert "41/43 layers with a compressed history" in arch.attention_summary()


def test_gemma4_global_layers_have_their_own_heads_and_no_value_projection() -> None:
    arch = architecture("google/gemma-4-26B-A4B")
    sliding, full = 0, 5  # five sliding layers, then a global one
    assert (arch.kv_heads(sliding), arch.head_dims(sliding)) == (8, (256, 256))
    assert (arch.kv_heads(full), arch.head_dims(full)) == (2, (512, 512))
    roles = {t.role for t in arch.tensors() if t.layer == full}
    assert "attn_v" not in roles and "attn_k" in roles  # the key doubles as the value; both are cached
    assert {"ffn_gate_shexp", "ffn_gate_exps", "ffn_gate_inp_scale", "post_ffw_norm_2"} <= roles


def test_gemma4_small_layers_reuse_the_cache_and_widen_their_mlp() -> None:
    arch = architecture("synthetic/gemma4-ple-shared")  # 35 layers, the last 20 share, double-wide MLP
    first_shared = 15
    assert not arch.shares_kv(first_shared - 1) and arch.shares_kv(first_shared)
    assert arch.kv_elements_per_token(first_shared) == 0 < arch.kv_elements_per_token(first_shared - 1)
    roles = {t.role for t in arch.tensors() if t.layer == first_shared}
    assert "attn_q" in roles and not {"attn_k", "attn_v", "attn_k_norm"} & roles
    assert (arch.ffn_width(first_shared - 1), arch.ffn_width(first_shared)) == (6144, 12288)
    table = next(t for t in arch.tensors() if t.role == "per_layer_token_embd")
    assert table.shape == (262_144, 35 * 256)  # one row per token holds every layer's input
    assert "20/35 layers reuse an earlier layer's cache" in arch.attention_summary()


def test_gemma4_per_layer_embeddings_default_on_and_off_only_when_the_config_says() -> None:
    config = json.loads((CONFIGS / "google__gemma-4-26B-A4B" / "config.json").read_text())
    assert architecture_from_config(config).per_layer_input == 0  # 0 in the file
    del config["text_config"]["hidden_size_per_layer_input"]
    assert architecture_from_config(config).per_layer_input == 256  # transformers' default
    config["text_config"]["hidden_size_per_layer_input"] = None
    assert architecture_from_config(config).per_layer_input == 0


def test_an_assistant_gemma4_whose_every_layer_shares_is_refused_with_the_reason() -> None:
    config = json.loads((CONFIGS / "google__gemma-4-26B-A4B" / "config.json").read_text())
    config["text_config"]["num_kv_shared_layers"] = config["text_config"]["num_hidden_layers"]
    with pytest.raises(ModelFileError, match="assistant model"):
        architecture_from_config(config)


def test_falcon_h1_runs_attention_and_mamba_side_by_side_in_every_layer() -> None:
    arch = architecture("synthetic/falcon-h1")
    assert {arch.layer_kind(i) for i in range(arch.num_layers)} == {LayerKind.PARALLEL}
    roles = {t.role for t in arch.tensors() if t.layer == 0}
    assert {"attn_q", "attn_k", "ssm_in", "ssm_conv1d", "ffn_up"} <= roles
    assert "ssm_norm" not in roles  # mamba_rms_norm false
    assert "24/24 layers attention + Mamba in parallel" in arch.attention_summary()


def test_granite4_dense_has_the_shared_mlp_alone_and_moe_adds_experts() -> None:
    dense, moe = architecture("synthetic/granite-4-h-dense"), architecture("synthetic/granite-4-h-moe")
    assert dense.moe is None and dense.intermediate_size == 8192
    assert moe.moe is not None and moe.moe.shared_intermediate_size == 1024
    assert [i for i in range(moe.num_layers) if moe.layer_kind(i) is LayerKind.FULL] == [5, 15, 25, 35]


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


# --- never a silent miscount -------------------------------------------------------------------------------

REAL_CONFIGS = sorted(p.parent.name for p in [*CONFIGS.glob("*/config.json"), *SYNTHETIC.glob("*/config.json")])


@pytest.mark.parametrize("folder", REAL_CONFIGS)
def test_every_key_of_a_real_config_is_read_by_a_rule(folder: str) -> None:
    """A key no rule reads (StarCoder2's use_bias, a new gate) would be a silent miscount: each family module
    reads, or names as understood, every key of its real configs that may shape the network."""
    from vramscope.sources import hf_config
    from vramscope.sources.config_keys import ConfigKeys, unread_keys

    base = SYNTHETIC if folder.startswith("synthetic__") else CONFIGS
    config = json.loads((base / folder / "config.json").read_text())
    asked: set[str] = set()
    original = ConfigKeys.__init__

    def recording(self: ConfigKeys, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.asked = asked  # every reader's lookups into one set

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ConfigKeys, "__init__", recording)
        hf_config.architecture_from_config(config)
    text = config.get("text_config") if isinstance(config.get("text_config"), dict) else {}
    assert unread_keys({**config, **text}, asked) == []


UNKNOWN_FAMILY = {
    "model_type": "step3p7",  # Step-3.7-Flash's keys, as an unknown family would bring them
    "hidden_size": 4096,
    "num_hidden_layers": 4,
    "num_attention_heads": 32,
    "num_key_value_heads": 8,
    "intermediate_size": 11008,
    "vocab_size": 128_000,
    "use_head_wise_attn_gate": True,
    "use_qk_norm": True,
    "rms_norm_eps": 1e-5,
    "rope_theta": 10_000.0,
    "bos_token_id": 1,
}


def test_an_unknown_family_with_keys_the_shared_rules_do_not_read_is_refused_naming_them() -> None:
    with pytest.raises(ModelFileError, match=r"'step3p7' is not known .* use_head_wise_attn_gate, use_qk_norm"):
        architecture_from_config(UNKNOWN_FAMILY)


def test_an_unknown_family_the_shared_rules_understand_is_read_by_them() -> None:
    plain = {k: v for k, v in UNKNOWN_FAMILY.items() if not k.startswith("use_")}
    arch = architecture_from_config(plain)
    assert arch.model_type == "step3p7" and arch.num_kv_heads == 8
    assert arch.parameter_count() == 2 * 128_000 * 4096 + 4096 + 4 * (
        2 * 4096 * 4096 + 2 * 4096 * 1024 + 3 * 4096 * 11008 + 2 * 4096
    )


STARCODER2_7B = {  # bigcode/starcoder2-7b's sizes
    "model_type": "starcoder2",
    "hidden_size": 4608,
    "num_hidden_layers": 32,
    "num_attention_heads": 36,
    "num_key_value_heads": 4,
    "intermediate_size": 18432,
    "vocab_size": 49152,
    "max_position_embeddings": 16384,
    "sliding_window": None,
    "use_bias": True,
    "norm_type": "layer_norm",
}


def test_starcoder2_biases_follow_use_bias() -> None:
    """Starcoder2Config.use_bias puts biases on q, k, v, o, c_fc and c_proj: 33,280 a layer at 7B."""
    with_bias = architecture_from_config(STARCODER2_7B).parameter_count()
    without = architecture_from_config({**STARCODER2_7B, "use_bias": False}).parameter_count()
    assert with_bias - without == 32 * (4608 + 512 + 512 + 4608 + 18432 + 4608) == 32 * 33_280


def test_glm4_moe_biases_q_k_v_but_not_the_output_and_norms_q_k_per_head() -> None:
    config = json.loads((CONFIGS / "zai-org__GLM-4.7-FP8" / "config.json").read_text())
    plain = architecture_from_config(config)
    biased = architecture_from_config({**config, "attention_bias": True, "use_qk_norm": True})
    heads, kv, d = plain.num_attention_heads, plain.num_kv_heads, plain.head_dim
    assert biased.parameter_count() - plain.parameter_count() == plain.num_layers * ((heads + 2 * kv) * d + 2 * d)
