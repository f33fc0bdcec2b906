"""Inputs a review found that once crashed or miscounted; each now gives the right number or one clear error."""

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.fixtures.model_files import hf_tensors, write_folder, write_safetensors
from tests.sources.test_hf_config import LLAMA_3_1_8B
from tests.sources.test_hf_folder import TINY, tiny_arch
from vramscope.core.estimate import estimate
from vramscope.core.scenario import Deployment, Workload
from vramscope.sources.errors import ModelFileError
from vramscope.sources.gguf_file import architecture_from_gguf, read_gguf
from vramscope.sources.hf_config import architecture_from_config, native_format
from vramscope.sources.hub import fetch_hub_model, is_hub_id
from vramscope.sources.resolve import open_path, resolve_model


def test_fp8_per_tensor_scales_split_across_gpus(tmp_path: Path) -> None:
    tensors: dict[str, tuple[str, list[int]]] = {}
    for name, (_, shape) in hf_tensors(tiny_arch()).items():
        tensors[name] = ("F8_E4M3" if "proj" in name else "BF16", shape)
        if "proj" in name:
            tensors[name.replace(".weight", ".weight_scale")] = ("F32", [])
    model = open_path(write_folder(tmp_path / "fp8", {**TINY, "quantization_config": {"quant_method": "fp8"}}, tensors))
    est = estimate(model, Workload(context=1024), Deployment(tensor_parallel=2))
    assert len(est.per_gpu) == 2 and est.weights_bytes > 0


@pytest.mark.parametrize("group", [-1, None, "128"])
def test_gptq_without_a_usable_group_size(group: object) -> None:
    config = {**LLAMA_3_1_8B, "quantization_config": {"quant_method": "gptq", "group_size": group}}
    assert native_format(config) == "gptq-int4"


def test_8_bit_gptq_unpacks_four_per_int32(tmp_path: Path) -> None:
    arch = tiny_arch()
    tensors: dict[str, tuple[str, list[int]]] = {}
    for name, (dtype, shape) in hf_tensors(arch).items():
        if "proj" in name:
            tensors[name.replace(".weight", ".qweight")] = ("I32", [shape[1] // 4, shape[0]])
        else:
            tensors[name] = (dtype, shape)
    config = {**TINY, "quantization_config": {"quant_method": "gptq", "bits": 8, "group_size": 128}}
    assert open_path(write_folder(tmp_path / "g8", config, tensors)).parameter_count() == arch.parameter_count()


def test_bitsandbytes_4bit_takes_the_matrix_shape_from_the_architecture(tmp_path: Path) -> None:
    arch = tiny_arch()
    tensors: dict[str, tuple[str, list[int]]] = {}
    for name, (dtype, shape) in hf_tensors(arch).items():
        if "proj" in name:
            tensors[name] = ("U8", [shape[0] * shape[1] // 2, 1])
            tensors[name + ".absmax"] = ("F32", [shape[0] * shape[1] // 64])
        else:
            tensors[name] = (dtype, shape)
    config = {**TINY, "quantization_config": {"quant_method": "bitsandbytes", "load_in_4bit": True}}
    model = open_path(write_folder(tmp_path / "bnb", config, tensors))
    assert model.parameter_count() == arch.parameter_count()
    one, two = (estimate(model, Workload(context=1024), Deployment(tensor_parallel=tp)) for tp in (1, 2))
    per_rank = two.per_gpu[0].segments[0].bytes
    assert one.weights_bytes / 2 < per_rank < one.weights_bytes  # split, with norms and KV replicated


def test_gpt2_conv1d_weights_split_like_the_architecture(tmp_path: Path) -> None:
    from vramscope.sources.presets import load_preset

    arch = load_preset("gpt2").architecture
    names = {
        "attn_qkv": "attn.c_attn",
        "attn_output": "attn.c_proj",
        "ffn_up": "mlp.c_fc",
        "ffn_down": "mlp.c_proj",
        "attn_norm": "ln_1",
        "ffn_norm": "ln_2",
    }
    tensors: dict[str, tuple[str, list[int]]] = {}
    for t in arch.tensors():
        if t.layer < 0:
            base = {"token_embd": "wte", "position_embd": "wpe", "output_norm": "ln_f"}[t.role]
            tensors[f"transformer.{base}.{t.name.rsplit('.', 1)[1]}"] = ("F32", list(t.shape))
            continue
        kind = t.name.rsplit(".", 1)[1]
        shape = list(reversed(t.shape)) if len(t.shape) == 2 else list(t.shape)  # Conv1D stores (in, out)
        tensors[f"transformer.h.{t.layer}.{names[t.role]}.{kind}"] = ("F32", shape)
    config = {
        "model_type": "gpt2",
        "n_embd": 768,
        "n_layer": 12,
        "n_head": 12,
        "vocab_size": 50257,
        "n_positions": 1024,
        "torch_dtype": "float32",
    }
    model = open_path(write_folder(tmp_path / "gpt2", config, tensors))
    assert model.parameter_count() == 124_439_808
    bare = model.model_copy(update={"inventory": None})
    for tp in (2, 4):
        two = Deployment(tensor_parallel=tp)
        assert estimate(model, Workload(), two).weights_bytes == estimate(bare, Workload(), two).weights_bytes


def test_extra_layers_beyond_the_count_are_split_too(tmp_path: Path) -> None:
    arch = tiny_arch()
    tensors = {**hf_tensors(arch), "model.layers.2.mlp.down_proj.weight": ("BF16", [256, 512])}  # an MTP-like layer
    model = open_path(write_folder(tmp_path / "mtp", TINY, tensors))
    one, eight = (estimate(model, Workload(), Deployment(tensor_parallel=tp)) for tp in (1, 8))
    assert eight.per_gpu[0].segments[0].bytes < one.per_gpu[0].segments[0].bytes / 4


@pytest.mark.parametrize(
    ("meta", "message"),
    [
        ({"block_count": 0, "embedding_length": 64, "attention.head_count": 4}, "not a real model"),
        ({"block_count": 2**31 - 1, "embedding_length": 64, "attention.head_count": 4}, "not a real model"),
        ({"block_count": 2, "embedding_length": 64, "attention.head_count": 4, "context_length": "long"}, "malformed"),
        (
            {"block_count": 2, "embedding_length": 64, "attention.head_count": 4, "attention.key_length": "x"},
            "malformed",
        ),
        (
            {
                "block_count": 2,
                "embedding_length": 64,
                "attention.head_count": 4,
                "expert_count": 2,
                "expert_used_count": 4,
            },
            "impossible model",
        ),
        (
            {
                "block_count": 2,
                "embedding_length": 0,
                "attention.head_count": 4,
                "ssm.state_size": 16,
                "attention.head_count_kv": [0, 0],
            },
            "impossible|malformed",
        ),
        ({"block_count": 2}, "lacks"),
    ],
)
def test_malformed_gguf_metadata(meta: dict[str, Any], message: str) -> None:
    with pytest.raises(ModelFileError, match=message):
        architecture_from_gguf({f"llama.{k}": v for k, v in meta.items()}, "llama", tied=True)


def test_split_name_with_zero_parts(tmp_path: Path) -> None:
    path = tmp_path / "m-00001-of-00000.gguf"
    path.write_bytes(b"GGUF" + bytes(64))
    with pytest.raises(ModelFileError, match="split-file name"):
        read_gguf(path)


@pytest.mark.parametrize("repo", ["org/a--b", "org/x.git", "org/x.", "../x/y"])
def test_invalid_hub_ids(repo: str) -> None:
    assert not is_hub_id(repo)
    with pytest.raises(ModelFileError, match="Hub id"):
        fetch_hub_model(repo, endpoint="http://127.0.0.1:9")


def test_unwritable_cache_still_answers(tmp_path: Path) -> None:
    from tests.fixtures.fake_hub import fake_hub

    repo = tmp_path / "hub" / "acme" / "tiny"
    repo.mkdir(parents=True)
    (repo / "config.json").write_text(json.dumps(TINY))
    write_safetensors(repo / "model.safetensors", hf_tensors(tiny_arch()))
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "headers").write_text("a file where the cache wants a folder")
    with fake_hub(tmp_path / "hub") as hub:
        model = fetch_hub_model("acme/tiny", endpoint=hub.endpoint, cache=cache)
    assert model.parameter_count() == tiny_arch().parameter_count()


@pytest.mark.parametrize(
    ("key", "value"),
    [("hidden_size", float("nan")), ("hidden_size", float("inf")), ("mlp_only_layers", 5), ("mlp_only_layers", ["a"])],
)
def test_non_finite_and_mistyped_config_values(key: str, value: object) -> None:
    config = {**LLAMA_3_1_8B, key: value}
    if key == "mlp_only_layers":
        config.update(num_experts=4, num_experts_per_tok=2, model_type="qwen3_moe")
    with pytest.raises(ModelFileError, match=key):
        architecture_from_config(config)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)
KEYS = [
    "model_type",
    "hidden_size",
    "num_hidden_layers",
    "num_attention_heads",
    "num_key_value_heads",
    "head_dim",
    "intermediate_size",
    "vocab_size",
    "max_position_embeddings",
    "num_local_experts",
    "num_experts_per_tok",
    "moe_intermediate_size",
    "n_shared_experts",
    "first_k_dense_replace",
    "kv_lora_rank",
    "q_lora_rank",
    "qk_nope_head_dim",
    "qk_rope_head_dim",
    "v_head_dim",
    "sliding_window",
    "layer_types",
    "mlp_only_layers",
    "text_config",
    "vision_config",
    "quantization_config",
    "tie_word_embeddings",
    "mamba_d_state",
    "attn_layer_period",
    "decoder_sparse_step",
]


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.sampled_from(KEYS), JSON_VALUES, max_size=8))
def test_fuzz_config_values(changes: dict[str, Any]) -> None:
    config = {**LLAMA_3_1_8B, **changes}
    try:
        architecture_from_config(config)
        native_format(config)
    except ModelFileError:
        pass


def test_tilde_user_that_does_not_exist() -> None:
    with pytest.raises(ModelFileError, match="no such file or folder"):
        resolve_model("~nosuchuser-vramscope/model")


def test_probe_survives_broken_fallbacks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.fixtures.fake_nvml import make_fake_pynvml
    from vramscope.hardware.probe import probe

    class BrokenPsutil:
        @staticmethod
        def virtual_memory() -> None:
            raise PermissionError("no /proc here")

    monkeypatch.setitem(sys.modules, "pynvml", make_fake_pynvml([], init_error="LibraryNotFound"))
    monkeypatch.setitem(sys.modules, "psutil", BrokenPsutil)
    card = tmp_path / "class" / "drm" / "card0" / "device"
    (card / "product_name").mkdir(parents=True)  # a directory where a file should be
    (card / "vendor").write_text("0x1002\n")
    (card / "mem_info_vram_total").write_text("1024\n")
    (card / "mem_info_vram_used").write_text("0\n")
    snapshot = probe(sysfs=tmp_path, meminfo=tmp_path / "no-meminfo")
    assert snapshot.devices and snapshot.devices[0].name.startswith("AMD GPU")
