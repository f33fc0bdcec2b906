"""What a user typed -> a model: a preset, a local folder / config.json / .safetensors / .gguf, or a Hub id."""

from pathlib import Path

from vramscope.core.scenario import ModelSpec, Source
from vramscope.sources.errors import ModelFileError
from vramscope.sources.files import exists, reason
from vramscope.sources.hf_config import read_config_file
from vramscope.sources.presets import find_preset, load_preset, unknown_model_message

# The file and Hub readers are imported where they are used: a preset look-up (the command line's
# common case) never pays for them.


def resolve_model(name: str, hub_endpoint: str | None = None) -> ModelSpec:
    """Presets first (their org/Name works offline), then local paths, then the Hub."""
    try:
        path = Path(name).expanduser()
    except RuntimeError:  # "~nosuchuser/…": not a path, maybe a preset or Hub id
        path = Path(name)
    if exists(path):
        return open_path(path)
    preset = find_preset(name)
    if preset is not None:
        return load_preset(preset)
    from vramscope.sources.hub import fetch_hub_model, is_hub_id

    if looks_like_a_file(name):  # `org/model.gguf` is a missing file, not a Hub repository
        raise ModelFileError(f"{name}: no such file or folder")
    if is_hub_id(name):
        return fetch_hub_model(name, endpoint=hub_endpoint)
    raise ModelFileError(unknown_model_message(name))


MODEL_FILE_SUFFIXES = (".gguf", ".json", ".safetensors", ".bin", ".pt", ".pth", ".ckpt")


def looks_like_a_file(name: str) -> bool:
    """A path the user meant: a model file's suffix, or the start of a relative or absolute path."""
    return (
        name.lower().endswith(MODEL_FILE_SUFFIXES)
        or name.startswith(("/", "./", "../", "~", "\\"))
        or (len(name) > 2 and name[1] == ":" and name[2] in "/\\")
    )


def open_path(path: Path) -> ModelSpec:
    """A model folder, its config.json, one of its .safetensors files, or a .gguf file."""
    from vramscope.sources.gguf_file import read_gguf
    from vramscope.sources.hf_folder import PICKLE_MESSAGE, PICKLE_SUFFIXES, read_model_folder, spec_from_config

    try:
        is_folder = path.is_dir()
    except OSError as exc:
        raise ModelFileError(f"cannot read {path}: {reason(exc)}") from None
    if is_folder:
        return read_model_folder(path)
    suffix = path.suffix.lower()
    if suffix == ".gguf":
        return read_gguf(path)
    if suffix == ".safetensors":
        return read_model_folder(path.parent)
    if suffix in PICKLE_SUFFIXES:
        raise ModelFileError(PICKLE_MESSAGE)
    if suffix != ".json":
        raise ModelFileError(f"{path.name}: expected a model folder, config.json, .safetensors or .gguf file")
    name = path.parent.resolve().name if path.name == "config.json" else path.stem
    spec = spec_from_config(read_config_file(path), name, Source.CONFIG, str(path))
    return spec.model_copy(update={"path": str(path.parent.resolve())}) if path.name == "config.json" else spec
