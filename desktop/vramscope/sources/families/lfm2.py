"""LFM2 (Liquid AI): short-convolution layers (a gated depthwise convolution of conv_L_cache taps) with
full attention at a few layers, per-head q/k norms and a SwiGLU block whose width is adjusted from
block_ff_dim (transformers' Lfm2Config and Lfm2MLP). In llama.cpp's keys (lfm2.cpp) a layer with no KV heads
is a convolution, its kernel lfm2.shortconv.l_cache."""

from typing import Any

from vramscope.core.architecture import LayerKind, ShortConv
from vramscope.sources.config_keys import ConfigKeys
from vramscope.sources.errors import ModelFileError
from vramscope.sources.families.family import Family, Fields, Kinds, Shape
from vramscope.sources.gguf_keys import GgufKeys, GgufShape


def _prepare(config: dict[str, Any]) -> dict[str, Any]:
    """Lfm2Config's own names: block_ff_dim for the width, tie_embedding for the tied head, and the width
    Lfm2MLP builds: two thirds, times the multiplier, up to a multiple of block_multiple_of."""
    out = dict(config)
    width = out.pop("block_ff_dim", out.get("intermediate_size", 12288))
    if "tie_embedding" in out:
        out["tie_word_embeddings"] = out.pop("tie_embedding")
    if out.pop("block_auto_adjust_ff_dim", True) and isinstance(width, int):
        width = int(2 * width / 3)
        multiplier = out.get("block_ffn_dim_multiplier", 1.0)
        if isinstance(multiplier, int | float):
            width = int(multiplier * width)
        multiple = out.get("block_multiple_of", 256)
        if isinstance(multiple, int) and multiple > 0:
            width = multiple * -(-width // multiple)
    out["intermediate_size"] = width
    return out


def _kinds(k: ConfigKeys, shape: Shape) -> tuple[Kinds, int]:
    names = k.list_or_none("layer_types")
    if names is not None:
        if len(names) != shape.layers:
            raise ModelFileError(f"config.json: 'layer_types' has {len(names)} entries for {shape.layers} layers")
        if any(n not in ("conv", "full_attention") for n in names):
            raise ModelFileError("config.json: LFM2's 'layer_types' holds only 'conv' and 'full_attention'")
        return tuple(LayerKind.FULL if n == "full_attention" else LayerKind.SHORT_CONV for n in names), 0
    attention = k.list_or_none("full_attn_idxs") or []
    if not all(isinstance(i, int) and not isinstance(i, bool) and 0 <= i < shape.layers for i in attention):
        raise ModelFileError("config.json: 'full_attn_idxs' must list layer indices")
    return tuple(LayerKind.FULL if i in attention else LayerKind.SHORT_CONV for i in range(shape.layers)), 0


def _config(k: ConfigKeys, shape: Shape, fields: Fields, outer: ConfigKeys) -> Fields:
    k.know("full_attn_idxs", "block_multiple_of", "block_ffn_dim_multiplier", "block_dim", "conv_dim")
    k.know("block_mlp_init_scale", "block_out_init_scale", "block_use_swiglu", "block_use_xavier_init")
    k.know("block_norm_eps", "block_ff_dim", "block_auto_adjust_ff_dim", "conv_use_xavier_init", "use_pos_enc")
    k.know("num_heads")  # the same as num_attention_heads in LiquidAI's configs
    for key in ("conv_dim", "conv_dim_out"):
        if k.int(key, default=shape.hidden) != shape.hidden:
            raise ModelFileError(f"config.json: an LFM2 convolution whose {key} is not the hidden size is not modelled")
    return {"short_conv": ShortConv(kernel=k.int("conv_L_cache"), bias=k.flag("conv_bias", default=False))}


def _gguf_kinds(g: GgufKeys, shape: GgufShape) -> Kinds:
    return tuple(LayerKind.FULL if kv else LayerKind.SHORT_CONV for kv in shape.kv_heads)


def _gguf(g: GgufKeys, shape: GgufShape, fields: Fields) -> Fields:
    return {"short_conv": ShortConv(kernel=g.whole("shortconv.l_cache")), "qk_norm": "per_head"}


FAMILIES = (
    Family(
        ("lfm2",),
        ("lfm2",),
        defaults={
            "vocab_size": 65536,
            "hidden_size": 2560,
            "num_hidden_layers": 32,
            "num_attention_heads": 32,
            "num_key_value_heads": 8,
            "max_position_embeddings": 128_000,
            "conv_L_cache": 3,
            "tie_word_embeddings": True,
        },
        qk_norm="per_head",
        config_kinds=_kinds,
        config_fields=_config,
        prepare=_prepare,
        gguf_kinds=_gguf_kinds,
        gguf_fields=_gguf,
    ),
)
