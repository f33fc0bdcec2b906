"""Kimi Linear / Kimi K3 (families/kimi_linear.py): refused by name until Kimi Delta Attention is modelled."""

import pytest

from vramscope.sources.errors import ModelFileError
from vramscope.sources.hf_config import architecture_from_config


@pytest.mark.parametrize("model_type", ["kimi_linear", "kimi_k3"])
def test_kimi_delta_attention_is_refused_by_name(model_type: str) -> None:
    with pytest.raises(ModelFileError, match=r"Kimi Delta Attention .* not modelled yet"):
        architecture_from_config({"model_type": model_type, "hidden_size": 2304, "num_hidden_layers": 27})
