"""The main window: filter bar, three tables, charts, DNS, detail pane and imports."""

from __future__ import annotations

import bisect
import importlib
import logging
import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable
from contextlib import closing, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from PySide6.QtCore import (
    QByteArray,
    QEvent,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QPoint,
    QRect,
    QSettings,
    Qt,
    QThreadPool,
    QTimer,
    QUrl,
    Signal,
)
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QContextMenuEvent,
    QDesktopServices,
    QDragEnterEvent,
    QDropEvent,
    QGuiApplication,
    QKeySequence,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QPlainTextEdit,
    QProgressBar,
    QProgressDialog,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QStyle,
    QTableView,
    QTabWidget,
    QTextEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

import tlsrpt_gui
from tlsrpt_gui.core.export import neutralise
from tlsrpt_gui.core.index import INDEXING, ImportResult, Index, start_parser_server
from tlsrpt_gui.core.query import Filter
from tlsrpt_gui.core.report import KNOWN_POLICY_TYPES, KNOWN_RESULT_TYPES
from tlsrpt_gui.ui.delegates import elide_paths_at_start
from tlsrpt_gui.ui.detail import DetailPane
from tlsrpt_gui.ui.filter_bar import FilterBar
from tlsrpt_gui.ui.formatting import TimeMode, domain_to_unicode, format_int, menu_text
from tlsrpt_gui.ui.general_prefs import GeneralSettings
from tlsrpt_gui.ui.idle import WhenIdle
from tlsrpt_gui.ui.importer import ImportController
from tlsrpt_gui.ui.models import (
    REPORT_ID_ROLE,
    ROW_ID_ROLE,
    FailuresModel,
    ImportLogModel,
    PoliciesModel,
    ReportsModel,
    SignpostRead,
    SqlTableModel,
    ensure_sort_indexes,
    missing_sort_indexes,
)
from tlsrpt_gui.ui.prompts import PromptService, QtPromptService
from tlsrpt_gui.ui.tasks import Task, run_task
from tlsrpt_gui.ui.welcome import WelcomePage, sample_reports_path

if TYPE_CHECKING:
    from tlsrpt_gui.ui.dns_tab import DnsTab

log = logging.getLogger(__name__)


def _ready_qt_bindings() -> None:
    """Make PySide6 create every class of QtCore, QtGui and QtWidgets now, on the GUI
    thread (a quarter of a second, once). It creates them when first asked for, and
    pyqtgraph's import asks for them all; from the thread that imports it, while the GUI
    thread paints, that crashed the app once. The other modules it imports (QtSvg,
    QtOpenGLWidgets, QtTest) are imported and readied here too (15 ms)."""
    from PySide6 import QtCore, QtGui, QtWidgets

    modules = [QtCore, QtGui, QtWidgets]
    for name in ("QtSvg", "QtOpenGLWidgets", "QtTest"):
        with suppress(ImportError):
            modules.append(importlib.import_module(f"PySide6.{name}"))
    for module in modules:
        for name in dir(module):
            getattr(module, name)


def _import_quietly(module: str) -> None:
    """Import a tab's modules off the GUI thread; a tab whose modules this build lacks
    says so when it is opened."""
    with suppress(ImportError):
        importlib.import_module(module)


def _import_charts() -> None:
    """Import the Charts tab's modules (runs off the GUI thread; see MainWindow.__init__)."""
    _import_quietly("tlsrpt_gui.ui.charts.tab")


def _import_tabs(charts_in: threading.Event) -> None:
    """The thread that imports the Charts tab's modules, then the DNS tab's (dnspython:
    0.13-0.16 s)."""
    try:
        _import_charts()
    finally:
        charts_in.set()
    _import_quietly("tlsrpt_gui.ui.dns_tab")


EMPTY_INDEX_TEXT = "No reports yet.\n\nDrop reports here or use File → Open."
NO_MATCH_TEXT = "No rows match the filters."
#: what an empty table says when the index has reports (the welcome page is for an empty index)
EMPTY_TABLE_TEXT = {
    "failures": "No failure details.\n\nEvery session these reports count succeeded,\n"
                "or the reporters gave their failures as totals only.",
}
MAX_RECENT = 10
#: how long without input, after start-up, until the Charts tab is built, hidden
#: (see MainWindow.__init__)
BUILD_CHARTS_AFTER_MS = 500
#: when the Charts tab's modules start importing: this long after the window's first
#: paint, or after it is shown if it has not painted by then (see showEvent)
IMPORT_CHARTS_AFTER_PAINT_MS = 100
IMPORT_CHARTS_AFTER_SHOW_MS = 1000
#: how long after the window is shown the fork server of the parser processes starts
#: (see core/index.py, start_parser_server): after the Charts tab's modules, ahead of
#: the first import
START_PARSER_SERVER_AFTER_SHOW_MS = 2000
#: how often a Charts tab opened while its modules import asks whether they are in
CHARTS_POLL_MS = 20
TAB_NAMES = ("reports", "policies", "failures", "charts", "dns")
#: how long a closing window waits for the thread that imports the Charts and DNS tabs' modules
IMPORT_JOIN_S = 10.0

#: default column widths (pixels at 96 dpi) by column key
_WIDTHS: dict[str, int] = {
    "organization_name": 150, "report_id": 170, "period": 110, "policy_domains": 150,
    "successful_sessions": 80, "failed_sessions": 60, "success_rate": 75, "source": 280,
    "diagnostic_count": 85, "policy_domain": 140, "policy_type": 120, "sts_mode": 70, "mx_hosts": 180,
    "failure_rate": 85, "result_type": 190, "sending_mta_ip": 120, "receiving_mx_hostname": 190,
    "receiving_mx_helo": 120, "receiving_ip": 105, "failed_session_count": 100,
    "failure_reason_code": 150, "additional_information": 220, "date": 95,
    "imported_at": 150, "outcome": 80, "path": 320, "member": 120, "reason": 360,
}  # fmt: skip



#: the most rows one copy takes (an export writes any number)
MAX_COPY_ROWS: Final = 100_000
#: the most selected rows read again after a reload to keep them selected, beyond the
#: rows loaded in pages, and the most time spent on it for each table
MAX_RESELECT_ROWS: Final = 5_000
RESELECT_BUDGET_S: Final = 0.15
#: the most time a reload waits for the count of a spanned table (longer, it is counted
#: in the background: on a million rows a filter's count can take seconds)
RECOUNT_BUDGET_S: Final = 0.2
#: the most rows Select All selects
MAX_SELECT_ALL_ROWS: Final = 2_000
#: how many SQLite instructions the signposts' read runs between asks whether it is still
#: wanted: each ask is a call into Python, which must take the GIL, and during a drag of
#: the scroll bar the GUI thread, painting, holds it: asked every 10,000 (a few µs of
#: SQLite), the signposts of a common result type took 1.3-1.9 s during a drag, those of
#: common free text 2.3-3.4 s, against 0.6-1.0 s and 0.7 s asked every million (3-10 ms)
SIGNPOST_CHECK_OPS: Final = 1_000_000
#: what would end a cell or a row where copied rows are pasted (a spreadsheet starts a
#: new row at a lone CR too)
_ROW_BREAKS: Final = re.compile("[\t\n\r\v\f\x1c-\x1e\x85\u2028\u2029]")


def _read_only(db: Path) -> sqlite3.Connection:
    """A connection of a background job's own, reading the index (never writing it)."""
    return sqlite3.connect(db.resolve().as_uri() + "?mode=ro", uri=True, timeout=10)


class _ExportCancelled(Exception):
    """Cancel was pressed during a background export."""


class TablePage(QWidget):
    """One table tab: the view over a model, or an empty-state message."""

    def __init__(self, name: str, model: SqlTableModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.model = model
        self.view = QTableView(self)
        self.view.setObjectName(f"{name}_view")
        self.view.setModel(model)
        self.view.setAccessibleName(f"{name.capitalize()} table")
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setAlternatingRowColors(True)
        self.view.setWordWrap(False)
        self.view.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.view.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.setTabKeyNavigation(False)
        self.view.setCornerButtonEnabled(False)
        self.view.setShowGrid(False)
        vh = self.view.verticalHeader()
        vh.setVisible(False)
        vh.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vh.setDefaultSectionSize(self.view.fontMetrics().height() + 8)
        hh = self.view.horizontalHeader()
        hh.setSectionsMovable(True)
        hh.setHighlightSections(False)
        hh.setStretchLastSection(True)
        hh.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        hh.customContextMenuRequested.connect(self._header_menu)
        scale = self.logicalDpiX() / 96.0 if self.logicalDpiX() > 0 else 1.0
        for i, col in enumerate(model.COLUMNS):
            self.view.setColumnWidth(i, int(_WIDTHS.get(col.key, 120) * scale))
        self._elide_start = elide_paths_at_start(self.view, [c.key for c in model.COLUMNS])
        hh.setSortIndicator(model.sort_column, model.sort_order)
        self.view.setSortingEnabled(True)

        self.empty = QLabel(EMPTY_INDEX_TEXT, self)
        self.empty.setTextFormat(Qt.TextFormat.PlainText)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setObjectName("empty_state")
        f = self.empty.font()
        f.setPointSizeF(f.pointSizeF() * 1.25)
        self.empty.setFont(f)
        self.empty.setEnabled(False)
        self.welcome = WelcomePage(self)
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.view)
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.welcome)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.stack)
        model.modelReset.connect(self.update_empty_state)
        model.rowsInserted.connect(self.update_empty_state)
        model.layoutChanged.connect(self.update_empty_state)
        self.update_empty_state()

    def update_empty_state(self) -> None:
        if self.model.rowCount() > 0:
            self.stack.setCurrentWidget(self.view)
            return
        if not self.model.filter.is_empty():
            self.empty.setText(NO_MATCH_TEXT)
        elif self.model.index_is_empty():
            self.stack.setCurrentWidget(self.welcome)
            return
        else:  # reports, but none with rows of this table
            self.empty.setText(EMPTY_TABLE_TEXT.get(self.name, "Nothing in this table yet."))
        self.stack.setCurrentWidget(self.empty)

    def visible_columns(self) -> list[int]:
        hh = self.view.horizontalHeader()
        logical = [hh.logicalIndex(v) for v in range(hh.count())]
        return [c for c in logical if not hh.isSectionHidden(c)]

    def _selected_spans(self) -> list[tuple[int, int]]:
        """The selected rows as ``(first, last)`` runs (a million selected rows are one run,
        not a million indexes)."""
        sm = self.view.selectionModel()
        if sm is None:
            return []
        spans = sorted((r.top(), r.bottom()) for r in sm.selection() if r.isValid())
        merged: list[tuple[int, int]] = []
        for first, last in spans:  # a selection of rows may repeat a row once per column range
            if merged and first <= merged[-1][1] + 1:
                merged[-1] = (merged[-1][0], max(merged[-1][1], last))
            else:
                merged.append((first, last))
        return merged

    def select_all(self) -> int:
        """Select every row, or the first MAX_SELECT_ALL_ROWS (Qt's selection works cell by
        cell: a million rows took over a minute); returns how many."""
        n = min(self.model.rowCount(), MAX_SELECT_ALL_ROWS)
        sm = self.view.selectionModel()
        if sm is None or n == 0:
            return 0
        if n == self.model.rowCount():
            self.view.selectAll()
        else:
            last = self.model.columnCount() - 1
            sm.select(QItemSelection(self.model.index(0, 0), self.model.index(n - 1, last)),
                      QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
        return n

    def selected_count(self) -> int:
        return sum(last - first + 1 for first, last in self._selected_spans())

    def selected_rows(self, at_most: int | None = None) -> list[int]:
        """The selected rows in order (the first ``at_most`` of them)."""
        rows: list[int] = []
        for first, last in self._selected_spans():
            if at_most is not None:
                last = min(last, first + at_most - len(rows) - 1)
            rows.extend(range(first, last + 1))
            if at_most is not None and len(rows) >= at_most:
                break
        return rows

    def selected_ids(self) -> list[int]:
        """The ids of the selected rows in memory (none is read for this: a row far down
        the table, not shown since, is not kept selected by a reload)."""
        spans = self._selected_spans()
        if not spans:
            return []
        starts = [first for first, _ in spans]
        ids = []
        for row, rid in sorted(self.model.loaded_ids(spans[0][0], spans[-1][1])):  # one pass, however many spans
            i = bisect.bisect_right(starts, row) - 1
            if i >= 0 and row <= spans[i][1]:
                ids.append(rid)
        return ids

    def current_id(self) -> int | None:
        """The current row's id, if it is in memory (none is read for this)."""
        cur = self.view.currentIndex()
        found = self.model.loaded_ids(cur.row(), cur.row()) if cur.isValid() else []
        return found[0][1] if found else None

    def select_ids(self, ids: list[int], current: int | None) -> None:
        """Select the rows showing ``ids`` (those still loaded after a reload)."""
        sm = self.view.selectionModel()
        if sm is None:
            return
        flags = (QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
        loaded = ({rid: r for r, rid in self.model.loaded_ids(0, self.model.rowCount() - 1)}
                  if ids or current is not None else {})
        # one selection of runs of rows, selected at once: a call per row took a minute
        # for 24,000 selected rows, and never ended for a million
        selection = QItemSelection()
        last = self.model.columnCount() - 1
        rows = sorted(r for r in (loaded.get(rid, -1) for rid in ids) if r >= 0)
        start = 0
        for i in range(1, len(rows) + 1):
            if i == len(rows) or rows[i] != rows[i - 1] + 1:
                selection.select(self.model.index(rows[start], 0), self.model.index(rows[i - 1], last))
                start = i
        sm.select(selection, flags)
        if current is not None:
            row = loaded.get(current, -1)
            if row >= 0:
                sm.setCurrentIndex(
                    self.model.index(row, 0), QItemSelectionModel.SelectionFlag.NoUpdate
                )

    def copy_text(self) -> str:
        """The selected rows as tab-separated text (visible columns, A-label domains, ISO
        dates): the first MAX_COPY_ROWS of them."""
        cols = self.visible_columns()
        lines = []
        for r in self.selected_rows(MAX_COPY_ROWS):
            # a formula pasted into a spreadsheet must stay text
            cells = [neutralise(_ROW_BREAKS.sub(" ", self.model.copy_text(r, c))) for c in cols]
            lines.append("\t".join(cells))
        return "\n".join(lines)

    def _header_menu(self, pos: QPoint) -> None:
        hh = self.view.horizontalHeader()
        menu = QMenu(self)
        for i, col in enumerate(self.model.COLUMNS):
            act = menu.addAction(col.title)
            act.setCheckable(True)
            act.setChecked(not hh.isSectionHidden(i))
            act.toggled.connect(lambda on, i=i: hh.setSectionHidden(i, not on))
        menu.exec(hh.mapToGlobal(pos))


class MainWindow(QMainWindow):
    """The application window over one index."""

    import_finished = Signal(object)  # ImportResult, after the tables were refreshed
    totals_updated = Signal()

    def __init__(
        self,
        db_path: Path,
        *,
        settings: QSettings | None = None,
        prompts: PromptService | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.db_path = Path(db_path)
        self.settings = settings if settings is not None else QSettings()
        self.prompts: PromptService = prompts if prompts is not None else QtPromptService()
        self.setWindowTitle(f"{tlsrpt_gui.DISPLAY_NAME} — {self.db_path.name}")
        self.setObjectName("main_window")
        self.setAcceptDrops(True)

        self.index = Index(self.db_path)
        self.conn: sqlite3.Connection = self.index.conn
        self.time_mode = TimeMode(utc=self._setting_bool("utc", True), parent=self)
        self.importer = ImportController(
            self.db_path, self, limits=lambda: GeneralSettings.load(self.settings).limits()
        )
        self._background: set[Task[Any]] = set()
        self._count_generation = 0
        #: the table whose signposts are read now, and how (see _read_signposts)
        self._signposts_read: tuple[TablePage, SignpostRead] | None = None
        #: signposts are read on a thread of their own: a walk of a million rows in the
        #: shared pool (two threads here) held up the counts and far reads of other views
        self._signpost_pool = QThreadPool(self)
        self._signpost_pool.setMaxThreadCount(1)
        #: far table blocks to read in the background (see _read_far), and whether one is read now
        self._far_waiting: list[tuple[Callable[[sqlite3.Connection], Any], Callable[[Any], None]]] = []
        self._far_busy = False

        self.filter_bar = FilterBar(self)
        self.filter_bar.filter_changed.connect(self.apply_filter)

        self.reports_model = ReportsModel(self.conn, self.time_mode, self)
        self.policies_model = PoliciesModel(self.conn, self.time_mode, self)
        self.failures_model = FailuresModel(self.conn, self.time_mode, self)
        self.pages: dict[str, TablePage] = {
            "reports": TablePage("reports", self.reports_model),
            "policies": TablePage("policies", self.policies_model),
            "failures": TablePage("failures", self.failures_model),
        }
        self.tabs = QTabWidget(self)
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.pages["reports"], "&Reports")
        self.tabs.addTab(self.pages["policies"], "&Policies")
        self.tabs.addTab(self.pages["failures"], "Fa&ilure details")
        self._charts: QWidget | None = None
        self._charts_host: QWidget | None = None
        #: the thread importing the Charts tab's modules, then the DNS tab's (see below),
        #: and what the Charts tab says while it waits for them (see _await_charts)
        self._charts_import: threading.Thread | None = None
        #: set by that thread once the Charts tab's modules are in (it goes on to the DNS tab's)
        self._charts_modules_in = threading.Event()
        #: the window is closing (and waits for its background work: closeEvent)
        self._closing = False
        #: Cancel was pressed during the running import; the summary of the last one
        self._cancel_requested = False
        self._last_summary = ""
        self._charts_waiting: QLabel | None = None
        #: the DNS tab, once built (see dns), and the tab's host until then
        self._dns: DnsTab | None = None
        self._dns_host: QWidget | None = None
        self._known_domains: list[str] = []
        self._add_charts_tab()
        self._add_dns_tab()
        for page in self.pages.values():
            page.view.selectionModel().currentRowChanged.connect(
                lambda cur, _prev, page=page: self._show_detail(page, cur)
            )
            page.view.customContextMenuRequested.connect(
                lambda pos, page=page: self._row_menu(page, pos)
            )
            # the Menu key (whose event comes in the view's coordinates, not the viewport's:
            # it opened the menu of the row below), and Shift+F10, open the current row's
            page.view.installEventFilter(self)
            menu_key = QAction(page.view)
            menu_key.setShortcut(QKeySequence("Shift+F10"))
            menu_key.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
            menu_key.triggered.connect(lambda _=False, page=page: self._row_menu_at_current(page))
            page.view.addAction(menu_key)
            page.welcome.open_files_requested.connect(self.open_files)
            page.welcome.open_folder_requested.connect(self.open_folder)
            page.welcome.samples_requested.connect(self.open_samples)
            page.model.set_far_reader(self._read_far)
            page.model.dataChanged.connect(lambda a, b, _roles=None, page=page: self._on_rows_read(page, a, b))
            # a new order leaves no current row: nor does the detail pane keep its report
            page.view.horizontalHeader().sortIndicatorChanged.connect(lambda *_: QTimer.singleShot(0, self, self._sync_detail))
            page.model.modelReset.connect(self._update_row_count)
            page.model.rowsInserted.connect(self._update_row_count)
            page.model.layoutChanged.connect(self._update_row_count)

        self.detail = DetailPane(self.time_mode, self)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.addWidget(self.tabs)
        self.splitter.addWidget(self.detail)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(True)
        self.splitter.setSizes([930, 350])

        self._build_import_banner()
        central = QWidget(self)
        lay = QVBoxLayout(central)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(self.filter_bar)
        lay.addWidget(self.banner)
        lay.addWidget(self.splitter, 1)
        self.setCentralWidget(central)

        self._build_status_bar()
        self._build_menus()
        self.tabs.currentChanged.connect(self._on_tab_changed)

        self.importer.started.connect(self._on_import_started)
        self.importer.progress.connect(self._on_import_progress)
        self.importer.finished.connect(self._on_import_finished)
        self.importer.failed.connect(self._on_import_failed)

        self._restore_settings()
        self._on_tab_changed(self.tabs.currentIndex())
        self.refresh_choices()
        self.update_totals()
        self._prepare_sort_indexes()
        # The Charts tab is made ready before its first visit: its modules (pyqtgraph,
        # numpy: most of a second) are imported off the GUI thread a moment after the
        # window's first paint (see event), and the tab is built, hidden, once the user
        # leaves the window alone for a moment; its charts are computed then too (once:
        # after that, a hidden tab computes when it is shown). Opening it then only paints.
        self._charts_import_timer = QTimer(self)
        self._charts_import_timer.setSingleShot(True)
        self._charts_import_timer.timeout.connect(self._charts_imported)
        # The first bulk import's parser processes start from a fork server, started
        # now if it is not by then (its modules loaded: 0.2 s).
        self._parser_server_started = False
        self._parser_server_timer = QTimer(self)
        self._parser_server_timer.setSingleShot(True)
        self._parser_server_timer.timeout.connect(self._start_parser_server)
        self._charts_when_idle = WhenIdle(self, BUILD_CHARTS_AFTER_MS, self._build_charts, ready=self._charts_may_build)

    # ------------------------------------------------------------ building

    def _add_charts_tab(self) -> None:
        """A host for the Charts tab; the charts (pyqtgraph, numpy) are built on first
        use or once the window is left alone a moment, so they cost nothing at start-up."""
        host = QWidget(self)
        host.setObjectName("charts_host")
        QVBoxLayout(host).setContentsMargins(0, 0, 0, 0)
        self._charts_host = host
        self.tabs.addTab(host, "&Charts")

    def _charts_imported(self) -> bool:
        """True once the Charts tab's modules are imported (in a thread started by the first call)."""
        if self._charts_import is None:
            _ready_qt_bindings()
            self._charts_import = threading.Thread(target=_import_tabs, args=(self._charts_modules_in,),
                                                   name="tlsrpt-tabs-import", daemon=True)
            self._charts_import.start()
        return not self._charts_importing()

    def _start_parser_server(self) -> None:
        self._parser_server_started = True
        start_parser_server()

    def _charts_may_build(self) -> bool:
        """True once the Charts tab's modules are imported and no import runs: charts
        computed during an import would be out of date at its end, and on two cores the
        tab's build and queries (about a second of work) took that time from the import
        (20,000 files dropped on the window as it opened: 3.3 s against 2.5-2.9 s)."""
        return self._charts_imported() and not self.importer.running

    def _charts_importing(self) -> bool:
        """True while the thread that imports the Charts tab's modules runs."""
        return self._charts_import is not None and not self._charts_modules_in.is_set()

    def _await_charts(self) -> None:
        """The Charts tab opened while its modules are still importing (in the first
        second or so): say so, and build it once they are in, rather than freeze the
        window meanwhile (importing them here would wait for that thread)."""
        if self._charts_waiting is None:
            host = self._charts_host
            assert host is not None and host.layout() is not None
            self._charts_waiting = self._placeholder("Loading the charts…")
            host.layout().addWidget(self._charts_waiting)  # type: ignore[union-attr]
            self._charts_waiting.show()
            QTimer.singleShot(CHARTS_POLL_MS, self, self._charts_arrived)

    def _charts_arrived(self) -> None:
        if self._charts_importing():
            QTimer.singleShot(CHARTS_POLL_MS, self, self._charts_arrived)
        elif self._charts_host is not None and self.tabs.currentWidget() is self._charts_host:
            _ = self.charts
        # (else it is built when the window is left alone, or on the next visit)

    def _build_charts(self) -> None:
        charts = self.charts
        if charts is not None and not charts.isVisible():
            charts.prefetch()  # type: ignore[attr-defined]

    @property
    def charts(self) -> QWidget | None:
        """The Charts tab, built now if it was not yet."""
        if self._charts is None and self._charts_host is not None:
            try:
                from tlsrpt_gui.ui.charts.tab import ChartsTab
            except ImportError:
                log.info("the charts module is not available")
                layout = self._charts_host.layout()
                assert layout is not None
                layout.addWidget(self._placeholder("Charts are not available in this build."))
                self._charts_host = None
                return None
            if self._charts_waiting is not None:
                self._charts_waiting.deleteLater()
                self._charts_waiting = None
            charts = ChartsTab(self.db_path, self._charts_host)
            charts.filter_requested.connect(self.filter_bar.set_filter)
            layout = self._charts_host.layout()
            assert layout is not None
            layout.addWidget(charts)
            self._charts = charts
            flt = self.filter_bar.current
            if not flt.is_empty():
                charts.set_filter(flt)
        return self._charts

    def _add_dns_tab(self) -> None:
        """A host for the DNS tab, built on first use (see dns): its modules (dnspython)
        took 0.13-0.16 s of every start-up. They are imported off the GUI thread after
        the Charts tab's, a moment after the first paint."""
        host = QWidget(self)
        host.setObjectName("dns_host")
        QVBoxLayout(host).setContentsMargins(0, 0, 0, 0)
        self._dns_host = host
        self.tabs.addTab(host, "D&NS")

    @property
    def dns(self) -> DnsTab | None:
        """The DNS tab, built now if it was not yet (None where DNS checks are not available)."""
        if self._dns is None and self._dns_host is not None:
            layout = self._dns_host.layout()
            assert layout is not None
            try:
                from tlsrpt_gui.ui.dns_tab import DnsTab
            except ImportError:
                log.info("the DNS module is not available")
                layout.addWidget(self._placeholder("DNS checks are not available in this build."))
                self._dns_host = None
                return None
            dns = DnsTab(self._dns_host, settings=self.settings)
            dns.cancel_action.setEnabled(False)  # the window's Escape does it (see _escape)
            dns.set_known_domains(self._known_domains)  # (the settings it reads itself, now)
            layout.addWidget(dns)
            self._dns = dns
        return self._dns

    def _placeholder(self, text: str) -> QLabel:
        label = QLabel(text, self)
        label.setTextFormat(Qt.TextFormat.PlainText)
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        return label

    def _build_import_banner(self) -> None:
        self.banner = QWidget(self)
        self.banner.setObjectName("import_banner")
        lay = QHBoxLayout(self.banner)
        lay.setContentsMargins(8, 4, 8, 4)
        self.banner_label = QLabel(self.banner)
        self.banner_label.setTextFormat(Qt.TextFormat.PlainText)
        self.banner_label.setMinimumWidth(200)
        self.progress_bar = QProgressBar(self.banner)
        self.progress_bar.setMaximumWidth(320)
        self.progress_bar.setFormat("%v / %m")
        self.cancel_button = QPushButton("Cancel", self.banner)
        self.cancel_button.setToolTip("Stop the import (Esc)")
        self.cancel_button.clicked.connect(self.cancel_import)
        self.log_button = QPushButton("Import log…", self.banner)
        self.log_button.clicked.connect(self.show_import_log)
        self.close_banner_button = QToolButton(self.banner)
        self.close_banner_button.setText("✕")
        self.close_banner_button.setToolTip("Hide")
        self.close_banner_button.setAccessibleName("Hide import summary")
        self.close_banner_button.clicked.connect(lambda: self.banner.setVisible(False))
        lay.addWidget(self.banner_label, 1)
        lay.addWidget(self.progress_bar)
        lay.addWidget(self.cancel_button)
        lay.addWidget(self.log_button)
        lay.addWidget(self.close_banner_button)
        self.banner.setAutoFillBackground(True)
        pal = self.banner.palette()
        pal.setColor(self.banner.backgroundRole(), pal.color(pal.ColorRole.AlternateBase))
        self.banner.setPalette(pal)
        self.banner.setVisible(False)

    def _build_status_bar(self) -> None:
        sb = self.statusBar()
        self.rows_label = QLabel(sb)
        self.rows_label.setTextFormat(Qt.TextFormat.PlainText)
        self.totals_label = QLabel(sb)
        self.totals_label.setTextFormat(Qt.TextFormat.PlainText)
        self.utc_button = QToolButton(sb)
        self.utc_button.setCheckable(True)
        self.utc_button.setAutoRaise(True)
        self.utc_button.setToolTip("Show dates in UTC or in local time (Ctrl+T)")
        sb.addWidget(self.rows_label)
        sb.addPermanentWidget(self.totals_label)
        sb.addPermanentWidget(self.utc_button)

    def _action(
        self,
        menu: QMenu,
        text: str,
        slot: Callable[[], Any],
        shortcut: QKeySequence | str | None = None,
    ) -> QAction:
        act = menu.addAction(text)
        act.triggered.connect(lambda _checked=False: slot())
        if shortcut is not None:
            act.setShortcut(QKeySequence(shortcut))
        return act

    def _build_menus(self) -> None:
        mb = self.menuBar()
        file_menu = mb.addMenu("&File")
        style = self.style()
        self.open_files_action = self._action(
            file_menu, "&Open File(s)…", self.open_files, QKeySequence.StandardKey.Open
        )
        self.open_files_action.setIcon(
            style.standardIcon(QStyle.StandardPixmap.SP_DialogOpenButton)
        )
        self.open_folder_action = self._action(
            file_menu, "Open &Folder…", self.open_folder, "Ctrl+Shift+O"
        )
        self.open_folder_action.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_DirOpenIcon))
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self._rebuild_recent_menu()
        file_menu.addSeparator()
        self.export_action = self._action(
            file_menu, "&Export Visible Table…", self.export_current, "Ctrl+E"
        )
        self.import_log_action = self._action(
            file_menu, "Import &Log…", self.show_import_log, "Ctrl+L"
        )
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", self.close, QKeySequence.StandardKey.Quit)

        edit = mb.addMenu("&Edit")
        self.copy_action = self._action(
            edit, "&Copy Rows", self._copy, QKeySequence.StandardKey.Copy
        )
        self._action(edit, "Select &All", self._select_all, QKeySequence.StandardKey.SelectAll)
        edit.addSeparator()
        self._action(edit, "&Find…", self._focus_search, QKeySequence.StandardKey.Find)
        # the filter bar owns the key (a second shortcut on it would make both ambiguous):
        # the menu only shows it, after a tab
        self._action(edit, "C&lear Filters\tCtrl+Shift+L", self.filter_bar.clear)
        edit.addSeparator()
        self.check_index_action = self._action(edit, "Check &Index Integrity…", self.check_index_integrity)
        self.preferences_action = self._action(
            edit, "&Preferences…", self.show_preferences, QKeySequence.StandardKey.Preferences
        )
        self.preferences_action.setMenuRole(QAction.MenuRole.PreferencesRole)

        view = mb.addMenu("&View")
        self.utc_action = view.addAction("Show Dates in &UTC")
        self.utc_action.setCheckable(True)
        self.utc_action.setChecked(self.time_mode.utc)
        self.utc_action.setShortcut(QKeySequence("Ctrl+T"))
        self.utc_action.toggled.connect(self.set_utc)
        self.utc_button.setDefaultAction(self.utc_action)
        self._sync_utc_button()
        self.detail_action = view.addAction("&Detail Pane")
        self.detail_action.setCheckable(True)
        self.detail_action.setChecked(True)
        self.detail_action.setShortcut(QKeySequence("F6"))
        self.detail_action.toggled.connect(self._show_detail_pane)
        view.addSeparator()
        for i, title in enumerate(("Reports", "Policies", "Failure Details", "Charts", "DNS")):
            self._action(view, title, lambda i=i: self.tabs.setCurrentIndex(i), f"Ctrl+{i + 1}")
        view.addSeparator()
        self._action(view, "Re&load", self.refresh_tables, QKeySequence.StandardKey.Refresh)

        help_menu = mb.addMenu("&Help")
        self._action(help_menu, "Open &Sample Reports", self.open_samples)
        help_menu.addSeparator()
        self._action(help_menu, f"&About {tlsrpt_gui.DISPLAY_NAME}", self.show_about)

        cancel = QAction(self)
        cancel.setShortcut(QKeySequence(Qt.Key.Key_Escape))
        cancel.triggered.connect(self._escape)
        self.addAction(cancel)

    # ------------------------------------------------------------ settings

    def _setting_bool(self, key: str, default: bool) -> bool:
        value = self.settings.value(key, default)
        if isinstance(value, str):
            return value.lower() in ("1", "true", "yes")
        return bool(value)

    def _restore_settings(self) -> None:
        s = self.settings
        geometry = s.value("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 800)
        splitter = s.value("window/splitter")
        if isinstance(splitter, QByteArray):
            self.splitter.restoreState(splitter)
        for name, page in self.pages.items():
            state = s.value(f"columns/{name}")
            if isinstance(state, QByteArray) and not state.isEmpty():
                page.view.horizontalHeader().restoreState(state)
                hh = page.view.horizontalHeader()
                page.model.sort(hh.sortIndicatorSection(), hh.sortIndicatorOrder())
        tab = s.value("window/tab")
        if isinstance(tab, str) and tab in TAB_NAMES:
            self.set_tab(tab)
        self.detail_action.setChecked(self._setting_bool("window/detail", True))

    def save_settings(self) -> None:
        s = self.settings
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/splitter", self.splitter.saveState())
        s.setValue("window/tab", TAB_NAMES[self.tabs.currentIndex()])
        s.setValue("window/detail", self.detail_action.isChecked())
        s.setValue("utc", self.time_mode.utc)
        for name, page in self.pages.items():
            s.setValue(f"columns/{name}", page.view.horizontalHeader().saveState())
        s.sync()

    def recent_paths(self) -> list[str]:
        value = self.settings.value("recent", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or [])][:MAX_RECENT]

    def _remember(self, paths: list[str]) -> None:
        recent = self.recent_paths()
        for p in reversed(paths):
            if p in recent:
                recent.remove(p)
            recent.insert(0, p)
        self.settings.setValue("recent", recent[:MAX_RECENT])
        self._rebuild_recent_menu()

    def _rebuild_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.recent_paths()
        for i, path in enumerate(recent):
            act = self.recent_menu.addAction(f"&{i + 1} {menu_text(path)}" if i < 9 else menu_text(path))
            act.triggered.connect(lambda _c=False, path=path: self._open_recent(path))
        if not recent:
            none = self.recent_menu.addAction("No recent files")
            none.setEnabled(False)
        else:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear Menu").triggered.connect(self._clear_recent)

    def _open_recent(self, path: str) -> None:
        # Rebuilding the menu deletes the triggering action: do it after the signal.
        QTimer.singleShot(0, lambda: self.import_paths([path]))

    def _clear_recent(self) -> None:
        self.settings.setValue("recent", [])
        self._rebuild_recent_menu()

    # ------------------------------------------------------------ public API

    def set_tab(self, name: str) -> None:
        self.tabs.setCurrentIndex(TAB_NAMES.index(name))

    def current_page(self) -> TablePage | None:
        w = self.tabs.currentWidget()
        return w if isinstance(w, TablePage) else None

    def set_utc(self, utc: bool) -> None:
        self.time_mode.set_utc(utc)
        if self.utc_action.isChecked() != utc:
            self.utc_action.setChecked(utc)
        self._sync_utc_button()

    def _sync_utc_button(self) -> None:
        self.utc_button.setText("UTC" if self.time_mode.utc else "Local time")

    def apply_filter(self, flt: Filter) -> None:
        """Narrow every table (and the charts) to ``flt``."""
        for page in self.pages.values():
            ids, current = page.selected_ids(), page.current_id()
            page.model.set_filter(flt)
            page.select_ids(ids, current)  # the rows that still match stay selected
            page.update_empty_state()
        if self._charts is not None:
            self._charts.set_filter(flt)  # type: ignore[attr-defined]
        self._sync_detail()
        self._update_row_count()

    def import_paths(self, paths: list[str]) -> None:
        """Import files and folders in the background (what drop, menus and the command line call)."""
        paths = [os.fspath(p) for p in paths if p]
        if not paths:
            return
        self._remember(paths)
        self.importer.start(paths)

    def cancel_import(self) -> None:
        if self.importer.running:
            self._cancel_requested = True
            self.banner_label.setText("Cancelling…")
            self.importer.cancel()

    def open_files(self) -> None:
        files = self.prompts.open_files(self, self._last_dir())
        if files:
            self.settings.setValue("last_dir", os.path.dirname(files[0]))
            self.import_paths(files)

    def open_folder(self) -> None:
        folder = self.prompts.open_folder(self, self._last_dir())
        if folder:
            self.settings.setValue("last_dir", folder)
            self.import_paths([folder])

    def open_samples(self) -> None:
        """Import the sample reports that ship with the app."""
        self.import_paths([str(sample_reports_path())])

    def _last_dir(self) -> str:
        value = self.settings.value("last_dir", "")
        return value if isinstance(value, str) else ""

    def refresh_tables(self) -> None:
        """Reload every table after the index changed, keeping sort, filter and selection."""
        for page in self.pages.values():
            model = page.model
            ids, current = page.selected_ids(), page.current_id()
            everything = page._selected_spans() == [(0, min(model.rowCount(), MAX_SELECT_ALL_ROWS) - 1)]
            row = page.view.currentIndex().row()
            # The table in view is counted again at once, if that is quick (the others
            # when shown); the far rows around the current row and the selected ones are
            # read again, for a moment, so that those still there stay selected.
            model.refresh(count_until=time.monotonic() + RECOUNT_BUDGET_S if page is self.current_page() else None,
                          reread=page.selected_rows(MAX_RESELECT_ROWS), follow=row, read_for=RESELECT_BUDGET_S)
            page.select_ids(ids, current)
            if everything:  # Select All stays all
                page.select_all()
            page.update_empty_state()
        self._sync_detail()
        if self._charts is not None:
            self._charts.refresh()  # type: ignore[attr-defined]
        self.refresh_choices()
        self.update_totals()
        self._update_row_count()

    def refresh_choices(self) -> None:
        c = self.conn
        domains = [r[0] for r in c.execute("SELECT DISTINCT policy_domain FROM policies")]
        self.filter_bar.set_choices(
            domains=domains,
            reporters=[r[0] for r in c.execute("SELECT DISTINCT organization_name FROM reports")],
            # the three of RFC 8460, and any other a report gave (kept as given)
            policy_types=[r[0] for r in c.execute("SELECT DISTINCT policy_type FROM policies")]
            + sorted(KNOWN_POLICY_TYPES),
            result_types=[
                r[0] for r in c.execute("SELECT DISTINCT result_type FROM failure_details")
            ]
            + sorted(KNOWN_RESULT_TYPES),
        )
        self._known_domains = sorted(d for d in domains if d)
        if self._dns is not None:
            self._dns.set_known_domains(self._known_domains)

    def update_totals(self) -> None:
        t = self.index.totals()
        parts = [
            f"{format_int(t.reports)} reports",
            f"{format_int(t.policies)} policies",
            f"{format_int(t.failure_details)} failure details",
            f"{format_int(t.successful_sessions)} successful / {format_int(t.failed_sessions)} failed sessions",
        ]
        if t.failed_inputs or t.skipped_inputs:
            n = t.failed_inputs + t.skipped_inputs
            parts.append(f"{format_int(n)} input{'s' if n != 1 else ''} not imported")
        self.totals_label.setText("  ·  ".join(parts))
        self.totals_updated.emit()

    def copy_selection(self) -> str:
        page = self.current_page()
        if page is None:
            return ""
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            text = page.copy_text()
            if text:
                QGuiApplication.clipboard().setText(text)
        finally:
            QGuiApplication.restoreOverrideCursor()
        if text:
            selected = page.selected_count()
            n = min(selected, MAX_COPY_ROWS)
            message = f"Copied {format_int(n)} row{'s' if n != 1 else ''}"
            if selected > n:
                message = (f"Copied the first {format_int(n)} of {format_int(selected)} selected rows, the most "
                           "one copy takes (File → Export Visible Table writes them all)")
                self.statusBar().showMessage(message, 8000)
            elif n == page.model.loaded_rows and (page.model.canFetchMore(QModelIndex()) or page.model.capped):
                # Select All selects what is loaded: say that more rows match
                message += " (the rows loaded so far; File → Export Visible Table writes them all)"
                self.statusBar().showMessage(message, 8000)
            else:
                self.statusBar().showMessage(message, 3000)
        return text

    def export_current(self) -> None:
        page = self.current_page()
        if page is None:
            self.statusBar().showMessage(
                "Choose the Reports, Policies or Failure details tab to export.", 5000
            )
            return
        path, chosen = self.prompts.save_file(
            self,
            os.path.join(self._last_dir(), f"tlsrpt-{page.name}.csv"),
            "CSV (*.csv);;JSON (*.json)",
        )
        if not path:
            return
        fmt = (
            "json"
            if path.lower().endswith(".json")
            or (chosen.startswith("JSON") and "." not in Path(path).name)
            else "csv"
        )
        if "." not in Path(path).name:
            path += f".{fmt}"
        self.export_in_background(page, Path(path), fmt)

    def export_in_background(self, page: TablePage, path: Path, fmt: str) -> Task[int]:
        """Write the page's table as :meth:`export_page` does, in a thread, with a
        progress dialog and Cancel: a million rows take a minute or more, and the window
        froze for all of it. The file appears whole or not at all (it is written beside,
        then renamed); a cancelled export leaves nothing."""
        run = page.model.exporter(page.visible_columns())
        count_sql, count_params = page.model.count_query()
        db = self.db_path
        part = path.with_name(f"{path.name}.part")
        title = self.tabs.tabText(self.tabs.indexOf(page)).replace("&", "")
        dialog = QProgressDialog(f"Exporting the {title} table to {path.name}…", "Cancel", 0, 0, self)
        dialog.setWindowTitle("Export")
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(400)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.setValue(0)  # starts the 400 ms until it shows (else 4 s, Qt's default)
        ended: list[bool] = []

        def job(task: Task[int]) -> int:
            conn = _read_only(db)
            try:
                total = int(conn.execute(count_sql, count_params).fetchone()[0])
                task.report_progress(0, total, "")

                def each_row(n: int) -> None:
                    if n % 2000 == 0:
                        if task.cancelled:
                            raise _ExportCancelled
                        task.report_progress(n, total, "")

                with open(part, "w", encoding="utf-8", newline="") as out:
                    n = run(out, "json" if fmt == "json" else "csv", conn, each_row)
                os.replace(part, path)
                return n
            except BaseException:
                with suppress(OSError):
                    part.unlink()
                raise
            finally:
                conn.close()

        def progress(done: int, total: int, _text: str) -> None:
            if ended:  # (a modal dialog's setValue runs events: the end may come first)
                return
            dialog.setMaximum(max(total, 1))
            dialog.setValue(min(done, max(total, 1)))
            dialog.setLabelText(f"Exporting the {title} table to {path.name}: "
                                f"{format_int(done)} of {format_int(total)} rows…")

        def finished(n: int) -> None:
            ended.append(True)
            dialog.close()
            self.statusBar().showMessage(f"Exported {format_int(n)} rows to {path}", 8000)

        def failed(exc: BaseException) -> None:
            ended.append(True)
            dialog.close()
            if isinstance(exc, _ExportCancelled):
                self.statusBar().showMessage(f"Export cancelled; {path.name} was not written", 8000)
            elif isinstance(exc, OSError):
                self.prompts.error(self, "Export failed", f"Cannot write {path}: {exc.strerror or exc}")
            else:
                self.prompts.error(self, "Export failed", f"Cannot export the table: {exc}")

        task: Task[int] = self._run_background(job, finished, failed, progress)
        dialog.canceled.connect(task.cancel)
        return task

    def export_page(self, page: TablePage, path: Path, fmt: str) -> int:
        """Write the page's table, with its filters and sort, in its visible columns."""
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            with open(path, "w", encoding="utf-8", newline="") as out:
                n = page.model.export(
                    out, "json" if fmt == "json" else "csv", page.visible_columns()
                )
        except OSError as exc:
            self.prompts.error(self, "Export failed", f"Cannot write {path}: {exc.strerror or exc}")
            return 0
        finally:
            QGuiApplication.restoreOverrideCursor()
        self.statusBar().showMessage(f"Exported {format_int(n)} rows to {path}", 8000)
        return n

    def show_about(self) -> None:
        self.prompts.information(
            self,
            f"About {tlsrpt_gui.DISPLAY_NAME}",
            f"{tlsrpt_gui.DISPLAY_NAME} {tlsrpt_gui.__version__} (tlsrpt-gui)\n\n"
            "A viewer for SMTP TLS Reporting (RFC 8460) reports.\n\n"
            f"Index: {self.db_path.resolve()}",
        )

    def show_import_log(self) -> None:
        from tlsrpt_gui.ui.import_log import ImportLogDialog

        dlg = ImportLogDialog(ImportLogModel(self.conn, self.time_mode), self)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.show()  # non-modal
        self.import_log_dialog = dlg

    def check_dns(self, domain: str) -> None:
        dns = self.dns
        if dns is None or self._dns_host is None:
            return
        self.tabs.setCurrentWidget(self._dns_host)
        dns.check_domain(domain)

    # ------------------------------------------------------------ drag and drop

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        md = event.mimeData()
        if md.hasUrls() and any(u.isLocalFile() for u in md.urls()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: Any) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.import_paths(paths)
        else:
            event.ignore()

    # ------------------------------------------------------------ slots

    def _on_tab_changed(self, index: int) -> None:
        if self._charts_host is not None and self.tabs.widget(index) is self._charts_host:
            if self._charts is None and self._charts_importing():
                self._await_charts()
            else:
                _ = self.charts  # build it on first visit
        is_table = isinstance(self.tabs.widget(index), TablePage)
        # the DNS panel has its own domain field; the shared filters do not apply to it
        on_dns = self._dns_host is not None and self.tabs.widget(index) is self._dns_host
        if on_dns:
            _ = self.dns  # build it on first visit
        self.filter_bar.setVisible(not on_dns)
        self.detail.setVisible(is_table and self.detail_action.isChecked())
        self.copy_action.setEnabled(is_table)
        self.export_action.setEnabled(is_table)
        if is_table:
            self._sync_detail()
        self._update_row_count()

    def _sync_detail(self) -> None:
        """Show the current row of the table in view in the detail pane, or nothing when
        it has none (a filter may have just hidden the row the pane showed)."""
        page = self.current_page()
        if page is not None:
            self._show_detail(page, page.view.currentIndex())

    def _show_detail(self, page: TablePage, current: QModelIndex) -> None:
        if page is not self.current_page():
            return  # (a hidden table's selection moved: a refresh reselecting its rows)
        if not current.isValid():
            self.detail.clear()
            return
        report = current.data(REPORT_ID_ROLE)
        policy = current.data(ROW_ID_ROLE) if page.name == "policies" else None
        failure = current.data(ROW_ID_ROLE) if page.name == "failures" else None
        if isinstance(report, int):
            self.detail.show_report(self.conn, report, policy, failure)
        else:  # a row still read in the background (shown when it comes: _on_rows_read)
            self.detail.clear()

    def _on_rows_read(self, page: TablePage, first: QModelIndex, last: QModelIndex) -> None:
        """Rows came in (a far block read in the background): the detail pane shows the
        current row's report if it was among them."""
        current = page.view.currentIndex()
        if (page is self.current_page() and current.isValid() and first.row() <= current.row() <= last.row()
                and self.detail.report_id is None):
            self._show_detail(page, current)

    def _row_menu(self, page: TablePage, pos: QPoint) -> None:
        menu = self.row_menu(page, page.view.indexAt(pos))
        menu.exec(page.view.viewport().mapToGlobal(pos))
        menu.deleteLater()

    def _row_menu_at_current(self, page: TablePage) -> None:
        """The context menu of the current row, below it (opened from the keyboard)."""
        view = page.view
        index = view.currentIndex()
        rect = view.visualRect(index) if index.isValid() else QRect()
        area = view.viewport().rect()
        pos = rect.bottomLeft() + QPoint(8, 0) if rect.intersects(area) else area.topLeft()
        menu = self.row_menu(page, index)
        menu.exec(view.viewport().mapToGlobal(pos))
        menu.deleteLater()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (event.type() == QEvent.Type.ContextMenu and isinstance(event, QContextMenuEvent)
                and event.reason() == QContextMenuEvent.Reason.Keyboard):
            page = next((p for p in self.pages.values() if p.view is watched), None)
            if page is not None:
                self._row_menu_at_current(page)
                return True
        return super().eventFilter(watched, event)

    def row_menu(self, page: TablePage, index: QModelIndex) -> QMenu:
        """The context menu of a table row (of the empty area, if ``index`` is invalid)."""
        menu = QMenu(self)
        menu.addAction(self.copy_action)
        if index.isValid():
            model = page.model
            row = index.row()
            keys = {c.key: i for i, c in enumerate(model.COLUMNS)}
            cell = model.copy_text(row, index.column())
            menu.addAction("Copy Cell").triggered.connect(
                lambda: QGuiApplication.clipboard().setText(cell)
            )
            menu.addSeparator()
            domain = ""
            if "policy_domain" in keys:
                domain = model.copy_text(row, keys["policy_domain"])
            elif "policy_domains" in keys:
                domain = model.copy_text(row, keys["policy_domains"]).split(", ")[0]
            if domain:
                shown = domain_to_unicode(domain)
                menu.addAction(f"Filter by Domain “{menu_text(shown)}”").triggered.connect(
                    lambda: self.filter_bar.set_filter(
                        self.filter_bar.current.with_(policy_domain=domain)
                    )
                )
            reporter = (
                model.copy_text(row, keys["organization_name"])
                if "organization_name" in keys
                else ""
            )
            if reporter:
                menu.addAction(f"Filter by Reporter “{menu_text(reporter[:60])}”").triggered.connect(
                    lambda: self.filter_bar.set_filter(
                        self.filter_bar.current.with_(reporter=reporter)
                    )
                )
            if "result_type" in keys:
                rt = model.copy_text(row, keys["result_type"])
                menu.addAction(f"Filter by Result Type “{menu_text(rt[:60])}”").triggered.connect(
                    lambda: self.filter_bar.set_filter(
                        self.filter_bar.current.with_(result_type=rt)
                    )
                )
            if domain:
                menu.addSeparator()
                act = menu.addAction("Check DNS for This Domain")
                act.setEnabled(self._dns_host is not None)
                act.triggered.connect(lambda: self.check_dns(domain))
            if "additional_information" in keys:
                link = model.copy_text(row, keys["additional_information"]).strip()
                if link:
                    menu.addSeparator()
                    menu.addAction("Open Additional Information Link…").triggered.connect(
                        lambda: self.open_report_link(link)
                    )
        return menu

    def open_report_link(self, link: str) -> bool:
        """Open a URL a report gave, only after showing it in full and asking.

        Report links come from strangers: nothing is fetched on its own, and only
        http(s) links are offered to the browser.
        """
        url = QUrl(link, QUrl.ParsingMode.StrictMode)
        if not url.isValid() or url.scheme().lower() not in ("http", "https") or not url.host():
            self.prompts.error(self, "Not a web link", f"The report's additional information is not an http(s) link:\n\n{link}")
            return False
        text = (f"The report says more information is at:\n\n{link}\n\nThis address was written by the sender "
                "of the report. Open it in your web browser?")
        if not self.prompts.question(self, "Open a link from a report", text, "Open in Browser"):
            return False
        return bool(QDesktopServices.openUrl(url))

    def _text_in_focus(self) -> QLineEdit | QTextEdit | QPlainTextEdit | None:
        """The text field or text view with the keyboard focus, if any (an editable
        combo box's field too): Copy and Select All act on its text there (they copied
        and selected the table's rows)."""
        focus = QApplication.focusWidget()
        if isinstance(focus, QComboBox) and focus.lineEdit() is not None:
            return focus.lineEdit()
        return focus if isinstance(focus, (QLineEdit, QTextEdit, QPlainTextEdit)) else None

    def _copy(self) -> None:
        text = self._text_in_focus()
        if text is not None:
            text.copy()
        elif self.current_page() is not None:
            self.copy_selection()

    def _select_all(self) -> None:
        text = self._text_in_focus()
        if text is not None:
            text.selectAll()
            return
        page = self.current_page()
        if page is not None and page.select_all() < page.model.rowCount():
            self.statusBar().showMessage(
                f"Selected the first {format_int(MAX_SELECT_ALL_ROWS)} of {format_int(page.model.rowCount())} rows, "
                "the most Select All takes (File → Export Visible Table writes them all)", 8000)

    def _escape(self) -> None:
        """Escape cancels the DNS check in view, else the import (one action for both: the
        DNS tab's own and this one were ambiguous there, and neither ran)."""
        dns = self._dns
        if dns is not None and self.tabs.currentWidget() is self._dns_host and dns.running:
            dns.cancel()
        else:
            self.cancel_import()

    def _show_detail_pane(self, on: bool) -> None:
        """F6: the pane beside a table (Charts and DNS have none)."""
        self.detail.setVisible(on and self.current_page() is not None)

    def _focus_search(self) -> None:
        self.filter_bar.text_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.filter_bar.text_edit.selectAll()

    def _update_row_count(self) -> None:
        self._count_generation += 1  # a count still running for an earlier view is stale
        page = self.current_page()
        self._read_signposts(page)  # (those of a view gone stop)
        if page is None:
            self.rows_label.setText("")
            return
        model = page.model
        n = model.rowCount()
        if model.counted:
            self.rows_label.setText(f"{format_int(n)} row{'s' if n != 1 else ''}")
            return
        if model.canFetchMore(QModelIndex()) or model.capped:
            self.rows_label.setText(f"{format_int(n)}+ rows")
        else:  # as many as counted before a reload, counted again now
            self.rows_label.setText(f"about {format_int(n)} rows")
        self._count_rows(page)

    def _count_rows(self, page: TablePage) -> None:
        """Count the matching rows in the background (COUNT(*) can take a while on big indexes)."""
        generation = self._count_generation
        sql, params = page.model.count_query()
        db = self.db_path

        def job(_task: Task[int]) -> int:
            with closing(_read_only(db)) as conn:
                return int(conn.execute(sql, params).fetchone()[0])

        def done(n: int) -> None:
            # The table becomes as long as the count: its far rows are read when shown.
            # A count that disagrees with the rows loaded saw the index change: the
            # reload that follows counts again.
            if generation == self._count_generation and self.current_page() is page and page.model.set_total(n):
                self._update_row_count()

        self._run_background(job, done, lambda e: log.debug("count failed: %s", e))

    def _read_signposts(self, page: TablePage | None) -> None:
        """Read the signposts of ``page``, the table in view, once counted, in the
        background (SqlTableModel.signpost_reader): from then on a jump anywhere in it
        reads its rows at once. One read at a time, for the table in view only: one for
        another view (another table, filter, sort or count) stops."""
        reading = self._signposts_read
        if reading is not None and reading[0] is page and not reading[1].stale():
            return
        signposts = page.model.signpost_reader() if page is not None else None
        self._signposts_read = None if signposts is None or page is None else (page, signposts)
        if self._signposts_read is None:
            return
        mine = self._signposts_read
        db = self.db_path

        def job(task: Task[list[Any]]) -> list[Any]:
            with closing(_read_only(db)) as conn:
                conn.set_progress_handler(
                    lambda: int(task.cancelled or self._signposts_read is not mine or mine[1].stale()), SIGNPOST_CHECK_OPS)
                return mine[1].read(conn)

        def finish(rows: list[Any] | None) -> None:
            if self._signposts_read is mine:
                self._signposts_read = None
                if rows is not None:
                    mine[1].give(rows)

        def failed(e: BaseException) -> None:  # (stopped, mostly)
            log.debug("no signposts: %s", e)
            finish(None)

        self._run_background(job, finish, failed, pool=self._signpost_pool)

    def _read_far(self, job: Callable[[sqlite3.Connection], Any], done: Callable[[Any], None]) -> None:
        """The tables' reader of far blocks (SqlTableModel.set_far_reader): one read at a
        time, on a connection of its own; of the reads asked for meanwhile, the two latest
        wait (a table shows at most two blocks at once) and older ones are dropped (a drag
        of the scroll bar asks for many; where it stops is what matters)."""
        self._far_waiting.append((job, done))
        while len(self._far_waiting) > 2:
            _, dropped = self._far_waiting.pop(0)
            QTimer.singleShot(0, self, lambda dropped=dropped: dropped(None))  # not from inside a paint
        self._next_far_read()

    def _next_far_read(self) -> None:
        if self._far_busy or not self._far_waiting:
            return
        job, done = self._far_waiting.pop(0)
        self._far_busy = True
        db = self.db_path

        def run(_task: Task[Any]) -> Any:
            with closing(_read_only(db)) as conn:
                return job(conn)

        def finish(result: Any) -> None:
            self._far_busy = False
            done(result)
            self._next_far_read()

        def failed(e: BaseException) -> None:  # (the database busy, say): asked for again in a second, if shown
            log.warning("could not read table rows: %s", e)
            self._far_busy = False
            QTimer.singleShot(1000, self, lambda: done(None))
            self._next_far_read()

        self._run_background(run, finish, failed)

    def _run_background(
        self,
        job: Callable[[Task[Any]], Any],
        on_result: Callable[[Any], None],
        on_error: Callable[[BaseException], None],
        on_progress: Callable[[int, int, str], None] | None = None,
        pool: QThreadPool | None = None,
    ) -> Task[Any]:
        """Run a job (on ``pool``, or the shared one), counted in ``busy`` until its result
        or error has been handled (and cancelled when the window closes)."""
        holder: list[Task[Any]] = []

        def finish(handler: Callable[[Any], None], value: Any) -> None:
            if holder:
                self._background.discard(holder[0])
            handler(value)

        task = run_task(
            job, on_result=lambda r: finish(on_result, r), on_error=lambda e: finish(on_error, e),
            on_progress=on_progress, pool=pool,
        )
        holder.append(task)
        self._background.add(task)
        return task

    def _prepare_sort_indexes(self) -> None:
        """Create the indexes that keep every column sort fast (once per index, in the background)."""
        try:
            if not missing_sort_indexes(self.conn):
                return
        except sqlite3.Error:
            return
        db = self.db_path

        def job(task: Task[int]) -> int:
            with Index(db) as idx:
                return ensure_sort_indexes(idx.conn, lambda: task.cancelled)

        self._run_background(
            job,
            lambda n: log.info("created %s sort indexes", n),
            lambda e: log.warning("could not create sort indexes: %s", e),
        )

    @property
    def busy(self) -> bool:
        """True while an import or a background query runs."""
        return self.importer.running or bool(self._background)

    def _on_import_started(self, paths: list[str]) -> None:
        self.banner.setVisible(True)
        self.progress_bar.setVisible(True)
        self.progress_bar.setRange(0, 0)
        self.cancel_button.setVisible(True)
        self.log_button.setVisible(False)
        self.close_banner_button.setVisible(False)
        what = paths[0] if len(paths) == 1 else f"{len(paths)} inputs"
        self.banner_label.setText(f"Importing {what}…")
        self._cancel_requested = False
        last = self.statusBar().currentMessage()
        if last and last == self._last_summary:  # still shown (one queued behind it starts now)
            self.statusBar().showMessage(f"Last import: {last[0].lower()}{last[1:]}", 10000)

    def _on_import_progress(self, done: int, total: int, current: str) -> None:
        if current == INDEXING:  # a bulk import's last step, of unknown length
            self.progress_bar.setRange(0, 0)
            if self._cancel_requested:
                self.banner_label.setText("Cancelling: building the indexes of what was imported…")
            else:
                self.banner_label.setText(f"Read {done} of {total} files; building the indexes…")
            self.banner_label.setToolTip("")
            return
        self.progress_bar.setRange(0, max(total, 1))
        self.progress_bar.setValue(done)
        if not self.importer.running or self.banner_label.text() != "Cancelling…":
            self.banner_label.setText(f"Importing {done} of {total}: {os.path.basename(current)}")
            self.banner_label.setToolTip("")

    def _on_import_finished(self, result: ImportResult) -> None:
        self.refresh_tables()
        self._prepare_sort_indexes()  # (a bulk import leaves them to the window)
        self._show_summary(result)
        self.import_finished.emit(result)

    def _show_summary(self, result: ImportResult) -> None:
        parts = [
            f"{format_int(result.imported)} imported",
            f"{format_int(result.duplicates)} already in the index",
        ]
        if result.skipped:
            parts.append(f"{len(result.skipped)} skipped")
        if result.failed:
            parts.append(f"{len(result.failed)} failed")
        if result.cancelled:
            head = "Import cancelled"
        elif self._cancel_requested:  # it was done before the cancel told
            head = "Import finished before it could be cancelled"
        else:
            head = "Import finished"
        text = f"{head}: " + ", ".join(parts) + "."
        self.banner_label.setText(text)
        self.progress_bar.setVisible(False)
        self.cancel_button.setVisible(False)
        self.log_button.setVisible(bool(result.skipped or result.failed))
        self.close_banner_button.setVisible(True)
        self._last_summary = text
        self.statusBar().showMessage(text, 10000)

    def _on_import_failed(self, reason: str) -> None:
        self.banner_label.setText(f"Import failed: {reason}")
        self.progress_bar.setVisible(False)
        self.cancel_button.setVisible(False)
        self.close_banner_button.setVisible(True)
        self.refresh_tables()
        self._prepare_sort_indexes()

    def check_index_integrity(self) -> None:
        """Run SQLite's integrity check (and ours) in the background; offer a rebuild."""
        from tlsrpt_gui.core.maintenance import IntegrityResult, check_index

        db = self.db_path
        self.statusBar().showMessage("Checking the index…")

        def job(_task: Task[IntegrityResult]) -> IntegrityResult:
            return check_index(db)

        def done(result: IntegrityResult) -> None:
            self.statusBar().clearMessage()
            self.last_integrity = result
            if result.status == "damaged":
                text = (f"{result.message}\n\nRebuild it the next time tlsrpt-gui starts? Nothing is deleted: "
                        "the damaged file is moved aside.")
                if self.prompts.question(self, "The index is damaged", text, "Rebuild at Next Start"):
                    from tlsrpt_gui.ui.application import REBUILD_KEY

                    self.settings.setValue(REBUILD_KEY, str(db))
                    self.settings.sync()
                    self.prompts.information(self, "Rebuild planned", "Quit and start tlsrpt-gui again to rebuild the index.")
            elif result.status == "stale":
                if self.prompts.question(self, "Chart summaries out of step", f"{result.message}\n\nCount them again now?",
                                         "Count Again"):
                    self.recount_summaries()
            elif result.ok:
                self.prompts.information(self, "Index checked", result.message)
            else:
                self.prompts.error(self, "Index not checked", result.message)

        def failed(exc: BaseException) -> None:
            self.statusBar().clearMessage()
            self.prompts.error(self, "Index not checked", str(exc))

        self._run_background(job, done, failed)

    def recount_summaries(self) -> None:
        """Count the chart summaries again from the rows, in the background (what Check
        Index offers when they are out of step), then show the tables and charts again."""
        from tlsrpt_gui.core.maintenance import recount_summaries

        if self.importer.running:
            self.prompts.error(self, "Summaries not counted", "An import is under way: check the index again once it is done.")
            return
        db = self.db_path
        self.statusBar().showMessage("Counting the chart summaries again…")

        def job(_task: Task[None]) -> None:
            recount_summaries(db)

        def done(_result: None) -> None:
            self.statusBar().clearMessage()
            self.refresh_tables()
            self.prompts.information(self, "Summaries counted", "The chart summaries were counted again from the reports.")

        def failed(exc: BaseException) -> None:
            self.statusBar().clearMessage()
            self.prompts.error(self, "Summaries not counted", str(exc))

        self._run_background(job, done, failed)

    def show_preferences(self) -> None:
        """Edit → Preferences: a window-modal dialog that does not block the event loop."""
        from tlsrpt_gui.ui.preferences import PreferencesDialog

        dlg = PreferencesDialog(self.settings, self)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        if self._dns is not None:  # (one built later reads the settings then)
            dlg.settings_saved.connect(self._dns.refresh_settings)
        dlg.open()
        self.preferences_dialog = dlg

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._parser_server_timer.isActive() and not self._parser_server_started:
            self._parser_server_timer.start(START_PARSER_SERVER_AFTER_SHOW_MS)
        if self._charts_import is None and not self._charts_import_timer.isActive():
            self._charts_import_timer.start(IMPORT_CHARTS_AFTER_SHOW_MS)

    def event(self, event: QEvent) -> bool:
        # The first paint is out: the Charts tab's modules can start importing (the
        # thread shares the interpreter, so not before; showEvent is the fallback).
        if (event.type() == QEvent.Type.Paint and self._charts_import is None
                and self._charts_import_timer.remainingTime() > IMPORT_CHARTS_AFTER_PAINT_MS):
            self._charts_import_timer.start(IMPORT_CHARTS_AFTER_PAINT_MS)
        return super().event(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._closing:  # (asked again while it waits below)
            event.ignore()
            return
        self._closing = True
        self._stop_background()
        self.save_settings()
        self._wait_for_background()
        super().closeEvent(event)

    def _stop_background(self) -> None:
        """Start nothing more, and cancel what runs: the import, checks and chart jobs."""
        self._charts_import_timer.stop()
        self._parser_server_timer.stop()
        self._charts_when_idle.stop()
        if self._dns is not None:
            self._dns.shutdown()
        self.importer.cancel()
        for task in list(self._background):
            task.cancel()

    def _wait_for_background(self) -> None:
        """Let a cancelled import finish what it must (the groups being written, then the
        indexes and summaries a bulk import deferred) before the app exits: the window
        answers meanwhile and says why it waits."""
        if self._charts_import is not None:
            # (a daemon thread importing Qt-based modules while PySide tears Qt down at
            # exit is a hazard: the window closed within a second or so of its first paint)
            self._charts_import.join(IMPORT_JOIN_S)
        pools = self._pools()

        def done(ms: int) -> bool:
            return all(pool.waitForDone(ms) for pool in pools)

        if done(100):
            return
        note = QProgressDialog("Stopping the import: completing the index…", "", 0, 0, self)
        note.setWindowTitle(tlsrpt_gui.DISPLAY_NAME)
        note.setCancelButton(None)  # type: ignore[arg-type]
        note.setMinimumDuration(0)
        note.show()
        while not done(50):
            QApplication.processEvents()
        note.close()

    def _pools(self) -> tuple[QThreadPool, ...]:
        """The thread pools of the window's background jobs: Qt's shared one and its own
        (the signposts' reads). Both are waited for before the window goes: a job left in
        its own ran on as the interpreter ended and Qt deleted the window, and crashed the
        process on its way out (windows closed just after their first paint: 3 in 52)."""
        return (QThreadPool.globalInstance(), self._signpost_pool)

    def shutdown(self) -> None:
        """Wait for background work and close the index (tests and the screenshot mode)."""
        self._stop_background()
        for pool in self._pools():
            pool.waitForDone()
        self.index.close()
