"""main(): the application, its window and the background probe."""

import os
import signal
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QLocale, QMessageLogContext, QSettings, QTimer, QtMsgType, qInstallMessageHandler
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

from vramscope import __version__
from vramscope.core.scenario import Engine, EngineSettings, HostSpec, ModelSpec, Workload
from vramscope.crashlog import write_crash_log
from vramscope.gui.about import APP_ID
from vramscope.gui.controller import Controller
from vramscope.gui.main_window import MainWindow
from vramscope.gui.scenario_settings import restore_settings
from vramscope.gui.settings_store import open_settings
from vramscope.hardware.catalog import find_gpu
from vramscope.hardware.probe import HardwareSnapshot, probe
from vramscope.resources import resources_dir
from vramscope.sources.presets import DEFAULT_PRESET, load_preset
from vramscope.sources.resolve import resolve_model

DEFAULT_GPU = "nvidia-rtx-4090"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)  # rendered by packaging/make_icons.py


class CrashHandler:
    """An error no code path expected: logged, shown in one dialog at a time with copyable details, and the
    window keeps working. A second error while the dialog is open is logged only."""

    def __init__(self) -> None:
        self.showing = False

    def __call__(self, kind: type[BaseException], error: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            QApplication.quit()
            return
        error.__traceback__ = tb
        path = write_crash_log(error, "window")
        print(f"vramscope: internal error ({kind.__name__}: {error}); details in {path}", file=sys.stderr)
        if self.showing:
            return
        self.showing = True
        try:
            box = QMessageBox(
                QMessageBox.Icon.Critical, "VRAM Scope", "Something went wrong; the window keeps working."
            )
            box.setInformativeText(f"{kind.__name__}: {error}\n\nThe details are in {path}.")
            box.setDetailedText("".join(traceback.format_exception(kind, error, tb)))
            box.exec()
        finally:
            self.showing = False


# One number format in the whole window: the core writes 38,828 and 23.99 GiB (as the CLI prints them), so
# the entry fields take the same separators; under a German desktop they showed 32.768 beside 38,828
NUMBER_LOCALE = QLocale(QLocale.Language.English, QLocale.Country.UnitedStates)


def _quit_on_ctrl_c(app: QApplication) -> None:
    """Ctrl+C in the terminal quits: Python handles signals only when it runs, so wake it up often."""
    signal.signal(signal.SIGINT, lambda *_: app.quit())
    timer = QTimer(app)
    timer.timeout.connect(lambda: None)
    timer.start(250)


def build_window(
    model: ModelSpec | None = None,
    settings: QSettings | None = None,
    defer_chart: bool = False,
    read_model: Callable[[str], ModelSpec] = resolve_model,
    probe: Callable[[], HardwareSnapshot] | None = None,
) -> MainWindow:
    QLocale.setDefault(NUMBER_LOCALE)  # before any entry field is made: each takes the default then
    gpu = find_gpu(DEFAULT_GPU)
    assert gpu is not None
    controller = Controller(model or load_preset(DEFAULT_PRESET), gpu.spec())
    window = MainWindow(controller, settings, defer_chart, read_model, probe)
    window.gpu_panel.select_catalog(gpu.id)
    return window


def start() -> MainWindow:
    """Show the window at once; the chart (pyqtgraph) after the first paint, the GPUs from a worker."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    present_to_desktop(app)
    settings, note = open_settings()
    window = build_window(settings=settings, defer_chart=True, probe=probe)
    if settings is not None:
        restore_settings(window, settings)
    if note:
        window.statusBar().showMessage(note, 10_000)
    screen = window.screen().availableGeometry()  # in device-independent pixels: right at 200 % scale too
    if settings is None or settings.value("geometry") is None or not screen.contains(window.frameGeometry()):
        window.resize(min(1280, round(screen.width() * 0.92)), min(780, round(screen.height() * 0.9)))
    window.show()
    window.refresh_gpus()
    return window


def present_to_desktop(app: QApplication) -> None:
    """The names and icon the desktop shows: the taskbar, the window switcher, the settings path."""
    app.setApplicationName("VRAM Scope")
    app.setApplicationDisplayName("VRAM Scope")
    app.setOrganizationName("VRAM Scope")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName(APP_ID)  # Wayland matches the window to the .desktop entry (and its icon) by this
    icon = QIcon()
    for size in ICON_SIZES:
        icon.addFile(str(resources_dir() / "icons" / f"vramscope-{size}.png"))
    app.setWindowIcon(icon)


def _quiet_offscreen(kind: QtMsgType, context: QMessageLogContext, message: str) -> None:
    """The offscreen platform says it cannot resize windows to their hints: true, and of no interest."""
    if "propagateSizeHints" not in message:
        print(message, file=sys.stderr)


def no_display() -> str:
    """Why a window cannot open here ("" when it can): Linux without X11 or Wayland and no platform chosen."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return ""
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return ""
    return (
        "no display to open the window on (neither DISPLAY nor WAYLAND_DISPLAY is set). On a server, use "
        "`vramscope estimate MODEL` or `vramscope --screenshot FILE.png MODEL`; over SSH, connect with -X."
    )


def main(argv: list[str] | None = None) -> int:
    args = argv or sys.argv[:1]
    if not any(a.startswith(("-platform", "--platform")) for a in args) and (reason := no_display()):
        print(f"vramscope: {reason}", file=sys.stderr)
        return 1
    app = QApplication.instance() or QApplication(args)
    unknown = app.arguments()[1:] if isinstance(app, QApplication) else []
    if unknown:  # Qt took the options it knows
        print(f"vramscope: ignoring {' '.join(unknown)} (see vramscope --help)", file=sys.stderr)
    sys.excepthook = CrashHandler()
    if isinstance(app, QApplication):
        _quit_on_ctrl_c(app)
    _window = start()  # held until the event loop ends
    return app.exec()


def screenshot(
    path: Path,
    model: ModelSpec,
    workload: Workload,
    gpu_name: str | None,
    gpu_count: int,
    capacity: int | None,
    engine: Engine = Engine.TRANSFORMERS,
    settings: EngineSettings | None = None,
    host: HostSpec | None = None,
) -> bool:
    """Render the window for one scenario offscreen and save it as PNG; whether the file was written."""
    if no_display():
        os.environ["QT_QPA_PLATFORM"] = "offscreen"  # a picture needs no screen
    qInstallMessageHandler(_quiet_offscreen)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    window = build_window(model)
    c = window.controller
    gpu = find_gpu(gpu_name) if gpu_name else None
    if gpu is not None:
        window.gpu_panel.select_catalog(gpu.id)
        spec = gpu.spec(capacity)
    else:
        spec = (
            c.gpu
            if capacity is None
            else c.gpu.model_copy(update={"capacity_bytes": capacity, "total_bytes": capacity, "name": "Custom"})
        )
    c.set_scenario(  # the command line's scenario, adopted whole: its parts do not depend on their order
        engine=engine,
        gpus=(spec,) * gpu_count,
        settings=settings.model_dump() if settings is not None else None,
        workload=workload.model_dump(),
    )
    c.set_host(host)
    if host is not None:
        window.gpu_panel.host_note.setText(f"Planned against {host.basis}.")
    window.gpu_panel.status.setText("Planning for the GPU chosen on the command line (no detection).")
    c.finish_limits()
    window.ways_out.finish()  # the picture shows them, not the wait for them
    window.resize(1280, 780)
    window.show()
    app.processEvents()
    app.processEvents()  # the second pass settles layouts the first one changed (wrapped verdict lines)
    saved = window.grab().save(str(path), "PNG")
    window.close()
    return bool(saved)
