"""Data and expert parallel, and ranks over nodes, as vLLM and SGLang place them: attention and dense layers
split tp ways in every replica, the routed experts over all dp x tp ranks (FusedMoEParallelConfig.make)."""

import pytest

from vramscope.core.analysis import launch_command
from vramscope.core.engines.base import EngineSettingsError
from vramscope.core.estimate import SegmentKind, estimate
from vramscope.core.scenario import Deployment, Engine, GpuSpec, Workload
from vramscope.core.units import GIB
from vramscope.sources.presets import load_preset

H100 = GpuSpec(name="H100", capacity_bytes=80 * GIB, total_bytes=80 * GIB)
QWEN3_30B = load_preset("qwen3-30b-a3b")
# config.json of Qwen/Qwen3-30B-A3B: 128 experts of gate, up and down, 2048 x 768 each, in 48 layers
EXPERT_BYTES = 3 * 2048 * 768 * 2  # one expert of one layer in BF16
ROUTED_BYTES = 48 * 128 * EXPERT_BYTES  # 57.98 GB: the experts are most of the model


def weights(dp: int = 1, ep: bool = False, tp: int = 1, engine: Engine = Engine.VLLM) -> list[int]:
    deployment = Deployment(gpus=(H100,), tensor_parallel=tp, data_parallel=dp, expert_parallel=ep, engine=engine)
    return [g.bytes_of(SegmentKind.WEIGHTS) for g in estimate(QWEN3_30B, Workload(), deployment).per_gpu]


def test_data_parallel_ranks_share_out_the_experts_and_keep_the_attention_whole() -> None:
    (alone,) = weights()
    assert weights(dp=2) == [alone - ROUTED_BYTES // 2] * 2
    assert weights(dp=2, ep=True) == [alone - ROUTED_BYTES // 2] * 2  # 64 whole experts each: the same bytes
    tp2 = weights(tp=2)  # tensor parallel splits the attention too: less per rank than dp 2
    assert tp2[0] < weights(dp=2)[0]
    (sglang,) = weights(engine=Engine.SGLANG)  # no rotary cache among its weights
    assert weights(dp=2, engine=Engine.SGLANG) == [sglang - ROUTED_BYTES // 2] * 2  # DP attention


def test_expert_parallel_gives_the_first_ranks_one_expert_more_where_they_do_not_divide() -> None:
    (alone,) = weights()
    # 128 experts over 3 ranks: 43, 43, 42; every rank is planned as the fullest
    assert weights(dp=3, ep=True) == [alone - ROUTED_BYTES + 48 * 43 * EXPERT_BYTES] * 3


def test_every_replica_holds_the_workload_in_its_own_pool() -> None:
    model = load_preset("llama-3.1-8b")
    one = estimate(model, Workload(batch=8), Deployment(gpus=(H100,), engine=Engine.VLLM))
    two = estimate(model, Workload(batch=8), Deployment(gpus=(H100,), data_parallel=2, engine=Engine.VLLM))
    assert [g.segments for g in two.per_gpu] == [one.per_gpu[0].segments] * 2
    assert two.engine_verdict == f"{one.engine_verdict}, on each of 2 data-parallel replicas"
    assert two.engine_details["data_parallel"] == 2


def test_engines_without_data_parallel_say_so() -> None:
    with pytest.raises(EngineSettingsError, match=r"llama\.cpp has no data or expert parallel"):
        estimate(QWEN3_30B, Workload(), Deployment(gpus=(H100,), data_parallel=2, engine=Engine.LLAMACPP))
    with pytest.raises(EngineSettingsError, match="nor a plan over nodes"):
        estimate(QWEN3_30B, Workload(), Deployment(gpus=(H100,), tensor_parallel=2, nodes=2, engine=Engine.OLLAMA))


def test_405b_on_two_nodes_is_tp_8_inside_each_and_pp_2_across() -> None:
    model = load_preset("llama-3.1-405b")
    deployment = Deployment(gpus=(H100,), tensor_parallel=8, pipeline_parallel=2, nodes=2, engine=Engine.VLLM)
    est = estimate(model, Workload(weight_format="fp8"), deployment)
    assert len(est.per_gpu) == 16 and [deployment.node_of(g.index) for g in est.per_gpu] == [0] * 8 + [1] * 8
    assert [g.stage for g in est.per_gpu] == [0] * 8 + [1] * 8
    per_rank = [g.bytes_of(SegmentKind.WEIGHTS) for g in est.per_gpu]
    # 405,853,388,800 parameters at about a byte each, in sixteenths
    assert all(per_rank[0] == w for w in per_rank[:8]) and sum(per_rank) / 16 == pytest.approx(405.85e9 / 16, rel=0.02)
    assert not any("crosses nodes" in w for w in est.warnings)
    command = launch_command(model, Workload(weight_format="fp8"), deployment)
    assert command.startswith("ray start --head --port 6379 && vllm serve ")
    assert "--tensor-parallel-size 8 --pipeline-parallel-size 2" in command
    assert "--distributed-executor-backend ray" in command and "ray start --address <head-ip>:6379" in command


def test_tensor_parallel_across_nodes_is_warned_of() -> None:
    deployment = Deployment(gpus=(H100,), tensor_parallel=16, nodes=2, engine=Engine.VLLM)
    est = estimate(load_preset("llama-3.1-405b"), Workload(weight_format="fp8"), deployment)
    assert any(w.startswith("tensor parallel 16 crosses nodes of 8 GPUs") for w in est.warnings)


def test_data_and_expert_parallel_commands() -> None:
    deployment = Deployment(gpus=(H100,), data_parallel=8, expert_parallel=True, engine=Engine.VLLM)
    command = launch_command(QWEN3_30B, Workload(), deployment)
    assert command.endswith("--data-parallel-size 8 --enable-expert-parallel")
    sglang = launch_command(QWEN3_30B, Workload(), deployment.model_copy(update={"engine": Engine.SGLANG}))
    assert "--tp-size 8 --dp-size 8 --enable-dp-attention --ep-size 8" in sglang
