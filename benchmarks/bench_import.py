"""Import throughput and peak memory, against a plain-parse baseline in the same run.

    python benchmarks/bench_import.py --reports 20000 [--dir DIR] [--workers N] [--window]

Writes (or reuses) a deterministic set of synthetic ``.json.gz`` reports, then
times, each in a fresh child process so memory is measured on its own:

* ``baseline``: read + gunzip + ``json.loads`` of every file, nothing else;
* ``import``: ``tlsrpt-gui import`` into a new index (parse, dedupe, write);
* ``window`` (with ``--window``): the same import in the window, offscreen, from the
  drop of the folder to the tables refreshed, once the window has done what it does
  after start-up (the Charts tab readied, the parser processes' fork server started);
* ``parsedmarc``: parsedmarc's SMTP TLS parser on the same files, if installed.

With ``--repeat N`` the sides alternate N times and the best of each is kept.
Every side reads the files from the page cache (a first reading puts them there),
unless ``--cold``: then the files' pages are dropped from the page cache before each
side (``posix_fadvise`` ``DONTNEED``, on Linux; their names and inodes stay cached),
which then reads them from the disk, as an import does of reports that have lain in a
folder a while. Prints one JSON object: seconds, reports/s, the ratios and the peak RSS (VmHWM)
of each child, and of the import's largest parser process.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

_CHILD_PRELUDE = """
import json, sys, time
def _hwm():
    for line in open('/proc/self/status'):
        if line.startswith('VmHWM:'):
            return int(line.split()[1]) * 1024
    return 0
"""

_BASELINE = _CHILD_PRELUDE + """
import gzip, os
folder = sys.argv[1]
names = sorted(n for n in os.listdir(folder) if not n.startswith('.'))
t = time.perf_counter()
n = 0
for name in names:
    with open(os.path.join(folder, name), 'rb') as fh:
        json.loads(gzip.decompress(fh.read()))
    n += 1
print(json.dumps({'seconds': time.perf_counter() - t, 'reports': n, 'peak_rss': _hwm()}))
"""

_IMPORT = _CHILD_PRELUDE + """
from tlsrpt_gui.core.index import Index
folder, db, workers = sys.argv[1], sys.argv[2], sys.argv[3]
t = time.perf_counter()
with Index(db) as ix:
    r = ix.import_paths([folder], workers=int(workers) if workers != 'auto' else None)
seconds = time.perf_counter() - t
import resource  # the largest parser process's peak (they write too): KiB on Linux
parser_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
print(json.dumps({'seconds': seconds, 'reports': r.imported, 'failed': len(r.failed), 'peak_rss': _hwm(),
                  'peak_rss_parser_process': parser_rss}))
"""

_WINDOW = _CHILD_PRELUDE + """
import os, tempfile
os.environ['QT_QPA_PLATFORM'] = 'offscreen'
from pathlib import Path
from PySide6.QtCore import QEventLoop, QSettings, QTimer
from PySide6.QtWidgets import QApplication
from tlsrpt_gui.ui.main_window import MainWindow
folder, db, settings = sys.argv[1], sys.argv[2], sys.argv[3]
app = QApplication([])
w = MainWindow(Path(db), settings=QSettings(settings, QSettings.Format.IniFormat))
w.resize(1280, 800)
w.show()
# what the window does after start-up first: the Charts tab built and computed, hidden,
# and the parser processes' fork server started
deadline = time.monotonic() + 30
while time.monotonic() < deadline and not (w._charts is not None and w._parser_server_started and not w._charts._tasks):
    app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
loop, t = QEventLoop(), {}
w.import_finished.connect(lambda r: (t.update(end=time.perf_counter(), result=r), loop.quit()))
def drop():
    t['start'] = time.perf_counter()
    w.import_paths([folder])
QTimer.singleShot(0, drop)
loop.exec()
r = t['result']
w.shutdown()
print(json.dumps({'seconds': t['end'] - t['start'], 'reports': r.imported, 'failed': len(r.failed), 'peak_rss': _hwm()}))
"""

_PARSEDMARC = _CHILD_PRELUDE + """
import os
from parsedmarc import parse_report_file
folder = sys.argv[1]
names = sorted(n for n in os.listdir(folder) if not n.startswith('.'))
t = time.perf_counter()
n = 0
for name in names:
    parse_report_file(os.path.join(folder, name), offline=True)
    n += 1
print(json.dumps({'seconds': time.perf_counter() - t, 'reports': n, 'peak_rss': _hwm()}))
"""


def evict(folder: Path) -> None:
    """Drop the pages of the files in ``folder`` from the page cache: the next reading of
    them waits for the disk (a file some process holds mapped keeps its pages, and one
    in a memory file system, such as a tmpfs /tmp, has nowhere else to be read from)."""
    for entry in os.scandir(folder):
        if entry.is_file():
            fd = os.open(entry.path, os.O_RDONLY)
            try:
                os.fsync(fd)  # (pages not yet written, of files just generated, would stay)
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


def _child(code: str, *args: str, python: str | None = None) -> dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run([python or sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, check=False)
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip().splitlines()[-1] if out.stderr.strip() else f"exit {out.returncode}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


_SEED = 7


def ensure_reports(folder: Path, n: int, failure_rows: int = 0) -> Path:
    """The synthetic set of ``n`` reports in ``folder`` (``failure_rows`` failure details
    in each, see synth.generate), written unless the folder holds that very set already
    (a hidden note says which set it holds)."""
    sys.path.insert(0, str(HERE))
    import synth

    note = folder / ".synth-set"
    want: dict[str, int] = {"reports": n, "seed": _SEED, "version": synth.VERSION}
    if failure_rows:
        want["failure_rows"] = failure_rows
    existing = list(folder.glob("*.json.gz")) if folder.exists() else []
    try:
        held = json.loads(note.read_text())
    except (OSError, ValueError):
        held = None
    if held != want or len(existing) != n:
        for p in existing:
            p.unlink()
        synth.generate(folder, n, seed=_SEED, failure_rows=failure_rows)
        note.write_text(json.dumps(want))
    return folder


def run(n: int, folder: Path | None, workers: str, repeat: int = 1, parsedmarc_python: str | None = None,
        window: bool = False, failure_rows: int = 0, cold: bool = False) -> dict[str, Any]:
    if cold and not hasattr(os, "posix_fadvise"):
        raise SystemExit("--cold needs posix_fadvise (Linux)")
    with tempfile.TemporaryDirectory(prefix="tlsrpt-bench-") as tmp:
        reports = ensure_reports(folder or Path(tmp) / "reports", n, failure_rows)
        best: dict[str, dict[str, Any]] = {}
        parsedmarc_error = ""
        # every side reads from memory (the page cache warmed once a repeat), or each from the disk
        prepare = (lambda: evict(reports)) if cold else (lambda: None)
        # The three alternate within each repeat, and the best of each is kept: the
        # machine's load moves all of them alike.
        for _ in range(max(1, repeat)):
            if not cold:
                _child(_BASELINE, str(reports))
            prepare()
            base = _child(_BASELINE, str(reports))
            db = Path(tmp) / f"bench-{time.monotonic_ns()}.sqlite3"
            prepare()
            imp = _child(_IMPORT, str(reports), str(db), workers)
            db.unlink(missing_ok=True)
            runs = [("baseline", base), ("import", imp)]
            if window:
                db = Path(tmp) / f"window-{time.monotonic_ns()}.sqlite3"
                prepare()
                runs.append(("window", _child(_WINDOW, str(reports), str(db), str(Path(tmp) / "settings.ini"))))
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{db}{suffix}").unlink(missing_ok=True)
            if not parsedmarc_error:
                try:
                    prepare()
                    runs.append(("parsedmarc", _child(_PARSEDMARC, str(reports), python=parsedmarc_python)))
                except RuntimeError as exc:
                    parsedmarc_error = str(exc)[:200] or "failed"
            for key, value in runs:
                if key not in best or value["seconds"] < best[key]["seconds"]:
                    best[key] = value
        result: dict[str, Any] = {
            "benchmark": "import",
            "reports": n,
            "failure_rows_each": failure_rows or None,
            "files_from": "disk" if cold else "page cache",
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
            "baseline": best["baseline"] | {"reports_per_s": n / best["baseline"]["seconds"]},
            "import": best["import"] | {"reports_per_s": n / best["import"]["seconds"]},
            "ratio_import_to_baseline": best["import"]["seconds"] / best["baseline"]["seconds"],
        }
        if window:
            result["window"] = best["window"] | {"reports_per_s": n / best["window"]["seconds"]}
            result["ratio_window_to_baseline"] = best["window"]["seconds"] / best["baseline"]["seconds"]
        if parsedmarc_error:
            result["parsedmarc"] = {"skipped": parsedmarc_error}
        else:
            pm = best["parsedmarc"]
            result["parsedmarc"] = pm | {"reports_per_s": n / pm["seconds"]}
            result["ratio_import_to_parsedmarc"] = best["import"]["seconds"] / pm["seconds"]
        return result


def main() -> int:
    ap = argparse.ArgumentParser(description="Import throughput against a plain-parse baseline.")
    ap.add_argument("--reports", type=int, default=20000)
    ap.add_argument("--dir", type=Path, help="keep the generated reports here (reused when it holds the same set)")
    ap.add_argument("--workers", default="auto", help="parser processes, or 'auto' (one per core)")
    ap.add_argument("--repeat", type=int, default=1, help="runs; the best of each side is kept")
    ap.add_argument("--parsedmarc-python", metavar="PYTHON",
                    help="an interpreter that has parsedmarc installed (it is not a dependency of ours)")
    ap.add_argument("--window", action="store_true",
                    help="also import the files in the window (offscreen), as if dropped on it once it has started")
    ap.add_argument("--failure-rows", type=int, default=0, metavar="N",
                    help="reports of N failure details each, not the usual mix (see synth.py)")
    ap.add_argument("--cold", action="store_true",
                    help="each side reads the files from the disk: their pages are dropped from the page cache first")
    args = ap.parse_args()
    print(json.dumps(run(args.reports, args.dir, args.workers, args.repeat, args.parsedmarc_python, args.window,
                         args.failure_rows, args.cold), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
