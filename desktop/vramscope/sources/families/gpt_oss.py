"""gpt-oss: attention sinks on every layer, sliding and full layers in turn, experts with biases and a
biased router."""

from vramscope.sources.config_keys import ConfigKeys
from vramscope.sources.families.family import Family, Fields, Shape, revised


def _config(k: ConfigKeys, shape: Shape, fields: Fields, outer: ConfigKeys) -> Fields:
    k.know("initial_context_length")  # YaRN's original length: a rotary setting
    out: Fields = {"attention_sinks": True}
    if fields.get("moe") is not None:
        out["moe"] = revised(fields["moe"], router_bias=True, expert_bias=True)
    return out


FAMILIES = (Family(("gpt_oss",), ("gpt-oss",), config_fields=_config, gguf_sliding="alternate"),)
