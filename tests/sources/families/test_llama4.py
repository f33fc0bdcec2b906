"""Llama 4 (families/llama4.py): read from config.json and from llama.cpp's GGUF keys,
as transformers and llama.cpp count them."""

import pytest

from tests.fixtures.families import gguf_meta


@pytest.mark.parametrize("preset", ["llama-4-scout-17b-16e", "llama-4-maverick-17b-128e"])
def test_a_llama4_gguf_reads_as_its_config_does(preset: str) -> None:
    """llama.cpp's llama4 keys (llama4.cpp): a shared expert as wide as the experts, MoE every
    interleave_moe_layer_step-th layer, chunked attention on three layers of four."""
    from vramscope.sources.gguf_file import architecture_from_gguf
    from vramscope.sources.presets import load_preset

    want = load_preset(preset).architecture
    assert want.moe is not None
    meta = gguf_meta(
        "llama4",
        want,
        {
            "feed_forward_length": want.intermediate_size,
            "attention.head_count_kv": want.num_kv_heads,
            "expert_count": want.moe.num_experts,
            "expert_used_count": want.moe.experts_per_token,
            "expert_feed_forward_length": want.moe.expert_intermediate_size,
            "interleave_moe_layer_step": want.moe.layer_period,
        },
    )
    got = architecture_from_gguf(meta, "llama4", tied=False)
    assert got.parameter_count() == want.parameter_count()  # 107,769,861,120 / 400,711,848,960
    assert got.active_parameter_count() == want.active_parameter_count()
    assert got.layer_types == want.layer_types and got.sliding_window == 8192
    assert got.kv_elements_per_token_total() == want.kv_elements_per_token_total()
    unchunked = architecture_from_gguf({**meta, "llama4.attention.sliding_window": 0}, "llama4", tied=False)
    assert not unchunked.layer_types  # a file that turns chunking off: every layer full
