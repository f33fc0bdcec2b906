"""An inference engine's start-up log -> the figures it reported and the settings it states, in the
estimate's key names and in bytes, so that a prediction can be laid beside them.

Read: vLLM (V1 and V0), llama.cpp / llama-server (buffer lines and the memory breakdown table), Ollama (its
scheduler's memory line, and the llama.cpp lines it passes on) and SGLang. Text only, by pattern: nothing
in a log is evaluated.
"""

import contextlib
import re
from collections.abc import Callable
from typing import Any, NamedTuple

from vramscope.core.scenario import Engine
from vramscope.core.units import GIB, MIB
from vramscope.sources.errors import ModelFileError

MAX_LOG_BYTES = 16 * 1024 * 1024  # a start-up log is a few hundred KB; the rest is request traffic
MAX_LINE = 4 * 1024  # the longest real line (vLLM's args) is about 2 KiB; a longer one is cut, never backtracked
MAX_DIGITS = 30  # a figure of more digits is no engine's (and Python refuses ints past 4,300)
_NUMBER = r"([0-9][0-9,]*(?:\.[0-9]+)?)"
_FIGURE = re.compile(r"-?[0-9]{1,30}(?:\.[0-9]{1,30})?", re.ASCII)


class EngineLog(NamedTuple):
    engine: Engine
    model: str  # as the log names it ("meta-llama/Llama-3.1-8B-Instruct", "qwen2.5-coder:32b-….gguf"), or ""
    settings: dict[str, Any]  # what the log states: max_model_len, gpu_memory_utilization, n_ctx, n_ubatch …
    reported: dict[str, Any]  # in the estimate's key names: weights_bytes (per GPU), kv_pool_bytes …
    gpu_total_bytes: int | None  # the memory the engine saw on one GPU, where it says
    refusal: str  # the error it stopped with, if any
    gpu_free_bytes: int | None = None  # free on one GPU when the engine started, where it says


class BadFigure(ValueError):
    """A number a pattern matched that is no figure ("1.2.3", 400 digits): the figure is left out."""


def number(text: str) -> float:
    """The one parser of every figure read from a log: ASCII digits, one decimal point, at most 30 digits."""
    plain = text.replace(",", "")
    if not _FIGURE.fullmatch(plain):
        raise BadFigure(f"{text[:40]!r} is not a figure")
    return float(plain)


def whole(text: str) -> int:
    value = number(text)
    if not value.is_integer():
        raise BadFigure(f"{text[:40]!r} is not a whole number")
    return int(value)


def size(value: str, unit: str) -> int:
    """'14.99', 'GiB' -> bytes. vLLM V0 and SGLang print GB where they compute GiB (2^30)."""
    scale = {"gib": GIB, "gb": GIB, "mib": MIB, "mb": MIB, "kib": 1024, "b": 1}[unit.lower()]
    return round(number(value) * scale)


def read_engine_log(raw: bytes | str) -> EngineLog:
    """The figures of a vLLM, llama.cpp, Ollama or SGLang log; ModelFileError when it is none of them."""
    text = raw[:MAX_LOG_BYTES].decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw[:MAX_LOG_BYTES]
    lines = relevant_lines(text)
    engine = detect_engine(lines)
    if engine is None:
        raise ModelFileError(
            "no vLLM, llama.cpp, Ollama or SGLang start-up lines found: paste the log from the engine's start"
        )
    log = _PARSE[engine](last_run(lines, engine))
    reported = dict(log.reported)
    if isinstance(reported.get("per_gpu"), list):  # a device name is text of the log like any other
        reported["per_gpu"] = [{**gpu, "name": redact(str(gpu.get("name", "")))} for gpu in reported["per_gpu"]]
    return log._replace(
        model=redact(log.model), settings=redacted(log.settings), refusal=redact(log.refusal), reported=reported
    )


# --- the lines that matter --------------------------------------------------------------------------------

# Every text a parser or the engine detection looks for: a log's other lines (request traffic, progress
# bars) are skipped by one scan of the text, so that a log of millions of lines costs one pass, not millions
# of pattern searches. A parser that looks for a new text lists it here.
_ANCHORS = (
    # vLLM
    "took", "torch peak memory", "non-torch forward", "Available KV cache memory", "kv_cache_size=",
    "total_memory=", "total_gpu_memory=", "free_memory=", "GPU KV cache size", "GPU blocks",
    "Maximum concurrency", "gpu_memory_utilization=", "To serve at least one request", "No available memory",
    "non-default args:", "Initializing a", "vllm.engine", "gpu_worker.py", "kv_cache_utils.py",
    "total_gpu_memory (", "model weights take", "peak_torch_memory=", "blocks: ", "API server version",
    "maximum number of tokens that can be stored in KV cache", "█  version ", "Using FlashInfer for top-p",
    "lacks GPU", "spans across nodes", "Free memory on device", "kv cache memory in use",
    # llama.cpp and Ollama
    "llama-server", "llama_server", "--ctx-size", " -c ", "llama_context:", "llama_model_loader:",
    "llama_kv_cache", "kv_size = ", "KV self size", "buffer size", "n_layer", "memory.required", "memory.graph",
    "memory.weights", "layers.offload=", "memory_breakdown", "source=", "ollama serve", "main: build", "build: ",
    # SGLang
    "launch_server", "Load weight", "#tokens:", "Capture cuda graph end", "context_len=", "KV Cache is allocated",
    "server_args=",
)  # fmt: skip
_ANCHOR = re.compile("|".join(re.escape(a) for a in _ANCHORS))
MAX_RELEVANT_LINES = 20_000  # a start-up has a few hundred such lines; the last are kept (the last run's)


def relevant_lines(text: str) -> list[str]:
    """The lines holding an anchor, each cut at MAX_LINE, found in one pass of the regex engine."""
    lines: list[str] = []
    match = _ANCHOR.search(text)
    while match:
        start = text.rfind("\n", 0, match.start()) + 1
        end = text.find("\n", match.end())
        end = len(text) if end < 0 else end
        lines.append(text[start : min(end, start + MAX_LINE)])
        match = _ANCHOR.search(text, end)  # past the line, not its other anchors
    return lines[-MAX_RELEVANT_LINES:]


# --- which engine, which run ----------------------------------------------------------------------------

# Lines only one engine prints: the engine is the one with the most of them, not the first word seen (a
# vLLM log downloading into ~/.ollama is still vLLM's)
_EVIDENCE: dict[Engine, tuple[str, ...]] = {
    Engine.VLLM: (
        "Model loading took",
        "Loading model weights took",
        "Available KV cache memory",
        "GPU KV cache size",
        "GPU blocks:",
        "non-default args:",
        "Maximum concurrency for",
        "vllm.engine",
        "[gpu_worker.py",
        "[kv_cache_utils.py",
    ),
    Engine.SGLANG: ("KV Cache is allocated", "server_args=ServerArgs", "sglang.launch_server", "Load weight end."),
    Engine.OLLAMA: (
        "source=memory.go",
        "source=server.go",
        "source=sched.go",
        'msg="starting runner"',
        "ollama serve",
    ),
    Engine.LLAMACPP: ("llama_context:", "llama_model_loader:", "buffer size =", "llama_kv_cache", "memory_breakdown"),
}
# Where a run starts: a log holding two starts is read from the last (settings and figures of one run)
_RUN_START: dict[Engine, tuple[str, ...]] = {
    Engine.VLLM: (
        "█  version ",  # the start-up banner, just before the args
        "non-default args:",
        "Initializing a V1 LLM engine",
        "Initializing a V0 LLM engine",
        "Initializing an LLM engine",
    ),
    Engine.SGLANG: ("server_args=ServerArgs",),
    Engine.OLLAMA: ('msg="offload to',),  # each model load begins with its placement
    Engine.LLAMACPP: ("main: build", "build: ", "llama_model_loader: loaded meta data"),
}


def _any_of(marks: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(re.escape(m) for m in marks))


# one search per line and engine (a log of a million lines allocates nothing per mark)
_EVIDENCE_FOUND = {engine: _any_of(marks) for engine, marks in _EVIDENCE.items()}
_RUN_START_FOUND = {engine: _any_of(marks) for engine, marks in _RUN_START.items()}


def detect_engine(lines: list[str]) -> Engine | None:
    score = dict.fromkeys(_EVIDENCE, 0)
    distinct = set(lines)  # a line repeated is no more evidence than once
    for engine, found in _EVIDENCE_FOUND.items():
        score[engine] = sum(1 for line in distinct if found.search(line))
    if score[Engine.OLLAMA] and score[Engine.LLAMACPP]:  # Ollama passes llama.cpp's own lines on
        score[Engine.OLLAMA] += score[Engine.LLAMACPP]
    engine, best = max(score.items(), key=lambda item: item[1])
    return engine if best else None


def last_run(lines: list[str], engine: Engine) -> list[str]:
    found = _RUN_START_FOUND[engine]
    starts = [i for i, line in enumerate(lines) if found.search(line)]
    if not starts:
        return lines
    first_of_last = starts[-1]  # a run's first lines can repeat its start mark (vLLM's args, then its config)
    while len(starts) > 1 and starts[-2] >= first_of_last - 5:
        starts.pop()
        first_of_last = starts[-1]
    return lines[first_of_last:]


# --- what must not leave the machine --------------------------------------------------------------------

_SECRET_KEY = re.compile(r"token|key|secret|password|passwd|credential|auth", re.IGNORECASE)
_SECRETS = (
    (re.compile(r"(://)[^/@\s]{1,200}@"), r"\1***@"),  # a URL's user:password
    (re.compile(r"\bhf_[A-Za-z0-9]{6,}"), "hf_***"),  # Hugging Face tokens
    (re.compile(r"\bsk-[A-Za-z0-9_-]{6,}"), "sk-***"),  # API keys in the OpenAI style
    (re.compile(r"((?:token|key|secret|password)\s*[=:]\s*)\S+", re.IGNORECASE), r"\1***"),
)


def redact(text: str) -> str:
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


def redacted(settings: dict[str, Any]) -> dict[str, Any]:
    """The settings without secrets: a key that names one is masked, a value that holds one is cut out."""
    return {
        key: "***" if _SECRET_KEY.search(key) else redact(value) if isinstance(value, str) else value
        for key, value in settings.items()
    }


# --- vLLM ----------------------------------------------------------------------------------------------

_VLLM_ARG = re.compile(r"'(\w+)': ('[^']*'|-?[0-9.]+|True|False|None)")
# (key, a text the line must hold, the pattern): the pattern runs only on lines holding its text, so a log of
# thousands of such lines costs one substring test per pattern, not a regex search
_VLLM = (
    ("weights_bytes", "took", re.compile(r"(?:Model loading|Loading model weights) took ([0-9.]+) ?(GiB|GB)")),
    ("activation_bytes", "torch peak", re.compile(r"torch peak memory increase: ([0-9.]+) ?(GiB|GB)")),
    ("non_torch_bytes", "non-torch", re.compile(r"non-torch forward increase memory: ([0-9.]+) ?(GiB|GB)")),
    ("kv_pool_bytes", "Available KV", re.compile(r"Available KV cache memory: (-?[0-9.]+) ?(GiB|GB)")),
    ("kv_pool_bytes", "kv_cache_size=", re.compile(r"kv_cache_size=(-?[0-9.]+)(GiB|GB)")),
    # V0 (0.6.5 - 0.10): "model weights take 8.51GiB; non_torch_memory takes 0.26GiB; PyTorch activation peak
    # memory takes 0.94GiB; the rest of the memory reserved for KV Cache is 2.18GiB."
    ("weights_bytes", "model weights take", re.compile(r"model weights take ([0-9.]+) ?(GiB|GB)")),
    ("non_torch_bytes", "non_torch_memory takes", re.compile(r"non_torch_memory takes ([0-9.]+) ?(GiB|GB)")),
    (
        "non_torch_bytes",
        "Memory profiling results:",
        re.compile(r"Memory profiling results:.*?non_torch_memory=([0-9.]+)(GiB|GB)"),  # 0.6.4
    ),
    ("activation_bytes", "activation peak", re.compile(r"PyTorch activation peak memory takes ([0-9.]+) ?(GiB|GB)")),
    ("kv_pool_bytes", "reserved for KV", re.compile(r"reserved for KV Cache is (-?[0-9.]+) ?(GiB|GB)")),
    ("peak_torch_bytes", "peak_torch_memory=", re.compile(r"peak_torch_memory=([0-9.]+)(GiB|GB)")),  # 0.6.4
    (
        "cuda_graph_bytes",
        "Graph capturing",
        re.compile(r"Graph capturing finished in .{0,80}?took ([0-9.]+) ?(GiB|GB)"),
    ),
    # 0.26 on, one summary line (gpu_worker.py): "… and 0.32 GiB for CUDAGraph memory. … Current kv cache memory
    # in use is 27.85 GiB." Its 'consumed memory' holds persistent torch buffers beside the non-torch memory and
    # its 'peak activation' the graph estimate: neither is the profile's own term, so both are left out
    ("cuda_graph_bytes", "for CUDAGraph memory", re.compile(r"([0-9.]+) (GiB) for CUDAGraph memory")),
    ("kv_pool_bytes", "kv cache memory in use", re.compile(r"kv cache memory in use is (-?[0-9.]+) ?(GiB)")),
)


def _vllm(lines: list[str]) -> EngineLog:
    settings: dict[str, Any] = {}
    reported: dict[str, Any] = {}
    total = free = refusal = None
    model = ""
    for line in lines:
        try:
            model, total, free, refusal = _vllm_line(line, settings, reported, model, total, free, refusal)
        except (BadFigure, OverflowError):  # a figure no engine prints: that line's figures are left out
            continue
    peak = reported.pop("peak_torch_bytes", None)
    if peak is not None and "activation_bytes" not in reported and "weights_bytes" in reported:
        reported["activation_bytes"] = max(0, peak - reported["weights_bytes"])  # V0 0.6.4's peak holds weights
    return EngineLog(Engine.VLLM, model, settings, reported, total, refusal or "", free)


def _vllm_line(
    line: str,
    settings: dict[str, Any],
    reported: dict[str, Any],
    model: str,
    total: int | None,
    free: int | None,
    refusal: str | None,
) -> tuple[str, int | None, int | None, str | None]:
    if "non-default args:" in line:
        for key, value in _VLLM_ARG.findall(line):
            settings[key] = _literal(value)
        model = str(settings.get("model") or settings.get("model_tag") or model)
    if "LLM engine (v" in line or "API server version" in line or "█  version " in line:
        _vllm_engine_line(line, settings)
        model = model or str(settings.get("model") or "")
    _vllm_figures(line, settings, reported)
    if "Using FlashInfer for top-p" in line:
        settings["flashinfer_sampler"] = True
    if "Custom allreduce is disabled" in line and ("lacks GPU" in line or "spans across nodes" in line):
        settings["peer_to_peer"] = False  # NCCL then goes through host memory or the network
    total, free = _vllm_device_memory(line, total, free)
    if _VLLM_REFUSAL.search(line):
        refusal = line[line.find("ValueError:") + 12 :].strip() if "ValueError:" in line else line.strip()
    return model, total, free, refusal


def _vllm_device_memory(line: str, total: int | None, free: int | None) -> tuple[int | None, int | None]:
    """The GPU's total and free memory: the worker's snapshot (0.19), V0's profile, 0.26's summary line."""
    if "total_" in line and (m := re.search(r"total_(?:gpu_)?memory(?:=| \()([0-9.]+) ?(GiB|GB)", line)):
        total = size(*m.groups())
    if "free_memory=" in line and (m := re.search(r"free_memory=([0-9.]+)(GiB|GB)", line)):
        free = size(*m.groups())
    if "Free memory on device" in line and (m := re.search(r"Free memory on device \(([0-9.]+)/([0-9.]+) GiB\)", line)):
        free, total = size(m.group(1), "GiB"), size(m.group(2), "GiB")
    return total, free


_VLLM_REFUSALS = (
    "To serve at least one request",
    "No available memory for the cache blocks",
    "maximum number of tokens that can be stored in KV cache",  # V0
)
_VLLM_REFUSAL = _any_of(_VLLM_REFUSALS)
_VLLM_ENGINE = re.compile(r"Initializing an? (?:(V[01]) )?LLM engine \(v([0-9][0-9A-Za-z.+-]{0,40})\) with config:")
_VLLM_CONFIG = re.compile(r"(\w+)=('[^']*'|[^,\s]+)")
_VLLM_CONFIG_KEYS = {"max_seq_len": "max_model_len"}  # the config line's names for the args'


def _vllm_figures(line: str, settings: dict[str, Any], reported: dict[str, Any]) -> None:
    """The memory figures and counts of one line, each pattern tried only where its text is."""
    for key, text, pattern in _VLLM:
        found = pattern.search(line) if text in line else None
        if found:
            reported[key] = size(*found.groups())
    if "KV cache size" in line and (m := re.search(r"GPU KV cache size: " + _NUMBER + " tokens", line)):
        reported["kv_capacity_tokens"] = whole(m.group(1))
    if "blocks: " in line and (m := re.search(r"(?:GPU|CUDA|cuda) blocks: " + _NUMBER, line)):
        reported["num_gpu_blocks"] = whole(m.group(1))
    concurrency = r"Maximum concurrency for " + _NUMBER + r" tokens per request: ([0-9.]+)x"
    if "concurrency" in line and (m := re.search(concurrency, line)):
        settings.setdefault("max_model_len", whole(m.group(1)))
        reported["max_concurrency"] = number(m.group(2))
    if "gpu_memory_utilization" in line and (m := re.search(r"gpu_memory_utilization(?:=| \()([0-9.]+)", line)):
        settings.setdefault("gpu_memory_utilization", number(m.group(1)))
    if "esired GPU memory utilization" in line and (
        m := re.search(r"esired GPU memory utilization (?:is )?\(([0-9.]+),", line)
    ):
        settings.setdefault("gpu_memory_utilization", number(m.group(1)))  # 0.19's refusal, 0.26's summary


def _vllm_engine_line(line: str, settings: dict[str, Any]) -> None:
    """The version, and the config of "Initializing a V0 LLM engine (v0.8.2) with config: model='…', …"."""
    if m := _VLLM_ENGINE.search(line):
        # before 0.8 every engine was V0 and said no more; from 0.8 the line names V0 or V1
        v0 = m.group(1) == "V0" or (m.group(1) is None and not _version_at_least(m.group(2), (0, 8)))
        settings["engine_version"] = m.group(2) + ("-v0" if v0 else "")
        for key, value in _VLLM_CONFIG.findall(line[m.end() :]):
            key = _VLLM_CONFIG_KEYS.get(key, key)
            if key not in settings:
                settings[key] = _config_value(value)
    elif m := re.search(r"(?:API server version|█  version) ([0-9][0-9A-Za-z.+-]{0,40})", line):  # or its banner
        settings.setdefault("engine_version", m.group(1))


def _config_value(value: str) -> Any:
    """A value of vLLM's config line: a quoted string, a number, True/False/None or a bare word."""
    if value.startswith("'"):
        return value.strip("'")
    if value in ("True", "False", "None"):
        return {"True": True, "False": False, "None": None}[value]
    try:
        return number(value) if "." in value else whole(value)
    except BadFigure:
        return value.removeprefix("torch.")


def _version_at_least(version: str, at_least: tuple[int, ...]) -> bool:
    parts = re.findall(r"[0-9]+", version)[: len(at_least)]
    return tuple(int(p) for p in parts) >= at_least


def _literal(value: str) -> Any:
    """A value of vLLM's args line, read as data: a quoted string, a number, True/False/None."""
    if value.startswith("'"):
        return value.strip("'")
    if value in ("True", "False", "None"):
        return {"True": True, "False": False, "None": None}[value]
    return number(value) if "." in value else whole(value)


# --- llama.cpp and Ollama --------------------------------------------------------------------------------

_DEVICE_BUFFER = re.compile(
    r"(?<![\w-])([\w-]{1,64}?)\s+(model|KV|compute|output) buffer size\s*=\s*([0-9.]{1,40}) (MiB|KiB|B)", re.ASCII
)
# common_memory_breakdown_print: | - ROCm0 (…) | total = free + (self = model + context + compute) + unaccounted |
# (the device name and its description share no character, so a line that fails is given up in one pass)
_BREAKDOWN = re.compile(
    r"\|\s+-\s+([^\s|]{1,64})(?:\s[^|]{0,200})?\|\s+(\d+)\s+=\s+(\d+)\s+\+\s+\((\d+)\s+=\s+(\d+)\s+\+\s+(\d+)\s+\+\s+(\d+)\)",
    re.ASCII,
)
_LLAMA_FLAGS = {
    "-c": "n_ctx",
    "--ctx-size": "n_ctx",
    "-ub": "n_ubatch",
    "--ubatch-size": "n_ubatch",
    "-np": "n_parallel",
    "--parallel": "n_parallel",
    "-ngl": "n_gpu_layers",
    "--n-gpu-layers": "n_gpu_layers",
    "-ts": "tensor_split",
    "--tensor-split": "tensor_split",
    "-ctk": "type_k",
    "--cache-type-k": "type_k",
    "-ctv": "type_v",
    "--cache-type-v": "type_v",
    "-m": "model",
    "--model": "model",
}


def _llamacpp(lines: list[str], engine: Engine = Engine.LLAMACPP) -> EngineLog:
    settings: dict[str, Any] = {}
    reported: dict[str, Any] = {}
    per_device: dict[str, dict[str, int]] = {}
    breakdown: dict[str, dict[str, int]] = {}  # the memory breakdown table, exact where it is printed
    model = ""
    for line in lines:
        try:
            _llamacpp_line(line, settings, reported, per_device, breakdown)
        except (BadFigure, OverflowError):  # a figure no engine prints: that line's figures are left out
            continue
    return _llamacpp_log(engine, settings, reported, per_device, breakdown, model)


# Ollama's placement line ("offload to cuda"): the figures it planned with
_OLLAMA_FIGURES = (
    ("kv_cache_bytes", re.compile(r"memory\.required\.kv=\"([0-9.]+) (GiB|MiB)\"")),
    ("compute_buffer_bytes", re.compile(r"memory\.graph\.full=\"([0-9.]+) (GiB|MiB)\"")),
    ("weights_bytes", re.compile(r"memory\.weights\.total=\"([0-9.]+) (GiB|MiB)\"")),
)


def _ollama_figures(line: str, reported: dict[str, Any]) -> None:
    for key, pattern in _OLLAMA_FIGURES:
        if m := pattern.search(line):
            reported[key] = size(*m.groups())


_LLAMA_BUILD = re.compile(r"\bbuild(?::| =) (\d{1,6}) \(", re.ASCII)
_N_LAYER = re.compile(r"\bn_layer\s*=\s*(\d{1,6})\b", re.ASCII)
_KV_SIZE = re.compile(r"kv_size = (\d{1,30})[^']{0,200}type_k = '(\w+)'", re.ASCII)
_KV_SELF_SIZE = re.compile(r"KV self size\s*=\s*([0-9.]+) MiB")
_LAYERS_OFFLOAD = re.compile(r"layers\.offload=(\d+)", re.ASCII)
_CONTEXT_NUMBER = re.compile(r"llama_context:\s+(n_ctx|n_ctx_seq|n_seq_max|n_ubatch|n_batch)\s*=\s*(\d+)", re.ASCII)
_CONTEXT_SWITCH = re.compile(r"llama_context:\s+(flash_attn|kv_unified)\s*=\s*(\w+)")


def _context_setting(line: str, settings: dict[str, Any]) -> None:
    if m := _CONTEXT_NUMBER.search(line):
        settings[m.group(1)] = whole(m.group(2))
    elif m := _CONTEXT_SWITCH.search(line):
        name, value = m.groups()
        settings[name] = value in ("enabled", "1", "true", "on") if name == "flash_attn" else value == "true"


def _llamacpp_setting(line: str, settings: dict[str, Any]) -> None:
    """The settings a line states: the command's flags, the context's, the build, the layers and cells."""
    if "llama-server" in line or "llama_server" in line or "--ctx-size" in line or " -c " in line:
        _command_flags(line, settings)
    if "llama_context:" in line:
        _context_setting(line, settings)
    if "build" in line and (m := _LLAMA_BUILD.search(line)):  # "build: 4462 (c05e8c99) with cc …"
        settings.setdefault("engine_version", f"b{m.group(1)}")
    if "n_layer" in line and (m := _N_LAYER.search(line)):  # kv cache init, print_info
        settings.setdefault("n_layer", int(m.group(1)))
    if "kv_size = " in line and (m := _KV_SIZE.search(line)):
        settings.setdefault("n_ctx", whole(m.group(1)))
        settings.setdefault("type_k", m.group(2))


def _llamacpp_line(
    line: str,
    settings: dict[str, Any],
    reported: dict[str, Any],
    per_device: dict[str, dict[str, int]],
    breakdown: dict[str, dict[str, int]],
) -> None:
    _llamacpp_setting(line, settings)
    if "KV self size" in line and (m := _KV_SELF_SIZE.search(line)):
        reported["kv_cache_bytes"] = size(m.group(1), "MiB")
    for device, kind, value, unit in _DEVICE_BUFFER.findall(line) if "buffer size" in line else ():
        key = {"model": "weights_bytes", "KV": "kv_cache_bytes", "compute": "compute_buffer_bytes"}.get(kind)
        if key is None:
            continue
        slot = per_device.setdefault(device, {})
        slot[key] = slot.get(key, 0) + size(value, unit)
    if "memory." in line:
        _ollama_figures(line, reported)
    if "layers.offload=" in line and (m := _LAYERS_OFFLOAD.search(line)):
        reported["n_gpu_layers"] = whole(m.group(1))
    if "|" in line and " - " in line:
        _breakdown_row(line, settings, breakdown)


def _breakdown_row(line: str, settings: dict[str, Any], breakdown: dict[str, dict[str, int]]) -> None:
    if m := _BREAKDOWN.search(line):
        slot = breakdown.setdefault(m.group(1), {})
        slot.update(
            weights_bytes=size(m.group(5), "MiB"),
            kv_cache_bytes=size(m.group(6), "MiB"),
            compute_buffer_bytes=size(m.group(7), "MiB"),
        )
        settings.setdefault("gpu_total_bytes", size(m.group(2), "MiB"))


def _llamacpp_log(
    engine: Engine,
    settings: dict[str, Any],
    reported: dict[str, Any],
    per_device: dict[str, dict[str, int]],
    breakdown: dict[str, dict[str, int]],
    model: str,
) -> EngineLog:
    per_device.update(breakdown)  # the table sums what the buffer lines say: take it, not both
    model = str(settings.pop("model", model))
    gpus = [d for d in per_device if not _is_host(d)]
    if gpus:
        reported["per_gpu"] = [{"name": d, **per_device[d]} for d in gpus]
        for key in ("weights_bytes", "compute_buffer_bytes"):
            values = [per_device[d].get(key) for d in gpus]
            if all(v is not None for v in values):
                reported.setdefault(key, sum(v for v in values if v is not None))
        kv = [per_device[d].get("kv_cache_bytes") for d in gpus]
        if all(v is not None for v in kv):
            reported.setdefault("kv_cache_bytes", sum(v for v in kv if v is not None))
    if "n_ctx" in settings:
        reported["n_ctx_cells"] = settings["n_ctx"]
    total = settings.pop("gpu_total_bytes", None)
    return EngineLog(engine, model, settings, reported, total, "")


def _is_host(device: str) -> bool:
    return device.startswith(("CPU", "Host")) or device.endswith("_Host") or device in ("CUDA_Host", "ROCm_Host")


def _command_flags(line: str, settings: dict[str, Any]) -> None:
    words = line.replace("*", "").split()
    for i, word in enumerate(words[:-1]):
        key = _LLAMA_FLAGS.get(word)
        if key is None:
            continue
        value = words[i + 1]
        if key in ("model", "tensor_split", "type_k", "type_v"):
            settings.setdefault(key, value)
        elif re.fullmatch(r"-?[0-9]{1,9}", value, re.ASCII):  # not "²", "---5" or 5,000 digits
            settings.setdefault(key, int(value))
    if "--flash-attn" in words or "-fa" in words:
        settings.setdefault("flash_attn", True)


def _ollama(lines: list[str]) -> EngineLog:
    return _llamacpp(lines, Engine.OLLAMA)


# --- SGLang --------------------------------------------------------------------------------------------


def _sglang(lines: list[str]) -> EngineLog:
    settings: dict[str, Any] = {}
    reported: dict[str, Any] = {}
    model = ""
    free = None
    for line in lines:
        try:
            model, free = _sglang_line(line, settings, reported, model, free)
        except (BadFigure, OverflowError):  # a figure no engine prints: that line's figures are left out
            continue
    return EngineLog(Engine.SGLANG, model, settings, reported, None, "", free)


def _sglang_line(
    line: str, settings: dict[str, Any], reported: dict[str, Any], model: str, free: int | None
) -> tuple[str, int | None]:
    if "launch_server" in line:
        for flag in ("--model-path", "--model"):
            if m := re.search(re.escape(flag) + r"\s+(\S+)", line):
                model = model or m.group(1)
        for flag, key in (("--tensor-parallel-size", "tp"), ("--tp", "tp"), ("--context-length", "context")):
            if m := re.search(re.escape(flag) + r"\s+(\d+)", line, re.ASCII):
                settings[key] = whole(m.group(1))
        if m := re.search(r"--mem-fraction-static\s+([0-9.]+)", line):
            settings["mem_fraction_static"] = number(m.group(1))
    if m := re.search(r"Load weight begin\. avail mem=([0-9.]+) (GB|GiB)", line):
        free = size(*m.groups())
    if m := re.search(r"Load weight end\.[^=]{0,200}(?:=[^=]{0,200})*?mem usage=([0-9.]+) (GB|GiB)", line):
        reported["weights_bytes"] = size(*m.groups())
    if m := re.search(r"#tokens: (\d+), K size: ([0-9.]+) (GB|GiB), V size: ([0-9.]+) (GB|GiB)", line, re.ASCII):
        reported["kv_capacity_tokens"] = whole(m.group(1))
        reported["kv_pool_bytes"] = size(m.group(2), m.group(3)) + size(m.group(4), m.group(5))
    if m := re.search(r"Capture cuda graph end\.[^=]{0,200}(?:=[^=]{0,200})*?mem usage=([0-9.]+) (GB|GiB)", line):
        reported["cuda_graph_bytes"] = size(*m.groups())
    if m := re.search(r"context_len=(\d+)", line, re.ASCII):
        settings.setdefault("context", whole(m.group(1)))
    return model, free


_PARSE: dict[Engine, Callable[[list[str]], EngineLog]] = {
    Engine.VLLM: _vllm,
    Engine.SGLANG: _sglang,
    Engine.OLLAMA: _ollama,
    Engine.LLAMACPP: _llamacpp,
}


# --- the scenario a log describes ------------------------------------------------------------------------

_QUANTIZATION = {"fp8": "fp8", "gptq": "gptq-int4", "gptq_marlin": "gptq-int4", "awq": "awq-int4"}
_QUANTIZATION |= {"awq_marlin": "awq-int4", "bitsandbytes": "nf4", "mxfp4": "mxfp4"}
_KV_TYPES = {"f16": "fp16", "fp16": "fp16", "bf16": "bf16", "f32": "fp32", "q8_0": "q8_0", "q4_0": "q4_0"}
_GGUF_TYPE = re.compile(r"(?i)(?:^|[-_.:])(q[2-8]_k_[sml]|q[2-8]_k|q[4-8]_[01]|iq[1-4]_[a-z]+|f16|bf16)(?:$|[-_.])")


def preset_for(model: str, layers: int | None = None) -> str | None:
    """The preset a log's model name means: org and file suffix dropped, then trailing words such as
    -Instruct, -Chat or -v0.1 one by one ("Mixtral-8x7B-Instruct-v0.1" -> mixtral-8x7b). Else, where the log
    states its layer count, the preset of that many layers that shares two words of the name with it
    ("qwen2.5-coder:32b-instruct-q8_0.gguf", 64 layers -> qwen2.5-32b)."""
    from vramscope.sources.presets import find_preset, preset_documents

    name = model.strip()[:200].rsplit("/", 1)[-1].removesuffix(".gguf").replace(":", "-").lower()
    words = name.split("-")[:12]  # a preset id has a few words; a log's name of thousands is none
    for end in range(len(words), 0, -1):
        found = find_preset("-".join(words[:end]))
        if found is not None:
            return found
    if not layers:
        return None
    shared = {
        preset: len(set(words) & set(preset.split("-")))
        for preset, doc in preset_documents().items()
        if doc["architecture"]["num_layers"] == layers
    }
    best = max(shared, key=lambda p: shared[p], default=None)
    return best if best is not None and shared[best] >= 2 else None


def log_workload(log: EngineLog, max_context: int) -> dict[str, Any]:
    """Workload fields the log states (context per sequence, sequences, formats)."""
    s = log.settings
    fields: dict[str, Any] = {}
    if log.engine in (Engine.LLAMACPP, Engine.OLLAMA):
        slots = int(s.get("n_seq_max") or s.get("n_parallel") or 1)
        per_seq = s.get("n_ctx_seq") or (int(s["n_ctx"]) // slots if s.get("n_ctx") else None)
        fields.update(batch=slots, context=int(per_seq or 4096))
        if s.get("type_k") in _KV_TYPES:
            fields["kv_dtype"] = _KV_TYPES[s["type_k"]]
        ftype = _GGUF_TYPE.search(log.model)
        if ftype:
            fields["weight_format"] = ftype.group(1).lower()
    else:
        fields["context"] = int(s.get("max_model_len") or s.get("context") or max_context)
        quant = str(s.get("quantization") or "").lower()
        if _QUANTIZATION.get(quant):
            fields["weight_format"] = _QUANTIZATION[quant]
        if str(s.get("kv_cache_dtype", "")).startswith("fp8"):
            fields["kv_dtype"] = "fp8"
    fields["context"] = min(fields["context"], max_context) if max_context else fields["context"]
    return fields


def log_settings(log: EngineLog) -> dict[str, Any]:
    """EngineSettings fields the log states."""
    s, out = log.settings, {}
    for key in ("gpu_memory_utilization", "max_num_seqs", "max_num_batched_tokens", "block_size"):
        if isinstance(s.get(key), int | float):
            out[key] = s[key]
    for key in ("enforce_eager", "flashinfer_sampler", "peer_to_peer"):
        if isinstance(s.get(key), bool):
            out[key] = s[key]
    if isinstance(s.get("engine_version"), str) and log.engine in (Engine.VLLM, Engine.LLAMACPP):
        out["engine_version"] = s["engine_version"][:40]
    if isinstance(s.get("mem_fraction_static"), float):
        out["mem_fraction_static"] = s["mem_fraction_static"]
    if isinstance(s.get("n_ubatch"), int):
        out["n_ubatch"] = s["n_ubatch"]
    if isinstance(s.get("flash_attn"), bool):
        out["flash_attn"] = s["flash_attn"]
    if isinstance(s.get("kv_unified"), bool):
        out["kv_unified"] = s["kv_unified"]
    if isinstance(s.get("n_gpu_layers"), int) and s["n_gpu_layers"] >= 0:
        out["n_gpu_layers"] = s["n_gpu_layers"]
    if isinstance(s.get("tensor_split"), str):
        with contextlib.suppress(ValueError):
            out["tensor_split"] = tuple(float(p) for p in s["tensor_split"].split(","))
    return out


def log_gpu_count(log: EngineLog) -> int:
    s = log.settings
    if log.engine in (Engine.LLAMACPP, Engine.OLLAMA):
        return max(1, len(log.reported.get("per_gpu", ())))
    return int(s.get("tensor_parallel_size") or s.get("tp") or 1)
