"""Runs imports off the GUI thread, one at a time, each with its own index connection."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from tlsrpt_gui.core.index import ImportResult, Index, IndexError_, Progress
from tlsrpt_gui.core.sources import DEFAULT_LIMITS, Limits
from tlsrpt_gui.ui.tasks import Task, run_task

log = logging.getLogger(__name__)


class ImportController(QObject):
    """Queue of import jobs; signals arrive on the GUI thread."""

    started = Signal(list)  # the paths
    progress = Signal(int, int, str)  # done, total, current input
    finished = Signal(object)  # ImportResult
    failed = Signal(str)  # a plain reason (the index could not be written…)
    idle = Signal()  # nothing running nor queued

    def __init__(self, db_path: Path, parent: QObject | None = None, *,
                 limits: Callable[[], Limits] | None = None) -> None:
        super().__init__(parent)
        self.db_path = Path(db_path)
        self._limits = limits or (lambda: DEFAULT_LIMITS)
        self._task: Task[ImportResult] | None = None
        self._queue: list[list[str]] = []

    @property
    def running(self) -> bool:
        return self._task is not None

    def start(self, paths: list[str]) -> None:
        """Import ``paths`` now, or after the running import."""
        if not paths:
            return
        self._queue.append(list(paths))
        if self._task is None:
            self._next()

    def cancel(self) -> None:
        """Stop the running import after its current batch; drop queued ones."""
        self._queue.clear()
        if self._task is not None:
            self._task.cancel()

    def _next(self) -> None:
        if not self._queue:
            self.idle.emit()
            return
        paths = self._queue.pop(0)
        db = self.db_path
        limits = self._limits()

        def job(task: Task[ImportResult]) -> ImportResult:
            def on_progress(p: Progress) -> None:
                task.report_progress(p.done, p.total, p.current)

            with Index(db) as idx:
                return idx.import_paths(
                    paths, limits=limits, progress=on_progress, cancelled=lambda: task.cancelled
                )

        # Completion is handled in the result and error slots: they are connected before the
        # job starts, so a job that ends at once cannot be missed.
        self._task = run_task(
            job, on_result=self._on_result, on_error=self._on_error, on_progress=self.progress.emit
        )
        self.started.emit(paths)

    def _on_result(self, result: ImportResult) -> None:
        self._task = None
        self.finished.emit(result)
        self._next()

    def _on_error(self, exc: BaseException) -> None:
        self._task = None
        if isinstance(exc, IndexError_ | OSError):
            self.failed.emit(str(exc))
        else:
            log.error("import failed: %s\n%s", exc, getattr(exc, "__traceback_text__", ""))
            self.failed.emit(
                f"unexpected error ({type(exc).__name__}: {exc}); please report this as a bug"
            )
        self._next()
