"""MiniMax-M3 (minimax_m3; inside minimax_m3_vl with its vision encoder): per-head q/k norms; a lightning
indexer on the sparse layers (sparse_attention_config.sparse_attention_freq) that caches one 128-wide key per
token beside K and V; dense layers of dense_intermediate_size (moe_layer_freq), the rest 128 experts of
intermediate_size with a shared expert of shared_intermediate_size and a score-correction bias. As
MiniMaxM3VLTextConfig reads it."""

from vramscope.core.architecture import Indexer, MoE
from vramscope.sources.config_keys import ConfigKeys
from vramscope.sources.errors import ModelFileError
from vramscope.sources.families.family import Family, Fields, Shape

# the sparse block's settings MiniMaxM3VLTextConfig takes from sparse_attention_config
_INDEXER_KEYS = {"index_n_heads": "sparse_num_index_heads", "index_head_dim": "sparse_index_dim"}


_PROJECTOR = (
    "image_grid_pinpoints", "image_seq_length", "img_token_compression_config", "multimodal_projector_bias",
    "num_reward_heads", "process_image_mode", "projector_hidden_act", "projector_hidden_size",
    "vision_feature_layer", "vision_feature_select_strategy",
)  # fmt: skip


def _flags(values: object, layers: int, name: str) -> list[bool]:
    if not isinstance(values, list) or len(values) != layers or any(v not in (0, 1) for v in values):
        raise ModelFileError(f"config.json: '{name}' must give 0 or 1 for each of {layers} layers")
    return [bool(v) for v in values]


def _config(k: ConfigKeys, shape: Shape, fields: Fields, outer: ConfigKeys) -> Fields:
    # MTP modules transformers does not build; rotary, norm and activation settings; the legacy dense count
    k.know("num_mtp_modules", "num_nextn_predict_layers", "use_gemma_norm", "swiglu_alpha", "swiglu_limit")
    k.know("first_k_dense_replace", "moe_intermediate_size", "use_routing_bias", "use_qk_norm", "qk_norm_type")
    k.know("n_shared_experts")  # one, of shared_intermediate_size
    if isinstance(outer.get("vision_config"), dict):  # the projector belongs to the encoder named as not counted
        outer.know(*_PROJECTOR)
    if k.flag("attention_output_gate"):
        raise ModelFileError("config.json (minimax_m3): an attention output gate is not read yet")
    sparse_config = k.get("sparse_attention_config") or {}
    if not isinstance(sparse_config, dict):
        raise ModelFileError("config.json: 'sparse_attention_config' must be an object")
    sparse = ConfigKeys(sparse_config)
    out: Fields = {"intermediate_size": k.int("dense_intermediate_size", default=12288)}
    frequency = sparse.get("sparse_attention_freq")
    if frequency is not None or k.get("layer_types") is not None:
        names = k.list_or_none("layer_types")
        runs = (
            [n == "minimax_m3_sparse" for n in names]
            if names is not None
            else _flags(frequency, shape.layers, "sparse_attention_freq")
        )
        if len(runs) != shape.layers:
            raise ModelFileError(f"config.json: 'layer_types' has {len(runs)} entries for {shape.layers} layers")
        if any(runs):
            out["indexer"] = Indexer(
                heads=k.int("index_n_heads", default=sparse.int(_INDEXER_KEYS["index_n_heads"], default=4)),
                head_dim=k.int("index_head_dim", default=sparse.int(_INDEXER_KEYS["index_head_dim"], default=128)),
                skip_layers=tuple(i for i, run in enumerate(runs) if not run),
                style="minimax",
            )
    moe_layers = k.get("moe_layer_freq")
    dense = (
        [i for i, moe in enumerate(_flags(moe_layers, shape.layers, "moe_layer_freq")) if not moe]
        if moe_layers is not None
        else []
    )
    out["moe"] = MoE(
        num_experts=k.int("num_local_experts", "num_experts"),
        experts_per_token=k.int("num_experts_per_tok"),
        expert_intermediate_size=shape.intermediate,  # MiniMaxM3VLExperts: intermediate_size
        shared_intermediate_size=k.int("shared_intermediate_size", default=3072),
        dense_layers=tuple(dense),
        router_score_bias=True,  # MiniMaxM3VLTopKRouter keeps e_score_correction_bias
    )
    return out


FAMILIES = (
    Family(
        ("minimax_m3", "minimax_m3_vl_text", "minimax_m3_vl"),
        ("minimax-m3",),
        gguf_refused="its GGUF keys (llama.cpp's minimax-m3) are not read yet: open the model's config.json folder",
        defaults={  # MiniMaxM3VLTextConfig's
            "vocab_size": 200_064,
            "hidden_size": 6144,
            "intermediate_size": 3072,
            "num_hidden_layers": 60,
            "num_attention_heads": 64,
            "num_key_value_heads": 4,
            "head_dim": 128,
            "max_position_embeddings": 524_288,
            "num_experts_per_tok": 4,
            "num_local_experts": 128,
            "tie_word_embeddings": False,
        },
        qk_norm="per_head",
        own_moe=True,
        config_kinds=lambda k, shape: ((), 0),  # every layer attends in full (the indexer picks blocks)
        config_fields=_config,
    ),
)
