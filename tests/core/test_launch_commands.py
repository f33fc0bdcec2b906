"""The model an engine's command points at: an opened file's real path, quoted, never its description."""

import shlex
from pathlib import Path

import pytest

from tests.fixtures.model_files import hf_tensors, write_folder, write_gguf
from tests.sources.test_hf_folder import TINY
from vramscope.core.analysis import launch_command
from vramscope.core.scenario import Deployment, Engine, GpuSpec, Workload
from vramscope.core.units import GIB
from vramscope.sources.gguf_file import read_gguf
from vramscope.sources.hf_config import architecture_from_config
from vramscope.sources.hf_folder import read_model_folder

GPU = GpuSpec(name="g", capacity_bytes=24 * GIB, total_bytes=24 * GIB)


def words(command: str) -> list[str]:
    return shlex.split(command.split("#")[0])  # as a shell splits it, its comment aside


@pytest.fixture(scope="module")
def spaced(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models") / "my models"


def test_a_gguf_in_a_folder_with_spaces_is_launched_by_its_quoted_path(spaced: Path) -> None:
    spaced.mkdir(exist_ok=True)
    path = spaced / "tiny Q4_K_M.gguf"
    write_gguf(path, architecture_from_config(TINY))
    model = read_gguf(path)
    command = launch_command(model, Workload(context=4096), Deployment(gpus=(GPU,), engine=Engine.LLAMACPP))
    argv = words(command)
    assert argv[:3] == ["llama-server", "-m", str(path.resolve())]  # not "tiny Q4_K_M.gguf: 75 tensors from …"
    code = launch_command(model, Workload(context=4096), Deployment(gpus=(GPU,), engine=Engine.TRANSFORMERS))
    assert f'from_pretrained("{spaced.resolve()}"' in code and 'gguf_file="tiny Q4_K_M.gguf"' in code


@pytest.mark.parametrize(("engine", "flag"), [(Engine.VLLM, "serve"), (Engine.SGLANG, "--model-path")])
def test_a_model_folder_is_launched_by_its_path(spaced: Path, engine: Engine, flag: str) -> None:
    folder = write_folder(spaced / "tiny llama", TINY, hf_tensors(architecture_from_config(TINY)))
    model = read_model_folder(folder)
    argv = words(launch_command(model, Workload(context=4096), Deployment(gpus=(GPU,), engine=engine)))
    assert argv[argv.index(flag) + 1] == str(folder.resolve())
