"""Falcon-H1: attention and a Mamba-2 mixer side by side in every layer (falcon-h1.cpp in llama.cpp)."""

from vramscope.core.architecture import LayerKind
from vramscope.sources.config_keys import ConfigKeys
from vramscope.sources.families.family import Family, Fields, Kinds, Shape
from vramscope.sources.families.mamba2 import DEFAULTS, mamba2_mixer
from vramscope.sources.gguf_keys import GgufKeys, GgufShape


def _config(k: ConfigKeys, shape: Shape, fields: Fields, outer: ConfigKeys) -> Fields:
    return {"layer_types": (LayerKind.PARALLEL,) * shape.layers, "mamba": mamba2_mixer(k, shape.hidden)}


def _gguf_kinds(g: GgufKeys, shape: GgufShape) -> Kinds:
    return (LayerKind.PARALLEL,) * shape.layers


FAMILIES = (
    Family(
        ("falcon_h1",),
        ("falcon-h1",),
        defaults={
            **DEFAULTS,
            "mamba_d_ssm": 1024,
            "mamba_rms_norm": False,
            "projectors_bias": False,
            "num_key_value_heads": 8,
            "vocab_size": 128_000,
            "max_position_embeddings": 8192,
        },
        config_kinds=lambda k, shape: ((), 0),  # every layer is both
        config_fields=_config,
        gguf_kinds=_gguf_kinds,
    ),
)
