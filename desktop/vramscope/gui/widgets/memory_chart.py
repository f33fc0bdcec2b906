"""One horizontal stacked bar per GPU against its capacity; items built once, geometry updated in place."""

import math
from typing import NamedTuple

import numpy as np
import pyqtgraph as pg  # type: ignore[import-untyped]
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QBrush, QColor, QFontMetrics, QPalette, QResizeEvent, QShowEvent
from PySide6.QtWidgets import QVBoxLayout, QWidget

from vramscope.core.analysis import Analysis
from vramscope.core.estimate import SEGMENT_LABELS, Segment, SegmentKind
from vramscope.core.units import UNIT_BYTES, Unit, format_bytes
from vramscope.gui.controller import Controller

KINDS = (
    SegmentKind.WEIGHTS,
    SegmentKind.KV_CACHE,
    SegmentKind.KV_RESERVED,
    SegmentKind.ACTIVATIONS,
    SegmentKind.OVERHEAD,
)
COLORS = {  # colour-blind-safe (Okabe-Ito); the free part of a KV pool is the KV colour, faded
    SegmentKind.WEIGHTS: (0, 114, 178),
    SegmentKind.KV_CACHE: (230, 159, 0),
    SegmentKind.KV_RESERVED: (230, 159, 0, 70),
    SegmentKind.ACTIVATIONS: (0, 158, 115),
    SegmentKind.OVERHEAD: (150, 150, 150),
}
BAR_HEIGHT = 0.6
TOTAL_LINE_PX = 22  # the total written above a bar, and a little air


HELD_COLOR = (90, 90, 110)
OVER_COLOR = (213, 0, 0)
KV_NEEDED_COLOR = (213, 94, 0)  # Okabe-Ito vermillion: the KV cache wanted beyond what the pool holds
SHORT_BAR_SHARE = 0.3  # a bar shorter than this share of the axis has its total written from its start
LABEL_MIN_SHARE = 0.06  # a segment narrower than this share of the axis carries no number: it would not fit


AXIS_WIDTH = 90  # px, the GPU labels' column at the least


class Row(NamedTuple):
    """One bar: a GPU (what others hold of it first, then the model), or the system memory an engine keeps
    part of the model in."""

    label: str
    segments: tuple[Segment, ...]
    capacity_bytes: int | None  # what the model may use
    held_bytes: int = 0  # drawn before the model: other processes and the driver's reserve
    held_note: str = ""
    kv_needed_bytes: int = 0  # a pooled engine's KV cache for the workload, drawn as an outline over its pool

    def bytes_of(self, kind: SegmentKind) -> int:
        return sum(s.bytes for s in self.segments if s.kind is kind)


def legend_above(plot: pg.PlotItem, columns: int) -> pg.LegendItem:
    """A legend in the plot's title row, above the plot: never over a bar or a curve, however small the
    window. Items are added to it by hand (the plot does not know it as its legend)."""
    legend = pg.LegendItem(colCount=columns)
    plot.layout.removeItem(plot.titleLabel)  # the charts have no title: its row holds the legend
    plot.titleLabel.hide()
    plot.layout.addItem(legend, 0, 1)
    return legend


def wrap_legend(legend: pg.LegendItem, width: float) -> None:
    """As many columns as the entries' widths allow in this width (entries fill it row by row): a narrow
    window wraps the legend, it does not widen the plot past the window."""
    entries = [sample.boundingRect().width() + label.preferredWidth() + 20 for sample, label in legend.items]

    def fits(columns: int) -> bool:
        return bool(sum(max(entries[c::columns]) for c in range(columns)) <= width)

    columns = next((n for n in range(len(entries), 1, -1) if fits(n)), 1)
    if columns != legend.columnCount:
        legend.setColumnCount(columns)


def chart_rows(a: Analysis) -> tuple[Row, ...]:
    """One bar per GPU (what other processes hold of it drawn first), then system memory if used."""
    est = a.estimate
    needed = est.engine_details.get("kv_needed_bytes")
    rows = []
    for g in est.per_gpu:
        spec = a.deployment.gpu(g.index)
        held = spec.held_bytes or 0 if spec is not None else 0
        kv = needed if isinstance(needed, int) and needed > g.bytes_of(SegmentKind.KV_CACHE) else 0
        label = f"GPU {spec.device}" if spec is not None and (spec.device or "").isdigit() else f"GPU {g.index}"
        deployment = a.deployment
        if deployment.nodes > 1:  # the bars grouped by the machine they are on
            label = f"node {deployment.node_of(g.index)} · {label}"
        if deployment.data_parallel > 1:
            label += f" · DP {g.index // deployment.replica_size}"
        rows.append(Row(label, g.segments, g.capacity_bytes, held, spec.held_note if spec else "", kv))
    if est.host_need_bytes:  # the engine keeps a part on the host, or a unified-memory GPU takes it
        rows.append(host_row(a))
    return tuple(rows)


def host_row(a: Analysis) -> Row:
    """System memory against its own capacity: what other programs hold and what a unified-memory GPU takes
    of the same RAM first, hatched, then the engine's host part."""
    est, host = a.estimate, a.deployment.host
    shared = est.host_need_bytes - est.host_bytes
    if host is None:
        return Row("RAM", est.host, None)
    others = host.total_bytes - host.capacity_bytes if host.total_bytes is not None else 0
    notes = [f"other programs {format_bytes(others)}"] if others else []
    if shared:
        notes.append(f"the GPU's {format_bytes(shared)} of the same memory")
    return Row("RAM", est.host, host.capacity_bytes - shared, others + shared, "; ".join(notes))


def hit_test(rows: tuple[Row, ...], x_bytes: float, y: float) -> tuple[Row, SegmentKind | None] | None:
    """The bar and segment kind under a point (x in bytes, y in bar rows); kind None is what others hold."""
    index = round(y)
    if not 0 <= index < len(rows) or abs(y - index) > BAR_HEIGHT / 2 or x_bytes < 0:
        return None
    row = rows[index]
    if x_bytes < row.held_bytes:
        return row, None
    left = row.held_bytes
    for kind in KINDS:
        left += row.bytes_of(kind)
        if x_bytes < left:
            return row, kind
    return None


def nice_ceiling(value: float) -> float:
    """Round up to 1, 2 or 5 x 10^k so the axis only moves in steps while dragging."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    return float(next(m * power for m in (1, 1.5, 2, 3, 4, 5, 6, 8, 10) if m * power >= value))


def _place(label: pg.TextItem, text: str, anchor: tuple[float, float], pos: tuple[float, float]) -> None:
    """Set a label's text, anchor and place, touching only what changed: text layout is the costly part."""
    if label.toPlainText() != text:
        label.setText(text)
    if tuple(label.anchor) != anchor:
        label.setAnchor(anchor)
    if (label.pos().x(), label.pos().y()) != pos:
        label.setPos(*pos)


class MemoryChart(QWidget):
    """Subscribes to the controller itself: the live scenario's bars, a pinned one's below them."""

    def __init__(self, controller: Controller, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.plot = pg.PlotWidget(background=None)
        self.plot.setAccessibleName("Memory chart")
        self.plot.setToolTip("Memory per GPU; hover a segment for its exact bytes and where the number comes from")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot)
        item = self.plot.getPlotItem()
        self.item = item
        item.getAxis("bottom").enableAutoSIPrefix(False)
        item.setMouseEnabled(x=False, y=False)
        item.setMenuEnabled(False)
        item.hideButtons()
        item.invertY(True)
        item.getAxis("left").setWidth(AXIS_WIDTH)  # room for "Pinned GPU 12" before any tick is known
        self.legend = legend_above(item, columns=5)
        self.held = pg.BarGraphItem(
            x0=[],
            y=[],
            width=[],
            height=BAR_HEIGHT,
            brush=QBrush(QColor(*HELD_COLOR), Qt.BrushStyle.BDiagPattern),  # hatched: not the model's
            pen=pg.mkPen(HELD_COLOR),
            name="Held by others",
        )
        item.addItem(self.held)
        self.bars = {}
        for kind in KINDS:
            bar = pg.BarGraphItem(
                x0=[],
                y=[],
                width=[],
                height=BAR_HEIGHT,
                brush=pg.mkBrush(*COLORS[kind]),
                pen=pg.mkPen(COLORS[SegmentKind.KV_CACHE]) if kind is SegmentKind.KV_RESERVED else pg.mkPen(None),
                name=SEGMENT_LABELS[kind],
            )
            item.addItem(bar)
            self.bars[kind] = bar
        self.overflow = pg.BarGraphItem(  # hatched over the segments: their colours stay readable
            x0=[],
            y=[],
            width=[],
            height=BAR_HEIGHT + 0.12,
            brush=QBrush(QColor(*OVER_COLOR), Qt.BrushStyle.DiagCrossPattern),
            pen=pg.mkPen(OVER_COLOR, width=2),
            name="Over capacity",
        )
        item.addItem(self.overflow)
        self.kv_needed = pg.BarGraphItem(  # what the workload's KV cache needs, over the pool that is left
            x0=[],
            y=[],
            width=[],
            height=BAR_HEIGHT + 0.2,
            brush=pg.mkBrush(None),
            pen=pg.mkPen(KV_NEEDED_COLOR, width=2, style=Qt.PenStyle.DashLine),
            name="KV cache needed",
        )
        item.addItem(self.kv_needed)
        self.capacity_line = pg.PlotDataItem(
            [], [], connect="pairs", pen=pg.mkPen((213, 0, 0), width=3), name="Capacity"
        )
        item.addItem(self.capacity_line)
        self.legend_items = [self.held, *self.bars.values(), self.kv_needed, self.overflow, self.capacity_line]
        self._legend_shown: tuple[bool, ...] = ()
        self.labels: dict[tuple[int, SegmentKind | None], pg.TextItem] = {}  # numbers on the bars, made once
        self._stale = False  # a change came while another tab was in front
        self.gpus: tuple[Row, ...] = ()  # the bars drawn, GPUs first
        self.reported: Row | None = None  # an engine log's GPU 0, drawn last beside the prediction
        self.pinned: tuple[Row, ...] = ()  # a pinned scenario's bars, below the live ones
        self.unit = Unit.GIB
        self.x_max = 0.0
        self._ticks: list[tuple[float, str]] = []
        self._y_range = (0.0, 0.0)
        self._label_unit: Unit | None = None
        self._apply_palette()
        self._proxy = pg.SignalProxy(
            self.plot.scene().sigMouseMoved, rateLimit=60, slot=lambda args: self._on_mouse_moved(args[0])
        )
        controller.estimate_changed.connect(self.show_analysis)
        controller.pinned_changed.connect(self._on_controller_pinned_changed)
        self._on_controller_pinned_changed(controller.pinned)

    def show_analysis(self, analysis: Analysis) -> None:
        if not self.isVisibleTo(self.window()):  # another tab is in front: redraw when this one comes back
            self._stale = True
            return
        self._stale = False
        self._draw(analysis)

    def redraw(self) -> None:
        """Draw the scenario shown now, in front or not (an export needs it)."""
        self._stale = False
        self._draw(self.controller.result)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self.redraw()

    def _on_controller_pinned_changed(self, pinned: Analysis | None) -> None:
        """A pinned scenario's bars go below the live ones; None takes them away."""
        rows = chart_rows(pinned) if pinned is not None else ()
        self.pinned = tuple(r._replace(label=f"Pinned {r.label}") for r in rows)
        self.redraw()

    def _apply_palette(self) -> None:
        """Axes and legend text in the palette's text colour, so light and dark themes both read; the
        background is set, not left transparent: the view caches it, and a cached light one stays."""
        text = self.palette().color(QPalette.ColorRole.WindowText)
        self.plot.setBackground(self.palette().color(QPalette.ColorRole.Window))
        for name in ("left", "bottom"):
            axis = self.item.getAxis(name)
            axis.setPen(pg.mkPen(text))
            axis.setTextPen(pg.mkPen(text))
        self.legend.setLabelTextColor(text)
        for key, label in self.labels.items():
            if key[1] is None:  # a bar's total, written beside it on the window's background
                label.setColor(text)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        wrap_legend(self.legend, self.width() - self.item.getAxis("left").width())
        self._fit_y_range()

    def _fit_y_range(self) -> None:
        """Room above the first bar for the legend and that bar's total, however many bars share the height:
        with eight GPUs a fixed margin left the legend over GPU 0's total."""
        n = max(1, len(self.gpus))
        height = self.item.getViewBox().height()
        reserve = TOTAL_LINE_PX  # pixels above the first bar: its total (the legend is outside the plot)
        bottom = n - 0.4
        top = -0.9
        if height > 2 * reserve:  # solve (-top - bar/2) units = reserve px at (bottom - top) units per height
            top = min(top, -(BAR_HEIGHT / 2 * height + reserve * bottom) / (height - reserve))
        wanted = (round(top, 2), bottom)
        if wanted != self._y_range:  # axes repaint from scratch: only when the range really moves
            self._y_range = wanted
            self.item.setYRange(*wanted, padding=0)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_palette()

    def _draw(self, a: Analysis) -> None:
        """The bars of a scenario, then a pinned one's and an engine log's; geometry updated in place."""
        unit = self.controller.unit
        rows_shown = chart_rows(a) + self.pinned + ((self.reported,) if self.reported is not None else ())
        self.gpus, self.unit = rows_shown, unit
        scale = UNIT_BYTES[unit]
        n = len(rows_shown)
        rows = np.arange(n, dtype=float)
        held = np.array([r.held_bytes / scale for r in rows_shown])
        self.held.setOpts(x0=np.zeros(n), y=rows, width=held)
        left = held.copy()
        for kind in KINDS:
            width = np.array([r.bytes_of(kind) / scale for r in rows_shown])
            self.bars[kind].setOpts(x0=left.copy(), y=rows, width=width)
            left += width
        caps = np.array([(r.capacity_bytes or 0) / scale for r in rows_shown])
        ends = held + caps  # the GPU's end: what others hold plus what the model may use
        over = np.clip(left - ends, 0, None) * (caps > 0)
        spilled = over > 0  # only bars past their capacity: a zero-width box would still draw its outline
        self.overflow.setOpts(x0=ends[spilled], y=rows[spilled], width=over[spilled])
        needed = np.array([r.kv_needed_bytes / scale for r in rows_shown])
        wanted = needed > 0
        kv_start = held + np.array([r.bytes_of(SegmentKind.WEIGHTS) / scale for r in rows_shown])
        self.kv_needed.setOpts(x0=kv_start[wanted], y=rows[wanted], width=needed[wanted])
        half = BAR_HEIGHT / 2 + 0.1
        ys = np.column_stack([rows - half, rows + half]).ravel()
        known = caps > 0
        self.capacity_line.setData(np.repeat(ends[known], 2), ys.reshape(n, 2)[known].ravel())
        need = max(float(left.max(initial=0)), float(ends.max(initial=0)), float((kv_start + needed).max(initial=0)))
        # Axes are repainted from scratch whenever touched: only touch them when they really change.
        x_max = nice_ceiling(need * 1.08)
        if x_max != self.x_max:
            self.x_max = x_max
            self.item.setXRange(0, x_max, padding=0)
        self._write_numbers(rows_shown, held, scale)
        self._show_legend(bool(held.any()), bool(wanted.any()), bool(spilled.any()), bool(known.any()), rows_shown)
        ticks = [(float(i), r.label) for i, r in enumerate(rows_shown)]
        if ticks != self._ticks:
            self._ticks = ticks
            axis = self.item.getAxis("left")
            axis.setTicks([ticks])
            # wide enough for the longest label ("node 1 · GPU 15 · DP 3"): a tick text that overflows is dropped
            metrics = QFontMetrics(axis.style.get("tickFont") or axis.font())
            widest = max((metrics.horizontalAdvance(label) for _, label in ticks), default=0)
            axis.setWidth(max(AXIS_WIDTH, widest + 16))
        self._fit_y_range()
        if unit is not self._label_unit:
            self._label_unit = unit
            self.item.setLabel("bottom", f"Memory ({unit.value})")

    def _show_legend(self, held: bool, needed: bool, spilled: bool, capacity: bool, rows: tuple[Row, ...]) -> None:
        """Name only what is drawn, so the legend stays one or two lines above the bars."""
        present = {kind: any(r.bytes_of(kind) for r in rows) for kind in KINDS}
        shown = (held, *present.values(), needed, spilled, capacity)
        if shown == self._legend_shown:
            return
        self._legend_shown = shown
        self.legend.clear()
        for item, on in zip(self.legend_items, shown, strict=True):
            if on:
                self.legend.addItem(item, item.opts.get("name") or item.name())
        for sample, _ in self.legend.items:  # a legend click must not hide a segment
            sample.mouseClickEvent = lambda ev: ev.accept()
        self._apply_palette()
        wrap_legend(self.legend, self.width() - self.item.getAxis("left").width())

    def _label(self, key: tuple[int, SegmentKind | None], anchor: tuple[float, float]) -> pg.TextItem:
        label = self.labels.get(key)
        if label is None:
            color = self.palette().color(QPalette.ColorRole.WindowText) if key[1] is None else QColor("white")
            label = pg.TextItem(anchor=anchor, color=color)
            self.item.addItem(label)
            self.labels[key] = label
        return label

    def _write_numbers(self, rows: tuple[Row, ...], held: np.ndarray, scale: float) -> None:
        """Each wide enough segment carries its size; each bar ends with its total against its capacity."""
        used: set[tuple[int, SegmentKind | None]] = set()
        for i, row in enumerate(rows):
            left = float(held[i])
            for kind in KINDS:
                width = row.bytes_of(kind) / scale
                if kind is not SegmentKind.KV_RESERVED and width >= LABEL_MIN_SHARE * self.x_max:
                    label = self._label((i, kind), (0.5, 0.5))
                    _place(label, f"{width:,.1f}", (0.5, 0.5), (left + width / 2, i))
                    used.add((i, kind))
                left += width
            total = sum(s.bytes for s in row.segments)
            text = format_bytes(total, self.unit)
            if row.capacity_bytes:
                text += f" / {format_bytes(row.capacity_bytes, self.unit)}"
            end = self._label((i, None), (1.0, 1.0))
            if left < SHORT_BAR_SHARE * self.x_max:  # a short bar: start where it starts, or the text runs off
                _place(end, text, (0.0, 1.0), (float(held[i]), i - BAR_HEIGHT / 2))
            else:  # above the bar, ending where it ends
                _place(end, text, (1.0, 1.0), (left, i - BAR_HEIGHT / 2))
            used.add((i, None))
        for key, label in self.labels.items():
            label.setVisible(key in used)

    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        if not self.item.vb.sceneBoundingRect().contains(scene_pos):
            self.plot.setToolTip("")
            return
        point = self.item.vb.mapSceneToView(scene_pos)
        self.plot.setToolTip(self.tooltip_at(point.x() * UNIT_BYTES[self.unit], point.y()))

    def set_reported(self, segments: tuple[Segment, ...] | None) -> None:
        """Draw what an engine's log reported for its GPU 0 as a bar of its own (redrawn with the next
        estimate); None takes it away."""
        self.reported = Row("Log", segments, None) if segments else None

    def tooltip_at(self, x_bytes: float, y: float) -> str:
        hit = hit_test(self.gpus, x_bytes, y)
        if hit is None:
            return ""
        row, kind = hit
        if kind is None:
            size = row.held_bytes
            return f"{row.label} · held by others: {size:,} bytes = {format_bytes(size, Unit.GIB)}\n{row.held_note}"
        size = row.bytes_of(kind)
        lines = [
            f"{row.label} · {SEGMENT_LABELS[kind]}: {size:,} bytes = "
            f"{format_bytes(size, Unit.GIB)} = {format_bytes(size, Unit.GB)}"
        ]
        parts = [s for s in row.segments if s.kind is kind]
        for seg in parts:
            title = f"{seg.title} {format_bytes(seg.bytes, Unit.GIB)}, " if len(parts) > 1 else ""
            lines.append(f"{title}{seg.provenance.value}: {seg.note}")
        if row.kv_needed_bytes and kind in (SegmentKind.KV_CACHE, SegmentKind.KV_RESERVED):
            pool = row.bytes_of(SegmentKind.KV_CACHE) + row.bytes_of(SegmentKind.KV_RESERVED)
            lines.append(
                f"The workload needs {format_bytes(row.kv_needed_bytes, Unit.GIB)} of KV cache (the dashed outline); "
                f"the pool left after weights and activations holds {format_bytes(pool, Unit.GIB)}"
            )
        return "\n".join(lines)
