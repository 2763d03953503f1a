"""Background work off the GUI thread: one small typed helper.

``run_task(fn, on_result=..., on_error=...)`` runs ``fn(task)`` on a thread pool.
The job never touches widgets: it may call ``task.report_progress(done, total,
text)`` and check ``task.cancelled``. The result, the error or the progress come
back on the GUI thread as signals of the returned :class:`Task`.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

log = logging.getLogger(__name__)

T = TypeVar("T")


class Task(QObject, Generic[T]):
    """A handle on one background job. Signals arrive on the GUI thread."""

    finished = Signal(object)  # the result
    failed = Signal(object)  # the exception (with __traceback_text__ set)
    progress = Signal(int, int, str)  # done, total, text
    done = Signal()  # after finished or failed

    def __init__(self, fn: Callable[[Task[T]], T]) -> None:
        super().__init__()
        self._fn = fn
        self._cancel = threading.Event()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancel_event(self) -> threading.Event:
        return self._cancel

    def report_progress(self, done: int, total: int, text: str = "") -> None:
        self.progress.emit(done, total, text)

    def _run(self) -> None:
        try:
            result = self._fn(self)
        except BaseException as exc:  # reported to the GUI thread, never lost
            exc.__traceback_text__ = traceback.format_exc()  # type: ignore[attr-defined]
            log.debug("task failed", exc_info=True)
            self.failed.emit(exc)
        else:
            self.finished.emit(result)
        self.done.emit()


class _Runnable(QRunnable):
    def __init__(self, task: Task[Any]) -> None:
        super().__init__()
        self.task = task
        self.setAutoDelete(True)

    def run(self) -> None:
        self.task._run()


_live: set[Task[Any]] = set()


def run_task(
    fn: Callable[[Task[T]], T],
    *,
    on_result: Callable[[T], None] | None = None,
    on_error: Callable[[BaseException], None] | None = None,
    on_progress: Callable[[int, int, str], None] | None = None,
    pool: QThreadPool | None = None,
) -> Task[T]:
    """Start ``fn(task)`` in the background and return its :class:`Task`."""
    task: Task[T] = Task(fn)
    if on_result is not None:
        task.finished.connect(on_result)
    if on_error is not None:
        task.failed.connect(on_error)
    else:
        task.failed.connect(_unhandled)
    if on_progress is not None:
        task.progress.connect(on_progress)
    _live.add(task)  # keep the QObject alive until the job is over
    task.done.connect(lambda: _live.discard(task))
    (pool or QThreadPool.globalInstance()).start(_Runnable(task))
    return task


def _unhandled(exc: BaseException) -> None:
    text = getattr(exc, "__traceback_text__", "")
    log.error("unhandled error in a background task: %s\n%s", exc, text)
    import sys

    hook = sys.excepthook
    hook(type(exc), exc, exc.__traceback__)
