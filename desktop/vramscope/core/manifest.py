"""A Kubernetes LeaderWorkerSet for a vLLM deployment over nodes, as vLLM's and LWS's guides deploy it: one
pod per node, the leader starts a Ray head and `vllm serve`, the workers join its Ray cluster. Written as JSON,
which kubectl takes as it takes YAML (`kubectl apply -f vllm.json`)."""

import json
import re
from typing import Any

from vramscope.core.analysis import launch_command
from vramscope.core.checkpoints import COMMENT
from vramscope.core.scenario import Deployment, Engine, ModelSpec, Workload

LWS_API = "leaderworkerset.x-k8s.io/v1"
VLLM_IMAGE = "vllm/vllm-openai"  # the image vLLM publishes, tagged by release (v0.11.0 …)
VLLM_PORT = 8000  # vllm serve's default --port
RAY_PORT = 6379
_RELEASE = re.compile(r"\d{1,3}\.\d{1,3}(\.\d{1,3})?")  # a release the image is tagged by
SHM_LIMIT = "16Gi"  # NCCL and the workers share tensors through /dev/shm; the container default is 64 MiB


def lws_manifest(model: ModelSpec, workload: Workload, deployment: Deployment) -> str | None:
    """The manifest for this scenario (None: not a vLLM deployment over nodes)."""
    if deployment.engine is not Engine.VLLM or deployment.nodes < 2:
        return None
    name = _name(model.name)
    serve = launch_command(model, workload, deployment).partition(COMMENT)[0].split("&&")[-1].strip()
    leader = f"ray start --head --port={RAY_PORT} && {serve} --port {VLLM_PORT}"
    worker = f"ray start --address=$(LWS_LEADER_ADDRESS):{RAY_PORT} --block"
    version = deployment.settings.engine_version or ""
    tag = "v" + ".".join([*version.split("."), "0"][:3]) if _RELEASE.fullmatch(version) else "latest"
    image, per_node = f"{VLLM_IMAGE}:{tag}", str(deployment.gpus_per_node)
    lws = {
        "apiVersion": LWS_API,
        "kind": "LeaderWorkerSet",
        "metadata": {"name": name},
        "spec": {
            "replicas": 1,
            "leaderWorkerTemplate": {
                "size": deployment.nodes,
                "restartPolicy": "RecreateGroupOnPodRestart",
                "leaderTemplate": {
                    "metadata": {"labels": {"role": "leader"}},
                    "spec": _pod(f"{name}-leader", image, leader, per_node, serving=True),
                },
                "workerTemplate": {"spec": _pod(f"{name}-worker", image, worker, per_node, serving=False)},
            },
        },
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": f"{name}-leader"},
        "spec": {
            "ports": [{"name": "http", "port": VLLM_PORT, "protocol": "TCP", "targetPort": VLLM_PORT}],
            "selector": {"leaderworkerset.sigs.k8s.io/name": name, "role": "leader"},
        },
    }
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": [lws, service]}, indent=2)


def _pod(container: str, image: str, command: str, gpus: str, serving: bool) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "name": container,
        "image": image,
        "command": ["sh", "-c", command],
        # a gated model's token from a secret (kubectl create secret generic hf-token --from-literal=token=…)
        "env": [
            {"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"name": "hf-token", "key": "token", "optional": True}}}
        ],
        "resources": {"limits": {"nvidia.com/gpu": gpus}},
        "volumeMounts": [{"mountPath": "/dev/shm", "name": "dshm"}],
    }
    if serving:
        spec["ports"] = [{"containerPort": VLLM_PORT}]
        spec["readinessProbe"] = {"tcpSocket": {"port": VLLM_PORT}, "initialDelaySeconds": 15, "periodSeconds": 10}
    volume = {"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": SHM_LIMIT}}
    return {"containers": [spec], "volumes": [volume]}


def _name(model: str) -> str:
    """A DNS-1035 label: lower case letters, digits and '-', starting with a letter, at most 40 here."""
    slug = re.sub(r"[^a-z0-9-]+", "-", model.lower()).strip("-")
    slug = slug if slug[:1].isalpha() else f"m-{slug}"
    return f"vllm-{slug}"[:40].rstrip("-")
