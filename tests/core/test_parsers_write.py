"""A bulk import whose parser processes write their groups themselves (_Parsers.write)."""

from __future__ import annotations

import os
import signal
import sqlite3
import sys
import time
from contextlib import suppress
from pathlib import Path
from typing import Any

import pytest

from tests.core.conftest import REPO, make_report, sts_policy, write_gz
from tests.core.test_import import (
    bad_inputs,
    cli_import,
    kill_once_committed,
    make_folder,
    text_index_whole,
    whole_reports,
)
from tlsrpt_gui.core import report_text, rollups
from tlsrpt_gui.core.index import Index, Progress
from tlsrpt_gui.core.query import Filter, text_values
from tlsrpt_gui.core.sources import DEFAULT_LIMITS

#: the rows of an index, without the ids and times that differ between two imports
_CONTENT = {
    "reports": "SELECT organization_name, report_id, dedupe_key, start_ts, policy_domains, successful_sessions, "
               "failed_sessions, failure_detail_count, diagnostic_count, source_path, source_member FROM reports",
    "policies": "SELECT r.report_id, p.idx, p.policy_type, p.policy_domain, p.policy_strings, p.mx_hosts, "
                "p.successful_sessions, p.failed_sessions, p.failure_detail_count FROM policies p JOIN reports r ON r.id = p.report_id",
    "failures": "SELECT r.report_id, p.idx, f.result_type, f.sending_mta_ip, f.failed_session_count, f.policy_domain "
                "FROM failure_details f JOIN policies p ON p.id = f.policy_id JOIN reports r ON r.id = f.report_id",
    "raw": "SELECT r.report_id, x.encoding, x.raw FROM report_raw x JOIN reports r ON r.id = x.report_id",
    "diagnostics": "SELECT r.report_id, d.code FROM diagnostics d JOIN reports r ON r.id = d.report_id",
    "sources": "SELECT s.path, s.outcome, s.reason, r.report_id FROM sources s LEFT JOIN reports r ON r.id = s.report_id",
}


def content(conn: sqlite3.Connection) -> dict[str, list[tuple[Any, ...]]]:
    return {name: sorted(conn.execute(sql).fetchall(), key=repr) for name, sql in _CONTENT.items()}


def mixed_folder(folder: Path, n: int) -> None:
    """``n`` reports, a copy of one of them under another name (a duplicate), and the
    hostile batch of unreadable files."""
    make_folder(folder, n)
    first = next(iter(sorted(folder.iterdir())))
    (folder / "zz-copy.json.gz").write_bytes(first.read_bytes())
    bad_inputs(folder / "bad")
    details = [{"result-type": "starttls-not-supported", "receiving-mx-hostname": "mx2.example.com", "failed-session-count": 1}]
    write_gz(folder / "other!example.net!1700000000!1700086399!x.json.gz",
             make_report(report_id="other-1", policies=[sts_policy("example.net", ok=1, failed=1, details=details)]))


def wrote_themselves(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Records, per import, whether its parser processes wrote their groups themselves."""
    import tlsrpt_gui.core.index as index_mod

    seen: list[bool] = []
    real = index_mod._Parsers.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        real(self, *args, **kwargs)
        seen.append(self.writes)

    monkeypatch.setattr(index_mod._Parsers, "__init__", init)
    return seen


@pytest.mark.parametrize("method", ["fork", "forkserver"])
def test_parsers_write_what_the_importing_process_would(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        method: str) -> None:
    import tlsrpt_gui.core.index as index_mod

    folder = tmp_path / "in"
    mixed_folder(folder, 1100)
    monkeypatch.setattr(index_mod, "BULK_MIN_FILES", 100)
    with Index(tmp_path / "one.db") as ix:  # one process reads, parses and writes
        one = ix.import_paths([folder], workers=1)
        expected = content(ix.conn)
    monkeypatch.setattr(index_mod, "_start_method", lambda: method)
    monkeypatch.setattr(index_mod, "WRITE_GROUP_FILES", 100)  # a dozen groups, not three
    wrote = wrote_themselves(monkeypatch)
    with Index(tmp_path / "two.db") as ix:
        many = ix.import_paths([folder], workers=2)
        assert wrote == [True]
        assert (many.imported, many.duplicates) == (one.imported, one.duplicates) == (1101, 1)
        assert sorted(many.failed) == sorted(one.failed) and len(many.failed) == 6
        assert sorted(many.skipped) == sorted(one.skipped)
        assert content(ix.conn) == expected
        # every batch committed, every index built, every summary right, every reference whole
        assert ix.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert ix.conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert ix.conn.execute("SELECT COUNT(*) FROM deferred_indexes").fetchone()[0] == 0
        assert rollups.ready(ix.conn) and rollups.consistent(ix.conn)
        assert text_index_whole(ix.conn)  # filled at the end
        assert ix.conn.execute("SELECT imported, duplicates, failed, status FROM import_runs").fetchall() == [
            (1101, 1, 6, "done")]
        # this process's connection was opened again after the fork, as it was
        assert ix.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert ix.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


@pytest.mark.skipif(sys.platform != "linux", reason="forked parser processes share this test's settings")
def test_parsers_whose_reads_wait_have_the_importing_process_read_ahead(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Reads that wait for the disk (here: any, the limit below nothing) start the read
    ahead (core/readahead.py), and the import writes what it would without it."""
    import tlsrpt_gui.core.index as index_mod
    from tlsrpt_gui.core import readahead

    folder = tmp_path / "in"
    mixed_folder(folder, 1100)
    monkeypatch.setattr(index_mod, "BULK_MIN_FILES", 100)
    monkeypatch.setattr(index_mod, "WRITE_GROUP_FILES", 100)
    with Index(tmp_path / "one.db") as ix:
        ix.import_paths([folder], workers=1)
        expected = content(ix.conn)
    monkeypatch.setattr(index_mod, "_start_method", lambda: "fork")  # (the setting below goes with the fork)
    monkeypatch.setattr(readahead, "WAIT_PER_FILE_S", -1.0)
    monkeypatch.setattr(readahead, "MIN_FILES", 8)  # (the groups here are of 100 files)
    made: list[Any] = []
    real_init = index_mod._Parsers.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        real_init(self, *args, **kwargs)
        made.append(self)

    monkeypatch.setattr(index_mod._Parsers, "__init__", init)
    aheads: list[readahead.ReadAhead] = []
    real_ahead = readahead.ReadAhead

    def read_ahead(*args: Any, **kwargs: Any) -> readahead.ReadAhead:
        aheads.append(real_ahead(*args, **kwargs))
        return aheads[-1]

    monkeypatch.setattr(readahead, "ReadAhead", read_ahead)
    with Index(tmp_path / "two.db") as ix:
        many = ix.import_paths([folder], workers=2)
        assert [(p.writes, p.method) for p in made] == [(True, "fork")] and made[0].reads_wait()
        # the importing process began to read ahead of its parsers (the files are in
        # memory: asked for, they are there at once), and stopped at the import's end
        assert len(aheads) == 1 and aheads[0].began and all(not t.is_alive() for t in aheads[0]._threads)
        assert aheads[0].reached == len(aheads[0].paths) > 1100  # every file, the hostile ones too
        assert (many.imported, many.duplicates, len(many.failed)) == (1101, 1, 6)
        assert content(ix.conn) == expected
        assert ix.conn.execute("SELECT COUNT(*) FROM deferred_indexes").fetchone()[0] == 0
        assert rollups.ready(ix.conn) and rollups.consistent(ix.conn)
    # and reads that do not wait start nothing
    monkeypatch.setattr(readahead, "WAIT_PER_FILE_S", 3600.0)
    with Index(tmp_path / "three.db") as ix:
        ix.import_paths([folder], workers=2)
        assert content(ix.conn) == expected and not made[1].reads_wait()
        assert len(aheads) == 2 and not aheads[1].began and aheads[1].advised == 0


def test_few_large_files_are_a_bulk_import_shared_out_by_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Files weigh by their size: a few hundred reports with many failure rows each are
    as much work as thousands of others, and get the bulk import's deferred indexes and
    parser processes; the processes get groups of about the same weight."""
    import tlsrpt_gui.core.index as index_mod

    folder = tmp_path / "in"
    make_folder(folder, 300)
    first = next(iter(sorted(folder.iterdir())))
    (folder / "zz-copy.json.gz").write_bytes(first.read_bytes())
    wrote = wrote_themselves(monkeypatch)
    with Index(tmp_path / "one.db") as ix:  # 301 small files: as they come, in this process
        ix.import_paths([folder], workers=2)
        expected = content(ix.conn)
    assert wrote == [False]
    groups: list[int] = []
    real_write = index_mod._Parsers.write

    def write(self: Any, *args: Any) -> Any:
        for group, written in real_write(self, *args):
            groups.append(len(group))
            yield group, written

    monkeypatch.setattr(index_mod._Parsers, "write", write)
    monkeypatch.setattr(index_mod, "FILE_WEIGHT_BYTES", 64)  # each file weighs a dozen or so
    with Index(tmp_path / "two.db") as ix:
        r = ix.import_paths([folder], workers=2)
        assert wrote == [False, True] and (r.imported, r.duplicates, r.failed) == (300, 1, [])
        assert content(ix.conn) == expected
        assert ix.conn.execute("SELECT COUNT(*) FROM deferred_indexes").fetchone()[0] == 0
        assert rollups.ready(ix.conn) and rollups.consistent(ix.conn)
    assert sum(groups) == 301 and len(groups) >= 4 and max(groups) < 100


def test_large_files_into_a_fuller_index_are_a_bulk_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """More files than the bulk import's least, but fewer than the index holds reports:
    weighed too, or the importing process would hold the rows of the files parsed ahead
    of its writes (1,200 files of 1,000 failure rows each took it to 570 MB)."""
    import tlsrpt_gui.core.index as index_mod

    monkeypatch.setattr(index_mod, "BULK_MIN_FILES_DEFERRED", 100)
    monkeypatch.setattr(index_mod, "BULK_MIN_FILES", 500)
    make_folder(tmp_path / "first", 300)
    make_folder(tmp_path / "more", 150, start=300)
    wrote = wrote_themselves(monkeypatch)
    with Index(tmp_path / "f.db") as ix:
        ix.import_paths([tmp_path / "first"], workers=2)  # (too few files for parser processes)
        ix.import_paths([tmp_path / "more"], workers=2)  # 150 into 300: not a bulk import by their count
        monkeypatch.setattr(index_mod, "FILE_WEIGHT_BYTES", 64)  # … but by their weight
        make_folder(tmp_path / "heavy", 150, start=450)
        r = ix.import_paths([tmp_path / "heavy"], workers=2)
        assert wrote == [False, False, True] and r.imported == 150 and ix.totals().reports == 600
        assert rollups.ready(ix.conn) and rollups.consistent(ix.conn)


def test_files_weigh_by_what_they_hold(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import gzip
    import threading

    import tlsrpt_gui.core.index as index_mod

    monkeypatch.setattr(index_mod, "FILE_WEIGHT_BYTES", 1000)
    (tmp_path / "a.json").write_bytes(b" " * 5500)
    (tmp_path / "b.json.gz").write_bytes(gzip.compress(b" " * 100_000))  # a few hundred bytes on disk
    (tmp_path / "c.json.gz").write_bytes(gzip.compress(b"x")[:-4] + (10**9).to_bytes(4, "little"))  # says 1 GB
    (tmp_path / "d.json").write_bytes(b" " * 300_000)  # more than is read of a payload
    (tmp_path / "e.gz").write_bytes(b"ab")
    os.mkfifo(tmp_path / "f.json.gz")  # opened to be read, a named pipe would wait for a writer
    paths = [str(tmp_path / n) for n in ("a.json", "b.json.gz", "c.json.gz", "d.json", "e.gz", "missing.json",
                                         "f.json.gz", ".")]
    c_held = (tmp_path / "c.json.gz").stat().st_size
    weighed: list[list[int]] = []
    thread = threading.Thread(target=lambda: weighed.append(index_mod._weights(paths, 200_000)), daemon=True)
    thread.start()
    thread.join(10)
    assert weighed == [[5, 100, c_held * 1032 // 1000, 200, 1, 1, 1, 1]]


def test_files_are_spanned_by_weight() -> None:
    import tlsrpt_gui.core.index as index_mod

    assert list(index_mod._spans(5, 2, None)) == [(0, 2), (2, 4), (4, 5)]
    assert list(index_mod._spans(6, 10, [3, 9, 1, 1, 20, 2])) == [(0, 2), (2, 5), (5, 6)]
    assert list(index_mod._spans(0, 10, [])) == []


def test_parsers_are_not_forked_while_the_index_is_open_elsewhere_in_the_process(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tlsrpt_gui.core.index as index_mod

    db = tmp_path / "o.db"
    make_folder(tmp_path / "in", 1100)
    monkeypatch.setattr(index_mod, "BULK_MIN_FILES", 100)
    monkeypatch.setattr(index_mod, "_start_method", lambda: "fork")
    methods: list[str] = []
    real = index_mod._Parsers.close

    def close(self: Any) -> None:
        methods.append(self.method)
        real(self)

    monkeypatch.setattr(index_mod._Parsers, "close", close)
    with Index(db) as ix:
        assert not index_mod._opened_here(tmp_path / "elsewhere.db")
        assert index_mod._opened_here(db)
        reader = sqlite3.connect(db)  # e.g. a window's table, reading
        reader.execute("SELECT COUNT(*) FROM reports").fetchone()
        try:
            ix.conn.close()
            assert index_mod._opened_here(db)  # the reader's connection, which a fork would copy
            ix._reconnect()
            assert ix.import_paths([tmp_path / "in"], workers=2).imported == 1100
            assert methods == ["forkserver"]
        finally:
            reader.close()
        make_folder(tmp_path / "more", 1200)  # files 1100 to 1199 are new
        assert ix.import_paths([tmp_path / "more"], workers=2).imported == 100
        assert methods[-1] == "fork"  # nothing else has the index open now


def test_cancelled_while_parsers_write_counts_what_they_wrote(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tlsrpt_gui.core.index as index_mod

    make_folder(tmp_path / "in", 2000)
    monkeypatch.setattr(index_mod, "BULK_MIN_FILES", 100)
    monkeypatch.setattr(index_mod, "WRITE_GROUP_FILES", 100)
    progress: list[Progress] = []
    wrote = wrote_themselves(monkeypatch)
    with Index(tmp_path / "c.db") as ix:
        r = ix.import_paths([tmp_path / "in"], workers=2, progress=progress.append,
                            cancelled=lambda: len(progress) >= 3)
        assert wrote == [True] and r.cancelled
        # the groups written when it was cancelled are in, and counted; no others: the
        # eight groups already handed out (800 files) are left alone unless being written
        reports = ix.totals().reports
        assert 300 <= reports <= 700 and r.imported == reports
        assert ix.conn.execute("SELECT COUNT(*) FROM sources").fetchone()[0] == reports
        assert ix.conn.execute("SELECT imported, status FROM import_runs").fetchone() == (reports, "cancelled")
        assert ix.conn.execute("SELECT COUNT(*) FROM deferred_indexes").fetchone()[0] == 0
        assert rollups.consistent(ix.conn)


def test_a_parser_process_killed_while_writing_loses_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The groups of a parser process that dies are read and written by the importing
    process, but for one it had committed: that is counted as it was written."""
    import tlsrpt_gui.core.index as index_mod

    n = 2000
    make_folder(tmp_path / "in", n)
    monkeypatch.setattr(index_mod, "BULK_MIN_FILES", 100)
    monkeypatch.setattr(index_mod, "WRITE_GROUP_FILES", 100)
    pools: list[Any] = []
    real_write = index_mod._Parsers.write

    def write(self: Any, *args: Any) -> Any:
        pools.append(self.pool)
        return real_write(self, *args)

    monkeypatch.setattr(index_mod._Parsers, "write", write)
    killed: list[int] = []

    def progress(p: Progress) -> None:
        if not killed:  # after the first group: kill a parser process, whatever it is doing
            pid = next(iter(pools[0]._processes))
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    with Index(tmp_path / "k.db") as ix:
        r = ix.import_paths([tmp_path / "in"], workers=2, progress=progress)
        assert killed and not r.cancelled and r.failed == []
        assert ix.totals().reports == r.imported == n and r.duplicates == 0
        assert ix.conn.execute("SELECT outcome, COUNT(*), COUNT(DISTINCT path) FROM sources GROUP BY outcome").fetchall() == [
            ("imported", n, n)]
        assert ix.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert ix.conn.execute("SELECT COUNT(*) FROM deferred_indexes").fetchone()[0] == 0
        assert rollups.ready(ix.conn) and rollups.consistent(ix.conn)


def group_writer(ix: Index, monkeypatch: pytest.MonkeyPatch, stop: Any = None) -> tuple[int, list[str]]:
    """Make this process a parser process of a bulk import into ``ix`` (see _start_writer),
    for a new import run; returns the run and a list that gets each transaction it begins."""
    import threading

    import tlsrpt_gui.core.index as index_mod

    run_id = ix._start_run([])
    writer = Index._for_parser(str(ix.path), ix.timeout)
    begun: list[str] = []
    writer.conn.set_trace_callback(lambda sql: begun.append(sql) if sql.startswith("BEGIN") else None)
    monkeypatch.setattr(index_mod, "_WRITER", (writer, run_id, threading.Lock(), os.getpid(), stop or threading.Event(),
                                               threading.Event()))
    return run_id, begun


def test_a_group_is_written_a_bounded_number_of_rows_at_a_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A parser process holds what it parsed until it writes it: a group of files with
    many failure rows is written in several transactions, each file whole in one, and the
    importing process learns from the files' rows which of them a failed process wrote."""
    import tlsrpt_gui.core.index as index_mod

    make_folder(tmp_path / "in", 40)  # two rows a file: a policy and a failure detail
    paths = sorted(str(p) for p in (tmp_path / "in").iterdir())
    with Index(tmp_path / "g.db") as ix:
        run_id, begun = group_writer(ix, monkeypatch)
        # as if its process died before the last ten files of the group
        written = index_mod._write_group(paths[:30], DEFAULT_LIMITS, 25)
        assert (written.imported, written.cancelled) == (30, False)
        assert len(begun) == 3  # 13 files, 13, and the last 4
        done, unwritten = ix._committed_in_run(run_id, paths)
        assert done.imported == 30 and unwritten == paths[30:]
        begun.clear()
        assert index_mod._write_group(paths[30:], DEFAULT_LIMITS).imported == 10
        assert len(begun) == 1  # (BATCH_ROWS)
        assert ix._committed_in_run(run_id, paths)[1] == []
        assert whole_reports(ix.path) == 40


def test_a_group_cancelled_between_its_transactions_counts_what_it_wrote(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    import tlsrpt_gui.core.index as index_mod

    make_folder(tmp_path / "in", 40)
    paths = sorted(str(p) for p in (tmp_path / "in").iterdir())
    stop = threading.Event()
    with Index(tmp_path / "g.db") as ix:
        run_id, begun = group_writer(ix, monkeypatch, stop)
        real_flush = index_mod._BatchWriter.flush

        def flush(self: Any) -> None:
            real_flush(self)
            stop.set()  # the import is cancelled once the first transaction is written

        monkeypatch.setattr(index_mod._BatchWriter, "flush", flush)
        written = index_mod._write_group(paths, DEFAULT_LIMITS, 25)
        assert (written.imported, written.cancelled) == (13, True) and len(begun) == 1
        assert ix.conn.execute("SELECT COUNT(*) FROM sources WHERE run_id = ?", (run_id,)).fetchone()[0] == 13


def test_a_parser_process_killed_between_the_transactions_of_a_group_loses_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The importing process writes the files of the group that the parser process had
    not written, and counts those it had, once each."""
    import tlsrpt_gui.core.index as index_mod

    n = 1000
    make_folder(tmp_path / "in", n)
    monkeypatch.setattr(index_mod, "_start_method", lambda: "fork")  # (the processes get this flush)
    monkeypatch.setattr(index_mod, "WRITE_GROUP_FILES", 100)
    monkeypatch.setattr(index_mod, "BATCH_ROWS", 60)  # 30 files a transaction, 4 to a group
    died = tmp_path / "died"
    real_flush = index_mod._BatchWriter.flush

    def flush(self: Any) -> None:
        real_flush(self)
        if os.getpid() != importer and not died.exists():  # the first transaction of a parser process
            died.touch()
            os.kill(os.getpid(), signal.SIGKILL)

    importer = os.getpid()
    monkeypatch.setattr(index_mod._BatchWriter, "flush", flush)
    with Index(tmp_path / "k.db") as ix:
        r = ix.import_paths([tmp_path / "in"], workers=2)
        assert died.exists() and not r.cancelled and r.failed == []
        assert ix.totals().reports == r.imported == n and r.duplicates == 0
        assert ix.conn.execute("SELECT outcome, COUNT(*), COUNT(DISTINCT path) FROM sources GROUP BY outcome").fetchall() == [
            ("imported", n, n)]
        assert ix.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert rollups.ready(ix.conn) and rollups.consistent(ix.conn)


def children(pid: int) -> set[int]:
    try:
        return {int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}
    except OSError:
        return set()


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def descendants(pid: int) -> set[int]:
    """The processes started by ``pid``, and by them (a fork server's children)."""
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children(todo.pop()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


#: an import whose parser processes come from a fork server (as the window's do)
_FORKSERVER_IMPORT = """
import sys
import tlsrpt_gui.core.index as index_mod
index_mod._start_method = lambda: "forkserver"
if __name__ == "__main__":
    with index_mod.Index(sys.argv[2]) as ix:
        ix.import_paths([sys.argv[1]], workers=2)
"""


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
@pytest.mark.parametrize(("n", "method"), [(6000, "fork"), (3000, "fork"), (6000, "forkserver"), (3000, "forkserver")])
def test_killed_while_parsers_write_leaves_a_whole_index(tmp_path: Path, n: int, method: str) -> None:
    """The importing process killed: each group is one transaction, whichever process wrote
    it, and its parser processes end with it, whether they write (a bulk import: 6,000
    files) or only read and parse (3,000), forked or started by a fork server (whose
    children keep it alive: they watch the importing process itself)."""
    import subprocess

    folder = tmp_path / "many"
    make_folder(folder, n)
    db = tmp_path / "k.db"
    if method == "fork":
        proc = cli_import(folder, db, workers=2)
    else:
        driver = tmp_path / "driver.py"
        driver.write_text(_FORKSERVER_IMPORT, encoding="utf-8")
        proc = subprocess.Popen([sys.executable, str(driver), str(folder), str(db)],
                                env=dict(os.environ, PYTHONPATH=str(REPO)),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    parsers: set[int] = set()

    def kill(sig: int) -> None:  # (kill_once_committed's signal) noting the parser processes first
        parsers.update(descendants(proc.pid))
        os.kill(proc.pid, sig)

    proc.send_signal = kill  # type: ignore[method-assign]
    kill_once_committed(proc, db)
    assert parsers, "no parser processes"
    deadline = time.monotonic() + 10
    while parsers and time.monotonic() < deadline:  # they die with it, and write no more
        parsers = {pid for pid in parsers if alive(pid)}
        time.sleep(0.02)
    assert not parsers
    reports = whole_reports(db)
    with Index(db) as ix:  # builds what the killed import deferred
        assert rollups.consistent(ix.conn)
        r = ix.import_paths([folder], workers=2)
        assert r.imported == n - reports and r.duplicates == reports and r.failed == []
        assert ix.totals().reports == n and rollups.consistent(ix.conn)
        assert text_index_whole(ix.conn)


@pytest.mark.skipif(sys.platform == "win32", reason="the lock is fcntl's")
def test_opening_the_index_during_a_bulk_import_leaves_its_indexes_to_it(tmp_path: Path) -> None:
    """Another process opening the index (the window, say) while a bulk import runs does
    not build the indexes and summaries that import deferred, mid-import (it froze the
    window for seconds and slowed the import): the import builds them at its end."""
    folder = tmp_path / "many"
    make_folder(folder, 6000)
    db = tmp_path / "o.db"
    proc = cli_import(folder, db, workers=2)
    try:
        deadline = time.monotonic() + 120
        pending = 0
        while time.monotonic() < deadline and proc.poll() is None and not pending:
            with suppress(sqlite3.OperationalError), sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
                if conn.execute("SELECT COUNT(*) FROM reports").fetchone()[0]:
                    pending = conn.execute("SELECT COUNT(*) FROM deferred_indexes").fetchone()[0]
            time.sleep(0.02)
        assert pending > 1 and proc.poll() is None, "the import ended before it could be opened"
        with Index(db) as ix:
            assert ix.conn.execute("SELECT COUNT(*) FROM deferred_indexes").fetchone()[0] > 1  # left alone
            # the import emptied the trigram index, to fill it at its end: meanwhile, not used
            assert not report_text.usable(ix.conn)
            values = text_values(ix.conn, Filter(text="kill-1"), "reports", share=1.0)
            assert values is None or values.unique == "like"
    finally:
        assert proc.wait(timeout=300) == 0
    with Index(db) as ix:
        assert ix.conn.execute("SELECT COUNT(*) FROM deferred_indexes").fetchone()[0] == 0
        assert text_index_whole(ix.conn)
        assert ix.totals().reports == 6000 and rollups.consistent(ix.conn)
