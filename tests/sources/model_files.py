"""Tiny model files written by the tests themselves: safetensors headers with sparse data, HF folders."""

import json
import struct
from pathlib import Path
from typing import Any

from vramscope.core.architecture import Architecture
from vramscope.sources.safetensors_file import DTYPE_BYTES

HF_NAMES = {
    "token_embd": "model.embed_tokens",
    "output_norm": "model.norm",
    "output": "lm_head",
    "attn_q": "self_attn.q_proj",
    "attn_k": "self_attn.k_proj",
    "attn_v": "self_attn.v_proj",
    "attn_output": "self_attn.o_proj",
    "ffn_gate": "mlp.gate_proj",
    "ffn_up": "mlp.up_proj",
    "ffn_down": "mlp.down_proj",
    "attn_norm": "input_layernorm",
    "ffn_norm": "post_attention_layernorm",
}


def header_bytes(tensors: dict[str, tuple[str, list[int]]]) -> tuple[bytes, int]:
    header, offset = {}, 0
    for name, (dtype, shape) in tensors.items():
        size = DTYPE_BYTES[dtype]
        for d in shape:
            size *= d
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + size]}
        offset += size
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw, offset


def write_safetensors(path: Path, tensors: dict[str, tuple[str, list[int]]]) -> None:
    head, data = header_bytes(tensors)
    with path.open("wb") as f:
        f.write(head)
        f.truncate(len(head) + data)  # sparse: the data is never read


def hf_tensors(arch: Architecture, dtype: str = "BF16") -> dict[str, tuple[str, list[int]]]:
    """The architecture's tensors under Hugging Face Llama names."""
    out = {}
    for t in arch.tensors():
        base = HF_NAMES[t.role]
        name = f"model.layers.{t.layer}.{base}" if t.layer >= 0 else base
        out[f"{name}.weight"] = (dtype, list(t.shape))
    return out


def write_folder(
    folder: Path, config: dict[str, Any], tensors: dict[str, tuple[str, list[int]]], shards: int = 1
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(config))
    names = list(tensors)
    if shards == 1:
        write_safetensors(folder / "model.safetensors", tensors)
        return folder
    weight_map = {}
    for k in range(shards):
        file = f"model-{k + 1:05d}-of-{shards:05d}.safetensors"
        part = {n: tensors[n] for n in names[k::shards]}
        write_safetensors(folder / file, part)
        weight_map.update(dict.fromkeys(part, file))
    (folder / "model.safetensors.index.json").write_text(json.dumps({"weight_map": weight_map}))
    return folder


def write_gguf(
    path: Path,
    arch: Architecture,
    ftype: str = "q4_k_m",
    head_counts: list[int] | None = None,
    split_max_tensors: int = 0,
    vocab_tokens: int | None = None,
) -> None:
    """A llama GGUF with the architecture's tensors, typed by llama.cpp's rules for `ftype` (zeros as data)."""
    import gguf
    import numpy as np

    from vramscope.core.precision import context_for, gguf_tensor_type, weight_format

    fmt, ctx = weight_format(ftype), context_for(arch)
    writer = gguf.GGUFWriter(str(path), "llama", split_max_tensors=split_max_tensors)
    writer.add_block_count(arch.num_layers)
    writer.add_embedding_length(arch.hidden_size)
    writer.add_feed_forward_length(arch.intermediate_size)
    writer.add_head_count(head_counts or arch.num_attention_heads)
    writer.add_head_count_kv(arch.num_kv_heads)
    writer.add_context_length(arch.max_context)
    writer.add_file_type(gguf.LlamaFileType[f"MOSTLY_{ftype.upper()}"])
    writer.add_name("Tiny")
    writer.add_token_list([f"t{i}" for i in range(vocab_tokens or arch.vocab_size)])
    for t in arch.tensors():
        kind = gguf.GGMLQuantizationType[gguf_tensor_type(fmt, t, ctx)]
        if kind == gguf.GGMLQuantizationType.F32:
            writer.add_tensor(t.name, np.zeros(t.shape, dtype=np.float32))
        else:
            block, size = gguf.GGML_QUANT_SIZES[kind]
            rows = t.numel // t.shape[-1]
            writer.add_tensor(t.name, np.zeros((rows, t.shape[-1] // block * size), dtype=np.uint8), raw_dtype=kind)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
