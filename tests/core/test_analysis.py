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


def test_gpus_that_hold_layers_in_turn_do_not_add_speed() -> None:
    # transformers' device_map="auto" and llama.cpp's layer split: a token passes through each GPU in turn,
    # so two GPUs read the same bytes as one, one after the other; vLLM's tensor-parallel ranks read at once
    model, workload = load_preset("llama-3.1-8b"), Workload(context=4096)
    for engine, faster in ((Engine.TRANSFORMERS, False), (Engine.LLAMACPP, False), (Engine.VLLM, True)):
        one = analyse(model, workload, Deployment(gpus=(GPU,), engine=engine)).decode_tokens_per_s
        two = analyse(model, workload, Deployment(gpus=(GPU,), tensor_parallel=2, engine=engine)).decode_tokens_per_s
        assert one and two and ((two > 1.5 * one) if faster else (two < 1.1 * one)), engine


def test_no_speed_for_a_setup_that_cannot_run() -> None:
    small = GPU.model_copy(update={"capacity_bytes": 4 * GIB, "total_bytes": 4 * GIB})
    a = analyse(load_preset("llama-3.1-8b"), Workload(), Deployment(gpus=(small,)))
    assert a.estimate.fits is False and a.decode_tokens_per_s is None
