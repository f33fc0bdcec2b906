"""Falcon-H1 (families/falcon_h1.py): read from config.json and from llama.cpp's GGUF keys,
as transformers and llama.cpp count them."""

from tests.fixtures.families import architecture, hybrid_meta
from vramscope.core.architecture import LayerKind


def test_falcon_h1_runs_attention_and_mamba_side_by_side_in_every_layer() -> None:
    arch = architecture("synthetic/falcon-h1")
    assert {arch.layer_kind(i) for i in range(arch.num_layers)} == {LayerKind.PARALLEL}
    roles = {t.role for t in arch.tensors() if t.layer == 0}
    assert {"attn_q", "attn_k", "ssm_in", "ssm_conv1d", "ffn_up"} <= roles
    assert "ssm_norm" not in roles  # mamba_rms_norm false
    assert "24/24 layers attention + Mamba in parallel" in arch.attention_summary()


def test_a_falcon_h1_gguf_reads_as_its_config_does() -> None:
    """llama.cpp's falcon-h1 keys give attention heads and the Mamba-2 sizes; every layer has both, and the
    gated norm is there only when the file holds blk.N.ssm_norm (measured on llama.cpp: 64 of 64 runs exact)."""
    from vramscope.sources.gguf_file import architecture_from_gguf
    from vramscope.sources.presets import load_preset

    want = load_preset("falcon-h1-0.5b").architecture
    assert want.mamba is not None
    m = want.mamba
    meta = hybrid_meta("falcon-h1", want, [want.intermediate_size] * want.num_layers)
    got = architecture_from_gguf(meta, "falcon-h1", tied=False, names=frozenset({"blk.0.ssm_in.weight"}))
    assert got.parameter_count() == want.parameter_count() == 521_411_104
    assert got.layer_types == want.layer_types
    assert got.kv_elements_per_token_total() == want.kv_elements_per_token_total()
    assert got.state_elements_per_sequence(0) == want.state_elements_per_sequence(0) > 0
    normed = architecture_from_gguf(meta, "falcon-h1", tied=False, names=frozenset({"blk.0.ssm_norm.weight"}))
    assert normed.parameter_count() - got.parameter_count() == want.num_layers * m.heads * m.head_dim
