"""One table of family traits: for each Hugging Face `model_type`, the defaults transformers' config class
uses when a key is absent and the facts of the architecture no key states (MLP kind, norms, fused or biased
projections, q/k norms, where the recurrent state is kept). A new family is one entry here plus tests."""

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Family:
    defaults: dict[str, Any] = field(default_factory=dict)  # transformers' config-class defaults
    gated_mlp: bool = True  # SwiGLU/GeGLU (gate, up, down); else up, down
    layer_norm: bool = False  # LayerNorm with a bias, not RMSNorm
    fused_qkv: bool = False  # one QKV matrix in the checkpoint
    qkv_bias: bool = False  # biases on q, k, v whatever attention_bias says
    qk_norm: str = "none"  # none | per_head | full
    norms_per_layer: int = 2
    state_fp32: bool = False  # the reference implementation keeps recurrent states in float32
    aliases: tuple[str, ...] = ()


_QWEN3_HYBRID = Family(
    defaults={"full_attention_interval": 4, "linear_conv_kernel_dim": 4, "tie_word_embeddings": False},
    qk_norm="per_head",
    state_fp32=True,
)

# transformers' Mamba-2 defaults shared by Falcon-H1 and Granite 4 (FalconH1Config, GraniteMoeHybridConfig)
_MAMBA2 = {
    "tie_word_embeddings": False,
    "mamba_n_heads": 128,
    "mamba_d_head": "auto",
    "mamba_n_groups": 1,
    "mamba_d_state": 256,
    "mamba_d_conv": 4,
    "mamba_expand": 2,
    "mamba_conv_bias": True,
    "mamba_proj_bias": False,
}

FAMILIES: dict[str, Family] = {
    "gemma": Family(defaults={"tie_word_embeddings": True}),
    "gemma2": Family(defaults={"tie_word_embeddings": True}, norms_per_layer=4),
    "gemma3_text": Family(
        defaults={
            "tie_word_embeddings": True,
            "vocab_size": 262208,
            "hidden_size": 2304,
            "intermediate_size": 9216,
            "num_hidden_layers": 26,
            "num_attention_heads": 8,  # gemma-3-4b-it's config.json leaves heads and head size to these
            "num_key_value_heads": 4,
            "head_dim": 256,
            "sliding_window": 4096,
            "max_position_embeddings": 131072,
            "sliding_window_pattern": 6,
        },
        qk_norm="per_head",
        norms_per_layer=4,
        aliases=("gemma3",),
    ),
    "gemma4_text": Family(
        defaults={
            "tie_word_embeddings": True,
            "vocab_size": 262_144,
            "head_dim": 256,
            "global_head_dim": 512,
            "sliding_window": 512,
            "max_position_embeddings": 131_072,
            "attention_k_eq_v": False,
            "enable_moe_block": False,
            "hidden_size_per_layer_input": 256,
            "vocab_size_per_layer_input": 262_144,
            "num_kv_shared_layers": 0,
            "use_double_wide_mlp": False,
        },
        qk_norm="per_head",
        norms_per_layer=4,
        aliases=("gemma4",),
    ),
    "falcon": Family(
        defaults={"tie_word_embeddings": True, "max_position_embeddings": 2048},
        gated_mlp=False,
        layer_norm=True,
        fused_qkv=True,
        aliases=("RefinedWebModel", "RefinedWeb"),
    ),
    "gpt2": Family(defaults={"tie_word_embeddings": True}, gated_mlp=False, layer_norm=True, fused_qkv=True),
    "gpt_neox": Family(gated_mlp=False, layer_norm=True, fused_qkv=True),
    "gptj": Family(gated_mlp=False, layer_norm=True),
    "opt": Family(gated_mlp=False, layer_norm=True),
    "bloom": Family(gated_mlp=False, layer_norm=True, fused_qkv=True),
    "phi": Family(layer_norm=True),
    "phi3": Family(fused_qkv=True),
    # starcoder2: tie_word_embeddings defaults to True in its config class (a config without the key)
    "starcoder2": Family(defaults={"tie_word_embeddings": True}, gated_mlp=False, layer_norm=True),
    "mistral": Family(defaults={"sliding_window": 4096}),
    "qwen2": Family(qkv_bias=True),
    "qwen2_moe": Family(qkv_bias=True),
    "qwen2_vl": Family(qkv_bias=True),
    "qwen3": Family(qk_norm="per_head"),
    "qwen3_moe": Family(qk_norm="per_head"),
    "qwen3_vl": Family(qk_norm="per_head", aliases=("qwen3_vl_text",)),
    "qwen3_vl_moe": Family(qk_norm="per_head", aliases=("qwen3_vl_moe_text",)),
    "qwen3_next": _QWEN3_HYBRID,
    "qwen3_5": Family(**{**_QWEN3_HYBRID.__dict__, "aliases": ("qwen3_5_text",)}),
    "qwen3_5_moe": Family(**{**_QWEN3_HYBRID.__dict__, "aliases": ("qwen3_5_moe_text",)}),
    "olmo2": Family(qk_norm="full"),
    "minimax_m2": Family(),  # q/k norms across all heads when use_qk_norm (read from the config)
    "llama4_text": Family(defaults={"attention_chunk_size": 8192, "interleave_moe_layer_step": 1}, aliases=("llama4",)),
    "nemotron_h": Family(gated_mlp=False, norms_per_layer=1, state_fp32=True),
    "falcon_h1": Family(
        defaults={
            **_MAMBA2,
            "mamba_d_ssm": 1024,
            "mamba_rms_norm": False,
            "projectors_bias": False,
            "num_key_value_heads": 8,
            "vocab_size": 128_000,
            "max_position_embeddings": 8192,
        }
    ),
    "granitemoehybrid": Family(
        defaults={
            **_MAMBA2,
            "num_local_experts": 8,
            "num_experts_per_tok": 2,
            "shared_intermediate_size": 1024,
            "max_position_embeddings": 2048,
        }
    ),
    "deepseek_v32": Family(),
    "deepseek_v4": Family(
        defaults={  # DeepseekV4Config's defaults (V4-Flash's sizes)
            "vocab_size": 129_280,
            "hidden_size": 4096,
            "moe_intermediate_size": 2048,
            "num_hidden_layers": 43,
            "num_attention_heads": 64,
            "num_key_value_heads": 1,
            "head_dim": 512,
            "q_lora_rank": 1024,
            "num_experts_per_tok": 6,
            "n_routed_experts": 256,
            "n_shared_experts": 1,
            "max_position_embeddings": 1_048_576,
            "sliding_window": 128,
            "hc_mult": 4,
            "o_groups": 8,
            "o_lora_rank": 1024,
            "index_n_heads": 64,
            "index_head_dim": 128,
            "num_hash_layers": 3,
            "topk_method": "noaux_tc",  # every top-k router keeps a score-correction bias
            "tie_word_embeddings": False,
        }
    ),
    "glm_moe_dsa": Family(),
    "mimo_v2_flash": Family(),
}

# Families whose attention the core cannot describe yet: refused by name rather than miscounted
UNSUPPORTED: dict[str, str] = {}

_BY_ALIAS = {alias: name for name, family in FAMILIES.items() for alias in family.aliases}


def family_name(model_type: str) -> str:
    """The table's name for a model_type (an alias such as qwen3_5_text -> qwen3_5)."""
    return _BY_ALIAS.get(model_type, model_type)


def family(model_type: str) -> Family:
    return FAMILIES.get(family_name(model_type), Family())
