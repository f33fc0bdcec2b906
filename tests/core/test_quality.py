"""The published quality cost of each GGUF type: llama.cpp's perplexity table, as the project keeps it."""

from itertools import pairwise

from vramscope.core.precision import WEIGHT_FORMATS
from vramscope.core.quality import PERPLEXITY_DELTA, quality_cost


def test_llama_cpps_figures_for_the_types_people_pick() -> None:
    # llama-quantize --help: "Q4_K_M : 4.58G, +0.1754 ppl @ Llama-3-8B", "Q2_K : 2.96G, +3.5199 ppl @ Llama-3-8B"
    q4 = quality_cost("q4_k_m")
    assert q4 is not None and q4.perplexity_delta == 0.1754 and q4.label() == "+0.18 ppl"
    assert "quantize.cpp" in q4.source and "Llama-3-8B" in q4.source
    assert quality_cost("q2_k") == (3.5199, q4.source)
    assert quality_cost("iq2_xxs") is None  # listed by bits per weight only: no figure is made up


def test_fewer_bits_never_cost_less_within_the_k_quants() -> None:
    k_quants = ["q8_0", "q6_k", "q5_k_m", "q5_k_s", "q4_k_m", "q4_k_s", "q3_k_l", "q3_k_m", "q3_k_s", "q2_k"]
    deltas = [PERPLEXITY_DELTA[k] for k in k_quants]
    assert deltas == sorted(deltas)
    assert all(WEIGHT_FORMATS[k].bits >= WEIGHT_FORMATS[n].bits for k, n in pairwise(k_quants))
