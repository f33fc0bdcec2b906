import pytest

from tests.facts import MODEL_FACTS, ModelFact
from vramscope.core.architecture import Architecture, Group, LayerKind
from vramscope.core.estimate import kv_bytes_per_token
from vramscope.core.precision import KV_DTYPES
from vramscope.sources.presets import load_preset


@pytest.mark.parametrize("fact", MODEL_FACTS, ids=lambda f: f.preset)
def test_parameter_count_is_exact(fact: ModelFact) -> None:
    arch = load_preset(fact.preset).architecture
    vision = sum(t.numel for t in arch.tensors() if t.group is Group.VISION)
    assert vision == fact.vision or fact.preset.startswith("gemma-3")  # Gemma 3's facts count the tower in
    assert arch.parameter_count() == fact.parameters + fact.vision


@pytest.mark.parametrize("fact", MODEL_FACTS, ids=lambda f: f.preset)
def test_kv_bytes_per_token_in_bf16(fact: ModelFact) -> None:
    arch = load_preset(fact.preset).architecture
    assert kv_bytes_per_token(arch, KV_DTYPES["bf16"]) == fact.kv_bytes_per_token


@pytest.mark.parametrize("fact", [f for f in MODEL_FACTS if f.active], ids=lambda f: f.preset)
def test_active_parameters_of_moe(fact: ModelFact) -> None:
    assert load_preset(fact.preset).architecture.active_parameter_count() == fact.active + fact.vision


def test_dense_model_is_all_active() -> None:
    arch = load_preset("llama-3.1-8b").architecture
    assert arch.active_parameter_count() == arch.parameter_count()


def tiny(**changes: object) -> Architecture:
    fields: dict[str, object] = {
        "model_type": "llama",
        "vocab_size": 100,
        "hidden_size": 16,
        "num_layers": 2,
        "num_attention_heads": 4,
        "num_kv_heads": 2,
        "head_dim": 4,
        "intermediate_size": 32,
        "max_context": 1024,
    }
    return Architecture.model_validate({**fields, **changes})


def test_tiny_llama_counted_by_hand() -> None:
    # embed 100*16, per layer: q 16*16, k 8*16, v 8*16, o 16*16, gate/up/down 3*16*32, two norms 2*16;
    # final norm 16; untied head 100*16
    per_layer = 256 + 128 + 128 + 256 + 3 * 512 + 32
    assert tiny().parameter_count() == 1600 + 2 * per_layer + 16 + 1600
    assert tiny(tie_word_embeddings=True).parameter_count() == 1600 + 2 * per_layer + 16


def test_explicit_head_dim_differs_from_hidden_over_heads() -> None:
    arch = tiny(head_dim=8)  # 4 heads x 8 = 32 != hidden 16 (as in Qwen3, Gemma)
    q, o = 16 * 32, 32 * 16
    assert arch.parameter_count() - tiny().parameter_count() == 2 * ((q + o + 2 * 16 * 16) - (256 + 256 + 256))


def test_per_layer_kv_heads() -> None:
    arch = tiny(kv_heads_per_layer=(1, 2))
    assert arch.kv_elements_per_token_total() == 1 * 8 + 2 * 8


def test_layer_types_must_match_layers() -> None:
    with pytest.raises(ValueError, match="layer_types"):
        tiny(layer_types=(LayerKind.FULL,))


def test_sliding_layers_need_a_window() -> None:
    with pytest.raises(ValueError, match="sliding_window"):
        tiny(layer_types=(LayerKind.SLIDING, LayerKind.FULL))


def test_attention_summary_names_the_kind() -> None:
    assert load_preset("llama-3.1-8b").architecture.attention_summary() == "GQA 32/8"
    assert load_preset("deepseek-v3").architecture.attention_summary().startswith("MLA")
    assert "10/62" not in load_preset("gemma-3-27b").architecture.attention_summary()
    assert "52/62 layers sliding (1024)" in load_preset("gemma-3-27b").architecture.attention_summary()
    assert "28/32 Mamba" in load_preset("jamba-v0.1").architecture.attention_summary()


def test_custom_architecture_recovers_a_real_model() -> None:
    from vramscope.core.architecture import custom_architecture

    # Llama-3.1-8B's sizes give back its MLP width and so its exact count
    arch = custom_architecture(8_030_261_248, 32, 4096, 8, 128)
    assert arch.intermediate_size == 14336
    assert arch.parameter_count() == 8_030_261_248
    assert arch.num_attention_heads == 32


def test_custom_architecture_lands_near_the_target() -> None:
    from vramscope.core.architecture import custom_architecture

    arch = custom_architecture(30_000_000_000, 60, 6656, 8, 128)
    assert arch.num_kv_heads == 8
    assert abs(arch.parameter_count() - 30_000_000_000) < 3 * 60 * 6656  # within one MLP column
