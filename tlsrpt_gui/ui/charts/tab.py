"""The Charts tab (work in progress: the API is final, the charts follow)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from tlsrpt_gui.core.query import Filter


class ChartsTab(QWidget):
    """Charts over the index at ``db_path`` that follow the shared filter."""

    #: a :class:`Filter`: the current filter with the clicked field set
    filter_requested = Signal(object)
    #: every chart has been redrawn after a refresh or a filter change
    ready = Signal()

    def __init__(self, db_path: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db_path = Path(db_path)
        self._filter = Filter()
        layout = QVBoxLayout(self)
        self._label = QLabel("Charts are being built.", self)
        layout.addWidget(self._label)

    def current_filter(self) -> Filter:
        return self._filter

    def set_filter(self, flt: Filter) -> None:
        self._filter = flt
        self.refresh()

    def refresh(self) -> None:
        QTimer.singleShot(0, self.ready.emit)
