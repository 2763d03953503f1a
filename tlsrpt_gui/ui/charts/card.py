"""A chart card: title, explanation, legend, the chart or its empty state, export buttons."""

from __future__ import annotations

import csv
import logging
import sqlite3
from collections.abc import Callable, Sequence
from html import escape
from pathlib import Path
from typing import Any

from PySide6.QtCore import QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLayoutItem,
    QSizePolicy,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from tlsrpt_gui.core.export import neutralise
from tlsrpt_gui.core.query import Filter
from tlsrpt_gui.ui.charts.widgets import _ChartBase
from tlsrpt_gui.ui.formatting import format_int, format_percent
from tlsrpt_gui.ui.palette import ChartPalette, current_palette

log = logging.getLogger(__name__)

#: ``ask_save_path(parent, caption, suggested_name, name_filter)`` -> a path, or None if cancelled
SavePathPrompt = Callable[[QWidget, str, str, str], "str | None"]

NO_REPORTS = "No reports yet. Drop reports here or use File → Open."
NO_MATCH = "Nothing matches the current filter. Widen the filter bar to see more."


def ask_save_path_dialog(parent: QWidget, caption: str, suggested: str, name_filter: str) -> str | None:
    path, _ = QFileDialog.getSaveFileName(parent, caption, suggested, name_filter)
    return path or None


def tip(title: str, rows: Sequence[tuple[str, str]] = (), note: str = "") -> str:
    """A tooltip as rich text, with every piece escaped (report fields are untrusted)."""
    body = "".join(f"<tr><td>{escape(k)}</td><td align='right'><b>{escape(v)}</b></td></tr>" for k, v in rows)
    text = f"<b>{escape(title)}</b>"
    if body:
        text += f"<table cellspacing='0' cellpadding='1'>{body}</table>"
    if note:
        text += f"<i>{escape(note)}</i>"
    return f"<qt>{text}</qt>"


def fmt_count(n: float) -> str:
    """A count as the user's locale writes it (as the tables and status bar do)."""
    return format_int(int(n))


def fmt_rate(rate: float | None) -> str:
    """A share as a percentage, as the tables write it: never rounding a failure away."""
    return format_percent(rate)


class _FlowLayout(QLayout):
    """Items left to right, wrapping onto more lines when the width runs out (a legend
    in a narrow card keeps every entry whole)."""

    def __init__(self, parent: QWidget | None = None, spacing: int = 12, line_spacing: int = 4) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._spacing = spacing
        self._line_spacing = line_spacing
        #: heightForWidth by width until the layout is invalidated: a layout pass asks it
        #: many times for one width (311 arrangements for nine cards opened cold)
        self._heights: dict[int, int] = {}
        self.setContentsMargins(0, 0, 0, 0)

    def addItem(self, item: QLayoutItem) -> None:  # (Qt's names)
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        height = self._heights.get(width)
        if height is None:
            height = self._heights[width] = self._arrange(QRect(0, 0, width, 0), move=False)
        return height

    def invalidate(self) -> None:
        self._heights.clear()
        super().invalidate()

    def setGeometry(self, rect: QRect) -> None:
        super().setGeometry(rect)
        self._arrange(rect, move=True)

    def sizeHint(self) -> QSize:
        return self.minimumSize()

    def minimumSize(self) -> QSize:
        size = QSize()
        for item in self._items:
            size = size.expandedTo(item.minimumSize())
        return size

    def _arrange(self, rect: QRect, *, move: bool) -> int:
        x, y, line = rect.x(), rect.y(), 0
        for item in self._items:
            hint = item.sizeHint()
            if x > rect.x() and x + hint.width() > rect.right() + 1:  # wrap
                x, y, line = rect.x(), y + line + self._line_spacing, 0
            if move:
                item.setGeometry(QRect(QPoint(x, y), hint))
            x += hint.width() + self._spacing
            line = max(line, hint.height())
        return y + line - rect.y()


class LegendRow(QWidget):
    """Coloured squares with labels, on as many lines as the width needs."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = _FlowLayout(self)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        policy = self.sizePolicy()
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        self._shown: tuple[object, ...] = ()

    def set_items(self, items: Sequence[tuple[QColor, str]], foreground: str) -> None:
        # Unchanged items (most redraws) keep their widgets: no new labels, style
        # sheets or layout pass, so the card is not laid out and painted twice.
        shown = (foreground, *((colour.name(), text) for colour, text in items))
        if shown == self._shown:
            return
        self._shown = shown
        while self._layout.count():
            child = self._layout.takeAt(0)
            w = child.widget() if child is not None else None
            if w is not None:
                w.deleteLater()
        for colour, text in items:
            chip = QLabel(self)
            chip.setFixedSize(11, 11)
            chip.setStyleSheet(f"background: {colour.name()}; border-radius: 2px;")
            label = QLabel(text, self)
            label.setTextFormat(Qt.TextFormat.PlainText)
            label.setStyleSheet(f"color: {foreground};")
            box = QHBoxLayout()
            box.setSpacing(4)
            box.addWidget(chip)
            box.addWidget(label)
            holder = QWidget(self)
            holder.setLayout(box)
            box.setContentsMargins(0, 0, 0, 0)
            self._layout.addWidget(holder)
        self._layout.invalidate()
        self.updateGeometry()


class ChartCard(QFrame):
    """Base of every chart: ``compute`` runs off the GUI thread, ``show_data`` on it.

    Subclasses set ``title``/``subtitle``/``empty_text``, create the chart (one of
    the widgets in :mod:`.widgets`) in ``build`` and implement ``compute``,
    ``show_data`` and ``table``. A click on the chart becomes a dict of
    :class:`Filter` changes, sent as ``changes_requested``.

    The chart is built on first use, not with the card (see :meth:`materialise`): a
    pyqtgraph plot takes 15-30 ms to make and draw, and of the nine cards three are in
    view when the tab opens. Until then the card holds its result, shows a blank area of
    about the chart's height, and draws it when the chart is made.
    """

    title = ""
    subtitle = ""
    #: shown when there are reports but this chart has nothing to show
    empty_text = "Nothing to show."
    file_stem = "chart"
    #: the height of the blank area a card shows until its chart is built
    chart_height = 200

    changes_requested = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("chartCard")
        self.palette_: ChartPalette = current_palette()
        self.ask_save_path: SavePathPrompt = ask_save_path_dialog
        self.data: Any = None
        self.filter = Filter()
        self.has_reports = False
        self.error: str | None = None

        outer = QVBoxLayout(self)
        outer.setContentsMargins(14, 10, 14, 12)
        outer.setSpacing(4)
        head = QHBoxLayout()
        self.title_label = QLabel(self.title, self)
        self.title_label.setTextFormat(Qt.TextFormat.PlainText)
        font = self.title_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.15)
        font.setBold(True)
        self.title_label.setFont(font)
        head.addWidget(self.title_label)
        head.addStretch(1)
        self.png_button = QToolButton(self)
        self.png_button.setText("PNG…")
        self.png_button.setToolTip("Save this chart as a PNG image")
        self.png_button.clicked.connect(self._ask_png)
        self.csv_button = QToolButton(self)
        self.csv_button.setText("CSV…")
        self.csv_button.setToolTip("Save the data of this chart as CSV")
        self.csv_button.clicked.connect(self._ask_csv)
        head.addWidget(self.png_button)
        head.addWidget(self.csv_button)
        outer.addLayout(head)
        self.subtitle_label = QLabel(self.subtitle, self)
        self.subtitle_label.setTextFormat(Qt.TextFormat.PlainText)
        self.subtitle_label.setWordWrap(True)
        outer.addWidget(self.subtitle_label)
        self.legend = LegendRow(self)
        # A long legend is clipped rather than widening the grid column.
        self.legend.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        outer.addWidget(self.legend)

        self.stack = QStackedWidget(self)
        self._chart: _ChartBase | None = None
        #: stands in for the chart until it is built
        self._blank: QWidget | None = QWidget(self)
        self._blank.setMinimumHeight(self.chart_height)
        self.stack.addWidget(self._blank)
        #: a result is set (its chart is drawn when built)
        self._has_result = False
        self.empty_label = QLabel(NO_REPORTS, self)
        self.empty_label.setTextFormat(Qt.TextFormat.PlainText)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.empty_label.setMinimumHeight(120)
        self.stack.addWidget(self.empty_label)
        self.stack.setCurrentWidget(self.empty_label)
        outer.addWidget(self.stack, 1)
        self.note_label = QLabel("", self)
        self.note_label.setTextFormat(Qt.TextFormat.PlainText)
        self.note_label.setWordWrap(True)
        self.note_label.hide()
        outer.addWidget(self.note_label)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        self.apply_palette(self.palette_)

    # -- for subclasses

    def build(self) -> _ChartBase:  # pragma: no cover - abstract
        raise NotImplementedError

    @staticmethod
    def compute(conn: sqlite3.Connection, flt: Filter) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def is_empty(self, data: Any) -> bool:
        return not data

    def show_data(self, data: Any) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def table(self) -> tuple[list[str], list[list[Any]]]:  # pragma: no cover - abstract
        raise NotImplementedError

    def payload_changes(self, payload: object) -> dict[str, Any] | None:
        return payload if isinstance(payload, dict) else None

    # -- the chart, built on first use

    @property
    def chart(self) -> _ChartBase:
        """The chart, built now if it was not yet."""
        self.materialise()
        assert self._chart is not None
        return self._chart

    @property
    def built(self) -> bool:
        return self._chart is not None

    def chart_area(self) -> QRect:
        """Where the chart (or its blank, or the empty state) is, in the parent's
        coordinates (the card laid out now, if it is waiting to be)."""
        layout = self.layout()
        if layout is not None:
            layout.activate()
        return self.stack.geometry().translated(self.pos())

    def materialise(self) -> None:
        """Build the chart, if it was not, and draw the result it is given."""
        if self._chart is not None:
            return
        chart = self.build()
        chart.clicked.connect(self._on_clicked)
        if chart.palette_ != self.palette_:
            chart.apply_palette(self.palette_)
        self._chart = chart
        self.stack.insertWidget(0, chart)
        if self._blank is not None:
            if self.stack.currentWidget() is self._blank:
                self.stack.setCurrentWidget(chart)
            self.stack.removeWidget(self._blank)
            self._blank.deleteLater()
            self._blank = None
        if self._has_result and self.error is None:
            self._draw()

    # -- state

    @property
    def showing_chart(self) -> bool:
        """The card shows its result as a chart (or will, once the chart is built), not
        an empty state or an error."""
        return self.stack.currentWidget() is not self.empty_label

    @property
    def empty_message(self) -> str:
        return self.empty_label.text()

    def set_result(self, has_reports: bool, data: Any, flt: Filter) -> None:
        self.has_reports = has_reports
        self.data = data
        self.filter = flt
        self.error = None
        self._has_result = True
        self._draw()

    def _draw(self) -> None:
        """Draw the result, or say the chart failed to: a bug in one chart must not keep
        the others from showing (when its result comes in, or when it is built)."""
        try:
            self._render()
        except Exception:
            log.exception("could not draw %s", self.title)
            self.set_error("this chart failed to draw (see the log)")

    def set_error(self, message: str) -> None:
        self.error = message
        self.data = None
        self.empty_label.setText(f"Cannot read the index: {message}")
        self.stack.setCurrentWidget(self.empty_label)
        self._exports_enabled(False)
        self.note_label.hide()

    def _render(self) -> None:
        if not self.has_reports or self.data is None or self.is_empty(self.data):
            if not self.has_reports:
                self.empty_label.setText(NO_REPORTS)
            elif not self.filter.is_empty():
                self.empty_label.setText(f"{self.empty_text}\n{NO_MATCH}")
            else:
                self.empty_label.setText(self.empty_text)
            self.stack.setCurrentWidget(self.empty_label)
            self.note_label.hide()
            if self._chart is not None:  # (else when built)
                self.show_data(None)
            self._exports_enabled(False)
            return
        if self._chart is None:  # drawn when built (or saved: export_png builds it)
            self.stack.setCurrentWidget(self._blank)
            self.note_label.hide()
            self._exports_enabled(True)
            return
        self.stack.setCurrentWidget(self._chart)
        self.show_data(self.data)
        self._exports_enabled(True)

    def _exports_enabled(self, on: bool) -> None:
        """PNG and CSV only of a chart that shows something."""
        self.png_button.setEnabled(on)
        self.csv_button.setEnabled(on)

    def set_note(self, text: str) -> None:
        self.note_label.setText(text)
        self.note_label.setVisible(bool(text))

    def apply_palette(self, palette: ChartPalette) -> None:
        self.palette_ = palette
        self.setStyleSheet(
            f"#chartCard {{ background: {palette.card}; border: 1px solid {palette.grid}; border-radius: 8px; }}"
        )
        self.title_label.setStyleSheet(f"color: {palette.foreground};")
        self.subtitle_label.setStyleSheet(f"color: {palette.muted};")
        self.note_label.setStyleSheet(f"color: {palette.muted};")
        self.empty_label.setStyleSheet(f"color: {palette.muted}; font-size: 11pt;")
        if self._chart is None:
            return  # (the chart takes it when built)
        self._chart.apply_palette(palette)
        if self.data is not None and self.has_reports:
            self._render()
        else:
            self.show_data(None)

    # -- clicks

    def _on_clicked(self, payload: object) -> None:
        changes = self.payload_changes(payload)
        if changes:
            self.changes_requested.emit(changes)

    # -- export

    def export_png(self, path: str | Path) -> bool:
        """Save what the card shows now (the chart, or its empty state) as PNG."""
        self.materialise()
        widget = self.chart if self.showing_chart else self.stack
        return bool(widget.grab().save(str(path), "PNG"))

    def export_csv(self, path: str | Path) -> int:
        """Write the chart's data as CSV; returns the number of data rows."""
        headers, rows = self.table() if self.data is not None else ([], [])
        with open(path, "w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out, lineterminator="\r\n")
            writer.writerow(headers)
            for row in rows:
                writer.writerow([neutralise(v) for v in row])
        return len(rows)

    def _ask_png(self) -> None:
        path = self.ask_save_path(self, "Save chart as PNG", f"{self.file_stem}.png", "PNG images (*.png)")
        if path:
            if not path.lower().endswith(".png"):
                path += ".png"
            if not self.export_png(path):
                log.warning("could not save the chart to %s", path)

    def _ask_csv(self) -> None:
        path = self.ask_save_path(self, "Save chart data as CSV", f"{self.file_stem}.csv", "CSV files (*.csv)")
        if path:
            try:
                self.export_csv(path)
            except OSError as exc:
                log.warning("could not save the chart data to %s: %s", path, exc)
