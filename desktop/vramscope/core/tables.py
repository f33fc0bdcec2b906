"""What fits: the chosen model at every weight format and KV dtype the engine runs, and every model at the
format it needs. The note this project grew from advises a larger model quantized over a smaller one at
full precision; these two tables put that side by side in numbers."""

from collections.abc import Sequence
from fractions import Fraction
from typing import NamedTuple

from vramscope.core.estimate import estimate
from vramscope.core.precision import KV_DTYPES, WeightFormat, weight_format
from vramscope.core.scenario import Deployment, ModelSpec, Workload
from vramscope.core.solve import MIN_BITS, best_format, formats_for, kv_choices, max_context
from vramscope.core.speed import decode_tokens_per_s


class FormatRow(NamedTuple):
    weight_format: str
    kv_dtype: str  # "auto" or a KV dtype name
    bits: float  # nominal bits per weight (the sort key)
    total_bytes: int  # all GPUs together
    room_bytes: int | None  # how far the workload could grow: the headroom, or what a pool has left
    fits: bool | None
    max_context: int | None
    tokens_per_s: float | None


class ModelRow(NamedTuple):
    model: ModelSpec
    weight_format: str  # the format with the most bits that fits
    total_bytes: int
    room_bytes: int | None
    tokens_per_s: float | None


def format_table(
    model: ModelSpec,
    workload: Workload,
    deployment: Deployment,
    with_limits: bool = True,
    min_bits: float = 0.0,
) -> list[FormatRow]:
    """Every weight format the engine runs (none above the model's own bits, none below min_bits) with every
    KV dtype, from the most bits to the fewest; a pair the engine refuses is left out, and so is a repeat
    (fp16 beside bf16) and a KV dtype no narrower than the engine's default (fp32 saves nothing)."""
    rows = []
    seen_formats: set[tuple[str, float, tuple[tuple[str, WeightFormat], ...]]] = set()
    for fmt in formats_for(model, deployment):
        if weight_format(fmt).bits < min_bits:
            break  # from the most bits to the fewest: the rest are lower still
        kind = (weight_format(fmt).family.value, weight_format(fmt).bits, weight_format(fmt).parts)
        if kind in seen_formats:
            continue  # fp16 beside bf16: the same bytes under another name
        seen_formats.add(kind)
        seen_kv: set[Fraction] = set()
        for kv in kv_choices(deployment):
            changed = Workload.model_validate({**workload.model_dump(), "weight_format": fmt, "kv_dtype": kv})
            try:
                est = estimate(model, changed, deployment)
            except ValueError:
                continue
            width = KV_DTYPES[est.kv_dtype].bytes_per_element
            if width in seen_kv or (seen_kv and width > min(seen_kv)):
                continue  # as wide as, or wider than, the default the engine chose: no way to save memory
            seen_kv.add(width)
            limit = max_context(model, changed, deployment) if with_limits and est.fits else None
            rows.append(
                FormatRow(
                    fmt,
                    kv,
                    weight_format(fmt).bits,
                    est.total_bytes,
                    est.slack_bytes,
                    est.fits,
                    limit,
                    decode_tokens_per_s(model, est, deployment),
                )
            )
    return rows


def model_table(
    models: Sequence[ModelSpec], workload: Workload, deployment: Deployment, min_bits: float = MIN_BITS
) -> list[ModelRow]:
    """Every model that takes the workload's context and fits it, at the format with the most bits that
    fits and no fewer than min_bits, the largest model first. A model trained for a shorter context is left
    out: it does not serve it (and is never priced at its own shorter maximum). The window's *Models that
    fit* and `vramscope fit` are this table."""
    rows = []
    asked = Workload.model_validate({**workload.model_dump(), "weight_format": None})
    for model in models:
        if model.architecture.max_context < workload.context:
            continue
        fmt = best_format(model, asked, deployment, min_bits)
        if fmt is None:
            continue
        at = Workload.model_validate({**asked.model_dump(), "weight_format": fmt})
        est = estimate(model, at, deployment)
        tokens = decode_tokens_per_s(model, est, deployment)
        rows.append(ModelRow(model, fmt, est.total_bytes, est.slack_bytes, tokens))
    rows.sort(key=lambda r: -r.model.parameter_count())
    return rows
