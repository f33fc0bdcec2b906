"""DeepSeek-V3.2 and GLM-5 (families/deepseek.py, families/glm.py): the lightning indexer in llama.cpp's GGUF
keys, as llama.cpp counts it."""

import pytest

from tests.fixtures.families import gguf_meta
from vramscope.sources.errors import ModelFileError


@pytest.mark.parametrize("arch_name", ["deepseek32", "glm-dsa"])
def test_an_indexer_gguf_caches_its_key_beside_the_latent(arch_name: str) -> None:
    """DeepSeek-V3.2 / GLM-5 in llama.cpp's keys: the lightning indexer's key (attention.indexer.key_length)
    is cached beside the 512 + 64 latent (llama-kv-cache-dsa.cpp; measured: 64 of 64 runs exact)."""
    from vramscope.sources.gguf_file import architecture_from_gguf
    from vramscope.sources.presets import load_preset

    want = load_preset("deepseek-v3.2").architecture
    assert want.mla is not None and want.indexer is not None and want.moe is not None
    mla, moe = want.mla, want.moe
    meta = gguf_meta(
        arch_name,
        want,
        {
            "feed_forward_length": want.intermediate_size,
            "attention.head_count_kv": 1,
            "attention.key_length": mla.kv_lora_rank + mla.qk_rope_head_dim,
            "attention.value_length": mla.kv_lora_rank,
            "attention.key_length_mla": mla.qk_nope_head_dim + mla.qk_rope_head_dim,
            "attention.value_length_mla": mla.v_head_dim,
            "attention.q_lora_rank": mla.q_lora_rank,
            "attention.kv_lora_rank": mla.kv_lora_rank,
            "rope.dimension_count": mla.qk_rope_head_dim,
            "leading_dense_block_count": moe.first_dense_layers,
            "expert_count": moe.num_experts,
            "expert_used_count": moe.experts_per_token,
            "expert_feed_forward_length": moe.expert_intermediate_size,
            "expert_shared_count": 1,
            "attention.indexer.head_count": want.indexer.heads,
            "attention.indexer.key_length": want.indexer.head_dim,
        },
    )
    got = architecture_from_gguf(meta, arch_name, tied=False)
    assert got.indexer == want.indexer
    assert got.kv_elements_per_token(5) == 512 + 64 + 128
    assert got.kv_elements_per_token_total() == want.kv_elements_per_token_total()
    if arch_name == "glm-dsa":  # GLM 5.2 gives indexers to some layers only
        with pytest.raises(ModelFileError, match=r"per-layer indexer types \(GLM 5\.2\) is not read yet"):
            architecture_from_gguf(
                {**meta, "glm-dsa.attention.indexer.types": [1, 0] * 30 + [1]}, arch_name, tied=False
            )
