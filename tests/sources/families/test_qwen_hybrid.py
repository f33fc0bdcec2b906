"""Qwen3-Next and Qwen3.5 (families/qwen_hybrid.py): read from config.json and from llama.cpp's GGUF keys,
as transformers and llama.cpp count them."""

import pytest

from tests.fixtures.families import gguf_meta


@pytest.mark.parametrize(
    ("arch_name", "preset"),
    [("qwen3next", "qwen3-next-80b-a3b"), ("qwen35", "qwen3.5-27b"), ("qwen35moe", "qwen3.5-35b-a3b")],
)
def test_a_gated_deltanet_gguf_reads_as_its_config_does(arch_name: str, preset: str) -> None:
    """llama.cpp's qwen3next / qwen35 / qwen35moe keys: ssm.group_count key heads, ssm.time_step_rank value
    heads, ssm.state_size the key head size, ssm.inner_size all value heads together (measured on llama.cpp:
    64 of 64 runs exact for each)."""
    from vramscope.sources.gguf_file import architecture_from_gguf
    from vramscope.sources.presets import load_preset

    want = load_preset(preset).architecture.model_copy(update={"vision": None})  # the encoder is its own mmproj
    assert want.linear is not None
    lin, moe = want.linear, want.moe
    experts = (
        {
            "expert_count": moe.num_experts,
            "expert_used_count": moe.experts_per_token,
            "expert_feed_forward_length": moe.expert_intermediate_size,
            "expert_shared_feed_forward_length": moe.shared_intermediate_size,
        }
        if moe is not None
        else {}
    )
    meta = gguf_meta(
        arch_name,
        want,
        {
            "feed_forward_length": want.intermediate_size,
            "attention.head_count_kv": want.num_kv_heads,
            "attention.key_length": want.head_dim,
            "attention.value_length": want.head_dim,
            "ssm.conv_kernel": lin.conv_kernel,
            "ssm.state_size": lin.key_head_dim,
            "ssm.group_count": lin.key_heads,
            "ssm.time_step_rank": lin.value_heads,
            "ssm.inner_size": lin.value_heads * lin.value_head_dim,
            "full_attention_interval": 4,
            **experts,
        },
    )
    got = architecture_from_gguf(meta, arch_name, tied=want.tie_word_embeddings)
    assert got.parameter_count() == want.parameter_count()
    assert got.active_parameter_count() == want.active_parameter_count()
    assert got.layer_types == want.layer_types
    assert got.kv_elements_per_token_total() == want.kv_elements_per_token_total()
    states = [(got.state_elements_per_sequence(i), want.state_elements_per_sequence(i)) for i in range(4)]
    assert all(a == b for a, b in states) and got.state_fp32
