"""Weight formats and KV-cache dtypes: exact bytes per tensor, scales included, and what stays high precision.

Sources (reference/formulas.md §1): ggml block sizes (gguf-py constants), llama.cpp file-type mixes
(src/llama-quant.cpp), AWQ/GPTQ tensor layouts (vLLM awq.py / gptq.py), bitsandbytes 4-bit absmax,
OCP MXFP4, and the FP8 checkpoints' per-channel bf16 scales.
"""

from dataclasses import dataclass, replace
from enum import StrEnum
from fractions import Fraction
from functools import lru_cache
from math import ceil
from typing import Any, NamedTuple

from vramscope.core.architecture import Architecture, Group, Split, Tensor


class GgmlType(NamedTuple):
    name: str
    block: int  # elements per block
    block_bytes: int  # bytes per block, scales included


# ggml (block size, type size): gguf-py/gguf/constants.py GGML_QUANT_SIZES
GGML_TYPES = {
    t.name: t
    for t in (
        GgmlType("F32", 1, 4),
        GgmlType("F16", 1, 2),
        GgmlType("BF16", 1, 2),
        GgmlType("Q8_0", 32, 34),
        GgmlType("Q6_K", 256, 210),
        GgmlType("Q5_K", 256, 176),
        GgmlType("Q5_1", 32, 24),
        GgmlType("Q5_0", 32, 22),
        GgmlType("Q4_K", 256, 144),
        GgmlType("Q4_1", 32, 20),
        GgmlType("Q4_0", 32, 18),
        GgmlType("IQ4_NL", 32, 18),
        GgmlType("IQ4_XS", 256, 136),
        GgmlType("Q3_K", 256, 110),
        GgmlType("IQ3_S", 256, 110),
        GgmlType("IQ3_XXS", 256, 98),
        GgmlType("Q2_K", 256, 84),
        GgmlType("IQ2_XXS", 256, 66),
        GgmlType("MXFP4", 32, 17),
    )
}

# When a row does not divide into blocks llama.cpp falls back (llama-quant.cpp tensor_type_fallback).
_FALLBACK = {"Q4_K": "Q5_0", "Q5_K": "Q5_1", "Q6_K": "Q8_0", "Q2_K": "Q4_0", "Q3_K": "Q4_0"}


class Family(StrEnum):
    FLOAT = "float"  # every tensor at one float width
    FP8 = "fp8"  # e4m3 + one bf16 scale per output row (compressed-tensors FP8 checkpoints)
    FP8_BLOCK = "fp8-block"  # e4m3 + one fp32 scale per 128x128 block (DeepSeek-V3)
    INT8 = "int8"  # bitsandbytes LLM.int8: int8 + one fp32 scale per output row
    NF4 = "nf4"  # bitsandbytes 4-bit: one fp32 absmax per 64 weights
    AWQ = "awq"
    GPTQ = "gptq"
    MXFP4 = "mxfp4"  # experts only, 32 FP4 values + one E8M0 scale
    NVFP4 = "nvfp4"  # 16 FP4 values + one FP8 e4m3 scale, two fp32 scales per tensor (ModelOpt, compressed-tensors)
    MXFP8 = "mxfp8"  # 32 FP8 values + one E8M0 scale (ModelOpt)
    INT4 = "int4"  # compressed-tensors pack-quantized, symmetric: int4 packed in int32 + one 16-bit scale per group
    GGUF = "gguf"


@dataclass(frozen=True)
class WeightFormat:
    """A constant of this module (not user input), so a plain frozen dataclass: cheap to import."""

    name: str
    label: str
    family: Family
    bits: float  # nominal bits per quantized weight, scales included (for people; bytes come from rules)
    element_bytes: int = 2  # FLOAT width; also the width of what other families keep high precision
    group_size: int = 128  # AWQ / GPTQ / INT4
    gguf_default: str = ""  # the ftype's default ggml type
    nested_absmax: bool = False  # NF4 with bitsandbytes' double quantization (8-bit absmax, fp32 per 256)
    # A checkpoint's mix ("nvfp4@ffn+fp8@mixer"): (scope, format) pairs, the last that covers a tensor prices
    # it; a matrix no part covers stays at 16 bits. Empty for a plain format.
    parts: tuple[tuple[str, "WeightFormat"], ...] = ()


def _q(name: str, label: str, family: Family, bits: float, **kw: Any) -> WeightFormat:
    return WeightFormat(name, label, family, bits, **kw)


# Ordered from most to fewest bits: the GUI slider walks this list.
WEIGHT_FORMATS: dict[str, WeightFormat] = {
    f.name: f
    for f in (
        _q("fp32", "FP32", Family.FLOAT, 32, element_bytes=4),
        _q("bf16", "BF16", Family.FLOAT, 16),
        _q("fp16", "FP16", Family.FLOAT, 16),
        _q("q8_0", "GGUF Q8_0", Family.GGUF, 8.5, gguf_default="Q8_0"),
        _q("int8", "INT8 (bitsandbytes)", Family.INT8, 8),
        _q("fp8", "FP8 e4m3 (per-channel)", Family.FP8, 8),
        _q("fp8-block", "FP8 e4m3 (128x128 blocks)", Family.FP8_BLOCK, 8.002),
        _q("q6_k", "GGUF Q6_K", Family.GGUF, 6.5625, gguf_default="Q6_K"),
        _q("q5_k_m", "GGUF Q5_K_M", Family.GGUF, 5.5, gguf_default="Q5_K"),
        _q("q5_k_s", "GGUF Q5_K_S", Family.GGUF, 5.5, gguf_default="Q5_K"),
        _q("q4_k_m", "GGUF Q4_K_M", Family.GGUF, 4.5, gguf_default="Q4_K"),
        _q("q4_k_s", "GGUF Q4_K_S", Family.GGUF, 4.5, gguf_default="Q4_K"),
        _q("q4_0", "GGUF Q4_0", Family.GGUF, 4.5, gguf_default="Q4_0"),
        _q("iq4_nl", "GGUF IQ4_NL", Family.GGUF, 4.5, gguf_default="IQ4_NL"),
        _q("nf4", "NF4 (bitsandbytes)", Family.NF4, 4.5),
        _q("mxfp4", "MXFP4 (experts)", Family.MXFP4, 4.25),
        _q("nvfp4", "NVFP4 (16-value FP8 scales)", Family.NVFP4, 4.5),
        _q("iq4_xs", "GGUF IQ4_XS", Family.GGUF, 4.25, gguf_default="IQ4_XS"),
        _q("gptq-int4", "GPTQ 4-bit g128", Family.GPTQ, 4.16, group_size=128),
        _q("awq-int4", "AWQ 4-bit g128", Family.AWQ, 4.156, group_size=128),
        _q("int4", "INT4 g128 (compressed-tensors)", Family.INT4, 4.125, group_size=128),
        _q("q3_k_l", "GGUF Q3_K_L", Family.GGUF, 3.4375, gguf_default="Q3_K"),
        _q("q3_k_m", "GGUF Q3_K_M", Family.GGUF, 3.4375, gguf_default="Q3_K"),
        _q("q3_k_s", "GGUF Q3_K_S", Family.GGUF, 3.4375, gguf_default="Q3_K"),
        _q("iq3_xxs", "GGUF IQ3_XXS", Family.GGUF, 3.0625, gguf_default="IQ3_XXS"),
        _q("q2_k", "GGUF Q2_K", Family.GGUF, 2.625, gguf_default="Q2_K"),
        _q("iq2_xxs", "GGUF IQ2_XXS", Family.GGUF, 2.0625, gguf_default="IQ2_XXS"),
    )
}

# Formats checkpoints use for some of their tensors only (named in a mix), not offered on their own
PART_FORMATS = {"mxfp8": _q("mxfp8", "MXFP8", Family.MXFP8, 8.25)}

_GROUP_SUFFIX = "-g"
_GROUPED = ("awq-int4", "gptq-int4", "int4")
# Where a part of a mix applies, by the tensor's role (core/roles.py)
SCOPES = ("all", "attn", "mixer", "dense", "shexp", "experts", "ffn", "head")


def weight_format(name: str) -> WeightFormat:
    """A format by name; 'awq-int4-g64' / 'int4-g32' pick another group size; 'int4-g32@experts' or
    'nvfp4@ffn+fp8@attn' name a checkpoint's mix (parts apply to the tensors of their scope)."""
    key = name.strip().lower()
    if key in WEIGHT_FORMATS:
        return WEIGHT_FORMATS[key]
    if "@" in key or "+" in key:
        return _mix(key)
    if key in PART_FORMATS:
        return PART_FORMATS[key]
    base, _, group = key.rpartition(_GROUP_SUFFIX)
    if base in _GROUPED and group.isdigit() and 8 <= int(group) <= 4096:
        g = int(group)
        fmt = WEIGHT_FORMATS[base]
        return replace(fmt, name=key, label=fmt.label.replace("g128", f"g{g}"), group_size=g)
    known = ", ".join(WEIGHT_FORMATS)
    raise ValueError(
        f"unknown weight format {name!r}; known: {known} (awq-int4-g64 etc. for other groups; "
        "int4-g32@experts, nvfp4@ffn+fp8@attn for a checkpoint's mix)"
    )


def known_format(name: str | None) -> WeightFormat | None:
    """The format of that name, or None for a name no rule prices (a GGUF's own mix of types)."""
    try:
        return weight_format(name) if name else None
    except ValueError:
        return None


@lru_cache(maxsize=256)
def _mix(key: str) -> WeightFormat:
    parts: list[tuple[str, WeightFormat]] = []
    for piece in key.split("+")[:8]:
        fmt_name, _, scope = piece.partition("@")
        scope = scope or "all"
        if scope not in SCOPES:
            raise ValueError(f"unknown scope {scope!r} in weight format {key!r}; known: {', '.join(SCOPES)}")
        fmt = weight_format(fmt_name)
        if fmt.parts or fmt.family is Family.GGUF:
            raise ValueError(f"{fmt_name!r} cannot be part of a mix ({key!r})")
        parts.append((scope, fmt))
    main = next((f for s, f in parts if s in ("all", "ffn", "experts")), parts[0][1])  # its bulk
    label = " + ".join(f.label.split(" (")[0] + ("" if s == "all" else f" ({s})") for s, f in parts)
    keep = next((f.element_bytes for s, f in parts if f.family is Family.FLOAT), 2)
    return replace(main, name=key, label=label, element_bytes=keep, parts=tuple(parts))


def scope_of(t: Tensor) -> str:
    """Which part of a checkpoint's mix a tensor belongs to, by its role."""
    role = t.role
    if role == "output":
        return "head"
    if t.group is Group.EXPERT:
        return "experts"
    if role.endswith("_shexp"):
        return "shexp"
    if role.startswith(("ssm_", "shortconv_")):
        return "mixer"
    if role.startswith("ffn_"):
        return "dense"
    return "attn"


@lru_cache(maxsize=256)
def matrix_scopes(arch: Architecture) -> frozenset[str]:
    """The scopes a model has matrices in, the head included."""
    return frozenset(scope_of(t) for t in arch.tensors() if t.group in (Group.LINEAR, Group.EXPERT)) | {"head"}


def _covers(scope: str, t: Tensor) -> bool:
    if t.group not in (Group.LINEAR, Group.EXPERT, Group.HEAD) or (t.group is Group.HEAD) != (scope == "head"):
        return False
    if scope == "all":
        return True
    own = scope_of(t)
    return own == scope or (scope == "ffn" and own in ("dense", "shexp", "experts"))


class KvDtype(NamedTuple):
    name: str
    label: str
    bytes_per_element: Fraction  # block scales included (ggml q8_0: 34 bytes per 32)


KV_DTYPES = {
    k.name: k
    for k in (
        KvDtype("fp32", "FP32", Fraction(4)),
        KvDtype("bf16", "BF16", Fraction(2)),
        KvDtype("fp16", "FP16", Fraction(2)),
        KvDtype("fp8", "FP8 e4m3", Fraction(1)),
        KvDtype("q8_0", "Q8_0 (llama.cpp)", Fraction(34, 32)),
        KvDtype("q4_0", "Q4_0 (llama.cpp)", Fraction(18, 32)),
    )
}


def kv_dtype(name: str) -> KvDtype:
    key = name.strip().lower()
    if key not in KV_DTYPES:
        raise ValueError(f"unknown KV-cache dtype {name!r}; known: auto, {', '.join(KV_DTYPES)}")
    return KV_DTYPES[key]


# --- pricing one tensor -----------------------------------------------------------------------------


class TensorContext(NamedTuple):
    """What llama.cpp's file-type rules look at besides the tensor itself."""

    n_layers: int
    n_experts: int
    gqa_ratio: int


def context_for(arch: Architecture) -> TensorContext:
    n_experts = arch.moe.num_experts if arch.moe else 0
    return TensorContext(arch.num_layers, n_experts, arch.num_attention_heads // arch.num_kv_heads)


def tensor_bytes(fmt: WeightFormat, t: Tensor, ctx: TensorContext) -> int:
    """Bytes of one tensor stored in `fmt`, scales and zero points included."""
    n = t.numel
    if n == 0:  # a zero-size dimension is valid in a file and holds nothing
        return 0
    if fmt.parts:
        scope, part = next(((s, f) for s, f in reversed(fmt.parts) if _covers(s, t)), ("", None))
        if part is None:
            return n * fmt.element_bytes  # kept at the checkpoint's own 16 bits
        return tensor_bytes(part, t._replace(group=Group.LINEAR) if scope == "head" else t, ctx)
    keep = fmt.element_bytes if fmt.family is Family.FLOAT else 2
    family = fmt.family
    if family is Family.FLOAT:
        return n * fmt.element_bytes
    if family is Family.GGUF:
        return _gguf_bytes(gguf_tensor_type(fmt, t, ctx), t)
    quantized = t.group is Group.EXPERT or (t.group is Group.LINEAR and family is not Family.MXFP4)
    if not quantized:
        return n * keep
    rows = n // t.shape[-1]  # output rows, times experts for 3-D stacks
    cols = t.shape[-1]
    experts = n // (cols * t.shape[-2]) if len(t.shape) >= 2 else 1  # matrices in a 3-D expert stack
    if family is Family.FP8:
        return n + rows * 2
    if family is Family.FP8_BLOCK:
        return n + experts * ceil(t.shape[-2] / 128) * ceil(cols / 128) * 4
    if family is Family.INT8:
        return n + rows * 4
    if family is Family.NF4:
        blocks = ceil(n / 64)
        return n // 2 + (blocks + ceil(blocks / 256) * 4 if fmt.nested_absmax else blocks * 4)
    if family is Family.MXFP4:
        return ceil(n / 32) * 17
    if family is Family.NVFP4:  # packed values, an e4m3 scale per 16, weight and input fp32 scales per matrix
        return n // 2 + rows * ceil(cols / 16) + experts * 8
    if family is Family.MXFP8:
        return n + rows * ceil(cols / 32)
    if family is Family.INT4:  # weight_packed int32, weight_scale per group, weight_shape int64 [2] per matrix
        return rows * ceil(cols / 8) * 4 + rows * ceil(cols / fmt.group_size) * 2 + experts * 16
    # AWQ/GPTQ per (out, in) matrix: int4 qweight, int4 zeros per group, fp16 scales per group
    out_features, groups = t.shape[-2], ceil(cols / fmt.group_size)
    per_matrix = cols * out_features // 2 + groups * ceil(out_features / 8) * 4 + groups * out_features * 2
    if family is Family.GPTQ:
        per_matrix += cols * 4  # g_idx
    return experts * per_matrix


def _gguf_bytes(type_name: str, t: Tensor) -> int:
    ggml = GGML_TYPES[type_name]
    return t.numel // ggml.block * ggml.block_bytes


def _use_more_bits(i: int, n: int) -> bool:
    # llama-quant.cpp: the first and last eighth, and every third layer between, get more bits
    return i < n // 8 or i >= 7 * n // 8 or (i - n // 8) % 3 == 2


_KEEP_F32 = {Group.NORM, Group.BIAS, Group.ROUTER, Group.STATE, Group.BUFFER}


def gguf_tensor_type(fmt: WeightFormat, t: Tensor, ctx: TensorContext) -> str:
    """The ggml type llama.cpp's quantize gives this tensor under the file type `fmt` (llama-quant.cpp)."""
    if t.group in _KEEP_F32 or len(t.shape) < 2 or t.role == "position_embd":
        return "F32"
    if t.group is Group.VISION:
        return "F16"  # projector files (mmproj) ship in f16
    chosen = _gguf_rule(fmt.name, fmt.gguf_default, t, ctx)
    block = GGML_TYPES[chosen].block
    if t.shape[-1] % block:
        chosen = _FALLBACK.get(chosen, "IQ4_NL" if chosen.startswith("IQ") else chosen)
        if t.shape[-1] % GGML_TYPES[chosen].block:
            chosen = "F16"
    return chosen


def _gguf_rule(ftype: str, default: str, t: Tensor, ctx: TensorContext) -> str:
    role, i, n = t.role, t.layer, ctx.n_layers
    if ftype in ("q6_k",):
        return default
    if role == "output" or (role == "token_embd" and t.group is Group.HEAD):
        return "Q8_0" if ftype == "q8_0" else ("Q5_K" if ftype.startswith("iq2") else "Q6_K")
    if ftype == "q8_0":
        return default
    if role == "token_embd":
        return {"iq2_xxs": "Q2_K", "iq3_xxs": "IQ3_S"}.get(ftype, default)
    is_v = role in ("attn_v", "attn_qkv", "attn_kv_b")
    is_down = role.startswith("ffn_down")
    if is_v and ctx.n_experts == 8:
        return "Q8_0"
    if role == "attn_output" and ctx.n_experts == 8 and ftype not in ("q2_k", "q3_k_s", "q3_k_m"):
        return "Q5_K"
    chosen = default
    if is_v:
        if role == "attn_qkv" and ftype in ("q4_k_m", "q5_k_m"):
            chosen = "Q5_K" if ftype == "q4_k_m" else "Q6_K"
        elif ftype == "q2_k":
            chosen = "Q4_K" if ctx.gqa_ratio >= 4 else "Q3_K"
        elif ftype == "q3_k_m":
            chosen = "Q5_K" if i < 2 else "Q4_K"
        elif ftype == "q3_k_l":
            chosen = "Q5_K"
        elif ftype in ("q4_k_m", "q5_k_m") and _use_more_bits(i, n):
            chosen = "Q6_K"
        elif (ftype == "q4_k_s" and i < 4) or (ftype in ("iq4_xs", "iq4_nl") and ctx.gqa_ratio >= 4):
            chosen = "Q5_K"
        if n == 80 and ctx.gqa_ratio == 8 and chosen in ("Q3_K", "Q4_K"):
            chosen = "Q5_K"  # llama.cpp bumps the 8x-shared attn_v of 70B models
    elif is_down:
        if ftype == "q2_k":
            chosen = "Q3_K"
        elif ftype == "q3_k_m":
            chosen = "Q5_K" if i < n // 16 else "Q4_K"
        elif ftype == "q3_k_l":
            chosen = "Q5_K"
        elif ftype in ("q4_k_m", "q5_k_m") and _use_more_bits(i, n):
            chosen = "Q6_K"
        elif ftype in ("q4_k_s", "iq4_xs") and i < n // 8:
            chosen = "Q5_K"
    elif role == "attn_output":
        chosen = {"q2_k": "Q3_K", "q3_k_m": "Q4_K", "q3_k_l": "Q5_K"}.get(ftype, default)
    return chosen


# --- pricing a whole model, per GPU ------------------------------------------------------------------


def local_shape(t: Tensor, arch: Architecture, tp: int) -> tuple[int, ...]:
    """The slice of `t` one of `tp` tensor-parallel ranks holds."""
    if tp == 1 or t.split is Split.REPLICATED or not t.shape:
        return t.shape
    shape = list(t.shape)
    layer = min(max(t.layer, 0), arch.num_layers - 1)  # extra (MTP) layers split like the last one
    if t.split is Split.ROW and len(shape) >= 2:
        shape[-1] = ceil(shape[-1] / tp)
        return tuple(shape)
    out_axis = len(shape) - 2 if len(shape) >= 2 else 0
    rows = shape[out_axis]
    if t.split in (Split.KV, Split.QKV):
        nkv = max(1, arch.kv_heads(layer))
        kv_local = max(1, arch.kv_heads_per_rank(layer, tp))
        if t.split is Split.KV:
            rows = rows * kv_local // nkv
        else:  # the rank's share of the fused rows: its Q heads and its K/V heads
            d, dv, nq = arch.head_dim, arch.v_dim, arch.q_heads(layer)
            rows = rows * (ceil(nq / tp) * d + kv_local * (d + dv)) // (nq * d + nkv * (d + dv))
    else:  # COLUMN, VOCAB
        rows = ceil(rows / tp)
    shape[out_axis] = rows
    return tuple(shape)


class WeightLayout(NamedTuple):
    """Bytes of one tensor-parallel rank's weights, by where pipeline stages and engines put them."""

    per_layer: tuple[int, ...]
    expert_per_layer: tuple[int, ...]  # the routed-expert part of per_layer
    first_stage: int  # embeddings, position embeddings, vision tower
    last_stage: int  # final norm, output head, MTP layers
    token_embedding: int  # the token-embedding part of first_stage (llama.cpp keeps it in host memory)
    vision: int  # the vision tower's part of first_stage (llama.cpp's separate mmproj file)


def on_last_stage(t: Tensor, num_layers: int) -> bool:
    """The final norm, the output head and MTP layers sit with the last pipeline stage."""
    return t.role in ("output_norm", "output") or t.layer >= num_layers


class LayoutBuilder:
    """Sums tensor bytes into a WeightLayout; one placement rule for the architecture and the file paths."""

    def __init__(self, num_layers: int) -> None:
        self.num_layers = num_layers
        self.per_layer = [0] * num_layers
        self.experts = [0] * num_layers
        self.first = self.last = self.embedding = self.vision = 0

    def add(self, t: Tensor, size: int) -> None:
        if 0 <= t.layer < self.num_layers:
            self.per_layer[t.layer] += size
            if t.group is Group.EXPERT:
                self.experts[t.layer] += size
        elif on_last_stage(t, self.num_layers):
            self.last += size
        else:
            self.first += size
            if t.role == "token_embd":
                self.embedding += size
            elif t.group is Group.VISION:
                self.vision += size

    def layout(self) -> WeightLayout:
        return WeightLayout(
            tuple(self.per_layer), tuple(self.experts), self.first, self.last, self.embedding, self.vision
        )


@lru_cache(maxsize=4096)
def weight_layout(arch: Architecture, fmt: WeightFormat, tp: int) -> WeightLayout:
    ctx = context_for(arch)
    builder = LayoutBuilder(arch.num_layers)
    for t in arch.tensors():
        local = t._replace(shape=local_shape(t, arch, tp)) if tp > 1 else t
        builder.add(t, tensor_bytes(fmt, local, ctx))
    return builder.layout()


def gguf_type_counts(arch: Architecture, fmt: WeightFormat) -> dict[str, int]:
    """How many tensors get each ggml type: comparable with llama.cpp's 'type q4_K: 193 tensors'."""
    ctx = context_for(arch)
    counts: dict[str, int] = {}
    for t in arch.tensors():
        kind = gguf_tensor_type(fmt, t, ctx)
        counts[kind] = counts.get(kind, 0) + 1
    return counts
