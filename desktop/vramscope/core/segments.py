"""The pieces a GPU's memory is split into, and where each number comes from."""

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class SegmentKind(StrEnum):
    WEIGHTS = "weights"
    KV_CACHE = "kv_cache"  # what this workload's sequences hold
    KV_RESERVED = "kv_reserved"  # a preallocated pool's share this workload does not use (vLLM, SGLang)
    ACTIVATIONS = "activations"  # transient peak: prefill intermediates, a compute buffer, the sampler
    OVERHEAD = "overhead"  # CUDA context, runtime reserve, CUDA graphs, communication buffers


SEGMENT_LABELS = {
    SegmentKind.WEIGHTS: "Weights",
    SegmentKind.KV_CACHE: "KV cache",
    SegmentKind.KV_RESERVED: "KV pool, free",
    SegmentKind.ACTIVATIONS: "Activations",
    SegmentKind.OVERHEAD: "Overhead",
}


class Provenance(StrEnum):
    EXACT = "exact"  # fixed by the model's own numbers
    FORMULA = "formula"  # computed by a documented rule that may differ from an engine's
    EMPIRICAL = "empirical"  # a measured figure, not derived from this model


class Segment(BaseModel):
    """One stretch of a bar. A GPU may carry several of one kind (CUDA context and CUDA graphs are both
    overhead); `label` names it as its engine does ("Compute buffer", "CUDA graphs")."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    kind: SegmentKind
    bytes: int
    provenance: Provenance
    note: str
    label: str = ""

    @property
    def title(self) -> str:
        return self.label or SEGMENT_LABELS[self.kind]


def segment(kind: SegmentKind, size: int, provenance: Provenance, note: str, label: str = "") -> Segment:
    """A segment without validation: the core builds thousands of them per solver run."""
    return Segment.model_construct(kind=kind, bytes=size, provenance=provenance, note=note, label=label)
