"""Time every table operation on a synthetic index: ``python -m tests.ui.bench_tables [ROWS]``.

Builds (once) an index of ROWS failure rows (default 1,000,000) in the temp
directory, then prints the slowest sort + first page and the slowest next page
for each column of each table. Target: every operation under 200 ms.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QCoreApplication, QModelIndex, Qt

from tests.ui.bigdb import build_big_index
from tlsrpt_gui.ui.formatting import TimeMode
from tlsrpt_gui.ui.models import FailuresModel, PoliciesModel, ReportsModel, ensure_sort_indexes


def main(rows: int) -> int:
    db = Path(tempfile.gettempdir()) / f"tlsrpt-bench-{rows}.sqlite3"
    if not db.exists():
        t = time.perf_counter()
        build_big_index(db, failures=rows, reports=max(rows // 100, 10))
        print(f"built {db} in {time.perf_counter() - t:.0f} s")
    with sqlite3.connect(db) as conn:
        t = time.perf_counter()
        if ensure_sort_indexes(conn):
            print(f"sort indexes in {time.perf_counter() - t:.1f} s")
    _app = QCoreApplication([])
    conn = sqlite3.connect(db)
    worst = 0.0
    for cls in (FailuresModel, PoliciesModel, ReportsModel):
        model = cls(conn, TimeMode())
        for c, col in enumerate(model.COLUMNS):
            for order in (Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder):
                t = time.perf_counter()
                model.sort(c, order)
                sort_ms = (time.perf_counter() - t) * 1000
                page_ms = 0.0
                for _ in range(10):
                    t = time.perf_counter()
                    model.fetchMore(QModelIndex())
                    page_ms = max(page_ms, (time.perf_counter() - t) * 1000)
                worst = max(worst, sort_ms, page_ms)
                print(
                    f"{cls.__name__:14} {col.key:24} {order.name:16} sort {sort_ms:6.1f} ms  page {page_ms:6.1f} ms"
                )
    print(f"slowest operation: {worst:.1f} ms")
    return 0 if worst < 200 else 1


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000))
