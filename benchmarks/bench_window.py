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
a window of the same size. Then the reads the window makes in the background (the
failure rows' signposts, and far blocks), with the window left alone and while its
scroll bar is dragged (``background_reads``; see drag_reads).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEventLoop, QPoint, QRect, QSettings, Qt, QTimer  # noqa: E402
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


def _until(done: Callable[[], bool], limit_s: float = 60.0) -> float:
    """Run the event loop (in Qt, as the application does) until ``done()``; the seconds it took."""
    t = time.perf_counter()
    loop = QEventLoop()
    check = QTimer()
    check.setInterval(5)
    check.timeout.connect(lambda: (done() or time.perf_counter() - t > limit_s) and loop.quit())
    check.start()
    if not done():
        loop.exec()
    check.stop()
    return time.perf_counter() - t


def drag_reads(w: Any, jumps: int = 6) -> dict[str, Any]:
    """The reads the window makes in the background, while it is left alone and while
    its scroll bar is dragged (moved and painted every 16 ms among its first rows: the
    GUI thread painting all the time, as in a drag): the signposts of the failure rows
    of a common result type and of common free text, sorted by MX host, after the filter
    is set; then, with the signposts not read, the far blocks of jumps to places in the
    middle half of the rows. Milliseconds, idle and dragged, and their ratio."""
    page = w.pages["failures"]
    model, view = page.model, page.view
    bar = view.verticalScrollBar()
    mx = [c.key for c in model.COLUMNS].index("receiving_mx_hostname")
    rng = random.Random(8460)
    dragging = {"on": False}

    def drag() -> None:
        if dragging["on"]:
            bar.setValue(rng.randrange(0, 1500))
            view.viewport().update()

    timer = QTimer()
    timer.setInterval(16)
    timer.timeout.connect(drag)
    timer.start()

    def view_of(name: str) -> None:
        w.apply_filter(bench_big_tables.FILTERS["none"])
        _until(lambda: model.counted, 5)
        w.apply_filter(FILTERS[name])
        view.sortByColumn(mx, Qt.SortOrder.AscendingOrder)
        bar.setValue(0)

    out: dict[str, Any] = {"signposts_ms": {}, "far_block_ms": {}}
    w.set_tab("failures")
    for name in ("result_type", "text_mx"):
        for state in ("idle", "dragged"):
            view_of(name)
            dragging["on"] = state == "dragged"
            _until(lambda: model.counted)
            needed = model.has_signposts or model.signpost_reader() is not None  # (a small index needs none)
            out["signposts_ms"][f"{name}_{state}"] = _until(lambda: model.has_signposts) * 1000 if needed else 0.0
            dragging["on"] = False
    read_signposts = w._read_signposts
    w._read_signposts = lambda page: None  # (far blocks read from the rows in memory alone)
    for name in ("result_type", "text_mx"):
        for state in ("idle", "dragged"):
            view_of(name)
            _until(lambda: model.counted)
            times = []
            for _ in range(jumps):
                bar.setValue(rng.randrange(bar.maximum() // 4, bar.maximum() * 3 // 4))
                view.viewport().repaint()
                top = view.rowAt(0)
                dragging["on"] = state == "dragged"
                times.append(_until(lambda top=top: not model.is_pending(top) and not model.is_pending(top + 20)) * 1000)
                dragging["on"] = False
            out["far_block_ms"][f"{name}_{state}"] = max(times)
    w._read_signposts = read_signposts
    timer.stop()
    for what in ("signposts_ms", "far_block_ms"):
        v = out[what]
        out[f"{what[:-3]}_dragged_over_idle"] = max(v[f"{n}_dragged"] / max(v[f"{n}_idle"], 1.0)
                                                    for n in ("result_type", "text_mx"))
    return out


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
            # (once the window's background work for the table is done: it would share the GIL)
            _until(lambda m=page.model: m.counted and (m.has_signposts or m.signpost_reader() is None), 30)
            spin(10 * pause_ms)
            out["repaint"][name] = repaints(page.view)
        out["background_reads"] = drag_reads(w)
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
