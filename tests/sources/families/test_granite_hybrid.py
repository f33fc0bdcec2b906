"""Granite 4 hybrid (families/granite_hybrid.py): read from config.json and from llama.cpp's GGUF keys,
as transformers and llama.cpp count them."""

from tests.fixtures.families import architecture
from vramscope.core.architecture import LayerKind


def test_granite4_dense_has_the_shared_mlp_alone_and_moe_adds_experts() -> None:
    dense, moe = architecture("synthetic/granite-4-h-dense"), architecture("synthetic/granite-4-h-moe")
    assert dense.moe is None and dense.intermediate_size == 8192
    assert moe.moe is not None and moe.moe.shared_intermediate_size == 1024
    assert [i for i in range(moe.num_layers) if moe.layer_kind(i) is LayerKind.FULL] == [5, 15, 25, 35]
