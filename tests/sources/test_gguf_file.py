"""GGUF files written with the gguf package's writer, read back exactly; hostile ones refused cleanly."""

import contextlib
import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fixtures.model_files import write_gguf
from tests.sources.test_hf_folder import TINY
from vramscope.core.estimate import Provenance, SegmentKind, estimate
from vramscope.core.precision import weight_format, weight_layout
from vramscope.core.scenario import Deployment, Engine, Source, Workload
from vramscope.sources.errors import ModelFileError
from vramscope.sources.gguf_file import read_gguf
from vramscope.sources.hf_config import architecture_from_config
from vramscope.sources.resolve import open_path

ARCH = architecture_from_config(TINY)


@pytest.fixture(scope="module")
def tiny_gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("gguf") / "tiny-Q4_K_M.gguf"
    write_gguf(path, ARCH)
    return path


def test_reads_architecture_and_exact_tensor_bytes(tiny_gguf: Path) -> None:
    model = open_path(tiny_gguf)
    assert model.source is Source.GGUF and model.native_format == "q4_k_m"
    assert model.architecture == ARCH
    assert model.parameter_count() == ARCH.parameter_count()
    assert model.inventory is not None and model.inventory.file_type == "Q4_K_M"
    # 2 layers: only layer 1 is a "more bits" layer, so output + its attn_v and ffn_down are Q6_K
    assert model.inventory.dtype_counts() == {"Q4_K": 13, "F32": 5, "Q6_K": 3}
    layout = weight_layout(ARCH, weight_format("q4_k_m"), 1)  # the same rules, priced from the architecture
    assert model.inventory.stored_bytes() == sum(layout.per_layer) + layout.first_stage + layout.last_stage
    weights = estimate(model, Workload(context=1024), Deployment()).per_gpu[0].segment(SegmentKind.WEIGHTS)
    assert weights.provenance is Provenance.EXACT and weights.note == "exact: 21 tensors from 1 gguf file"
    assert model.source_detail.endswith("file type Q4_K_M")


def test_per_layer_head_counts(tmp_path: Path) -> None:
    path = tmp_path / "heads.gguf"
    write_gguf(path, ARCH, head_counts=[4, 4])
    assert read_gguf(path).architecture.num_attention_heads == 4
    write_gguf(path, ARCH, head_counts=[4, 4, 4])
    with pytest.raises(ModelFileError, match="3 entries for 2 layers"):
        read_gguf(path)


def test_split_files_read_as_one_model(tmp_path: Path) -> None:
    write_gguf(tmp_path / "tiny.gguf", ARCH, split_max_tensors=8)
    parts = sorted(tmp_path.iterdir())
    assert [p.name for p in parts] == [f"tiny-0000{i}-of-00003.gguf" for i in (1, 2, 3)]
    model = read_gguf(parts[0])
    assert model.parameter_count() == ARCH.parameter_count()
    assert model.inventory is not None and model.inventory.describe() == "21 tensors from 3 gguf files"
    parts[2].unlink()
    with pytest.raises(ModelFileError, match="incomplete"):
        read_gguf(parts[0])


def header(n_tensors: int = 0, n_keys: int = 0, version: int = 3) -> bytes:
    return b"GGUF" + struct.pack("<IQQ", version, n_tensors, n_keys)


def key(name: str, kind: int, payload: bytes) -> bytes:
    raw = name.encode()
    return struct.pack("<Q", len(raw)) + raw + struct.pack("<I", kind) + payload


@pytest.mark.parametrize(
    ("blob", "message"),
    [
        (b"NOPE" + bytes(40), "not a GGUF file"),
        (header(version=1) + bytes(16), "version 1 is not supported"),
        (header(n_tensors=10**12) + bytes(16), "beyond any real model"),
        (header(n_keys=1) + struct.pack("<Q", 10**15) + bytes(16), "runs past the end"),
        (header(n_keys=1) + key("x", 77, b"") + bytes(16), "unknown value type 77"),
        (
            header(n_keys=1) + key("a", 9, struct.pack("<IQ", 9, 2) + struct.pack("<IQ", 9, 1) * 2) + bytes(8),
            "nested too deeply",
        ),
        (header(n_keys=1) + key("a", 9, struct.pack("<IQ", 8, 10**12)) + bytes(16), "runs past the end"),
        (header(n_keys=2) + key("general.architecture", 8, struct.pack("<Q", 5) + b"llama"), "truncated"),
        (
            header(n_tensors=1)
            + struct.pack("<Q", 1)
            + b"t"
            + struct.pack("<I", 1)
            + struct.pack("<Q", 32)
            + struct.pack("<IQ", 999, 0)
            + bytes(64),
            "unknown ggml type 999",
        ),
        (header(n_tensors=1) + struct.pack("<Q", 1) + b"t" + struct.pack("<I", 9), "dimensions"),
        (b"GG", "too short"),
    ],
)
def test_hostile_files(tmp_path: Path, blob: bytes, message: str) -> None:
    path = tmp_path / "bad.gguf"
    path.write_bytes(blob)
    with pytest.raises(ModelFileError, match=message):
        read_gguf(path)


def test_tensor_past_the_end(tiny_gguf: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(tiny_gguf.read_bytes()[:-4096])
    with pytest.raises(ModelFileError, match="past the end of the file"):
        read_gguf(cut)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=300))
def test_fuzz_random_bytes(tmp_path: Path, blob: bytes) -> None:
    path = tmp_path / "f.gguf"
    path.write_bytes(b"GGUF" + blob)
    with contextlib.suppress(ModelFileError):
        read_gguf(path)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(min_value=0, max_value=4000), st.binary(min_size=1, max_size=8))
def test_fuzz_mutated_header(tmp_path: Path, tiny_gguf: Path, position: int, patch: bytes) -> None:
    blob = bytearray(tiny_gguf.read_bytes())
    blob[position : position + len(patch)] = patch
    path = tmp_path / "f.gguf"
    path.write_bytes(bytes(blob))
    with contextlib.suppress(ModelFileError):
        read_gguf(path)


def test_a_key_given_twice_is_refused(tmp_path: Path) -> None:
    arch_key = key("general.architecture", 8, struct.pack("<Q", 5) + b"llama")
    path = tmp_path / "twice.gguf"
    path.write_bytes(header(n_keys=2) + arch_key + arch_key + bytes(32))
    with pytest.raises(ModelFileError, match="appears twice"):
        read_gguf(path)


def test_nested_arrays_cannot_make_memory_grow_with_the_file() -> None:
    """Inner arrays are kept as Python numbers only up to a budget for the whole header; past it they are
    counted (a GGUF of nested arrays used to take about 8 bytes of memory per byte of file)."""
    from vramscope.sources.gguf_file import MAX_KEPT, _Counted, _Cursor, _parse

    inner = struct.pack("<IQ", 5, 16) + bytes(16 * 4)
    outer = struct.pack("<IQ", 9, 20_000) + inner * 20_000  # 320,000 numbers, a few MB of file
    blob = header(n_keys=4) + b"".join(key(f"k{i}", 9, outer) for i in range(4)) + bytes(32)
    cursor = _Cursor(blob, "nested.gguf")
    metadata, _ = _parse(cursor)
    assert cursor.kept <= MAX_KEPT < 4 * 320_000
    assert isinstance(metadata["k3"], _Counted)  # the last arrays of arrays were only counted


def test_a_fractional_block_count_is_refused() -> None:
    from vramscope.sources.gguf_file import architecture_from_gguf

    meta = {"llama.block_count": 2.5, "llama.embedding_length": 64, "llama.attention.head_count": 4}
    with pytest.raises(ModelFileError, match="block_count is malformed"):
        architecture_from_gguf(meta, "llama", tied=True)


def test_mtp_layers_are_priced_but_hold_no_cache(tmp_path: Path) -> None:
    # llama.cpp b11434 (llama-kv-cache.cpp): the model's context caches its own layers only; the nextn
    # layers' tensors are loaded with the rest
    three = ARCH.model_copy(update={"num_layers": 3})
    write_gguf(tmp_path / "mtp.gguf", three, nextn=1)
    model = read_gguf(tmp_path / "mtp.gguf")
    assert model.architecture.num_layers == 2
    assert model.architecture.kv_elements_per_token(0, 1) * 2 == sum(
        model.architecture.kv_elements_per_token(i, 1) for i in range(2)
    )
    assert model.inventory is not None and any(s.tensor.name.startswith("blk.2.") for s in model.inventory.tensors)
    write_gguf(tmp_path / "plain.gguf", three)
    plain = read_gguf(tmp_path / "plain.gguf")
    workload = Workload(context=4096)
    est = estimate(model, workload, Deployment(engine=Engine.LLAMACPP))
    est_plain = estimate(plain, workload, Deployment(engine=Engine.LLAMACPP))
    assert est.kv_cache_bytes * 3 == est_plain.kv_cache_bytes * 2  # two layers' cache, not three
    assert est.weights_bytes == est_plain.weights_bytes  # every block's tensors
