"""GLM-4.5 / 4.6 / 4.7 (glm4_moe) and GLM-5 (glm_moe_dsa). GLM-4.x: biases on q, k and v but not on the
output projection, per-head q/k norms when use_qk_norm; GLM-5: DeepSeek-V3.2's latent attention and indexer.
In llama.cpp's keys (glm-dsa) GLM 5.2 gives indexers to some layers only, which is not read yet."""

from vramscope.sources.config_keys import ConfigKeys
from vramscope.sources.errors import ModelFileError
from vramscope.sources.families.family import Family, Fields, Shape, revised
from vramscope.sources.gguf_keys import GgufKeys, GgufShape


def _glm4(k: ConfigKeys, shape: Shape, fields: Fields, outer: ConfigKeys) -> Fields:
    k.know("num_nextn_predict_layers")
    out: Fields = {"o_bias": False}
    if k.flag("use_qk_norm"):
        out["qk_norm"] = "per_head"
    return out


def _glm5(k: ConfigKeys, shape: Shape, fields: Fields, outer: ConfigKeys) -> Fields:
    """GLM-5.x: GLM-5.2's shared layers reuse the previous full layer's top-k (no indexer, no indexer key
    cached; indexer_types, or the schedule index_topk_pattern / index_topk_freq / index_skip_topk_offset
    describes); mlp_layer_types says which layers are dense."""
    k.know("num_nextn_predict_layers", "qk_head_dim")  # qk_head_dim = qk_nope_head_dim + qk_rope_head_dim
    k.know("index_share_for_mtp_iteration", "moe_router_dtype")  # the MTP layer's reuse; the router's compute dtype
    k.know("layer_types")  # "indexed_attention" / "deepseek_sparse_attention" on every layer: the indexer's
    out: Fields = {}
    shared = _shared_indexer_layers(k, shape.layers)
    if shared and fields.get("indexer") is not None:
        out["indexer"] = revised(fields["indexer"], skip_layers=shared)
    dense = _dense_layers(k, shape.layers)
    if dense is not None and fields.get("moe") is not None:
        out["moe"] = revised(fields["moe"], first_dense_layers=0, layer_period=1, dense_layers=dense)
    return out


def _shared_indexer_layers(k: ConfigKeys, layers: int) -> tuple[int, ...]:
    names = k.list_or_none("indexer_types")
    k.know("index_topk_pattern", "index_topk_freq", "index_skip_topk_offset")  # the schedule it spells out
    if names is None:
        pattern = k.get("index_topk_pattern")
        if isinstance(pattern, str):
            names = [{"F": "full", "S": "shared"}.get(c, c) for c in pattern]
        else:
            freq = max(k.int("index_topk_freq", default=1), 1)
            offset = k.int("index_skip_topk_offset", default=2, positive=False)
            names = ["full" if max(i - offset + 1, 0) % freq == 0 else "shared" for i in range(layers)]
    if len(names) != layers or set(names) - {"full", "shared"}:
        raise ModelFileError(f"config.json: 'indexer_types' must give full or shared for each of {layers} layers")
    if names and names[0] == "shared":
        raise ModelFileError("config.json: the first layer cannot reuse an earlier layer's indexer ('shared')")
    return tuple(i for i, name in enumerate(names) if name == "shared")


def _dense_layers(k: ConfigKeys, layers: int) -> tuple[int, ...] | None:
    names = k.list_or_none("mlp_layer_types")
    if names is None:
        return None
    if len(names) != layers or set(names) - {"dense", "sparse"}:
        raise ModelFileError(f"config.json: 'mlp_layer_types' must give dense or sparse for each of {layers} layers")
    return tuple(i for i, name in enumerate(names) if name == "dense")


def _glm_dsa(g: GgufKeys, shape: GgufShape, fields: Fields) -> Fields:
    if g.get("attention.indexer.types") is not None or g.whole("context_length", 0) >= 2**20:
        raise ModelFileError("GGUF glm-dsa with per-layer indexer types (GLM 5.2) is not read yet")
    return {}


FAMILIES = (
    Family(("glm4_moe",), ("glm4moe",), config_fields=_glm4),
    Family(
        ("glm_moe_dsa",),
        ("glm-dsa",),
        config_kinds=lambda k, shape: ((), 0),  # every layer attends to all it has selected
        config_fields=_glm5,
        gguf_fields=_glm_dsa,
    ),
)
