"""Opening a model folder, GGUF file or Hub id in a worker, with cancel and a recent-models list."""

from collections.abc import Callable

from PySide6.QtCore import QObject, QSettings, Signal

from vramscope.core.scenario import ModelSpec
from vramscope.gui.workers import Job
from vramscope.sources.resolve import resolve_model

MAX_RECENT = 8


class ModelOpener(QObject):
    """Signals:
    model_opened(ModelSpec): a read finished
    open_failed(str): a read failed; the message says why
    busy_changed(str): what is being read ("" when nothing is)
    recent_changed(list): the recent sources, newest first
    """

    model_opened = Signal(object)
    open_failed = Signal(str)
    busy_changed = Signal(str)
    recent_changed = Signal(list)

    def __init__(
        self,
        settings: QSettings | None,
        read_model: Callable[[str], ModelSpec] = resolve_model,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.settings = settings
        self.read_model = read_model
        self.request = 0  # the read whose answer is still wanted
        self.job: Job | None = None
        self.source = ""
        self.recent: list[str] = self._load_recent()

    def _load_recent(self) -> list[str]:
        value = self.settings.value("recent_models") if self.settings is not None else None
        if isinstance(value, str):
            value = [value]
        return [v for v in value if isinstance(v, str)][:MAX_RECENT] if isinstance(value, list) else []

    def open(self, source: str) -> None:
        self.request += 1
        request = self.request
        self.source = source
        self.job = Job(lambda: self.read_model(source), f"reading {source}", self)
        self.job.job_finished.connect(lambda model: self._on_job_finished(request, model))
        self.job.job_failed.connect(lambda message: self._on_job_failed(request, message))
        self.busy_changed.emit(source)
        self.job.start()

    def cancel(self) -> None:
        """Forget the read under way: its answer, when it comes, is dropped."""
        self.request += 1
        self.busy_changed.emit("")

    def _on_job_finished(self, request: int, model: ModelSpec) -> None:
        if request != self.request:
            return
        source = self.source
        self.busy_changed.emit("")
        self.recent = [source, *(r for r in self.recent if r != source)][:MAX_RECENT]
        if self.settings is not None:
            self.settings.setValue("recent_models", self.recent)
        self.recent_changed.emit(self.recent)
        self.model_opened.emit(model)

    def _on_job_failed(self, request: int, message: str) -> None:
        if request == self.request:
            self.busy_changed.emit("")
            self.open_failed.emit(message)
