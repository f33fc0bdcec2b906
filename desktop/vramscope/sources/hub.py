"""A Hugging Face Hub id: config.json and the safetensors headers (range requests), never the weights.

Both are cached on disk, so a model looked up once opens offline. HF_TOKEN or a saved `hf auth login` token
is used for gated repositories (huggingface_hub reads them itself).
"""

import importlib
import json
import os
import re
import socket
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from vramscope.core.inventory import TensorInventory
from vramscope.core.scenario import ModelSpec, Source
from vramscope.sources.errors import ModelFileError
from vramscope.sources.hf_config import MAX_CONFIG_BYTES, read_config_file
from vramscope.sources.hf_folder import CheckpointLayout, spec_from_config, stored_tensor
from vramscope.sources.json_object import json_object
from vramscope.sources.presets import find_preset, load_preset
from vramscope.sources.safetensors_file import RawTensor

HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]{0,95}/[\w.-]{1,96}$")


def is_hub_id(text: str) -> bool:
    """organisation/name as the Hub allows it: no '--' or '..', no trailing '.' or '.git'."""
    name = text.rsplit("/", 1)[-1]
    return HUB_ID.match(text) is not None and ".." not in text and "--" not in text and not name.endswith((".", ".git"))


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "vramscope" / "hub"


HUB_DEADLINE_S = 30.0  # the whole look-up: name resolution, connection and proxies have no limit of their own


def fetch_hub_model(
    repo_id: str, endpoint: str | None = None, cache: Path | None = None, deadline: float = HUB_DEADLINE_S
) -> ModelSpec:
    """config.json + safetensors headers of `repo_id`; cached answers when offline. The look-up runs in a
    daemon thread that is abandoned after `deadline` seconds, so no network state can hang the caller."""
    if not is_hub_id(repo_id):
        raise ModelFileError(f"'{repo_id}' is not a Hub id (organisation/name)")
    import threading

    outcome: list[ModelSpec | BaseException] = []

    def look_up() -> None:
        try:
            outcome.append(_fetch_checked(repo_id, endpoint, cache or cache_dir()))
        except BaseException as exc:  # handed to the caller's thread
            outcome.append(exc)

    worker = threading.Thread(target=look_up, name=f"vramscope hub {repo_id}", daemon=True)
    worker.start()
    worker.join(deadline)
    if not outcome:
        raise ModelFileError(
            f"the Hugging Face Hub did not answer within {deadline:g} s for '{repo_id}' (name lookup, connection "
            "or proxy): check the network, or open a local model folder"
        )
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return outcome[0]


def _fetch_checked(repo_id: str, endpoint: str | None, cache: Path) -> ModelSpec:
    from huggingface_hub.errors import HFValidationError

    try:
        return _fetch(repo_id, endpoint, cache)
    except HFValidationError as exc:
        raise ModelFileError(f"'{repo_id}' is not a valid Hub id: {exc}") from None


def _fetch(repo_id: str, endpoint: str | None, cache: Path) -> ModelSpec:
    online = _reachable(endpoint)
    config = read_config_file(_config_path(repo_id, endpoint, cache, online))
    spec = spec_from_config(config, repo_id.split("/")[1], Source.HUB, f"Hugging Face Hub: {repo_id}")
    preset = find_preset(repo_id)  # a preset's repository: its published quantized copies come with it
    published = load_preset(preset).checkpoints if preset else spec.checkpoints
    spec = spec.model_copy(update={"hf_id": repo_id, "checkpoints": published})
    headers = _safetensors_headers(repo_id, endpoint, cache, online)
    if headers is None:
        return spec.model_copy(update={"source_detail": f"{spec.source_detail} (config only: no safetensors)"})
    try:
        raws = [
            RawTensor(str(n), str(d), tuple(int(x) for x in shape), int(b))
            for f in headers.values()
            for n, d, shape, b in f
        ]
    except (TypeError, ValueError):
        raise ModelFileError(
            f"the cached headers of '{repo_id}' are damaged: delete {cache} and look it up again"
        ) from None
    layout = CheckpointLayout.of(config, spec.architecture)
    stored = tuple(stored_tensor(raw, layout) for raw in raws)
    inventory = TensorInventory(stored, len(headers), "safetensors", spec.native_format)
    return spec.model_copy(
        update={"inventory": inventory, "source_detail": f"Hugging Face Hub: {repo_id}, {inventory.describe()}"}
    )


def _hub_errors() -> tuple[type[Exception], ...]:
    """What a look-up can raise for a network, server or cache reason (the HTTP library varies by version)."""
    from huggingface_hub import errors

    kinds: list[type[Exception]] = [
        errors.HfHubHTTPError,
        errors.LocalEntryNotFoundError,
        errors.OfflineModeIsEnabled,
        OSError,
    ]
    for module, name in (("httpx2", "HTTPError"), ("httpx", "HTTPError"), ("requests", "RequestException")):
        try:
            kinds.append(getattr(importlib.import_module(module), name))
        except (ImportError, AttributeError):
            continue
    return tuple(kinds)


def _message(repo_id: str, exc: Exception | None) -> str:
    from huggingface_hub import errors

    if isinstance(exc, errors.GatedRepoError):
        return f"'{repo_id}' is gated: accept its licence on the Hub, then log in (hf auth login) or set HF_TOKEN"
    if isinstance(exc, errors.RepositoryNotFoundError):
        return f"'{repo_id}' was not found on the Hub (a private repository needs a login or HF_TOKEN)"
    if _status(exc) == 429:
        return "the Hub is rate-limiting this machine: wait a minute, or log in (hf auth login) for a higher limit"
    return f"cannot reach the Hugging Face Hub and '{repo_id}' is not cached: connect once, then it works offline"


def _status(exc: BaseException | None) -> int | None:
    """The HTTP status behind an error, looking through the errors it was raised from."""
    while exc is not None:
        response = getattr(exc, "response", None)
        if response is not None and isinstance(getattr(response, "status_code", None), int):
            return int(response.status_code)
        exc = exc.__cause__ or exc.__context__
    return None


def _reachable(endpoint: str | None) -> bool:
    """One quick connect instead of the client's retries with back-off (about 23 s) when offline."""
    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE:
        return False
    if any(os.environ.get(v) for v in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY")):
        return True  # only the proxy can tell: let the client try
    url = urlsplit(endpoint or constants.ENDPOINT)
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        socket.create_connection((url.hostname or "", port), timeout=3).close()
    except OSError:
        return False
    return True


def _config_path(repo_id: str, endpoint: str | None, cache: Path, online: bool) -> Path:
    from huggingface_hub import errors, hf_hub_download

    failure: Exception | None = None
    if online:
        try:
            _check_size(repo_id, endpoint)
            return Path(hf_hub_download(repo_id, "config.json", endpoint=endpoint, cache_dir=cache / "files"))
        except _hub_errors() as exc:
            if isinstance(exc, errors.RepositoryNotFoundError | errors.GatedRepoError | errors.EntryNotFoundError):
                raise ModelFileError(_message(repo_id, exc)) from None
            failure = exc
    try:  # offline or rate-limited: the copy cached last time
        return Path(hf_hub_download(repo_id, "config.json", cache_dir=cache / "files", local_files_only=True))
    except _hub_errors():
        raise ModelFileError(_message(repo_id, failure)) from None


def _check_size(repo_id: str, endpoint: str | None) -> None:
    """Ask the size first: a hostile repository's 300 MB "config.json" is refused before it is written."""
    from huggingface_hub import get_hf_file_metadata, hf_hub_url

    size = get_hf_file_metadata(hf_hub_url(repo_id, "config.json", endpoint=endpoint)).size
    if size is not None and size > MAX_CONFIG_BYTES:
        raise ModelFileError(f"'{repo_id}' has a config.json of {size:,} bytes: too large to be a model config")


def _safetensors_headers(
    repo_id: str, endpoint: str | None, cache: Path, online: bool
) -> dict[str, list[list[Any]]] | None:
    """{file: [[name, dtype, shape, nbytes], …]} from the Hub, or the cached copy; None for no safetensors."""
    from huggingface_hub import HfApi, errors

    cached = cache / "headers" / (repo_id.replace("/", "--") + ".json")
    failure: Exception | None = None
    headers: dict[str, list[list[Any]]] | None = None
    if online:
        try:
            meta = HfApi(endpoint=endpoint).get_safetensors_metadata(repo_id)
            headers = {
                file: [
                    [name, t.dtype, list(t.shape), t.data_offsets[1] - t.data_offsets[0]]
                    for name, t in fm.tensors.items()
                ]
                for file, fm in meta.files_metadata.items()
            }
        except errors.NotASafetensorsRepoError:
            headers = {}
        except _hub_errors() as exc:
            failure = exc
    if headers is not None:
        try:
            cached.parent.mkdir(parents=True, exist_ok=True)
            cached.write_text(json.dumps(headers), encoding="utf-8")
        except OSError:
            pass  # an unwritable cache only costs the offline copy
    else:
        try:
            headers = json_object(cached.read_bytes(), cached.name)
        except (OSError, ModelFileError):
            raise ModelFileError(_message(repo_id, failure)) from None
    return headers or None
