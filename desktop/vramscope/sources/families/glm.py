"""GLM-4.5 / 4.6 / 4.7 (glm4_moe) and GLM-5 (glm_moe_dsa). GLM-4.x: biases on q, k and v but not on the
output projection, per-head q/k norms when use_qk_norm; GLM-5: DeepSeek-V3.2's latent attention and indexer.
In llama.cpp's keys (glm-dsa) GLM 5.2 gives indexers to some layers only, which is not read yet."""

from vramscope.sources.config_keys import ConfigKeys
from vramscope.sources.errors import ModelFileError
from vramscope.sources.families.family import Family, Fields, Shape
from vramscope.sources.gguf_keys import GgufKeys, GgufShape


def _glm4(k: ConfigKeys, shape: Shape, fields: Fields, outer: ConfigKeys) -> Fields:
    k.know("num_nextn_predict_layers")
    out: Fields = {"o_bias": False}
    if k.flag("use_qk_norm"):
        out["qk_norm"] = "per_head"
    return out


def _glm5(k: ConfigKeys, shape: Shape, fields: Fields, outer: ConfigKeys) -> Fields:
    k.know("num_nextn_predict_layers", "qk_head_dim")  # qk_head_dim = qk_nope_head_dim + qk_rope_head_dim
    return {}


def _glm_dsa(g: GgufKeys, shape: GgufShape, fields: Fields) -> Fields:
    if g.get("attention.indexer.types") is not None or g.whole("context_length", 0) >= 2**20:
        raise ModelFileError("GGUF glm-dsa with per-layer indexer types (GLM 5.2) is not read yet")
    return {}


FAMILIES = (
    Family(("glm4_moe",), ("glm4moe",), config_fields=_glm4),
    Family(("glm_moe_dsa",), ("glm-dsa",), config_fields=_glm5, gguf_fields=_glm_dsa),
)
