"""Architecture: every fact of a model that memory depends on, and its exact tensor list.

Parameter counts are exact because they are summed tensor by tensor from the same list that prices
the weights, splits them across GPUs and feeds the GGUF file-type rules.
"""

from enum import StrEnum
from functools import lru_cache
from math import ceil
from typing import Literal, Protocol, Self

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt, PositiveInt, model_validator

from vramscope.core.roles import Group as Group
from vramscope.core.roles import Split as Split
from vramscope.core.roles import Tensor as Tensor
from vramscope.core.roles import placement

MAX_LAYERS = 10_000  # the deepest real models have a few hundred; the tensor list is built layer by layer


class LayerKind(StrEnum):
    """A layer's token mixer."""

    FULL = "full_attention"
    SLIDING = "sliding_attention"  # attends to the last sliding_window tokens
    CHUNKED = "chunked_attention"  # attends within chunks of sliding_window tokens (Llama 4)
    LINEAR = "linear_attention"  # Gated DeltaNet (Qwen3-Next, Qwen3.5): a fixed state per sequence
    MAMBA = "mamba"  # Mamba-1 or Mamba-2: a fixed state per sequence
    PARALLEL = "attention_and_mamba"  # full attention and Mamba-2 side by side on one input (Falcon-H1)
    COMPRESSED = "compressed_attention"  # a local window plus the history compressed every n tokens (DeepSeek-V4)
    SHORT_CONV = "conv"  # a gated depthwise convolution over the last few tokens (LFM2): a fixed window
    NONE = "none"  # no mixer: the layer is only a feed-forward block (Nemotron-H)

    @property
    def attends(self) -> bool:
        return self in (
            LayerKind.FULL,
            LayerKind.SLIDING,
            LayerKind.CHUNKED,
            LayerKind.PARALLEL,
            LayerKind.COMPRESSED,
        )

    @property
    def has_mamba(self) -> bool:
        return self in (LayerKind.MAMBA, LayerKind.PARALLEL)

    @property
    def windowed(self) -> bool:
        """Caches at most sliding_window tokens."""
        return self in (LayerKind.SLIDING, LayerKind.CHUNKED)


class FfnKind(StrEnum):
    """A layer's feed-forward part."""

    DENSE = "dense"
    MOE = "moe"
    NONE = "none"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class MoE(_Frozen):
    num_experts: PositiveInt
    experts_per_token: PositiveInt
    expert_intermediate_size: PositiveInt
    shared_intermediate_size: NonNegativeInt = 0  # total width of the always-active shared experts
    first_dense_layers: NonNegativeInt = 0  # DeepSeek first_k_dense_replace
    layer_period: PositiveInt = 1  # a layer is MoE when (i - layer_offset) % layer_period == 0
    layer_offset: int = 0
    dense_layers: tuple[int, ...] = ()  # explicit exceptions (Qwen mlp_only_layers)
    router_bias: bool = False
    expert_bias: bool = False
    shared_expert_gate: bool = False  # Qwen2-MoE's sigmoid gate on the shared expert
    router_score_bias: bool = False  # DeepSeek-V3 e_score_correction_bias (a buffer, one per expert)
    router_scales: bool = False  # Gemma 4: a learned scale per input channel and one per expert
    extra_norms: int = 0  # norms around the expert block beside the layer's own (Gemma 4: 3)
    latent_size: NonNegativeInt = 0  # experts work in a smaller width, projected in and out (Nemotron 3 Super)

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.experts_per_token > self.num_experts:
            raise ValueError("experts_per_token exceeds num_experts")
        return self


class MLA(_Frozen):
    """Multi-head latent attention (DeepSeek-V2/V3): one compressed latent per token is cached."""

    q_lora_rank: PositiveInt | None = None
    kv_lora_rank: PositiveInt
    qk_nope_head_dim: PositiveInt
    qk_rope_head_dim: PositiveInt
    v_head_dim: PositiveInt


class Mamba(_Frozen):
    """A Mamba mixer: constant state per sequence instead of a KV cache. Mamba-1 (Jamba) when `heads` is 0;
    Mamba-2 (Nemotron-H, Falcon-H1, Granite 4) has `heads` heads of `head_dim` and `groups` B/C groups."""

    d_state: PositiveInt
    d_conv: PositiveInt
    expand: PositiveInt = 2
    dt_rank: PositiveInt = 1
    conv_bias: bool = True
    proj_bias: bool = False
    inner_norms: bool = False  # Jamba's RMSNorms on dt, B and C
    heads: NonNegativeInt = 0
    head_dim: NonNegativeInt = 0
    groups: PositiveInt = 1
    out_bias: bool | None = None  # the output projection's bias where it differs from proj_bias (Falcon-H1)
    gated_norm: bool = True  # Mamba-2's gated RMSNorm before the output projection (optional in Falcon-H1)

    def inner(self, hidden: int) -> int:
        return self.heads * self.head_dim if self.heads else self.expand * hidden

    def conv_channels(self, hidden: int) -> int:
        """Channels the causal convolution keeps a window of: x, and B and C for Mamba-2."""
        return self.inner(hidden) + (2 * self.groups * self.d_state if self.heads else 0)

    def ssm_elements(self, hidden: int) -> int:
        return self.inner(hidden) * self.d_state


class LinearAttention(_Frozen):
    """Gated DeltaNet (Qwen3-Next, Qwen3.5): a recurrent state of value_heads x key_dim x value_dim."""

    key_heads: PositiveInt
    value_heads: PositiveInt
    key_head_dim: PositiveInt
    value_head_dim: PositiveInt
    conv_kernel: PositiveInt

    @property
    def conv_channels(self) -> int:
        return 2 * self.key_heads * self.key_head_dim + self.value_heads * self.value_head_dim

    @property
    def ssm_elements(self) -> int:
        return self.value_heads * self.key_head_dim * self.value_head_dim


class ShortConv(_Frozen):
    """LFM2's short convolution: in_proj to B, C and x, a depthwise convolution of `kernel` taps, out_proj."""

    kernel: PositiveInt  # conv_L_cache
    bias: bool = False


class AttentionShape(_Frozen):
    """A layer kind's own attention sizes, where they differ from the model's (MiMo-V2, Gemma 4)."""

    q_heads: PositiveInt
    kv_heads: PositiveInt
    head_dim: PositiveInt
    v_head_dim: PositiveInt | None = None
    sinks: bool = False  # a learned logit per head (gpt-oss, MiMo-V2's sliding layers)
    k_eq_v: bool = False  # no V projection: the key doubles as the value (Gemma 4's full layers; both cached)


class Indexer(_Frozen):
    """A lightning indexer (sparse attention): one more key per token is cached, which picks the tokens each
    query reads. DeepSeek-V3.2 / GLM-5 score from the latent query ("dsa"); MiniMax-M3 from the hidden state
    with normed queries and keys ("minimax"). skip_layers run none of their own: GLM-5.2's shared layers reuse
    the previous selection, MiniMax-M3's first layers attend densely."""

    heads: PositiveInt
    head_dim: PositiveInt
    skip_layers: tuple[NonNegativeInt, ...] = ()
    style: Literal["dsa", "minimax"] = "dsa"

    def runs_in(self, i: int) -> bool:
        return i not in self.skip_layers


class CompressedAttention(_Frozen):
    """DeepSeek-V4's attention: one shared key-and-value head per token, queries through a low-rank
    projection, a grouped low-rank output projection and a learned sink per head. Every layer sees a local
    window of sliding_window tokens; a layer with a ratio also compresses the history, every `ratio` tokens
    into one entry (heavily compressed attention), and at `sparse_ratio` the compressor overlaps its windows and
    a lightning indexer (the model's `indexer`) keeps one key per entry to pick which entries a query reads
    (compressed sparse attention). The residual stream is `hc_mult` streams wide (hyper-connections)."""

    q_lora_rank: PositiveInt
    o_groups: PositiveInt
    o_lora_rank: PositiveInt
    ratios: tuple[NonNegativeInt, ...]  # per layer; 0 = the window alone
    sparse_ratio: PositiveInt = 4
    hc_mult: PositiveInt = 1
    hash_layers: NonNegativeInt = 0  # the first layers route tokens by id through a vocab x top-k table


class Rotary(_Frozen):
    """The rotary settings that size an engine's cos/sin tables (config.json's rope_scaling, rope_parameters
    and partial_rotary_factor); they change no weight and no cache."""

    scaling: str = "default"  # rope_type: default, llama3, linear, dynamic, yarn, longrope, mrope …
    factor: float = Field(1.0, gt=0, le=1024)  # how far the scaling stretches the trained positions
    original_max_context: PositiveInt | None = None  # the positions trained before scaling (yarn, longrope)
    fraction: float = Field(1.0, gt=0, le=1)  # the share of each head that rotates (partial_rotary_factor)
    local_table: bool = False  # the sliding layers rotate with their own base (Gemma 3's rope_local_base_freq)


class VisionKind(StrEnum):
    """How a vision encoder is built, which fixes its tensor list."""

    SIGLIP = "siglip"  # Gemma 3: LayerNorm ViT with biases, learned positions, a linear projector
    QWEN_VL = "qwen_vl"  # Qwen3-VL / Qwen3.5: 3-D patches, a fused QKV, a 2x2 patch merger (+ deepstack mergers)
    GEMMA4 = "gemma4"  # Gemma 4: RMSNorm ViT with q/k norms and a gated MLP, 2-D position tables, 3x3 pooling
    PIXTRAL = "pixtral"  # Mistral 3: RMSNorm ViT without biases, gated MLP, rotary positions, a 2x2 patch merger


class VisionTower(_Frozen):
    """A ViT image encoder and its projector into the language model."""

    hidden_size: PositiveInt
    intermediate_size: PositiveInt
    num_layers: PositiveInt = Field(le=MAX_LAYERS)
    patch_size: PositiveInt
    image_size: PositiveInt  # Qwen-VL reads any size: the reader assumes one
    num_channels: PositiveInt = 3
    num_heads: PositiveInt = 16  # SigLIP-So400m: 16 heads of 72
    tokens_per_image: PositiveInt | None = None  # what the language model sees per image (Gemma 3 pools to 256)
    kind: VisionKind = VisionKind.SIGLIP
    head_dim: NonNegativeInt = 0  # Gemma 4 (0: hidden_size / num_heads)
    positions: NonNegativeInt = 0  # Qwen-VL's learned position table; Gemma 4's per axis
    temporal_patch: PositiveInt = 1  # Qwen-VL patches span two video frames
    merge: PositiveInt = 1  # patches pooled per side into one token (Qwen-VL 2, Gemma 4 3)
    deepstack: NonNegativeInt = 0  # Qwen3-VL: extra mergers feeding early decoder layers
    replicated: bool = False  # every tensor-parallel rank holds it whole (vLLM's Pixtral of Mistral's own format)

    @property
    def patches(self) -> int:
        if self.merge > 1 and self.tokens_per_image:
            return self.tokens_per_image * self.merge**2
        return (self.image_size // self.patch_size) ** 2

    @property
    def image_tokens(self) -> int:
        return self.tokens_per_image or self.patches

    def encoder_peak_bytes(self, images: int, fused_attention: bool = False) -> int:
        """Transient 16-bit activations of one encoder layer over `images` images: QKV, attention output and
        the MLP's two intermediates per patch, plus SDPA's score matrix per head (freed layer by layer) unless
        the attention is a fused kernel (vLLM's vision attention: flash attention or memory-efficient SDPA)."""
        p, c = self.patches, self.hidden_size
        # Qwen-VL's encoder attends over packed patches with a variable-length kernel: no score matrix
        fused = fused_attention or self.kind is VisionKind.QWEN_VL
        scores = 0 if fused else self.num_heads * p * p * 2
        return images * (p * (4 * c + 2 * self.intermediate_size) * 2 + scores)


class Architecture(_Frozen):
    model_type: str
    vocab_size: PositiveInt
    hidden_size: PositiveInt
    num_layers: PositiveInt = Field(le=MAX_LAYERS)
    num_attention_heads: PositiveInt
    num_kv_heads: PositiveInt
    head_dim: PositiveInt
    v_head_dim: PositiveInt | None = None  # when V heads differ from K heads
    intermediate_size: PositiveInt
    max_context: PositiveInt
    intermediate_per_layer: tuple[PositiveInt, ...] = ()  # when dense MLP widths differ by layer (Gemma 4)
    q_heads_per_layer: tuple[PositiveInt, ...] = ()  # when heads differ by layer (OpenELM, GGUF arrays)
    kv_heads_per_layer: tuple[NonNegativeInt, ...] = ()  # 0 = the layer has no attention
    layer_types: tuple[LayerKind, ...] = ()  # empty = every layer full attention
    sliding_window: PositiveInt | None = None
    tie_word_embeddings: bool = False
    qkv_bias: bool = False
    o_bias: bool = False
    mlp_bias: bool = False
    gated_mlp: bool = True  # SwiGLU/GeGLU: gate, up, down; else up, down
    fused_qkv: bool = False  # one QKV matrix in the checkpoint (same count; matters for GGUF rules)
    norm_bias: bool = False  # LayerNorm (weight + bias) rather than RMSNorm
    norms_per_layer: int = 2
    qk_norm: str = "none"  # none | per_head (Qwen3, Gemma-3) | full (OLMo-2)
    attention_sinks: bool = False  # gpt-oss: one learned logit per head
    learned_positions: int = 0  # GPT-2 style absolute position embeddings
    rotary: Rotary | None = None  # None: every head rotates whole, unscaled
    moe: MoE | None = None
    mla: MLA | None = None
    mamba: Mamba | None = None
    linear: LinearAttention | None = None
    short_conv: ShortConv | None = None
    indexer: Indexer | None = None
    sliding_attention: AttentionShape | None = None  # the sliding layers' own sizes
    full_attention: AttentionShape | None = None  # the full layers' own sizes (Gemma 4's global layers)
    compressed: CompressedAttention | None = None  # DeepSeek-V4's attention in every layer
    ffn_types: tuple[FfnKind, ...] = ()  # empty: MoE where the MoE rules say, dense elsewhere
    attn_output_gate: bool = False  # Qwen3-Next/3.5: q_proj also yields a gate for the attention output
    head_gate_width: NonNegativeInt = 0  # Step-3.7: a separate gate projection, this many values per head
    state_fp32: bool = False  # the reference implementation keeps recurrent states in float32
    kv_shared_layers: NonNegativeInt = 0  # the last n layers read an earlier layer's cache (Gemma 4 E2B/E4B)
    per_layer_input: NonNegativeInt = 0  # Gemma 4's per-layer embeddings: width per layer (0: none)
    per_layer_vocab: NonNegativeInt = 0  # rows of the per-layer embedding table
    vision: VisionTower | None = None

    @model_validator(mode="after")
    def _check(self) -> Self:
        n = self.num_layers
        for name in ("q_heads_per_layer", "kv_heads_per_layer", "layer_types", "ffn_types", "intermediate_per_layer"):
            values = getattr(self, name)
            if values and len(values) != n:
                raise ValueError(f"{name} has {len(values)} entries for {n} layers")
        if any(k.windowed for k in self.layer_types) and self.sliding_window is None:
            raise ValueError("sliding and chunked layers need sliding_window")
        if any(k.has_mamba for k in self.layer_types) and self.mamba is None:
            raise ValueError("mamba layers need the mamba settings")
        if LayerKind.LINEAR in self.layer_types and self.linear is None:
            raise ValueError("linear-attention layers need the linear attention settings")
        if LayerKind.SHORT_CONV in self.layer_types and self.short_conv is None:
            raise ValueError("short-convolution layers need the short convolution settings")
        if self.compressed is not None and len(self.compressed.ratios) != n:
            raise ValueError(f"compress ratios has {len(self.compressed.ratios)} entries for {n} layers")
        if LayerKind.COMPRESSED in self.layer_types and (self.compressed is None or self.sliding_window is None):
            raise ValueError("compressed layers need the compressed attention settings and sliding_window")
        if self.kv_shared_layers >= n:
            raise ValueError("kv_shared_layers leaves no layer to produce the cache")
        if self.per_layer_input and not self.per_layer_vocab:
            raise ValueError("per-layer embeddings need per_layer_vocab")
        if FfnKind.MOE in self.ffn_types and self.moe is None:
            raise ValueError("MoE layers need the MoE settings")
        if self.qk_norm not in ("none", "per_head", "full"):
            raise ValueError("qk_norm must be none, per_head or full")
        if self.num_kv_heads > self.num_attention_heads:
            raise ValueError("num_key_value_heads exceeds num_attention_heads")
        if self.mla is None and self.num_attention_heads % self.num_kv_heads:
            raise ValueError(
                f"num_key_value_heads ({self.num_kv_heads}) must divide num_attention_heads "
                f"({self.num_attention_heads}): each KV head serves a whole group of query heads"
            )
        return self

    # --- per-layer facts -------------------------------------------------------------------------

    def layer_kind(self, i: int) -> LayerKind:
        return self.layer_types[i] if self.layer_types else LayerKind.FULL

    def own_shape(self, i: int) -> AttentionShape | None:
        """Layer i's own attention sizes where its kind has them (else the model's)."""
        kind = self.layer_kind(i)
        if kind is LayerKind.SLIDING:
            return self.sliding_attention
        return self.full_attention if kind is LayerKind.FULL else None

    def q_heads(self, i: int) -> int:
        own = self.own_shape(i)
        if own is not None:
            return own.q_heads
        return self.q_heads_per_layer[i] if self.q_heads_per_layer else self.num_attention_heads

    def kv_heads(self, i: int) -> int:
        """K/V heads of layer i; 0 for a layer without attention."""
        if not self.layer_kind(i).attends:
            return 0
        own = self.own_shape(i)
        if own is not None:
            return own.kv_heads
        return self.kv_heads_per_layer[i] if self.kv_heads_per_layer else self.num_kv_heads

    def head_dims(self, i: int) -> tuple[int, int]:
        """(K head dim, V head dim) of layer i."""
        own = self.own_shape(i)
        if own is not None:
            return own.head_dim, own.v_head_dim or own.head_dim
        return self.head_dim, self.v_dim

    def shares_kv(self, i: int) -> bool:
        """Layer i attends over an earlier layer's keys and values: no K/V projections, nothing cached."""
        return i >= self.num_layers - self.kv_shared_layers

    def ffn_width(self, i: int) -> int:
        """Layer i's dense MLP width."""
        return self.intermediate_per_layer[i] if self.intermediate_per_layer else self.intermediate_size

    @property
    def v_dim(self) -> int:
        return self.v_head_dim or self.head_dim

    def ffn_kind(self, i: int) -> FfnKind:
        if self.ffn_types:
            return self.ffn_types[i]
        moe = self.moe
        if moe is None or i < moe.first_dense_layers or i in moe.dense_layers:
            return FfnKind.DENSE
        return FfnKind.MOE if (i - moe.layer_offset) % moe.layer_period == 0 else FfnKind.DENSE

    def is_moe_layer(self, i: int) -> bool:
        return self.ffn_kind(i) is FfnKind.MOE

    @property
    def moe_layer_count(self) -> int:
        return sum(self.is_moe_layer(i) for i in range(self.num_layers))

    def kv_heads_per_rank(self, i: int, tp: int) -> int:
        """K/V heads one of `tp` tensor-parallel ranks holds: replicated once tp exceeds them (vLLM
        QKVParallelLinear, reference/formulas.md §5)."""
        heads = self.kv_heads(i)
        return max(1, ceil(heads / tp)) if heads else 0

    def kv_elements_per_token(self, i: int, tp: int = 1) -> int:
        """Cache elements one token adds in layer i for one sequence, on one of `tp` ranks."""
        if not self.layer_kind(i).attends or self.shares_kv(i):
            return 0
        if self.mla is not None:  # one latent (and the indexer's key), never split by tensor parallelism
            key = self.indexer.head_dim if self.indexer is not None and self.indexer.runs_in(i) else 0
            return self.mla.kv_lora_rank + self.mla.qk_rope_head_dim + key
        if self.layer_kind(i) is LayerKind.COMPRESSED:  # one entry (and an indexer key) per `ratio` tokens
            ratio = self.compression_ratio(i)
            return ceil((self.head_dim + (self.indexer.head_dim if self.is_sparse(i) and self.indexer else 0)) / ratio)
        k, v = self.head_dims(i)
        ix = self.indexer
        key = ix.head_dim if ix is not None and ix.style == "minimax" and ix.runs_in(i) else 0
        return self.kv_heads_per_rank(i, tp) * (k + v) + key  # the indexer's one key is on every rank

    def state_parts(self, i: int, tp: int = 1) -> tuple[int, int]:
        """(convolution window, recurrent state) elements one sequence holds in layer i whatever its length,
        on one of `tp` ranks (channels and heads are split); the window is the full kernel, as transformers
        keeps it."""
        kind = self.layer_kind(i)
        if kind.has_mamba and self.mamba is not None:
            m = self.mamba
            return ceil(m.conv_channels(self.hidden_size) / tp) * m.d_conv, ceil(m.ssm_elements(self.hidden_size) / tp)
        if kind is LayerKind.LINEAR and self.linear is not None:
            lin = self.linear
            return ceil(lin.conv_channels / tp) * lin.conv_kernel, ceil(lin.ssm_elements / tp)
        if kind is LayerKind.SHORT_CONV and self.short_conv is not None:
            return ceil(self.hidden_size / tp) * self.short_conv.kernel, 0
        if kind is LayerKind.COMPRESSED and self.sliding_window:
            # the window's shared K/V (transformers keeps sliding_window - 1 tokens); a sparse layer's compressor
            # also keeps its last window of keys and gates, and the indexer's, to overlap the next window
            window = (self.sliding_window - 1) * self.head_dim
            ix = self.indexer.head_dim if self.indexer else 0
            overlap = 2 * self.compression_ratio(i) * (self.head_dim + ix) if self.is_sparse(i) else 0
            return window, overlap
        return 0, 0

    def compression_ratio(self, i: int) -> int:
        return self.compressed.ratios[i] if self.compressed is not None else 0

    def is_sparse(self, i: int) -> bool:
        """Layer i compresses with overlapping windows and runs the lightning indexer (DeepSeek-V4's CSA)."""
        c = self.compressed
        return c is not None and c.ratios[i] == c.sparse_ratio

    def state_elements_per_sequence(self, i: int, tp: int = 1) -> int:
        """Recurrent state one sequence holds in layer i, whatever its length (convolution window + state)."""
        return sum(self.state_parts(i, tp))

    def conv_kernel(self, i: int) -> int:
        kind = self.layer_kind(i)
        if kind.has_mamba and self.mamba is not None:
            return self.mamba.d_conv
        if kind is LayerKind.LINEAR and self.linear is not None:
            return self.linear.conv_kernel
        if kind is LayerKind.SHORT_CONV and self.short_conv is not None:
            return self.short_conv.kernel
        return 0

    # --- counts ----------------------------------------------------------------------------------

    def tensors(self) -> tuple[Tensor, ...]:
        return _tensors(self)

    def parameter_count(self) -> int:
        """Trainable parameters, as transformers counts them (buffers excluded)."""
        return _parameter_count(self)

    def params_per_routed_expert(self) -> int:
        moe = self.moe
        if moe is None:
            return 0
        width = moe.latent_size or self.hidden_size
        matrices = (3 if self.gated_mlp else 2) * width * moe.expert_intermediate_size
        biases = 2 * moe.expert_intermediate_size if self.gated_mlp else moe.expert_intermediate_size
        return matrices + (biases + width if moe.expert_bias else 0)

    def unused_expert_parameters(self) -> int:
        """Routed-expert parameters one token does not use, over all MoE layers."""
        if self.moe is None:
            return 0
        unused = self.moe.num_experts - self.moe.experts_per_token
        return self.moe_layer_count * unused * self.params_per_routed_expert()

    def active_parameter_count(self) -> int:
        """What one token reads: every stored tensor (router buffers too) minus the unused routed experts."""
        return _active_parameter_count(self)

    def kv_elements_per_token_total(self) -> int:
        """Cache elements one token adds across all layers (one sequence, below every window)."""
        return _kv_elements_total(self)

    def attention_summary(self) -> str:
        """'GQA 32/8', 'MLA', 'MQA' … plus sliding and recurrent layers, for people."""
        if self.mla is not None:
            text = f"MLA (latent {self.mla.kv_lora_rank}+{self.mla.qk_rope_head_dim})"
        elif self.compressed is not None:
            text = f"shared K/V, {self.num_attention_heads} query heads"
        elif self.num_kv_heads == 1:
            text = f"MQA {self.num_attention_heads}/1"
        elif self.num_kv_heads == self.num_attention_heads:
            text = f"MHA {self.num_attention_heads}"
        else:
            text = f"GQA {self.num_attention_heads}/{self.num_kv_heads}"
        kinds = [self.layer_kind(i) for i in range(self.num_layers)]
        n = self.num_layers
        for kind, words in (
            (LayerKind.SLIDING, f"layers sliding ({self.sliding_window})"),
            (LayerKind.CHUNKED, f"layers chunked ({self.sliding_window})"),
            (LayerKind.LINEAR, "linear-attention layers"),
            (LayerKind.MAMBA, "Mamba layers"),
            (LayerKind.PARALLEL, "layers attention + Mamba in parallel"),
            (LayerKind.COMPRESSED, "layers with a compressed history"),
            (LayerKind.SHORT_CONV, "short-convolution layers"),
            (LayerKind.NONE, "layers without attention"),
        ):
            if kinds.count(kind):
                text += f", {kinds.count(kind)}/{n} {words}"
        if self.indexer is not None:
            text += ", sparse-attention indexer"
        if self.kv_shared_layers:
            text += f", {self.kv_shared_layers}/{n} layers reuse an earlier layer's cache"
        return text


@lru_cache(maxsize=256)
def _parameter_count(arch: Architecture) -> int:
    return sum(t.numel for t in _tensors(arch) if t.group is not Group.BUFFER)


@lru_cache(maxsize=256)
def _active_parameter_count(arch: Architecture) -> int:
    if arch.moe is None:
        return arch.parameter_count()
    return sum(t.numel for t in _tensors(arch)) - arch.unused_expert_parameters()


@lru_cache(maxsize=256)
def _kv_elements_total(arch: Architecture) -> int:
    return sum(arch.kv_elements_per_token(i) for i in range(arch.num_layers))


@lru_cache(maxsize=256)
def _tensors(arch: Architecture) -> tuple[Tensor, ...]:
    h = arch.hidden_size
    out: list[Tensor] = []

    def add(role: str, layer: int, shape: tuple[int, ...], bias: bool = False, vision: Split | None = None) -> None:
        """One tensor, placed by the role table (core/roles.py); the vision tower's by `vision`."""
        prefix = f"blk.{layer}." if layer >= 0 else ""
        split, group = (vision, Group.VISION) if vision is not None else placement(role, shape, bias)
        out.append(Tensor(prefix + role + (".bias" if bias else ".weight"), role, layer, shape, split, group))

    def add_norm(role: str, layer: int, size: int) -> None:
        add(role, layer, (size,))
        if arch.norm_bias:  # a LayerNorm's bias is priced like its weight
            add(role, layer, (size,), bias=True)

    add("token_embd", -1, (arch.vocab_size, h))
    if arch.learned_positions:
        add("position_embd", -1, (arch.learned_positions, h))
    if arch.per_layer_input:
        _per_layer_input_tensors(arch, -1, add)
    if arch.vision is not None:
        _vision_tensors(arch.vision, h, add)
    for i in range(arch.num_layers):
        for k, role in enumerate(("attn_norm", "ffn_norm", "post_attention_norm", "post_ffw_norm")):
            if k < arch.norms_per_layer:
                add_norm(role, i, h)
        if arch.per_layer_input:
            _per_layer_input_tensors(arch, i, add)
        kind = arch.layer_kind(i)
        if kind.has_mamba:
            _mamba_tensors(arch, i, add)
        if kind is LayerKind.LINEAR:
            _linear_attention_tensors(arch, i, add)
        elif kind is LayerKind.SHORT_CONV:
            _short_conv_tensors(arch, i, add)
        elif kind.attends and arch.compressed is not None:
            _compressed_attention_tensors(arch, arch.compressed, i, add)
        elif kind.attends and arch.mla is not None:
            _mla_tensors(arch, arch.mla, i, add)
        elif kind.attends and arch.kv_heads(i) > 0:
            _attention_tensors(arch, i, add)
        ffn = arch.ffn_kind(i)
        if ffn is FfnKind.MOE:
            _moe_tensors(arch, i, add)
        elif ffn is FfnKind.DENSE:
            _mlp_tensors(arch, i, arch.ffn_width(i), "", add)
    if arch.compressed is not None and arch.compressed.hc_mult > 1:  # the head's collapse of the streams
        hc = arch.compressed.hc_mult
        add("hc_head_fn", -1, (hc, hc * h))
        add("hc_head_base", -1, (hc,))
        add("hc_head_scale", -1, (1,))
    add_norm("output_norm", -1, h)
    if not arch.tie_word_embeddings:
        add("output", -1, (arch.vocab_size, h))
    return tuple(out)


class _Add(Protocol):
    def __call__(
        self, role: str, layer: int, shape: tuple[int, ...], bias: bool = False, vision: Split | None = None
    ) -> None: ...


def _attention_tensors(arch: Architecture, i: int, add: _Add) -> None:
    h, (d, dv) = arch.hidden_size, arch.head_dims(i)
    nq, nkv = arch.q_heads(i), arch.kv_heads(i)
    gate = 2 if arch.attn_output_gate else 1  # the query projection also yields the output gate
    if arch.fused_qkv:
        add("attn_qkv", i, ((nq + nkv) * d + nkv * dv, h))
        if arch.qkv_bias:
            add("attn_qkv", i, ((nq + nkv) * d + nkv * dv,), bias=True)
    else:
        own, shared = arch.own_shape(i), arch.shares_kv(i)
        add("attn_q", i, (gate * nq * d, h))
        if not shared:
            add("attn_k", i, (nkv * d, h))
        if not shared and (own is None or not own.k_eq_v):
            add("attn_v", i, (nkv * dv, h))
        if arch.qkv_bias:
            add("attn_q", i, (nq * d,), bias=True)
            add("attn_k", i, (nkv * d,), bias=True)
            add("attn_v", i, (nkv * dv,), bias=True)
    if arch.head_gate_width:
        add("attn_gate", i, (nq * arch.head_gate_width, h))
    add("attn_output", i, (h, nq * dv))
    if arch.o_bias:
        add("attn_output", i, (h,), bias=True)
    if arch.qk_norm == "per_head":
        add("attn_q_norm", i, (d,))
        if not arch.shares_kv(i):
            add("attn_k_norm", i, (d,))
    elif arch.qk_norm == "full":
        add("attn_q_norm", i, (nq * d,))
        add("attn_k_norm", i, (nkv * d,))
    own = arch.own_shape(i)
    if arch.attention_sinks or (own is not None and own.sinks):
        add("attn_sinks", i, (nq,))
    ix = arch.indexer
    if ix is not None and ix.style == "minimax" and ix.runs_in(i):  # MiniMax-M3's: queries, a key from the input
        add("indexer_q", i, (ix.heads * ix.head_dim, h))
        add("indexer_k", i, (ix.head_dim, h))
        add("indexer_q_norm", i, (ix.head_dim,))
        add("indexer_k_norm", i, (ix.head_dim,))


def _linear_attention_tensors(arch: Architecture, i: int, add: _Add) -> None:
    """Gated DeltaNet: projections to q, k, v, z (gate), b and a; a depthwise convolution over q, k, v;
    per-head decay; a gated norm; the output projection."""
    assert arch.linear is not None
    lin, h = arch.linear, arch.hidden_size
    keys, values = lin.key_heads * lin.key_head_dim, lin.value_heads * lin.value_head_dim
    add("ssm_in", i, (2 * keys + 2 * values, h))  # q, k, v, z
    add("ssm_ba", i, (2 * lin.value_heads, h))
    add("ssm_conv1d", i, (lin.conv_channels, lin.conv_kernel))
    add("ssm_dt", i, (lin.value_heads,), bias=True)
    add("ssm_a", i, (lin.value_heads,))
    add("ssm_norm", i, (lin.value_head_dim,))
    add("ssm_out", i, (h, values))


def _short_conv_tensors(arch: Architecture, i: int, add: _Add) -> None:
    """LFM2 (transformers' Lfm2ShortConv, llama.cpp's shortconv.*): in_proj to 3 x hidden, a depthwise
    convolution of conv_L_cache taps, out_proj."""
    assert arch.short_conv is not None
    h, conv = arch.hidden_size, arch.short_conv
    add("shortconv_in_proj", i, (3 * h, h))
    add("shortconv_conv", i, (h, conv.kernel))
    add("shortconv_out_proj", i, (h, h))
    if conv.bias:
        add("shortconv_in_proj", i, (3 * h,), bias=True)
        add("shortconv_conv", i, (h,), bias=True)
        add("shortconv_out_proj", i, (h,), bias=True)


def _compressed_attention_tensors(arch: Architecture, c: CompressedAttention, i: int, add: _Add) -> None:
    """DeepSeek-V4: low-rank queries, one K/V projection, grouped low-rank output, sinks; the layer's
    compressor (keys and gates, twice as wide when its windows overlap) with the indexer's own at the sparse
    ratio; and the hyper-connections' mixing weights before attention and before the MLP."""
    h, nq, d = arch.hidden_size, arch.num_attention_heads, arch.head_dim
    add("attn_q_a", i, (c.q_lora_rank, h))
    add("attn_q_a_norm", i, (c.q_lora_rank,))
    add("attn_q_b", i, (nq * d, c.q_lora_rank))
    add("attn_kv", i, (d, h))
    add("attn_kv_norm", i, (d,))
    add("attn_output_a", i, (c.o_groups * c.o_lora_rank, nq * d // c.o_groups))
    add("attn_output_b", i, (h, c.o_groups * c.o_lora_rank))
    add("attn_sinks", i, (nq,))
    ratio = c.ratios[i]
    if ratio:
        _compressor_tensors("compressor", d, ratio, arch.is_sparse(i), i, h, add)
    if ratio and arch.is_sparse(i) and arch.indexer is not None:
        ix = arch.indexer
        _compressor_tensors("indexer", ix.head_dim, ratio, True, i, h, add)
        add("indexer_q", i, (ix.heads * ix.head_dim, c.q_lora_rank))
        add("indexer_weights", i, (ix.heads, h))
    if c.hc_mult > 1:
        width = (2 + c.hc_mult) * c.hc_mult  # pre, post and the n x n mixing matrix
        for part in ("hc_attn", "hc_ffn"):
            add(f"{part}_fn", i, (width, c.hc_mult * h))
            add(f"{part}_base", i, (width,))
            add(f"{part}_scale", i, (3,))


def _compressor_tensors(name: str, width: int, ratio: int, overlap: bool, i: int, h: int, add: _Add) -> None:
    wide = 2 * width if overlap else width  # overlapping windows keep two series per token
    add(f"{name}_kv", i, (wide, h))
    add(f"{name}_gate", i, (wide, h))
    add(f"{name}_position_bias", i, (ratio, wide))
    add(f"{name}_norm", i, (width,))


def _mla_tensors(arch: Architecture, mla: MLA, i: int, add: _Add) -> None:
    h, nq = arch.hidden_size, arch.q_heads(i)
    q_head = mla.qk_nope_head_dim + mla.qk_rope_head_dim
    if mla.q_lora_rank is None:
        add("attn_q", i, (nq * q_head, h))
    else:
        add("attn_q_a", i, (mla.q_lora_rank, h))
        add("attn_q_a_norm", i, (mla.q_lora_rank,))
        add("attn_q_b", i, (nq * q_head, mla.q_lora_rank))
    add("attn_kv_a_mqa", i, (mla.kv_lora_rank + mla.qk_rope_head_dim, h))
    add("attn_kv_a_norm", i, (mla.kv_lora_rank,))
    add("attn_kv_b", i, (nq * (mla.qk_nope_head_dim + mla.v_head_dim), mla.kv_lora_rank))
    add("attn_output", i, (h, nq * mla.v_head_dim))
    if arch.indexer is not None and arch.indexer.runs_in(i):  # DeepSeek-V3.2's: scores the tokens a query reads
        ix = arch.indexer
        add("indexer_q", i, (ix.heads * ix.head_dim, mla.q_lora_rank or h))
        add("indexer_k", i, (ix.head_dim, h))
        add("indexer_k_norm", i, (ix.head_dim,))
        add("indexer_k_norm", i, (ix.head_dim,), bias=True)
        add("indexer_weights", i, (ix.heads, h))


def _mamba_tensors(arch: Architecture, i: int, add: _Add) -> None:
    assert arch.mamba is not None
    m, h = arch.mamba, arch.hidden_size
    if m.heads:
        _mamba2_tensors(arch, m, i, add)
        return
    inner = m.expand * h
    add("ssm_in", i, (2 * inner, h))
    if m.proj_bias:
        add("ssm_in", i, (2 * inner,), bias=True)
    add("ssm_conv1d", i, (inner, m.d_conv))
    if m.conv_bias:
        add("ssm_conv1d", i, (inner,), bias=True)
    add("ssm_x", i, (m.dt_rank + 2 * m.d_state, inner))
    add("ssm_dt", i, (inner, m.dt_rank))
    add("ssm_dt", i, (inner,), bias=True)
    add("ssm_a", i, (inner, m.d_state))
    add("ssm_d", i, (inner,))
    add("ssm_out", i, (h, inner))
    if m.proj_bias:
        add("ssm_out", i, (h,), bias=True)
    if m.inner_norms:
        add("ssm_dt_norm", i, (m.dt_rank,))
        add("ssm_b_norm", i, (m.d_state,))
        add("ssm_c_norm", i, (m.d_state,))


def _mamba2_tensors(arch: Architecture, m: Mamba, i: int, add: _Add) -> None:
    """Mamba-2: one input projection to z, x, B, C and dt; a depthwise convolution over x, B, C; per-head
    A, D and dt bias; a gated norm; the output projection."""
    h, inner = arch.hidden_size, m.inner(arch.hidden_size)
    conv = m.conv_channels(h)
    add("ssm_in", i, (inner + conv + m.heads, h))
    if m.proj_bias:
        add("ssm_in", i, (inner + conv + m.heads,), bias=True)
    add("ssm_conv1d", i, (conv, m.d_conv))
    if m.conv_bias:
        add("ssm_conv1d", i, (conv,), bias=True)
    add("ssm_dt", i, (m.heads,), bias=True)
    add("ssm_a", i, (m.heads,))
    add("ssm_d", i, (m.heads,))
    if m.gated_norm:
        add("ssm_norm", i, (inner,))
    add("ssm_out", i, (h, inner))
    if m.proj_bias if m.out_bias is None else m.out_bias:
        add("ssm_out", i, (h,), bias=True)


def _per_layer_input_tensors(arch: Architecture, i: int, add: _Add) -> None:
    """Gemma 4's per-layer embeddings: one table row per token holds a small input for every layer (i = -1),
    mixed with a projection of the token's embedding; each layer gates its slice in and projects it back."""
    h, width = arch.hidden_size, arch.per_layer_input
    if i < 0:
        add("per_layer_token_embd", -1, (arch.per_layer_vocab, arch.num_layers * width))
        add("per_layer_model_proj", -1, (arch.num_layers * width, h))
        add("per_layer_proj_norm", -1, (width,))
        return
    add("inp_gate", i, (width, h))
    add("proj", i, (h, width))
    add("post_norm", i, (h,))


def _mlp_tensors(arch: Architecture, i: int, width: int, suffix: str, add: _Add) -> None:
    h = arch.hidden_size
    up_roles = ("ffn_gate", "ffn_up") if arch.gated_mlp else ("ffn_up",)
    for role in up_roles:
        add(role + suffix, i, (width, h))
        if arch.mlp_bias:
            add(role + suffix, i, (width,), bias=True)
    add("ffn_down" + suffix, i, (h, width))
    if arch.mlp_bias:
        add("ffn_down" + suffix, i, (h,), bias=True)


def _moe_tensors(arch: Architecture, i: int, add: _Add) -> None:
    assert arch.moe is not None
    moe, h = arch.moe, arch.hidden_size
    e, w = moe.num_experts, moe.expert_intermediate_size
    add("ffn_gate_inp", i, (e, h))
    if moe.latent_size:  # the experts read and write a projection of the hidden state
        add("ffn_latent_down", i, (moe.latent_size, h))
        add("ffn_latent_up", i, (h, moe.latent_size))
        h = moe.latent_size
    if moe.router_bias:
        add("ffn_gate_inp", i, (e,))
    hashed = arch.compressed is not None and i < arch.compressed.hash_layers
    if hashed:  # DeepSeek-V4's first layers pick experts by token id: a vocab x top-k table
        add("ffn_gate_tid2eid", i, (arch.vocab_size, moe.experts_per_token))
    elif moe.router_score_bias:
        add("exp_probs_b", i, (e,))
    if moe.router_scales:
        add("ffn_gate_inp_scale", i, (h,))
        add("ffn_gate_exps_scale", i, (e,))
    for role in ("pre_ffw_norm_2", "post_ffw_norm_1", "post_ffw_norm_2")[: moe.extra_norms]:
        add(role, i, (h,))
    up_roles = ("ffn_gate_exps", "ffn_up_exps") if arch.gated_mlp else ("ffn_up_exps",)
    for role in up_roles:
        add(role, i, (e, w, h))
        if moe.expert_bias:
            add(role, i, (e, w), bias=True)
    add("ffn_down_exps", i, (e, h, w))
    if moe.expert_bias:
        add("ffn_down_exps", i, (e, h), bias=True)
    if moe.shared_intermediate_size:
        _mlp_tensors(arch, i, moe.shared_intermediate_size, "_shexp", add)
        if moe.shared_expert_gate:
            add("ffn_gate_inp_shexp", i, (1, h))


def _vision_tensors(v: VisionTower, text_hidden: int, add: _Add) -> None:
    if v.kind is VisionKind.QWEN_VL:
        _qwen_vl_tensors(v, text_hidden, add)
        return
    if v.kind is VisionKind.GEMMA4:
        _gemma4_vision_tensors(v, text_hidden, add)
        return
    if v.kind is VisionKind.PIXTRAL:
        _pixtral_tensors(v, text_hidden, add)
        return
    c = v.hidden_size

    def linear(role: str, shape: tuple[int, int]) -> None:
        add(role, -1, shape, vision=Split.COLUMN)
        add(role, -1, (shape[0],), bias=True, vision=Split.COLUMN)

    linear("v.patch_embd", (c, v.num_channels * v.patch_size**2))
    add("v.position_embd", -1, ((v.image_size // v.patch_size) ** 2, c), vision=Split.REPLICATED)
    for k in range(v.num_layers):
        for role in ("ln1", "attn_q", "attn_k", "attn_v", "attn_out", "ln2"):
            if role.startswith("ln"):
                add(f"v.blk.{k}.{role}", -1, (c,), vision=Split.REPLICATED)
                add(f"v.blk.{k}.{role}", -1, (c,), bias=True, vision=Split.REPLICATED)
            else:
                linear(f"v.blk.{k}.{role}", (c, c))
        linear(f"v.blk.{k}.ffn_up", (v.intermediate_size, c))
        linear(f"v.blk.{k}.ffn_down", (c, v.intermediate_size))
    add("v.post_ln", -1, (c,), vision=Split.REPLICATED)
    add("v.post_ln", -1, (c,), bias=True, vision=Split.REPLICATED)
    add("mm.input_projection", -1, (text_hidden, c), vision=Split.COLUMN)
    add("mm.soft_emb_norm", -1, (c,), vision=Split.REPLICATED)


def _vision_matrix(add: _Add, role: str, shape: tuple[int, int], bias: bool) -> None:
    add(role, -1, shape, vision=Split.COLUMN)
    if bias:
        add(role, -1, (shape[0],), bias=True, vision=Split.COLUMN)


def _vision_norm(add: _Add, role: str, size: int, bias: bool) -> None:
    add(role, -1, (size,), vision=Split.REPLICATED)
    if bias:
        add(role, -1, (size,), bias=True, vision=Split.REPLICATED)


def _pixtral_tensors(v: VisionTower, text_hidden: int, add: _Add) -> None:
    """Mistral 3's Pixtral encoder (transformers' PixtralVisionModel and Mistral3MultiModalProjector): a patch
    convolution, RMSNorm blocks of q/k/v/o and a gated MLP, no biases; the projector's norm, a merger of 2x2
    patches and two linears into the text width (multimodal_projector_bias false). Split as vLLM's
    PixtralHFVisionModel splits it (QKV and gate/up by column, o and down by row; the convolution and the
    merger whole), unless `replicated`: Mistral's own format loads plain linears on every rank."""
    c, w = v.hidden_size, v.intermediate_size

    def matrix(role: str, shape: tuple[int, int], split: Split) -> None:
        add(role, -1, shape, vision=Split.REPLICATED if v.replicated else split)

    matrix("v.patch_embd", (c, v.num_channels * v.patch_size**2), Split.REPLICATED)
    _vision_norm(add, "v.pre_ln", c, False)
    for k in range(v.num_layers):
        _vision_norm(add, f"v.blk.{k}.ln1", c, False)
        for role in ("attn_q", "attn_k", "attn_v"):
            matrix(f"v.blk.{k}.{role}", (c, c), Split.COLUMN)
        matrix(f"v.blk.{k}.attn_out", (c, c), Split.ROW)
        _vision_norm(add, f"v.blk.{k}.ln2", c, False)
        matrix(f"v.blk.{k}.ffn_gate", (w, c), Split.COLUMN)
        matrix(f"v.blk.{k}.ffn_up", (w, c), Split.COLUMN)
        matrix(f"v.blk.{k}.ffn_down", (c, w), Split.ROW)
    _vision_norm(add, "mm.norm", c, False)
    matrix("mm.patch_merger", (c, c * v.merge**2), Split.REPLICATED)
    matrix("mm.linear_1", (text_hidden, c), Split.COLUMN)
    matrix("mm.linear_2", (text_hidden, text_hidden), Split.ROW)


def _qwen_vl_tensors(v: VisionTower, text_hidden: int, add: _Add) -> None:
    """Qwen3-VL / Qwen3.5's encoder: a 3-D patch convolution, learned positions, LayerNorm blocks with a fused
    QKV, then a merger of 2x2 patches into the text width, and one more per deepstack layer."""
    c, w = v.hidden_size, v.intermediate_size
    _vision_matrix(add, "v.patch_embd", (c, v.num_channels * v.temporal_patch * v.patch_size**2), True)
    add("v.position_embd", -1, (v.positions, c), vision=Split.REPLICATED)
    for k in range(v.num_layers):
        _vision_norm(add, f"v.blk.{k}.ln1", c, True)
        _vision_matrix(add, f"v.blk.{k}.attn_qkv", (3 * c, c), True)
        _vision_matrix(add, f"v.blk.{k}.attn_out", (c, c), True)
        _vision_norm(add, f"v.blk.{k}.ln2", c, True)
        _vision_matrix(add, f"v.blk.{k}.ffn_up", (w, c), True)
        _vision_matrix(add, f"v.blk.{k}.ffn_down", (c, w), True)
    merged = c * v.merge**2
    for m in range(1 + v.deepstack):  # the main merger normalises before the shuffle, deepstack ones after
        name = "mm" if m == 0 else f"mm.deepstack.{m - 1}"
        _vision_norm(add, f"{name}.norm", c if m == 0 else merged, True)
        _vision_matrix(add, f"{name}.fc1", (merged, merged), True)
        _vision_matrix(add, f"{name}.fc2", (text_hidden, merged), True)


def _gemma4_vision_tensors(v: VisionTower, text_hidden: int, add: _Add) -> None:
    """Gemma 4's encoder: a patch projection, a position table per axis, RMSNorm blocks with q/k norms and a
    gated MLP (no biases), then one projection into the text width after pooling."""
    c, w, d = v.hidden_size, v.intermediate_size, v.head_dim or v.hidden_size // v.num_heads
    _vision_matrix(add, "v.patch_embd", (c, v.num_channels * v.patch_size**2), False)
    add("v.position_embd", -1, (2, v.positions, c), vision=Split.REPLICATED)
    for k in range(v.num_layers):
        for role in ("attn_q", "attn_k", "attn_v"):
            _vision_matrix(add, f"v.blk.{k}.{role}", (v.num_heads * d, c), False)
        _vision_matrix(add, f"v.blk.{k}.attn_out", (c, v.num_heads * d), False)
        _vision_norm(add, f"v.blk.{k}.attn_q_norm", d, False)
        _vision_norm(add, f"v.blk.{k}.attn_k_norm", d, False)
        for role in ("ffn_gate", "ffn_up"):
            _vision_matrix(add, f"v.blk.{k}.{role}", (w, c), False)
        _vision_matrix(add, f"v.blk.{k}.ffn_down", (c, w), False)
        for role in ("ln1", "ln2", "post_attention_norm", "post_ffw_norm"):
            _vision_norm(add, f"v.blk.{k}.{role}", c, False)
    _vision_matrix(add, "mm.input_projection", (text_hidden, c), False)


CUSTOM_VOCAB = 128_256  # Llama-3 tokenizer: a typical vocabulary for a what-if model


def custom_architecture(
    parameters: int, num_layers: int, hidden_size: int, num_kv_heads: int, head_dim: int, max_context: int = 131_072
) -> Architecture:
    """A Llama-style dense model of about `parameters`: query heads fill the hidden size, embeddings are
    untied, and the MLP width is the one that brings the count closest to the target."""
    heads = max(num_kv_heads, hidden_size // head_dim // num_kv_heads * num_kv_heads)
    attention = 2 * hidden_size * heads * head_dim + 2 * hidden_size * num_kv_heads * head_dim
    fixed = 2 * CUSTOM_VOCAB * hidden_size + hidden_size + num_layers * (attention + 2 * hidden_size)
    intermediate = max(1, round((parameters - fixed) / (3 * num_layers * hidden_size)))
    return Architecture(
        model_type="custom",
        vocab_size=CUSTOM_VOCAB,
        hidden_size=hidden_size,
        num_layers=num_layers,
        num_attention_heads=heads,
        num_kv_heads=num_kv_heads,
        head_dim=head_dim,
        intermediate_size=intermediate,
        max_context=max_context,
    )
