"""The filter bar from the keyboard: Tab through the date fields, Enter and Escape in
the text fields. Real key events on a shown window, delivered where the platform
would deliver them (the focus widget, or an open popup)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QDate, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QComboBox, QLineEdit, QWidget

from tlsrpt_gui.core.query import Filter
from tlsrpt_gui.ui.filter_bar import FilterBar
from tlsrpt_gui.ui.main_window import MainWindow

NO_MOD = Qt.KeyboardModifier.NoModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier
CTRL = Qt.KeyboardModifier.ControlModifier
TEXT_FIELDS = ("domain_edit", "reporter_combo", "text_edit")


def _shown(qtbot: Any, make_window: Any, db: Path) -> MainWindow:
    w: MainWindow = make_window(db)
    w.show()
    qtbot.waitExposed(w)
    w.activateWindow()
    qtbot.waitActive(w)
    return w


def _watched(qtbot: Any, make_window: Any, db: Path) -> tuple[Any, Any, list[Filter]]:
    """A shown window, its filter bar, and the filters the bar announces, as they come."""
    w = _shown(qtbot, make_window, db)
    seen: list[Filter] = []
    w.filter_bar.filter_changed.connect(seen.append)
    return w, w.filter_bar, seen


def _focus(qtbot: Any, widget: QWidget) -> None:
    widget.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(widget.hasFocus, timeout=3000)


def _press(qtbot: Any, key: Qt.Key, modifier: Qt.KeyboardModifier = NO_MOD) -> None:
    """One key, to whoever has the keyboard: an open popup, else the focus widget."""
    target = QApplication.activePopupWidget() or QApplication.focusWidget()
    assert target is not None
    qtbot.keyClick(target, key, modifier)


def _type(qtbot: Any, text: str) -> None:
    target = QApplication.focusWidget()
    assert target is not None
    qtbot.keyClicks(target, text)


def _line_edit(bar: FilterBar, name: str) -> QLineEdit:
    field = getattr(bar, name)
    edit = field.lineEdit() if isinstance(field, QComboBox) else field
    assert isinstance(edit, QLineEdit)
    return edit


def _completion_list(bar: FilterBar) -> QWidget:
    completer = bar.domain_edit.completer()
    assert completer is not None
    popup = completer.popup()
    assert popup is not None
    return popup


def _escape_action(w: MainWindow) -> QAction:
    """The window's own Escape (it cancels an import): must still work from an empty field."""
    [action] = [a for a in w.actions() if a.shortcut() == QKeySequence(Qt.Key.Key_Escape)]
    return action


# ------------------------------------------------------------ Tab in the date fields


@pytest.mark.parametrize("day", [None, date(2024, 3, 5)], ids=["any", "a date"])
def test_tab_and_shift_tab_leave_the_date_fields(
    qtbot: Any, make_window: Any, corpus_db: Path, day: date | None
) -> None:
    """Tab was trapped in a date field showing "any" (QDateTimeEdit spends Tab on its
    sections, and has none to go to then) and walked the sections of one showing a date."""
    w = _shown(qtbot, make_window, corpus_db)
    bar = w.filter_bar
    bar.set_filter(Filter(date_from=day, date_to=day))
    _focus(qtbot, bar.domain_edit)
    forward: tuple[QWidget, ...] = (bar.date_from, bar.date_to, bar.reporter_combo)
    for expected in forward:
        _press(qtbot, Qt.Key.Key_Tab)
        assert QApplication.focusWidget() is expected
    for expected in (bar.date_to, bar.date_from, bar.domain_edit):
        _press(qtbot, Qt.Key.Key_Backtab, SHIFT)
        assert QApplication.focusWidget() is expected
    assert bar.filter() == Filter(date_from=day, date_to=day)  # passing through changes nothing


def test_a_date_fields_sections_are_still_reached_by_the_keys(
    qtbot: Any, make_window: Any, corpus_db: Path
) -> None:
    """Only Tab leaves: Ctrl+Right, the arrows and a typed separator step through the
    day's sections and stay in the field, and Tab leaves from any section."""
    w = _shown(qtbot, make_window, corpus_db)
    bar = w.filter_bar
    bar.set_filter(Filter(date_from=date(2024, 3, 5)))
    _focus(qtbot, bar.domain_edit)
    _press(qtbot, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is bar.date_from
    assert bar.date_from.currentSection() == bar.date_from.Section.YearSection
    _press(qtbot, Qt.Key.Key_Right, CTRL)
    assert QApplication.focusWidget() is bar.date_from
    assert bar.date_from.currentSection() == bar.date_from.Section.MonthSection
    _press(qtbot, Qt.Key.Key_Up)
    assert bar.date_from.date() == QDate(2024, 4, 5)
    _press(qtbot, Qt.Key.Key_Tab)  # from the middle section: out, not on
    assert QApplication.focusWidget() is bar.date_to
    _press(qtbot, Qt.Key.Key_Backtab, SHIFT)
    assert QApplication.focusWidget() is bar.date_from
    assert bar.date_from.currentSection() == bar.date_from.Section.DaySection
    _press(qtbot, Qt.Key.Key_Left, CTRL)
    _press(qtbot, Qt.Key.Key_Left, CTRL)
    assert bar.date_from.currentSection() == bar.date_from.Section.YearSection
    _type(qtbot, "2023-")
    assert QApplication.focusWidget() is bar.date_from
    assert bar.date_from.date().year() == 2023
    qtbot.waitUntil(lambda: bar.current.date_from == date(2023, 4, 5), timeout=3000)


def test_tab_from_a_date_field_showing_any_after_an_arrow_key(
    qtbot: Any, make_window: Any, corpus_db: Path
) -> None:
    """Up in a field showing "any" gives it a day (the first after "any"); Tab then leaves."""
    w = _shown(qtbot, make_window, corpus_db)
    bar = w.filter_bar
    _focus(qtbot, bar.date_to)
    _press(qtbot, Qt.Key.Key_Up)
    assert bar.date_to.text() != "any"
    _press(qtbot, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is bar.reporter_combo


# ------------------------------------------------------------ Enter


@pytest.mark.parametrize("key", [Qt.Key.Key_Return, Qt.Key.Key_Enter], ids=["Return", "Enter"])
@pytest.mark.parametrize("name", TEXT_FIELDS)
def test_enter_applies_the_typed_filter_at_once(
    qtbot: Any, make_window: Any, corpus_db: Path, name: str, key: Qt.Key
) -> None:
    """Not 300 ms later: the debounce is for typing, Enter says the typing is done."""
    w, bar, seen = _watched(qtbot, make_window, corpus_db)
    _focus(qtbot, getattr(bar, name))
    _type(qtbot, "no such value")
    assert seen == []  # (typing waits for the debounce; the timer never ran meanwhile)
    _press(qtbot, key)
    assert len(seen) == 1
    assert seen[0] == bar.filter() == bar.current
    assert seen[0] != Filter()
    assert w.pages["reports"].model.filter == seen[0]
    qtbot.wait(400)
    assert len(seen) == 1  # and nothing again when the debounce would have run


def test_enter_on_a_completion_applies_it_at_once(
    qtbot: Any, make_window: Any, corpus_db: Path
) -> None:
    """Enter on the domain field's completion list takes the completion and applies it."""
    _w, bar, seen = _watched(qtbot, make_window, corpus_db)
    _focus(qtbot, bar.domain_edit)
    _type(qtbot, "blogre")
    popup = _completion_list(bar)
    qtbot.waitUntil(popup.isVisible, timeout=3000)
    _press(qtbot, Qt.Key.Key_Down)
    _press(qtbot, Qt.Key.Key_Return)
    assert not popup.isVisible()
    assert bar.domain_edit.text() == "blogreen.org"
    assert seen and seen[-1].policy_domain == "blogreen.org"
    assert bar.current == bar.filter()


# ------------------------------------------------------------ Escape


@pytest.mark.parametrize("name", TEXT_FIELDS)
def test_escape_empties_a_filled_field_at_once_and_is_the_windows_in_an_empty_one(
    qtbot: Any, make_window: Any, corpus_db: Path, name: str
) -> None:
    w = _shown(qtbot, make_window, corpus_db)
    bar = w.filter_bar
    edit = _line_edit(bar, name)
    window_escapes: list[str] = []
    _escape_action(w).triggered.connect(lambda: window_escapes.append("window"))
    bar.set_filter(Filter(policy_type="sts"))  # the other filters stay as they are
    seen: list[Filter] = []
    bar.filter_changed.connect(seen.append)

    _focus(qtbot, getattr(bar, name))
    with qtbot.waitSignal(bar.filter_changed, timeout=3000):
        _type(qtbot, "no such value")
    assert seen == [bar.filter()] and seen[0] != Filter(policy_type="sts")
    _press(qtbot, Qt.Key.Key_Escape)
    assert edit.text() == ""
    assert seen[1:] == [Filter(policy_type="sts")]  # applied at once: no debounce wait
    assert bar.current == Filter(policy_type="sts")
    assert window_escapes == []  # the field took it
    assert QApplication.focusWidget() is getattr(bar, name)

    _press(qtbot, Qt.Key.Key_Escape)  # empty now: the window's Escape, as before
    assert window_escapes == ["window"]
    assert len(seen) == 2
    qtbot.wait(400)
    assert len(seen) == 2


def test_escape_before_the_debounce_ran_announces_nothing(
    qtbot: Any, make_window: Any, corpus_db: Path
) -> None:
    """Typing never applied and then emptied: the filter did not change, now or later."""
    _w, bar, seen = _watched(qtbot, make_window, corpus_db)
    _focus(qtbot, bar.text_edit)
    _type(qtbot, "no such value")
    _press(qtbot, Qt.Key.Key_Escape)
    assert bar.text_edit.text() == ""
    qtbot.wait(400)
    assert seen == []
    assert bar.current == Filter()


def test_escape_applies_a_filter_already_announced_as_cleared(
    qtbot: Any, make_window: Any, corpus_db: Path
) -> None:
    """A field whose text was applied (after the debounce) is emptied and the tables
    show every row again, at once."""
    w = _shown(qtbot, make_window, corpus_db)
    bar = w.filter_bar
    before = w.pages["reports"].model.rowCount()
    _focus(qtbot, bar.text_edit)
    with qtbot.waitSignal(bar.filter_changed, timeout=3000):
        _type(qtbot, "no such text at all")
    assert w.pages["reports"].model.rowCount() == 0
    _press(qtbot, Qt.Key.Key_Escape)
    assert bar.current == Filter()
    assert w.pages["reports"].model.rowCount() == before


def test_escape_on_an_open_completion_list_only_closes_it(
    qtbot: Any, make_window: Any, corpus_db: Path
) -> None:
    w = _shown(qtbot, make_window, corpus_db)
    bar = w.filter_bar
    _focus(qtbot, bar.domain_edit)
    _type(qtbot, "blogre")
    popup = _completion_list(bar)
    qtbot.waitUntil(popup.isVisible, timeout=3000)
    _press(qtbot, Qt.Key.Key_Escape)
    assert not popup.isVisible()
    assert bar.domain_edit.text() == "blogre"
    _press(qtbot, Qt.Key.Key_Escape)  # the list closed: now it empties the field
    assert bar.domain_edit.text() == ""
    assert bar.current == Filter()
