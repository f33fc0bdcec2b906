"""Hostile input through the whole pipeline: config.json -> architecture -> every engine, weight format,
split and solver. Only the two refusals a user can act on may come out: a reader's ModelFileError, or a
ValueError saying which setting the core or the engine refuses."""

import time
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fixtures.tiny_config import TINY_LLAMA
from vramscope.core.analysis import analyse
from vramscope.core.precision import WEIGHT_FORMATS
from vramscope.core.scenario import Deployment, Engine, EngineSettings, GpuSpec, ModelSpec, Source, Workload
from vramscope.core.units import GIB
from vramscope.sources.errors import ModelFileError
from vramscope.sources.hf_config import architecture_from_config

NUMBERS = st.one_of(
    st.integers(min_value=-2, max_value=5),
    st.integers(min_value=1, max_value=4096),
    st.sampled_from([0, 2**31, 2**40, 2**41, 10**12]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=3),
    st.none(),
    st.booleans(),
)
KEYS = (
    "hidden_size",
    "num_hidden_layers",
    "num_attention_heads",
    "num_key_value_heads",
    "intermediate_size",
    "vocab_size",
    "max_position_embeddings",
    "head_dim",
    "sliding_window",
    "num_local_experts",
    "num_experts_per_tok",
    "kv_lora_rank",
)
BASE = {**{k: v for k, v in TINY_LLAMA.items() if k != "model_type"}, "max_position_embeddings": 4096}


@st.composite
def configs(draw: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        **BASE,
        "model_type": draw(st.sampled_from(["llama", "qwen2", "mistral", "gemma2", "mixtral", "deepseek_v2", "x"])),
    }
    for key in draw(st.lists(st.sampled_from(KEYS), max_size=4, unique=True)):
        config[key] = draw(NUMBERS)
    return config


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    configs(),
    st.sampled_from(list(Engine)),
    st.sampled_from([None, *list(WEIGHT_FORMATS)[::3]]),
    st.integers(min_value=1, max_value=8),
    st.integers(min_value=1, max_value=3),
    st.integers(min_value=1, max_value=10**6),
    st.integers(min_value=1, max_value=64),
)
def test_any_config_through_any_engine_is_an_answer_or_a_clear_refusal(
    config: dict[str, Any], engine: Engine, fmt: str | None, tp: int, pp: int, context: int, batch: int
) -> None:
    start = time.monotonic()
    try:
        arch = architecture_from_config(config)
        model = ModelSpec(name="fuzz", source=Source.CONFIG, architecture=arch)
        gpu = GpuSpec(name="g", capacity_bytes=24 * GIB, total_bytes=24 * GIB, bandwidth_bytes_per_s=1e12)
        deployment = Deployment(
            gpus=(gpu,), tensor_parallel=tp, pipeline_parallel=pp, engine=engine, settings=EngineSettings()
        )
        result = analyse(model, Workload(context=context, batch=batch, weight_format=fmt), deployment)
        assert result.estimate.total_bytes >= 0
    except (ModelFileError, ValueError):
        pass  # refused, with a message a person can act on
    assert time.monotonic() - start < 10
