"""Set-up work that waits until the user leaves the application alone for a moment."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QTimer

#: the events that count as the user at work
_INPUT: Final = frozenset({
    QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonDblClick,
    QEvent.Type.MouseMove, QEvent.Type.Wheel, QEvent.Type.TouchBegin, QEvent.Type.TouchUpdate,
})
#: how often a pending piece of work asks again whether it can run
_POLL_MS: Final = 100


class WhenIdle(QObject):
    """Runs ``work`` once: ``ms`` after it is made, then after ``ms`` without keyboard,
    mouse or wheel input to the application, and only once ``ready()`` says so (else
    it asks again shortly).

    For work on the GUI thread that would make the window stutter while it is used,
    such as building the Charts tab before its first visit. The input is watched only
    from the first ``ms`` on (an application-wide event filter): not while the window
    starts.
    """

    def __init__(self, parent: QObject, ms: int, work: Callable[[], None],
                 ready: Callable[[], bool] = lambda: True) -> None:
        super().__init__(parent)
        self._ms = ms
        self._work = work
        self._ready = ready
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._fire)
        self._app: QCoreApplication | None = None
        self._watching = False
        self._timer.start(ms)

    @property
    def pending(self) -> bool:
        return self._timer.isActive()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in _INPUT and self._timer.isActive():
            self._timer.start(self._ms)  # the user is at work: wait again
        return False

    def stop(self) -> None:
        """Never run the work (the window closes), or it has run."""
        self._timer.stop()
        self._watching = True
        if self._app is not None:
            self._app.removeEventFilter(self)
            self._app = None

    def _fire(self) -> None:
        if not self._watching:  # from now on, wait for the user to leave it alone
            self._watching = True
            self._app = QCoreApplication.instance()
            if self._app is not None:
                self._app.installEventFilter(self)
                self._timer.start(self._ms)
                return
        if not self._ready():
            self._timer.start(_POLL_MS)
            return
        self.stop()
        self._work()
