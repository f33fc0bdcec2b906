"""Qwen3-Next and Qwen3.5 (dense and MoE): Gated DeltaNet layers with full attention every
full_attention_interval-th layer behind a gated query; recurrent states in float32; Qwen3.5's Qwen-VL encoder.
In llama.cpp's keys (qwen3next.cpp, qwen35.cpp, qwen35moe.cpp) the ssm.* keys size the DeltaNet: groups are
the key heads, the time-step rank the value heads, the state size the key head size."""

from vramscope.core.architecture import LayerKind, LinearAttention, MoE
from vramscope.sources.config_keys import ConfigKeys, layer_kind
from vramscope.sources.errors import ModelFileError
from vramscope.sources.families.family import Family, Fields, Kinds, Shape
from vramscope.sources.families.qwen import qwen_vl_vision
from vramscope.sources.gguf_keys import GgufKeys, GgufShape

# multi-token-prediction layers, which transformers does not build (engines load them only for speculation)
_MTP = ("mtp_num_hidden_layers", "mtp_use_dedicated_embeddings")


def _kinds(k: ConfigKeys, shape: Shape) -> tuple[Kinds, int]:
    k.know("full_attention_interval", "use_sliding_window", "sliding_window", "max_window_layers")
    names = k.list_or_none("layer_types")
    if names:
        kinds = tuple(layer_kind(t) for t in names)
    else:
        interval = k.int("full_attention_interval")
        kinds = tuple(LayerKind.FULL if (i + 1) % interval == 0 else LayerKind.LINEAR for i in range(shape.layers))
    if len(kinds) != shape.layers:
        raise ModelFileError(f"config.json: 'layer_types' has {len(kinds)} entries for {shape.layers} layers")
    return kinds, 0


def _config(k: ConfigKeys, shape: Shape, fields: Fields, outer: ConfigKeys) -> Fields:
    k.know(*_MTP, "mlp_only_layers")  # the shared MoE rules read it where there are experts
    k.know("output_gate_type")  # Qwen3.6: the gate's activation, not its size
    out = {
        "attn_output_gate": k.flag("attn_output_gate", default=True),
        "linear": LinearAttention(
            key_heads=k.int("linear_num_key_heads"),
            value_heads=k.int("linear_num_value_heads"),
            key_head_dim=k.int("linear_key_head_dim"),
            value_head_dim=k.int("linear_value_head_dim"),
            conv_kernel=k.int("linear_conv_kernel_dim"),
        ),
    }
    return out | qwen_vl_vision(k, shape, fields, outer)


def _gguf_kinds(g: GgufKeys, shape: GgufShape) -> Kinds:
    recurrent = g.get("attention.recurrent_layers")
    if not (isinstance(recurrent, list) and len(recurrent) == shape.layers):
        interval = g.whole("full_attention_interval", 4)
        recurrent = [(i + 1) % interval != 0 for i in range(shape.layers)]
    return tuple(LayerKind.LINEAR if r else LayerKind.FULL for r in recurrent)


def _gguf(g: GgufKeys, shape: GgufShape, fields: Fields) -> Fields:
    value_heads = g.whole("ssm.time_step_rank")
    experts = g.arch != "qwen35"  # qwen35 is the dense model
    return {
        "linear": LinearAttention(
            key_heads=g.whole("ssm.group_count"),
            value_heads=value_heads,
            key_head_dim=g.whole("ssm.state_size"),
            value_head_dim=g.whole("ssm.inner_size") // value_heads,
            conv_kernel=g.whole("ssm.conv_kernel"),
        ),
        "attn_output_gate": True,
        "qk_norm": "per_head",
        "state_fp32": True,  # llama.cpp keeps recurrent states in float32
        "moe": MoE(
            num_experts=g.whole("expert_count"),
            experts_per_token=g.whole("expert_used_count"),
            expert_intermediate_size=g.whole("expert_feed_forward_length"),
            shared_intermediate_size=g.whole("expert_shared_feed_forward_length", 0),
            shared_expert_gate=bool(g.get("expert_shared_feed_forward_length")),
        )
        if experts
        else None,
    }


_HYBRID = {
    "defaults": {"full_attention_interval": 4, "linear_conv_kernel_dim": 4, "tie_word_embeddings": False},
    "qk_norm": "per_head",
    "state_fp32": True,
    "config_kinds": _kinds,
    "config_fields": _config,
    "own_moe": False,
    "gguf_kinds": _gguf_kinds,
    "gguf_fields": _gguf,
}

FAMILIES = (
    Family(("qwen3_next",), ("qwen3next",), **_HYBRID),  # type: ignore[arg-type]
    Family(("qwen3_5", "qwen3_5_text"), ("qwen35",), **_HYBRID),  # type: ignore[arg-type]
    Family(("qwen3_5_moe", "qwen3_5_moe_text"), ("qwen35moe",), **_HYBRID),  # type: ignore[arg-type]
)
