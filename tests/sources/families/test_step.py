"""Step-3.7-Flash (families/step.py): read from its config.json as transformers' Step3p7TextConfig reads it
(the exact counts are checked against transformers in test_all_families.py)."""

import json
from typing import Any

import pytest

from tests.fixtures.families import CONFIGS, architecture
from vramscope.core.architecture import LayerKind
from vramscope.sources.errors import ModelFileError
from vramscope.sources.hf_config import architecture_from_config


def config() -> dict[str, Any]:
    return json.loads((CONFIGS / "stepfun-ai__Step-3.7-Flash" / "config.json").read_text())


def test_step_gates_each_head_and_keeps_three_dense_layers() -> None:
    arch = architecture("stepfun-ai/Step-3.7-Flash")
    gate = next(t for t in arch.tensors() if t.role == "attn_gate" and t.layer == 0)
    assert gate.shape == (64, 4096)  # one gate value per query head (g_proj)
    assert arch.moe is not None and arch.moe.dense_layers == (0, 1, 2)
    assert arch.moe.shared_intermediate_size == 1280 and arch.moe.router_score_bias
    kinds = [arch.layer_kind(i) for i in range(arch.num_layers)]
    assert (kinds.count(LayerKind.FULL), kinds.count(LayerKind.SLIDING)) == (12, 33)


def test_hub_layer_lists_padded_with_the_mtp_layers_are_trimmed() -> None:
    doc = config()
    padded = {**doc, "layer_types": doc["layer_types"] + ["full_attention"] * 3}
    assert architecture_from_config(padded).layer_types == architecture_from_config(doc).layer_types
    with pytest.raises(ModelFileError, match="'layer_types' has 47 entries for 45 layers"):
        architecture_from_config({**doc, "layer_types": doc["layer_types"] + ["full_attention"] * 2})


def test_legacy_hub_names_and_an_elementwise_gate() -> None:
    doc = config()
    legacy = {k: v for k, v in doc.items() if k not in ("num_experts", "num_key_value_heads")}
    legacy |= {"moe_num_experts": 288, "num_attention_groups": 8, "moe_layers_enum": ",".join(map(str, range(3, 45)))}
    assert architecture_from_config(legacy).parameter_count() == architecture_from_config(doc).parameter_count()
    wide = architecture_from_config({**doc, "gating": "elementwise"})
    assert wide.head_gate_width == 128
    with pytest.raises(ModelFileError, match="'gating' must be"):
        architecture_from_config({**doc, "gating": "sometimes"})


@pytest.mark.parametrize("arch_name", ["step35", "minimax-m3"])
def test_a_gguf_of_a_family_whose_keys_are_not_read_is_refused_by_name(arch_name: str) -> None:
    from vramscope.sources.gguf_file import architecture_from_gguf

    with pytest.raises(ModelFileError, match=r"GGUF .* not read yet: open the model's config\.json folder"):
        architecture_from_gguf({f"{arch_name}.block_count": 45}, arch_name, tied=False)
