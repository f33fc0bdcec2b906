"""Llama 2/3 and the families built the same way (Mistral, Mixtral, Yi, InternLM …): what the shared rules
read. Mistral and Mixtral slide every layer when their config gives a window."""

from vramscope.core.architecture import LayerKind
from vramscope.sources.config_keys import ConfigKeys
from vramscope.sources.families.family import Family, Kinds, Shape


def _all_sliding(k: ConfigKeys, shape: Shape) -> Kinds:
    return (LayerKind.SLIDING,) * shape.layers


FAMILIES = (
    Family(("llama",), ("llama",)),
    Family(
        ("mistral",), ("mistral",), defaults={"sliding_window": 4096}, sliding_kinds=_all_sliding, gguf_sliding="all"
    ),
    Family(("mixtral",), sliding_kinds=_all_sliding),
)
