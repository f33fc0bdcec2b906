"""Granite 4 hybrid: each layer Mamba-2 or attention, then a shared MLP, beside routed experts of
intermediate_size when num_local_experts > 0 (the dense models have the shared MLP alone)."""

from vramscope.core.architecture import LayerKind, MoE
from vramscope.sources.config_keys import ConfigKeys
from vramscope.sources.errors import ModelFileError
from vramscope.sources.families.family import Family, Fields, Shape
from vramscope.sources.families.mamba2 import DEFAULTS, mamba2_mixer


def _config(k: ConfigKeys, shape: Shape, fields: Fields, outer: ConfigKeys) -> Fields:
    names = k.get("layer_types", "layers_block_type")
    if not isinstance(names, list) or len(names) != shape.layers:
        raise ModelFileError(
            f"config.json: 'layer_types' must name mamba or attention for each of {shape.layers} layers"
        )
    # "linear_attention" is transformers' newer name for the same Mamba-2 layers
    kinds = tuple(LayerKind.MAMBA if "mamba" in str(t) or "linear" in str(t) else LayerKind.FULL for t in names)
    shared = k.int("shared_intermediate_size")
    out: Fields = {"layer_types": kinds, "mamba": mamba2_mixer(k, shape.hidden), "sliding_window": None}
    experts = k.int("num_local_experts", positive=False)
    k.know("num_experts_per_tok")  # read when there are experts
    if experts:
        out["moe"] = MoE(
            num_experts=experts,
            experts_per_token=k.int("num_experts_per_tok"),
            expert_intermediate_size=shape.intermediate,
            shared_intermediate_size=shared,
        )
    else:
        out["intermediate_size"] = shared
    return out


FAMILIES = (
    Family(
        ("granitemoehybrid",),
        ("granitehybrid",),
        defaults={
            **DEFAULTS,
            "num_local_experts": 8,
            "num_experts_per_tok": 2,
            "shared_intermediate_size": 1024,
            "max_position_embeddings": 2048,
        },
        own_moe=True,
        config_kinds=lambda k, shape: ((), 0),  # its layer list is read with its mixers
        config_fields=_config,
    ),
)
