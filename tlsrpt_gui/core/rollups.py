"""Summary tables kept beside the policy rows, so charts over a million reports stay instant.

A TLS report is one (reporter, policy domain, day); a million of them are a
million policy rows, and any chart that sums them all would read them all.
These tables are written in the same transaction as the rows they summarise
(the import writer counts each batch with a :class:`Tally`), so they can never
disagree with them, and :func:`rebuild` recomputes them from the rows:

``roll_domain_day``
    sessions per (UTC day, policy domain, policy type, sts mode): the
    sessions-per-day, success-rate and coverage charts when the filter uses
    only dates, domain and policy type.
``roll_domain_month``
    the same per UTC calendar month (``year * 12 + month - 1``): the success-rate
    and coverage charts over a date range, its whole months from here and the
    days at its ends from ``roll_domain_day``.
``roll_org_day``
    the same per reporter instead of domain: sessions per day for one reporter.
``roll_domain``
    sessions per (policy domain, reporter, policy type, sts mode) over all
    time: the success-rate and coverage charts before any date is chosen.
``roll_type_day``, ``roll_type_domain``
    for the policies with at least one failure row of a result type, per
    result type: sessions per (UTC day, policy type), and per (policy domain,
    reporter, policy type, sts mode) over all time. They answer the session
    charts of a result-type filter ("policies with a failure of type X"), alone
    or with dates and policy type, or with domain, reporter and policy type. A
    policy with several failure rows of one type counts once for it.
``roll_type_month``
    the same per (UTC calendar month, policy domain, policy type, sts mode):
    the success-rate and coverage charts of a result type over a date range,
    its whole months from here and the days at its ends from the rows.
``roll_failures_day``
    failed sessions and failure rows per (UTC day, result type): failures by
    result type and certificate failures over time, filtered by date or type.
``roll_failures_key``
    failed sessions and failure rows per (reporter | MX host | sending IP, result
    type, reporter) over all time: the top-N charts before a date or domain is
    chosen, also of one reporter (since schema 8: a busy reporter's failure rows
    took 0.2-0.3 s to sum at a million reports).
``roll_failures_month``
    the same per UTC calendar month (``year * 12 + month - 1``), for reporters
    and MX hosts (sending addresses are too many to pay off): the top-N charts
    over a date range, its whole months from here and the days at its ends from
    the rows.
``text_values``
    every distinct value of each text column (see :data:`TEXT_COLUMNS`), with
    how many rows hold it: a free-text filter finds the values that contain the
    text here, then the rows through those values (see core/query.py).
``report_days``
    for each (reporter, policy domain, policy type), the set of days it sent a
    report for, as a bitmap (bit ``i`` is day ``first_day + i``): the missing
    reports view, without reading one row per report.

Days are UTC day numbers (days since 1970-01-01) of a report's start. A
missing ``sts_mode`` is stored as ``''`` (primary-key columns cannot be NULL).
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from operator import itemgetter
from typing import Any, Final

SECONDS_PER_DAY: Final = 86400


#: the tables, for checks and rebuilds
TABLES: Final = ("roll_domain_day", "roll_domain_month", "roll_org_day", "roll_domain", "roll_type_day", "roll_type_domain",
                  "roll_type_month", "roll_failures_day", "roll_failures_key", "roll_failures_month", "text_values", "report_days")
#: what each summary (and schema 7's marks) counts, in a mail admin's words: how a
#: check that finds them out of step names them to the user
DESCRIPTIONS: Final = {
    "roll_domain_day": "sessions per day and domain",
    "roll_domain_month": "sessions per month and domain",
    "roll_org_day": "sessions per day and reporter",
    "roll_domain": "sessions per domain and reporter",
    "roll_type_day": "sessions per day of the policies with each failure type",
    "roll_type_domain": "sessions per domain of the policies with each failure type",
    "roll_type_month": "sessions per month of the policies with each failure type",
    "roll_failures_day": "failures per day and type",
    "roll_failures_key": "the top reporters, MX hosts and sending addresses",
    "roll_failures_month": "the top reporters and MX hosts per month",
    "text_values": "the values the text filters search",
    "report_days": "the days each reporter sent a report for (missing reports)",
    "failure_details.first_of_type": "the marks of each policy's first failure of a type",
}
#: the summaries added by schema 4
SCHEMA_4_TABLES: Final = ("roll_type_day", "roll_type_domain", "roll_failures_month")
#: the summaries added by schema 5
SCHEMA_5_TABLES: Final = ("roll_domain_month", "roll_type_month")

#: per table kind: (table, alias, the columns whose distinct values ``text_values``
#: keeps for the free-text filter). Its ``col`` is "alias.column", e.g. "f.result_type".
#: Report ids and source paths are unique per report, so they are not kept (a
#: free-text filter searches them through their own indexes).
TEXT_COLUMNS: Final[dict[str, tuple[str, str, tuple[str, ...]]]] = {
    "failures": ("failure_details", "f", (
        "result_type", "sending_mta_ip", "receiving_mx_hostname", "receiving_mx_helo", "receiving_ip",
        "failure_reason_code", "additional_information", "policy_domain", "organization_name",
    )),
    "policies": ("policies", "p", (
        "policy_domain", "organization_name", "policy_type", "policy_strings", "mx_hosts", "sts_mode",
    )),
    "reports": ("reports", "r", ("organization_name", "policy_domains", "contact_info")),
}
_TEXT_PARTS: Final = tuple(
    (table, f"{alias}.{col}", col) for table, alias, cols in TEXT_COLUMNS.values() for col in cols
)


def day_sql(col: str) -> str:
    """The UTC day number of a unix time column: floor division, also before 1970
    (SQLite's ``/`` truncates towards zero)."""
    n = SECONDS_PER_DAY
    return f"(({col} - ((({col} % {n}) + {n}) % {n})) / {n})"


def has_column(conn: sqlite3.Connection, table: str, column: str) -> bool:
    """True if ``table`` has ``column`` (an index of an older schema, opened read-only and
    not upgraded, may lack it)."""
    return any(r[1] == column for r in conn.execute(f"PRAGMA table_info({table})"))


def at_once(conn: sqlite3.Connection, sql: str, params: Sequence[Any] | Mapping[str, Any] = (), *,
            width: int) -> list[list[Any]]:
    """The rows of a query of ``width`` columns of integers and text (no blobs; SQLite
    writes a real number with 15 digits), in the query's order, read in one step of
    SQLite as one JSON text.

    Python's sqlite3 lets go of the GIL for each step and must take it back for each
    row: a query run off the GUI thread waits for it once a row while the GUI thread
    draws, lays out or paints (a 1,000-row sum of the Charts tab, 30-50 ms alone, took
    200-250 ms beside the tab's drawing, and 4 s beside a busy Python thread). In one
    step it waits twice, whatever the number of rows. The rows are held in memory
    twice over for a moment: for results of summary size, not for unbounded ones.
    """
    cols = ", ".join(f"c{i}" for i in range(width))
    text = conn.execute(f"WITH q({cols}) AS ({sql}) SELECT json_group_array(json_array({cols})) FROM q",
                        params).fetchone()[0]
    rows: list[list[Any]] = json.loads(text)
    return rows


#: real numbers that SQLite's printf must give back exactly for :func:`exact_rows` to
#: read through it: rates and the extremes. Before SQLite 3.43 printf worked the digits
#: out in ``long double``: exact to 18 digits where that has 64 bits of mantissa (x86
#: Linux), not where it is a plain double (MSVC builds, Apple silicon), where about one
#: real in four came back wrong in its last bits
_PRINTF_PROBES: Final = (0.1, 1 / 3, 2 / 3, 0.7, 99.99, 100.0 * 4523 / 4525, 3 / 7, 1e-300, 2.2250738585072014e-308,
                         5e-324, 1.7976931348623157e308, 123456789.12345679, 0.30000000000000004,
                         *(k / 997 for k in range(1, 997, 37)), *(100.0 * k / 9973 for k in range(1, 9973, 331)))
#: whether this process's SQLite passes that check (asked once)
_printf_exact: bool | None = None


def printf_is_exact(conn: sqlite3.Connection) -> bool:
    """Whether SQLite's ``printf('%!.18g', x)`` gives back every probe real exactly
    (once per process: every connection shares the library)."""
    global _printf_exact
    if _printf_exact is None:
        sql = " UNION ALL ".join("SELECT ?, printf('%!.18g', ?)" for _ in _PRINTF_PROBES)
        got = conn.execute(sql, [v for x in _PRINTF_PROBES for v in (x, x)]).fetchall()
        _printf_exact = len(got) == len(_PRINTF_PROBES) and all(float(text) == x for x, text in got)
    return _printf_exact


def exact_rows(conn: sqlite3.Connection, sql: str, params: Sequence[Any] | Mapping[str, Any] = (), *,
               width: int) -> list[tuple[Any, ...]]:
    """The rows of a query of ``width`` columns, in its order, as tuples: those
    ``conn.execute(sql, params).fetchall()`` gives, read in one step of SQLite as
    :func:`at_once` reads them (for reads off the GUI thread while it paints: a far
    block of a table's rows, 24-114 ms alone, took 117-344 ms during a drag of the
    scroll bar read row by row).

    A real number goes into the JSON as text of 18 significant digits, which gives it
    back exactly (a negative zero as zero, equal to it), and each row ends with the
    positions of its real numbers (JSON's own 15 digits would not: a table's sort keys,
    such as success rates, bound the next read). Read row by row instead: a query with a
    blob value (JSON cannot hold one), and every query where SQLite's printf is not
    exact to 18 digits (:func:`printf_is_exact`) or SQLite has no JSON functions."""
    if not printf_is_exact(conn):
        return conn.execute(sql, params).fetchall()
    cols = [f"c{i}" for i in range(width)]
    values = ", ".join(f"CASE typeof({c}) WHEN 'real' THEN printf('%!.18g', {c}) ELSE {c} END" for c in cols)
    reals = " || ".join(f"(CASE typeof({c}) WHEN 'real' THEN '{i} ' ELSE '' END)" for i, c in enumerate(cols))
    try:
        # (the LIMIT keeps SQLite from merging the query into the outer one, which would
        # work each column's expression out once for each use of it below)
        text = conn.execute(f"WITH q({', '.join(cols)}) AS (SELECT * FROM ({sql}\n) LIMIT -1) "
                            f"SELECT json_group_array(json_array({values}, {reals})) FROM q", params).fetchone()[0]
    except sqlite3.OperationalError as exc:
        if "BLOB" not in str(exc) and "no such function: json" not in str(exc):  # (an SQLite built without JSON)
            raise
        return conn.execute(sql, params).fetchall()
    rows: list[tuple[Any, ...]] = []
    for row in json.loads(text):
        at = row.pop()
        if at:
            for i in map(int, at.split()):
                row[i] = float(row[i])
        rows.append(tuple(row))
    return rows


def summed(conn: sqlite3.Connection, sql: str, params: Sequence[Any] | Mapping[str, Any] = (), *,
           width: int | None = None) -> list[Any]:
    """The rows of a query of sums, read :func:`at_once` if *width* (its number of
    columns) is given. A sum past 64 bits (absurd session counts in a stranger's
    reports) stops SQLite's SUM with an error: the query then runs again with TOTAL,
    which sums as a floating-point number, and its rows are read one by one (a real
    number exactly, not as JSON's 15 digits; and an infinite one at all)."""
    try:
        if width is not None:
            return at_once(conn, sql, params, width=width)
        return conn.execute(sql, params).fetchall()
    except sqlite3.OperationalError as exc:
        if "integer overflow" not in str(exc):
            raise
        return conn.execute(sql.replace("SUM(", "TOTAL("), params).fetchall()


# --------------------------------------------------------------------------- months

_EPOCH: Final = date(1970, 1, 1)


def month_of_day(day: int) -> int:
    """The calendar month (``year * 12 + month - 1``) of a UTC day number."""
    d = _EPOCH + timedelta(days=day)
    return d.year * 12 + d.month - 1


def month_start_day(month: int) -> int:
    """The UTC day number of the first day of a calendar month."""
    return (date(month // 12, month % 12 + 1, 1) - _EPOCH).days


# --------------------------------------------------------------------------- bitmaps


def bits_from_days(days: Iterable[int]) -> tuple[int, int]:
    """``(first_day, bits)`` of a non-empty set of days."""
    ordered = sorted(set(days))
    first = ordered[0]
    bits = 0
    for d in ordered:
        bits |= 1 << (d - first)
    return first, bits


def merge_bits(a: tuple[int, int] | None, b: tuple[int, int]) -> tuple[int, int]:
    """The union of two ``(first_day, bits)`` day sets."""
    if a is None:
        return b
    (fa, ba), (fb, bb) = a, b
    first = min(fa, fb)
    return first, (ba << (fa - first)) | (bb << (fb - first))


def encode_bits(bits: int) -> bytes:
    return bits.to_bytes(max(1, (bits.bit_length() + 7) // 8), "little")


def decode_bits(blob: bytes) -> int:
    return int.from_bytes(blob, "little")


def days_of(first: int, bits: int) -> list[int]:
    """The days of a bitmap, oldest first."""
    if bits <= 0:
        return []
    # the binary digits, lowest first: one string, not one shift per day
    digits = bin(bits)[:1:-1]
    return [first + i for i, digit in enumerate(digits) if digit == "1"]


# --------------------------------------------------------------------------- writing

_DAY: Final = day_sql("start_ts")
_MONTH: Final = ("(CAST(strftime('%Y', start_ts, 'unixepoch') AS INTEGER) * 12"
                 " + CAST(strftime('%m', start_ts, 'unixepoch') AS INTEGER) - 1)")


@dataclass(frozen=True, slots=True)
class _Sum:
    """One summary table: sums of ``values`` per key, over ``source`` rows."""

    table: str
    keys: tuple[str, ...]
    values: tuple[str, ...]
    #: (source table, key expressions) of each part of the summary
    parts: tuple[tuple[str, tuple[str, ...]], ...]

    def select(self) -> str:
        """The summary computed from the source rows (columns in table order)."""
        out = []
        for source, exprs in self.parts:
            agg = _POLICY_AGG if self.values == _POLICY_VALUES else _FAIL_AGG
            groups = ", ".join(str(i + 1) for i in range(len(exprs)))
            out.append(f"SELECT {', '.join(exprs)}, {agg} FROM {source} GROUP BY {groups}")
        return " UNION ALL ".join(out)


#: the keys of the top-N charts (roll_failures_key's ``dim``) and their failure columns
KEY_COLUMNS: Final = {"reporter": "organization_name", "mx_host": "receiving_mx_hostname",
                      "sending_ip": "sending_mta_ip"}
#: the keys that roll_failures_month keeps
MONTH_DIMS: Final = {dim: KEY_COLUMNS[dim] for dim in ("reporter", "mx_host")}

_POLICY_VALUES: Final = ("successful", "failed", "policies")
_POLICY_AGG: Final = "SUM(successful_sessions), SUM(failed_sessions), COUNT(*)"
_FAIL_VALUES: Final = ("failed", "details")
_FAIL_AGG: Final = "SUM(failed_session_count), COUNT(*)"
_MODE: Final = "COALESCE(sts_mode, '')"
#: each policy once per result type of its failure rows, which carry the policy's values
_TYPED_POLICIES: Final = (
    "(SELECT DISTINCT policy_id, result_type, start_ts, policy_domain, organization_name, policy_type, sts_mode, "
    "policy_successful AS successful_sessions, policy_failed AS failed_sessions FROM failure_details)"
)

_SUMS: Final = (
    _Sum("roll_domain_day", ("day", "policy_domain", "policy_type", "sts_mode"), _POLICY_VALUES,
         (("policies", (_DAY, "policy_domain", "policy_type", _MODE)),)),
    _Sum("roll_domain_month", ("month", "policy_domain", "policy_type", "sts_mode"), _POLICY_VALUES,
         (("policies", (_MONTH, "policy_domain", "policy_type", _MODE)),)),
    _Sum("roll_org_day", ("day", "organization_name", "policy_type", "sts_mode"), _POLICY_VALUES,
         (("policies", (_DAY, "organization_name", "policy_type", _MODE)),)),
    _Sum("roll_domain", ("policy_domain", "organization_name", "policy_type", "sts_mode"), _POLICY_VALUES,
         (("policies", ("policy_domain", "organization_name", "policy_type", _MODE)),)),
    _Sum("roll_type_day", ("result_type", "day", "policy_type"), _POLICY_VALUES,
         ((_TYPED_POLICIES, ("result_type", _DAY, "policy_type")),)),
    _Sum("roll_type_domain", ("result_type", "policy_domain", "organization_name", "policy_type", "sts_mode"),
         _POLICY_VALUES, ((_TYPED_POLICIES, ("result_type", "policy_domain", "organization_name", "policy_type", _MODE)),)),
    _Sum("roll_type_month", ("result_type", "month", "policy_domain", "policy_type", "sts_mode"), _POLICY_VALUES,
         ((_TYPED_POLICIES, ("result_type", _MONTH, "policy_domain", "policy_type", _MODE)),)),
    _Sum("roll_failures_day", ("day", "result_type"), _FAIL_VALUES,
         (("failure_details", (_DAY, "result_type")),)),
    _Sum("roll_failures_key", ("dim", "key", "result_type", "organization_name"), _FAIL_VALUES,
         tuple(("failure_details", (f"'{dim}'", f"COALESCE({col}, '')", "result_type", "COALESCE(organization_name, '')"))
               for dim, col in KEY_COLUMNS.items())),
    _Sum("roll_failures_month", ("dim", "key", "result_type", "month"), _FAIL_VALUES,
         tuple(("failure_details", (f"'{dim}'", f"COALESCE({col}, '')", "result_type", _MONTH))
               for dim, col in MONTH_DIMS.items())),
)


def _sum_ddl(spec: _Sum) -> str:
    """The CREATE TABLE of a summary: its keys (day and month numbers, else text; a
    ``dim`` key holds one of its parts' dimension names) and its integer sums."""
    cols = []
    for key in spec.keys:
        if key in ("day", "month"):
            cols.append(f"{key} INTEGER NOT NULL")
        elif key == "dim":
            dims = ", ".join(exprs[0] for _, exprs in spec.parts)  # each part's first key is 'dim-name'
            cols.append(f"dim TEXT NOT NULL CHECK (dim IN ({dims}))")
        else:
            cols.append(f"{key} TEXT NOT NULL")
    cols += [f"{value} INTEGER NOT NULL" for value in spec.values]
    cols.append(f"PRIMARY KEY ({', '.join(spec.keys)})")
    body = ",\n    ".join(cols)
    return f"CREATE TABLE {spec.table} (\n    {body}\n) WITHOUT ROWID"


#: every summary table; :func:`add_tables` creates single ones by name from it
SCHEMA: Final = ";\n".join(map(_sum_ddl, _SUMS)) + """;
CREATE TABLE text_values (
    col    TEXT NOT NULL,
    value  TEXT NOT NULL,
    rows   INTEGER NOT NULL,
    PRIMARY KEY (col, value)
) WITHOUT ROWID;
CREATE TABLE report_days (
    organization_name  TEXT NOT NULL,
    policy_domain      TEXT NOT NULL,
    policy_type        TEXT NOT NULL,
    first_day          INTEGER NOT NULL,
    days               BLOB NOT NULL,
    PRIMARY KEY (organization_name, policy_domain, policy_type)
) WITHOUT ROWID;
"""


_INT64_MAX: Final = 2**63 - 1


_POLICY_SUM_COLUMNS: Final = ("start_ts", "policy_domain", "organization_name", "policy_type", "sts_mode",
                               "successful_sessions", "failed_sessions")
_FAIL_SUM_COLUMNS: Final = ("start_ts", "result_type", "failed_session_count", "organization_name",
                            "receiving_mx_hostname", "sending_mta_ip", "policy_id", "policy_domain", "policy_type",
                            "sts_mode", "policy_successful", "policy_failed")


class Tally:
    """Summaries counted in Python: of a batch of new rows, as the import writer
    inserts them (:meth:`write` adds them to the tables with one upsert per table),
    or of every row (:func:`compute_into`: one scan per table, not one grouping per sum).

    ``columns`` names the columns of the rows :meth:`add` is given, per table (the
    writer's INSERT column lists, or :data:`NEEDS`). The sums are those that
    :class:`_Sum` and :func:`_text_values_sql` define in SQL; :func:`consistent`
    compares the tables with that SQL.

    The per-result-type sums count a policy once per type of its failure rows, so
    a policy's failure rows must come one after another, as they do in the
    writer's batches and in id order (the writer numbers policies and their
    failure rows in one order). ``unordered`` says if a policy id went down,
    which no index this app wrote has, so :func:`compute_into` can count again by
    policy id. ``after``, the tally of the rows just before, says which types the
    policy it ended on has counted.
    """

    #: the columns :meth:`add` reads, per table
    NEEDS: Final = {
        "reports": TEXT_COLUMNS["reports"][2],
        "policies": tuple(dict.fromkeys((*TEXT_COLUMNS["policies"][2], *_POLICY_SUM_COLUMNS))),
        "failure_details": tuple(dict.fromkeys((*TEXT_COLUMNS["failures"][2], *_FAIL_SUM_COLUMNS))),
    }

    def __init__(self, columns: Mapping[str, Sequence[str]], after: Tally | None = None) -> None:
        pos = {table: {c: i for i, c in enumerate(cols)} for table, cols in columns.items()}
        self._text = {table: [(f"{alias}.{c}", pos[table][c]) for c in cols] for table, alias, cols in TEXT_COLUMNS.values()}
        p, f = pos["policies"], pos["failure_details"]
        self._p = [p[c] for c in _POLICY_SUM_COLUMNS]
        self._f = [f[c] for c in _FAIL_SUM_COLUMNS]
        self.sums: dict[str, dict[tuple[Any, ...], list[int]]] = {spec.table: {} for spec in _SUMS}
        self.text: dict[tuple[str, Any], int] = {}
        self.days: dict[tuple[str, str, str], set[int]] = {}
        #: the policy of the last failure row counted, and the result types it has counted
        self._policy: Any = after._policy if after is not None else None
        self._policy_types: set[str] = after._policy_types if after is not None else set()
        self.unordered: bool = after.unordered if after is not None else False
        self._months: dict[int, int] = {}

    def add(self, table: str, rows: Iterable[Sequence[Any]]) -> None:
        """Count new rows of ``reports``, ``policies`` or ``failure_details``."""
        text = self.text
        rows = rows if isinstance(rows, list) else list(rows)
        for name, i in self._text[table]:
            for v, n in Counter(map(itemgetter(i), rows)).items():
                if v is not None:
                    key = (name, v)
                    text[key] = text.get(key, 0) + n
        if table == "policies":
            self._policies(rows)
        elif table == "failure_details":
            self._failures(rows)

    def _policies(self, rows: list[Sequence[Any]]) -> None:
        i_start, i_domain, i_org, i_type, i_mode, i_ok, i_bad = self._p
        # (roll_domain_month is the sum of roll_domain_day over the months: see _domain_month_sums)
        by_domain_day, by_org_day, by_domain = (self.sums[t] for t in ("roll_domain_day", "roll_org_day", "roll_domain"))
        days = self.days
        for row in rows:
            day = row[i_start] // SECONDS_PER_DAY
            domain, org, ptype, mode = row[i_domain], row[i_org], row[i_type], row[i_mode]
            if mode is None:
                mode = ""
            ok, bad = row[i_ok], row[i_bad]
            for sums, key in ((by_domain_day, (day, domain, ptype, mode)), (by_org_day, (day, org, ptype, mode)),
                              (by_domain, (domain, org, ptype, mode))):
                acc = sums.get(key)
                if acc is None:
                    sums[key] = [ok, bad, 1]
                else:
                    acc[0] += ok
                    acc[1] += bad
                    acc[2] += 1
            seen = days.get((org, domain, ptype))
            if seen is None:
                days[(org, domain, ptype)] = {day}
            else:
                seen.add(day)

    def _failures(self, rows: list[Sequence[Any]]) -> None:
        i_start, i_type, i_count, i_org, i_mx, i_ip, i_policy, i_domain, i_ptype, i_mode, i_ok, i_bad = self._f
        # (roll_failures_key of reporters is the sum of roll_failures_month over the
        # months: see _key_sums)
        by_day, by_month, by_key = (self.sums[t] for t in ("roll_failures_day", "roll_failures_month", "roll_failures_key"))
        by_type = [self.sums[t] for t in ("roll_type_day", "roll_type_domain", "roll_type_month")]
        months = self._months
        policy, counted = self._policy, self._policy_types
        for row in rows:
            rtype, n = row[i_type], row[i_count]
            org, mx, ip = row[i_org], row[i_mx], row[i_ip]
            if mx is None:
                mx = ""
            day = row[i_start] // SECONDS_PER_DAY
            month = months.get(day)  # (self._month, inlined: this loop runs once per row)
            if month is None:
                month = months[day] = month_of_day(day)
            for sums, key in ((by_day, (day, rtype)),
                              (by_month, ("reporter", org, rtype, month)),
                              (by_month, ("mx_host", mx, rtype, month)),
                              (by_key, ("mx_host", mx, rtype, org)),
                              (by_key, ("sending_ip", "" if ip is None else ip, rtype, org))):
                acc = sums.get(key)
                if acc is None:
                    sums[key] = [n, 1]
                else:
                    acc[0] += n
                    acc[1] += 1
            # the policy's sessions, once per result type of its failure rows
            if row[i_policy] != policy:
                if policy is not None and row[i_policy] < policy:
                    self.unordered = True
                policy, counted = row[i_policy], set()
            elif rtype in counted:
                continue
            counted.add(rtype)
            ptype, ok, bad = row[i_ptype], row[i_ok], row[i_bad]
            domain, mode = row[i_domain], row[i_mode]
            if mode is None:
                mode = ""
            type_keys: tuple[tuple[Any, ...], ...] = ((rtype, day, ptype), (rtype, domain, org, ptype, mode),
                                                      (rtype, month, domain, ptype, mode))
            for sums, key in zip(by_type, type_keys, strict=True):
                acc = sums.get(key)
                if acc is None:
                    sums[key] = [ok, bad, 1]
                else:
                    acc[0] += ok
                    acc[1] += bad
                    acc[2] += 1
        self._policy, self._policy_types = policy, counted

    def size(self) -> int:
        """How many distinct keys are counted."""
        return len(self.text) + sum(map(len, self.sums.values())) + len(self.days)

    def _month(self, day: int) -> int:
        month = self._months.get(day)
        if month is None:
            month = self._months[day] = month_of_day(day)
        return month

    def _key_sums(self) -> dict[tuple[Any, ...], list[int]]:
        """roll_failures_key's sums: those counted (MX hosts and sending addresses, by
        reporter), and those of reporters from their monthly sums (far fewer keys than rows)."""
        out = {key: list(acc) for key, acc in self.sums["roll_failures_key"].items()}
        reporters = {key: acc for key, acc in self.sums["roll_failures_month"].items() if key[0] == "reporter"}
        return _roll_up(out, reporters, lambda key: (*key[:3], key[1]))

    def _domain_month_sums(self) -> dict[tuple[Any, ...], list[int]]:
        """roll_domain_month's sums, from the per-day sums (far fewer keys than rows)."""
        return _roll_up({}, self.sums["roll_domain_day"], lambda key: (self._month(key[0]), *key[1:]))

    def sum_rows(self, table: str) -> list[tuple[Any, ...]]:
        if table == "roll_failures_key":
            sums = self._key_sums()
        elif table == "roll_domain_month":
            sums = self._domain_month_sums()
        else:
            sums = self.sums[table]
        if sums and max(map(max, sums.values())) > _INT64_MAX:  # absurd counts: as SQLite's "+" would store them
            return [(*key, *map(_int64, acc)) for key, acc in sums.items()]
        return [(*key, *acc) for key, acc in sums.items()]

    def text_rows(self) -> list[tuple[Any, ...]]:
        return [(name, value, n) for (name, value), n in self.text.items()]

    def write(self, conn: sqlite3.Connection) -> None:
        """Add the counts to the summary tables, in the caller's transaction."""
        for spec in _SUMS:
            cols = (*spec.keys, *spec.values)
            sets = ", ".join(f"{v} = {v} + excluded.{v}" for v in spec.values)
            conn.executemany(f"INSERT INTO {spec.table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))}) "
                             f"ON CONFLICT ({', '.join(spec.keys)}) DO UPDATE SET {sets}", self.sum_rows(spec.table))
        conn.executemany("INSERT INTO text_values (col, value, rows) VALUES (?, ?, ?) "
                         "ON CONFLICT (col, value) DO UPDATE SET rows = rows + excluded.rows", self.text_rows())
        _merge_days(conn, self.days)


def _roll_up(into: dict[tuple[Any, ...], list[int]], sums: Mapping[tuple[Any, ...], list[int]],
             key_of: Callable[[tuple[Any, ...]], tuple[Any, ...]]) -> dict[tuple[Any, ...], list[int]]:
    """Add ``sums`` into ``into`` under coarser keys (``key_of`` of each key); returns ``into``."""
    for key, values in sums.items():
        coarse = key_of(key)
        acc = into.get(coarse)
        if acc is None:
            into[coarse] = list(values)
        else:
            for i, v in enumerate(values):
                acc[i] += v
    return into


def _int64(n: int) -> int | float:
    # as SQLite's own "+" does when a sum leaves the 64-bit range
    return n if n <= _INT64_MAX else float(n)


def _merge_days(conn: sqlite3.Connection, days: Mapping[tuple[str, str, str], Iterable[int]]) -> None:
    out: list[tuple[Any, ...]] = []
    for key, new in days.items():
        row = conn.execute(
            "SELECT first_day, days FROM report_days WHERE organization_name = ? AND policy_domain = ? AND policy_type = ?",
            key,
        ).fetchone()
        old = None if row is None else (int(row[0]), decode_bits(row[1]))
        first, bits = merge_bits(old, bits_from_days(new))
        out.append((*key, first, encode_bits(bits)))
    conn.executemany(
        "INSERT OR REPLACE INTO report_days (organization_name, policy_domain, policy_type, first_day, days) VALUES (?, ?, ?, ?, ?)",
        out,
    )


def _text_values_sql() -> str:
    """Distinct values per kept column, with how many rows hold each."""
    return " UNION ALL ".join(
        f"SELECT '{name}', {col}, COUNT(*) FROM {table} WHERE {col} IS NOT NULL GROUP BY 2"
        for table, name, col in _TEXT_PARTS
    )


#: the row of the index's ``deferred_indexes`` table that says a bulk import has yet
#: to fill the summaries (it computes them once, at the end, beside its index builds)
PENDING: Final = "summaries"


def deferred(conn: sqlite3.Connection, name: str) -> bool:
    """True while a bulk import has yet to build ``name`` (an index, the summaries, the
    trigram index: see core/index.py, Index._defer_indexes)."""
    try:
        return conn.execute("SELECT 1 FROM deferred_indexes WHERE name = ?", (name,)).fetchone() is not None
    except sqlite3.OperationalError:  # an index from before bulk imports
        return False


def ready(conn: sqlite3.Connection) -> bool:
    """False while a bulk import has yet to fill the summaries: read the rows instead."""
    return not deferred(conn, PENDING)


#: distinct keys a :class:`Tally` of :func:`compute_into` holds before it writes them
#: out: memory stays bounded whatever the number of rows and distinct values
TALLY_KEYS: Final = 50_000
#: rows fetched at a time by :func:`compute_into`
SCAN_ROWS: Final = 20_000


def compute_into(src: sqlite3.Connection, out: sqlite3.Connection) -> None:
    """Compute every summary from ``src``'s rows into ``out``'s summary tables (empty,
    and perhaps ``src``'s own): one scan per table, counted in Python."""
    if not _compute_into(src, out, ""):
        # failure rows out of policy order (not written by this app): count again, sorted
        for table in TABLES:
            out.execute(f"DELETE FROM {table}")
        _compute_into(src, out, " ORDER BY policy_id")


def _compute_into(src: sqlite3.Connection, out: sqlite3.Connection, failure_order: str) -> bool:
    """:func:`compute_into` reading failure rows in ``failure_order``; False if they
    came out of policy order (see :class:`Tally`)."""
    tally = Tally(Tally.NEEDS)
    for table, cols in Tally.NEEDS.items():
        order = failure_order if table == "failure_details" else ""
        cur = src.execute(f"SELECT {', '.join(cols)} FROM {table}{order}")
        while rows := cur.fetchmany(SCAN_ROWS):
            tally.add(table, rows)
            if tally.size() > TALLY_KEYS:
                tally.write(out)
                tally = Tally(Tally.NEEDS, after=tally)
    tally.write(out)
    return not tally.unordered


def copy_from(conn: sqlite3.Connection, schema: str) -> None:
    """Replace the summaries with those of the attached database ``schema`` (inside the
    caller's transaction)."""
    for table in TABLES:
        conn.execute(f"DELETE FROM main.{table}")
        conn.execute(f"INSERT INTO main.{table} SELECT * FROM {schema}.{table}")


def add_tables(conn: sqlite3.Connection, tables: Sequence[str]) -> None:
    """Create the summaries ``tables`` (that a schema version adds) if they are missing,
    and compute them from the rows, in SQL (inside the caller's transaction)."""
    for statement in SCHEMA.split(";"):
        head = statement.strip().split("(", 1)[0].split()
        if head and head[-1] in tables:
            conn.execute(statement.replace("CREATE TABLE", "CREATE TABLE IF NOT EXISTS", 1))
    for spec in _SUMS:
        if spec.table in tables:
            conn.execute(f"DELETE FROM {spec.table}")
            summed(conn, f"INSERT INTO {spec.table} ({', '.join((*spec.keys, *spec.values))}) {spec.select()}")


def rebuild(conn: sqlite3.Connection) -> None:
    """Recompute every summary from the rows (inside the caller's transaction)."""
    for table in TABLES:
        conn.execute(f"DELETE FROM {table}")
    compute_into(conn, conn)


def consistent(conn: sqlite3.Connection) -> bool:
    """True if every summary matches the rows it summarises (a slow full check)."""
    return not mismatches(conn, first_only=True)


def mismatches(conn: sqlite3.Connection, *, first_only: bool = False) -> list[str]:
    """The summary tables (and schema 7's marks, as ``failure_details.first_of_type``)
    that do not match the rows they summarise: a slow full check, which counts every
    summary again in SQL (not with the import's own counting), in one read transaction
    unless the caller has one open, and leaves ``conn``'s tables as they were. A read-only
    connection will do (the counts go into a temporary table). With *first_only*, stops
    at the first."""
    began = not conn.in_transaction
    if began:
        conn.execute("BEGIN")  # one snapshot: an import beside it commits rows and sums together
    try:
        return _mismatches(conn, first_only)
    finally:
        if began:
            conn.execute("ROLLBACK")


def _mismatches(conn: sqlite3.Connection, first_only: bool) -> list[str]:
    found: list[str] = []
    computed = [(spec.table, ", ".join((*spec.keys, *spec.values)), spec.select()) for spec in _SUMS]
    computed.append(("text_values", "col, value, rows", _text_values_sql()))
    for table, cols, select in computed:
        # counted once into a temporary table, then compared both ways
        summed(conn, f"CREATE TEMP TABLE tlsrpt_counted AS SELECT * FROM ({select})")  # (a compound SELECT, kept whole)
        try:
            differ = conn.execute(
                f"SELECT EXISTS (SELECT * FROM temp.tlsrpt_counted EXCEPT SELECT {cols} FROM main.{table}) "
                f"OR EXISTS (SELECT {cols} FROM main.{table} EXCEPT SELECT * FROM temp.tlsrpt_counted)").fetchone()[0]
        finally:
            conn.execute("DROP TABLE temp.tlsrpt_counted")
        if differ:
            found.append(table)
            if first_only:
                return found
    # (schema 7) one failure row marked for each result type of each policy, and only with 1
    if has_column(conn, "failure_details", "first_of_type") and conn.execute(
            "SELECT (SELECT COUNT(*) FROM (SELECT SUM(first_of_type) AS n FROM failure_details "
            "GROUP BY policy_id, result_type) WHERE n IS NOT 1) + (SELECT COUNT(*) FROM failure_details "
            "WHERE first_of_type IS NOT NULL AND first_of_type <> 1)").fetchone()[0]:
        found.append("failure_details.first_of_type")
        if first_only:
            return found
    expected: dict[tuple[str, str, str], set[int]] = {}
    for org, domain, ptype, d in conn.execute(f"SELECT organization_name, policy_domain, policy_type, {_DAY} FROM policies"):
        expected.setdefault((str(org), str(domain), str(ptype)), set()).add(int(d))
    stored = {
        (str(o), str(dm), str(t)): set(days_of(int(first), decode_bits(blob)))
        for o, dm, t, first, blob in conn.execute(
            "SELECT organization_name, policy_domain, policy_type, first_day, days FROM report_days"
        )
    }
    if stored != expected:
        found.append("report_days")
    return found
