import json

import pytest

from tests.fixtures.families import CONFIGS
from vramscope.sources.errors import ModelFileError
from vramscope.sources.hf_config import architecture_from_config
from vramscope.sources.presets import find_preset, load_preset, preset_documents
from vramscope.sources.resolve import resolve_model

FAMILIES = {"Llama", "Mistral", "Qwen", "Gemma", "Phi", "DeepSeek", "gpt-oss", "Falcon", "OLMo", "Jamba", "GPT-2"}


def test_at_least_35_presets_covering_every_family() -> None:
    docs = preset_documents()
    assert len(docs) >= 35
    assert {d["family"] for d in docs.values()} >= FAMILIES
    assert all(d["source"] for d in docs.values())


def test_every_preset_loads() -> None:
    for pid in preset_documents():
        spec = load_preset(pid)
        assert spec.architecture.parameter_count() > 0


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("llama-3.1-8b", "llama-3.1-8b"),
        ("meta-llama/Llama-3.1-8B", "llama-3.1-8b"),
        ("google/gemma-2-9b-it", "gemma-2-9b"),
        ("mistralai/Mixtral-8x7B-v0.1", "mixtral-8x7b"),
        ("Qwen/Qwen2.5-7B", "qwen2.5-7b"),
        ("deepseek-ai/DeepSeek-V3", "deepseek-v3"),
    ],
)
def test_names_resolve_offline(typed: str, expected: str) -> None:
    assert find_preset(typed) == expected


def test_unknown_model_suggests() -> None:
    with pytest.raises(ModelFileError, match=r"unknown model 'lama-3\.1-8b' — did you mean llama-3\.1-8b"):
        resolve_model("lama-3.1-8b")


def _from_fixture() -> list[tuple[str, str]]:
    """Presets written from a config.json kept in tests/fixtures/configs, by the model id their source names."""
    import re

    from vramscope.sources.presets import preset_documents

    found = []
    for preset_id, doc in preset_documents().items():
        if m := re.match(r"config\.json of (\S+) \(a copy in", doc["source"]):
            found.append((preset_id, m.group(1)))
    return found


@pytest.mark.parametrize(("preset_id", "model_id"), _from_fixture())
def test_a_preset_from_a_real_config_is_what_the_reader_makes_of_it(preset_id: str, model_id: str) -> None:
    import json
    from pathlib import Path

    from vramscope.sources.hf_config import architecture_from_config
    from vramscope.sources.presets import load_preset

    folder = Path(__file__).resolve().parents[1] / "fixtures" / "configs" / model_id.replace("/", "__")
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    assert load_preset(preset_id).architecture == architecture_from_config(config)


def test_qwen3_14b_is_its_config() -> None:
    config = json.loads((CONFIGS / "Qwen__Qwen3-14B" / "config.json").read_text())
    model = load_preset("qwen3-14b")
    assert architecture_from_config(config) == model.architecture
    assert model.parameter_count() == 14_768_307_200  # 27.52 GiB of bf16 weights in vLLM's logs
