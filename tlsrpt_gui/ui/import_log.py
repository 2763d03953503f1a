"""The Import log: every input that failed or was skipped, with its reason."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from tlsrpt_gui.core.index import PASSED_OVER
from tlsrpt_gui.ui.delegates import elide_paths_at_start
from tlsrpt_gui.ui.formatting import format_int
from tlsrpt_gui.ui.models import ImportLogModel


class ImportLogDialog(QDialog):
    """A non-modal window over the ``sources`` table (failed and skipped inputs)."""

    def __init__(self, model: ImportLogModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Import Log")
        self.setModal(False)
        self.resize(1000, 420)
        self.model = model
        model.setParent(self)
        sql, params = model.count_query()
        n = int(model._conn.execute(sql, params).fetchone()[0])
        hidden = int(model._conn.execute("SELECT COUNT(*) FROM sources WHERE outcome = 'skipped' AND reason IN (?, ?)",
                                         PASSED_OVER).fetchone()[0])
        text = (f"{format_int(n - hidden)} input{'s' if n - hidden != 1 else ''} could not be imported."
                if n > hidden else "Every input so far was imported.")
        if hidden:
            text += (f" {format_int(hidden)} hidden file{'s or folders' if hidden != 1 else ' or folder'} "
                     "inside imported folders passed over (listed too).")
        self.summary = QLabel(text, self)
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.view = QTableView(self)
        self.view.setModel(model)
        self.view.setAccessibleName("Import log")
        self.view.verticalHeader().setVisible(False)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setAlternatingRowColors(True)
        self.view.setWordWrap(False)
        self.view.setShowGrid(False)
        hh = self.view.horizontalHeader()
        hh.setStretchLastSection(True)
        hh.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for i, w in enumerate((150, 70, 380, 120)):
            self.view.setColumnWidth(i, w)
        self._elide_start = elide_paths_at_start(self.view, [c.key for c in model.COLUMNS])
        hh.setSortIndicator(model.sort_column, model.sort_order)
        self.view.setSortingEnabled(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.close)
        lay = QVBoxLayout(self)
        lay.addWidget(self.summary)
        lay.addWidget(self.view, 1)
        lay.addWidget(buttons)
