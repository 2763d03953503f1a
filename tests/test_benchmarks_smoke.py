"""The benchmarks run at a tiny size (smoke tests; the real figures are in the README)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def bench(script: str, *args: str) -> dict[str, object]:
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), *args],
                          capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result: dict[str, object] = json.loads(proc.stdout)
    return result


@pytest.mark.slow
def test_import_benchmark(tmp_path: Path) -> None:
    r = bench("bench_import.py", "--reports", "60", "--dir", str(tmp_path / "r"), "--window")
    assert r["reports"] == 60
    assert r["import"]["reports"] == 60 and r["import"]["failed"] == 0  # type: ignore[index]
    assert r["window"]["reports"] == 60 and r["window"]["failed"] == 0  # type: ignore[index]
    assert r["ratio_import_to_baseline"] > 0  # type: ignore[operator]
    assert len(list((tmp_path / "r").glob("*.json.gz"))) == 60


@pytest.mark.slow
def test_charts_benchmark() -> None:
    r = bench("bench_charts.py", "--reports", "300")
    assert r["reports"] == 300
    assert set(r["runs"]["none"]) >= {"sessions_per_day", "missing_reports", "policy_coverage"}  # type: ignore[index]


@pytest.mark.slow
def test_tables_benchmark() -> None:
    r = bench("bench_tables.py", "--rows", "2000")
    assert r["failure_rows"] == 2000
    assert set(r["tables"]) == {"FailuresModel", "PoliciesModel", "ReportsModel"}  # type: ignore[arg-type]
    assert all(t["filter_then_sort_count"] > 50 for t in r["tables"].values())  # type: ignore[attr-defined]
    whole = r["tables"]["FailuresModel"]["scroll_whole_table"]  # type: ignore[index]
    assert whole["rows_loaded"] == 2000 and not whole["stopped_at_cap"]
    counted = r["tables"]["FailuresModel"]["counted"]  # type: ignore[index]
    assert counted["none"]["rows"] == 2000 and "drag_slowest_step_ms" in counted["none"]


@pytest.mark.slow
def test_startup_benchmark() -> None:
    r = bench("bench_startup.py", "--runs", "1")
    # the first paint, as the window reports it, comes after the start and before the exit
    for side in ("app", "bare_qt"):
        assert 0 < r[f"{side}_first_paint_s"]["median"] < r[f"{side}_exit_s"]["median"]  # type: ignore[index]


def test_import_benchmark_reuses_only_the_same_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    monkeypatch.delitem(sys.modules, "synth", raising=False)
    spec = importlib.util.spec_from_file_location("tlsrpt_bench_import", ROOT / "benchmarks" / "bench_import.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    folder = tmp_path / "set"

    def stamps() -> dict[str, int]:
        return {p.name: p.stat().st_mtime_ns for p in folder.glob("*.json.gz")}

    module.ensure_reports(folder, 40)
    first = stamps()
    assert len(first) == 40 and json.loads((folder / ".synth-set").read_text())["reports"] == 40
    module.ensure_reports(folder, 40)
    assert stamps() == first  # the same set: kept
    note = json.loads((folder / ".synth-set").read_text())
    (folder / ".synth-set").write_text(json.dumps({**note, "version": note["version"] - 1}))
    (folder / next(iter(first))).write_bytes(b"stale")
    module.ensure_reports(folder, 40)  # written by an older generator: written again
    assert len(stamps()) == 40 and b"stale" not in {p.read_bytes() for p in folder.glob("*.json.gz")}
    assert json.loads((folder / ".synth-set").read_text()) == note


@pytest.mark.slow
def test_run_all_quick(tmp_path: Path) -> None:
    """The one command behind the README's Performance table, at its tiny size: every
    benchmark runs, results.json keeps them, and the table has each target's row."""
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run_all.py"), "--quick", "--work", str(tmp_path)],
                          capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    results = json.loads((tmp_path / "results.json").read_text())
    assert set(results) >= {"machine", "imports", "tables", "charts", "big_tables", "window", "startup"}
    assert set(results["window"]["rss_after"]) == {"reports", "policies", "failures", "charts"}
    for repaint in results["window"]["repaint"].values():  # each table's, and Qt's own model's
        assert repaint["baseline_ms"] > 0 and repaint["again_ms"] > 0 and repaint["first_ms"] > 0
        assert repaint["rows_in_view"] > 10 and repaint["ratio_again"] == repaint["again_ms"] / repaint["baseline_ms"]
    big = results["big_tables"]
    assert big["reports"] == 2000
    assert set(big["filter_sort"]) == {"ReportsModel", "PoliciesModel", "FailuresModel"}
    assert all(t["cases"] > 100 for t in big["filter_sort"].values())
    assert big["far_jumps"]["middle_before_signposts"]["cases"] > 10
    lines = proc.stdout.strip().splitlines()
    # the quick run imports the usual mix (in the window too), reports of many failure rows,
    # and the usual mix from the disk
    assert [("window" in i, i["failure_rows_each"], i["files_from"]) for i in results["imports"]] == [
        (True, None, "page cache"), (False, 50, "page cache"), (False, None, "disk")]
    assert set(big["exports"]) == {"FailuresModel", "ReportsModel", "cli_failures"}
    assert big["exports"]["ReportsModel"]["rows"] == 2000
    assert lines[0].startswith("| what | measured |") and len(lines) == 2 + 4 + 11
    assert any(line.startswith("| a table repainted as its scroll bar is dragged") for line in lines)
    assert any(line.startswith("| import 4 reports of 50 failure details each |") for line in lines)
    assert any(line.startswith("| the same in the window") for line in lines)
    assert any(line.startswith("| import 60 reports from the disk (") for line in lines)
    assert all(line.rstrip().endswith(("| yes |", "| **no** |")) for line in lines[2:]
               if "export of whole tables" not in line and "in the background while" not in line)
    assert any("in the background while the scroll bar is dragged" in line and line.rstrip().endswith("| — |")
               for line in lines)
    assert any(line.startswith("| export of whole tables as CSV") and line.rstrip().endswith("| — |") for line in lines)
    # the table again, from the kept results alone
    again = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run_all.py"), "--table", str(tmp_path / "results.json")],
                           capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert again.returncode == 0 and again.stdout == proc.stdout
