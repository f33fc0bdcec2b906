"""Gemma, Gemma 2 and Gemma 3: tied embeddings, four norms a layer from Gemma 2 on, sliding layers in a fixed
rhythm (every other layer in Gemma 2; five of six in Gemma 3) and Gemma 3's SigLIP encoder."""

from vramscope.core.architecture import LayerKind, VisionTower
from vramscope.sources.config_keys import ConfigKeys
from vramscope.sources.families.family import Family, Fields, Kinds, Shape


def _alternating(k: ConfigKeys, shape: Shape) -> Kinds:
    return tuple(LayerKind.SLIDING if i % 2 == 0 else LayerKind.FULL for i in range(shape.layers))


def every_nth_global(k: ConfigKeys, shape: Shape) -> Kinds:
    """Sliding layers with every sliding_window_pattern-th one global (Gemma 3 and 4)."""
    pattern = k.int("sliding_window_pattern", default=6)
    return tuple(LayerKind.FULL if (i + 1) % pattern == 0 else LayerKind.SLIDING for i in range(shape.layers))


def _gemma3_vision(k: ConfigKeys, shape: Shape, fields: Fields, outer: ConfigKeys) -> Fields:
    vision = outer.get("vision_config")
    if not isinstance(vision, dict):
        return {}
    v = ConfigKeys(vision)
    return {
        "vision": VisionTower(
            hidden_size=v.int("hidden_size"),
            intermediate_size=v.int("intermediate_size"),
            num_layers=v.int("num_hidden_layers"),
            patch_size=v.int("patch_size"),
            image_size=v.int("image_size"),
            num_channels=v.int("num_channels", default=3),
            num_heads=v.int("num_attention_heads", default=16),
            tokens_per_image=outer.int("mm_tokens_per_image", default=256),
        )
    }


FAMILIES = (
    Family(("gemma",), ("gemma",), defaults={"tie_word_embeddings": True}),
    Family(
        ("gemma2",),
        ("gemma2",),
        defaults={"tie_word_embeddings": True},
        norms_per_layer=4,
        sliding_kinds=_alternating,
        gguf_sliding="alternate",
    ),
    Family(
        ("gemma3_text", "gemma3"),
        ("gemma3", "gemma3n"),
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
            "rope_local_base_freq": 10000.0,  # transformers' default: the sliding layers rotate on their own
        },
        qk_norm="per_head",
        norms_per_layer=4,
        sliding_kinds=every_nth_global,
        config_fields=_gemma3_vision,
        gguf_sliding="every",
    ),
)
