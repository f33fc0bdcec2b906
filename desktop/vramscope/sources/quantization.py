"""A checkpoint's quantization_config -> the weight format it is stored in, as a name core/precision.py
prices: one format ("fp8-block", "awq-int4-g64") or a mix by tensor scope ("int4-g32@experts",
"nvfp4@ffn+fp8@attn+fp8@mixer").

Read: fp8 (per-channel, 128x128 blocks, DeepSeek-V4's fp4 experts), mxfp4, AWQ, GPTQ, AutoRound,
bitsandbytes, compressed-tensors (config_groups with targets and ignore: pack-quantized int4, fp8, nvfp4)
and ModelOpt (NVFP4, FP8, MIXED_PRECISION's quantized_layers). Anything else is refused by name, so that a
checkpoint is never priced as 16-bit when it is not."""

import re
from collections import Counter
from typing import Any

from vramscope.core.precision import SCOPES
from vramscope.sources.errors import ModelFileError

_KEEP = "bf16"  # what a scheme's ignore list leaves: the checkpoint's own 16 bits
# Module names -> the scope a part of the mix applies to (core/precision.py scope_of), first match wins.
# Nemotron-H names attention, Mamba and MLP alike "mixer", so projections decide before containers.
_MODULE_SCOPES = (
    ("head", ("lm_head",)),
    ("", ("vision", "visual", "multi_modal", "mm_projector", "patch_merge", "embed", "mtp", "nextn")),
    ("shexp", ("shared_expert",)),
    ("experts", ("experts",)),
    ("mixer", ("linear_attn", "mamba", "in_proj", "conv1d", "x_proj", "dt_proj", "mixer.out_proj")),
    ("attn", ("self_attn", "attention", "attn", "q_proj", "k_proj", "v_proj", "o_proj", "qkv", "kv_a", "kv_b")),
    ("dense", ("mlp", "feed_forward", "ffn", "gate_proj", "up_proj", "down_proj", "fc1", "fc2")),
)
_ROUTER = re.compile(r"\.(gate|router)[*$]*$")


def module_scope(name: str) -> str:
    """The scope of a module name or pattern ("model.layers.3.self_attn*", "re:.*mlp\\.down_proj.*"), or ""
    for modules no scope prices (embeddings, routers, vision towers, MTP layers)."""
    n = name.lower().removeprefix("re:")
    if _ROUTER.search(n.rstrip(".*")):
        return ""
    for scope, words in _MODULE_SCOPES:
        if any(w in n for w in words):
            return scope
    return ""


_BODY = ("attn", "mixer", "dense", "shexp", "experts")
ALL_SCOPES = frozenset((*_BODY, "head"))


def checkpoint_format(config: dict[str, Any], quant: dict[str, Any], present: frozenset[str] = ALL_SCOPES) -> str:
    """The format name of a checkpoint whose config.json carries `quant` as its quantization_config;
    `present` are the scopes the model has matrices in (no Mamba mixer in a transformer)."""
    method = str(quant.get("quant_method", "")).lower()
    if method == "fp8":
        base = "fp8-block" if quant.get("weight_block_size") else "fp8"
        expert = str(config.get("expert_dtype", "")).lower()
        return base + "+mxfp4@experts" if expert == "fp4" else base  # DeepSeek-V4: e2m1 experts, ue8m0 scales
    if method == "mxfp4":
        return "mxfp4"
    if method in ("awq", "gptq"):
        return _grouped(f"{method}-int4", quant.get("group_size", 128))
    if method in ("auto-round", "autoround", "intel/auto-round"):
        packing = str(quant.get("packing_format", "auto_gptq")).lower()
        if _bits(quant.get("bits", 4)) != 4 or quant.get("sym") is False:
            raise _refused(method, "only symmetric 4-bit AutoRound checkpoints are modelled")
        return _grouped("awq-int4" if "awq" in packing else "gptq-int4", quant.get("group_size", 128))
    if method == "bitsandbytes":
        return "nf4" if quant.get("load_in_4bit") else "int8"
    if method == "compressed-tensors":
        return _compressed_tensors(quant, present)
    if method == "modelopt":
        return _modelopt(quant, present)
    raise _refused(method or "(none)", "this quantization method is not modelled")


def _compressed_tensors(quant: dict[str, Any], present: frozenset[str]) -> str:
    groups = quant.get("config_groups")
    if not isinstance(groups, dict) or not groups:
        raise _refused("compressed-tensors", "no config_groups")
    parts: dict[str, str] = {}
    for group in list(groups.values())[:64]:
        if not isinstance(group, dict):
            continue
        fmt = _scheme(group.get("weights"))
        listed = group.get("targets")
        targets: list[Any] = listed if isinstance(listed, list) else []
        if "Linear" in targets:
            parts["all"] = fmt
        else:
            for scope in _scopes(targets):
                parts.setdefault(scope, fmt)
    return _mix(parts, quant.get("ignore"), present)


def _scheme(weights: Any) -> str:
    """A compressed-tensors weight scheme as a format name."""
    if not isinstance(weights, dict):
        raise _refused("compressed-tensors", "a config group without weights")
    bits, kind = _bits(weights.get("num_bits")), str(weights.get("type", "int"))
    strategy, group = str(weights.get("strategy", "")), weights.get("group_size")
    if kind == "float" and bits == 4 and group == 16:
        return "nvfp4"
    if kind == "float" and bits == 8:
        return "fp8-block" if strategy == "block" else "fp8"
    if kind == "int" and bits == 4 and weights.get("symmetric", True) is not False:
        return _grouped("int4", group if isinstance(group, int) else 128)
    if kind == "int" and bits == 8 and strategy in ("channel", "tensor"):
        return "int8"
    raise _refused("compressed-tensors", f"{bits}-bit {kind} weights ({strategy or 'no'} strategy)")


_MODELOPT_ALGOS = {"FP8": "fp8", "NVFP4": "nvfp4", "W4A16_NVFP4": "nvfp4", "MXFP8": "mxfp8", "FP8_PB_WO": "fp8-block"}


def _modelopt(quant: dict[str, Any], present: frozenset[str]) -> str:
    algo = str(quant.get("quant_algo", "")).upper()
    excluded = quant.get("exclude_modules") or quant.get("ignore")
    if algo in _MODELOPT_ALGOS:
        return _mix({"all": _MODELOPT_ALGOS[algo]}, excluded, present)
    if algo != "MIXED_PRECISION":
        raise _refused("modelopt", f"quant_algo {algo or '(none)'} is not modelled")
    layers = quant.get("quantized_layers")
    if not isinstance(layers, dict):
        raise _refused("modelopt", "MIXED_PRECISION without quantized_layers")
    votes: dict[str, Counter[str]] = {}
    for module, spec in list(layers.items())[:200_000]:
        layer_algo = str(spec.get("quant_algo", "")).upper() if isinstance(spec, dict) else ""
        if layer_algo not in _MODELOPT_ALGOS:
            raise _refused("modelopt", f"quant_algo {layer_algo or '(none)'} of {str(module)[:80]}")
        scope = module_scope(str(module))
        if scope:
            votes.setdefault(scope, Counter())[_MODELOPT_ALGOS[layer_algo]] += 1
    # the modules of a scope share one format in every checkpoint seen; the most common one prices them
    return _mix({scope: count.most_common(1)[0][0] for scope, count in votes.items()}, None, present)


def _mix(parts: dict[str, str], ignore: Any, present: frozenset[str]) -> str:
    """One name for the parts: each scope's format settled (the ignored kept at 16 bits), then written as
    the most common format of the model's scopes with the others as exceptions."""
    settled = {s: parts.get(s, parts.get("all", _KEEP)) for s in _BODY}
    settled["head"] = parts.get("head", _KEEP)  # a scheme over every Linear leaves lm_head alone unless named
    if isinstance(ignore, list):
        for scope in _scopes(ignore):
            settled[scope] = _KEEP
    return _name({s: f for s, f in settled.items() if s in present})


def _name(own: dict[str, str]) -> str:
    counts = Counter(f for s, f in own.items() if s != "head")
    base = max(counts, key=lambda f: (counts[f], f == _KEEP)) if counts else _KEEP  # a tie: fewer parts
    rest = {s: f for s, f in own.items() if f != base and not (s == "head" and f == _KEEP)}  # heads stay 16-bit
    ffn_scopes = [s for s in ("dense", "shexp", "experts") if s in own]
    ffn = {rest.get(s, base) for s in ffn_scopes}
    if len(ffn_scopes) > 1 and len(ffn) == 1 and (fmt := ffn.pop()) != base:
        for s in ffn_scopes:
            rest.pop(s, None)
        rest["ffn"] = fmt
    named = [] if base == _KEEP else [base]
    named += [f"{f}@{s}" for s in SCOPES if (f := rest.get(s)) is not None]
    return "+".join(named) if named else _KEEP


def _scopes(modules: list[Any]) -> Counter[str]:
    return Counter(s for s in (module_scope(str(m)) for m in modules[:100_000]) if s)


def _grouped(base: str, group: Any) -> str:
    if not isinstance(group, int) or isinstance(group, bool) or group in (-1, 128):
        return base  # -1: one group per row (GPTQ), priced as g128's bytes within a few per mille
    if group < 8 or group > 4096:
        raise _refused(base, f"group size {group}")
    return f"{base}-g{group}"


def _bits(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _refused(method: str, why: str) -> ModelFileError:
    return ModelFileError(f"config.json: quantization_config {method[:40]!r}: {why}; its weights cannot be priced")
