"""Qwen 2 / 2.5 / 3 and Qwen-VL (families/qwen.py)."""

import json

from tests.fixtures.families import CONFIGS
from vramscope.sources.hf_config import architecture_from_config


def test_a_language_model_only_checkpoint_has_no_vision_encoder() -> None:
    config = json.loads((CONFIGS / "nvidia__Qwen3.6-27B-NVFP4" / "config.json").read_text())
    assert architecture_from_config(config).vision is not None
    assert architecture_from_config({**config, "language_model_only": True}).vision is None
