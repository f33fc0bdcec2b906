"""Engine profiles: how an inference engine holds the KV cache and what it reserves besides weights.

Only the generic profile exists so far; vLLM, llama.cpp and transformers profiles plug in here.
"""

from math import ceil
from typing import NamedTuple

from vramscope.core.architecture import Architecture, LayerKind
from vramscope.core.scenario import Engine
from vramscope.core.units import MIB

# CUDA context + runtime reserve per GPU process: PyTorch with lazy loading measures 287 MB
# (pytorch PR #86509), ~300-400 MB (issues #107667, #109888); Ollama reserves 457 MiB
# (ml/device.go). reference/formulas.md §3.1 recommends 0.4-0.5 GiB.
CUDA_CONTEXT_BYTES = 450 * MIB


class Amount(NamedTuple):
    bytes: int
    note: str


class GenericEngine:
    """A plain PyTorch-style runtime: the cache grows to the context, one prefill pass over the prompt."""

    engine = Engine.GENERIC

    def kv_tokens(self, context: int, kind: LayerKind, window: int | None) -> int:
        if kind is LayerKind.SLIDING and window is not None:
            return min(context, window)  # a sliding layer keeps only the window
        return context

    def activation_bytes(self, arch: Architecture, context: int, batch: int, tp: int) -> Amount:
        # Peak transient of one prefill pass, freed layer by layer: the MLP intermediates
        # (gate, up, activation: 3 x width) and two hidden-state copies at 16 bit, plus the
        # last position's logits in fp32 (formulas.md §3.7, modern generate()).
        width = arch.intermediate_size if arch.moe is None or arch.moe.first_dense_layers else 0
        if arch.moe is not None:
            routed = arch.moe.experts_per_token * arch.moe.expert_intermediate_size
            width = max(width, routed + arch.moe.shared_intermediate_size)
        tokens = context * batch
        mlp = 3 * ceil(width / tp) * 2
        hidden = 2 * arch.hidden_size * 2
        logits = batch * ceil(arch.vocab_size / tp) * 4
        total = tokens * (mlp + hidden) + logits
        return Amount(total, "estimate: one prefill pass (MLP intermediates, hidden states) + fp32 logits")

    def overhead_bytes(self, tp: int) -> Amount:
        return Amount(CUDA_CONTEXT_BYTES, "CUDA context and runtime reserve, measured 0.3-0.5 GiB per GPU")


def engine_profile(engine: Engine) -> GenericEngine:
    return GenericEngine()
