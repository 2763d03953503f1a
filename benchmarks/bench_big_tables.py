"""The three tables on an index of a million *reports* (bigindex.py), not of the
synthetic failure rows of bench_tables.py: every filter with every column sorted
both ways, and far jumps into the failure rows before and after their signposts.

    python benchmarks/bench_big_tables.py --db BIG.sqlite3     # from bigindex.py

Through the real table models, on the index as bigindex.py makes it (its
reporters, domains and MX hosts are named ``Reporter N``, ``dN.example`` and
``mx1.dN.example``):

* ``filter_sort``: for each table, each filter, each column and both orders, the
  slower of the filter applied to the sorted table and the sort applied to the
  filtered one (the first page each);
* ``far_jumps``: the failure rows counted, as the window does, then the middle row
  read before the signposts exist (the window reads such a block in the background,
  showing its rows as pending meanwhile), for each filter and column; then the
  signposts read, and the middle row read again from them.

* ``exports``: the Failure details and Reports tables exported whole as CSV, as the
  window's File → Export Visible Table writes them (every column), and the failure
  rows as ``tlsrpt-gui export failures`` writes them; each against the same query's
  rows read and written as they come by ``csv.writer`` (no cell made, nothing
  neutralised), in the same run.

The baseline is ``SELECT COUNT(*)`` over the failure rows in the same run. Prints
one JSON object; the target is every operation under 200 ms (an export is not a
table operation, and has no target).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
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

from PySide6.QtCore import QCoreApplication, Qt  # noqa: E402

from benchmarks.common import ms, peak_rss, read_signposts, warm  # noqa: E402
from tlsrpt_gui.core import export  # noqa: E402
from tlsrpt_gui.core.query import Filter  # noqa: E402
from tlsrpt_gui.ui.formatting import TimeMode  # noqa: E402
from tlsrpt_gui.ui.models import FailuresModel, PoliciesModel, ReportsModel, ensure_sort_indexes  # noqa: E402

#: filters with values bigindex.py writes: common ones (a reporter, a result type, a
#: policy type, free text in many rows) and rare ones (a domain, an MX host, a report id)
FILTERS = {
    "none": Filter(),
    "reporter": Filter(reporter="Reporter 3"),
    "result_type": Filter(result_type="certificate-expired"),
    "policy_domain": Filter(policy_domain="d17.example"),
    "policy_type": Filter(policy_type="tlsa"),
    "mx_host": Filter(mx_host="mx1.d17.example"),
    "text_domain": Filter(text="d17"),
    "text_reporter": Filter(text="Reporter 3"),
    "text_tlsa": Filter(text="tlsa"),
    "text_enforce": Filter(text="enforce"),
    "text_policy_string": Filter(text="mx: *.d17"),  # in one domain's policy strings alone
    "text_mx": Filter(text="mx1"),
    "text_mx2": Filter(text="mx2"),  # its hosts' addresses after those of mx0 and mx1
    "text_report_id": Filter(text="rid-12345"),
    "text_file": Filter(text="r77777.json"),
    # ranges of dates (bigindex.py's reports start on 2024-01-01, a thousand days on)
    "month": Filter(date_from=date(2024, 3, 1), date_to=date(2024, 3, 31)),
    "half_year": Filter(date_from=date(2024, 1, 1), date_to=date(2024, 6, 30)),
}
#: the filters of the far jumps (common ones: a rare one's rows are few, and near)
JUMP_FILTERS = ("none", "reporter", "result_type", "policy_type", "month", "text_mx", "text_mx2")
ORDERS = {"asc": Qt.SortOrder.AscendingOrder, "desc": Qt.SortOrder.DescendingOrder}


def filter_sort(conn: sqlite3.Connection, cls: Any) -> dict[str, Any]:
    model = cls(conn, TimeMode())
    model.rowCount()
    times: dict[str, float] = {}
    for fname, flt in FILTERS.items():
        for c, col in enumerate(model.COLUMNS):
            for oname, order in ORDERS.items():
                model.set_filter(Filter())
                model.sort(c, order)
                t = time.perf_counter()
                model.set_filter(flt)
                model.rowCount()
                after_filter = ms(t)
                model.sort(0 if c else 1, order)
                t = time.perf_counter()
                model.sort(c, order)
                model.rowCount()
                times[f"{fname} / {col.key} {oname}"] = max(after_filter, ms(t))
    slowest = sorted(times.items(), key=lambda kv: -kv[1])
    return {"cases": len(times), "slowest_ms": slowest[0][1], "over_200ms": sum(v > 200 for v in times.values()),
            "slowest_10": dict(slowest[:10])}


def far_jumps(conn: sqlite3.Connection) -> dict[str, Any]:
    model = FailuresModel(conn, TimeMode())
    before: dict[str, float] = {}
    signposts: dict[str, float] = {}
    after: dict[str, float] = {}
    for fname in JUMP_FILTERS:
        model.set_filter(FILTERS[fname])
        for c, col in enumerate(model.COLUMNS):
            model.sort(c, Qt.SortOrder.AscendingOrder)
            sql, params = model.count_query()
            n = conn.execute(sql, params).fetchone()[0]
            if not model.set_total(n):
                continue
            key = f"{fname} / {col.key}"
            t = time.perf_counter()
            model.index(n // 2, 0).data()
            before[key] = ms(t)
            model.sort(c, Qt.SortOrder.AscendingOrder)  # (forgets the block just read)
            model.set_total(n)
            read_ms = read_signposts(model, conn)
            if read_ms is None:
                continue
            signposts[key] = read_ms
            t = time.perf_counter()
            model.index(n // 2 + 500, 0).data()
            after[key] = ms(t)

    def top(d: dict[str, float]) -> dict[str, Any]:
        slowest = sorted(d.items(), key=lambda kv: -kv[1])
        return {"cases": len(d), "slowest_ms": slowest[0][1] if slowest else 0.0,
                "over_200ms": sum(v > 200 for v in d.values()), "slowest_10": dict(slowest[:10])}

    return {"middle_before_signposts": top(before), "signposts_background": top(signposts),
            "middle_after_signposts": top(after)}


def exports(conn: sqlite3.Connection, folder: Path) -> dict[str, Any]:
    """Whole tables exported as CSV into ``folder``, each against its bare rows written."""
    out: dict[str, Any] = {}

    def raw(sql: str, params: Any, path: Path) -> float:
        t = time.perf_counter()
        with open(path, "w", encoding="utf-8", newline="") as fh:
            csv.writer(fh, lineterminator="\r\n").writerows(conn.execute(sql, params))
        return time.perf_counter() - t

    for cls in (FailuresModel, ReportsModel):
        model = cls(conn, TimeMode())
        model.rowCount()
        path = folder / f"{cls.__name__}.csv"
        t = time.perf_counter()
        with open(path, "w", encoding="utf-8", newline="") as fh:
            rows = model.exporter()(fh, "csv", conn)
        seconds = time.perf_counter() - t
        sql, params = model._all_query()
        base = raw(sql, params, path)
        out[cls.__name__] = {"rows": rows, "seconds": seconds, "baseline_s": base, "ratio": seconds / base}
    sql = export.QUERIES["failures"][1]
    path = folder / "cli-failures.csv"
    t = time.perf_counter()
    with open(path, "w", encoding="utf-8", newline="") as fh:
        rows = export.export_table(conn, "failures", "csv", fh)
    seconds = time.perf_counter() - t
    base = raw(sql, (), path)
    out["cli_failures"] = {"rows": rows, "seconds": seconds, "baseline_s": base, "ratio": seconds / base}
    path.unlink()
    for cls in (FailuresModel, ReportsModel):
        (folder / f"{cls.__name__}.csv").unlink()
    return out


def run(db: Path) -> dict[str, Any]:
    with sqlite3.connect(db) as conn:
        ensure_sort_indexes(conn)
    read_s = warm(db)
    _app = QCoreApplication.instance() or QCoreApplication([])
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    t = time.perf_counter()
    n = conn.execute("SELECT COUNT(*) FROM failure_details").fetchone()[0]
    out: dict[str, Any] = {"benchmark": "big_tables", "failure_rows": n, "baseline_count_ms": ms(t),
                           "index_read_into_page_cache_s": read_s,
                           "reports": conn.execute("SELECT COUNT(*) FROM reports").fetchone()[0]}
    out["filter_sort"] = {cls.__name__: filter_sort(conn, cls) for cls in (ReportsModel, PoliciesModel, FailuresModel)}
    out["far_jumps"] = far_jumps(conn)
    out["slowest_filter_sort_ms"] = max(v["slowest_ms"] for v in out["filter_sort"].values())
    with tempfile.TemporaryDirectory(dir=db.parent) as folder:
        out["exports"] = exports(conn, Path(folder))
    out["peak_rss"] = peak_rss()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--db", type=Path, required=True, help="an index made by bigindex.py")
    args = ap.parse_args()
    print(json.dumps(run(args.db), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
