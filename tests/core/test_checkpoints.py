"""Which checkpoint a command loads for the planned format, and what the user must make where none is known."""

import shlex

import pytest

from tests.sources.test_hf_folder import tiny_arch
from vramscope.core.analysis import analyse
from vramscope.core.checkpoints import COMMENT, Target, gguf_target, ollama_target, safetensors_target
from vramscope.core.engines.base import EngineSettingsError
from vramscope.core.scenario import (
    Checkpoints,
    Deployment,
    Engine,
    EngineSettings,
    GgufRelease,
    GpuSpec,
    ModelSpec,
    OllamaLibrary,
    OllamaTag,
    Release,
    Source,
    Workload,
)
from vramscope.core.units import GIB
from vramscope.sources.presets import load_preset, preset_documents

GPU = GpuSpec(name="g", capacity_bytes=80 * GIB, total_bytes=80 * GIB)
PUBLISHED = Checkpoints(
    releases=(Release(format="awq-int4", repo="org/Tiny-AWQ", source="https://huggingface.co/org/Tiny-AWQ"),),
    gguf=GgufRelease(repo="org/Tiny-GGUF", quants=("Q4_K_M", "Q8_0", "f16"), source="https://hf.co/org/Tiny-GGUF"),
    ollama=OllamaLibrary(tags=(OllamaTag(format="q4_k_m", tag="tiny:1b-q4_K_M"),), source="https://ollama.com/x"),
)


def tiny(checkpoints: Checkpoints = PUBLISHED, native: str = "bf16") -> ModelSpec:
    return ModelSpec(
        name="Tiny",
        source=Source.PRESET,
        hf_id="org/Tiny",
        architecture=tiny_arch(),
        native_format=native,
        checkpoints=checkpoints,
    )


def command(model: ModelSpec, engine: Engine, weights: str, **settings: object) -> str:
    """The command the window and `estimate --launch-command` show, for a scenario the engine takes."""
    deployment = Deployment(gpus=(GPU,), engine=engine, settings=EngineSettings.model_validate(settings))
    return analyse(model, Workload(context=4096, weight_format=weights), deployment, limits=False).launch_command


def argv(command: str) -> list[str]:
    return shlex.split(command.partition(COMMENT)[0])


@pytest.mark.parametrize(("engine", "flag"), [(Engine.VLLM, "serve"), (Engine.SGLANG, "--model-path")])
def test_a_published_awq_copy_is_launched_instead_of_the_16_bit_repository(engine: Engine, flag: str) -> None:
    words = argv(command(tiny(), engine, "awq-int4"))
    assert words[words.index(flag) + 1] == "org/Tiny-AWQ"
    assert "--quantization" not in words  # the engine reads the format from the copy's quantization_config


@pytest.mark.parametrize(
    ("engine", "weights", "version", "flag"),
    [
        (Engine.VLLM, "fp8", None, "--quantization fp8"),
        (Engine.VLLM, "fp8-block", None, "--quantization fp8_per_block"),  # 0.20's online block FP8
        (Engine.VLLM, "fp8-block", "0.19", "--quantization fp8 "),  # before it: per tensor
        (Engine.VLLM, "nf4", "0.27", "--quantization bitsandbytes"),  # 0.28 removed bitsandbytes
        (Engine.SGLANG, "fp8", None, "--quantization fp8"),
        (Engine.VLLM, "fp16", None, "--dtype float16"),
    ],
)
def test_formats_the_engine_makes_as_it_loads_keep_the_16_bit_repository(
    engine: Engine, weights: str, version: str | None, flag: str
) -> None:
    line = command(tiny(), engine, weights, engine_version=version) + " "
    assert " org/Tiny " in line and flag in line and COMMENT not in line


def test_vllm_from_0_28_has_no_bitsandbytes() -> None:
    with pytest.raises(EngineSettingsError, match=r"vLLM 0\.28 and later have no bitsandbytes quantization"):
        command(tiny(), Engine.VLLM, "nf4")


def test_a_format_nobody_published_names_the_folder_to_make_and_the_tool() -> None:
    line = command(tiny(), Engine.VLLM, "gptq-int4")
    assert argv(line)[:3] == ["vllm", "serve", "./Tiny-GPTQ-INT4"]
    todo = line.partition(COMMENT)[2]
    assert todo == (
        "no GPTQ 4-bit g128 checkpoint of org/Tiny is known: make ./Tiny-GPTQ-INT4 with llm-compressor "
        "(GPTQModifier) or GPTQModel"
    )


def test_an_fp8_checkpoint_is_not_made_into_bf16_on_the_fly() -> None:
    target = safetensors_target(tiny(Checkpoints(), native="fp8-block"), "bf16", Engine.VLLM)
    assert target.where == "./Tiny-BF16" and "dequantize its FP8 e4m3 (128x128 blocks) weights" in target.todo


def test_transformers_loads_a_published_copy_or_quantizes_as_it_loads() -> None:
    assert 'from_pretrained("org/Tiny-AWQ", ' in command(tiny(), Engine.TRANSFORMERS, "awq-int4")
    fp8 = command(tiny(), Engine.TRANSFORMERS, "fp8-block")
    assert 'from_pretrained("org/Tiny", ' in fp8 and "quantization_config=FineGrainedFP8Config()" in fp8


def test_llama_cpp_downloads_a_published_gguf_by_its_type() -> None:
    assert argv(command(tiny(), Engine.LLAMACPP, "q8_0"))[:3] == ["llama-server", "-hf", "org/Tiny-GGUF:Q8_0"]
    assert gguf_target(tiny(), "fp16").where == "org/Tiny-GGUF:f16"  # the repository's own spelling
    line = command(tiny(), Engine.LLAMACPP, "q3_k_m")  # not in the repository
    assert argv(line)[:3] == ["llama-server", "-m", "Tiny-Q3_K_M.gguf"]
    assert line.partition(COMMENT)[2] == (
        "no Q3_K_M GGUF of org/Tiny is known: make Tiny-Q3_K_M.gguf with llama.cpp's convert_hf_to_gguf.py, "
        "then llama-quantize"
    )


def test_ollama_runs_its_library_tag_or_the_published_gguf() -> None:
    assert ollama_target(tiny(), "q4_k_m").where == "tiny:1b-q4_K_M"
    assert ollama_target(tiny(), "q8_0").where == "hf.co/org/Tiny-GGUF:Q8_0"
    line = command(tiny(), Engine.OLLAMA, "q4_k_m", flash_attn=True)
    assert line == (
        "OLLAMA_CONTEXT_LENGTH=4096 OLLAMA_FLASH_ATTENTION=1 ollama serve & sleep 3 && ollama run tiny:1b-q4_K_M"
    )


def test_ollama_names_a_file_or_num_gpu_through_a_modelfile() -> None:
    line = command(tiny(), Engine.OLLAMA, "q4_k_m", n_gpu_layers=3)
    assert line.endswith(
        "printf '%s\\n' 'FROM tiny:1b-q4_K_M' 'PARAMETER num_gpu 3' > Modelfile && "
        "ollama create tiny-q4_k_m -f Modelfile && ollama run tiny-q4_k_m"
    )
    unpublished = command(tiny(Checkpoints()), Engine.OLLAMA, "q4_k_m")
    assert "'FROM ./Tiny-Q4_K_M.gguf'" in unpublished and unpublished.partition(COMMENT)[2].startswith("no Q4_K_M")


def test_every_preset_checkpoint_names_a_known_format_and_a_source() -> None:
    for preset_id, doc in preset_documents().items():
        model = load_preset(preset_id)
        listed = model.checkpoints
        assert all(r.source.startswith("https://") for r in listed.releases), preset_id
        for release in listed.releases:  # a published copy launches where the planned format is asked
            assert safetensors_target(model, release.format, Engine.VLLM).where == release.repo, preset_id
        assert len({r.format for r in listed.releases}) == len(listed.releases), preset_id
        if listed.gguf is not None:
            assert listed.gguf.source.startswith("https://") and listed.gguf.quants, preset_id
        assert doc.get("checkpoints", {}).keys() <= {"releases", "gguf", "ollama"}


def test_presets_launch_their_published_copies() -> None:
    llama = load_preset("llama-3.1-8b")
    awq = safetensors_target(llama, "awq-int4", Engine.VLLM)
    assert awq.where == "hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4"
    assert awq.source == "https://huggingface.co/hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4"
    assert ollama_target(load_preset("gpt-oss-20b"), "mxfp4").where == "gpt-oss:20b"
    assert gguf_target(load_preset("gpt-oss-20b"), "q4_k_m").where == "unsloth/gpt-oss-20b-GGUF:Q4_K_M"
    # DeepSeek-V3's own FP8 blocks are what it is released in: no copy, no flag
    assert safetensors_target(load_preset("deepseek-v3"), "fp8-block", Engine.VLLM) == Target("deepseek-ai/DeepSeek-V3")
