"""MiniMax-M2.x (families/minimax.py)."""

import json

import pytest

from tests.fixtures.families import CONFIGS
from vramscope.sources.errors import ModelFileError
from vramscope.sources.hf_config import architecture_from_config


def test_minimax_m2_attends_fully_in_every_layer_or_is_refused() -> None:
    config = json.loads((CONFIGS / "MiniMaxAI__MiniMax-M2.7" / "config.json").read_text())
    assert architecture_from_config(config).qk_norm == "full"
    lightning = {**config, "attn_type_list": [0, *config["attn_type_list"][1:]]}
    with pytest.raises(ModelFileError, match="lightning-attention layers are not read yet"):
        architecture_from_config(lightning)


def test_minimax_m3_indexes_57_layers_and_caches_their_key() -> None:
    """MiniMax-M3 (families/minimax_m3.py): the first three layers attend densely with dense MLPs of 12,288;
    the other 57 run an indexer whose 128-wide key is cached beside K and V (measured by transformers:
    137,472 B per token at bf16)."""
    from tests.fixtures.families import architecture

    arch = architecture("MiniMaxAI/MiniMax-M3")
    assert arch.indexer is not None and arch.indexer.skip_layers == (0, 1, 2)
    assert arch.kv_elements_per_token(3) - arch.kv_elements_per_token(0) == 128
    assert arch.moe is not None and arch.moe.dense_layers == (0, 1, 2) and arch.ffn_width(0) == 12288
    assert {"indexer_q", "indexer_k_norm"} <= {t.role for t in arch.tensors() if t.layer == 3}
    assert 2 * arch.kv_elements_per_token_total() == 137_472


def test_minimax_m3_with_an_output_gate_is_refused_by_name() -> None:
    config = json.loads((CONFIGS / "MiniMaxAI__MiniMax-M3" / "config.json").read_text())
    with pytest.raises(ModelFileError, match="output gate is not read yet"):
        architecture_from_config({**config, "attention_output_gate": True})
