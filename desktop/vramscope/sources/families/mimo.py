"""MiMo-V2 (Flash): sliding layers with their own heads and head sizes (and sinks), full layers with theirs;
hybrid_layer_pattern and moe_layer_freq give one flag per layer. llama.cpp's mimo2 gives per-layer K/V heads
and the _swa twins of the key and value lengths, which the shared GGUF rules read."""

from vramscope.core.architecture import AttentionShape, LayerKind
from vramscope.sources.config_keys import ConfigKeys
from vramscope.sources.families.family import Family, Fields, Kinds, Shape, revised


def _listed(k: ConfigKeys, shape: Shape) -> Kinds | None:
    sliding = k.per_layer_flags("hybrid_layer_pattern", shape.layers, "0 (full) or 1 (sliding)")
    if sliding is None:
        return None
    return tuple(LayerKind.SLIDING if s else LayerKind.FULL for s in sliding)


def _config(k: ConfigKeys, shape: Shape, fields: Fields, outer: ConfigKeys) -> Fields:
    # the same window under two more names
    k.know("sliding_window_size", "attention_chunk_size")
    out: Fields = {
        "sliding_attention": AttentionShape(
            q_heads=k.int("swa_num_attention_heads", default=shape.heads),
            kv_heads=k.int("swa_num_key_value_heads", default=shape.kv_heads),
            head_dim=k.int("swa_head_dim", default=shape.head_dim),
            v_head_dim=k.int("swa_v_head_dim") if k.get("swa_v_head_dim") is not None else None,
            sinks=k.flag("add_swa_attention_sink_bias"),
        ),
        "attention_sinks": k.flag("add_full_attention_sink_bias"),
    }
    if k.get("v_head_dim") is not None:
        out["v_head_dim"] = k.int("v_head_dim")
    moe_layers = k.per_layer_flags("moe_layer_freq", shape.layers, "0 (dense) or 1 (MoE)")
    if moe_layers is not None and fields.get("moe") is not None:
        moe = fields["moe"]
        dense = {*moe.dense_layers, *(i for i, m in enumerate(moe_layers) if not m)}
        out["moe"] = revised(moe, dense_layers=tuple(sorted(dense)))
    return out


FAMILIES = (Family(("mimo_v2_flash",), ("mimo2",), listed_kinds=_listed, config_fields=_config),)
