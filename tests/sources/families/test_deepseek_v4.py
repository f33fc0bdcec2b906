"""DeepSeek-V4 (families/deepseek_v4.py): read from config.json and from llama.cpp's GGUF keys,
as transformers and llama.cpp count them."""

import pytest

from tests.fixtures.families import TRUTHS, architecture
from vramscope.core.architecture import LayerKind
from vramscope.sources.errors import ModelFileError


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


def test_a_deepseek4_gguf_is_refused_by_name_not_miscounted() -> None:
    from vramscope.sources.gguf_file import architecture_from_gguf

    with pytest.raises(ModelFileError, match=r"deepseek4 is not read yet: .*config\.json folder"):
        architecture_from_gguf({"deepseek4.block_count": 43}, "deepseek4", tied=False)
