"""config.json's rotary settings -> Rotary: what sizes an engine's cos/sin tables.

Transformers 4 writes `rope_scaling` (or nothing), transformers 5 `rope_parameters`, by layer type where the
layers differ (Gemma 3); the share of a head that rotates is `partial_rotary_factor` or `rotary_dim`, in the
config or in those dicts.
"""

import math
from typing import Any

from pydantic import ValidationError

from vramscope.core.architecture import Rotary
from vramscope.core.scenario import validation_message
from vramscope.sources.config_keys import ConfigKeys
from vramscope.sources.errors import ModelFileError

STRETCHED = ("linear", "dynamic", "yarn")  # the scalings whose factor lengthens the table


def rotary_from_config(k: ConfigKeys, head_dim: int) -> Rotary | None:
    """None where every head rotates whole and unscaled (the tables' default)."""
    params, scaling = k.get("rope_parameters"), k.get("rope_scaling")
    local = k.get("rope_local_base_freq") is not None
    if isinstance(params, dict) and isinstance(params.get("full_attention"), dict):
        local = local or isinstance(params.get("sliding_attention"), dict)
        params = params["full_attention"]
    rope: dict[str, Any] = scaling if isinstance(scaling, dict) else params if isinstance(params, dict) else {}
    kind = str(rope.get("rope_type") or rope.get("type") or "default")[:40]
    kind = "yarn" if kind == "deepseek_yarn" else kind  # DeepSeek's variant builds the same table
    fraction = _number(rope.get("partial_rotary_factor", k.get("partial_rotary_factor")), "partial_rotary_factor")
    rotary_dim = _number(k.get("rotary_dim"), "rotary_dim")
    if fraction is None and rotary_dim is not None:
        fraction = rotary_dim / head_dim
    factor = _number(rope.get("factor"), "rope factor") if kind in STRETCHED else None
    original = _number(
        rope.get("original_max_position_embeddings", k.get("original_max_position_embeddings")),
        "original_max_position_embeddings",
    )
    fields: dict[str, Any] = {"scaling": kind, "local_table": local}
    if factor is not None:
        fields["factor"] = factor
    if fraction is not None:
        fields["fraction"] = fraction
    if original is not None and kind in ("yarn", "longrope"):
        fields["original_max_context"] = int(original)
    try:
        rotary = Rotary.model_validate(fields)
    except ValidationError as exc:
        raise ModelFileError(f"config.json: impossible rotary settings: {validation_message(exc)}") from None
    shapes_tables = rotary.scaling in (*STRETCHED, "longrope") or rotary.fraction < 1 or rotary.local_table
    return rotary if shapes_tables else None


def _number(value: Any, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ModelFileError(f"config.json: '{name}' must be a number, got {str(value)[:40]!r}")
    return float(value)
