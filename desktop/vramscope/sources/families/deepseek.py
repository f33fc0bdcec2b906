"""DeepSeek-V2 / V3 / V3.2 and Kimi-K2 (DeepSeek-V3's build): multi-head latent attention (kv_lora_rank and
the q/k/v head sizes), the first first_k_dense_replace layers dense, routed experts beside shared ones, and in
V3.2 the lightning indexer, whose key is cached beside the latent. The shared rules read all of this by key;
the MTP layers (num_nextn_predict_layers) are loaded by engines for speculation only, as transformers does."""

from vramscope.sources.config_keys import ConfigKeys
from vramscope.sources.families.family import Family, Fields, Shape


def _config(k: ConfigKeys, shape: Shape, fields: Fields, outer: ConfigKeys) -> Fields:
    k.know("num_nextn_predict_layers")
    k.know("use_unified_vision_chunk")  # Kimi-K2.5's image preprocessing (its encoder is named as not counted)
    return {}


FAMILIES = (
    Family(("deepseek_v2",), ("deepseek2",), config_fields=_config),
    Family(("deepseek_v3",), config_fields=_config),
    Family(("kimi_k2",), config_fields=_config),
    Family(("deepseek_v32",), ("deepseek32",), config_fields=_config),
)
