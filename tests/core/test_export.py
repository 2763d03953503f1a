"""Flat exports: identity on every row, valid JSON/NDJSON, neutralised CSV."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.core.conftest import REPO, make_report, sts_policy, write_json
from tlsrpt_gui.core.export import neutralise

CliRunner = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def hostile_db(tmp_path: Path, run_cli: CliRunner) -> Path:
    details = [
        {"result-type": "validation-failure", "sending-mta-ip": "192.0.2.9", "receiving-mx-hostname": "mx1.example.com",
         "failed-session-count": 4, "failure-reason-code": '=HYPERLINK("http://evil.example","click")'},
        {"result-type": "certificate-expired", "sending-mta-ip": "2001:db8::1", "receiving-mx-hostname": "+mx2.example.com",
         "failed-session-count": 1, "additional-information": "@SUM(A1:A9)"},
    ]
    write_json(tmp_path / "in" / "a.json", make_report(org="-Evil <b>Org</b>", report_id="@id", policies=[sts_policy(ok=7, failed=5, details=details), sts_policy("example.net", ok=3)]))
    write_json(tmp_path / "in" / "b.json", make_report(org="Plain Org", report_id="b-1", start="2024-05-02T00:00:00Z", end="2024-05-02T23:59:59Z"))
    db = tmp_path / "e.db"
    run_cli("import", str(tmp_path / "in"), "--db", str(db), check_rc=0)
    return db


def test_failure_rows_carry_report_identity_and_policy(hostile_db: Path, run_cli: CliRunner) -> None:
    rows = [json.loads(line) for line in run_cli("export", "failures", "--format", "ndjson", "--db", str(hostile_db), check_rc=0).stdout.splitlines()]
    assert len(rows) == 2
    for row in rows:
        assert row["organization_name"] == "-Evil <b>Org</b>"
        assert row["report_id"] == "@id"
        assert row["policy_domain"] == "example.com" and row["policy_type"] == "sts"
        assert row["start_datetime"] == "2024-05-01T00:00:00Z"
    assert rows[0]["failure_reason_code"] == '=HYPERLINK("http://evil.example","click")'  # JSON keeps data as is


def test_csv_neutralises_formulas(hostile_db: Path, run_cli: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "f.csv"
    run_cli("export", "failures", "--format", "csv", "--db", str(hostile_db), "-o", str(out), check_rc=0)
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert rows[0]["failure_reason_code"] == "'=HYPERLINK(\"http://evil.example\",\"click\")"
    assert rows[0]["organization_name"] == "'-Evil <b>Org</b>"
    assert rows[0]["report_id"] == "'@id"
    assert rows[1]["receiving_mx_hostname"] == "'+mx2.example.com"
    assert rows[1]["additional_information"] == "'@SUM(A1:A9)"
    assert rows[0]["failed_session_count"] == "4"


def test_reports_and_policies_exports(hostile_db: Path, run_cli: CliRunner) -> None:
    reports = json.loads(run_cli("export", "reports", "--format", "json", "--db", str(hostile_db), check_rc=0).stdout)
    assert [r["report_id"] for r in reports] == ["@id", "b-1"]
    assert reports[0]["successful_sessions"] == 10 and reports[0]["failed_sessions"] == 5
    assert reports[0]["policy_domains"] == "example.com, example.net"
    policies = json.loads(run_cli("export", "policies", "--format", "json", "--db", str(hostile_db), check_rc=0).stdout)
    assert len(policies) == 3
    assert policies[0]["mx_hosts"] == ["mx1.example.com"]
    assert policies[0]["sts_mode"] == "enforce"
    csv_text = run_cli("export", "policies", "--db", str(hostile_db), check_rc=0).stdout
    assert csv_text.splitlines()[0].startswith("organization_name,report_id,")
    assert "version: STSv1 | mode: enforce" in csv_text


def test_empty_index_exports_valid_json(tmp_path: Path, run_cli: CliRunner) -> None:
    from tlsrpt_gui.core.index import Index

    Index(tmp_path / "empty.db").close()
    out = run_cli("export", "reports", "--format", "json", "--db", str(tmp_path / "empty.db"), check_rc=0).stdout
    assert json.loads(out) == []


@pytest.mark.parametrize("command", [["export", "reports"], ["stats"], ["stats", "--json"]])
def test_a_mistyped_index_path_is_said_and_never_made(tmp_path: Path, run_cli: CliRunner, command: list[str]) -> None:
    """Reading out an index that is not there says so; it does not make a new empty one
    (nor its folder) and print nothing or zeros."""
    db = tmp_path / "no" / "such" / "index.db"
    proc = run_cli(*command, "--db", str(db), check_rc=1)
    assert proc.stdout == "" and "there is no index at" in proc.stderr
    assert not (tmp_path / "no").exists()


def test_export_never_overwrites_the_index(tmp_path: Path, run_cli: CliRunner, hostile_db: Path) -> None:
    import shutil

    db = tmp_path / "copy.db"
    shutil.copy(hostile_db, db)
    before = db.read_bytes()
    for target in (db, tmp_path / "." / "copy.db", tmp_path / "copy.db-wal"):
        proc = run_cli("export", "reports", "--db", str(db), "-o", str(target), check_rc=2)
        assert "is the index itself" in proc.stderr
    assert db.read_bytes() == before
    assert json.loads(run_cli("stats", "--db", str(db), "--json", check_rc=0).stdout)["reports"] > 0


@pytest.mark.parametrize("where", ["missing/out.csv", "folder", "/dev/full", "stdout"])
def test_an_output_that_cannot_be_written_is_said_plainly(tmp_path: Path, run_cli: CliRunner, hostile_db: Path,
                                                           where: str) -> None:
    (tmp_path / "folder").mkdir()
    if where == "stdout":  # a redirection to a full disk, for each command that prints
        import subprocess
        import sys

        for command in (["export", "failures"], ["stats"], ["stats", "--json"]):
            with open("/dev/full", "w") as full:
                proc = subprocess.run([sys.executable, "-m", "tlsrpt_gui", *command, "--db", str(hostile_db)],
                                      stdout=full, stderr=subprocess.PIPE, text=True, timeout=120,
                                      env={**os.environ, "PYTHONPATH": str(REPO)})
            assert proc.returncode == 1 and proc.stderr.startswith("tlsrpt-gui: cannot write the standard output")
        return
    target = where if where.startswith("/") else str(tmp_path / where)
    proc = run_cli("export", "failures", "--db", str(hostile_db), "-o", target, check_rc=1)
    assert proc.stderr.startswith("tlsrpt-gui: cannot write") and "Traceback" not in proc.stderr


def test_an_index_that_cannot_be_written_is_read_out_read_only(hostile_db: Path, monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    from tlsrpt_gui import cli
    from tlsrpt_gui.core import index as index_mod

    opened: list[bool] = []
    real = index_mod.Index.__init__

    def init(self: Any, path: Any, *, read_only: bool = False, **kw: Any) -> None:
        opened.append(read_only)
        real(self, path, read_only=read_only, **kw)

    monkeypatch.setattr(cli.os, "access", lambda path, mode: False)  # (as root, a file's mode would not stop writes)
    monkeypatch.setattr(index_mod.Index, "__init__", init)
    assert cli.main(["stats", "--db", str(hostile_db), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["reports"] == 2 and opened == [True]


@pytest.mark.parametrize(("value", "expected"), [("=1+1", "'=1+1"), ("+1", "'+1"), ("-x", "'-x"), ("@x", "'@x"), ("\tx", "'\tx"), ("\rx", "'\rx"), ("ok", "ok"), (-5, -5), (None, None)])
def test_neutralise(value: object, expected: object) -> None:
    assert neutralise(value) == expected


@pytest.mark.parametrize("fmt", ["csv", "json", "ndjson"])
def test_write_rows_neutralises_each_cell_and_reads_lists(fmt: str) -> None:
    """Every text cell that a spreadsheet would run is neutralised in CSV (numbers, NULLs
    and safe text as they are); a list column's JSON is joined (CSV) or decoded (JSON),
    and a list column that does not hold a JSON list, which the index never writes (a
    number, a string, an object, not JSON at all), is kept as its text, not a crash nor
    its characters or keys joined."""
    from tlsrpt_gui.core.export import write_rows

    columns = ("organization_name", "mx_hosts", "failed_sessions", "policy_strings", "sts_mode")
    rows = [("=1+1", '["mx1.example", "=mx2"]', 3, "7", None),
            ("ok", "+1", -4, '["version: STSv1"]', "@x"),
            ("\tx", "not json", None, "[]", "-"),
            ("s", '"=cmd"', 0, '{"a": 1}', "")]
    out = io.StringIO()
    assert write_rows(out, columns, iter(rows), fmt) == 4  # type: ignore[arg-type]
    if fmt == "csv":
        got = list(csv.reader(io.StringIO(out.getvalue())))
        assert got == [list(columns),
                       ["'=1+1", "mx1.example | =mx2", "3", "7", ""],  # (a joined list starts as its first item)
                       ["ok", "'+1", "-4", "version: STSv1", "'@x"],
                       ["'\tx", "not json", "", "", "'-"],
                       ["s", '"=cmd"', "0", '{"a": 1}', ""]]
    else:
        text = out.getvalue()
        records = json.loads(text) if fmt == "json" else [json.loads(line) for line in text.splitlines()]
        assert records == [dict(zip(columns, r, strict=True)) for r in [
            ("=1+1", ["mx1.example", "=mx2"], 3, 7, None), ("ok", "+1", -4, ["version: STSv1"], "@x"),
            ("\tx", "not json", None, [], "-"), ("s", "=cmd", 0, {"a": 1}, "")]]
    with pytest.raises(ValueError):  # a row that does not fit the columns
        write_rows(io.StringIO(), columns, iter([("a", "b")]), fmt)  # type: ignore[arg-type]


def test_progress_goes_to_stderr_for_long_runs() -> None:
    import time

    from tlsrpt_gui.cli import _ProgressPrinter
    from tlsrpt_gui.core.index import Progress

    out = io.StringIO()
    printer = _ProgressPrinter(out)
    printer(Progress(1, 10, "/r/a.json"))
    assert out.getvalue() == ""  # quiet for short runs
    printer.started -= 2.0  # the run has now taken two seconds
    printer(Progress(2, 10, "/r/b.json"))
    printer(Progress(3, 10, "/r/c.json"))  # throttled
    printer(Progress(10, 10, "/r/" + "x" * 100 + ".json"))
    lines = out.getvalue().splitlines()
    assert lines[0] == "[2/10] /r/b.json"
    assert lines[-1].startswith("[10/10] …") and len(lines) == 2
    assert time.monotonic() - printer.last < 5
