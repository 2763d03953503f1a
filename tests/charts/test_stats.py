"""core.stats aggregates against an independent computation in plain Python.

The reference side reads the report files itself and sums with dicts: for the
synthetic set straight from the gzip'd JSON (no project code at all), for the
shared corpus (mail, gzip, odd JSON) through the project's source reader and
lenient parser, de-duplicated like the index does.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import pytest

from tlsrpt_gui.core import rollups, stats
from tlsrpt_gui.core.query import Filter, text_values
from tlsrpt_gui.core.report import parse_report_bytes, result_category
from tlsrpt_gui.core.sources import expand_paths, read_source

from .conftest import CORPUS_DIRS


@dataclass
class Detail:
    result_type: str
    count: int
    ip: str | None
    mx: str | None


@dataclass
class Pol:
    org: str
    day: int
    ptype: str
    domain: str
    mode: str | None
    successful: int
    failed: int
    details: list[Detail] = field(default_factory=list)


def _day(ts: datetime) -> int:
    return int(ts.timestamp()) // 86400


def synth_policies(paths: list[Path]) -> list[Pol]:
    out = []
    for path in paths:
        data = json.loads(gzip.decompress(path.read_bytes()))
        start = datetime.fromisoformat(data["date-range"]["start-datetime"].replace("Z", "+00:00"))
        for p in data["policies"]:
            pol = p["policy"]
            mode = None
            for line in pol.get("policy-string", []):
                k, _, v = line.partition(":")
                if k.strip() == "mode":
                    mode = v.strip()
            out.append(Pol(
                data["organization-name"], _day(start), pol["policy-type"], pol.get("policy-domain", ""),
                mode if pol["policy-type"] == "sts" else None,
                p["summary"]["total-successful-session-count"], p["summary"]["total-failure-session-count"],
                [Detail(d["result-type"], d["failed-session-count"], d.get("sending-mta-ip"),
                        d.get("receiving-mx-hostname")) for d in p.get("failure-details", [])],
            ))
    return out


def corpus_policies() -> list[Pol]:
    seen: set[tuple[str, str]] = set()
    out = []
    for path, problem in expand_paths(CORPUS_DIRS):
        if problem is not None:
            continue
        for item in read_source(path):
            if item.outcome != "payload" or item.data is None:
                continue
            try:
                report = parse_report_bytes(item.data, item.hint)
            except Exception:
                continue
            key = (report.organization_name,
                   report.report_id or "sha256:" + hashlib.sha256(item.data).hexdigest())
            if key in seen:
                continue
            seen.add(key)
            for p in report.policies:
                out.append(Pol(
                    report.organization_name, _day(report.start), p.policy_type, p.policy_domain,
                    p.sts_mode if p.policy_type == "sts" else None, p.successful_sessions, p.failed_sessions,
                    [Detail(d.result_type, d.failed_session_count, d.sending_mta_ip, d.receiving_mx_hostname)
                     for d in p.failure_details],
                ))
    return out


def matches(p: Pol, flt: Filter) -> bool:
    if flt.policy_domain and p.domain != flt.policy_domain:
        return False
    if flt.reporter and p.org != flt.reporter:
        return False
    if flt.date_from and p.day < stats.date_to_day(flt.date_from):
        return False
    if flt.date_to and p.day > stats.date_to_day(flt.date_to):
        return False
    if flt.policy_type and p.ptype != flt.policy_type:
        return False
    return not (flt.result_type and not any(d.result_type == flt.result_type for d in p.details))


def details(pols: list[Pol], flt: Filter) -> Iterator[tuple[Pol, Detail]]:
    for p in pols:
        if matches(p, flt.with_(result_type="")):
            for d in p.details:
                if not flt.result_type or d.result_type == flt.result_type:
                    yield p, d


def kind(p: Pol) -> str:
    if p.ptype == "sts":
        return {"enforce": "sts-enforce", "testing": "sts-testing"}.get(p.mode or "", "sts-other")
    return p.ptype if p.ptype in ("tlsa", "no-policy-found") else "other"


def check_all(conn: sqlite3.Connection, pols: list[Pol], flt: Filter) -> None:
    # sessions per day
    per_day: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for p in pols:
        if matches(p, flt):
            per_day[p.day][0] += p.successful
            per_day[p.day][1] += p.failed
    got = stats.sessions_per_day(conn, flt)
    assert [(d.day, d.successful, d.failed) for d in got] == sorted((k, v[0], v[1]) for k, v in per_day.items())

    # failures by result type
    by_type: Counter[str] = Counter()
    n_details: Counter[str] = Counter()
    for _, d in details(pols, flt):
        by_type[d.result_type] += d.count
        n_details[d.result_type] += 1
    got_types = stats.failures_by_result_type(conn, flt)
    assert {r.result_type: (r.failed_sessions, r.details, r.category) for r in got_types} == {
        t: (n, n_details[t], result_category(t)) for t, n in by_type.items()
    }
    cats = [stats.CATEGORIES.index(r.category) for r in got_types]
    assert cats == sorted(cats)

    # top reporters / MX hosts / IPs, by category
    for key, getter in (("reporter", lambda p, d: p.org), ("mx_host", lambda p, d: d.mx or ""),
                        ("sending_ip", lambda p, d: d.ip or "")):
        totals: dict[str, Counter[str]] = defaultdict(Counter)
        for p, d in details(pols, flt):
            totals[getter(p, d)][result_category(d.result_type)] += d.count
        top = stats.top_failures(conn, flt, key, limit=5)  # type: ignore[arg-type]
        assert top.total_keys == len(totals)
        ranked = sorted(totals, key=lambda k: (-sum(totals[k].values()), k))[:5]
        assert [b.key for b in top.items] == ranked
        for b in top.items:
            assert dict(b.by_category) == dict(totals[b.key])

    # success rate per domain
    dom: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for p in pols:
        if matches(p, flt):
            dom[p.domain][0] += p.successful
            dom[p.domain][1] += p.failed
    rates = stats.success_rate_by_domain(conn, flt, limit=4)
    ranked = sorted(dom, key=lambda k: (-sum(dom[k]), k))[:4]
    assert [(r.policy_domain, r.successful, r.failed) for r in rates.items] == [(k, *dom[k]) for k in ranked]
    assert rates.total_keys == len(dom)

    # coverage
    cov: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    overall: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for p in pols:
        if matches(p, flt):
            cov[p.domain][kind(p)][0] += p.successful
            cov[p.domain][kind(p)][1] += p.failed
            overall[kind(p)][0] += p.successful
            overall[kind(p)][1] += p.failed
    got_cov = stats.policy_coverage(conn, flt, limit=4)
    assert {k: (v.successful, v.failed) for k, v in got_cov.overall.items()} == {
        k: tuple(v) for k, v in overall.items()
    }
    ranked = sorted(cov, key=lambda d: (-sum(sum(v) for v in cov[d].values()), d))[:4]
    assert [d.policy_domain for d in got_cov.domains] == ranked
    for d in got_cov.domains:
        assert {k: (v.successful, v.failed) for k, v in d.by_kind.items()} == {
            k: tuple(v) for k, v in cov[d.policy_domain].items()
        }
    all_sessions = sum(sum(v) for v in overall.values())
    if all_sessions:
        assert got_cov.sts_enforcement_rate == pytest.approx(sum(overall["sts-enforce"]) / all_sessions)

    # certificate failures per day
    cert: Counter[tuple[int, str]] = Counter()
    for p, d in details(pols, flt):
        if d.result_type.startswith("certificate-"):
            cert[(p.day, d.result_type)] += d.count
    got_cert = stats.certificate_failures_per_day(conn, flt)
    assert [(r.day, r.result_type, r.failed_sessions) for r in got_cert] == sorted(
        (k[0], k[1], n) for k, n in cert.items()
    )

    # reporting days per (reporter, domain)
    days: dict[tuple[str, str], set[int]] = defaultdict(set)
    for p in pols:
        if matches(p, flt.with_(result_type="")):
            days[(p.org, p.domain)].add(p.day)
    got_days = stats.reporting_days(conn, flt)
    assert {k: set(v) for k, v in got_days.items()} == days


FILTERS = [
    Filter(),
    Filter(policy_domain="example.com"),
    Filter(reporter="Nimbus Cloud Mail"),
    Filter(result_type="certificate-expired"),
    Filter(date_from=date(2025, 1, 10), date_to=date(2025, 1, 31)),
    Filter(policy_domain="example.org", result_type="tlsa-invalid"),
    Filter(policy_type="sts", date_from=date(2025, 1, 20)),
    Filter(reporter="Nimbus Cloud Mail", date_to=date(2025, 1, 15), policy_type="tlsa"),
    Filter(policy_domain="example.com", reporter="Nimbus Cloud Mail"),
    Filter(result_type="certificate-expired", date_from=date(2025, 1, 5), date_to=date(2025, 2, 20)),
    Filter(reporter="Nimbus Cloud Mail", result_type="certificate-expired", policy_type="sts"),
    Filter(result_type="starttls-not-supported", policy_type="sts", date_from=date(2025, 1, 12)),
    Filter(date_from=date(2024, 12, 20), date_to=date(2025, 2, 28)),  # whole months, one end
    Filter(date_from=date(2025, 1, 1), date_to=date(2025, 1, 31)),  # one whole month
    Filter(date_to=date(2025, 2, 3), result_type="certificate-expired"),  # from the start of time
    Filter(date_from=date(2025, 1, 31), date_to=date(2025, 2, 1)),  # no whole month
    Filter(result_type="certificate-expired", date_from=date(2024, 12, 30), date_to=date(2025, 2, 2)),
    Filter(result_type="tlsa-invalid", policy_domain="example.org", date_from=date(2025, 1, 1)),
    Filter(result_type="starttls-not-supported", policy_type="sts", date_to=date(2025, 1, 31)),
]


@pytest.mark.parametrize("flt", FILTERS, ids=lambda f: repr(f)[7:60])
def test_stats_match_python_on_synthetic_reports(synth_db: Path, synth_reports: list[Path], flt: Filter) -> None:
    pols = synth_policies(synth_reports)
    assert sum(len(p.details) for p in pols) > 500  # the set really has failures to sum
    with sqlite3.connect(synth_db) as conn:
        check_all(conn, pols, flt)


@pytest.mark.parametrize("flt", [Filter(), Filter(policy_domain="company-y.example"),
                                 Filter(result_type="starttls-not-supported")], ids=repr)
def test_stats_match_python_on_corpus(corpus_db: Path, flt: Filter) -> None:
    pols = corpus_policies()
    assert len({p.org for p in pols}) > 3
    with sqlite3.connect(corpus_db) as conn:
        check_all(conn, pols, flt)


def test_days_before_1970_floor(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "x.db")
    conn.execute("CREATE TABLE t (ts INTEGER)")
    conn.executemany("INSERT INTO t VALUES (?)", [(-1,), (0,), (86399,), (86400,), (-86400,), (-86401,)])
    got = [r[0] for r in conn.execute(f"SELECT {stats._day_sql('ts')} FROM t")]
    assert got == [-1, 0, 0, 1, -1, -2]
    assert stats.day_to_date(stats.date_to_day(date(1969, 12, 31))) == date(1969, 12, 31)


@pytest.mark.parametrize("flt", FILTERS, ids=lambda f: repr(f)[7:60])
def test_summaries_give_the_same_answers_as_the_rows(synth_db: Path, flt: Filter) -> None:
    """The chart summary tables (core/rollups.py) against the policy rows they summarise."""
    with sqlite3.connect(synth_db) as conn:
        assert rollups.consistent(conn)
        for fn in (stats.sessions_per_day, stats.success_rate_by_domain, stats.policy_coverage,
                   stats.reporting_days, stats.failures_by_result_type, stats.certificate_failures_per_day):
            assert fn(conn, flt) == fn(conn, flt, rollups=False), fn.__name__
        for key in ("reporter", "mx_host", "sending_ip"):
            for missing in (True, False):
                assert stats.top_failures(conn, flt, key, include_missing=missing) == stats.top_failures(
                    conn, flt, key, include_missing=missing, rollups=False), key
        assert stats.missing_reports(conn, flt) == stats.find_missing(
            stats.reporting_days(conn, flt, rollups=False),
            None if flt.date_to is None else stats.date_to_day(flt.date_to),
        )


def test_top_charts_read_a_wide_date_range_inside_their_covering_index(synth_db: Path) -> None:
    wide = Filter(date_from=date(2025, 1, 10), date_to=date(2025, 1, 31))
    narrow = Filter(date_from=date(2025, 1, 10), date_to=date(2025, 1, 10))
    with sqlite3.connect(synth_db) as conn:
        assert stats._date_share(conn, wide) > stats.WIDE_DATES > stats._date_share(conn, narrow) > 0
        for flt, plan_has in ((wide, "COVERING INDEX failures_mx_cover"), (narrow, "INDEX failures_start")):
            seen: list[str] = []
            conn.set_trace_callback(seen.append)
            got = stats.top_failures(conn, flt, "mx_host")
            conn.set_trace_callback(None)
            sql = next(s for s in seen if "FROM failure_details" in s and "GROUP BY" in s)
            plan = " ".join(r[3] for r in conn.execute("EXPLAIN QUERY PLAN " + sql))
            assert plan_has in plan, plan
            assert got == stats.top_failures(conn, flt, "mx_host", rollups=False) and got.items


def test_top_charts_take_whole_months_from_their_summary(synth_db: Path) -> None:
    month = Filter(date_from=date(2025, 1, 1), date_to=date(2025, 1, 31))
    longer = Filter(date_from=date(2024, 12, 30), date_to=date(2025, 2, 2))
    with sqlite3.connect(synth_db) as conn:
        for flt, row_queries in ((month, 0), (longer, 2)):
            seen: list[str] = []
            conn.set_trace_callback(seen.append)
            got = stats.top_failures(conn, flt, "reporter")
            conn.set_trace_callback(None)
            assert sum("FROM roll_failures_month" in q for q in seen) == 1
            assert sum("FROM failure_details" in q for q in seen) == row_queries  # the days at the ends
            assert got == stats.top_failures(conn, flt, "reporter", rollups=False) and got.items


@pytest.mark.parametrize(("result_type", "summary", "ends_from"), [
    ("", "roll_domain_month", "FROM roll_domain_day"),
    ("certificate-expired", "roll_type_month", "FROM failure_details"),
])
def test_domain_charts_take_whole_months_from_their_summary(synth_db: Path, result_type: str, summary: str,
                                                            ends_from: str) -> None:
    month = Filter(result_type=result_type, date_from=date(2025, 1, 1), date_to=date(2025, 1, 31))
    longer = month.with_(date_from=date(2024, 12, 30), date_to=date(2025, 2, 2))
    with sqlite3.connect(synth_db) as conn:
        for flt, end_queries in ((month, 0), (longer, 2)):
            for fn in (stats.success_rate_by_domain, stats.policy_coverage):
                seen: list[str] = []
                conn.set_trace_callback(seen.append)
                got = fn(conn, flt)
                conn.set_trace_callback(None)
                assert sum(f"FROM {summary}" in q for q in seen) == 1
                assert sum(ends_from in q for q in seen) == end_queries  # the days at the ends
                assert got == fn(conn, flt, rollups=False) and got.total_keys


@pytest.mark.parametrize("term", ["orchard-uni.example/tlsrpt", "2001:db8:10:1::1d", "no-such-text", "certificate", "Orchard University"])
def test_failure_charts_with_free_text_match_the_like_scan(synth_db: Path, term: str, monkeypatch: pytest.MonkeyPatch) -> None:
    flt = Filter(text=term)

    def charts(conn: sqlite3.Connection) -> list[object]:
        return [stats.failures_by_result_type(conn, flt), stats.certificate_failures_per_day(conn, flt),
                *(stats.top_failures(conn, flt, key) for key in ("reporter", "mx_host", "sending_ip")),
                stats.sessions_per_day(conn, flt), stats.policy_coverage(conn, flt), stats.success_rate_by_domain(conn, flt)]

    with sqlite3.connect(synth_db) as conn:
        values = text_values(conn, flt)
        assert values is not None and values.common == (term == "certificate")
        through_values = charts(conn)
        monkeypatch.setattr(stats, "text_values", lambda *a: None)
        assert through_values == charts(conn)
        if term != "no-such-text":
            assert any(through_values), "the term should match some failure rows"
