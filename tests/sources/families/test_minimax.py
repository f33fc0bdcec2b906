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
