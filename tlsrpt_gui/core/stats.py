"""Aggregates for the charts and summaries: SQL ``GROUP BY`` over the index.

Every function takes an open SQLite connection to an index and the shared
:class:`~tlsrpt_gui.core.query.Filter`, and returns small frozen dataclasses.
Rows are never looped over in Python: the database groups and sums, Python only
shapes the (bounded) result. Top-N lists stop at ``limit`` keys.

Days are UTC day numbers (days since 1970-01-01), taken from a report's start;
:func:`day_to_date` and :func:`date_to_day` convert.

Which counts are used:

* sessions and success rates come from the policy summaries
  (``total-successful-session-count`` / ``total-failure-session-count``);
* failures by result type, reporter, MX host, sending IP and the certificate
  series come from the failure details (``failed-session-count``). A session may
  be counted under several result types (RFC 8460 §4), and some reporters send
  fewer details than failures, so these sums need not match the summaries.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Final, Literal

from tlsrpt_gui.core import rollups as _rollups
from tlsrpt_gui.core.query import Filter, text_values
from tlsrpt_gui.core.report import result_category

SECONDS_PER_DAY: Final = 86400
DEFAULT_LIMIT: Final = 15

#: RFC 8460 §4.3 categories, in display order
CATEGORIES: Final[tuple[str, ...]] = ("negotiation", "dane", "sts", "other")
CATEGORY_LABELS: Final[dict[str, str]] = {
    "negotiation": "Negotiation failures",
    "dane": "DANE policy failures",
    "sts": "MTA-STS policy failures",
    "other": "Other or unknown",
}

#: policy kinds of the coverage chart, in display order
POLICY_KINDS: Final[tuple[str, ...]] = (
    "sts-enforce", "sts-testing", "sts-other", "tlsa", "no-policy-found", "other",
)
POLICY_KIND_LABELS: Final[dict[str, str]] = {
    "sts-enforce": "MTA-STS enforce",
    "sts-testing": "MTA-STS testing",
    "sts-other": "MTA-STS none/unknown",
    "tlsa": "DANE (tlsa)",
    "no-policy-found": "No policy found",
    "other": "Other policy type",
}
#: the ``policy_type`` filter value of each kind
POLICY_KIND_TYPES: Final[dict[str, str]] = {
    "sts-enforce": "sts",
    "sts-testing": "sts",
    "sts-other": "sts",
    "tlsa": "tlsa",
    "no-policy-found": "no-policy-found",
    "other": "",
}

#: where a failure detail leaves a key out (no MX host, no IP …)
NOT_GIVEN: Final = ""

TopKey = Literal["reporter", "mx_host", "sending_ip"]
_TOP_COLUMNS: Final[dict[str, str]] = {key: f"f.{col}" for key, col in _rollups.KEY_COLUMNS.items()}


# --------------------------------------------------------------------------- days


def date_to_day(d: date) -> int:
    return (d - date(1970, 1, 1)).days


def day_to_date(day: int) -> date:
    return datetime.fromtimestamp(day * SECONDS_PER_DAY, UTC).date()


_day_sql = _rollups.day_sql
_days_of = _rollups.days_of


def _kind_sql(a: str) -> str:
    """The policy kind (see :data:`POLICY_KINDS`) of a policy row or summary row ``a``."""
    return (
        f"CASE WHEN {a}policy_type = 'sts' AND {a}sts_mode = 'enforce' THEN 'sts-enforce' "
        f"WHEN {a}policy_type = 'sts' AND {a}sts_mode = 'testing' THEN 'sts-testing' "
        f"WHEN {a}policy_type = 'sts' THEN 'sts-other' "
        f"WHEN {a}policy_type = 'tlsa' THEN 'tlsa' "
        f"WHEN {a}policy_type = 'no-policy-found' THEN 'no-policy-found' ELSE 'other' END"
    )


_KIND_SQL: Final = _kind_sql("p.")


def _rate(successful: int, failed: int) -> float | None:
    total = successful + failed
    return None if total == 0 else successful / total


# --------------------------------------------------------------------------- results


class _SessionCounts:
    """``total`` and ``success_rate`` of a result that has ``successful`` and ``failed``."""

    __slots__ = ()
    successful: int
    failed: int

    @property
    def total(self) -> int:
        return self.successful + self.failed

    @property
    def success_rate(self) -> float | None:
        return _rate(self.successful, self.failed)


class _OnDay:
    """``date`` of a result that has a UTC ``day`` number."""

    __slots__ = ()
    day: int

    @property
    def date(self) -> date:
        return day_to_date(self.day)


@dataclass(frozen=True, slots=True)
class DaySessions(_SessionCounts, _OnDay):
    """Sessions of one UTC day."""

    day: int
    successful: int
    failed: int


@dataclass(frozen=True, slots=True)
class ResultTypeCount:
    result_type: str
    category: str
    failed_sessions: int
    details: int


@dataclass(frozen=True, slots=True)
class Breakdown:
    """Failed sessions of one key (a reporter, MX host or IP) by category."""

    key: str
    by_category: Mapping[str, int]

    @property
    def total(self) -> int:
        return sum(self.by_category.values())


@dataclass(frozen=True, slots=True)
class TopList:
    items: tuple[Breakdown, ...]
    #: how many distinct keys there are in all (``items`` holds at most ``limit``)
    total_keys: int


@dataclass(frozen=True, slots=True)
class DomainRate(_SessionCounts):
    policy_domain: str
    successful: int
    failed: int


@dataclass(frozen=True, slots=True)
class DomainRates:
    items: tuple[DomainRate, ...]
    total_keys: int


@dataclass(frozen=True, slots=True)
class KindSessions(_SessionCounts):
    successful: int
    failed: int


@dataclass(frozen=True, slots=True)
class DomainCoverage:
    policy_domain: str
    #: policy kind (see :data:`POLICY_KINDS`) -> sessions
    by_kind: Mapping[str, KindSessions]

    @property
    def total(self) -> int:
        return sum(k.total for k in self.by_kind.values())


@dataclass(frozen=True, slots=True)
class Coverage:
    domains: tuple[DomainCoverage, ...]
    total_keys: int
    #: all filtered sessions by policy kind
    overall: Mapping[str, KindSessions]

    def _sum(self, kinds: Iterable[str]) -> KindSessions:
        s = f = 0
        for k in kinds:
            v = self.overall.get(k)
            if v is not None:
                s += v.successful
                f += v.failed
        return KindSessions(s, f)

    @property
    def total_sessions(self) -> int:
        return self._sum(self.overall).total

    @property
    def sts_enforcement_rate(self) -> float | None:
        """Share of all sessions made under an MTA-STS policy in enforce mode."""
        total = self.total_sessions
        return None if total == 0 else self._sum(["sts-enforce"]).total / total

    @property
    def sts_compliance_rate(self) -> float | None:
        """Success rate of the sessions made under any MTA-STS policy."""
        return self._sum(["sts-enforce", "sts-testing", "sts-other"]).success_rate

    @property
    def sts_enforce_success_rate(self) -> float | None:
        return self._sum(["sts-enforce"]).success_rate


@dataclass(frozen=True, slots=True)
class DayResultCount(_OnDay):
    day: int
    result_type: str
    failed_sessions: int


# --------------------------------------------------------------------------- queries


def _used(flt: Filter) -> set[str]:
    """The filter's fields in use: date, policy_domain, reporter, policy_type, result_type, mx_host, sending_ip, text."""
    used = {name for name in ("reporter", "policy_type", "result_type", "mx_host", "sending_ip") if getattr(flt, name)}
    if flt.date_from is not None or flt.date_to is not None:
        used.add("date")
    if flt.domain:
        used.add("policy_domain")
    if flt.text.strip():
        used.add("text")
    return used


def _roll_where(flt: Filter, allowed: AbstractSet[str]) -> tuple[str, list[Any]] | None:
    """The filter as a condition on a summary table (core/rollups.py) that keeps the
    ``allowed`` fields, or None when the filter uses another (then the rows are read)."""
    if not _used(flt) <= allowed:
        return None
    clauses: list[str] = []
    params: list[Any] = []
    if flt.date_from is not None:
        clauses.append("day >= ?")
        params.append(date_to_day(flt.date_from))
    if flt.date_to is not None:
        clauses.append("day <= ?")
        params.append(date_to_day(flt.date_to))
    for value, column in ((flt.domain, "policy_domain"), (flt.reporter, "organization_name"),
                          (flt.policy_type, "policy_type"), (flt.result_type, "result_type")):
        if value:
            clauses.append(f"{column} = ?")
            params.append(value)
    return (" AND ".join(clauses) if clauses else "1"), params


_DOMAIN_FIELDS: Final = frozenset({"date", "policy_domain", "policy_type"})
_ORG_FIELDS: Final = frozenset({"date", "reporter", "policy_type"})


def _domain_summary(flt: Filter) -> tuple[str, str, list[Any]] | None:
    """``(table, where, params)`` of the per-domain session summary that answers ``flt``."""
    if flt.result_type:  # the policies with a failure of that type: all time only
        rw = _roll_where(flt, {"policy_domain", "reporter", "policy_type", "result_type"})
        return None if rw is None else ("roll_type_domain", *rw)
    if not flt.date_from and not flt.date_to:
        rw = _roll_where(flt, {"policy_domain", "reporter", "policy_type"})
        if rw is not None:
            return "roll_domain", *rw
    rw = _roll_where(flt, _DOMAIN_FIELDS)
    return None if rw is None else ("roll_domain_day", *rw)


def _policy_source(conn: sqlite3.Connection, flt: Filter, rollups: bool) -> tuple[str, str, list[Any]]:
    """``(from, where, params)`` of the policy rows ``flt`` selects, for the session charts.

    A result-type filter ("policies with a failure of type X") is answered from the
    failure rows, which carry their policy's domain, reporter, type, mode, start and
    session counts, through one covering index (failures_policy_sums) of the first
    failure row of each result type in a policy: one row per policy, without reading
    the policies themselves.
    """
    used = _used(flt)
    if rollups and "result_type" in used and used <= {"result_type", "date", "policy_domain", "reporter", "policy_type"}:
        where, params = flt.where("failures")
        # (schema 7 marks the first failure row of each result type in a policy)
        first = "f.first_of_type = 1" if _rollups.has_column(conn, "failure_details", "first_of_type") else None
        # One row per policy: the first of its failure rows of that type (before schema
        # 7, its group, whose rows all hold the same policy values, so SQLite's "bare
        # columns", taken from any row of the group, are exact).
        sub = (
            "SELECT f.start_ts AS start_ts, f.policy_domain AS policy_domain, "
            "f.organization_name AS organization_name, f.policy_type AS policy_type, "
            "f.sts_mode AS sts_mode, f.policy_successful AS successful_sessions, "
            "f.policy_failed AS failed_sessions FROM failure_details f "
            + (f"WHERE {where} AND {first}" if first else f"WHERE {where} GROUP BY f.policy_id")
        )
        return f"({sub}) p", "1", params
    where, params = flt.where("policies", text_values=text_values(conn, flt, "policies") if rollups else None)
    return "policies p", where, params


def _failure_where(conn: sqlite3.Connection, flt: Filter) -> tuple[str, list[Any]]:
    """The filter on failure rows; a rare free-text term goes through the value table."""
    return flt.where("failures", text_values=text_values(conn, flt))


#: the per-day session summaries, and the filter fields each keeps
_ROLL_TABLES: Final = (("roll_domain_day", _DOMAIN_FIELDS), ("roll_org_day", _ORG_FIELDS))
_TYPE_ROLL_TABLES: Final = (("roll_type_day", frozenset({"result_type", "date", "policy_type"})),)


def sessions_per_day(conn: sqlite3.Connection, flt: Filter, *, rollups: bool = True) -> list[DaySessions]:
    """Successful and failed sessions per UTC day, oldest first."""
    rollups = rollups and _rollups.ready(conn)
    for table, fields in _TYPE_ROLL_TABLES if flt.result_type else _ROLL_TABLES:
        rw = _roll_where(flt, fields) if rollups else None
        if rw is not None:
            sql = (f"SELECT day, SUM(successful), SUM(failed) FROM {table} "
                   f"WHERE {rw[0]} GROUP BY day ORDER BY day")
            return [DaySessions(int(d), int(s), int(f)) for d, s, f in _rollups.summed(conn, sql, rw[1], width=3)]
    source, where, params = _policy_source(conn, flt, rollups)
    day = _day_sql("p.start_ts")
    sql = (
        f"SELECT {day} AS day, SUM(p.successful_sessions), SUM(p.failed_sessions) "
        f"FROM {source} WHERE {where} GROUP BY day ORDER BY day"
    )
    return [DaySessions(int(d), int(s), int(f)) for d, s, f in _rollups.summed(conn, sql, params, width=3)]


def failures_by_result_type(conn: sqlite3.Connection, flt: Filter, *, rollups: bool = True) -> list[ResultTypeCount]:
    """Failed sessions per result type, grouped by category (display order), largest first."""
    rollups = rollups and _rollups.ready(conn)
    rw = _roll_where(flt, {"date", "result_type"}) if rollups else None
    if rw is not None:
        sql = f"SELECT result_type, SUM(failed), SUM(details) FROM roll_failures_day WHERE {rw[0]} GROUP BY result_type"
        params = rw[1]
    else:
        where, params = _failure_where(conn, flt)
        sql = (
            "SELECT f.result_type, SUM(f.failed_session_count), COUNT(*) "
            f"FROM failure_details f WHERE {where} GROUP BY f.result_type"
        )
    rows = [
        ResultTypeCount(str(t), result_category(str(t)), int(n), int(d)) for t, n, d in _rollups.summed(conn, sql, params, width=3)
    ]
    rows.sort(key=lambda r: (CATEGORIES.index(r.category), -r.failed_sessions, r.result_type))
    return rows


def top_failures(
    conn: sqlite3.Connection,
    flt: Filter,
    key: TopKey,
    limit: int = DEFAULT_LIMIT,
    *,
    include_missing: bool = True,
    rollups: bool = True,
) -> TopList:
    """The ``limit`` reporters / MX hosts / sending IPs with most failed sessions, by category.

    A failure detail that leaves the key out is counted under :data:`NOT_GIVEN`,
    or skipped when ``include_missing`` is false.
    """
    rollups = rollups and _rollups.ready(conn)
    col = _TOP_COLUMNS[key]
    # (an index of schema 7 or older, opened read-only, counts keys of all reporters only)
    fields = {"result_type", "reporter"} if not flt.reporter or _rollups.has_column(
        conn, "roll_failures_key", "organization_name") else {"result_type"}
    rw = _roll_where(flt, fields) if rollups else None
    parts: list[tuple[str, list[Any]]] = []  # queries of (key, result type, failed sessions)
    if rw is not None:  # all time: the per-key summary, whose rows count each key per reporter
        where, params = rw
        if not include_missing:
            where = f"{where} AND key != ''"
        parts.append((f"SELECT key, result_type, SUM(failed) FROM roll_failures_key WHERE dim = ? AND {where} "
                      "GROUP BY key, result_type", [key, *params]))
    else:
        used = _used(flt)
        by_month = rollups and key in _rollups.MONTH_DIMS and "date" in used and used <= {"date", "result_type"}
        months = _whole_months(flt) if by_month else None
        if months is None:
            parts.append(_top_rows(conn, flt, col, include_missing, rollups))
        else:  # the range's whole months from their summary, the days at its ends from the rows
            first, last, ends = months
            where = "dim = ? AND month >= ? AND month <= ?"
            params = [key, first, last]
            if flt.result_type:
                where += " AND result_type = ?"
                params.append(flt.result_type)
            if not include_missing:
                where += " AND key != ''"
            parts.append((f"SELECT key, result_type, SUM(failed) FROM roll_failures_month WHERE {where} "
                           "GROUP BY key, result_type", params))
            parts.extend(_top_rows(conn, end, col, include_missing, rollups) for end in ends)
    by_key: dict[str, dict[str, int]] = {}
    for sql, params in parts:
        for k, result_type, n in _rollups.summed(conn, sql, params, width=3):
            cats = by_key.setdefault(NOT_GIVEN if k is None else str(k), {})
            cat = result_category(str(result_type))
            cats[cat] = cats.get(cat, 0) + int(n)
    totals = {k: sum(v.values()) for k, v in by_key.items()}
    keys = sorted(by_key, key=lambda k: (-totals[k], k))[:limit]
    return TopList(tuple(Breakdown(k, _ordered(by_key[k], CATEGORIES)) for k in keys), len(by_key))


def _top_rows(conn: sqlite3.Connection, flt: Filter, col: str, include_missing: bool,
              rollups: bool) -> tuple[str, list[Any]]:
    """The failure rows' query of :func:`top_failures`."""
    # A wide date range alone: its rows are checked inside the covering index (key,
    # result type, start, count), read whole in key order; a narrow one, or another
    # filter, finds its rows through its own index and groups with a sort.
    wide = rollups and _used(flt) == {"date"} and _date_share(conn, flt) > WIDE_DATES
    where, params = flt.where("failures", common={"date"}) if wide else _failure_where(conn, flt)
    if not include_missing:
        where = f"{where} AND {col} IS NOT NULL AND {col} != ''"
    # Grouped by the raw columns, so SQLite streams the covering index instead of
    # sorting; the grouped set is (keys x result types), and the categories and the
    # top keys are picked from it by the caller.
    group = col if where == "1" or wide else f"+{col}"
    sql = (f"SELECT {group}, f.result_type, SUM(f.failed_session_count) "
           f"FROM failure_details f WHERE {where} GROUP BY {group}, f.result_type")
    return sql, params


def _whole_months(flt: Filter) -> tuple[int, int, list[Filter]] | None:
    """``(first, last, ends)``: the calendar months wholly inside ``flt``'s date range
    (see rollups.month_of_day), and a filter for each part of the range outside them;
    None if no whole month is inside."""
    lo = None if flt.date_from is None else date_to_day(flt.date_from)
    hi = None if flt.date_to is None else date_to_day(flt.date_to)
    try:
        first = _rollups.month_of_day(lo) if lo is not None else _rollups.month_of_day(date_to_day(date.min))
        if lo is not None and _rollups.month_start_day(first) != lo:
            first += 1
        last = _rollups.month_of_day(hi) if hi is not None else _rollups.month_of_day(date_to_day(date.max))
        if hi is not None and _rollups.month_start_day(last + 1) != hi + 1:
            last -= 1
        if first > last:
            return None
        ends: list[Filter] = []
        if lo is not None and lo < _rollups.month_start_day(first):
            ends.append(flt.with_(date_to=day_to_date(_rollups.month_start_day(first) - 1)))
        if hi is not None and hi >= _rollups.month_start_day(last + 1):
            ends.append(flt.with_(date_from=day_to_date(_rollups.month_start_day(last + 1))))
    except (ValueError, OverflowError):  # at the ends of the calendar: read the rows
        return None
    return first, last, ends


#: a date range holding more than this share of the failure rows is read through the
#: top-N charts' covering indexes (reading a tenth of the rows through failures_start
#: costs about as much as reading those indexes whole)
WIDE_DATES: Final = 0.1


def _date_share(conn: sqlite3.Connection, flt: Filter) -> float:
    """The share of all failure rows that ``flt``'s date range holds (from the summary)."""
    rw = _roll_where(flt, {"date"})
    if rw is None:
        return 0.0
    total, part = _rollups.summed(conn, f"SELECT SUM(details), SUM(CASE WHEN {rw[0]} THEN details END) FROM roll_failures_day",
                          rw[1])[0]
    return float(part or 0) / total if total else 0.0


def _ordered(values: Mapping[str, Any], order: Sequence[str]) -> dict[str, Any]:
    return {k: values[k] for k in order if k in values}


#: the monthly session summaries of the domain charts, and the filter fields each keeps:
#: all policies, and those with a failure of a result type
_MONTH_TABLES: Final = {False: ("roll_domain_month", _DOMAIN_FIELDS),
                        True: ("roll_type_month", _DOMAIN_FIELDS | {"result_type"})}


def _domain_parts(conn: sqlite3.Connection, flt: Filter, rollups: bool, by_kind: bool) -> list[tuple[str, list[Any]]]:
    """Queries of ``(domain, [kind,] successful, failed)`` rows whose sums per domain
    (and policy kind) are the sessions of the policies ``flt`` selects."""
    kind = f", {_kind_sql('')} AS kind" if by_kind else ""  # of a summary row
    group = "d, kind" if by_kind else "d"
    table, fields = _MONTH_TABLES[bool(flt.result_type)]
    used = _used(flt)
    months = _whole_months(flt) if rollups and "date" in used and used <= fields else None
    if months is not None:  # a date range: its whole months from their summary, then its ends
        first, last, ends = months
        rw = _roll_where(flt.with_(date_from=None, date_to=None), fields)
        assert rw is not None
        parts = [(f"SELECT policy_domain AS d{kind}, SUM(successful), SUM(failed) FROM {table} "
                  f"WHERE month >= ? AND month <= ? AND {rw[0]} GROUP BY {group}", [first, last, *rw[1]])]
        for end in ends:  # (no whole month in them)
            parts.extend(_domain_parts(conn, end, rollups, by_kind))
        return parts
    summary = _domain_summary(flt) if rollups else None
    if summary is not None:
        table, where, params = summary
        return [(f"SELECT policy_domain AS d{kind}, SUM(successful), SUM(failed) FROM {table} WHERE {where} "
                 f"GROUP BY {group}", params)]
    source, where, params = _policy_source(conn, flt, rollups)
    # "+p.policy_domain": group with a sort, not by walking policies_domain, which
    # would make the filter's per-policy lookups jump around the file.
    kind_p = f", {_KIND_SQL} AS kind" if by_kind else ""  # of a policy row
    return [(f"SELECT +p.policy_domain AS d{kind_p}, SUM(p.successful_sessions), SUM(p.failed_sessions) "
             f"FROM {source} WHERE {where} GROUP BY {group}", params)]


def _domain_sums(conn: sqlite3.Connection, flt: Filter, rollups: bool, by_kind: bool) -> dict[tuple[str, ...], list[int]]:
    """``{(domain, [kind]): [successful, failed]}`` of :func:`_domain_parts`."""
    out: dict[tuple[str, ...], list[int]] = {}
    for sql, params in _domain_parts(conn, flt, rollups, by_kind):
        for *key, s, f in _rollups.summed(conn, sql, params, width=4 if by_kind else 3):
            k = tuple(map(str, key))
            acc = out.get(k)
            if acc is None:
                out[k] = [int(s), int(f)]
            else:
                acc[0] += int(s)
                acc[1] += int(f)
    return out


def success_rate_by_domain(
    conn: sqlite3.Connection, flt: Filter, limit: int = DEFAULT_LIMIT, *, rollups: bool = True
) -> DomainRates:
    """Sessions and success rate of the ``limit`` policy domains with most sessions."""
    rollups = rollups and _rollups.ready(conn)
    sums = _domain_sums(conn, flt, rollups, by_kind=False)  # one row per domain
    domains = sorted(sums, key=lambda k: (-sums[k][0] - sums[k][1], k))[:limit]
    return DomainRates(tuple(DomainRate(k[0], *sums[k]) for k in domains), len(sums))


def policy_coverage(
    conn: sqlite3.Connection, flt: Filter, limit: int = DEFAULT_LIMIT, *, rollups: bool = True
) -> Coverage:
    """Sessions per policy domain by policy kind (sts enforce/testing, tlsa, none found)."""
    rollups = rollups and _rollups.ready(conn)
    # The grouped set has one row per (domain, kind): small, so it is shaped here.
    grouped: dict[str, dict[str, KindSessions]] = {}
    overall_sums: dict[str, list[int]] = {}
    for (d, kind), (s, f) in _domain_sums(conn, flt, rollups, by_kind=True).items():
        grouped.setdefault(d, {})[kind] = KindSessions(s, f)
        acc = overall_sums.setdefault(kind, [0, 0])
        acc[0] += s
        acc[1] += f
    totals = {d: sum(v.total for v in kinds.values()) for d, kinds in grouped.items()}
    domains = sorted(grouped, key=lambda d: (-totals[d], d))[:limit]
    by_domain = {d: grouped[d] for d in domains}
    overall = {k: KindSessions(v[0], v[1]) for k, v in overall_sums.items()}
    count = len(grouped)
    return Coverage(
        tuple(DomainCoverage(d, _ordered(by_domain[d], POLICY_KINDS)) for d in domains),
        count,
        _ordered(overall, POLICY_KINDS),
    )


def certificate_failures_per_day(conn: sqlite3.Connection, flt: Filter, *, rollups: bool = True) -> list[DayResultCount]:
    """Failed sessions per day of the ``certificate-*`` result types, oldest first."""
    rollups = rollups and _rollups.ready(conn)
    # A range on result_type (instead of LIKE) lets SQLite use an index.
    certificate = "result_type >= 'certificate-' AND result_type < 'certificate.'"
    rw = _roll_where(flt, {"date", "result_type"}) if rollups else None
    if rw is not None:
        sql = (f"SELECT day, result_type, SUM(failed) FROM roll_failures_day WHERE {rw[0]} AND {certificate} "
               "GROUP BY day, result_type ORDER BY day, result_type")
        params = rw[1]
    else:
        where, params = _failure_where(conn, flt)
        day = _day_sql("f.start_ts")
        sql = (
            f"SELECT {day} AS day, f.result_type, SUM(f.failed_session_count) FROM failure_details f "
            f"WHERE {where} AND f.{certificate} "
            "GROUP BY day, f.result_type ORDER BY day, f.result_type"
        )
    return [DayResultCount(int(d), str(t), int(n)) for d, t, n in _rollups.summed(conn, sql, params, width=3)]


# --------------------------------------------------------------------------- missing reports


@dataclass(frozen=True, slots=True)
class ReportingGaps:
    """One (reporter, policy domain) pair that usually reports daily, and its gaps."""

    reporter: str
    policy_domain: str
    #: first and last day with a report
    first_day: int
    last_day: int
    #: the last day the window covers (the newest report of any pair)
    end_day: int
    #: the report days as a bitmap: bit ``i`` is day ``first_day + i``
    bits: int = field(repr=False)
    #: days from ``first_day`` to ``end_day`` (less the grace days) without a report
    missing: tuple[int, ...]

    @property
    def reported(self) -> frozenset[int]:
        """The days with a report."""
        return frozenset(_rollups.days_of(self.first_day, self.bits))

    @property
    def missing_dates(self) -> list[date]:
        return [day_to_date(d) for d in self.missing]

    def runs(self) -> list[tuple[int, int]]:
        """The missing days as inclusive ``(first, last)`` runs."""
        out: list[tuple[int, int]] = []
        for d in self.missing:
            if out and out[-1][1] == d - 1:
                out[-1] = (out[-1][0], d)
            else:
                out.append((d, d))
        return out

    @property
    def stopped(self) -> bool:
        """True if the pair's reports stopped before the end of the window."""
        return bool(self.missing) and self.missing[-1] > self.last_day


@dataclass(frozen=True, slots=True)
class MissingReports:
    pairs: tuple[ReportingGaps, ...]
    #: pairs seen that do not report daily (not checked)
    irregular_pairs: int
    first_day: int | None
    end_day: int | None


Pair = tuple[str, str]


def find_missing(
    series: Mapping[Pair, Iterable[int]],
    end_day: int | None = None,
    *,
    min_days: int = 5,
    grace_days: int = 1,
) -> MissingReports:
    """Days without a report, for each (reporter, policy domain) pair that usually reports daily.

    ``series`` maps a pair to the UTC day numbers it sent a report for. A pair
    "usually reports daily" when it has at least ``min_days`` report days and the
    median step between consecutive report days is one day. Its missing days run
    from its first report to ``end_day`` (default: the newest day in ``series``),
    except the last ``grace_days`` days, as reports arrive a day or so late.
    Pairs are returned with the most missing days first.
    """
    bitmaps: dict[Pair, tuple[int, int]] = {}
    for pair, days in series.items():
        listed = list(days)
        if listed:
            bitmaps[pair] = _rollups.bits_from_days(listed)
    return find_missing_bits(bitmaps, end_day, min_days=min_days, grace_days=grace_days)


def find_missing_bits(
    bitmaps: Mapping[Pair, tuple[int, int]],
    end_day: int | None = None,
    *,
    min_days: int = 5,
    grace_days: int = 1,
) -> MissingReports:
    """:func:`find_missing` over ``(first_day, bits)`` day bitmaps (see core/rollups.py).

    Works on whole bitmaps: the median step between report days is one day
    exactly when more than half of the steps are one day, and those steps are
    the set bits whose next bit is set too.
    """
    live = {pair: fb for pair, fb in bitmaps.items() if fb[1]}
    if not live:
        return MissingReports((), 0, None, end_day)
    end = end_day if end_day is not None else max(f + b.bit_length() - 1 for f, b in live.values())
    first_all = min(f for f, _ in live.values())
    out: list[ReportingGaps] = []
    irregular = 0
    last_checked = end - grace_days
    for (reporter, domain), (first, bits) in live.items():
        n = bits.bit_count()
        steps = n - 1
        ones = (bits & (bits >> 1)).bit_count()
        if n < min_days or steps < 1 or ones <= steps // 2:
            irregular += 1
            continue
        span = last_checked - first + 1
        missing: tuple[int, ...] = ()
        if span > 0:
            missing = tuple(_rollups.days_of(first, ~bits & ((1 << span) - 1)))
        last = first + bits.bit_length() - 1
        out.append(ReportingGaps(reporter, domain, first, last, end, bits, missing))
    out.sort(key=lambda g: (-len(g.missing), g.reporter, g.policy_domain))
    return MissingReports(tuple(out), irregular, first_all, end)


def _clip(first: int, bits: int, lo: int | None, hi: int | None) -> tuple[int, int] | None:
    """The part of a day bitmap from day ``lo`` to ``hi`` (inclusive), re-based on its first day."""
    if lo is not None and lo > first:
        bits >>= lo - first
        first = lo
    if hi is not None:
        if hi < first:
            return None
        bits &= (1 << (hi - first + 1)) - 1
    if not bits:
        return None
    skip = (bits & -bits).bit_length() - 1
    return first + skip, bits >> skip


def reporting_bits(conn: sqlite3.Connection, flt: Filter) -> dict[Pair, tuple[int, int]]:
    """The days each (reporter, policy domain) pair sent a report for, as day bitmaps.

    Only the reporter, policy domain, policy type and date parts of the filter
    apply: a result-type or text filter would hide reports, not show gaps.
    """
    if not _rollups.ready(conn):  # a bulk import has yet to fill the bitmaps
        return {pair: _rollups.bits_from_days(days) for pair, days in reporting_days(conn, flt, rollups=False).items()}
    clauses: list[str] = []
    params: list[Any] = []
    for value, column in ((flt.reporter, "organization_name"), (flt.domain, "policy_domain"),
                          (flt.policy_type, "policy_type")):
        if value:
            clauses.append(f"{column} = ?")
            params.append(value)
    where = " AND ".join(clauses) if clauses else "1"
    lo = date_to_day(flt.date_from) if flt.date_from is not None else None
    hi = date_to_day(flt.date_to) if flt.date_to is not None else None
    out: dict[Pair, tuple[int, int]] = {}
    sql = f"SELECT organization_name, policy_domain, first_day, hex(days) FROM report_days WHERE {where}"
    for org, domain, first, blob in _rollups.at_once(conn, sql, params, width=4):
        part = _clip(int(first), _rollups.decode_bits(bytes.fromhex(blob)), lo, hi)
        if part is not None:
            key = (str(org), str(domain))
            out[key] = _rollups.merge_bits(out.get(key), part)
    return out


def reporting_days(conn: sqlite3.Connection, flt: Filter, *, rollups: bool = True) -> dict[Pair, list[int]]:
    """The days each (reporter, policy domain) pair sent a report for, oldest first
    (see :func:`reporting_bits`; ``rollups=False`` reads the policy rows instead)."""
    if rollups and _rollups.ready(conn):
        return {pair: _days_of(*fb) for pair, fb in reporting_bits(conn, flt).items()}
    base = Filter(
        policy_domain=flt.policy_domain, date_from=flt.date_from, date_to=flt.date_to,
        reporter=flt.reporter, policy_type=flt.policy_type,
    )
    where, params = base.where("policies")
    day = _day_sql("p.start_ts")
    sql = (
        f"SELECT p.organization_name, p.policy_domain, {day} AS day FROM policies p "
        f"WHERE {where} GROUP BY p.organization_name, p.policy_domain, day ORDER BY 1, 2, 3"
    )
    out: dict[Pair, list[int]] = {}
    for org, domain, d in conn.execute(sql, params):
        out.setdefault((str(org), str(domain)), []).append(int(d))
    return out


def missing_reports(
    conn: sqlite3.Connection, flt: Filter, *, min_days: int = 5, grace_days: int = 1
) -> MissingReports:
    """:func:`find_missing` over the index.

    The window ends at ``flt.date_to`` (at most today) or at the newest report.
    """
    bitmaps = reporting_bits(conn, flt)
    end = None
    if flt.date_to is not None:
        end = min(date_to_day(flt.date_to), date_to_day(datetime.now(UTC).date()))
    return find_missing_bits(bitmaps, end, min_days=min_days, grace_days=grace_days)
