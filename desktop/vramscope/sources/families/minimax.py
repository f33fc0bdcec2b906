"""MiniMax-M2: experts in every layer, and one q/k norm across all heads when use_qk_norm (per_layer)."""

from vramscope.sources.config_keys import ConfigKeys
from vramscope.sources.errors import ModelFileError
from vramscope.sources.families.family import Family, Fields, Shape

# its multi-token-prediction modules, which transformers does not build
_MTP = ("use_mtp", "num_mtp_modules", "mtp_transformer_layers")


def _config(k: ConfigKeys, shape: Shape, fields: Fields, outer: ConfigKeys) -> Fields:
    # attn_type_list: 1 full attention, 0 MiniMax-01's lightning (linear) attention, which M2 does not use
    kinds = k.list_or_none("attn_type_list")
    if kinds is not None and (len(kinds) != shape.layers or any(t != 1 or isinstance(t, bool) for t in kinds)):
        raise ModelFileError(
            f"config.json (minimax_m2): 'attn_type_list' must give 1 (full attention) for each of {shape.layers} "
            "layers; lightning-attention layers are not read yet"
        )
    # shared_intermediate_size is 0 in every release; the routing bias is a 256-float buffer, not a parameter
    k.know(*_MTP, "shared_intermediate_size", "use_routing_bias")
    if k.flag("use_qk_norm") and k.get("qk_norm_type", default="per_layer") == "per_layer":
        return {"qk_norm": "full"}
    return {}


FAMILIES = (Family(("minimax_m2",), ("minimax-m2",), config_fields=_config),)
