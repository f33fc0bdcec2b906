"""Hugging Face config.json -> Architecture, with the key names and defaults real configs use.

Pure parsing of an already-loaded dict; `read_config_file` is the one place that touches the disk.
"""

import math
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from vramscope.core.architecture import MAX_LAYERS, MLA, Architecture, LayerKind, Mamba, MoE, VisionTower
from vramscope.core.scenario import validation_message
from vramscope.sources.errors import ModelFileError
from vramscope.sources.files import read_limited
from vramscope.sources.json_object import json_object

MAX_CONFIG_BYTES = 4 * 1024 * 1024  # real configs are a few KiB; refuse anything huge

# Defaults that transformers' config classes supply when a key is absent.
_TYPE_DEFAULTS: dict[str, dict[str, Any]] = {
    "gemma": {"tie_word_embeddings": True},
    "gemma2": {"tie_word_embeddings": True},
    "gemma3_text": {
        "tie_word_embeddings": True,
        "vocab_size": 262208,
        "max_position_embeddings": 131072,
        "sliding_window_pattern": 6,
    },
    "falcon": {"tie_word_embeddings": True, "max_position_embeddings": 2048},
    "gpt2": {"tie_word_embeddings": True},
}
_ALIASES = {"RefinedWebModel": "falcon", "RefinedWeb": "falcon"}
_NOT_GATED = {"gpt2", "falcon", "gpt_neox", "gptj", "opt", "bloom", "starcoder2"}
_LAYERNORM = {"gpt2", "falcon", "gpt_neox", "gptj", "opt", "bloom", "starcoder2", "phi"}
_FUSED_QKV = {"gpt2", "falcon", "phi3", "bloom", "gpt_neox"}
_PER_HEAD_QK_NORM = {"qwen3", "qwen3_moe", "gemma3_text", "gemma3"}
_QKV_BIAS_ALWAYS = {"qwen2", "qwen2_moe", "qwen2_vl"}


def read_config_file(path: Path) -> dict[str, Any]:
    """Load a config.json as a dict, turning every failure into one ModelFileError."""
    return json_object(read_limited(path, MAX_CONFIG_BYTES, path.name), path.name)


class _Keys:
    """Looks up config values under their several historical names and checks their type."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config

    def get(self, *names: str, default: Any = None) -> Any:
        for name in names:
            value = self.config.get(name)
            if value is not None:
                return value
        return default

    def int(self, *names: str, default: int | None = None, positive: bool = True) -> int:
        value = self.get(*names)
        if value is None:
            if default is not None:
                return default
            tried = f" (also tried {', '.join(names[1:])})" if len(names) > 1 else ""
            raise ModelFileError(f"config.json lacks '{names[0]}'{tried}")
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or value != int(value)
        ):
            raise ModelFileError(f"config.json: '{names[0]}' must be a whole number, got {value!r}")
        if positive and value <= 0:
            raise ModelFileError(f"config.json: '{names[0]}' must be positive, got {value!r}")
        if value > 2**40:
            raise ModelFileError(f"config.json: '{names[0]}' is absurdly large ({value!r})")
        return int(value)

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.config.get(name)
        if value is None:
            return default
        if not isinstance(value, bool):  # "false" as a string would read as true
            raise ModelFileError(f"config.json: '{name}' must be true or false, got {value!r}")
        return value


def architecture_from_config(config: dict[str, Any]) -> Architecture:
    """Build the Architecture a Hugging Face config.json describes."""
    if not isinstance(config, dict):
        raise ModelFileError("config.json must hold a JSON object")
    outer = config
    text = config.get("text_config")
    if isinstance(text, dict):
        config = {**{k: v for k, v in outer.items() if k not in ("text_config", "vision_config")}, **text}
    model_type = str(config.get("model_type") or outer.get("model_type") or "unknown")
    model_type = _ALIASES.get(model_type, model_type)
    config = {**_TYPE_DEFAULTS.get(model_type, {}), **config}
    keys = _Keys(config)
    try:
        return _build(model_type, keys, outer)
    except ValidationError as exc:
        raise ModelFileError(f"config.json describes an impossible model: {validation_message(exc)}") from None


def _build(model_type: str, k: _Keys, outer: dict[str, Any]) -> Architecture:
    hidden = k.int("hidden_size", "n_embd", "d_model")
    layers = k.int("num_hidden_layers", "n_layer", "num_layers", "n_layers")
    if layers > MAX_LAYERS:  # before any per-layer list is built
        raise ModelFileError(f"config.json: num_hidden_layers of {layers:,} is beyond any real model ({MAX_LAYERS:,})")
    heads = k.int("num_attention_heads", "n_head", "num_heads")
    head_dim = k.int("head_dim", default=hidden // heads if hidden % heads == 0 else 0)
    if head_dim == 0:
        raise ModelFileError("config.json lacks 'head_dim' and hidden_size does not divide by the heads")
    kv_heads = _kv_heads(model_type, k, heads)
    inter_default = 4 * hidden if model_type in ("gpt2", "falcon") else None
    intermediate = k.int("intermediate_size", "n_inner", "ffn_hidden_size", "ffn_dim", default=inter_default)
    max_context = k.int(
        "max_position_embeddings", "n_positions", "max_sequence_length", "seq_length", "n_ctx", default=2048
    )
    fields: dict[str, Any] = {
        "model_type": model_type,
        "vocab_size": k.int("vocab_size", "padded_vocab_size"),
        "hidden_size": hidden,
        "num_layers": layers,
        "num_attention_heads": heads,
        "num_kv_heads": kv_heads,
        "head_dim": head_dim,
        "intermediate_size": intermediate,
        "max_context": max_context,
        "tie_word_embeddings": k.flag("tie_word_embeddings"),
        "gated_mlp": model_type not in _NOT_GATED,
        "fused_qkv": model_type in _FUSED_QKV,
        "norm_bias": model_type in _LAYERNORM,
    }
    attention_bias = k.flag("attention_bias") or (model_type == "gpt2") or k.flag("bias")
    fields["qkv_bias"] = attention_bias or model_type in _QKV_BIAS_ALWAYS
    fields["o_bias"] = attention_bias
    fields["mlp_bias"] = k.flag("mlp_bias") or model_type == "gpt2" or k.flag("bias")
    if model_type == "gpt2":
        fields["learned_positions"] = max_context
    if model_type in ("gemma2", "gemma3_text", "gemma3"):
        fields["norms_per_layer"] = 4
    elif model_type == "falcon" and not k.flag("new_decoder_architecture"):
        fields["norms_per_layer"] = 1  # one LayerNorm feeds the parallel attention and MLP
    if model_type in _PER_HEAD_QK_NORM:
        fields["qk_norm"] = "per_head"
    elif model_type == "olmo2":
        fields["qk_norm"] = "full"
    if model_type == "gpt_oss":
        fields["attention_sinks"] = True
    if k.get("kv_lora_rank") is not None:
        fields["mla"] = MLA(
            q_lora_rank=k.get("q_lora_rank"),
            kv_lora_rank=k.int("kv_lora_rank"),
            qk_nope_head_dim=k.int("qk_nope_head_dim"),
            qk_rope_head_dim=k.int("qk_rope_head_dim"),
            v_head_dim=k.int("v_head_dim"),
        )
    moe = _moe(model_type, k, intermediate)
    if moe is not None:
        fields["moe"] = moe
    layer_types, window = _layer_types(model_type, k, layers, max_context)
    if layer_types:
        fields["layer_types"] = layer_types
        fields["sliding_window"] = window
    if model_type == "jamba":
        fields["mamba"] = _mamba(k, hidden)
        period, offset = k.int("attn_layer_period", default=8), k.int("attn_layer_offset", default=4, positive=False)
        fields["layer_types"] = tuple(
            LayerKind.FULL if i % period == offset else LayerKind.MAMBA for i in range(layers)
        )
    vision = outer.get("vision_config")
    if isinstance(vision, dict) and model_type in ("gemma3", "gemma3_text"):
        v, k_outer = _Keys(vision), _Keys(outer)
        fields["vision"] = VisionTower(
            hidden_size=v.int("hidden_size"),
            intermediate_size=v.int("intermediate_size"),
            num_layers=v.int("num_hidden_layers"),
            patch_size=v.int("patch_size"),
            image_size=v.int("image_size"),
            num_channels=v.int("num_channels", default=3),
            num_heads=v.int("num_attention_heads", default=16),
            tokens_per_image=k_outer.int("mm_tokens_per_image", default=256),
        )
    return Architecture.model_validate(fields)


def _kv_heads(model_type: str, k: _Keys, heads: int) -> int:
    if model_type == "falcon":
        if k.flag("new_decoder_architecture"):
            return k.int("num_kv_heads", "n_head_kv", default=heads)
        return 1 if k.flag("multi_query", default=True) else heads
    return k.int("num_key_value_heads", "n_head_kv", "num_kv_heads", "multi_query_group_num", default=heads)


def _moe(model_type: str, k: _Keys, intermediate: int) -> MoE | None:
    experts = k.get("num_local_experts", "num_experts", "n_routed_experts")
    if not experts:
        return None
    width = k.int("moe_intermediate_size", default=intermediate)
    fields: dict[str, Any] = {
        "num_experts": k.int("num_local_experts", "num_experts", "n_routed_experts"),
        "experts_per_token": k.int("num_experts_per_tok", "experts_per_token", "moe_topk"),
        "expert_intermediate_size": width,
    }
    shared = k.int("n_shared_experts", default=0, positive=False)
    if shared:
        fields["shared_intermediate_size"] = shared * width
    if k.get("shared_expert_intermediate_size"):
        fields["shared_intermediate_size"] = k.int("shared_expert_intermediate_size")
        fields["shared_expert_gate"] = True
    if k.get("first_k_dense_replace") is not None:
        fields["first_dense_layers"] = k.int("first_k_dense_replace", positive=False)
        fields["layer_period"] = k.int("moe_layer_freq", default=1)
    if model_type == "jamba":
        fields["layer_period"] = k.int("expert_layer_period", default=2)
        fields["layer_offset"] = k.int("expert_layer_offset", default=1, positive=False)
    step = k.int("decoder_sparse_step", default=1)
    if step > 1:
        fields["layer_period"], fields["layer_offset"] = step, step - 1
    only_dense = k.get("mlp_only_layers") or []
    if not isinstance(only_dense, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in only_dense):
        raise ModelFileError("config.json: 'mlp_only_layers' must be a list of layer numbers")
    if only_dense:
        fields["dense_layers"] = tuple(only_dense)
    if model_type == "gpt_oss":
        fields["router_bias"] = fields["expert_bias"] = True
    if k.get("topk_method") == "noaux_tc":
        fields["router_score_bias"] = True
    return MoE.model_validate(fields)


def _layer_types(model_type: str, k: _Keys, layers: int, max_context: int) -> tuple[tuple[LayerKind, ...], int]:
    window = k.get("sliding_window")
    explicit = k.get("layer_types")
    if isinstance(explicit, list) and explicit:
        if len(explicit) != layers:
            raise ModelFileError(f"config.json: 'layer_types' has {len(explicit)} entries for {layers} layers")
        kinds = tuple(LayerKind.SLIDING if "sliding" in str(t) else LayerKind.FULL for t in explicit)
    elif not window or not isinstance(window, int) or window <= 0:
        return (), 0
    elif model_type == "gemma2":
        kinds = tuple(LayerKind.SLIDING if i % 2 == 0 else LayerKind.FULL for i in range(layers))
    elif model_type in ("gemma3_text", "gemma3"):
        pattern = k.int("sliding_window_pattern", default=6)
        kinds = tuple(LayerKind.FULL if (i + 1) % pattern == 0 else LayerKind.SLIDING for i in range(layers))
    elif model_type in ("mistral", "mixtral"):
        kinds = (LayerKind.SLIDING,) * layers
    elif model_type.startswith("qwen") and k.flag("use_sliding_window"):
        first = k.int("max_window_layers", default=layers, positive=False)
        kinds = tuple(LayerKind.SLIDING if i >= first else LayerKind.FULL for i in range(layers))
    else:
        return (), 0  # a window the model's attention does not use (Phi-3, Qwen with use_sliding_window false)
    if LayerKind.SLIDING not in kinds or not window or window >= max_context:
        return (), 0
    return kinds, int(window)


def _mamba(k: _Keys, hidden: int) -> Mamba:
    dt_rank = k.get("mamba_dt_rank", default="auto")
    return Mamba(
        d_state=k.int("mamba_d_state", default=16),
        d_conv=k.int("mamba_d_conv", default=4),
        expand=k.int("mamba_expand", default=2),
        dt_rank=math.ceil(hidden / 16) if dt_rank == "auto" else k.int("mamba_dt_rank"),
        conv_bias=k.flag("mamba_conv_bias", default=True),
        proj_bias=k.flag("mamba_proj_bias"),
        inner_norms=k.flag("mamba_inner_layernorms", default=True),
    )


def quantization_config(config: dict[str, Any]) -> dict[str, Any]:
    """The checkpoint's quantization_config, or {} for a plain float checkpoint."""
    declared = config.get("quantization_config")
    return declared if isinstance(declared, dict) else {}


def quantized_bits(quant: dict[str, Any]) -> int:
    """Bits of the packed integer weights (GPTQ/AWQ 'bits', compressed-tensors 'num_bits'); 4 by default."""
    bits = quant.get("bits")
    groups = quant.get("config_groups")
    if bits is None and isinstance(groups, dict):
        for group in groups.values():
            weights = group.get("weights") if isinstance(group, dict) else None
            if isinstance(weights, dict) and weights.get("num_bits"):
                bits = weights["num_bits"]
                break
    return bits if isinstance(bits, int) and bits in (2, 3, 4, 8) else 4


def native_format(config: dict[str, Any]) -> str:
    """The weight format the checkpoint is stored in, as one of the known formats."""
    quant = quantization_config(config)
    if quant:
        method = str(quant.get("quant_method", "")).lower()
        group = quant.get("group_size", 128)
        if method == "fp8":
            return "fp8-block" if quant.get("weight_block_size") else "fp8"
        if method == "mxfp4":
            return "mxfp4"
        if method in ("awq", "gptq"):
            grouped = isinstance(group, int) and not isinstance(group, bool) and group >= 8 and group != 128
            return f"{method}-int4" + (f"-g{group}" if grouped else "")
        if method == "bitsandbytes":
            return "nf4" if quant.get("load_in_4bit") else "int8"
    nested = config.get("text_config")
    text: dict[str, Any] = nested if isinstance(nested, dict) else {}
    dtype = str(config.get("torch_dtype") or config.get("dtype") or text.get("torch_dtype") or "bfloat16")
    return {"float32": "fp32", "float16": "fp16", "bfloat16": "bf16"}.get(dtype, "bf16")
