"""One table of tensor roles: what each tensor of a decoder is (its GGUF-style role), how tensor parallelism
divides it and which precision rule prices it. The architecture's own tensor list, the safetensors reader
and the GGUF reader (through sources/tensor_names) all place a tensor by this table, so a model priced from
its config and the same model priced from its files agree."""

from enum import StrEnum
from math import prod
from typing import NamedTuple


class Split(StrEnum):
    """How tensor parallelism divides a tensor across GPUs."""

    COLUMN = "column"  # output rows split
    ROW = "row"  # input columns split
    REPLICATED = "replicated"
    VOCAB = "vocab"  # vocabulary rows split
    KV = "kv"  # K/V heads split, replicated once tp exceeds the KV heads
    QKV = "qkv"  # fused Q/K/V: Q heads split, K/V heads as KV


class Group(StrEnum):
    """What a tensor is, for the rules that decide its precision."""

    EMBEDDING = "embedding"
    HEAD = "head"
    LINEAR = "linear"  # a decoder-block matrix: what quantizers quantize
    EXPERT = "expert"  # a routed-expert matrix (3-D: experts x out x in)
    ROUTER = "router"
    BUFFER = "buffer"  # stored and used by every token, but not a trainable parameter
    NORM = "norm"
    BIAS = "bias"
    STATE = "state"  # recurrent-layer parameters (conv kernels, A, D)
    VISION = "vision"


class Tensor(NamedTuple):
    """One tensor; `shape` is (out, in) for matrices and (experts, out, in) for expert stacks."""

    name: str
    role: str  # GGUF-style role: attn_q, attn_v, ffn_down, token_embd, output …
    layer: int  # -1 outside the decoder blocks
    shape: tuple[int, ...]
    split: Split
    group: Group

    @property
    def numel(self) -> int:
        return prod(self.shape)


class Placement(NamedTuple):
    split: Split
    group: Group


_C, _R, _REP, _KV = Split.COLUMN, Split.ROW, Split.REPLICATED, Split.KV
_LIN, _EXP, _NORM = Group.LINEAR, Group.EXPERT, Group.NORM

# What each role is. Norms and scales are replicated: a per-head q/k norm is one head wide, and the engines
# that normalise across all heads gather them first (vLLM's OLMo 2); vLLM replicates the indexer and the
# shared-expert gate (ReplicatedLinear).
ROLES: dict[str, Placement] = {
    "token_embd": Placement(Split.VOCAB, Group.EMBEDDING),
    "position_embd": Placement(_REP, Group.EMBEDDING),
    "per_layer_token_embd": Placement(Split.VOCAB, Group.EMBEDDING),
    "output": Placement(Split.VOCAB, Group.HEAD),
    # attention
    "attn_q": Placement(_C, _LIN),
    "attn_k": Placement(_KV, _LIN),
    "attn_v": Placement(_KV, _LIN),
    "attn_qkv": Placement(Split.QKV, _LIN),
    "attn_output": Placement(_R, _LIN),
    "attn_sinks": Placement(_C, Group.BIAS),  # one learned logit per head
    "attn_gate": Placement(_C, _LIN),  # Step-3.7's output gate (g_proj), per query head
    "attn_q_a": Placement(_REP, _LIN),
    "attn_q_b": Placement(_C, _LIN),
    "attn_kv_a_mqa": Placement(_REP, _LIN),
    "attn_kv_b": Placement(_C, _LIN),
    "attn_kv": Placement(_REP, _LIN),  # DeepSeek-V4's single K=V projection
    "attn_output_a": Placement(_C, _LIN),
    "attn_output_b": Placement(_R, _LIN),
    "indexer_q": Placement(_REP, _LIN),
    "indexer_k": Placement(_REP, _LIN),
    "indexer_weights": Placement(_REP, _LIN),
    "indexer_kv": Placement(_REP, _LIN),
    "indexer_gate": Placement(_REP, _LIN),
    "indexer_position_bias": Placement(_REP, Group.BIAS),
    "compressor_kv": Placement(_REP, _LIN),
    "compressor_gate": Placement(_REP, _LIN),
    "compressor_position_bias": Placement(_REP, Group.BIAS),
    # feed-forward and experts
    "ffn_gate": Placement(_C, _LIN),
    "ffn_up": Placement(_C, _LIN),
    "ffn_down": Placement(_R, _LIN),
    "ffn_gate_shexp": Placement(_C, _LIN),
    "ffn_up_shexp": Placement(_C, _LIN),
    "ffn_down_shexp": Placement(_R, _LIN),
    "ffn_gate_exps": Placement(_C, _EXP),
    "ffn_up_exps": Placement(_C, _EXP),
    "ffn_down_exps": Placement(_R, _EXP),
    "ffn_gate_inp": Placement(_REP, Group.ROUTER),
    "ffn_gate_inp_shexp": Placement(_REP, Group.ROUTER),
    "ffn_gate_inp_scale": Placement(_REP, Group.ROUTER),
    "ffn_gate_exps_scale": Placement(_REP, Group.ROUTER),
    "exp_probs_b": Placement(_REP, Group.BUFFER),  # the router's score correction: a buffer, not a parameter
    "ffn_gate_tid2eid": Placement(_REP, Group.BUFFER),  # DeepSeek-V4's token-id -> experts table
    "ffn_latent_down": Placement(_REP, _LIN),
    "ffn_latent_up": Placement(_REP, _LIN),
    # recurrent mixers (Mamba, Mamba-2, Gated DeltaNet)
    "ssm_in": Placement(_C, _LIN),
    "ssm_ba": Placement(_C, _LIN),
    "ssm_x": Placement(_R, _LIN),
    "ssm_dt": Placement(_C, _LIN),
    "ssm_out": Placement(_R, _LIN),
    "ssm_conv1d": Placement(_C, Group.STATE),
    "ssm_a": Placement(_C, Group.STATE),
    "ssm_d": Placement(_C, Group.STATE),
    # LFM2's short convolution (llama.cpp: blk.N.shortconv.in_proj / conv / out_proj)
    "shortconv_in_proj": Placement(_C, _LIN),
    "shortconv_conv": Placement(_C, Group.STATE),
    "shortconv_out_proj": Placement(_R, _LIN),
    # Gemma 4's per-layer inputs
    "per_layer_model_proj": Placement(_C, _LIN),
    "inp_gate": Placement(_REP, _LIN),
    "proj": Placement(_REP, _LIN),
}
for _prefix in ("hc_attn", "hc_ffn", "hc_head"):  # DeepSeek-V4's hyper-connection mixing weights
    for _part in ("fn", "base", "scale"):
        ROLES[f"{_prefix}_{_part}"] = Placement(_REP, Group.ROUTER)

_NORM_PLACEMENT = Placement(_REP, _NORM)
_MATRICES = (_LIN, _EXP, Group.STATE)


def is_norm(role: str) -> bool:
    return "norm" in role or role.startswith("ln")


def placement(role: str, shape: tuple[int, ...], bias: bool = False) -> Placement:
    """Where a tensor of `role` goes. A matrix's bias is split like its output rows (replicated after a
    row-split matrix, whose outputs are summed across GPUs); a norm's bias is part of the norm. A role the
    table does not know is a norm or a per-tensor scale when 1-D, else a column-split matrix."""
    known = ROLES.get(role)
    if known is None:
        known = _NORM_PLACEMENT if is_norm(role) or (len(shape) <= 1 and not bias) else Placement(_C, _LIN)
    if bias and known.group in _MATRICES:
        return Placement(_REP if known.split is _R else known.split, Group.BIAS)
    return known


# Hugging Face module names -> roles (the names llama.cpp's rules speak of)
HF_NAMES: dict[str, str] = {
    **dict.fromkeys(("q_proj", "query", "wq"), "attn_q"),
    **dict.fromkeys(("k_proj", "key", "wk"), "attn_k"),
    **dict.fromkeys(("v_proj", "value", "wv"), "attn_v"),
    **dict.fromkeys(("qkv_proj", "query_key_value", "c_attn", "wqkv"), "attn_qkv"),
    **dict.fromkeys(("o_proj", "out_proj", "wo", "dense"), "attn_output"),
    "q_a_proj": "attn_q_a",
    "q_b_proj": "attn_q_b",
    "kv_a_proj_with_mqa": "attn_kv_a_mqa",
    "kv_b_proj": "attn_kv_b",
    **dict.fromkeys(("gate_proj", "w1"), "ffn_gate"),
    **dict.fromkeys(("up_proj", "w3", "gate_up_proj", "c_fc", "dense_h_to_4h", "fc1"), "ffn_up"),
    **dict.fromkeys(("down_proj", "w2", "dense_4h_to_h", "fc2"), "ffn_down"),
    "in_proj": "ssm_in",
    "x_proj": "ssm_x",
    "dt_proj": "ssm_dt",
    "conv1d": "ssm_conv1d",
    "g_proj": "attn_gate",
}
# names that are one role wherever they appear
HF_LEAVES: dict[str, str] = {
    "gate": "ffn_gate_inp",
    "router": "ffn_gate_inp",
    "e_score_correction_bias": "exp_probs_b",
    "a_log": "ssm_a",
    "a": "ssm_a",
    "d": "ssm_d",
    "sinks": "attn_sinks",
    "shared_expert_gate": "ffn_gate_inp_shexp",
}
# DeepSeek-V3.2's lightning indexer (self_attn.indexer.*), whose wk is not the attention's key
HF_INDEXER: dict[str, str] = {
    "wq_b": "indexer_q",
    "wk": "indexer_k",
    "k_norm": "indexer_k_norm",
    "weights_proj": "indexer_weights",
}
