"""A local Hugging Face model folder: config.json for the architecture, safetensors headers for exact bytes.

Quantized checkpoints store packed or scaled tensors; their logical shapes (and so the true parameter
count) are recovered from the quantization layout. PyTorch pickles are never opened.
"""

from pathlib import Path
from typing import Any, NamedTuple

from vramscope.core.architecture import Architecture
from vramscope.core.inventory import StoredTensor, TensorInventory
from vramscope.core.scenario import ModelSpec, Source
from vramscope.sources.errors import ModelFileError
from vramscope.sources.hf_config import (
    architecture_from_config,
    native_format,
    quantization_config,
    quantized_bits,
    read_config_file,
)
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


PICKLE_MESSAGE = "PyTorch pickle checkpoints are not read (they can run code) — provide safetensors or a config.json"


def spec_from_config(config: dict[str, Any], name: str, source: Source, detail: str) -> ModelSpec:
    """A model known from its config.json alone (weights computed from the architecture); towers beside the
    text model that the core does not build are named as left out, never silently dropped."""
    arch = architecture_from_config(config)
    towers = (("vision_config", "vision encoder", arch.vision is not None), ("audio_config", "audio encoder", False))
    left_out = [name for key, name, counted in towers if isinstance(config.get(key), dict) and not counted]
    if left_out:
        detail += f"; the {' and '.join(left_out)} in config.json {'are' if len(left_out) > 1 else 'is'} not counted"
    return ModelSpec(
        name=name, source=source, source_detail=detail, architecture=arch, native_format=native_format(config, arch)
    )


def has_mistral_format(folder: Path) -> bool:
    """Mistral's own checkpoint beside transformers' one: params.json and consolidated*.safetensors."""
    return (folder / "params.json").is_file() and any(folder.glob("consolidated*.safetensors"))


def read_model_folder(folder: Path) -> ModelSpec:
    config_path = folder / "config.json"
    files = shard_files(folder)
    if not config_path.is_file():
        if files:
            raise ModelFileError(f"{folder} has safetensors but no config.json to describe the architecture")
        raise ModelFileError(f"{folder} holds no config.json")
    if not files and any(p.suffix in PICKLE_SUFFIXES for p in folder.iterdir()):
        raise ModelFileError(PICKLE_MESSAGE)
    config = read_config_file(config_path)
    spec = spec_from_config(config, folder.resolve().name, Source.CONFIG, f"config.json in {folder}")
    spec = spec.model_copy(update={"path": str(folder.resolve()), "mistral_format": has_mistral_format(folder)})
    if not files:
        return spec
    layout = CheckpointLayout.of(config, spec.architecture)
    raws = [(path, raw) for path in files for raw in read_header(path)[0]]
    seen: dict[str, Path] = {}
    for path, raw in raws:  # the same tensor in two shards would be counted twice
        if seen.setdefault(raw.name, path) != path:
            raise ModelFileError(f"tensor {raw.name[:80]!r} is stored in both {seen[raw.name].name} and {path.name}")
    stored = [stored_tensor(raw, layout) for _, raw in raws]
    check_shapes(stored, spec.architecture)
    inventory = TensorInventory(tuple(stored), len(files), "safetensors", spec.native_format)
    held, described = inventory.parameter_count(), spec.architecture.parameter_count()
    if held < described // 2:  # a shard missing, or a file of another model: not "exact" weights
        raise ModelFileError(
            f"{folder}: the safetensors hold {held:,} parameters, under half of the {described:,} config.json "
            "describes: a shard is missing or the files are another model's"
        )
    return spec.model_copy(
        update={
            "source": Source.SAFETENSORS,
            "inventory": inventory,
            "source_detail": f"{folder}: config.json + {inventory.describe()}",
        }
    )


# The dense decoder matrices whose shape config.json fixes: a file that disagrees is not this model
_CHECKED_ROLES = {"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"}


def check_shapes(stored: list[StoredTensor], arch: Architecture) -> None:
    """Refuse a file whose tensors contradict its config (a q_proj of [0, 2^200] would count as nothing)."""
    expected = {(t.layer, t.role): t.shape for t in arch.tensors() if t.role in _CHECKED_ROLES and len(t.shape) == 2}
    for s in stored:
        t = s.tensor
        if not s.is_parameter or len(t.shape) != 2:
            continue
        want = expected.get((t.layer, t.role))
        if want is not None and t.shape != want and t.shape != want[::-1]:
            raise ModelFileError(
                f"tensor {t.name[:80]} has shape {list(t.shape)} where config.json implies {list(want)}: "
                "the weights do not match the config"
            )


class CheckpointLayout(NamedTuple):
    """How a checkpoint stores what the architecture describes."""

    method: str  # quant_method: awq, gptq, fp8, bitsandbytes, compressed-tensors, mxfp4 … or ""
    pack: int  # integer weights per int32 (8 for int4, 4 for int8)
    conv1d: bool  # GPT-2 stores its linear weights transposed, (in, out)
    shapes: dict[tuple[int, str], tuple[int, ...]]  # the architecture's matrices, for bitsandbytes' flat bytes

    @classmethod
    def of(cls, config: dict[str, Any], arch: Architecture) -> "CheckpointLayout":
        quant = quantization_config(config)
        shapes: dict[tuple[int, str], tuple[int, ...]] = {
            (t.layer, t.role): t.shape for t in arch.tensors() if len(t.shape) == 2
        }
        return cls(
            str(quant.get("quant_method", "")).lower(), 32 // quantized_bits(quant), arch.model_type == "gpt2", shapes
        )


def stored_tensor(raw: RawTensor, layout: CheckpointLayout) -> StoredTensor:
    """A header entry as a tensor of the model: packed and scaled layouts unpacked to their logical shape."""
    suffix = raw.name.rpartition(".")[2]
    is_parameter = (
        suffix not in _NOT_PARAMETERS and ".quant_state." not in raw.name and not raw.name.endswith("_scales")
    )
    if raw.name.endswith(".attn.bias") and len(raw.shape) == 4:  # GPT-2's saved causal mask
        is_parameter = False
    name, shape = _logical(raw.name, raw.shape, layout)
    tensor = classify(name, shape)
    if layout.method == "bitsandbytes" and raw.dtype == "U8" and suffix == "weight" and shape[-1:] == (1,):
        # 4-bit pairs packed in bytes, the matrix shape kept in quant_state: take the architecture's
        matrix = layout.shapes.get((tensor.layer, tensor.role))
        unpacked = shape[0] * 2
        tensor = classify(name, matrix if matrix and matrix[0] * matrix[1] == unpacked else (1, unpacked))
    return StoredTensor(tensor, raw.dtype, raw.nbytes, is_parameter)


def _logical(name: str, shape: tuple[int, ...], layout: CheckpointLayout) -> tuple[str, tuple[int, ...]]:
    """The name and (out, in) shape of the matrix a packed or transposed entry stores."""
    stem, _, suffix = name.rpartition(".")
    if suffix == "qweight" and len(shape) == 2:
        # AWQ packs along the output ([in, out/pack]); GPTQ along the input ([in/pack, out])
        pack = layout.pack
        unpacked = (shape[1] * pack, shape[0]) if layout.method == "awq" else (shape[1], shape[0] * pack)
        return f"{stem}.weight", unpacked
    if suffix == "weight_packed" and len(shape) == 2:  # compressed-tensors: [out, in/pack]
        return f"{stem}.weight", (shape[0], shape[1] * layout.pack)
    if name.endswith("_blocks") and len(shape) >= 2:  # MXFP4: [..., blocks, 16 bytes] of 32 values
        return name.removesuffix("_blocks"), (*shape[:-2], shape[-2] * shape[-1] * 2)
    if layout.conv1d and suffix == "weight" and len(shape) == 2 and (".attn.c_" in name or ".mlp.c_" in name):
        return name, (shape[1], shape[0])  # GPT-2's Conv1D stores (in, out)
    return name, shape
