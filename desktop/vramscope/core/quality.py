"""What a weight format costs in quality, as published: llama.cpp's own perplexity increase per GGUF type,
measured on Llama-3-8B (tools/quantize/quantize.cpp, QUANT_OPTIONS, as `llama-quantize --help` prints it).
A figure belongs to that model and that test set: it ranks the types, it does not predict another model's
loss. The IQ types are listed there by bits per weight only, with no perplexity; they get none here."""

from typing import NamedTuple

SOURCE = "llama.cpp tools/quantize/quantize.cpp (perplexity increase on Llama-3-8B)"

# GGUF type: perplexity added against the 16-bit model
PERPLEXITY_DELTA = {
    "q8_0": 0.0026,
    "q6_k": 0.0217,
    "q5_k_m": 0.0569,
    "q5_k_s": 0.1049,
    "q5_1": 0.1062,
    "q5_0": 0.1316,
    "q4_k_m": 0.1754,
    "q4_k_s": 0.2689,
    "q4_1": 0.4511,
    "q4_0": 0.4685,
    "q3_k_l": 0.5562,
    "q3_k_m": 0.6569,
    "q3_k_s": 1.6321,
    "q2_k": 3.5199,
}


class QualityCost(NamedTuple):
    perplexity_delta: float
    source: str

    def label(self) -> str:
        return f"+{self.perplexity_delta:.2f} ppl" if self.perplexity_delta >= 0.01 else "+<0.01 ppl"


def quality_cost(weight_format: str) -> QualityCost | None:
    """The published quality cost of a format; None where none is published (IQ types, AWQ, GPTQ …)."""
    delta = PERPLEXITY_DELTA.get(weight_format)
    return QualityCost(delta, SOURCE) if delta is not None else None
