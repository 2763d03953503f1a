"""The Charts tab: a scrollable grid of chart cards that follow the shared filter.

Each card's aggregate runs as its own background job (``ui.tasks.run_task``),
on its own read-only connection, so the slowest query alone sets the redraw
time. A filter change or refresh starts a new generation of jobs; the jobs of
the old one are interrupted and their results dropped. ``ready`` is emitted once
every card of the current generation has been redrawn.

The cards are painted once per generation, when the last result is in, or
:data:`HOLD_PAINT_MS` after the refresh if some query is slower: each result
that comes in can change the grid's layout, and painting every visible chart
again after each would cost more than all the queries.

A card builds its chart (pyqtgraph) when it comes into view, or in a quiet moment
after the charts are ready, one card per step (:data:`BUILD_REST_AFTER_MS`): of the
nine, three are in the window's view when the tab opens, and building the other six
took a third of the time to the first paint.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QRect, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QResizeEvent, QShowEvent
from PySide6.QtWidgets import QGridLayout, QLabel, QScrollArea, QVBoxLayout, QWidget

from tlsrpt_gui.core.index import Index, IndexError_
from tlsrpt_gui.core.query import Filter
from tlsrpt_gui.ui.charts.card import ChartCard, SavePathPrompt, ask_save_path_dialog
from tlsrpt_gui.ui.charts.cards import (
    CertificateCard,
    CoverageCard,
    DomainRateCard,
    MissingReportsCard,
    MxHostCard,
    ReporterCard,
    ResultTypeCard,
    SendingIpCard,
    SessionsPerDayCard,
)
from tlsrpt_gui.ui.palette import current_palette
from tlsrpt_gui.ui.tasks import Task, run_task

log = logging.getLogger(__name__)

#: (card class, row, column, column span) in the grid
LAYOUT: tuple[tuple[type[ChartCard], int, int, int], ...] = (
    (SessionsPerDayCard, 0, 0, 2),
    (ResultTypeCard, 1, 0, 1),
    (ReporterCard, 1, 1, 1),
    (MxHostCard, 2, 0, 1),
    (SendingIpCard, 2, 1, 1),
    (DomainRateCard, 3, 0, 1),
    (CoverageCard, 3, 1, 1),
    (CertificateCard, 4, 0, 2),
    (MissingReportsCard, 5, 0, 2),
)


#: the charts started first: their queries read failure rows, the slowest under most
#: filters, so the pool's threads run them beside the quick ones, not after them
SLOW_FIRST: tuple[type[ChartCard], ...] = (SendingIpCard, MxHostCard, ReporterCard, SessionsPerDayCard)

#: how long a refresh holds back painting while the charts' results come in
HOLD_PAINT_MS = 800

#: once the charts are ready, the cards out of view build their charts after this
#: long, one card per step, this far apart (each step 15-30 ms of the GUI thread)
BUILD_REST_AFTER_MS = 250
BUILD_REST_STEP_MS = 20


def _compute(task: Task[Any], db_path: Path, fn: Callable[[sqlite3.Connection, Filter], Any],
             flt: Filter) -> tuple[bool, Any]:
    """Runs off the GUI thread: ``(index has reports, fn's result)``."""
    if not db_path.exists():
        return False, None
    with Index(db_path, read_only=True) as index:
        conn = index.conn
        # Interrupt a running query as soon as the job is cancelled.
        # (Every million steps, a few milliseconds: often enough to stop soon, rare
        # enough that two busy queries do not fight over the GIL for the callback.)
        conn.set_progress_handler(lambda: 1 if task.cancelled else 0, 1_000_000)
        has_reports = conn.execute("SELECT EXISTS (SELECT 1 FROM reports)").fetchone()[0] == 1
        if not has_reports:
            return False, None
        return True, fn(conn, flt)


class ChartsTab(QWidget):
    """Charts over the index at ``db_path`` that follow the shared filter."""

    #: a :class:`Filter`: the current filter with the clicked field set
    filter_requested = Signal(object)
    #: every chart's result is in after a refresh or a filter change, and the charts
    #: in view are redrawn (the others are drawn when they are built: ``ChartCard.chart``)
    ready = Signal()

    def __init__(self, db_path: Path, parent: QWidget | None = None, *,
                 ask_save_path: SavePathPrompt | None = None) -> None:
        super().__init__(parent)
        self.db_path = Path(db_path)
        self._filter = Filter()
        self._generation = 0
        self._tasks: dict[ChartCard, Task[Any]] = {}
        self._pending: set[ChartCard] = set()
        self.palette_ = current_palette()
        self._hold = QTimer(self)
        self._hold.setSingleShot(True)
        self._hold.timeout.connect(self._paint_again)
        #: a refresh waits while the tab is hidden (see refresh)
        self._stale = False

        self.scroll = QScrollArea(self)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.content = QWidget()
        self.content.setObjectName("chartsContent")
        grid = QGridLayout(self.content)
        grid.setContentsMargins(14, 14, 14, 14)
        grid.setHorizontalSpacing(14)
        grid.setVerticalSpacing(14)
        self.status_label = QLabel("", self.content)
        self.status_label.setTextFormat(Qt.TextFormat.PlainText)
        grid.addWidget(self.status_label, 0, 0, 1, 2)
        self.cards: list[ChartCard] = []
        for cls, row, col, span in LAYOUT:
            card = cls(self.content)
            card.ask_save_path = ask_save_path or ask_save_path_dialog
            card.changes_requested.connect(self._on_changes_requested)
            grid.addWidget(card, row + 1, col, 1, span)
            self.cards.append(card)
        #: the order the cards' jobs start in (see SLOW_FIRST)
        self._start_order = sorted(self.cards, key=lambda c: SLOW_FIRST.index(type(c)) if type(c) in SLOW_FIRST
                                   else len(SLOW_FIRST))
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)
        grid.setRowStretch(len(LAYOUT) + 1, 1)
        self.scroll.setWidget(self.content)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.scroll)
        # the cards in view build their charts (see materialise_in_view); the others
        # in quiet moments
        self._view_check = QTimer(self)
        self._view_check.setSingleShot(True)
        self._view_check.timeout.connect(self.materialise_in_view)
        bar = self.scroll.verticalScrollBar()
        bar.valueChanged.connect(self.materialise_in_view)  # (at once: before the paint)
        bar.rangeChanged.connect(self._check_view)  # (the cards were laid out again)
        self._build_rest = QTimer(self)
        self._build_rest.setSingleShot(True)
        self._build_rest.timeout.connect(self._build_next)
        self._apply_palette()
        app = QGuiApplication.instance()
        if isinstance(app, QGuiApplication):
            app.styleHints().colorSchemeChanged.connect(self._on_scheme_changed)
        self.refresh()

    # -- public API

    def current_filter(self) -> Filter:
        return self._filter

    def set_filter(self, flt: Filter) -> None:
        """Follow the shared filter bar."""
        if flt == self._filter and self._generation:
            return
        self._filter = flt
        self.refresh()

    def refresh(self) -> None:
        """Recompute every chart (after an import, or when the filter changed).

        While the tab is hidden this only marks the charts stale: they are computed
        when it is shown, so imports and filter changes on the tables cost nothing here.
        """
        self._generation += 1
        for task in self._tasks.values():  # (their results are for an older filter or index)
            task.cancel()
        self._tasks.clear()
        if not self.isVisible():
            self._stale = True
            return
        self._start()

    def prefetch(self) -> None:
        """Compute the charts now, though the tab is hidden, if they are stale: once,
        after the window built the tab before its first visit, so that opening it only
        paints. A refresh while hidden cancels this, as it cancels any other jobs."""
        if self._stale:
            self._start()

    def _start(self) -> None:
        generation = self._generation
        self._stale = False
        self._build_rest.stop()  # (until these results are in)
        self._pending = set(self.cards)
        flt = self._filter
        self.status_label.setText("Updating charts…")
        self.content.setUpdatesEnabled(False)
        self._hold.start(HOLD_PAINT_MS)
        for card in self._start_order:
            fn = type(card).compute
            self._tasks[card] = run_task(
                lambda task, fn=fn: _compute(task, self.db_path, fn, flt),
                on_result=lambda result, card=card: self._on_result(generation, card, result),
                on_error=lambda exc, card=card: self._on_error(generation, card, exc),
            )

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self.refresh()
        self._check_view()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._check_view()

    def all_built(self) -> bool:
        """True once every card has built its chart."""
        return all(card.built for card in self.cards)

    # -- building the charts

    def materialise_in_view(self) -> None:
        """Build the charts of the cards whose chart area is in view, or partly in view
        (of a card at the bottom edge, the title may show, its chart not yet)."""
        if not self.isVisible() or self.all_built():
            return
        viewport = self.scroll.viewport()
        seen = QRect(0, self.scroll.verticalScrollBar().value(), viewport.width(), viewport.height())
        grid = self.content.layout()
        if grid is not None:
            grid.activate()  # (the cards placed now, if they are waiting to be)
        for card in self.cards:
            if not card.built and card.chart_area().intersects(seen):
                card.materialise()

    def _check_view(self, *_: object) -> None:
        self._view_check.start(0)

    def _build_next(self) -> None:
        """Build one more card's chart (in view or not), and the next one soon."""
        for card in self.cards:
            if not card.built:
                card.materialise()
                break
        if not self.all_built():
            self._build_rest.start(BUILD_REST_STEP_MS)

    def card(self, cls: type[ChartCard]) -> ChartCard:
        for c in self.cards:
            if type(c) is cls:
                return c
        raise KeyError(cls.__name__)

    # -- results

    def _on_result(self, generation: int, card: ChartCard, result: tuple[bool, Any]) -> None:
        if generation != self._generation:
            return
        has_reports, data = result
        card.set_result(has_reports, data, self._filter)  # (a chart failing to draw says so)
        self._done(card)

    def _on_error(self, generation: int, card: ChartCard, exc: BaseException) -> None:
        if generation != self._generation:
            return
        if not self.isVisible():  # computed hidden (prefetch): try again when shown
            self._stale = True
        if isinstance(exc, IndexError_):
            card.set_error(str(exc))
        elif isinstance(exc, sqlite3.Error):
            card.set_error(f"database error ({exc})")
        else:
            log.error("chart job failed: %s\n%s", exc, getattr(exc, "__traceback_text__", ""))
            card.set_error("an unexpected error (see the log)")
        self._done(card)

    def _done(self, card: ChartCard) -> None:
        self._pending.discard(card)
        self._tasks.pop(card, None)
        if not self._pending:
            self.status_label.setText(self._status_text())
            self._paint_again()
            if not self.all_built():
                self._build_rest.start(BUILD_REST_AFTER_MS)
            self.ready.emit()

    def _paint_again(self) -> None:
        self._hold.stop()
        self.content.setUpdatesEnabled(True)

    def _status_text(self) -> str:
        if self._filter.is_empty():
            return "All reports in the index. Use the filter bar to narrow the charts down."
        return "Charts follow the filter bar. Hover for exact values; click a bar or a day to filter."

    # -- clicks

    def _on_changes_requested(self, changes: dict[str, Any]) -> None:
        self.filter_requested.emit(self._filter.with_(**changes))

    # -- theme

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        # a theme forced in the preferences, where the platform has no colour scheme
        # to change (its palette is set instead)
        if event.type() == QEvent.Type.PaletteChange and current_palette() != self.palette_:
            self._on_scheme_changed()

    def _on_scheme_changed(self, *_: object) -> None:
        self.palette_ = current_palette()
        self._apply_palette()
        for card in self.cards:
            card.apply_palette(self.palette_)

    def _apply_palette(self) -> None:
        p = self.palette_
        self.content.setStyleSheet(f"#chartsContent {{ background: {p.background}; }}")
        self.status_label.setStyleSheet(f"color: {p.muted};")


