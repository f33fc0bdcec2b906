"""GLM-4.x and GLM-5 (families/glm.py): read from config.json and from llama.cpp's GGUF keys,
as transformers and llama.cpp count them."""

import json

import pytest

from tests.fixtures.families import CONFIGS
from vramscope.sources.errors import ModelFileError
from vramscope.sources.hf_config import architecture_from_config


def test_glm4_moe_biases_q_k_v_but_not_the_output_and_norms_q_k_per_head() -> None:
    config = json.loads((CONFIGS / "zai-org__GLM-4.7-FP8" / "config.json").read_text())
    plain = architecture_from_config(config)
    biased = architecture_from_config({**config, "attention_bias": True, "use_qk_norm": True})
    heads, kv, d = plain.num_attention_heads, plain.num_kv_heads, plain.head_dim
    assert biased.parameter_count() - plain.parameter_count() == plain.num_layers * ((heads + 2 * kv) * d + 2 * d)


def test_glm52_shared_indexer_layers_cache_the_latent_alone() -> None:
    """GLM-5.2's indexer_types: a "shared" layer reuses the previous full layer's top-k, so it has no
    indexer weights and caches no indexer key (measured: 95,232 B per token at bf16, not 109,824)."""
    from tests.fixtures.families import architecture

    arch = architecture("zai-org/GLM-5.2")
    assert arch.indexer is not None and len(arch.indexer.skip_layers) == 57
    full, shared = 0, arch.indexer.skip_layers[0]
    assert arch.kv_elements_per_token(full) - arch.kv_elements_per_token(shared) == arch.indexer.head_dim
    roles = {t.role for t in arch.tensors() if t.layer == shared}
    assert "indexer_k" not in roles and "attn_kv_a_mqa" in roles
    assert 2 * arch.kv_elements_per_token_total() == 95_232


def test_glm5_indexer_schedule_from_its_frequency() -> None:
    config = json.loads((CONFIGS / "zai-org__GLM-5.2" / "config.json").read_text())
    listed = architecture_from_config(config)
    scheduled = {k: v for k, v in config.items() if k != "indexer_types"}
    assert architecture_from_config(scheduled).indexer == listed.indexer  # freq 4 after offset 3
    with pytest.raises(ModelFileError, match="'indexer_types' must give full or shared"):
        architecture_from_config({**config, "indexer_types": ["full"] * 77 + ["partial"]})
