"""The window's peak memory while it is browsed, on an index of a million reports.

    python benchmarks/bench_window.py --db BIG.sqlite3     # from bigindex.py

Opens the main window offscreen (1280 × 800) on the index, lets it do its start-up
work (the Charts tab readied, the tables counted and their signposts read), then
drives it as a user would, each step given time for what the window does in the
background after it:

* each table tab, under each filter of ``FILTERS``: every column sorted both ways,
  the end of the table (Ctrl+End), and the scroll bar dragged to ten places;
* the Charts tab under each filter.

Prints one JSON object: the window process's resident memory after start-up, after
each tab and at its peak (VmHWM), with the seconds it took. The target is a peak
under 400 MB whatever the index size.

Before that, each table's repaint as a drag of its scroll bar asks for it (``repaint``):
the rows in view painted at 40 places in its first rows, the first time (the cells
worked out) and again, against the same cells in a ``QStandardItemModel`` (Qt's own
model, in C++) shown by a table view of the same size, place, columns and settings in
a window of the same size.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEventLoop, QPoint, QRect, QSettings, Qt  # noqa: E402
from PySide6.QtGui import QStandardItem, QStandardItemModel  # noqa: E402
from PySide6.QtWidgets import QApplication, QTableView, QWidget  # noqa: E402

from benchmarks import bench_big_tables  # noqa: E402
from benchmarks.common import peak_rss, rss, warm  # noqa: E402

#: of bench_big_tables.py's filters (values bigindex.py writes), common ones and a rare one
FILTERS = {k: bench_big_tables.FILTERS[k] for k in ("none", "result_type", "reporter", "text_mx", "text_domain")}
ORDERS = (Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder)
#: the roles a table view's item delegate asks of each cell it paints
PAINT_ROLES = (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.FontRole, Qt.ItemDataRole.TextAlignmentRole,
               Qt.ItemDataRole.ForegroundRole, Qt.ItemDataRole.BackgroundRole, Qt.ItemDataRole.DecorationRole,
               Qt.ItemDataRole.CheckStateRole)
#: scroll positions (pixels) a repaint is timed at: about the first 60 rows, in a shuffled order
PLACES = [(k * 37) % 1500 for k in range(40)]


def _paints(view: QTableView) -> list[float]:
    """Milliseconds to repaint ``view``'s rows at each of PLACES."""
    bar = view.verticalScrollBar()
    out = []
    for place in PLACES:
        bar.setValue(place)
        t = time.perf_counter()
        view.viewport().repaint()
        out.append((time.perf_counter() - t) * 1000)
    return out


def repaints(view: QTableView) -> dict[str, float]:
    """A table's repaint at PLACES, the first time and again, against Qt's own model."""
    first = _paints(view)
    again = _paints(view)
    model = view.model()
    rows = max(view.rowAt(p + view.viewport().height() - 1) for p in (view.verticalScrollBar().maximum(), *PLACES)
               if view.rowAt(p + view.viewport().height() - 1) >= 0) + 2
    plain = QStandardItemModel(min(rows, model.rowCount()), model.columnCount())
    for r in range(plain.rowCount()):
        for c in range(plain.columnCount()):
            item = QStandardItem()
            for role in PAINT_ROLES:
                value = model.index(r, c).data(role)
                if value is not None:
                    item.setData(value, role)
            plain.setItem(r, c, item)
    # in a window of the window's size, where the view is in it: a repaint of a view's
    # rows paints them into the window's backing store, and flushes that
    window = QWidget()
    window.resize(view.window().size())
    bare = QTableView(window)
    bare.setModel(plain)
    bare.setGeometry(QRect(view.mapTo(view.window(), QPoint(0, 0)), view.size()))
    for setting in ("AlternatingRowColors", "WordWrap", "TextElideMode", "VerticalScrollMode", "ShowGrid"):
        getattr(bare, f"set{setting}")(getattr(view, setting[0].lower() + setting[1:])())
    bare.verticalHeader().setDefaultSectionSize(view.verticalHeader().defaultSectionSize())
    bare.verticalHeader().setVisible(view.verticalHeader().isVisible())
    for c in range(model.columnCount()):
        bare.setColumnWidth(c, view.columnWidth(c))
    window.show()
    QApplication.processEvents()
    _paints(bare)
    baseline = _paints(bare)
    window.close()
    return {"first_ms": statistics.median(first), "first_slowest_ms": max(first),
            "again_ms": statistics.median(again), "again_slowest_ms": max(again),
            "baseline_ms": statistics.median(baseline),
            "rows_in_view": view.rowAt(view.viewport().height() - 1) - view.rowAt(0) + 1,
            "ratio_again": statistics.median(again) / statistics.median(baseline)}


def run(db: Path, pause_ms: int = 30) -> dict[str, Any]:
    from tlsrpt_gui.ui.main_window import MainWindow

    read_s = warm(db)
    app = QApplication.instance() or QApplication([])
    t0 = time.perf_counter()

    def spin(ms: int) -> None:  # the window's own event loop, for ``ms``
        end = time.monotonic() + ms / 1000
        while time.monotonic() < end:
            app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)

    with tempfile.TemporaryDirectory(prefix="tlsrpt-bench-") as tmp:
        w = MainWindow(db, settings=QSettings(str(Path(tmp) / "settings.ini"), QSettings.Format.IniFormat))
        w.resize(1280, 800)
        w.show()
        spin(3000)
        out: dict[str, Any] = {"benchmark": "window", "index_read_into_page_cache_s": read_s,
                               "reports": w.conn.execute("SELECT COUNT(*) FROM reports").fetchone()[0],
                               "rss_started": rss(), "rss_after": {}, "repaint": {}}
        for name, page in w.pages.items():
            w.set_tab(name)
            spin(10 * pause_ms)
            out["repaint"][name] = repaints(page.view)
        for name, page in w.pages.items():
            w.set_tab(name)
            for flt in FILTERS.values():
                w.apply_filter(flt)
                for c in range(page.model.columnCount()):
                    for order in ORDERS:
                        page.view.sortByColumn(c, order)
                        spin(pause_ms)
                page.view.scrollToBottom()
                spin(20 * pause_ms)
                bar = page.view.verticalScrollBar()
                for k in range(10):
                    bar.setValue(bar.maximum() * k // 10)
                    spin(5 * pause_ms)
            out["rss_after"][name] = rss()
        w.set_tab("charts")
        for flt in FILTERS.values():
            w.apply_filter(flt)
            spin(60 * pause_ms)
        out["rss_after"]["charts"] = rss()
        w.shutdown()
        w.close()
    out["seconds"] = time.perf_counter() - t0
    out["peak_rss"] = peak_rss()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--db", type=Path, required=True, help="an index made by bigindex.py")
    ap.add_argument("--pause-ms", type=int, default=30, help="time given to the window after each sort")
    args = ap.parse_args()
    print(json.dumps(run(args.db, args.pause_ms), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
