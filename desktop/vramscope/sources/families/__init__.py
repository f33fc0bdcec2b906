"""Every model family the readers know, one module each: its config.json keys and defaults, its GGUF keys,
its layer pattern and the traits of its tensors. Adding a family is one module here (listed in _MODULES), its
tests, and a layer kind in the core if its attention is new. A model_type in none of them is read by the
shared rules only when they understand all its keys (hf_config.architecture_from_config)."""

from vramscope.sources.families import (
    classic,
    deepseek,
    deepseek_v4,
    falcon_h1,
    gemma,
    gemma4,
    glm,
    gpt_oss,
    granite_hybrid,
    jamba,
    kimi_linear,
    lfm2,
    llama,
    llama4,
    mimo,
    minimax,
    minimax_m3,
    nemotron_h,
    qwen,
    qwen_hybrid,
    step,
)
from vramscope.sources.families.family import Family, Fields, Kinds, Shape

_MODULES = (
    classic, llama, qwen, qwen_hybrid, gemma, gemma4, llama4, gpt_oss, minimax, minimax_m3, mimo, deepseek, deepseek_v4,
    glm, nemotron_h, granite_hybrid, falcon_h1, jamba, kimi_linear, step, lfm2,
)  # fmt: skip
ALL: tuple[Family, ...] = tuple(f for module in _MODULES for f in module.FAMILIES)
_BY_NAME = {name: f for f in ALL for name in f.names}
_BY_GGUF = {name: f for f in ALL for name in f.gguf_names}


def is_known(model_type: str) -> bool:
    return model_type in _BY_NAME


def family(model_type: str) -> Family:
    """The family of a config.json model_type; an unknown one gets the shared rules alone."""
    return _BY_NAME.get(model_type) or Family((model_type,))


def gguf_family(arch: str) -> Family:
    """The family of a GGUF general.architecture; an unknown one gets the shared rules alone."""
    return _BY_GGUF.get(arch) or Family((arch,), (arch,))


__all__ = ["ALL", "Family", "Fields", "Kinds", "Shape", "family", "gguf_family", "is_known"]
