"""JSON from a model file: anything but one clean object is one clear message."""

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vramscope.sources.errors import ModelFileError
from vramscope.sources.json_object import json_object


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b'{"a": 1, "a": 2}', "gives the key 'a' twice"),
        (b'{"n": ' + b"9" * 5000 + b"}", "number too long"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply|not valid JSON"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b"[1, 2]", "must hold a JSON object"),
    ],
)
def test_hostile_json(raw: bytes, message: str) -> None:
    with pytest.raises(ModelFileError, match=message):
        json_object(raw, "config.json")


@given(st.binary(max_size=200))
def test_any_bytes_give_an_object_or_the_one_error(raw: bytes) -> None:
    with contextlib.suppress(ModelFileError):
        assert isinstance(json_object(raw, "x"), dict)
