"""The index end to end: the corpus, duplicates, bad inputs, totals, crash safety."""

from __future__ import annotations

import email
import email.policy
import gzip
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.core.conftest import CORPUS_DIRS, REPO, make_report, sts_policy, write_gz, write_json
from tlsrpt_gui.core import rollups
from tlsrpt_gui.core.index import SCHEMA_VERSION, Index
from tlsrpt_gui.core.sources import HIDDEN_FILE, HIDDEN_FOLDER

CliRunner = Callable[..., subprocess.CompletedProcess[str]]


def corpus_args(corpus: Path) -> list[str]:
    return [str(corpus / d) for d in CORPUS_DIRS]


def independent_payloads(corpus: Path) -> list[bytes]:
    """Every report payload in the corpus, found without the project's code."""
    out: list[bytes] = []
    for d in CORPUS_DIRS:
        for p in sorted((corpus / d).iterdir()):
            data = p.read_bytes()
            if p.name.endswith(".gz"):
                out.append(gzip.decompress(data))
            elif d == "eml":
                msg = email.message_from_bytes(data, policy=email.policy.default)
                for part in msg.walk():
                    if part.get_content_type().startswith("application/"):
                        body = part.get_payload(decode=True)
                        out.append(gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body)
            else:
                out.append(data)
    return out


def independent_totals(payloads: list[bytes]) -> dict[str, int]:
    """Totals over unique (organization-name, report-id), first seen wins."""
    seen: dict[tuple[str, str], Any] = {}
    for raw in payloads:
        doc = json.loads(raw.decode("utf-8-sig"))
        seen.setdefault((doc["organization-name"], doc["report-id"]), doc)
    totals = {"reports": len(seen), "policies": 0, "failure_details": 0, "successful_sessions": 0, "failed_sessions": 0}
    for doc in seen.values():
        for pol in doc["policies"]:
            totals["policies"] += 1
            totals["failure_details"] += len(pol.get("failure-details") or [])
            summary = pol.get("summary") or {}
            totals["successful_sessions"] += int(summary.get("total-successful-session-count") or 0)
            totals["failed_sessions"] += int(summary.get("total-failure-session-count") or 0)
    return totals


def test_corpus_imports_with_no_failures_and_totals_match(corpus: Path, tmp_path: Path, run_cli: CliRunner) -> None:
    db = tmp_path / "x.db"
    proc = run_cli("import", *corpus_args(corpus), "--db", str(db), "--json", check_rc=0)
    first = json.loads(proc.stdout)
    assert set(first) == {"imported", "duplicates", "skipped", "failed"}
    assert first["failed"] == [] and first["skipped"] == []
    payloads = independent_payloads(corpus)
    expected = independent_totals(payloads)
    assert first["imported"] == expected["reports"]
    assert first["imported"] + first["duplicates"] == len(payloads)

    stats = json.loads(run_cli("stats", "--db", str(db), "--json", check_rc=0).stdout)
    for key, value in expected.items():
        assert stats[key] == value, key

    again = json.loads(run_cli("import", *corpus_args(corpus), "--db", str(db), "--json", check_rc=0).stdout)
    assert again == {"imported": 0, "duplicates": len(payloads), "skipped": [], "failed": []}
    assert json.loads(run_cli("stats", "--db", str(db), "--json").stdout)["reports"] == expected["reports"]


@pytest.mark.parametrize("method", ["fork", "forkserver"])
def test_corpus_import_in_process_with_workers(corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               method: str) -> None:
    import tlsrpt_gui.core.index as index_mod

    monkeypatch.setattr(index_mod, "_start_method", lambda: method)
    with Index(tmp_path / "w.db") as ix:
        one = ix.import_paths(corpus_args(corpus), workers=1)
    with Index(tmp_path / "p.db") as ix:
        many = ix.import_paths(corpus_args(corpus) * 20, workers=2)  # over 1000 files: the process pool
        assert many.imported == one.imported and many.failed == []
        assert many.duplicates == one.duplicates + 19 * (one.imported + one.duplicates)
        # the writer skips SQLite's reference and CHECK tests while it writes; they hold all the same
        assert ix.conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert ix.conn.execute("SELECT COUNT(*) FROM sources WHERE outcome NOT IN "
                               "('imported', 'duplicate', 'skipped', 'failed')").fetchone()[0] == 0
        assert ix.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert ix.conn.execute("PRAGMA ignore_check_constraints").fetchone()[0] == 0


def test_parsers_are_forked_only_from_a_single_thread() -> None:
    import threading

    from tlsrpt_gui.core.index import _start_method

    if sys.platform != "linux":
        assert _start_method() == "spawn"
        return
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert _start_method() == "forkserver"  # a fork would copy locks other threads hold
    finally:
        stop.set()
        other.join()
    lone = subprocess.run([sys.executable, "-c", "from tlsrpt_gui.core.index import _start_method; print(_start_method())"],
                          capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=str(REPO)), check=True)
    assert lone.stdout.strip() == "fork"


def bad_inputs(folder: Path) -> dict[str, str]:
    """The hostile batch: file name -> expected words in the reason."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "truncated.json.gz").write_bytes(gzip.compress(json.dumps(make_report(report_id="t")).encode() * 20)[:-40])
    (folder / "page.json").write_bytes(b"<!DOCTYPE html><html><head><title>502</title></head><body>Bad gateway</body></html>")
    (folder / "empty.json").write_bytes(b"")
    write_json(folder / "other.json", {"name": "package.json", "version": "1.0.0"})
    (folder / "deep.json").write_bytes(b"[" * 200_000 + b"]" * 200_000)
    # 300 MiB of zeros, gzip-compressed (about 300 KiB on disk)
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = b"\0" * (1024 * 1024)
    bomb = b"".join(comp.compress(chunk) for _ in range(300)) + comp.flush()
    (folder / "bomb.json.gz").write_bytes(bomb)
    return {
        "truncated.json.gz": "truncated",
        "page.json": "HTML",
        "empty.json": "empty",
        "other.json": "not a TLS report",
        "deep.json": "nested",
        "bomb.json.gz": "cap",
    }


def test_bad_inputs_fail_with_reasons_and_the_rest_imports(tmp_path: Path, run_cli: CliRunner) -> None:
    folder = tmp_path / "batch"
    expected = bad_inputs(folder)
    write_gz(folder / "good1.json.gz", make_report(report_id="good-1"))
    write_json(folder / "good2.json", make_report(report_id="good-2"))
    db = tmp_path / "b.db"
    # Run in a child that reports its own peak memory, so the bomb is measured.
    # VmHWM is this process's own peak (ru_maxrss would include the forking parent's).
    script = (
        "import json, sys\n"
        "from tlsrpt_gui.core.index import Index\n"
        f"ix = Index({str(db)!r})\n"
        f"r = ix.import_paths([{str(folder)!r}], workers=1)\n"
        "hwm = [int(line.split()[1]) for line in open('/proc/self/status') if line.startswith('VmHWM:')][0]\n"
        "print(json.dumps({'result': r.as_json(), 'maxrss_kib': hwm}))\n"
    )
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    result = out["result"]
    assert result["imported"] == 2
    failed = {Path(f["source"]).name: f["reason"] for f in result["failed"]}
    assert set(failed) == set(expected)
    for name, words in expected.items():
        assert words in failed[name], (name, failed[name])
    # The 300 MiB bomb must not be inflated in memory.
    assert out["maxrss_kib"] < 150 * 1024, out["maxrss_kib"]
    # The CLI says so with exit code 1, and lists them.
    proc2 = run_cli("import", str(folder), "--db", str(tmp_path / "c.db"), "--json")
    assert proc2.returncode == 1
    assert len(json.loads(proc2.stdout)["failed"]) == len(expected)
    with sqlite3.connect(db) as conn:
        rows = dict(conn.execute("SELECT path, reason FROM sources WHERE outcome = 'failed'").fetchall())
    assert {Path(p).name for p in rows} == set(expected)


def test_skipped_is_not_failed(tmp_path: Path, run_cli: CliRunner) -> None:
    folder = tmp_path / "mixed"
    write_json(folder / "r.json", make_report(report_id="s1"))
    (folder / "dmarc.xml").write_text('<?xml version="1.0"?><feedback><report_metadata/></feedback>')
    (folder / "notes.txt").write_text("remember the milk")
    proc = run_cli("import", str(folder), "--db", str(tmp_path / "s.db"), "--json", check_rc=0)
    out = json.loads(proc.stdout)
    assert out["imported"] == 1 and out["failed"] == []
    reasons = {Path(s["source"]).name: s["reason"] for s in out["skipped"]}
    assert "DMARC" in reasons["dmarc.xml"] and "not a TLS report" in reasons["notes.txt"]


def test_inputs_not_imported_count_each_input_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An input that failed in two runs is one input not imported; once it imports, none."""
    folder = tmp_path / "in"
    write_json(folder / "ok.json", make_report(report_id="ok"))
    (folder / "bad.json").write_text("{not json", encoding="utf-8")
    (folder / "notes.txt").write_text("hello", encoding="utf-8")
    with Index(tmp_path / "n.db") as ix:
        for _ in range(2):
            ix.import_paths([folder], workers=1)
        totals = ix.totals()
        assert (totals.failed_inputs, totals.skipped_inputs) == (1, 1)
        write_json(folder / "bad.json", make_report(report_id="fixed"))
        ix.import_paths([folder], workers=1)
        assert (ix.totals().failed_inputs, ix.totals().reports) == (0, 2)
        # many such rows (a whole mailbox skipped): the rows are counted, as cheap as it gets
        import tlsrpt_gui.core.index as index_mod

        monkeypatch.setattr(index_mod, "NOT_IMPORTED_EXACT_ROWS", 1)
        assert (ix.totals().failed_inputs, ix.totals().skipped_inputs) == (2, 3)  # rows of three runs


def test_import_json_is_one_object_even_when_the_index_cannot_be_written(tmp_path: Path, run_cli: CliRunner) -> None:
    write_json(tmp_path / "in" / "a.json", make_report(report_id="a"))
    proc = run_cli("import", str(tmp_path / "in"), "--db", "/proc/no-such-place/i.db", "--json", check_rc=1)
    data = json.loads(proc.stdout)
    assert (data["imported"], data["duplicates"], data["skipped"], data["failed"]) == (0, 0, [], [])
    assert "cannot open the index" in data["error"] and "Traceback" not in proc.stderr


def test_stats_during_a_bulk_import_reads_the_rows_and_builds_nothing(tmp_path: Path, run_cli: CliRunner) -> None:
    """While a bulk import runs (here: as one killed mid-way leaves it), its indexes are
    dropped and its summaries unfilled: ``stats`` sums the rows, and leaves the building
    to the import (a writable open would build them, mid-import)."""
    make_folder(tmp_path / "in", 30)
    db = tmp_path / "b.db"
    with Index(db) as ix:
        ix.import_paths([tmp_path / "in"], workers=1)
        expected = ix.totals()
        ix._defer_indexes()
        ix.conn.execute("DELETE FROM roll_domain")  # (a bulk import fills them at its end)
        ix.conn.commit()
        pending = ix.conn.execute("SELECT COUNT(*) FROM deferred_indexes").fetchone()[0]
    stats = json.loads(run_cli("stats", "--db", str(db), "--json", check_rc=0).stdout)
    assert (stats["reports"], stats["successful_sessions"], stats["failed_sessions"]) == (
        expected.reports, expected.successful_sessions, expected.failed_sessions)
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM deferred_indexes").fetchone()[0] == pending > 1


def test_same_report_id_from_two_organisations_is_two_reports(tmp_path: Path) -> None:
    folder = tmp_path / "dup"
    write_json(folder / "a.json", make_report(org="mx.a.example", report_id="1724025600_1"))
    write_json(folder / "b.json", make_report(org="mx.b.example", report_id="1724025600_1"))
    write_json(folder / "c.json", make_report(org="mx.b.example", report_id="1724025600_1", policies=[sts_policy(ok=99)]))
    with Index(tmp_path / "d.db") as ix:
        r = ix.import_paths([folder])
        assert (r.imported, r.duplicates) == (2, 1)


def test_report_rows_keep_raw_json_and_diagnostics(corpus: Path, tmp_path: Path) -> None:
    src = corpus / "malformed" / "phi-ag-mta-sts-exporter__microsoft-2.json"
    with Index(tmp_path / "raw.db") as ix:
        ix.import_paths([src])
        (rid, source_path) = ix.conn.execute("SELECT id, source_path FROM reports").fetchone()
        assert ix.raw_json(rid) == src.read_bytes()
        assert source_path == str(src)
        diags = ix.conn.execute("SELECT severity, code FROM diagnostics WHERE report_id = ?", (rid,)).fetchall()
        assert ("warning", "datetime-no-offset") in diags
        src_row = ix.conn.execute("SELECT member, size, sha256, outcome, report_id FROM sources").fetchone()
        import hashlib

        assert src_row == ("", src.stat().st_size, hashlib.sha256(src.read_bytes()).hexdigest(), "imported", rid)


def test_schema_version_wal_and_migration_from_empty(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    with Index(db) as ix:
        assert ix.schema_version == SCHEMA_VERSION
        assert ix.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {r[0] for r in ix.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"reports", "policies", "failure_details", "diagnostics", "sources", "report_raw", "import_runs"} <= tables
        plans = " ".join(str(r) for r in ix.conn.execute("EXPLAIN QUERY PLAN SELECT * FROM failure_details ORDER BY start_ts LIMIT 100"))
        assert "failures_start" in plans
    with Index(db) as ix:  # reopening does not migrate again
        assert ix.schema_version == SCHEMA_VERSION


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    from tlsrpt_gui.core.index import IndexError_

    db = tmp_path / "n.db"
    with sqlite3.connect(db) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    with pytest.raises(IndexError_, match="newer"):
        Index(db)


def test_db_env_override(tmp_path: Path, run_cli: CliRunner, corpus: Path) -> None:
    db = tmp_path / "env.db"
    run_cli("import", str(corpus / "reports" / "parsedmarc__mail.ru.json"), "--json", env={"TLSRPT_GUI_DB": str(db)}, check_rc=0)
    assert db.exists()
    stats = json.loads(run_cli("stats", "--json", env={"TLSRPT_GUI_DB": str(db)}).stdout)
    assert stats["reports"] == 1 and stats["index"] == str(db)


def test_usage_errors_exit_2(run_cli: CliRunner) -> None:
    assert run_cli("import").returncode == 2
    assert run_cli("export", "nonsense").returncode == 2
    assert run_cli("stats", "--bogus").returncode == 2


def test_missing_path_fails_with_exit_1(tmp_path: Path, run_cli: CliRunner) -> None:
    proc = run_cli("import", str(tmp_path / "missing.json"), "--db", str(tmp_path / "e.db"), "--json")
    assert proc.returncode == 1
    assert json.loads(proc.stdout)["failed"] == [{"source": str(tmp_path / "missing.json"), "reason": "no such file or folder"}]


def make_folder(folder: Path, n: int, start: int = 0) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(start, start + n):
        details = [{"result-type": "certificate-expired", "sending-mta-ip": "192.0.2.7", "receiving-mx-hostname": "mx1.example.com", "failed-session-count": 2}]
        write_gz(folder / f"reporter.example!example.com!{1700000000 + i * 86400}!{1700086399 + i * 86400}!{i}.json.gz",
                 make_report(report_id=f"kill-{i}", policies=[sts_policy(ok=5, failed=2, details=details)]))


def cli_import(folder: Path, db: Path, workers: int) -> subprocess.Popen[bytes]:
    """``tlsrpt-gui import`` of ``folder`` into ``db``, started."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.Popen([sys.executable, "-m", "tlsrpt_gui", "import", str(folder), "--db", str(db), "--workers",
                             str(workers)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def whole_reports(db: Path) -> int:
    """How many reports an index of make_folder's reports holds, once its integrity is
    checked and every report found to have its policy, failure detail, raw JSON and
    source row (make_folder's reports have one of each)."""
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        reports: int = conn.execute("SELECT COUNT(*) FROM reports").fetchone()[0]
        assert conn.execute("SELECT COUNT(*) FROM policies").fetchone()[0] == reports
        assert conn.execute("SELECT COUNT(*) FROM failure_details").fetchone()[0] == reports
        assert conn.execute("SELECT COUNT(*) FROM report_raw").fetchone()[0] == reports
        assert conn.execute("SELECT COUNT(*) FROM sources WHERE outcome = 'imported'").fetchone()[0] == reports
    return reports


def text_index_whole(conn: sqlite3.Connection) -> bool:
    """True if the trigram index of report ids and sources (core/report_text.py) can be
    used and names every report by its id and by its file's name."""
    from tlsrpt_gui.core import report_text

    if not report_text.usable(conn):
        return False
    for rid, report_id, path in conn.execute("SELECT id, report_id, source_path FROM reports").fetchall():
        for term in (report_id, os.path.basename(path)):
            query = report_text.match_query(term)
            if query is not None and conn.execute(f"SELECT 1 FROM {report_text.TABLE} WHERE {report_text.TABLE} MATCH ? "
                                                  "AND rowid = ?", (query, rid)).fetchone() is None:
                return False
    return True


def kill_once_committed(proc: subprocess.Popen[bytes], db: Path) -> None:
    """SIGKILL an import once at least one batch is committed (but, we hope, before the end)."""
    deadline = time.monotonic() + 120
    committed = 0
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
                committed = conn.execute("SELECT COUNT(*) FROM reports").fetchone()[0]
        except sqlite3.OperationalError:
            committed = 0
        if committed > 0:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert committed > 0, "the import never committed a batch"


def test_killed_import_leaves_consistent_index_and_rerun_completes(tmp_path: Path) -> None:
    folder = tmp_path / "many"
    n = 3000
    make_folder(folder, n)
    db = tmp_path / "k.db"
    kill_once_committed(cli_import(folder, db, workers=1), db)
    reports = whole_reports(db)
    assert reports < n, "the import finished before it was killed; make the batch larger"
    with Index(db) as ix:
        r = ix.import_paths([folder], workers=1)
        assert r.imported == n - reports and r.duplicates == reports and r.failed == []
        assert ix.totals().reports == n
        assert text_index_whole(ix.conn)


def test_cancel_keeps_committed_batches(tmp_path: Path) -> None:
    folder = tmp_path / "c"
    make_folder(folder, 700)
    calls = 0

    def cancelled() -> bool:
        nonlocal calls
        calls += 1
        return calls > 600

    with Index(tmp_path / "c.db") as ix:
        r = ix.import_paths([folder], cancelled=cancelled, workers=1)
        assert r.cancelled
        assert ix.totals().reports == r.imported == 600
        status = ix.conn.execute("SELECT status FROM import_runs").fetchone()[0]
        assert status == "cancelled"


@contextmanager
def index_of_schema(db: Path, version: int, corpus: Path) -> Iterator[Index]:
    """An index written as schema ``version`` wrote one, with the corpus reports in it."""
    import tlsrpt_gui.core.index as index_mod

    with pytest.MonkeyPatch.context() as m:
        m.setattr(index_mod, "SCHEMA_VERSION", version)
        with Index(db) as ix:
            assert ix.schema_version == version
            ix.import_paths([corpus / "reports"])
            yield ix


def test_migration_from_schema_1_keeps_data(corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tlsrpt_gui.core.index as index_mod

    db = tmp_path / "old.db"
    with monkeypatch.context() as m:
        m.setattr(index_mod, "SCHEMA_VERSION", 1)
        with Index(db) as ix:
            assert ix.schema_version == 1
            ix.import_paths([corpus / "reports"])
            before = ix.totals()
            names = {r[0] for r in ix.conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
            assert "failures_type_cover" not in names
    with Index(db) as ix:
        assert ix.schema_version == SCHEMA_VERSION == 8
        names = {r[0] for r in ix.conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert {"failures_type_cover", "failures_mx_cover", "failures_ip_cover"} <= names
        assert ix.totals() == before
        assert ix.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        # schema 3 filled the chart summaries from the rows already there
        assert ix.conn.execute("SELECT COUNT(*) FROM roll_domain_day").fetchone()[0] > 0
        assert rollups.consistent(ix.conn)
        # failure rows got their policy's mode and session counts
        assert ix.conn.execute(
            "SELECT COUNT(*) FROM failure_details f JOIN policies p ON p.id = f.policy_id WHERE "
            "f.policy_successful IS NOT p.successful_sessions OR f.policy_failed IS NOT p.failed_sessions "
            "OR f.sts_mode IS NOT p.sts_mode"
        ).fetchone()[0] == 0
        assert ix.conn.execute("SELECT COUNT(*) FROM failure_details WHERE policy_successful IS NOT NULL").fetchone()[0] > 0
        again = ix.import_paths([corpus / "reports"])
        assert again.imported == 0 and again.duplicates == len(list((corpus / 'reports').iterdir()))


@pytest.mark.parametrize("deferred", [False, True], ids=["indexed", "killed-bulk-import"])
def test_migration_from_schema_3_adds_the_result_type_summaries(corpus: Path, tmp_path: Path, deferred: bool) -> None:
    import tlsrpt_gui.core.index as index_mod
    from tlsrpt_gui.core import stats
    from tlsrpt_gui.core.query import Filter

    db = tmp_path / "v3.db"
    with index_of_schema(db, 3, corpus) as ix:
        with ix.conn:  # as schema 3 left an index: without them, and the old covers
            for table in (*rollups.SCHEMA_4_TABLES, *rollups.SCHEMA_5_TABLES):
                ix.conn.execute(f"DROP TABLE {table}")
            for name, column in index_mod._TOP_COVERS.items():
                ix.conn.execute(f"DROP INDEX {name}")
                ix.conn.execute(f"CREATE INDEX {name} ON failure_details ({column}, result_type, failed_session_count)")
        if deferred:  # a bulk import killed before it built its indexes again
            ix._defer_indexes()
    with Index(db) as ix:
        assert ix.schema_version == SCHEMA_VERSION == 8
        assert all(ix.conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] > 0
                   for t in (*rollups.SCHEMA_4_TABLES, *rollups.SCHEMA_5_TABLES))
        assert rollups.consistent(ix.conn) and rollups.ready(ix.conn)
        flt = Filter(result_type="starttls-not-supported")
        assert stats.sessions_per_day(ix.conn, flt) == stats.sessions_per_day(ix.conn, flt, rollups=False) != []
        for name, column in index_mod._TOP_COVERS.items():  # the top-N covers hold the start now
            cols = [r[2] for r in ix.conn.execute(f"PRAGMA index_info({name})")]
            assert cols == [column, "result_type", "start_ts", "failed_session_count"]
        assert ix.conn.execute("SELECT COUNT(*) FROM deferred_indexes").fetchone()[0] == 0


def test_migration_from_schema_4_adds_the_monthly_result_type_summary(corpus: Path, tmp_path: Path) -> None:
    from tlsrpt_gui.core import stats
    from tlsrpt_gui.core.query import Filter

    db = tmp_path / "v4.db"
    with index_of_schema(db, 4, corpus) as ix, ix.conn:
        ix.conn.execute("DROP TABLE roll_type_month")
    with Index(db) as ix:
        assert ix.schema_version == SCHEMA_VERSION == 8
        assert ix.conn.execute("SELECT COUNT(*) FROM roll_type_month").fetchone()[0] > 0
        assert rollups.consistent(ix.conn)
        first = ix.conn.execute("SELECT MIN(start_ts) FROM reports").fetchone()[0]
        start = stats.day_to_date(first // 86400).replace(day=1)
        flt = Filter(result_type="starttls-not-supported", date_from=start)
        assert stats.policy_coverage(ix.conn, flt) == stats.policy_coverage(ix.conn, flt, rollups=False)
        assert stats.policy_coverage(ix.conn, flt).total_keys > 0


def _index_sql(conn: sqlite3.Connection) -> set[tuple[str, str]]:
    return {(r[0], r[1]) for r in conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")}


def test_bulk_import_builds_the_deferred_indexes_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tlsrpt_gui.core.index as index_mod

    folder = tmp_path / "bulk"
    make_folder(folder, 300)
    with Index(tmp_path / "fresh.db") as fresh:
        expected = _index_sql(fresh.conn)
    monkeypatch.setattr(index_mod, "BULK_MIN_FILES", 100)
    steps: list[str] = []
    with Index(tmp_path / "b.db") as ix:
        ix.conn.execute("CREATE INDEX ui_extra ON reports (contact_info)")  # a window's sort index
        ix.conn.execute("CREATE INDEX extra ON reports (contact_info, id)")  # someone's own
        dropped: list[int] = []
        real_flush = index_mod._BatchWriter.flush

        def flush(self: index_mod._BatchWriter) -> None:  # the indexes are gone while rows go in
            dropped.append(len(_index_sql(ix.conn)))
            real_flush(self)
            if dropped[-1] == 0:  # and the summaries wait for the end, which readers can tell
                assert not rollups.ready(ix.conn)
                assert ix.conn.execute("SELECT COUNT(*) FROM roll_domain_day").fetchone()[0] == 0

        monkeypatch.setattr(index_mod._BatchWriter, "flush", flush)
        r = ix.import_paths([folder], workers=1, progress=lambda p: steps.append(p.current))
        assert r.imported == 300
        assert dropped and max(dropped) == 0
        # built again, but for the window's, which it makes again in the background once the import is done
        assert _index_sql(ix.conn) == expected | {("extra", "CREATE INDEX extra ON reports (contact_info, id)")}
        assert ix.conn.execute("SELECT COUNT(*) FROM deferred_indexes").fetchone()[0] == 0
        assert steps[-1] == index_mod.INDEXING
        assert rollups.consistent(ix.conn) and rollups.ready(ix.conn)
        assert ix.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        # a second bulk import into a fuller index keeps its indexes
        make_folder(tmp_path / "more", 150)
        dropped.clear()
        ix.import_paths([tmp_path / "more"], workers=1)
        assert min(dropped) > 0


@pytest.mark.parametrize(("method", "workers"), [("forkserver", 2), ("fork", 2), ("fork", 1)])
def test_bulk_import_with_parser_processes_computes_summaries_in_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                     method: str, workers: int) -> None:
    """A parser process computes the summaries: the writing ones were forked with the
    importing process's connection closed (SQLite must not be used in a child forked
    with one open), or started by a fork server. Without parser processes, a thread
    of the importing process does it."""
    import tlsrpt_gui.core.index as index_mod

    make_folder(tmp_path / "bulk", 1100)  # enough for the process pool
    monkeypatch.setattr(index_mod, "BULK_MIN_FILES", 100)
    monkeypatch.setattr(index_mod, "_start_method", lambda: method)
    where = tmp_path / "pid"
    real = rollups.compute_into

    def compute(src: sqlite3.Connection, out: sqlite3.Connection) -> None:
        where.write_text(str(os.getpid()))
        real(src, out)

    with Index(tmp_path / "p.db") as ix:  # (a new index computes its empty summaries once)
        monkeypatch.setattr(rollups, "compute_into", compute)
        assert ix.import_paths([tmp_path / "bulk"], workers=workers).imported == 1100
        if workers == 1:  # (a thread)
            assert int(where.read_text()) == os.getpid()
        elif method == "fork":  # (a forked child has the patched function)
            assert int(where.read_text()) != os.getpid()
        else:  # a fork server's child imports the module afresh, unpatched: it writes no pid
            assert not where.exists()
        assert rollups.ready(ix.conn) and rollups.consistent(ix.conn)
        assert ix.conn.execute("SELECT COUNT(*) FROM deferred_indexes").fetchone()[0] == 0


def test_an_import_that_would_drop_the_indexes_is_a_bulk_import_from_fewer_files(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """From BULK_MIN_FILES_DEFERRED files, an import of more files than the index holds
    reports is a bulk import: building the indexes again costs less than writing into
    them. Into a fuller index, the same import writes as the files come."""
    import tlsrpt_gui.core.index as index_mod

    monkeypatch.setattr(index_mod, "BULK_MIN_FILES", 10**9)
    monkeypatch.setattr(index_mod, "BULK_MIN_FILES_DEFERRED", 50)
    make_folder(tmp_path / "a", 60)
    make_folder(tmp_path / "b", 60, start=60)
    make_folder(tmp_path / "c", 40, start=120)
    with Index(tmp_path / "d.db") as ix:
        for folder, bulk in (("a", True), ("b", False), ("c", False)):  # (b: 60 into 60; c: under 50)
            steps: list[str] = []
            assert ix.import_paths([tmp_path / folder], workers=1, progress=lambda p, s=steps: s.append(p.current)).imported > 0
            assert (index_mod.INDEXING in steps) == bulk, folder
        assert rollups.ready(ix.conn) and rollups.consistent(ix.conn) and not ix._has_deferred()
        assert ix.conn.execute("SELECT COUNT(*) FROM reports").fetchone()[0] == 160


def test_a_batch_ends_at_its_report_count_or_at_its_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The importing process writes BATCH_SIZE reports a transaction, or fewer of reports
    with many failure rows: their memory is the batch's (BATCH_ROWS)."""
    import tlsrpt_gui.core.index as index_mod

    make_folder(tmp_path / "in", 12)  # one policy and one failure row each
    batches: list[int] = []
    real = index_mod._BatchWriter.flush

    def flush(self: index_mod._BatchWriter) -> None:
        if self.pending:
            batches.append(len(self.pending))
        real(self)

    monkeypatch.setattr(index_mod._BatchWriter, "flush", flush)
    monkeypatch.setattr(index_mod, "BATCH_ROWS", 10)
    with Index(tmp_path / "b.db") as ix:
        assert ix.import_paths([tmp_path / "in"], workers=1).imported == 12
        assert batches == [5, 5, 2]
        monkeypatch.setattr(index_mod, "BATCH_ROWS", 1000)
        monkeypatch.setattr(index_mod, "BATCH_SIZE", 4)
        batches.clear()
        make_folder(tmp_path / "more", 10, start=12)
    with Index(tmp_path / "b.db") as ix:  # (a writer takes BATCH_SIZE when it is made)
        assert ix.import_paths([tmp_path / "more"], workers=1).imported == 10
        assert batches == [4, 4, 2]
        assert ix.conn.execute("SELECT COUNT(*) FROM failure_details").fetchone()[0] == 22


def test_a_bulk_import_into_a_fuller_index_writes_larger_groups_into_its_indexes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Into an index that holds at least as many reports as it imports, a bulk import keeps
    the secondary indexes in place, and its parser processes write larger groups (each
    transaction rewrites the index pages its rows touch): a quarter of the files each, up
    to WRITE_GROUP_FILES_MAX."""
    import tlsrpt_gui.core.index as index_mod

    make_folder(tmp_path / "first", 1100)  # enough for the process pool
    make_folder(tmp_path / "more", 1100, start=1100)
    make_folder(tmp_path / "yet more", 1100, start=2200)
    monkeypatch.setattr(index_mod, "BULK_MIN_FILES", 100)
    monkeypatch.setattr(index_mod, "WRITE_GROUP_FILES", 100)
    groups: list[tuple[bool, list[int]]] = []
    real = index_mod._Parsers.write

    def write(self: Any, files: Any, limits: Any, live: bool = False) -> Any:
        sizes: list[int] = []
        groups.append((live, sizes))
        for group, written in real(self, files, limits, live):
            sizes.append(len(group))
            yield group, written

    monkeypatch.setattr(index_mod._Parsers, "write", write)
    with Index(tmp_path / "g.db") as ix:
        assert ix.import_paths([tmp_path / "first"], workers=2).imported == 1100  # a new index: indexes deferred
        indexes = _index_sql(ix.conn)
        assert ix.import_paths([tmp_path / "more"], workers=2).imported == 1100
        monkeypatch.setattr(index_mod, "WRITE_GROUP_FILES_MAX", 250)  # (no larger than those of the largest imports)
        assert ix.import_paths([tmp_path / "yet more"], workers=2).imported == 1100
        assert groups == [(False, [100] * 11), (True, [275] * 4), (True, [250] * 4 + [100])]
        assert _index_sql(ix.conn) == indexes and not ix._has_deferred()
        assert rollups.ready(ix.conn) and rollups.consistent(ix.conn)
        assert ix.conn.execute("SELECT COUNT(*) FROM reports").fetchone()[0] == 3300
        assert ix.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


@pytest.mark.parametrize("job", ["stale", "failed"])
def test_bulk_summaries_are_recomputed_when_the_snapshot_is_stale(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                   job: str) -> None:
    """The summaries a bulk import computes beside its index builds come from a snapshot;
    if the rows changed meanwhile (another import), or that computation failed, the
    writer computes them itself."""
    import tlsrpt_gui.core.index as index_mod

    make_folder(tmp_path / "bulk", 150)
    monkeypatch.setattr(index_mod, "BULK_MIN_FILES", 100)

    def summaries_into(path: str, scratch: str) -> tuple[Any, ...]:
        if job == "failed":
            raise sqlite3.OperationalError("disk I/O error")
        # else: sums from an older snapshot (here: none at all, from before the rows),
        # which must not be copied
        return ((0, None),) * 3

    monkeypatch.setattr(index_mod, "_summaries_into", summaries_into)
    with Index(tmp_path / "s.db") as ix:
        assert ix.import_paths([tmp_path / "bulk"], workers=1).imported == 150
        assert rollups.ready(ix.conn) and rollups.consistent(ix.conn)
        assert ix.conn.execute("SELECT SUM(policies) FROM roll_domain").fetchone()[0] == 150


@pytest.mark.parametrize("spill", [None, 7])
def test_summaries_rebuilt_from_the_rows_match_the_kept_ones(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             spill: int | None, corpus: Path) -> None:
    """rollups.rebuild counts in Python, writing out every TALLY_KEYS keys (7 here, and
    reading one row at a time, so it spills between the failure rows of one policy); the
    result must be what the import kept, and the SQL says."""
    make_folder(tmp_path / "more", 30)
    with Index(tmp_path / "r.db") as ix:
        result = ix.import_paths([*(corpus / d for d in CORPUS_DIRS), tmp_path / "more"], workers=1)
        assert result.imported > 50
        kept = {t: sorted(ix.conn.execute(f"SELECT * FROM {t}").fetchall()) for t in rollups.TABLES}
        assert all(kept[t] for t in ("roll_domain_day", "roll_failures_key", "text_values", "report_days"))
        # a policy with two failure rows of one type: counted once for it
        assert ix.conn.execute("SELECT 1 FROM failure_details GROUP BY policy_id, result_type HAVING COUNT(*) > 1").fetchone()
        if spill is not None:
            monkeypatch.setattr(rollups, "TALLY_KEYS", spill)
            monkeypatch.setattr(rollups, "SCAN_ROWS", 1)
        with ix.conn:
            rollups.rebuild(ix.conn)
        assert {t: sorted(ix.conn.execute(f"SELECT * FROM {t}").fetchall()) for t in rollups.TABLES} == kept
        assert rollups.consistent(ix.conn)


def test_summaries_of_failure_rows_out_of_policy_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         corpus: Path) -> None:
    """Failure rows that are not in policy order (this app never writes them so): the
    summaries are counted again, by policy, and match the SQL that defines them."""
    with Index(tmp_path / "o.db") as ix:
        ix.import_paths([corpus / d for d in CORPUS_DIRS], workers=1)
        cols = ", ".join(r[1] for r in ix.conn.execute("PRAGMA table_info(failure_details)") if r[1] != "id")
        with ix.conn:  # odd ids first, then even ones: a policy's rows are split
            ix.conn.execute("CREATE TEMP TABLE f AS SELECT * FROM failure_details")
            ix.conn.execute("DELETE FROM failure_details")
            ix.conn.execute(f"INSERT INTO failure_details ({cols}) SELECT {cols} FROM temp.f ORDER BY id % 2 DESC, id")
        monkeypatch.setattr(rollups, "TALLY_KEYS", 7)
        monkeypatch.setattr(rollups, "SCAN_ROWS", 1)
        with ix.conn:
            rollups.rebuild(ix.conn)
        assert rollups.consistent(ix.conn)


def test_stats_read_the_rows_while_summaries_are_pending(tmp_path: Path) -> None:
    from tlsrpt_gui.core import stats
    from tlsrpt_gui.core.query import Filter, text_values

    make_folder(tmp_path / "r", 40)
    with Index(tmp_path / "p.db") as ix:
        ix.import_paths([tmp_path / "r"], workers=1)
        conn = ix.conn
        flt = Filter(text="STSv1")
        truth = (stats.sessions_per_day(conn, Filter(), rollups=False), stats.reporting_days(conn, Filter(), rollups=False))
        assert text_values(conn, flt, "policies", share=1.0) is not None
        # as a bulk import leaves it until its end: summaries empty, marked pending
        with conn:
            for table in rollups.TABLES:
                conn.execute(f"DELETE FROM {table}")
            conn.execute("INSERT INTO deferred_indexes (name, sql) VALUES (?, '')", (rollups.PENDING,))
        assert not rollups.ready(conn)
        assert (stats.sessions_per_day(conn, Filter()), stats.reporting_days(conn, Filter())) == truth
        assert stats.reporting_bits(conn, Filter())
        assert text_values(conn, flt, "policies", share=1.0) is None  # the filter scans instead of trusting empty values
    with Index(tmp_path / "p.db") as ix:  # the next writable open fills them
        assert rollups.ready(ix.conn) and rollups.consistent(ix.conn)
        assert stats.sessions_per_day(ix.conn, Filter()) == truth[0]


def test_killed_bulk_import_gets_its_indexes_back_on_next_open(tmp_path: Path) -> None:
    folder = tmp_path / "many"
    n = 3000
    make_folder(folder, n)
    db = tmp_path / "k.db"
    with Index(tmp_path / "fresh.db") as fresh:
        expected = _index_sql(fresh.conn)
    code = ("import sys, tlsrpt_gui.core.index as m; m.BULK_MIN_FILES = 100; m.BULK_BATCH_SIZE = 200\n"
            "with m.Index(sys.argv[2]) as ix: ix.import_paths([sys.argv[1]], workers=1)")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen([sys.executable, "-c", code, str(folder), str(db)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    kill_once_committed(proc, db)
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        reports = conn.execute("SELECT COUNT(*) FROM reports").fetchone()[0]
        assert reports < n, "the import finished before it was killed"
        assert conn.execute("SELECT COUNT(*) FROM deferred_indexes").fetchone()[0] > 0
        assert not _index_sql(conn) & expected
    with Index(db) as ix:  # a writable open builds them
        assert _index_sql(ix.conn) == expected
        assert ix.conn.execute("SELECT COUNT(*) FROM deferred_indexes").fetchone()[0] == 0
        assert rollups.consistent(ix.conn)
        r = ix.import_paths([folder], workers=1)
        assert r.imported == n - reports and r.duplicates == reports and r.failed == []
        assert rollups.consistent(ix.conn)


@pytest.mark.parametrize("read_ahead", [1, 4 * 1024 * 1024])
def test_a_parser_process_reads_then_parses_a_group_as_it_would_file_by_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, read_ahead: int
) -> None:
    # _load_group reads a few megabytes of payloads, then parses them (read_ahead 1:
    # after every payload, also in the middle of an archive): each file must come out
    # as _load_safely makes it, failures included, whichever step failed.
    import zipfile

    from tlsrpt_gui.core import index
    from tlsrpt_gui.core.sources import DEFAULT_LIMITS

    paths = [str(write_gz(tmp_path / f"r{n}.json.gz", make_report(report_id=f"g-{n}"))) for n in range(3)]
    bad = tmp_path / "bad.json.gz"
    bad.write_bytes(gzip.compress(b'{"organization-name": '))
    archive = tmp_path / "several.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for n in range(4):
            zf.writestr(f"m{n}.json", json.dumps(make_report(report_id=f"z-{n}")))
    boom = tmp_path / "boom.zip"
    with zipfile.ZipFile(boom, "w") as zf:
        zf.writestr("fine.json", json.dumps(make_report(report_id="fine")))
        zf.writestr("boom.json", json.dumps(make_report(report_id="boom")))
    (tmp_path / "notes.txt").write_text("nothing to see here\n")
    paths += [str(bad), str(archive), str(tmp_path / "missing.json"), str(boom), str(tmp_path / "notes.txt")]

    real = index._parse_item

    def parse_item(item: Any, limits: Any) -> Any:
        if item.member == "boom.json":
            raise ValueError("a bug")
        return real(item, limits)

    monkeypatch.setattr(index, "_parse_item", parse_item)
    monkeypatch.setattr(index, "READ_AHEAD_BYTES", read_ahead)
    expected = [index._load_safely(p, DEFAULT_LIMITS) for p in paths]
    assert index._load_group(paths, DEFAULT_LIMITS) == expected
    outcomes = [[p.outcome for p in parsed] for parsed in expected]
    assert outcomes == [["report"]] * 3 + [["failed"], ["report"] * 4, ["failed"], ["failed"], ["skipped"]]
    assert "a bug" in expected[6][0].reason


@pytest.mark.parametrize("workers", ["0", "-2", "many"])
def test_workers_must_be_a_positive_number(tmp_path: Path, run_cli: CliRunner, workers: str) -> None:
    proc = run_cli("import", str(tmp_path), "--workers", workers, check_rc=2)
    assert "--workers" in proc.stderr


def test_paths_given_relative_are_kept_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A path as typed at a shell ("set/a.json") names nothing once the detail pane or a
    rebuild looks for it from another folder: the index keeps it absolute."""
    make_folder(tmp_path / "set", 2)
    (tmp_path / "set" / "junk.json").write_text("not json")
    monkeypatch.chdir(tmp_path)
    with Index(tmp_path / "i.db") as ix:
        result = ix.import_paths(["set", "set/../set/junk.json", "missing.json"], workers=1)
        assert result.imported == 2
        assert {p for p, _ in result.failed} == {str(tmp_path / "set" / "junk.json"), str(tmp_path / "missing.json")}
        paths = {r[0] for r in ix.conn.execute("SELECT source_path FROM reports UNION SELECT path FROM sources")}
    assert paths and all(p.startswith(str(tmp_path) + os.sep) for p in paths), paths


def test_hidden_entries_of_a_folder_are_said_to_be_passed_over(tmp_path: Path) -> None:
    """A hidden file or folder inside a folder is not imported, and the import says so
    (they were dropped without a word, so the counts did not add up to the folder's); the
    index's totals of inputs not imported leave them out."""
    make_folder(tmp_path / "in", 2)
    write_json(tmp_path / "in" / ".hidden.json", make_report(report_id="hidden"))
    write_json(tmp_path / "in" / ".git" / "r.json", make_report(report_id="in-git"))
    with Index(tmp_path / "i.db") as ix:
        result = ix.import_paths([tmp_path / "in"], workers=1)
        assert result.imported == 2 and result.failed == []
        assert sorted(result.skipped) == [(str(tmp_path / "in" / ".git"), HIDDEN_FOLDER),
                                          (str(tmp_path / "in" / ".hidden.json"), HIDDEN_FILE)]
        assert ix.conn.execute("SELECT COUNT(*) FROM sources WHERE outcome = 'skipped'").fetchone()[0] == 2
        # listed, but not counted as inputs not imported: every .DS_Store would be, for good
        assert ix.totals().skipped_inputs == 0
        named = ix.import_paths([tmp_path / "in" / ".hidden.json"], workers=1)  # named outright, it is read
        assert named.imported == 1


def test_the_commands_use_the_index_and_the_caps_set_in_preferences(tmp_path: Path) -> None:
    """Without --db or $TLSRPT_GUI_DB, import, stats and export use the index the window's
    Preferences name, and import the caps set there (they used the defaults, so the
    CLI and the window could fill two indexes)."""
    config = tmp_path / "config"
    wanted = tmp_path / "chosen" / "my-index.sqlite3"
    (config / "tlsrpt-gui").mkdir(parents=True)
    (config / "tlsrpt-gui" / "tlsrpt-gui.conf").write_text(f"[index]\npath={wanted}\n\n[limits]\nmax_input_mib=1\n")
    write_json(tmp_path / "in" / "small.json", make_report(report_id="small"))
    padded = json.dumps(make_report(report_id="big")) + " " * (2 * 1024 * 1024)
    (tmp_path / "in" / "big.json").write_text(padded)
    env = dict(os.environ, XDG_CONFIG_HOME=str(config), PYTHONPATH=str(REPO))
    env.pop("TLSRPT_GUI_DB", None)

    def cli(*args: str) -> Any:
        proc = subprocess.run([sys.executable, "-m", "tlsrpt_gui", *args], env=env, capture_output=True, text=True,
                              timeout=300, cwd=tmp_path)
        return json.loads(proc.stdout)

    result = cli("import", str(tmp_path / "in"), "--json")
    assert wanted.exists() and result["imported"] == 1
    assert [f["source"] for f in result["failed"] + result["skipped"]] == [str(tmp_path / "in" / "big.json")]
    assert cli("stats", "--json")["index"] == str(wanted)
    assert [r["report_id"] for r in cli("export", "reports", "--format", "json")] == ["small"]
    assert cli("stats", "--json", "--db", str(tmp_path / "chosen" / "my-index.sqlite3"))["reports"] == 1
    env["TLSRPT_GUI_DB"] = str(tmp_path / "env.sqlite3")  # the environment still wins over Preferences
    assert cli("import", str(tmp_path / "in" / "small.json"), "--json")["imported"] == 1
    assert (tmp_path / "env.sqlite3").exists()


POLICY_COUNTS_WRONG = ("SELECT COUNT(*) FROM policies p WHERE failure_detail_count != "
                       "(SELECT COUNT(*) FROM failure_details f WHERE f.policy_id = p.id)")


@pytest.mark.parametrize("deferred", [False, True], ids=["indexed", "killed-bulk-import"])
def test_migration_from_schema_5_counts_each_policys_failure_rows(corpus: Path, tmp_path: Path, deferred: bool) -> None:
    db = tmp_path / "v5.db"
    with index_of_schema(db, 5, corpus) as ix:
        cols = [r[1] for r in ix.conn.execute("PRAGMA table_info(policies)")]
        assert "failure_detail_count" not in cols  # written as schema 5 wrote its rows
        if deferred:  # a bulk import killed before it built its indexes again
            ix._defer_indexes()
    with Index(db) as ix:
        assert ix.schema_version == SCHEMA_VERSION == 8
        counts = dict(ix.conn.execute("SELECT failure_detail_count > 0, COUNT(*) FROM policies GROUP BY 1").fetchall())
        assert counts[0] > 0 and counts[1] > 0  # both kinds are in the corpus
        assert ix.conn.execute(POLICY_COUNTS_WRONG).fetchone()[0] == 0
        assert ix.conn.execute("SELECT COUNT(*) FROM deferred_indexes").fetchone()[0] == 0
        assert ix.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert text_index_whole(ix.conn)  # made and filled by the upgrade


@pytest.mark.parametrize("deferred", [False, True], ids=["indexed", "killed-bulk-import"])
def test_migration_from_schema_6_marks_the_first_failure_row_of_each_type(corpus: Path, tmp_path: Path,
                                                                          deferred: bool) -> None:
    """Schema 7 marks the first failure row of each result type in a policy, which the
    policy sums index keeps alone, and drops the two failure indexes that wider ones cover."""
    from tlsrpt_gui.core import stats
    from tlsrpt_gui.core.query import Filter

    db = tmp_path / "v6.db"
    with index_of_schema(db, 6, corpus) as ix:
        assert "first_of_type" not in [r[1] for r in ix.conn.execute("PRAGMA table_info(failure_details)")]
        # the corpus has policies with two failure rows of one type
        assert ix.conn.execute("SELECT COUNT(*) FROM (SELECT 1 FROM failure_details GROUP BY policy_id, result_type "
                               "HAVING COUNT(*) > 1)").fetchone()[0] > 0
        if deferred:  # a bulk import killed before it built its indexes again
            ix._defer_indexes()
    with Index(db) as ix:
        assert ix.schema_version == SCHEMA_VERSION == 8
        assert rollups.consistent(ix.conn)  # one row marked for each type of each policy
        names = {r[0] for r in ix.conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert "failures_mx" not in names and "failures_ip" not in names and "failures_policy_sums" in names
        partial = {r[1]: r[4] for r in ix.conn.execute("PRAGMA index_list(failure_details)")}
        assert partial["failures_policy_sums"] == 1 and partial["failures_mx_cover"] == 0
        assert ix.conn.execute("SELECT COUNT(*) FROM deferred_indexes").fetchone()[0] == 0
        assert ix.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        marked = ix.conn.execute("SELECT COUNT(*) FROM failure_details WHERE first_of_type = 1").fetchone()[0]
        assert 0 < marked < ix.conn.execute("SELECT COUNT(*) FROM failure_details").fetchone()[0]
        for rt, org, domain in ix.conn.execute("SELECT DISTINCT result_type, organization_name, policy_domain "
                                               "FROM failure_details").fetchall():
            for flt in (Filter(result_type=rt), Filter(result_type=rt, reporter=org),
                        Filter(result_type=rt, policy_domain=domain), Filter(result_type=rt, date_from=stats.day_to_date(0))):
                plan = " ".join(r[3] for r in ix.conn.execute(
                    "EXPLAIN QUERY PLAN SELECT * FROM " + stats._policy_source(ix.conn, flt, True)[0],
                    stats._policy_source(ix.conn, flt, True)[2]))
                assert "failures_policy_sums" in plan, plan
                for query in (stats.sessions_per_day, stats.policy_coverage, stats.success_rate_by_domain):
                    assert query(ix.conn, flt) == query(ix.conn, flt, rollups=False)
        again = ix.import_paths([corpus / "reports"])  # written as schema 7 writes them: nothing new
        assert again.imported == 0 and rollups.consistent(ix.conn)


#: roll_failures_key as schemas 3 to 7 made it: per key and result type, of all reporters
ROLL_FAILURES_KEY_7 = """CREATE TABLE roll_failures_key (
    dim TEXT NOT NULL CHECK (dim IN ('reporter', 'mx_host', 'sending_ip')), key TEXT NOT NULL,
    result_type TEXT NOT NULL, failed INTEGER NOT NULL, details INTEGER NOT NULL,
    PRIMARY KEY (dim, key, result_type)) WITHOUT ROWID"""


def test_migration_from_schema_7_counts_top_keys_per_reporter(corpus: Path, tmp_path: Path) -> None:
    """Schema 8 counts the top-N keys per reporter too, so one reporter's charts of MX
    hosts and sending addresses read the summary; an index of schema 7 opened read-only
    still answers them from the rows."""
    from tlsrpt_gui.core import stats
    from tlsrpt_gui.core.query import Filter

    db = tmp_path / "v7.db"
    with index_of_schema(db, 7, corpus) as ix:
        ix.conn.execute("DROP TABLE roll_failures_key")
        ix.conn.execute(ROLL_FAILURES_KEY_7)
        ix.conn.execute("INSERT INTO roll_failures_key SELECT dim, key, result_type, SUM(failed), SUM(details) "
                        "FROM roll_failures_month GROUP BY dim, key, result_type")
        ix.conn.execute("INSERT INTO roll_failures_key SELECT 'sending_ip', COALESCE(sending_mta_ip, ''), result_type, "
                        "SUM(failed_session_count), COUNT(*) FROM failure_details GROUP BY 2, 3")
        ix.conn.commit()
        orgs = [r[0] for r in ix.conn.execute("SELECT DISTINCT organization_name FROM failure_details")]
        assert len(orgs) > 3
    filters = [Filter(reporter=org) for org in orgs] + [Filter(reporter=orgs[0], result_type=rt) for (rt,) in
                                                        sqlite3.connect(db).execute("SELECT DISTINCT result_type FROM failure_details")]
    old = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    for flt in filters:
        for key in ("reporter", "mx_host", "sending_ip"):
            assert stats.top_failures(old, flt, key) == stats.top_failures(old, flt, key, rollups=False)
    old.close()
    with Index(db) as ix:
        assert ix.schema_version == SCHEMA_VERSION == 8
        assert rollups.consistent(ix.conn)
        assert "organization_name" in [r[1] for r in ix.conn.execute("PRAGMA table_info(roll_failures_key)")]
        for flt in filters:
            for key in ("reporter", "mx_host", "sending_ip"):
                seen: list[str] = []
                ix.conn.set_trace_callback(seen.append)
                got = stats.top_failures(ix.conn, flt, key)
                ix.conn.set_trace_callback(None)
                assert not [s for s in seen if "failure_details" in s], seen  # the summary alone
                assert got == stats.top_failures(ix.conn, flt, key, rollups=False), (flt, key)
                assert got.items or flt.result_type, (flt, key)  # every reporter has failure rows
        again = ix.import_paths([corpus / "reports"])
        assert again.imported == 0 and rollups.consistent(ix.conn)


@pytest.mark.parametrize("bulk", [False, True], ids=["batches", "bulk"])
def test_each_policy_row_counts_its_failure_rows(corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 bulk: bool) -> None:
    import tlsrpt_gui.core.index as index_mod

    if bulk:  # indexes deferred and built at the end (parser processes that write: test_parsers_write.py)
        monkeypatch.setattr(index_mod, "BULK_MIN_FILES", 2)
    with Index(tmp_path / "i.db") as ix:
        assert ix.import_paths([corpus / "reports"]).imported > 0
        assert ix.conn.execute("SELECT COUNT(*) FROM policies WHERE failure_detail_count > 0").fetchone()[0] > 0
        assert ix.conn.execute(POLICY_COUNTS_WRONG).fetchone()[0] == 0
        assert text_index_whole(ix.conn)  # written with each batch, or filled at the end of a bulk import


@pytest.mark.parametrize("side", ["made-beside", "failed-beside", "rows-changed"])
def test_a_bulk_import_fills_the_trigram_index_at_its_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          side: str) -> None:
    """A bulk import empties the trigram index of report ids and sources and fills it at
    its end: made in a scratch file beside the index builds and copied in, or, if that
    failed or the rows changed meanwhile, filled in the index itself."""
    import tlsrpt_gui.core.index as index_mod
    from tlsrpt_gui.core import report_text

    folder = tmp_path / "in"
    make_folder(folder, 40)
    monkeypatch.setattr(index_mod, "BULK_MIN_FILES", 10)
    made_beside = index_mod._report_text_into
    copy_from = report_text.copy_from

    def beside(path: str, scratch: str) -> tuple[Any, ...] | None:
        if side == "failed-beside":
            raise sqlite3.OperationalError("no such tokenizer: trigram")
        state = made_beside(path, scratch)
        return (0, 0, 0) if side == "rows-changed" else state

    copies: list[str] = []

    def copy(conn: sqlite3.Connection, schema: str) -> None:
        copies.append(schema)
        copy_from(conn, schema)

    monkeypatch.setattr(index_mod, "_report_text_into", beside)
    monkeypatch.setattr(report_text, "copy_from", copy)
    with Index(tmp_path / "i.db") as ix:
        assert ix.import_paths([folder], workers=1).imported == 40
        assert copies == (["made"] if side == "made-beside" else [])
        assert text_index_whole(ix.conn)
        ix.conn.execute(f"INSERT INTO {report_text.TABLE} ({report_text.TABLE}) VALUES ('integrity-check')")


def _rename_text_module(db: Path, old: str, new: str) -> None:
    """Make the index's trigram table name another FTS module in its schema: as an index
    made where SQLite has FTS5 looks to one that has not ("no such module")."""
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA writable_schema = ON")
        conn.execute("UPDATE sqlite_master SET sql = replace(sql, ?, ?) WHERE name = 'report_text'", (f"USING {old}(", f"USING {new}("))
        conn.execute("PRAGMA writable_schema = OFF")


def test_an_sqlite_that_cannot_read_the_trigram_index_imports_and_leaves_it_to_one_that_can(
        corpus: Path, tmp_path: Path) -> None:
    from tlsrpt_gui.core import report_text
    from tlsrpt_gui.core.query import Filter, text_values

    db = tmp_path / "i.db"
    folder = tmp_path / "in"
    make_folder(folder, 30)
    with Index(db) as ix:
        ix.import_paths([corpus / "reports"], workers=1)
    _rename_text_module(db, "fts5", "fts5_elsewhere")
    with Index(db) as ix:  # opens, imports, searches: the rows are written, the trigram index left behind
        assert not report_text.readable(ix.conn) and not report_text.usable(ix.conn)
        assert ix.import_paths([folder], workers=1).imported == 30
        assert not ix._has_deferred()  # nothing this one can build: no "building the indexes" at each import
        values = text_values(ix.conn, Filter(text="kill-2"), "reports", share=1.0)
        assert values is not None and values.unique == "like"
        where, params = Filter(text="kill-2").where("reports", text_values=values)
        assert ix.conn.execute(f"SELECT COUNT(*) FROM reports r WHERE {where}", params).fetchone()[0] == 11  # kill-2, kill-20…29
    _rename_text_module(db, "fts5_elsewhere", "fts5")
    with Index(db) as ix:  # an SQLite with FTS5 makes it whole again when it opens the index
        assert text_index_whole(ix.conn)
        assert ix.conn.execute("SELECT COUNT(*) FROM deferred_indexes").fetchone()[0] == 0


_PARSER_SERVER = """
import multiprocessing.forkserver, sys, threading, time
from tlsrpt_gui.core import index
if sys.argv[1] == "threads":  # as the window has
    threading.Thread(target=time.sleep, args=(30,), daemon=True).start()
started = index.start_parser_server()
pid = multiprocessing.forkserver._forkserver._forkserver_pid
cmdline = ""
for _ in range(200):  # (until the server's own command line is there: the spawn execs it)
    cmdline = open(f"/proc/{pid}/cmdline").read() if pid else ""
    if not pid or "forkserver import main" in cmdline:
        break
    time.sleep(0.05)
print(started, "tlsrpt_gui" + ".core.index" in cmdline)
"""


@pytest.mark.skipif(sys.platform != "linux", reason="the fork server is for Linux (Windows and macOS spawn)")
@pytest.mark.parametrize(("threads", "expected"), [("threads", "True True"), ("alone", "False False")])
def test_a_process_with_threads_starts_the_parsers_fork_server_ahead_with_the_parser_loaded(
        threads: str, expected: str) -> None:
    """The window starts it after start-up, so its first bulk import's parser processes
    start at once; the command line (one thread) forks them and needs none."""
    proc = subprocess.run([sys.executable, "-c", _PARSER_SERVER, threads], env=dict(os.environ, PYTHONPATH=str(REPO)),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split("\n")[0] == expected


_NO_URI = """
import ctypes, ctypes.util, sys
lib = ctypes.util.find_library("sqlite3")
if lib is None or ctypes.CDLL(lib).sqlite3_config(17, 0) != 0:  # SQLITE_CONFIG_URI off, as upstream's default
    sys.exit(3)
from tlsrpt_gui.core import index
state = index._report_text_into(sys.argv[1], sys.argv[2])
sys.exit(0 if state is not None and state[0][0] > 0 else 1)
"""


@pytest.mark.skipif(sys.platform != "linux", reason="sets the system SQLite's URI default through ctypes")
def test_the_trigram_index_is_made_beside_the_index_builds_where_sqlite_takes_no_uri_by_default(
        corpus: Path, tmp_path: Path) -> None:
    """The scratch connection opens itself by URI, so the ATTACH of the index (read-only,
    by URI) works where SQLite handles URIs only when asked (its own default)."""
    db = tmp_path / "i.db"
    with Index(db) as ix:
        ix.import_paths([corpus / "reports"], workers=1)
    scratch = tmp_path / "scratch.sqlite3"
    scratch.touch()
    proc = subprocess.run([sys.executable, "-c", _NO_URI, str(db), str(scratch)], env=dict(os.environ, PYTHONPATH=str(REPO)),
                          capture_output=True, text=True)
    if proc.returncode == 3:
        pytest.skip("this Python's SQLite is not the system library")
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("workers", [1, 2], ids=["in-process", "parser-processes"])
def test_an_import_stops_when_a_newer_version_upgraded_the_index_meanwhile(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int) -> None:
    """Rows written as this version writes them would lack what a newer schema keeps beside
    them (as a policy's count of failure rows and the trigram index were missing from the
    rows of a version before schema 6, written after the upgrade): each batch asks, in its
    transaction, and the import stops with the reason, its committed batches kept."""
    import tlsrpt_gui.core.index as index_mod

    folder = tmp_path / "in"
    make_folder(folder, 1200)
    monkeypatch.setattr(index_mod, "BULK_MIN_FILES", 100)  # (parser processes write their groups)
    monkeypatch.setattr(index_mod, "WRITE_GROUP_FILES", 100)
    monkeypatch.setattr(index_mod, "BULK_BATCH_SIZE", 100)
    db = tmp_path / "i.db"
    written = 0

    def progress(p: Any) -> None:
        nonlocal written
        if written == 0 and p.done >= 200:  # a newer version opens and upgrades the index
            written = p.done
            with sqlite3.connect(db) as other:
                other.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")

    with Index(db) as ix:
        with pytest.raises(index_mod.IndexError_, match="upgraded by a newer tlsrpt-gui") as raised:
            ix.import_paths([folder], progress=progress, workers=workers)
        assert raised.value.result is not None and raised.value.result.imported < 1200
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM reports").fetchone()[0] == raised.value.result.imported
