"""Work off the GUI thread: it returns plain data through signals and never touches widgets."""

from collections.abc import Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from vramscope.core.scenario import ModelSpec
from vramscope.hardware.probe import HardwareSnapshot
from vramscope.sources.errors import ModelFileError


class ProbeSignals(QObject):
    """Signals:
    probe_finished(HardwareSnapshot)
    """

    probe_finished = Signal(object)


class ProbeWorker(QRunnable):
    def __init__(self, probe: Callable[[], HardwareSnapshot]) -> None:
        super().__init__()
        self.probe = probe
        self.signals = ProbeSignals()

    def run(self) -> None:
        self.signals.probe_finished.emit(self.probe())  # probe() never raises


def start_probe(probe: Callable[[], HardwareSnapshot], on_finished: Callable[[HardwareSnapshot], None]) -> ProbeWorker:
    worker = ProbeWorker(probe)
    worker.signals.probe_finished.connect(on_finished)
    QThreadPool.globalInstance().start(worker)
    return worker


class ReadSignals(QObject):
    """Signals:
    read_finished(int, ModelSpec): the request number and the model
    read_failed(int, str): the request number and what went wrong, in words
    """

    read_finished = Signal(int, object)
    read_failed = Signal(int, str)


class ReadWorker(QRunnable):
    """Reads a model (folder, GGUF, Hub id) off the GUI thread; only ModelFileError is expected."""

    def __init__(self, request: int, source: str, read_model: Callable[[str], ModelSpec]) -> None:
        super().__init__()
        self.request, self.source, self.read_model = request, source, read_model
        self.signals = ReadSignals()

    def run(self) -> None:
        try:
            model = self.read_model(self.source)
        except ModelFileError as exc:
            self.signals.read_failed.emit(self.request, str(exc))
        except Exception as exc:  # a reader bug must not kill the app: say it, keep going
            self.signals.read_failed.emit(self.request, f"unexpected error reading {self.source}: {exc!r}")
        else:
            self.signals.read_finished.emit(self.request, model)
