"""DeepSeek-V4: each layer a 128-token window alone, or a window and a history compressed every 4 tokens
(with the lightning indexer's key) or every 128 (layer_types, or the checkpoints' compress_ratios of 0 / 4 /
128, one more entry for the MTP layer); low-rank queries and output, hyper-connections and hash-routed first
layers. llama.cpp's deepseek4 keys are not read yet."""

from typing import Any

from vramscope.core.architecture import CompressedAttention, LayerKind
from vramscope.sources.config_keys import ConfigKeys
from vramscope.sources.errors import ModelFileError
from vramscope.sources.families.family import Family, Fields, Shape

_TYPES = {"sliding_attention": 0, "compressed_sparse_attention": 1, "heavily_compressed_attention": 2}


def _ratios(k: ConfigKeys, layers: int) -> list[int]:
    rates = k.get("compress_rates") or {}
    if not isinstance(rates, dict):
        raise ModelFileError("config.json: 'compress_rates' must map attention types to ratios")
    rate = ConfigKeys(rates)
    sparse = k.int("compress_rate_csa", default=rate.int("compressed_sparse_attention", default=4))
    heavy = k.int("compress_rate_hca", default=rate.int("heavily_compressed_attention", default=128))
    names, legacy = k.list_or_none("layer_types"), k.list_or_none("compress_ratios")
    if names:
        if any(n not in _TYPES for n in names):
            raise ModelFileError(f"config.json: 'layer_types' entries must be one of {', '.join(_TYPES)}")
        ratios = [(0, sparse, heavy)[_TYPES[n]] for n in names]
    elif isinstance(legacy, list):
        if any(isinstance(r, bool) or not isinstance(r, int) or r < 0 for r in legacy):
            raise ModelFileError("config.json: 'compress_ratios' must be whole numbers (0 for a window alone)")
        ratios = list(legacy)
    else:  # the config class's default: two heavily compressed layers, then sparse and heavy in turn
        ratios = [heavy] * min(layers, 2) + [sparse if i % 2 else heavy for i in range(max(layers - 2, 0))]
    if len(ratios) < layers:
        raise ModelFileError(f"config.json: {len(ratios)} attention types for {layers} layers")
    return [sparse, *ratios[:layers]]  # the sparse ratio first, then one per layer


def _hash_layers(k: ConfigKeys, layers: int) -> int:
    hashed = k.list_or_none("mlp_layer_types")
    if hashed is None:
        return k.layer_number("num_hash_layers", layers + 1)
    if len(hashed) != layers:
        raise ModelFileError(f"config.json: 'mlp_layer_types' has {len(hashed)} entries for {layers} layers")
    return sum(1 for t in hashed if t == "hash_moe")


def _config(k: ConfigKeys, shape: Shape, fields: Fields, outer: ConfigKeys) -> Fields:
    # the MTP layer, rotary and kernel settings; expert_dtype is the checkpoint's storage, read with its format
    k.know("num_nextn_predict_layers", "qk_rope_head_dim", "compress_rope_theta", "hc_eps", "expert_dtype")
    sparse, *ratios = _ratios(k, shape.layers)
    compressed: dict[str, Any] = {
        "q_lora_rank": k.int("q_lora_rank"),
        "o_groups": k.int("o_groups"),
        "o_lora_rank": k.int("o_lora_rank"),
        "ratios": tuple(ratios),
        "sparse_ratio": sparse,
        "hc_mult": k.int("hc_mult"),
        "hash_layers": _hash_layers(k, shape.layers),
    }
    return {
        "compressed": CompressedAttention(**compressed),
        "layer_types": tuple(LayerKind.COMPRESSED if r else LayerKind.SLIDING for r in ratios),
        "sliding_window": k.int("sliding_window"),
    }


FAMILIES = (
    Family(
        ("deepseek_v4", "deepseek_ref"),  # deepseek_ref: SGLang's FP8 copies name the same build so
        ("deepseek4",),
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
        },
        config_kinds=lambda k, shape: ((), 0),  # its compressed layers are set with their ratios
        config_fields=_config,
        gguf_refused="open the DeepSeek-V4 model's config.json folder instead",
    ),
)
