"""GGUF files: metadata and tensor infos only, read from the header through a memory map.

The type tables come from the `gguf` package (maintained with llama.cpp). The walk over the header is ours
so that every count, length and offset a hostile file gives is bounded before it is used; tensor data is
never touched, so reading costs the same for a 100 MB and a 100 GB file.
"""

import mmap
import os
import re
import struct
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from vramscope.core.architecture import MLA, Architecture, AttentionShape, Indexer, LayerKind, Mamba, MoE
from vramscope.core.inventory import StoredTensor, TensorInventory
from vramscope.core.precision import WEIGHT_FORMATS
from vramscope.core.scenario import ModelSpec, Source, validation_message
from vramscope.sources.errors import ModelFileError, plausible
from vramscope.sources.families import Family, Kinds, gguf_family
from vramscope.sources.files import open_regular
from vramscope.sources.gguf_keys import GgufKeys, GgufShape, per_layer, size
from vramscope.sources.tensor_names import classify

GGUF_MAGIC = b"GGUF"
MAX_TENSORS = 100_000  # merged-expert GGUFs hold a few thousand; a million took 10 s to walk
MAX_KEYS = 100_000
MAX_STRING = 64 * 1024 * 1024
MAX_ARRAYS = 100_000  # arrays inside arrays over the whole header (real files have none or a few)
MAX_TEXT = 16 * 1024 * 1024  # string values kept over the whole header (a chat template is a few KiB)
MAX_DIMS = 8
MAX_LAYERS = 10_000
MAX_KEPT = 1_000_000  # array elements kept over the whole header (per-layer arrays need a few thousand)
KEEP_ARRAY = 65_536  # numeric arrays up to this length are kept (per-layer heads); longer ones only counted
_SPLIT = re.compile(r"^(?P<stem>.*)-(?P<index>\d{5})-of-(?P<count>\d{5})\.gguf$")

# GGUFValueType: scalar struct formats
_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
_STRING, _ARRAY = 8, 9


@lru_cache(maxsize=1)
def _ggml_types() -> dict[int, tuple[str, int, int]]:
    """ggml type id -> (name, block size, bytes per block), from the gguf package."""
    import gguf

    return {
        int(t): (t.name, *gguf.GGML_QUANT_SIZES[t]) for t in gguf.GGMLQuantizationType if t in gguf.GGML_QUANT_SIZES
    }


@lru_cache(maxsize=1)
def _file_types() -> dict[int, str]:
    import gguf

    return {int(t): t.name.removeprefix("MOSTLY_") for t in gguf.LlamaFileType}


class _Cursor:
    """Bounded reads from the header."""

    def __init__(self, data: mmap.mmap | bytes, name: str) -> None:
        self.data, self.pos, self.name = data, 0, name
        self.kept = 0  # array elements held as Python values so far: bounded, whatever the file says
        self.text = 0  # bytes of string values held so far: bounded the same way
        self.arrays = 0  # arrays inside arrays read so far

    def fail(self, what: str) -> ModelFileError:
        return ModelFileError(f"{self.name}: {what} (at byte {self.pos:,})")

    def unpack(self, fmt: str) -> Any:
        size = struct.calcsize(fmt)
        if self.pos + size > len(self.data):
            raise self.fail("truncated header")
        (value,) = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += size
        return value

    def string(self) -> str:
        length = self.unpack("<Q")
        if length > MAX_STRING or self.pos + length > len(self.data):
            raise self.fail(f"string of {length:,} bytes runs past the end")
        raw = self.data[self.pos : self.pos + length]
        self.pos += length
        self.text += length
        if self.text > MAX_TEXT:
            raise self.fail(f"more than {MAX_TEXT // 2**20} MiB of metadata text: not a model's header")
        return bytes(raw).decode("utf-8", errors="replace")

    def skip_strings(self, count: int) -> None:
        data, pos, end = self.data, self.pos, len(self.data)
        unpack = struct.Struct("<Q").unpack_from
        for _ in range(count):
            if pos + 8 > end:
                raise self.fail("truncated string array")
            pos += 8 + unpack(data, pos)[0]
        if pos > end:
            raise self.fail("string array runs past the end")
        self.pos = pos

    def value(self, kind: int, depth: int = 0) -> Any:
        if kind in _SCALARS:
            return self.unpack(_SCALARS[kind])
        if kind == _STRING:
            return self.string()
        if kind != _ARRAY:
            raise self.fail(f"unknown value type {kind}")
        if depth > 1:
            raise self.fail("arrays nested too deeply")
        inner, count = self.unpack("<I"), self.unpack("<Q")
        if inner in _SCALARS:
            size = struct.calcsize(_SCALARS[inner])
            if count * size > len(self.data) - self.pos:
                raise self.fail(f"array of {count:,} items runs past the end")
            if count > KEEP_ARRAY or self.kept + count > MAX_KEPT:
                self.pos += count * size
                return _Counted(count)
            self.kept += count
            values = struct.unpack_from(f"<{count}{_SCALARS[inner][1]}", self.data, self.pos)
            self.pos += count * size
            return list(values)
        if inner == _STRING:
            if count * 8 > len(self.data) - self.pos:
                raise self.fail(f"array of {count:,} strings runs past the end")
            self.skip_strings(count)
            return _Counted(count)
        if count > KEEP_ARRAY:
            raise self.fail(f"array of {count:,} arrays is beyond any real model")
        self.arrays += count  # every inner array is read, empty or not: their number is bounded too
        if self.arrays > MAX_ARRAYS:
            raise self.fail(f"more than {MAX_ARRAYS:,} nested arrays: not a model's header")
        if self.kept + count > MAX_KEPT:  # past the budget: read them, keep only their number
            for _ in range(count):
                self.value(inner, depth + 1)
            return _Counted(count)
        self.kept += count
        return [self.value(inner, depth + 1) for _ in range(count)]


class _Counted(int):
    """A long array we only counted (tokenizer vocabularies)."""


def read_gguf(path: Path) -> ModelSpec:
    """A .gguf file, or the first of a split set (…-00001-of-00005.gguf), as a model with exact tensors."""
    parts = _parts(path)
    metadata, tensors = _read_one(parts[0])
    for part in parts[1:]:
        tensors += _read_one(part)[1]
    arch_name = str(metadata.get("general.architecture", ""))
    if not arch_name:
        raise ModelFileError(f"{path.name}: no general.architecture key")
    names = {t.tensor.name for t in tensors}
    arch = architecture_from_gguf(metadata, arch_name, tied="output.weight" not in names, names=frozenset(names))
    declared = metadata.get("general.file_type")
    file_type = _file_types().get(declared, "") if isinstance(declared, int) else ""
    native = file_type.lower() if file_type.lower() in WEIGHT_FORMATS else (file_type.lower() or "gguf")
    inventory = TensorInventory(tuple(tensors), len(parts), "gguf", file_type or None)
    return ModelSpec(
        name=str(metadata.get("general.name") or path.stem),
        source=Source.GGUF,
        source_detail=f"{path.name}: {inventory.describe()}" + (f", file type {file_type}" if file_type else ""),
        path=str(path.resolve()),
        architecture=arch,
        native_format=native,
        inventory=inventory,
    )


def _parts(path: Path) -> list[Path]:
    match = _SPLIT.match(path.name)
    if match is None:
        return [path]
    count = int(match.group("count"))
    if not 1 <= count <= 10_000 or int(match.group("index")) > count:
        raise ModelFileError(f"{path.name}: not a valid split-file name")
    parts = [path.with_name(f"{match.group('stem')}-{i:05d}-of-{count:05d}.gguf") for i in range(1, count + 1)]
    missing = [p.name for p in parts if not p.is_file()]
    if missing:
        raise ModelFileError(f"split GGUF is incomplete: {', '.join(missing[:3])} missing")
    return parts


def _read_one(path: Path) -> tuple[dict[str, Any], list[StoredTensor]]:
    try:
        with open_regular(path) as f:
            if os.fstat(f.fileno()).st_size < 24:
                raise ModelFileError(f"{path.name} is too short to be a GGUF file")
            with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
                return _parse(_Cursor(data, path.name))
    except OSError as exc:
        raise ModelFileError(f"cannot read {path}: {exc.strerror or exc}") from None


def _parse(cur: _Cursor) -> tuple[dict[str, Any], list[StoredTensor]]:
    if bytes(cur.data[:4]) != GGUF_MAGIC:
        raise ModelFileError(f"{cur.name} is not a GGUF file (no GGUF magic)")
    cur.pos = 4
    version = cur.unpack("<I")
    if version not in (2, 3):
        raise cur.fail(f"GGUF version {version} is not supported (2 and 3 are)")
    n_tensors, n_keys = cur.unpack("<Q"), cur.unpack("<Q")
    if n_tensors > MAX_TENSORS or n_keys > MAX_KEYS:
        raise cur.fail(f"{n_tensors:,} tensors and {n_keys:,} keys is beyond any real model")
    metadata: dict[str, Any] = {}
    for _ in range(n_keys):
        key = cur.string()
        if key in metadata:
            raise cur.fail(f"key {key[:60]!r} appears twice (llama.cpp refuses such a file)")
        metadata[key] = cur.value(cur.unpack("<I"))
    types = _ggml_types()
    infos = []
    for _ in range(n_tensors):
        name = cur.string()
        n_dims = cur.unpack("<I")
        if n_dims > MAX_DIMS:
            raise cur.fail(f"tensor {name[:60]!r} has {n_dims} dimensions")
        dims = [cur.unpack("<Q") for _ in range(n_dims)]
        kind, offset = cur.unpack("<I"), cur.unpack("<Q")
        if kind not in types:
            raise cur.fail(f"tensor {name[:60]!r} has unknown ggml type {kind}")
        infos.append((name, dims, kind, offset))
    alignment = metadata.get("general.alignment", 32)
    if not isinstance(alignment, int) or not 1 <= alignment <= 1 << 20:
        raise cur.fail(f"bad general.alignment {alignment!r}")
    data_start = -(-cur.pos // alignment) * alignment
    data_size = len(cur.data) - data_start
    tensors = []
    for name, dims, kind, offset in infos:
        type_name, block, block_bytes = types[kind]
        numel = 1
        for d in dims:
            numel *= d
        if dims and dims[0] % block:
            raise cur.fail(f"tensor {name[:60]!r}: row of {dims[0]} does not divide into {type_name} blocks")
        nbytes = numel // block * block_bytes
        if offset + nbytes > data_size:
            raise cur.fail(f"tensor {name[:60]!r} lies past the end of the file")
        shape = tuple(reversed(dims))  # ggml lists the row length first
        is_parameter = not name.startswith("rope_freqs")  # a precomputed RoPE table, not a weight
        tensors.append(StoredTensor(classify(name, shape), type_name, nbytes, is_parameter))
    return metadata, tensors


def architecture_from_gguf(
    meta: dict[str, Any], arch: str, tied: bool, names: frozenset[str] = frozenset()
) -> Architecture:
    """The Architecture `{arch}.*` keys describe (llama.cpp's names): the rules every family shares, then the
    family's own (`sources/families/`). `tied` (no output matrix) and the file's tensor `names`, where known,
    say what no key states: Mamba-2's gated norm, Gemma 4's value projections."""
    fam = gguf_family(arch)
    if fam.gguf_refused:
        raise ModelFileError(f"GGUF {arch} is not read yet: {fam.gguf_refused}")
    try:
        return plausible(_architecture(fam, GgufKeys(meta, arch), meta, tied, names), "the GGUF metadata")
    except ValidationError as exc:
        raise ModelFileError(f"GGUF metadata describes an impossible model: {validation_message(exc)}") from None
    except (TypeError, ValueError, ZeroDivisionError, OverflowError) as exc:
        raise ModelFileError(f"GGUF metadata under '{arch}.' is missing or malformed: {exc}") from None


def _shape(g: GgufKeys, meta: dict[str, Any], names: frozenset[str]) -> GgufShape:
    if g.get("block_count") is None or g.get("embedding_length") is None or g.get("attention.head_count") is None:
        raise ModelFileError(f"GGUF lacks {g.arch}.block_count, embedding_length or attention.head_count")
    layers = g.whole("block_count")
    if not 1 <= layers <= MAX_LAYERS:
        raise ModelFileError(f"GGUF {g.arch}.block_count of {layers:,} is not a real model's")
    hidden = g.whole("embedding_length")
    heads = per_layer(g.get("attention.head_count"), layers, "attention.head_count")
    kv_heads = per_layer(
        g.get("attention.head_count_kv", g.get("attention.head_count")), layers, "attention.head_count_kv"
    )
    ffn = per_layer(g.get("feed_forward_length", 4 * hidden), layers, "feed_forward_length")
    tokens = meta.get("tokenizer.ggml.tokens")
    vocab = g.whole("vocab_size", int(tokens) if isinstance(tokens, int) else 0)  # the tokens array, counted
    return GgufShape(layers, hidden, heads, kv_heads, ffn, vocab, names)


def _architecture(fam: Family, g: GgufKeys, meta: dict[str, Any], tied: bool, names: frozenset[str]) -> Architecture:
    shape = _shape(g, meta, names)
    heads, kv_heads = shape.heads, shape.kv_heads
    n_heads = max(heads)
    if n_heads == 0 and g.get("ssm.state_size"):  # a model of Mamba layers only: no attention to size
        heads = kv_heads = (1,) * shape.layers
        n_heads = 1
    head_dim = g.whole("attention.key_length", shape.hidden // n_heads if n_heads else 0)
    fields: dict[str, Any] = {
        "model_type": g.arch,
        "vocab_size": shape.vocab,
        "hidden_size": shape.hidden,
        "num_layers": shape.layers,
        "num_attention_heads": n_heads,
        "num_kv_heads": max(kv_heads) or 1,
        "head_dim": head_dim,
        "intermediate_size": max(shape.ffn) or 1,
        "max_context": g.whole("context_length", 2048),
        "tie_word_embeddings": tied,
    }
    value_length = g.get("attention.value_length")
    if value_length and value_length != head_dim:
        fields["v_head_dim"] = size(value_length, f"{g.arch}.attention.value_length")
    if len(set(heads)) > 1:
        fields["q_heads_per_layer"] = heads
    if len(set(kv_heads)) > 1:
        fields["kv_heads_per_layer"] = kv_heads
    fields.update(_attention_and_experts(g, shape, head_dim, value_length))
    kinds = fam.gguf_kinds(g, shape) if fam.gguf_kinds is not None else None
    if kinds is None:
        kinds = _layer_kinds(fam, g, shape)
    if g.get("attention.key_length_swa") is not None and LayerKind.SLIDING in kinds:
        fields.update(_kind_shapes(g.whole, kinds, heads, kv_heads, names))
    if kinds:
        fields["layer_types"] = kinds
        if LayerKind.SLIDING in kinds:
            fields["sliding_window"] = g.whole("attention.sliding_window")
        if any(k.has_mamba for k in kinds):
            fields["mamba"] = _mamba(g, shape)
    if fam.gguf_fields is not None:
        fields.update(fam.gguf_fields(g, shape, fields))
    return Architecture.model_validate(fields)


def _attention_and_experts(g: GgufKeys, shape: GgufShape, head_dim: int, value_length: Any) -> dict[str, Any]:
    """What the shared keys say of experts, latent attention (MLA) and the lightning indexer."""
    fields: dict[str, Any] = {}
    if g.get("expert_count"):
        fields["moe"] = MoE(
            num_experts=g.whole("expert_count"),
            experts_per_token=g.whole("expert_used_count", 1),
            expert_intermediate_size=g.whole("expert_feed_forward_length", max(shape.ffn)),
            shared_intermediate_size=g.whole("expert_shared_count", 0) * g.whole("expert_feed_forward_length", 0),
            first_dense_layers=g.whole("leading_dense_block_count", 0),
        )
    if g.get("attention.kv_lora_rank"):
        rope = g.whole("rope.dimension_count", 64)
        fields["mla"] = MLA(
            q_lora_rank=g.whole("attention.q_lora_rank", 0) or None,
            kv_lora_rank=g.whole("attention.kv_lora_rank"),
            qk_nope_head_dim=max(1, g.whole("attention.key_length_mla", head_dim) - rope),
            qk_rope_head_dim=rope,
            v_head_dim=g.whole("attention.value_length_mla", value_length or head_dim),
        )
    if g.get("attention.indexer.head_count"):  # DeepSeek-V3.2 / GLM-5: the lightning indexer caches one more key
        fields["indexer"] = Indexer(
            heads=g.whole("attention.indexer.head_count"), head_dim=g.whole("attention.indexer.key_length")
        )
    return fields


def _mamba(g: GgufKeys, shape: GgufShape) -> Mamba:
    """Mamba (1 or 2) in the ssm.* keys; Mamba-2 when ssm.group_count is given (dt_rank is then the heads)."""
    inner = g.whole("ssm.inner_size", 2 * shape.hidden)
    mamba2 = g.get("ssm.group_count") is not None
    ssm_heads = g.whole("ssm.time_step_rank", 1)
    return Mamba(
        d_state=g.whole("ssm.state_size", 16),
        d_conv=g.whole("ssm.conv_kernel", 4),
        expand=max(1, inner // shape.hidden),
        dt_rank=ssm_heads,
        heads=ssm_heads if mamba2 else 0,
        head_dim=inner // ssm_heads if mamba2 else 0,
        groups=g.whole("ssm.group_count", 1) if mamba2 else 1,
        gated_norm=not shape.names or "blk.0.ssm_norm.weight" in shape.names,
    )


def _kind_shapes(
    whole: Any, kinds: tuple[LayerKind, ...], heads: tuple[int, ...], kv_heads: tuple[int, ...], names: frozenset[str]
) -> dict[str, Any]:
    """Sliding and global layers each with their own head sizes (attention.key_length_swa beside key_length, as
    llama.cpp reads for every family: Gemma 4, MiMo-V2) and K/V heads; a global layer whose file has a key but
    no value projection uses its key as the value (Gemma 4)."""
    out: dict[str, Any] = {}
    for kind, suffix, field in (
        (LayerKind.SLIDING, "_swa", "sliding_attention"),
        (LayerKind.FULL, "", "full_attention"),
    ):
        if kind not in kinds:
            continue
        i = kinds.index(kind)
        k = whole(f"attention.key_length{suffix}")
        v = whole(f"attention.value_length{suffix}", k)
        k_eq_v = kind is LayerKind.FULL and f"blk.{i}.attn_k.weight" in names and f"blk.{i}.attn_v.weight" not in names
        out[field] = AttentionShape(
            q_heads=heads[i], kv_heads=kv_heads[i], head_dim=k, v_head_dim=v if v != k else None, k_eq_v=k_eq_v
        )
    return out


def _layer_kinds(fam: Family, g: GgufKeys, shape: GgufShape) -> Kinds:
    """Sliding layers where the file gives a window: by its per-layer pattern, else by the family's rhythm;
    layers of no K/V heads but a state size are Mamba."""
    recurrent = [h == 0 and bool(g.get("ssm.state_size")) for h in shape.kv_heads]
    window = size(g.get("attention.sliding_window", 0), f"{g.arch}.attention.sliding_window")
    pattern = g.get("attention.sliding_window_pattern")
    if window and isinstance(pattern, list):
        if len(pattern) != shape.layers or any(type(p) not in (bool, int) for p in pattern):
            raise ModelFileError(
                f"GGUF {g.arch}.attention.sliding_window_pattern needs one flag for each of {shape.layers} layers"
            )
        sliding = [bool(p) for p in pattern]
    elif window:
        sliding = _rhythm(fam.gguf_sliding, g, shape.layers)
    else:
        sliding = [False] * shape.layers
    kinds = tuple(
        LayerKind.MAMBA if r else (LayerKind.SLIDING if s else LayerKind.FULL)
        for r, s in zip(recurrent, sliding, strict=True)
    )
    return kinds if any(k is not LayerKind.FULL for k in kinds) else ()


def _rhythm(rule: str, g: GgufKeys, layers: int) -> list[bool]:
    if rule == "alternate":
        return [i % 2 == 0 for i in range(layers)]
    if rule == "every":
        pattern = g.get("attention.sliding_window_pattern")
        every = size(pattern, f"{g.arch}.attention.sliding_window_pattern") if pattern else 6
        return [(i + 1) % every != 0 for i in range(layers)]
    return [rule == "all"] * layers
