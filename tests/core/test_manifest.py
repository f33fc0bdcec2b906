"""The Kubernetes LeaderWorkerSet for vLLM over nodes: one pod per node, the leader serving what the CLI prints."""

import json

from vramscope.core.analysis import launch_command
from vramscope.core.manifest import lws_manifest
from vramscope.core.scenario import Deployment, Engine, EngineSettings, GpuSpec, Workload
from vramscope.core.units import GIB
from vramscope.sources.presets import load_preset

H100 = GpuSpec(name="H100", capacity_bytes=80 * GIB, total_bytes=80 * GIB)
MODEL, WORKLOAD = load_preset("llama-3.1-405b"), Workload(weight_format="fp8")


def test_two_nodes_of_eight_gpus_are_a_group_of_two_pods() -> None:
    deployment = Deployment(
        gpus=(H100,), tensor_parallel=8, pipeline_parallel=2, nodes=2, engine=Engine.VLLM,
        settings=EngineSettings(engine_version="0.19"),
    )  # fmt: skip
    text = lws_manifest(MODEL, WORKLOAD, deployment)
    assert text is not None
    lws, service = json.loads(text)["items"]
    template = lws["spec"]["leaderWorkerTemplate"]
    assert lws["kind"] == "LeaderWorkerSet" and template["size"] == 2
    leader = template["leaderTemplate"]["spec"]["containers"][0]
    worker = template["workerTemplate"]["spec"]["containers"][0]
    assert leader["image"] == "vllm/vllm-openai:v0.19.0" and leader["resources"]["limits"]["nvidia.com/gpu"] == "8"
    serve = launch_command(MODEL, WORKLOAD, deployment).split("&& ")[1].split("  # ")[0]
    assert leader["command"][2] == f"ray start --head --port=6379 && {serve} --port 8000"
    assert worker["command"][2] == "ray start --address=$(LWS_LEADER_ADDRESS):6379 --block"
    assert service["spec"]["selector"] == {
        "leaderworkerset.sigs.k8s.io/name": lws["metadata"]["name"],
        "role": "leader",
    }


def test_no_manifest_for_one_machine_or_another_engine() -> None:
    assert lws_manifest(MODEL, WORKLOAD, Deployment(gpus=(H100,), tensor_parallel=8, engine=Engine.VLLM)) is None
    two_nodes = Deployment(gpus=(H100,), tensor_parallel=8, pipeline_parallel=2, nodes=2, engine=Engine.SGLANG)
    assert lws_manifest(MODEL, WORKLOAD, two_nodes) is None
