"""Flat exports of the index as CSV, JSON or NDJSON.

Every failure row carries its report's identity and its policy domain and type.
CSV cells that a spreadsheet would run as a formula are neutralised.
"""

from __future__ import annotations

import csv
import json
import sqlite3
from collections.abc import Iterator, Sequence
from typing import IO, Any, Final, Literal

Table = Literal["reports", "policies", "failures"]
Format = Literal["csv", "json", "ndjson"]

_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")

_TS = "strftime('%Y-%m-%dT%H:%M:%SZ', {col}, 'unixepoch')"

QUERIES: Final[dict[str, tuple[tuple[str, ...], str]]] = {
    "reports": (
        ("organization_name", "report_id", "contact_info", "start_datetime", "end_datetime", "policy_domains",
         "policy_count", "successful_sessions", "failed_sessions", "failure_detail_count", "diagnostic_count",
         "source_path", "source_member"),
        f"""SELECT organization_name, report_id, contact_info, {_TS.format(col='start_ts')}, {_TS.format(col='end_ts')},
                  policy_domains, policy_count, successful_sessions, failed_sessions, failure_detail_count,
                  diagnostic_count, source_path, source_member
           FROM reports ORDER BY start_ts, organization_name, report_id""",
    ),
    "policies": (
        ("organization_name", "report_id", "start_datetime", "end_datetime", "policy_index", "policy_type",
         "policy_domain", "policy_domain_source", "sts_mode", "policy_strings", "mx_hosts",
         "successful_sessions", "failed_sessions"),
        f"""SELECT r.organization_name, r.report_id, {_TS.format(col='p.start_ts')}, {_TS.format(col='p.end_ts')},
                  p.idx, p.policy_type, p.policy_domain, p.policy_domain_source, p.sts_mode, p.policy_strings,
                  p.mx_hosts, p.successful_sessions, p.failed_sessions
           FROM policies p JOIN reports r ON r.id = p.report_id
           ORDER BY p.start_ts, r.organization_name, r.report_id, p.idx""",
    ),
    "failures": (
        ("organization_name", "report_id", "start_datetime", "end_datetime", "policy_domain", "policy_type",
         "result_type", "sending_mta_ip", "receiving_mx_hostname", "receiving_mx_helo", "receiving_ip",
         "failed_session_count", "failure_reason_code", "additional_information"),
        f"""SELECT r.organization_name, r.report_id, {_TS.format(col='r.start_ts')}, {_TS.format(col='r.end_ts')},
                  f.policy_domain, f.policy_type, f.result_type, f.sending_mta_ip, f.receiving_mx_hostname,
                  f.receiving_mx_helo, f.receiving_ip, f.failed_session_count, f.failure_reason_code,
                  f.additional_information
           FROM failure_details f JOIN reports r ON r.id = f.report_id
           ORDER BY f.start_ts, r.organization_name, r.report_id, f.id""",
    ),
}

_JSON_LIST_COLUMNS: Final = frozenset({"policy_strings", "mx_hosts"})


def neutralise(value: Any) -> Any:
    """Make a cell inert in spreadsheets: text starting with = + - @ TAB CR gets a leading '."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def iter_rows(conn: sqlite3.Connection, table: Table) -> tuple[tuple[str, ...], Iterator[tuple[Any, ...]]]:
    columns, sql = QUERIES[table]
    return columns, iter(conn.execute(sql))


def _decoded(columns: Sequence[str], row: Sequence[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in zip(columns, row, strict=True):
        if name in _JSON_LIST_COLUMNS and isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                pass
        out[name] = value
    return out


def write_rows(out: IO[str], columns: Sequence[str], rows: Iterator[Sequence[Any]], fmt: Format) -> int:
    """Write rows in a format; returns the number of rows written."""
    n = 0
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(columns)
        for row in rows:
            cells = []
            for name, value in zip(columns, row, strict=True):
                if name in _JSON_LIST_COLUMNS and isinstance(value, str):
                    try:
                        value = " | ".join(str(v) for v in json.loads(value))
                    except ValueError:
                        pass
                cells.append(neutralise(value))
            writer.writerow(cells)
            n += 1
    elif fmt == "ndjson":
        for row in rows:
            out.write(json.dumps(_decoded(columns, row), ensure_ascii=True))
            out.write("\n")
            n += 1
    elif fmt == "json":
        out.write("[")
        for row in rows:
            out.write(",\n " if n else "\n ")
            out.write(json.dumps(_decoded(columns, row), ensure_ascii=True))
            n += 1
        out.write("\n]\n" if n else "]\n")
    else:  # pragma: no cover - guarded by argparse
        raise ValueError(f"unknown format {fmt!r}")
    return n


def export_table(conn: sqlite3.Connection, table: Table, fmt: Format, out: IO[str]) -> int:
    columns, rows = iter_rows(conn, table)
    return write_rows(out, columns, rows, fmt)
