"""The controller's one way to change several parts of the scenario at once: adopted whole or not at all."""

import pytest

from vramscope.core.scenario import Engine
from vramscope.gui.main_window import MainWindow
from vramscope.sources.presets import load_preset

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_parts_that_need_each_other_are_adopted_together(window: MainWindow) -> None:
    c = window.controller
    gpu = c.gpu
    assert gpu is not None
    # a tensor split of two proportions needs its two GPUs: one at a time, the split alone would be refused
    adopted = c.set_scenario(
        model=load_preset("qwen2.5-32b"),
        engine=Engine.LLAMACPP,
        gpus=(gpu, gpu),
        settings={"tensor_split": (10.0, 6.0), "n_ubatch": 256},
        workload={"context": 32768, "weight_format": "q8_0", "kv_dtype": "q8_0"},
    )
    assert adopted and c.engine is Engine.LLAMACPP and c.model.name == "Qwen2.5-32B"
    assert c.settings.tensor_split == (10.0, 6.0) and len(c.gpus) == 2 and c.workload.kv_dtype == "q8_0"


def test_a_change_the_engine_refuses_leaves_every_part_as_it_was(window: MainWindow) -> None:
    c = window.controller
    before = c.scenario
    gpu = c.gpu
    assert gpu is not None
    adopted = c.set_scenario(engine=Engine.LLAMACPP, gpus=(gpu,), settings={"tensor_split": (1.0, 1.0, 1.0)})
    assert not adopted and c.scenario == before  # not the engine without the split, nor the GPUs
    assert "tensor-split gives 3 proportions for 1 GPUs" in window.statusBar().currentMessage()


def test_the_context_stays_within_the_model_chosen_with_it(window: MainWindow) -> None:
    c = window.controller
    c.set_workload(context=131072)
    assert c.set_scenario(model=load_preset("llama-2-7b"))
    assert c.workload.context == 4096  # Llama-2-7B's own maximum
