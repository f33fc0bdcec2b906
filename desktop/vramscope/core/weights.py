"""How the weights are priced (the file's own bytes or a format's rules) and one rank's bytes by layer."""

from typing import NamedTuple

from vramscope.core.inventory import inventory_layout
from vramscope.core.precision import WeightFormat, WeightLayout, weight_format, weight_layout
from vramscope.core.scenario import ModelSpec, Workload


class WeightPlan(NamedTuple):
    """How the weights are priced: the file's own bytes (fmt None) or a format's rules."""

    name: str  # what the estimate reports as its weight format
    fmt: WeightFormat | None
    exact: bool
    note: str


def weight_plan(model: ModelSpec, workload: Workload) -> WeightPlan:
    inventory = model.inventory
    if inventory is not None and workload.weight_format in (None, model.native_format):
        return WeightPlan(model.native_format, None, True, f"exact: {inventory.describe()}")
    fmt = weight_format(workload.weight_format or model.native_format)
    if inventory is not None:
        return WeightPlan(fmt.name, fmt, False, f"{fmt.label}, re-priced tensor by tensor from the file's tensors")
    if fmt.name == model.native_format and fmt.family == "float":
        return WeightPlan(fmt.name, fmt, True, f"{model.parameter_count():,} parameters in {fmt.label}")
    note = f"{fmt.label}, priced tensor by tensor (scales included; embeddings, norms kept per format rules)"
    return WeightPlan(fmt.name, fmt, False, note)


def rank_layout(model: ModelSpec, plan: WeightPlan, tp: int) -> WeightLayout:
    """One tensor-parallel rank's weight bytes by layer: from the file's tensors when there is a file."""
    if model.inventory is not None:
        return inventory_layout(model.inventory, model.architecture, plan.fmt, tp)
    assert plan.fmt is not None
    return weight_layout(model.architecture, plan.fmt, tp)


def pipeline_stages(num_layers: int, pp: int) -> tuple[range, ...]:
    """Layers per stage: an even split, the remainder on the stages before the last (as vLLM does),
    since the last stage also holds the output head."""
    sizes = [num_layers // pp] * pp
    for k in range(num_layers % pp):
        sizes[-2 - k if pp > 1 else 0] += 1
    starts = [sum(sizes[:s]) for s in range(pp)]
    return tuple(range(starts[s], starts[s] + sizes[s]) for s in range(pp))
