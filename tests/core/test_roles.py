"""One table of tensor roles: an architecture's own tensor list and a checkpoint's tensor names are placed
alike (split across GPUs, priced by the same precision rule)."""

import pytest

from vramscope.core.roles import Group, Split
from vramscope.sources.presets import all_presets
from vramscope.sources.tensor_names import classify


@pytest.mark.parametrize("spec", all_presets(), ids=lambda s: s.family + ":" + s.name)
def test_every_preset_tensor_is_placed_as_its_file_name_would_be(spec) -> None:  # type: ignore[no-untyped-def]
    for t in spec.architecture.tensors():
        if t.group is Group.VISION:
            continue
        read = classify(t.name, t.shape)
        assert (read.role, read.split, read.group) == (t.role, t.split, t.group), t.name


@pytest.mark.parametrize(
    ("name", "shape", "role", "split", "group"),
    [
        ("model.layers.3.self_attn.indexer.wk.weight", (128, 7168), "indexer_k", Split.REPLICATED, Group.LINEAR),
        ("model.layers.3.self_attn.indexer.wq_b.weight", (8192, 1536), "indexer_q", Split.REPLICATED, Group.LINEAR),
        ("model.layers.3.self_attn.k_proj.weight", (1024, 4096), "attn_k", Split.KV, Group.LINEAR),
        ("model.layers.0.mlp.experts.gate_up_proj_bias", (32, 5760), "ffn_up_exps", Split.COLUMN, Group.BIAS),
        ("model.layers.0.mlp.experts.down_proj_bias", (32, 2880), "ffn_down_exps", Split.REPLICATED, Group.BIAS),
        ("model.layers.0.mlp.experts.down_proj", (32, 2880, 2880), "ffn_down_exps", Split.ROW, Group.EXPERT),
        ("model.layers.5.mlp.gate.e_score_correction_bias", (256,), "exp_probs_b", Split.REPLICATED, Group.BUFFER),
        (
            "model.layers.1.mlp.shared_expert_gate.weight",
            (1, 2048),
            "ffn_gate_inp_shexp",
            Split.REPLICATED,
            Group.ROUTER,
        ),
        ("model.layers.1.mlp.shared_expert.down_proj.weight", (2048, 512), "ffn_down_shexp", Split.ROW, Group.LINEAR),
        ("model.layers.2.mixer.A_log", (128,), "ssm_a", Split.COLUMN, Group.STATE),
        ("model.layers.2.mixer.conv1d.bias", (10240,), "ssm_conv1d", Split.COLUMN, Group.BIAS),
        ("model.layers.2.self_attn.q_norm.weight", (128,), "q_norm", Split.REPLICATED, Group.NORM),
        ("blk.7.ffn_gate_inp_shexp.weight", (2048, 1), "ffn_gate_inp_shexp", Split.REPLICATED, Group.ROUTER),
        ("blk.7.exp_probs_b.bias", (256,), "exp_probs_b", Split.REPLICATED, Group.BUFFER),
    ],
)
def test_checkpoint_names_take_their_place_from_the_table(
    name: str, shape: tuple[int, ...], role: str, split: Split, group: Group
) -> None:
    t = classify(name, shape)
    assert (t.role, t.split, t.group) == (role, split, group)
