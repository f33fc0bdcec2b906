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
    """One architecture's `{arch}.*` keys."""

    def __init__(self, meta: dict[str, Any], arch: str) -> None:
        self.meta = meta
        self.arch = arch

    def get(self, key: str, default: Any = None) -> Any:
        return self.meta.get(f"{self.arch}.{key}", default)

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
