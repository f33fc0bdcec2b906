"""The families of 2019-23 whose config.json says everything but the block's build: GPT-2, GPT-NeoX, GPT-J,
OPT, BLOOM, Falcon, Phi, StarCoder2, OLMo 2 and the Llama-style default."""

from vramscope.sources.config_keys import ConfigKeys
from vramscope.sources.families.family import Family, Fields, Shape


def _gpt2(k: ConfigKeys, shape: Shape, fields: Fields, outer: ConfigKeys) -> Fields:
    """GPT-2: biases everywhere and learned positions."""
    return {"qkv_bias": True, "o_bias": True, "mlp_bias": True, "learned_positions": shape.max_context}


def _falcon(k: ConfigKeys, shape: Shape, fields: Fields, outer: ConfigKeys) -> Fields:
    """Falcon: the first models share one K/V head (multi_query) and one LayerNorm feeding the parallel
    attention and MLP; the new decoder architecture (40B, 180B) has K/V groups and two norms."""
    if k.flag("new_decoder_architecture"):
        return {"num_kv_heads": k.int("num_kv_heads", "n_head_kv", default=shape.heads)}
    return {"num_kv_heads": 1 if k.flag("multi_query", default=True) else shape.heads, "norms_per_layer": 1}


def _starcoder2(k: ConfigKeys, shape: Shape, fields: Fields, outer: ConfigKeys) -> Fields:
    """StarCoder2: use_bias puts biases on q, k, v, o and both MLP matrices."""
    bias = k.flag("use_bias", default=True)
    return {"qkv_bias": bias, "o_bias": bias, "mlp_bias": bias}


FAMILIES = (
    Family(
        ("gpt2",),
        ("gpt2",),
        defaults={"tie_word_embeddings": True},
        gated_mlp=False,
        layer_norm=True,
        fused_qkv=True,
        ffn_multiple=4,
        config_fields=_gpt2,
    ),
    Family(
        ("falcon", "RefinedWebModel", "RefinedWeb"),
        ("falcon",),
        defaults={"tie_word_embeddings": True, "max_position_embeddings": 2048},
        gated_mlp=False,
        layer_norm=True,
        fused_qkv=True,
        ffn_multiple=4,
        config_fields=_falcon,
    ),
    Family(("gpt_neox",), ("gptneox",), gated_mlp=False, layer_norm=True, fused_qkv=True),
    Family(("gptj",), ("gptj",), gated_mlp=False, layer_norm=True),
    Family(("opt",), gated_mlp=False, layer_norm=True),
    Family(("bloom",), ("bloom",), gated_mlp=False, layer_norm=True, fused_qkv=True),
    Family(("phi",), ("phi2",), layer_norm=True),
    Family(("phi3",), ("phi3",), fused_qkv=True),
    # tie_word_embeddings defaults to True in its config class (a config without the key)
    Family(
        ("starcoder2",),
        ("starcoder2",),
        defaults={"tie_word_embeddings": True},
        gated_mlp=False,
        layer_norm=True,
        config_fields=_starcoder2,
    ),
    Family(("olmo2",), ("olmo2",), qk_norm="full"),
)
