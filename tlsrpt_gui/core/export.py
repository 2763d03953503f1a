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
#: the same, for ``text[:1] in FORMULA_FIRST`` (an empty text's first is "", not in it)
FORMULA_FIRST: Final = frozenset(_FORMULA_START)

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


def write_rows(out: IO[str], columns: Sequence[str], rows: Iterator[Sequence[Any]], fmt: Format) -> int:
    """Write rows in a format; returns the number of rows written.

    Each row's cells are handled in one comprehension, the JSON list columns by their
    places alone: an export of a million rows goes through some 14 million cells, and
    a function call for each took longer than SQLite's read of the rows. In CSV a list
    column's JSON list is joined with " | "; a value that is not a JSON list (the index
    writes none) is written as its text."""
    n = 0
    width = len(columns)
    lists = [i for i, name in enumerate(columns) if name in _JSON_LIST_COLUMNS]
    first = FORMULA_FIRST
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(columns)
        writerow = writer.writerow
        for row in rows:
            if len(row) != width:
                raise ValueError(f"a row of {len(row)} cells for {width} columns")
            if lists:
                row = list(row)
                for i in lists:
                    value = row[i]
                    if isinstance(value, str):
                        try:
                            items = json.loads(value)
                        except ValueError:
                            continue
                        if isinstance(items, list):  # (else not as the index writes them: kept as text)
                            row[i] = " | ".join(str(v) for v in items)
            writerow([("'" + v) if isinstance(v, str) and v[:1] in first else v for v in row])
            n += 1
        return n
    if fmt not in ("json", "ndjson"):  # pragma: no cover - guarded by argparse
        raise ValueError(f"unknown format {fmt!r}")
    encode, write = json.JSONEncoder(ensure_ascii=True).encode, out.write
    names = tuple(columns)
    if fmt == "json":
        write("[")
    for row in rows:
        record = dict(zip(names, row, strict=True))
        for i in lists:
            value = row[i]
            if isinstance(value, str):
                try:
                    record[names[i]] = json.loads(value)
                except ValueError:
                    pass
        if fmt == "json":
            write(",\n " if n else "\n ")
            write(encode(record))
        else:
            write(encode(record))
            write("\n")
        n += 1
    if fmt == "json":
        write("\n]\n" if n else "]\n")
    return n


def export_table(conn: sqlite3.Connection, table: Table, fmt: Format, out: IO[str]) -> int:
    columns, rows = iter_rows(conn, table)
    return write_rows(out, columns, rows, fmt)
