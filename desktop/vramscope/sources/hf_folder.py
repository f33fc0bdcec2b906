"""A local Hugging Face model folder: config.json for the architecture, safetensors headers for exact bytes.

Quantized checkpoints store packed or scaled tensors; their logical shapes (and so the true parameter
count) are recovered from the quantization layout. PyTorch pickles are never opened.
"""

from pathlib import Path
from typing import Any

from vramscope.core.inventory import StoredTensor, TensorInventory
from vramscope.core.scenario import ModelSpec, Source
from vramscope.sources.errors import ModelFileError
from vramscope.sources.hf_config import architecture_from_config, native_format, read_config_file
from vramscope.sources.safetensors_file import RawTensor, read_header, shard_files
from vramscope.sources.tensor_names import classify

PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl")
# Scales, zero points and index tensors of quantized checkpoints: stored, but not parameters.
_NOT_PARAMETERS = {
    "qzeros",
    "scales",
    "g_idx",
    "weight_scale",
    "weight_scale_inv",
    "input_scale",
    "weight_zero_point",
    "weight_shape",
    "weight_global_scale",
    "input_global_scale",
    "absmax",
    "quant_map",
    "nested_absmax",
    "nested_quant_map",
    "SCB",
    "weight_format",
    "k_scale",
    "v_scale",
    "inv_freq",
    "masked_bias",
}


def read_model_folder(folder: Path) -> ModelSpec:
    config_path = folder / "config.json"
    files = shard_files(folder)
    if not config_path.is_file():
        if files:
            raise ModelFileError(f"{folder} has safetensors but no config.json to describe the architecture")
        raise ModelFileError(f"{folder} holds no config.json")
    if not files and any(p.suffix in PICKLE_SUFFIXES for p in folder.iterdir()):
        raise ModelFileError(
            "PyTorch pickle checkpoints are not read (they can run code) — provide safetensors or a config.json"
        )
    config = read_config_file(config_path)
    arch = architecture_from_config(config)
    fmt = native_format(config)
    spec = ModelSpec(
        name=folder.resolve().name,
        source=Source.CONFIG,
        source_detail=f"config.json in {folder}",
        architecture=arch,
        native_format=fmt,
    )
    if not files:
        return spec
    declared = config.get("quantization_config")
    quant: dict[str, Any] = declared if isinstance(declared, dict) else {}
    stored = [stored_tensor(raw, quant) for path in files for raw in read_header(path)[0]]
    inventory = TensorInventory(tuple(stored), len(files), "safetensors", fmt)
    return spec.model_copy(
        update={
            "source": Source.SAFETENSORS,
            "inventory": inventory,
            "source_detail": f"{folder}: config.json + {inventory.describe()}",
        }
    )


def stored_tensor(raw: RawTensor, quant: dict[str, Any]) -> StoredTensor:
    """A header entry as a tensor of the model: packed and scaled layouts unpacked to their logical shape."""
    name, shape = raw.name, raw.shape
    stem, _, suffix = name.rpartition(".")
    method = str(quant.get("quant_method", "")).lower()
    is_parameter = suffix not in _NOT_PARAMETERS and ".quant_state." not in name and not name.endswith("_scales")
    if name.endswith(".attn.bias") and len(shape) == 4:  # GPT-2's saved causal mask
        is_parameter = False
    if suffix == "qweight" and len(shape) == 2:
        # AWQ packs 8 int4 along the output ([in, out/8]); GPTQ along the input ([in/8, out])
        shape = (shape[1] * 8, shape[0]) if method == "awq" else (shape[1], shape[0] * 8)
        name = f"{stem}.weight"
    elif suffix == "weight_packed" and len(shape) == 2:  # compressed-tensors int4: [out, in/8]
        shape, name = (shape[0], shape[1] * 8), f"{stem}.weight"
    elif name.endswith("_blocks") and len(shape) >= 2:  # MXFP4: [..., blocks, 16 bytes] of 32 values
        shape, name = (*shape[:-2], shape[-2] * shape[-1] * 2), name.removesuffix("_blocks")
    elif method == "bitsandbytes" and raw.dtype == "U8" and suffix == "weight" and shape[-1:] == (1,):
        shape = (1, shape[0] * 2)  # 4-bit pairs packed in bytes; the matrix shape lives in quant_state
    return StoredTensor(classify(name, shape), raw.dtype, raw.nbytes, is_parameter)
