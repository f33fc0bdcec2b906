"""Qwen 2, 2.5, 3 and their MoE and VL variants: q/k/v biases (Qwen 2), per-head q/k norms (Qwen 3), sliding
layers from max_window_layers on when use_sliding_window is set, and the Qwen-VL encoder (also Qwen3.5's)."""

from vramscope.core.architecture import LayerKind, VisionKind, VisionTower
from vramscope.sources.config_keys import ConfigKeys
from vramscope.sources.errors import ModelFileError
from vramscope.sources.families.family import Family, Fields, Kinds, Shape

QWEN_VL_IMAGE = 1024  # Qwen-VL reads any resolution: a 1024 x 1024 image (1,024 tokens) is assumed


def _sliding_from(k: ConfigKeys, shape: Shape) -> Kinds | None:
    if not k.flag("use_sliding_window"):
        return None
    first = k.int("max_window_layers", default=shape.layers, positive=False)
    return tuple(LayerKind.SLIDING if i >= first else LayerKind.FULL for i in range(shape.layers))


def _qwen(k: ConfigKeys, shape: Shape, fields: Fields, outer: ConfigKeys) -> Fields:
    k.know("use_sliding_window", "max_window_layers")  # read by the window rule when there is a window
    # Qwen3-Coder's qkv_bias / use_qk_norm restate what Qwen3MoeConfig builds (and transformers ignores them)
    k.know("qkv_bias", "use_qk_norm")
    return {}


def qwen_vl_vision(k: ConfigKeys, shape: Shape, fields: Fields, outer: ConfigKeys) -> Fields:
    """Qwen3-VL / Qwen3.5's encoder: 3-D patches, learned positions, a patch merger and deepstack mergers;
    none where the checkpoint holds the language model alone (language_model_only)."""
    _qwen(k, shape, fields, outer)
    vision = outer.get("vision_config")
    if outer.flag("language_model_only") or not isinstance(vision, dict) or vision.get("depth") is None:
        return {}
    v = ConfigKeys(vision)
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
    tower = VisionTower(
        kind=VisionKind.QWEN_VL,
        hidden_size=v.int("hidden_size"),
        intermediate_size=v.int("intermediate_size"),
        num_layers=depth,
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
    return {"vision": tower}


FAMILIES = (
    Family(("qwen2",), ("qwen2",), qkv_bias=True, sliding_kinds=_sliding_from, config_fields=_qwen),
    Family(("qwen2_moe",), ("qwen2moe",), qkv_bias=True, sliding_kinds=_sliding_from, config_fields=_qwen),
    Family(("qwen2_vl",), ("qwen2vl",), qkv_bias=True, sliding_kinds=_sliding_from, config_fields=_qwen),
    Family(("qwen3",), ("qwen3",), qk_norm="per_head", sliding_kinds=_sliding_from, config_fields=_qwen),
    Family(("qwen3_moe",), ("qwen3moe",), qk_norm="per_head", sliding_kinds=_sliding_from, config_fields=_qwen),
    Family(
        ("qwen3_vl", "qwen3_vl_text"),
        ("qwen3vl",),
        qk_norm="per_head",
        sliding_kinds=_sliding_from,
        config_fields=qwen_vl_vision,
    ),
    Family(
        ("qwen3_vl_moe", "qwen3_vl_moe_text"),
        ("qwen3vlmoe",),
        qk_norm="per_head",
        sliding_kinds=_sliding_from,
        config_fields=qwen_vl_vision,
    ),
)
