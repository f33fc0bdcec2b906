"""MiMo-V2 (families/mimo.py): read from config.json and from llama.cpp's GGUF keys,
as transformers and llama.cpp count them."""

from tests.fixtures.families import architecture, gguf_meta
from vramscope.core.architecture import LayerKind


def test_a_mimo2_gguf_gives_each_layer_kind_its_own_heads() -> None:
    """MiMo-V2 in llama.cpp's keys: per-layer K/V heads (8 on sliding layers, 4 on global ones), keys of 192 and
    values of 128 in both kinds (key_length / value_length and their _swa twins; measured: 64 of 64 runs exact)."""
    from vramscope.sources.gguf_file import architecture_from_gguf

    want = architecture("XiaomiMiMo/MiMo-V2-Flash")
    kinds = [want.layer_kind(i) for i in range(want.num_layers)]
    meta = gguf_meta(
        "mimo2",
        want,
        {
            "feed_forward_length": want.intermediate_size,
            "attention.head_count_kv": [want.kv_heads(i) for i in range(want.num_layers)],
            "attention.key_length": 192,
            "attention.value_length": 128,
            "attention.key_length_swa": 192,
            "attention.value_length_swa": 128,
            "attention.sliding_window": want.sliding_window,
            "attention.sliding_window_pattern": [k is LayerKind.SLIDING for k in kinds],
        },
    )
    got = architecture_from_gguf(meta, "mimo2", tied=False)
    assert [got.kv_elements_per_token(i) for i in range(got.num_layers)] == [
        want.kv_elements_per_token(i) for i in range(want.num_layers)
    ]
    assert got.kv_elements_per_token(kinds.index(LayerKind.SLIDING)) == 8 * (192 + 128)
