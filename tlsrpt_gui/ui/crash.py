"""One crash handler for uncaught exceptions on any thread.

Every uncaught exception is logged with its traceback, then shown in one
non-modal crash dialog (later ones are added to the same dialog) that names the
log file. The index is not at risk: imports write in transactions.
"""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from tlsrpt_gui import DISPLAY_NAME

log = logging.getLogger("tlsrpt_gui.crash")

CRASH_TEXT = (
    "tlsrpt-gui hit an unexpected error. What is already in the index is safe: "
    "imports are written in transactions.\n\n"
    "Please report this bug with the details below. They are also in the log file:\n{log}"
)


class CrashDialog(QDialog):
    def __init__(self, log_path: Path | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"{DISPLAY_NAME} — unexpected error")
        self.setObjectName("crash_dialog")
        self.message = QLabel(CRASH_TEXT.format(log=log_path or "(no log file could be written)"), self)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details = QPlainTextEdit(self)
        self.details.setReadOnly(True)
        self.details.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.details.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        copy = QPushButton("&Copy Details", self)
        buttons.addButton(copy, QDialogButtonBox.ButtonRole.ActionRole)
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.details.toPlainText()))
        buttons.rejected.connect(self.close)
        lay = QVBoxLayout(self)
        lay.addWidget(self.message)
        lay.addWidget(self.details, 1)
        lay.addWidget(buttons)
        self.resize(760, 480)

    def add(self, text: str) -> None:
        current = self.details.toPlainText()
        self.details.setPlainText(f"{current}\n{'-' * 72}\n{text}" if current else text)


class CrashHandler(QObject):
    """Install with :meth:`install`; ``crashed`` fires on the GUI thread."""

    crashed = Signal(str)

    def __init__(self, log_path: Path | None, *, show: Callable[[CrashDialog], None] | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.log_path = log_path
        self.dialog: CrashDialog | None = None
        self.count = 0
        self._show = show or (lambda d: (d.show(), d.raise_(), d.activateWindow()))
        self._previous: tuple[object, object] | None = None
        self.crashed.connect(self._on_crash, Qt.ConnectionType.QueuedConnection)

    def install(self) -> None:
        self._previous = (sys.excepthook, threading.excepthook)
        sys.excepthook = self.excepthook
        threading.excepthook = self._thread_hook

    def uninstall(self) -> None:
        if self._previous is not None:
            sys.excepthook, threading.excepthook = self._previous  # type: ignore[assignment]
            self._previous = None

    def excepthook(self, etype: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        if issubclass(etype, KeyboardInterrupt):
            sys.__excepthook__(etype, value, tb)
            return
        text = getattr(value, "__traceback_text__", None) or "".join(traceback.format_exception(etype, value, tb))
        log.critical("uncaught exception\n%s", text)
        self.crashed.emit(text)

    def _thread_hook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_value is None:
            return
        self.excepthook(args.exc_type, args.exc_value, args.exc_traceback)

    @Slot(str)
    def _on_crash(self, text: str) -> None:
        self.count += 1
        if self.dialog is None:
            self.dialog = CrashDialog(self.log_path)
        self.dialog.add(text)
        self._show(self.dialog)
