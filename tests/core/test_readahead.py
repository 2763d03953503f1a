"""Reading ahead of an import's parser processes when their reads wait for the disk
(core/readahead.py)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tlsrpt_gui.core import readahead
from tlsrpt_gui.core.readahead import ReadAhead, reads_waited

needs_fadvise = pytest.mark.skipif(not readahead.AVAILABLE, reason="no posix_fadvise here: nothing is read ahead")


def until(cond: Callable[[], bool], timeout: float = 20.0) -> bool:
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            return False
        time.sleep(0.005)
    return True


def files(folder: Path, n: int) -> list[str]:
    folder.mkdir(exist_ok=True)
    out = []
    for i in range(n):
        p = folder / f"r{i:04d}.json.gz"
        p.write_bytes(b"x" * (i % 3))  # some empty: asked for all the same
        out.append(str(p))
    return out


def test_reads_wait_for_the_disk_when_most_of_their_time_is_off_the_processor() -> None:
    n = readahead.MIN_FILES
    per_file = readahead.WAIT_PER_FILE_S
    assert reads_waited(n, 0.5, 0.001)  # 15 ms a file, waiting
    assert not reads_waited(n, n * 20e-6, n * 20e-6)  # from memory: all of it on the processor
    assert not reads_waited(n, n * per_file * 0.9 + 0.004, 0.004)  # a little preempted
    assert reads_waited(n, n * per_file * 1.1 + 0.004, 0.004)
    assert not reads_waited(n - 1, 10.0, 0.0)  # too few files to say


@needs_fadvise
def test_each_regular_file_is_asked_for_once_and_nothing_else_waits_or_counts(tmp_path: Path) -> None:
    paths = files(tmp_path / "in", 60)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)  # opening it for reading would wait for a writer, if not asked not to
    paths[10:10] = [str(fifo), str(tmp_path / "missing"), str(tmp_path / "in"), str(tmp_path)]
    with ReadAhead(paths, lambda: True, ahead=1000) as ahead:
        assert until(lambda: ahead.advised == 60)
        time.sleep(0.05)
        assert ahead.began and ahead.advised == 60
    assert all(not t.is_alive() for t in ahead._threads)


@needs_fadvise
def test_it_begins_once_wanted_and_stays_a_bounded_number_of_files_ahead(tmp_path: Path) -> None:
    paths = files(tmp_path / "in", 100)
    wanted = False
    with ReadAhead(paths, lambda: wanted, ahead=10) as ahead:
        time.sleep(5 * readahead.POLL_S)
        assert (ahead.began, ahead.advised) == (False, 0)
        wanted = True
        assert until(lambda: ahead.advised == 10)
        time.sleep(5 * readahead.POLL_S)
        assert ahead.advised == 10  # the readers are still at the first file
        ahead.reached = 25  # the readers finished with 25 files: 15 of them it never asked for
        assert until(lambda: ahead.advised == 20)
        time.sleep(5 * readahead.POLL_S)
        assert ahead.advised == 20
        ahead.reached = 100
        time.sleep(5 * readahead.POLL_S)
        assert ahead.advised == 20  # nothing left ahead of the readers
    assert all(not t.is_alive() for t in ahead._threads)


def test_stopping_it_ends_its_threads_whether_or_not_it_began(tmp_path: Path) -> None:
    paths = files(tmp_path / "in", 5)
    for wanted in (False, True):
        ahead = ReadAhead(paths, lambda w=wanted: w, ahead=1)  # type: ignore[misc]
        ahead.start()
        time.sleep(3 * readahead.POLL_S)
        if wanted and readahead.AVAILABLE:  # it asked for the one file it may, and waits for the readers
            assert until(lambda: ahead.advised == 1)  # noqa: B023 (called in this iteration)
        t = time.monotonic()
        ahead.stop()
        assert time.monotonic() - t < 2.0
        assert all(not th.is_alive() for th in ahead._threads)
        if readahead.AVAILABLE:
            assert ahead.advised == (1 if wanted else 0)


def test_a_question_that_fails_ends_it_quietly(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    paths = files(tmp_path / "in", 5)

    def broken() -> bool:
        raise OSError("the pool's event is gone")

    with ReadAhead(paths, broken, ahead=10) as ahead:
        assert until(lambda: all(not t.is_alive() for t in ahead._threads))
    assert (ahead.began, ahead.advised) == (False, 0)
    assert any("cannot tell whether to read ahead" in r.getMessage() for r in caplog.records) == readahead.AVAILABLE
