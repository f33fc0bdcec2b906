"""Gemma 4 (families/gemma4.py): read from config.json and from llama.cpp's GGUF keys,
as transformers and llama.cpp count them."""

import json

import pytest

from tests.fixtures.families import CONFIGS, architecture, gemma4_meta
from vramscope.core.architecture import LayerKind
from vramscope.sources.errors import ModelFileError
from vramscope.sources.hf_config import architecture_from_config


def test_gemma4_global_layers_have_their_own_heads_and_no_value_projection() -> None:
    arch = architecture("google/gemma-4-26B-A4B")
    sliding, full = 0, 5  # five sliding layers, then a global one
    assert (arch.kv_heads(sliding), arch.head_dims(sliding)) == (8, (256, 256))
    assert (arch.kv_heads(full), arch.head_dims(full)) == (2, (512, 512))
    roles = {t.role for t in arch.tensors() if t.layer == full}
    assert "attn_v" not in roles and "attn_k" in roles  # the key doubles as the value; both are cached
    assert {"ffn_gate_shexp", "ffn_gate_exps", "ffn_gate_inp_scale", "post_ffw_norm_2"} <= roles


def test_gemma4_small_layers_reuse_the_cache_and_widen_their_mlp() -> None:
    arch = architecture("synthetic/gemma4-ple-shared")  # 35 layers, the last 20 share, double-wide MLP
    first_shared = 15
    assert not arch.shares_kv(first_shared - 1) and arch.shares_kv(first_shared)
    assert arch.kv_elements_per_token(first_shared) == 0 < arch.kv_elements_per_token(first_shared - 1)
    roles = {t.role for t in arch.tensors() if t.layer == first_shared}
    assert "attn_q" in roles and not {"attn_k", "attn_v", "attn_k_norm"} & roles
    assert (arch.ffn_width(first_shared - 1), arch.ffn_width(first_shared)) == (6144, 12288)
    table = next(t for t in arch.tensors() if t.role == "per_layer_token_embd")
    assert table.shape == (262_144, 35 * 256)  # one row per token holds every layer's input
    assert "20/35 layers reuse an earlier layer's cache" in arch.attention_summary()


def test_gemma4_per_layer_embeddings_default_on_and_off_only_when_the_config_says() -> None:
    config = json.loads((CONFIGS / "google__gemma-4-26B-A4B" / "config.json").read_text())
    assert architecture_from_config(config).per_layer_input == 0  # 0 in the file
    del config["text_config"]["hidden_size_per_layer_input"]
    assert architecture_from_config(config).per_layer_input == 256  # transformers' default
    config["text_config"]["hidden_size_per_layer_input"] = None
    assert architecture_from_config(config).per_layer_input == 0


def test_an_assistant_gemma4_whose_every_layer_shares_is_refused_with_the_reason() -> None:
    config = json.loads((CONFIGS / "google__gemma-4-26B-A4B" / "config.json").read_text())
    config["text_config"]["num_kv_shared_layers"] = config["text_config"]["num_hidden_layers"]
    with pytest.raises(ModelFileError, match="assistant model"):
        architecture_from_config(config)


@pytest.mark.parametrize("source", ["gemma-4-26b-a4b", "gemma-4-31b", "synthetic/gemma4-ple-shared"])
def test_a_gemma4_gguf_reads_as_its_config_does(source: str) -> None:
    """Per-kind head sizes and K/V heads, shared-cache layers, per-layer embeddings and widths, and the
    global layers' missing V projection (seen in the tensor names): measured on llama.cpp, 128 of 128 runs exact."""
    from vramscope.sources.gguf_file import architecture_from_gguf
    from vramscope.sources.presets import load_preset

    want = architecture(source) if source.startswith("synthetic/") else load_preset(source).architecture
    want = want.model_copy(update={"vision": None})  # the encoder ships in its own mmproj file
    assert want.full_attention is not None
    full = want.layer_types.index(LayerKind.FULL)
    names = {f"blk.{i}.attn_k.weight" for i in range(want.num_layers)}
    names |= {f"blk.{i}.attn_v.weight" for i in range(want.num_layers) if i != full or not want.full_attention.k_eq_v}
    got = architecture_from_gguf(gemma4_meta(want), "gemma4", tied=True, names=frozenset(names))
    assert got.parameter_count() == want.parameter_count()
    assert got.active_parameter_count() == want.active_parameter_count()
    assert got.kv_elements_per_token_total() == want.kv_elements_per_token_total()
    assert [got.kv_elements_per_token(i) for i in range(got.num_layers)] == [
        want.kv_elements_per_token(i) for i in range(want.num_layers)
    ]
