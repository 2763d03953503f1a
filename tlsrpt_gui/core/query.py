"""The shared filter (domain, dates, reporter, policy type, result type, text) as SQL.

The same :class:`Filter` drives the three tables and the charts. It becomes a
``WHERE`` clause with bound parameters for the table it is applied to: report
rows (``reports``), policy rows (``policies``) or failure rows
(``failure_details``). Dates are whole UTC days, compared with a report's start.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final, Literal

TableKind = Literal["reports", "policies", "failures"]

#: the SQL alias each table kind is queried under
ALIASES: Final[dict[str, str]] = {"reports": "r", "policies": "p", "failures": "f"}

_TEXT_COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    "reports": ("r.organization_name", "r.report_id", "r.policy_domains", "r.contact_info", "r.source_path", "r.source_member"),
    "policies": ("p.policy_domain", "p.organization_name", "p.policy_type", "p.policy_strings", "p.mx_hosts", "p.sts_mode"),
    "failures": (
        "f.result_type", "f.sending_mta_ip", "f.receiving_mx_hostname", "f.receiving_mx_helo", "f.receiving_ip",
        "f.failure_reason_code", "f.additional_information", "f.policy_domain", "f.organization_name",
    ),
}


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

    def is_empty(self) -> bool:
        return self == Filter()

    def with_(self, **changes: Any) -> Filter:
        return replace(self, **changes)

    def where(self, kind: TableKind) -> tuple[str, list[Any]]:
        """``(sql, params)``: a condition (``"1"`` when nothing filters) for ``kind``."""
        a = ALIASES[kind]
        clauses: list[str] = []
        params: list[Any] = []
        start_col = f"{a}.start_ts"
        if self.date_from is not None:
            clauses.append(f"{start_col} >= ?")
            params.append(day_start(self.date_from))
        if self.date_to is not None:
            clauses.append(f"{start_col} < ?")
            params.append(day_start(self.date_to + timedelta(days=1)))
        if self.reporter:
            clauses.append(f"{a}.organization_name = ?")
            params.append(self.reporter)
        domain = self.policy_domain.strip().rstrip(".").lower()
        if domain:
            if kind == "reports":
                clauses.append("EXISTS (SELECT 1 FROM policies px WHERE px.report_id = r.id AND px.policy_domain = ?)")
            else:
                clauses.append(f"{a}.policy_domain = ?")
            params.append(domain)
        if self.policy_type:
            if kind == "reports":
                clauses.append("EXISTS (SELECT 1 FROM policies px WHERE px.report_id = r.id AND px.policy_type = ?)")
            else:
                clauses.append(f"{a}.policy_type = ?")
            params.append(self.policy_type)
        for value, column in ((self.result_type, "result_type"), (self.mx_host, "receiving_mx_hostname"), (self.sending_ip, "sending_mta_ip")):
            if not value:
                continue
            if kind == "failures":
                clauses.append(f"f.{column} = ?")
            elif kind == "policies":
                clauses.append(f"p.id IN (SELECT fx.policy_id FROM failure_details fx WHERE fx.{column} = ?)")
            else:
                clauses.append(f"r.id IN (SELECT fx.report_id FROM failure_details fx WHERE fx.{column} = ?)")
            params.append(value)
        text = self.text.strip()
        if text:
            pattern = f"%{escape_like(text)}%"
            cols = _TEXT_COLUMNS[kind]
            clauses.append("(" + " OR ".join(f"{c} LIKE ? ESCAPE '\\'" for c in cols) + ")")
            params.extend([pattern] * len(cols))
        return (" AND ".join(clauses) if clauses else "1"), params
