"""WhenIdle: set-up work that waits until the user leaves the application alone."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QObject, QPointF, Qt
from PySide6.QtGui import QKeyEvent, QMouseEvent
from PySide6.QtWidgets import QApplication, QWidget

from tlsrpt_gui.ui.idle import WhenIdle


def _key() -> QKeyEvent:
    return QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_Down, Qt.KeyboardModifier.NoModifier)


def test_input_postpones_the_work_until_the_user_stops(qtbot: Any) -> None:
    owner = QWidget()
    qtbot.addWidget(owner)
    ran: list[int] = []
    idle = WhenIdle(owner, 60_000, lambda: ran.append(1))
    assert idle.pending
    idle._timer.start(5_000)
    QApplication.sendEvent(owner, _key())  # while the window starts, input is not watched
    assert idle._timer.remainingTime() < 50_000  # not started again
    idle._timer.start(0)  # the first wait is over: from now on it is
    qtbot.waitUntil(lambda: idle._watching, timeout=2000)
    assert idle._timer.remainingTime() > 50_000 and not ran
    idle._timer.start(10)  # nearly due
    QApplication.sendEvent(owner, _key())  # through the application's event filters
    assert idle._timer.remainingTime() > 50_000  # waits the whole time again
    click = QMouseEvent(QEvent.Type.MouseButtonPress, QPointF(1, 1), QPointF(1, 1), Qt.MouseButton.LeftButton,
                        Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    idle._timer.start(10)
    QApplication.sendEvent(owner, click)
    assert idle._timer.remainingTime() > 50_000
    qtbot.wait(50)
    assert not ran
    idle.stop()


def test_the_work_runs_once_when_ready(qtbot: Any) -> None:
    owner = QObject()
    ran: list[int] = []
    ready = [False]
    idle = WhenIdle(owner, 20, lambda: ran.append(1), ready=lambda: ready[0])
    qtbot.wait(150)
    assert not ran and idle.pending  # asks again while not ready
    ready[0] = True
    qtbot.waitUntil(lambda: bool(ran), timeout=2000)
    qtbot.wait(150)
    assert ran == [1] and not idle.pending
    QApplication.sendEvent(owner, _key())
    assert not idle.pending  # its event filter is gone


def test_stopped_work_never_runs(qtbot: Any) -> None:
    owner = QObject()
    ran: list[int] = []
    idle = WhenIdle(owner, 20, lambda: ran.append(1))
    idle.stop()
    qtbot.wait(100)
    assert not ran and not idle.pending
