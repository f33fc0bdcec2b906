"""Work off the GUI thread: one template, a Job, that runs a function in a daemon thread and hands back its
result or its error in words through queued signals. A daemon thread never holds the app open: a read
stuck on a hung network share or a driver stuck in nvmlInit is abandoned when the window closes."""

import contextlib
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from vramscope.sources.errors import ModelFileError


class Job(QObject):
    """Signals:
    job_finished(object): what the function returned
    job_failed(str): why it did not, in words (a reader's ModelFileError as it is; anything else named
        as unexpected, with its details logged)
    """

    job_finished = Signal(object)
    job_failed = Signal(str)

    def __init__(self, work: Callable[[], Any], what: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.work, self.what = work, what
        self.done = False

    def start(self) -> "Job":
        threading.Thread(target=self._run, name=f"vramscope: {self.what}", daemon=True).start()
        return self

    def _run(self) -> None:
        try:
            result = self.work()
        except ModelFileError as exc:
            self._fail(str(exc))
        except Exception as exc:  # a bug must not kill the app: say it, log it, keep going
            from vramscope.crashlog import write_crash_log

            path = write_crash_log(exc, self.what)
            self._fail(f"unexpected error {self.what}: {exc!r} (details in {path})")
        else:
            self.done = True
            self._tell(self.job_finished, result)

    def _fail(self, message: str) -> None:
        self.done = True
        self._tell(self.job_failed, message)

    @staticmethod
    def _tell(signal: Any, value: object) -> None:
        with contextlib.suppress(RuntimeError):  # the window that asked was closed meanwhile: nobody to tell
            signal.emit(value)
