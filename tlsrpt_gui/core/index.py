"""The local SQLite index: schema, migrations, import with de-duplication, totals.

One file per index (WAL mode). Reports are de-duplicated on
(organization-name, report-id); the raw JSON of every report is kept
(zlib-compressed) so nothing is ever lost and a later parser can re-read it.
Imports write in batched transactions: a process killed mid-import leaves the
index as it was after the last committed batch, and a re-run completes it.
"""

from __future__ import annotations

import gc
import gzip
import json
import logging
import operator
import os
import signal
import sqlite3
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, NamedTuple

from tlsrpt_gui.core import fastparse, readahead, report_text, rollups
from tlsrpt_gui.core.fastparse import FastReport
from tlsrpt_gui.core.report import ReportParseError, decode_json, parse_report_value
from tlsrpt_gui.core.sources import (
    DEFAULT_LIMITS,
    HIDDEN_FILE,
    HIDDEN_FOLDER,
    FileList,
    Limits,
    SourceItem,
    collect_paths,
    payload_size,
    read_source,
)

if TYPE_CHECKING:
    import concurrent.futures

log = logging.getLogger(__name__)

SCHEMA_VERSION: Final = 8
#: reports per transaction of an import below the bulk size, which the importing process
#: writes, or fewer: a batch also ends at BATCH_ROWS policy and failure rows. Each
#: transaction rewrites the pages its rows touch in some 50 indexes, so fewer, larger ones
#: pay: 4,000 files into an index of a million reports took 2.7-3.4 s in batches of 500.
BATCH_SIZE: Final = 2000
#: … so that reports with many failure rows are written in smaller batches: their memory
#: is the batch's, and BATCH_SIZE reports of 100 failure rows each doubled the import's
#: peak (4,000 of them: 155 MB in batches of 500 reports, 337 MB in batches of 2,000)
BATCH_ROWS: Final = 50_000
#: files parsed ahead of the writer in an import below the bulk size (see _Parsers.load)
PARSE_AHEAD_FILES: Final = 1000
#: reports per transaction in a bulk import (fewer commits and summary updates)
BULK_BATCH_SIZE: Final = 2000
#: an import of at least this many files is a bulk import (its parser processes write,
#: see _Parsers.write); one of more files than the index holds reports drops the
#: secondary indexes and builds them again at the end
BULK_MIN_FILES: Final = 5000
#: … and so is one of at least this many files that would drop them: building them
#: again costs less than writing into them from 2,000 files up, much less for reports
#: with many failure rows (into a new index: 2,000 files 0.32 s as they come, 0.25 s as a
#: bulk import; 4,000 files 0.52 s and 0.39 s; 1,000 files of 100 failure rows each 4.8 s
#: and 2.1 s, 4,000 of them 24.7 s and 7.7 s; 1,000 files 0.19 s either way)
BULK_MIN_FILES_DEFERRED: Final = 1000
#: an import that the count of its files does not make a bulk import weighs each file
#: by its size, in units of this many bytes (at least one a file), a gzip file by the
#: size of what it holds (its last four bytes say; reports of many failure rows
#: compress 40-fold and more): a report of 5,000 failure rows, 1.3 MB of JSON, weighs
#: 330, and an import of 60 of them (300,000 failure rows) is a bulk import with parser
#: processes (11.1 s as files were counted, 5.1 s so; into an index of 20,000 reports,
#: which keeps its indexes, 12.6 s and 9.5 s). The thresholds above, and the parser
#: processes' shares (_Parsers), count weights where they count files. Below the bulk
#: size the importing process holds the rows of the files parsed ahead of its writes:
#: 1,200 files of 1,000 failure rows each, into an index of 20,000 reports, took it to
#: 570 MB as files were counted. (A thousand files take 3 ms to weigh, 5,000 16 ms.)
FILE_WEIGHT_BYTES: Final = 4096
#: the names of the indexes the window makes for its sorts begin so (ui/models.py,
#: SORT_INDEXES): a bulk import drops them and leaves them to the window, which makes
#: them again in the background once the import is done
VIEWER_INDEX_PREFIX: Final = "ui_"
#: ``Progress.current`` while a bulk import builds its deferred indexes
INDEXING: Final = "building the indexes"
#: files a parser process reads, parses and writes as one transaction in a bulk import:
#: at least this many, and more in larger imports, up to WRITE_GROUP_FILES_MAX (see
#: _Parsers.write: each transaction starts with a page cache that the other process's
#: writes have made stale)
WRITE_GROUP_FILES: Final = 512
WRITE_GROUP_FILES_MAX: Final = 2048
#: when the secondary indexes stay in place through a bulk import (the index holds at
#: least as many reports as it imports), a group is a quarter of the files, up to
#: WRITE_GROUP_FILES_MAX (so no larger, in files held parsed in a process, than those of
#: the largest imports): a transaction then rewrites each page its rows touch in some 50
#: indexes, most of them at random places, and a larger one rewrites each page for more
#: rows (20,000 files into an index of a million reports: 6.7-7.0 s in groups of 512,
#: 5.4-5.7 s of 2,048). At least four groups, so that both processes have some to parse.
WRITE_GROUP_LIVE_SHARE: Final = 4
#: SQLite's page cache in each parser process of a bulk import, in KiB
PARSER_CACHE_KIB: Final = 16384
#: tables whose secondary indexes a bulk import defers
_DEFERRABLE: Final = ("reports", "policies", "failure_details", "diagnostics", "sources")


class IndexError_(Exception):
    """The index cannot be opened or written (locked, corrupt, disk full…)."""

    #: of an import it stopped: what its committed batches had imported by then
    result: ImportResult | None = None


def _schema_3(conn: sqlite3.Connection) -> None:
    # The result-type index covers the policy and report ids too, so "policies or
    # reports with a failure of type X" never reads a failure row; it replaces
    # failures_type, whose columns it starts with.
    conn.execute("DROP INDEX failures_type")
    conn.execute("DROP INDEX failures_type_cover")
    conn.execute("CREATE INDEX failures_type_cover ON failure_details "
                 "(result_type, start_ts, failed_session_count, policy_id, report_id)")
    # Each failure row also carries its policy's mode and session counts, so the
    # session charts of "policies with a failure of type X" read one index, not a
    # hundred thousand policy rows.
    conn.execute("ALTER TABLE failure_details ADD COLUMN sts_mode TEXT")
    conn.execute("ALTER TABLE failure_details ADD COLUMN policy_successful INTEGER")
    conn.execute("ALTER TABLE failure_details ADD COLUMN policy_failed INTEGER")
    conn.execute(
        "UPDATE failure_details SET (sts_mode, policy_successful, policy_failed) = "
        "(SELECT p.sts_mode, p.successful_sessions, p.failed_sessions FROM policies p WHERE p.id = failure_details.policy_id)"
    )
    conn.execute("CREATE INDEX failures_policy_sums ON failure_details (result_type, policy_id, start_ts, policy_domain, "
                 "organization_name, policy_type, sts_mode, policy_successful, policy_failed)")
    for statement in rollups.SCHEMA.split(";"):
        if statement.strip():
            conn.execute(statement)
    rollups.rebuild(conn)
    # The indexes a bulk import dropped and has yet to build again (see Index.import_paths).
    conn.execute("CREATE TABLE deferred_indexes (name TEXT PRIMARY KEY, sql TEXT NOT NULL)")


#: the covering indexes of the top-N charts, by column, since schema 4: with the start,
#: so a date range is checked inside the index while it is read in key order
_TOP_COVERS: Final = {"failures_org_cover": "organization_name", "failures_mx_cover": "receiving_mx_hostname",
                      "failures_ip_cover": "sending_mta_ip"}


def _schema_4(conn: sqlite3.Connection) -> None:
    # Session summaries per result type, for the charts of "policies with a failure of
    # type X", and failures per month for the top-N charts over a date range (an index
    # made by schema 3 in this same run has them already).
    rollups.add_tables(conn, rollups.SCHEMA_4_TABLES)
    # The top-N charts over a date range read these indexes whole, in key order,
    # instead of half the table through failures_start and a sort.
    for name, column in _TOP_COVERS.items():
        sql = f"CREATE INDEX {name} ON failure_details ({column}, result_type, start_ts, failed_session_count)"
        if conn.execute("UPDATE deferred_indexes SET sql = ? WHERE name = ?", (sql, name)).rowcount:
            continue  # dropped by a bulk import that was killed: built with the others
        conn.execute(f"DROP INDEX IF EXISTS {name}")
        conn.execute(sql)


def _schema_5(conn: sqlite3.Connection) -> None:
    # Session summaries per calendar month, of all policies and of those with a failure
    # of each result type, for the success-rate and coverage charts over a date range.
    rollups.add_tables(conn, rollups.SCHEMA_5_TABLES)


def _schema_6(conn: sqlite3.Connection) -> None:
    # Each policy row counts its failure rows, as a report row does: a filter through
    # failure rows (result type, MX host, sending IP) can then say that its policies have
    # some, and partial sort indexes over those policies serve the orders in which the
    # nine in ten without come first (see core/query.py). Counted once, grouped, into a
    # table keyed by policy: no per-policy lookup, so the failure rows' own indexes
    # (which a killed bulk import may have left unbuilt) are not needed.
    conn.execute("ALTER TABLE policies ADD COLUMN failure_detail_count INTEGER NOT NULL DEFAULT 0")
    conn.execute("CREATE TEMP TABLE policy_details (policy_id INTEGER PRIMARY KEY, n INTEGER NOT NULL)")
    try:
        conn.execute("INSERT INTO temp.policy_details SELECT policy_id, COUNT(*) FROM failure_details GROUP BY policy_id")
        conn.execute("UPDATE policies SET failure_detail_count = "
                     "(SELECT n FROM temp.policy_details d WHERE d.policy_id = policies.id) "
                     "WHERE id IN (SELECT policy_id FROM temp.policy_details)")
    finally:
        conn.execute("DROP TABLE temp.policy_details")
    # A trigram index of report ids and sources for the free-text filter (core/report_text.py).
    if report_text.create(conn):
        conn.execute(report_text.FILL)


#: the first failure row of each result type in its policy (1; NULL on the others), which
#: the policy sums index keeps (see _schema_7): as the import writer marks them
FIRST_OF_TYPE_FILL: Final = ("UPDATE failure_details SET first_of_type = 1 WHERE id IN "
                             "(SELECT MIN(id) FROM failure_details GROUP BY policy_id, result_type)")
#: since schema 7: only the first failure row of each result type in its policy. The mark
#: leads its columns, so a query that names it (as it must, to use a partial index) has two
#: equal columns here and SQLite takes it over the narrower indexes of the result type,
#: which it would have to check in each table row; the start follows, for date ranges.
POLICY_SUMS_SQL: Final = ("CREATE INDEX failures_policy_sums ON failure_details (first_of_type, result_type, start_ts, "
                          "policy_id, policy_domain, organization_name, policy_type, sts_mode, policy_successful, "
                          "policy_failed) WHERE first_of_type = 1")


def _schema_7(conn: sqlite3.Connection) -> None:
    # The charts of "policies with a failure of type X" read one row per policy from the
    # policy sums index, which held every failure row: a report of 5,000 failure rows of
    # a few result types put 5,000 entries there, and at 300,000 such rows its build took
    # 0.5 s of a bulk import's end. It now holds the first row of each type in a policy.
    conn.execute("ALTER TABLE failure_details ADD COLUMN first_of_type INTEGER")
    conn.execute(FIRST_OF_TYPE_FILL)
    if not conn.execute("UPDATE deferred_indexes SET sql = ? WHERE name = 'failures_policy_sums'",
                        (POLICY_SUMS_SQL,)).rowcount:  # (else dropped by a killed bulk import: built with the others)
        conn.execute("DROP INDEX IF EXISTS failures_policy_sums")
        conn.execute(POLICY_SUMS_SQL)
    # Each was the first column of a wider index, which answers the same lookups (the
    # top-N covers; the window's sort indexes hold their order by id), and cost every
    # failure row two more index entries: 0.33 s of building at 300,000 rows.
    for name in ("failures_mx", "failures_ip"):
        conn.execute(f"DROP INDEX IF EXISTS {name}")
        conn.execute("DELETE FROM deferred_indexes WHERE name = ?", (name,))


def _schema_8(conn: sqlite3.Connection) -> None:
    # The top-N summary counts each key per reporter too, so the charts of one reporter's
    # MX hosts and sending addresses read it, not that reporter's failure rows (0.2-0.3 s
    # for a busy one at a million reports). Counted again from the rows, in SQL.
    conn.execute("DROP TABLE IF EXISTS roll_failures_key")
    rollups.add_tables(conn, ("roll_failures_key",))


# Each step moves the schema from version i to i + 1: SQL statements, or a function.
_MIGRATIONS: Final[tuple[str | Callable[[sqlite3.Connection], None], ...]] = (
    """
    CREATE TABLE import_runs (
        id           INTEGER PRIMARY KEY,
        started_at   REAL NOT NULL,
        finished_at  REAL,
        paths        TEXT NOT NULL,
        imported     INTEGER NOT NULL DEFAULT 0,
        duplicates   INTEGER NOT NULL DEFAULT 0,
        skipped      INTEGER NOT NULL DEFAULT 0,
        failed       INTEGER NOT NULL DEFAULT 0,
        status       TEXT NOT NULL DEFAULT 'running'
    );
    CREATE TABLE reports (
        id                   INTEGER PRIMARY KEY,
        organization_name    TEXT NOT NULL,
        report_id            TEXT NOT NULL,
        dedupe_key           TEXT NOT NULL,
        contact_info         TEXT,
        start_ts             INTEGER NOT NULL,
        end_ts               INTEGER NOT NULL,
        policy_domains       TEXT NOT NULL,
        policy_count         INTEGER NOT NULL,
        successful_sessions  INTEGER NOT NULL,
        failed_sessions      INTEGER NOT NULL,
        failure_detail_count INTEGER NOT NULL,
        diagnostic_count     INTEGER NOT NULL,
        worst_severity       TEXT,
        source_path          TEXT NOT NULL,
        source_member        TEXT NOT NULL,
        imported_at          REAL NOT NULL,
        UNIQUE (organization_name, dedupe_key)
    );
    CREATE INDEX reports_start ON reports (start_ts);
    CREATE INDEX reports_org ON reports (organization_name, start_ts);
    CREATE INDEX reports_domains ON reports (policy_domains, start_ts);
    CREATE INDEX reports_failed ON reports (failed_sessions);
    CREATE TABLE report_raw (
        report_id  INTEGER PRIMARY KEY REFERENCES reports (id) ON DELETE CASCADE,
        encoding   TEXT NOT NULL,
        raw        BLOB NOT NULL
    );
    CREATE TABLE policies (
        id                   INTEGER PRIMARY KEY,
        report_id            INTEGER NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
        idx                  INTEGER NOT NULL,
        policy_type          TEXT NOT NULL,
        policy_domain        TEXT NOT NULL,
        policy_domain_source TEXT NOT NULL,
        policy_strings       TEXT NOT NULL,
        mx_hosts             TEXT NOT NULL,
        sts_mode             TEXT,
        successful_sessions  INTEGER NOT NULL,
        failed_sessions      INTEGER NOT NULL,
        organization_name    TEXT NOT NULL,
        start_ts             INTEGER NOT NULL,
        end_ts               INTEGER NOT NULL
    );
    CREATE INDEX policies_report ON policies (report_id);
    CREATE INDEX policies_domain ON policies (policy_domain, start_ts);
    CREATE INDEX policies_type ON policies (policy_type, start_ts);
    CREATE INDEX policies_start ON policies (start_ts);
    CREATE INDEX policies_org ON policies (organization_name, start_ts);
    CREATE TABLE failure_details (
        id                     INTEGER PRIMARY KEY,
        report_id              INTEGER NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
        policy_id              INTEGER NOT NULL REFERENCES policies (id) ON DELETE CASCADE,
        result_type            TEXT NOT NULL,
        sending_mta_ip         TEXT,
        receiving_mx_hostname  TEXT,
        receiving_mx_helo      TEXT,
        receiving_ip           TEXT,
        failed_session_count   INTEGER NOT NULL,
        failure_reason_code    TEXT,
        additional_information TEXT,
        policy_domain          TEXT NOT NULL,
        policy_type            TEXT NOT NULL,
        organization_name      TEXT NOT NULL,
        start_ts               INTEGER NOT NULL
    );
    CREATE INDEX failures_report ON failure_details (report_id);
    CREATE INDEX failures_policy ON failure_details (policy_id);
    CREATE INDEX failures_start ON failure_details (start_ts);
    CREATE INDEX failures_type ON failure_details (result_type, start_ts);
    CREATE INDEX failures_domain ON failure_details (policy_domain, start_ts);
    CREATE INDEX failures_org ON failure_details (organization_name, start_ts);
    CREATE INDEX failures_mx ON failure_details (receiving_mx_hostname);
    CREATE INDEX failures_ip ON failure_details (sending_mta_ip);
    CREATE INDEX failures_count ON failure_details (failed_session_count);
    CREATE TABLE diagnostics (
        id         INTEGER PRIMARY KEY,
        report_id  INTEGER NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
        severity   TEXT NOT NULL,
        code       TEXT NOT NULL,
        message    TEXT NOT NULL,
        path       TEXT NOT NULL
    );
    CREATE INDEX diagnostics_report ON diagnostics (report_id);
    CREATE INDEX diagnostics_code ON diagnostics (code);
    CREATE TABLE sources (
        id           INTEGER PRIMARY KEY,
        run_id       INTEGER REFERENCES import_runs (id),
        path         TEXT NOT NULL,
        member       TEXT NOT NULL,
        size         INTEGER NOT NULL,
        sha256       TEXT NOT NULL,
        imported_at  REAL NOT NULL,
        outcome      TEXT NOT NULL CHECK (outcome IN ('imported', 'duplicate', 'skipped', 'failed')),
        reason       TEXT NOT NULL,
        report_id    INTEGER REFERENCES reports (id) ON DELETE SET NULL
    );
    CREATE INDEX sources_path ON sources (path, member);
    CREATE INDEX sources_outcome ON sources (outcome, imported_at);
    CREATE INDEX sources_run ON sources (run_id);
    """,
    # 2: covering indexes for the charts' GROUP BY over a million failure rows.
    """
    CREATE INDEX failures_type_cover ON failure_details (result_type, start_ts, failed_session_count);
    CREATE INDEX failures_org_cover ON failure_details (organization_name, result_type, failed_session_count);
    CREATE INDEX failures_mx_cover ON failure_details (receiving_mx_hostname, result_type, failed_session_count);
    CREATE INDEX failures_ip_cover ON failure_details (sending_mta_ip, result_type, failed_session_count);
    CREATE INDEX failures_domain_cover ON failure_details (policy_domain, result_type, failed_session_count);
    """,
    # 3: summary tables for the charts (core/rollups.py), filled from the rows already there.
    _schema_3,
    # 4: session summaries per result type, failures per month (core/rollups.py), and
    # the top-N covering indexes with the start.
    _schema_4,
    # 5: session summaries per month, also per result type (core/rollups.py).
    _schema_5,
    # 6: policy rows count their failure rows; a trigram index of report ids and sources.
    _schema_6,
    # 7: the policy sums index keeps one row per policy and result type; two narrow failure indexes go.
    _schema_7,
    # 8: the top-N summary by reporter too.
    _schema_8,
)


@dataclass(slots=True)
class ImportResult:
    imported: int = 0
    duplicates: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    cancelled: bool = False
    run_id: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "imported": self.imported,
            "duplicates": self.duplicates,
            "skipped": [{"source": s, "reason": r} for s, r in self.skipped],
            "failed": [{"source": s, "reason": r} for s, r in self.failed],
        }

    def add(self, other: ImportResult) -> None:
        """Count what became of more source items (another batch or group of this run)."""
        self.imported += other.imported
        self.duplicates += other.duplicates
        self.skipped.extend(other.skipped)
        self.failed.extend(other.failed)


@dataclass(frozen=True, slots=True)
class Progress:
    done: int
    total: int
    current: str


ProgressCallback = Callable[[Progress], None]


@dataclass(frozen=True, slots=True)
class Totals:
    reports: int
    policies: int
    failure_details: int
    successful_sessions: int
    failed_sessions: int
    reporters: int
    policy_domains: int
    first_day: int | None
    last_day: int | None
    failed_inputs: int
    skipped_inputs: int

    def as_json(self) -> dict[str, Any]:
        return {
            "reports": self.reports,
            "policies": self.policies,
            "failure_details": self.failure_details,
            "successful_sessions": self.successful_sessions,
            "failed_sessions": self.failed_sessions,
            "reporters": self.reporters,
            "policy_domains": self.policy_domains,
            "first_report_start": _iso(self.first_day),
            "last_report_start": _iso(self.last_day),
            "failed_inputs": self.failed_inputs,
            "skipped_inputs": self.skipped_inputs,
        }


def _iso(ts: int | None) -> str | None:
    if ts is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


class _Parsed(NamedTuple):
    """One source item after parsing, as plain rows (cheap to send between processes).

    ``outcome`` is "report", "skipped" or "failed". For a report, ``report_row``
    holds the ``reports`` columns after ``id``; ``policies`` pairs each
    ``policies`` row (columns after ``id`` and ``report_id``) with its
    ``failure_details`` rows (columns after ``report_id`` and ``policy_id``).
    """

    path: str
    member: str
    outcome: str
    reason: str
    size: int
    sha256: str
    report_row: tuple[Any, ...] | None = None
    policies: tuple[tuple[tuple[Any, ...], list[tuple[Any, ...]]], ...] = ()
    diagnostics: tuple[tuple[str, str, str, str], ...] = ()
    raw: tuple[str, bytes] | None = None

    @property
    def label(self) -> str:
        return _label(self.path, self.member)


def _label(path: str, member: str) -> str:
    """How an import result names a source item: the file, and the member inside it."""
    return f"{path} » {member}" if member else path


try:
    import orjson

    def _json_list(items: list[str]) -> str:
        return orjson.dumps(items).decode()
except ImportError:  # pragma: no cover - orjson is a dependency

    def _json_list(items: list[str]) -> str:
        return json.dumps(items, ensure_ascii=False)


def _failed(path: str, reason: str, member: str = "") -> _Parsed:
    return _Parsed(path, member, "failed", reason, 0, "")


def _prepare(item: SourceItem, report: FastReport) -> _Parsed:
    """Turn a parsed report into the rows the writer inserts."""
    org = report.organization_name
    start_ts, end_ts = report.start_ts, report.end_ts
    policies: list[tuple[tuple[Any, ...], list[tuple[Any, ...]]]] = []
    n_details = successful = failed = 0
    domains: dict[str, None] = {}
    for idx, p in enumerate(report.policies):
        ptype, domain, _, strings, hosts, mode, ok, bad, fds = p
        prow = (idx, ptype, domain, p.policy_domain_source, _json_list(strings), _json_list(hosts), mode, ok, bad,
                org, start_ts, end_ts, len(fds))
        # The first row of each result type is marked (first_of_type, see _schema_7), the
        # types compared as they will be stored: two that differ in what is not valid
        # Unicode are one once made storable (see _storable), marked once.
        tail = (domain, ptype, org, start_ts, mode, ok, bad, None)
        first = (*tail[:-1], 1)
        types: set[str] = set()
        rows: list[tuple[Any, ...]] = []
        for d in fds:
            rt = d[0] if d[0].isascii() else _valid_text(d[0])
            rows.append(d + (tail if rt in types else first))
            types.add(rt)
        policies.append((prow, rows))
        n_details += len(fds)
        successful += ok
        failed += bad
        if domain:
            domains[domain] = None
    notes = report.diagnostics
    severities = {d.severity for d in notes} if notes else ()
    report_row = (
        org, report.report_id, report.report_id or "sha256:" + item.sha256, report.contact_info, start_ts, end_ts,
        ", ".join(domains), len(policies), successful, failed,
        n_details, len(notes), next((s for s in ("error", "warning", "info") if s in severities), None),
        item.path, item.member,
    )
    if item.compressed is not None:
        raw = ("gzip", item.compressed)
    else:
        assert item.data is not None
        raw = ("zlib", zlib.compress(item.data, 1))
    diagnostics = tuple((str(d.severity), d.code, d.message, d.path) for d in notes)
    return _Parsed(item.path, item.member, "report", "", item.size, item.sha256, report_row, tuple(policies), diagnostics, raw)


def _parse_item(item: SourceItem, limits: Limits) -> _Parsed:
    if item.outcome != "payload" or item.data is None:
        return _Parsed(item.path, item.member, item.outcome if item.outcome == "skipped" else "failed", item.reason, item.size, item.sha256)
    try:
        # as report.parse_report_bytes, with the fast path first
        try:
            value, notes = decode_json(item.data, max_depth=limits.max_json_depth)
            report = None if notes else fastparse.parse(value, item.hint, time.time(), limits.max_failure_details)
            if report is None:
                report = fastparse.flatten(parse_report_value(value, item.hint, pre_diagnostics=notes,
                                                              max_failure_details=limits.max_failure_details))
        except (RecursionError, MemoryError):
            raise ReportParseError("the report is too large or too deeply nested to read") from None
    except ReportParseError as exc:
        return _Parsed(item.path, item.member, "failed", str(exc), item.size, item.sha256)
    return _prepare(item, report)


def load_path(path: str, limits: Limits = DEFAULT_LIMITS) -> list[_Parsed]:
    """Read and parse everything in one file (runs in worker processes too)."""
    return [_parse_item(item, limits) for item in read_source(path, limits)]


def _connect_writable(path: Path, timeout: float) -> sqlite3.Connection:
    """A writable connection to an index file, set up as every writer of it is."""
    conn = sqlite3.connect(path, timeout=timeout, check_same_thread=False)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn


class Index:
    """A connection to one index file. Not shared between threads."""

    def __init__(self, path: str | os.PathLike[str], *, read_only: bool = False, timeout: float = 10.0) -> None:
        self.path = Path(path)
        self.timeout = timeout
        try:
            if read_only:
                uri = self.path.resolve().as_uri() + "?mode=ro"
                self.conn = sqlite3.connect(uri, uri=True, timeout=timeout, check_same_thread=False)
                self.conn.execute("PRAGMA foreign_keys = ON")
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self.conn = _connect_writable(self.path, timeout)
            if not read_only:
                self._migrate()
                if not _bulk_import_elsewhere(self.path):  # (else that import builds them)
                    self.build_deferred_indexes()  # after a bulk import that was killed
            else:
                self._check_version()
        except sqlite3.DatabaseError as exc:
            raise IndexError_(_db_reason(self.path, exc)) from exc
        except OSError as exc:
            raise IndexError_(f"cannot open the index {self.path}: {exc.strerror or exc}") from exc

    def _reconnect(self) -> None:
        """Open the (writable) connection again, as __init__ does, after it was closed."""
        try:
            self.conn = _connect_writable(self.path, self.timeout)
        except sqlite3.DatabaseError as exc:
            raise IndexError_(_db_reason(self.path, exc)) from exc

    @classmethod
    def _for_parser(cls, path: str, timeout: float) -> Index:
        """The connection a parser process writes its batches with, to an index that the
        importing process has opened, migrated and set up for a bulk import."""
        self = cls.__new__(cls)
        self.path = Path(path)
        self.timeout = timeout
        self.conn = _connect_writable(self.path, timeout)
        # The importing process copies the WAL into the database after each batch (see
        # _Checkpointer): a commit here never does, unless the WAL has grown past 256 MiB.
        self.conn.execute("PRAGMA wal_autocheckpoint = 65536")
        self.conn.execute(f"PRAGMA cache_size = {-PARSER_CACHE_KIB}")
        return self

    # ------------------------------------------------------------------ schema

    @property
    def schema_version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def _check_version(self) -> None:
        v = self.schema_version
        if v > SCHEMA_VERSION:
            raise IndexError_(f"the index {self.path} was written by a newer tlsrpt-gui (schema {v}, this one knows {SCHEMA_VERSION})")

    def _migrate(self) -> None:
        """Bring the schema up to date, one step per transaction.

        The version is read again under the write lock, so two processes opening a
        new index at the same moment do not both run a step.
        """
        self._check_version()
        while self.schema_version < SCHEMA_VERSION:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                v = self.schema_version
                if v >= SCHEMA_VERSION:
                    self.conn.commit()
                    break
                if v > SCHEMA_VERSION:  # pragma: no cover - _check_version refused it
                    raise IndexError_(f"the index {self.path} has an unknown schema {v}")
                step = _MIGRATIONS[v]
                if callable(step):
                    step(self.conn)
                else:
                    for statement in step.split(";"):
                        if statement.strip():
                            self.conn.execute(statement)
                self.conn.execute(f"PRAGMA user_version = {v + 1}")
                self.conn.commit()
            except BaseException:
                if self.conn.in_transaction:
                    self.conn.rollback()
                raise

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def integrity_ok(self) -> tuple[bool, str]:
        rows = self.conn.execute("PRAGMA quick_check").fetchall()
        text = "; ".join(str(r[0]) for r in rows[:5])
        return text == "ok", text

    # ------------------------------------------------------------------ import

    def import_paths(
        self,
        paths: Sequence[str | os.PathLike[str]],
        *,
        limits: Limits = DEFAULT_LIMITS,
        progress: ProgressCallback | None = None,
        cancelled: Callable[[], bool] | None = None,
        workers: int | None = None,
    ) -> ImportResult:
        """Import files and folders. Inputs that cannot be read are collected in the
        result, never raised; an index that cannot be written raises IndexError_
        (batches already committed stay). Paths are kept absolute (a relative one names
        nothing from another folder, for the detail pane or a rebuild)."""
        paths = [os.path.abspath(p) for p in paths]
        result = ImportResult()
        files, result.failed, result.skipped = collect_paths(paths)
        run_id = self._start_run(paths)
        result.run_id = run_id
        now = time.time()
        if result.failed or result.skipped:
            with self._transaction():
                for outcome, found in (("failed", result.failed), ("skipped", result.skipped)):
                    for path, reason in found:
                        self._insert_source(run_id, _valid_text(path), "", 0, "", now, outcome, reason, None)
        total, held = len(files), self._report_count()
        # (weighed unless the count of files makes it a bulk import: see FILE_WEIGHT_BYTES)
        by_count = total >= BULK_MIN_FILES or (total >= BULK_MIN_FILES_DEFERRED and total > held)
        weights = None if by_count else _weights(files, limits.max_payload_bytes)
        weight = total if weights is None else sum(weights)
        defers = weight > held  # (more to import than it holds: the indexes are built again)
        bulk = weight >= BULK_MIN_FILES or (weight >= BULK_MIN_FILES_DEFERRED and defers)
        writer = _BatchWriter(self, run_id, result, BULK_BATCH_SIZE if bulk else BATCH_SIZE)
        last_report = 0.0
        lock = _hold_bulk_import_lock(self.path) if bulk else None
        try:
            if bulk and defers:
                self._defer_indexes()
            # before any thread starts (see _start_method); a bulk import's parsers write too
            parsers = _Parsers(workers, total, weights, (self, run_id) if bulk else None)
        except BaseException:
            _release(lock)
            raise
        checkpoints: _Checkpointer | None = None
        if bulk:  # a 64 MiB cache (index builds sort through temporary files, so memory
            # stays bounded at any size), and the WAL copied into the database by a thread
            # after each batch, so the writer never waits for that; it would only past 256 MiB
            self.conn.execute("PRAGMA wal_autocheckpoint = 65536")
            self.conn.execute("PRAGMA cache_size = -65536")
            checkpoints = _Checkpointer(str(self.path))
            writer.committed = checkpoints.poke
        try:
            try:
                done = 0  # files read
                with gc_paused():
                    if parsers.writes:
                        done = self._written_by_parsers(parsers, files, limits, writer, progress, cancelled,
                                                        live=not self._has_deferred())
                    else:
                        ahead = 2 * writer.batch_size if bulk else PARSE_AHEAD_FILES
                        for done, (path, parsed) in enumerate(parsers.load(files, limits, ahead), start=1):
                            if cancelled is not None and cancelled():
                                result.cancelled = True
                                break
                            writer.add(parsed)
                            if progress is not None:
                                t = time.monotonic()
                                if t - last_report >= 0.05 or done == total:
                                    last_report = t
                                    progress(Progress(done, total, path))
                    writer.flush()
                files = FileList()  # the paths are read: their memory goes back before the index builds
            except BaseException as exc:
                # Record the run as failed if the index can still be written; never let
                # that second write hide the first error.
                parsers.close()  # (parser processes writing finish their groups first)
                if isinstance(exc, IndexError_):
                    exc.result = result
                try:
                    self._finish_run(run_id, result, status="failed")
                    self.build_deferred_indexes()
                except (IndexError_, sqlite3.Error):
                    log.warning("could not record the failed import run", exc_info=True)
                raise
            self._finish_run(run_id, result)
            if checkpoints is not None:
                checkpoints.stop()
            if progress is not None and self._has_deferred():
                progress(Progress(done, total, INDEXING))
            if parsers.method == "fork" and not parsers.writes:  # no use at the end (see compute_summaries):
                parsers.close()  # their memory goes back
            self.build_deferred_indexes(parsers)
        finally:
            if checkpoints is not None:
                checkpoints.stop()
            parsers.close()
            _release(lock)
            if bulk:
                try:
                    self.conn.execute("PRAGMA wal_autocheckpoint = 1000")
                    self.conn.execute("PRAGMA cache_size = -2000")
                except sqlite3.Error:  # the connection is gone; the settings go with it
                    pass
        return result

    def _written_by_parsers(self, parsers: _Parsers, files: FileList | list[str], limits: Limits,
                            writer: _BatchWriter, progress: ProgressCallback | None,
                            cancelled: Callable[[], bool] | None, live: bool = False) -> int:
        """The parse phase of a bulk import whose parser processes write their groups
        themselves (_Parsers.write; ``live``: into the secondary indexes, none deferred);
        ``writer`` writes any group whose process failed. Returns how many files were read."""
        result, total, done = writer.result, len(files), 0
        # Files that come from the disk are asked for ahead of the parsers: past the groups
        # written, as many as two groups for each parser process (see _Parsers.write).
        with readahead.ReadAhead(files, parsers.reads_wait, ahead=2 * parsers.workers * WRITE_GROUP_FILES_MAX) as ahead:
            for group, written in parsers.write(files, limits, live):
                if written is None:  # its parser process failed: perhaps after it committed some of the group
                    written, unwritten = self._committed_in_run(writer.run_id, group)
                    result.add(written)
                    for path in unwritten:  # the rest is read and written here
                        writer.add(_load_safely(path, limits))
                    writer.flush()  # (SQLite makes it wait for any parser process writing)
                else:
                    result.add(written)
                    if writer.committed is not None:
                        writer.committed()
                done += len(group)
                ahead.reached = done
                if progress is not None:
                    progress(Progress(done, total, group[-1]))
                if cancelled is not None and cancelled():
                    result.cancelled = True
                    for written in parsers.stop_writing():
                        result.add(written)
                    break
        return done

    def _committed_in_run(self, run_id: int, paths: list[str]) -> tuple[ImportResult, list[str]]:
        """What became of ``paths`` in import run ``run_id``, from their ``sources`` rows,
        and those of them that have none: not written (a file's rows are written in one
        transaction, all or none; see _write_group)."""
        done = ImportResult()
        found: set[str] = set()
        stored = [_valid_text(p) for p in paths]  # (as a file name in another encoding is stored)
        for i in range(0, len(stored), 500):
            part = stored[i : i + 500]
            rows = self.conn.execute(
                f"SELECT path, member, outcome, reason FROM sources WHERE run_id = ? AND path IN ({', '.join('?' * len(part))})",
                (run_id, *part))
            for path, member, outcome, reason in rows:
                found.add(path)
                if outcome == "imported":
                    done.imported += 1
                elif outcome == "duplicate":
                    done.duplicates += 1
                else:
                    (done.skipped if outcome == "skipped" else done.failed).append((_label(path, member), reason))
        return done, [p for p, text in zip(paths, stored, strict=True) if text not in found]

    def _report_count(self) -> int:
        # MAX(id) is instant and at least the count (ids are never reused).
        return int(self.conn.execute("SELECT COALESCE(MAX(id), 0) FROM reports").fetchone()[0])

    def _has_deferred(self) -> bool:
        if self.schema_version < 3:  # only in migration tests
            return False
        names = [r[0] for r in self.conn.execute("SELECT name FROM deferred_indexes LIMIT 2")]
        # (a trigram index this SQLite cannot read is left for one that can: nothing to build here)
        return bool(names) and (names != [report_text.TABLE] or report_text.readable(self.conn))

    def _defer_indexes(self) -> None:
        """Drop the secondary indexes for a bulk import, noting them to build again.

        Inserting into ~40 indexes row by row costs more than the rest of the
        import; building them once at the end, from sorted data, costs a fraction.
        The note and the drop are one transaction, so a process killed mid-import
        leaves the note, and the next writable open builds them
        (:meth:`build_deferred_indexes`). Unique constraints stay: they de-duplicate.

        The summary tables are deferred the same way: the batches skip them, and
        they are computed once at the end, beside the index builds. Until then
        :func:`rollups.ready` is false, and readers sum the rows instead.
        """
        marks = ", ".join("?" * len(_DEFERRABLE))
        with self._transaction():
            self.conn.execute("INSERT OR REPLACE INTO deferred_indexes (name, sql) VALUES (?, '')", (rollups.PENDING,))
            if report_text.exists(self.conn):  # not written nor read meanwhile: made again at the end
                self.conn.execute("INSERT OR REPLACE INTO deferred_indexes (name, sql) VALUES (?, ?)",
                                  (report_text.TABLE, report_text.FILL))
            rows = self.conn.execute(
                f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ({marks})",
                _DEFERRABLE,
            ).fetchall()
            for name, sql in rows:
                if not name.startswith(VIEWER_INDEX_PREFIX):
                    self.conn.execute("INSERT OR REPLACE INTO deferred_indexes (name, sql) VALUES (?, ?)", (name, sql))
                self.conn.execute(f'DROP INDEX "{name}"')
        log.info("bulk import: %d indexes deferred", len(rows))

    def recount_summaries(self) -> None:
        """Count every chart summary again from the rows, and mark again the first
        failure row of each result type in its policy (what Check Index found out of
        step, see :func:`rollups.mismatches`), in one transaction. Refused while a bulk
        import runs or has yet to count them itself."""
        if _bulk_import_elsewhere(self.path) or not rollups.ready(self.conn):
            raise IndexError_(f"an import into {self.path} is under way and counts the summaries "
                              "itself at its end: check the index again once it is done")
        with self._transaction() as conn:
            rollups.rebuild(conn)
            if rollups.has_column(conn, "failure_details", "first_of_type"):
                conn.execute("UPDATE failure_details SET first_of_type = NULL WHERE first_of_type IS NOT NULL")
                conn.execute(FIRST_OF_TYPE_FILL)

    def build_deferred_indexes(self, parsers: _Parsers | None = None) -> int:
        """Build the indexes a bulk import deferred, one transaction each, and fill its
        summaries; returns how many indexes were built.

        The summaries are computed from a snapshot on a second connection while this
        one builds the indexes: in a parser process of the import if it has them,
        else in a thread (SQLite works outside the GIL, Python's counting does not).
        """
        if not self._has_deferred():
            return 0
        names = [r[0] for r in self.conn.execute("SELECT name FROM deferred_indexes ORDER BY name")]
        pending = rollups.PENDING in names
        scratch = _scratch_file() if pending else None
        # the trigram index of report ids and sources, made in a scratch file of its own
        # by a thread (SQLite's work, outside the GIL, on the core the others leave idle)
        text_pending = report_text.TABLE in names and report_text.readable(self.conn)  # (else left for an SQLite with FTS5)
        text_scratch = _scratch_file() if text_pending else None
        state: tuple[Any, ...] | None = None
        text_state: tuple[Any, ...] | None = None
        # The index builds wait for the GIL between statements: hand it over sooner.
        switch = sys.getswitchinterval()
        sys.setswitchinterval(min(switch, 0.0005))
        try:
            wait: Callable[[], Any] | None = None
            if scratch is not None:
                wait = parsers.compute_summaries(self.path, scratch) if parsers is not None else None
                if wait is None:
                    wait = _Beside(_summaries_into, str(self.path), scratch).join_result
            text_wait = _Beside(_report_text_into, str(self.path), text_scratch).join_result if text_scratch else None
            # The rows just written, and each index once built, are in the WAL: a thread
            # copies them into the database meanwhile.
            checkpoints = _Checkpointer(str(self.path))
            checkpoints.poke()
            try:
                built = self._build_indexes([n for n in names if n not in (rollups.PENDING, report_text.TABLE)],
                                            checkpoints.poke)
            finally:
                state = wait() if wait is not None else None
                text_state = text_wait() if text_wait is not None else None
                checkpoints.stop()
        finally:
            sys.setswitchinterval(switch)
        if pending:
            self._fill_from(scratch, state, rollups.PENDING, rollups.copy_from, rollups.rebuild)
        if text_pending:
            self._fill_from(text_scratch, text_state, report_text.TABLE, report_text.copy_from, report_text.refill)
        return built

    def _fill_from(self, scratch: str | None, state: tuple[Any, ...] | None, name: str,
                   copy: Callable[[sqlite3.Connection, str], None], make: Callable[[sqlite3.Connection], None]) -> None:
        """Copy ``name`` (the summaries, the trigram index), made beside the index builds in
        ``scratch`` from rows in ``state`` (None: that failed), into the index, or ``make``
        it here if the rows changed meanwhile (another import) or that failed; then delete
        the scratch file."""
        made = scratch if state is not None else None
        try:
            if made is not None:
                try:
                    self.conn.execute("ATTACH DATABASE ? AS made", (made,))
                except sqlite3.Error:  # the scratch file is gone or unreadable: made here
                    log.warning("cannot read the %s made in %s", name, made, exc_info=True)
                    made = None
            try:
                with self._transaction():
                    if rollups.deferred(self.conn, name):
                        if made is not None and state == _row_state(self.conn):
                            copy(self.conn, "made")
                        else:
                            make(self.conn)
                        self.conn.execute("DELETE FROM deferred_indexes WHERE name = ?", (name,))
            finally:
                if made is not None:
                    self.conn.execute("DETACH DATABASE made")
        finally:
            if scratch is not None:
                with suppress(OSError):
                    os.unlink(scratch)

    def _build_indexes(self, names: list[str], built_one: Callable[[], None]) -> int:
        built = 0
        for name in names:
            built_one()
            with self._transaction():
                row = self.conn.execute("SELECT sql FROM deferred_indexes WHERE name = ?", (name,)).fetchone()
                if row is None:  # another process built it meanwhile
                    continue
                exists = self.conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?", (name,)).fetchone()
                if exists is None:
                    self.conn.execute(row[0])
                    built += 1
                self.conn.execute("DELETE FROM deferred_indexes WHERE name = ?", (name,))
        return built

    def _start_run(self, paths: Sequence[str | os.PathLike[str]]) -> int:
        with self._transaction():
            cur = self.conn.execute(
                "INSERT INTO import_runs (started_at, paths) VALUES (?, ?)",
                (time.time(), json.dumps([os.fspath(p) for p in paths])),
            )
        return int(cur.lastrowid or 0)

    def _finish_run(self, run_id: int, result: ImportResult, status: str | None = None) -> None:
        status = status or ("cancelled" if result.cancelled else "done")
        with self._transaction():
            self.conn.execute(
                "UPDATE import_runs SET finished_at = ?, imported = ?, duplicates = ?, skipped = ?, failed = ?, status = ? WHERE id = ?",
                (time.time(), result.imported, result.duplicates, len(result.skipped), len(result.failed), status, run_id),
            )

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise IndexError_(_db_reason(self.path, exc)) from exc
        try:
            yield self.conn
        except sqlite3.DatabaseError as exc:  # disk full, page limit, I/O error: say so plainly
            self._rollback_quietly()
            raise IndexError_(_db_reason(self.path, exc)) from exc
        except BaseException:
            self._rollback_quietly()
            raise
        else:
            try:
                self.conn.commit()
            except sqlite3.DatabaseError as exc:
                self._rollback_quietly()
                raise IndexError_(_db_reason(self.path, exc)) from exc

    def _rollback_quietly(self) -> None:
        try:
            self.conn.rollback()
        except sqlite3.Error:  # the rollback of a failed write can fail too; SQLite recovers on open
            log.warning("rollback failed on %s", self.path, exc_info=True)

    def _insert_source(self, run_id: int, path: str, member: str, size: int, sha: str, now: float, outcome: str, reason: str, report_row: int | None) -> None:
        self.conn.execute(
            "INSERT INTO sources (run_id, path, member, size, sha256, imported_at, outcome, reason, report_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (run_id, path, member, size, sha, now, outcome, reason, report_row),
        )

    # ------------------------------------------------------------------ queries

    def totals(self) -> Totals:
        # One small query each: SQLite answers COUNT(*), MIN, MAX and a DISTINCT over
        # an indexed column from the index alone, and the session sums come from a
        # summary table; summed together in one query they would read every row.
        def one(sql: str) -> Any:
            return self.conn.execute(sql).fetchone()[0]

        from_rows = "SELECT COALESCE(SUM(successful_sessions), 0), COALESCE(SUM(failed_sessions), 0) FROM reports"
        if not rollups.ready(self.conn):  # a bulk import has yet to fill the summaries
            sums = rollups.summed(self.conn, from_rows)[0]
        else:
            try:
                sums = rollups.summed(self.conn, "SELECT COALESCE(SUM(successful), 0), COALESCE(SUM(failed), 0) FROM roll_domain")[0]
            except sqlite3.OperationalError:  # an older schema, read-only
                sums = rollups.summed(self.conn, from_rows)[0]
        return Totals(
            reports=int(one("SELECT COUNT(*) FROM reports")),
            policies=int(one("SELECT COUNT(*) FROM policies")),
            failure_details=int(one("SELECT COUNT(*) FROM failure_details")),
            successful_sessions=int(sums[0]), failed_sessions=int(sums[1]),
            reporters=int(one("SELECT COUNT(DISTINCT organization_name) FROM reports")),
            policy_domains=int(one("SELECT COUNT(DISTINCT policy_domain) FROM policies")),
            first_day=one("SELECT MIN(start_ts) FROM reports"), last_day=one("SELECT MAX(start_ts) FROM reports"),
            failed_inputs=self._not_imported("failed"),
            skipped_inputs=self._not_imported("skipped"),
        )

    def _not_imported(self, outcome: str) -> int:
        """The inputs whose last outcome was ``outcome`` (see _NOT_IMPORTED_SQL): exact when
        there are few such rows and the index to check each against is there (it is not
        during a bulk import), else the rows themselves (a count, as cheap as it gets).
        Hidden files passed over are not counted: every .DS_Store or .git of a folder
        would be "not imported" for good (the Import log lists them)."""
        rows = int(self.conn.execute("SELECT COUNT(*) FROM sources WHERE outcome = ? AND reason NOT IN (?, ?)",
                                     (outcome, *PASSED_OVER)).fetchone()[0])
        if not rows or rows > NOT_IMPORTED_EXACT_ROWS:
            return rows
        if self.conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'sources_path'").fetchone() is None:
            return rows
        return int(self.conn.execute(_NOT_IMPORTED_SQL.format(outcome=outcome), PASSED_OVER).fetchone()[0])

    def raw_json(self, report_row: int) -> bytes | None:
        row = self.conn.execute("SELECT encoding, raw FROM report_raw WHERE report_id = ?", (report_row,)).fetchone()
        if row is None:
            return None
        encoding, raw = row
        if encoding == "zlib":
            return zlib.decompress(raw)
        if encoding == "gzip":
            return gzip.decompress(raw)
        return bytes(raw)

    def rows(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        cur = self.conn.cursor()
        cur.row_factory = sqlite3.Row
        return list(cur.execute(sql, tuple(params)))


#: a report row as the writer inserts it
_REPORT_COLUMNS: Final = ("id", "organization_name", "report_id", "dedupe_key", "contact_info", "start_ts", "end_ts",
                          "policy_domains", "policy_count", "successful_sessions", "failed_sessions",
                          "failure_detail_count", "diagnostic_count", "worst_severity", "source_path", "source_member",
                          "imported_at")
_REPORT_SQL: Final = (f"INSERT INTO reports ({', '.join(_REPORT_COLUMNS)}) VALUES ({', '.join('?' * len(_REPORT_COLUMNS))}) "
                      "ON CONFLICT (organization_name, dedupe_key) DO NOTHING")
#: what the trigram index keeps of a report row (see report_text.text_of)
_REPORT_TEXT: Final = operator.itemgetter(*(_REPORT_COLUMNS.index(c) for c in ("report_id", "source_path", "source_member")))
_POLICY_SQL: Final = """INSERT INTO policies (id, report_id, idx, policy_type, policy_domain, policy_domain_source,
       policy_strings, mx_hosts, sts_mode, successful_sessions, failed_sessions, organization_name, start_ts, end_ts,
       failure_detail_count)
   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"""
#: before schema 6 (only in migration tests): no count of failure rows
_POLICY_SQL_V5: Final = """INSERT INTO policies (id, report_id, idx, policy_type, policy_domain, policy_domain_source,
       policy_strings, mx_hosts, sts_mode, successful_sessions, failed_sessions, organization_name, start_ts, end_ts)
   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"""
#: the columns of a failure row the writer inserts, in the order of its rows' values;
#: older schemas (only in migration tests) lack the last ones
_DETAIL_COLUMNS: Final = ("report_id", "policy_id", "result_type", "sending_mta_ip", "receiving_mx_hostname",
                          "receiving_mx_helo", "receiving_ip", "failed_session_count", "failure_reason_code",
                          "additional_information", "policy_domain", "policy_type", "organization_name", "start_ts",
                          "sts_mode", "policy_successful", "policy_failed", "first_of_type")


def _detail_sql(n: int) -> str:
    """The insert of the first ``n`` of _DETAIL_COLUMNS."""
    return (f"INSERT INTO failure_details ({', '.join(_DETAIL_COLUMNS[:n])}) "
            f"VALUES ({', '.join('?' * n)})")


_DETAIL_SQL: Final = _detail_sql(len(_DETAIL_COLUMNS))
#: schemas 3 to 6: no mark of the first row of each result type
_DETAIL_SQL_V6: Final = _detail_sql(len(_DETAIL_COLUMNS) - 1)
#: before schema 3: no policy mode and session counts either
_DETAIL_SQL_V2: Final = _detail_sql(len(_DETAIL_COLUMNS) - 4)
_SOURCE_SQL: Final = """INSERT INTO sources (run_id, path, member, size, sha256, imported_at, outcome, reason, report_id)
   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"""


def _columns(insert_sql: str) -> tuple[str, ...]:
    return tuple(c.strip() for c in insert_sql[insert_sql.index("(") + 1 : insert_sql.index(")")].split(","))


#: the columns of the rows the writer inserts, for the summaries it counts from them
_TALLY_COLUMNS: Final = {"reports": _columns(_REPORT_SQL), "policies": _columns(_POLICY_SQL),
                         "failure_details": _DETAIL_COLUMNS}


class _BatchWriter:
    """Collects parsed items and writes them in transactions of ``batch_size`` reports
    (in the importing process, or in a parser process of a bulk import: _write_group).

    Row ids are assigned here, in the transaction, so each table is written with one ``executemany``;
    a report whose (organization, report-id) is already indexed is ignored by
    SQLite and counted as a duplicate.
    """

    def __init__(self, index: Index, run_id: int, result: ImportResult, batch_size: int = BATCH_SIZE,
                 max_rows: int | None = None) -> None:
        self.index = index
        self.run_id = run_id
        self.result = result
        #: a batch ends at this many items, or at max_rows policy and failure rows
        self.batch_size = batch_size
        self.max_rows = BATCH_ROWS if max_rows is None else max_rows
        #: older schemas (made only by the migration tests) have no summaries
        self.summaries = index.schema_version >= 3
        self.policy_counts = index.schema_version >= 6
        self.first_of_type = index.schema_version >= 7
        #: the index has a trigram index of report ids and sources (report_text.py), and
        #: whether this SQLite can write it
        self.report_text = self.policy_counts and report_text.exists(index.conn)
        self.report_text_writable = self.report_text and report_text.readable(index.conn)
        #: called after each committed batch
        self.committed: Callable[[], None] | None = None
        self.pending: list[_Parsed] = []
        #: the policy and failure rows of the pending items (see BATCH_ROWS)
        self.pending_rows = 0

    def add(self, items: list[_Parsed]) -> None:
        if self.hold(items):
            self.flush()

    def hold(self, items: list[_Parsed]) -> bool:
        """Add ``items`` to the pending batch; True once it is full."""
        self.pending.extend(items)
        self.pending_rows += sum(1 + len(details) for item in items for _, details in item.policies)
        return len(self.pending) >= self.batch_size or self.pending_rows >= self.max_rows

    def flush(self) -> None:
        if not self.pending:
            return
        batch, self.pending, self.pending_rows = self.pending, [], 0
        conn = self.index.conn
        # Every reference the writer makes points at a row it has just written, and every
        # outcome is one of its own words: SQLite's checks of both cost a fifth of the writes.
        conn.execute("PRAGMA foreign_keys = OFF")
        conn.execute("PRAGMA ignore_check_constraints = ON")
        try:
            self._write_storable(batch)
        finally:
            try:
                conn.execute("PRAGMA foreign_keys = ON")
                conn.execute("PRAGMA ignore_check_constraints = OFF")
            except sqlite3.Error:  # the connection is gone; the settings go with it
                pass

    def _write_storable(self, batch: list[_Parsed]) -> None:
        """Write ``batch``; if a value in it is one SQLite cannot take (text that is not
        valid Unicode, such as a lone surrogate escape in a report or a file name in
        another encoding; a sum past 64 bits), find the items that hold one, by halves,
        and write them as :func:`_storable` makes them: the rest is written as usual."""
        try:
            self._write(batch)
        except _UNSTORABLE:
            if len(batch) > 1:
                half = len(batch) // 2
                self._write_storable(batch[:half])
                self._write_storable(batch[half:])
                return
            try:
                self._write([_storable(batch[0])])
            except _UNSTORABLE as exc:  # (not seen: every value is made storable)
                log.error("cannot store %s", _valid_text(batch[0].label), exc_info=exc)
                self._write([_failed(_valid_text(batch[0].path), f"it holds a value the index cannot store ({type(exc).__name__})",
                                     _valid_text(batch[0].member))])

    def _write(self, batch: list[_Parsed]) -> None:
        now = time.time()
        conn = self.index.conn
        with self.index._transaction():
            # A newer version may have upgraded the index since it was opened here: rows
            # written as this one writes them would lack what the newer schema keeps beside
            # them (a policy's count of failure rows, the trigram index), and its searches
            # and filters would miss them. Asked in the write transaction, so it holds.
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            if version > SCHEMA_VERSION:
                raise IndexError_(f"the index {self.index.path} was upgraded by a newer tlsrpt-gui while this import "
                                  f"ran (schema {version}, this one writes {SCHEMA_VERSION}): nothing more was "
                                  "written; import with the newer version")
            next_report = int(conn.execute("SELECT COALESCE(MAX(id), 0) FROM reports").fetchone()[0]) + 1
            next_policy = int(conn.execute("SELECT COALESCE(MAX(id), 0) FROM policies").fetchone()[0]) + 1
            first_report = next_report
            ids: list[int | None] = []
            report_rows: list[tuple[Any, ...]] = []
            for parsed in batch:
                if parsed.report_row is None:
                    ids.append(None)
                    continue
                ids.append(next_report)
                report_rows.append((next_report, *parsed.report_row, now))
                next_report += 1
            if report_rows:
                conn.executemany(_REPORT_SQL, report_rows)
            inserted = {r[0] for r in conn.execute("SELECT id FROM reports WHERE id >= ?", (first_report,))}
            raw_rows: list[tuple[Any, ...]] = []
            policy_rows: list[tuple[Any, ...]] = []
            detail_rows: list[tuple[Any, ...]] = []
            diag_rows: list[tuple[Any, ...]] = []
            source_rows: list[tuple[Any, ...]] = []
            done = ImportResult()
            skipped, failed = done.skipped, done.failed
            run = self.run_id
            for rid, parsed in zip(ids, batch, strict=True):
                head = (run, parsed.path, parsed.member, parsed.size, parsed.sha256, now)
                if rid is None:
                    (skipped if parsed.outcome == "skipped" else failed).append((parsed.label, parsed.reason))
                    source_rows.append((*head, "skipped" if parsed.outcome == "skipped" else "failed", parsed.reason, None))
                    continue
                if rid not in inserted:
                    done.duplicates += 1
                    source_rows.append((*head, "duplicate", "already in the index", None))
                    continue
                done.imported += 1
                source_rows.append((*head, "imported", "", rid))
                assert parsed.raw is not None
                raw_rows.append((rid, *parsed.raw))
                for prow, details in parsed.policies:
                    pid = next_policy
                    next_policy += 1
                    policy_rows.append((pid, rid, *prow))
                    detail_rows.extend((rid, pid, *d) for d in details)
                diag_rows.extend((rid, *d) for d in parsed.diagnostics)
            conn.executemany("INSERT INTO report_raw (report_id, encoding, raw) VALUES (?, ?, ?)", raw_rows)
            if self.report_text and not rollups.deferred(conn, report_text.TABLE):  # (else a bulk import fills it at its end)
                if self.report_text_writable:
                    text_of, text = report_text.text_of, _REPORT_TEXT
                    conn.executemany(report_text.INSERT, [(r[0], text_of(*text(r))) for r in report_rows if r[0] in inserted])
                else:  # made where SQLite has FTS5: filled again there (see build_deferred_indexes)
                    conn.execute("INSERT INTO deferred_indexes (name, sql) VALUES (?, ?)",
                                 (report_text.TABLE, report_text.FILL))
            if self.policy_counts:
                conn.executemany(_POLICY_SQL, policy_rows)
            else:
                conn.executemany(_POLICY_SQL_V5, [r[:-1] for r in policy_rows])
            if not self.summaries:  # an old schema: no policy columns on failure rows either
                conn.executemany(_DETAIL_SQL_V2, [r[:-4] for r in detail_rows])
            else:
                if self.first_of_type:
                    conn.executemany(_DETAIL_SQL, detail_rows)
                else:  # (before schema 7)
                    conn.executemany(_DETAIL_SQL_V6, [r[:-1] for r in detail_rows])
                if rollups.ready(conn):  # else a bulk import fills them at the end
                    tally = rollups.Tally(_TALLY_COLUMNS)
                    tally.add("reports", report_rows if len(inserted) == len(report_rows) else
                              [r for r in report_rows if r[0] in inserted])
                    tally.add("policies", policy_rows)
                    tally.add("failure_details", detail_rows)
                    tally.write(conn)
            conn.executemany("INSERT INTO diagnostics (report_id, severity, code, message, path) VALUES (?, ?, ?, ?, ?)", diag_rows)
            conn.executemany(_SOURCE_SQL, source_rows)
        if self.committed is not None:
            self.committed()
        self.result.add(done)  # counted only once the batch is committed


#: the inputs (file, and member of it) whose last outcome was ``outcome``: one tried
#: again counts once, and one imported since not at all
_NOT_IMPORTED_SQL: Final = """SELECT COUNT(*) FROM (SELECT DISTINCT path, member FROM sources s WHERE s.outcome = '{outcome}'
    AND s.reason NOT IN (?, ?)
    AND NOT EXISTS (SELECT 1 FROM sources t WHERE t.path = s.path AND t.member = s.member AND t.id > s.id
                    AND t.outcome != s.outcome))"""
#: the reasons of hidden entries of a folder, passed over (not counted as not imported)
PASSED_OVER: Final = (HIDDEN_FILE, HIDDEN_FOLDER)
#: past this many rows of one outcome, "inputs not imported" counts rows, not inputs (the
#: exact count checks each against the later rows of its input: a whole mailbox skipped
#: would cost a second at every refresh)
NOT_IMPORTED_EXACT_ROWS: Final = 20_000
#: what SQLite's Python binding raises for a value it cannot store
_UNSTORABLE: Final = (UnicodeEncodeError, OverflowError)
_INT64_MAX: Final = 2**63 - 1
#: the note on a report some of whose text or numbers :func:`_storable` changed
_NOTE_UNSTORABLE: Final = (
    "warning", "text-not-unicode",
    "Some text of this report (or its file name) is not valid Unicode, such as a lone surrogate escape "
    "(RFC 7493 forbids them), or a sum of its sessions is past 64 bits: the index has it with replacement "
    "characters (\ufffd), or the sum as an approximate number. The kept raw report has it as sent.", "",
)


def _valid_text(text: str) -> str:
    """``text`` with what is not valid Unicode replaced by U+FFFD: the bytes of a file name
    in another encoding (Python's surrogate escapes), and lone surrogates."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def _storable_value(value: Any) -> Any:
    if isinstance(value, str):
        return _valid_text(value)
    if isinstance(value, int) and not isinstance(value, bool) and value > _INT64_MAX:
        return float(value)  # as SQLite's own "+" stores a sum past 64 bits
    if isinstance(value, (tuple, list)):
        return type(value)(map(_storable_value, value))
    return value


def _storable(parsed: _Parsed) -> _Parsed:
    """An item whose every value SQLite can store (see _BatchWriter._write_storable),
    noting on a report that something was replaced."""
    fixed = _Parsed(*(v if isinstance(v, bytes) else _storable_value(v) for v in parsed))
    if fixed.report_row is not None and repr(fixed) != repr(parsed):  # (2**64 == float(2**64))
        row = list(fixed.report_row)
        row[11] += 1  # (the report's count of diagnostics, and their highest severity)
        row[12] = "error" if row[12] == "error" else "warning"
        fixed = fixed._replace(report_row=tuple(row), diagnostics=(*fixed.diagnostics, _NOTE_UNSTORABLE))
    return fixed


def _row_state(conn: sqlite3.Connection) -> tuple[Any, ...]:
    """What the summaries are computed from, in brief: rows and highest id per table."""
    return tuple(conn.execute(f"SELECT COUNT(*), MAX(id) FROM {table}").fetchone()
                 for table in ("reports", "policies", "failure_details"))


def _scratch_file() -> str | None:
    """A new, empty scratch file for the summaries a bulk import computes beside its
    index builds (None if there is nowhere to put one: the writer computes them)."""
    try:
        fd, path = tempfile.mkstemp(prefix="tlsrpt-summaries-", suffix=".sqlite3")
    except OSError:
        return None
    os.close(fd)
    return path


def _open_scratch(scratch: str) -> sqlite3.Connection:
    """The scratch database ``scratch`` (see _scratch_file), unjournalled, opened by URI
    so that an ATTACH of the index by URI works where SQLite takes URIs only when asked."""
    out = sqlite3.connect(Path(scratch).resolve().as_uri(), uri=True)
    try:
        out.execute("PRAGMA journal_mode = OFF")
        out.execute("PRAGMA synchronous = OFF")
    except BaseException:
        out.close()
        raise
    return out


def _summaries_into(path: str, scratch: str) -> tuple[Any, ...]:
    """Compute the summaries of the index at ``path``, from one snapshot, into the
    scratch database ``scratch``; returns the rows' state in that snapshot. Runs in a
    parser process or a thread; its memory is bounded (see rollups.compute_into)."""
    src = sqlite3.connect(Path(path).resolve().as_uri() + "?mode=ro", uri=True)
    try:
        out = _open_scratch(scratch)
    except BaseException:
        src.close()
        raise
    try:
        out.executescript(rollups.SCHEMA)
        src.execute("BEGIN")  # one snapshot for the state and the sums
        state = _row_state(src)
        rollups.compute_into(src, out)
        out.commit()
        return state
    finally:
        src.close()
        out.close()


def _report_text_into(path: str, scratch: str) -> tuple[Any, ...] | None:
    """Make the trigram index of the index at ``path``'s reports, from one snapshot, in the
    scratch database ``scratch``; returns the rows' state in that snapshot (None if this
    SQLite cannot make it). Runs in a thread beside the index builds."""
    out = _open_scratch(scratch)
    try:
        if not report_text.create(out):
            return None
        # (the scratch file has no row tables: their names are the index's)
        out.execute("ATTACH DATABASE ? AS src", (Path(path).resolve().as_uri() + "?mode=ro",))
        out.execute("BEGIN")  # one snapshot for the state and the text
        state = _row_state(out)
        out.execute(report_text.FILL)
        out.commit()
        return state
    finally:
        out.close()


class _Checkpointer(threading.Thread):
    """Copies the WAL into the database after each batch of a bulk import, on its own
    connection (PASSIVE: it never blocks the writer, nor waits for it)."""

    def __init__(self, path: str) -> None:
        super().__init__(name="tlsrpt-checkpoints", daemon=True)
        self.path = path
        self._wake = threading.Event()
        self._stopping = False
        self.start()

    def poke(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        if self.is_alive():
            self._stopping = True
            self._wake.set()
            self.join()

    def run(self) -> None:
        try:
            conn = sqlite3.connect(self.path)
        except sqlite3.Error:  # the writer's autocheckpoint does it instead
            log.warning("no checkpoint connection", exc_info=True)
            return
        try:
            while True:
                self._wake.wait()
                self._wake.clear()
                if self._stopping:
                    return
                with suppress(sqlite3.OperationalError):  # busy: another checkpoint runs; next time
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            conn.close()


class _Beside(threading.Thread):
    """Work on a second connection to the index, in a thread, while the writer goes on
    (SQLite runs outside the GIL). A failure is logged, and the result is None."""

    def __init__(self, work: Callable[..., Any], *args: Any) -> None:
        super().__init__(name=f"tlsrpt-{work.__name__.strip('_')}", daemon=True)
        self.work, self.args = work, args
        self.result: Any = None
        self.start()

    def run(self) -> None:
        try:
            self.result = self.work(*self.args)
        except Exception:  # the writer does without, or does it itself
            log.warning("%s on a second connection failed", self.work.__name__, exc_info=True)

    def join_result(self) -> Any:
        self.join()
        return self.result


class _Parsers:
    """The parser processes of one import: a pool when there are many files, else none
    (starting processes would cost more than it saves). In a bulk import they also
    write what they parse (:meth:`write`); else they send it to the importing process
    to write (:meth:`load`). Unless they were forked from this process with its index
    open (the parsers that only read), the pool also computes a bulk import's summaries
    at the end, beside the index builds, free of this process's GIL."""

    def __init__(self, workers: int | None, n_files: int, weights: list[int] | None = None,
                 writes: tuple[Index, int] | None = None) -> None:
        """``weights``: each file's (see FILE_WEIGHT_BYTES), which then shares them out;
        None: each weighs one. ``writes``: the index and import run that the parser
        processes write to themselves (see :meth:`write`), in a bulk import."""
        from concurrent.futures.process import BrokenProcessPool

        n = workers if workers is not None else (os.cpu_count() or 1)
        self.workers = n
        self.pool: concurrent.futures.ProcessPoolExecutor | None = None
        self.method = ""
        #: the parser processes write their groups themselves (see write)
        self.writes = False
        self._pending: list[tuple[list[str], concurrent.futures.Future[ImportResult]]] = []
        #: set to have the writing parser processes start no more groups (stop_writing)
        self._stop: Any = None
        #: set by a writing parser process whose reads wait for the disk (reads_wait)
        self._waited: Any = None
        self.weights = weights
        #: the files' weight in all
        self.weight = n_files if weights is None else sum(weights)
        if n > 1 and n_files > 1 and self.weight >= 1000:
            self.method = method = _start_method()
            try:
                if writes is not None:
                    self.pool = self._writing_pool(n, *writes)
                    self.writes = True
                else:
                    self.pool = self._start(n, method)
            except (OSError, ValueError, BrokenProcessPool):
                log.info("no parser processes; parsing in this one", exc_info=True)
                if self.pool is not None:
                    self.pool.shutdown(wait=False, cancel_futures=True)
                self.pool = None
                self.writes = False

    def _writing_pool(self, n: int, index: Index, run_id: int) -> concurrent.futures.ProcessPoolExecutor:
        """Parser processes that write to ``index``. A process that has an SQLite database
        open must not be forked by one that goes on to use it too
        (https://sqlite.org/howtocorrupt.html, 2.6): this process closes its connection
        for the fork and opens it again; if something else in it still has the file
        open, they start from a fork server instead, which never opens it."""
        writes = (str(index.path), run_id, index.timeout)
        if self.method == "fork":
            index.conn.close()
            try:
                if not _opened_here(index.path):
                    return self._start(n, "fork", writes)
            finally:
                index._reconnect()
            self.method = "forkserver"
        return self._start(n, self.method, writes)

    def _start(self, n: int, method: str, writes: tuple[str, int, float] | None = None) -> concurrent.futures.ProcessPoolExecutor:
        """``n`` parser processes started by ``method``; with ``writes`` (index path, import
        run, timeout), processes that write to the index (see _start_writer), which
        :meth:`stop_writing` stops through ``self._stop``."""
        import concurrent.futures

        context = _parser_context(method)
        if writes is None:
            pool = concurrent.futures.ProcessPoolExecutor(max_workers=n, mp_context=context, initializer=_die_with_importer,
                                                          initargs=(os.getpid(),))
        else:
            self._stop = context.Event()
            self._waited = context.Event()
            pool = concurrent.futures.ProcessPoolExecutor(
                max_workers=n, mp_context=context, initializer=_start_writer,
                initargs=(*writes, context.Lock(), self._stop, self._waited, os.getpid()))
        if method == "fork":  # fork them now, while this process has one thread
            pool.submit(int).result()
        return pool

    def load(self, files: FileList | list[str], limits: Limits, ahead: int = 2 * BULK_BATCH_SIZE) -> Iterator[tuple[str, list[_Parsed]]]:
        """Parse files, yielding in order. Up to ``ahead`` files are parsed ahead of the
        caller: two of its batches, so the parsers keep working while it writes one."""
        if self.pool is None:
            for path in files:
                yield path, _load_safely(path, limits)
            return

        chunk = 128
        window = max(self.workers * 4, ahead // chunk)
        spans = list(_spans(len(files), chunk, self.weights))
        k = 0  # the next span to hand out
        pool: concurrent.futures.ProcessPoolExecutor | None = self.pool
        futures: list[tuple[list[str], concurrent.futures.Future[list[list[_Parsed]]]]] = []
        try:
            while pool is not None and (k < len(spans) or futures):
                try:
                    while k < len(spans) and len(futures) < window:
                        group = files[slice(*spans[k])]
                        futures.append((group, pool.submit(_load_group, group, limits)))
                        k += 1
                except RuntimeError:  # the pool broke while submitting: parse the rest here
                    pool = None
                    break
                group, fut = futures.pop(0)
                try:
                    results = fut.result()
                except Exception:  # a worker died: read this group here instead
                    log.warning("a parser process failed; reading %d file(s) in the main process", len(group), exc_info=True)
                    results = [_load_safely(p, limits) for p in group]
                yield from zip(group, results, strict=True)
            for group, fut in futures:  # what was submitted to a broken pool
                fut.cancel()
                for p in group:
                    yield p, _load_safely(p, limits)
            futures = []
            for p in files[spans[k][0] if k < len(spans) else len(files):]:
                yield p, _load_safely(p, limits)
        finally:
            for _, fut in futures:
                fut.cancel()

    def write(self, files: FileList | list[str], limits: Limits,
              live: bool = False) -> Iterator[tuple[list[str], ImportResult | None]]:
        """Have the parser processes read, parse and write ``files``, a group of files
        to a transaction; yields each group, in order, with what became of its files, or
        None if its parser process failed (before or after it committed the group: see
        Index._committed_in_run). ``live``: the secondary indexes are in place, so the
        groups are larger (WRITE_GROUP_LIVE_SHARE). An index that cannot be written raises IndexError_.
        See also :meth:`stop_writing`."""

        assert self.pool is not None and self.writes
        window = self.workers * 4  # each process has groups to write while it parses the next
        # Groups of 512 files at 20,000 files (9 % faster than the importing process
        # writing, in interleaved runs), of 2,048 from 131,072 files up (at 200,000 files,
        # 5 % faster; groups of 512 were not: a connection reads again each page it needs
        # after another process wrote, and in larger groups it does so less often).
        chunk = min(WRITE_GROUP_FILES_MAX, max(WRITE_GROUP_FILES, self.weight // (WRITE_GROUP_LIVE_SHARE if live else 64)))
        spans = list(_spans(len(files), chunk, self.weights))
        k = 0  # the next span to hand out
        pool: concurrent.futures.ProcessPoolExecutor | None = self.pool
        pending = self._pending
        while k < len(spans) or pending:
            try:
                while pool is not None and k < len(spans) and len(pending) < window:
                    group = files[slice(*spans[k])]
                    pending.append((group, pool.submit(_write_group, group, limits, BATCH_ROWS)))
                    k += 1
            except RuntimeError:  # the pool broke while submitting: the rest falls to the caller
                pool = None
            if not pending:
                group = files[slice(*spans[k])]
                k += 1
                yield group, None
                continue
            group, fut = pending[0]
            written = self._written(group, fut)
            del pending[0]
            yield group, written

    def reads_wait(self) -> bool:
        """True once a writing parser process found that its reads wait for the disk
        (the importing process then reads ahead of them: core/readahead.py)."""
        return self._waited is not None and bool(self._waited.is_set())

    def stop_writing(self) -> list[ImportResult]:
        """For a cancelled import: start no more groups, wait for those being written,
        and return what became of their files. A group its process had not begun to
        write when told to stop is left alone (nothing of it counts)."""
        if self._stop is not None:
            self._stop.set()
        done = []
        for group, fut in self._pending:
            if not fut.cancel():
                written = self._written(group, fut)
                if written is not None:
                    done.append(written)
        self._pending.clear()
        return done

    @staticmethod
    def _written(group: list[str], fut: concurrent.futures.Future[ImportResult]) -> ImportResult | None:
        try:
            return fut.result()
        except IndexError_:
            raise
        except Exception:  # the process died, or a bug: the caller reads this group itself
            log.warning("a parser process failed; reading %d file(s) in the main process", len(group), exc_info=True)
            return None

    def compute_summaries(self, path: Path, scratch: str) -> Callable[[], tuple[Any, ...] | None] | None:
        """Start computing an index's summaries into ``scratch`` in a parser process;
        returns a function that waits for the rows' state (None if that failed), or
        None without a pool, or when the processes were forked from this one with the
        index open: a fork carries this process's SQLite connection along, and SQLite
        must not be used in such a child (https://sqlite.org/howtocorrupt.html, 2.6).
        Parsers that write were forked with it closed (see _writing_pool), and open
        their own; there, the summaries beside the index builds took a sixth less time
        than in a thread of this process, whose GIL the builds wait for."""
        if self.pool is None or (self.method == "fork" and not self.writes):
            return None
        try:
            fut = self.pool.submit(_summaries_into, str(path), scratch)
        except RuntimeError:  # the pool is broken
            return None

        def result() -> tuple[Any, ...] | None:
            try:
                return fut.result()
            except Exception:  # the writer computes them itself
                log.warning("could not compute the summaries in a parser process", exc_info=True)
                return None

        return result

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None


def _start_method() -> str:
    """How to start parser processes. A fork starts at once, with the parser loaded,
    but is safe only from a process that runs one thread (the command line), and its
    children must not use an SQLite database this process has open (see
    _Parsers._writing_pool and compute_summaries); the window, with its threads, uses
    a fork server. Windows and macOS spawn."""
    if sys.platform == "linux":
        try:
            alone = len(os.listdir("/proc/self/task")) == 1  # every thread, Qt's too
        except OSError:
            alone = False
        return "fork" if alone else "forkserver"
    return "spawn"


def _parser_context(method: str) -> Any:
    """The multiprocessing context that starts parser processes by ``method``; a fork
    server's children start with the parser loaded."""
    import multiprocessing

    context = multiprocessing.get_context(method)
    if method == "forkserver":
        context.set_forkserver_preload([__name__])
    return context


def start_parser_server() -> bool:
    """Start the fork server that a process with threads (the window) starts a bulk
    import's parser processes from (see _start_method), with the parser loaded, ahead of
    its first bulk import; True if one runs. Started by that import, it took 0.2 s of
    each first import's time (20,000 files: the first group written at 0.46 s, not
    0.25 s). It returns at once: the server starts in its own process."""
    if _start_method() != "forkserver":
        return False
    import multiprocessing.forkserver

    _parser_context("forkserver")
    try:
        multiprocessing.forkserver.ensure_running()
    except (OSError, ValueError):  # the import starts one, or parses in its own process
        log.info("could not start the parser processes' fork server", exc_info=True)
        return False
    return True


def _lock_file(path: Path) -> str:
    return str(path) + ".import-lock"


def _hold_bulk_import_lock(path: Path) -> int | None:
    """Lock the index's ``.import-lock`` file for a bulk import (until :func:`_release`):
    other processes opening the index then leave the indexes and summaries it deferred to
    it (see _bulk_import_elsewhere). The system releases it if the process dies, and the
    next open builds them. None where there is no such lock, or another import has it."""
    try:
        import fcntl
    except ImportError:  # (not on Windows: there, an open builds them, as before)
        return None
    try:
        fd = os.open(_lock_file(path), os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:  # another bulk import holds it: it builds at its end too
        os.close(fd)
        return None
    return fd


def _release(lock: int | None) -> None:
    if lock is not None:
        with suppress(OSError):
            os.close(lock)


def _bulk_import_elsewhere(path: Path) -> bool:
    """True while a bulk import of the index at ``path`` runs (see _hold_bulk_import_lock)."""
    try:
        import fcntl
    except ImportError:
        return False
    try:
        fd = os.open(_lock_file(path), os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError:  # no bulk import ever ran here
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        os.close(fd)
    return False


def _opened_here(path: Path) -> bool:
    """Whether this process has the database file ``path``, its WAL or its shared memory
    open (read from /proc; True where that cannot be read)."""
    names = {os.path.realpath(path) + suffix for suffix in ("", "-wal", "-shm", "-journal")}
    try:
        fds = os.listdir("/proc/self/fd")
    except OSError:
        return True
    for fd in fds:
        try:
            if os.readlink(f"/proc/self/fd/{fd}") in names:
                return True
        except OSError:  # closed meanwhile (the listing's own descriptor)
            continue
    return False


#: in a parser process of a bulk import: its connection to the index, the import run,
#: the lock that lets one parser process write at a time, the importing process's id,
#: the event that cancels the groups not yet written, and the one it sets once its reads
#: wait for the disk
_WRITER: tuple[Index, int, Any, int, Any, Any] | None = None


def _die_with_importer(importer: int) -> None:
    """Have this parser process end when the importing process ``importer`` does, as by
    ``kill -9``: it would read on alone, or write. (The pool's initializer, or part of it.)

    A forked process is killed with its parent (Linux's parent-death signal). One started
    by a fork server has that server as its parent, which lives on while its children
    hold its pipe: a thread looks every half second whether the importer still runs."""
    if sys.platform == "linux" and os.getppid() == importer:
        import ctypes

        with suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    if not _runs(importer):  # it ended before that took hold
        os._exit(1)
    threading.Thread(target=_watch_importer, args=(importer,), name="tlsrpt-importer-watch", daemon=True).start()


def _watch_importer(importer: int) -> None:
    while _runs(importer):
        time.sleep(0.5)
    os._exit(1)


def _runs(pid: int) -> bool:
    """True while process ``pid`` runs (not once it is gone, or a zombie awaiting its parent)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # (someone else's process took its number)
        return False
    if sys.platform == "linux":
        try:
            with open(f"/proc/{pid}/stat", "rb") as fh:
                return fh.read().rsplit(b")", 1)[1].split()[0] not in (b"Z", b"X")
        except (OSError, IndexError):
            return False
    return True


def _start_writer(path: str, run_id: int, timeout: float, lock: Any, stop: Any, waited: Any, importer: int) -> None:
    """Set up a parser process of a bulk import (the pool's initializer); ``lock`` lets
    one write at a time, ``stop`` (an event) cancels the groups not yet written, and the
    process sets ``waited`` (an event) once its reads wait for the disk (see _Parsers.reads_wait)."""
    global _WRITER
    _die_with_importer(importer)
    _WRITER = (Index._for_parser(path, timeout), run_id, lock, importer, stop, waited)


def _write_group(paths: list[str], limits: Limits, max_rows: int = BATCH_ROWS) -> ImportResult:
    """Read, parse and write a group of files, in a parser process of a bulk import, as
    the importing process would (see _BatchWriter); returns what became of them. Nothing
    of the rows crosses between processes: sending them cost the parsers a sixth of their
    time and the importing process two fifths of its own.

    The group is one transaction, or more once its files hold ``max_rows`` policy and
    failure rows (a file's items are always in one): a process holds what it has parsed
    and not written, and groups of 2,048 files of 100 failure rows each took a parser
    process to 178 MB. Each file's ``sources`` rows say whether it was written (see
    Index._committed_in_run)."""
    assert _WRITER is not None, "not a parser process of a bulk import"
    index, run_id, lock, importer, stop, waited = _WRITER
    result = ImportResult()
    # (its items are held and flushed here, under the lock; a group's reports are one
    # transaction but for their rows)
    writer = _BatchWriter(index, run_id, result, batch_size=sys.maxsize, max_rows=max_rows)

    def flush() -> bool:
        """Write what is pending; False if the import is cancelled (nothing written)."""
        with lock:  # one writer at a time, woken at once (SQLite's own wait sleeps in steps)
            if not _runs(importer):  # the import is gone (killed): write nothing more
                os._exit(1)
            if stop.is_set():
                return False
            writer.flush()
            return True

    with gc_paused():
        for _, items in _load_iter(paths, limits, stop.is_set, None if waited.is_set() else waited.set):
            if writer.hold(items) and not flush():
                break
        # the rest, unless the import was cancelled meanwhile (while it read, or waited to write)
        result.cancelled = stop.is_set() or not flush()
    return result


def _weights(files: FileList | list[str], limit: int) -> list[int]:
    """Each file's weight: what it holds once unpacked (sources.payload_size, no more
    than ``limit``, the bytes read of a payload) in units of FILE_WEIGHT_BYTES, at least one."""
    return [max(1, min(payload_size(path), limit) // FILE_WEIGHT_BYTES) for path in files]


def _spans(n: int, size: int, weights: list[int] | None) -> Iterator[tuple[int, int]]:
    """The ``n`` files in consecutive ranges ``(start, end)``: of ``size`` files each,
    or with ``weights``, each of at least that weight (or the last files)."""
    if weights is None:
        for start in range(0, n, size):
            yield start, min(n, start + size)
        return
    start = held = 0
    for i, w in enumerate(weights):
        held += w
        if held >= size:
            yield start, i + 1
            start, held = i + 1, 0
    if start < n:
        yield start, n


#: payload bytes a parser process reads before it parses them (see _load_iter)
READ_AHEAD_BYTES: Final = 4 * 1024 * 1024


def _load_group(paths: list[str], limits: Limits) -> list[list[_Parsed]]:
    """Read and parse a group of files (in a parser process), as :func:`_load_safely`
    does each; see :func:`_load_iter`."""
    return [items for _, items in _load_iter(paths, limits)]


def _load_iter(paths: list[str], limits: Limits, stopped: Callable[[], bool] | None = None,
               waited: Callable[[], None] | None = None) -> Iterator[tuple[int, list[_Parsed]]]:
    """Read and parse files, yielding each one's index in ``paths`` and its items, in
    order. A few megabytes of payloads are read at a time, then parsed: each step runs
    many times in a row with its code and data in the processor's caches, which takes a
    sixth less time than reading and parsing file by file. A file that fails is one
    failure, whether reading or parsing it failed, as in ``_load_safely``. Ends early
    once ``stopped()`` says so (it is asked every 64 files: a cancelled import).
    ``waited()`` is called once if a run of reads waited for the disk (see
    core/readahead.py: the importing process then reads ahead of the parsers)."""
    out: list[list[_Parsed]] = [[] for _ in paths]
    failed: dict[int, list[_Parsed]] = {}
    read: list[tuple[int, SourceItem]] = []
    # This run of reads (since the items read before were parsed and handed on): since
    # when, on the clock and on the processor, and from which file; its first files are
    # timed (if ``waited``) at the file ``probe``, and the whole run before it is parsed.
    run_wall, run_cpu, run_first = time.perf_counter(), time.thread_time(), 0
    probe = readahead.MIN_FILES - 1 if waited is not None else -1

    def timed(up_to: int) -> None:
        """Whether the run's reads up to file ``up_to`` waited for the disk."""
        nonlocal waited, probe
        if waited is not None and readahead.reads_waited(up_to - run_first, time.perf_counter() - run_wall,
                                                         time.thread_time() - run_cpu):
            waited()
            waited, probe = None, -1

    def restart(first: int) -> None:
        """A new run of reads from the file ``first`` (the caller's time is not the reads')."""
        nonlocal run_wall, run_cpu, run_first, probe
        if waited is not None:
            run_wall, run_cpu, run_first = time.perf_counter(), time.thread_time(), first
            probe = first + readahead.MIN_FILES - 1

    def parse_read(up_to: int) -> None:
        timed(up_to)
        for i, item in read:
            if i not in failed:
                try:
                    out[i].append(_parse_item(item, limits))
                except Exception as exc:
                    failed[i] = _failure(paths[i], exc)
        read.clear()

    given = 0  # the files yielded

    def done(up_to: int) -> Iterator[tuple[int, list[_Parsed]]]:
        """The files before ``up_to`` not yielded yet: all their items are parsed."""
        nonlocal given
        for j in range(given, up_to):
            yield j, failed.pop(j) if j in failed else out[j]
            out[j] = []
        given = max(given, up_to)

    with gc_paused():
        held = 0
        for i, path in enumerate(paths):
            if stopped is not None and i % 64 == 0 and stopped():  # (a cancelled import)
                return
            try:
                for item in read_source(path, limits):  # (a mailbox may hold thousands)
                    read.append((i, item))
                    held += item.size
                    if held >= READ_AHEAD_BYTES:
                        parse_read(i + 1)
                        held = 0
                        yield from done(i)
                        restart(i + 1)
            except Exception as exc:
                failed[i] = _failure(path, exc)
            if i == probe:
                timed(i + 1)
        parse_read(len(paths))
        yield from done(len(paths))


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cycle collector while many small acyclic rows are made.

    An import allocates millions of tuples and strings that reference counting
    frees; the collector would rescan the growing heap again and again (a
    quarter of the import time). It runs again, once, afterwards.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _load_safely(path: str, limits: Limits) -> list[_Parsed]:
    try:
        return load_path(path, limits)
    except Exception as exc:
        return _failure(path, exc)


def _failure(path: str, exc: Exception) -> list[_Parsed]:
    """Why reading or parsing the file ``path`` failed, as its one outcome."""
    if isinstance(exc, MemoryError):
        return [_failed(path, "out of memory while reading")]
    if isinstance(exc, RecursionError):
        return [_failed(path, "nested too deeply")]
    # a bug must not stop the rest of the import
    log.error("unexpected error while reading %s", path, exc_info=exc)
    return [_failed(path, f"unexpected error ({type(exc).__name__}: {exc}); please report this as a bug")]


def _db_reason(path: Path, exc: sqlite3.Error) -> str:
    text = str(exc)
    low = text.lower()
    if "locked" in low or "busy" in low:
        return f"the index {path} is locked by another program; try again when it has finished"
    if "not a database" in low or "malformed" in low or "corrupt" in low:
        return f"the index {path} is damaged ({text})"
    if "disk is full" in low or "full" in low:
        return f"the disk holding the index {path} is full; nothing of the current batch was written"
    if "readonly" in low or "read-only" in low:
        return f"the index {path} is read-only"
    if "unable to open" in low:
        return f"cannot open the index {path}"
    return f"index error in {path}: {text}"
