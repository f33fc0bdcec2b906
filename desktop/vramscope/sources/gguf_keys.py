"""Reading GGUF metadata values: `{arch}.*` keys in llama.cpp's names, each a bounded whole number or refused."""

from typing import Any, NamedTuple

from vramscope.sources.errors import ModelFileError

MAX_SIZE = 2**32  # a width, a count or a context past this is no model's (and llama.cpp keeps them in 32 bits)


def size(value: Any, name: str) -> int:
    """A count or size a GGUF key gives: a whole number from 0 to MAX_SIZE; 1.5 heads, a string, an array
    read as its length or NVML-style 2^64 - 1 are refused, not rounded or clipped."""
    if type(value) is not int and not (isinstance(value, float) and value.is_integer()):
        raise ModelFileError(f"GGUF {name} is malformed: a whole number is needed, got {str(value)[:40]!r}")
    if not 0 <= value <= MAX_SIZE:
        raise ModelFileError(f"GGUF {name} of {value:,.0f} is not a real model's")
    return int(value)


def per_layer(value: Any, n: int, name: str) -> tuple[int, ...]:
    if isinstance(value, list):
        if len(value) != n:
            raise ModelFileError(f"GGUF key {name} has {len(value)} entries for {n} layers")
        return tuple(size(v, name) for v in value)
    return (size(value, name),) * n


class GgufKeys:
    """One architecture's `{arch}.*` keys. The last `nextn_predict_layers` blocks are MTP layers (GLM-4.5's):
    llama.cpp gives them no KV cache in the model's own context (llama_kv_cache's layer filter, b11434), so
    the keys read as the model's own layers (block_count and per-layer arrays without them); their tensors
    are still in the file and priced with the output head."""

    def __init__(self, meta: dict[str, Any], arch: str) -> None:
        self.meta = meta
        self.arch = arch
        blocks, nextn = meta.get(f"{arch}.block_count"), meta.get(f"{arch}.nextn_predict_layers", 0)
        plain = all(isinstance(v, int) and not isinstance(v, bool) for v in (blocks, nextn))
        self.blocks = blocks if plain and 0 < nextn < blocks else None
        self.mtp_layers = nextn if self.blocks is not None else 0

    def get(self, key: str, default: Any = None) -> Any:
        value = self.meta.get(f"{self.arch}.{key}", default)
        if self.blocks is None:
            return value
        if key == "block_count":
            return self.blocks - self.mtp_layers
        if isinstance(value, list) and len(value) == self.blocks:
            return value[: self.blocks - self.mtp_layers]
        return value

    def whole(self, key: str, default: Any = None) -> int:
        """A count or size: a float such as 2.5 layers is refused, not rounded down."""
        return size(self.get(key, default), f"{self.arch}.{key}")


class GgufShape(NamedTuple):
    """What every GGUF family states, which a family's own rules build on."""

    layers: int
    hidden: int
    heads: tuple[int, ...]
    kv_heads: tuple[int, ...]  # 0 on a recurrent layer
    ffn: tuple[int, ...]
    vocab: int
    names: frozenset[str]  # the file's tensor names, where known
