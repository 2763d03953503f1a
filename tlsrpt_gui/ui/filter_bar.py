"""The one filter bar shared by every table and the charts."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from PySide6.QtCore import QDate, QEvent, QObject, QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QDateEdit,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QToolButton,
    QWidget,
)

from tlsrpt_gui.core.query import Filter
from tlsrpt_gui.core.report import KNOWN_POLICY_TYPES, KNOWN_RESULT_TYPES
from tlsrpt_gui.ui.formatting import domain_to_ascii, domain_to_unicode, visible_text

DEBOUNCE_MS = 300
_NO_DATE = QDate(1970, 1, 1)
_ANY = "Any"


def _named(text: str, known: list[str]) -> str:
    """The value of ``known`` that ``text`` names: itself if it is one; else the one it
    names whatever the case, or the only one containing it ("google" is "Google Inc."),
    as the field's completer offers; else ``text`` (which matches none)."""
    if not text or text in known:
        return text
    folded = text.casefold()
    for matches in ([k for k in known if k.casefold() == folded], [k for k in known if folded in k.casefold()]):
        if len(matches) == 1:
            return matches[0]
    return text


def _to_qdate(d: date | None) -> QDate:
    return _NO_DATE if d is None else QDate(d.year, d.month, d.day)


def _from_qdate(q: QDate) -> date | None:
    if not q.isValid() or q == _NO_DATE:
        return None
    return date(q.year(), q.month(), q.day())


class _DateEdit(QDateEdit):
    """A date field that Tab and Shift+Tab leave, as they leave every other field.

    QDateTimeEdit spends Tab on its own sections: it walked them, and while the field
    showed "any" (no sections) it kept the focus for good. Only the Tab keys are taken
    here, not focusNextPrevChild: QDateTimeEdit steps its sections through that for
    Ctrl+Left/Right and a typed separator, which must stay in the field.
    """

    def event(self, e: QEvent) -> bool:
        if (
            e.type() == QEvent.Type.KeyPress
            and isinstance(e, QKeyEvent)
            and e.key() in (Qt.Key.Key_Tab, Qt.Key.Key_Backtab)
            and not e.modifiers()
            & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier)
        ):
            forward = e.key() == Qt.Key.Key_Tab and not (
                e.modifiers() & Qt.KeyboardModifier.ShiftModifier
            )
            QWidget.focusNextPrevChild(self, forward)  # the window's tab order
            e.accept()
            return True
        return super().event(e)


class FilterBar(QWidget):
    """Domain, date range, reporter, policy type, result type and free text.

    Typing is debounced; every change ends in one ``filter_changed`` signal. In a text
    field Enter applies the typing at once, and Escape empties a filled field at once.
    """

    filter_changed = Signal(object)  # Filter

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._mx_host = ""
        self._sending_ip = ""
        self._emitted = Filter()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self._emit_now)

        lay = QHBoxLayout(self)
        lay.setContentsMargins(6, 4, 6, 4)
        lay.setSpacing(6)

        self.domain_edit = QLineEdit(self)
        self.domain_edit.setPlaceholderText("Policy domain")
        self.domain_edit.setClearButtonEnabled(True)
        self.domain_edit.setAccessibleName("Policy domain filter")
        self.domain_edit.setMinimumWidth(150)
        self._domain_completer = QCompleter([], self)
        self._domain_completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self._domain_completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.domain_edit.setCompleter(self._domain_completer)

        self.date_from = self._date_edit("From date")
        self.date_to = self._date_edit("To date")

        self.reporter_combo = QComboBox(self)
        self.reporter_combo.setEditable(True)
        self.reporter_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.reporter_combo.lineEdit().setPlaceholderText("Reporter")
        self.reporter_combo.setAccessibleName("Reporter filter")
        self.reporter_combo.setMinimumWidth(150)
        self.reporter_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.reporter_combo.setMinimumContentsLength(14)
        self.reporter_combo.completer().setFilterMode(Qt.MatchFlag.MatchContains)
        self.reporter_combo.completer().setCompletionMode(QCompleter.CompletionMode.PopupCompletion)

        self.policy_type_combo = QComboBox(self)
        self.policy_type_combo.setAccessibleName("Policy type filter")
        self.policy_type_combo.setToolTip("Policy type")
        self.result_type_combo = QComboBox(self)
        self.result_type_combo.setAccessibleName("Result type filter")
        self.result_type_combo.setToolTip("Result type")
        self.set_choices(
            policy_types=sorted(KNOWN_POLICY_TYPES), result_types=sorted(KNOWN_RESULT_TYPES)
        )

        self.text_edit = QLineEdit(self)
        self.text_edit.setPlaceholderText("Search text…")
        self.text_edit.setClearButtonEnabled(True)
        self.text_edit.setAccessibleName("Free-text search")
        self.text_edit.setMinimumWidth(180)

        self.mx_button = QToolButton(self)
        self.mx_button.setToolTip(
            "Filtered to one receiving MX (set from a chart); click to remove"
        )
        self.mx_button.setVisible(False)
        self.mx_button.clicked.connect(self._clear_mx)
        self.ip_button = QToolButton(self)
        self.ip_button.setToolTip("Filtered to one sending MTA (set from a chart); click to remove")
        self.ip_button.setVisible(False)
        self.ip_button.clicked.connect(self._clear_ip)

        self.clear_button = QToolButton(self)
        self.clear_button.setText("Clear filters")
        self.clear_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.clear_button.setToolTip("Clear every filter (Ctrl+Shift+L)")
        self.clear_button.setAccessibleName("Clear filters")
        self.clear_button.setEnabled(False)
        self.clear_button.clicked.connect(self.clear)
        QShortcut(QKeySequence("Ctrl+Shift+L"), self, self.clear, Qt.ShortcutContext.WindowShortcut)

        for label, w in (
            (None, self.domain_edit),
            ("From", self.date_from),
            ("to", self.date_to),
            (None, self.reporter_combo),
            (None, self.policy_type_combo),
            (None, self.result_type_combo),
            (None, self.text_edit),
        ):
            if label:
                lbl = QLabel(label, self)
                lbl.setBuddy(w)
                lay.addWidget(lbl)
            lay.addWidget(
                w, 2 if w in (self.text_edit, self.domain_edit, self.reporter_combo) else 0
            )
        lay.addWidget(self.mx_button)
        lay.addWidget(self.ip_button)
        lay.addWidget(self.clear_button)

        self.domain_edit.textChanged.connect(self._schedule)
        self.text_edit.textChanged.connect(self._schedule)
        self.reporter_combo.currentTextChanged.connect(self._schedule)
        self.policy_type_combo.currentIndexChanged.connect(self._schedule_now)
        self.result_type_combo.currentIndexChanged.connect(self._schedule_now)
        self.date_from.dateChanged.connect(self._schedule_now)
        self.date_to.dateChanged.connect(self._schedule_now)
        # Enter: returnPressed, not a key filter, so Enter on an open completion list
        # (which hands the key straight to the line edit) counts too. The combo's line
        # edit may emit it twice; flush() does nothing the second time.
        for edit in self._line_edits():
            edit.returnPressed.connect(self.flush)
        # Escape: the focus widget gets the key (the combo, not its line edit).
        for w in (self.domain_edit, self.reporter_combo, self.text_edit):
            w.installEventFilter(self)

    def _date_edit(self, name: str) -> QDateEdit:
        w = _DateEdit(self)
        w.setCalendarPopup(True)
        w.setMinimumDate(_NO_DATE)
        w.setSpecialValueText("any")
        w.setDate(_NO_DATE)
        w.setDisplayFormat("yyyy-MM-dd")
        w.setAccessibleName(name)
        w.setToolTip(f"{name} (UTC day; the first day means no limit)")
        return w

    # ------------------------------------------------------------ API

    def filter(self) -> Filter:
        """The filter the widgets show now (not waiting for the debounce). Dates given
        the wrong way round mean the days between them, not no day at all."""
        first, last = _from_qdate(self.date_from.date()), _from_qdate(self.date_to.date())
        if first is not None and last is not None and first > last:
            first, last = last, first
        return Filter(
            policy_domain=self._domain(),
            date_from=first,
            date_to=last,
            reporter=self._reporter(),
            policy_type=self._combo_value(self.policy_type_combo),
            result_type=self._combo_value(self.result_type_combo),
            text=self.text_edit.text().strip(),
            mx_host=self._mx_host,
            sending_ip=self._sending_ip,
        )

    @property
    def current(self) -> Filter:
        """The filter last announced with ``filter_changed``."""
        return self._emitted

    def set_filter(self, flt: Filter) -> None:
        """Show ``flt`` in the widgets and announce it at once."""
        blockers = [
            QSignalBlocker(w)
            for w in (
                self.domain_edit, self.text_edit, self.reporter_combo, self.policy_type_combo,
                self.result_type_combo, self.date_from, self.date_to,
            )
        ]  # fmt: skip
        self.domain_edit.setText(domain_to_unicode(flt.policy_domain))
        self.text_edit.setText(flt.text)
        self.reporter_combo.setEditText(visible_text(flt.reporter))
        self._set_combo_value(self.policy_type_combo, flt.policy_type)
        self._set_combo_value(self.result_type_combo, flt.result_type)
        self.date_from.setDate(_to_qdate(flt.date_from))
        self.date_to.setDate(_to_qdate(flt.date_to))
        self._mx_host = flt.mx_host
        self._sending_ip = flt.sending_ip
        del blockers
        self._emit_now()

    def clear(self) -> None:
        self.set_filter(Filter())

    def set_choices(
        self,
        *,
        domains: Iterable[str] | None = None,
        reporters: Iterable[str] | None = None,
        policy_types: Iterable[str] | None = None,
        result_types: Iterable[str] | None = None,
    ) -> None:
        """Offer the values found in the index (the current choice is kept)."""
        if domains is not None:
            self._domain_completer.model().setStringList(  # type: ignore[attr-defined]
                sorted({domain_to_unicode(d) for d in domains if d})
            )
        if reporters is not None:
            with QSignalBlocker(self.reporter_combo):
                text = self.reporter_combo.currentText()
                self.reporter_combo.clear()
                self.reporter_combo.addItem("", "")
                for name in sorted({r for r in reporters if r}):  # shown with bidi controls visible
                    self.reporter_combo.addItem(visible_text(name), name)
                self.reporter_combo.setEditText(text)
        for combo, values in (
            (self.policy_type_combo, policy_types),
            (self.result_type_combo, result_types),
        ):
            if values is None:
                continue
            with QSignalBlocker(combo):
                current = self._combo_value(combo)
                combo.clear()
                combo.addItem(
                    f"{_ANY} {'policy type' if combo is self.policy_type_combo else 'result type'}",
                    "",
                )
                for v in sorted(set(values) | ({current} if current else set())):
                    combo.addItem(v, v)
                self._set_combo_value(combo, current)

    # ------------------------------------------------------------ internals

    @staticmethod
    def _combo_value(combo: QComboBox) -> str:
        value = combo.currentData()
        return value if isinstance(value, str) else ""

    @staticmethod
    def _set_combo_value(combo: QComboBox, value: str) -> None:
        i = combo.findData(value)
        if i < 0 and value:
            combo.addItem(value, value)
            i = combo.count() - 1
        combo.setCurrentIndex(max(i, 0))

    def _line_edits(self) -> tuple[QLineEdit, ...]:
        """The text fields' line edits: policy domain, reporter, search text."""
        reporter = self.reporter_combo.lineEdit()
        assert reporter is not None  # (the combo is editable)
        return (self.domain_edit, reporter, self.text_edit)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Escape in a filled text field empties it (undoably) and applies that at once.
        The field claims the key (ShortcutOverride) only then: in an empty one it stays
        the window's, whose Escape cancels an import."""
        if (
            event.type() in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress)
            and isinstance(event, QKeyEvent)
            and event.key() == Qt.Key.Key_Escape
            and event.modifiers() == Qt.KeyboardModifier.NoModifier
        ):
            edit = self.reporter_combo.lineEdit() if watched is self.reporter_combo else watched
            if isinstance(edit, QLineEdit) and edit in self._line_edits() and edit.text():
                if event.type() == QEvent.Type.KeyPress:
                    edit.clear()
                    self.flush()
                event.accept()
                return True
        return super().eventFilter(watched, event)

    def _clear_mx(self) -> None:
        self._mx_host = ""
        self._emit_now()

    def _clear_ip(self) -> None:
        self._sending_ip = ""
        self._emit_now()

    def _reporter(self) -> str:
        """The reporter the field names (see :func:`_named`)."""
        text = self.reporter_combo.currentText().strip()
        shown = [self.reporter_combo.itemText(i) for i in range(self.reporter_combo.count())]
        name = _named(text, shown)
        data = self.reporter_combo.itemData(shown.index(name)) if name in shown else None
        return data if isinstance(data, str) else name

    def _domain(self) -> str:
        """The policy domain the field names (see :func:`_named`; "bücher" is
        ``xn--bcher-kva.example`` when that is the only one containing it), in ASCII."""
        text = self.domain_edit.text().strip().rstrip(".")
        return domain_to_ascii(_named(text, self._domain_completer.model().stringList()))  # type: ignore[attr-defined]

    def _schedule(self) -> None:
        self._timer.start()

    def _schedule_now(self) -> None:
        self._timer.start(0)

    def flush(self) -> None:
        """Apply pending typing now (e.g. on Enter)."""
        if self._timer.isActive():
            self._timer.stop()
            self._emit_now()

    def _emit_now(self) -> None:
        self._timer.setInterval(DEBOUNCE_MS)
        flt = self.filter()
        self.mx_button.setVisible(bool(flt.mx_host))
        self.mx_button.setText(f"MX: {flt.mx_host} ✕")
        self.ip_button.setVisible(bool(flt.sending_ip))
        self.ip_button.setText(f"Sender: {flt.sending_ip} ✕")
        self.clear_button.setEnabled(not flt.is_empty())
        if flt != self._emitted:
            self._emitted = flt
            self.filter_changed.emit(flt)
