"""The chart as a PNG that explains itself: the model, the scenario and the verdict above the bars."""

from typing import TYPE_CHECKING

from PySide6.QtGui import QPainter, QPalette, QPixmap
from PySide6.QtWidgets import QWidget

from vramscope import __version__
from vramscope.gui.controller import Controller
from vramscope.report import scenario_line, verdict

if TYPE_CHECKING:  # pyqtgraph is imported after the first paint
    from vramscope.gui.widgets.memory_chart import MemoryChart


def title_lines(controller: Controller) -> list[str]:
    """What an exported chart says above itself."""
    controller.finish_limits()
    a = controller.result
    headline, details = verdict(a, controller.unit)
    gpus = ", ".join(sorted({g.name for g in a.deployment.gpus})) or "no GPU"
    return [
        f"{a.model.name} · {a.model.parameter_count():,} parameters · {a.deployment.gpu_count} x {gpus}",
        scenario_line(a),
        headline,
        *details.splitlines()[:2],
        f"VRAM Scope {__version__}",
    ]


def titled_chart(chart: "MemoryChart", controller: Controller, style: QWidget) -> QPixmap:
    """The chart under its title block, in the palette and font of the style widget (the window)."""
    chart.redraw()  # it may be behind another tab, not yet redrawn
    picture = chart.grab()
    lines = title_lines(controller)
    metrics = style.fontMetrics()
    pad, step = 12, metrics.height() + 4
    image = QPixmap(picture.width(), picture.height() + pad * 2 + step * len(lines))
    image.fill(style.palette().color(QPalette.ColorRole.Window))
    painter = QPainter(image)
    painter.setPen(style.palette().color(QPalette.ColorRole.WindowText))
    for i, line in enumerate(lines):
        font = style.font()
        font.setBold(i == 2)  # the verdict
        painter.setFont(font)
        painter.drawText(pad, pad + step * i + metrics.ascent(), line)
    painter.drawPixmap(0, pad * 2 + step * len(lines), picture)
    painter.end()
    return image
