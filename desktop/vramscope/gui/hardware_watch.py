"""The GPUs, watched from the window: probed off the GUI thread, again on F5, when the window comes back
after a while and while an engine runs on them. A driver that does not answer becomes a status, not a wait."""

import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QWidget

from vramscope.gui.workers import Job
from vramscope.hardware.probe import (
    PROBE_TIMEOUT_S,
    Device,
    GpuProcess,
    HardwareSnapshot,
    ProbeStatus,
    running_engines,
)

REPROBE_AFTER_S = 60  # the window, activated again after this long, probes the GPUs again
WATCH_ENGINES_MS = 10_000  # while an engine runs on a GPU, its use is measured again this often


class HardwareWatch(QObject):
    """Signals:
    probed(HardwareSnapshot): a probe answered, or did not in time (a snapshot that says so)
    """

    probed = Signal(object)

    def __init__(self, probe: Callable[[], HardwareSnapshot] | None, window: QWidget) -> None:
        super().__init__(window)
        self.probe = probe  # None: no detection (tests, screenshots)
        self.window = window
        self.worker: Job | None = None  # held while the probe runs
        self.last_answer = 0.0  # time.monotonic() of the last probe's answer
        self.running: list[tuple[Device, GpuProcess, str]] = []  # engines on the GPUs, at the last probe

    def refresh(self) -> bool:
        """Probe again, unless there is nothing to probe with or a probe runs; whether one started."""
        if self.probe is None or self.worker is not None:
            return False
        job = Job(self.probe, "probing the GPUs", self)
        job.job_finished.connect(self.finish)
        self.worker = job.start()
        QTimer.singleShot(round(PROBE_TIMEOUT_S * 1000), lambda: self._on_timeout(job))
        return True

    def window_activated(self) -> None:
        """Back after a while: what others hold on the GPUs may have changed."""
        if self.last_answer and time.monotonic() - self.last_answer > REPROBE_AFTER_S:
            self.refresh()

    def finish(self, snapshot: HardwareSnapshot) -> None:
        self.worker = None
        self.last_answer = time.monotonic()
        self.running = running_engines(snapshot)
        self.probed.emit(snapshot)
        if self.running and self.probe is not None:  # a live engine: watch it while the window is shown
            QTimer.singleShot(WATCH_ENGINES_MS, lambda: self.refresh() if self.window.isVisible() else None)

    def _on_timeout(self, job: Job) -> None:
        """nvmlInit has no time limit of its own."""
        if job is self.worker and not job.done:
            self.finish(
                HardwareSnapshot(
                    status=ProbeStatus.ERROR,
                    message=f"The NVIDIA driver did not answer within {PROBE_TIMEOUT_S:g} s: check nvidia-smi and "
                    "the system log, then View → Refresh GPUs.",
                )
            )
