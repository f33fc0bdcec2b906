"""What an engine's command loads for the planned weight format: the model's own files, a published copy in
that format, a copy the engine makes as it loads, or, where none is known, what to make first and with what."""

import re
import shlex
from collections.abc import Mapping
from typing import NamedTuple

from vramscope.core.precision import Family, weight_format
from vramscope.core.scenario import Engine, ModelSpec, Source

# Formats an engine makes from a 16-bit checkpoint as it loads it (vLLM's differ by release:
# vllm_versions.online_quantization).
# transformers: FineGrainedFP8Config quantizes in 128 x 128 blocks, FbgemmFp8Config per channel.
ON_THE_FLY: dict[Engine, dict[str, str]] = {
    Engine.VLLM: {
        "fp8": "--quantization fp8",
        "fp8-block": "--quantization fp8_per_block",
    },  # by release: vllm_versions
    Engine.SGLANG: {"fp8": "--quantization fp8", "fp8-block": "--quantization fp8"},
    Engine.TRANSFORMERS: {
        "nf4": 'quantization_config=BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4")',
        "int8": "quantization_config=BitsAndBytesConfig(load_in_8bit=True)",
        "fp8": "quantization_config=FbgemmFp8Config()",
        "fp8-block": "quantization_config=FineGrainedFP8Config()",
    },
}
TORCH_DTYPES = {"bf16": "bfloat16", "fp16": "float16", "fp32": "float32"}

# The tools that write each format, for a format no published checkpoint holds
MAKERS = {
    Family.AWQ: "llm-compressor (AWQModifier) or AutoAWQ",
    Family.GPTQ: "llm-compressor (GPTQModifier) or GPTQModel",
    Family.INT4: "llm-compressor (scheme W4A16)",
    Family.NVFP4: "llm-compressor (scheme NVFP4) or NVIDIA TensorRT Model Optimizer",
    Family.MXFP4: "NVIDIA TensorRT Model Optimizer (MXFP4)",
    Family.FP8: "llm-compressor (scheme FP8_DYNAMIC)",
    Family.FP8_BLOCK: "llm-compressor (scheme FP8_BLOCK)",
    Family.INT8: "bitsandbytes (save_pretrained of a load_in_8bit model)",
    Family.NF4: "bitsandbytes (save_pretrained of a load_in_4bit model)",
}
GGUF_MAKER = "llama.cpp's convert_hf_to_gguf.py, then llama-quantize"
COMMENT = "  # "  # between a command and what the user must do first


class Target(NamedTuple):
    """What a command loads, and what goes with it."""

    where: str  # a repository, a folder or file, a repository:TYPE (GGUF), an Ollama tag; not quoted
    flag: str = ""  # what makes the format as the engine loads ("--quantization fp8")
    todo: str = ""  # what the user must do first: make the checkpoint the command names
    source: str = ""  # where the checkpoint is listed
    published: bool = False  # a Hub repository of GGUF files (-hf, hf.co/), not a file

    @property
    def quoted(self) -> str:
        return shlex.quote(self.where)


def safetensors_target(
    model: ModelSpec, fmt_name: str, engine: Engine, made_on_load: Mapping[str, str] | None = None
) -> Target:
    """vLLM, SGLang and transformers: a folder or repository whose quantization_config holds the format.
    `made_on_load`: the formats this engine's release quantizes as it loads (default ON_THE_FLY's)."""
    on_load = ON_THE_FLY.get(engine, {}) if made_on_load is None else made_on_load
    own = model.hf_id or model.path or model.name
    if fmt_name == model.native_format:
        return Target(own)
    release = next((r for r in model.checkpoints.releases if r.format == fmt_name), None)
    if release is not None:
        return Target(release.repo, source=release.source)
    fmt, native = weight_format(fmt_name), weight_format(model.native_format)
    if native.family is Family.FLOAT and not native.parts:
        if fmt.family is Family.FLOAT:
            return Target(own, "" if engine is Engine.TRANSFORMERS else f"--dtype {TORCH_DTYPES[fmt.name]}")
        if fmt_name in on_load:
            return Target(own, on_load[fmt_name])
    folder = f"./{model.name}-{fmt_name.upper()}"
    maker = f"dequantize its {native.label} weights" if fmt.family is Family.FLOAT else MAKERS.get(fmt.family, "")
    maker = maker or "a tool that writes this format"
    todo = f"no {fmt.label} checkpoint of {_named(model)} is known: make {shlex.quote(folder)} with {maker}"
    return Target(folder, todo=todo)


def gguf_quant(fmt_name: str) -> str:
    """The quantization type as GGUF file names and -hf tags spell it: Q4_K_M, BF16, F16, F32."""
    return {"fp16": "F16", "fp32": "F32"}.get(fmt_name, fmt_name.upper())


def gguf_target(model: ModelSpec, fmt_name: str) -> Target:
    """llama.cpp and Ollama: an opened file by its path, a published GGUF by repository and type, else the
    file to make."""
    quant = gguf_quant(fmt_name)
    if model.source is Source.GGUF and model.path:
        if fmt_name == model.native_format:
            return Target(model.path)
        made = re.sub(r"(?i)\.gguf$", "", model.path) + f"-{quant}.gguf"
        todo = f"this file holds {model.native_format.upper()}: make {quant} from it with llama-quantize"
        return Target(made, todo=f"{todo} --allow-requantize")
    release = model.checkpoints.gguf
    spelt = next((q for q in release.quants if q.upper() == quant), None) if release else None
    if release is not None and spelt is not None:  # in the repository's own spelling ("f16")
        return Target(f"{release.repo}:{spelt}", source=release.source, published=True)
    file = f"{model.name}-{quant}.gguf"
    return Target(file, todo=f"no {quant} GGUF of {_named(model)} is known: make {shlex.quote(file)} with {GGUF_MAKER}")


def ollama_target(model: ModelSpec, fmt_name: str) -> Target:
    """Ollama: its library's tag for the format, a published GGUF as hf.co/repo:TYPE, else a GGUF file that a
    Modelfile's FROM names (`published` False then)."""
    library = model.checkpoints.ollama
    tag = next((t.tag for t in library.tags if t.format == fmt_name), None) if library else None
    if tag is not None and library is not None and not (model.source is Source.GGUF and model.path):
        return Target(tag, source=library.source, published=True)
    target = gguf_target(model, fmt_name)
    if target.published:
        return target._replace(where=f"hf.co/{target.where}")
    return target if target.where.startswith("/") else target._replace(where=f"./{target.where}")


def with_todo(command: str, *targets: Target, also: str = "") -> str:
    """The command, with what must be done first (the targets' checkpoints to make, then `also`) as its shell
    comment."""
    todo = "; ".join([t.todo for t in targets if t.todo] + ([also] if also else []))
    return f"{command}{COMMENT}{todo}" if todo else command


def _named(model: ModelSpec) -> str:
    return model.hf_id or model.name
