"""Hugging Face transformers `generate()`: the cache grows with the sequence, the prompt is prefilled in
one pass (no chunking), only the last position's logits are kept (reference/formulas.md §3.7)."""

import json
from math import ceil
from pathlib import Path

from vramscope.core.checkpoints import Target, safetensors_target, with_todo
from vramscope.core.engines.base import (
    Allocation,
    GpuPart,
    MeasuredError,
    Request,
    cache_bytes,
    cuda_context,
    draft_segments,
    mlp_width,
    model_compute_dtype,
    stage_cache,
    stage_weights,
    visible_devices,
    weights_segment,
)
from vramscope.core.precision import KvDtype
from vramscope.core.scenario import Deployment, Engine, EngineSettings, ModelSpec, Workload
from vramscope.core.segments import Provenance, Segment, SegmentKind, segment
from vramscope.core.units import MIB
from vramscope.core.weights import pipeline_stages

# generate()'s quantized caches (cache_utils QuantizedCache): HQQ stores 8 bits, quanto 2 or 4
QUANTIZED_CACHES = {
    "q8_0": ', cache_implementation="quantized", cache_config={"backend": "HQQ", "nbits": 8}',
    "q4_0": ', cache_implementation="quantized", cache_config={"backend": "quanto", "nbits": 4}',
}
STATE_BYTES_PER_ELEMENT = 2  # recurrent (Mamba) state kept at the 16-bit compute dtype


class TransformersProfile:
    engine = Engine.TRANSFORMERS
    label = "transformers"
    measured = MeasuredError(0.05, "no transformers run measured yet: 5 % assumed")

    def measured_error(self, settings: EngineSettings) -> MeasuredError:
        return self.measured

    def max_sequences(self, deployment: Deployment) -> int | None:
        return None  # generate() takes any batch

    def weight_families(self, settings: EngineSettings | None = None) -> tuple[str, ...]:
        return ("float", "int8", "nf4", "fp8", "fp8-block", "gptq", "awq", "mxfp4")

    def kv_dtypes(self) -> tuple[str, ...]:
        return ("bf16", "fp16", "fp32", "q8_0", "q4_0")  # QuantizedCache: HQQ at 8 bits, quanto at 4 (no FP8 one)

    def default_kv_dtype(self, model: ModelSpec, weights: str) -> KvDtype:
        return model_compute_dtype(model, weights)

    def check(self, model: ModelSpec, workload: Workload, deployment: Deployment) -> None:
        return None  # device_map and tp_plan take any split

    def allocate(self, request: Request) -> Allocation:
        arch, deployment, workload = request.arch, request.deployment, request.workload
        tp, pp = deployment.tensor_parallel, deployment.pipeline_parallel
        context, batch = workload.context, workload.batch
        window = arch.sliding_window or context
        layout = request.layout(tp)
        kv_note = f"{context:,} tokens x {batch:,} seq in {request.kv.label}"
        if arch.sliding_window:
            kv_note += f"; sliding layers hold at most {arch.sliding_window:,}"
        parts: list[GpuPart] = []
        draft = request.draft(tp)
        for s, layers in enumerate(pipeline_stages(arch.num_layers, pp)):
            cache = stage_cache(arch, layers, tp)
            per_sequence = cache_bytes(cache.full * context + cache.sliding * min(context, window), request.kv)
            # convolution windows at the compute dtype; recurrent states in float32 where the model keeps them so
            ssm_bytes = 4 if arch.state_fp32 else STATE_BYTES_PER_ELEMENT
            state = cache.conv * STATE_BYTES_PER_ELEMENT + cache.ssm * ssm_bytes
            kv = (per_sequence + state) * batch
            # recurrent states, and DeepSeek-V4's windows and compressor buffers: the same at any length
            state_note = f"; + {state / MIB:,.1f} MiB fixed per sequence" if state else ""
            weights, experts = stage_weights(layout, layers, s == 0, s == pp - 1)
            largest_layer_kv = per_sequence * batch // max(1, cache.full_layers + cache.sliding_layers)
            segments: tuple[Segment, ...] = (
                weights_segment(request.plan, weights),
                segment(SegmentKind.KV_CACHE, kv, Provenance.EXACT, kv_note + state_note),
                _prefill_peak(request, tp, largest_layer_kv),
                cuda_context(deployment.gpu(s * tp)),
            )
            if draft is not None and s == 0:  # assisted generation: the draft sits with the first layers
                segments += draft_segments(draft, context * batch, request.kv)
            parts.extend(GpuPart(s, segments, experts) for _ in range(tp))
        return Allocation(tuple(parts))

    def launch_command(self, request: Request) -> str:
        model, settings = request.model, request.settings
        dtype = {"fp16": "torch.float16", "fp32": "torch.float32"}.get(request.plan.name, "torch.bfloat16")
        cache = ', cache_implementation="static"' if settings.cache_implementation == "static" else ""
        cache = QUANTIZED_CACHES.get(request.kv.name, cache)
        if model.source.value == "gguf" and model.path:  # transformers reads a GGUF from its folder, by name
            file = Path(model.path)
            target = Target(str(file.parent))
            loads = f", gguf_file={json.dumps(file.name)}"
        else:
            target = safetensors_target(model, request.plan.name, Engine.TRANSFORMERS)
            loads = f", {target.flag}" if target.flag else ""
        devices = visible_devices(request.deployment).split()  # set before CUDA starts, as torch reads it then
        env = "".join(f"os.environ[{json.dumps(k)}] = {json.dumps(v)}; " for k, v in (d.split("=") for d in devices))
        env = f"import os; {env}" if env else ""
        code = (
            f"{env}AutoModelForCausalLM.from_pretrained({json.dumps(target.where)}, torch_dtype={dtype}, "
            f'device_map="auto", attn_implementation="{settings.attn_implementation}"{loads})'
            f".generate(inputs, max_length={request.workload.context}{cache})"
        )
        return with_todo(code, target)


def _prefill_peak(request: Request, tp: int, layer_kv: int) -> Segment:
    """Peak transient of one prefill pass over the whole prompt, freed layer by layer: MLP intermediates
    (gate, up, activation: 3 x width) and two hidden-state copies at 16 bit, the last position's logits in
    fp32, eager attention's score matrix, and DynamicCache's torch.cat copy of one layer's K/V."""
    arch, workload, settings = request.arch, request.workload, request.settings
    tokens = workload.context * workload.batch
    per_token = 3 * ceil(mlp_width(arch) / tp) * 2 + 2 * arch.hidden_size * 2
    logits = workload.batch * ceil(arch.vocab_size / tp) * 4
    total = tokens * per_token + logits
    note = "estimate: one prefill pass (MLP intermediates, hidden states) + fp32 logits"
    if settings.attn_implementation == "eager":
        heads = ceil(arch.num_attention_heads / tp)
        total += workload.batch * heads * workload.context**2 * 2
        note += " + eager attention scores"
    if settings.cache_implementation == "dynamic":
        total += layer_kv
        note += " + one layer's cache copy (torch.cat)"
    if arch.vision is not None and workload.images:
        encoder = arch.vision.encoder_peak_bytes(workload.images * workload.batch)
        if encoder > total:  # the encoder runs before the prefill: the larger of the two is the peak
            total, note = encoder, f"estimate: the vision encoder over {workload.images * workload.batch} images"
    return segment(SegmentKind.ACTIVATIONS, total, Provenance.FORMULA, note)
