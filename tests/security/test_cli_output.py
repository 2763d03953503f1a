"""What the CLI prints and exports from untrusted reports: no terminal controls, no live formulas.

Decision (see docs/security.md): CSV neutralises spreadsheet formulas; JSON and
NDJSON keep every value exactly as the reporter sent it, for machine consumers.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.core.conftest import make_report, sts_policy, write_json
from tests.security.conftest import REPO, has_control_chars

ENV = dict(os.environ, PYTHONPATH=str(REPO))
ESC_NAMES = ["\x1b[31mred\x1b[0m", "\x1b]0;owned title\x07", "bell\x07", "\x9b2J-c1-csi", "cr\rover", "bidi\u202eflip"]


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tlsrpt_gui", *args], capture_output=True, text=True, env=ENV,
                          cwd=cwd, timeout=120)


def no_controls(text: str) -> bool:
    return not has_control_chars(text) and "\u202e" not in text


def hostile_inputs(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(ESC_NAMES):
        (folder / f"{name}-{i}.json").write_bytes(b"not json " + name.encode())  # fails, reason names it
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for i, name in enumerate(ESC_NAMES):
            zf.writestr(f"{name}{i}.json", b"{broken")
    (folder / "members.zip").write_bytes(buf.getvalue())
    subject = "Subject: \x1b[5mblink =?utf-8?q?=1B=5B31m?= \u202e\r\n".encode()
    (folder / "subject.eml").write_bytes(b"From: a@b.example\r\n" + subject + b"Content-Type: text/plain\r\n\r\nhi\r\n")
    bad = make_report(org="\x1b[31mEvil Org", report_id="\x1b]0;t\x07")
    bad["date-range"]["start-datetime"] = "\x1b[31m2024"  # refused with a reason quoting the value
    write_json(folder / "reason.json", bad)


def test_import_output_has_no_control_characters(tmp_path: Path) -> None:
    hostile_inputs(tmp_path / "in")
    proc = run("import", str(tmp_path / "in"), "--db", str(tmp_path / "i.db"), cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stdout.count("FAILED") >= len(ESC_NAMES) * 2 + 1
    for stream in (proc.stdout, proc.stderr):
        assert no_controls(stream), [line for line in stream.splitlines() if not no_controls(line)]


def test_import_json_output_has_no_raw_control_characters(tmp_path: Path) -> None:
    hostile_inputs(tmp_path / "in")
    js = run("import", str(tmp_path / "in"), "--db", str(tmp_path / "j.db"), "--json", cwd=tmp_path)
    data = json.loads(js.stdout)  # the names survive exactly, as JSON escapes
    assert any("\x1b" in f["source"] for f in data["failed"])
    assert no_controls(js.stdout), [line for line in js.stdout.split(", ") if not no_controls(line)]


def test_progress_line_has_no_control_characters() -> None:
    from tlsrpt_gui.cli import _ProgressPrinter
    from tlsrpt_gui.core.index import Progress

    out = io.StringIO()
    printer = _ProgressPrinter(out)
    printer.started -= 2.0  # a run long enough to show progress
    printer(Progress(5, 5, "/in/\x1b]0;owned\x07\x1b[31m.json"))
    assert out.getvalue() and no_controls(out.getvalue()), repr(out.getvalue())


@pytest.fixture(scope="module")
def hostile_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("csv")
    formulas = ["=HYPERLINK(\"http://x.example\",\"x\")", "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "=cmd|' /C calc'!A0"]
    details = [{"result-type": f, "sending-mta-ip": f, "receiving-mx-hostname": f, "receiving-mx-helo": f, "receiving-ip": f,
                "failed-session-count": 1, "additional-information": f, "failure-reason-code": f} for f in formulas]
    pol = sts_policy(domain="=evil.example", failed=len(formulas), details=details)
    pol["policy"]["policy-string"] = formulas
    pol["policy"]["mx-host"] = formulas
    pol["policy"]["policy-type"] = "=sts"
    docs = [make_report(org=f, report_id=f, contact=f, policies=[pol]) for f in formulas]
    for i, doc in enumerate(docs):
        (d / f"{i}.json.gz").write_bytes(gzip.compress(json.dumps(doc).encode()))
    proc = run("import", str(d), "--db", str(d / "i.db"), cwd=d)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return d / "i.db"


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@pytest.mark.parametrize("table", ["reports", "policies", "failures"])
def test_csv_export_neutralises_every_formula(hostile_db: Path, tmp_path: Path, table: str) -> None:
    out = tmp_path / f"{table}.csv"
    proc = run("export", table, "--format", "csv", "--db", str(hostile_db), "-o", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    with open(out, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert len(rows) > 1
    cells = [c for row in rows[1:] for c in row]
    live = [c for c in cells if c.startswith(FORMULA_START)]
    assert live == []
    assert any(c.startswith("'=") for c in cells) and any(c.startswith("'@") for c in cells)


@pytest.mark.parametrize("fmt", ["json", "ndjson"])
def test_json_export_keeps_values_exactly(hostile_db: Path, tmp_path: Path, fmt: str) -> None:
    proc = run("export", "failures", "--format", fmt, "--db", str(hostile_db), cwd=tmp_path)
    assert proc.returncode == 0
    rows = json.loads(proc.stdout) if fmt == "json" else [json.loads(line) for line in proc.stdout.splitlines()]
    assert {r["organization_name"] for r in rows} >= {"=HYPERLINK(\"http://x.example\",\"x\")", "@SUM(A1)", "-2+3"}
    assert no_controls(proc.stdout)  # \t and \r appear only as JSON escapes


def test_exports_keep_terminal_controls_off_a_terminal(tmp_path: Path) -> None:
    """JSON exports are ASCII (values exact, as escapes); CSV written to a terminal shows
    its control characters as ``?`` (to a file or a pipe it keeps them exactly)."""
    from tlsrpt_gui.cli import _TerminalText

    folder = tmp_path / "in"
    nasty = "Evil\x1b]0;PWNED\x07\x1b[2J\x9b2J\u202eflip"
    write_json(folder / "r.json", make_report(org=nasty, report_id="nasty"))
    assert run("import", str(folder), "--db", str(tmp_path / "n.db"), cwd=tmp_path).returncode == 0
    for fmt in ("json", "ndjson"):
        proc = run("export", "reports", "--format", fmt, "--db", str(tmp_path / "n.db"), cwd=tmp_path)
        assert proc.stdout.isascii() and nasty in proc.stdout.encode().decode("unicode_escape")
        rows = json.loads(proc.stdout) if fmt == "json" else [json.loads(line) for line in proc.stdout.splitlines()]
        assert rows[0]["organization_name"] == nasty
    out = io.StringIO()
    _TerminalText(out).write(f"a,{nasty}\r\n\tb")
    assert out.getvalue() == "a,Evil?]0;PWNED??[2J?2J?flip\r\n\tb"
