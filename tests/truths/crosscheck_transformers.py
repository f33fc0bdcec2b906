"""Cross-check the app's parameter and cache counting against Hugging Face transformers itself.

For every tests/fixtures/configs/<org>__<Model>/config.json this script asks transformers (in a throwaway venv of its
own, so the project never depends on torch) for the ground truth:

* parameters: the whole model built on the meta device, `sum(p.numel() for p in model.parameters())` (shared
  tensors such as a tied lm_head are counted once), split into text / vision / audio / MTP by module name;
* active parameters: total minus, in every MoE block, the routed experts a token does not use -- one expert's
  share is (all routed-expert parameters of the block) / E, and E - k of them stay idle;
* cache: a shrunk copy of the text config (same heads, head dims, windows, state sizes and layer pattern; vocab
  1000, few experts, thin MLPs, only enough layers to hold every layer type) is run on the CPU with T = 32, 64
  and 128 tokens; every tensor the returned cache holds is measured per layer.  The growth between T = 32 and 64
  is the per-token cache, what stays at T = 0 is the fixed state.  Bytes are given at bf16 (2 per element).

Then, when `vramscope` is importable (`uv run python tests/truths/crosscheck_transformers.py`), it reads the
same configs with `vramscope.sources.hf_config` and prints both side by side.

    uv run python tests/truths/crosscheck_transformers.py [--only NAME] [--truths PATH] [--reuse]

`--reuse` skips transformers and compares against an existing TRUTHS.json.  Not a pytest module on purpose.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import venv
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / "tests" / "fixtures" / "configs"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "vramscope-crosscheck"
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
LENGTHS = (32, 64, 128)
LONG_LENGTHS = (1024, 2048)  # only for models with a window or compression at or below LONG_WINDOW
LONG_WINDOW = 1024
VOCAB = 1000
# model_type values transformers does not register but whose checkpoints name a class it has
TYPE_ALIASES = {"kimi_k2": "deepseek_v3", "deepseek_ref": "deepseek_v4", "minimax_m3": "minimax_m3_vl_text"}
EXPERT_COUNT_KEYS = ("num_experts", "n_routed_experts", "num_local_experts", "moe_num_experts")
TOP_K_KEYS = ("num_experts_per_tok", "num_experts_per_token", "top_k_experts", "moe_topk", "n_activated_experts")
VISION_MARKERS = ("visual", "vision", "multi_modal_projector", "mm_projector", "embed_vision", "image_newline")
AUDIO_MARKERS = ("audio",)
MTP_MARKERS = ("mtp", "nextn", "multi_token")


# ------------------------------------------------------------------------------------------------------------------
# child: runs inside the throwaway venv, imports torch and transformers
# ------------------------------------------------------------------------------------------------------------------


def _tensors(obj: Any, seen: set[int]) -> list[Any]:
    import torch

    if isinstance(obj, torch.Tensor):
        if id(obj) in seen or obj.dim() == 0:  # 0-d tensors are bookkeeping (window size, offsets), not cache
            return []
        seen.add(id(obj))
        return [obj]
    if isinstance(obj, list | tuple):
        return [t for item in obj for t in _tensors(item, seen)]
    if isinstance(obj, dict):
        return [t for item in obj.values() for t in _tensors(item, seen)]
    return []


def _cache_layers(cache: Any) -> list[tuple[int, int, list[Any]]]:
    """(elements, bytes as stored, tensors) held by each layer of a transformers cache object."""
    layers = getattr(cache, "layers", None)
    if layers is None:
        raise TypeError(f"cache {type(cache).__name__} has no .layers")
    out = []
    for layer in layers:
        tensors = _tensors(dict(vars(layer)), set())
        out.append((sum(t.numel() for t in tensors), sum(t.numel() * t.element_size() for t in tensors), tensors))
    return out


def _first(cfg: Any, keys: tuple[str, ...]) -> int | None:
    for key in keys:
        value = getattr(cfg, key, None)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


def _experts(model: Any, top_k: int | None) -> dict[str, Any]:
    """Routed-expert parameters per MoE block, read from the module tree."""
    blocks: dict[str, dict[str, Any]] = {}
    for name, param in model.named_parameters():
        parts = name.split(".")
        if "experts" not in parts or any("shared" in p for p in parts):
            continue
        at = parts.index("experts")
        block = ".".join(parts[: at + 1])
        entry = blocks.setdefault(block, {"params": 0, "indices": set(), "fused_e": None})
        entry["params"] += param.numel()
        rest = parts[at + 1 :]
        if rest and rest[0].isdigit():  # nn.ModuleList of experts
            entry["indices"].add(int(rest[0]))
        elif param.dim() == 3:  # fused [E, out, in]
            entry["fused_e"] = entry["fused_e"] or param.shape[0]
    inactive = 0
    per_expert = set()
    counts = set()
    for entry in blocks.values():
        e = len(entry["indices"]) or entry["fused_e"]
        if not e or not top_k:
            continue
        one = entry["params"] // e
        per_expert.add(one)
        counts.add(e)
        inactive += (e - top_k) * one
    return {
        "moe_blocks": len(blocks),
        "experts": sorted(counts),
        "top_k": top_k,
        "params_per_expert": sorted(per_expert),
        "inactive": inactive,
    }


def _build_config(raw: dict[str, Any], notes: list[str]) -> Any:
    from transformers import AutoConfig

    data = json.loads(json.dumps(raw))
    if data.pop("quantization_config", None) is not None:
        notes.append("quantization_config dropped: counts are for the unquantized (bf16) model")
    data.pop("auto_map", None)
    model_type = data.get("model_type")
    if model_type in TYPE_ALIASES:
        notes.append(f"model_type {model_type} read as {TYPE_ALIASES[model_type]} (its architectures class)")
        data["model_type"] = TYPE_ALIASES[model_type]
    return AutoConfig.for_model(**data)


def _base_model(config: Any, **kwargs: Any) -> Any:
    """The base model of a config: AutoModel's, or the class named after the config (Step3p7TextConfig ->
    Step3p7TextModel) where none is registered."""
    import transformers
    from transformers import AutoModel

    try:
        return AutoModel.from_config(config, **kwargs)
    except ValueError:
        cls = getattr(transformers, type(config).__name__.removesuffix("Config") + "Model")
        model = cls(config)
        return model.to(kwargs["dtype"]) if "dtype" in kwargs else model


def _full_model(raw: dict[str, Any], config: Any, notes: list[str]) -> Any:
    import torch
    import transformers
    from transformers import AutoModelForCausalLM

    multimodal = "vision_config" in raw or "audio_config" in raw
    with torch.device("meta"):
        if multimodal:
            cls = getattr(transformers, (raw.get("architectures") or [""])[0], None)
            if cls is None:
                from transformers import AutoModelForImageTextToText

                return AutoModelForImageTextToText.from_config(config)
            return cls(config)
        if "text_config" in raw:
            notes.append("config has text_config but no vision_config: language model built alone")
            text = config.get_text_config(decoder=True)
            try:
                return AutoModelForCausalLM.from_config(text)
            except ValueError:  # a text config no causal-LM class is registered for (Step-3.7): the base model
                notes.append("no causal-LM class for the text config: the base model, plus its untied lm_head")
                return _base_model(text)
        return AutoModelForCausalLM.from_config(config)


def _labels(text_config: Any) -> list[str]:
    from transformers.cache_utils import get_layer_types_and_kwargs

    types, kwargs = get_layer_types_and_kwargs(text_config)
    # GLM-5.2: a layer that reuses the previous full layer's indexer caches less: a type of its own
    indexers = getattr(text_config, "indexer_types", None) or [None] * len(types)
    out = []
    for kind, kw, indexer in zip(types, kwargs, indexers, strict=True):  # "dummy": reads another's cache (Gemma 4)
        window = kw.get("sliding_window")
        label = f"{kind}(window={window})" if window else kind
        out.append(f"{label}/indexer={indexer}" if indexer else label)
    return out


def _kept_layers(text_config: Any, labels: list[str]) -> list[int]:
    """Layers 0 .. the first of each label (so the pattern's spacing stays); where the last layers read an
    earlier layer's cache (label "dummy"), also the start of that tail through one layer of each kind."""
    firsts = [labels.index(label) for label in dict.fromkeys(labels) if label != "dummy"]
    if "dummy" not in labels:
        return list(range(max(firsts) + 1))
    start = labels.index("dummy")
    kinds = list(text_config.layer_types)
    tail = [kinds.index(kind, start) for kind in dict.fromkeys(kinds[start:])]
    return list(range(max(firsts) + 1)) + list(range(start, max(tail) + 1))


def _shrunk(text_config: Any, indices: list[int]) -> Any:
    full_layers = text_config.num_hidden_layers
    keep = len(indices)
    data = text_config.to_dict()
    for key, value in list(data.items()):
        if isinstance(value, list) and len(value) == full_layers:
            data[key] = [value[i] for i in indices]
        elif isinstance(value, str) and len(value) == full_layers and key.endswith("pattern"):  # Nemotron-H
            data[key] = "".join(value[i] for i in indices)
        elif isinstance(value, dict) and value and all(str(k).isdigit() for k in value):  # Gemma 4 per_layer_config
            by_index = {int(k): v for k, v in value.items()}
            data[key] = {str(j): by_index[i] for j, i in enumerate(indices) if i in by_index}
    if data.get("num_kv_shared_layers"):
        data["num_kv_shared_layers"] = sum(1 for i in indices if i >= full_layers - text_config.num_kv_shared_layers)
    data["num_hidden_layers"] = keep
    for key in ("vocab_size", "vocab_size_per_layer_input"):
        if key in data:
            data[key] = VOCAB
    for key in ("pad_token_id", "bos_token_id", "eos_token_id"):
        if key in data:  # inside the shrunk vocabulary (a strict config class wants a number: Step-3.7)
            data[key] = 0 if isinstance(data[key], int) else None
    for key, value in list(data.items()):
        if "intermediate_size" in key and isinstance(value, int) and value > 64:
            data[key] = 64
    for key in EXPERT_COUNT_KEYS:
        if isinstance(data.get(key), int) and data[key] > 4:
            data[key] = 4
    for key in TOP_K_KEYS:
        if isinstance(data.get(key), int) and data[key] > 2:
            data[key] = 2
    for key in ("n_group", "topk_group"):
        if isinstance(data.get(key), int):
            data[key] = 1
    if isinstance(data.get("num_nextn_predict_layers"), int):
        data["num_nextn_predict_layers"] = 0
    return type(text_config).from_dict(data)


def _measure_cache(text_config: Any, notes: list[str]) -> dict[str, Any]:
    import torch

    labels = _labels(text_config)
    indices = _kept_layers(text_config, labels)
    keep = len(indices)
    small = _shrunk(text_config, indices)
    small_labels = _labels(small)
    if small_labels != [labels[i] for i in indices]:
        notes.append(f"shrunk layer pattern {small_labels} differs from the full one {[labels[i] for i in indices]}")
    torch.manual_seed(0)
    model = _base_model(small, dtype=torch.bfloat16).eval()
    sizes: dict[int, list[int]] = {}
    stored: dict[int, list[int]] = {}
    dtypes: set[str] = set()
    shapes: dict[int, list[str]] = {}
    windows = [int(label.split("window=")[1].rstrip(")")) for label in small_labels if "window=" in label]
    long = any(w <= LONG_WINDOW for w in windows) or any("compress" in label for label in small_labels)
    for length in LENGTHS + (LONG_LENGTHS if long else ()):
        ids = torch.randint(3, VOCAB, (1, length))
        with torch.no_grad():
            out = model(input_ids=ids, use_cache=True)
        layers = _cache_layers(out.past_key_values)
        sizes[length] = [n for n, _, _ in layers]
        stored[length] = [n for _, n, _ in layers]
        if length in LENGTHS:
            for _, _, tensors in layers:
                dtypes.update(str(t.dtype).replace("torch.", "") for t in tensors)
        if length == LENGTHS[-1]:
            shapes = {i: [f"{tuple(t.shape)} {t.dtype}" for t in ts] for i, (_, _, ts) in enumerate(layers)}
    a, b, c = LENGTHS
    per_type: dict[str, dict[str, Any]] = {}
    for i, label in enumerate(small_labels):
        grow = (sizes[b][i] - sizes[a][i]) / (b - a)
        grow_late = (sizes[c][i] - sizes[b][i]) / (c - b)
        state = sizes[a][i] - grow * a
        stored_grow = (stored[b][i] - stored[a][i]) / (b - a)
        entry = per_type.setdefault(
            label,
            {
                "kv_bytes_per_token_bf16": 2 * grow,
                "state_bytes_per_sequence_bf16": 2 * state,
                "kv_bytes_per_token_as_stored": stored_grow,
                "state_bytes_per_sequence_as_stored": stored[a][i] - stored_grow * a,
                "shapes_T128": shapes[i],
            },
        )
        if grow_late != grow:
            entry["note"] = f"growth per token falls from {grow:g} to {grow_late:g} elements once T > {b}: window"
        if long:
            x, y = LONG_LENGTHS
            far = (sizes[y][i] - sizes[x][i]) / (y - x)
            entry["kv_bytes_per_token_bf16_beyond_window"] = 2 * far
            entry["fixed_bytes_bf16_beyond_window"] = 2 * (sizes[x][i] - far * x)
    return {
        "per_type": per_type,
        "counts": {label: labels.count(label) for label in dict.fromkeys(labels)},
        "layers_measured": keep,
        "cache_dtypes": sorted(dtypes),
    }


def _nested(raw: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    """A flat config of a model whose config class is composite (Step-3.7-Flash's copies): its keys are the
    text model's, so they go under text_config, as the class would read a hub file."""
    from transformers import AutoConfig

    if "text_config" in raw or not raw.get("model_type"):
        return raw
    try:
        sub = AutoConfig.for_model(raw["model_type"]).sub_configs
    except (KeyError, ValueError):
        return raw
    if "text_config" not in sub:
        return raw
    notes.append("flat config of a composite config class: its keys read as the text_config")
    text = {k: v for k, v in raw.items() if k not in ("model_type", "architectures", "quantization_config")}
    return {"model_type": raw["model_type"], "text_config": text}


def measure(raw: dict[str, Any]) -> dict[str, Any]:
    import transformers

    notes: list[str] = []
    result: dict[str, Any] = {"model_type": raw.get("model_type"), "transformers_version": transformers.__version__}
    raw = _nested(raw, notes)
    config = _build_config(raw, notes)
    text_config = config.get_text_config(decoder=True)
    model = _full_model(raw, config, notes)
    groups = {"text": 0, "vision": 0, "audio": 0, "mtp": 0}
    for name, param in model.named_parameters():
        low = name.lower()
        if any(m in low for m in VISION_MARKERS):
            groups["vision"] += param.numel()
        elif any(m in low for m in AUDIO_MARKERS):
            groups["audio"] += param.numel()
        elif any(m in low for m in MTP_MARKERS):
            groups["mtp"] += param.numel()
        else:
            groups["text"] += param.numel()
    embed = model.get_input_embeddings()
    head = model.get_output_embeddings()
    tied = head is not None and embed is not None and head.weight is embed.weight
    if head is None and not getattr(text_config, "tie_word_embeddings", False):  # the base model: its lm_head
        groups["text"] += text_config.vocab_size * text_config.hidden_size
    top_k = _first(text_config, TOP_K_KEYS)
    experts = _experts(model, top_k)
    result.update(
        parameters=groups["text"],
        vision_parameters=groups["vision"],
        audio_parameters=groups["audio"],
        mtp_parameters=groups["mtp"],
        lm_head_tied=tied,
        active_parameters=groups["text"] + groups["mtp"] - experts["inactive"],
        moe=experts,
    )
    if groups["mtp"] == 0 and (
        getattr(text_config, "num_nextn_predict_layers", 0) or getattr(text_config, "mtp_num_hidden_layers", 0)
    ):
        notes.append("config declares MTP/next-n layers that transformers does not build (not counted)")
    del model
    cache = _measure_cache(text_config, notes)
    result.update(
        kv_bytes_per_token_bf16_by_layer_type={k: v["kv_bytes_per_token_bf16"] for k, v in cache["per_type"].items()},
        state_bytes_per_sequence_bf16_by_layer_type={
            k: v["state_bytes_per_sequence_bf16"] for k, v in cache["per_type"].items()
        },
        layer_counts_by_type=cache["counts"],
        cache_detail=cache,
        notes=notes,
    )
    return result


def child(configs: Path, out: Path, only: str | None) -> None:
    results: dict[str, Any] = {}
    for path in sorted(configs.glob("*/config.json")):
        model_id = path.parent.name.replace("__", "/", 1)
        if only and only.lower() not in model_id.lower():
            continue
        print(f"[crosscheck] {model_id}", file=sys.stderr, flush=True)
        try:
            results[model_id] = measure(json.loads(path.read_text(encoding="utf-8")))
        except Exception as exc:  # one model's failure is a finding, not a reason to stop
            results[model_id] = {"error": f"{type(exc).__name__}: {exc}"[:600]}
        out.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n", encoding="utf-8")


# ------------------------------------------------------------------------------------------------------------------
# parent: creates the venv, runs the child, compares with the app
# ------------------------------------------------------------------------------------------------------------------


def ensure_venv(cache: Path) -> Path:
    env = cache / "venv"
    python = env / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    marker = env / ".ready"
    if marker.exists():
        return python
    venv.EnvBuilder(with_pip=True, clear=True).create(env)
    pip = [str(python), "-m", "pip", "install", "-q"]
    if subprocess.run([*pip, "--index-url", TORCH_CPU_INDEX, "torch"], check=False).returncode != 0:
        subprocess.run([*pip, "torch"], check=True)  # the plain PyPI wheel (CUDA build, runs on the CPU too)
    subprocess.run([*pip, "-U", "transformers", "accelerate"], check=True)
    marker.write_text("ok\n", encoding="utf-8")
    return python


def app_numbers(config_path: Path) -> dict[str, Any]:
    from vramscope.sources.hf_config import architecture_from_config, read_config_file

    try:
        arch = architecture_from_config(read_config_file(config_path))
    except Exception as exc:
        return {"refused": f"{type(exc).__name__}: {exc}"}
    vision = sum(t.numel for t in arch.tensors() if "vision" in str(t.group).lower())
    buffers = sum(t.numel for t in arch.tensors() if "buffer" in str(t.group).lower())  # router tables and biases
    state = sum(arch.state_elements_per_sequence(i) for i in range(arch.num_layers))
    return {
        "parameters": arch.parameter_count() - vision,
        "vision_parameters": vision,
        "active_parameters": arch.active_parameter_count() - vision - buffers,
        "kv_bytes_per_token_bf16": 2 * arch.kv_elements_per_token_total(),
        "state_bytes_per_sequence_bf16": 2 * state,
        "summary": arch.attention_summary(),
    }


def truth_totals(truth: dict[str, Any]) -> tuple[float, float]:
    counts = truth["layer_counts_by_type"]
    kv = sum(truth["kv_bytes_per_token_bf16_by_layer_type"].get(k, 0) * n for k, n in counts.items())
    state = sum(truth["state_bytes_per_sequence_bf16_by_layer_type"].get(k, 0) * n for k, n in counts.items())
    return kv, state


def _pct(app: float, truth: float) -> str:
    return f"{100 * (app - truth) / truth:+.2f}%" if truth else "n/a"


def compare(truths: dict[str, Any], configs: Path) -> None:
    try:
        import vramscope  # noqa: F401
    except ImportError:
        print("vramscope is not importable here: run with `uv run` to compare with the app")
        return
    header = f"{'model':44} {'hf params':>16} {'app params':>16} {'diff':>8} {'hf active':>16} {'app active':>16}"
    header += f" {'diff':>8} {'hf KV B/tok':>12} {'app KV B/tok':>12} {'hf state B':>12} {'app state B':>12}"
    print(header)
    for model_id, truth in sorted(truths.items()):
        path = configs / model_id.replace("/", "__", 1) / "config.json"
        if "error" in truth:
            print(f"{model_id:44} transformers failed: {truth['error'][:150]}")
            continue
        app = app_numbers(path)
        if "refused" in app:
            print(f"{model_id:44} {truth['parameters']:>16,} app refused: {app['refused'][:150]}")
            continue
        kv, state = truth_totals(truth)
        print(
            f"{model_id:44} {truth['parameters']:>16,} {app['parameters']:>16,} "
            f"{_pct(app['parameters'], truth['parameters']):>8} {truth['active_parameters']:>16,} "
            f"{app['active_parameters']:>16,} {_pct(app['active_parameters'], truth['active_parameters']):>8} "
            f"{kv:>12,.0f} {app['kv_bytes_per_token_bf16']:>12,} {state:>12,.0f} "
            f"{app['state_bytes_per_sequence_bf16']:>12,}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--configs", type=Path, default=CONFIGS)
    parser.add_argument("--truths", type=Path, default=None, help="where to write the JSON (default: a temp file)")
    parser.add_argument("--only", default=None, help="only model ids containing this text")
    parser.add_argument("--reuse", action="store_true", help="compare with an existing --truths file, no venv")
    parser.add_argument("--cache-dir", type=Path, default=CACHE)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    truths_path = args.truths or (args.cache_dir / "truths.json")
    if args.child:
        child(args.configs, truths_path, args.only)
        return
    if not args.reuse:
        args.cache_dir.mkdir(parents=True, exist_ok=True)
        python = ensure_venv(args.cache_dir)
        command = [str(python), __file__, "--child", "--configs", str(args.configs), "--truths", str(truths_path)]
        if args.only:
            command += ["--only", args.only]
        subprocess.run(command, check=True)
    truths = json.loads(truths_path.read_text(encoding="utf-8"))
    if args.only:
        truths = {k: v for k, v in truths.items() if args.only.lower() in k.lower()}
    compare(truths, args.configs)


if __name__ == "__main__":
    main()
