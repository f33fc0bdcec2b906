"""The Hub client against a local fake of the file endpoint; one real-Hub test, skipped offline."""

import json
import os
from pathlib import Path

import pytest

from tests.fixtures.fake_hub import fake_hub
from tests.fixtures.model_files import hf_tensors, write_safetensors
from tests.sources.test_hf_folder import TINY, tiny_arch
from vramscope.core.scenario import Source
from vramscope.sources.errors import ModelFileError
from vramscope.sources.hub import fetch_hub_model, is_hub_id
from vramscope.sources.resolve import resolve_model

OFFLINE = "http://127.0.0.1:9"  # nothing listens there


@pytest.fixture
def hub_root(tmp_path: Path) -> Path:
    repo = tmp_path / "hub" / "acme" / "tiny"
    repo.mkdir(parents=True)
    (repo / "config.json").write_text(json.dumps(TINY))
    write_safetensors(repo / "model.safetensors", hf_tensors(tiny_arch()))
    bare = tmp_path / "hub" / "acme" / "bare"
    bare.mkdir()
    (bare / "config.json").write_text(json.dumps(TINY))
    return tmp_path / "hub"


def test_hub_ids() -> None:
    assert is_hub_id("meta-llama/Llama-3.1-8B")
    assert not is_hub_id("../etc/passwd") and not is_hub_id("justaname") and not is_hub_id("a/b/c")


def test_fetches_headers_not_weights_then_works_offline(hub_root: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with fake_hub(hub_root) as hub:
        model = fetch_hub_model("acme/tiny", endpoint=hub.endpoint, cache=cache)
        ranges = [r for r in hub.requests if "model.safetensors" in r and r.startswith("GET")]
    assert model.source is Source.HUB and model.hf_id == "acme/tiny"
    assert model.parameter_count() == tiny_arch().parameter_count()
    assert model.inventory is not None and model.inventory.describe() == "21 tensors from 1 safetensors file"
    assert ranges and all("bytes=0-" in r for r in ranges)  # headers by range request only
    again = fetch_hub_model("acme/tiny", endpoint=OFFLINE, cache=cache)
    assert again.parameter_count() == model.parameter_count()


def test_config_only_repository(hub_root: Path, tmp_path: Path) -> None:
    with fake_hub(hub_root) as hub:
        model = fetch_hub_model("acme/bare", endpoint=hub.endpoint, cache=tmp_path / "cache")
    assert model.inventory is None and "config only" in model.source_detail


@pytest.mark.parametrize(
    ("status", "message"),
    [(404, "was not found on the Hub"), (401, "is gated"), (429, "rate-limiting")],
)
def test_errors_are_explained(hub_root: Path, tmp_path: Path, status: int, message: str) -> None:
    with fake_hub(hub_root) as hub:
        hub.status_for["acme/tiny"] = status
        with pytest.raises(ModelFileError, match=message):
            fetch_hub_model("acme/tiny", endpoint=hub.endpoint, cache=tmp_path / "cache")


def test_offline_and_not_cached(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="not cached"):
        fetch_hub_model("acme/never-seen", endpoint=OFFLINE, cache=tmp_path / "cache")


def test_preset_names_never_go_online() -> None:
    assert resolve_model("meta-llama/Llama-3.1-8B", hub_endpoint=OFFLINE).source is Source.PRESET


@pytest.mark.network
def test_real_hub() -> None:
    # Opt-in: test runs stay on loopback unless asked (VRAMSCOPE_NETWORK_TESTS=1) to reach the real Hub.
    if os.environ.get("VRAMSCOPE_NETWORK_TESTS") != "1":
        pytest.skip("set VRAMSCOPE_NETWORK_TESTS=1 to look up a model on the real Hub")
    model = fetch_hub_model("HuggingFaceTB/SmolLM2-135M")
    assert model.parameter_count() == 134_515_008


def test_a_hub_that_never_answers_is_given_up_on(tmp_path: Path) -> None:
    """A local server that accepts connections and stays silent: the look-up ends at its deadline."""
    import socket
    import time

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    try:
        start = time.monotonic()
        with pytest.raises(ModelFileError, match="did not answer within 1 s"):
            fetch_hub_model(
                "acme/silent", endpoint=f"http://127.0.0.1:{silent.getsockname()[1]}", cache=tmp_path, deadline=1
            )
        assert time.monotonic() - start < 5
    finally:
        silent.close()


def test_a_huge_config_is_refused_before_it_is_downloaded(hub_root: Path, tmp_path: Path) -> None:
    big = hub_root / "acme" / "big"
    big.mkdir()
    with (big / "config.json").open("wb") as f:
        f.truncate(300 * 2**20)  # sparse: 300 MB on paper
    with fake_hub(hub_root) as hub:
        with pytest.raises(ModelFileError, match="too large to be a model config"):
            fetch_hub_model("acme/big", endpoint=hub.endpoint, cache=tmp_path / "cache")
        downloads = [r for r in hub.requests if r.startswith("GET") and "acme/big" in r]
    assert not downloads
    assert not list((tmp_path / "cache").rglob("config.json"))


def test_a_presets_repository_brings_its_published_copies(hub_root: Path, tmp_path: Path) -> None:
    repo = hub_root / "Qwen" / "Qwen3-8B"
    repo.mkdir(parents=True)
    (repo / "config.json").write_text(json.dumps(TINY))
    with fake_hub(hub_root) as hub:
        model = fetch_hub_model("Qwen/Qwen3-8B", endpoint=hub.endpoint, cache=tmp_path / "cache")
    assert "Qwen/Qwen3-8B-AWQ" in {r.repo for r in model.checkpoints.releases}
    with fake_hub(hub_root) as hub:
        assert not fetch_hub_model("acme/bare", endpoint=hub.endpoint, cache=tmp_path / "c2").checkpoints.releases
