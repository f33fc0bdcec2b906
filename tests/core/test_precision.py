"""Weight formats against published sizes (reference/formulas.md §1) and ggml block arithmetic."""

import pytest

from vramscope.core.architecture import Group
from vramscope.core.precision import (
    KV_DTYPES,
    context_for,
    gguf_type_counts,
    tensor_bytes,
    weight_format,
    weight_layout,
)
from vramscope.core.units import GIB, MIB
from vramscope.sources.presets import load_preset


def model_bytes(preset: str, fmt: str, tp: int = 1) -> int:
    layout = weight_layout(load_preset(preset).architecture, weight_format(fmt), tp)
    return sum(layout.per_layer) + layout.first_stage + layout.last_stage


def test_q4_k_m_tensor_types_match_llama_cpp_log() -> None:
    # llama.cpp loading Llama-3.1-8B Q4_K_M: "type f32: 66, q4_K: 193, q6_K: 33" (66 includes rope_freqs)
    counts = gguf_type_counts(load_preset("llama-3.1-8b").architecture, weight_format("q4_k_m"))
    assert counts == {"F32": 65, "Q4_K": 193, "Q6_K": 33}


def test_q4_k_m_bytes_match_llama_cpp_buffers() -> None:
    # "CUDA0 model buffer size = 4403.49 MiB", "CPU_Mapped model buffer size = 281.81 MiB" (token_embd)
    total = model_bytes("llama-3.1-8b", "q4_k_m")
    embedding = 128256 * 4096 * 144 // 256
    assert embedding / MIB == pytest.approx(281.81, abs=0.005)
    assert (total - embedding) / MIB == pytest.approx(4403.49, abs=0.01)


@pytest.mark.parametrize(
    ("ftype", "published_gib"),
    # tools/quantize/quantize.cpp sizes for Llama-3-8B (same shapes as 3.1-8B), in GiB
    [
        ("q8_0", 7.96),
        ("q6_k", 6.14),
        ("q5_k_m", 5.33),
        ("q5_k_s", 5.21),
        ("q4_k_m", 4.58),
        ("q4_k_s", 4.37),
        ("q4_0", 4.34),
        ("q3_k_l", 4.03),
        ("q3_k_m", 3.74),
        ("q3_k_s", 3.41),
        ("q2_k", 2.96),
    ],
)
def test_gguf_file_types_match_published_sizes(ftype: str, published_gib: float) -> None:
    assert model_bytes("llama-3.1-8b", ftype) / GIB == pytest.approx(published_gib, abs=0.015)


def test_fp8_checkpoint_is_exact() -> None:
    # Llama-3.3-70B FP8 checkpoint: F8_E4M3 68,451,041,280 + BF16 2,109,382,656 elements
    # (embeddings, head, norms and one bf16 scale per output row)
    assert model_bytes("llama-3.3-70b", "fp8") == 68_451_041_280 + 2 * 2_109_382_656


def test_awq_qwen2_5_7b() -> None:
    # formulas.md worked example 2: 5.571 GB (published checkpoint about 5.58 GB)
    assert model_bytes("qwen2.5-7b", "awq-int4") / 1e9 == pytest.approx(5.571, abs=0.002)


def test_awq_group_size_changes_scale_overhead() -> None:
    assert model_bytes("qwen2.5-7b", "awq-int4-g32") > model_bytes("qwen2.5-7b", "awq-int4")
    assert weight_format("awq-int4-g64").group_size == 64


def test_gptq_adds_g_idx() -> None:
    arch = load_preset("llama-3.1-8b").architecture
    down = next(t for t in arch.tensors() if t.role == "ffn_down")
    ctx = context_for(arch)
    gap = tensor_bytes(weight_format("gptq-int4"), down, ctx) - tensor_bytes(weight_format("awq-int4"), down, ctx)
    assert gap == 14336 * 4


def test_mxfp4_only_touches_experts() -> None:
    arch = load_preset("gpt-oss-20b").architecture
    ctx = context_for(arch)
    fmt = weight_format("mxfp4")
    expert = next(t for t in arch.tensors() if t.group is Group.EXPERT)
    attention = next(t for t in arch.tensors() if t.role == "attn_q" and len(t.shape) == 2)
    assert tensor_bytes(fmt, expert, ctx) == expert.numel // 32 * 17
    assert tensor_bytes(fmt, attention, ctx) == attention.numel * 2


def test_nf4_is_4_5_bits_on_linear_weights() -> None:
    arch = load_preset("llama-3.1-8b").architecture
    up = next(t for t in arch.tensors() if t.role == "ffn_up")
    assert tensor_bytes(weight_format("nf4"), up, context_for(arch)) * 8 / up.numel == pytest.approx(4.5)


def test_kv_dtypes_carry_block_scales() -> None:
    assert KV_DTYPES["q8_0"].bytes_per_element == pytest.approx(1.0625)
    assert KV_DTYPES["q4_0"].bytes_per_element == pytest.approx(0.5625)


def test_unknown_format_lists_known_ones() -> None:
    with pytest.raises(ValueError, match="q4_k_m"):
        weight_format("q4_k_x")


def test_tensor_parallel_splits_weights() -> None:
    whole = model_bytes("llama-3.1-70b", "bf16")
    per_rank = model_bytes("llama-3.1-70b", "bf16", tp=4)
    norms = 2 * (80 * 2 * 8192 + 8192)  # replicated on every rank
    assert per_rank == (whole - norms) // 4 + norms
