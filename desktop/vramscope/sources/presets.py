"""Built-in model presets (resources/models/*.json) and resolving what a user typed to a model."""

import difflib
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from vramscope.core.architecture import Architecture
from vramscope.core.scenario import Checkpoints, ModelSpec, Source
from vramscope.resources import resources_dir
from vramscope.sources.errors import ModelFileError

DEFAULT_PRESET = "llama-3.1-8b"  # what the window and --screenshot show when no model is named


def _models_dir() -> Path:
    return resources_dir() / "models"


def _spec(doc: dict[str, Any]) -> ModelSpec:
    return ModelSpec(
        name=doc["name"],
        source=Source.PRESET,
        source_detail=doc["source"],
        hf_id=doc["hf_id"],
        family=doc["family"],
        architecture=Architecture.model_validate(doc["architecture"]),
        native_format=doc["native_format"],
        checkpoints=Checkpoints.model_validate(doc.get("checkpoints", {})),
        mistral_format=doc.get("mistral_format") is True,
    )


@lru_cache(maxsize=1)
def preset_documents() -> dict[str, dict[str, Any]]:
    """Every preset's document by id (a few KiB each; read once)."""
    docs = {}
    for path in sorted(_models_dir().glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        docs[doc["id"]] = doc
    return docs


@lru_cache(maxsize=256)
def load_preset(preset_id: str) -> ModelSpec:
    doc = preset_documents().get(preset_id)
    if doc is None:
        raise ModelFileError(unknown_model_message(preset_id))
    return _spec(doc)


def preset_ids() -> list[str]:
    return list(preset_documents())


@lru_cache(maxsize=1)
def all_presets() -> tuple[ModelSpec, ...]:
    """Every preset, read once: the models one could run instead."""
    return tuple(load_preset(p) for p in preset_ids())


def _lookup_table() -> dict[str, str]:
    table = {}
    for pid, doc in preset_documents().items():
        for name in (pid, doc["name"], doc["hf_id"], *doc.get("aliases", ())):
            table[name.lower()] = pid
    return table


_ID = re.compile(r"[a-z0-9][a-z0-9._-]{0,99}")


def find_preset(name: str) -> str | None:
    """The preset id for an id, alias, display name or full `org/Name`, case-insensitively."""
    key = name.strip().lower()
    if _ID.fullmatch(key) and (_models_dir() / f"{key}.json").is_file():  # never a path or a long name
        return key
    return _lookup_table().get(key)


def unknown_model_message(name: str) -> str:
    close = difflib.get_close_matches(name.lower(), list(_lookup_table()), n=3, cutoff=0.5)
    ids = list(dict.fromkeys(_lookup_table()[c] for c in close))
    hint = f" — did you mean {', '.join(ids)}?" if ids else " — `vramscope models` lists the presets"
    return f"unknown model '{name}'{hint}"
