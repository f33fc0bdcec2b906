"""Decoding a JSON object from a model file, every failure turned into one ModelFileError."""

import json
from typing import Any

from vramscope.sources.errors import ModelFileError


def json_object(raw: bytes | str, what: str) -> dict[str, Any]:
    """The JSON object in `raw`; `what` names it in messages ("config.json", "model.safetensors header")."""
    try:
        value = json.loads(raw.decode("utf-8") if isinstance(raw, bytes) else raw)  # never guess UTF-16/32
    except UnicodeDecodeError:
        raise ModelFileError(f"{what} is not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise ModelFileError(f"{what} is not valid JSON: {exc.msg} (line {exc.lineno})") from None
    except RecursionError:
        raise ModelFileError(f"{what} is nested too deeply") from None
    if not isinstance(value, dict):
        raise ModelFileError(f"{what} must hold a JSON object, not {type(value).__name__}")
    return value
