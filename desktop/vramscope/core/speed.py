"""Decode speed from memory bandwidth: each step reads the weights a token uses and the whole KV cache,
from the GPUs and, for what an engine keeps on the CPU, from system memory."""

from vramscope.core.estimate import Estimate, SegmentKind
from vramscope.core.scenario import DEFAULT_HOST_BANDWIDTH_BYTES_PER_S, Deployment, Engine, ModelSpec

# Engines whose GPUs hold layers one after another (transformers' device_map="auto", llama.cpp's and
# Ollama's layer split): a token passes through them in turn, so their times add; tensor-parallel ranks
# (vLLM, SGLang) read their shares at once
SEQUENTIAL = (Engine.TRANSFORMERS, Engine.LLAMACPP, Engine.OLLAMA)

# Achieved / peak bandwidth of well-optimised decode kernels is 60-85 % (formulas.md §6); 0.7 default.
MEMORY_BANDWIDTH_UTILIZATION = 0.7


def expert_fraction_read(model: ModelSpec, batch: int) -> float:
    """Expected share of routed experts a decode step touches with `batch` sequences (uniform routing):
    1 - (1 - k/E)^B."""
    moe = model.architecture.moe
    if moe is None:
        return 1.0
    return 1.0 - (1.0 - moe.experts_per_token / moe.num_experts) ** batch


def host_read_bytes(est: Estimate, share: float) -> float:
    """What one decode step reads from system memory: layers left on the CPU and their cache whole, experts
    kept there (--n-cpu-moe) in the share a step touches."""
    details = est.engine_details
    dense = details.get("cpu_dense_bytes", details.get("cpu_layer_bytes")) or 0
    experts = details.get("cpu_expert_bytes") or 0
    cache = sum(s.bytes for s in est.host if s.kind is SegmentKind.KV_CACHE)
    return float(dense) + share * float(experts) + cache


def decode_tokens_per_s(model: ModelSpec, est: Estimate, deployment: Deployment) -> float | None:
    """Tokens per second each sequence sees; None when a GPU's bandwidth is unknown.
    Ranks of a stage work in parallel, stages one after another (and every GPU of an engine that splits by
    layer), the CPU's part after them at the host's bandwidth (an achieved figure: the stated one, else a
    DDR5 default)."""
    share = expert_fraction_read(model, est.batch)
    stage_times: dict[int, float] = {}
    sequential = deployment.engine in SEQUENTIAL
    for g in est.per_gpu:
        gpu = deployment.gpu(g.index)
        if gpu is None or gpu.bandwidth_bytes_per_s is None:
            return None
        weights = g.bytes_of(SegmentKind.WEIGHTS)
        read = weights - g.expert_weight_bytes * (1.0 - share) + g.bytes_of(SegmentKind.KV_CACHE)
        seconds = read / (MEMORY_BANDWIDTH_UTILIZATION * gpu.bandwidth_bytes_per_s)
        stage = g.index if sequential else g.stage
        stage_times[stage] = max(stage_times.get(stage, 0.0), seconds)
    host = deployment.host.bandwidth_bytes_per_s if deployment.host else DEFAULT_HOST_BANDWIDTH_BYTES_PER_S
    step = sum(stage_times.values()) + host_read_bytes(est, share) / host
    return 1.0 / step if step > 0 else None


def speed_note(est: Estimate | None = None, deployment: Deployment | None = None) -> str:
    note = f"estimate: {MEMORY_BANDWIDTH_UTILIZATION:.0%} of peak memory bandwidth"
    if est is not None and deployment is not None and host_read_bytes(est, 1.0):
        basis = deployment.host.bandwidth_basis if deployment.host else "60 GB/s, an estimate"
        note += f"; the CPU's part at {basis}"
    return note
