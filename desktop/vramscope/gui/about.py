"""Help → About (version, licence, where the presets and the GPU catalog come from) and Help → "Where do these
numbers come from?" (exact / formula / empirical, with one worked example computed by the core itself)."""

import json
from html import escape

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

from vramscope import __version__
from vramscope.core.analysis import analyse
from vramscope.core.precision import KV_DTYPES
from vramscope.core.scenario import Deployment, GpuSpec, Workload
from vramscope.core.segments import Provenance
from vramscope.core.units import format_bytes
from vramscope.resources import resources_dir
from vramscope.sources.presets import all_presets

APP_ID = "io.github.vramscope.VramScope"  # the .desktop file's and the AppStream component's name
EXAMPLE_PRESET = "Llama-3.1-8B"
EXAMPLE_CONTEXT = 8192


def about_html() -> str:
    presets = all_presets()
    catalog = json.loads((resources_dir() / "gpus.json").read_text(encoding="utf-8"))
    families = sorted({m.family for m in presets if m.family})
    return f"""
<h2>VRAM Scope {escape(__version__)}</h2>
<p>Will this model, at this precision, this context length and this batch size, fit on my GPUs — and if
not, what is the cheapest change that makes it fit?</p>
<p>Licence: MIT. The numbers come from one calculation module (<code>vramscope.core</code>) shared by the
window, the command line (<code>vramscope estimate</code>) and the tests.</p>
<h3>Data</h3>
<p><b>{len(presets)} model presets</b> ({escape(", ".join(families))}): each one's architecture from its
published <code>config.json</code>, its parameter count checked tensor by tensor against the published
count or transformers' own count; the model panel names each preset's source.</p>
<p><b>{len(catalog["gpus"])} GPUs in the catalog</b>: {escape(catalog["about"])}</p>
<p>Engine figures (vLLM, llama.cpp, Ollama, SGLang, transformers) follow each engine's source and were
checked against real start-up logs; see Help → Where do these numbers come from?</p>
"""


def numbers_html() -> str:
    """The three kinds of number, then one scenario taken apart: every figure here is computed now."""
    model = next(m for m in all_presets() if m.name == EXAMPLE_PRESET)
    arch = model.architecture
    gpu = GpuSpec(name="a 24 GiB GPU", capacity_bytes=24 << 30, total_bytes=24 << 30)
    a = analyse(model, Workload(context=EXAMPLE_CONTEXT), Deployment(gpus=(gpu,)))
    est = a.estimate
    params = est.parameters
    width = KV_DTYPES["bf16"].bytes_per_element
    per_token = 2 * arch.num_layers * arch.num_kv_heads * arch.head_dim * int(width)
    kv_bytes = per_token * EXAMPLE_CONTEXT
    rows = "".join(
        f"<tr><td>{escape(s.title)}</td><td align='right'>{escape(format_bytes(s.bytes))}</td>"
        f"<td><i>{escape(s.provenance.value)}</i></td><td>{escape(s.note)}</td></tr>"
        for s in est.per_gpu[0].segments
    )
    kinds = {
        Provenance.EXACT: "fixed by the model's own numbers: its tensors, its layers and heads. Exact to the byte.",
        Provenance.FORMULA: "computed by a documented rule (an engine's padding, its compute buffers, its "
        "pool sizing) that may differ from what an engine does in a corner case.",
        Provenance.EMPIRICAL: "a measured figure that does not follow from this model (a CUDA context, captured "
        "CUDA graphs): an estimate, said so wherever it appears.",
    }
    kinds_html = "".join(f"<li><b>{k.value}</b>: {escape(text)}</li>" for k, text in kinds.items())
    return f"""
<h2>Where do these numbers come from?</h2>
<p>Every segment of a bar says what kind of number it is:</p>
<ul>{kinds_html}</ul>
<h3>A worked example: {escape(model.name)}, BF16, context {EXAMPLE_CONTEXT:,}, transformers</h3>
<p><b>Weights</b>: {params:,} parameters, counted tensor by tensor from the architecture (embeddings, attention,
MLP, norms, head) &times; 2 bytes in BF16 = {params * 2:,} bytes = {escape(format_bytes(params * 2))} — the number
the checkpoint's safetensors headers add up to.</p>
<p><b>KV cache</b>: each token keeps a key and a value in every layer for every KV head:
2 &times; {arch.num_layers} layers &times; {arch.num_kv_heads} KV heads &times; {arch.head_dim} head dim
&times; 2 bytes = {per_token:,} bytes per token (grouped-query attention: {arch.num_attention_heads} query
heads share {arch.num_kv_heads}). &times; {EXAMPLE_CONTEXT:,} tokens = {kv_bytes:,} bytes
= {escape(format_bytes(kv_bytes))}.</p>
<p><b>Activations and overhead</b> depend on the engine: transformers' peak during the prefill, the CUDA
context. The engine switch changes them (vLLM reserves a KV pool inside gpu_memory_utilization, llama.cpp pads
its context and sizes compute buffers).</p>
<table cellspacing="6"><tr><th align="left">Segment</th><th>Size</th><th>Kind</th>
<th align="left">Where it comes from</th></tr>{rows}</table>
<p>Total {escape(format_bytes(est.total_bytes))} on {escape(gpu.name)}. Sliding-window layers, MLA, MoE
experts, hybrid linear-attention and Mamba layers and the quantization formats each have their own rule; the
hover on every segment of the chart names the rule used.</p>
"""


class TextDialog(QDialog):
    """A page of rich text with a Close button."""

    def __init__(self, title: str, html: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.browser = QTextBrowser()
        self.browser.setOpenExternalLinks(True)
        self.browser.setHtml(html)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)
        self.resize(720, 560)
