"""Hugging Face config.json -> Architecture: the rules every family shares, then the family's own
(`sources/families/`). Pure parsing of an already-loaded dict; `read_config_file` is the one place that
touches the disk.
"""

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from vramscope.core.architecture import MAX_LAYERS, MLA, Architecture, Indexer, LayerKind, MoE
from vramscope.core.precision import matrix_scopes
from vramscope.core.scenario import validation_message
from vramscope.sources.config_keys import ConfigKeys, unread_keys
from vramscope.sources.errors import ModelFileError, plausible
from vramscope.sources.families import Family, Kinds, Shape, family, is_known
from vramscope.sources.files import read_limited
from vramscope.sources.json_object import json_object
from vramscope.sources.quantization import ALL_SCOPES, checkpoint_format
from vramscope.sources.rotary import rotary_from_config

MAX_CONFIG_BYTES = 4 * 1024 * 1024  # real configs are a few KiB; refuse anything huge


def read_config_file(path: Path) -> dict[str, Any]:
    """Load a config.json as a dict, turning every failure into one ModelFileError."""
    return json_object(read_limited(path, MAX_CONFIG_BYTES, path.name), path.name)


def architecture_from_config(config: dict[str, Any]) -> Architecture:
    """Build the Architecture a Hugging Face config.json describes. A model_type no family module knows is
    read by the shared rules only when they understood every key that may shape it."""
    if not isinstance(config, dict):
        raise ModelFileError("config.json must hold a JSON object")
    outer = config
    text = config.get("text_config")
    if isinstance(text, dict):
        config = {**{k: v for k, v in outer.items() if k not in ("text_config", "vision_config")}, **text}
    model_type = str(config.get("model_type") or outer.get("model_type") or "unknown")[:80]
    fam = family(model_type)
    if fam.refused:
        raise ModelFileError(f"config.json ({model_type}): {fam.refused}")
    if fam.prepare is not None:
        config = fam.prepare(config)
    keys, outer_keys = ConfigKeys({**fam.defaults, **config}), ConfigKeys(outer)
    try:
        arch = _build(fam, keys, outer_keys)
    except ValidationError as exc:
        _refuse_if_unknown(model_type, config, keys.asked | outer_keys.asked | _SHARED_KEYS)
        raise ModelFileError(f"config.json describes an impossible model: {validation_message(exc)}") from None
    except ModelFileError:  # where a family is unknown, the keys no rule reads say more than the first miss
        _refuse_if_unknown(model_type, config, keys.asked | outer_keys.asked | _SHARED_KEYS)
        raise
    _refuse_if_unknown(model_type, config, keys.asked | outer_keys.asked)
    return plausible(arch, "config.json")


# every key the shared rules below may ask for (a build that stopped early has not asked for them all yet)
_SHARED_KEYS = frozenset({
    "hidden_size", "n_embd", "d_model", "num_hidden_layers", "n_layer", "num_layers", "n_layers",
    "num_attention_heads", "n_head", "num_heads", "head_dim", "attention_head_dim", "num_key_value_heads",
    "n_head_kv", "num_kv_heads", "multi_query_group_num", "moe_intermediate_size", "intermediate_size", "n_inner",
    "ffn_hidden_size", "ffn_dim", "max_position_embeddings", "n_positions", "max_sequence_length", "seq_length",
    "n_ctx", "vocab_size", "padded_vocab_size", "tie_word_embeddings", "attention_bias", "bias", "mlp_bias",
    "mamba_ssm_dtype", "mamba_ssm_cache_dtype", "index_n_heads", "index_head_dim", "kv_lora_rank", "q_lora_rank",
    "qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim", "num_local_experts", "num_experts", "n_routed_experts",
    "num_experts_per_tok", "experts_per_token", "moe_topk", "n_shared_experts", "shared_expert_intermediate_size",
    "first_k_dense_replace", "moe_layer_freq", "decoder_sparse_step", "mlp_only_layers", "topk_method",
    "sliding_window", "layer_types", "rope_parameters", "rope_scaling", "rope_local_base_freq",
    "partial_rotary_factor", "rotary_dim", "original_max_position_embeddings",
})  # fmt: skip


def _refuse_if_unknown(model_type: str, config: dict[str, Any], asked: set[str]) -> None:
    """A model_type no family module knows is read only when the shared rules asked for all its keys."""
    if is_known(model_type):
        return
    unread = unread_keys(config, asked)
    if unread:
        raise ModelFileError(
            f"config.json: model type {model_type!r} is not known to VRAM Scope, and the shared rules do not "
            f"understand its keys {', '.join(unread[:12])}{' …' if len(unread) > 12 else ''}: "
            "it would be miscounted, so it is not read"
        )


def _shape(fam: Family, k: ConfigKeys) -> Shape:
    hidden = k.int("hidden_size", "n_embd", "d_model")
    layers = k.int("num_hidden_layers", "n_layer", "num_layers", "n_layers")
    if layers > MAX_LAYERS:  # before any per-layer list is built
        raise ModelFileError(f"config.json: num_hidden_layers of {layers:,} is beyond any real model ({MAX_LAYERS:,})")
    heads = k.int("num_attention_heads", "n_head", "num_heads")
    head_dim = k.int("head_dim", "attention_head_dim", default=hidden // heads if hidden % heads == 0 else 0)
    if head_dim == 0:
        raise ModelFileError("config.json lacks 'head_dim' and hidden_size does not divide by the heads")
    kv_heads = k.int("num_key_value_heads", "n_head_kv", "num_kv_heads", "multi_query_group_num", default=heads)
    # a model whose every layer is MoE may give only the expert width (Qwen3.5 MoE)
    width = k.get("moe_intermediate_size") or fam.ffn_multiple * hidden or None
    intermediate = k.int("intermediate_size", "n_inner", "ffn_hidden_size", "ffn_dim", default=width)
    max_context = k.int(
        "max_position_embeddings", "n_positions", "max_sequence_length", "seq_length", "n_ctx", default=2048
    )
    return Shape(hidden, layers, heads, head_dim, kv_heads, intermediate, max_context)


def _build(fam: Family, k: ConfigKeys, outer: ConfigKeys) -> Architecture:
    shape = _shape(fam, k)
    bias = k.flag("attention_bias") or k.flag("bias")
    recurrent_dtypes = (str(k.get("mamba_ssm_dtype")), str(k.get("mamba_ssm_cache_dtype")))
    fields: dict[str, Any] = {
        "model_type": fam.name,
        "vocab_size": k.int("vocab_size", "padded_vocab_size"),
        "hidden_size": shape.hidden,
        "num_layers": shape.layers,
        "num_attention_heads": shape.heads,
        "num_kv_heads": shape.kv_heads,
        "head_dim": shape.head_dim,
        "intermediate_size": shape.intermediate,
        "max_context": shape.max_context,
        "tie_word_embeddings": k.flag("tie_word_embeddings"),
        "gated_mlp": fam.gated_mlp,
        "fused_qkv": fam.fused_qkv,
        "norm_bias": fam.layer_norm,
        "norms_per_layer": fam.norms_per_layer,
        "qk_norm": fam.qk_norm,
        "state_fp32": "float32" in recurrent_dtypes or fam.state_fp32,
        "qkv_bias": bias or fam.qkv_bias,
        "o_bias": bias,
        "mlp_bias": k.flag("mlp_bias") or k.flag("bias"),
    }
    if k.get("index_n_heads") is not None:  # DeepSeek-V3.2 / GLM-5 sparse attention
        fields["indexer"] = Indexer(heads=k.int("index_n_heads"), head_dim=k.int("index_head_dim"))
    if k.get("kv_lora_rank") is not None:
        fields["mla"] = MLA(
            q_lora_rank=k.int("q_lora_rank") if k.get("q_lora_rank") is not None else None,
            kv_lora_rank=k.int("kv_lora_rank"),
            qk_nope_head_dim=k.int("qk_nope_head_dim"),
            qk_rope_head_dim=k.int("qk_rope_head_dim"),
            v_head_dim=k.int("v_head_dim"),
        )
    moe = None if fam.own_moe else _moe(k, shape)
    if moe is not None:
        fields["moe"] = moe
    kinds, window = _layer_types(fam, k, shape)
    if kinds:
        fields["layer_types"] = kinds
        fields["sliding_window"] = window or None
    rotary = rotary_from_config(k, shape.head_dim)
    if rotary is not None:
        fields["rotary"] = rotary
    if fam.config_fields is not None:
        fields.update(fam.config_fields(k, shape, fields, outer))
    return Architecture.model_validate(fields)


def _moe(k: ConfigKeys, shape: Shape) -> MoE | None:
    """Routed experts in the shared keys' words (Mixtral, Qwen-MoE, DeepSeek, GLM …); a family with its own
    placement adjusts the result in its module."""
    if not k.get("num_local_experts", "num_experts", "n_routed_experts"):
        return None
    width = k.int("moe_intermediate_size", default=shape.intermediate)
    fields: dict[str, Any] = {
        "num_experts": k.int("num_local_experts", "num_experts", "n_routed_experts"),
        "experts_per_token": k.int("num_experts_per_tok", "experts_per_token", "moe_topk"),
        "expert_intermediate_size": width,
    }
    shared = k.int("n_shared_experts", default=0, positive=False)
    if shared < 0:
        raise ModelFileError(f"config.json: 'n_shared_experts' must not be negative, got {shared}")
    if shared:
        fields["shared_intermediate_size"] = shared * width
    if k.get("shared_expert_intermediate_size"):
        fields["shared_intermediate_size"] = k.int("shared_expert_intermediate_size")
        fields["shared_expert_gate"] = True
    if k.get("first_k_dense_replace") is not None:
        fields["first_dense_layers"] = k.layer_number("first_k_dense_replace", shape.layers)
        fields["layer_period"] = k.int("moe_layer_freq", default=1)
    step = k.int("decoder_sparse_step", default=1)
    if step > 1:
        fields["layer_period"], fields["layer_offset"] = step, step - 1
    only_dense = k.get("mlp_only_layers") or []
    if not isinstance(only_dense, list) or not all(
        isinstance(i, int) and not isinstance(i, bool) and 0 <= i < shape.layers for i in only_dense
    ):
        raise ModelFileError(f"config.json: 'mlp_only_layers' must be a list of layer numbers below {shape.layers}")
    if only_dense:
        fields["dense_layers"] = tuple(sorted(only_dense))
    if k.get("topk_method") == "noaux_tc":  # every top-k router keeps a score-correction bias
        fields["router_score_bias"] = True
    return MoE.model_validate(fields)


def _layer_types(fam: Family, k: ConfigKeys, shape: Shape) -> tuple[Kinds, int]:
    if fam.config_kinds is not None:  # a family whose pattern no shared key states (Llama 4, Qwen3-Next)
        return fam.config_kinds(k, shape)
    window = k.int("sliding_window", default=0, positive=False)  # null and 0: no window; "4", 1.5: refused
    if window < 0:
        raise ModelFileError(f"config.json: 'sliding_window' must not be negative, got {window}")
    kinds = (fam.listed_kinds(k, shape) if fam.listed_kinds is not None else None) or k.layer_kinds(shape.layers)
    if kinds is None and window and fam.sliding_kinds is not None:
        kinds = fam.sliding_kinds(k, shape)
    if not kinds:
        return (), 0  # no window, or one the model's attention does not use (Phi-3, Qwen without use_sliding_window)
    if any(kind is not LayerKind.FULL and not kind.windowed for kind in kinds):
        return kinds, window
    if LayerKind.SLIDING in kinds and not window:
        raise ModelFileError("config.json: 'layer_types' has sliding layers but 'sliding_window' gives no window")
    if LayerKind.SLIDING not in kinds or window >= shape.max_context:
        return (), 0
    return kinds, window


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


def native_format(config: dict[str, Any], arch: Architecture | None = None) -> str:
    """The weight format the checkpoint is stored in: its quantization_config's (sources/quantization.py),
    else its dtype. With the architecture, a mix names only the scopes the model has."""
    nested = config.get("text_config")
    text: dict[str, Any] = nested if isinstance(nested, dict) else {}
    quant = quantization_config(config) or quantization_config(text)
    if quant:
        return checkpoint_format(config, quant, ALL_SCOPES if arch is None else matrix_scopes(arch))
    dtype = str(config.get("torch_dtype") or config.get("dtype") or text.get("torch_dtype") or "bfloat16")
    return {"float32": "fp32", "float16": "fp16", "bfloat16": "bf16"}.get(dtype, "bf16")
