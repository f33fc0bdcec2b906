"""Gemma 4: global (full-attention) layers with their own head size and K/V heads, whose key may double as
the value; a dense MLP beside a 128-expert block in every layer, with its own router scales and norms
(26B-A4B); per-layer embeddings, and last layers that reuse an earlier layer's cache with an MLP of twice the
width (E2B, E4B); the config class forces the last layer global. In llama.cpp's keys (gemma4.cpp) the same,
with per-kind head sizes (key_length_swa) and the missing value projections seen in the tensor names."""

import math

from vramscope.core.architecture import AttentionShape, LayerKind, MoE, VisionKind, VisionTower
from vramscope.sources.config_keys import ConfigKeys
from vramscope.sources.errors import ModelFileError
from vramscope.sources.families.family import Family, Fields, Kinds, Shape
from vramscope.sources.families.gemma import every_nth_global
from vramscope.sources.gguf_keys import GgufKeys, GgufShape


def _last_global(kinds: Kinds) -> Kinds:
    return (*kinds[:-1], LayerKind.FULL)


def _listed(k: ConfigKeys, shape: Shape) -> Kinds | None:
    kinds = k.layer_kinds(shape.layers)
    return _last_global(kinds) if kinds else None


def _sliding(k: ConfigKeys, shape: Shape) -> Kinds:
    return _last_global(every_nth_global(k, shape))


def _config(k: ConfigKeys, shape: Shape, fields: Fields, outer: ConfigKeys) -> Fields:
    layers = shape.layers
    out: Fields = {
        "full_attention": AttentionShape(
            q_heads=shape.heads,
            kv_heads=k.int("num_global_key_value_heads", default=k.int("num_key_value_heads")),
            head_dim=k.int("global_head_dim", default=k.int("head_dim")),
            k_eq_v=k.flag("attention_k_eq_v"),
        )
    }
    k.know("num_experts", "top_k_experts", "expert_intermediate_size", "moe_intermediate_size")  # used when enabled
    if k.flag("enable_moe_block"):
        out["moe"] = MoE(
            num_experts=k.int("num_experts"),
            experts_per_token=k.int("top_k_experts"),
            expert_intermediate_size=k.int("moe_intermediate_size"),
            shared_intermediate_size=shape.intermediate,  # the dense MLP runs beside the experts
            router_scales=True,
            extra_norms=3,
        )
    k.know("vocab_size_per_layer_input", "use_double_wide_mlp")  # read when per-layer inputs and sharing are on
    per_layer = k.int("hidden_size_per_layer_input", default=0, positive=False)  # null turns them off
    if per_layer:
        out["per_layer_input"] = per_layer
        out["per_layer_vocab"] = k.int("vocab_size_per_layer_input")
    shared = k.int("num_kv_shared_layers", default=0, positive=False)
    if shared >= layers:
        raise ModelFileError(
            f"config.json (gemma4): all {layers} layers reuse another model's cache (an assistant model); "
            "open the model it assists"
        )
    out["kv_shared_layers"] = shared
    if shared and k.flag("use_double_wide_mlp"):
        out["intermediate_per_layer"] = tuple(
            shape.intermediate * (2 if i >= layers - shared else 1) for i in range(layers)
        )
    vision = outer.get("vision_config")
    if isinstance(vision, dict):
        out["vision"] = _vision(ConfigKeys(vision), outer)
    return out


def _vision(v: ConfigKeys, outer: ConfigKeys) -> VisionTower:
    patch, pooling = v.int("patch_size", default=16), v.int("pooling_kernel_size", default=3)
    tokens = outer.int("vision_soft_tokens_per_image", default=v.int("default_output_length", default=280))
    return VisionTower(
        kind=VisionKind.GEMMA4,
        hidden_size=v.int("hidden_size"),
        intermediate_size=v.int("intermediate_size"),
        num_layers=v.int("num_hidden_layers"),
        num_heads=v.int("num_attention_heads"),
        head_dim=v.int("head_dim", default=0, positive=False),
        patch_size=patch,
        image_size=math.isqrt(tokens * pooling**2) * patch,
        merge=pooling,
        positions=v.int("position_embedding_size"),
        tokens_per_image=tokens,
    )


def _gguf_kinds(g: GgufKeys, shape: GgufShape) -> Kinds | None:
    pattern = g.get("attention.sliding_window_pattern")
    if not (isinstance(pattern, list) and len(pattern) == shape.layers and g.get("attention.sliding_window")):
        raise ModelFileError(f"GGUF {g.arch} needs attention.sliding_window and a sliding_window_pattern per layer")
    return None  # the shared rules read the per-layer pattern


def _gguf(g: GgufKeys, shape: GgufShape, fields: Fields) -> Fields:
    """The last shared_kv_layers layers read an earlier cache; per-layer embeddings of
    embedding_length_per_layer_input; a dense MLP (double-wide on shared layers) beside any expert block."""
    ffn = shape.ffn
    out: Fields = {"norms_per_layer": 4, "qk_norm": "per_head"}
    out["kv_shared_layers"] = g.whole("attention.shared_kv_layers", 0)
    per_layer = g.whole("embedding_length_per_layer_input", 0)
    if per_layer:
        out["per_layer_input"], out["per_layer_vocab"] = per_layer, shape.vocab
    if len(set(ffn)) > 1:
        out["intermediate_per_layer"], out["intermediate_size"] = ffn, min(ffn)
    if g.get("expert_count"):
        out["moe"] = MoE(
            num_experts=g.whole("expert_count"),
            experts_per_token=g.whole("expert_used_count", 1),
            expert_intermediate_size=g.whole("expert_feed_forward_length"),
            shared_intermediate_size=max(ffn),  # the dense MLP runs beside the experts
            router_scales=True,
            extra_norms=3,
        )
    else:
        out["moe"] = None
    return out


FAMILIES = (
    Family(
        ("gemma4_text", "gemma4"),
        ("gemma4",),
        defaults={
            "tie_word_embeddings": True,
            "vocab_size": 262_144,
            "head_dim": 256,
            "global_head_dim": 512,
            "sliding_window": 512,
            "max_position_embeddings": 131_072,
            "attention_k_eq_v": False,
            "enable_moe_block": False,
            "hidden_size_per_layer_input": 256,
            "vocab_size_per_layer_input": 262_144,
            "num_kv_shared_layers": 0,
            "use_double_wide_mlp": False,
        },
        qk_norm="per_head",
        norms_per_layer=4,
        own_moe=True,
        listed_kinds=_listed,
        sliding_kinds=_sliding,
        config_fields=_config,
        gguf_kinds=_gguf_kinds,
        gguf_fields=_gguf,
    ),
)
