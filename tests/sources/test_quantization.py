"""A checkpoint's quantization_config read as the format its weights are stored in, for the real configs of
tests/fixtures/configs, and the bytes each stored layout holds (the tensors the checkpoints' formats write:
compressed-tensors, ModelOpt, DeepSeek's fp8 blocks with fp4 experts)."""

import json
from typing import Any

import pytest

from tests.fixtures.families import CONFIGS
from vramscope.core.architecture import Group, Split, Tensor
from vramscope.core.precision import TensorContext, tensor_bytes, weight_format, weight_layout
from vramscope.sources.errors import ModelFileError
from vramscope.sources.hf_config import architecture_from_config, native_format
from vramscope.sources.presets import load_preset
from vramscope.sources.quantization import module_scope

CTX = TensorContext(61, 384, 1)


def _config(model_id: str) -> dict[str, Any]:
    return json.loads((CONFIGS / model_id.replace("/", "__") / "config.json").read_text())


@pytest.mark.parametrize(
    ("model_id", "expected"),
    [
        ("deepseek-ai/DeepSeek-V3.2", "fp8-block"),
        ("moonshotai/Kimi-K2-Instruct", "fp8-block"),
        ("MiniMaxAI/MiniMax-M2.5", "fp8-block"),
        ("XiaomiMiMo/MiMo-V2-Flash", "fp8-block"),
        ("deepseek-ai/DeepSeek-V4-Flash", "fp8-block+mxfp4@experts"),  # expert_dtype "fp4"
        # pack-quantized int4 g32 over every Linear but self_attn, shared_experts and the dense MLPs
        ("moonshotai/Kimi-K2.5", "int4-g32@experts"),
        # ModelOpt NVFP4 with every layer's self_attn excluded
        ("nvidia/Gemma-4-31B-IT-NVFP4", "nvfp4@dense"),
        # MIXED_PRECISION: quantized_layers per module
        ("nvidia/MiniMax-M3-NVFP4", "mxfp8+nvfp4@experts"),
        ("nvidia/Qwen3.6-27B-NVFP4", "fp8+nvfp4@dense+nvfp4@head"),
        ("nvidia/Qwen3.6-35B-A3B-NVFP4", "fp8+nvfp4@ffn+nvfp4@head"),
    ],
)
def test_the_checkpoints_own_format(model_id: str, expected: str) -> None:
    config = _config(model_id)
    assert native_format(config, architecture_from_config(config)) == expected


@pytest.mark.parametrize("preset", ["deepseek-v3.2", "kimi-k2", "kimi-k2.5", "minimax-m2.5", "mimo-v2-flash"])
def test_presets_carry_their_checkpoints_format(preset: str) -> None:
    model = load_preset(preset)
    config = _config(model.hf_id or "")
    assert model.native_format == native_format(config, model.architecture) != "bf16"


def _matrix(out: int, inp: int, group: Group = Group.EXPERT, experts: int = 1) -> Tensor:
    shape = (experts, out, inp) if group is Group.EXPERT else (out, inp)
    return Tensor("w", "ffn_up_exps" if group is Group.EXPERT else "ffn_up", 3, shape, Split.COLUMN, group)


def test_int4_pack_quantized_bytes() -> None:
    # weight_packed int32 [out, in/8], weight_scale bf16 [out, in/32], weight_shape int64 [2]
    gate = _matrix(2048, 7168)
    assert tensor_bytes(weight_format("int4-g32"), gate, CTX) == 2048 * 896 * 4 + 2048 * 224 * 2 + 16
    down = _matrix(7168, 2048)
    # Kimi-K2.5's routed expert: 24,772,656 B for gate, up and down
    assert (
        2 * tensor_bytes(weight_format("int4-g32"), gate, CTX) + tensor_bytes(weight_format("int4-g32"), down, CTX)
        == 24_772_656
    )


def test_nvfp4_and_mxfp8_bytes() -> None:
    t = _matrix(4096, 4096, Group.LINEAR)
    # packed e2m1 [out, in/2], e4m3 scale [out, in/16], weight and input fp32 scalars
    assert tensor_bytes(weight_format("nvfp4"), t, CTX) == 4096 * 2048 + 4096 * 256 + 8
    assert tensor_bytes(weight_format("mxfp8"), t, CTX) == 4096 * 4096 + 4096 * 128  # e8m0 per 32
    stack = _matrix(4096, 4096, experts=8)
    assert tensor_bytes(weight_format("nvfp4"), stack, CTX) == 8 * (4096 * 2048 + 4096 * 256 + 8)


def test_a_mix_prices_each_scope_by_its_part() -> None:
    mix = weight_format("int4-g32@experts")
    attention = Tensor("q", "attn_q", 3, (4096, 4096), Split.COLUMN, Group.LINEAR)
    assert tensor_bytes(mix, attention, CTX) == 4096 * 4096 * 2  # kept at 16 bits
    expert = _matrix(2048, 7168)
    assert tensor_bytes(mix, expert, CTX) == tensor_bytes(weight_format("int4-g32"), expert, CTX)
    head = Tensor("lm_head", "output", -1, (1000, 4096), Split.VOCAB, Group.HEAD)
    assert tensor_bytes(weight_format("fp8+nvfp4@head"), head, CTX) == 1000 * 2048 + 1000 * 256 + 8
    assert tensor_bytes(weight_format("fp8"), head, CTX) == 1000 * 4096 * 2  # a plain scheme leaves the head


def test_kimi_k25_is_priced_as_its_checkpoint_not_as_bf16() -> None:
    model = load_preset("kimi-k2.5")
    own = weight_layout(model.architecture, weight_format(model.native_format), 1)
    assert sum(own.expert_per_layer) == 60 * 384 * 24_772_656  # 60 MoE layers of 384 int4 experts
    tp8 = weight_layout(model.architecture, weight_format(model.native_format), 8)
    bf16 = weight_layout(model.architecture, weight_format("bf16"), 8)
    per_rank = sum(tp8.per_layer) + tp8.first_stage + tp8.last_stage
    assert per_rank < 0.3 * (sum(bf16.per_layer) + bf16.first_stage + bf16.last_stage)  # 240 GiB as bf16


@pytest.mark.parametrize(
    ("name", "scope"),
    [
        ("model.layers.3.self_attn*", "attn"),
        ("re:.*mlp\\.(gate|up|gate_up|down)_proj.*", "dense"),
        ("model.layers.5.mlp.experts", "experts"),
        ("model.layers.5.mlp.shared_expert.down_proj", "shexp"),
        ("model.language_model.layers.0.linear_attn.in_proj_qkv", "mixer"),
        ("backbone.layers.1.mixer.q_proj", "attn"),  # Nemotron-H names every block "mixer"
        ("backbone.layers.0.mixer.in_proj", "mixer"),
        ("language_model.model.layers.10.block_sparse_moe.gate", ""),  # a router
        ("lm_head", "head"),
        ("model.vision_tower*", ""),
    ],
)
def test_module_names_to_scopes(name: str, scope: str) -> None:
    assert module_scope(name) == scope


@pytest.mark.parametrize(
    "quant",
    [
        {"quant_method": "hqq"},
        {"quant_method": "modelopt", "quant_algo": "W4A8_AWQ"},
        {"quant_method": "compressed-tensors", "config_groups": {"g": {"targets": ["Linear"], "weights": {
            "num_bits": 4, "type": "int", "symmetric": False, "group_size": 128, "strategy": "group"}}}},
        {"quant_method": "compressed-tensors", "config_groups": {"g": {"targets": ["Linear"], "weights": {
            "num_bits": 2, "type": "int", "group_size": 128}}}},
    ],
)  # fmt: skip
def test_what_is_not_modelled_is_refused_by_name(quant: dict[str, Any]) -> None:
    with pytest.raises(ModelFileError, match=r"quantization_config .*cannot be priced"):
        native_format({"quantization_config": quant})


def test_autoround_and_compressed_tensors_fp8() -> None:
    assert native_format({"quantization_config": {"quant_method": "auto-round", "bits": 4, "group_size": 128}}) == (
        "gptq-int4"
    )
    fp8 = {"quant_method": "compressed-tensors", "config_groups": {"g": {"targets": ["Linear"], "weights": {
        "num_bits": 8, "type": "float", "strategy": "channel"}}}, "ignore": ["lm_head"]}  # fmt: skip
    assert native_format({"quantization_config": fp8}) == "fp8"
