"""Index upkeep: check an index, open it safely, rebuild a damaged one.

Three things the window and the CLI need when the index file itself is the
problem, each answered in plain words:

- :func:`check_index` runs SQLite's integrity check plus our own consistency
  checks and says whether the index is sound, damaged, locked or missing.
- :func:`open_index` opens an index like :class:`~tlsrpt_gui.core.index.Index`
  but tells apart "another program is writing to it", "the disk is full",
  "it is damaged" and "it is read-only" (:class:`IndexOpenError` with a ``kind``).
- :func:`rebuild_index` builds a new index from the source files the old one
  recorded (when they still exist) and from the raw JSON it kept, then moves the
  damaged file aside to a timestamped name. Nothing is ever deleted.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal

from tlsrpt_gui.core import rollups
from tlsrpt_gui.core.index import (
    SCHEMA_VERSION,
    ImportResult,
    Index,
    IndexError_,
    _BatchWriter,
    _db_reason,
    _parse_item,
)
from tlsrpt_gui.core.report import ReportHint
from tlsrpt_gui.core.sources import DEFAULT_LIMITS, Limits, SourceItem, gunzip_bounded

log = logging.getLogger(__name__)

OpenErrorKind = Literal["locked", "full", "damaged", "read-only", "newer", "cannot-open", "other"]
#: "stale": sound, but its chart summaries do not match the rows they count
Status = Literal["ok", "damaged", "stale", "locked", "missing", "newer"]

#: Tables every index of the current schema has.
REQUIRED_TABLES: Final = frozenset({"import_runs", "reports", "report_raw", "policies", "failure_details", "diagnostics", "sources"})
#: Below this much free space next to the index, :func:`open_index` says the disk is full.
MIN_FREE_BYTES: Final = 1024 * 1024
_SQLITE_MAGIC: Final = b"SQLite format 3\x00"
_MAX_PROBLEMS: Final = 20


class IndexOpenError(IndexError_):
    """The index cannot be used; ``str(err)`` is a plain sentence, ``kind`` says why."""

    def __init__(self, kind: OpenErrorKind, message: str) -> None:
        super().__init__(message)
        self.kind: OpenErrorKind = kind


# --------------------------------------------------------------------------- classification


def _classify(exc: BaseException) -> OpenErrorKind:
    """What kind of trouble an exception (or the SQLite error behind it) means."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, sqlite3.Error):
            name = getattr(seen, "sqlite_errorname", "") or ""
            text = str(seen).lower()
            if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in text:
                return "locked"
            if name.startswith("SQLITE_FULL") or "disk is full" in text:
                return "full"
            if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or "malformed" in text or "not a database" in text:
                return "damaged"
            if name.startswith("SQLITE_READONLY") or "readonly" in text:
                return "read-only"
            if name.startswith("SQLITE_CANTOPEN") or "unable to open" in text:
                return "cannot-open"
            return "other"
        if isinstance(seen, OSError):
            import errno

            if seen.errno in (errno.ENOSPC, errno.EDQUOT):
                return "full"
            if seen.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
                return "read-only"
            return "cannot-open"
        seen = seen.__cause__
    text = str(exc).lower()
    if "newer" in text:
        return "newer"
    if "locked" in text:
        return "locked"
    if "full" in text:
        return "full"
    if "damaged" in text:
        return "damaged"
    return "other"


_ADVICE: Final[dict[OpenErrorKind, str]] = {
    "locked": "Perhaps a second tlsrpt-gui is importing into it.",
    "full": "Free some disk space and try again; nothing already in the index is lost.",
    "damaged": "Check it and rebuild it from the kept raw reports; the damaged file is kept, not deleted.",
    "read-only": "Choose an index in a folder you can write to, or open it read-only.",
    "newer": "Use that newer version of tlsrpt-gui, or choose another index file.",
    "cannot-open": "Check that the folder exists and that you may write to it.",
    "other": "",
}


def _open_error(path: Path, exc: BaseException) -> IndexOpenError:
    kind = _classify(exc)
    if kind == "full":
        reason = f"the disk holding the index {path} is full"
    elif isinstance(exc, IndexError_):
        reason = str(exc)
    elif isinstance(exc, sqlite3.Error):
        reason = _db_reason(path, exc)
    elif isinstance(exc, OSError):
        reason = f"cannot open the index {path}: {exc.strerror or exc}"
    else:
        reason = f"cannot open the index {path}: {exc}"
    advice = _ADVICE[kind]
    return IndexOpenError(kind, f"{reason.rstrip('.')}. {advice}" if advice else reason)


def _free_bytes(folder: Path) -> int | None:
    try:
        st = os.statvfs(folder)
    except (OSError, AttributeError):  # no statvfs on Windows
        return None
    return st.f_bavail * st.f_frsize


# --------------------------------------------------------------------------- safe open


def open_index(
    path: str | os.PathLike[str],
    *,
    read_only: bool = False,
    timeout: float = 5.0,
    min_free_bytes: int = MIN_FREE_BYTES,
) -> Index:
    """Open an index, or raise :class:`IndexOpenError` with a plain reason.

    For writing, it also makes sure the index can be written now: another
    process holding the write lock for longer than *timeout* seconds gives
    ``kind == "locked"``, and less than *min_free_bytes* free next to the file
    gives ``kind == "full"``. Readers never block writers (WAL), so a second
    instance that only reads, or imports in turn, works side by side.
    """
    p = Path(path)
    if not read_only and min_free_bytes > 0:
        folder = p.parent if p.parent.exists() else Path.cwd()
        free = _free_bytes(folder)
        if free is not None and free < min_free_bytes:
            raise IndexOpenError("full", f"the disk holding the index {p} is full ({free // 1024} KiB free). {_ADVICE['full']}")
    try:
        index = Index(p, read_only=read_only, timeout=timeout)
    except (IndexError_, sqlite3.Error, OSError) as exc:
        raise _open_error(p, exc) from exc
    if read_only:
        return index
    try:
        index.conn.execute("BEGIN IMMEDIATE")  # waits up to `timeout` for another writer
        index.conn.rollback()
    except sqlite3.Error as exc:
        index.close()
        raise _open_error(p, exc) from exc
    return index


# --------------------------------------------------------------------------- check


@dataclass(frozen=True, slots=True)
class IntegrityResult:
    """The outcome of :func:`check_index`."""

    path: Path
    status: Status
    problems: tuple[str, ...] = ()
    reports: int | None = None
    raw_copies: int | None = None
    schema_version: int | None = None
    #: the summary tables that do not match the rows they count (see :func:`rollups.mismatches`)
    stale_summaries: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.status in ("ok", "missing")

    @property
    def message(self) -> str:
        if self.status == "missing":
            return f"There is no index at {self.path} yet."
        if self.status == "ok":
            return f"The index {self.path} is sound: {self.reports} report(s), each with its raw JSON kept."
        if self.status == "stale":
            n = len(self.stale_summaries)
            counts = "; ".join(rollups.DESCRIPTIONS.get(t, t) for t in self.stale_summaries)
            return (f"The index {self.path} is sound: {self.reports} report(s), each with its raw JSON kept. But "
                    f"{n} of the summaries behind its charts and filters "
                    f"{'does not match the reports it counts' if n == 1 else 'do not match the reports they count'} "
                    f"({counts}), so the charts would show wrong totals. They can be counted again from the reports; "
                    "nothing else changes.")
        if self.status == "locked":
            return f"The index {self.path} could not be checked: {self.problems[0] if self.problems else 'it is locked'}."
        if self.status == "newer":
            return f"The index {self.path} was written by a newer tlsrpt-gui (schema {self.schema_version}); it was not checked."
        first = "; ".join(self.problems[:3])
        more = f" (and {len(self.problems) - 3} more problems)" if len(self.problems) > 3 else ""
        return (f"The index {self.path} is damaged: {first}{more}. It can be rebuilt from the source files "
                "and the raw reports it kept; the damaged file will be moved aside, not deleted.")


def _connect_ro(path: Path, timeout: float) -> sqlite3.Connection:
    uri = path.resolve().as_uri()
    try:
        conn = sqlite3.connect(uri + "?mode=ro", uri=True, timeout=timeout)
        conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        return conn
    except sqlite3.Error as exc:
        if _classify(exc) == "locked":
            raise
    # A WAL index whose -shm cannot be used read-only: read the main file as it is.
    return sqlite3.connect(uri + "?mode=ro&immutable=1", uri=True, timeout=timeout)


def pending_upgrade(path: str | os.PathLike[str]) -> int | None:
    """The schema version of an index that opening will upgrade, else None.

    An upgrade rebuilds summary tables from every row (about 20 s for a
    million reports), so the window says so before it starts.
    """
    p = Path(path)
    if not p.is_file():
        return None
    try:
        conn = sqlite3.connect(p.resolve().as_uri() + "?mode=ro", uri=True, timeout=1.0)
        try:
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:  # locked or damaged: the open itself says so
        return None
    return version if 0 < version < SCHEMA_VERSION else None


def check_index(path: str | os.PathLike[str], *, quick: bool = False, timeout: float = 5.0) -> IntegrityResult:
    """Check an index file without changing it.

    Runs SQLite's ``integrity_check`` (``quick_check`` with *quick*), the foreign
    key check, and our own checks: the schema version, the tables, a raw JSON copy
    for every report (what a rebuild needs), and, unless *quick*, that the chart
    summaries match the rows they count (status "stale" if that alone is wrong:
    :func:`recount_summaries` mends it).
    """
    p = Path(path)
    if not p.exists():
        return IntegrityResult(p, "missing", reports=0)
    problems: list[str] = []
    try:
        with open(p, "rb") as fh:
            head = fh.read(len(_SQLITE_MAGIC))
    except OSError as exc:
        return IntegrityResult(p, "damaged", (f"the file cannot be read ({exc.strerror or exc})",))
    if head != _SQLITE_MAGIC:
        what = "it is empty" if not head else "it does not start like an SQLite database"
        return IntegrityResult(p, "damaged", (f"the file is not an SQLite database ({what})",))
    reports = raw = version = None
    stale: list[str] = []
    try:
        conn = _connect_ro(p, timeout)
    except sqlite3.Error as exc:
        kind = _classify(exc)
        return IntegrityResult(p, "locked" if kind == "locked" else "damaged", (_db_reason(p, exc),))
    try:
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            return IntegrityResult(p, "newer", schema_version=version)
        pragma = "quick_check" if quick else "integrity_check"
        rows = [str(r[0]) for r in conn.execute(f"PRAGMA {pragma}({_MAX_PROBLEMS})")]
        if rows != ["ok"]:
            problems.extend(f"SQLite: {r}" for r in rows)
        tables = {str(r[0]) for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        missing = sorted(REQUIRED_TABLES - tables)
        if missing:
            problems.append(f"table(s) missing: {', '.join(missing)}")
        else:
            fk = conn.execute("PRAGMA foreign_key_check").fetchmany(_MAX_PROBLEMS)
            for table, rowid, parent, _ in fk:
                problems.append(f"{table} row {rowid} points to a missing {parent} row")
            reports = int(conn.execute("SELECT COUNT(*) FROM reports").fetchone()[0])
            raw = int(conn.execute("SELECT COUNT(*) FROM report_raw").fetchone()[0])
            no_raw = int(conn.execute("SELECT COUNT(*) FROM reports r WHERE NOT EXISTS "
                                      "(SELECT 1 FROM report_raw x WHERE x.report_id = r.id)").fetchone()[0])
            if no_raw:
                problems.append(f"{no_raw} report(s) have no raw JSON copy")
            # (an older schema is brought up to date, its summaries counted, when opened
            # for writing; while a bulk import has yet to count them, readers sum the rows)
            if not quick and not problems and version == SCHEMA_VERSION and rollups.ready(conn):
                stale = rollups.mismatches(conn)
        if version < 1:
            problems.append("the schema version is 0: this is not a tlsrpt-gui index")
    except sqlite3.Error as exc:
        if _classify(exc) == "locked":
            return IntegrityResult(p, "locked", (_db_reason(p, exc),))
        problems.append(_db_reason(p, exc))
    finally:
        conn.close()
    status: Status = "damaged" if problems else "stale" if stale else "ok"
    return IntegrityResult(p, status, tuple(problems[:_MAX_PROBLEMS]), reports, raw, version, tuple(stale))


def recount_summaries(path: str | os.PathLike[str], *, timeout: float = 10.0) -> None:
    """Count the chart summaries of the index at *path* again from its rows (what a
    check that found them "stale" offers); raises :class:`IndexOpenError` or
    :class:`IndexError_` with a plain reason if that cannot be done now."""
    index = open_index(path, timeout=timeout)
    try:
        index.recount_summaries()
    finally:
        index.close()


# --------------------------------------------------------------------------- rebuild


@dataclass(slots=True)
class RebuildResult:
    """What :func:`rebuild_index` did. ``message`` is for the user."""

    path: Path
    moved_to: Path
    from_sources: int = 0
    from_raw: int = 0
    duplicates: int = 0
    reports: int = 0
    unreadable_raw: int = 0
    missing_sources: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)

    @property
    def message(self) -> str:
        parts = [f"The damaged index was moved to {self.moved_to} (nothing was deleted).",
                 f"The new index {self.path} holds {self.reports} report(s): "
                 f"{self.from_sources} re-read from the original files, {self.from_raw} from the raw JSON kept in the old index."]
        if self.unreadable_raw:
            parts.append(f"{self.unreadable_raw} raw report(s) in the damaged file could not be read.")
        if self.missing_sources:
            parts.append(f"{len(self.missing_sources)} original file(s) no longer exist.")
        return " ".join(parts)


@dataclass(frozen=True, slots=True)
class _RawRow:
    row_id: int
    encoding: str
    raw: bytes
    source_path: str
    source_member: str


def _inflate(encoding: str, raw: bytes, cap: int) -> bytes:
    """Decompress a kept raw copy, never beyond *cap* bytes."""
    if encoding == "gzip":
        data, _ = gunzip_bounded(raw, cap)
        return data
    if encoding == "zlib":
        d = zlib.decompressobj()
        data = d.decompress(raw, cap + 1)
        if len(data) > cap:
            raise ValueError(f"the raw copy inflates to more than {cap} bytes")
        if not d.eof:
            raise ValueError("the raw copy is truncated")
        return data
    if len(raw) > cap:
        raise ValueError(f"the raw copy is over {cap} bytes")
    return raw


def _raw_rows(conn: sqlite3.Connection, stats: RebuildResult) -> Iterator[_RawRow]:
    """Every raw copy that can still be read, row by row, skipping damaged rows."""
    ids: list[int] = []
    try:
        ids = [int(r[0]) for r in conn.execute("SELECT report_id FROM report_raw ORDER BY report_id")]
    except sqlite3.DatabaseError:
        # The table's b-tree is damaged: probe every id up to the largest we can find.
        top = 0
        for sql in ("SELECT MAX(report_id) FROM report_raw", "SELECT MAX(id) FROM reports", "SELECT MAX(report_id) FROM sources"):
            try:
                top = max(top, int(conn.execute(sql).fetchone()[0] or 0))
            except sqlite3.DatabaseError:
                continue
        ids = list(range(1, top + 1))
    for rid in ids:
        try:
            row = conn.execute("SELECT encoding, raw FROM report_raw WHERE report_id = ?", (rid,)).fetchone()
        except sqlite3.DatabaseError:
            stats.unreadable_raw += 1
            continue
        if row is None:
            continue
        try:
            src = conn.execute("SELECT source_path, source_member FROM reports WHERE id = ?", (rid,)).fetchone()
        except sqlite3.DatabaseError:
            src = None
        path, member = (str(src[0]), str(src[1])) if src else (f"raw report {rid} of the damaged index", "")
        yield _RawRow(rid, str(row[0]), bytes(row[1]), path, member)


def _recorded_sources(conn: sqlite3.Connection) -> list[str]:
    """Files the old index imported reports from (those that carried a report)."""
    found: dict[str, None] = {}
    for sql in ("SELECT DISTINCT path FROM sources WHERE outcome IN ('imported', 'duplicate') ORDER BY path",
                "SELECT DISTINCT source_path FROM reports ORDER BY source_path"):
        try:
            for (p,) in conn.execute(sql):
                found.setdefault(str(p), None)
        except sqlite3.DatabaseError:
            continue
    return list(found)


def _aside_name(path: Path, stamp: str) -> Path:
    candidate = path.with_name(f"{path.name}.damaged-{stamp}")
    n = 1
    while any(Path(f"{candidate}{suffix}").exists() for suffix in ("", "-wal", "-shm")):
        n += 1
        candidate = path.with_name(f"{path.name}.damaged-{stamp}-{n}")
    return candidate


def _move_aside(path: Path, aside: Path) -> None:
    """Rename the damaged file (and its WAL and shared-memory files) to ``aside``."""
    os.rename(path, aside)
    for suffix in ("-wal", "-shm", "-journal"):
        companion = Path(f"{path}{suffix}")
        if companion.exists():
            os.rename(companion, Path(f"{aside}{suffix}"))


def rebuild_index(
    path: str | os.PathLike[str],
    *,
    use_sources: bool = True,
    use_raw: bool = True,
    limits: Limits = DEFAULT_LIMITS,
    workers: int | None = 1,
) -> RebuildResult:
    """Rebuild the index at *path* into a new file; move the old one aside.

    First the source files the old index recorded are imported again (when they
    still exist: that keeps mail headers and file names), then every raw JSON
    copy the old index kept (reports already read from a file are recognised as
    duplicates). The new index is built next to the old one and only then put
    in its place; the old file, with its ``-wal``/``-shm`` files, is renamed to
    ``<name>.damaged-<UTC timestamp>``, never deleted. Raises
    :class:`IndexOpenError` if the new index cannot be written.
    """
    p = Path(path)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    tmp = p.with_name(f"{p.name}.rebuilding-{stamp}")
    if tmp.exists():
        raise IndexOpenError("other", f"a rebuild of {p} is already under way ({tmp} exists)")
    result = RebuildResult(path=p, moved_to=p)
    old: sqlite3.Connection | None = None
    if p.exists():
        try:
            old = _connect_ro(p, timeout=5.0)
        except sqlite3.Error as exc:
            if _classify(exc) == "locked":
                raise _open_error(p, exc) from exc
            log.warning("cannot read the damaged index %s at all: %s", p, exc)
            old = None
    try:
        try:
            new = Index(tmp)
        except IndexError_ as exc:
            raise _open_error(tmp, exc) from exc
        try:
            if old is not None and use_sources:
                existing: list[str] = []
                for src in _recorded_sources(old):
                    (existing if os.path.isfile(src) else result.missing_sources).append(src)
                if existing:
                    r = new.import_paths(existing, limits=limits, workers=workers)
                    result.from_sources += r.imported
                    result.duplicates += r.duplicates
                    result.failed.extend(r.failed)
            if old is not None and use_raw:
                r = _import_raw(new, _raw_rows(old, result), limits, str(p), result)
                result.from_raw += r.imported
                result.duplicates += r.duplicates
            result.reports = new.totals().reports
        except sqlite3.Error as exc:
            raise _open_error(tmp, exc) from exc
        finally:
            new.close()
    except BaseException:
        log.warning("rebuild of %s failed; the partial new index is left at %s", p, tmp)
        raise
    finally:
        if old is not None:
            old.close()
    if p.exists():
        aside = _aside_name(p, stamp)
        _move_aside(p, aside)
        result.moved_to = aside
    os.rename(tmp, p)
    log.info("%s", result.message)
    return result


def _import_raw(index: Index, rows: Iterator[_RawRow], limits: Limits, origin: str, stats: RebuildResult) -> ImportResult:
    result = ImportResult()
    run_id = index._start_run([f"raw JSON kept in {origin}"])
    writer = _BatchWriter(index, run_id, result)
    try:
        for row in rows:
            try:
                data = _inflate(row.encoding, row.raw, limits.max_payload_bytes)
            except Exception as exc:  # a damaged copy: count it, go on
                log.warning("raw copy %d of %s cannot be read: %s", row.row_id, origin, exc)
                stats.unreadable_raw += 1
                continue
            name = row.source_member.rsplit(" / ", 1)[-1] if row.source_member else os.path.basename(row.source_path)
            item = SourceItem(
                path=row.source_path,
                member=row.source_member,
                outcome="payload",
                data=data,
                hint=ReportHint(filename=name),
                size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                compressed=row.raw if row.encoding == "gzip" else None,
            )
            writer.add([_parse_item(item, limits)])
        writer.flush()
    finally:
        index._finish_run(run_id, result)
    return result
