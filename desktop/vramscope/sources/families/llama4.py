"""Llama 4 (Scout, Maverick): chunked attention on three layers of four (RoPE), full attention on every fourth
(NoPE); experts every interleave_moe_layer_step-th layer beside a shared expert of the experts' width; dense
layers of intermediate_size_mlp. llama.cpp (llama4.cpp) chunks by 8192 tokens whatever the file says."""

from vramscope.core.architecture import LayerKind, MoE
from vramscope.sources.config_keys import ConfigKeys
from vramscope.sources.families.family import Family, Fields, Kinds, Shape, revised
from vramscope.sources.gguf_keys import GgufKeys, GgufShape

LLAMA4_CHUNK = 8192  # llama.cpp sets n_swa to 8192 for llama4 whatever the file says (but 0: no chunking)


def _kinds(k: ConfigKeys, shape: Shape) -> tuple[Kinds, int]:
    k.know("no_rope_layers", "use_qk_norm")  # the every-fourth NoPE layers; its q/k norm has no weights
    chunk = k.int("attention_chunk_size")
    kinds = tuple(LayerKind.FULL if (i + 1) % 4 == 0 else LayerKind.CHUNKED for i in range(shape.layers))
    return (kinds, chunk) if chunk < shape.max_context else ((), 0)


def _interleaved(moe: MoE, step: int) -> MoE:
    return revised(moe, shared_intermediate_size=moe.expert_intermediate_size, layer_period=step, layer_offset=step - 1)


def _config(k: ConfigKeys, shape: Shape, fields: Fields, outer: ConfigKeys) -> Fields:
    out: Fields = {"intermediate_size": k.int("intermediate_size_mlp", default=shape.intermediate)}
    if fields.get("moe") is not None:
        out["moe"] = _interleaved(fields["moe"], k.int("interleave_moe_layer_step", default=1))
    return out


def _gguf_kinds(g: GgufKeys, shape: GgufShape) -> Kinds | None:
    if g.get("attention.sliding_window") == 0:  # the file turns chunking off
        return None
    return tuple(LayerKind.CHUNKED if i % 4 < 3 else LayerKind.FULL for i in range(shape.layers))


def _gguf(g: GgufKeys, shape: GgufShape, fields: Fields) -> Fields:
    step = g.whole("interleave_moe_layer_step", 1)
    width = g.whole("expert_feed_forward_length")
    out: Fields = {
        "moe": MoE(
            num_experts=g.whole("expert_count"),
            experts_per_token=g.whole("expert_used_count", 1),
            expert_intermediate_size=width,
            shared_intermediate_size=width,
            layer_period=step,
            layer_offset=step - 1,
        )
    }
    if fields.get("layer_types"):
        out["sliding_window"] = LLAMA4_CHUNK
    return out


FAMILIES = (
    Family(
        ("llama4_text", "llama4"),
        ("llama4",),
        defaults={"attention_chunk_size": 8192, "interleave_moe_layer_step": 1},
        config_kinds=_kinds,
        config_fields=_config,
        gguf_kinds=_gguf_kinds,
        gguf_fields=_gguf,
    ),
)
