"""The window as a multi-GPU workstation sees it: the test suite's fake NVML (an RTX 4090 with 3 GiB held by
another process, an RTX 3060) stands in for the driver before the app starts.

Run: xvfb-run -a uv run python -m tests.fake_workstation [--screenshot out.png] [vramscope options]
"""

import sys

from tests.hardware.fake_nvml import RTX3060, RTX4090, make_fake_pynvml

BUSY_4090 = {**RTX4090, "memory": (RTX4090["memory"][0], 3 * 2**30, 0), "processes": [(4242, 3 * 2**30)]}


def main() -> int:
    sys.modules["pynvml"] = make_fake_pynvml([BUSY_4090, RTX3060])
    args = sys.argv[1:]
    if args[:1] == ["--screenshot"] and len(args) >= 2:
        return screenshot(args[1])
    from vramscope.gui.app import main as gui_main

    return gui_main()


def screenshot(path: str) -> int:
    """Start the app as a user would, let the probe answer, save the window."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from vramscope.gui.app import start

    app = QApplication(sys.argv[:1])
    window = start()

    def shoot() -> None:
        window.controller.finish_limits()
        app.processEvents()
        app.processEvents()  # settle layouts the first pass changed
        window.grab().save(path, "PNG")
        app.quit()

    QTimer.singleShot(2500, shoot)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
