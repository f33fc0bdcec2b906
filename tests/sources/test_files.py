"""Files a user points at that are not what they claim: pipes, devices, links out of the folder, names too
long. Each ends at once with one clear message."""

import json
import os
import struct
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.fixtures.model_files import write_folder
from tests.fixtures.tiny_config import TINY_LLAMA
from vramscope.sources.errors import ModelFileError
from vramscope.sources.files import read_limited
from vramscope.sources.resolve import resolve_model

CONFIG = TINY_LLAMA


def ends_within(seconds: float, work: Callable[[], object]) -> BaseException | None:
    """Run `work` in a daemon thread: the error it raised, or a failure if it is still running."""
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            work()
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert outcome, f"still running after {seconds} s: it would hang the app"
    return outcome[0]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
@pytest.mark.parametrize("name", ["model.gguf", "config.json", "model.safetensors"])
def test_a_fifo_is_refused_not_waited_on(tmp_path: Path, name: str) -> None:
    fifo = tmp_path / name
    os.mkfifo(fifo)
    error = ends_within(5, lambda: resolve_model(str(fifo)))
    assert isinstance(error, ModelFileError)


def test_a_device_posing_as_config_is_refused(tmp_path: Path) -> None:
    (tmp_path / "x.json").symlink_to("/dev/zero")
    error = ends_within(5, lambda: resolve_model(str(tmp_path / "x.json")))
    assert isinstance(error, ModelFileError) and "not a regular file" in str(error)


def test_a_huge_index_is_not_read_whole(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "m", CONFIG, {})
    index = folder / "model.safetensors.index.json"
    with index.open("wb") as f:
        f.truncate(3 * 2**30)  # sparse: 3 GB on paper
    error = ends_within(5, lambda: resolve_model(str(folder)))
    assert isinstance(error, ModelFileError) and "more than the" in str(error)


def test_a_shard_linked_from_outside_the_folder_is_refused(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "m", CONFIG, {})
    outside = tmp_path / "elsewhere.safetensors"
    raw = json.dumps({}).encode()
    outside.write_bytes(struct.pack("<Q", len(raw)) + raw)
    (folder / "model.safetensors").unlink()
    (folder / "model.safetensors").symlink_to(outside)
    with pytest.raises(ModelFileError, match="outside the model folder"):
        resolve_model(str(folder))


def test_a_path_component_too_long_is_a_message(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError):
        resolve_model(str(tmp_path / ("x" * 300) / "config.json"))


@pytest.mark.skipif(os.geteuid() == 0 if hasattr(os, "geteuid") else True, reason="root reads everything")
def test_a_folder_without_permission_is_a_message(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "m", CONFIG, {})
    folder.chmod(0)
    try:
        with pytest.raises(ModelFileError):
            resolve_model(str(folder / "config.json"))
    finally:
        folder.chmod(0o755)


def test_read_limited_refuses_what_grows_past_its_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    path.write_bytes(b"{}" + b" " * 100)
    with pytest.raises(ModelFileError, match="more than the 50"):
        read_limited(path, 50, "big.json")
