"""transformers generate(): the cache grows with the sequence; one prefill pass over the whole prompt."""

from vramscope.core.estimate import SegmentKind, estimate
from vramscope.core.scenario import Deployment, EngineSettings, Workload
from vramscope.core.units import GIB
from vramscope.sources.presets import load_preset


def hf(**settings: object) -> Deployment:
    return Deployment(settings=EngineSettings.model_validate(settings))


def test_prefill_peak_of_llama_8b_at_8k() -> None:
    """MLP intermediates 3 x 14336 and two hidden states per token at 16 bit (formulas.md §3.7: 0.66 GiB of
    MLP at 8k), the last position's logits in fp32, and DynamicCache's copy of one layer's K/V."""
    est = estimate(load_preset("llama-3.1-8b"), Workload(context=8192), hf())
    mlp = 8192 * 3 * 14336 * 2
    assert round(mlp / GIB, 2) == 0.66
    expected = mlp + 8192 * 2 * 4096 * 2 + 128_256 * 4 + 1 * GIB // 32
    assert est.activation_bytes == expected


def test_eager_attention_adds_the_score_matrix() -> None:
    """'Eager attention adds B x n_heads x S^2 x 2 B of scores per layer: 4 GiB for Llama-8B at 8k.'"""
    model = load_preset("llama-3.1-8b")
    sdpa = estimate(model, Workload(context=8192), hf()).activation_bytes
    eager = estimate(model, Workload(context=8192), hf(attn_implementation="eager")).activation_bytes
    assert eager - sdpa == 4 * GIB


def test_cache_is_what_the_sequences_hold() -> None:
    est = estimate(load_preset("qwen2.5-7b"), Workload(context=32768, batch=3), hf())
    assert est.kv_cache_bytes == 57_344 * 32768 * 3
    assert est.per_gpu[0].bytes_of(SegmentKind.KV_RESERVED) == 0


def test_a_draft_model_adds_its_weights_and_cache() -> None:
    model, draft = load_preset("llama-3.1-8b"), load_preset("llama-3.2-1b")
    plain = estimate(model, Workload(context=8192, batch=2), hf())
    with_draft = estimate(model, Workload(context=8192, batch=2), Deployment(draft=draft))
    assert with_draft.weights_bytes - plain.weights_bytes == 2 * 1_235_814_400
    assert with_draft.kv_cache_bytes - plain.kv_cache_bytes == 32_768 * 8192 * 2  # Llama-3.2-1B: 32 KiB/token


def test_falcon_h1_keeps_a_cache_and_a_mamba_state_in_every_layer() -> None:
    """Falcon-H1-0.5B: 36 layers each cache 2 KV heads of 64 (18,432 B per token) and keep a Mamba-2 state:
    a 4-wide window of 1,536 + 2 x 128 channels and 24 heads x 64 x 128 states, in bf16."""
    est = estimate(load_preset("falcon-h1-0.5b"), Workload(context=16384, batch=4), hf())
    state = 36 * ((1536 + 2 * 128) * 4 + 1536 * 128) * 2
    assert state == 14_671_872
    assert est.kv_cache_bytes == (18_432 * 16384 + state) * 4
    kv = next(s for s in est.per_gpu[0].segments if s.kind is SegmentKind.KV_CACHE)
    assert "+ 14.0 MiB fixed per sequence" in kv.note


def test_a_quantized_cache_is_asked_of_generate() -> None:
    from vramscope.core.analysis import launch_command
    from vramscope.core.scenario import Deployment, Engine, Workload
    from vramscope.sources.presets import load_preset

    code = launch_command(
        load_preset("llama-3.1-8b"), Workload(kv_dtype="q4_0"), Deployment(engine=Engine.TRANSFORMERS)
    )
    assert code.endswith(
        '.generate(inputs, max_length=8192, cache_implementation="quantized", '
        'cache_config={"backend": "quanto", "nbits": 4})'
    )
