"""Reading ahead of an import whose files come from the disk, not from memory.

A file read from the page cache costs a parser process 15-40 µs; one that the
operating system must fetch from the disk first costs it 100 µs and more, spent
waiting, one file after the other. Then the import waits for the disk, not for its
parsing: 20,000 small reports took 2.0-2.2 s on this project's machine, against
1.1-1.4 s once the same files were in memory. The disk answers many requests at
once far faster than one after another, so :class:`ReadAhead` asks the operating
system for the files a little ahead of the parser processes (``posix_fadvise``
``WILLNEED``: the request returns at once, and the read goes on in the background),
and the parsers then find them in memory (1.3-1.5 s).

Only once the parser processes' reads are seen to wait (:func:`reads_waited`):
asking costs three system calls a file, a twentieth of the import's work when the
files are in memory already, for nothing. A process's time off the processor is
taken for waiting, whatever kept it off: a machine busy enough to keep a parser off
its core for two thirds of a run of reads has the import read ahead for nothing, and
it goes on doing so to the import's end (a twentieth of its work, as said). Runs of
reads are parsed every few megabytes, so files of more than about 32 KB each (reports
of many failure rows, which take far longer to parse than to read) are never found
to wait. Where the operating system has no ``posix_fadvise`` (macOS, Windows),
nothing is read ahead.
"""

from __future__ import annotations

import logging
import os
import stat
import threading
from collections.abc import Callable, Sequence
from typing import Final

from tlsrpt_gui.core.sources import _OPEN_FLAGS

log = logging.getLogger(__name__)

#: the time a run of reads spent off the processor, per file, past which its files are
#: taken to come from the disk (here 100-130 µs a file): a file in memory costs 15-40 µs
#: of processor time and waits for nothing but the machine's other work
WAIT_PER_FILE_S: Final = 40e-6
#: … over at least this many files: reading 32 from memory takes about a millisecond,
#: and one turn of another process on the core made such a run look slow in 2 of 17
#: runs; reading 128 from disk takes 13-17 ms here, which the import waits once a process
MIN_FILES: Final = 128
#: bytes of a file asked for at most (a report's file is a few kilobytes; a mailbox's,
#: read on in order, is read ahead by the operating system itself)
FILE_BYTES: Final = 1 << 20
#: threads asking: each waits while the operating system finds a file (its inode) on
#: the disk; two kept well ahead of two parser processes here (one asked for 20,000
#: files in 0.67 s, four in 0.27 s)
THREADS: Final = 2
#: how often a thread looks again whether to begin, or whether the parsers have caught up
POLL_S: Final = 0.01
#: how long :meth:`ReadAhead.stop` waits for each thread (they end by themselves after)
STOP_WAIT_S: Final = 1.0

AVAILABLE: Final = hasattr(os, "posix_fadvise")


def reads_waited(files: int, wall_s: float, cpu_s: float) -> bool:
    """True if a run of reads of ``files`` files, which took ``wall_s`` seconds of
    which ``cpu_s`` on the processor, waited for the disk."""
    return files >= MIN_FILES and wall_s - cpu_s > files * WAIT_PER_FILE_S


def advise(path: str) -> bool:
    """Ask the operating system to read the file ``path`` into memory, without waiting
    for it; False if it is not a regular file, or cannot be opened. Never waits for a
    writer (a named pipe), as reading the file does not (see sources.read_source)."""
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError:
        return False
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return False
        if st.st_size:
            os.posix_fadvise(fd, 0, min(st.st_size, FILE_BYTES), os.POSIX_FADV_WILLNEED)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


class ReadAhead:
    """Threads that ask for ``paths`` in order, ahead of their readers, once
    ``wanted()`` says their reads wait for the disk (it is asked every POLL_S until
    then). The readers say how far they are with :attr:`reached`: files before it are
    read, and no more than ``ahead`` files past it are asked for. Stop with :meth:`stop`
    (or use it as a context manager)."""

    def __init__(self, paths: Sequence[str], wanted: Callable[[], bool], *, ahead: int) -> None:
        self.paths = paths
        self.wanted = wanted
        self.ahead = ahead
        #: the readers are done with the files before this one
        self.reached = 0
        #: how many files were asked for (regular files that could be opened)
        self.advised = 0
        #: whether the reads were found to wait, and reading ahead began
        self.began = False
        self._next = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, name=f"read-ahead-{i}", daemon=True)
                         for i in range(THREADS if AVAILABLE else 0)]

    def __enter__(self) -> ReadAhead:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Start the threads; if one cannot start (a limit on threads), none is left
        running: the import goes on without reading ahead."""
        try:
            for thread in self._threads:
                thread.start()
        except RuntimeError:
            log.warning("cannot start a thread to read ahead; reading without", exc_info=True)
            self.stop()

    def stop(self) -> None:
        """Ask for nothing more, and wait a moment for the threads (each finishes the file
        it is asking for). One that waits longer, for a file system that does not answer,
        is left to end by itself: it asks for nothing after that file."""
        self._stop.set()
        for thread in self._threads:
            if thread.is_alive():
                thread.join(STOP_WAIT_S)

    def _take(self) -> int | None:
        """The next file to ask for, waiting while it is too far ahead; None to end."""
        while not self._stop.is_set():
            with self._lock:
                i = max(self._next, self.reached)
                if i >= len(self.paths):
                    return None
                if i < self.reached + self.ahead:
                    self._next = i + 1
                    return i
            self._stop.wait(POLL_S)
        return None

    def _run(self) -> None:
        while not self.began:
            if self._stop.wait(POLL_S):
                return
            try:
                wanted = self.wanted()  # (not under the lock: it may wait on another process's)
            except Exception:  # (an event of a pool that broke): the import goes on without
                log.warning("cannot tell whether to read ahead", exc_info=True)
                return
            with self._lock:
                if wanted and not self.began:
                    self.began = True
                    log.info("the files' reads wait for the disk: reading ahead of the parsers")
        while (i := self._take()) is not None:
            if advise(self.paths[i]):
                with self._lock:
                    self.advised += 1
