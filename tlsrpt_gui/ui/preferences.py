"""Preferences: settings kept in QSettings and the dialog that edits them.

Each group of settings is a small frozen dataclass with ``load(settings)`` and
``save(settings)``; the dialog is a :class:`QTabWidget` of *sections*, one per
group. A section is any widget with ``load``, ``save``, ``restore_defaults``,
``is_valid`` and a ``validity_changed`` signal (see :class:`PreferencesSection`);
add one with :meth:`PreferencesDialog.add_section`.

Keys of the DNS section (all under ``dns/``):

``dns/resolver``   ``system`` or ``custom``
``dns/nameserver`` IP address of the custom nameserver (IPv4 or IPv6)
``dns/port``       its port (1–65535, default 53)
``dns/timeout``    seconds per DNS query and per HTTPS connection (default 5)
"""

from __future__ import annotations

import ipaddress
import logging
import math
from dataclasses import dataclass, replace
from typing import Any, Final, Protocol

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractButton,
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QRadioButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from tlsrpt_gui.core.dns import CheckOptions, parse_nameserver

log = logging.getLogger(__name__)

KEY_RESOLVER: Final = "dns/resolver"
KEY_NAMESERVER: Final = "dns/nameserver"
KEY_PORT: Final = "dns/port"
KEY_TIMEOUT: Final = "dns/timeout"

DEFAULT_PORT: Final = 53
DEFAULT_TIMEOUT: Final = 5.0
MIN_TIMEOUT: Final = 0.5
MAX_TIMEOUT: Final = 120.0


def _as_int(value: Any, default: int) -> int:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return default


def _as_float(value: Any, default: float) -> float:
    try:
        number = float(str(value).strip())
    except (TypeError, ValueError):
        return default
    return number if math.isfinite(number) else default


def nameserver_error(text: str) -> str | None:
    """Why *text* is not a usable nameserver address, or ``None`` when it is."""
    if not text.strip():
        return "Enter the IP address of a DNS server."
    try:
        host, _port = parse_nameserver(text)
        ipaddress.ip_address(host)
    except ValueError as exc:
        reason = str(exc)
        return reason[:1].upper() + reason[1:]
    return None


@dataclass(frozen=True, slots=True)
class ResolverSettings:
    """Which DNS resolver the DNS panel asks, and how long it waits.

    ``use_system``: the operating system's resolver; otherwise ``nameserver``
    (an IP address) on ``port``. ``timeout`` limits each DNS query and each HTTPS
    connection, in seconds.
    """

    use_system: bool = True
    nameserver: str = ""
    port: int = DEFAULT_PORT
    timeout: float = DEFAULT_TIMEOUT

    @classmethod
    def load(cls, settings: QSettings) -> ResolverSettings:
        """Read the settings; missing or malformed values fall back to the defaults."""
        mode = str(settings.value(KEY_RESOLVER, "system") or "system").strip().lower()
        nameserver = str(settings.value(KEY_NAMESERVER, "") or "").strip()
        port = _as_int(settings.value(KEY_PORT, DEFAULT_PORT), DEFAULT_PORT)
        if not 1 <= port <= 65535:
            port = DEFAULT_PORT
        timeout = _as_float(settings.value(KEY_TIMEOUT, DEFAULT_TIMEOUT), DEFAULT_TIMEOUT)
        if not MIN_TIMEOUT <= timeout <= MAX_TIMEOUT:
            timeout = DEFAULT_TIMEOUT
        return cls(use_system=mode != "custom", nameserver=nameserver, port=port,
                   timeout=timeout)

    def save(self, settings: QSettings) -> None:
        settings.setValue(KEY_RESOLVER, "system" if self.use_system else "custom")
        settings.setValue(KEY_NAMESERVER, self.nameserver)
        settings.setValue(KEY_PORT, int(self.port))
        settings.setValue(KEY_TIMEOUT, float(self.timeout))

    def describe(self) -> str:
        """A short label: ``system resolver`` or ``127.0.0.1:5353``."""
        if self.use_system:
            return "system resolver"
        host = self.nameserver
        try:
            host, _ = parse_nameserver(host)
        except ValueError:
            pass
        shown = f"[{host}]" if ":" in host else host
        return f"{shown}:{self.port}"

    def check_options(self, base: CheckOptions | None = None) -> CheckOptions:
        """*base* (or the defaults) with this resolver and timeout.

        A nameserver written with a port (``[::1]:5353``) uses that port. An invalid
        nameserver is passed on as is: :func:`check_domain` then reports it
        (``ResolverSetupError``) and the panel shows the reason.
        """
        options = base or CheckOptions()
        if self.use_system:
            return replace(options, nameserver=None, port=DEFAULT_PORT, timeout=self.timeout)
        host, port = self.nameserver, self.port
        try:
            parsed_host, parsed_port = parse_nameserver(self.nameserver)
        except ValueError:
            pass
        else:
            host, port = parsed_host, parsed_port or self.port
        return replace(options, nameserver=host, port=port, timeout=self.timeout)


# --------------------------------------------------------------------------- sections


class PreferencesSection(Protocol):
    """What :class:`PreferencesDialog` needs of a page (a QWidget)."""

    validity_changed: Signal

    def load(self, settings: QSettings) -> None: ...

    def save(self, settings: QSettings) -> None: ...

    def restore_defaults(self) -> None: ...

    def is_valid(self) -> bool: ...


class ResolverSection(QWidget):
    """The DNS page: system resolver or a custom nameserver and port; the timeout."""

    validity_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("preferences_dns")
        outer = QVBoxLayout(self)

        box = QGroupBox("Resolver", self)
        form = QVBoxLayout(box)
        self.system_radio = QRadioButton("Use the &system resolver", box)
        self.custom_radio = QRadioButton("Ask a specific &nameserver:", box)
        self.mode_group = QButtonGroup(self)
        self.mode_group.addButton(self.system_radio)
        self.mode_group.addButton(self.custom_radio)
        form.addWidget(self.system_radio)
        form.addWidget(self.custom_radio)

        row = QHBoxLayout()
        row.setContentsMargins(24, 0, 0, 0)
        self.nameserver_edit = QLineEdit(box)
        self.nameserver_edit.setObjectName("nameserver")
        self.nameserver_edit.setPlaceholderText("IP address, e.g. 127.0.0.1 or ::1")
        self.nameserver_edit.setClearButtonEnabled(True)
        self.port_spin = QSpinBox(box)
        self.port_spin.setObjectName("port")
        self.port_spin.setRange(1, 65535)
        self.port_spin.setValue(DEFAULT_PORT)
        self.port_spin.setAccessibleName("Port")
        port_label = QLabel("&Port:", box)
        port_label.setBuddy(self.port_spin)
        row.addWidget(self.nameserver_edit, 1)
        row.addWidget(port_label)
        row.addWidget(self.port_spin)
        form.addLayout(row)

        self.error_label = QLabel(box)
        self.error_label.setObjectName("nameserver_error")
        self.error_label.setTextFormat(Qt.TextFormat.PlainText)
        self.error_label.setWordWrap(True)
        self.error_label.setContentsMargins(24, 0, 0, 0)
        self.error_label.setStyleSheet("color: #c62828;")
        form.addWidget(self.error_label)
        outer.addWidget(box)

        limits = QGroupBox("Limits", self)
        limits_form = QFormLayout(limits)
        self.timeout_spin = QDoubleSpinBox(limits)
        self.timeout_spin.setObjectName("timeout")
        self.timeout_spin.setRange(MIN_TIMEOUT, MAX_TIMEOUT)
        self.timeout_spin.setDecimals(1)
        self.timeout_spin.setSingleStep(0.5)
        self.timeout_spin.setSuffix(" s")
        self.timeout_spin.setValue(DEFAULT_TIMEOUT)
        limits_form.addRow("&Timeout:", self.timeout_spin)
        hint = QLabel(
            "Applies to each DNS query and to each HTTPS connection (MTA-STS policy, "
            "https report destinations).",
            limits,
        )
        hint.setTextFormat(Qt.TextFormat.PlainText)
        hint.setWordWrap(True)
        limits_form.addRow(hint)
        outer.addWidget(limits)

        note = QLabel(
            "The DNS panel reads these settings at the start of every check. A custom "
            "nameserver is useful to test a zone before it is published, or to use a "
            "DNSSEC-validating resolver.",
            self,
        )
        note.setTextFormat(Qt.TextFormat.PlainText)
        note.setWordWrap(True)
        outer.addWidget(note)
        outer.addStretch(1)

        self._valid = True
        self.system_radio.setChecked(True)
        self.mode_group.buttonToggled.connect(self._on_mode)
        self.nameserver_edit.textChanged.connect(self._validate)
        self.nameserver_edit.editingFinished.connect(self._normalize)
        self._on_mode()

    # ----------------------------------------------------------------- values

    def value(self) -> ResolverSettings:
        """The settings as currently entered."""
        nameserver, port = self.nameserver_edit.text().strip(), self.port_spin.value()
        if nameserver_error(nameserver) is None:
            host, given = parse_nameserver(nameserver)  # "[::1]:5353" -> "::1", 5353
            nameserver, port = host, given or port
        return ResolverSettings(
            use_system=self.system_radio.isChecked(),
            nameserver=nameserver,
            port=port,
            timeout=round(self.timeout_spin.value(), 1),
        )

    def set_value(self, value: ResolverSettings) -> None:
        (self.system_radio if value.use_system else self.custom_radio).setChecked(True)
        self.nameserver_edit.setText(value.nameserver)
        self.port_spin.setValue(value.port)
        self.timeout_spin.setValue(value.timeout)
        self._on_mode()

    def load(self, settings: QSettings) -> None:
        self.set_value(ResolverSettings.load(settings))

    def save(self, settings: QSettings) -> None:
        self.value().save(settings)

    def restore_defaults(self) -> None:
        self.set_value(ResolverSettings())

    def is_valid(self) -> bool:
        return self._valid

    # ----------------------------------------------------------------- slots

    def _on_mode(self, *_args: object) -> None:
        custom = self.custom_radio.isChecked()
        self.nameserver_edit.setEnabled(custom)
        self.port_spin.setEnabled(custom)
        self._validate()

    def _normalize(self) -> None:
        """``[::1]:5353`` typed in the address field: the port moves to its own field."""
        text = self.nameserver_edit.text().strip()
        if nameserver_error(text) is None:
            host, port = parse_nameserver(text)
            if port is not None:
                self.port_spin.setValue(port)
                self.nameserver_edit.setText(host)

    def _validate(self, *_args: object) -> None:
        error = None
        if self.custom_radio.isChecked():
            error = nameserver_error(self.nameserver_edit.text())
        self.error_label.setText(error or "")
        self.error_label.setVisible(bool(error))
        valid = error is None
        if valid != self._valid:
            self._valid = valid
            self.validity_changed.emit(valid)


# --------------------------------------------------------------------------- dialog


class PreferencesDialog(QDialog):
    """The Preferences window: one tab per section; OK saves every section.

    Open it with ``open()`` (window-modal, does not block); tests set the fields
    and call ``accept()``.
    """

    settings_saved = Signal()

    def __init__(self, settings: QSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("preferences_dialog")
        self.setWindowTitle("Preferences")
        self.settings = settings
        self.sections: list[QWidget] = []

        lay = QVBoxLayout(self)
        self.tabs = QTabWidget(self)
        lay.addWidget(self.tabs, 1)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok
            | QDialogButtonBox.StandardButton.Cancel
            | QDialogButtonBox.StandardButton.RestoreDefaults,
            self,
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.buttons.clicked.connect(self._on_clicked)
        lay.addWidget(self.buttons)

        from tlsrpt_gui.ui.general_prefs import GeneralSection

        self.general_section = GeneralSection(self)
        self.add_section("General", self.general_section)
        self.resolver_section = ResolverSection(self)
        self.add_section("DNS", self.resolver_section)
        self.resize(520, 420)

    def add_section(self, title: str, section: QWidget) -> None:
        """Add a page; *section* follows :class:`PreferencesSection`."""
        page: Any = section
        page.load(self.settings)
        page.validity_changed.connect(self._update_ok)
        self.sections.append(section)
        self.tabs.addTab(section, title)
        self._update_ok()

    def show_section(self, section: QWidget) -> None:
        self.tabs.setCurrentWidget(section)

    def _valid(self) -> bool:
        return all(page.is_valid() for page in self.sections)  # type: ignore[attr-defined]

    def _update_ok(self, *_args: object) -> None:
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(self._valid())

    def _on_clicked(self, button: QAbstractButton) -> None:
        role = self.buttons.buttonRole(button)
        if role == QDialogButtonBox.ButtonRole.ResetRole:
            current: Any = self.tabs.currentWidget()
            if current is not None:
                current.restore_defaults()

    def accept(self) -> None:
        if not self._valid():
            return
        for page in self.sections:
            page.save(self.settings)  # type: ignore[attr-defined]
        self.settings.sync()
        self.settings_saved.emit()
        super().accept()
