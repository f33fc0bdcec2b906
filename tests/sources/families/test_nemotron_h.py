"""Nemotron-H and Nemotron 3 (families/nemotron_h.py): read from config.json and from llama.cpp's GGUF keys,
as transformers and llama.cpp count them."""

import pytest

from tests.fixtures.families import architecture, hybrid_meta


def test_a_nemotron_h_gguf_reads_as_its_config_does() -> None:
    """llama.cpp's nemotron_h keys: per-layer K/V heads and feed-forward lengths say which layers attend,
    which are MLPs and which are Mamba-2."""
    from vramscope.sources.gguf_file import architecture_from_gguf
    from vramscope.sources.presets import load_preset

    want = load_preset("nemotron-h-56b").architecture
    ffn = [want.intermediate_size if want.ffn_kind(i).value == "dense" else 0 for i in range(want.num_layers)]
    meta = hybrid_meta("nemotron_h", want, ffn)
    got = architecture_from_gguf(meta, "nemotron_h", tied=False)
    assert got.parameter_count() == want.parameter_count() == 56_324_350_464
    assert got.layer_types == want.layer_types and got.ffn_types == want.ffn_types
    assert got.kv_elements_per_token_total() == want.kv_elements_per_token_total()
    assert [got.state_elements_per_sequence(i) for i in range(4)] == [
        want.state_elements_per_sequence(i) for i in range(4)
    ]


@pytest.mark.parametrize("source", ["nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-BF16", "synthetic/nemotron-h-latent-moe"])
def test_a_nemotron_h_moe_gguf_reads_as_its_config_does(source: str) -> None:
    """Nemotron 3 (nemotron_h_moe): the feed-forward layers are routed experts beside a shared expert, in a
    latent width when moe_latent_size is set (measured on llama.cpp: 64 of 64 runs exact)."""
    from vramscope.sources.gguf_file import architecture_from_gguf

    want = architecture(source)
    moe = want.moe
    assert moe is not None
    meta = hybrid_meta(
        "nemotron_h_moe",
        want,
        [moe.expert_intermediate_size if want.is_moe_layer(i) else 0 for i in range(want.num_layers)],
        expert_count=moe.num_experts,
        expert_used_count=moe.experts_per_token,
        expert_feed_forward_length=moe.expert_intermediate_size,
        expert_shared_feed_forward_length=moe.shared_intermediate_size,
        moe_latent_size=moe.latent_size,
    )
    got = architecture_from_gguf(meta, "nemotron_h_moe", tied=want.tie_word_embeddings)
    assert got.parameter_count() == want.parameter_count()
    assert got.active_parameter_count() == want.active_parameter_count()
    assert got.ffn_types == want.ffn_types
    assert got.kv_elements_per_token_total() == want.kv_elements_per_token_total()


def test_nemotron3_ultra_counts_its_layers_in_the_block_list() -> None:
    """NemotronHConfig takes the layer count from layers_block_type (Ultra's config has no num_hidden_layers)."""
    from tests.fixtures.families import architecture

    arch = architecture("nvidia/NVIDIA-Nemotron-3-Ultra-550B-A55B-BF16")
    assert arch.num_layers == 108 and arch.moe is not None and arch.moe.latent_size == 2048
