"""Decode speed from memory bandwidth: each step reads the weights a token uses and the whole KV cache."""

from vramscope.core.estimate import Estimate, SegmentKind
from vramscope.core.scenario import Deployment, ModelSpec

# Achieved / peak bandwidth of well-optimised decode kernels is 60-85 % (formulas.md §6); 0.7 default.
MEMORY_BANDWIDTH_UTILIZATION = 0.7
# Layers llama.cpp leaves on the CPU are read from system memory: dual-channel DDR5 peaks at 80-90 GB/s,
# a decode step reaches about 60 GB/s of it (estimate).
HOST_BANDWIDTH_BYTES_PER_S = 60e9


def expert_fraction_read(model: ModelSpec, batch: int) -> float:
    """Expected share of routed experts a decode step touches with `batch` sequences (uniform routing):
    1 - (1 - k/E)^B."""
    moe = model.architecture.moe
    if moe is None:
        return 1.0
    return 1.0 - (1.0 - moe.experts_per_token / moe.num_experts) ** batch


def decode_tokens_per_s(model: ModelSpec, est: Estimate, deployment: Deployment) -> float | None:
    """Tokens per second each sequence sees; None when a GPU's bandwidth is unknown.
    Ranks of a stage work in parallel, stages one after another, layers left on the CPU after them."""
    share = expert_fraction_read(model, est.batch)
    stage_times: dict[int, float] = {}
    for g in est.per_gpu:
        gpu = deployment.gpu(g.index)
        if gpu is None or gpu.bandwidth_bytes_per_s is None:
            return None
        weights = g.bytes_of(SegmentKind.WEIGHTS)
        read = weights - g.expert_weight_bytes * (1.0 - share) + g.bytes_of(SegmentKind.KV_CACHE)
        seconds = read / (MEMORY_BANDWIDTH_UTILIZATION * gpu.bandwidth_bytes_per_s)
        stage_times[g.stage] = max(stage_times.get(g.stage, 0.0), seconds)
    cpu_bytes = est.engine_details.get("cpu_layer_bytes") or 0
    step = sum(stage_times.values()) + float(cpu_bytes) / HOST_BANDWIDTH_BYTES_PER_S
    return 1.0 / step if step > 0 else None


def speed_note() -> str:
    return f"estimate: {MEMORY_BANDWIDTH_UTILIZATION:.0%} of peak memory bandwidth"
