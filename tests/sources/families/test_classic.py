"""The 2019-23 families (families/classic.py): read from config.json and from llama.cpp's GGUF keys,
as transformers and llama.cpp count them."""

from vramscope.sources.hf_config import architecture_from_config

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
