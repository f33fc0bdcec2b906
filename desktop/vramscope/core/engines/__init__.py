"""Engine profiles: how each inference engine allocates weights, KV cache, activations and reserves.
One profile per engine behind the `EngineProfile` protocol; `engine_profile` is the registry."""

from vramscope.core.engines.base import EngineProfile
from vramscope.core.engines.llamacpp import LlamaCppProfile, OllamaProfile
from vramscope.core.engines.sglang import SGLangProfile
from vramscope.core.engines.transformers import TransformersProfile
from vramscope.core.engines.vllm import VllmProfile
from vramscope.core.scenario import Engine

PROFILES: dict[Engine, EngineProfile] = {
    p.engine: p for p in (TransformersProfile(), VllmProfile(), LlamaCppProfile(), OllamaProfile(), SGLangProfile())
}


def engine_profile(engine: Engine) -> EngineProfile:
    return PROFILES[engine]
