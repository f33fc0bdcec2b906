"""What changed between vLLM releases in how the KV pool is sized at start-up, one line per rule set, each
rule read from that release's source (PyPI sdists of 0.6.3 to 0.34.0):

- V0 engine (before 0.8, and VLLM_USE_V1=0 up to 0.10): worker.py determine_num_available_blocks; the
  profile run prefills max_num_batched_tokens, which is max(max_model_len, 2048) while chunked prefill is
  off (arg_utils: off up to a 32k context); every layer pages its whole context (no hybrid allocator);
  CUDA graphs are captured after the pool and come out of the (1 - utilization) headroom.
- V1 (0.8 on): gpu_worker.py determine_available_memory, kv_cache_utils.py; 0.8.0-0.9.0 count every byte
  that is no live tensor as non-torch memory (the CUDA context included); 0.11 takes its baseline snapshot
  after the distributed set-up, so NCCL and custom all-reduce buffers are not charged at tp > 1.
- The dummy sampler: sort-based top-k/top-p over fp32 logits in V0 and V1 up to 0.16, 38 B per logit at
  the sort: the 16-bit logits and their fp32 copy (6), the sorted values and int64 indices (12) and the
  sort's own working set, its int64 index input and CUB's alternate key/value buffers (20); 0.15 and 0.16
  logged 5.64 GiB for Qwen3-14B's 1,024 x 151,936 logits. Both keep the forward's output alive under it
  (V0 model_runner.execute_model, V1 gpu_model_runner.profile_run). In-place Triton top-k/top-p from 0.17
  (14 B: 2.23 GiB for the same run on 0.17 and 0.18).
- FlashInfer's sampler, where it is installed (the Docker image, vllm[flashinfer]): V1 takes it by default up
  to 0.11 ("Using FlashInfer for top-p & top-k sampling."), from 0.12 only with VLLM_USE_FLASHINFER_SAMPLER=1;
  the profile's top-k/top-p then holds the fp32 logits, FlashInfer's top-k mask and its softmax (14 B).
- From 0.14 the bf16 and FP8 fused-MoE kernels keep their workspace in vLLM's WorkspaceManager, which
  never shrinks: the sampler runs on top of it (the two add, they do not overlap).
- From 0.20 gpu_memory_utilization defaults to 0.92 and the CUDA-graph estimate (profile_cudagraph_memory)
  is taken out of the budget before the pool; from 0.21 'GPU KV cache size' is max concurrency x
  max_model_len (a sliding window counts only its window's blocks: ~10x the tokens of 0.20 for Gemma 4,
  vllm#43308); from 0.26 a window keeps every batch in flight (two with async scheduling); from 0.28 GPUs
  of 160 GiB and more default to 16,384 batched tokens. 0.34's extensible KV cache (utilization 1.0, sized
  after warm-up) is not modelled.
"""

import re
from typing import NamedTuple

from vramscope.core.scenario import GpuSpec
from vramscope.core.units import GIB


class VllmRules(NamedTuple):
    line: str  # the release line these rules are read from, as the source notes name it
    v0: bool  # the V0 engine
    default_utilization: float
    sampler_bytes_per_logit: int
    charges_tp_buffers: bool  # NCCL / custom all-reduce buffers counted as non-torch memory at tp > 1
    charges_cuda_context: bool  # the process's CUDA context counted as non-torch memory
    moe_workspace_with_sampler: bool
    graphs_in_budget: bool
    version: tuple[int, ...]


NEWEST = (0, 33)
SORT_SAMPLER_BYTES = 38  # per logit: the sort-based top-k/top-p of V0 and of V1 up to 0.16
# The newest release of each rule set, as the window offers them (newest first)
OFFERED = ("0.33", "0.19", "0.16", "0.13", "0.11", "0.10", "0.9.0", "0.10-v0")
LARGE_GPU_BYTES = 70 * GIB  # arg_utils.get_batch_defaults: the larger defaults from 70 GiB
HUGE_GPU_BYTES = 160 * GIB  # 0.28: and larger again from 160 GiB
_VERSION = re.compile(r"^v?(\d{1,3})\.(\d{1,3})(?:\.(\d{1,3}))?(?:[.+\-\w]*?)(-v0)?$", re.ASCII)


def parse_version(text: str | None) -> tuple[tuple[int, ...], bool]:
    """'0.19.1' -> ((0, 19, 1), False); '0.8.2-v0' -> ((0, 8, 2), True); None -> the newest modelled."""
    if text is None or not text.strip():
        return NEWEST, False
    key = text.strip().lower()
    if key in ("v0", "0-v0"):
        return (0, 10, 2), True
    m = _VERSION.match(key)
    if m is None:
        raise ValueError(f"unknown vLLM version {text[:40]!r}: give one such as 0.11, 0.19.1 or 0.8.2-v0")
    version = tuple(int(p) for p in m.groups()[:3] if p is not None)
    return version, bool(m.group(4)) or version < (0, 8)


def vllm_rules(text: str | None) -> VllmRules:
    version, v0 = parse_version(text)
    if v0 and version >= (0, 11):
        raise ValueError(f"vLLM {text} has no V0 engine: it was removed in 0.11")
    if version < (0, 6, 3):
        raise ValueError(f"vLLM {text} is older than any modelled (0.6.3 on)")
    if v0:
        return VllmRules("V0 (0.6.3-0.10)", True, 0.9, SORT_SAMPLER_BYTES, True, False, False, False, version)
    return VllmRules(
        _line_name(version),
        False,
        0.92 if version >= (0, 20) else 0.9,
        14 if version >= (0, 17) else SORT_SAMPLER_BYTES,
        not (0, 11) <= version < (0, 12),
        version < (0, 9, 1),
        version >= (0, 14),
        version >= (0, 20),
        version,
    )


def _line_name(version: tuple[int, ...]) -> str:
    for start, name in (
        ((0, 34), "0.34 (its extensible KV cache not modelled: priced as 0.20-0.33)"),
        ((0, 20), "0.20-0.33"),
        ((0, 17), "0.17-0.19"),
        ((0, 14), "0.14-0.16"),
        ((0, 12), "0.12-0.13"),
        ((0, 11), "0.11"),
        ((0, 9, 1), "0.9.1-0.10"),
    ):
        if version >= start:
            return name
    return "0.8-0.9.0"


def batch_defaults(rules: VllmRules, gpu: GpuSpec | None, total: int | None, context: int) -> tuple[int, int]:
    """(max_num_batched_tokens, max_num_seqs) that `vllm serve` picks (arg_utils: _set_default_args_v0,
    get_batch_defaults, by version)."""
    if rules.v0:  # chunked prefill off up to a 32k context: the whole context in one prefill
        return (max(context, 2048) if context <= 32768 else 2048), 256
    name = gpu.name.lower() if gpu is not None else ""
    size = total or 0
    if rules.version < (0, 8, 5):  # 0.8.0: by device name, 1,024 sequences everywhere
        return (8192 if "h100" in name or "h200" in name else 2048), 1024
    large = size >= LARGE_GPU_BYTES and (rules.version < (0, 9) or "a100" not in name)
    if rules.version >= (0, 28) and size >= HUGE_GPU_BYTES:
        return 16384, 1024
    return (8192, 1024) if large else (2048, 256)


TOKENS_BY_CONCURRENCY = (0, 21)  # kv_cache_utils._report_kv_cache_config
IN_FLIGHT_WINDOWS = (0, 26)  # kv_cache_interface.SlidingWindowSpec.max_admission_blocks_per_request


def reports_tokens_by_concurrency(rules: VllmRules) -> bool:
    """From 0.21 'GPU KV cache size' is max concurrency x max_model_len, so a sliding-window layer counts
    only the blocks its window holds; before, the blocks over the groups times the smallest block."""
    return not rules.v0 and rules.version >= TOKENS_BY_CONCURRENCY


def window_tokens_in_flight(rules: VllmRules, batched: int, pp: int) -> int:
    """The scheduled tokens a sliding-window layer keeps beside its window per request: one batch of
    max_num_batched_tokens, and from 0.26 every batch in flight (config/vllm.py max_in_flight_tokens:
    2 with async scheduling, vLLM's default, at pp 1; pp with pipeline parallel)."""
    if rules.v0 or rules.version < IN_FLIGHT_WINDOWS:
        return batched
    return batched * (2 if pp == 1 else pp)


FLASHINFER_SAMPLER_BYTES = 14  # 16-bit logits, their fp32 copy, top_k_mask_logits' output and the softmax


def sampler_bytes_per_logit(rules: VllmRules, flashinfer: bool) -> int:
    """What the profile's dummy sampler holds per logit (V0's sampler never takes FlashInfer's by default)."""
    return FLASHINFER_SAMPLER_BYTES if flashinfer and not rules.v0 else rules.sampler_bytes_per_logit


def flashinfer_needs_opt_in(rules: VllmRules) -> bool:
    """From 0.12 FlashInfer's sampler is used only with VLLM_USE_FLASHINFER_SAMPLER=1."""
    return rules.version >= (0, 12)


def online_quantization(rules: VllmRules) -> dict[str, str]:
    """The formats vLLM makes from a 16-bit checkpoint as it loads it (quantization/__init__.py
    QuantizationMethods): FP8 per tensor always; 128 x 128 blocks as fp8_per_block (seen from 0.20); bitsandbytes
    up to 0.27 (0.28 removed it)."""
    made = {"fp8": "--quantization fp8"}
    made["fp8-block"] = "--quantization fp8_per_block" if rules.version >= (0, 20) else "--quantization fp8"
    if runs_bitsandbytes(rules):
        made["nf4"] = "--quantization bitsandbytes"
    return made


BITSANDBYTES_REMOVED = (0, 28)


MISTRAL_FORMAT_BY_DEFAULT = (0, 12)  # PR #28659: --config-format / --load-format auto prefer Mistral's own files


def loads_mistral_format(rules: VllmRules) -> bool:
    """From 0.12 a repository with consolidated*.safetensors and params.json loads in Mistral's own format
    (transformers_utils/config.py: is_mistral_model_repo first); before, config.json came first."""
    return rules.version >= MISTRAL_FORMAT_BY_DEFAULT


def runs_bitsandbytes(rules: VllmRules) -> bool:
    """0.28 took bitsandbytes out of QuantizationMethods: no NF4 from then on, loaded or made."""
    return rules.version < BITSANDBYTES_REMOVED
