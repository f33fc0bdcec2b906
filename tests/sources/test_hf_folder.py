"""Model folders written by the test: exact bytes and true parameter counts, quantized ones included."""

from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.model_files import hf_tensors, write_folder, write_safetensors
from tests.sources.test_hf_config import LLAMA_3_1_8B
from vramscope.core.architecture import Architecture
from vramscope.core.estimate import Provenance, SegmentKind, estimate
from vramscope.core.scenario import Deployment, Workload
from vramscope.sources.errors import ModelFileError
from vramscope.sources.hf_config import architecture_from_config
from vramscope.sources.resolve import open_path

TINY: dict[str, Any] = {
    "model_type": "llama",
    "hidden_size": 256,
    "intermediate_size": 512,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "vocab_size": 1000,
    "max_position_embeddings": 4096,
    "torch_dtype": "bfloat16",
}


def tiny_arch() -> Architecture:
    return architecture_from_config(TINY)


@pytest.mark.parametrize("shards", [1, 4])
def test_bf16_folder_is_exact(tmp_path: Path, shards: int) -> None:
    arch = tiny_arch()
    model = open_path(write_folder(tmp_path / "tiny", TINY, hf_tensors(arch), shards=shards))
    assert model.inventory is not None
    assert model.parameter_count() == arch.parameter_count()
    assert model.inventory.describe() == f"21 tensors from {shards} safetensors file{'s' if shards > 1 else ''}"
    est = estimate(model, Workload(context=1024), Deployment())
    weights = est.per_gpu[0].segment(SegmentKind.WEIGHTS)
    assert weights.bytes == 2 * arch.parameter_count()
    assert weights.provenance is Provenance.EXACT and weights.note.startswith("exact: 21 tensors")


def test_what_if_formats_are_priced_from_the_files_tensors(tmp_path: Path) -> None:
    arch = tiny_arch()
    model = open_path(write_folder(tmp_path / "tiny", TINY, hf_tensors(arch)))
    preset_like = model.model_copy(update={"inventory": None})
    for fmt in ("q4_k_m", "awq-int4", "fp8", "nf4"):
        from_file = estimate(model, Workload(context=1024, weight_format=fmt), Deployment())
        from_arch = estimate(preset_like, Workload(context=1024, weight_format=fmt), Deployment())
        assert from_file.weights_bytes == from_arch.weights_bytes
        assert from_file.per_gpu[0].segment(SegmentKind.WEIGHTS).provenance is Provenance.FORMULA
    split = estimate(model, Workload(context=1024), Deployment(tensor_parallel=2))
    assert (
        split.weights_bytes
        == estimate(preset_like, Workload(context=1024), Deployment(tensor_parallel=2)).weights_bytes
    )


def test_fp8_checkpoint_scales_are_not_parameters(tmp_path: Path) -> None:
    arch = tiny_arch()
    tensors: dict[str, tuple[str, list[int]]] = {}
    for name, (_, shape) in hf_tensors(arch).items():
        linear = "proj" in name
        tensors[name] = ("F8_E4M3" if linear else "BF16", shape)
        if linear:
            tensors[name.replace(".weight", ".weight_scale")] = ("BF16", [shape[0], 1])
    config = {**TINY, "quantization_config": {"quant_method": "fp8"}}
    model = open_path(write_folder(tmp_path / "fp8", config, tensors))
    assert model.native_format == "fp8"
    assert model.parameter_count() == arch.parameter_count()
    est = estimate(model, Workload(context=1024), Deployment())
    assert est.weights_bytes == model.inventory.stored_bytes()  # type: ignore[union-attr]


def test_awq_packed_weights_recover_the_true_count(tmp_path: Path) -> None:
    arch = tiny_arch()
    tensors: dict[str, tuple[str, list[int]]] = {}
    for name, (dtype, shape) in hf_tensors(arch).items():
        if "proj" in name:
            out_f, in_f = shape
            stem = name.removesuffix(".weight")
            tensors[f"{stem}.qweight"] = ("I32", [in_f, out_f // 8])
            tensors[f"{stem}.qzeros"] = ("I32", [in_f // 128, out_f // 8])
            tensors[f"{stem}.scales"] = ("F16", [in_f // 128, out_f])
        else:
            tensors[name] = (dtype, shape)
    config = {**TINY, "quantization_config": {"quant_method": "awq", "bits": 4, "group_size": 128}}
    model = open_path(write_folder(tmp_path / "awq", config, tensors))
    assert model.native_format == "awq-int4"
    assert model.parameter_count() == arch.parameter_count()
    # the AWQ layout priced from the architecture is what the checkpoint stores
    from_arch = estimate(model.model_copy(update={"inventory": None}), Workload(context=1024), Deployment())
    assert estimate(model, Workload(context=1024), Deployment()).weights_bytes == from_arch.weights_bytes


def test_mxfp4_blocks_unpack(tmp_path: Path) -> None:
    tensors = {
        "model.embed_tokens.weight": ("BF16", [1000, 256]),
        "model.layers.0.mlp.experts.gate_up_proj_blocks": ("U8", [4, 1024, 8, 16]),
        "model.layers.0.mlp.experts.gate_up_proj_scales": ("U8", [4, 1024, 8]),
    }
    model = open_path(write_folder(tmp_path / "oss", {**TINY, "num_hidden_layers": 1}, tensors))
    assert model.parameter_count() == 1000 * 256 + 4 * 1024 * 256


def test_vision_tower_counted_from_the_tensors(tmp_path: Path) -> None:
    arch = tiny_arch()
    tensors = {**hf_tensors(arch), "vision_tower.encoder.layers.0.mlp.fc1.weight": ("BF16", [64, 32])}
    model = open_path(write_folder(tmp_path / "vlm", TINY, tensors))
    assert model.parameter_count() == arch.parameter_count() + 64 * 32


def test_pickle_only_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "old"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    (folder / "pytorch_model.bin").write_bytes(b"\x80\x04not really")
    with pytest.raises(ModelFileError, match="PyTorch pickle checkpoints are not read"):
        open_path(folder)
    with pytest.raises(ModelFileError, match="PyTorch pickle checkpoints are not read"):
        open_path(folder / "pytorch_model.bin")


def test_safetensors_without_config(tmp_path: Path) -> None:
    write_safetensors(tmp_path / "model.safetensors", {"a.weight": ("BF16", [2, 2])})
    with pytest.raises(ModelFileError, match=r"no config\.json"):
        open_path(tmp_path)


def test_config_only_folder_still_estimates(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(__import__("json").dumps(LLAMA_3_1_8B))
    model = open_path(tmp_path)
    assert model.inventory is None and model.parameter_count() == 8_030_261_248


def test_a_tower_the_core_does_not_build_is_named_as_left_out() -> None:
    from vramscope.core.scenario import Source
    from vramscope.sources.hf_folder import spec_from_config

    base = {
        "model_type": "mistral3",
        "text_config": {
            "model_type": "mistral",
            "hidden_size": 64,
            "intermediate_size": 128,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "num_key_value_heads": 2,
            "vocab_size": 100,
        },
    }
    plain = spec_from_config(base, "m", Source.CONFIG, "config.json")
    assert plain.source_detail == "config.json"
    pixtral = spec_from_config({**base, "vision_config": {"model_type": "pixtral"}}, "m", Source.CONFIG, "config.json")
    assert pixtral.source_detail == "config.json; the vision encoder in config.json is not counted"
    assert pixtral.parameter_count() == plain.parameter_count()


def test_a_folder_missing_most_of_its_weights_is_not_called_exact(tmp_path: Path) -> None:
    tensors = hf_tensors(tiny_arch())
    few = dict(list(tensors.items())[:2])  # the embeddings and one norm: a shard or more missing
    with pytest.raises(ModelFileError, match=r"under half of the .* config.json describes"):
        open_path(write_folder(tmp_path / "tiny", TINY, few))


def test_a_tensor_in_two_shards_is_refused(tmp_path: Path) -> None:
    tensors = hf_tensors(tiny_arch())
    folder = write_folder(tmp_path / "tiny", TINY, tensors, shards=2)
    first = sorted(folder.glob("model-*.safetensors"))[0]
    name = next(iter(tensors))
    write_safetensors(folder / "model-00002-of-00002.safetensors", tensors)  # the second shard holds all of them
    with pytest.raises(ModelFileError, match=f"'{name}' is stored in both"):
        open_path(folder)
    assert first.exists()


def test_mistrals_own_files_beside_transformers_are_noted_and_not_counted_twice(tmp_path: Path) -> None:
    # Mistral's repositories ship consolidated.safetensors and params.json beside transformers' shards:
    # the same weights twice on disk, one set in memory; vLLM 0.12+ loads Mistral's own (mistral_format)
    arch = tiny_arch()
    folder = write_folder(tmp_path / "tiny", TINY, hf_tensors(arch))
    plain = open_path(folder)
    assert not plain.mistral_format
    write_safetensors(folder / "consolidated.safetensors", hf_tensors(arch))
    (folder / "params.json").write_text("{}")
    both = open_path(folder)
    assert both.mistral_format
    assert both.parameter_count() == plain.parameter_count() == arch.parameter_count()
    assert both.inventory is not None and both.inventory.describe() == "21 tensors from 1 safetensors file"
