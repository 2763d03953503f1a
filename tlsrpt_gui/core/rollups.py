"""Summary tables kept beside the policy rows, so charts over a million reports stay instant.

A TLS report is one (reporter, policy domain, day); a million of them are a
million policy rows, and any chart that sums them all would read them all.
These tables are written in the same transaction as the rows they summarise
(the import writer calls :func:`add_policies` per batch), so they can never
disagree with them, and :func:`rebuild` recomputes them from the rows:

``roll_domain_day``
    sessions per (UTC day, policy domain, policy type, sts mode): the
    sessions-per-day, success-rate and coverage charts when the filter uses
    only dates, domain and policy type.
``roll_org_day``
    the same per reporter instead of domain: sessions per day for one reporter.
``report_days``
    for each (reporter, policy domain, policy type), the set of days it sent a
    report for, as a bitmap (bit ``i`` is day ``first_day + i``): the missing
    reports view, without reading one row per report.

Days are UTC day numbers (days since 1970-01-01) of a report's start. A
missing ``sts_mode`` is stored as ``''`` (primary-key columns cannot be NULL).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from typing import Any, Final

SECONDS_PER_DAY: Final = 86400

SCHEMA: Final = """
CREATE TABLE roll_domain_day (
    day            INTEGER NOT NULL,
    policy_domain  TEXT NOT NULL,
    policy_type    TEXT NOT NULL,
    sts_mode       TEXT NOT NULL,
    successful     INTEGER NOT NULL,
    failed         INTEGER NOT NULL,
    policies       INTEGER NOT NULL,
    PRIMARY KEY (day, policy_domain, policy_type, sts_mode)
) WITHOUT ROWID;
CREATE TABLE roll_org_day (
    day                INTEGER NOT NULL,
    organization_name  TEXT NOT NULL,
    policy_type        TEXT NOT NULL,
    sts_mode           TEXT NOT NULL,
    successful         INTEGER NOT NULL,
    failed             INTEGER NOT NULL,
    policies           INTEGER NOT NULL,
    PRIMARY KEY (day, organization_name, policy_type, sts_mode)
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

#: the tables, for checks and rebuilds
TABLES: Final = ("roll_domain_day", "roll_org_day", "report_days")


def day_of(ts: int) -> int:
    """The UTC day number of a unix time (floor division, also before 1970)."""
    return ts // SECONDS_PER_DAY


def day_sql(col: str) -> str:
    """:func:`day_of` in SQL (SQLite's ``/`` truncates towards zero)."""
    n = SECONDS_PER_DAY
    return f"(({col} - ((({col} % {n}) + {n}) % {n})) / {n})"


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
    out: list[int] = []
    day = first
    while bits:
        low = bits & -bits
        shift = low.bit_length() - 1
        day += shift
        out.append(day)
        bits >>= shift + 1
        day += 1
    return out


# --------------------------------------------------------------------------- writing

_DOMAIN_UPSERT: Final = """
INSERT INTO roll_domain_day (day, policy_domain, policy_type, sts_mode, successful, failed, policies)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (day, policy_domain, policy_type, sts_mode) DO UPDATE SET
    successful = successful + excluded.successful,
    failed = failed + excluded.failed,
    policies = policies + excluded.policies
"""
_ORG_UPSERT: Final = """
INSERT INTO roll_org_day (day, organization_name, policy_type, sts_mode, successful, failed, policies)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (day, organization_name, policy_type, sts_mode) DO UPDATE SET
    successful = successful + excluded.successful,
    failed = failed + excluded.failed,
    policies = policies + excluded.policies
"""


def _add(acc: dict[tuple[Any, ...], list[int]], key: tuple[Any, ...], s: int, f: int) -> None:
    v = acc.get(key)
    if v is None:
        acc[key] = [s, f, 1]
    else:
        v[0] += s
        v[1] += f
        v[2] += 1


def add_policies(conn: sqlite3.Connection, rows: Iterable[tuple[str, str, str, str | None, int, int, int]]) -> None:
    """Add policy rows ``(organization, domain, type, sts_mode, start_ts, successful, failed)``
    to the summaries. Runs inside the caller's transaction."""
    by_domain: dict[tuple[Any, ...], list[int]] = {}
    by_org: dict[tuple[Any, ...], list[int]] = {}
    days: dict[tuple[str, str, str], set[int]] = {}
    for org, domain, ptype, mode, start_ts, s, f in rows:
        day = start_ts // SECONDS_PER_DAY
        m = mode or ""
        _add(by_domain, (day, domain, ptype, m), s, f)
        _add(by_org, (day, org, ptype, m), s, f)
        days.setdefault((org, domain, ptype), set()).add(day)
    if by_domain:
        conn.executemany(_DOMAIN_UPSERT, [(*k, *v) for k, v in by_domain.items()])
        conn.executemany(_ORG_UPSERT, [(*k, *v) for k, v in by_org.items()])
    _merge_days(conn, days)


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


def rebuild(conn: sqlite3.Connection) -> None:
    """Recompute every summary from the policy rows (inside the caller's transaction)."""
    for table in TABLES:
        conn.execute(f"DELETE FROM {table}")
    day = day_sql("start_ts")
    for table, col in (("roll_domain_day", "policy_domain"), ("roll_org_day", "organization_name")):
        conn.execute(
            f"INSERT INTO {table} (day, {col}, policy_type, sts_mode, successful, failed, policies) "
            f"SELECT {day} AS d, {col}, policy_type, COALESCE(sts_mode, ''), "
            "SUM(successful_sessions), SUM(failed_sessions), COUNT(*) "
            f"FROM policies GROUP BY d, {col}, policy_type, COALESCE(sts_mode, '')"
        )
    cur = conn.execute(
        f"SELECT organization_name, policy_domain, policy_type, {day} AS d FROM policies "
        "GROUP BY organization_name, policy_domain, policy_type, d"
    )
    current: tuple[str, str, str] | None = None
    batch: list[int] = []
    merged: dict[tuple[str, str, str], list[int]] = {}
    for org, domain, ptype, d in cur:
        key = (str(org), str(domain), str(ptype))
        if key != current:
            if current is not None:
                merged[current] = batch
            current, batch = key, []
        batch.append(int(d))
    if current is not None:
        merged[current] = batch
    _merge_days(conn, merged)


def consistent(conn: sqlite3.Connection) -> bool:
    """True if the summaries match the policy rows (a slow full check)."""
    day = day_sql("start_ts")
    for table, key in (("roll_domain_day", "policy_domain"), ("roll_org_day", "organization_name")):
        diff = conn.execute(
            f"""SELECT COUNT(*) FROM (
                SELECT {day} AS d, {key} AS k, policy_type AS t, COALESCE(sts_mode, '') AS m,
                       SUM(successful_sessions) AS s, SUM(failed_sessions) AS f, COUNT(*) AS n
                FROM policies GROUP BY d, k, t, m
                EXCEPT SELECT day, {key}, policy_type, sts_mode, successful, failed, policies FROM {table}
            )"""
        ).fetchone()[0]
        rows = conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
        groups = conn.execute(
            f"SELECT COUNT(*) FROM (SELECT 1 FROM policies GROUP BY {day}, {key}, policy_type, COALESCE(sts_mode, ''))"
        ).fetchone()[0]
        if diff or rows != groups:
            return False
    expected: dict[tuple[str, str, str], set[int]] = {}
    for org, domain, ptype, d in conn.execute(
        f"SELECT organization_name, policy_domain, policy_type, {day} FROM policies"
    ):
        expected.setdefault((str(org), str(domain), str(ptype)), set()).add(int(d))
    stored = {
        (str(o), str(dm), str(t)): set(days_of(int(first), decode_bits(blob)))
        for o, dm, t, first, blob in conn.execute(
            "SELECT organization_name, policy_domain, policy_type, first_day, days FROM report_days"
        )
    }
    return stored == expected
