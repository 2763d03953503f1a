"""The charts of the Charts tab: what each computes, shows, exports and filters on click."""

from __future__ import annotations

import sqlite3
from typing import Any

from PySide6.QtGui import QColor

from tlsrpt_gui.core import stats
from tlsrpt_gui.core.query import Filter
from tlsrpt_gui.core.report import domain_to_unicode
from tlsrpt_gui.core.stats import (
    CATEGORIES,
    CATEGORY_LABELS,
    NOT_GIVEN,
    POLICY_KIND_LABELS,
    POLICY_KIND_TYPES,
    POLICY_KINDS,
    day_to_date,
)
from tlsrpt_gui.ui.charts.card import ChartCard, fmt_count, fmt_rate, tip
from tlsrpt_gui.ui.charts.widgets import (
    BarRow,
    CalendarStrip,
    DayBarChart,
    DaySeries,
    HBarChart,
    Segment,
    StripRow,
    _ChartBase,
)

MISSING_LABEL = "(not reported)"
UNKNOWN_DOMAIN = "(no policy domain)"


def _day_changes(day: int) -> dict[str, Any]:
    d = day_to_date(day)
    return {"date_from": d, "date_to": d}


class SessionsPerDayCard(ChartCard):
    title = "Sessions per day"
    subtitle = ("Successful and failed TLS sessions per UTC day, stacked; the line is the success "
                "rate (right axis). Click a day to filter to it.")
    empty_text = "No sessions in these reports."
    file_stem = "sessions-per-day"
    chart_height = 260

    def build(self) -> _ChartBase:
        self.day_chart = DayBarChart(self, rate_label="Success rate")
        self.day_chart.setMinimumHeight(self.chart_height)
        return self.day_chart

    @staticmethod
    def compute(conn: sqlite3.Connection, flt: Filter) -> Any:
        return stats.sessions_per_day(conn, flt)

    def show_data(self, data: list[stats.DaySessions] | None) -> None:
        p = self.palette_
        self.legend.set_items([(p.rate_colour(1.0), "Successful"), (self._failed_colour(), "Failed"),
                               (self._rate_colour(), "Success rate")], p.foreground)
        if not data:
            self.day_chart.set_data([], [])
            return
        days = [d.day for d in data]

        def day_tip(i: int) -> str:
            d = data[i]
            return tip(d.date.strftime("%a %d %b %Y"), [
                ("Successful sessions", fmt_count(d.successful)),
                ("Failed sessions", fmt_count(d.failed)),
                ("Success rate", fmt_rate(d.success_rate)),
            ], "Click to filter to this day")

        self.day_chart.set_data(
            days,
            [DaySeries("Successful", p.rate_colour(1.0), [d.successful for d in data], "successful"),
             DaySeries("Failed", self._failed_colour(), [d.failed for d in data], "failed")],
            rate=[d.success_rate for d in data],
            tooltip=day_tip,
        )
        total_s = sum(d.successful for d in data)
        total_f = sum(d.failed for d in data)
        self.set_note(f"{fmt_count(len(data))} {'day' if len(data) == 1 else 'days'} · {fmt_count(total_s)} successful, {fmt_count(total_f)} failed "
                      f"· success rate {fmt_rate(stats.DaySessions(0, total_s, total_f).success_rate)}")

    def _failed_colour(self) -> QColor:
        return QColor(self.palette_.failure)

    def _rate_colour(self) -> QColor:
        return QColor(self.palette_.rate)

    def payload_changes(self, payload: object) -> dict[str, Any] | None:
        if isinstance(payload, tuple):
            return _day_changes(int(payload[0]))
        return None

    def table(self) -> tuple[list[str], list[list[Any]]]:
        rows = [[d.date.isoformat(), d.successful, d.failed,
                 "" if d.success_rate is None else round(d.success_rate, 6)] for d in self.data]
        return ["day", "successful_sessions", "failed_sessions", "success_rate"], rows


class ResultTypeCard(ChartCard):
    title = "Failures by result type"
    subtitle = ("Failed sessions per result type, grouped and coloured by RFC 8460 category. "
                "A session can count under several types. Click a bar to filter.")
    empty_text = "No failure details in these reports: every reported session succeeded or was summarised."
    file_stem = "failures-by-result-type"

    def build(self) -> _ChartBase:
        self.bars = HBarChart(self)
        return self.bars

    @staticmethod
    def compute(conn: sqlite3.Connection, flt: Filter) -> Any:
        return stats.failures_by_result_type(conn, flt)

    def show_data(self, data: list[stats.ResultTypeCount] | None) -> None:
        p = self.palette_
        self.legend.set_items([(p.category(c), CATEGORY_LABELS[c]) for c in CATEGORIES], p.foreground)
        rows = []
        for r in data or []:
            rows.append(BarRow(
                r.result_type,
                [Segment(r.failed_sessions, p.category(r.category))],
                tip(r.result_type, [("Category", CATEGORY_LABELS[r.category]),
                                    ("Failed sessions", fmt_count(r.failed_sessions)),
                                    ("Failure details", fmt_count(r.details))],
                    "Click to filter to this result type"),
                {"result_type": r.result_type},
            ))
        self.bars.set_rows(rows)

    def table(self) -> tuple[list[str], list[list[Any]]]:
        return (["result_type", "category", "failed_sessions", "failure_details"],
                [[r.result_type, r.category, r.failed_sessions, r.details] for r in self.data])


class _TopCard(ChartCard):
    key: stats.TopKey = "reporter"
    field_name = "reporter"
    key_heading = "Reporter"
    include_missing = True
    empty_text = "No failure details in these reports."

    def build(self) -> _ChartBase:
        self.bars = HBarChart(self)
        return self.bars

    def is_empty(self, data: Any) -> bool:
        return not data.items

    def show_data(self, data: stats.TopList | None) -> None:
        p = self.palette_
        self.legend.set_items([(p.category(c), CATEGORY_LABELS[c]) for c in CATEGORIES], p.foreground)
        rows = []
        for b in data.items if data else ():
            label = b.key if b.key != NOT_GIVEN else MISSING_LABEL
            details = [(CATEGORY_LABELS[c], fmt_count(n)) for c, n in b.by_category.items()]
            note = self.click_note if b.key != NOT_GIVEN else "Left out by the reporter"
            t = tip(label, [("Failed sessions", fmt_count(b.total)), *details], note)
            rows.append(BarRow(
                label,
                [Segment(n, p.category(c), t) for c, n in b.by_category.items()],
                t,
                self.changes_for(b.key) if b.key != NOT_GIVEN else None,
            ))
        self.bars.set_rows(rows)
        if data and data.total_keys > len(data.items):
            self.set_note(f"Top {len(data.items)} of {fmt_count(data.total_keys)}.")
        else:
            self.set_note("")

    click_note = "Click to filter"

    def changes_for(self, key: str) -> dict[str, Any]:
        return {self.field_name: key}

    def table(self) -> tuple[list[str], list[list[Any]]]:
        heads = [self.field_name, "failed_sessions", *[f"{c}_failed_sessions" for c in CATEGORIES]]
        rows = [[b.key, b.total, *[b.by_category.get(c, 0) for c in CATEGORIES]] for b in self.data.items]
        return heads, rows


class ReporterCard(_TopCard):
    title = "Failures by reporter organization"
    subtitle = "Failed sessions per reporting organization, by category. Click a bar to filter."
    file_stem = "failures-by-reporter"
    key = "reporter"
    field_name = "reporter"
    click_note = "Click to filter to this reporter"

    @staticmethod
    def compute(conn: sqlite3.Connection, flt: Filter) -> Any:
        return stats.top_failures(conn, flt, "reporter")


class MxHostCard(_TopCard):
    title = "Failures by receiving MX host"
    subtitle = "Failed sessions per receiving MX host named in the failure details, by category."
    file_stem = "failures-by-mx-host"
    key = "mx_host"
    field_name = "mx_host"
    click_note = "Click to filter to this MX host"

    @staticmethod
    def compute(conn: sqlite3.Connection, flt: Filter) -> Any:
        return stats.top_failures(conn, flt, "mx_host")


class SendingIpCard(_TopCard):
    title = "Top sending MTA IPs with failures"
    subtitle = ("Failed sessions per sending MTA address, by category: a sender whose TLS "
                "validation keeps failing may have an outdated trust store. Click a bar to filter.")
    file_stem = "failures-by-sending-ip"
    key = "sending_ip"
    field_name = "sending_mta_ip"
    click_note = "Click to show only this sender"

    @staticmethod
    def compute(conn: sqlite3.Connection, flt: Filter) -> Any:
        return stats.top_failures(conn, flt, "sending_ip", include_missing=False)

    def changes_for(self, key: str) -> dict[str, Any]:
        return {"sending_ip": key}


class DomainRateCard(ChartCard):
    title = "Success rate per policy domain"
    subtitle = ("Share of successful sessions for the policy domains with most sessions. "
                "Green ≥ 99 %, amber ≥ 90 %, red below. Click a bar to filter.")
    empty_text = "No sessions in these reports."
    file_stem = "success-rate-per-domain"

    def build(self) -> _ChartBase:
        self.bars = HBarChart(self, percent=True)
        return self.bars

    @staticmethod
    def compute(conn: sqlite3.Connection, flt: Filter) -> Any:
        return stats.success_rate_by_domain(conn, flt)

    def is_empty(self, data: Any) -> bool:
        return not data.items

    def show_data(self, data: stats.DomainRates | None) -> None:
        p = self.palette_
        self.legend.set_items([(p.rate_colour(1.0), "≥ 99 %"), (p.rate_colour(0.95), "≥ 90 %"),
                               (p.rate_colour(0.0), "< 90 %")], p.foreground)
        rows = []
        for d in data.items if data else ():
            label = domain_to_unicode(d.policy_domain) or UNKNOWN_DOMAIN
            rate = d.success_rate
            rows.append(BarRow(
                label,
                [Segment(0.0 if rate is None else rate * 100, p.rate_colour(rate))],
                tip(label, [("Success rate", fmt_rate(rate)), ("Successful sessions", fmt_count(d.successful)),
                            ("Failed sessions", fmt_count(d.failed))],
                    "Click to filter to this domain" if d.policy_domain else ""),
                {"policy_domain": d.policy_domain} if d.policy_domain else None,
            ))
        self.bars.set_rows(rows)
        if data and data.total_keys > len(data.items):
            self.set_note(f"The {len(data.items)} busiest of {fmt_count(data.total_keys)} policy domains.")
        else:
            self.set_note("")

    def table(self) -> tuple[list[str], list[list[Any]]]:
        return (["policy_domain", "successful_sessions", "failed_sessions", "success_rate"],
                [[d.policy_domain, d.successful, d.failed,
                  "" if d.success_rate is None else round(d.success_rate, 6)] for d in self.data.items])


class CoverageCard(ChartCard):
    title = "Policy coverage per policy domain"
    subtitle = ("Sessions by the policy the sender applied: MTA-STS enforce or testing, DANE (tlsa) "
                "or none found. Hover for the success rate under each. Click to filter.")
    empty_text = "No sessions in these reports."
    file_stem = "policy-coverage"

    def build(self) -> _ChartBase:
        self.bars = HBarChart(self)
        return self.bars

    @staticmethod
    def compute(conn: sqlite3.Connection, flt: Filter) -> Any:
        return stats.policy_coverage(conn, flt)

    def is_empty(self, data: Any) -> bool:
        return not data.domains

    def show_data(self, data: stats.Coverage | None) -> None:
        p = self.palette_
        self.legend.set_items([(p.policy_kind(k), POLICY_KIND_LABELS[k]) for k in POLICY_KINDS[:5]],
                              p.foreground)
        rows = []
        for d in data.domains if data else ():
            label = domain_to_unicode(d.policy_domain) or UNKNOWN_DOMAIN
            segs = []
            for kind, ks in d.by_kind.items():
                share = ks.total / d.total if d.total else 0.0
                t = tip(f"{label} · {POLICY_KIND_LABELS[kind]}", [
                    ("Sessions", f"{fmt_count(ks.total)} ({fmt_rate(share)} of the domain)"),
                    ("Success rate", fmt_rate(ks.success_rate)),
                    ("Failed sessions", fmt_count(ks.failed)),
                ], "Click to filter to this domain and policy type")
                payload = None
                if d.policy_domain and POLICY_KIND_TYPES[kind]:
                    payload = {"policy_domain": d.policy_domain, "policy_type": POLICY_KIND_TYPES[kind]}
                segs.append(Segment(ks.total, p.policy_kind(kind), t, payload))
            rows.append(BarRow(label, segs, "",
                               {"policy_domain": d.policy_domain} if d.policy_domain else None))
        self.bars.set_rows(rows)
        if data:
            parts = [
                f"MTA-STS enforcement: {fmt_rate(data.sts_enforcement_rate)} of all sessions",
                f"success under MTA-STS: {fmt_rate(data.sts_compliance_rate)}",
                f"under enforce: {fmt_rate(data.sts_enforce_success_rate)}",
            ]
            if data.total_keys > len(data.domains):
                parts.append(f"{len(data.domains)} busiest of {fmt_count(data.total_keys)} domains shown")
            self.set_note(" · ".join(parts))

    def table(self) -> tuple[list[str], list[list[Any]]]:
        rows = []
        for d in self.data.domains:
            for kind, ks in d.by_kind.items():
                rows.append([d.policy_domain, kind, ks.successful, ks.failed,
                             "" if ks.success_rate is None else round(ks.success_rate, 6)])
        return ["policy_domain", "policy_kind", "successful_sessions", "failed_sessions", "success_rate"], rows


class CertificateCard(ChartCard):
    title = "Certificate validation failures over time"
    subtitle = ("Failed sessions per day with a certificate-* result type (expired, host mismatch, "
                "not trusted). Click a bar to filter to that day and type.")
    empty_text = "No certificate failures in these reports."
    file_stem = "certificate-failures"
    chart_height = 220

    def build(self) -> _ChartBase:
        self.day_chart = DayBarChart(self)
        self.day_chart.setMinimumHeight(self.chart_height)
        return self.day_chart

    @staticmethod
    def compute(conn: sqlite3.Connection, flt: Filter) -> Any:
        return stats.certificate_failures_per_day(conn, flt)

    def show_data(self, data: list[stats.DayResultCount] | None) -> None:
        p = self.palette_
        types = sorted({r.result_type for r in data or []})
        known = ["certificate-expired", "certificate-host-mismatch", "certificate-not-trusted"]
        self.legend.set_items([(p.certificate(t), t) for t in (types or known)], p.foreground)
        if not data:
            self.day_chart.set_data([], [])
            return
        days = sorted({r.day for r in data})
        pos = {d: i for i, d in enumerate(days)}
        values = {t: [0] * len(days) for t in types}
        for r in data:
            values[r.result_type][pos[r.day]] += r.failed_sessions

        def day_tip(i: int) -> str:
            rows = [(t, fmt_count(values[t][i])) for t in types if values[t][i]]
            return tip(day_to_date(days[i]).strftime("%a %d %b %Y"), rows, "Click a bar to filter")

        self.day_chart.set_data(days, [DaySeries(t, p.certificate(t), values[t], t) for t in types], tooltip=day_tip)
        self.set_note("")

    def payload_changes(self, payload: object) -> dict[str, Any] | None:
        if isinstance(payload, tuple):
            changes = _day_changes(int(payload[0]))
            if payload[1]:
                changes["result_type"] = payload[1]
            return changes
        return None

    def table(self) -> tuple[list[str], list[list[Any]]]:
        return (["day", "result_type", "failed_sessions"],
                [[r.date.isoformat(), r.result_type, r.failed_sessions] for r in self.data])


MAX_STRIP_ROWS = 24


class MissingReportsCard(ChartCard):
    title = "Missing reports"
    subtitle = ("Each row is a reporter that usually sends a report every day for a policy domain; "
                "red days had no report. A gap usually means a broken rua record, a full mailbox "
                "or a lost mail. Click a row to filter to that reporter and domain.")
    empty_text = "No reporter sends daily reports here yet, so no gaps can be told."
    file_stem = "missing-reports"

    def build(self) -> _ChartBase:
        self.strip = CalendarStrip(self)
        return self.strip

    @staticmethod
    def compute(conn: sqlite3.Connection, flt: Filter) -> Any:
        return stats.missing_reports(conn, flt)

    def is_empty(self, data: Any) -> bool:
        return not data.pairs

    def show_data(self, data: stats.MissingReports | None) -> None:
        p = self.palette_
        self.legend.set_items([(QColor(p.reported), "Report received"), (QColor(p.missing), "No report"),
                               (QColor(p.outside), "Before the first report / not checked")], p.foreground)
        if not data or not data.pairs or data.first_day is None or data.end_day is None:
            self.strip.set_rows([], 0, -1)
            if data is not None and data.irregular_pairs:
                self.set_note(f"{data.irregular_pairs} reporter/domain pairs report less than daily "
                              "and are not checked.")
            return
        with_gaps = [g for g in data.pairs if g.missing]
        shown = (with_gaps or list(data.pairs))[:MAX_STRIP_ROWS]
        rows = []
        for g in shown:
            states = dict.fromkeys(g.missing, "missing")
            states.update(dict.fromkeys(g.reported, "reported"))
            head = tip(f"{g.reporter} → {domain_to_unicode(g.policy_domain) or UNKNOWN_DOMAIN}", [
                ("Missing days", fmt_count(len(g.missing))),
                ("Reports since", day_to_date(g.first_day).isoformat()),
                ("Last report", day_to_date(g.last_day).isoformat()),
            ], "Stopped reporting" if g.stopped else "")
            rows.append(StripRow(f"{g.reporter} → {domain_to_unicode(g.policy_domain) or UNKNOWN_DOMAIN}", states,
                                 head.removeprefix("<qt>").removesuffix("</qt>"),
                                 {"reporter": g.reporter, "policy_domain": g.policy_domain}
                                 if g.policy_domain else {"reporter": g.reporter}))
        self.strip.set_rows(rows, data.first_day, data.end_day)
        n_daily = len(data.pairs)
        parts = [f"{len(with_gaps)} of {n_daily} daily reporter/domain pairs have gaps"]
        if not with_gaps:
            parts = [f"All {n_daily} daily reporter/domain pairs sent every report"]
        stopped = [g for g in with_gaps if g.stopped]
        if stopped:
            parts.append(f"{len(stopped)} stopped reporting")
        if len(with_gaps) > len(shown):
            parts.append(f"{len(shown)} with most gaps shown")
        if data.irregular_pairs:
            parts.append(f"{data.irregular_pairs} pairs report less than daily and are not checked")
        self.set_note(" · ".join(parts) + ".")

    def table(self) -> tuple[list[str], list[list[Any]]]:
        rows = []
        for g in self.data.pairs:
            for a, b in g.runs():
                rows.append([g.reporter, g.policy_domain, day_to_date(a).isoformat(),
                             day_to_date(b).isoformat(), b - a + 1])
        return ["reporter", "policy_domain", "first_missing_day", "last_missing_day", "days"], rows
