"""Resolver settings: QSettings round trip, the dialog, and their use by the DNS tab.

The test world's NSD listens on a high loopback port that the system resolver
never asks: a check of a world domain succeeds only with the custom settings.
"""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import QPoint, QSettings, Qt
from PySide6.QtWidgets import QDialogButtonBox

from tests.dns.conftest import DnsWorld
from tests.ui_dns.conftest import MakeTab
from tlsrpt_gui.core.dns import CheckOptions
from tlsrpt_gui.ui.preferences import PreferencesDialog, ResolverSettings

pytestmark = [pytest.mark.gui]


def test_defaults_and_round_trip(settings: QSettings) -> None:
    assert ResolverSettings.load(settings) == ResolverSettings(True, "", 53, 5.0)
    custom = ResolverSettings(use_system=False, nameserver="::1", port=5353, timeout=2.5)
    custom.save(settings)
    settings.sync()
    again = QSettings(settings.fileName(), QSettings.Format.IniFormat)
    assert ResolverSettings.load(again) == custom
    assert again.value("dns/resolver") == "custom"
    assert again.value("dns/nameserver") == "::1"
    assert custom.describe() == "[::1]:5353"


def test_malformed_values_fall_back_to_defaults(settings: QSettings) -> None:
    settings.setValue("dns/resolver", "custom")
    settings.setValue("dns/nameserver", "10.0.0.1")
    settings.setValue("dns/port", "not a port")
    settings.setValue("dns/timeout", "-4")
    loaded = ResolverSettings.load(settings)
    assert loaded == ResolverSettings(False, "10.0.0.1", 53, 5.0)
    settings.setValue("dns/port", 70000)
    settings.setValue("dns/timeout", "nan")
    assert ResolverSettings.load(settings).port == 53
    assert ResolverSettings.load(settings).timeout == 5.0


def test_check_options_keep_the_base_and_set_the_resolver() -> None:
    base = CheckOptions(mta_sts_port=8443, probe_rua=False, nameserver="10.9.9.9", port=99)
    system = ResolverSettings(timeout=7.0).check_options(base)
    assert (system.nameserver, system.port, system.timeout) == (None, 53, 7.0)
    assert (system.mta_sts_port, system.probe_rua) == (8443, False)
    custom = ResolverSettings(False, "127.0.0.1", 5300, 1.0).check_options(base)
    assert (custom.nameserver, custom.port, custom.timeout) == ("127.0.0.1", 5300, 1.0)
    bracketed = ResolverSettings(False, "[::1]:5301", 53, 1.0).check_options()
    assert (bracketed.nameserver, bracketed.port) == ("::1", 5301)


def test_dialog_shows_the_stored_settings(qtbot: Any, settings: QSettings) -> None:
    ResolverSettings(False, "127.0.0.1", 5353, 2.0).save(settings)
    dialog = PreferencesDialog(settings)
    qtbot.addWidget(dialog)
    section = dialog.resolver_section
    assert section.custom_radio.isChecked()
    assert section.nameserver_edit.text() == "127.0.0.1"
    assert section.port_spin.value() == 5353
    assert section.timeout_spin.value() == 2.0
    assert "DNS" in [dialog.tabs.tabText(i) for i in range(dialog.tabs.count())]


def test_invalid_nameserver_blocks_ok(qtbot: Any, settings: QSettings) -> None:
    dialog = PreferencesDialog(settings)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    section = dialog.resolver_section
    dialog.show_section(section)
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert ok.isEnabled()
    assert not section.nameserver_edit.isEnabled()  # system resolver: no address needed
    radio = section.custom_radio  # click its indicator, as a user does
    qtbot.mouseClick(radio, Qt.MouseButton.LeftButton, pos=QPoint(8, radio.height() // 2))
    assert section.nameserver_edit.isEnabled()
    assert not ok.isEnabled()  # custom but empty
    qtbot.keyClicks(section.nameserver_edit, "ns.example.com")
    assert not ok.isEnabled()
    assert section.error_label.isVisible() and "IP address" in section.error_label.text()
    dialog.accept()
    assert ResolverSettings.load(settings).use_system  # nothing saved
    section.nameserver_edit.setText("192.0.2.53")
    assert ok.isEnabled() and not section.error_label.isVisible()
    reset = dialog.buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults)
    qtbot.mouseClick(reset, Qt.MouseButton.LeftButton)
    assert section.system_radio.isChecked() and section.nameserver_edit.text() == ""


@pytest.mark.dns
def test_custom_nameserver_from_the_dialog_is_used_by_the_next_check(
    qtbot: Any, make_tab: MakeTab, dns_world: DnsWorld, settings: QSettings
) -> None:
    tab = make_tab(resolver=ResolverSettings())  # the system resolver, as on first start
    assert tab.resolver_button.text() == "Resolver: system resolver"
    dialog = tab.open_preferences()  # window-modal, does not block; deleted on close
    assert dialog.tabs.currentWidget() is dialog.resolver_section
    section = dialog.resolver_section
    section.custom_radio.setChecked(True)
    section.nameserver_edit.setText(f"[::1]:{dns_world.port}")  # IPv6 with its port
    section.nameserver_edit.editingFinished.emit()
    assert section.nameserver_edit.text() == "::1"
    assert section.port_spin.value() == dns_world.port
    section.timeout_spin.setValue(3.0)
    with qtbot.waitSignal(dialog.settings_saved, timeout=1000):
        dialog.accept()
    assert ResolverSettings.load(settings) == ResolverSettings(False, "::1", dns_world.port, 3.0)
    assert tab.resolver_button.text() == f"Resolver: [::1]:{dns_world.port}"

    qtbot.keyClicks(tab.domain_edit, "valid.test")
    with qtbot.waitSignal(tab.check_finished, timeout=15_000) as finished:
        qtbot.mouseClick(tab.check_button, Qt.MouseButton.LeftButton)
    result = finished.args[0]
    assert result.resolver == f"nameserver [::1]:{dns_world.port}"
    assert not result.has_errors
    assert result.tlsrpt.lookup.status == "ok" and result.mx.hosts
    assert f"[::1]:{dns_world.port}" in tab.status.text()


@pytest.mark.dns
def test_unusable_stored_nameserver_is_reported(
    qtbot: Any, make_tab: MakeTab, settings: QSettings
) -> None:
    tab = make_tab(resolver=ResolverSettings(False, "not-an-address", 53, 1.0))
    with qtbot.waitSignal(tab.check_failed, timeout=5000) as failed:
        tab.check_domain("valid.test")
    assert "resolver" in failed.args[0].lower() and "not-an-address" in failed.args[0]
    assert "Preferences" in failed.args[0]
    assert tab.state == "failed" and not tab.running
    assert failed.args[0] in tab.placeholder_text.text()


def test_preferences_saved_elsewhere_show_on_refresh(
    qtbot: Any, make_tab: MakeTab, settings: QSettings
) -> None:
    tab = make_tab(resolver=ResolverSettings())
    dialog = PreferencesDialog(settings)  # as the main window's Edit > Preferences makes it
    qtbot.addWidget(dialog)
    dialog.resolver_section.custom_radio.setChecked(True)
    dialog.resolver_section.nameserver_edit.setText("127.0.0.1")
    dialog.resolver_section.port_spin.setValue(5300)
    dialog.settings_saved.connect(tab.refresh_settings)
    dialog.accept()
    assert tab.resolver_button.text() == "Resolver: 127.0.0.1:5300"
