"""Table models over the SQLite index: paged, sorted and filtered in SQL.

Each model shows one table kind (reports, policies, failure details). Rows are
fetched a page at a time through ``canFetchMore``/``fetchMore`` with *keyset*
paging: the next page starts after the last row's sort key, so every page is an
index range scan whatever the depth (no ``OFFSET``). Every sort key ends with the
row id, a unique tiebreaker. ``sort()`` runs ``ORDER BY`` in SQL; the shared
:class:`~tlsrpt_gui.core.query.Filter` becomes the ``WHERE`` clause.
"""

from __future__ import annotations

import html
import sqlite3
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import IO, Any, ClassVar, Final, Literal, cast

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QModelRoleData,
    QModelRoleDataSpan,
    QObject,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QBrush, QColor, QFont, QGuiApplication, QPalette

from tlsrpt_gui.core.export import FORMULA_FIRST, neutralise, write_rows
from tlsrpt_gui.core.query import (
    Filter,
    TableKind,
    TextValues,
    common_fields,
    has_policy_counts,
    text_values,
)
from tlsrpt_gui.core.report import result_category
from tlsrpt_gui.core.rollups import exact_rows
from tlsrpt_gui.ui.formatting import (
    TimeMode,
    domain_to_unicode,
    domains_to_unicode,
    format_date,
    format_datetime,
    format_int,
    format_percent,
    format_period,
    iso_utc,
    json_list,
    visible_text,
)
from tlsrpt_gui.ui.palette import current_palette

#: the index row id of the row (int)
ROW_ID_ROLE: Final = Qt.ItemDataRole.UserRole + 1
#: the ``reports.id`` the row belongs to (int)
REPORT_ID_ROLE: Final = Qt.ItemDataRole.UserRole + 2
#: the cell as copied to the clipboard: A-label domains, ISO dates, raw numbers (str)
COPY_ROLE: Final = Qt.ItemDataRole.UserRole + 3
#: the raw SQL value(s) of the cell (tuple)
RAW_ROLE: Final = Qt.ItemDataRole.UserRole + 4

#: the roles a row's cells are shown with, kept per row once shown (see SqlTableModel._cells)
_DISPLAY: Final = int(Qt.ItemDataRole.DisplayRole)
_CELL_ROLES: Final = {_DISPLAY: 0, int(Qt.ItemDataRole.ForegroundRole): 1, int(Qt.ItemDataRole.BackgroundRole): 2,
                      int(Qt.ItemDataRole.FontRole): 3, int(Qt.ItemDataRole.TextAlignmentRole): 4}
#: roles that data() answers beyond those (the others it never does)
_OTHER_ROLES: Final = frozenset(int(r) for r in (Qt.ItemDataRole.ToolTipRole, ROW_ID_ROLE, REPORT_ID_ROLE, COPY_ROLE, RAW_ROLE))
#: the most rows whose cells are kept (a screenful is about 30; a drag shows many)
_MAX_CELL_ROWS: Final = 2000
_LEFT: Final = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
_RIGHT: Final = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
Cell = tuple[str, QBrush | None, QBrush | None, QFont | None, int]

PAGE_SIZE: Final = 200
MAX_PAGE_SIZE: Final = 6400
#: the most rows a table loads (about 90 MB of them): scrolled through a million, the
#: window held 930 MB. Beyond them, the other sort order or a filter shows the rest,
#: and an export writes them all.
MAX_LOADED_ROWS: Final = 100_000
#: rows per block of the far rows (those past the pages loaded, once the rows are
#: counted), each read when first shown
BLOCK_ROWS: Final = 200
#: far blocks kept, the least recently used dropped first (40,000 rows)
MAX_BLOCKS: Final = 200
#: a far block whose read walks about this many rows or more (the rows between it and
#: the nearest row in memory, over the share of the table's rows that match) is read in
#: the background, when the window gives a reader (see SqlTableModel.set_far_reader):
#: the walk to the middle of a common result type's rows took 1.8 s at a million rows,
#: and one of a domain's 9,000 rows sorted by HELO a second
FAR_ROWS: Final = 20_000
#: once a spanned table is counted, the window reads the keys of every this-many-th row
#: in the background (its signposts: one walk of the rows in sort order); a far block is
#: then read from the nearest of them, walking fewer matching rows than that
SIGNPOST_ROWS: Final = 1000
#: a read that skips at least this many rows finds the row before its first by the sort
#: keys alone (see _Query.by_keys)
KEYS_FIRST_ROWS: Final = 1000
#: a far read whose walk in sort order would check more than this many times as many rows
#: as the filter matches finds its start among the matching rows, read through the
#: filter's indexes and sorted (see _Query.seek_where): a reporter's 120,000 of 900,000
#: failure rows, the middle sorted by HELO, 0.53 s walked and 0.25 s sorted
SEEK_WALK_RATIO: Final = 2.0
#: the signposts of a filtered table whose filter matches at most this share of its rows
#: are read the same way (one sort of the matching rows, not a walk of them all: 1.1-2.7 s
#: walked, 0.3-0.9 s sorted for a reporter or common free text at a million rows)
SEEK_SIGNPOST_SHARE: Final = 0.4

Kind = Literal[
    "text", "int", "percent", "date", "datetime", "period", "domain", "domains", "list", "source"
]
_Index = QModelIndex | QPersistentModelIndex

def _failure() -> QBrush:
    return QBrush(QColor(current_palette().failure))


def _warning() -> QBrush:
    return QBrush(QColor(current_palette().policy_kinds["sts-testing"]))


def _rate(rate: float) -> QBrush:
    """A success rate coloured as the charts colour it (green, amber below 99 %, red below 90 %)."""
    return QBrush(current_palette().rate_colour(rate))


def _failure_background() -> QBrush:
    palette = current_palette()
    colour = QColor(palette.failure)
    colour.setAlpha(40 if palette.dark else 28)
    return QBrush(colour)


@dataclass(frozen=True, slots=True)
class Column:
    """One table column: what to select, how to sort it and how to show it."""

    key: str
    title: str
    exprs: tuple[str, ...]
    #: index-friendly ORDER BY expressions; the row id is appended as tiebreaker
    sort: tuple[str, ...]
    kind: Kind = "text"
    tip: str = ""

    @property
    def numeric(self) -> bool:
        return self.kind in ("int", "percent")


def tooltip_text(text: str) -> str:
    """Tool tips render rich text when it looks like HTML: escape so they show it literally."""
    if not text:
        return ""
    return "<p style='white-space:pre-wrap'>" + html.escape(text, quote=False) + "</p>"


def _copy_of(col: Column, v: tuple[Any, ...]) -> str:
    """A cell's values as copied: A-label domains, ISO dates, lists joined by " | "."""
    match col.kind:
        case "domain" | "domains" | "text":
            return "" if v[0] is None else str(v[0])
        case "int":
            return "" if v[0] is None else str(v[0])
        case "percent":
            return "" if v[0] is None else f"{float(v[0]) * 100:.1f}"
        case "date" | "datetime":
            return iso_utc(v[0])
        case "period":
            return f"{iso_utc(v[0])}/{iso_utc(v[1])}"
        case "list":
            return " | ".join(json_list(v[0]))
        case "source":
            return f"{v[0]}:{v[1]}" if v[1] else str(v[0] or "")
    return ""  # pragma: no cover


def _export_of(col: Column, v: tuple[Any, ...]) -> Any:
    """A cell's values as exported: numbers as numbers, lists as their JSON text
    (write_rows joins it for CSV and decodes it for JSON), the rest as copied."""
    if col.kind in ("int",):
        return v[0]
    if col.kind == "percent":
        return None if v[0] is None else round(float(v[0]) * 100, 2)
    if col.kind == "list":
        return v[0]
    return _copy_of(col, v)


def _exported(col: Column, a: int) -> Callable[[Row], Any]:
    """A function of a query row that gives ``col``'s cell as :func:`_export_of` gives
    it, neutralised, the column's values starting at ``a`` in the row. Made once per
    export: the dispatch on the column's kind and the slice of its values, done for
    each cell, were most of the 24 s that a CSV export of 900,000 failure rows took."""
    first = FORMULA_FIRST
    match col.kind:
        case "int" | "list":  # (a number, or a list's JSON text, unless a stranger's text got in)
            def value(row: Row) -> Any:
                v = row[a]
                return "'" + v if isinstance(v, str) and v[:1] in first else v
            return value
        case "percent":
            return lambda row: None if row[a] is None else round(float(row[a]) * 100, 2)
        case "text" | "domain" | "domains":
            def text(row: Row) -> str:
                value = row[a]
                if value is None:
                    return ""
                value = str(value)
                return "'" + value if value[:1] in first else value
            return text
        case "date" | "datetime":
            return lambda row: iso_utc(row[a])
        case "period":
            return lambda row: f"{iso_utc(row[a])}/{iso_utc(row[a + 1])}"
    b = a + len(col.exprs)
    return lambda row: neutralise(_export_of(col, tuple(row[a:b])))


def _counted(rows: Iterator[tuple[Any, ...]], each_row: Callable[[int], None]) -> Iterator[tuple[Any, ...]]:
    for n, row in enumerate(rows):
        each_row(n)
        yield row


def _one_line(text: str) -> str:
    """A stranger's text on one line, its bidi controls shown (see :func:`visible_text`)."""
    return visible_text(" ".join(text.split()) if ("\n" in text or "\r" in text or "\t" in text) else text)


Row = tuple[Any, ...]


def _order_by(keys: Sequence[str], desc: bool) -> str:
    """An ORDER BY list: ``keys``, each descending if ``desc``."""
    d = " DESC" if desc else ""
    return ", ".join(k + d for k in keys)


#: ids looked up in one statement (see _Query._rows_of_keys)
_IDS_PER_READ: Final = 2000
#: _read_plan's answers, per database file, schema version and query (SQLite plans
#: alike whatever the parameters' values: the index has no statistics)
_PLANS: dict[tuple[str, int, str, str, str, bool], tuple[bool, bool]] = {}


def _read_plan(conn: sqlite3.Connection, query: _Query) -> tuple[bool, bool]:
    """Whether SQLite reads ``query``'s sort keys from one index alone (:meth:`_Query.covered`
    of :meth:`_Query.by_keys`), and whether it sorts ``query``'s rows itself (a temporary
    B-tree), remembered: a query plan costs a tenth of a millisecond, and every page and
    far block asks. (The answers only choose how the rows are read, never which.)"""
    file, version = conn.execute(
        "SELECT (SELECT file FROM pragma_database_list WHERE name = 'main'), schema_version FROM pragma_schema_version"
    ).fetchone()
    key = (str(file), int(version), query.select, query.table, query.where, query.desc)
    known = _PLANS.get(key)
    if known is None:
        if len(_PLANS) >= 512:
            _PLANS.clear()
        known = _PLANS[key] = (query.by_keys().covered(conn), query.sorts_itself(conn))
    return known


@dataclass(frozen=True, slots=True)
class _Query:
    """A table's rows as filtered and sorted when it was made: reads them on any
    connection (the GUI thread's, or a background thread's own)."""

    select: str
    table: str
    where: str
    params: tuple[Any, ...]
    keys: tuple[str, ...]
    desc: bool
    #: the filter as a rare value's is written, each value's index driving the query (see
    #: Filter.where): set, a read far into the rows (and the signposts) reads the matching
    #: rows' sort keys that way and sorts them, instead of walking the sort order (see
    #: SqlTableModel._seeking)
    seek_where: str = ""
    seek_params: tuple[Any, ...] = ()
    #: how many columns ``select`` has (0: not known)
    width: int = 0
    #: read each statement's rows in one step of SQLite (core.rollups.exact_rows), not one by
    #: one: for reads in the background, which wait for the GUI thread's hold on the GIL
    #: once a row (at a million rows, during a drag of the scroll bar, a far block took
    #: 117-344 ms read row by row and 74-213 ms so; 24-114 ms with the window idle)
    at_once: bool = False

    def _read(self, conn: sqlite3.Connection, sql: str, params: Sequence[Any], width: int | None = None) -> list[Row]:
        """The rows of ``sql``, a select of ``width`` columns (this query's own if None)."""
        width = self.width if width is None else width
        if self.at_once and width:
            return exact_rows(conn, sql, params, width=width)
        return list(conn.execute(sql, params))

    def order(self, reverse: bool = False) -> str:
        return _order_by(self.keys, self.desc != reverse)

    def _seek_order(self, reverse: bool = False) -> str:
        """The sort order, each key behind a unary ``+`` (as the signposts' ``ORDER BY``), so
        that no index gives it: SQLite drives from the filter's indexes and sorts."""
        return _order_by([f"+({k})" for k in self.keys], self.desc != reverse)

    def _sought(self, conn: sqlite3.Connection, limit: int, offset: int, reverse: bool,
                after: str = "1", aparams: Sequence[Any] = ()) -> list[Row]:
        """``limit`` rows from the ``offset``-th of those matching ``after`` too, read through
        the filter's indexes (:attr:`seek_where`) and sorted."""
        sql = (f"SELECT {self.select} FROM {self.table} WHERE ({self.seek_where}) AND ({after}) "
               f"ORDER BY {self._seek_order(reverse)} LIMIT ? OFFSET ?")
        return self._read(conn, sql, [*self.seek_params, *aparams, limit, offset])

    def count(self, conn: sqlite3.Connection, cond: str = "1", cparams: Sequence[Any] = ()) -> int:
        """How many rows match (and ``cond``)."""
        sql = f"SELECT COUNT(*) FROM {self.table} WHERE ({self.where}) AND {cond}"
        return int(conn.execute(sql, [*self.params, *cparams]).fetchone()[0])

    def rows_at(self, conn: sqlite3.Connection, offset: int, limit: int, reverse: bool = False) -> list[Row]:
        """``limit`` rows from the ``offset``-th, in sort order (``reverse``: from the end)."""
        if offset >= KEYS_FIRST_ROWS and not self.keys_only:
            before = self.by_keys().rows_at(conn, offset - 1, 1, reverse)
            return self.rows_after(conn, before[0], limit, reverse) if before else []
        if self._keys_first(conn):
            return self._rows_of_keys(conn, lambda: self.by_keys().rows_at(conn, offset, limit, reverse))
        if offset >= KEYS_FIRST_ROWS and self.seek_where:
            return self._sought(conn, limit, offset, reverse)
        sql = f"SELECT {self.select} FROM {self.table} WHERE ({self.where}) ORDER BY {self.order(reverse)} LIMIT ? OFFSET ?"
        return self._read(conn, sql, [*self.params, limit, offset])

    @property
    def keys_only(self) -> bool:
        return self.select == ", ".join(self.keys)

    def _keys_first(self, conn: sqlite3.Connection) -> bool:
        """Whether rows are read as their sort keys first, then by id:

        * where one index holds the keys and every column the filter reads
          (:meth:`covered`), the walk to the rows checks each in that index. Reading
          whole rows, SQLite took a narrower index without those columns and checked
          each row passed in its table row: a block of 200 rows after a reporter whose
          last rows free text naming MX hosts ("mx2") hardly matches, at a million
          rows, 98-130 ms -> 19 ms (the keys 18 ms);
        * where SQLite sorts the matching rows (it drives the query from a filter: a
          range of dates), it sorts their keys, not whole rows: half a year of a million
          failure rows, the first page by additional information, 299-364 ms -> 78-99 ms."""
        if self.keys_only or self.seek_where:
            return False
        keys_covered, sorts = _read_plan(conn, self)
        # (unfiltered, a walk through the sort index reads the table rows it returns, no other)
        return (keys_covered and self.where != "1") or sorts

    def _rows_of_keys(self, conn: sqlite3.Connection, read_keys: Callable[[], list[Row]]) -> list[Row]:
        """The whole rows of the sort keys ``read_keys`` reads (the id last), in their
        order, read in one snapshot with them."""
        began = not conn.in_transaction
        if began:
            conn.execute("BEGIN")
        try:
            ids = [row[-1] for row in read_keys()]
            by_id: dict[Any, Row] = {}
            at = len(self.keys) - 1  # (a whole row starts with the keys, the id last)
            for start in range(0, len(ids), _IDS_PER_READ):
                chunk = ids[start : start + _IDS_PER_READ]
                sql = f"SELECT {self.select} FROM {self.table} WHERE {self.keys[-1]} IN ({', '.join('?' * len(chunk))})"
                by_id.update((row[at], row) for row in self._read(conn, sql, chunk))
        finally:
            if began:
                conn.rollback()  # (nothing written: ends the read)
        return [by_id[i] for i in ids if i in by_id]

    def by_keys(self) -> _Query:
        """This query, selecting the sort keys alone: an index that holds them and every
        column the filter reads answers it without a table row. A read that skips many
        rows finds the one before its own first that way (KEYS_FIRST_ROWS): a common
        result type's middle sorted by MX host took 0.3-1.0 s at a million rows, each
        row skipped read from its table row to check its type."""
        return replace(self, select=", ".join(self.keys), width=len(self.keys))

    def signposts(self, conn: sqlite3.Connection) -> list[Row]:
        """The sort keys (and id) of every SIGNPOST_ROWS-th row, in sort order: the rows
        numbered SIGNPOST_ROWS - 1, 2 * SIGNPOST_ROWS - 1, … from 0.

        Where an index holds the sort keys and every column the filter reads, each is
        found from the one before it (a hop of SIGNPOST_ROWS rows, skipped inside the
        index): a tenth of the time of the one walk with ``ROW_NUMBER()`` (whose window
        costs about a microsecond a row: 0.8-1.3 s at a million rows). Else that walk,
        which reads each table row once, as the hops would too."""
        by_keys = self.by_keys()
        if not self.seek_where and by_keys.covered(conn):  # (a query that seeks is never covered: see _seeking)
            return by_keys.hops(conn)
        names = ", ".join(f"k{i}" for i in range(len(self.keys)))
        keys = ", ".join(f"{k} AS k{i}" for i, k in enumerate(self.keys))
        where, params, order = ((self.seek_where, self.seek_params, self._seek_order()) if self.seek_where
                                else (self.where, self.params, self.order()))
        sql = (f"SELECT {names} FROM (SELECT {keys}, ROW_NUMBER() OVER (ORDER BY {order}) AS n "
               f"FROM {self.table} WHERE ({where})) WHERE n % {SIGNPOST_ROWS} = 0")
        return self._read(conn, sql, params, len(self.keys))

    def covered(self, conn: sqlite3.Connection) -> bool:
        """True if SQLite reads the rows in sort order by walking one index alone: no table
        row, no sort of its own, no subquery (each hop would make its list again), and no
        search (the values of an ``IN`` list are each sought in turn, from the first,
        whatever comes after: each hop walked all the rows before it)."""
        sql = f"EXPLAIN QUERY PLAN SELECT {self.select} FROM {self.table} WHERE ({self.where}) ORDER BY {self.order()}"
        plan = [str(r[-1]) for r in conn.execute(sql, self.params)]
        return len(plan) == 1 and plan[0].startswith("SCAN") and "COVERING INDEX" in plan[0]

    def sorts_itself(self, conn: sqlite3.Connection) -> bool:
        """True if SQLite sorts the matching rows itself (in a temporary B-tree)."""
        sql = f"EXPLAIN QUERY PLAN SELECT {self.select} FROM {self.table} WHERE ({self.where}) ORDER BY {self.order()}"
        return any("TEMP B-TREE" in str(r[-1]) for r in conn.execute(sql, self.params))

    def hops(self, conn: sqlite3.Connection) -> list[Row]:
        """As :meth:`signposts`, each row found SIGNPOST_ROWS rows after the one before,
        all in one read transaction (one snapshot, as the one walk has)."""
        began = not conn.in_transaction
        if began:
            conn.execute("BEGIN")
        try:
            out = self.rows_at(conn, SIGNPOST_ROWS - 1, 1)
            while out and (after := self.rows_after(conn, out[-1], 1, skip=SIGNPOST_ROWS - 1)):
                out.extend(after)
        finally:
            if began:
                conn.rollback()  # (nothing written: ends the read)
        return out

    def segments_after(self, last: Row, reverse: bool = False) -> list[tuple[str, list[Any], str, list[Any]]]:
        """The rows after ``last`` in sort order, per keyset segment (see :func:`keyset_parts`):
        its query (SQL and parameters, LIMIT and OFFSET to add) and its condition.

        Each query orders by the keys its segment leaves free: those it fixes (``k = ?``)
        would change nothing, but SQLite sorts by an expression key (a success rate) in a
        temporary B-tree even where it is fixed. 699,997 of a million reports have a rate
        of 100 %: each read in that tie sorted them all (0.5 s)."""
        desc = self.desc != reverse
        base = f"SELECT {self.select} FROM {self.table} WHERE ({self.where})"
        return [(f"{base} AND {cond} ORDER BY {_order_by(self.keys[free:], desc)} LIMIT ? OFFSET ?",
                 [*self.params, *cparams], cond, cparams)
                for cond, cparams, free in keyset_parts(self.keys, last[: len(self.keys)], desc)]

    def rows_after(self, conn: sqlite3.Connection, last: Row, limit: int, reverse: bool = False,
                   skip: int = 0) -> list[Row]:
        """The ``limit`` rows after ``last`` in sort order, past the first ``skip`` of
        them (``reverse``: those before it, last first)."""
        if skip >= KEYS_FIRST_ROWS and not self.keys_only:
            before = self.by_keys().rows_after(conn, last, 1, reverse, skip=skip - 1)
            return self.rows_after(conn, before[0], limit, reverse) if before else []
        if self._keys_first(conn):
            return self._rows_of_keys(conn, lambda: self.by_keys().rows_after(conn, last, limit, reverse, skip))
        if skip >= KEYS_FIRST_ROWS and self.seek_where:  # past ``last``: each segment's rows, as one condition
            parts = keyset_parts([f"+({k})" for k in self.keys], last[: len(self.keys)], self.desc != reverse)
            return self._sought(conn, limit, skip, reverse, " OR ".join(f"({cond})" for cond, _, _ in parts),
                                [v for _, cparams, _ in parts for v in cparams])
        # Every keyset segment in one statement, each ordered and limited as alone: SQLite
        # reads them in turn and stops once the rows are in, and the rows skipped are
        # walked once (read one segment at a time, a segment with fewer rows than those
        # skipped was walked twice, for its rows and then for its count).
        segments = self.segments_after(last, reverse)
        if not segments:
            return []
        sql = " UNION ALL ".join(f"SELECT * FROM ({seg})" for seg, _, _, _ in segments) + " LIMIT ? OFFSET ?"
        return self._read(conn, sql, [*(v for _, params, _, _ in segments for v in (*params, skip + limit, 0)),
                                      limit, skip])


@dataclass(frozen=True, slots=True)
class _BlockPlan:
    """How to read a far block: its length, and the rows to skip from the anchor (a row
    in memory, read after it or, backwards, before it; or, with none, the table's end)."""

    rows: int
    skip: int
    anchor: Row | None
    forward: bool

    def read(self, query: _Query, conn: sqlite3.Connection) -> list[Row | None]:
        rows: list[Row]
        if self.anchor is None:
            rows = query.rows_at(conn, self.skip, self.rows, reverse=True)[::-1]
        elif self.forward:
            rows = query.rows_after(conn, self.anchor, self.rows, skip=self.skip)
        else:
            rows = query.rows_after(conn, self.anchor, self.rows, reverse=True, skip=self.skip)[::-1]
        # fewer rows than counted: the index changed since (a reload follows); keep places
        padding: list[Row | None] = [None] * (self.rows - len(rows))
        return [*rows, *padding] if self.forward else [*padding, *rows]


@dataclass(frozen=True, slots=True)
class SignpostRead:
    """How a window reads a table's signposts (SqlTableModel.signpost_reader): ``read`` on
    a connection of its own, in the background; ``give`` the result to the model in the
    GUI thread (False if the rows moved meanwhile); ``stale`` says if they have (the read
    can stop)."""

    read: Callable[[sqlite3.Connection], list[Row]]
    give: Callable[[list[Row]], bool]
    stale: Callable[[], bool]


#: the reader a window gives its tables for far blocks: runs ``job`` on a connection of
#: its own in the background, then ``done`` with its result in the GUI thread (or with
#: None when it dropped the job for a later one, or it failed)
FarReader = Callable[[Callable[[sqlite3.Connection], list[Row | None]], Callable[[list[Row | None] | None], None]], None]


class SqlTableModel(QAbstractTableModel):
    """A read-only, paged, SQL-sorted table over one connection (GUI thread only)."""

    KIND: ClassVar[TableKind]
    FROM: ClassVar[str]
    ID: ClassVar[str]
    REPORT: ClassVar[str]
    COLUMNS: ClassVar[tuple[Column, ...]]
    #: extra values (after the columns) used for colours; names for :meth:`_extra`
    EXTRAS: ClassVar[tuple[str, ...]] = ()
    DEFAULT_SORT: ClassVar[tuple[int, Qt.SortOrder]] = (0, Qt.SortOrder.AscendingOrder)

    def __init__(
        self, conn: sqlite3.Connection, time_mode: TimeMode, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._use(conn)
        self._time = time_mode
        self._filter = Filter()
        #: filter fields matching many rows (see core.query.common_fields)
        self._common: frozenset[str] = frozenset()
        self._text_values: TextValues | None = None
        self._sort_column, self._order = self.DEFAULT_SORT
        self._rows: list[tuple[Any, ...]] = []
        self._exhausted = False
        #: MAX_LOADED_ROWS are loaded and more may match
        self._capped = False
        #: how many rows match, once counted (see set_total); rows past those loaded in
        #: pages are then read in blocks of BLOCK_ROWS when shown
        self._total: int | None = None
        #: the total is from before a reload, to be counted again: far rows are read
        #: from rows in memory only (counted from the end, they would be misplaced)
        self._total_stale = False
        #: the table's rows in all (estimated), for the cost of reading far rows
        self._table_rows = 0
        self._blocks: OrderedDict[int, list[Row | None]] = OrderedDict()
        #: far blocks read in the background now (see set_far_reader)
        self._pending: set[int] = set()
        self._reader: FarReader | None = None
        #: changes whenever far rows may move (a reset, a new count): reads begun before are stale
        self._generation = 0
        #: the sort keys of every SIGNPOST_ROWS-th row, once read (see signpost_reader)
        self._signposts: list[Row] = []
        self._view_query: _Query | None = None
        #: the view's query reading far rows through the filter's indexes (see _seeking),
        #: or the view's own where that is no faster (a filter that no index drives, a
        #: plan that walks one covering index)
        self._view_seek: _Query | None = None
        #: the cells of the rows shown lately, by the row's id(): see _cells
        self._cell_rows: dict[int, tuple[Row, list[Cell]]] = {}
        self._layout_sort()
        time_mode.changed.connect(self._on_time_mode)
        app = QGuiApplication.instance()
        if isinstance(app, QGuiApplication):  # (a theme set in Preferences changes the palette alone)
            app.styleHints().colorSchemeChanged.connect(self._forget_cells)
            app.paletteChanged.connect(self._forget_cells)
        self._fetch_page_into_reset()

    # ------------------------------------------------------------ public API

    @property
    def filter(self) -> Filter:
        return self._filter

    @property
    def sort_column(self) -> int:
        return self._sort_column

    @property
    def sort_order(self) -> Qt.SortOrder:
        return self._order

    @property
    def loaded_rows(self) -> int:
        return len(self._rows)

    @property
    def capped(self) -> bool:
        """True when the table holds the most rows it loads in pages, more may match,
        and they are not counted yet."""
        return self._capped and self._total is None

    @property
    def counted(self) -> bool:
        """True when every matching row has a row in the model: all are loaded, or they
        were counted (:meth:`set_total`) since the last reload."""
        return self._exhausted or (self._total is not None and not self._total_stale)

    def set_total(self, n: int) -> bool:
        """Make the model as long as the ``n`` rows that match (counted in the
        background): the rows past those loaded in pages are read in blocks when
        shown, so the scroll bar spans them all and the last row is a jump away.
        Returns False if ``n`` cannot be right (fewer than the rows loaded: the index
        changed since, and the reload that follows counts again)."""
        head = len(self._rows)
        current = self.rowCount()
        if n < head or (self._exhausted and self._total is None and n != head):
            return False
        was_stale, self._total_stale = self._total_stale, False
        if n == head:  # the pages ended exactly where the rows do
            if current > head:
                self.beginRemoveRows(QModelIndex(), head, current - 1)
                self._total = None
                self._drop_blocks()
                self.endRemoveRows()
            self._exhausted = True
            return True
        if n == current and self._total is not None:
            return True
        if was_stale:  # counted again after a reload: the far rows read since were read from
            # rows in memory, so they are where they are; but the block that ended at the
            # old length, and any past the new one, are read again
            for k in [k for k, block in self._blocks.items()
                      if head + k * BLOCK_ROWS + len(block) >= min(current, n)]:
                del self._blocks[k]
        elif self._total is not None:  # (never so far: a new count without a reload)
            self._drop_blocks()
        if n > current:
            self.beginInsertRows(QModelIndex(), current, n - 1)
            self._total = n
            self.endInsertRows()
        else:
            self.beginRemoveRows(QModelIndex(), n, current - 1)
            self._total = n
            self.endRemoveRows()
        if current > head:  # far rows shown before: read again
            self.dataChanged.emit(self.index(head, 0), self.index(n - 1, len(self.COLUMNS) - 1))
        return True

    def loaded_ids(self, first: int, last: int) -> list[tuple[int, int]]:
        """``(row, id)`` of the rows from ``first`` to ``last`` that are in memory (none read)."""
        head = len(self._rows)
        out = [(r, int(self._rows[r][self._nkeys - 1])) for r in range(max(first, 0), min(last + 1, head))]
        for k, block in self._blocks.items():
            start = head + k * BLOCK_ROWS
            for i, row in enumerate(block):
                if row is not None and first <= start + i <= last:
                    out.append((start + i, int(row[self._nkeys - 1])))
        return out

    def set_connection(self, conn: sqlite3.Connection) -> None:
        self._use(conn)
        self.reload()

    def _use(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        #: policy rows count their failure rows (see Filter.where)
        self._policy_counts = self.KIND == "policies" and has_policy_counts(conn)

    def set_filter(self, flt: Filter) -> None:
        if flt != self._filter:
            self._filter = flt
            self.reload()

    def reload(self, keep_rows: int = 0, total: int | None = None, count_until: float | None = None) -> None:
        """Re-read from the index (same filter and sort), loading at least ``keep_rows``
        rows. ``total``, the count before, is counted again now if that ends before
        ``count_until`` (time.monotonic()); else it keeps the model as long until it is
        counted (:meth:`set_total`), its far rows read from rows in memory only."""
        self.beginResetModel()
        self._clear()
        self._common = common_fields(self._conn, self._filter)
        self._text_values = text_values(self._conn, self._filter, self.KIND)
        self._fetch(max(PAGE_SIZE, keep_rows))
        if total is not None and not self._exhausted:
            n = self._count_until(count_until) if count_until is not None else None
            if n is not None and n > len(self._rows):
                self._total = n
            elif n is not None:
                self._exhausted = n == len(self._rows)
            elif total > len(self._rows):
                self._total, self._total_stale = total, True
        row = self._conn.execute(f"SELECT MAX({self.ID}) FROM {self.FROM}").fetchone()
        self._table_rows = int(row[0] or 0) if row else 0
        self.endResetModel()

    def refresh(self, count_until: float | None = None, reread: Iterable[int] = (), follow: int = -1,
                read_for: float = 0.0) -> None:
        """Reload after the index changed, keeping as many rows loaded as before; a table
        that spanned its rows is counted again now if that ends before ``count_until``,
        else it keeps its length until counted (either way the view stays where it was).

        Then, for ``read_for`` seconds at most, far rows (read in blocks) are read again:
        around where row ``follow`` is now, if it was in memory (rows added or removed
        before it move it), then at the places ``reread``; so the rows still there can be
        selected again by id."""
        moved = self._row(follow, read="never") if follow >= len(self._rows) else None
        self.reload(keep_rows=len(self._rows), total=self._total, count_until=count_until)
        try:
            with self._until(time.monotonic() + read_for):
                if moved is not None:
                    q = self._query()  # where it is now: the rows before it, counted
                    self._row(sum(q.count(self._conn, cond, cparams)
                                  for cond, cparams in keyset_segments(q.keys, moved[: len(q.keys)], not q.desc)))
                for row in reread:
                    self._row(row)
        except sqlite3.OperationalError:  # interrupted: the rest is read when shown
            pass

    def _count_until(self, deadline: float) -> int | None:
        try:
            with self._until(deadline):
                return self._query().count(self._conn)
        except sqlite3.OperationalError:  # interrupted: counted in the background instead
            return None

    @contextmanager
    def _until(self, deadline: float) -> Iterator[None]:
        """Queries on the model's connection are interrupted past ``deadline``."""
        if time.monotonic() > deadline:
            raise sqlite3.OperationalError("interrupted")
        self._conn.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
        try:
            yield
        finally:
            self._conn.set_progress_handler(None, 0)

    def row_id(self, row: int) -> int:
        """The row's id; -1 for a far row no longer there (the index shrank since it was counted)."""
        values = self._row(row)
        return -1 if values is None else int(values[self._nkeys - 1])

    def report_id(self, row: int) -> int:
        values = self._row(row)
        return -1 if values is None else int(values[self._nkeys])

    def index_is_empty(self) -> bool:
        """True if the index holds no report at all (not only none of this table's rows)."""
        return self._conn.execute("SELECT 1 FROM reports LIMIT 1").fetchone() is None

    def count_query(self) -> tuple[str, list[Any]]:
        where, params = self._where()
        return f"SELECT COUNT(*) FROM {self.FROM} WHERE {where}", params

    def _all_query(self) -> tuple[str, list[Any]]:
        where, params = self._where()
        return f"SELECT {self._select_list()} FROM {self.FROM} WHERE {where} ORDER BY {self._order_sql()}", params

    def exporter(self, columns: Sequence[int] | None = None) -> Callable[..., int]:
        """The export of the table as it is filtered and sorted now (all of it, not only
        the loaded rows): ``run(out, fmt, conn, each_row=None)`` writes it, reading
        through ``conn``, and may run later on another thread with its own connection;
        ``each_row`` is called with the rows written so far, and may raise to stop.

        Text that a spreadsheet would run as a formula is neutralised in every
        format: these files are opened by people, not parsed by a SIEM (the CLI's
        JSON export keeps values exactly as sent).
        """
        cols = list(range(len(self.COLUMNS))) if columns is None else list(columns)
        names = [self.COLUMNS[c].key for c in cols]
        sql, params = self._all_query()
        # the row layout of that query, fixed now: sorting the table meanwhile changes
        # the model's (the export read the new one, and failed or shifted its columns)
        cells = [_exported(self.COLUMNS[c], self._offsets[c]) for c in cols]

        def run(out: IO[str], fmt: Literal["csv", "json", "ndjson"], conn: sqlite3.Connection,
                each_row: Callable[[int], None] | None = None) -> int:
            rows: Iterator[tuple[Any, ...]] = iter(conn.execute(sql, params))
            if each_row is not None:
                rows = _counted(rows, each_row)
            values = ([cell(row) for cell in cells] for row in rows)
            return write_rows(out, names, values, fmt)

        return run

    def export(
        self,
        out: IO[str],
        fmt: Literal["csv", "json", "ndjson"],
        columns: Sequence[int] | None = None,
    ) -> int:
        """Write the filtered, sorted table now (see :meth:`exporter`)."""
        return self.exporter(columns)(out, fmt, self._conn)

    def copy_text(self, row: int, column: int) -> str:
        values = self._row(row)
        return "" if values is None else self._copy_value(column, values)

    # ------------------------------------------------------------ Qt overrides

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        if parent.isValid():
            return 0
        return len(self._rows) if self._total is None else self._total

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def canFetchMore(self, parent: _Index) -> bool:
        return not parent.isValid() and not self._exhausted and not self._capped and self._total is None

    def fetchMore(self, parent: _Index) -> None:
        if not self.canFetchMore(parent):
            return
        rows = self._next_rows(self._page_after(len(self._rows)))
        if rows:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(rows) - 1)
            self._rows.extend(rows)
            self.endInsertRows()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(self.COLUMNS):
            return
        if column == self._sort_column and order == self._order and self._rows:
            return
        # A new order is a new set of pages from SQL: a full reload (rows cannot be mapped
        # from the old pages to the new ones, so persistent indexes could not follow).
        self.beginResetModel()
        self._sort_column, self._order = column, order
        self._layout_sort()
        self._clear()
        self._fetch(PAGE_SIZE)
        self.endResetModel()

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.COLUMNS):
            return None
        col = self.COLUMNS[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return col.title
        if role == Qt.ItemDataRole.ToolTipRole:
            return tooltip_text(col.tip or col.title)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            h = Qt.AlignmentFlag.AlignRight if col.numeric else Qt.AlignmentFlag.AlignLeft
            return int(h | Qt.AlignmentFlag.AlignVCenter)
        return None

    # flags(): QAbstractTableModel's own (enabled, selectable, never has children). Qt asks
    # it for every cell of a selection; in Python, Select All on 60,000 rows took 9 s.

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.parent().isValid():
            return None
        r, c = index.row(), index.column()
        if not 0 <= c < len(self.COLUMNS):
            return None
        row = self._row(r, read="later")
        if row is None:
            return self._pending_data(r, int(role))
        at = _CELL_ROLES.get(int(role))
        if at is not None:
            return self._cells(row)[c][at]
        if role == Qt.ItemDataRole.ToolTipRole:
            return tooltip_text(self._tooltip(c, row))
        if role == ROW_ID_ROLE:
            return int(row[self._nkeys - 1])
        if role == REPORT_ID_ROLE:
            return int(row[self._nkeys])
        if role == COPY_ROLE:
            return self._copy_value(c, row)
        if role == RAW_ROLE:
            return self._values(c, row)
        return None

    def multiData(self, index: _Index, roleDataSpan: QModelRoleDataSpan | QModelRoleData) -> None:
        """Every role a view asks of a cell, in one call: the item delegates ask seven
        for each cell they paint (font, alignment, colours, check state, icon, text),
        and a call into Python for each cost a table's repaint half its time."""
        r, c = index.row(), index.column()
        row = self._row(r, read="later") if index.isValid() and 0 <= c < len(self.COLUMNS) else None
        cell = self._cells(row)[c] if row is not None else None
        items = [roleDataSpan] if isinstance(roleDataSpan, QModelRoleData) else cast(Iterable[QModelRoleData], roleDataSpan)
        for item in items:
            role = item.role()
            if cell is not None and (at := _CELL_ROLES.get(role)) is not None:
                value = cell[at]
            elif role in _OTHER_ROLES or (row is None and role in _CELL_ROLES):
                value = self.data(index, role)
            else:
                value = None
            if value is None:
                item.clearData()
            else:
                item.setData(value)

    def _pending_data(self, r: int, role: int) -> Any:
        """What a row not in memory shows: "…" while it is read in the background."""
        if self.is_pending(r):  # read in the background: filled in when it comes
            if role == _DISPLAY:
                return "…"
            if role == Qt.ItemDataRole.ForegroundRole:
                return QGuiApplication.palette().brush(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
        return None

    def _cells(self, row: Row) -> list[Cell]:
        """How ``row``'s cells show (text, colours, font, alignment), worked out once
        while it is shown: a repaint asks each again (a drag of the scroll bar, dozens
        of times a second)."""
        kept = self._cell_rows.get(id(row))
        if kept is not None and kept[0] is row:
            return kept[1]
        if len(self._cell_rows) >= _MAX_CELL_ROWS:
            self._cell_rows.clear()
        background = self._background(row)
        cells = [(self._display(c, row), self._foreground(c, row), background, self._font(c, row),
                  _RIGHT if col.numeric else _LEFT)
                 for c, col in enumerate(self.COLUMNS)]
        self._cell_rows[id(row)] = (row, cells)
        return cells

    def _forget_cells(self) -> None:
        """Work the cells out again when next shown (the time zone or colours changed)."""
        self._cell_rows.clear()

    # ------------------------------------------------------------ internals

    def _layout_sort(self) -> None:
        """Compute the row layout for the current sort: keys…, id, report id, columns…, extras…"""
        col = self.COLUMNS[self._sort_column]
        keys = list(col.sort)
        keys.append(self.ID)
        self._keys = keys
        self._nkeys = len(keys)
        offsets: list[int] = []
        pos = self._nkeys + 1
        for c in self.COLUMNS:
            offsets.append(pos)
            pos += len(c.exprs)
        self._offsets = offsets
        self._extra_pos = pos

    def _select_list(self) -> str:
        parts = [*self._keys, self.REPORT]
        for c in self.COLUMNS:
            parts.extend(c.exprs)
        parts.extend(self.EXTRAS)
        return ", ".join(parts)

    def _where(self) -> tuple[str, list[Any]]:
        # a filter on the column the rows are sorted by: its index does both
        return self._filter.where(self.KIND, self._common, self._text_values, self._keys[0].rsplit(".", 1)[-1],
                                  self._policy_counts, self._desc)

    @property
    def _desc(self) -> bool:
        return self._order == Qt.SortOrder.DescendingOrder

    def _order_sql(self, reverse: bool = False) -> str:
        return _order_by(self._keys, self._desc != reverse)

    @staticmethod
    def _page_after(loaded: int) -> int:
        # Each further page is four times larger (up to MAX_PAGE_SIZE): scrolling far
        # costs a few queries, not one per 200 rows (each may read and sort the rest of
        # a filtered view again; the end of ten thousand rows is three pages away).
        return min(MAX_PAGE_SIZE, max(PAGE_SIZE, 4 * loaded), MAX_LOADED_ROWS - loaded)

    def _next_rows(self, page: int) -> list[tuple[Any, ...]]:
        """The next ``page`` rows after those loaded; notes the end, or the cap."""
        rows = self._query_page(page)
        if len(rows) < page:
            self._exhausted = True
        elif len(self._rows) + len(rows) >= MAX_LOADED_ROWS:
            self._capped = True
        return rows

    def _fetch(self, at_least: int) -> None:
        while self.canFetchMore(QModelIndex()) and len(self._rows) < at_least:
            self._rows.extend(self._next_rows(min(self._page_after(len(self._rows)), max(PAGE_SIZE, at_least - len(self._rows)))))

    def _fetch_page_into_reset(self) -> None:
        self.beginResetModel()
        self._fetch(PAGE_SIZE)
        self.endResetModel()

    def _query_page(self, limit: int) -> list[tuple[Any, ...]]:
        return self._rows_after(self._rows[-1], limit) if self._rows else self._rows_at(0, limit)

    def _query(self) -> _Query:
        """The rows' query, made once per view (every far block read asks for it)."""
        if self._view_query is None:
            where, params = self._where()
            self._view_query = _Query(self._select_list(), self.FROM, where, tuple(params), tuple(self._keys), self._desc,
                                      width=len(self._keys) + 1 + sum(len(c.exprs) for c in self.COLUMNS) + len(self.EXTRAS))
        return self._view_query

    def _seeking(self, walk: float | None) -> _Query:
        """The view's query for a far read whose walk in sort order would check about
        ``walk`` rows (see _walk; None: the signposts): one that reads the matching rows
        through the filter's indexes and sorts them (see _Query.seek_where) when that
        walk is more than SEEK_WALK_RATIO times the matching rows, or the signposts' walk
        is over a filter that matches at most SEEK_SIGNPOST_SHARE of the rows; else the
        view's own. Never where one covering index holds the keys and the filter (its
        walk checks each row in the index: a tenth of the cost) or no index drives the
        filter (nothing to seek)."""
        query = self._query()
        if self._total is None:
            return query
        if self._view_seek is None:
            seek = query
            tv = self._text_values
            rare = replace(tv, common=False) if tv is not None and tv.common else tv
            where, params = self._filter.where(self.KIND, (), rare, "", self._policy_counts)
            if where != query.where and not query.by_keys().covered(self._conn):
                seek = replace(query, seek_where=where, seek_params=tuple(params))
            self._view_seek = seek
        if walk is None:
            return self._view_seek if self._total <= SEEK_SIGNPOST_SHARE * max(self._table_rows, 1) else query
        return self._view_seek if walk > SEEK_WALK_RATIO * self._total else query

    def _rows_at(self, offset: int, limit: int, reverse: bool = False) -> list[Row]:
        return self._query().rows_at(self._conn, offset, limit, reverse)

    def _rows_after(self, last: Row, limit: int, reverse: bool = False, skip: int = 0) -> list[Row]:
        return self._query().rows_after(self._conn, last, limit, reverse, skip)

    def _clear(self) -> None:
        self._view_query = self._view_seek = None  # (a new filter, sort order or reload)
        self._forget_cells()
        self._rows = []
        self._exhausted = self._capped = self._total_stale = False
        self._total = None
        self._drop_blocks()

    def _drop_blocks(self) -> None:
        self._blocks.clear()
        self._pending.clear()
        self._signposts = []
        self._generation += 1  # far reads under way are for rows no longer there

    def _row(self, r: int, read: Literal["now", "later", "never"] = "now") -> Row | None:
        """Row ``r``'s values: loaded in pages, or read with its block (``now``; ``later``:
        in the background if that is slow, None meanwhile; ``never``: only if in memory);
        None past the end."""
        head = len(self._rows)
        if 0 <= r < head:
            return self._rows[r]
        if self._total is None or not head <= r < self._total:
            return None
        k, i = divmod(r - head, BLOCK_ROWS)
        block = self._blocks.get(k)
        if block is None:
            if read == "never" or (read == "later" and k in self._pending):  # (every cell of its rows asks)
                return None
            plan = self._block_plan(k)
            if read == "later" and self._reader is not None and self._walk(plan) >= FAR_ROWS:
                self._read_later(k, plan)
                return None
            block = plan.read(self._seeking(self._walk(plan)), self._conn)
            self._keep_block(k, block)
        else:
            self._blocks.move_to_end(k)
        return block[i] if i < len(block) else None

    def _keep_block(self, k: int, block: list[Row | None]) -> None:
        self._blocks[k] = block
        self._blocks.move_to_end(k)
        while len(self._blocks) > MAX_BLOCKS:
            self._blocks.popitem(last=False)

    def _block_changed(self, k: int) -> None:
        """Tell the views that far block ``k``'s rows changed (read, or to be asked for again)."""
        first = len(self._rows) + k * BLOCK_ROWS
        last = min(first + BLOCK_ROWS, self._total or 0) - 1
        if last >= first:
            self.dataChanged.emit(self.index(first, 0), self.index(last, len(self.COLUMNS) - 1))

    def _read_later(self, k: int, plan: _BlockPlan) -> None:
        """Read far block ``k`` in the background; its rows show as pending meanwhile."""
        if k in self._pending or self._reader is None:
            return
        self._pending.add(k)
        generation, query = self._generation, replace(self._seeking(self._walk(plan)), at_once=True)

        def done(block: list[Row | None] | None) -> None:
            if generation != self._generation:
                return  # reset or recounted since: the rows are elsewhere now
            self._pending.discard(k)
            if block is not None:
                self._keep_block(k, block)
            self._block_changed(k)  # shown again: read, or asked for again

        self._reader(lambda conn: plan.read(query, conn), done)

    def is_pending(self, row: int) -> bool:
        """True while ``row``'s block is read in the background."""
        head = len(self._rows)
        return row >= head and (row - head) // BLOCK_ROWS in self._pending

    def set_far_reader(self, reader: FarReader | None) -> None:
        """Read far blocks whose read walks FAR_ROWS or more (see _walk) with ``reader``,
        in the background, instead of in the GUI thread."""
        self._reader = reader

    def signpost_reader(self) -> SignpostRead | None:
        """For a counted table whose far rows are many: how to read its signposts (the
        keys of every SIGNPOST_ROWS-th row) in the background. None if it has them, or
        needs none."""
        if self._total is None or self._total_stale or self._signposts or self._total - len(self._rows) < 2 * SIGNPOST_ROWS:
            return None
        query, generation, total = replace(self._seeking(None), at_once=True), self._generation, self._total

        def stale() -> bool:  # (asked from the reading thread too: two reads of ints)
            return generation != self._generation or total != self._total or self._total_stale

        def give(signposts: list[Row]) -> bool:
            if stale() or len(signposts) != total // SIGNPOST_ROWS:  # (the index changed since the count)
                return False
            self._signposts = signposts
            # blocks still awaited from the background: asked for again when shown, and now read at once
            waiting, self._pending = self._pending, set()
            for k in waiting:
                self._block_changed(k)
            return True

        return SignpostRead(query.signposts, give, stale)

    @property
    def has_signposts(self) -> bool:
        return bool(self._signposts)

    def _walk(self, plan: _BlockPlan) -> float:
        """About how many rows reading with ``plan`` walks: the rows it skips, over the
        share of the table's rows that match (a filter matching one row in a hundred
        walks a hundred rows for each it skips)."""
        share = min(1.0, (self._total or 1) / max(self._table_rows, 1))
        return (plan.skip + plan.rows) / max(share, 1e-6) if plan.skip else 0.0

    def _block_plan(self, k: int) -> _BlockPlan:
        """How to read far block ``k``: from the nearest row in memory (the last row
        loaded in pages, or a far block's first or last row) or from the end of the
        table. The query walks the sort order from there, so a scroll costs what it
        moves, and a jump at most half the rows."""
        assert self._total is not None
        head = len(self._rows)
        start = head + k * BLOCK_ROWS
        n = min(BLOCK_ROWS, self._total - start)
        end = start + n  # the block is rows start … end - 1
        # (distance, row, forward): the table's end, then every row in memory next to a gap
        # (counted from the end only when the count is of the rows there now)
        best = _BlockPlan(n, (1 << 62) if self._total_stale else self._total - end, None, False)
        if head and start - head < best.skip:
            best = _BlockPlan(n, start - head, self._rows[-1], True)
        for j, block in self._blocks.items():
            first = head + j * BLOCK_ROWS
            if j < k and block[-1] is not None and start - (first + len(block)) < best.skip:
                best = _BlockPlan(n, start - (first + len(block)), block[-1], True)
            elif j > k and block[0] is not None and first - end < best.skip:
                best = _BlockPlan(n, first - end, block[0], False)
        if self._signposts:  # signpost i is row (i + 1) * SIGNPOST_ROWS - 1
            before = start // SIGNPOST_ROWS - 1  # the last one before the block
            if 0 <= before < len(self._signposts):
                skip = start - (before + 1) * SIGNPOST_ROWS
                if skip < best.skip:
                    best = _BlockPlan(n, skip, self._signposts[before], True)
            after = end // SIGNPOST_ROWS  # the first one at or past its end
            if after < len(self._signposts):
                skip = (after + 1) * SIGNPOST_ROWS - 1 - end
                if skip < best.skip:
                    best = _BlockPlan(n, skip, self._signposts[after], False)
        return best

    def _values(self, c: int, row: tuple[Any, ...]) -> tuple[Any, ...]:
        start = self._offsets[c]
        return tuple(row[start : start + len(self.COLUMNS[c].exprs)])

    def _extra(self, name: str, row: tuple[Any, ...]) -> Any:
        return row[self._extra_pos + self.EXTRAS.index(name)]

    def _display(self, c: int, row: tuple[Any, ...]) -> str:
        col = self.COLUMNS[c]
        v = self._values(c, row)
        utc = self._time.utc
        match col.kind:
            case "int":
                return format_int(v[0])
            case "percent":
                return format_percent(v[0])
            case "date":
                return format_date(v[0], utc)
            case "datetime":
                return format_datetime(v[0], utc)
            case "period":
                return format_period(v[0], v[1], utc)
            case "domain":
                return _one_line(domain_to_unicode(v[0] or ""))
            case "domains":
                return _one_line(domains_to_unicode(v[0] or ""))
            case "list":
                return _one_line(", ".join(json_list(v[0])))
            case "source":  # the whole path, as the column sorts (the view elides its start)
                path = _one_line(v[0] or "")
                return f"{path} › {_one_line(v[1])}" if v[1] else path
            case _:
                return _one_line("" if v[0] is None else str(v[0]))

    def _tooltip(self, c: int, row: tuple[Any, ...]) -> str:
        col = self.COLUMNS[c]
        v = self._values(c, row)
        utc = self._time.utc
        match col.kind:
            case "domain" | "domains":
                shown = self._display(c, row)
                raw = visible_text(v[0] or "")
                return shown if shown == raw else f"{shown}\n{raw}"
            case "period":
                return f"{format_datetime(v[0], utc)} – {format_datetime(v[1], utc)}"
            case "date":
                return format_datetime(v[0], utc)
            case "list":
                return visible_text("\n".join(json_list(v[0])))
            case "source":
                return visible_text(f"{v[0]}\n{v[1]}" if v[1] else str(v[0] or ""))
            case _:
                return self._display(c, row) if col.numeric else ("" if v[0] is None else visible_text(str(v[0])))

    def _copy_value(self, c: int, row: tuple[Any, ...]) -> str:
        return _copy_of(self.COLUMNS[c], self._values(c, row))

    def _foreground(self, c: int, row: tuple[Any, ...]) -> QBrush | None:
        return None

    def _background(self, row: tuple[Any, ...]) -> QBrush | None:
        return None

    def _font(self, c: int, row: tuple[Any, ...]) -> QFont | None:
        return None

    def _on_time_mode(self, _utc: bool) -> None:
        self._forget_cells()
        cols = [i for i, c in enumerate(self.COLUMNS) if c.kind in ("date", "datetime", "period")]
        if self.rowCount() and cols:
            self.dataChanged.emit(
                self.index(0, min(cols)),
                self.index(self.rowCount() - 1, max(cols)),
                [Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole],
            )


def keyset_segments(
    keys: Sequence[str], last: Sequence[Any], desc: bool
) -> list[tuple[str, list[Any]]]:
    """Conditions, in order, selecting the rows after ``last`` in ``ORDER BY keys`` order.

    Row-value comparison would be one condition, but it does not use indexes
    with NULLs; one condition per key position (equal prefix, then strictly after)
    keeps each query an index range scan. SQLite sorts NULL first ascending and
    last descending.
    """
    return [(cond, cparams) for cond, cparams, _ in keyset_parts(keys, last, desc)]


def keyset_parts(
    keys: Sequence[str], last: Sequence[Any], desc: bool
) -> list[tuple[str, list[Any], int]]:
    """:func:`keyset_segments`, each with how many keys it fixes (the first ones, equal to
    ``last``'s)."""
    segments: list[tuple[str, list[Any], int]] = []
    for i in range(len(keys) - 1, -1, -1):
        prefix: list[str] = []
        pparams: list[Any] = []
        for k, v in zip(keys[:i], last[:i], strict=True):
            if v is None:
                prefix.append(f"{k} IS NULL")
            else:
                prefix.append(f"{k} = ?")
                pparams.append(v)
        k, v = keys[i], last[i]
        conds: list[tuple[str, list[Any]]]
        if not desc:
            conds = [(f"{k} IS NOT NULL", [])] if v is None else [(f"{k} > ?", [v])]
        elif v is None:
            conds = []
        elif i == len(keys) - 1:  # the row id: never NULL
            conds = [(f"{k} < ?", [v])]
        else:
            conds = [(f"{k} < ?", [v]), (f"{k} IS NULL", [])]
        for cond, cparams in conds:
            segments.append((" AND ".join([*prefix, cond]), [*pparams, *cparams], i))
    return segments


def _share_sql(part: str, alias: str = "") -> str:
    """``part`` of a row's sessions over all of them (NULL with none), as the sort
    indexes hold it (they name no table alias)."""
    a = f"{alias}." if alias else ""
    return f"({a}{part} * 1.0 / NULLIF({a}successful_sessions + {a}failed_sessions, 0))"


_REPORT_RATE: Final = _share_sql("successful_sessions", "r")
_POLICY_RATE: Final = _share_sql("failed_sessions", "p")


class ReportsModel(SqlTableModel):
    KIND = "reports"
    FROM = "reports r"
    ID = "r.id"
    REPORT = "r.id"
    COLUMNS = (
        Column(
            "organization_name",
            "Reporter",
            ("r.organization_name",),
            ("r.organization_name", "r.start_ts"),
        ),
        Column("report_id", "Report ID", ("r.report_id",), ("r.report_id",)),
        Column("period", "Period", ("r.start_ts", "r.end_ts"), ("r.start_ts",), "period"),
        Column(
            "policy_domains",
            "Policy domains",
            ("r.policy_domains",),
            ("r.policy_domains", "r.start_ts"),
            "domains",
        ),
        Column(
            "successful_sessions",
            "Successful",
            ("r.successful_sessions",),
            ("r.successful_sessions",),
            "int",
            "Successful TLS sessions",
        ),
        Column(
            "failed_sessions",
            "Failed",
            ("r.failed_sessions",),
            ("r.failed_sessions",),
            "int",
            "Failed TLS sessions",
        ),
        Column(
            "success_rate",
            "Success %",
            (_REPORT_RATE,),
            (_REPORT_RATE,),
            "percent",
            "Successful sessions out of all sessions",
        ),
        Column(
            "source",
            "Source file",
            ("r.source_path", "r.source_member"),
            ("r.source_path", "r.source_member"),
            "source",
        ),
        Column(
            "diagnostic_count",
            "Diagnostics",
            ("r.diagnostic_count",),
            ("r.diagnostic_count",),
            "int",
            "Deviations from RFC 8460 found while reading the report",
        ),
    )
    EXTRAS = ("r.worst_severity",)
    DEFAULT_SORT = (2, Qt.SortOrder.DescendingOrder)

    def _foreground(self, c: int, row: tuple[Any, ...]) -> QBrush | None:
        key = self.COLUMNS[c].key
        if key == "failed_sessions" and (self._values(c, row)[0] or 0) > 0:
            return _failure()
        if key == "success_rate":
            rate = self._values(c, row)[0]
            return None if rate is None else _rate(rate)
        if key == "diagnostic_count" and (self._values(c, row)[0] or 0) > 0:
            sev = self._extra("r.worst_severity", row)
            return _failure() if sev == "error" else _warning() if sev == "warning" else QBrush(QColor(current_palette().muted))
        return None

    def _background(self, row: tuple[Any, ...]) -> QBrush | None:
        failed = row[self._offsets[5]]
        return _failure_background() if failed else None


class PoliciesModel(SqlTableModel):
    KIND = "policies"
    FROM = "policies p"
    ID = "p.id"
    REPORT = "p.report_id"
    COLUMNS = (
        Column(
            "policy_domain",
            "Policy domain",
            ("p.policy_domain",),
            ("p.policy_domain", "p.start_ts"),
            "domain",
        ),
        # (the reporter breaks ties: see ui_policies_type_walk)
        Column("policy_type", "Policy type", ("p.policy_type",), ("p.policy_type", "p.start_ts", "p.organization_name")),
        # (the policy type breaks ties: see ui_policies_mode_walk)
        Column("sts_mode", "Mode", ("p.sts_mode",), ("p.sts_mode", "p.policy_type"), "text", "MTA-STS policy mode"),
        Column("mx_hosts", "MX patterns", ("p.mx_hosts",), ("p.mx_hosts",), "list"),
        Column(
            "successful_sessions",
            "Successful",
            ("p.successful_sessions",),
            ("p.successful_sessions",),
            "int",
        ),
        Column("failed_sessions", "Failed", ("p.failed_sessions",), ("p.failed_sessions",), "int"),
        Column(
            "failure_rate",
            "Failure rate",
            (_POLICY_RATE,),
            (_POLICY_RATE,),
            "percent",
            "Failed sessions out of all sessions",
        ),
        Column(
            "organization_name",
            "Reporter",
            ("p.organization_name",),
            ("p.organization_name", "p.start_ts"),
        ),
        Column("period", "Period", ("p.start_ts", "p.end_ts"), ("p.start_ts",), "period"),
    )
    DEFAULT_SORT = (8, Qt.SortOrder.DescendingOrder)

    def _foreground(self, c: int, row: tuple[Any, ...]) -> QBrush | None:
        key = self.COLUMNS[c].key
        if key == "failed_sessions" and (self._values(c, row)[0] or 0) > 0:
            return _failure()
        if key == "failure_rate":
            rate = self._values(c, row)[0]
            return None if rate is None else _rate(1.0 - rate)
        return None

    def _background(self, row: tuple[Any, ...]) -> QBrush | None:
        return _failure_background() if row[self._offsets[5]] else None


class FailuresModel(SqlTableModel):
    KIND = "failures"
    FROM = "failure_details f"
    ID = "f.id"
    REPORT = "f.report_id"
    COLUMNS = (
        Column("result_type", "Result type", ("f.result_type",), ("f.result_type", "f.start_ts")),
        Column("sending_mta_ip", "Sending MTA IP", ("f.sending_mta_ip",), ("f.sending_mta_ip",)),
        Column(
            "receiving_mx_hostname",
            "Receiving MX",
            ("f.receiving_mx_hostname",),
            ("f.receiving_mx_hostname",),
            "text",
            "Receiving MX hostname",
        ),
        Column(
            "receiving_mx_helo",
            "HELO",
            ("f.receiving_mx_helo",),
            ("f.receiving_mx_helo", "f.result_type", "f.policy_type"),  # see ui_failures_helo_walk
            "text",
            "Receiving MX HELO name",
        ),
        Column("receiving_ip", "Receiving IP", ("f.receiving_ip",), ("f.receiving_ip",)),
        Column(
            "failed_session_count",
            "Failed sessions",
            ("f.failed_session_count",),
            ("f.failed_session_count",),
            "int",
        ),
        Column(
            "failure_reason_code",
            "Failure reason code",
            ("f.failure_reason_code",),
            ("f.failure_reason_code",),
        ),
        Column(
            "additional_information",
            "Additional information",
            ("f.additional_information",),
            ("f.additional_information",),
        ),
        Column(
            "policy_domain",
            "Policy domain",
            ("f.policy_domain",),
            ("f.policy_domain", "f.start_ts"),
            "domain",
        ),
        Column("policy_type", "Policy type", ("f.policy_type",), ("f.policy_type", "f.start_ts", "f.result_type")),
        Column(
            "organization_name",
            "Reporter",
            ("f.organization_name",),
            ("f.organization_name", "f.start_ts"),
        ),
        Column(
            "date", "Date", ("f.start_ts",), ("f.start_ts",), "date", "Start of the report period"
        ),
    )
    DEFAULT_SORT = (11, Qt.SortOrder.DescendingOrder)

    def _foreground(self, c: int, row: tuple[Any, ...]) -> QBrush | None:
        if c == 0:
            rt = self._values(0, row)[0] or ""
            return QBrush(current_palette().category(result_category(rt)))  # as the charts colour it
        if c == 5:
            return _failure()
        return None

    def _font(self, c: int, row: tuple[Any, ...]) -> QFont | None:
        if c == 0:
            f = QFont()
            f.setBold(True)
            return f
        return None


class ImportLogModel(SqlTableModel):
    """Inputs that failed or were skipped, with their reason (table ``sources``)."""

    KIND = "reports"  # unused: this model ignores the shared filter
    FROM = "sources s"
    ID = "s.id"
    REPORT = "s.run_id"
    COLUMNS = (
        Column("imported_at", "When", ("CAST(s.imported_at AS INTEGER)",), ("s.id",), "datetime"),
        Column("outcome", "Outcome", ("s.outcome",), ("s.outcome",)),
        Column("path", "Input", ("s.path",), ("s.path",)),
        Column("member", "Member", ("s.member",), ("s.member",)),
        Column("reason", "Reason", ("s.reason",), ("s.reason",)),
    )
    DEFAULT_SORT = (0, Qt.SortOrder.DescendingOrder)

    def _where(self) -> tuple[str, list[Any]]:
        return "s.outcome IN ('failed', 'skipped')", []

    def count_query(self) -> tuple[str, list[Any]]:
        return "SELECT COUNT(*) FROM sources s WHERE s.outcome IN ('failed', 'skipped')", []

    def _foreground(self, c: int, row: tuple[Any, ...]) -> QBrush | None:
        if c == 1:
            return _failure() if self._values(1, row)[0] == "failed" else _warning()
        return None


#: what a failure row's "walk" sort index holds after its sort keys and id (see SORT_INDEXES)
_WALK_KINDS: Final = ("result_type", "organization_name", "receiving_mx_hostname", "policy_type", "start_ts")


def _walk_index(name: str, *keys: str) -> str:
    """The walk index ``ui_failures_<name>_walk`` of a failure-row order (see SORT_INDEXES):
    its ``keys``, the id after them unless they place it, then the _WALK_KINDS they lack."""
    cols = [*keys, *(() if "id" in keys else ("id",))]
    cols += [k for k in _WALK_KINDS if k not in cols]
    return f"CREATE INDEX IF NOT EXISTS ui_failures_{name}_walk ON failure_details ({', '.join(cols)})"


#: indexes that make every sortable column an index range scan (names prefixed ``ui_``).
#: Safe to run repeatedly; the core schema may adopt them in a migration.
SORT_INDEXES: Final[tuple[str, ...]] = (
    "CREATE INDEX IF NOT EXISTS ui_reports_rid ON reports (report_id)",
    "CREATE INDEX IF NOT EXISTS ui_reports_ok ON reports (successful_sessions)",
    "CREATE INDEX IF NOT EXISTS ui_reports_diag ON reports (diagnostic_count)",
    "CREATE INDEX IF NOT EXISTS ui_reports_source ON reports (source_path, source_member)",
    f"CREATE INDEX IF NOT EXISTS ui_reports_rate ON reports ({_share_sql('successful_sessions')})",
    # A range of dates sorted by success rate: SQLite finds the range's reports by date and
    # sorts them (walking the rate's index instead would cross the seven in ten reports at
    # 100 %, a tie ordered by id, before the old ones). Read from here, not from each
    # report's table row: half a year of a million reports, 182,000, 200 ms -> 125 ms.
    # 17 MB at a million reports, built in 1.2 s.
    "CREATE INDEX IF NOT EXISTS ui_reports_start_sessions ON reports (start_ts, successful_sessions, failed_sessions)",
    # only the reports with failure rows, in the orders where those without come first
    # as one long run (see Filter.where: a filter through failure rows implies them)
    "CREATE INDEX IF NOT EXISTS ui_reports_failed_details ON reports (failed_sessions) WHERE failure_detail_count > 0",
    f"CREATE INDEX IF NOT EXISTS ui_reports_rate_details ON reports ({_share_sql('successful_sessions')}) "
    "WHERE failure_detail_count > 0",
    # Policy types come in long runs (a tenth of a million policies say no policy was
    # found, and a reporter that checks policies sends none of them): sorted by type, the
    # walk to a common reporter's policies crossed 100,000 others, each read from its
    # table row (0.12-0.24 s). This index carries the reporter, so the walk checks it there;
    # and the mode, policy strings, domain and MX patterns, which free text checks: "enforce"
    # (in the modes and strings of MTA-STS policies alone) walked past the DANE and
    # no-policy-found policies first, and "d17" (a domain, in three of those columns) past
    # most policies, reading each one's table row (105-200 ms at a million policies; 45-94
    # ms with them here). 139 MB at a million policies (29 MB without them).
    "CREATE INDEX IF NOT EXISTS ui_policies_type_walk ON policies (policy_type, start_ts, organization_name, id, "
    "sts_mode, policy_strings, policy_domain, mx_hosts)",
    # Only MTA-STS policies have a mode: sorted by it, the others come as one run at an end
    # (DANE and no-policy-found, three in ten at a million policies), and a common policy
    # type found only there was looked for in 700,000 table rows (0.35 s). This index
    # carries the type, which breaks ties in that order, so the walk checks it here (52 ms);
    # and the reporter and the policy strings, which free text such as "enforce" checks
    # (the mode too): the walk past the 280,000 policies without a mode read each one's
    # table row for its strings (170-206 ms at a million policies; 47 ms here). 92 MB at a
    # million policies (20 MB without the strings), built in 2 s.
    "CREATE INDEX IF NOT EXISTS ui_policies_mode_walk ON policies (sts_mode, policy_type, id, organization_name, "
    "policy_strings)",
    "CREATE INDEX IF NOT EXISTS ui_policies_mx ON policies (mx_hosts)",
    # Not a sort order: free text found in policy strings ("mx: *.example.net", a TLSA
    # record) is looked up here. Without it, a term only there, in 1 % of a million
    # policies, was sought by reading every table row in sort order (2.6 s by domain
    # descending), and one also in a domain and its MX patterns was walked (0.5 s);
    # with it, 32-117 ms. It costs 77 MB at a million policies, built in 2 s.
    "CREATE INDEX IF NOT EXISTS ui_policies_strings ON policies (policy_strings)",
    # A report matched through its policies (a common policy type or domain) is checked
    # with an EXISTS on them, row by row as the reports are walked: this index holds both
    # columns, so the check reads no policy row (reports of a common policy type by
    # reporter, 219 ms -> 52 ms at a million reports).
    "CREATE INDEX IF NOT EXISTS ui_policies_report_kinds ON policies (report_id, policy_type, policy_domain)",
    "CREATE INDEX IF NOT EXISTS ui_policies_ok ON policies (successful_sessions)",
    "CREATE INDEX IF NOT EXISTS ui_policies_failed ON policies (failed_sessions)",
    f"CREATE INDEX IF NOT EXISTS ui_policies_rate ON policies ({_share_sql('failed_sessions')})",
    # as ui_reports_failed_details and ui_reports_rate_details, for the policies (schema 6)
    "CREATE INDEX IF NOT EXISTS ui_policies_failed_details ON policies (failed_sessions) WHERE failure_detail_count > 0",
    f"CREATE INDEX IF NOT EXISTS ui_policies_rate_details ON policies ({_share_sql('failed_sessions')}) "
    "WHERE failure_detail_count > 0",
    # The failure rows' sort indexes. A filter on a common value (a result type, a
    # reporter, a policy type, a range of dates, free text naming common MX hosts) is not
    # sought: SQLite walks the sort order and checks each row, and a far jump before the
    # signposts walks up to half a million rows. Checked in its table row, a row cost
    # about 1.7 us (a third of a million rows named "mx1", sorted by sending address:
    # 0.9-1.1 s at a million rows); checked in the index, a fifth of that. So each order's
    # index ("walk" index) holds its sort keys, the id (the tie-breaker, so that its order
    # is the table's) and the columns those filters check: result type, reporter, MX
    # host, policy type and start. The reporter, domain, date and failed-session orders
    # have their own, beside the narrow core indexes, which lack all but the first. On
    # the million-report index, far jumps before the signposts over 200 ms: 9-11 of the
    # benchmark's 48 -> 0-1, and with a policy type, a month and "mx2" too, 20 of 84 ->
    # 1-2 (the slowest 1.15 s -> 0.19-0.26 s). The twelve take 825 MB of its 2.24 GB
    # (303 MB of 1.72 GB before), built in the background in about 20 s.
    # HELO names and policy types come in long runs of one value (most reporters send no
    # HELO), which the types break up in sort order.
    _walk_index("helo", "receiving_mx_helo", "result_type", "policy_type"),
    # A domain's policies are all of one type, mostly: sorted by type, free text naming a
    # domain (in its rows' domain and MX hosts) walked past every row of the other types,
    # each read from its table row for the domain (150,000 DANE rows before the MTA-STS
    # ones of "d17" by type descending: 120-200 ms at a million rows). The domain here:
    # 37 ms.
    _walk_index("ptype_domain", "policy_type", "start_ts", "result_type", "id", "policy_domain"),
    # The result-type order (then the start and the id) also holds the domain, which a
    # result type's rows are often sorted by, so the sort keys of a far jump there are
    # read from it alone (195 ms -> 122 ms at a million rows).
    _walk_index("type", "result_type", "start_ts", "id", "policy_domain", "organization_name", "policy_type"),
    _walk_index("mx", "receiving_mx_hostname"),
    _walk_index("ip", "sending_mta_ip"),
    # (the MX host first after the id: an MX host's address comes with its name)
    _walk_index("rip", "receiving_ip", "id", "receiving_mx_hostname"),
    _walk_index("code", "failure_reason_code"),
    _walk_index("info", "additional_information"),
    _walk_index("count", "failed_session_count"),
    _walk_index("domain", "policy_domain", "start_ts"),
    _walk_index("org", "organization_name", "start_ts"),
    _walk_index("start", "start_ts"),
)
#: sort indexes of earlier versions, dropped once the ones replacing them are made
RETIRED_SORT_INDEXES: Final = ("ui_failures_helo", "ui_failures_ptype", "ui_policies_mode", "ui_failures_rip",
                                "ui_failures_helo_kinds", "ui_failures_type", "ui_failures_helo_kinds_org",
                                "ui_failures_ptype_kinds", "ui_failures_ip_kinds", "ui_failures_type_keys",
                                "ui_failures_rip_mx", "ui_failures_code", "ui_failures_info", "ui_failures_mx_kinds",
                                "ui_policies_mode_type", "ui_policies_type_org", "ui_failures_ptype_walk")


def missing_sort_indexes(conn: sqlite3.Connection) -> list[str]:
    """The statements still to run: the sort indexes to create, then the retired ones to drop."""
    have = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    return [*(sql for sql in SORT_INDEXES if sql.split()[5] not in have),
            *(f"DROP INDEX IF EXISTS {name}" for name in RETIRED_SORT_INDEXES if name in have)]


def ensure_sort_indexes(
    conn: sqlite3.Connection, cancelled: Callable[[], bool] | None = None
) -> int:
    """Create the missing sort indexes and drop retired ones; returns how many statements ran."""
    n = 0
    for sql in missing_sort_indexes(conn):
        if cancelled is not None and cancelled():
            break
        conn.execute(sql)
        conn.commit()
        n += 1
    return n
