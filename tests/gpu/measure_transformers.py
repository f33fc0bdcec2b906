"""transformers on a real GPU beside `estimate --engine transformers`: run by hand where a GPU is lent.

Builds a few preset architectures from their facts with random bf16 weights directly on the GPU (no
download), runs one prefill and a few decode steps at two context lengths, and prints measured peak
allocated / reserved memory and NVML's used memory beside the transformers profile's prediction.
Needs torch with CUDA and transformers; not collected by pytest (no test_ prefix, no GPU in CI).

Run: python tests/gpu/measure_transformers.py [--out results.md]
"""

import argparse
import gc
import sys
from pathlib import Path

PRESETS = ("llama-3.2-1b", "qwen2.5-1.5b", "llama-3.1-8b")
CONTEXTS = (2048, 8192)
DECODE_STEPS = 4


def hf_config(preset: str):  # type: ignore[no-untyped-def]
    from transformers import LlamaConfig, Qwen2Config

    from vramscope.sources.presets import load_preset

    a = load_preset(preset).architecture
    common = {
        "vocab_size": a.vocab_size,
        "hidden_size": a.hidden_size,
        "intermediate_size": a.intermediate_size,
        "num_hidden_layers": a.num_layers,
        "num_attention_heads": a.num_attention_heads,
        "num_key_value_heads": a.num_kv_heads,
        "max_position_embeddings": a.max_context,
        "tie_word_embeddings": a.tie_word_embeddings,
        "torch_dtype": "bfloat16",
    }
    if a.model_type == "qwen2":
        return Qwen2Config(**common)
    return LlamaConfig(head_dim=a.head_dim, **common)


def measure(preset: str, context: int) -> dict[str, float]:
    import pynvml
    import torch
    from transformers import AutoModelForCausalLM

    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    with torch.device("cuda"):
        model = AutoModelForCausalLM.from_config(hf_config(preset), torch_dtype=torch.bfloat16)
    model.eval()
    prompt = torch.randint(0, model.config.vocab_size - 1, (1, context - DECODE_STEPS), device="cuda")
    with torch.inference_mode():
        model.generate(prompt, max_new_tokens=DECODE_STEPS, min_new_tokens=DECODE_STEPS, do_sample=False)
    torch.cuda.synchronize()
    pynvml.nvmlInit()
    handle = pynvml.nvmlDeviceGetHandleByIndex(torch.cuda.current_device())
    used = pynvml.nvmlDeviceGetMemoryInfo(handle).used
    pynvml.nvmlShutdown()
    out = {
        "allocated_peak": torch.cuda.max_memory_allocated(),
        "reserved_peak": torch.cuda.max_memory_reserved(),
        "nvml_used": used,
    }
    del model
    gc.collect()
    return out


def predicted(preset: str, context: int) -> int:
    from vramscope.core.estimate import estimate
    from vramscope.core.scenario import Deployment, Workload
    from vramscope.sources.presets import load_preset

    return estimate(load_preset(preset), Workload(context=context), Deployment()).total_bytes


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    gib = 2**30
    lines = [
        "| preset | context | predicted GiB | allocated peak | reserved peak | NVML used | error vs reserved |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for preset in PRESETS:
        for context in CONTEXTS:
            m = measure(preset, context)
            p = predicted(preset, context)
            error = (p - m["reserved_peak"]) / m["reserved_peak"] * 100
            lines.append(
                f"| {preset} | {context:,} | {p / gib:.2f} | {m['allocated_peak'] / gib:.2f} | "
                f"{m['reserved_peak'] / gib:.2f} | {m['nvml_used'] / gib:.2f} | {error:+.1f}% |"
            )
            print(lines[-1], flush=True)
    if args.out:
        args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
