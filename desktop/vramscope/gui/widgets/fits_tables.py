"""What fits: the chosen model at every weight format and KV dtype, and every preset at the format it needs.
Each table subscribes to the controller itself, recomputes only while shown and once the controls rest
(the limits are known) in a worker thread (a few hundred estimates), and sets the scenario when a row is
picked."""

from typing import Any

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QBrush, QColor, QPalette, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from vramscope.core.analysis import Analysis
from vramscope.core.precision import KV_DTYPES, weight_format
from vramscope.core.quality import quality_cost
from vramscope.core.solve import MIN_BITS
from vramscope.core.speed import speed_note
from vramscope.core.tables import FormatRow, ModelRow, format_table, model_table
from vramscope.core.units import Unit, format_bytes
from vramscope.gui.colors import verdict_colors
from vramscope.gui.controller import Controller
from vramscope.gui.qt_util import signals_blocked
from vramscope.gui.workers import Job
from vramscope.sources.presets import all_presets

VERDICT_ROLE = Qt.ItemDataRole.UserRole + 1  # "fits" or "no": the colour is the palette's, chosen when drawn


def _item(text: str, align_right: bool = False) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
    if align_right:
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return item


def _room(room: int | None, fits: bool | None, unit: Unit) -> tuple[str, str | None]:
    """The room left to grow (a preallocated pool's free part, else the headroom) or the shortfall."""
    if room is None or fits is None:
        return "—", None
    if fits:
        return f"✓ {format_bytes(max(room, 0), unit)} to grow", "fits"
    return f"✗ short by {format_bytes(-room, unit)}" if room < 0 else "✗ refused", "no"


def _speed(tokens_per_s: float | None) -> str:
    return f"{tokens_per_s:,.0f}" if tokens_per_s is not None else "—"


class _Table(QWidget):
    """A note above a read-only table whose rows set the scenario when picked."""

    HEADERS: tuple[str, ...] = ()

    def __init__(self, controller: Controller, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self._computed: object = None  # the key of what the table shows
        self.rows: list[Any] = []
        self.job: Job | None = None  # the computation under way
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.table = QTableWidget(0, len(self.HEADERS))
        self.table.setHorizontalHeaderLabels(list(self.HEADERS))
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)  # the name takes what is left
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.table.setToolTip("Click a row to look at that scenario")
        self.column = QVBoxLayout(self)
        self.column.setContentsMargins(0, 4, 0, 0)
        self.column.addWidget(self.note)
        self.column.addWidget(self.table, 1)
        self.table.cellClicked.connect(lambda row, _column: self.pick(row))
        self.table.itemActivated.connect(lambda item: self.pick(item.row()))
        controller.estimate_changed.connect(self.show_analysis)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.show_analysis(self.controller.result)  # hidden, it did not follow the controls

    def show_analysis(self, analysis: Analysis) -> None:
        if not self.isVisible() or analysis.limits_pending:
            return  # while dragging the bar moves; the table follows when the controls rest
        key = self.key(analysis)
        if key != self._computed:
            self._computed = key
            self.note.setText("Working it out…")
            job = Job(lambda: self.rows_for(analysis), "filling the what-fits table", self)
            job.job_finished.connect(lambda rows: self._on_job_finished(job, analysis, rows))
            job.job_failed.connect(self.note.setText)
            self.job = job.start()
        elif self.job is None:
            self.mark_current(analysis)

    def _on_job_finished(self, job: Job, analysis: Analysis, rows: list[Any]) -> None:
        if job is not self.job:
            return  # a later scenario's table is on its way
        self.job = None
        self.rows = rows
        with signals_blocked(self.table):
            self.table.setRowCount(len(rows))
            self.fill(analysis, rows)
        self.mark_current(self.controller.result)

    def key(self, analysis: Analysis) -> object:
        raise NotImplementedError

    def rows_for(self, analysis: Analysis) -> list[Any]:
        """The rows, computed in a worker thread: core calls only, no widget."""
        raise NotImplementedError

    def fill(self, analysis: Analysis, rows: list[Any]) -> None:
        raise NotImplementedError

    def is_current(self, row: Any, analysis: Analysis) -> bool:
        """Whether a row is the scenario on screen."""
        raise NotImplementedError

    def mark_current(self, analysis: Analysis) -> None:
        """Bold the row of the scenario on screen."""
        for i, r in enumerate(self.rows):
            current = self.is_current(r, analysis)
            for column in range(self.table.columnCount()):
                item = self.table.item(i, column)
                if item is not None and item.font().bold() != current:
                    font = item.font()
                    font.setBold(current)
                    item.setFont(font)

    def pick(self, row: int) -> None:
        raise NotImplementedError

    def _set_row(self, row: int, cells: list[QTableWidgetItem], verdict: str | None) -> None:
        for column, item in enumerate(cells):
            if verdict is not None and column == 3:
                item.setData(VERDICT_ROLE, verdict)
                item.setForeground(QBrush(self._verdict_color(verdict)))
            self.table.setItem(row, column, item)

    def _verdict_color(self, verdict: str) -> QColor:
        return QColor(verdict_colors(self.palette().color(QPalette.ColorRole.Base))[verdict])

    def changeEvent(self, event: QEvent) -> None:
        """A desktop that turns dark (or light) recolours the verdicts for the new background."""
        super().changeEvent(event)
        if event.type() != QEvent.Type.PaletteChange:
            return
        for row in range(self.table.rowCount()):
            item = self.table.item(row, 3)
            verdict = item.data(VERDICT_ROLE) if item is not None else None
            if item is not None and verdict:
                item.setForeground(QBrush(self._verdict_color(verdict)))


class FormatsTable(_Table):
    """The chosen model at every weight format and KV dtype the engine runs, from the most bits down."""

    HEADERS = ("Weights", "KV cache", "Memory", "Fits", "Largest context", "Decode tok/s")

    def __init__(self, controller: Controller, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        # the note's sweet spot: below 4 bits a smaller model at 4 does better, so those rows wait to be asked
        self.below_floor = QCheckBox(f"Also below {MIN_BITS:g} bits per weight")
        self.below_floor.setToolTip(
            "Below about 4 bits quality falls fast: a smaller model at 4 bits usually does better "
            "(perplexity per GGUF type in the Weights column)"
        )
        self.below_floor.toggled.connect(self._on_below_floor_toggled)
        self.column.insertWidget(1, self.below_floor)
        self.min_bits = MIN_BITS  # read by the worker that fills the table: a plain value, not the widget

    def _on_below_floor_toggled(self, on: bool) -> None:
        self.min_bits = 0.0 if on else MIN_BITS
        self.show_analysis(self.controller.result)

    def key(self, analysis: Analysis) -> object:
        a = analysis
        changed = {**a.workload.model_dump(), "weight_format": None, "kv_dtype": "auto"}
        return (a.model, tuple(sorted(changed.items())), a.deployment, self.controller.unit, self.min_bits)

    def rows_for(self, analysis: Analysis) -> list[FormatRow]:
        return format_table(analysis.model, analysis.workload, analysis.deployment, min_bits=self.min_bits)

    def fill(self, analysis: Analysis, rows: list[FormatRow]) -> None:
        a = analysis
        unit = self.controller.unit
        fitting = sum(1 for r in rows if r.fits)
        self.note.setText(
            f"{a.model.name} at context {a.workload.context:,}, batch {a.workload.batch}, on {a.engine_label}: "
            f"{fitting} of {len(rows)} format pairs fit. Decode: {speed_note()}."
        )
        for i, r in enumerate(rows):
            fmt = weight_format(r.weight_format)
            kv = "engine default" if r.kv_dtype == "auto" else KV_DTYPES[r.kv_dtype].label
            room, verdict = _room(r.room_bytes, r.fits, unit)
            cost = quality_cost(r.weight_format)
            name = _item(f"{fmt.label} (~{fmt.bits:g} bit)" + (f" · {cost.label()}" if cost else ""))
            if cost:
                name.setToolTip(f"Perplexity {cost.label()} against 16-bit weights: {cost.source}")
            cells = [
                name,
                _item(kv),
                _item(format_bytes(r.total_bytes, unit), True),
                _item(room),
                _item(f"{r.max_context:,}" if r.max_context else "—", True),
                _item(_speed(r.tokens_per_s), True),
            ]
            self._set_row(i, cells, verdict)

    def is_current(self, row: FormatRow, analysis: Analysis) -> bool:
        w = analysis.workload
        return row.weight_format == (w.weight_format or analysis.model.native_format) and row.kv_dtype == w.kv_dtype

    def pick(self, row: int) -> None:
        if 0 <= row < len(self.rows):
            r = self.rows[row]
            fmt = None if r.weight_format == self.controller.model.native_format else r.weight_format
            self.controller.apply({"weight_format": fmt, "kv_dtype": r.kv_dtype})


class ModelsTable(_Table):
    """Every preset that fits the GPUs at the context asked for, at the format with the most bits that fits,
    the largest first: a bigger model quantized beside a smaller one at full precision."""

    HEADERS = ("Model", "Parameters", "Format needed", "Fits", "Memory", "Decode tok/s")

    def key(self, analysis: Analysis) -> object:
        a = analysis
        w = a.workload
        return (w.context, w.batch, w.kv_dtype, a.deployment, self.controller.unit)

    def rows_for(self, analysis: Analysis) -> list[ModelRow]:
        return model_table(all_presets(), analysis.workload, analysis.deployment)

    def fill(self, analysis: Analysis, rows: list[ModelRow]) -> None:
        unit = self.controller.unit
        a = analysis
        self.note.setText(
            f"{len(rows)} of {len(all_presets())} presets fit at context {a.workload.context:,}, batch "
            f"{a.workload.batch} on {a.engine_label}, each at the format with the most bits that fits "
            "(presets trained for a shorter context are left out). "
            "Click one to look at it."
        )
        for i, r in enumerate(rows):
            fmt = weight_format(r.weight_format)
            own = " (its own)" if r.weight_format == r.model.native_format else ""
            room, verdict = _room(r.room_bytes, True, unit)  # only models that fit are listed
            billions = r.model.parameter_count() / 1e9
            cells = [
                _item(r.model.name),
                _item(f"{billions:,.1f} B", True),
                _item(f"{fmt.label}{own}"),
                _item(room),
                _item(format_bytes(r.total_bytes, unit), True),
                _item(_speed(r.tokens_per_s), True),
            ]
            self._set_row(i, cells, verdict)

    def is_current(self, row: ModelRow, analysis: Analysis) -> bool:
        return row.model.name == analysis.model.name

    def pick(self, row: int) -> None:
        if 0 <= row < len(self.rows):
            r = self.rows[row]
            self.controller.set_model(r.model)
            fmt = None if r.weight_format == r.model.native_format else r.weight_format
            self.controller.apply({"weight_format": fmt})
