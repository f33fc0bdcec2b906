"""The vision encoder of a multimodal model: its peak at its image size, per engine."""

from vramscope.core.architecture import Group
from vramscope.core.estimate import SegmentKind, estimate
from vramscope.core.scenario import Deployment, Engine, EngineSettings, GpuSpec, Workload
from vramscope.core.units import GIB
from vramscope.sources.presets import load_preset

GPU = GpuSpec(name="NVIDIA H100 80GB HBM3", capacity_bytes=80 * GIB, total_bytes=80 * GIB)


def test_gemma_3_encoder_peak_per_image() -> None:
    vision = load_preset("gemma-3-27b").architecture.vision
    assert vision is not None
    assert vision.patches == 4096  # 896 / 14 squared
    assert vision.image_tokens == 256  # mm_tokens_per_image
    per_layer = 4096 * (4 * 1152 + 2 * 4304) * 2 + 16 * 4096 * 4096 * 2
    assert vision.encoder_peak_bytes(3) == 3 * per_layer


def test_llama_cpp_loads_the_projector_only_for_images() -> None:
    model = load_preset("gemma-3-4b")
    deployment = Deployment(gpus=(GPU,), engine=Engine.LLAMACPP)
    text = estimate(model, Workload(context=8192), deployment)
    images = estimate(model, Workload(context=8192, images=1), deployment)
    vision_params = sum(t.numel for t in model.architecture.tensors() if t.group.value == "vision")
    assert images.weights_bytes - text.weights_bytes == vision_params * 2  # the mmproj ships in f16
    compute = next(s for s in images.per_gpu[0].segments if s.title == "mmproj compute buffer")
    assert compute.bytes == model.architecture.vision.encoder_peak_bytes(1)  # type: ignore[union-attr]


def test_transformers_peak_is_the_encoder_when_it_is_larger() -> None:
    model = load_preset("gemma-3-4b")
    short = Workload(context=1024, images=8, batch=2)
    est = estimate(model, short, Deployment())
    vision = model.architecture.vision
    assert vision is not None
    assert est.per_gpu[0].bytes_of(SegmentKind.ACTIVATIONS) == vision.encoder_peak_bytes(16)


def test_vllm_profiles_the_encoder_budget_of_images() -> None:
    model = load_preset("gemma-3-27b")
    est = estimate(model, Workload(context=8192), Deployment(gpus=(GPU,), engine=Engine.VLLM))
    peak = est.per_gpu[0].segment(SegmentKind.ACTIVATIONS)
    assert "vision encoder over 32 images" in peak.note  # 8192 batched tokens / 256 tokens per image


def test_pixtral_is_mistral_small_3_1s_encoder() -> None:
    # 24,011,361,280 parameters in the checkpoint: 23,572,403,200 of text (transformers 5.24) and Pixtral's
    model = load_preset("mistral-small-3.1-24b")
    vision = sum(t.numel for t in model.architecture.tensors() if t.group is Group.VISION)
    assert vision == 438_958_080 and model.parameter_count() == 24_011_361_280


def _pixtral_weights_at_tp2(version: str, fmt: str = "bf16", mistral_format: bool = True) -> int:
    model = load_preset("mistral-small-3.1-24b").model_copy(update={"mistral_format": mistral_format})
    deployment = Deployment(
        gpus=(GPU,), engine=Engine.VLLM, tensor_parallel=2, settings=EngineSettings(engine_version=version)
    )
    return (
        estimate(model, Workload(context=8192, weight_format=fmt), deployment).per_gpu[0].bytes_of(SegmentKind.WEIGHTS)
    )


def test_vllm_splits_pixtral_as_its_hf_model_and_not_in_mistrals_own_format() -> None:
    # PixtralHFVisionModel: q/k/v, gate/up and linear_1 by column, o, down and linear_2 by row, the patch
    # convolution and merger whole; 24 layers of (4 x 1024^2 + 3 x 1024 x 4096), linear_1 5120 x 1024 and
    # linear_2 5120^2 halve at tp 2: 217,055,232 parameters (434,110,464 bf16 bytes) fewer on each rank.
    # Mistral's own format (pixtral.py VisionTransformer, loaded by default from 0.12) holds it whole.
    halved = (24 * (4 * 1024**2 + 3 * 1024 * 4096) + 5120 * 1024 + 5120**2) // 2 * 2
    assert halved == 434_110_464
    own = _pixtral_weights_at_tp2("0.19")
    transformers_layout = _pixtral_weights_at_tp2("0.19", mistral_format=False)
    assert own - transformers_layout == halved
    # before 0.12 config.json came first: transformers' layout, split
    assert _pixtral_weights_at_tp2("0.11") == _pixtral_weights_at_tp2("0.11", mistral_format=False)
    # a w8a8 checkpoint of it is in transformers' layout whatever the version
    assert _pixtral_weights_at_tp2("0.19", "int8") == _pixtral_weights_at_tp2("0.19", "int8", mistral_format=False)
