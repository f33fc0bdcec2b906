"""Kimi Linear and Kimi K3: Kimi Delta Attention (a gated linear attention with its own short convolutions and
state) in three layers of four, beside MLA layers. The core has no layer kind for KDA yet: refused by name
rather than priced as something else."""

from vramscope.sources.families.family import Family

_WHY = (
    "Kimi Delta Attention layers (kimi_linear) are not modelled yet, so this model's cache and weights would "
    "be miscounted; it is not read"
)

FAMILIES = (Family(("kimi_linear", "kimi_k3"), refused=_WHY),)
