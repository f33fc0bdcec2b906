"""GGUF files written with the gguf package's writer, read back exactly; hostile ones refused cleanly."""

import contextlib
import struct
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.sources.model_files import write_gguf
from tests.sources.test_hf_folder import TINY
from vramscope.core.architecture import Architecture, LayerKind
from vramscope.core.estimate import Provenance, SegmentKind, estimate
from vramscope.core.precision import weight_format, weight_layout
from vramscope.core.scenario import Deployment, Source, Workload
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


def gguf_meta(arch_name: str, want: Architecture, keys: dict[str, Any]) -> dict[str, Any]:
    """llama.cpp's `{arch}.*` keys for `want`: the sizes every family writes, then the family's own `keys`."""
    common = {
        "block_count": want.num_layers,
        "embedding_length": want.hidden_size,
        "attention.head_count": want.num_attention_heads,
        "context_length": want.max_context,
        "vocab_size": want.vocab_size,
    }
    return {f"{arch_name}.{k}": v for k, v in {**common, **keys}.items()}


@pytest.mark.parametrize("preset", ["llama-4-scout-17b-16e", "llama-4-maverick-17b-128e"])
def test_a_llama4_gguf_reads_as_its_config_does(preset: str) -> None:
    """llama.cpp's llama4 keys (llama4.cpp): a shared expert as wide as the experts, MoE every
    interleave_moe_layer_step-th layer, chunked attention on three layers of four."""
    from vramscope.sources.gguf_file import architecture_from_gguf
    from vramscope.sources.presets import load_preset

    want = load_preset(preset).architecture
    assert want.moe is not None
    meta = gguf_meta(
        "llama4",
        want,
        {
            "feed_forward_length": want.intermediate_size,
            "attention.head_count_kv": want.num_kv_heads,
            "expert_count": want.moe.num_experts,
            "expert_used_count": want.moe.experts_per_token,
            "expert_feed_forward_length": want.moe.expert_intermediate_size,
            "interleave_moe_layer_step": want.moe.layer_period,
        },
    )
    got = architecture_from_gguf(meta, "llama4", tied=False)
    assert got.parameter_count() == want.parameter_count()  # 107,769,861,120 / 400,711,848,960
    assert got.active_parameter_count() == want.active_parameter_count()
    assert got.layer_types == want.layer_types and got.sliding_window == 8192
    assert got.kv_elements_per_token_total() == want.kv_elements_per_token_total()
    unchunked = architecture_from_gguf({**meta, "llama4.attention.sliding_window": 0}, "llama4", tied=False)
    assert not unchunked.layer_types  # a file that turns chunking off: every layer full


@pytest.mark.parametrize(
    ("arch_name", "preset"),
    [("qwen3next", "qwen3-next-80b-a3b"), ("qwen35", "qwen3.5-27b"), ("qwen35moe", "qwen3.5-35b-a3b")],
)
def test_a_gated_deltanet_gguf_reads_as_its_config_does(arch_name: str, preset: str) -> None:
    """llama.cpp's qwen3next / qwen35 / qwen35moe keys: ssm.group_count key heads, ssm.time_step_rank value
    heads, ssm.state_size the key head size, ssm.inner_size all value heads together (measured on llama.cpp:
    64 of 64 runs exact for each)."""
    from vramscope.sources.gguf_file import architecture_from_gguf
    from vramscope.sources.presets import load_preset

    want = load_preset(preset).architecture.model_copy(update={"vision": None})  # the encoder is its own mmproj
    assert want.linear is not None
    lin, moe = want.linear, want.moe
    experts = (
        {
            "expert_count": moe.num_experts,
            "expert_used_count": moe.experts_per_token,
            "expert_feed_forward_length": moe.expert_intermediate_size,
            "expert_shared_feed_forward_length": moe.shared_intermediate_size,
        }
        if moe is not None
        else {}
    )
    meta = gguf_meta(
        arch_name,
        want,
        {
            "feed_forward_length": want.intermediate_size,
            "attention.head_count_kv": want.num_kv_heads,
            "attention.key_length": want.head_dim,
            "attention.value_length": want.head_dim,
            "ssm.conv_kernel": lin.conv_kernel,
            "ssm.state_size": lin.key_head_dim,
            "ssm.group_count": lin.key_heads,
            "ssm.time_step_rank": lin.value_heads,
            "ssm.inner_size": lin.value_heads * lin.value_head_dim,
            "full_attention_interval": 4,
            **experts,
        },
    )
    got = architecture_from_gguf(meta, arch_name, tied=want.tie_word_embeddings)
    assert got.parameter_count() == want.parameter_count()
    assert got.active_parameter_count() == want.active_parameter_count()
    assert got.layer_types == want.layer_types
    assert got.kv_elements_per_token_total() == want.kv_elements_per_token_total()
    states = [(got.state_elements_per_sequence(i), want.state_elements_per_sequence(i)) for i in range(4)]
    assert all(a == b for a, b in states) and got.state_fp32


def hybrid_meta(arch_name: str, want: Architecture, ffn: list[int], **extra: Any) -> dict[str, Any]:
    """llama.cpp's keys for a Mamba-2 hybrid (nemotron_h, nemotron_h_moe, falcon-h1) described by `want`."""
    assert want.mamba is not None
    m = want.mamba
    keys = {
        "feed_forward_length": ffn,
        "attention.head_count_kv": [want.kv_heads(i) for i in range(want.num_layers)],
        "attention.key_length": want.head_dim,
        "ssm.conv_kernel": m.d_conv,
        "ssm.state_size": m.d_state,
        "ssm.group_count": m.groups,
        "ssm.time_step_rank": m.heads,
        "ssm.inner_size": m.heads * m.head_dim,
    }
    return gguf_meta(arch_name, want, {**keys, **extra})


def test_a_nemotron_h_gguf_reads_as_its_config_does() -> None:
    """llama.cpp's nemotron_h keys: per-layer K/V heads and feed-forward lengths say which layers attend,
    which are MLPs and which are Mamba-2."""
    from vramscope.sources.gguf_file import architecture_from_gguf
    from vramscope.sources.presets import load_preset

    want = load_preset("nemotron-h-56b").architecture
    ffn = [want.intermediate_size if want.ffn_kind(i).value == "dense" else 0 for i in range(want.num_layers)]
    meta = hybrid_meta("nemotron_h", want, ffn)
    got = architecture_from_gguf(meta, "nemotron_h", tied=False)
    assert got.parameter_count() == want.parameter_count() == 56_324_350_464
    assert got.layer_types == want.layer_types and got.ffn_types == want.ffn_types
    assert got.kv_elements_per_token_total() == want.kv_elements_per_token_total()
    assert [got.state_elements_per_sequence(i) for i in range(4)] == [
        want.state_elements_per_sequence(i) for i in range(4)
    ]


@pytest.mark.parametrize("source", ["nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-BF16", "synthetic/nemotron-h-latent-moe"])
def test_a_nemotron_h_moe_gguf_reads_as_its_config_does(source: str) -> None:
    """Nemotron 3 (nemotron_h_moe): the feed-forward layers are routed experts beside a shared expert, in a
    latent width when moe_latent_size is set (measured on llama.cpp: 64 of 64 runs exact)."""
    from tests.sources.test_families import architecture
    from vramscope.sources.gguf_file import architecture_from_gguf

    want = architecture(source)
    moe = want.moe
    assert moe is not None
    meta = hybrid_meta(
        "nemotron_h_moe",
        want,
        [moe.expert_intermediate_size if want.is_moe_layer(i) else 0 for i in range(want.num_layers)],
        expert_count=moe.num_experts,
        expert_used_count=moe.experts_per_token,
        expert_feed_forward_length=moe.expert_intermediate_size,
        expert_shared_feed_forward_length=moe.shared_intermediate_size,
        moe_latent_size=moe.latent_size,
    )
    got = architecture_from_gguf(meta, "nemotron_h_moe", tied=want.tie_word_embeddings)
    assert got.parameter_count() == want.parameter_count()
    assert got.active_parameter_count() == want.active_parameter_count()
    assert got.ffn_types == want.ffn_types
    assert got.kv_elements_per_token_total() == want.kv_elements_per_token_total()


def test_a_falcon_h1_gguf_reads_as_its_config_does() -> None:
    """llama.cpp's falcon-h1 keys give attention heads and the Mamba-2 sizes; every layer has both, and the
    gated norm is there only when the file holds blk.N.ssm_norm (measured on llama.cpp: 64 of 64 runs exact)."""
    from vramscope.sources.gguf_file import architecture_from_gguf
    from vramscope.sources.presets import load_preset

    want = load_preset("falcon-h1-0.5b").architecture
    assert want.mamba is not None
    m = want.mamba
    meta = hybrid_meta("falcon-h1", want, [want.intermediate_size] * want.num_layers)
    got = architecture_from_gguf(meta, "falcon-h1", tied=False, names=frozenset({"blk.0.ssm_in.weight"}))
    assert got.parameter_count() == want.parameter_count() == 521_411_104
    assert got.layer_types == want.layer_types
    assert got.kv_elements_per_token_total() == want.kv_elements_per_token_total()
    assert got.state_elements_per_sequence(0) == want.state_elements_per_sequence(0) > 0
    normed = architecture_from_gguf(meta, "falcon-h1", tied=False, names=frozenset({"blk.0.ssm_norm.weight"}))
    assert normed.parameter_count() - got.parameter_count() == want.num_layers * m.heads * m.head_dim


def gemma4_meta(want: Architecture) -> dict[str, Any]:
    """llama.cpp's gemma4 keys for an architecture (convert_hf_to_gguf.py's Gemma 4 writer)."""
    kinds = [want.layer_kind(i) for i in range(want.num_layers)]
    swa = [k is LayerKind.SLIDING for k in kinds]
    sliding, full = swa.index(True), swa.index(False)
    keys: dict[str, Any] = {
        "feed_forward_length": [want.ffn_width(i) for i in range(want.num_layers)],
        "attention.head_count_kv": [want.kv_heads(sliding if s else full) for s in swa],
        "attention.key_length": want.head_dims(full)[0],
        "attention.key_length_swa": want.head_dims(sliding)[0],
        "attention.sliding_window": want.sliding_window,
        "attention.sliding_window_pattern": swa,
        "attention.shared_kv_layers": want.kv_shared_layers,
        "embedding_length_per_layer_input": want.per_layer_input,
    }
    if want.moe is not None:
        keys |= {
            "expert_count": want.moe.num_experts,
            "expert_used_count": want.moe.experts_per_token,
            "expert_feed_forward_length": want.moe.expert_intermediate_size,
        }
    return gguf_meta("gemma4", want, keys)


@pytest.mark.parametrize("source", ["gemma-4-26b-a4b", "gemma-4-31b", "synthetic/gemma4-ple-shared"])
def test_a_gemma4_gguf_reads_as_its_config_does(source: str) -> None:
    """Per-kind head sizes and K/V heads, shared-cache layers, per-layer embeddings and widths, and the
    global layers' missing V projection (seen in the tensor names): measured on llama.cpp, 128 of 128 runs exact."""
    from tests.sources.test_families import architecture
    from vramscope.sources.gguf_file import architecture_from_gguf
    from vramscope.sources.presets import load_preset

    want = architecture(source) if source.startswith("synthetic/") else load_preset(source).architecture
    want = want.model_copy(update={"vision": None})  # the encoder ships in its own mmproj file
    assert want.full_attention is not None
    full = want.layer_types.index(LayerKind.FULL)
    names = {f"blk.{i}.attn_k.weight" for i in range(want.num_layers)}
    names |= {f"blk.{i}.attn_v.weight" for i in range(want.num_layers) if i != full or not want.full_attention.k_eq_v}
    got = architecture_from_gguf(gemma4_meta(want), "gemma4", tied=True, names=frozenset(names))
    assert got.parameter_count() == want.parameter_count()
    assert got.active_parameter_count() == want.active_parameter_count()
    assert got.kv_elements_per_token_total() == want.kv_elements_per_token_total()
    assert [got.kv_elements_per_token(i) for i in range(got.num_layers)] == [
        want.kv_elements_per_token(i) for i in range(want.num_layers)
    ]


def test_a_deepseek4_gguf_is_refused_by_name_not_miscounted() -> None:
    from vramscope.sources.gguf_file import architecture_from_gguf

    with pytest.raises(ModelFileError, match=r"deepseek4 is not read yet: .*config\.json folder"):
        architecture_from_gguf({"deepseek4.block_count": 43}, "deepseek4", tied=False)


@pytest.mark.parametrize("arch_name", ["deepseek32", "glm-dsa"])
def test_an_indexer_gguf_caches_its_key_beside_the_latent(arch_name: str) -> None:
    """DeepSeek-V3.2 / GLM-5 in llama.cpp's keys: the lightning indexer's key (attention.indexer.key_length)
    is cached beside the 512 + 64 latent (llama-kv-cache-dsa.cpp; measured: 64 of 64 runs exact)."""
    from vramscope.sources.gguf_file import architecture_from_gguf
    from vramscope.sources.presets import load_preset

    want = load_preset("deepseek-v3.2").architecture
    assert want.mla is not None and want.indexer is not None and want.moe is not None
    mla, moe = want.mla, want.moe
    meta = gguf_meta(
        arch_name,
        want,
        {
            "feed_forward_length": want.intermediate_size,
            "attention.head_count_kv": 1,
            "attention.key_length": mla.kv_lora_rank + mla.qk_rope_head_dim,
            "attention.value_length": mla.kv_lora_rank,
            "attention.key_length_mla": mla.qk_nope_head_dim + mla.qk_rope_head_dim,
            "attention.value_length_mla": mla.v_head_dim,
            "attention.q_lora_rank": mla.q_lora_rank,
            "attention.kv_lora_rank": mla.kv_lora_rank,
            "rope.dimension_count": mla.qk_rope_head_dim,
            "leading_dense_block_count": moe.first_dense_layers,
            "expert_count": moe.num_experts,
            "expert_used_count": moe.experts_per_token,
            "expert_feed_forward_length": moe.expert_intermediate_size,
            "expert_shared_count": 1,
            "attention.indexer.head_count": want.indexer.heads,
            "attention.indexer.key_length": want.indexer.head_dim,
        },
    )
    got = architecture_from_gguf(meta, arch_name, tied=False)
    assert got.indexer == want.indexer
    assert got.kv_elements_per_token(5) == 512 + 64 + 128
    assert got.kv_elements_per_token_total() == want.kv_elements_per_token_total()
    if arch_name == "glm-dsa":  # GLM 5.2 gives indexers to some layers only
        with pytest.raises(ModelFileError, match=r"per-layer indexer types \(GLM 5\.2\) is not read yet"):
            architecture_from_gguf(
                {**meta, "glm-dsa.attention.indexer.types": [1, 0] * 30 + [1]}, arch_name, tied=False
            )


def test_a_mimo2_gguf_gives_each_layer_kind_its_own_heads() -> None:
    """MiMo-V2 in llama.cpp's keys: per-layer K/V heads (8 on sliding layers, 4 on global ones), keys of 192 and
    values of 128 in both kinds (key_length / value_length and their _swa twins; measured: 64 of 64 runs exact)."""
    from tests.sources.test_families import architecture
    from vramscope.sources.gguf_file import architecture_from_gguf

    want = architecture("XiaomiMiMo/MiMo-V2-Flash")
    kinds = [want.layer_kind(i) for i in range(want.num_layers)]
    meta = gguf_meta(
        "mimo2",
        want,
        {
            "feed_forward_length": want.intermediate_size,
            "attention.head_count_kv": [want.kv_heads(i) for i in range(want.num_layers)],
            "attention.key_length": 192,
            "attention.value_length": 128,
            "attention.key_length_swa": 192,
            "attention.value_length_swa": 128,
            "attention.sliding_window": want.sliding_window,
            "attention.sliding_window_pattern": [k is LayerKind.SLIDING for k in kinds],
        },
    )
    got = architecture_from_gguf(meta, "mimo2", tied=False)
    assert [got.kv_elements_per_token(i) for i in range(got.num_layers)] == [
        want.kv_elements_per_token(i) for i in range(want.num_layers)
    ]
    assert got.kv_elements_per_token(kinds.index(LayerKind.SLIDING)) == 8 * (192 + 128)
