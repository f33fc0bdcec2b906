"""Nemotron-H and Nemotron 3: each layer one block of hybrid_override_pattern (M Mamba-2, * attention, - MLP,
E MoE) or of the layer_types list newer configs give instead; squared-ReLU MLPs without a gate, one norm a
block, states in float32; Nemotron 3's experts beside a shared one, in a latent width (moe_latent_size), with a
score-bias router. In llama.cpp's keys (nemotron-h.cpp) K/V heads per layer mean attention, a feed-forward
length an MLP (or experts in nemotron_h_moe), and neither Mamba-2."""

from typing import Any

from vramscope.core.architecture import FfnKind, LayerKind, Mamba, MoE
from vramscope.sources.config_keys import ConfigKeys
from vramscope.sources.errors import ModelFileError
from vramscope.sources.families.family import Family, Fields, Kinds, Shape, revised
from vramscope.sources.gguf_keys import GgufKeys, GgufShape

_BLOCKS = {"M": (LayerKind.MAMBA, FfnKind.NONE), "*": (LayerKind.FULL, FfnKind.NONE)}
_BLOCKS |= {"-": (LayerKind.NONE, FfnKind.DENSE), "E": (LayerKind.NONE, FfnKind.MOE)}
_NAMES = {"mamba": "M", "linear_attention": "M", "attention": "*", "full_attention": "*", "mlp": "-", "moe": "E"}


def _pattern(k: ConfigKeys, layers: int) -> str:
    pattern = k.get("hybrid_override_pattern")
    names = k.get("layer_types", "layers_block_type")
    if not isinstance(pattern, str) and isinstance(names, list):
        pattern = "".join(_NAMES.get(str(n), "?") for n in names)
    if not isinstance(pattern, str) or len(pattern) != layers or set(pattern) - set(_BLOCKS):
        raise ModelFileError(
            f"config.json: 'hybrid_override_pattern' must give one of M * - E for each of {layers} layers"
        )
    return pattern


def _prepare(config: dict[str, Any]) -> dict[str, Any]:
    """NemotronHConfig counts the layers in the block list (num_hidden_layers is deprecated: Nemotron 3 Ultra
    leaves it out)."""
    blocks = config.get("layers_block_type", config.get("layer_types", config.get("hybrid_override_pattern")))
    if config.get("num_hidden_layers") is None and isinstance(blocks, list | str):
        return {**config, "num_hidden_layers": len(blocks)}
    return config


def _experts(k: ConfigKeys, moe: MoE) -> MoE:
    update: Fields = {"router_score_bias": True}  # NemotronHTopkRouter keeps a score-correction bias
    if k.get("moe_shared_expert_intermediate_size"):
        shared = k.int("n_shared_experts", default=0, positive=False)
        update["shared_intermediate_size"] = k.int("moe_shared_expert_intermediate_size") * max(1, shared)
    if k.get("moe_latent_size"):  # Nemotron 3 Super: experts in a projected width
        update["latent_size"] = k.int("moe_latent_size")
    return revised(moe, **update)


def _config(k: ConfigKeys, shape: Shape, fields: Fields, outer: ConfigKeys) -> Fields:
    # expand and time_step_rank restate mamba_num_heads x mamba_head_dim; the rest are kernel settings
    k.know("expand", "time_step_rank", "mamba_d_conv", "mamba_n_groups", "moe_latent_size")
    k.know("sliding_window")  # NemotronHAttention attends over everything whatever the key says
    # the MTP layers, which transformers does not build; a kernel switch
    k.know("num_nextn_predict_layers", "mtp_hybrid_override_pattern", "mtp_layers_block_type")
    k.know("moe_shared_expert_overlap")
    pattern = _pattern(k, shape.layers)
    out: Fields = {
        "layer_types": tuple(_BLOCKS[c][0] for c in pattern),
        "ffn_types": tuple(_BLOCKS[c][1] for c in pattern),
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
    if fields.get("moe") is not None:
        out["moe"] = _experts(k, fields["moe"])
    return out


def _gguf_kinds(g: GgufKeys, shape: GgufShape) -> Kinds:
    return tuple(
        LayerKind.FULL if kv else (LayerKind.NONE if ff else LayerKind.MAMBA)
        for kv, ff in zip(shape.kv_heads, shape.ffn, strict=True)
    )


def _gguf(g: GgufKeys, shape: GgufShape, fields: Fields) -> Fields:
    heads = g.whole("ssm.time_step_rank")
    routed = g.arch == "nemotron_h_moe" and g.whole("expert_count", 0) > 0
    out: Fields = {"moe": None}
    if routed:
        used = g.whole("expert_used_count")
        first = next((f for f in shape.ffn if f), 0)
        out["moe"] = MoE(
            num_experts=g.whole("expert_count"),
            experts_per_token=used,
            expert_intermediate_size=g.whole("expert_feed_forward_length", first // used),
            shared_intermediate_size=g.whole("expert_shared_feed_forward_length", 0),
            router_score_bias=True,
            latent_size=g.whole("moe_latent_size", 0),
        )
    dense = FfnKind.MOE if routed else FfnKind.DENSE
    return out | {
        "ffn_types": tuple(dense if ff else FfnKind.NONE for ff in shape.ffn),
        "gated_mlp": False,
        "norms_per_layer": 1,
        "state_fp32": True,  # llama.cpp keeps recurrent states in float32
        "mamba": Mamba(
            d_state=g.whole("ssm.state_size"),
            d_conv=g.whole("ssm.conv_kernel"),
            heads=heads,
            head_dim=g.whole("ssm.inner_size") // heads,
            groups=g.whole("ssm.group_count", 1),
        ),
    }


FAMILIES = (
    Family(
        ("nemotron_h",),
        ("nemotron_h", "nemotron_h_moe"),
        gated_mlp=False,
        norms_per_layer=1,
        state_fp32=True,
        config_kinds=lambda k, shape: ((), 0),  # its block pattern is read with its mixers
        config_fields=_config,
        prepare=_prepare,
        gguf_kinds=_gguf_kinds,
        gguf_fields=_gguf,
    ),
)
