"""Crash safety of the index: full disk, two instances, a damaged file, locks.

Related tests elsewhere: ``kill -9`` mid-import and the re-run that completes it
(tests/core/test_import.py::test_killed_import_leaves_consistent_index_and_rerun_completes),
the schema 1 -> 2 migration (tests/core/test_import.py::test_migration_from_schema_1_keeps_data).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.core.conftest import make_report, sts_policy, write_gz
from tests.core.test_import import make_folder
from tests.security.conftest import REPO
from tlsrpt_gui.core.index import SCHEMA_VERSION, Index, IndexError_
from tlsrpt_gui.core.maintenance import IndexOpenError, check_index, open_index, rebuild_index

ENV = dict(os.environ, PYTHONPATH=str(REPO))


def cli(*args: str, cwd: Path | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "tlsrpt_gui", *args], env=ENV, cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def table_counts(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        return {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                for t in ("reports", "policies", "failure_details", "report_raw", "diagnostics")}


def consistent(db: Path) -> None:
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        # every report has its raw copy and exactly its recorded number of failure rows
        assert conn.execute("SELECT COUNT(*) FROM reports r WHERE NOT EXISTS (SELECT 1 FROM report_raw x WHERE x.report_id = r.id)").fetchone()[0] == 0
        assert conn.execute("SELECT COUNT(*) FROM reports r WHERE failure_detail_count != (SELECT COUNT(*) FROM failure_details f WHERE f.report_id = r.id)").fetchone()[0] == 0
        assert conn.execute("SELECT COUNT(*) FROM policies p WHERE failure_detail_count != (SELECT COUNT(*) FROM failure_details f WHERE f.policy_id = p.id)").fetchone()[0] == 0


# --------------------------------------------------------------------------- two instances


def test_two_processes_importing_at_once_both_finish_without_duplicates(tmp_path: Path) -> None:
    folder = tmp_path / "f"
    make_folder(folder, 1200)
    db = tmp_path / "shared.db"
    Index(db).close()
    procs = [cli("import", str(folder), "--db", str(db), "--json", "--workers", "1") for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    results = [json.loads(out) for out, _ in outs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert sum(r["imported"] for r in results) == 1200
    assert sum(r["duplicates"] for r in results) == 1200
    assert all(r["failed"] == [] for r in results)
    consistent(db)
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*), COUNT(DISTINCT report_id) FROM reports").fetchone() == (1200, 1200)


_OPEN_AT_ONCE = """
import sys, time
from tlsrpt_gui.core.index import Index, IndexError_
start = float(sys.argv[2])
while time.time() < start:
    pass
try:
    with Index(sys.argv[1]) as ix:
        print("OK", ix.schema_version)
except IndexError_ as exc:
    print("ERROR", exc)
"""


def test_instances_opening_a_new_index_at_the_same_moment(tmp_path: Path) -> None:
    """Two windows (or a window and a cron import) started together on a fresh index."""
    failures: list[str] = []
    for trial in range(6):
        db = tmp_path / f"fresh{trial}.db"
        start = time.time() + 1.0
        procs = [subprocess.Popen([sys.executable, "-c", _OPEN_AT_ONCE, str(db), str(start)], env=ENV,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
        for p in procs:
            out, err = p.communicate(timeout=60)
            assert p.returncode == 0, err
            # Either it works, or it says plainly that another program holds the index.
            if not (out.startswith(f"OK {SCHEMA_VERSION}") or ("locked by another program" in out)):
                failures.append(out.strip())
        with Index(db) as ix:
            assert ix.schema_version == SCHEMA_VERSION
    assert failures == []


def test_second_instance_reads_while_another_writes(tmp_path: Path) -> None:
    db = tmp_path / "i.db"
    with Index(db) as ix:
        ix.import_paths([write_gz(tmp_path / "a.json.gz", make_report(report_id="a"))])
    holder = subprocess.Popen([sys.executable, "-c", "import sqlite3, sys, time\n"
                               "c = sqlite3.connect(sys.argv[1]); c.execute('BEGIN IMMEDIATE')\n"
                               "c.execute(\"INSERT INTO import_runs (started_at, paths) VALUES (0, '[]')\")\n"
                               "print('held', flush=True); time.sleep(60)", str(db)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with open_index(db, read_only=True) as reader:  # reading works while another writes
            assert reader.totals().reports == 1
        t = time.monotonic()
        with pytest.raises(IndexOpenError) as err:
            open_index(db, timeout=0.5)
        assert err.value.kind == "locked" and time.monotonic() - t < 5
        assert "locked by another program" in str(err.value) and str(db) in str(err.value)
    finally:
        holder.kill()
        holder.wait()
    with open_index(db) as ix:  # once the other program is gone, writing works again
        assert ix.totals().reports == 1


# --------------------------------------------------------------------------- full disk


def _make_batches(folder: Path, n: int, rows: int, prefix: str) -> None:
    for i in range(n):
        det = [{"result-type": "certificate-expired", "sending-mta-ip": f"192.0.2.{j % 250}",
                "receiving-mx-hostname": f"mx{j}.example.com", "failed-session-count": 1,
                "additional-information": "x" * 50} for j in range(rows)]
        write_gz(folder / f"{prefix}{i}.json.gz", make_report(report_id=f"{prefix}{i}", policies=[sts_policy(failed=rows, details=det)]))


def test_page_limit_gives_a_clear_error_and_keeps_what_is_indexed(tmp_path: Path) -> None:
    _make_batches(tmp_path / "a", 20, 1, "a")
    _make_batches(tmp_path / "b", 300, 40, "b")
    db = tmp_path / "i.db"
    with Index(db) as ix:
        assert ix.import_paths([tmp_path / "a"], workers=1).imported == 20
        pages = ix.conn.execute("PRAGMA page_count").fetchone()[0]
        ix.conn.execute(f"PRAGMA max_page_count = {pages + 30}")
        with pytest.raises(IndexError_, match="full"):
            ix.import_paths([tmp_path / "b"], workers=1)
        assert ix.totals().reports >= 20
        ix.conn.execute("PRAGMA max_page_count = 1073741823")
        again = ix.import_paths([tmp_path / "a", tmp_path / "b"], workers=1)
        assert again.failed == [] and ix.totals().reports == 320
    consistent(db)


@pytest.fixture
def tiny_fs(tmp_path: Path) -> Iterator[Path]:
    """A 3 MiB tmpfs (needs root); unmounted afterwards."""
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m,mode=0777", "tmpfs", str(mnt)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs to simulate a full disk: {r.stderr.strip() or r.returncode}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_full_disk_cli_says_so_plainly_and_loses_nothing(tmp_path: Path, tiny_fs: Path) -> None:
    _make_batches(tmp_path / "a", 30, 1, "a")
    _make_batches(tmp_path / "b", 400, 60, "b")
    db = tiny_fs / "i.db"
    out, err = cli("import", str(tmp_path / "a"), "--db", str(db), "--workers", "1").communicate(timeout=60)
    assert "Imported 30 report(s)" in out, err
    before = table_counts(db)
    proc = cli("import", str(tmp_path / "b"), "--db", str(db), "--workers", "1")
    out, err = proc.communicate(timeout=120)
    try:
        assert proc.returncode == 1
        assert "full" in err and "Traceback" not in err, err
    finally:
        consistent(db)
        assert table_counts(db)["reports"] >= before["reports"]
    subprocess.run(["mount", "-o", "remount,size=64m", str(tiny_fs)], check=True)
    out, err = cli("import", str(tmp_path / "a"), str(tmp_path / "b"), "--db", str(db), "--workers", "1").communicate(timeout=120)
    assert table_counts(db)["reports"] == 430, out + err
    consistent(db)


def test_full_disk_at_open_is_reported_as_full(tiny_fs: Path) -> None:
    with open(tiny_fs / "filler", "wb") as fh:
        try:
            while True:
                fh.write(b"\0" * 65536)
                fh.flush()
        except OSError:
            pass
    with pytest.raises(IndexOpenError) as err:
        open_index(tiny_fs / "new.db")
    assert err.value.kind == "full" and "full" in str(err.value)
    # Even without the free-space check, SQLite's own error maps to "full".
    with pytest.raises(IndexOpenError) as err:
        open_index(tiny_fs / "new2.db", min_free_bytes=0)
    assert err.value.kind == "full", str(err.value)


# --------------------------------------------------------------------------- damaged index


def corpus_index(tmp_path: Path, n: int = 40) -> tuple[Path, Path]:
    folder = tmp_path / "src"
    make_folder(folder, n)
    db = tmp_path / "idx.db"
    with Index(db) as ix:
        assert ix.import_paths([folder], workers=1).imported == n
    assert not Path(f"{db}-wal").exists()
    return db, folder


def corrupt_table(db: Path, table: str) -> None:
    with sqlite3.connect(db) as conn:
        root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
        size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    with open(db, "r+b") as fh:
        fh.seek((root - 1) * size)
        fh.write(b"\xa5" * size)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_sound_index_checks_ok(tmp_path: Path) -> None:
    db, _ = corpus_index(tmp_path, 5)
    res = check_index(db)
    assert res.ok and res.status == "ok" and res.reports == res.raw_copies == 5
    assert "sound" in res.message
    assert check_index(tmp_path / "none.db").status == "missing"
    assert not (tmp_path / "none.db").exists()


def _summaries(db: Path) -> dict[str, list[tuple[object, ...]]]:
    from tlsrpt_gui.core import rollups

    with sqlite3.connect(db) as conn:
        out = {t: sorted(conn.execute(f"SELECT * FROM {t}"), key=repr) for t in rollups.TABLES}
        out["marks"] = conn.execute("SELECT id, first_of_type FROM failure_details ORDER BY id").fetchall()
    conn.close()
    return out


def test_chart_summaries_out_of_step_are_found_and_counted_again(tmp_path: Path) -> None:
    from tlsrpt_gui.core import rollups
    from tlsrpt_gui.core.maintenance import recount_summaries

    db, _ = corpus_index(tmp_path, 12)
    good = _summaries(db)
    assert len(good["marks"]) == 12 and all(m == 1 for _, m in good["marks"])
    with sqlite3.connect(db) as conn:  # what a fault in the summaries' upkeep would leave
        conn.execute("UPDATE roll_domain_day SET successful = successful + 1 WHERE day = (SELECT MIN(day) FROM roll_domain_day)")
        conn.execute("DELETE FROM text_values WHERE (col, value) = (SELECT col, value FROM text_values LIMIT 1)")
        conn.execute("UPDATE failure_details SET first_of_type = NULL WHERE id = 3")
        conn.execute("DELETE FROM report_days")
    conn.close()
    before = sha(db)
    res = check_index(db)
    assert res.status == "stale" and not res.ok and not res.problems, res
    assert res.stale_summaries == ("roll_domain_day", "text_values", "failure_details.first_of_type", "report_days")
    assert "4 of the summaries" in res.message and "counted again" in res.message
    assert "(sessions per day and domain; the values the text filters search; the marks" in res.message
    assert "roll_" not in res.message  # named in plain words, not by table
    assert set(rollups.DESCRIPTIONS) == {*rollups.TABLES, "failure_details.first_of_type"}  # each has its words
    assert res.reports == 12
    assert check_index(db, quick=True).status == "ok"  # the quick check does not recount them
    assert sha(db) == before  # checking never changes the file
    recount_summaries(db)
    assert check_index(db).status == "ok"
    assert _summaries(db) == good


def test_summaries_are_not_counted_again_while_an_import_has_yet_to_count_them(tmp_path: Path) -> None:
    from tlsrpt_gui.core import rollups

    db, _ = corpus_index(tmp_path, 3)
    with Index(db) as ix:
        ix.conn.execute("INSERT INTO deferred_indexes (name, sql) VALUES (?, '')", (rollups.PENDING,))
        ix.conn.commit()
        assert check_index(db).status == "ok"  # readers sum the rows meanwhile
        with pytest.raises(IndexError_, match=r"import .* is under way"):
            ix.recount_summaries()
        assert ix.conn.execute("SELECT COUNT(*) FROM roll_domain_day").fetchone()[0] > 0  # untouched


@pytest.mark.parametrize("damage", ["failure_details", "diagnostics", "reports_start", "header", "garbage", "empty"])
def test_damage_is_detected(tmp_path: Path, damage: str) -> None:
    db, _ = corpus_index(tmp_path, 30)
    if damage == "header":
        with open(db, "r+b") as fh:
            fh.write(b"\0" * 100)
    elif damage == "garbage":
        db.write_bytes(os.urandom(8192))
    elif damage == "empty":
        db.write_bytes(b"")
    else:
        corrupt_table(db, damage)
    before = sha(db)
    res = check_index(db)
    assert res.status == "damaged" and not res.ok and res.problems, res
    assert "damaged" in res.message and "moved aside, not deleted" in res.message
    assert sha(db) == before  # checking never changes the file
    if damage in ("header", "garbage"):  # damage SQLite sees at once: opening says so
        with pytest.raises(IndexOpenError) as err:
            open_index(db)
        assert err.value.kind == "damaged" and "rebuild" in str(err.value)


def test_rebuild_from_raw_json_when_the_source_files_are_gone(tmp_path: Path) -> None:
    db, folder = corpus_index(tmp_path, 40)
    good = table_counts(db)
    corrupt_table(db, "failure_details")
    corrupt_table(db, "sources")
    damaged = sha(db)
    for f in folder.iterdir():
        f.unlink()
    res = rebuild_index(db)
    assert res.from_raw == 40 and res.from_sources == 0 and res.reports == 40
    assert res.moved_to != db and res.moved_to.name.startswith("idx.db.damaged-")
    assert sha(res.moved_to) == damaged  # moved, byte for byte, not deleted
    assert str(res.moved_to) in res.message
    assert check_index(db).status == "ok"
    assert table_counts(db) == good
    consistent(db)
    with Index(db) as ix:  # the rebuilt index still recognises the reports
        assert ix.conn.execute("SELECT COUNT(DISTINCT source_path) FROM reports").fetchone()[0] == 40


def test_rebuild_from_source_files_when_the_raw_copies_are_damaged(tmp_path: Path) -> None:
    db, _ = corpus_index(tmp_path, 40)
    good = table_counts(db)
    corrupt_table(db, "report_raw")
    res = rebuild_index(db)
    assert res.from_sources == 40 and res.reports == 40 and res.moved_to.exists()
    assert table_counts(db) == good
    consistent(db)


def test_rebuild_of_an_unreadable_file_keeps_it_and_says_where(tmp_path: Path) -> None:
    db = tmp_path / "idx.db"
    db.write_bytes(b"this is not an index\n" * 100)
    (tmp_path / "idx.db-wal").write_bytes(b"stale wal")
    res = rebuild_index(db)
    assert res.reports == 0 and res.moved_to.read_bytes() == b"this is not an index\n" * 100
    assert Path(f"{res.moved_to}-wal").read_bytes() == b"stale wal"
    assert str(res.moved_to) in res.message
    assert check_index(db).status == "ok"
    # a second rebuild in the same second never overwrites the first aside copy
    res2 = rebuild_index(db)
    assert res2.moved_to != res.moved_to and res.moved_to.exists() and res2.moved_to.exists()


def test_open_index_maps_damaged_and_newer(tmp_path: Path) -> None:
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"x" * 4096)
    with pytest.raises(IndexOpenError) as err:
        open_index(bad)
    assert err.value.kind == "damaged" and "rebuild" in str(err.value)
    newer = tmp_path / "newer.db"
    with sqlite3.connect(newer) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(IndexOpenError) as err:
        open_index(newer)
    assert err.value.kind == "newer" and "newer" in str(err.value)
