"""GLM-4.x and GLM-5 (families/glm.py): read from config.json and from llama.cpp's GGUF keys,
as transformers and llama.cpp count them."""

import json

from tests.fixtures.families import CONFIGS
from vramscope.sources.hf_config import architecture_from_config


def test_glm4_moe_biases_q_k_v_but_not_the_output_and_norms_q_k_per_head() -> None:
    config = json.loads((CONFIGS / "zai-org__GLM-4.7-FP8" / "config.json").read_text())
    plain = architecture_from_config(config)
    biased = architecture_from_config({**config, "attention_bias": True, "use_qk_norm": True})
    heads, kv, d = plain.num_attention_heads, plain.num_kv_heads, plain.head_dim
    assert biased.parameter_count() - plain.parameter_count() == plain.num_layers * ((heads + 2 * kv) * d + 2 * d)
