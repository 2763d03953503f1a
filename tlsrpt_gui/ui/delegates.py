"""Item delegates shared by the tables and the Import log."""

from __future__ import annotations

from typing import Final

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import QAbstractItemView, QStyledItemDelegate, QStyleOptionViewItem


class ElideStart(QStyledItemDelegate):
    """Cells that elide their start, not their end: paths, whose file name is at the end."""

    def initStyleOption(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> None:
        super().initStyleOption(option, index)
        option.textElideMode = Qt.TextElideMode.ElideLeft  # type: ignore[attr-defined]


#: the columns (by key) that :class:`ElideStart` shows
PATH_COLUMNS: Final = frozenset({"source", "path"})


def elide_paths_at_start(view: QAbstractItemView, keys: list[str]) -> ElideStart:
    """Show the path columns among ``keys`` (the view's columns, in order) with
    :class:`ElideStart`; returns the delegate (the caller keeps it)."""
    delegate = ElideStart(view)
    for i, key in enumerate(keys):
        if key in PATH_COLUMNS:
            view.setItemDelegateForColumn(i, delegate)
    return delegate
