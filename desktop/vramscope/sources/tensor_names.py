"""Checkpoint tensor names -> what the tensor is (role, layer, group, split), so a file's own tensors can be
split across GPUs and re-priced with the same rules as an architecture's: the role is found here, its
placement in the one role table (core/roles.py)."""

import re

from vramscope.core.architecture import Group, Split, Tensor
from vramscope.core.roles import HF_INDEXER, HF_LEAVES, HF_NAMES, is_norm, placement

_LAYER = re.compile(r"(?:^|\.)(?:layers|h|blocks|blk|block)\.(\d+)\.")
_EXPERT = re.compile(r"\.experts\.(\d+\.)?")
_VISION = ("vision", "visual", "multi_modal_projector", "v.", "mm.", "model.vision", "model.visual")


def classify(name: str, shape: tuple[int, ...]) -> Tensor:
    """A tensor named as in a Hugging Face checkpoint or a GGUF file, with its logical shape."""
    match = _LAYER.search(name)
    layer = int(match.group(1)) if match and len(match.group(1)) <= 6 else -1  # a 5,000-digit index is none
    lower = name.lower()
    if lower.startswith(_VISION):
        return Tensor(name, "vision", -1, shape, Split.COLUMN, Group.VISION)
    stem = lower.removesuffix(".weight").removesuffix(".bias")
    role = _outside_role(stem) if layer < 0 else _layer_role(stem)
    bias = lower.endswith((".bias", "_bias")) and role not in ("exp_probs_b",)
    where = placement(role, shape, bias)
    return Tensor(name, role, layer, shape, where.split, where.group)


def _outside_role(stem: str) -> str:
    """Tensors outside the decoder blocks: embeddings, the head, the final norm."""
    if is_norm(stem.rsplit(".", 1)[-1]):  # LFM2's final norm: embedding_norm, token_embd_norm in a GGUF
        return "output_norm"
    if any(k in stem for k in ("embed_tokens", "wte", "word_embeddings", "token_embd", "tok_embeddings")):
        return "token_embd"
    if any(k in stem for k in ("wpe", "position_embd", "embed_positions")):
        return "position_embd"
    if stem.endswith(("lm_head", "output", "embed_out")):
        return "output"
    if "norm" in stem or stem.endswith("ln_f"):
        return "output_norm"
    return "other"


def _layer_role(stem: str) -> str:
    last = stem.rsplit(".", 1)[-1]
    if ".shortconv." in stem or (".conv." in stem and last in ("in_proj", "conv", "out_proj")):
        return f"shortconv_{last}"  # LFM2's short convolution: shortconv.* in a GGUF, conv.* in its checkpoints
    if stem.startswith("blk."):  # GGUF names already carry the role
        return last
    if ".indexer." in stem and last in HF_INDEXER:
        return HF_INDEXER[last]
    if is_norm(last):
        return last
    if last in HF_LEAVES or stem.endswith((".mlp.gate", "block_sparse_moe.gate")):
        return HF_LEAVES.get(last, "ffn_gate_inp")
    role = HF_NAMES.get(last)
    if role is not None:
        return _in_context(role, last, stem)
    if _is_expert(stem):  # fused expert stacks (gpt-oss: experts.gate_up_proj, experts.down_proj and biases)
        return "ffn_down_exps" if "down" in last else "ffn_up_exps"
    if last == "c_proj":
        return "ffn_down" if ".mlp." in stem else "attn_output"
    return last


def _is_expert(stem: str) -> bool:
    return _EXPERT.search(stem) is not None or ".experts." in stem or stem.endswith(".experts")


def _in_context(role: str, last: str, stem: str) -> str:
    """A module name whose role depends on where it sits: an MLP's 'dense', a mixer's projections, an
    expert's or shared expert's MLP."""
    mixer = "mamba" in stem or "mixer" in stem
    if role == "ssm_in" and not mixer:
        return last
    if role == "attn_output" and last == "dense" and ("mlp" in stem or "ffn" in stem):
        return "ffn_down"
    if role == "attn_output" and last == "out_proj" and mixer:
        return "ssm_out"
    if role.startswith("ffn") and "shared_expert" in stem:
        return role + "_shexp"
    if role.startswith("ffn") and _is_expert(stem):
        return role + "_exps"
    return role
