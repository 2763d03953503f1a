"""Every benchmark at the sizes of the README's Performance table, in one command.

    python benchmarks/run_all.py [--work DIR] [--parsedmarc-python PY] [--steps S,...] [--quick]
    make bench                                      # the same, after setting up

Runs, one after another (each prints its own JSON; they are kept in
``DIR/results.json``, DIR being ``bench-work/`` by default):

* ``bench_import.py`` at 20,000 (best of 3; in the window too), 200,000 (best of 2)
  and 1,000,000 reports, and 60 reports of 5,000 failure details each (best of 3),
  all read from the page cache; then at 20,000 (best of 3, in the window too) and
  200,000 reports read from the disk (``--cold``); the generated reports kept in DIR
  and reused by later runs;
* ``bench_tables.py`` at 1,000,000 failure rows;
* ``bigindex.py``: an index of 1,000,000 reports in DIR (reused while it is of
  this schema), then ``bench_charts.py``, ``bench_big_tables.py``,
  ``bench_window.py`` and ``bench_startup.py`` on it.

Then prints the Performance table's rows as Markdown: each figure with its
baseline from the same run, the target, and whether it is met. ``--quick`` runs
each at a tiny size (a smoke test: its figures mean nothing). The full run takes
about half an hour on two cores, most of it making the reports and indexes the
first time, and about 6 GB of disk in DIR (bench_tables.py keeps its 1 GB index in
the temporary folder).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from tlsrpt_gui.core.index import SCHEMA_VERSION  # noqa: E402

MB = 1_000_000
#: the sizes of the full run, and of --quick
#: (imports: reports, repeats, whether the window imports them too, and failure details
#: in each report, or 0 for the usual mix)
#: each import: (files, runs, in the window too, failure rows a report (0: the usual mix), from the disk)
FULL: dict[str, Any] = {"imports": [(20_000, 3, True, 0, False), (200_000, 2, False, 0, False),
                                    (1_000_000, 1, False, 0, False), (60, 3, False, 5000, False),
                                    (20_000, 3, True, 0, True), (200_000, 1, False, 0, True)],
                        "failure_rows": 1_000_000, "big_reports": 1_000_000, "startup_runs": 5, "window_pause_ms": 30}
QUICK: dict[str, Any] = {"imports": [(60, 1, True, 0, False), (4, 1, False, 50, False), (60, 1, False, 0, True)], "failure_rows": 2_000, "big_reports": 2_000,
                         "startup_runs": 1, "window_pause_ms": 2}


def _bench(script: str, *args: str) -> dict[str, Any]:
    """Run ``benchmarks/script`` with ``args`` and return the JSON it prints."""
    t = time.perf_counter()
    print(f"… {script} {' '.join(args)}", file=sys.stderr, flush=True)
    proc = subprocess.run([sys.executable, str(HERE / script), *args], capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit(f"{script} failed:\n{proc.stderr[-3000:]}")
    print(f"  done in {time.perf_counter() - t:.0f} s", file=sys.stderr, flush=True)
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def _big_index(path: Path, reports: int) -> Path:
    """An index of ``reports`` reports made by bigindex.py, reused while it is of this schema."""
    if path.exists():
        try:
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
                version = conn.execute("PRAGMA user_version").fetchone()[0]
                n = conn.execute("SELECT MAX(id) FROM reports").fetchone()[0]
            if version == SCHEMA_VERSION and n == reports:
                return path
        except sqlite3.Error:
            pass
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    print(f"… bigindex.py {path} --reports {reports}", file=sys.stderr, flush=True)
    subprocess.run([sys.executable, str(HERE / "bigindex.py"), str(path), "--reports", str(reports)],
                   check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return path


#: the steps of a run, in order
STEPS: tuple[str, ...] = ("imports", "tables", "charts", "big_tables", "window", "startup")


def run(work: Path, sizes: dict[str, Any], parsedmarc_python: str | None, steps: tuple[str, ...] = STEPS,
        out: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run ``steps``, replacing their results in ``out`` (those of an earlier run)."""
    work.mkdir(parents=True, exist_ok=True)
    out = dict(out or {})
    out["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                      "sqlite": sqlite3.sqlite_version}
    if not isinstance(out.get("started"), dict):
        out["started"] = {}
    for step in steps:
        out["started"][step] = time.strftime("%Y-%m-%d %H:%M:%S")
        if step == "imports":
            out["imports"] = []
            for n, repeat, window, failure_rows, cold in sizes["imports"]:
                folder = work / (f"reports-{n}x{failure_rows}" if failure_rows else f"reports-{n}")
                args = ["--reports", str(n), "--repeat", str(repeat), "--dir", str(folder)]
                if window:
                    args.append("--window")
                if failure_rows:
                    args += ["--failure-rows", str(failure_rows)]
                if cold:
                    args.append("--cold")
                if parsedmarc_python:
                    args += ["--parsedmarc-python", parsedmarc_python]
                out["imports"].append(_bench("bench_import.py", *args))
        elif step == "tables":
            out["tables"] = _bench("bench_tables.py", "--rows", str(sizes["failure_rows"]))
        else:
            big = _big_index(work / f"big-{sizes['big_reports']}.sqlite3", sizes["big_reports"])
            if step == "startup":
                out["startup"] = _bench("bench_startup.py", "--db", str(big), "--runs", str(sizes["startup_runs"]))
            elif step == "window":
                out["window"] = _bench("bench_window.py", "--db", str(big), "--pause-ms", str(sizes["window_pause_ms"]))
            else:
                out[step] = _bench(f"bench_{step}.py", "--db", str(big))
    return out


def _row(what: str, measured: str, baseline: str, target: str, met: bool | None) -> str:
    """One row of the Performance table (``met`` None: a figure with no target)."""
    cells = (what, measured, baseline, target, "—" if met is None else "yes" if met else "**no**")
    return "|" + "|".join(f" {c} " if c else " " for c in cells) + "|"


def table(r: dict[str, Any]) -> str:
    """The Performance table's rows, from the results of :func:`run`."""
    rows = ["| what | measured | baseline in the same run | target | met? |", "|---|---|---|---|---|"]
    for imp in r["imports"]:
        n, s, base = imp["reports"], imp["import"]["seconds"], imp["baseline"]["seconds"]
        ratio = imp["ratio_import_to_baseline"]
        pm = imp.get("parsedmarc", {})
        vs_pm = f"; parsedmarc {pm['seconds']:.2f} s" if "seconds" in pm else "; parsedmarc not installed"
        heavy = imp.get("failure_rows_each")
        what = f"import {n:,} reports" + (f" of {heavy:,} failure details each" if heavy else "")
        if imp.get("files_from") == "disk":
            what += " from the disk (each side reads them after their pages are dropped from the page cache)"
        rows.append(_row(what, f"{s:.2f} s ({n / s:,.0f}/s), {ratio:.2f} ×",
                         f"plain parse {base:.2f} s{vs_pm}", "≤ 1.5 × plain parse, faster than parsedmarc",
                         ratio <= 1.5 and imp.get("ratio_import_to_parsedmarc", 0.0) < 1))
        if "window" in imp:
            ws, wratio = imp["window"]["seconds"], imp["ratio_window_to_baseline"]
            rows.append(_row("the same in the window, dropped on it once started", f"{ws:.2f} s ({n / ws:,.0f}/s), "
                             f"{wratio:.2f} ×", f"plain parse {base:.2f} s", "≤ 1.5 × plain parse", wratio <= 1.5))
    rss = max(max(i["import"]["peak_rss"], i["import"].get("peak_rss_parser_process", 0),
                  i.get("window", {}).get("peak_rss", 0)) for i in r["imports"])
    rows.append(_row("peak RSS, import (largest process, any size, the window's too)", f"{rss / MB:.0f} MB", "", "< 400 MB", rss < 400 * MB))
    t = r["tables"]
    browsing = max(t["peak_rss"], *(r[k].get("peak_rss", 0) for k in ("big_tables", "charts", "window") if k in r))
    rows.append(_row(f"peak RSS, browsing {t['failure_rows']:,} failure rows, and the window on "
                     f"{r['big_tables']['reports']:,} reports", f"{browsing / MB:.0f} MB", "", "< 400 MB",
                     browsing < 400 * MB))
    # counted, as the window does in the background: the end, the middle, a drag of the scroll bar, and
    # jumps once the signposts are read (those reads, in the background, are not table operations)
    counted = [v for m in t["tables"].values() for c in m["counted"].values() for k, v in c.items()
               if k.endswith("_ms") and k != "count_ms" and not k.endswith("_background_ms")]
    slowest = max([t["slowest_ms"], *counted])
    rows.append(_row(f"tables at {t['failure_rows']:,} failure rows: open, sort, filter, filter × sort, pages, scroll to "
                     "the end, jumps and drags once counted", f"slowest {slowest:.0f} ms",
                     f"`COUNT(*)` {t['baseline_count_ms']:.0f} ms", "< 200 ms", slowest < 200))
    b = r["big_tables"]
    fs = b["slowest_filter_sort_ms"]
    over = sum(v["over_200ms"] for v in b["filter_sort"].values())
    cases = sum(v["cases"] for v in b["filter_sort"].values())
    rows.append(_row(f"tables of {b['reports']:,} reports ({b['failure_rows']:,} failure rows): each filter × column × "
                     "order", f"slowest {fs:.0f} ms; {over} of {cases} over 200 ms",
                     f"`COUNT(*)` {b['baseline_count_ms']:.0f} ms", "< 200 ms", fs < 200))
    jumps = b["far_jumps"]
    before, after = jumps["middle_before_signposts"], jumps["middle_after_signposts"]
    rows.append(_row("the same: a jump to the middle of the failure rows, before the signposts are read (in the "
                     "background)", f"slowest {before['slowest_ms']:.0f} ms; {before['over_200ms']} of "
                     f"{before['cases']} over 200 ms", "", "< 200 ms", before["slowest_ms"] < 200))
    rows.append(_row("the same, once the signposts are read (in the background: slowest "
                     f"{jumps['signposts_background']['slowest_ms'] / 1000:.1f} s)", f"slowest {after['slowest_ms']:.0f} ms",
                     "", "< 200 ms", after["slowest_ms"] < 200))
    if "repaint" in r.get("window", {}):  # (since 2026-12-01)
        rp = r["window"]["repaint"]
        worst = max(rp.values(), key=lambda v: v["again_ms"])
        slowest = max(max(v["first_slowest_ms"], v["again_slowest_ms"]) for v in rp.values())
        rows.append(_row(f"a table repainted as its scroll bar is dragged (the window at 1280 × 800, "
                         f"{worst['rows_in_view']} rows in view; the three tables)",
                         f"median ≤ {worst['again_ms']:.0f} ms ({worst['ratio_again']:.1f} ×); slowest {slowest:.0f} ms",
                         f"the same cells in Qt's own `QStandardItemModel`: {worst['baseline_ms']:.0f} ms", "< 200 ms",
                         slowest < 200))
    if "background_reads" in r.get("window", {}):  # (since 2026-12-01)
        bg = r["window"]["background_reads"]
        far, posts = bg["far_block_ms"], bg["signposts_ms"]
        rows.append(_row("the same window: far rows and signposts read in the background while the scroll bar is "
                         "dragged (failure rows of a common result type, and of common free text, by MX host)",
                         f"far block ≤ {max(far[k] for k in far if k.endswith('_dragged')):.0f} ms; signposts ≤ "
                         f"{max(posts[k] for k in posts if k.endswith('_dragged')) / 1000:.1f} s",
                         f"the window left alone: ≤ {max(far[k] for k in far if k.endswith('_idle')):.0f} ms; ≤ "
                         f"{max(posts[k] for k in posts if k.endswith('_idle')) / 1000:.1f} s",
                         "none (in the background; the window answers meanwhile)", None))
    if "exports" in b:  # (since 2026-11-30)
        e = b["exports"]
        f, rp, cli = e["FailuresModel"], e["ReportsModel"], e["cli_failures"]
        rows.append(_row(f"export of whole tables as CSV: in the window, {f['rows']:,} failure rows and {rp['rows']:,} "
                         "reports; `tlsrpt-gui export failures`",
                         f"{f['seconds']:.1f} s ({f['ratio']:.1f} ×), {rp['seconds']:.1f} s ({rp['ratio']:.1f} ×); "
                         f"{cli['seconds']:.1f} s ({cli['ratio']:.1f} ×)",
                         f"the same rows read and written bare: {f['baseline_s']:.1f} s, {rp['baseline_s']:.1f} s; "
                         f"{cli['baseline_s']:.1f} s", "none (not a table operation)", None))
    c = r["charts"]
    cold = c.get("tab_open_cold_s", c["slowest_tab_redraw_s"])  # (results of before 2026-12-02: the slowest of all)
    all_built = f" (every card built: {c['tab_open_cold_all_built_s'] * 1000:.0f} ms)" if "tab_open_cold_all_built_s" in c else ""
    rows.append(_row(f"charts at {c['reports']:,} reports: slowest aggregate; whole tab redrawn after a filter change; "
                     "the tab opened cold, to the cards in view painted",
                     f"{c['slowest_query_s'] * 1000:.0f} ms; {c['slowest_tab_redraw_s'] * 1000:.0f} ms; "
                     f"{cold * 1000:.0f} ms{all_built}",
                     f"`COUNT(*)` {c['baseline_count_failures_s'] * 1000:.0f} ms", "< 500 ms",
                     c["slowest_query_s"] < 0.5 and c["slowest_tab_redraw_s"] < 0.5 and cold < 0.5))
    s = r["startup"]
    app, bare = s["app_first_paint_s"], s["bare_qt_first_paint_s"]
    exit_ = f" (to the process's exit: {s['app_exit_s']['median']:.2f} s)" if "app_exit_s" in s else ""
    rows.append(_row(f"cold start to a painted window, {c['reports']:,}-report index (median of {s['runs']}; slowest)",
                     f"{app['median']:.2f} s; {app['max']:.2f} s{exit_}", f"bare Qt window {bare['median']:.2f} s",
                     "< 1.5 s", app["median"] < 1.5))
    return "\n".join(rows)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--work", type=Path, default=ROOT / "bench-work", help="reports, indexes and results.json")
    ap.add_argument("--parsedmarc-python", metavar="PYTHON", help="a Python with parsedmarc installed")
    ap.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test")
    ap.add_argument("--table", type=Path, metavar="RESULTS", help="only print the table of an earlier results.json")
    ap.add_argument("--steps", default=",".join(STEPS),
                    help=f"run only these ({', '.join(STEPS)}), keeping the others' results in DIR/results.json")
    args = ap.parse_args()
    if args.table is not None:
        print(table(json.loads(args.table.read_text())))
        return 0
    steps = tuple(s.strip() for s in args.steps.split(",") if s.strip())
    if not set(steps) <= set(STEPS):
        ap.error(f"--steps: one or more of {', '.join(STEPS)}")
    kept = args.work / "results.json"
    earlier = json.loads(kept.read_text()) if set(steps) != set(STEPS) and kept.exists() else None
    if set(steps) != set(STEPS) and earlier is None:
        ap.error(f"--steps: {kept} has no results of the other steps")
    results = run(args.work, QUICK if args.quick else FULL, args.parsedmarc_python, steps, earlier)
    args.work.mkdir(parents=True, exist_ok=True)
    kept.write_text(json.dumps(results, indent=2))
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
