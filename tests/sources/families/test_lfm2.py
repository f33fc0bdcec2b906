"""LFM2: short-convolution layers with attention at a few, read from a GGUF as llama.cpp writes it and priced
as llama.cpp holds it: the KV cache of the attention layers and an f32 state of (l_cache - 1) x hidden per
convolution layer and sequence (llama-memory-recurrent.cpp), measured to the byte by llama.cpp b11434 on the
CPU for the same tiny file (context_bytes of llama_get_memory_breakdown)."""

from pathlib import Path

import pytest

from tests.fixtures.families import architecture
from tests.fixtures.model_files import write_lfm2_gguf
from vramscope.core.architecture import LayerKind
from vramscope.core.engines.vllm import KvPages
from vramscope.core.estimate import estimate
from vramscope.core.precision import KV_DTYPES
from vramscope.core.scenario import Deployment, Engine, EngineSettings, Workload
from vramscope.sources.gguf_file import read_gguf
from vramscope.sources.presets import load_preset


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("lfm2") / "lfm2-tiny-F16.gguf"
    write_lfm2_gguf(path)
    return path


def test_the_gguf_reads_as_convolutions_and_two_attention_layers(tiny: Path) -> None:
    arch = read_gguf(tiny).architecture
    kinds = [arch.layer_kind(i) for i in range(arch.num_layers)]
    assert kinds == [LayerKind.SHORT_CONV] * 2 + [LayerKind.FULL] + [LayerKind.SHORT_CONV] * 2 + [LayerKind.FULL]
    assert arch.short_conv is not None and arch.short_conv.kernel == 3 and arch.tie_word_embeddings


@pytest.mark.parametrize(
    ("n_ctx", "seqs", "unified", "context_bytes"),
    [  # llama.cpp b11434, -ub 512, f16 K/V: the memory breakdown's context bytes
        (512, 1, False, 133_120),
        (512, 2, False, 135_168),
        (512, 4, False, 270_336),  # 4 streams of pad(128) = 256 cells
        (512, 4, True, 139_264),
        (4096, 1, False, 1_050_624),
        (4096, 4, False, 1_056_768),
        (4096, 4, True, 1_056_768),
    ],
)
def test_cache_and_state_as_llama_cpp_holds_them(
    tiny: Path, n_ctx: int, seqs: int, unified: bool, context_bytes: int
) -> None:
    model = read_gguf(tiny)
    workload = Workload(context=n_ctx // seqs, batch=seqs)
    settings = EngineSettings(n_gpu_layers=0, kv_unified=unified)
    details = estimate(model, workload, Deployment(engine=Engine.LLAMACPP, settings=settings)).engine_details
    cache = int(details["kv_full_bytes"] or 0) + int(details["kv_recurrent_bytes"] or 0)
    assert cache == context_bytes
    assert details["kv_recurrent_bytes"] == seqs * 4 * (3 - 1) * 64 * 4  # 4 convolution layers, f32


def test_the_real_config_equals_transformers() -> None:
    # transformers 5.24 on the meta device: 742,489,344 parameters (the tied head once); its cache holds a
    # conv_L_cache-wide window of the hidden state per convolution layer and sequence, K/V at the 6 others
    arch = architecture("LiquidAI/LFM2-700M")
    assert arch.parameter_count() == 742_489_344 and arch.intermediate_size == 6912  # 2/3 of 10,240, to 256
    assert arch.kv_elements_per_token_total() * 2 == 12_288
    assert sum(arch.state_elements_per_sequence(i) for i in range(arch.num_layers)) * 2 == 92_160
    assert load_preset("lfm2-700m").architecture == arch


def test_vllm_pages_each_convolution_state_in_one_block() -> None:
    # vLLM's short-conv state (mamba_utils): (conv_L_cache - 1) x hidden per layer and sequence at the model
    # dtype, 6,144 B, within one 16-token page of attention (6 layers' K/V of 2,048 B a token): groups of 6 layers
    arch = architecture("LiquidAI/LFM2-700M")
    pages = KvPages(arch, range(arch.num_layers), 1, KV_DTYPES["bf16"], 16)
    assert pages.full_block == 16 and pages.page_bytes == 16 * 2048 >= 2 * 1536 * 2
    assert (pages.full_groups, pages.state_groups) == (1, 2)  # 6 attention layers, 10 convolutions
    assert pages.blocks_per_request(1600, 2048) == 100 + 2
