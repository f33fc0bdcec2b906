"""The ways out: every suggestion, applied, fits."""

import pytest

from vramscope.core.advice import Advice, room_left, ways_out
from vramscope.core.estimate import estimate
from vramscope.core.scenario import Deployment, Engine, GpuSpec, ModelSpec, Workload
from vramscope.core.units import GIB
from vramscope.hardware.catalog import catalog
from vramscope.sources.presets import load_preset, preset_ids

RTX_4090 = GpuSpec(name="RTX 4090", capacity_bytes=round(23.99 * GIB), total_bytes=round(23.99 * GIB))


def applied(model: ModelSpec, workload: Workload, deployment: Deployment, advice: Advice) -> tuple:
    change = advice.change
    if "model" in change:
        other = change["model"]
        return (
            other,
            workload.model_copy(update={"context": min(workload.context, other.architecture.max_context)}),
            deployment,
        )
    if "gpu" in change:
        return model, workload, deployment.model_copy(update={"gpus": (change["gpu"],)})
    if "gpu_count" in change:
        return model, workload, deployment.model_copy(update={"tensor_parallel": change["gpu_count"]})
    return model, Workload.model_validate({**workload.model_dump(), **change}), deployment


@pytest.mark.parametrize("engine", [Engine.TRANSFORMERS, Engine.LLAMACPP, Engine.VLLM])
def test_every_way_out_applied_fits(engine: Engine) -> None:
    model, workload = load_preset("llama-3.1-70b"), Workload(context=8192)
    deployment = Deployment(gpus=(RTX_4090,), engine=engine)
    advice = ways_out(
        model, workload, deployment, [g.spec() for g in catalog()], [load_preset(p) for p in preset_ids()]
    )
    kinds = {a.kind for a in advice}
    assert {"gpus", "gpu", "model"} <= kinds
    for a in advice:
        assert estimate(*applied(model, workload, deployment, a)).fits, a.text
    gpus = next(a for a in advice if a.kind == "gpus")
    assert gpus.text.startswith(f"{gpus.change['gpu_count']} x RTX 4090")


def test_kv_fp8_is_the_cheapest_way_out_when_it_is_enough() -> None:
    model, workload = load_preset("llama-3.1-8b"), Workload(context=60_000)
    deployment = Deployment(gpus=(RTX_4090,), engine=Engine.VLLM)
    advice = ways_out(model, workload, deployment)
    assert advice[0].kind == "kv" and advice[0].change == {"kv_dtype": "fp8"}
    assert advice[0].text.startswith("KV cache fp8: fits with")


def test_room_left_when_it_fits() -> None:
    from vramscope.core.solve import max_context

    model, deployment = load_preset("llama-3.1-8b"), Deployment(gpus=(RTX_4090,))
    advice = room_left(model, Workload(), deployment)
    assert [a.kind for a in advice] == ["context", "batch"]
    best = max_context(model, Workload(), deployment)
    assert best is not None and advice[0].text == f"Room for a context of {best:,}"
    assert advice[0].change == {"context": best}
