"""Jamba: Mamba layers with attention every attn_layer_period-th layer (from attn_layer_offset), and experts
every expert_layer_period-th layer."""

import math

from vramscope.core.architecture import LayerKind, Mamba
from vramscope.sources.config_keys import ConfigKeys
from vramscope.sources.families.family import Family, Fields, Shape, revised


def _config(k: ConfigKeys, shape: Shape, fields: Fields, outer: ConfigKeys) -> Fields:
    dt_rank = k.get("mamba_dt_rank", default="auto")
    period = k.int("attn_layer_period", default=8)
    offset = k.layer_number("attn_layer_offset", period, default=4)
    out: Fields = {
        "mamba": Mamba(
            d_state=k.int("mamba_d_state", default=16),
            d_conv=k.int("mamba_d_conv", default=4),
            expand=k.int("mamba_expand", default=2),
            dt_rank=math.ceil(shape.hidden / 16) if dt_rank == "auto" else k.int("mamba_dt_rank"),
            conv_bias=k.flag("mamba_conv_bias", default=True),
            proj_bias=k.flag("mamba_proj_bias"),
            inner_norms=k.flag("mamba_inner_layernorms", default=True),
        ),
        "layer_types": tuple(LayerKind.FULL if i % period == offset else LayerKind.MAMBA for i in range(shape.layers)),
    }
    if fields.get("moe") is not None:
        out["moe"] = revised(
            fields["moe"],
            layer_period=k.int("expert_layer_period", default=2),
            layer_offset=k.int("expert_layer_offset", default=1, positive=False),
        )
    return out


FAMILIES = (Family(("jamba",), ("jamba",), config_fields=_config),)
