"""Checkpoint tensor names -> what the tensor is (role, layer, group, split), so a file's own tensors can be
split across GPUs and re-priced with the same rules as an architecture's."""

import re

from vramscope.core.architecture import Group, Split, Tensor

_LAYER = re.compile(r"(?:^|\.)(?:layers|h|blocks|blk|block)\.(\d+)\.")
_EXPERT = re.compile(r"\.experts\.(\d+\.)?")

# Hugging Face module names -> GGUF-style roles (the names llama.cpp's rules speak of)
_HF_ROLES = [
    (("q_proj", "query", "wq"), "attn_q"),
    (("k_proj", "key", "wk"), "attn_k"),
    (("v_proj", "value", "wv"), "attn_v"),
    (("qkv_proj", "query_key_value", "c_attn", "wqkv"), "attn_qkv"),
    (("o_proj", "out_proj", "wo", "dense"), "attn_output"),
    (("q_a_proj",), "attn_q_a"),
    (("q_b_proj",), "attn_q_b"),
    (("kv_a_proj_with_mqa",), "attn_kv_a_mqa"),
    (("kv_b_proj",), "attn_kv_b"),
    (("gate_proj", "w1"), "ffn_gate"),
    (("up_proj", "w3", "gate_up_proj", "c_fc", "dense_h_to_4h", "fc1"), "ffn_up"),
    (("down_proj", "w2", "dense_4h_to_h", "fc2"), "ffn_down"),
    (("in_proj",), "ssm_in"),
    (("x_proj",), "ssm_x"),
    (("dt_proj",), "ssm_dt"),
    (("conv1d",), "ssm_conv1d"),
]
_SPLIT = {
    "attn_q": Split.COLUMN,
    "attn_k": Split.KV,
    "attn_v": Split.KV,
    "attn_qkv": Split.QKV,
    "attn_output": Split.ROW,
    "ffn_down": Split.ROW,
    "ffn_down_exps": Split.ROW,
    "ffn_down_shexp": Split.ROW,
    "ssm_x": Split.ROW,
    "ssm_out": Split.ROW,
    "attn_q_a": Split.REPLICATED,
    "attn_kv_a_mqa": Split.REPLICATED,
}


def classify(name: str, shape: tuple[int, ...]) -> Tensor:
    """A tensor named as in a Hugging Face checkpoint or a GGUF file, with its logical shape."""
    match = _LAYER.search(name)
    layer = int(match.group(1)) if match and len(match.group(1)) <= 6 else -1  # a 5,000-digit index is none
    lower = name.lower()
    if lower.startswith(("vision", "visual", "multi_modal_projector", "v.", "mm.", "model.vision", "model.visual")):
        return Tensor(name, "vision", -1, shape, Split.COLUMN, Group.VISION)
    role = _role(lower, layer)
    is_bias = lower.endswith(".bias") and len(shape) == 1
    if role in ("token_embd", "position_embd"):
        return Tensor(name, role, -1, shape, Split.VOCAB if role == "token_embd" else Split.REPLICATED, Group.EMBEDDING)
    if role == "output":
        return Tensor(name, role, -1, shape, Split.VOCAB, Group.HEAD)
    norm = "norm" in role or role.startswith("ln")  # a LayerNorm's bias is replicated like its weight
    if norm or (len(shape) <= 1 and not is_bias):  # scalars: per-tensor scales
        return Tensor(name, role, layer, shape, Split.REPLICATED, Group.NORM)
    if role == "ffn_gate_inp" or "exp_probs" in role:
        return Tensor(name, role, layer, shape, Split.REPLICATED, Group.ROUTER)
    if role in ("ssm_a", "ssm_d", "ssm_conv1d") and not is_bias:
        return Tensor(name, role, layer, shape, Split.COLUMN, Group.STATE)
    split = _SPLIT.get(role, Split.COLUMN)
    if is_bias:
        return Tensor(name, role, layer, shape, Split.REPLICATED if split is Split.ROW else split, Group.BIAS)
    group = Group.EXPERT if role.endswith("_exps") else Group.LINEAR
    return Tensor(name, role, layer, shape, split, group)


def _role(lower: str, layer: int) -> str:
    stem = lower.removesuffix(".weight").removesuffix(".bias")
    if layer < 0:
        if any(k in stem for k in ("embed_tokens", "wte", "word_embeddings", "token_embd", "tok_embeddings")):
            return "token_embd"
        if any(k in stem for k in ("wpe", "position_embd", "embed_positions")):
            return "position_embd"
        if stem.endswith(("lm_head", "output", "embed_out")):
            return "output"
        if "norm" in stem or stem.endswith("ln_f"):
            return "output_norm"
        return "other"
    last = stem.rsplit(".", 1)[-1]
    if stem.startswith("blk."):  # GGUF names already carry the role
        return last
    if "norm" in last or last.startswith("ln"):
        return last
    if last in ("gate", "router") or stem.endswith((".mlp.gate", ".router", "block_sparse_moe.gate")):
        return "ffn_gate_inp"
    if last in ("e_score_correction_bias",):
        return "exp_probs_b"
    if last in ("a_log", "a"):
        return "ssm_a"
    if last == "d":
        return "ssm_d"
    if last == "sinks":
        return "attn_sinks"
    shared = "shared_expert" in stem
    expert = _EXPERT.search(stem) is not None or ".experts." in stem or stem.endswith(".experts")
    for names, role in _HF_ROLES:
        if last in names:
            if role == "ssm_in" and "mamba" not in stem and "mixer" not in stem:
                break
            if role == "attn_output" and ("mlp" in stem or "ffn" in stem) and last == "dense":
                return "ffn_down"
            if role.startswith("ffn") and (expert or shared):
                return role + ("_shexp" if shared else "_exps")
            if role == "attn_output" and last == "out_proj" and ("mamba" in stem or "mixer" in stem):
                return "ssm_out"
            return role
    if expert:  # fused expert stacks (gpt-oss: experts.gate_up_proj, experts.down_proj)
        return "ffn_down_exps" if "down" in last else "ffn_up_exps"
    if last in ("c_proj",):
        return "ffn_down" if ".mlp." in stem else "attn_output"
    return last
