"""Small chart widgets over pyqtgraph. Nothing outside this package sees pyqtgraph.

Each widget takes plain Python data (labels, values, colours, tooltip text and a
payload per bar), shows hover tooltips with exact values and emits ``clicked``
with the payload of the bar, day or row under a click. Clicks and hovers go
through one method per widget (``click_at`` / ``tooltip_at``, in data
coordinates), which the pyqtgraph scene signals call and tests may call too.

Axis labels are drawn by pyqtgraph with ``QPainter.drawText``, which never
interprets markup; tooltips are rich text built by the callers with every report
field escaped.
"""

from __future__ import annotations

import bisect
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import PySide6  # noqa: F401  (PySide6 must be imported before pyqtgraph)
from PySide6.QtCore import QLocale, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QCursor, QFont, QFontMetrics
from PySide6.QtWidgets import QToolTip, QVBoxLayout, QWidget

os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")
import numpy as np
import pyqtgraph as pg

from tlsrpt_gui.ui.formatting import format_int
from tlsrpt_gui.ui.palette import ChartPalette, current_palette

SECONDS_PER_DAY = 86400
LABEL_WIDTH = 190  # px for the category axis of horizontal bar charts
ROW_HEIGHT = 24  # px per bar of a horizontal bar chart

_configured = False


def configure_pyqtgraph() -> None:
    """Global pyqtgraph options, set once."""
    global _configured
    if not _configured:
        pg.setConfigOptions(antialias=True, useNumba=False)
        _configured = True


def elide(text: str, width: int, font: QFont | None = None) -> str:
    """``text`` shortened with … to fit ``width`` pixels."""
    metrics = QFontMetrics(font or QFont())
    return metrics.elidedText(text, Qt.TextElideMode.ElideMiddle, width)


class _CountAxis(pg.AxisItem):  # type: ignore[misc]
    """Whole numbers with thousands separators, no SI prefixes."""

    def __init__(self, orientation: str, percent: bool = False) -> None:
        super().__init__(orientation)
        self.enableAutoSIPrefix(False)
        self._percent = percent

    def tickStrings(self, values: Sequence[float], scale: float, spacing: float) -> list[str]:
        out = []
        locale = QLocale()  # as the user's locale writes numbers, like the tables
        for v in values:
            whole = abs(v - round(v)) < 1e-9
            if self._percent:
                out.append(locale.toString(float(v), "f", 0 if whole else 1) + " %")
            elif spacing >= 1 and whole:
                out.append(format_int(round(v)))  # (also past 64 bits: absurd counts, summed)
            else:
                out.append(locale.toString(float(v), "f", 1))
        return out


class _ChartBase(QWidget):
    """A pyqtgraph PlotWidget with our palette, no pan/zoom menu, and hover/click hooks."""

    clicked = Signal(object)

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        bottom: pg.AxisItem | None = None,
        left: pg.AxisItem | None = None,
        right: pg.AxisItem | None = None,
    ) -> None:
        super().__init__(parent)
        configure_pyqtgraph()
        self.palette_: ChartPalette = current_palette()
        # Every axis without SI prefixes (ours show none: no units): with them, each
        # change of an axis's range set its label's HTML again, hidden or not, some
        # 500 times for nine charts opened (a tenth of the tab's first paint).
        # (An axis passed is shown: only those given are.)
        axes = {}
        for name, axis in (("bottom", bottom), ("left", left), ("right", right)):
            if axis is not None:
                axis.enableAutoSIPrefix(False)
                axes[name] = axis
        # no context menus (and none built: a view box menu is a tenth of a chart's set-up)
        self.plot_widget = pg.PlotWidget(parent=self, axisItems=axes, enableMenu=False)
        self.plot = self.plot_widget.getPlotItem()
        self.view = self.plot.getViewBox()
        for name in ("top", "right", "left", "bottom"):
            if name not in axes:  # (pyqtgraph's own)
                self.plot.getAxis(name).enableAutoSIPrefix(False)
        self.plot.hideButtons()
        self.view.setMouseEnabled(x=False, y=False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot_widget)
        scene = self.plot_widget.scene()
        scene.sigMouseMoved.connect(self._on_mouse_moved)
        scene.sigMouseClicked.connect(self._on_mouse_clicked)
        self.apply_palette(self.palette_)

    # -- theme

    def apply_palette(self, palette: ChartPalette) -> None:
        self.palette_ = palette
        self.plot_widget.setBackground(palette.card)
        for name in ("left", "bottom", "right"):
            axis = self.plot.getAxis(name)
            axis.setPen(pg.mkPen(palette.grid))
            axis.setTextPen(pg.mkPen(palette.foreground))
        self.redraw()

    def redraw(self) -> None:  # pragma: no cover - overridden
        pass

    # -- mouse

    def map_to_widget(self, x: float, y: float) -> QPointF:
        """A data point in the coordinates of the plot widget's viewport (for tests)."""
        scene_pt = self.view.mapViewToScene(QPointF(x, y))
        return QPointF(self.plot_widget.mapFromScene(scene_pt))

    def _view_point(self, scene_pos: QPointF) -> QPointF | None:
        if not self.view.sceneBoundingRect().contains(scene_pos):
            return None
        return QPointF(self.view.mapSceneToView(scene_pos))

    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        pt = self._view_point(scene_pos)
        text = None if pt is None else self.tooltip_at(pt.x(), pt.y())
        if text:
            QToolTip.showText(QCursor.pos(), text, self.plot_widget)
        else:
            QToolTip.hideText()

    def _on_mouse_clicked(self, event: Any) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        pt = self._view_point(event.scenePos())
        if pt is not None:
            self.click_at(pt.x(), pt.y())

    def click_at(self, x: float, y: float) -> object | None:
        """Handle a click at data point (x, y): emit and return the payload hit, if any."""
        payload = self.payload_at(x, y)
        if payload is not None:
            self.clicked.emit(payload)
        return payload

    def payload_at(self, x: float, y: float) -> object | None:  # pragma: no cover - overridden
        return None

    def tooltip_at(self, x: float, y: float) -> str | None:  # pragma: no cover - overridden
        return None


# --------------------------------------------------------------------------- horizontal bars


@dataclass(slots=True)
class Segment:
    value: float
    colour: QColor
    tooltip: str = ""
    payload: object | None = None


@dataclass(slots=True)
class BarRow:
    """One bar (a stack of segments) of a horizontal bar chart."""

    label: str
    segments: list[Segment] = field(default_factory=list)
    tooltip: str = ""
    payload: object | None = None

    @property
    def total(self) -> float:
        return sum(s.value for s in self.segments)


class HBarChart(_ChartBase):
    """Horizontal (stacked) bars, first row at the top, labels on the left."""

    def __init__(self, parent: QWidget | None = None, *, percent: bool = False) -> None:
        self._rows: list[BarRow] = []
        self._items: list[pg.GraphicsObject] = []
        self._percent = percent
        super().__init__(parent, bottom=_CountAxis("bottom", percent=percent))
        self.plot.showGrid(x=True, y=False, alpha=0.25)
        self.plot.getAxis("left").setWidth(LABEL_WIDTH)

    @property
    def rows(self) -> list[BarRow]:
        return list(self._rows)

    def set_rows(self, rows: Sequence[BarRow]) -> None:
        self._rows = list(rows)
        self.setMinimumHeight(max(140, ROW_HEIGHT * len(self._rows) + 56))
        self.redraw()

    def _y(self, index: int) -> float:
        return float(len(self._rows) - 1 - index)

    def redraw(self) -> None:
        for item in self._items:
            self.plot.removeItem(item)
        self._items = []
        n = len(self._rows)
        if n == 0:
            return
        x0: list[float] = []
        ys: list[float] = []
        widths: list[float] = []
        brushes: list[Any] = []
        for i, row in enumerate(self._rows):
            start = 0.0
            for seg in row.segments:
                if seg.value <= 0:
                    continue
                x0.append(start)
                ys.append(self._y(i))
                widths.append(seg.value)
                brushes.append(pg.mkBrush(seg.colour))
                start += seg.value
        if widths:
            bars = pg.BarGraphItem(
                x0=x0,
                y=ys,
                height=0.68,
                width=widths,
                brushes=brushes,
                pen=pg.mkPen(self.palette_.card, width=1),
            )
            self.plot.addItem(bars)
            self._items.append(bars)
        font = self.plot.getAxis("left").style.get("tickFont") or QFont()
        ticks = [
            (self._y(i), elide(row.label, LABEL_WIDTH - 14, font))
            for i, row in enumerate(self._rows)
        ]
        self.plot.getAxis("left").setTicks([ticks, []])
        top = max((r.total for r in self._rows), default=0.0)
        xmax = 100.0 if self._percent else max(1.0, top * 1.04)
        self.view.setRange(xRange=(0, xmax), yRange=(-0.6, n - 0.4), padding=0)

    def _hit(self, x: float, y: float) -> tuple[BarRow, Segment | None] | None:
        index = len(self._rows) - 1 - round(y)
        if not (0 <= index < len(self._rows)) or abs(y - round(y)) > 0.4:
            return None
        row = self._rows[index]
        start = 0.0
        for seg in row.segments:
            if seg.value > 0 and start <= x <= start + seg.value:
                return row, seg
            start += max(0.0, seg.value)
        return row, None

    def payload_at(self, x: float, y: float) -> object | None:
        hit = self._hit(x, y)
        if hit is None:
            return None
        row, seg = hit
        if seg is not None and seg.payload is not None:
            return seg.payload
        return row.payload

    def tooltip_at(self, x: float, y: float) -> str | None:
        hit = self._hit(x, y)
        if hit is None:
            return None
        row, seg = hit
        if seg is not None and seg.tooltip:
            return seg.tooltip
        return row.tooltip or None


# --------------------------------------------------------------------------- days


@dataclass(slots=True)
class DaySeries:
    """One stacked series of a day chart: a value per day of the chart's ``days``."""

    name: str
    colour: QColor
    values: Sequence[float]
    payload: object | None = None


class DayBarChart(_ChartBase):
    """Stacked bars per UTC day on a date axis, optionally a rate (0–1) line on a right axis."""

    def __init__(self, parent: QWidget | None = None, *, rate_label: str = "") -> None:
        self._days: list[int] = []
        self._series: list[DaySeries] = []
        self._rate: list[float | None] | None = None
        self._tooltip: Callable[[int], str] | None = None
        self._items: list[pg.GraphicsObject] = []
        self._rate_items: list[pg.GraphicsObject] = []
        self.rate_view: pg.ViewBox | None = None
        right = _CountAxis("right", percent=True) if rate_label else None
        super().__init__(
            parent,
            bottom=pg.DateAxisItem(orientation="bottom", utcOffset=0),
            left=_CountAxis("left"),
            right=right,
        )
        self.plot.showGrid(x=False, y=True, alpha=0.25)
        self.view.setMouseEnabled(x=True, y=False)  # zoom and pan along time
        if right is not None:
            self.plot.showAxis("right")
            self.rate_view = pg.ViewBox(enableMenu=False)
            self.rate_view.setMouseEnabled(x=False, y=False)
            self.plot.scene().addItem(self.rate_view)
            # over the bars, not under them (its own view box, beside the plot's in the
            # scene); clicks and hovers are read from the scene, so it takes none of them
            self.rate_view.setZValue(self.plot.zValue() + 10)
            right.linkToView(self.rate_view)
            right.setLabel(rate_label)
            self.rate_view.setXLink(self.view)
            self.view.sigResized.connect(self._sync_rate_view)
            self.apply_palette(self.palette_)

    def _sync_rate_view(self) -> None:
        if self.rate_view is not None:
            self.rate_view.setGeometry(self.view.sceneBoundingRect())
            self.rate_view.linkedViewChanged(self.view, self.rate_view.XAxis)

    def set_data(
        self,
        days: Sequence[int],
        series: Sequence[DaySeries],
        *,
        rate: Sequence[float | None] | None = None,
        tooltip: Callable[[int], str] | None = None,
    ) -> None:
        """``tooltip(i)`` gives the tooltip of day ``i``; it is called on hover, so a
        year of days does not build hundreds of tooltips nobody reads."""
        self._days = list(days)
        self._series = list(series)
        self._rate = list(rate) if rate is not None else None
        self._tooltip = tooltip
        self.redraw()

    @property
    def days(self) -> list[int]:
        return list(self._days)

    def redraw(self) -> None:
        for item in self._items:
            self.plot.removeItem(item)
        self._items = []
        if self.rate_view is not None:
            for item in self._rate_items:
                self.rate_view.removeItem(item)
        self._rate_items = []
        if not self._days:
            return
        xs = np.array([d * SECONDS_PER_DAY + SECONDS_PER_DAY / 2 for d in self._days], dtype=float)
        span_days = self._days[-1] - self._days[0] + 1
        # Sparse days over a long span get wider bars, so that each stays visible.
        # ... but never wider than the nearest neighbour, or bars would overlap.
        gaps = np.diff(np.asarray(self._days, dtype=float))
        nearest = float(gaps.min()) if len(gaps) else 30.0
        self._bar_days = max(0.82, min(span_days * 0.006, 30.0, nearest * 0.9))
        base = np.zeros(len(self._days))
        for s in self._series:
            vals = np.asarray(s.values, dtype=float)
            bars = pg.BarGraphItem(x=xs, y0=base.copy(), height=vals,
                                   width=SECONDS_PER_DAY * self._bar_days,
                                   brush=pg.mkBrush(s.colour), pen=pg.mkPen(None))
            self.plot.addItem(bars)
            self._items.append(bars)
            base = base + vals
        pad = max(1.0, span_days * 0.02) * SECONDS_PER_DAY
        x_range = (self._days[0] * SECONDS_PER_DAY - pad, (self._days[-1] + 1) * SECONDS_PER_DAY + pad)
        top = float(base.max()) if len(base) else 1.0
        self.view.setLimits(xMin=x_range[0] - 30 * SECONDS_PER_DAY,
                            xMax=x_range[1] + 30 * SECONDS_PER_DAY)
        self.view.setRange(xRange=x_range, yRange=(0, max(1.0, top * 1.08)), padding=0)
        if self.rate_view is not None and self._rate is not None:
            self._draw_rate(xs)

    def _draw_rate(self, xs: Any) -> None:
        """The rate line, broken where days are missing (no line across a gap)."""
        assert self.rate_view is not None and self._rate is not None
        line_x: list[float] = []
        line_y: list[float] = []
        for i, (x, r) in enumerate(zip(xs, self._rate, strict=True)):
            if i and self._days[i] - self._days[i - 1] > 1:
                line_x.append(float(x) - SECONDS_PER_DAY)
                line_y.append(np.nan)
            line_x.append(float(x))
            line_y.append(np.nan if r is None else r * 100)
        ys = np.array(line_y, dtype=float)
        sparse = len(xs) <= 90 or (self._days[-1] - self._days[0] + 1) > 2 * len(xs)
        line = pg.PlotDataItem(np.array(line_x), ys, connect="finite",
                               pen=pg.mkPen(self.palette_.rate, width=2),
                               symbol="o" if sparse else None, symbolSize=6,
                               symbolBrush=pg.mkBrush(self.palette_.rate), symbolPen=None)
        self.rate_view.addItem(line)
        self._rate_items.append(line)
        finite = ys[np.isfinite(ys)]
        low = float(finite.min()) if len(finite) else 0.0
        # (a little room above 100 % and below the lowest point, so their dots show whole)
        self.rate_view.setYRange(max(0.0, math.floor(low / 5) * 5 - 5) - 1.5, 101.5, padding=0)
        self._sync_rate_view()

    def day_index(self, x: float) -> int | None:
        """The index of the day whose bar is at ``x`` (bars may be wider than a day)."""
        if not self._days:
            return None
        half = max(0.5, getattr(self, "_bar_days", 0.82) / 2) * SECONDS_PER_DAY
        best: int | None = None
        best_dist = half
        lo = bisect.bisect_left(self._days, math.floor((x - half) / SECONDS_PER_DAY))
        for i in range(lo, len(self._days)):
            centre = self._days[i] * SECONDS_PER_DAY + SECONDS_PER_DAY / 2
            if centre - x > half:
                break
            dist = abs(centre - x)
            if dist <= best_dist:
                best, best_dist = i, dist
        return best

    def _hit(self, x: float, y: float) -> tuple[int, DaySeries | None] | None:
        i = self.day_index(x)
        if i is None:
            return None
        start = 0.0
        for s in self._series:
            v = float(s.values[i])
            if v > 0 and start <= y <= start + v:
                return i, s
            start += v
        return i, None

    def payload_at(self, x: float, y: float) -> object | None:
        hit = self._hit(x, y)
        if hit is None:
            return None
        i, s = hit
        return (self._days[i], None if s is None else s.payload)

    def tooltip_at(self, x: float, y: float) -> str | None:
        i = self.day_index(x)
        if i is None or i >= len(self._days) or self._tooltip is None:
            return None
        return self._tooltip(i)


# --------------------------------------------------------------------------- calendar strip


@dataclass(slots=True)
class StripRow:
    label: str
    #: day -> state: "reported", "missing" (other days of the window are "outside")
    states: dict[int, str]
    tooltip_head: str = ""
    payload: object | None = None


class CalendarStrip(_ChartBase):
    """One row of day cells per series (a heat map): reported, missing or outside."""

    def __init__(self, parent: QWidget | None = None) -> None:
        self._rows: list[StripRow] = []
        self._first = 0
        self._last = -1
        self._image: pg.ImageItem | None = None
        super().__init__(parent, bottom=pg.DateAxisItem(orientation="bottom", utcOffset=0))
        self.plot.getAxis("left").setWidth(LABEL_WIDTH + 60)

    def set_rows(self, rows: Sequence[StripRow], first_day: int, last_day: int) -> None:
        self._rows = list(rows)
        self._first, self._last = first_day, last_day
        self.setMinimumHeight(max(120, 20 * len(self._rows) + 50))
        self.redraw()

    def redraw(self) -> None:
        if self._image is not None:
            self.plot.removeItem(self._image)
            self._image = None
        n = len(self._rows)
        if n == 0 or self._last < self._first:
            return
        width = self._last - self._first + 1
        colours = {
            "reported": QColor(self.palette_.reported),
            "missing": QColor(self.palette_.missing),
            "outside": QColor(self.palette_.outside),
        }
        # one small code per cell (0 outside), then one lookup into the colours
        lut = np.array([(c.red(), c.green(), c.blue(), 255)
                        for c in (colours["outside"], colours["reported"], colours["missing"])], dtype=np.uint8)
        cells = np.zeros((width, n), dtype=np.uint8)  # column-major: [x, y]
        for i, row in enumerate(self._rows):
            if not row.states:
                continue
            x = np.fromiter(row.states, dtype=np.int64, count=len(row.states)) - self._first
            states = np.array(list(row.states.values()))
            code = np.where(states == "reported", 1, np.where(states == "missing", 2, 0)).astype(np.uint8)
            inside = (x >= 0) & (x < width)
            cells[x[inside], n - 1 - i] = code[inside]
        img = lut[cells]
        self._image = pg.ImageItem(img, axisOrder="col-major")
        self._image.setRect(QRectF(self._first * SECONDS_PER_DAY, 0, width * SECONDS_PER_DAY, n))
        self.plot.addItem(self._image)
        font = self.plot.getAxis("left").style.get("tickFont") or QFont()
        ticks = [
            (n - 1 - i + 0.5, elide(r.label, LABEL_WIDTH + 46, font))
            for i, r in enumerate(self._rows)
        ]
        self.plot.getAxis("left").setTicks([ticks, []])
        self.view.setRange(
            xRange=(self._first * SECONDS_PER_DAY, (self._last + 1) * SECONDS_PER_DAY),
            yRange=(0, n),
            padding=0,
        )

    def _hit(self, x: float, y: float) -> tuple[StripRow, int] | None:
        n = len(self._rows)
        if not (0 <= y < n):
            return None
        day = math.floor(x / SECONDS_PER_DAY)
        if not (self._first <= day <= self._last):
            return None
        return self._rows[n - 1 - math.floor(y)], day

    def state_at(self, x: float, y: float) -> str | None:
        hit = self._hit(x, y)
        return None if hit is None else hit[0].states.get(hit[1], "outside")

    def payload_at(self, x: float, y: float) -> object | None:
        hit = self._hit(x, y)
        return None if hit is None else hit[0].payload

    def tooltip_at(self, x: float, y: float) -> str | None:
        from html import escape

        from tlsrpt_gui.core.stats import day_to_date

        hit = self._hit(x, y)
        if hit is None:
            return None
        row, day = hit
        state = row.states.get(day, "outside")
        text = {
            "reported": "report received",
            "missing": "no report",
            "outside": "not checked",
        }.get(state, state)
        return f"{row.tooltip_head}<br>{escape(day_to_date(day).isoformat())}: <b>{text}</b>"
