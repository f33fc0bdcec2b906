"""What one model family is, as both readers use it: its config.json dialect (defaults, traits no key states,
its own rules) and its GGUF dialect (llama.cpp's `{arch}.*` keys). A family module holds one `FAMILY` (or a
few closely related ones) built from this."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeVar

from pydantic import BaseModel

from vramscope.core.architecture import LayerKind
from vramscope.sources.config_keys import ConfigKeys
from vramscope.sources.gguf_keys import GgufKeys, GgufShape

Kinds = tuple[LayerKind, ...]


class Shape(NamedTuple):
    """What every config.json states (or its family's defaults do), which a family's own rules build on."""

    hidden: int
    layers: int
    heads: int
    head_dim: int
    kv_heads: int
    intermediate: int
    max_context: int


Fields = dict[str, Any]
_Model = TypeVar("_Model", bound=BaseModel)


def revised(model: _Model, **changes: Any) -> _Model:
    """A copy of a core model (MoE, Indexer) with `changes`, validated again (model_copy would not check them)."""
    return type(model).model_validate({**model.model_dump(), **changes})


@dataclass(frozen=True)
class Family:
    names: tuple[str, ...]  # config.json model_type values; the first is the family's name in this table
    gguf_names: tuple[str, ...] = ()  # llama.cpp's general.architecture values
    defaults: dict[str, Any] = field(default_factory=dict)  # transformers' config-class defaults
    # what no key states
    gated_mlp: bool = True  # SwiGLU/GeGLU (gate, up, down); else up, down
    layer_norm: bool = False  # LayerNorm with a bias, not RMSNorm
    fused_qkv: bool = False  # one QKV matrix in the checkpoint
    qkv_bias: bool = False  # biases on q, k, v whatever attention_bias says
    qk_norm: str = "none"  # none | per_head | full
    norms_per_layer: int = 2
    state_fp32: bool = False  # the reference implementation keeps recurrent states in float32
    ffn_multiple: int = 0  # the MLP is this many times the hidden width when no key gives it (GPT-2, Falcon)
    # its own rules; each is given the keys, what the generic reader found, and returns fields to set
    own_moe: bool = False  # its experts are not described by the shared MoE keys (it builds them)
    config_kinds: Callable[[ConfigKeys, Shape], tuple[Kinds, int]] | None = None  # its pattern and window alone
    listed_kinds: Callable[[ConfigKeys, Shape], Kinds | None] | None = None  # its own per-layer list
    sliding_kinds: Callable[[ConfigKeys, Shape], Kinds | None] | None = None  # which layers a sliding_window slides
    config_fields: Callable[[ConfigKeys, Shape, Fields, ConfigKeys], Fields] | None = (
        None  # last word (outer keys: a multimodal config)
    )
    # llama.cpp's sliding layers when a GGUF gives a window but no per-layer pattern: "alternate" (Gemma 2,
    # gpt-oss), "every" (Gemma 3: all but every sliding_window_pattern-th), "all" (Mistral), "" (none)
    gguf_sliding: str = ""
    gguf_kinds: Callable[[GgufKeys, GgufShape], Kinds | None] | None = None
    gguf_fields: Callable[[GgufKeys, GgufShape, Fields], Fields] | None = None
    gguf_refused: str = ""  # a GGUF dialect not read yet, refused by name: what to open instead
    refused: str = ""  # a config.json dialect whose layers the core cannot describe yet: why, by name
    prepare: Callable[[dict[str, Any]], dict[str, Any]] | None = None  # keys its config class derives

    @property
    def name(self) -> str:
        return self.names[0]
