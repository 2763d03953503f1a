"""Chart aggregates on a large index: every core.stats query, unfiltered and filtered.

    python benchmarks/bench_charts.py --db BIG.sqlite3     # e.g. from bigindex.py
    python benchmarks/bench_charts.py --reports 20000      # builds a temporary index

The Charts tab runs these queries in parallel background jobs; the figure that
matters is the slowest single query (the redraw waits for it) and their sum.
The baseline is ``SELECT COUNT(*)`` over failure_details in the same run.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from tlsrpt_gui.core import stats  # noqa: E402
from tlsrpt_gui.core.query import Filter  # noqa: E402

QUERIES: dict[str, Callable[[sqlite3.Connection, Filter], Any]] = {
    "sessions_per_day": stats.sessions_per_day,
    "failures_by_result_type": stats.failures_by_result_type,
    "top_reporters": lambda c, f: stats.top_failures(c, f, "reporter"),
    "top_mx_hosts": lambda c, f: stats.top_failures(c, f, "mx_host"),
    "top_sending_ips": lambda c, f: stats.top_failures(c, f, "sending_ip"),
    "success_rate_by_domain": stats.success_rate_by_domain,
    "policy_coverage": stats.policy_coverage,
    "certificate_failures_per_day": stats.certificate_failures_per_day,
    "missing_reports": stats.missing_reports,
}


def time_all(db: Path, flt: Filter) -> dict[str, float]:
    out: dict[str, float] = {}
    for name, fn in QUERIES.items():
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        t = time.perf_counter()
        fn(conn, flt)
        out[name] = time.perf_counter() - t
        conn.close()
    return out


def _date(ts: int) -> date:
    return datetime.fromtimestamp(ts, UTC).date()


def run(db: Path) -> dict[str, Any]:
    from benchmarks.common import peak_rss, warm

    read_s = warm(db)
    # Held open through the run, as the window holds its own while its charts compute.
    # Without it each chart's new connection was the database's only one, and rebuilt
    # the index of the WAL that the index's last writer had left (a WAL of 100 MB
    # after bigindex.py and the window's sort indexes: 24 ms a connection, counted in
    # each query and nine times in each redraw of the tab).
    held = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    held.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    t = time.perf_counter()
    n_fail = conn.execute("SELECT COUNT(*) FROM failure_details").fetchone()[0]
    baseline = time.perf_counter() - t
    n_rep = conn.execute("SELECT COUNT(*) FROM reports").fetchone()[0]
    some_domain = conn.execute("SELECT policy_domain FROM policies LIMIT 1").fetchone()
    # the reporter with the most failure rows (the slowest to chart, unless its sums are kept)
    some_org = conn.execute("SELECT organization_name FROM failure_details GROUP BY 1 "
                            "ORDER BY COUNT(*) DESC, 1 LIMIT 1").fetchone()
    first, last = conn.execute("SELECT MIN(start_ts), MAX(start_ts) FROM reports").fetchone()
    conn.close()
    # the first half of the index's days: a wide date range
    half = {} if first is None else {"date_from": _date(first), "date_to": _date((first + last) // 2)}
    filters = {
        "none": Filter(),
        "result_type": Filter(result_type="certificate-expired"),
        "policy_domain": Filter(policy_domain=some_domain[0] if some_domain else ""),
        "reporter": Filter(reporter=some_org[0] if some_org else ""),
        "first_half": Filter(**half),
        "result_type_first_half": Filter(result_type="certificate-expired", **half),
    }
    time_all(db, Filter())  # warm the page cache
    runs = {name: time_all(db, flt) for name, flt in filters.items()}
    redraw = time_tab(db, filters)
    held.close()
    return {
        "benchmark": "charts",
        "reports": n_rep,
        "failure_details": n_fail,
        "baseline_count_failures_s": baseline,
        "index_read_into_page_cache_s": read_s,
        "runs": runs,
        "slowest_query_s": max(max(r.values()) for r in runs.values()),
        "slowest_total_s": max(sum(r.values()) for r in runs.values()),
        # the real Charts tab, offscreen: from a filter change until every chart is redrawn
        "tab_redraw_s": redraw,
        # after a filter change, the slowest
        "slowest_tab_redraw_s": max(v for k, v in redraw.items() if k in filters),
        # the tab made and shown at once, in a fresh process: to the cards in view painted
        "tab_open_cold_s": redraw["open"],
        # ... and to every card's chart built (in the quiet moments after)
        "tab_open_cold_all_built_s": redraw["open_all_built"],
        "peak_rss": peak_rss(),
    }


def time_tab(db: Path, filters: dict[str, Filter]) -> dict[str, float]:
    """Seconds from setting each filter on the Charts tab until its ``ready`` signal."""
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from tlsrpt_gui.ui.charts import ChartsTab

    app = QApplication.instance() or QApplication([])
    out: dict[str, float] = {}
    loop = QEventLoop()
    t = time.perf_counter()
    tab = ChartsTab(db)
    tab.resize(1280, 800)  # the window's default size: the cards in view are painted
    tab.show()
    tab.ready.connect(loop.quit)
    QTimer.singleShot(120_000, loop.quit)
    loop.exec()
    app.processEvents()  # the cards in view painted
    out["open"] = time.perf_counter() - t
    def all_built(charts: ChartsTab) -> None:
        """Wait while the cards out of view build their charts, in the quiet moments
        after ``ready`` (see ChartsTab)."""
        deadline = time.perf_counter() + 60
        while not charts.all_built() and time.perf_counter() < deadline:
            app.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents, 50)

    all_built(tab)
    out["open_all_built"] = time.perf_counter() - t
    # as in the main window, which builds the tab hidden after start-up: from showing it
    # to the charts painted
    built = ChartsTab(db)
    built.resize(1280, 800)
    app.processEvents()
    built.ready.connect(loop.quit)
    t = time.perf_counter()
    built.show()
    loop.exec()
    app.processEvents()
    out["show_built"] = time.perf_counter() - t
    built.close()
    # as the main window does now: built hidden and computed hidden (ChartsTab.prefetch),
    # from showing it to the charts painted
    ready = ChartsTab(db)
    ready.resize(1280, 800)
    ready.ready.connect(loop.quit)
    ready.prefetch()
    loop.exec()
    all_built(ready)  # (in the window's idle time)
    app.processEvents()
    t = time.perf_counter()
    ready.show()
    app.processEvents()
    ready.repaint()  # every card, now
    out["show_prefetched"] = time.perf_counter() - t
    ready.close()
    for name, flt in filters.items():
        if name == "none":
            continue
        t = time.perf_counter()
        tab.set_filter(flt)
        loop.exec()
        app.processEvents()  # the last chart's repaint
        out[name] = time.perf_counter() - t
    tab.close()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--db", type=Path, help="an existing index (see bigindex.py)")
    ap.add_argument("--reports", type=int, default=20000, help="size of a temporary index when --db is not given")
    args = ap.parse_args()
    if args.db:
        result = run(args.db)
    else:
        import bigindex

        with tempfile.TemporaryDirectory(prefix="tlsrpt-bench-") as tmp:
            db = Path(tmp) / "big.sqlite3"
            bigindex.build(db, args.reports)
            result = run(db)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
