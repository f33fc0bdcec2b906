"""Work off the GUI thread: it returns plain data through signals and never touches widgets."""

from collections.abc import Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from vramscope.hardware.probe import HardwareSnapshot


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
