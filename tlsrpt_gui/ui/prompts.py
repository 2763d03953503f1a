"""Every modal prompt goes through one injectable service, so tests never block on a dialog."""

from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

REPORT_FILE_FILTER = "TLS reports (*.json *.json.gz *.gz *.zip *.eml *.msg *.mbox);;All files (*)"


class PromptService(Protocol):
    def open_files(self, parent: QWidget | None, directory: str) -> list[str]: ...

    def open_folder(self, parent: QWidget | None, directory: str) -> str: ...

    def save_file(self, parent: QWidget | None, directory: str, filters: str) -> tuple[str, str]:
        """``(path, chosen filter)``; an empty path when cancelled."""
        ...

    def information(self, parent: QWidget | None, title: str, text: str) -> None: ...

    def error(self, parent: QWidget | None, title: str, text: str) -> None: ...

    def question(self, parent: QWidget | None, title: str, text: str, yes: str) -> bool:
        """Ask; True when the user chose *yes* (the button's text)."""
        ...


def _box(parent: QWidget | None, icon: QMessageBox.Icon, title: str, text: str) -> None:
    box = QMessageBox(icon, title, text, QMessageBox.StandardButton.Ok, parent)
    box.setTextFormat(Qt.TextFormat.PlainText)  # paths and report text are never markup
    box.exec()


class QtPromptService:
    """The real dialogs."""

    def open_files(self, parent: QWidget | None, directory: str) -> list[str]:
        files, _ = QFileDialog.getOpenFileNames(
            parent, "Open Reports", directory, REPORT_FILE_FILTER
        )
        return list(files)

    def open_folder(self, parent: QWidget | None, directory: str) -> str:
        return QFileDialog.getExistingDirectory(parent, "Open Folder of Reports", directory)

    def save_file(self, parent: QWidget | None, directory: str, filters: str) -> tuple[str, str]:
        path, chosen = QFileDialog.getSaveFileName(parent, "Export Table", directory, filters)
        return path, chosen

    def information(self, parent: QWidget | None, title: str, text: str) -> None:
        _box(parent, QMessageBox.Icon.Information, title, text)

    def error(self, parent: QWidget | None, title: str, text: str) -> None:
        _box(parent, QMessageBox.Icon.Warning, title, text)

    def question(self, parent: QWidget | None, title: str, text: str, yes: str) -> bool:
        box = QMessageBox(QMessageBox.Icon.Question, title, text, QMessageBox.StandardButton.Cancel, parent)
        box.setTextFormat(Qt.TextFormat.PlainText)
        yes_button = box.addButton(yes, QMessageBox.ButtonRole.AcceptRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        return box.clickedButton() is yes_button
