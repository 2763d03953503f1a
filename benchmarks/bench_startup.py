"""Cold start to the first painted window, against a bare Qt window in the same run.

    python benchmarks/bench_startup.py [--db INDEX] [--runs 5]

Each run is a fresh process: ``tlsrpt-gui`` with TLSRPT_GUI_QUIT_AFTER_PAINT=1
prints the wall-clock time at which its main window's first paint is done, and
quits. The baseline is a process that imports PySide6, shows an empty QMainWindow
and does the same. The figure is from the process's start (taken here, just
before it is started) to that paint (``*_first_paint_s``); the time to the
process's exit is kept too (``*_exit_s``): it also waits for what the window
started in the background at start-up (counting the rows, reading the tables'
signposts, making sort indexes), which Qt's thread pool finishes before the
process ends. Until 2026-12-01 the benchmark timed to the exit alone. Uses the
offscreen platform unless a display is set.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tlsrpt_gui.ui.application import PAINTED_AT  # noqa: E402

_BARE = """
import sys
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication(sys.argv[:1])
w = QMainWindow(); w.resize(1280, 800)
import time
def painted():
    print("{painted_at}", f"{time.time():.6f}", flush=True)
    app.quit()
class F(QObject):
    def eventFilter(self, o, e):
        if e.type() == QEvent.Type.Paint and not getattr(self, "seen", False):
            self.seen = True
            QTimer.singleShot(0, painted)
        return False
f = F(); w.installEventFilter(f); w.show(); app.exec()
"""


def _time(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Seconds from starting ``cmd`` to its first paint, and to its exit."""
    started, t = time.time(), time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    elapsed = time.perf_counter() - t
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-500:])
    painted = [float(line.rsplit(" ", 1)[1]) for line in proc.stdout.splitlines() if line.startswith(PAINTED_AT)]
    if len(painted) != 1:
        raise RuntimeError(f"no first paint reported: {proc.stdout[-500:]!r}")
    return painted[0] - started, elapsed


def run(db: Path, runs: int) -> dict[str, Any]:
    env = dict(os.environ, TLSRPT_GUI_QUIT_AFTER_PAINT="1", PYTHONPATH=str(ROOT))
    if not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        env["QT_QPA_PLATFORM"] = "offscreen"
    from benchmarks.common import warm

    warm(db)  # (a cold start of the process, with its index in the page cache)
    with tempfile.TemporaryDirectory() as tmp:
        env["XDG_CONFIG_HOME"] = tmp  # fresh settings
        env["TLSRPT_GUI_LOG_DIR"] = tmp
        app = [_time([sys.executable, "-m", "tlsrpt_gui", "--db", str(db)], env) for _ in range(runs)]
        bare = [_time([sys.executable, "-c", _BARE.replace("{painted_at}", PAINTED_AT)], env) for _ in range(runs)]

    def stats(times: list[float]) -> dict[str, float]:
        return {"median": statistics.median(times), "max": max(times)}

    return {
        "benchmark": "startup",
        "index": str(db),
        "runs": runs,
        "app_first_paint_s": stats([p for p, _ in app]),
        "bare_qt_first_paint_s": stats([p for p, _ in bare]),
        "ratio_app_to_bare": statistics.median(p for p, _ in app) / statistics.median(p for p, _ in bare),
        "app_exit_s": stats([e for _, e in app]),
        "bare_qt_exit_s": stats([e for _, e in bare]),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--db", type=Path, help="an index to open (default: a new empty one)")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or Path(tmp) / "empty.sqlite3"
        print(json.dumps(run(db, args.runs), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
