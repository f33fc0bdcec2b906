"""llama.cpp and Ollama profiles against llama.cpp's rules and the logged figures in reference/engine_logs.json."""

import pytest

from vramscope.core.analysis import launch_command
from vramscope.core.engines.base import EngineSettingsError
from vramscope.core.engines.llamacpp import (
    DRAFT_MAX,
    NEWEST_BUILD,
    QUANTIZED_V_NEEDS_FA,
    cells,
    cpu_compute_buffer,
    llamacpp_build,
    place_layers,
    reserved_outputs,
)
from vramscope.core.estimate import SegmentKind, estimate
from vramscope.core.precision import WeightLayout
from vramscope.core.scenario import Deployment, Engine, EngineSettings, GpuSpec, HostSpec, ModelSpec, Workload
from vramscope.core.solve import max_batch
from vramscope.core.speed import decode_tokens_per_s
from vramscope.core.units import GIB, MIB
from vramscope.core.weights import rank_layout, weight_plan
from vramscope.hardware.catalog import find_gpu
from vramscope.sources.presets import load_preset

RTX_4090 = GpuSpec(
    name="NVIDIA GeForce RTX 4090",
    capacity_bytes=round(23.99 * GIB),
    total_bytes=round(23.99 * GIB),
    bandwidth_bytes_per_s=1008e9,
)


def llama(gpus: int = 1, engine: Engine = Engine.LLAMACPP, gpu: GpuSpec = RTX_4090, **settings: object) -> Deployment:
    return Deployment(
        gpus=(gpu,), tensor_parallel=gpus, engine=engine, settings=EngineSettings.model_validate(settings)
    )


def test_n_ctx_is_padded_to_256_cells() -> None:
    arch = load_preset("llama-3.1-8b").architecture
    assert cells(arch, 35000, 1, 512, False).n_ctx == 35072  # "-c 35000 silently becomes 35072"
    assert cells(arch, 8192, 4, 512, False).n_ctx == 32768  # four slots of 8192


def test_kv_is_f16_whatever_the_model_and_allocated_for_every_slot() -> None:
    est = estimate(load_preset("llama-3.1-8b"), Workload(context=8192, batch=4), llama())
    assert est.kv_dtype == "fp16"
    assert est.kv_cache_bytes == 131_072 * 8192 * 4
    assert est.engine_details["n_ctx_cells"] == 32768


def test_gpt_oss_sliding_cache_and_compute_buffer_as_ollama_logged() -> None:
    """gpt-oss-120b, OLLAMA_NUM_PARALLEL=2, num_ctx 131072, ubatch 1024, flash attention: the memory
    breakdown printed 9216 MiB non-SWA, 90 MiB SWA (1280 cells per sequence), 796 MiB compute."""
    settings = {"flash_attn": True, "n_ubatch": 1024, "n_gpu_layers": 37}
    est = estimate(
        load_preset("gpt-oss-120b"), Workload(context=131072, batch=2), llama(engine=Engine.OLLAMA, **settings)
    )
    details = est.engine_details
    assert details["kv_full_bytes"] == 9216 * MIB
    assert details["kv_swa_bytes"] == 90 * MIB
    assert details["swa_cells"] == 2 * 1280
    assert details["compute_buffer_bytes"] / MIB == pytest.approx(796, rel=0.002)


def test_compute_buffer_without_flash_attention() -> None:
    """Llama-3.1-8B, n_ctx 8192, ubatch 512, FA off: 'CUDA0 compute buffer size = 560.00 MiB'."""
    est = estimate(load_preset("llama-3.1-8b"), Workload(context=8192), llama(flash_attn=False))
    assert est.engine_details["compute_buffer_bytes"] / MIB == pytest.approx(560.00, abs=0.005)


def test_tensor_split_shares_layers_and_their_cache() -> None:
    """Qwen2.5-Coder-32B, -c 32768 -ctk q8_0 -ctv q8_0 -ts 10,6: KV 2788 MiB on CUDA0, 1564 MiB on CUDA1."""
    workload = Workload(context=32768, weight_format="q8_0", kv_dtype="q8_0")
    est = estimate(load_preset("qwen2.5-32b"), workload, llama(2, tensor_split=(10, 6), n_ubatch=256))
    assert [g.bytes_of(SegmentKind.KV_CACHE) // MIB for g in est.per_gpu] == [2788, 1564]
    assert est.engine_details["layers_per_gpu"] == "41,23"


def test_layers_follow_free_memory_by_default() -> None:
    placement = place_layers(80, 81, (3.0, 1.0))
    assert placement.layer_device.count(0) == 61 and placement.layer_device.count(1) == 19
    assert placement.output_device == 1


def test_seventy_b_at_q4_k_m_fits_two_4090s_by_layers() -> None:
    """A GGUF is split by layers, never re-priced per tensor-parallel shard: the issue's 2 x 4090 case."""
    est = estimate(load_preset("llama-3.1-70b"), Workload(context=16384, weight_format="q4_k_m"), llama(2))
    assert est.fits is True
    embedding = est.host[0]
    assert "token embeddings" in embedding.note and embedding.bytes > 0
    three = estimate(load_preset("llama-3.1-70b"), Workload(context=16384, weight_format="q4_k_m"), llama(3))
    assert max(g.total_bytes for g in three.per_gpu) < max(g.total_bytes for g in est.per_gpu)


def test_partial_offload_moves_layers_and_their_cache_to_system_memory() -> None:
    model = load_preset("llama-3.1-8b")
    full = estimate(model, Workload(context=8192, weight_format="q4_k_m"), llama())
    part = estimate(model, Workload(context=8192, weight_format="q4_k_m"), llama(n_gpu_layers=20))
    assert part.engine_details["n_gpu_layers"] == 20
    assert part.kv_cache_bytes == 131_072 * 8192 * 20 // 32
    host_kv = next(s for s in part.host if s.kind is SegmentKind.KV_CACHE)
    assert host_kv.bytes == 131_072 * 8192 * 12 // 32
    assert part.host_bytes > full.host_bytes
    deployment = llama()
    assert decode_tokens_per_s(model, part, deployment) < decode_tokens_per_s(model, full, deployment) / 2


def test_quantized_v_needs_flash_attention() -> None:
    est = estimate(load_preset("llama-3.1-8b"), Workload(kv_dtype="q8_0"), llama(flash_attn=False))
    assert est.refusal == QUANTIZED_V_NEEDS_FA and est.fits is False


def test_no_fp8_cache_in_llama_cpp() -> None:
    with pytest.raises(EngineSettingsError, match=r"llama\.cpp has no fp8 KV cache"):
        estimate(load_preset("llama-3.1-8b"), Workload(kv_dtype="fp8"), llama())


def test_tensor_split_needs_one_proportion_per_gpu() -> None:
    with pytest.raises(EngineSettingsError, match="3 proportions for 2 GPUs"):
        estimate(load_preset("llama-3.1-8b"), Workload(), llama(2, tensor_split=(1, 1, 1)))


def test_ollama_offloads_as_many_layers_as_fit() -> None:
    est = estimate(
        load_preset("llama-3.1-70b"), Workload(context=8192, weight_format="q4_k_m"), llama(engine=Engine.OLLAMA)
    )
    layers = est.engine_details["n_gpu_layers"]
    assert 0 < layers < 81
    assert est.fits is True
    assert "the rest run on the CPU" in est.engine_verdict
    more = estimate(
        load_preset("llama-3.1-70b"),
        Workload(context=8192, weight_format="q4_k_m"),
        llama(engine=Engine.OLLAMA, n_gpu_layers=layers + 1),
    )
    assert more.fits is False


def test_ollama_flash_attention_is_off_by_default() -> None:
    est = estimate(load_preset("llama-3.1-8b"), Workload(), llama(engine=Engine.OLLAMA))
    assert est.engine_details["flash_attn"] == "off"


def test_ollama_plans_a_quantized_cache_with_the_flash_attention_it_needs() -> None:
    """llm/server.go drops a quantized OLLAMA_KV_CACHE_TYPE unless OLLAMA_FLASH_ATTENTION=1: the plan sets it
    and the command says so; with flash attention turned off the cache is priced as the f16 Ollama keeps."""
    model, workload = load_preset("llama-3.1-8b"), Workload(kv_dtype="q8_0")
    planned = llama(engine=Engine.OLLAMA)
    est = estimate(model, workload, planned)
    assert est.engine_details["flash_attn"] == "on" and est.kv_cache_bytes == 8192 * 32 * 8 * 128 * 2 * 34 // 32
    assert "OLLAMA_FLASH_ATTENTION=1 OLLAMA_KV_CACHE_TYPE=q8_0" in launch_command(model, workload, planned)
    off = planned.model_copy(update={"settings": EngineSettings(flash_attn=False)})
    f16 = estimate(model, workload, off)
    assert f16.kv_cache_bytes == 8192 * 32 * 8 * 128 * 2 * 2  # not the q8_0 the user asked for
    assert any("flash attention disabled: the cache stays f16" in w for w in f16.warnings)


def test_a_draft_model_sits_on_the_main_gpu_with_its_own_context() -> None:
    model, draft = load_preset("qwen2.5-32b"), load_preset("qwen2.5-1.5b")
    workload = Workload(context=32768, weight_format="q8_0")
    deployment = llama(2).model_copy(update={"draft": draft})
    est = estimate(model, workload, deployment)
    titles = [s.title for s in est.per_gpu[0].segments]
    assert {"Draft weights", "Draft KV cache", "Draft compute buffer"} <= set(titles)
    assert not any(s.title.startswith("Draft") for s in est.per_gpu[1].segments)
    draft_kv = next(s for s in est.per_gpu[0].segments if s.title == "Draft KV cache")
    assert draft_kv.bytes == 28_672 * 32768  # Qwen2.5-1.5B: 28 layers x 2 KV heads x 128 x 2 x 2 B


def test_learned_position_embeddings_stay_with_the_input_layer() -> None:
    model = load_preset("gpt2")  # token and position embeddings, no vision tower
    est = estimate(model, Workload(context=1024), llama())
    host_weights = next(s for s in est.host if s.kind is SegmentKind.WEIGHTS)
    assert host_weights.bytes == (50257 + 1024) * 768 * 4  # both in host memory, fp32 as GPT-2 ships
    assert est.weights_bytes + host_weights.bytes == 124_439_808 * 4


def test_without_flash_attention_every_v_row_is_as_wide_as_the_widest_layer() -> None:
    """llama-kv-cache.cpp (TAG_V_CACHE_VARIABLE): Gemma-4-26B-A4B's sliding layers hold 8 V heads of 256, its
    global layers 2 of 512; without flash attention the V cache is transposed and the five global layers' rows
    are padded to 2,048 elements too (measured on llama.cpp: 128 of 128 Gemma 4 runs exact)."""
    model, work = load_preset("gemma-4-26b-a4b"), Workload(context=8192)
    on = estimate(model, work, llama(flash_attn=True)).engine_details
    off = estimate(model, work, llama(flash_attn=False)).engine_details
    assert off["kv_swa_bytes"] == on["kv_swa_bytes"]
    assert off["kv_full_bytes"] - on["kv_full_bytes"] == 5 * (2048 - 1024) * 8192 * 2


def test_deepseek_v4_cache_is_a_formula_not_a_measurement_on_llamacpp() -> None:
    from tests.fixtures.families import architecture
    from vramscope.core.estimate import Provenance
    from vramscope.core.scenario import ModelSpec, Source

    arch = architecture("deepseek-ai/DeepSeek-V4-Flash")
    model = ModelSpec(name="DeepSeek-V4-Flash", source=Source.CONFIG, architecture=arch, native_format="bf16")
    est = estimate(model, Workload(context=32768), llama())
    kv = next(s for s in est.per_gpu[0].segments if s.kind is SegmentKind.KV_CACHE)
    assert kv.provenance is Provenance.FORMULA and "not measured on llama.cpp" in kv.note


# --- system memory and what the CPU holds (issue: fits means fits) ---------------------------------------

HOST_64 = HostSpec(capacity_bytes=64 * GIB, total_bytes=64 * GIB, basis="64 GiB as stated")


def on_host(engine: Engine = Engine.LLAMACPP, gpu: GpuSpec = RTX_4090, gpus: int = 1, **settings: object) -> Deployment:
    return Deployment(
        gpus=(gpu,),
        host=HOST_64,
        tensor_parallel=gpus,
        engine=engine,
        settings=EngineSettings.model_validate(settings),
    )


def test_a_few_gpu_layers_of_a_bf16_70b_do_not_fit_64_gib_of_ram() -> None:
    est = estimate(load_preset("llama-3.1-70b"), Workload(context=8192), on_host(n_gpu_layers=5))
    assert est.gpus_fit is True  # the GPU holds its five layers …
    assert est.host_need_bytes == est.host_bytes > 120 * GIB  # … the host would need the other 75 in bf16
    assert est.host_fits is False and est.fits is False
    assert est.host_headroom_bytes == 64 * GIB - est.host_bytes


def test_ollama_refuses_in_its_own_words_when_the_host_cannot_hold_the_rest() -> None:
    est = estimate(
        load_preset("llama-3.1-405b"), Workload(context=8192, weight_format="q4_k_m"), on_host(Engine.OLLAMA)
    )
    assert est.refusal.startswith("model requires more system memory (")
    assert est.refusal.endswith("than is available (64.0 GiB)")
    assert est.fits is False


def test_partial_offload_of_a_70b_q4_k_m_fits_and_is_slower_than_two_gpus() -> None:
    model, workload = load_preset("llama-3.1-70b"), Workload(context=8192, weight_format="q4_k_m")
    split = on_host(n_gpu_layers=45)
    part = estimate(model, workload, split)
    assert part.fits is True and part.host_fits is True
    layout = weight_plan_layout(model, workload)
    cpu_layers = 80 - 45
    host_weights = next(s for s in part.host if s.kind is SegmentKind.WEIGHTS).bytes
    # embeddings, the first 35 layers and the output: -ngl 45 puts the last 45 repeating layers on the GPU
    assert host_weights == layout.first_stage + sum(layout.per_layer[:cpu_layers]) + layout.last_stage
    two = estimate(model, workload, on_host(gpus=2))
    assert two.fits is True and two.host_fits is True
    assert decode_tokens_per_s(model, part, split) < decode_tokens_per_s(model, two, on_host(gpus=2)) / 3


def weight_plan_layout(model: ModelSpec, workload: Workload) -> WeightLayout:
    return rank_layout(model, weight_plan(model, workload), 1)


def test_n_cpu_moe_keeps_the_experts_of_the_first_layers_in_host_memory() -> None:
    model, workload = load_preset("qwen3-30b-a3b"), Workload(context=8192, weight_format="q4_k_m")
    small = GpuSpec(name="8 GiB GPU", capacity_bytes=8 * GIB, total_bytes=8 * GIB, bandwidth_bytes_per_s=448e9)
    gpu_only = estimate(model, workload, on_host(gpu=small))
    assert gpu_only.fits is False
    moe = on_host(gpu=small, n_cpu_moe=48)
    est = estimate(model, workload, moe)
    assert est.fits is True and est.engine_details["cpu_moe_layers"] == 48
    layout = weight_plan_layout(model, workload)
    experts = sum(layout.expert_per_layer[:48])
    assert next(s for s in est.host if s.title == "CPU experts").bytes == experts
    assert est.weights_bytes == gpu_only.weights_bytes - experts  # the rest of each layer stays on the GPU
    assert est.per_gpu[0].expert_weight_bytes == 0
    assert "--n-cpu-moe 48" in launch_command(model, workload, moe)
    # the experts are read from host memory: slower than the GPU alone, faster than whole layers on the CPU
    layers_out = on_host(gpu=RTX_4090, n_gpu_layers=0)
    assert decode_tokens_per_s(model, est, moe) > decode_tokens_per_s(
        model, estimate(model, workload, layers_out), layers_out
    )


def test_n_cpu_moe_is_capped_at_the_layers_and_means_nothing_for_a_dense_model() -> None:
    qwen = load_preset("qwen3-30b-a3b")
    est = estimate(qwen, Workload(weight_format="q4_k_m"), on_host(n_cpu_moe=1000))
    assert est.engine_details["cpu_moe_layers"] == qwen.architecture.num_layers
    dense = estimate(load_preset("llama-3.1-8b"), Workload(weight_format="q4_k_m"), on_host(n_cpu_moe=8))
    assert dense.engine_details["cpu_moe_layers"] == 0
    with pytest.raises(EngineSettingsError, match="Ollama has no --n-cpu-moe"):
        estimate(qwen, Workload(weight_format="q4_k_m"), on_host(Engine.OLLAMA, n_cpu_moe=8))


def test_swa_full_gives_the_sliding_layers_the_whole_context() -> None:
    gemma = load_preset("gemma-2-9b")
    assert cells(gemma.architecture, 8192, 1, 512, False).swa == 4096 + 512
    assert cells(gemma.architecture, 8192, 1, 512, False, swa_full=True).swa == 8192
    est = estimate(gemma, Workload(context=8192, weight_format="q4_k_m"), on_host(swa_full=True))
    assert est.engine_details["swa_cells"] == 8192
    assert "--swa-full" in launch_command(gemma, Workload(context=8192, weight_format="q4_k_m"), on_host(swa_full=True))


def test_llama_cpp_runs_at_most_256_sequences_and_the_largest_batch_stays_below() -> None:
    model = load_preset("llama-3.1-8b")
    est = estimate(model, Workload(context=512, batch=257, weight_format="q4_k_m"), on_host())
    assert est.refusal == "n_seq_max must be <= 256" and est.fits is False
    big = GpuSpec(name="H200", capacity_bytes=140 * GIB, total_bytes=140 * GIB)
    for engine in (Engine.LLAMACPP, Engine.OLLAMA):
        largest = max_batch(model, Workload(context=512, weight_format="q4_k_m"), on_host(engine, gpu=big))
        assert largest == 256  # the memory would hold more sequences; the engine does not run them


def test_a_unified_memory_gpu_takes_its_share_from_the_hosts_ram() -> None:
    mac = find_gpu("apple-m3-max-128gb")
    assert mac is not None
    spec = mac.spec()
    assert spec.capacity_bytes == 96 * GIB and spec.unified_memory and spec.backend == "metal"  # 3/4 of 128 GiB
    host = HostSpec(capacity_bytes=128 * GIB, total_bytes=128 * GIB, basis="the Mac's RAM")
    deployment = Deployment(gpus=(spec,), host=host, engine=Engine.LLAMACPP)
    est = estimate(load_preset("llama-3.1-8b"), Workload(weight_format="q4_k_m"), deployment)
    assert est.host_need_bytes == est.host_bytes + est.per_gpu[0].total_bytes
    overhead = est.per_gpu[0].segment(SegmentKind.OVERHEAD)
    assert overhead.bytes == 512 * MIB and "CUDA" not in overhead.note  # Ollama's Metal reserve, no CUDA context
    with pytest.raises(EngineSettingsError, match="no Metal backend"):
        estimate(load_preset("llama-3.1-8b"), Workload(), deployment.model_copy(update={"engine": Engine.VLLM}))


def test_the_command_names_the_slots_even_for_one() -> None:
    # llama-server without -np runs 4 slots on one unified cache (server.cpp: "n_parallel is set to auto")
    from vramscope.core.analysis import analyse

    a = analyse(
        load_preset("gemma-2-9b"), Workload(context=8192, weight_format="q4_k_m"), Deployment(engine=Engine.LLAMACPP)
    )
    assert " -c 8192 -np 1 " in a.launch_command


def test_from_build_9479_the_server_reserves_logits_for_its_outputs_only() -> None:
    # server-context.cpp server_n_outputs_max: n_outputs_max = min(n_batch, n_parallel x (1 + draft n_max)), and
    # llama-context.cpp reserves the worst-case graph's logits for min(ubatch, n_outputs_max) rows (b9453: all
    # of the ubatch). Llama-3.1-8B with flash attention, one slot: the output GPU's buffer is the larger of
    # the layers' part (the f16 KQ mask and, as measured on the CPU, the FFN's gate, up and product beside
    # five hidden rows per token) and the logits, 4 x rows x (hidden + vocab)
    model, workload = load_preset("llama-3.1-8b"), Workload(context=8192)
    arch = model.architecture
    layers = 8192 * 512 * 2 + 4 * 512 * (3 * 14336 + 5 * 4096)
    old = estimate(model, workload, llama(flash_attn=True, engine_version="b9453"))
    new = estimate(model, workload, llama(flash_attn=True, engine_version="b11434"))
    assert old.engine_details["compute_buffer_bytes"] == max(layers, 4 * 512 * (4096 + arch.vocab_size))
    assert new.engine_details["compute_buffer_bytes"] == layers > 4 * 1 * (4096 + arch.vocab_size)
    assert new.engine_details == estimate(model, workload, llama(flash_attn=True)).engine_details  # the newest
    assert reserved_outputs(11434, 512, 4, draft=True) == 4 * (1 + DRAFT_MAX)
    assert reserved_outputs(11434, 8, 4, draft=True) == 8  # never more than the ubatch
    # Ollama's runner leaves n_outputs_max at the batch: the whole ubatch, whatever its version
    ollama = estimate(model, workload, llama(engine=Engine.OLLAMA, flash_attn=True, n_gpu_layers=33))
    assert ollama.engine_details["compute_buffer_bytes"] == old.engine_details["compute_buffer_bytes"]


@pytest.mark.parametrize(("text", "build"), [("b4462", 4462), ("11434", 11434), (None, NEWEST_BUILD)])
def test_llama_cpp_builds_as_users_and_logs_write_them(text: str | None, build: int) -> None:
    assert llamacpp_build(text) == build


def test_a_llama_cpp_build_not_written_as_one_is_refused_by_name() -> None:
    with pytest.raises(EngineSettingsError, match=r"llama\.cpp build"):
        estimate(load_preset("llama-3.1-8b"), Workload(context=8192), llama(engine_version="0.5.2"))


@pytest.mark.parametrize(
    ("context", "slots", "ubatch", "measured_mib"),
    [(4096, 1, 512, 17.27), (4096, 1, 256, 8.63), (4096, 1, 1024, 34.54), (1024, 8, 512, 14.27)],
)
def test_the_servers_cpu_compute_buffer_as_b11434_reserved_it(
    context: int, slots: int, ubatch: int, measured_mib: float
) -> None:
    # llama-server b11434 on the CPU, -fa on, a 4-layer llama GGUF of width 512 (FFN 1,408, 8 heads of 64, 2 KV
    # heads, 32,000 tokens): "CPU compute buffer size" as it printed; the f16 KQ mask and the FFN's working set
    from vramscope.sources.hf_config import architecture_from_config

    config = {
        "model_type": "llama", "hidden_size": 512, "intermediate_size": 1408, "num_hidden_layers": 4,
        "num_attention_heads": 8, "num_key_value_heads": 2, "vocab_size": 32000, "max_position_embeddings": 131072,
    }  # fmt: skip
    arch = architecture_from_config(config)
    cell = cells(arch, context, slots, ubatch, False)
    outputs = reserved_outputs(NEWEST_BUILD, cell.ubatch, cell.seqs, draft=False)
    assert cpu_compute_buffer(arch, cell, cell.ubatch, True, outputs) / MIB == pytest.approx(measured_mib, abs=0.05)


def test_ollamas_own_release_is_no_llama_cpp_build_even_with_a_draft() -> None:
    # Ollama names its releases (0.30.2), not llama.cpp's builds: its runner keeps the whole ubatch's logits
    deployment = llama(engine=Engine.OLLAMA, engine_version="0.30.2", n_gpu_layers=33).model_copy(
        update={"draft": load_preset("llama-3.2-1b")}
    )
    est = estimate(load_preset("llama-3.1-8b"), Workload(context=8192, weight_format="q4_k_m"), deployment)
    draft = next(s for s in est.per_gpu[0].segments if s.title == "Draft compute buffer")
    assert draft.bytes > 0 and est.engine_details["engine_version"] is None
