"""Step-3.7-Flash (step3p7): sliding and full layers (layer_types, padded with the MTP layers' entries in hub
configs), per-head q/k norms, an output gate of one value per head (g_proj; one per value with gating
"elementwise"), a shared expert of share_expert_dim beside 288 routed experts with a score-correction bias,
dense layers by mlp_layer_types / moe_layers_enum (the first three by default). As Step3p7TextConfig reads
it, its attribute_map's legacy names included."""

from typing import Any

from vramscope.core.architecture import AttentionShape
from vramscope.sources.config_keys import ConfigKeys, layer_kind
from vramscope.sources.errors import ModelFileError
from vramscope.sources.families.family import Family, Fields, Kinds, Shape, revised

# Step3p7TextConfig.attribute_map: legacy hub names for the same settings
_LEGACY = {
    "moe_num_experts": "n_routed_experts",
    "moe_top_k": "num_experts_per_tok",
    "share_expert_dims": "share_expert_dim",
    "num_attention_groups": "num_key_value_heads",
    "num_mtp_layers": "num_nextn_predict_layers",
}


def _prepare(config: dict[str, Any]) -> dict[str, Any]:
    renamed = dict(config)
    for old, new in _LEGACY.items():
        if old in renamed and new not in renamed:
            renamed[new] = renamed.pop(old)
    return renamed


def _trimmed(k: ConfigKeys, name: str, layers: int) -> list[Any] | None:
    """A per-layer list, without the MTP layers' trailing entries hub configs add."""
    values = k.list_or_none(name)
    if values is None:
        return None
    mtp = k.int("num_nextn_predict_layers", default=0, positive=False)
    if len(values) == layers + mtp:
        values = values[:layers]
    if len(values) != layers:
        raise ModelFileError(f"config.json: '{name}' has {len(values)} entries for {layers} layers")
    return values


def _listed(k: ConfigKeys, shape: Shape) -> Kinds | None:
    names = _trimmed(k, "layer_types", shape.layers)
    return None if names is None else tuple(layer_kind(t) for t in names)


def _dense_layers(k: ConfigKeys, layers: int) -> tuple[int, ...]:
    names = _trimmed(k, "mlp_layer_types", layers)
    if names is not None:
        if set(names) - {"dense", "sparse"}:
            raise ModelFileError("config.json: 'mlp_layer_types' entries must be dense or sparse")
        return tuple(i for i, name in enumerate(names) if name == "dense")
    enum = k.get("moe_layers_enum")
    if enum is None:
        return tuple(range(min(3, layers)))
    items = enum.split(",") if isinstance(enum, str) else enum
    if not isinstance(items, list) or not all(str(i).strip().isdigit() for i in items if str(i).strip()):
        raise ModelFileError("config.json: 'moe_layers_enum' must list layer numbers")
    sparse = {int(i) for i in items if str(i).strip()}
    return tuple(i for i in range(layers) if i not in sparse)


def _config(k: ConfigKeys, shape: Shape, fields: Fields, outer: ConfigKeys) -> Fields:
    # the MTP layers transformers skips; routing and clamping settings; the legacy dense-layer count
    k.know("num_nextn_predict_layers", "moe_router_scaling_factor", "use_moe_router_bias", "first_k_dense_replace")
    k.know("swiglu_limits", "swiglu_limits_shared", "partial_rotary_factors", "sparse_attention_config")
    k.know("mtp_layer_types", "mtp_mlp_layer_types", "per_layer_config", "use_head_wise_attn_gate")
    gating = k.get("gating", default=True)
    if gating not in (True, False, "per-head", "elementwise"):
        raise ModelFileError(f"config.json: 'gating' must be true, false, per-head or elementwise, got {gating!r}")
    out: Fields = {"head_gate_width": 1 if gating in (True, "per-head") else shape.head_dim}
    other = k.get("attention_other_setting")
    sliding_heads = k.int(
        "num_sliding_attention_heads",
        default=ConfigKeys(other).int("num_attention_heads", default=shape.heads)
        if isinstance(other, dict)
        else shape.heads,
    )
    if sliding_heads != shape.heads:
        out["sliding_attention"] = AttentionShape(
            q_heads=sliding_heads, kv_heads=shape.kv_heads, head_dim=shape.head_dim
        )
    moe = fields.get("moe")
    if moe is not None:
        out["moe"] = revised(
            moe,
            shared_intermediate_size=k.int("share_expert_dim"),
            router_score_bias=True,  # Step3p7TopKRouter keeps e_score_correction_bias
            first_dense_layers=0,
            dense_layers=_dense_layers(k, shape.layers),
        )
    return out


FAMILIES = (
    Family(
        ("step3p7",),
        ("step35",),
        gguf_refused="its GGUF keys (llama.cpp's step35) are not read yet: open the model's config.json folder",
        defaults={  # Step3p7TextConfig's
            "vocab_size": 128_815,
            "hidden_size": 4096,
            "intermediate_size": 11264,
            "num_hidden_layers": 45,
            "num_attention_heads": 64,
            "num_key_value_heads": 8,
            "head_dim": 128,
            "max_position_embeddings": 128_000,
            "num_experts_per_tok": 8,
            "n_routed_experts": 288,
            "moe_intermediate_size": 1280,
            "share_expert_dim": 1280,
            "tie_word_embeddings": False,
        },
        qk_norm="per_head",
        prepare=_prepare,
        listed_kinds=_listed,
        config_fields=_config,
    ),
)
