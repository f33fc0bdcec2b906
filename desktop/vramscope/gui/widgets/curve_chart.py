"""Memory on the tightest GPU and decode speed against context length (log axis) or batch, with the limit
it may grow to, the largest value that fits and a marker the user drags to set the slider. Subscribes to
the controller itself and redraws only while it is shown."""

import math

import numpy as np
import pyqtgraph as pg  # type: ignore[import-untyped]
from PySide6.QtCore import QEvent, QPointF
from PySide6.QtGui import QPalette, QResizeEvent, QShowEvent
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from vramscope.core.analysis import Analysis
from vramscope.core.segments import SegmentKind
from vramscope.core.speed import speed_note
from vramscope.core.sweep import CURVE_POINTS, Axis, Curve, CurvePoint, axis_range, memory_curve
from vramscope.core.units import UNIT_BYTES, format_bytes
from vramscope.gui.controller import Controller
from vramscope.gui.widgets.memory_chart import COLORS, legend_above, nice_ceiling, wrap_legend

LIMIT_COLOR = (213, 0, 0)
COARSE_POINTS = 8  # while another control moves: a fifth of the estimates, the same shape
AXIS_TITLES = {"context": "Context length (tokens per sequence)", "batch": "Concurrent sequences (batch)"}


def token_label(value: int) -> str:
    """2048 -> "2k", 131072 -> "128k", 1048576 -> "1M": how people name context lengths."""
    for size, suffix in ((1 << 20, "M"), (1 << 10, "k")):
        if value >= size and value % size == 0:
            return f"{value // size}{suffix}"
    return f"{value:,}"


def log_ticks(lo: int, hi: int, most: int = 9) -> list[tuple[float, str]]:
    """Powers of two from lo to hi, every second or fourth one when there are too many to read."""
    powers = [1 << k for k in range(0, 31) if lo <= 1 << k <= hi]
    step = max(1, math.ceil(len(powers) / most))
    return [(math.log10(v), token_label(v)) for v in powers[::-1][::step][::-1]]


def _fill(color: tuple[int, ...], name: str) -> pg.PlotDataItem:
    """A curve filled down to zero; drawn top layer first so each lower layer covers the one above."""
    return pg.PlotDataItem(
        [], [], pen=pg.mkPen(color, width=1), brush=pg.mkBrush(*color[:3], 200), fillLevel=0, name=name
    )


class CurveChart(QWidget):
    def __init__(self, controller: Controller, axis: Axis, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.axis = axis
        self.curve: Curve | None = None
        self._drawn: tuple[object, ...] = ()  # what the shown curve was computed for
        self._count = 0  # points in the curve drawn
        self._axes: tuple[object, ...] = ()  # the ranges and labels set on the axes
        self._speed_top = 0.0
        self.view = pg.GraphicsLayoutWidget()
        self.view.setBackground(None)
        self.view.setAccessibleName(f"Memory against {axis}")
        self.note = QLabel()
        self.note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.note)
        self.memory = self.view.addPlot(row=0, col=0)
        self.speed = self.view.addPlot(row=1, col=0)
        self.view.ci.layout.setRowStretchFactor(0, 3)
        self.view.ci.layout.setRowStretchFactor(1, 1)
        for plot in (self.memory, self.speed):
            plot.setLogMode(x=True, y=False)
            plot.setMouseEnabled(x=False, y=False)
            plot.setMenuEnabled(False)
            plot.hideButtons()
            plot.getAxis("left").setWidth(56)
            plot.getAxis("left").enableAutoSIPrefix(False)
        self.speed.setXLink(self.memory)
        self.speed.setLabel("left", "tokens/s")
        self.speed.setLabel("bottom", AXIS_TITLES[axis])
        self.legend = legend_above(self.memory, columns=4)
        self.total_fill = _fill(COLORS[SegmentKind.KV_CACHE], "KV cache")
        self.other_fill = _fill(COLORS[SegmentKind.ACTIVATIONS], "Activations + overhead")
        self.weights_fill = _fill(COLORS[SegmentKind.WEIGHTS], "Weights")
        for item in (self.total_fill, self.other_fill, self.weights_fill):
            self.memory.addItem(item)
        self.limit = pg.PlotDataItem([], [], pen=pg.mkPen(LIMIT_COLOR, width=2), name="Limit")
        self.memory.addItem(self.limit)
        for item in (self.total_fill, self.other_fill, self.weights_fill, self.limit):
            self.legend.addItem(item, item.name())
        self.speed_line = pg.PlotDataItem([], [], pen=pg.mkPen((86, 180, 233), width=2))
        self.speed.addItem(self.speed_line)
        self.largest = pg.InfiniteLine(
            angle=90,
            pen=pg.mkPen(LIMIT_COLOR, width=1, style=pg.QtCore.Qt.PenStyle.DashLine),
            label="largest that fits",
            labelOpts={"position": 0.92, "color": LIMIT_COLOR},
        )
        self.crossover = pg.InfiniteLine(
            angle=90,
            pen=pg.mkPen(COLORS[SegmentKind.KV_CACHE], width=1, style=pg.QtCore.Qt.PenStyle.DotLine),
            label="KV cache > weights",
            labelOpts={"position": 0.75},
        )
        self.marker = pg.InfiniteLine(angle=90, movable=True, pen=pg.mkPen(width=3), hoverPen=pg.mkPen(width=5))
        self.marker.setToolTip(f"Drag to set the {axis}")
        for line in (self.largest, self.crossover, self.marker):
            self.memory.addItem(line)
        self.marker.sigPositionChangeFinished.connect(self._on_marker_moved)
        for sample, _ in self.legend.items:
            sample.mouseClickEvent = lambda ev: ev.accept()
        self._apply_palette()
        self._proxy = pg.SignalProxy(
            self.view.scene().sigMouseMoved, rateLimit=60, slot=lambda args: self._on_mouse_moved(args[0])
        )
        controller.estimate_changed.connect(self.show_analysis)

    def _apply_palette(self) -> None:
        text = self.palette().color(QPalette.ColorRole.WindowText)
        self.view.setBackground(self.palette().color(QPalette.ColorRole.Window))  # as the bar chart's
        for plot in (self.memory, self.speed):
            for name in ("left", "bottom"):
                plot.getAxis(name).setPen(pg.mkPen(text))
                plot.getAxis(name).setTextPen(pg.mkPen(text))
        self.legend.setLabelTextColor(text)
        self.marker.setPen(pg.mkPen(text, width=3))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        wrap_legend(self.legend, self.width() - self.memory.getAxis("left").width())

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:  # the desktop's theme changed: axes and legend follow
            self._apply_palette()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.show_analysis(self.controller.result)  # hidden, it did not follow the sliders

    def show_analysis(self, analysis: Analysis) -> None:
        if not self.isVisible():
            return
        a = analysis
        current = getattr(a.workload, self.axis)
        span = axis_range(a.model, self.axis, current)
        # the curve does not depend on the value on its own axis: a drag along it moves only the marker
        rest = {k: v for k, v in a.workload.model_dump().items() if k != self.axis}
        key = (a.model, tuple(sorted(rest.items())), a.deployment, self.controller.unit, span)
        # while another control is dragged, a coarse curve keeps up with it; the full one follows at rest
        count = COARSE_POINTS if a.limits_pending else CURVE_POINTS
        if key != self._drawn or (count == CURVE_POINTS and self._count != CURVE_POINTS):
            self._drawn, self._count = key, count
            self.curve = memory_curve(a.model, a.workload, a.deployment, self.axis, count)
            self._draw(self.curve, span)
        if not self.marker.moving:
            self.marker.setValue(math.log10(current))
        largest = a.max_context if self.axis == "context" else a.max_batch
        self.largest.setVisible(largest is not None)
        if largest is not None:
            self.largest.setValue(math.log10(largest))
            self.largest.label.setFormat(f"largest that fits: {largest:,}")
        self._write_note(a, largest)

    def _set_axes(self, span: tuple[int, int], top: float, gpu_index: int) -> None:
        """Ranges, ticks and labels, touched only when they change: an axis repaints whenever touched."""
        axes = (span, top, gpu_index, self.controller.unit)
        if axes == self._axes:
            return
        self._axes = axes
        lo, hi = span
        self.memory.setXRange(math.log10(lo), math.log10(hi), padding=0.02)
        ticks = log_ticks(lo, hi)
        for plot in (self.memory, self.speed):
            plot.getAxis("bottom").setTicks([ticks, []])
        self.memory.setYRange(0, top * 1.1 or 1, padding=0)
        self.memory.setLabel("left", f"GPU {gpu_index} ({self.controller.unit.value})")
        self.marker.setBounds((math.log10(lo), math.log10(hi)))

    def _draw(self, curve: Curve, span: tuple[int, int]) -> None:
        scale = UNIT_BYTES[self.controller.unit]
        points = curve.points
        x = np.array([p.value for p in points], dtype=float)
        weights = np.array([p.weights_bytes for p in points]) / scale
        other = weights + np.array([p.other_bytes for p in points]) / scale
        total = np.array([p.used_bytes for p in points]) / scale
        self.total_fill.setData(x, total)
        self.other_fill.setData(x, other)
        self.weights_fill.setData(x, weights)
        limits = [p.limit_bytes for p in points]
        if all(v is not None for v in limits):
            self.limit.setData(x, np.array(limits, dtype=float) / scale)
        else:
            self.limit.setData([], [])
        top = max(float(total.max(initial=0)), max((v or 0) / scale for v in limits) if limits else 0.0)
        self._set_axes(span, nice_ceiling(top), curve.gpu_index)
        over = next((p for p in points if p.kv_bytes > p.weights_bytes), None)
        self.crossover.setVisible(over is not None)
        if over is not None:
            self.crossover.setValue(math.log10(over.value))
        speeds = [p.tokens_per_s for p in points]
        known = [(p.value, s) for p, s in zip(points, speeds, strict=True) if s is not None]
        self.speed.setVisible(bool(known))
        if known:
            xs, ys = zip(*known, strict=True)
            self.speed_line.setData(np.array(xs, dtype=float), np.array(ys))
            speed_top = nice_ceiling(max(ys) * 1.1)
            if speed_top != self._speed_top:
                self._speed_top = speed_top
                self.speed.setYRange(0, speed_top, padding=0)

    def _write_note(self, a: Analysis, largest: int | None) -> None:
        unit = self.controller.unit
        parts = []
        if largest is not None:
            parts.append(f"Largest {self.axis} that fits: {largest:,}.")
        elif a.deployment.gpus and not a.limits_pending and a.estimate.fits is not None:
            parts.append(f"No {self.axis} fits.")
        if self.curve is not None and self.curve.points:
            last = self.curve.points[-1]
            parts.append(
                f"At {last.value:,}: {format_bytes(last.used_bytes, unit)} on GPU {self.curve.gpu_index}"
                + (f" of {format_bytes(last.limit_bytes, unit)}." if last.limit_bytes is not None else ".")
            )
        if not self.speed.isVisible():
            parts.append("Decode speed needs a GPU with a known memory bandwidth.")
        else:
            parts.append(f"Decode speed per sequence: {speed_note()}.")
        self.note.setText(" ".join(parts))

    def point_at(self, value: float) -> CurvePoint | None:
        """The sampled point nearest to a value of the axis (on the log scale)."""
        if self.curve is None or not self.curve.points or value <= 0:
            return None
        return min(self.curve.points, key=lambda p: abs(math.log(p.value) - math.log(value)))

    def _on_marker_moved(self) -> None:
        value = max(1, round(10 ** self.marker.value()))
        self.controller.set_workload(**{self.axis: value})
        self.controller.finish_limits()

    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        plot = self.memory if self.memory.sceneBoundingRect().contains(scene_pos) else self.speed
        if not plot.vb.sceneBoundingRect().contains(scene_pos):
            self.view.setToolTip("")
            return
        point = self.point_at(10 ** plot.vb.mapSceneToView(scene_pos).x())
        self.view.setToolTip(self.describe(point) if point is not None else "")

    def describe(self, point: CurvePoint) -> str:
        unit = self.controller.unit
        lines = [
            f"{self.axis} {point.value:,}: {format_bytes(point.used_bytes, unit)}"
            + (f" of {format_bytes(point.limit_bytes, unit)}" if point.limit_bytes is not None else ""),
            f"weights {format_bytes(point.weights_bytes, unit)} · KV cache {format_bytes(point.kv_bytes, unit)}"
            f" · activations + overhead {format_bytes(point.other_bytes, unit)}",
        ]
        if point.tokens_per_s is not None:
            lines.append(f"decode ≈ {point.tokens_per_s:,.0f} tokens/s per sequence (estimate)")
        return "\n".join(lines)
