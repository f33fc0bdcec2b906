"""The 2025-26 families read from their real config.json files (tests/fixtures/configs, sources in SOURCES.md),
checked against transformers itself: parameters counted on the meta device, active parameters, cache bytes
per token and fixed state per sequence measured on a shrunk copy run on CPU (TRUTHS.json, written by
tests/truths/crosscheck_transformers.py with transformers 5.24)."""

import contextlib
import json
from typing import Any

import pytest

from tests.fixtures.families import CONFIGS, SYNTHETIC, TRUTHS, architecture
from vramscope.core.architecture import Architecture, Group
from vramscope.sources.errors import ModelFileError
from vramscope.sources.hf_config import architecture_from_config

# configs written for these tests where no real one was found (Falcon-H1, Granite 4 hybrid, Gemma 4 E2B/E4B
# layouts): built from the families' config classes, measured by the same script
# DeepSeek-V4's window (128 tokens) holds the shrunk copy's whole run of 32..128 tokens: its per-token cache is
# checked past the window instead (test_deepseek_v4_caches_a_window_and_a_compressed_history)
WINDOWED_RUN = [m for m, t in TRUTHS.items() if t["model_type"] != "deepseek_v4"]


def text_parameters(arch: Architecture) -> int:
    return arch.parameter_count() - sum(t.numel for t in arch.tensors() if t.group is Group.VISION)


def buffers(arch: Architecture) -> int:
    """Router score biases: stored and read by every token, but buffers to transformers."""
    return sum(t.numel for t in arch.tensors() if t.group is Group.BUFFER)


# encoders the core does not build: the model panel names them as not counted (test below)
UNBUILT_ENCODERS = {"moonshotai/Kimi-K2.5": "MoonViT", "nvidia/MiniMax-M3-NVFP4": "MiniMax-M3-VL's encoder"}


@pytest.mark.parametrize("model_id", list(TRUTHS))
def test_parameters_equal_transformers(model_id: str) -> None:
    arch = architecture(model_id)
    truth = TRUTHS[model_id]
    assert text_parameters(arch) == truth["parameters"]
    vision = arch.parameter_count() - text_parameters(arch)
    assert arch.active_parameter_count() - buffers(arch) - vision == truth["active_parameters"]
    expected = 0 if model_id in UNBUILT_ENCODERS else truth["vision_parameters"]
    assert vision == expected  # SigLIP, Qwen-VL and Gemma 4 encoders, counted apart


@pytest.mark.parametrize("model_id", list(UNBUILT_ENCODERS))
def test_an_encoder_the_core_does_not_build_is_named_as_not_counted(model_id: str) -> None:
    from vramscope.core.scenario import Source
    from vramscope.sources.hf_folder import spec_from_config

    config = json.loads((CONFIGS / model_id.replace("/", "__") / "config.json").read_text())
    spec = spec_from_config(config, model_id, Source.CONFIG, "config.json")
    assert "the vision encoder in config.json is not counted" in spec.source_detail


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
        # dummy: reads another layer's cache; hybrid: attention beside Mamba (Falcon-H1); MiniMax-M3's indexed layers
        if ("attention" in name and "linear" not in name) or name in ("dummy", "hybrid", "minimax_m3_sparse")
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
    "model_type": "brand_new_2027",  # keys of a family not seen yet (a head-wise gate, q/k norms)
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
    with pytest.raises(ModelFileError, match=r"'brand_new_2027' is not known .* use_head_wise_attn_gate, use_qk_norm"):
        architecture_from_config(UNKNOWN_FAMILY)


def test_an_unknown_family_the_shared_rules_understand_is_read_by_them() -> None:
    plain = {k: v for k, v in UNKNOWN_FAMILY.items() if not k.startswith("use_")}
    arch = architecture_from_config(plain)
    assert arch.model_type == "brand_new_2027" and arch.num_kv_heads == 8
    assert arch.parameter_count() == 2 * 128_000 * 4096 + 4096 + 4 * (
        2 * 4096 * 4096 + 2 * 4096 * 1024 + 3 * 4096 * 11008 + 2 * 4096
    )


@pytest.mark.parametrize(
    "folder", ["zai-org__GLM-4.7-FP8", "moonshotai__Kimi-K2-Instruct", "deepseek-ai__DeepSeek-V3.2"]
)
def test_the_shared_rules_name_every_key_they_ask_for(folder: str) -> None:
    """_SHARED_KEYS (what an unknown family's refusal leaves out) holds every key the shared rules ask for."""
    from vramscope.sources import hf_config
    from vramscope.sources.config_keys import ConfigKeys

    config = {**json.loads((CONFIGS / folder / "config.json").read_text()), "model_type": "unknown_to_us"}
    asked: set[str] = set()
    original = ConfigKeys.__init__

    def recording(self: ConfigKeys, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.asked = asked

    with pytest.MonkeyPatch.context() as patch, contextlib.suppress(ModelFileError):
        patch.setattr(ConfigKeys, "__init__", recording)
        hf_config.architecture_from_config(config)
    assert asked - hf_config._SHARED_KEYS == set()
