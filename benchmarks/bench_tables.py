"""Table latency on a large index: open, sort each column, page, filter, scroll to the end.

    python benchmarks/bench_tables.py [--rows 1000000]

Builds (once, in the temp folder) an index of ROWS failure rows spread over
ROWS/100 reports, then times through the real table models (the ones the
window shows): the first page after opening, every column sorted both ways, the
next pages, each filter of the filter bar, each filter with each column sorted
both ways, fetching pages to the end of a filtered view, and down the whole table
(to its end, or to the most rows a table loads); then, counted, jumps to the end and the
middle of the failure rows and a drag of the scroll bar over them, and (with the
table's signposts read, as the window does in the background) jumps to random places.
The baseline is ``SELECT COUNT(*)`` over the failure rows in the same run. Prints one JSON object; the target is every operation under 200 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QCoreApplication, QModelIndex, Qt  # noqa: E402

from benchmarks.common import ms, peak_rss, read_signposts, warm  # noqa: E402
from tests.ui.bigdb import build_big_index  # noqa: E402
from tlsrpt_gui.core.index import SCHEMA_VERSION  # noqa: E402
from tlsrpt_gui.core.query import Filter  # noqa: E402
from tlsrpt_gui.ui.formatting import TimeMode  # noqa: E402
from tlsrpt_gui.ui.models import FailuresModel, PoliciesModel, ReportsModel, ensure_sort_indexes  # noqa: E402

FILTERS = {
    "policy_domain": Filter(policy_domain="dom7.example"),
    "date_range": Filter(date_from=date(2020, 9, 14), date_to=date(2020, 9, 20)),
    "reporter": Filter(reporter="org3.example"),
    "policy_type": Filter(policy_type="tlsa"),
    "result_type": Filter(result_type="certificate-expired"),
    "free_text_common": Filter(text="mx1"),
    "free_text_rare": Filter(text="no-such-text"),
}


def _reusable(db: Path, rows: int) -> bool:
    """True if ``db`` is an index of this schema with ``rows`` failure rows (one left
    by an earlier run; an older schema would measure other indexes and summaries)."""
    if not db.exists():
        return False
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            n = conn.execute("SELECT COUNT(*) FROM failure_details").fetchone()[0]
    except sqlite3.Error:
        return False
    return bool(version == SCHEMA_VERSION and n == rows)


def run(rows: int) -> dict[str, Any]:
    db = Path(tempfile.gettempdir()) / f"tlsrpt-bench-{rows}.sqlite3"
    if not _reusable(db, rows):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        build_big_index(db, failures=rows, reports=max(rows // 100, 10))
    with sqlite3.connect(db) as conn:
        ensure_sort_indexes(conn)
    read_s = warm(db)
    _app = QCoreApplication.instance() or QCoreApplication([])
    conn = sqlite3.connect(db)
    t = time.perf_counter()
    n = conn.execute("SELECT COUNT(*) FROM failure_details").fetchone()[0]
    out: dict[str, Any] = {"benchmark": "tables", "failure_rows": n, "baseline_count_ms": ms(t),
                           "index_read_into_page_cache_s": read_s, "tables": {}}
    worst = 0.0
    for cls in (FailuresModel, PoliciesModel, ReportsModel):
        t = time.perf_counter()
        model = cls(conn, TimeMode())
        model.rowCount()
        res: dict[str, Any] = {"open_ms": ms(t), "sort_ms": {}, "filter_ms": {}}
        worst = max(worst, res["open_ms"])
        for c, col in enumerate(model.COLUMNS):
            slowest = 0.0
            for order in (Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder):
                t = time.perf_counter()
                model.sort(c, order)
                slowest = max(slowest, ms(t))
                for _ in range(3):
                    t = time.perf_counter()
                    model.fetchMore(QModelIndex())
                    slowest = max(slowest, ms(t))
            res["sort_ms"][col.key] = slowest
            worst = max(worst, slowest)
        model.sort(0, Qt.SortOrder.AscendingOrder)
        for name, flt in FILTERS.items():
            t = time.perf_counter()
            model.set_filter(flt)
            model.rowCount()
            res["filter_ms"][name] = ms(t)
            worst = max(worst, res["filter_ms"][name])
        # each filter with each column sorted both ways (the first page): the sort order
        # and the filter may each want a different index
        combos: dict[str, float] = {}
        for name, flt in FILTERS.items():
            model.set_filter(flt)
            model.rowCount()
            for c, col in enumerate(model.COLUMNS):
                for order in (Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder):
                    t = time.perf_counter()
                    model.sort(c, order)
                    model.rowCount()
                    combos[f"{name} / {col.key}"] = max(combos.get(f"{name} / {col.key}", 0.0), ms(t))
            model.sort(0, Qt.SortOrder.AscendingOrder)
        res["filter_then_sort_ms"] = dict(sorted(combos.items(), key=lambda kv: -kv[1])[:10])
        res["filter_then_sort_over_200ms"] = sum(v > 200 for v in combos.values())
        res["filter_then_sort_count"] = len(combos)
        worst = max(worst, *combos.values())
        model.set_filter(FILTERS["policy_domain"])
        t = time.perf_counter()
        pages = 0
        while model.canFetchMore(QModelIndex()) and pages < 10_000:
            model.fetchMore(QModelIndex())
            pages += 1
        res["scroll_to_end_of_domain_ms"] = ms(t)
        res["scroll_pages"] = pages
        # all the way down the whole table: to its end, or to the most rows it loads
        model.set_filter(Filter())
        t = time.perf_counter()
        pages, slowest = 0, 0.0
        while model.canFetchMore(QModelIndex()):
            t_page = time.perf_counter()
            model.fetchMore(QModelIndex())
            slowest = max(slowest, ms(t_page))
            pages += 1
        res["scroll_whole_table"] = {"ms": ms(t), "pages": pages, "slowest_page_ms": slowest,
                                     "rows_loaded": model.rowCount(), "stopped_at_cap": model.capped}
        worst = max(worst, slowest)
        # counted (as the window does, in the background), the table spans every row:
        # jump to the end, to the middle, and drag the scroll bar from top to bottom
        res["counted"] = {}
        for name in ("none", "result_type", "free_text_common"):
            res["counted"][name] = _counted(model, conn, FILTERS.get(name, Filter()))
        out["tables"][cls.__name__] = res
    out["slowest_ms"] = worst
    out["peak_rss"] = peak_rss()
    return out


def _counted(model: Any, conn: sqlite3.Connection, flt: Filter) -> dict[str, float]:
    model.set_filter(flt)
    model.sort(2, Qt.SortOrder.DescendingOrder)  # MX hosts: the slowest walk of the benchmark's sorts
    sql, params = model.count_query()
    t = time.perf_counter()
    n = conn.execute(sql, params).fetchone()[0]
    out = {"rows": n, "count_ms": ms(t)}
    if not model.set_total(n):
        return out
    for name, row in (("end_ms", n - 1), ("middle_ms", n // 2)):
        t = time.perf_counter()
        model.index(row, 0).data()
        out[name] = ms(t)
    model.sort(2, Qt.SortOrder.AscendingOrder)
    model.set_total(n)
    steps, slowest = 300, 0.0
    for step in range(steps + 1):  # 30 rows shown at each of 300 places of the scroll bar
        top = min(n - 30, step * n // steps)
        t = time.perf_counter()
        for r in range(top, top + 30):
            model.index(r, 0).data()
        slowest = max(slowest, ms(t))
    out["drag_slowest_step_ms"] = slowest
    # the window then reads the table's signposts in the background: a jump anywhere
    # walks fewer than SIGNPOST_ROWS matching rows from one
    for c in (2, 0):  # MX hosts descending, and result types (which spread the free-text filter's rows)
        model.sort(c, Qt.SortOrder.DescendingOrder)
        model.set_total(n)
        read_ms = read_signposts(model, conn)
        if read_ms is None:
            continue
        key = model.COLUMNS[c].key
        out[f"signposts_{key}_background_ms"] = read_ms
        rng, slowest = random.Random(8460), 0.0
        for _ in range(20):
            top = rng.randrange(model.loaded_rows, max(model.loaded_rows + 1, n - 30))
            t = time.perf_counter()
            for r in range(top, min(n, top + 30)):
                model.index(r, 0).data()
            slowest = max(slowest, ms(t))
        out[f"jump_after_signposts_{key}_slowest_ms"] = slowest
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--rows", type=int, default=1_000_000)
    args = ap.parse_args()
    print(json.dumps(run(args.rows), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
