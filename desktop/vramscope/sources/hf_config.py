"""Hugging Face config.json -> Architecture, with the key names and defaults real configs use.

Pure parsing of an already-loaded dict; `read_config_file` is the one place that touches the disk.
"""

import math
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from vramscope.core.architecture import (
    MAX_LAYERS,
    MLA,
    Architecture,
    AttentionShape,
    CompressedAttention,
    FfnKind,
    Indexer,
    LayerKind,
    LinearAttention,
    Mamba,
    MoE,
    VisionKind,
    VisionTower,
)
from vramscope.core.scenario import validation_message
from vramscope.sources.errors import ModelFileError, plausible
from vramscope.sources.families import UNSUPPORTED, Family, family, family_name
from vramscope.sources.files import read_limited
from vramscope.sources.json_object import json_object

MAX_CONFIG_BYTES = 4 * 1024 * 1024  # real configs are a few KiB; refuse anything huge


def read_config_file(path: Path) -> dict[str, Any]:
    """Load a config.json as a dict, turning every failure into one ModelFileError."""
    return json_object(read_limited(path, MAX_CONFIG_BYTES, path.name), path.name)


def _layer_number(k: "_Keys", name: str, below: int, default: int = 0) -> int:
    """A count or index of layers: a whole number from 0 up to (not including) `below`."""
    value = k.int(name, default=default, positive=False)
    if not 0 <= value < below:
        raise ModelFileError(f"config.json: '{name}' must be from 0 to {below - 1}, got {value}")
    return value


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
    model_type = family_name(str(config.get("model_type") or outer.get("model_type") or "unknown"))
    if model_type in UNSUPPORTED:
        raise ModelFileError(f"config.json ({model_type}): {UNSUPPORTED[model_type]}")
    traits = family(model_type)
    keys = _Keys({**traits.defaults, **config})
    try:
        return plausible(_build(model_type, traits, keys, outer), "config.json")
    except ValidationError as exc:
        raise ModelFileError(f"config.json describes an impossible model: {validation_message(exc)}") from None


def _build(model_type: str, traits: Family, k: _Keys, outer: dict[str, Any]) -> Architecture:
    hidden = k.int("hidden_size", "n_embd", "d_model")
    layers = k.int("num_hidden_layers", "n_layer", "num_layers", "n_layers")
    if layers > MAX_LAYERS:  # before any per-layer list is built
        raise ModelFileError(f"config.json: num_hidden_layers of {layers:,} is beyond any real model ({MAX_LAYERS:,})")
    heads = k.int("num_attention_heads", "n_head", "num_heads")
    head_dim = k.int("head_dim", "attention_head_dim", default=hidden // heads if hidden % heads == 0 else 0)
    if head_dim == 0:
        raise ModelFileError("config.json lacks 'head_dim' and hidden_size does not divide by the heads")
    kv_heads = _kv_heads(model_type, k, heads)
    # a model whose every layer is MoE may give only the expert width (Qwen3.5 MoE)
    inter_default = 4 * hidden if model_type in ("gpt2", "falcon") else k.get("moe_intermediate_size")
    intermediate = k.int("intermediate_size", "n_inner", "ffn_hidden_size", "ffn_dim", default=inter_default)
    expert_width = intermediate
    if model_type == "llama4_text":  # intermediate_size is the experts', intermediate_size_mlp the dense layers'
        intermediate = k.int("intermediate_size_mlp", default=intermediate)
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
        "gated_mlp": traits.gated_mlp,
        "fused_qkv": traits.fused_qkv,
        "norm_bias": traits.layer_norm,
        "norms_per_layer": traits.norms_per_layer,
        "qk_norm": traits.qk_norm,
        "state_fp32": traits.state_fp32
        or "float32" in (str(k.get("mamba_ssm_dtype")), str(k.get("mamba_ssm_cache_dtype"))),
    }
    attention_bias = k.flag("attention_bias") or (model_type == "gpt2") or k.flag("bias")
    fields["qkv_bias"] = attention_bias or traits.qkv_bias
    fields["o_bias"] = attention_bias
    fields["mlp_bias"] = k.flag("mlp_bias") or model_type == "gpt2" or k.flag("bias")
    if model_type == "gpt2":
        fields["learned_positions"] = max_context
    if model_type == "falcon" and not k.flag("new_decoder_architecture"):
        fields["norms_per_layer"] = 1  # one LayerNorm feeds the parallel attention and MLP
    if (
        model_type == "minimax_m2"
        and k.flag("use_qk_norm")
        and k.get("qk_norm_type", default="per_layer") == "per_layer"
    ):
        fields["qk_norm"] = "full"  # one norm across all heads
    if model_type == "gpt_oss":
        fields["attention_sinks"] = True
    if model_type in ("qwen3_next", "qwen3_5", "qwen3_5_moe"):
        fields["attn_output_gate"] = k.flag("attn_output_gate", default=True)
        fields["linear"] = LinearAttention(
            key_heads=k.int("linear_num_key_heads"),
            value_heads=k.int("linear_num_value_heads"),
            key_head_dim=k.int("linear_key_head_dim"),
            value_head_dim=k.int("linear_value_head_dim"),
            conv_kernel=k.int("linear_conv_kernel_dim"),
        )
    if k.get("index_n_heads") is not None:  # DeepSeek-V3.2 / GLM-5 sparse attention
        fields["indexer"] = Indexer(heads=k.int("index_n_heads"), head_dim=k.int("index_head_dim"))
    if model_type == "mimo_v2_flash":
        fields["sliding_attention"] = AttentionShape(
            q_heads=k.int("swa_num_attention_heads", default=heads),
            kv_heads=k.int("swa_num_key_value_heads", default=kv_heads),
            head_dim=k.int("swa_head_dim", default=head_dim),
            v_head_dim=k.int("swa_v_head_dim") if k.get("swa_v_head_dim") is not None else None,
            sinks=k.flag("add_swa_attention_sink_bias"),
        )
        fields["attention_sinks"] = k.flag("add_full_attention_sink_bias")
        if k.get("v_head_dim") is not None:
            fields["v_head_dim"] = k.int("v_head_dim")
    if model_type == "gemma4_text":
        fields.update(_gemma4(k, heads, layers, intermediate))
    if k.get("kv_lora_rank") is not None:
        fields["mla"] = MLA(
            q_lora_rank=k.int("q_lora_rank") if k.get("q_lora_rank") is not None else None,
            kv_lora_rank=k.int("kv_lora_rank"),
            qk_nope_head_dim=k.int("qk_nope_head_dim"),
            qk_rope_head_dim=k.int("qk_rope_head_dim"),
            v_head_dim=k.int("v_head_dim"),
        )
    # Gemma 4 and Granite 4 build their own expert blocks
    moe = _moe(model_type, k, expert_width, layers) if model_type not in ("gemma4_text", "granitemoehybrid") else None
    if moe is not None:
        fields["moe"] = moe
    layer_types, window = _layer_types(model_type, k, layers, max_context)
    if layer_types:
        fields["layer_types"] = layer_types
        fields["sliding_window"] = window or None
    if model_type == "nemotron_h":
        fields.update(_nemotron_h(k, layers))
    if model_type == "granitemoehybrid":
        fields.update(_granite_hybrid(k, hidden, layers, intermediate))
    if model_type == "deepseek_v4":
        fields.update(_deepseek_v4(k, layers))
    if model_type == "falcon_h1":
        fields["layer_types"] = (LayerKind.PARALLEL,) * layers
        fields["mamba"] = _mamba2(k, hidden)
    if model_type == "jamba":
        fields["mamba"] = _mamba(k, hidden)
        period = k.int("attn_layer_period", default=8)
        offset = _layer_number(k, "attn_layer_offset", period, default=4)
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
    if isinstance(vision, dict) and model_type in _QWEN_VL and vision.get("depth") is not None:
        fields["vision"] = _qwen_vl_vision(_Keys(vision))
    if isinstance(vision, dict) and model_type == "gemma4_text":
        fields["vision"] = _gemma4_vision(_Keys(vision), _Keys(outer))
    return Architecture.model_validate(fields)


_QWEN_VL = ("qwen3_vl", "qwen3_vl_moe", "qwen3_5", "qwen3_5_moe")
QWEN_VL_IMAGE = 1024  # Qwen-VL reads any resolution: a 1024 x 1024 image (1,024 tokens) is assumed


def _qwen_vl_vision(v: _Keys) -> VisionTower:
    patch, merge = v.int("patch_size", default=16), v.int("spatial_merge_size", default=2)
    deepstack = v.get("deepstack_visual_indexes") or []
    depth = v.int("depth")
    if (
        not isinstance(deepstack, list)
        or len(set(map(repr, deepstack))) != len(deepstack)
        or not all(isinstance(i, int) and not isinstance(i, bool) and 0 <= i < depth for i in deepstack)
    ):
        raise ModelFileError(
            f"config.json: 'deepstack_visual_indexes' must list distinct vision layers below its depth of {depth}"
        )
    return VisionTower(
        kind=VisionKind.QWEN_VL,
        hidden_size=v.int("hidden_size"),
        intermediate_size=v.int("intermediate_size"),
        num_layers=v.int("depth"),
        num_heads=v.int("num_heads", default=16),
        patch_size=patch,
        image_size=QWEN_VL_IMAGE,
        num_channels=v.int("in_channels", default=3),
        temporal_patch=v.int("temporal_patch_size", default=2),
        merge=merge,
        positions=v.int("num_position_embeddings"),
        deepstack=len(deepstack),
        tokens_per_image=(QWEN_VL_IMAGE // patch) ** 2 // merge**2,
    )


def _gemma4_vision(v: _Keys, outer: _Keys) -> VisionTower:
    patch, pooling = v.int("patch_size", default=16), v.int("pooling_kernel_size", default=3)
    tokens = outer.int("vision_soft_tokens_per_image", default=v.int("default_output_length", default=280))
    return VisionTower(
        kind=VisionKind.GEMMA4,
        hidden_size=v.int("hidden_size"),
        intermediate_size=v.int("intermediate_size"),
        num_layers=v.int("num_hidden_layers"),
        num_heads=v.int("num_attention_heads"),
        head_dim=v.int("head_dim", default=0, positive=False),
        patch_size=patch,
        image_size=math.isqrt(tokens * pooling**2) * patch,
        merge=pooling,
        positions=v.int("position_embedding_size"),
        tokens_per_image=tokens,
    )


def _gemma4(k: _Keys, heads: int, layers: int, intermediate: int) -> dict[str, Any]:
    """Gemma 4: global (full-attention) layers with their own head size and KV heads, whose key doubles as
    the value; a dense MLP beside a 128-expert block in every layer, with its own router scales and norms
    (26B-A4B); per-layer embeddings, and last layers that reuse an earlier layer's cache with an MLP of twice
    the width (E2B, E4B)."""
    fields: dict[str, Any] = {
        "full_attention": AttentionShape(
            q_heads=heads,
            kv_heads=k.int("num_global_key_value_heads", default=k.int("num_key_value_heads")),
            head_dim=k.int("global_head_dim", default=k.int("head_dim")),
            k_eq_v=k.flag("attention_k_eq_v"),
        )
    }
    if k.flag("enable_moe_block"):
        fields["moe"] = MoE(
            num_experts=k.int("num_experts"),
            experts_per_token=k.int("top_k_experts"),
            expert_intermediate_size=k.int("moe_intermediate_size"),
            shared_intermediate_size=k.int("intermediate_size"),  # the dense MLP runs beside the experts
            router_scales=True,
            extra_norms=3,
        )
    per_layer = k.int("hidden_size_per_layer_input", default=0, positive=False)  # null turns them off
    if per_layer:
        fields["per_layer_input"] = per_layer
        fields["per_layer_vocab"] = k.int("vocab_size_per_layer_input")
    shared = k.int("num_kv_shared_layers", default=0, positive=False)
    if shared >= layers:
        raise ModelFileError(
            f"config.json (gemma4): all {layers} layers reuse another model's cache (an assistant model); "
            "open the model it assists"
        )
    fields["kv_shared_layers"] = shared
    if shared and k.flag("use_double_wide_mlp"):
        fields["intermediate_per_layer"] = tuple(
            intermediate * (2 if i >= layers - shared else 1) for i in range(layers)
        )
    return fields


_V4_TYPES = {"sliding_attention": 0, "compressed_sparse_attention": 1, "heavily_compressed_attention": 2}


def _deepseek_v4(k: _Keys, layers: int) -> dict[str, Any]:
    """DeepSeek-V4: each layer a window alone, or a window and a compressed history (layer_types, or the
    checkpoints' compress_ratios of 0 / 4 / 128, one more entry for the MTP layer); hash-routed first layers."""
    rates = k.get("compress_rates") or {}
    if not isinstance(rates, dict):
        raise ModelFileError("config.json: 'compress_rates' must map attention types to ratios")
    rate = _Keys(rates)
    sparse = k.int("compress_rate_csa", default=rate.int("compressed_sparse_attention", default=4))
    heavy = k.int("compress_rate_hca", default=rate.int("heavily_compressed_attention", default=128))
    names, legacy = _list_or_none(k, "layer_types"), _list_or_none(k, "compress_ratios")
    if isinstance(names, list) and names:
        if any(n not in _V4_TYPES for n in names):
            raise ModelFileError(f"config.json: 'layer_types' entries must be one of {', '.join(_V4_TYPES)}")
        ratios = [(0, sparse, heavy)[_V4_TYPES[n]] for n in names]
    elif isinstance(legacy, list):
        if any(isinstance(r, bool) or not isinstance(r, int) or r < 0 for r in legacy):
            raise ModelFileError("config.json: 'compress_ratios' must be whole numbers (0 for a window alone)")
        ratios = list(legacy)
    else:  # the config class's default: two heavily compressed layers, then sparse and heavy in turn
        ratios = [heavy] * min(layers, 2) + [sparse if i % 2 else heavy for i in range(max(layers - 2, 0))]
    if len(ratios) < layers:
        raise ModelFileError(f"config.json: {len(ratios)} attention types for {layers} layers")
    ratios = ratios[:layers]
    hashed = _list_or_none(k, "mlp_layer_types")
    if hashed is not None and len(hashed) != layers:
        raise ModelFileError(f"config.json: 'mlp_layer_types' has {len(hashed)} entries for {layers} layers")
    hash_layers = (
        sum(1 for t in hashed if t == "hash_moe")
        if hashed is not None
        else _layer_number(k, "num_hash_layers", layers + 1)
    )
    return {
        "compressed": CompressedAttention(
            q_lora_rank=k.int("q_lora_rank"),
            o_groups=k.int("o_groups"),
            o_lora_rank=k.int("o_lora_rank"),
            ratios=tuple(ratios),
            sparse_ratio=sparse,
            hc_mult=k.int("hc_mult"),
            hash_layers=hash_layers,
        ),
        "layer_types": tuple(LayerKind.COMPRESSED if r else LayerKind.SLIDING for r in ratios),
        "sliding_window": k.int("sliding_window"),
    }


def _granite_hybrid(k: _Keys, hidden: int, layers: int, expert_width: int) -> dict[str, Any]:
    """Granite 4 hybrid: each layer Mamba-2 or attention, then a shared MLP, beside routed experts of
    intermediate_size when num_local_experts > 0 (the dense models have the shared MLP alone)."""
    names = k.get("layer_types", "layers_block_type")
    if not isinstance(names, list) or len(names) != layers:
        raise ModelFileError(f"config.json: 'layer_types' must name mamba or attention for each of {layers} layers")
    # "linear_attention" is transformers' newer name for the same Mamba-2 layers
    kinds = tuple(LayerKind.MAMBA if "mamba" in str(t) or "linear" in str(t) else LayerKind.FULL for t in names)
    shared = k.int("shared_intermediate_size")
    fields: dict[str, Any] = {"layer_types": kinds, "mamba": _mamba2(k, hidden), "sliding_window": None}
    experts = k.int("num_local_experts", positive=False)
    if experts:
        fields["moe"] = MoE(
            num_experts=experts,
            experts_per_token=k.int("num_experts_per_tok"),
            expert_intermediate_size=expert_width,
            shared_intermediate_size=shared,
        )
    else:
        fields["intermediate_size"] = shared
    return fields


def _mamba2(k: _Keys, hidden: int) -> Mamba:
    """The Mamba-2 mixer of Falcon-H1 and Granite 4 (mamba_* keys); Falcon-H1 may set its inner width
    (mamba_d_ssm), leave out the gated norm and give the output projection its own bias."""
    inner = k.int("mamba_d_ssm", default=k.int("mamba_expand") * hidden)
    heads = k.int("mamba_n_heads")
    head = k.get("mamba_d_head")
    head_dim = inner // heads if head in (None, "auto") else k.int("mamba_d_head")
    if head_dim * heads != inner:
        raise ModelFileError(f"config.json: {heads} Mamba heads of {head_dim} do not make the inner width {inner}")
    proj_bias = k.flag("mamba_proj_bias")
    return Mamba(
        d_state=k.int("mamba_d_state"),
        d_conv=k.int("mamba_d_conv"),
        heads=heads,
        head_dim=head_dim,
        groups=k.int("mamba_n_groups"),
        conv_bias=k.flag("mamba_conv_bias", default=True),
        proj_bias=proj_bias,
        out_bias=k.flag("projectors_bias", default=proj_bias),
        gated_norm=k.flag("mamba_rms_norm", default=True),
    )


def _kv_heads(model_type: str, k: _Keys, heads: int) -> int:
    if model_type == "falcon":
        if k.flag("new_decoder_architecture"):
            return k.int("num_kv_heads", "n_head_kv", default=heads)
        return 1 if k.flag("multi_query", default=True) else heads
    return k.int("num_key_value_heads", "n_head_kv", "num_kv_heads", "multi_query_group_num", default=heads)


def _moe(model_type: str, k: _Keys, intermediate: int, layers: int) -> MoE | None:
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
    if shared < 0:
        raise ModelFileError(f"config.json: 'n_shared_experts' must not be negative, got {shared}")
    if shared:
        fields["shared_intermediate_size"] = shared * width
    if k.get("shared_expert_intermediate_size"):
        fields["shared_intermediate_size"] = k.int("shared_expert_intermediate_size")
        fields["shared_expert_gate"] = True
    if k.get("moe_shared_expert_intermediate_size"):  # Nemotron-H
        fields["shared_intermediate_size"] = k.int("moe_shared_expert_intermediate_size") * max(1, shared)
    if k.get("moe_latent_size"):  # Nemotron 3 Super: experts in a projected width
        fields["latent_size"] = k.int("moe_latent_size")
    if model_type == "llama4_text":  # one shared expert of the experts' width, MoE every step-th layer
        fields["shared_intermediate_size"] = width
        step = k.int("interleave_moe_layer_step", default=1)
        fields["layer_period"], fields["layer_offset"] = step, step - 1
    frequency = k.get("moe_layer_freq")
    if isinstance(frequency, list):  # MiMo-V2: one flag per layer
        if len(frequency) != layers:
            raise ModelFileError(f"config.json: 'moe_layer_freq' has {len(frequency)} entries for {layers} layers")
        if any(f not in (0, 1) or isinstance(f, float) for f in frequency):
            raise ModelFileError("config.json: 'moe_layer_freq' entries must be 0 (dense) or 1 (MoE)")
        fields["dense_layers"] = tuple(i for i, f in enumerate(frequency) if not f)
    elif k.get("first_k_dense_replace") is not None:
        fields["first_dense_layers"] = _layer_number(k, "first_k_dense_replace", layers)
        fields["layer_period"] = k.int("moe_layer_freq", default=1)
    if model_type == "jamba":
        fields["layer_period"] = k.int("expert_layer_period", default=2)
        fields["layer_offset"] = k.int("expert_layer_offset", default=1, positive=False)
    step = k.int("decoder_sparse_step", default=1)
    if step > 1:
        fields["layer_period"], fields["layer_offset"] = step, step - 1
    only_dense = k.get("mlp_only_layers") or []
    if not isinstance(only_dense, list) or not all(
        isinstance(i, int) and not isinstance(i, bool) and 0 <= i < layers for i in only_dense
    ):
        raise ModelFileError(f"config.json: 'mlp_only_layers' must be a list of layer numbers below {layers}")
    if only_dense:
        fields["dense_layers"] = tuple(sorted({*fields.get("dense_layers", ()), *only_dense}))
    if model_type == "gpt_oss":
        fields["router_bias"] = fields["expert_bias"] = True
    if k.get("topk_method") == "noaux_tc" or model_type == "nemotron_h":  # NemotronHTopkRouter keeps one too
        fields["router_score_bias"] = True
    return MoE.model_validate(fields)


def _layer_types(model_type: str, k: _Keys, layers: int, max_context: int) -> tuple[tuple[LayerKind, ...], int]:
    window = k.int("sliding_window", default=0, positive=False)  # null and 0: no window; "4", 1.5: refused
    if window < 0:
        raise ModelFileError(f"config.json: 'sliding_window' must not be negative, got {window}")
    explicit = _list_or_none(k, "layer_types")
    for name in ("hybrid_layer_pattern",):
        _list_or_none(k, name)
    if model_type in ("qwen3_next", "qwen3_5", "qwen3_5_moe"):
        if isinstance(explicit, list) and explicit:
            kinds = tuple(_kind(t) for t in explicit)
        else:
            interval = k.int("full_attention_interval")
            kinds = tuple(LayerKind.FULL if (i + 1) % interval == 0 else LayerKind.LINEAR for i in range(layers))
        if len(kinds) != layers:
            raise ModelFileError(f"config.json: 'layer_types' has {len(kinds)} entries for {layers} layers")
        return kinds, 0
    if model_type == "llama4_text":  # chunked attention on the RoPE layers, full on every 4th (NoPE)
        chunk = k.int("attention_chunk_size")
        kinds = tuple(LayerKind.FULL if (i + 1) % 4 == 0 else LayerKind.CHUNKED for i in range(layers))
        return (kinds, chunk) if chunk < max_context else ((), 0)
    pattern = k.get("hybrid_layer_pattern")
    if model_type == "mimo_v2_flash" and isinstance(pattern, list):  # 1 = sliding, 0 = full
        if len(pattern) != layers:
            raise ModelFileError(f"config.json: 'hybrid_layer_pattern' has {len(pattern)} entries for {layers} layers")
        if any(p not in (0, 1) or isinstance(p, float) for p in pattern):
            raise ModelFileError("config.json: 'hybrid_layer_pattern' entries must be 0 (full) or 1 (sliding)")
        kinds = tuple(LayerKind.SLIDING if p else LayerKind.FULL for p in pattern)
    elif isinstance(explicit, list) and explicit:
        if len(explicit) != layers:
            raise ModelFileError(f"config.json: 'layer_types' has {len(explicit)} entries for {layers} layers")
        kinds = tuple(_kind(t) for t in explicit)
    elif not window:
        return (), 0
    elif model_type == "gemma2":
        kinds = tuple(LayerKind.SLIDING if i % 2 == 0 else LayerKind.FULL for i in range(layers))
    elif model_type in ("gemma3_text", "gemma4_text"):
        pattern = k.int("sliding_window_pattern", default=6)
        kinds = tuple(LayerKind.FULL if (i + 1) % pattern == 0 else LayerKind.SLIDING for i in range(layers))
    elif model_type in ("mistral", "mixtral"):
        kinds = (LayerKind.SLIDING,) * layers
    elif model_type.startswith("qwen") and k.flag("use_sliding_window"):
        first = k.int("max_window_layers", default=layers, positive=False)
        kinds = tuple(LayerKind.SLIDING if i >= first else LayerKind.FULL for i in range(layers))
    else:
        return (), 0  # a window the model's attention does not use (Phi-3, Qwen with use_sliding_window false)
    if model_type == "gemma4_text":  # its config class makes the last layer global whatever the list says
        kinds = (*kinds[:-1], LayerKind.FULL)
    if any(kind is not LayerKind.FULL and not kind.windowed for kind in kinds):
        return kinds, window
    if LayerKind.SLIDING in kinds and not window:
        raise ModelFileError("config.json: 'layer_types' has sliding layers but 'sliding_window' gives no window")
    if LayerKind.SLIDING not in kinds or window >= max_context:
        return (), 0
    return kinds, window


_KINDS = {
    "sliding": LayerKind.SLIDING,
    "chunked": LayerKind.CHUNKED,
    "linear": LayerKind.LINEAR,
    "mamba": LayerKind.MAMBA,
}


# every name transformers writes in a layer_types list, and what it is; anything else is refused, not guessed
_KIND_NAMES = {
    "full_attention": LayerKind.FULL,
    "attention": LayerKind.FULL,
    "global_attention": LayerKind.FULL,
    "sliding_attention": LayerKind.SLIDING,
    "sliding_window_attention": LayerKind.SLIDING,
    "chunked_attention": LayerKind.CHUNKED,
    "linear_attention": LayerKind.LINEAR,
    "mamba": LayerKind.MAMBA,
}


def _kind(name: object) -> LayerKind:
    """A `layer_types` entry ("full_attention", "sliding_attention", "linear_attention" …) as a layer kind."""
    kind = _KIND_NAMES.get(name) if isinstance(name, str) else None
    if kind is None:
        raise ModelFileError(
            f"config.json: unknown layer type {str(name)[:40]!r} in 'layer_types' (known: {', '.join(_KIND_NAMES)})"
        )
    return kind


def _list_or_none(k: _Keys, name: str) -> list[Any] | None:
    """A per-layer list, or None when absent: any other type is refused rather than read as absent."""
    value = k.get(name)
    if value is not None and not isinstance(value, list):
        raise ModelFileError(f"config.json: '{name}' must be a list, got {type(value).__name__}")
    return value


_NEMOTRON = {"M": (LayerKind.MAMBA, FfnKind.NONE), "*": (LayerKind.FULL, FfnKind.NONE)}
_NEMOTRON |= {"-": (LayerKind.NONE, FfnKind.DENSE), "E": (LayerKind.NONE, FfnKind.MOE)}


_NEMOTRON_NAMES = {"mamba": "M", "linear_attention": "M", "attention": "*", "full_attention": "*", "mlp": "-"}
_NEMOTRON_NAMES |= {"moe": "E"}


def _nemotron_h(k: _Keys, layers: int) -> dict[str, Any]:
    """Nemotron-H: each layer one block of hybrid_override_pattern (M Mamba-2, * attention, - MLP, E MoE), or
    of the layer_types list newer configs give instead."""
    pattern = k.get("hybrid_override_pattern")
    names = k.get("layer_types", "layers_block_type")
    if not isinstance(pattern, str) and isinstance(names, list):
        pattern = "".join(_NEMOTRON_NAMES.get(str(n), "?") for n in names)
    if not isinstance(pattern, str) or len(pattern) != layers or set(pattern) - set(_NEMOTRON):
        raise ModelFileError(
            f"config.json: 'hybrid_override_pattern' must give one of M * - E for each of {layers} layers"
        )
    return {
        "layer_types": tuple(_NEMOTRON[c][0] for c in pattern),
        "ffn_types": tuple(_NEMOTRON[c][1] for c in pattern),
        "mamba": Mamba(
            d_state=k.int("ssm_state_size"),
            d_conv=k.int("conv_kernel", "mamba_d_conv", default=4),
            heads=k.int("mamba_num_heads"),
            head_dim=k.int("mamba_head_dim"),
            groups=k.int("n_groups", "mamba_n_groups", default=1),
            conv_bias=k.flag("use_conv_bias", default=True),
            proj_bias=k.flag("mamba_proj_bias") or k.flag("use_bias"),
        ),
    }


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
