"""Hostile and truncated safetensors headers give one ModelFileError; nothing else escapes."""

import contextlib
import json
import struct
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fixtures.model_files import header_bytes, write_safetensors
from vramscope.sources.errors import ModelFileError
from vramscope.sources.safetensors_file import read_header, shard_files

GOOD = {"a.weight": ("BF16", [4, 8]), "b.weight": ("F32", [8])}


def test_reads_names_dtypes_shapes(tmp_path: Path) -> None:
    path = tmp_path / "m.safetensors"
    write_safetensors(path, GOOD)
    tensors, _ = read_header(path)
    assert [(t.name, t.dtype, t.shape, t.nbytes) for t in tensors] == [
        ("a.weight", "BF16", (4, 8), 64),
        ("b.weight", "F32", (8,), 32),
    ]


def raw_file(tmp_path: Path, header: object, data: int = 1024, length: int | None = None) -> Path:
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    path = tmp_path / "x.safetensors"
    path.write_bytes(struct.pack("<Q", len(raw) if length is None else length) + raw + bytes(data))
    return path


@pytest.mark.parametrize(
    ("header", "length", "message"),
    [
        ({}, 10**12, "exceeds 16 MiB: not a model shard"),
        ({}, 5000, "runs past the end"),
        (b"\xff\xfe{}", None, "not UTF-8"),
        (b"{not json", None, "not valid JSON"),
        ([1, 2], None, "must hold a JSON object"),
        ({"t": {"dtype": "Q9", "shape": [1], "data_offsets": [0, 1]}}, None, "unknown dtype"),
        ({"t": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}, None, "bad shape"),
        ({"t": {"dtype": "F32", "shape": [2], "data_offsets": [0, 10**9]}}, None, "outside the file"),
        ({"t": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}}, None, "do not hold shape"),
        (
            {
                "a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
                "b": {"dtype": "F32", "shape": [4], "data_offsets": [8, 24]},
            },
            None,
            "overlap",
        ),
        (b"[" * 50_000 + b"]" * 50_000, None, "nested too deeply"),
    ],
)
def test_hostile_headers(tmp_path: Path, header: object, length: int | None, message: str) -> None:
    with pytest.raises(ModelFileError, match=message):
        read_header(raw_file(tmp_path, header, length=length))


def test_truncated_file(tmp_path: Path) -> None:
    path = tmp_path / "x.safetensors"
    path.write_bytes(b"\x01\x02")
    with pytest.raises(ModelFileError, match="truncated"):
        read_header(path)


def test_huge_declared_header_is_refused_without_reading(tmp_path: Path) -> None:
    path = raw_file(tmp_path, {}, length=15 * 1024 * 1024)
    start = time.process_time()
    with pytest.raises(ModelFileError, match="runs past the end"):
        read_header(path)
    assert time.process_time() - start < 1.0


def test_index_must_stay_in_the_folder(tmp_path: Path) -> None:
    (tmp_path / "model.safetensors.index.json").write_text(json.dumps({"weight_map": {"a": "../../etc/passwd"}}))
    with pytest.raises(ModelFileError, match="outside the folder"):
        shard_files(tmp_path)


def test_index_names_a_missing_shard(tmp_path: Path) -> None:
    (tmp_path / "model.safetensors.index.json").write_text(json.dumps({"weight_map": {"a": "gone.safetensors"}}))
    with pytest.raises(ModelFileError, match="missing"):
        shard_files(tmp_path)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=400))
def test_fuzz_random_bytes(tmp_path: Path, blob: bytes) -> None:
    path = tmp_path / "f.safetensors"
    path.write_bytes(blob)
    with contextlib.suppress(ModelFileError):
        read_header(path)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(min_value=0, max_value=200), st.binary(min_size=1, max_size=8))
def test_fuzz_mutated_valid_header(tmp_path: Path, position: int, patch: bytes) -> None:
    head, data = header_bytes(GOOD)
    blob = bytearray(head + bytes(data))
    position %= len(blob)
    blob[position : position + len(patch)] = patch
    path = tmp_path / "f.safetensors"
    path.write_bytes(bytes(blob))
    with contextlib.suppress(ModelFileError):
        read_header(path)
