"""The shared filter (domain, dates, reporter, policy type, result type, text) as SQL.

The same :class:`Filter` drives the three tables and the charts. It becomes a
``WHERE`` clause with bound parameters for the table it is applied to: report
rows (``reports``), policy rows (``policies``) or failure rows
(``failure_details``). Dates are whole UTC days, compared with a report's start.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import sqlite3
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final, Literal

from tlsrpt_gui.core import report_text, rollups
from tlsrpt_gui.core.report import domain_to_unicode, normalise_domain
from tlsrpt_gui.core.rollups import TEXT_COLUMNS

log = logging.getLogger(__name__)

TableKind = Literal["reports", "policies", "failures"]

#: the SQL alias each table kind is queried under
ALIASES: Final[dict[str, str]] = {"reports": "r", "policies": "p", "failures": "f"}

#: report columns unique per report: searched through their own indexes, not ``text_values``
_REPORT_UNIQUE_TEXT: Final = ("report_id", "source_path", "source_member")

#: the columns free text searches, per table kind: those the value table keeps, and for
#: reports the unique ones too
_TEXT_COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    kind: tuple(f"{alias}.{c}" for c in (*cols, *(_REPORT_UNIQUE_TEXT if kind == "reports" else ())))
    for kind, (_, alias, cols) in TEXT_COLUMNS.items()
}


#: text columns kept as JSON lists (shown as their items): a term with JSON's own
#: characters must match inside an item, never the brackets, quotes and commas around them
_JSON_LIST_COLUMNS: Final = frozenset({"p.policy_strings", "p.mx_hosts"})
_JSON_SYNTAX: Final = frozenset('[]",\\')


def _json_syntax_in(text: str) -> bool:
    return any(ch in _JSON_SYNTAX for ch in text)


def _in_an_item(value: str, text: str) -> bool:
    """True if an item of the JSON list ``value`` contains ``text`` (ASCII case aside, as LIKE)."""
    try:
        items = json.loads(value)
    except ValueError:
        return False
    wanted = text.lower()
    return isinstance(items, list) and any(isinstance(i, str) and wanted in i.lower() for i in items)


#: the column each filter field compares directly (see :meth:`Filter.where`): sorted by
#: it, the field's index both finds the value's rows and gives them in order, so the
#: query must seek through it, not walk the whole sort order checking each row (a common
#: result type, sorted by result type the other way, took half a second)
FILTER_COLUMNS: Final = {"reporter": "organization_name", "policy_domain": "policy_domain",
                         "policy_type": "policy_type", "result_type": "result_type",
                         "mx_host": "receiving_mx_hostname", "sending_ip": "sending_mta_ip", "date": "start_ts"}


def has_policy_counts(conn: sqlite3.Connection) -> bool:
    """True if the index's policy rows count their failure rows (schema 6 and later: an
    older index opened read-only has not been upgraded)."""
    return rollups.has_column(conn, "policies", "failure_detail_count")


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def day_start(d: date) -> int:
    return int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp())


@dataclass(frozen=True, slots=True)
class Filter:
    """What the user narrowed the view to. Empty fields do not filter."""

    policy_domain: str = ""
    date_from: date | None = None
    date_to: date | None = None  # inclusive
    reporter: str = ""
    policy_type: str = ""
    result_type: str = ""
    text: str = ""
    #: a receiving MX host, set by clicking a chart
    mx_host: str = ""
    #: a sending MTA IP, set by clicking a chart
    sending_ip: str = ""

    @property
    def domain(self) -> str:
        """The policy domain as the index stores it (lower case, no trailing dot)."""
        return normalise_domain(self.policy_domain)

    def is_empty(self) -> bool:
        return self == Filter()

    def with_(self, **changes: Any) -> Filter:
        return replace(self, **changes)

    def where(self, kind: TableKind, common: Collection[str] = (), text_values: TextValues | None = None,
              lead: str = "", policy_counts: bool = False, lead_desc: bool = False) -> tuple[str, list[Any]]:
        """``(sql, params)``: a condition (``"1"`` when nothing filters) for ``kind``.

        ``common`` names the fields whose value matches a large share of the rows
        (see :func:`common_fields`; "date" for a wide date range, which only the
        charts pass). Their condition is written so SQLite does not
        drive the query from it (a unary ``+``): it walks the sort order and
        checks, and stops after a page. A rare value instead drives the query
        through its index, which finds its few rows at once.

        ``text_values`` (see :func:`text_values`, made for the same ``kind``) turns
        a rare free-text term into the column values that contain it, looked up
        by index, instead of a ``LIKE`` over every row. A common term's values are
        checked in sort order like a common field's.

        ``lead`` is the column (without alias) the rows are sorted by first (descending
        with ``lead_desc``): a common field or term compared on that column is left to
        its index, which both finds its rows and gives them in order. A common term
        whose values on that column come after many rows is looked up instead, as a
        rare one (see :meth:`TextValues.walk_first`).

        ``policy_counts`` says that policy rows count their failure rows (schema 6, see
        :func:`has_policy_counts`): a filter through failure rows then says so of the
        policies too, as it always does of reports.
        """
        a = ALIASES[kind]
        clauses: list[str] = []
        params: list[Any] = []

        def hint(field: str) -> str:
            return "+" if field in common and FILTER_COLUMNS.get(field) != lead else ""

        start_col = f"{hint('date')}{a}.start_ts"
        if self.date_from is not None:
            clauses.append(f"{start_col} >= ?")
            params.append(day_start(self.date_from))
        if self.date_to is not None:
            clauses.append(f"{start_col} < ?")
            params.append(day_start(self.date_to + timedelta(days=1)))
        if self.reporter:
            clauses.append(f"{hint('reporter')}{a}.organization_name = ?")
            params.append(self.reporter)
        domain = self.domain

        def through(field: str, table: str, key: str, column: str) -> str:
            # A row that matches through its child rows (a report through its policies,
            # a policy or report through its failures). A rare value: the set of parent
            # ids, made once from the value's index, drives the query. A common one:
            # the parents are walked in sort order until a page is full, each checked
            # against that set (failure indexes cover the parent ids, so the set is
            # cheap) or by looking up its own one or two policies.
            if field not in common:
                return f"{a}.id IN (SELECT x.{key} FROM {table} x WHERE x.{column} = ?)"
            if table == "policies":
                return f"EXISTS (SELECT 1 FROM {table} x WHERE x.{key} = {a}.id AND +x.{column} = ?)"
            return f"+{a}.id IN (SELECT x.{key} FROM {table} x WHERE x.{column} = ?)"

        for field, value in (("policy_domain", domain), ("policy_type", self.policy_type)):
            if not value:
                continue
            if kind == "reports":
                clauses.append(through(field, "policies", "report_id", field))
            else:
                clauses.append(f"{hint(field)}{a}.{field} = ?")
            params.append(value)
        for field, value, column in (("result_type", self.result_type, "result_type"),
                                     ("mx_host", self.mx_host, "receiving_mx_hostname"),
                                     ("sending_ip", self.sending_ip, "sending_mta_ip")):
            if not value:
                continue
            if kind == "failures":
                clauses.append(f"{hint(field)}f.{column} = ?")
            else:
                key = "policy_id" if kind == "policies" else "report_id"
                clauses.append(through(field, "failure_details", key, column))
            params.append(value)
        if (kind == "reports" or (kind == "policies" and policy_counts)) and (self.result_type or self.mx_host or self.sending_ip):
            # Implied (a report or policy counts its failure rows), and it lets the sort
            # indexes over the rows with failure rows serve: sorted by failed sessions or
            # success or failure rate, the seven in ten with no failure come first, and the
            # walk to a common result type's rows crossed all of them (0.2-0.65 s at a
            # million reports).
            clauses.append(f"{a}.failure_detail_count > 0")
        text = self.text.strip()
        pattern = f"%{escape_like(text)}%"  # (the free-text LIKE's, wherever one is written)
        if text and text_values is not None and text_values.text == text and text_values.kind == kind:
            ors = []
            common_text = text_values.common
            if common_text and f"{a}.{lead}" in text_values.columns:
                common_text = text_values.walk_first(f"{a}.{lead}", lead_desc)
            syntax = _json_syntax_in(text)
            for column, values in text_values.columns.items():
                plus = "+" if common_text and column != f"{a}.{lead}" else ""
                if plus and len(values) > LIKE_OVER_VALUES and not (syntax and column in _JSON_LIST_COLUMNS):
                    # Checked on each row of a walk: the values are those of the column
                    # that are LIKE the term (text_values), so the LIKE itself finds the
                    # same rows, and costs less than a lookup among many values.
                    ors.append(f"{column} LIKE ? ESCAPE '\\'")
                    params.append(pattern)
                    continue
                ors.append(f"{plus}{column} IN ({', '.join('?' * len(values))})")
                params.extend(values)
            if kind == "reports":  # unique per report, so not in the value table
                rid, path, member = _REPORT_UNIQUE_TEXT
                if text_values.unique == "trigrams":  # the few reports the trigram index names, checked
                    ors.append(f"r.id IN (SELECT x.id FROM reports x WHERE x.id IN (SELECT rowid FROM "
                               f"{report_text.TABLE} WHERE {report_text.TABLE} MATCH ?) AND (x.{rid} LIKE ? ESCAPE '\\' "
                               f"OR x.{path} LIKE ? ESCAPE '\\' OR x.{member} LIKE ? ESCAPE '\\'))")
                    params.extend([text_values.trigrams, *[pattern] * 3])
                elif text_values.unique == "like":  # their own indexes, read whole
                    ors.append(f"r.id IN (SELECT x.id FROM reports x WHERE x.{rid} LIKE ? ESCAPE '\\' "
                               f"UNION SELECT x.id FROM reports x WHERE x.{path} LIKE ? ESCAPE '\\' "
                               f"OR x.{member} LIKE ? ESCAPE '\\')")
                    params.extend([pattern] * 3)
            clauses.append("(" + " OR ".join(ors) + ")" if ors else "0")  # "0": no value contains the text
        elif text:
            cols = _TEXT_COLUMNS[kind]
            syntax = _json_syntax_in(text)
            clauses.append("(" + " OR ".join(
                f"EXISTS (SELECT 1 FROM json_each({c}) WHERE value LIKE ? ESCAPE '\\')"
                if syntax and c in _JSON_LIST_COLUMNS else f"{c} LIKE ? ESCAPE '\\'" for c in cols) + ")")
            params.extend([pattern] * len(cols))
        return (" AND ".join(clauses) if clauses else "1"), params


#: a value matching more than this share of the rows is "common" (see Filter.where)
COMMON_SHARE: Final = 0.02


def common_fields(conn: sqlite3.Connection, flt: Filter, share: float = COMMON_SHARE) -> frozenset[str]:
    """The fields of ``flt`` whose value matches more than ``share`` of all rows.

    Read from the chart summaries (core/rollups.py), so it costs a few small
    lookups; an index without them (an old schema) gets an empty set.
    """
    checks: list[tuple[str, str, list[Any], str]] = []
    for field, value, column in (("reporter", flt.reporter, "organization_name"), ("policy_domain", flt.domain, "policy_domain"),
                                 ("policy_type", flt.policy_type, "policy_type")):
        if value:
            checks.append((field, f"SELECT SUM(policies) FROM roll_domain WHERE {column} = ?", [value],
                           "SELECT SUM(policies) FROM roll_domain"))
    for field, value in (("result_type", flt.result_type), ("mx_host", flt.mx_host), ("sending_ip", flt.sending_ip)):
        if not value:
            continue
        if field == "result_type":
            sql, params = "SELECT SUM(details) FROM roll_failures_key WHERE dim = 'reporter' AND result_type = ?", [value]
        else:
            sql, params = "SELECT SUM(details) FROM roll_failures_key WHERE dim = ? AND key = ?", [field, value]
        checks.append((field, sql, params, "SELECT SUM(details) FROM roll_failures_key WHERE dim = 'reporter'"))
    out: set[str] = set()
    totals: dict[str, int] = {}
    try:
        for field, sql, params, total_sql in checks:
            if total_sql not in totals:  # policies or failure rows: each counted once
                totals[total_sql] = conn.execute(total_sql).fetchone()[0] or 0
            total = totals[total_sql]
            n = conn.execute(sql, params).fetchone()[0] or 0
            if total and n > share * total:
                out.add(field)
    except sqlite3.OperationalError:  # no summaries in this index
        return frozenset()
    return frozenset(out)


@dataclass(frozen=True, slots=True)
class TextValues:
    """The values that contain a free-text term, by "alias.column", for one table kind."""

    text: str
    kind: str
    columns: dict[str, list[str]]
    #: the values are in many rows: checked while the rows are walked in sort order,
    #: not looked up (which would find them all and sort them)
    common: bool = False
    #: for reports, how their ids and sources (unique, so not in the value table) are
    #: searched: "like" reads every one; "trigrams" checks the few that the trigram index
    #: names (core/report_text.py) with :attr:`trigrams`, its query; "none": it names none
    unique: Literal["like", "trigrams", "none"] = "like"
    trigrams: str = ""
    #: how many rows hold the values (a sum over the columns: a row may count twice)
    rows: int = 0
    #: for a common term, per column: how many rows come before its first value in that
    #: column's ascending and descending order (see :meth:`walk_first`)
    before: dict[str, tuple[int, int]] = dataclasses.field(default_factory=dict)

    def walk_first(self, column: str, desc: bool) -> bool:
        """Whether a common term, sorted by ``column`` (one of its columns), should still
        be checked as the rows are walked in sort order, rather than looked up by index
        and sorted. A walk crosses every row before the column's first value unless
        another column matches sooner, which only an index could tell: when that is more
        than WALK_ROWS rows, and the term's rows are few enough to sort (SORT_ROWS) and
        every column of it has an index, they are looked up (a domain's 1 % of 900,000
        failure rows, sorted by domain descending: 0.6 s walked, 33 ms looked up)."""
        before = self.before.get(column)
        if before is None or self.rows > SORT_ROWS or not set(self.columns) <= INDEXED_TEXT_COLUMNS:
            return True
        if self.kind == "reports" and self.unique == "like":  # (that lookup reads every report)
            return True
        return before[1 if desc else 0] <= WALK_ROWS


#: a common free-text term sorted by one of its columns is looked up rather than walked
#: when the walk would cross more rows than this before that column's first value …
WALK_ROWS: Final = 100_000
#: … and it is in at most this many rows (see TextValues.walk_first)
SORT_ROWS: Final = 50_000
#: the text columns that an index leads with (the sort indexes of the window's tables
#: among them: see ui/models.py, SORT_INDEXES)
INDEXED_TEXT_COLUMNS: Final = frozenset({
    "f.result_type", "f.sending_mta_ip", "f.receiving_mx_hostname", "f.receiving_mx_helo", "f.receiving_ip",
    "f.failure_reason_code", "f.additional_information", "f.policy_domain", "f.organization_name",
    "p.policy_domain", "p.organization_name", "p.policy_type", "p.mx_hosts", "p.sts_mode", "p.policy_strings",
    "r.organization_name", "r.policy_domains",
})


#: at most this many matching values become an IN list; more means a common term
MAX_TEXT_VALUES: Final = 500
#: a common term's column with more matching values than this is checked on each row
#: of a walk with the term's own LIKE, not against the list of its values: at 100 values,
#: 0.17 µs a row against 0.31 µs (a lookup in the list is a search of a small B-tree);
#: with a handful of values the list costs less
LIKE_OVER_VALUES: Final = 8


#: for reports without the trigram index (core/report_text.py) the value path also scans
#: the report-id and source indexes (about 0.45 s at a million reports), so a term
#: counts as common sooner
REPORT_TEXT_SHARE: Final = 0.001


def text_values(conn: sqlite3.Connection, flt: Filter, kind: TableKind = "failures",
                share: float | None = None) -> TextValues | None:
    """The values of ``kind``'s text columns that contain ``flt.text``.

    A term whose values cover more than ``share`` of the rows is common: its
    values come back marked so (:attr:`TextValues.common`), to be checked while
    the rows are walked in sort order, where a page fills at once.

    For reports, the report ids and sources that may hold the term are looked up in
    the trigram index (:attr:`TextValues.unique`), when the index has it and the
    term is long enough.

    None when there is no text, when there are many values (a ``LIKE`` checks
    them faster), when a term is in many report ids or sources, or is common among
    reports without the trigram index to look those up, or when the index has no
    ``text_values`` table; and for a kind with list columns, when the term holds what
    JSON escapes inside a list item (a quote, a backslash, a control character): the
    value table holds the lists as JSON, where such an item's text is not as written.
    """
    text = flt.text.strip()
    if not text or not rollups.ready(conn):  # no term, or a bulk import has yet to fill the values
        return None
    trigrams = report_text.match_query(text) if kind == "reports" else None
    if trigrams is not None and not report_text.usable(conn):
        trigrams = None
    if share is None:  # (without the trigram index a rare term reads every report id and source)
        share = REPORT_TEXT_SHARE if kind == "reports" and trigrams is None else COMMON_SHARE
    table, alias, kept = TEXT_COLUMNS[kind]
    if any(f"{alias}.{c}" in _JSON_LIST_COLUMNS for c in kept) and any(c in '"\\' or c < " " for c in text):
        return None
    pattern = f"%{escape_like(text)}%"
    try:
        rows = conn.execute(
            # the primary key (col, value) keeps each table's columns together: "f." … "f/"
            "SELECT col, value, rows FROM text_values WHERE col >= ? AND col < ? AND value LIKE ? ESCAPE '\\' LIMIT ?",
            (f"{alias}.", f"{alias}/", pattern, MAX_TEXT_VALUES + 1),
        ).fetchall()
        total = conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
        idn = [] if text.isascii() else _unicode_matches(conn, alias, text)
    except sqlite3.OperationalError:  # an index without the summaries
        return None
    if len(rows) > MAX_TEXT_VALUES:  # cut short: whatever the filters below leave out, values may be missing
        return None
    if idn:
        seen = {(r[0], r[1]) for r in rows}
        rows += [r for r in idn if (r[0], r[1]) not in seen]
    if _json_syntax_in(text):  # not the lists' own brackets, quotes and commas
        rows = [r for r in rows if r[0] not in _JSON_LIST_COLUMNS or _in_an_item(str(r[1]), text)]
    if len(rows) > MAX_TEXT_VALUES:
        return None
    # (a term matching a domain's Unicode form only has no scan to fall back on)
    held = sum(int(r[2]) for r in rows)
    common = not idn and held > share * total
    unique: Literal["like", "trigrams", "none"] = "like"
    if trigrams is not None:
        limit = int(share * total) + 1
        try:
            found: int | None = report_text.candidates(conn, trigrams, limit)
        except sqlite3.OperationalError:  # (a query FTS5 refuses: the LIKE reads them all, as without it)
            log.warning("the trigram index refused the term %r", text, exc_info=True)
            found = None
        if found is None:
            unique = "like"
        elif found >= limit:  # in many report ids or sources: every report is checked as it is walked
            return None
        else:
            unique = "trigrams" if found else "none"
    elif common and kind == "reports":  # (a walk in sort order then reads every report's id and source)
        return None
    allowed = {f"{alias}.{c}" for c in kept}  # column names go into SQL: only our own
    columns: dict[str, list[str]] = {}
    for col, value, _ in rows:
        if col in allowed:
            columns.setdefault(str(col), []).append(str(value))
    before = _rows_before(conn, columns, int(total)) if common else {}
    return TextValues(text, kind, columns, common, unique, trigrams or "", held, before)


def _rows_before(conn: sqlite3.Connection, columns: dict[str, list[str]], total: int) -> dict[str, tuple[int, int]]:
    """Per column, how many rows come before the first of its ``values`` in ascending
    order (those without a value, then those of smaller values) and in descending order
    (those of greater values), from the values' row counts in ``text_values``. (Text
    compares as SQLite's BINARY does: UTF-8 bytes, in code point order.)"""
    out: dict[str, tuple[int, int]] = {}
    for col, values in columns.items():
        low, high = min(values), max(values)
        held, below, above = conn.execute(
            "SELECT COALESCE(SUM(rows), 0), COALESCE(SUM(CASE WHEN value < ? THEN rows END), 0), "
            "COALESCE(SUM(CASE WHEN value > ? THEN rows END), 0) FROM text_values WHERE col = ?",
            (low, high, col)).fetchone()
        out[col] = (max(0, total - int(held)) + int(below), int(above))
    return out


#: an A-label in a value (a domain, or one of a list of them)
_A_LABEL: Final = re.compile(r"xn--[a-z0-9-]+", re.IGNORECASE)
#: A-label values looked at for a free-text term with letters beyond ASCII
MAX_IDN_VALUES: Final = 20_000


def _unicode_matches(conn: sqlite3.Connection, alias: str, text: str) -> list[Any]:
    """The ``text_values`` rows of ``alias``'s columns whose value holds an A-label
    (``xn--…``, as the index keeps internationalised domains) and whose Unicode form
    contains ``text`` (case-insensitively): "bücher" finds ``xn--bcher-kva.example``."""
    wanted = text.casefold()
    rows = conn.execute(
        "SELECT col, value, rows FROM text_values WHERE col >= ? AND col < ? AND value LIKE '%xn--%' LIMIT ?",
        (f"{alias}.", f"{alias}/", MAX_IDN_VALUES),
    ).fetchall()
    return [r for r in rows if wanted in _A_LABEL.sub(lambda m: domain_to_unicode(m[0]), str(r[1])).casefold()]
