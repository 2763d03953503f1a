"""Values SQLite cannot take as they come: text that is not valid Unicode (a lone
surrogate escape in a report, a file name in another encoding) and session sums past
64 bits. A report holding one is indexed with it made storable, and noted; it never
stops the import or loses the rest of its batch, whoever writes the batch."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest

from tests.core.conftest import make_report, sts_policy, write_json
from tests.core.test_import import make_folder
from tlsrpt_gui.core import rollups, stats
from tlsrpt_gui.core.index import Index
from tlsrpt_gui.core.query import Filter

BIG = 2**53  # the largest count a report may give (I-JSON's integer range)


def hostile_folder(folder: Path) -> None:
    make_folder(folder, 40)
    # a lone surrogate escape, which the standard JSON decoder lets through
    doc = json.dumps(make_report(org="Surrogate Mail", report_id="lone", policies=[sts_policy("s.example")]))
    (folder / "lone.json").write_text(doc.replace("Surrogate Mail", "Surrogate \\ud800 Mail"), encoding="ascii")
    # a file name in another encoding than UTF-8
    name = os.fsdecode(b"latin-\xe9t\xe9.json")
    write_json(folder / name, make_report(org="Latin Relay", report_id="latin", policies=[sts_policy("l.example")]))
    # session counts whose sum is past 64 bits: 1,100 policies of 2**53
    big = [sts_policy(f"d{i}.example", ok=BIG, failed=0) for i in range(1100)]
    write_json(folder / "big.json", make_report(org="Huge Mail", report_id="big", policies=big))
    write_json(folder / "big2.json", make_report(org="Huge Mail", report_id="big2", policies=big))


@pytest.mark.parametrize("bulk", [False, True])
def test_unstorable_values_are_made_storable_and_the_rest_imports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                  bulk: bool) -> None:
    import tlsrpt_gui.core.index as index_mod

    folder = tmp_path / "in"
    hostile_folder(folder)
    if bulk:  # the parser processes write their groups themselves
        monkeypatch.setattr(index_mod, "BULK_MIN_FILES", 20)
        monkeypatch.setattr(index_mod, "WRITE_GROUP_FILES", 8)
    with Index(tmp_path / "u.db") as ix:
        result = ix.import_paths([folder], workers=2 if bulk else 1)
        assert (result.imported, result.duplicates, result.failed, result.skipped) == (44, 0, [], [])
        conn = ix.conn
        org, rid, notes = conn.execute(
            "SELECT organization_name, id, diagnostic_count FROM reports WHERE report_id = 'lone'").fetchone()
        assert org == "Surrogate \ufffd\ufffd\ufffd Mail" and notes >= 1
        codes = [r[0] for r in conn.execute("SELECT code FROM diagnostics WHERE report_id = ?", (rid,))]
        assert "text-not-unicode" in codes
        assert b"\\ud800" in (ix.raw_json(rid) or b"")  # kept as sent
        (path,) = conn.execute("SELECT source_path FROM reports WHERE report_id = 'latin'").fetchone()
        assert path.endswith("latin-\ufffdt\ufffd.json")
        assert conn.execute("SELECT COUNT(*) FROM sources WHERE path LIKE '%latin-%' AND outcome = 'imported'").fetchone()[0] == 1
        # a report's sum past 64 bits: kept as an approximate number
        (ok,) = conn.execute("SELECT successful_sessions FROM reports WHERE report_id = 'big'").fetchone()
        assert ok == pytest.approx(1100 * BIG)
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert rollups.ready(conn) and rollups.consistent(conn)
        # sums over the index go past 64 bits too: the totals and the charts still answer
        totals = ix.totals()
        assert totals.reports == 44 and totals.successful_sessions == pytest.approx(2 * 1100 * BIG, rel=1e-6)
        days = stats.sessions_per_day(conn, Filter())
        assert sum(d.successful for d in days) == pytest.approx(totals.successful_sessions, rel=1e-6)
        assert stats.sessions_per_day(conn, Filter(reporter="Huge Mail"))


@pytest.mark.parametrize("bulk", [False, True])
def test_result_types_one_once_made_storable_count_a_policy_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                  bulk: bool) -> None:
    """Two result types that differ only in lone surrogates are one type once stored: the
    policy's first row of that type is marked once, so the charts of "policies with a
    failure of type X" count its sessions once, as the rows say (a review found them
    counted twice)."""
    import tlsrpt_gui.core.index as index_mod

    folder = tmp_path / "in"
    make_folder(folder, 40)
    details = [{"result-type": "TYPEA", "failed-session-count": 1}, {"result-type": "TYPEB", "failed-session-count": 2}]
    doc = json.dumps(make_report(org="Surrogate Mail", report_id="two",
                                 policies=[sts_policy("s.example", ok=10, failed=3, details=details)]))
    (folder / "two.json").write_text(doc.replace("TYPEA", "x\\ud800").replace("TYPEB", "x\\udbff"), encoding="ascii")
    if bulk:
        monkeypatch.setattr(index_mod, "BULK_MIN_FILES", 20)
        monkeypatch.setattr(index_mod, "WRITE_GROUP_FILES", 8)
    with Index(tmp_path / "u.db") as ix:
        assert ix.import_paths([folder], workers=2 if bulk else 1).imported == 41
        conn = ix.conn
        rows = conn.execute("SELECT result_type, first_of_type FROM failure_details WHERE organization_name = ?",
                            ("Surrogate Mail",)).fetchall()
        assert [r[0] for r in rows] == ["x\ufffd\ufffd\ufffd"] * 2 and sorted(r[1] or 0 for r in rows) == [0, 1]
        assert rollups.consistent(conn)
        flt = Filter(result_type=rows[0][0], reporter="Surrogate Mail")  # (read from the rows, not the summaries)
        days = stats.sessions_per_day(conn, flt)
        assert days == stats.sessions_per_day(conn, flt, rollups=False) and [(d.successful, d.failed) for d in days] == [(10, 3)]


def test_a_batch_with_an_unstorable_value_loses_nothing_else(tmp_path: Path) -> None:
    """Without the safety net the batch's one transaction would fail whole: every item of
    it, before and after the bad one, is written."""
    folder = tmp_path / "in"
    hostile_folder(folder)
    with Index(tmp_path / "u.db") as ix:
        ix.import_paths([folder], workers=1)
        with sqlite3.connect(tmp_path / "u.db") as conn:
            rows = conn.execute("SELECT COUNT(*), COUNT(DISTINCT run_id) FROM sources WHERE outcome = 'imported'").fetchone()
        assert rows == (44, 1)


def test_summaries_a_schema_upgrade_adds_survive_sums_past_64_bits(tmp_path: Path) -> None:
    """The summaries a schema upgrade computes in SQL sum like the rest: past 64 bits, as
    approximate numbers (SUM stopped with "integer overflow", and the index would not open)."""
    detail = [{"result-type": "certificate-expired", "failed-session-count": 1}]
    big = [sts_policy("big.example", ok=BIG, failed=1, details=detail) for _ in range(1100)]
    write_json(tmp_path / "in" / "a.json", make_report(org="Huge Mail", report_id="a", policies=big))
    write_json(tmp_path / "in" / "b.json", make_report(org="Huge Mail", report_id="b", policies=big))
    with Index(tmp_path / "u.db") as ix:
        assert ix.import_paths([tmp_path / "in"], workers=1).imported == 2
        kept = {t: sorted(ix.conn.execute(f"SELECT * FROM {t}")) for t in (*rollups.SCHEMA_4_TABLES, *rollups.SCHEMA_5_TABLES)}
        with ix.conn:
            rollups.add_tables(ix.conn, (*rollups.SCHEMA_4_TABLES, *rollups.SCHEMA_5_TABLES))
        for table, rows in kept.items():
            again = sorted(ix.conn.execute(f"SELECT * FROM {table}"))
            assert len(again) == len(rows) > 0 and all(a == pytest.approx(b) for a, b in zip(again, rows, strict=True)), table
