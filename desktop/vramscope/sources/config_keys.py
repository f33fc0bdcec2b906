"""Reading config.json values: every key under its historical names, type-checked, and remembered, so that a
config whose keys were not all understood is never priced in silence."""

import builtins
import math
from typing import Any

from vramscope.core.architecture import LayerKind
from vramscope.sources.errors import ModelFileError


class ConfigKeys:
    """Looks up config values under their several historical names, checks their type and notes every name
    asked for (`asked`): what the readers understood of a config."""

    def __init__(self, config: dict[str, Any], where: str = "config.json") -> None:
        self.config = config
        self.where = where
        self.asked: set[str] = set()

    def get(self, *names: str, default: Any = None) -> Any:
        self.asked.update(names)
        for name in names:
            value = self.config.get(name)
            if value is not None:
                return value
        return default

    def know(self, *names: str) -> None:
        """Names a family understands without reading them here (another name for the same thing, layers
        transformers does not build)."""
        self.asked.update(names)

    def int(self, *names: str, default: int | None = None, positive: bool = True) -> int:
        value = self.get(*names)
        if value is None:
            if default is not None:
                return default
            tried = f" (also tried {', '.join(names[1:])})" if len(names) > 1 else ""
            raise ModelFileError(f"{self.where} lacks '{names[0]}'{tried}")
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or value != int(value)
        ):
            raise ModelFileError(f"{self.where}: '{names[0]}' must be a whole number, got {value!r}")
        if positive and value <= 0:
            raise ModelFileError(f"{self.where}: '{names[0]}' must be positive, got {value!r}")
        if value > 2**40:
            raise ModelFileError(f"{self.where}: '{names[0]}' is absurdly large ({value!r})")
        return int(value)

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.get(name)
        if value is None:
            return default
        if not isinstance(value, bool):  # "false" as a string would read as true
            raise ModelFileError(f"{self.where}: '{name}' must be true or false, got {value!r}")
        return value

    def layer_number(self, name: str, below: builtins.int, default: builtins.int = 0) -> builtins.int:
        """A count or index of layers: a whole number from 0 up to (not including) `below`."""
        value = self.int(name, default=default, positive=False)
        if not 0 <= value < below:
            raise ModelFileError(f"{self.where}: '{name}' must be from 0 to {below - 1}, got {value}")
        return value

    def list_or_none(self, name: str) -> list[Any] | None:
        """A per-layer list, or None when absent: any other type is refused rather than read as absent."""
        value = self.get(name)
        if value is not None and not isinstance(value, list):
            raise ModelFileError(f"{self.where}: '{name}' must be a list, got {type(value).__name__}")
        return value

    def layer_kinds(self, layers: builtins.int) -> "tuple[LayerKind, ...] | None":
        """The config's layer_types list, one known name per layer, or None."""
        names = self.list_or_none("layer_types")
        if not names:
            return None
        if len(names) != layers:
            raise ModelFileError(f"{self.where}: 'layer_types' has {len(names)} entries for {layers} layers")
        return tuple(layer_kind(t) for t in names)

    def per_layer_flags(self, name: str, layers: builtins.int, meaning: str) -> list[bool] | None:
        """A list of one 0/1 flag per layer (MiMo's hybrid_layer_pattern, moe_layer_freq), or None."""
        flags = self.list_or_none(name)
        if flags is None:
            return None
        if len(flags) != layers:
            raise ModelFileError(f"{self.where}: '{name}' has {len(flags)} entries for {layers} layers")
        if any(f not in (0, 1) or isinstance(f, float) for f in flags):
            raise ModelFileError(f"{self.where}: '{name}' entries must be {meaning}")
        return [bool(f) for f in flags]


# every name transformers writes in a layer_types list, and what it is; anything else is refused, not guessed
LAYER_TYPE_NAMES = {
    "full_attention": LayerKind.FULL,
    "attention": LayerKind.FULL,
    "global_attention": LayerKind.FULL,
    "sliding_attention": LayerKind.SLIDING,
    "sliding_window_attention": LayerKind.SLIDING,
    "chunked_attention": LayerKind.CHUNKED,
    "linear_attention": LayerKind.LINEAR,
    "mamba": LayerKind.MAMBA,
}


def layer_kind(name: object) -> LayerKind:
    """A `layer_types` entry ("full_attention", "sliding_attention", "linear_attention" …) as a layer kind."""
    kind = LAYER_TYPE_NAMES.get(name) if isinstance(name, str) else None
    if kind is None:
        raise ModelFileError(
            f"config.json: unknown layer type {str(name)[:40]!r} in 'layer_types' "
            f"(known: {', '.join(LAYER_TYPE_NAMES)})"
        )
    return kind


# Keys that never change a tensor's shape or the cache: token ids, dropout, norm epsilons, initialisation,
# activations, rotary settings, routing scores and losses, kernel switches. Every other key is read by a rule.
_NEUTRAL = {
    "architectures", "model_type", "transformers_version", "torch_dtype", "dtype", "auto_map", "use_cache",
    "quantization_config", "text_config", "vision_config", "audio_config", "tie_word_embeddings", "norm_topk_prob",
    "scoring_func", "routed_scaling_factor", "n_group", "topk_group", "seq_aux", "ep_size", "pretraining_tp",
    "output_router_logits", "num_logits_to_keep", "residual_in_fp32", "rescale_prenorm_residual",
    "use_mamba_kernels", "chunk_size", "cache_implementation", "query_pre_attn_scalar", "partial_rotary_factor",
    "rotary_dim", "index_topk", "swiglu_limit", "hc_sinkhorn_iters", "attention_value_scale",
    "use_bidirectional_attention", "position_embedding_type", "rope_interleave", "indexer_rope_interleave",
    "pad_token_id", "bos_token_id", "eos_token_id", "sep_token_id", "decoder_start_token_id", "hidden_act",
    "hidden_activation", "mamba_hidden_act", "mlp_hidden_act", "logits_scaling", "embedding_multiplier",
    "residual_multiplier", "attention_multiplier", "name_or_path", "_name_or_path", "is_encoder_decoder",
    "task_specific_params", "id2label", "label2id", "problem_type", "keys_to_ignore_at_inference",
    "time_step_limit", "router_jitter_noise", "moe_router_topk_scaling",
}  # fmt: skip
# PretrainedConfig's generation and legacy attributes, which old saves write into every nested config
_NEUTRAL |= {
    "add_cross_attention", "bad_words_ids", "begin_suppress_tokens", "chunk_size_feed_forward",
    "cross_attention_hidden_size", "diversity_penalty", "do_sample", "early_stopping",
    "encoder_no_repeat_ngram_size", "exponential_decay_length_penalty", "finetuning_task", "ignore_index",
    "is_decoder", "length_penalty", "max_length", "min_length", "no_repeat_ngram_size", "num_beam_groups",
    "num_beams", "num_return_sequences", "output_attentions", "output_hidden_states", "output_scores", "prefix",
    "pruned_heads", "remove_invalid_values", "repetition_penalty", "return_dict", "return_dict_in_generate",
    "suppress_tokens", "temperature", "tf_legacy_loss", "tie_encoder_decoder", "tokenizer_class", "top_k",
    "top_p", "torchscript", "typical_p", "use_bfloat16",
}  # fmt: skip
_NEUTRAL_PARTS = (
    "dropout", "_eps", "epsilon", "rope", "initializer", "init_std", "_token_id", "_token_index", "aux_loss",
    "_placeholder",
    "time_step_", "softcapping", "_multiplier", "_scale_factor", "router_z_loss", "attn_temperature",
)  # fmt: skip


def shapes_nothing(key: str) -> bool:
    """True for a key that never changes what is stored or cached (see _NEUTRAL)."""
    return key in _NEUTRAL or key.startswith("_") or any(part in key for part in _NEUTRAL_PARTS)


def unread_keys(config: dict[str, Any], asked: set[str]) -> list[str]:
    """The keys of `config` no rule asked for that may shape the network."""
    return sorted(k for k in config if k not in asked and not shapes_nothing(k))
