"""safetensors headers: every tensor's name, dtype and shape, read from the JSON header alone.

Format: an 8-byte little-endian header length N, N bytes of UTF-8 JSON, then the tensor data. Nothing past
the header is read; every bound a hostile file could break is checked and reported as ModelFileError.
"""

import itertools
import os
import struct
from pathlib import Path
from typing import Any, NamedTuple, TypeGuard

from vramscope.sources.errors import ModelFileError
from vramscope.sources.files import exists, inside, open_regular, read_limited
from vramscope.sources.json_object import json_object

# The reference implementation allows 100 MB; a real shard's header is well under 1 MB (about 100 bytes a
# tensor), and reading 100 MB of JSON takes seconds and a gigabyte: 16 MiB holds 150,000 tensors
MAX_HEADER_BYTES = 16 * 1024 * 1024
MAX_TENSORS = 200_000
MAX_METADATA = 10_000  # __metadata__ entries (a checkpoint writes a handful)
MAX_DIMS = 8
MAX_INDEX_BYTES = 64 * 1024 * 1024  # a 100,000-tensor index is about 10 MB
MAX_DIM = 2**40  # no real dimension comes near; bounds every product of them

DTYPE_BYTES = {
    "F64": 8,
    "F32": 4,
    "F16": 2,
    "BF16": 2,
    "I64": 8,
    "I32": 4,
    "I16": 2,
    "I8": 1,
    "U64": 8,
    "U32": 4,
    "U16": 2,
    "U8": 1,
    "BOOL": 1,
    "F8_E4M3": 1,
    "F8_E5M2": 1,
    "F8_E8M0": 1,
}


class RawTensor(NamedTuple):
    name: str
    dtype: str
    shape: tuple[int, ...]
    nbytes: int


def read_header(path: Path) -> tuple[list[RawTensor], dict[str, str]]:
    """The tensors and the free-form metadata of one .safetensors file."""
    try:
        with open_regular(path) as f:
            size = os.fstat(f.fileno()).st_size
            if size < 8:
                raise ModelFileError(f"{path.name} is truncated: {size} bytes, not even a header length")
            (length,) = struct.unpack("<Q", f.read(8))
            if length > MAX_HEADER_BYTES:
                limit = MAX_HEADER_BYTES // 2**20
                raise ModelFileError(f"{path.name}: header of {length:,} bytes exceeds {limit} MiB: not a model shard")
            if 8 + length > size:
                raise ModelFileError(f"{path.name} is truncated: header of {length:,} bytes runs past the end")
            raw = f.read(length)
    except OSError as exc:
        raise ModelFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    header = json_object(raw, f"{path.name}: header")
    return _tensors(path.name, header, size - 8 - length)


def _tensors(file: str, header: dict[str, Any], data_size: int) -> tuple[list[RawTensor], dict[str, str]]:
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or len(metadata) > MAX_METADATA:
        raise ModelFileError(f"{file}: __metadata__ must be an object of at most {MAX_METADATA:,} strings")
    if not all(isinstance(v, str) for v in metadata.values()):  # the format stores strings only
        raise ModelFileError(f"{file}: __metadata__ values must be strings")
    if len(header) > MAX_TENSORS:
        raise ModelFileError(f"{file}: {len(header):,} tensors is beyond any real model")
    tensors, spans = [], []
    for name, entry in header.items():
        where = f"{file}: tensor {name[:80]!r}"
        if not isinstance(entry, dict):
            raise ModelFileError(f"{where} is not an object")
        dtype, shape, offsets = str(entry.get("dtype")), entry.get("shape"), entry.get("data_offsets")
        if dtype not in DTYPE_BYTES:
            raise ModelFileError(f"{where} has unknown dtype {dtype[:20]!r}")
        if not _ints(shape) or len(shape) > MAX_DIMS:
            raise ModelFileError(f"{where} has a bad shape")
        if not _ints(offsets) or len(offsets) != 2 or not 0 <= offsets[0] <= offsets[1] <= data_size:
            raise ModelFileError(f"{where} has data offsets outside the file")
        numel = 1
        for dim in shape:
            numel *= dim
        if offsets[1] - offsets[0] != numel * DTYPE_BYTES[dtype]:
            raise ModelFileError(f"{where}: {offsets[1] - offsets[0]:,} bytes do not hold shape {shape} of {dtype}")
        spans.append((offsets[0], offsets[1], name))
        tensors.append(RawTensor(name, dtype, tuple(shape), offsets[1] - offsets[0]))
    spans.sort()
    for (_, end, first), (start, _, second) in itertools.pairwise(spans):
        if start < end:
            raise ModelFileError(f"{file}: tensors {first[:60]!r} and {second[:60]!r} overlap")
    return tensors, {str(k): str(v) for k, v in metadata.items()}


def _ints(value: Any) -> TypeGuard[list[int]]:
    return isinstance(value, list) and all(
        isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= MAX_DIM for v in value
    )


def shard_files(folder: Path) -> list[Path]:
    """The folder's safetensors files: those its index names, else every *.safetensors."""
    index = folder / "model.safetensors.index.json"
    if not exists(index):
        found = sorted(folder.glob("*.safetensors"))
        own = [f for f in found if not f.name.startswith("consolidated")]
        found = own or found  # Mistral's consolidated file beside transformers' shards is the same weights again
        for file in found:
            if not inside(folder, file):
                raise ModelFileError(f"{file.name} links to a file outside the model folder")
        return found
    weight_map = json_object(read_limited(index, MAX_INDEX_BYTES, index.name), index.name).get("weight_map")
    if not isinstance(weight_map, dict) or not all(isinstance(v, str) for v in weight_map.values()):
        raise ModelFileError(f"{index.name} has no weight_map of file names")
    files = sorted(set(weight_map.values()))
    for name in files:
        if Path(name).name != name or name.startswith("."):
            raise ModelFileError(f"{index.name} names a file outside the folder: {name[:80]!r}")
        if not (folder / name).is_file():
            raise ModelFileError(f"{index.name} lists {name}, which is missing")
        if not inside(folder, folder / name):
            raise ModelFileError(f"{name} links to a file outside the model folder")
    return [folder / name for name in files]
