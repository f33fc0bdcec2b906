"""Decoding a JSON object from a model file, every failure turned into one ModelFileError."""

import json
from typing import Any

from vramscope.sources.errors import ModelFileError


class _DuplicateKey(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A key given twice is refused, as llama.cpp and safetensors do: which one would the engine take?"""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def json_object(raw: bytes | str, what: str) -> dict[str, Any]:
    """The JSON object in `raw`; `what` names it in messages ("config.json", "model.safetensors header")."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw  # never guess UTF-16/32
        value = json.loads(text, object_pairs_hook=_no_duplicates)
    except UnicodeDecodeError:
        raise ModelFileError(f"{what} is not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise ModelFileError(f"{what} is not valid JSON: {exc.msg} (line {exc.lineno})") from None
    except RecursionError:
        raise ModelFileError(f"{what} is nested too deeply") from None
    except _DuplicateKey as exc:
        raise ModelFileError(f"{what} gives the key {str(exc)[:80]!r} twice") from None
    except ValueError as exc:  # an integer of more than 4,300 digits
        raise ModelFileError(f"{what} holds a number too long to read: {str(exc)[:80]}") from None
    if not isinstance(value, dict):
        raise ModelFileError(f"{what} must hold a JSON object, not {type(value).__name__}")
    return value
