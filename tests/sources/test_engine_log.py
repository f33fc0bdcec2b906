"""Engine start-up logs: excerpts of real logs (reference/engine_logs.json, in the lines' own format) read
into the figures they report; garbled or foreign text gives one clear message."""

import contextlib
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vramscope.core.scenario import Engine
from vramscope.core.units import GIB, MIB
from vramscope.sources.engine_log import log_settings, log_workload, preset_for, read_engine_log, redact
from vramscope.sources.errors import ModelFileError

VLLM_V1 = """\
(APIServer pid=1) INFO 04-22 15:12:00 [entrypoints/utils.py:299]  ▄▄ ▄█ █     █     █ ▀▄▀ █  version 0.19.0
(APIServer pid=1) INFO 04-22 00:03:35 [entrypoints/utils.py:233] non-default args: {'model_tag': 'meta-llama/Llama-3.1-8B-Instruct', 'model': 'meta-llama/Llama-3.1-8B-Instruct', 'max_model_len': 8192, 'gpu_memory_utilization': 0.95, 'enable_prefix_caching': False}
(EngineCore pid=242) DEBUG 04-22 00:03:47 [v1/worker/gpu_worker.py:284] worker init memory snapshot: torch_peak=0.0GiB, free_memory=78.68GiB, total_memory=79.19GiB, cuda_memory=0.51GiB
(EngineCore pid=242) INFO 04-22 00:04:02 [v1/worker/gpu_model_runner.py:4820] Model loading took 14.99 GiB memory and 14.429680 seconds
(EngineCore pid=242) DEBUG 04-22 00:04:20 [v1/worker/gpu_worker.py:435] Memory profiling takes 17.96 seconds. Total non KV cache memory: 17.12GiB; torch peak memory increase: 1.89GiB; non-torch forward increase memory: 0.25GiB; weights memory: 14.99GiB.
(EngineCore pid=242) INFO 04-22 00:04:20 [v1/worker/gpu_worker.py:436] Available KV cache memory: 58.11 GiB
(EngineCore pid=242) INFO 04-22 00:04:20 [v1/core/kv_cache_utils.py:1319] GPU KV cache size: 476,016 tokens
(EngineCore pid=242) INFO 04-22 00:04:20 [v1/core/kv_cache_utils.py:1324] Maximum concurrency for 8,192 tokens per request: 58.11x
(EngineCore pid=242) INFO 04-22 00:04:24 [v1/worker/gpu_model_runner.py:6046] Graph capturing finished in 3 secs, took 0.91 GiB
"""  # noqa: E501
VLLM_V0 = """\
Loading model weights took 14.9888 GB
Memory profiling results: total_gpu_memory=23.58GiB initial_memory_usage=15.34GiB peak_torch_memory=17.06GiB memory_usage_post_profile=15.35GiB non_torch_memory=0.35GiB kv_cache_size=3.81GiB gpu_memory_utilization=0.90
GPU blocks: 1952, # CPU blocks: 2048
Maximum concurrency for 20000 tokens per request: 1.56x
"""  # noqa: E501
SGLANG = """\
python3.12 -m sglang.launch_server   --model Qwen/QwQ-32B --model-path /home/model/Qwen/QwQ-32B   --host 0.0.0.0 --port 30000 --tensor-parallel-size 4
[2025-03-08 12:29:13 TP0] Load weight begin. avail mem=21.63 GB
[2025-03-08 12:29:21 TP0] Load weight end. type=Qwen2ForCausalLM, dtype=torch.bfloat16, avail mem=6.09 GB, mem usage=15.54 GB.
[2025-03-08 12:29:21 TP0] KV Cache is allocated. #tokens: 46611, K size: 1.42 GB, V size: 1.42 GB
[2025-03-08 12:29:28 TP0] Capture cuda graph end. Time elapsed: 7.23 s. avail mem=0.53 GB. mem usage=0.93 GB.
"""  # noqa: E501
LLAMA_SERVER = """\
llama-server -b 512 -ub 256 -ts 10,6 -ngl 99 -c 32768 --flash-attn --cache-type-k q8_0 --cache-type-v q8_0 -m qwen2.5-coder:32b-instruct-q8_0.gguf
llama_kv_cache_init: kv_size = 32768, offload = 1, type_k = 'q8_0', type_v = 'q8_0', n_layer = 64, can_shift = 1
llama_kv_cache_init:      CUDA0 KV buffer size =  2788.00 MiB
llama_kv_cache_init:      CUDA1 KV buffer size =  1564.00 MiB
llama_new_context_with_model: KV self size  = 4352.00 MiB, K (q8_0): 2176.00 MiB, V (q8_0): 2176.00 MiB
llama_new_context_with_model:      CUDA0 compute buffer size =   233.00 MiB
llama_new_context_with_model:      CUDA1 compute buffer size =   237.51 MiB
llama_new_context_with_model:  CUDA_Host compute buffer size =   133.01 MiB
"""  # noqa: E501
BREAKDOWN = """\
common_memory_breakdown_print: | memory breakdown [MiB]     |  total     free     self   model   context   compute    unaccounted |
common_memory_breakdown_print: |   - ROCm0 (8060S Graphics) | 115200 = 120459 + (71326 = 61223 +    9306 +     796) +      -76586 |
common_memory_breakdown_print: |   - Host                   |                     1385 =  1104 +       0 +     281                |
llama_context: n_seq_max     = 2
llama_context: n_ctx         = 262144
llama_context: n_ctx_seq     = 131072
llama_context: n_ubatch      = 1024
llama_context: flash_attn    = enabled
llama_context: kv_unified    = false
llama_kv_cache:      ROCm0 KV buffer size =  9216.00 MiB
llama_kv_cache:      ROCm0 KV buffer size =    90.00 MiB
"""  # noqa: E501
OLLAMA = """\
time=2024-08-12T20:24:12.346-06:00 level=INFO source=memory.go:309 msg="offload to cuda" layers.requested=-1 layers.model=33 layers.offload=12 layers.split="" memory.available="[2.2 GiB]" memory.required.full="4.8 GiB" memory.required.partial="2.2 GiB" memory.required.kv="256.0 MiB" memory.weights.total="3.9 GiB" memory.graph.full="164.0 MiB"
time=2024-08-12T20:24:12.353-06:00 level=INFO source=server.go:392 msg="starting llama server" cmd="ollama_llama_server --model x --ctx-size 2048 --batch-size 512 --n-gpu-layers 12 --parallel 1"
"""  # noqa: E501


def test_vllm_v1() -> None:
    log = read_engine_log(VLLM_V1)
    assert log.settings["engine_version"] == "0.19.0"  # from its start-up banner
    assert log.engine is Engine.VLLM and log.model == "meta-llama/Llama-3.1-8B-Instruct"
    assert log.reported["weights_bytes"] == round(14.99 * GIB)
    assert log.reported["kv_pool_bytes"] == round(58.11 * GIB)
    assert log.reported["kv_capacity_tokens"] == 476_016 and log.reported["max_concurrency"] == 58.11
    assert log.reported["activation_bytes"] == round(1.89 * GIB)
    assert log.reported["cuda_graph_bytes"] == round(0.91 * GIB)
    assert log.gpu_total_bytes == round(79.19 * GIB) and log.gpu_free_bytes == round(78.68 * GIB)
    assert preset_for(log.model) == "llama-3.1-8b"
    assert log_workload(log, 131072) == {"context": 8192}
    assert log_settings(log) == {"gpu_memory_utilization": 0.95, "engine_version": "0.19.0"}


def test_vllm_v0() -> None:
    log = read_engine_log(VLLM_V0)
    assert log.reported["weights_bytes"] == round(14.9888 * GIB)  # "GB" that are GiB
    assert log.reported["num_gpu_blocks"] == 1952 and log.reported["kv_pool_bytes"] == round(3.81 * GIB)
    assert log.settings["max_model_len"] == 20000


def test_vllm_refusal_is_kept_in_its_words() -> None:
    line = (
        "ValueError: To serve at least one request with the models's max seq len (8192), (1.00 GiB KV cache is "
        "needed, which is larger than the available KV cache memory (0.81 GiB)."
    )
    log = read_engine_log("Available KV cache memory: 0.81 GiB\n" + line)
    assert log.refusal.startswith("To serve at least one request")


def test_sglang() -> None:
    log = read_engine_log(SGLANG)
    assert log.engine is Engine.SGLANG and log.settings["tp"] == 4
    assert log.reported["kv_capacity_tokens"] == 46_611
    assert log.reported["kv_pool_bytes"] == 2 * round(1.42 * GIB)
    assert log.reported["weights_bytes"] == round(15.54 * GIB)
    assert log.gpu_free_bytes == round(21.63 * GIB)


def test_llama_server_per_device() -> None:
    log = read_engine_log(LLAMA_SERVER)
    assert log.engine is Engine.LLAMACPP
    assert [g["kv_cache_bytes"] for g in log.reported["per_gpu"]] == [2788 * MIB, 1564 * MIB]
    assert log.reported["kv_cache_bytes"] == 4352 * MIB
    assert log.reported["compute_buffer_bytes"] == 233 * MIB + round(237.51 * MIB)
    assert log_workload(log, 32768) == {"batch": 1, "context": 32768, "kv_dtype": "q8_0", "weight_format": "q8_0"}
    assert log_settings(log)["tensor_split"] == (10.0, 6.0)


def test_llama_cpp_breakdown_table_is_taken_once() -> None:
    log = read_engine_log(BREAKDOWN)
    gpu = log.reported["per_gpu"][0]
    assert (gpu["weights_bytes"], gpu["kv_cache_bytes"], gpu["compute_buffer_bytes"]) == (
        61223 * MIB,
        9306 * MIB,
        796 * MIB,
    )
    assert log_workload(log, 131072) == {"batch": 2, "context": 131072}


def test_ollama_scheduler_line() -> None:
    log = read_engine_log(OLLAMA)
    assert log.engine is Engine.OLLAMA
    assert log.reported["kv_cache_bytes"] == 256 * MIB and log.reported["compute_buffer_bytes"] == 164 * MIB
    assert log.reported["n_gpu_layers"] == 12 and log.settings["n_ctx"] == 2048


def test_a_text_that_is_no_engine_log() -> None:
    with pytest.raises(ModelFileError, match=r"no vLLM, llama\.cpp, Ollama or SGLang start-up lines"):
        read_engine_log("hello\nworld\n")


@given(st.sampled_from([VLLM_V1, VLLM_V0, SGLANG, LLAMA_SERVER, BREAKDOWN, OLLAMA]), st.integers(0, 3000), st.text())
def test_truncated_and_garbled_logs_never_crash(log: str, cut: int, noise: str) -> None:
    with contextlib.suppress(ModelFileError):
        read_engine_log(log[:cut] + noise)


# --- hostile logs: each is read in well under a second, or refused in one line -------------------------


@pytest.mark.parametrize("line", ["1" * 65536, "Available KV cache memory: " + "9" * 65536, " -c " * 20000])
def test_a_line_of_64_kib_is_read_at_once(line: str) -> None:
    started = time.perf_counter()
    with contextlib.suppress(ModelFileError):
        read_engine_log(VLLM_V1 + line + "\n")
    assert time.perf_counter() - started < 2  # was 88 s: every pattern backtracked over the line


@pytest.mark.parametrize("figure", ["1.2.3", ".", "9" * 400, "1" * 5000, "²", "-", "1e400", "12,,,,3", "٣"])
def test_a_figure_no_engine_prints_is_dropped_not_a_crash(figure: str) -> None:
    log = read_engine_log(VLLM_V1.replace("58.11 GiB", f"{figure} GiB"))
    assert "kv_pool_bytes" not in log.reported and log.reported["weights_bytes"] == round(14.99 * GIB)
    llama = read_engine_log(LLAMA_SERVER.replace("-c 32768", f"-c {figure}"))
    assert "n_ctx" not in llama.settings or llama.settings["n_ctx"] != figure


def test_a_vllm_log_that_names_ollama_and_sglang_in_a_path_is_vllm() -> None:
    path = "(APIServer pid=1) INFO downloading to /root/.ollama/sglang/models and launch_server.py\n"
    assert read_engine_log(path + VLLM_V1).engine is Engine.VLLM


def test_two_runs_in_one_log_are_the_last_run() -> None:
    first = VLLM_V1.replace("'max_model_len': 8192", "'max_model_len': 4096").replace("58.11 GiB", "60.00 GiB")
    log = read_engine_log(first + "INFO request traffic\n" * 50 + VLLM_V1)
    assert log.settings["max_model_len"] == 8192 and log.reported["kv_pool_bytes"] == round(58.11 * GIB)


def test_secrets_in_a_log_never_leave_it() -> None:
    line = (
        "(APIServer pid=1) INFO non-default args: {'model': 'meta-llama/Llama-3.1-8B-Instruct', "
        "'hf_token': 'hf_abcdefghijklmnop', 'api_key': 'sk-live-123456789', 'max_model_len': 8192}\n"
    )
    log = read_engine_log(VLLM_V1.splitlines(keepends=True)[1] + line + "".join(VLLM_V1.splitlines(True)[2:]))
    shown = repr(log)
    assert "hf_abcdefghijklmnop" not in shown and "sk-live-123456789" not in shown
    assert log.settings["hf_token"] == "***" and log.settings["max_model_len"] == 8192
    assert redact("pulling https://user:pa55@example.org/x with token=abc") == (
        "pulling https://***@example.org/x with token=***"
    )


def test_millions_of_request_lines_cost_one_pass() -> None:
    traffic = 'INFO:     127.0.0.1:52814 - "POST /v1/completions HTTP/1.1" 200 OK\n' * 200_000
    started = time.perf_counter()
    log = read_engine_log(VLLM_V1 + traffic)
    assert log.reported["kv_pool_bytes"] == round(58.11 * GIB) and time.perf_counter() - started < 5


# vLLM V0 logs of public issues (reference/engine_logs.json): the 0.6.5+ profile lines and the 0.8 config line
VLLM_V0_065 = """\
INFO 12-22 10:55:34 model_runner.py:1097] Loading model weights took 8.5107 GB
INFO 12-22 10:55:34 worker.py:241] the current vLLM instance can use total_gpu_memory (79.25GiB) x gpu_memory_utilization (0.15) = 11.89GiB
INFO 12-22 10:55:34 worker.py:241] model weights take 8.51GiB; non_torch_memory takes 0.26GiB; PyTorch activation peak memory takes 0.94GiB; the rest of the memory reserved for KV Cache is 2.18GiB.
INFO 12-22 10:55:35 gpu_executor.py:76] # GPU blocks: 715, # CPU blocks: 1310
INFO 12-22 10:55:35 gpu_executor.py:80] Maximum concurrency for 2048 tokens per request: 5.59x
INFO 12-22 10:55:51 model_runner.py:1527] Graph capturing finished in 13 secs, took 0.27 GiB
"""  # noqa: E501
VLLM_V0_082 = """\
INFO 07-02 17:07:52 [llm_engine.py:241] Initializing a V0 LLM engine (v0.8.2) with config: model='/opt/tiger/test0/Phi-4', dtype=torch.bfloat16, max_seq_len=512, tensor_parallel_size=1, quantization=bitsandbytes, enforce_eager=False, kv_cache_dtype=auto, enable_prefix_caching=True
INFO 07-02 17:08:01 [model_runner.py:1146] Model loading took 8.6253 GB and 7.670299 seconds
INFO 07-02 17:08:07 [worker.py:267] model weights take 8.63GiB; non_torch_memory takes 0.09GiB; PyTorch activation peak memory takes 1.16GiB; the rest of the memory reserved for KV Cache is -1.05GiB.
INFO 07-02 17:08:07 [executor_base.py:111] # cuda blocks: 0, # CPU blocks: 1966
ERROR 07-02 17:08:07 [engine.py:400] ValueError: The model's max seq len (512) is larger than the maximum number of tokens that can be stored in KV cache (0). Try increasing `gpu_memory_utilization` or decreasing `max_model_len` when initializing the engine.
"""  # noqa: E501


def test_vllm_v0_profile_lines() -> None:
    log = read_engine_log(VLLM_V0_065)
    assert log.gpu_total_bytes == round(79.25 * GIB) and log.settings["gpu_memory_utilization"] == 0.15
    assert log.reported["weights_bytes"] == round(8.51 * GIB)  # the profile's figure, after the loader's
    assert log.reported["non_torch_bytes"] == round(0.26 * GIB)
    assert log.reported["activation_bytes"] == round(0.94 * GIB)
    assert log.reported["kv_pool_bytes"] == round(2.18 * GIB) and log.reported["num_gpu_blocks"] == 715
    assert log.reported["cuda_graph_bytes"] == round(0.27 * GIB)


def test_vllm_v0_064_peak_holds_the_weights() -> None:
    log = read_engine_log(VLLM_V0)  # peak_torch_memory=17.06GiB of which the weights are 14.9888 GB
    assert log.reported["activation_bytes"] == round(17.06 * GIB) - round(14.9888 * GIB)
    assert log.reported["non_torch_bytes"] == round(0.35 * GIB)


def test_vllm_v0_config_line_and_refusal() -> None:
    log = read_engine_log(VLLM_V0_082)
    assert log.settings["engine_version"] == "0.8.2-v0" and log.model == "/opt/tiger/test0/Phi-4"
    assert log.settings["max_model_len"] == 512 and log.settings["quantization"] == "bitsandbytes"
    assert log.settings["enforce_eager"] is False and log.settings["tensor_parallel_size"] == 1
    assert log.reported["kv_pool_bytes"] == round(-1.05 * GIB) and log.reported["num_gpu_blocks"] == 0
    assert log.refusal.startswith("The model's max seq len (512) is larger than the maximum number of tokens")


def test_vllm_version_of_a_v1_log() -> None:
    v1 = "INFO 04-02 12:32:04 [core.py:61] Initializing a V1 LLM engine (v0.8.3.dev172+g2b) with config: model='x'"
    old = "INFO 11-02 10:00:00 llm_engine.py:237] Initializing an LLM engine (v0.6.4.post1) with config: model='y'"
    api = "(APIServer pid=1) INFO 04-22 00:03:34 [api_server.py:1900] vLLM API server version 0.19.0"
    assert read_engine_log(v1 + "\nGPU KV cache size: 100 tokens").settings["engine_version"] == "0.8.3.dev172+g2b"
    assert read_engine_log(old + "\n# GPU blocks: 10").settings["engine_version"] == "0.6.4.post1-v0"
    assert read_engine_log(api + "\nGPU KV cache size: 100 tokens").settings["engine_version"] == "0.19.0"


def test_a_token_in_a_device_name_is_masked() -> None:
    log = read_engine_log("llama_kv_cache:      hf_abcdefgh123 KV buffer size =  9216.00 MiB")
    assert "hf_abcdefgh123" not in repr(log) and log.reported["per_gpu"][0]["kv_cache_bytes"] == 9216 * MIB


def test_a_log_name_no_preset_has_is_matched_by_its_layers() -> None:
    from vramscope.sources.engine_log import preset_for

    assert preset_for("qwen2.5-coder:32b-instruct-q8_0.gguf") is None
    assert preset_for("qwen2.5-coder:32b-instruct-q8_0.gguf", 64) == "qwen2.5-32b"
    assert preset_for("qwen2.5-coder:32b-instruct-q8_0.gguf", 61) is None  # no preset of 61 layers shares two words
    assert preset_for("mystery-7b.gguf", 32) is None  # one shared word is no match


def test_the_sampler_and_the_p2p_a_vllm_log_reports() -> None:
    # dennislee22/vLLM-benchmarking, 0.10.1.1 at tp 2 on A100s: both change the memory the profile charges
    text = (
        "(VllmWorker TP0 pid=1430) WARNING 09-03 00:36:44 [custom_all_reduce.py:147] Custom allreduce is disabled "
        "because your platform lacks GPU P2P capability or P2P test failed.\n"
        "(VllmWorker TP0 pid=1430) INFO 09-03 00:36:44 [topk_topp_sampler.py:50] Using FlashInfer for top-p & "
        "top-k sampling.\n"
    )
    settings = log_settings(read_engine_log(VLLM_V1 + text))
    assert settings["flashinfer_sampler"] is True and settings["peer_to_peer"] is False
    across = "(RayWorkerWrapper pid=374) WARNING [custom_all_reduce.py:85] Custom allreduce is disabled because "
    assert (
        log_settings(read_engine_log(VLLM_V1 + across + "this process group spans across nodes.\n"))["peer_to_peer"]
        is False
    )
    assert "flashinfer_sampler" not in log_settings(read_engine_log(VLLM_V1))


VLLM_0271 = """\
(Worker_TP0 pid=770) INFO 08-21 18:18:05 [gpu_model_runner.py:5405] Model loading took 55.19 GiB memory and 48.502592 seconds
(EngineCore pid=558) INFO 08-21 18:21:55 [kv_cache_utils.py:2235] GPU KV cache size: 621,392 tokens
(EngineCore pid=558) INFO 08-21 18:21:55 [kv_cache_utils.py:2236] Maximum concurrency for 32,768 tokens per request: 18.96x
(Worker_TP1 pid=771) INFO 08-21 18:22:06 [gpu_worker.py:789] Free memory on device (94.05/95.01 GiB) on startup. Desired GPU memory utilization is (0.9, 85.51 GiB). Actual usage is 56.89 GiB for consumed memory (weights + non-torch), 0.76 GiB for peak activation, and 0.32 GiB for CUDAGraph memory. Replace gpu_memory_utilization config with `--kv-cache-memory=29407858586` (27.39 GiB) to fit into requested memory, or `--kv-cache-memory=38581581312` (35.93 GiB) to fully utilize gpu memory. Current kv cache memory in use is 27.85 GiB.
"""  # noqa: E501


def test_vllm_0_27_summary_line() -> None:
    # kubesimplify's Qwen3-235B-A22B-FP8 at tp 4 on RTX PRO 6000s: 0.27 prints no 'Available KV cache memory'
    log = read_engine_log(VLLM_0271)
    assert log.reported["kv_pool_bytes"] == round(27.85 * GIB)
    assert log.reported["cuda_graph_bytes"] == round(0.32 * GIB)
    assert log.reported["weights_bytes"] == round(55.19 * GIB)
    assert log.reported["kv_capacity_tokens"] == 621_392 and log.reported["max_concurrency"] == 18.96
    assert log.gpu_free_bytes == round(94.05 * GIB) and log.gpu_total_bytes == round(95.01 * GIB)
    assert log_settings(log)["gpu_memory_utilization"] == 0.9
    # its consumed memory and peak activation are not the profile's terms (persistent buffers, graph estimate)
    assert "activation_bytes" not in log.reported and "non_torch_bytes" not in log.reported


def test_the_llama_cpp_build_a_log_names() -> None:
    # issue 11200's llama-server printed "build: 4462 (c05e8c99) with cc …" (reference/engine_logs.json)
    line = "build: 4462 (c05e8c99) with cc (GCC) 13.3.0 for x86_64-linux-gnu\n"
    assert log_settings(read_engine_log(line + LLAMA_SERVER))["engine_version"] == "b4462"
    assert "engine_version" not in log_settings(read_engine_log(LLAMA_SERVER))
