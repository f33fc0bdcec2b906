"""MiniMax-M2: experts in every layer, and one q/k norm across all heads when use_qk_norm (per_layer)."""

from vramscope.sources.config_keys import ConfigKeys
from vramscope.sources.families.family import Family, Fields, Shape

# its multi-token-prediction modules, which transformers does not build
_MTP = ("use_mtp", "num_mtp_modules", "mtp_transformer_layers")


def _config(k: ConfigKeys, shape: Shape, fields: Fields, outer: ConfigKeys) -> Fields:
    # shared_intermediate_size is 0 in every release; the routing bias is a 256-float buffer, not a parameter
    k.know(*_MTP, "shared_intermediate_size", "use_routing_bias")
    if k.flag("use_qk_norm") and k.get("qk_norm_type", default="per_layer") == "per_layer":
        return {"qk_norm": "full"}
    return {}


FAMILIES = (Family(("minimax_m2",), ("minimax-m2",), config_fields=_config),)
