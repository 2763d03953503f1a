"""What the table, chart and start-up benchmarks share.

``peak_rss`` is the process's peak resident memory, for the browsing benchmarks.

``warm`` reads an index file once before timing queries on it, so that each benchmark
measures an index in memory (as after the first minutes of use), whatever ran before
it: an import of a million files, run just before, left the million-report index out
of the page cache, and its first sorts and charts read from disk for up to 2.6 s.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any


def warm(db: Path) -> float:
    """Read ``db`` and its WAL, if any, through; returns the seconds it took."""
    t = time.perf_counter()
    for path in (db, Path(f"{db}-wal")):
        try:
            with open(path, "rb") as fh:
                while fh.read(1 << 20):
                    pass
        except FileNotFoundError:
            pass
    return time.perf_counter() - t


def _status_bytes(field: str) -> int:
    """A memory figure of this process from /proc/self/status, in bytes (Linux; 0 elsewhere)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(f"{field}:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def peak_rss() -> int:
    """This process's peak resident memory in bytes (VmHWM)."""
    return _status_bytes("VmHWM")


def rss() -> int:
    """This process's resident memory now, in bytes (VmRSS)."""
    return _status_bytes("VmRSS")


def ms(t: float) -> float:
    """Milliseconds since ``t`` (a ``time.perf_counter()``)."""
    return (time.perf_counter() - t) * 1000


def read_signposts(model: Any, conn: Any) -> float | None:
    """Read a counted table model's signposts as the window does in the background, and
    give them to it; the milliseconds it took, or None if it needs none."""
    reader = model.signpost_reader()
    if reader is None:
        return None
    t = time.perf_counter()
    reader.give(reader.read(conn))
    return ms(t)
