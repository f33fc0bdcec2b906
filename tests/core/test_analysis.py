"""analyse(): the one call every front end makes."""

from vramscope.core.analysis import analyse
from vramscope.core.estimate import estimate
from vramscope.core.scenario import Deployment, Engine, GpuSpec, Workload
from vramscope.core.solve import max_batch, max_context
from vramscope.core.units import GIB
from vramscope.sources.presets import load_preset

GPU = GpuSpec(name="24 GiB", capacity_bytes=24 * GIB, total_bytes=24 * GIB, bandwidth_bytes_per_s=1e12)


def test_analysis_is_the_estimate_and_its_limits() -> None:
    model, workload = load_preset("qwen2.5-7b"), Workload(context=16384)
    for engine in Engine:
        deployment = Deployment(gpus=(GPU,), engine=engine)
        a = analyse(model, workload, deployment)
        assert a.estimate == estimate(model, workload, deployment)
        assert a.max_context == max_context(model, workload, deployment)
        assert a.max_batch == max_batch(model, workload, deployment)
        assert a.decode_tokens_per_s and a.decode_tokens_per_s > 0
        assert a.launch_command


def test_largest_context_is_exact_at_the_boundary_for_every_engine() -> None:
    model = load_preset("llama-3.1-8b")
    for engine in Engine:
        deployment = Deployment(gpus=(GPU,), engine=engine)
        a = analyse(model, Workload(context=4096, batch=2), deployment)
        assert a.max_context is not None
        at = estimate(model, Workload(context=a.max_context, batch=2), deployment)
        assert at.fits is True
        if a.max_context < model.architecture.max_context:
            past = estimate(model, Workload(context=a.max_context + 1, batch=2), deployment)
            assert past.fits is False, engine
