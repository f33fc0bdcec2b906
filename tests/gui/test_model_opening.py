"""Opening real model files from the window: worker, errors in words, cancel, recent list, drag and drop."""

import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from pytestqt.qtbot import QtBot

from tests.fixtures.model_files import write_gguf
from tests.sources.test_hf_folder import TINY, tiny_arch
from vramscope.core.estimate import SegmentKind
from vramscope.core.scenario import ModelSpec
from vramscope.core.units import GIB
from vramscope.gui.app import build_window
from vramscope.gui.main_window import MainWindow
from vramscope.sources.errors import ModelFileError
from vramscope.sources.resolve import resolve_model


@pytest.fixture
def gguf_path(tmp_path: Path) -> Path:
    path = tmp_path / "tiny-Q4_K_M.gguf"
    write_gguf(path, tiny_arch())
    return path


def open_and_wait(qtbot: QtBot, window: MainWindow, source: str) -> None:
    with qtbot.waitSignal(window.opener.busy_changed, timeout=10_000, check_params_cb=lambda s: s == ""):
        window.opener.open(source)


def test_open_gguf_shows_exact_weights(qtbot: QtBot, gguf_path: Path) -> None:
    window = build_window()
    qtbot.addWidget(window)
    open_and_wait(qtbot, window, str(gguf_path))
    model = window.controller.model
    assert model.inventory is not None and model.name == "Tiny"
    assert "Weights exact: 21 tensors from 1 gguf file" in window.model_panel.source.text()
    weights = window.controller.result.estimate.per_gpu[0].segment(SegmentKind.WEIGHTS)
    assert weights.bytes == model.inventory.stored_bytes()
    assert window.chart is not None
    assert list(window.chart.bars[SegmentKind.WEIGHTS].opts["width"]) == pytest.approx([weights.bytes / GIB])
    assert [a.text() for a in window.recent_menu.actions()] == [str(gguf_path)]


def test_a_bad_file_is_explained_and_the_window_keeps_working(qtbot: QtBot, tmp_path: Path) -> None:
    window = build_window()
    qtbot.addWidget(window)
    (tmp_path / "pytorch_model.bin").write_bytes(b"\x80\x04")
    (tmp_path / "config.json").write_text(__import__("json").dumps(TINY))
    open_and_wait(qtbot, window, str(tmp_path))
    assert "PyTorch pickle checkpoints are not read" in window.model_panel.error.text()
    assert window.controller.model.name == "Llama-3.1-8B"
    window.workload_panel.context_spin.setValue(2048)
    assert window.controller.workload.context == 2048


def test_cancel_drops_the_answer(qtbot: QtBot) -> None:
    release = threading.Event()

    def slow_read(source: str) -> ModelSpec:
        release.wait(5)
        return resolve_model("gpt2")

    window = build_window(read_model=slow_read)
    qtbot.addWidget(window)
    window.opener.open("acme/slow")
    assert window.cancel_button.isVisibleTo(window)
    window.cancel_button.click()
    assert not window.cancel_button.isVisibleTo(window)
    release.set()
    qtbot.wait(200)
    assert window.controller.model.name == "Llama-3.1-8B"


def test_reader_bugs_become_messages(qtbot: QtBot) -> None:
    def broken(source: str) -> ModelSpec:
        raise ZeroDivisionError("boom")

    window = build_window(read_model=broken)
    qtbot.addWidget(window)
    open_and_wait(qtbot, window, "acme/broken")
    assert "unexpected error" in window.model_panel.error.text()


def test_drop_a_file_onto_the_window(qtbot: QtBot, gguf_path: Path) -> None:
    window = build_window()
    qtbot.addWidget(window)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(gguf_path))])
    event = QDropEvent(
        QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    with qtbot.waitSignal(window.opener.model_opened, timeout=10_000):
        window.dropEvent(event)
    assert window.controller.model.name == "Tiny"


def test_hub_errors_reach_the_panel(qtbot: QtBot) -> None:
    def offline(source: str) -> ModelSpec:
        raise ModelFileError(f"cannot reach the Hugging Face Hub and '{source}' is not cached")

    window = build_window(read_model=offline)
    qtbot.addWidget(window)
    open_and_wait(qtbot, window, "acme/model")
    assert "is not cached" in window.model_panel.error.text()
