"""The window stays responsive during a check, and a check can be cancelled.

``slow.test``'s policy host is sent to a port that accepts TCP but never answers
TLS, so the check hangs in the policy fetch until its timeout.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from PySide6.QtCore import Qt, QTimer

from tests.dns.conftest import DnsWorld
from tests.ui_dns.conftest import MakeTab, world_resolver
from tlsrpt_gui.core.dns import CheckResult
from tlsrpt_gui.ui.dns_tab import DnsTab

pytestmark = [pytest.mark.dns, pytest.mark.gui]


def hanging_tab(make_tab: MakeTab, dns_world: DnsWorld, timeout: float) -> DnsTab:
    return make_tab(resolver=world_resolver(dns_world, timeout=timeout),
                    mta_sts_port=dns_world.https.blackhole_port)


def start_and_wait_for_the_fetch(qtbot: Any, tab: DnsTab) -> None:
    qtbot.keyClicks(tab.domain_edit, "slow.test")
    with qtbot.waitSignal(tab.check_started, timeout=1000):
        qtbot.mouseClick(tab.check_button, Qt.MouseButton.LeftButton)
    assert tab.running and tab.cancel_button.isEnabled()
    assert tab.busy.isVisible()
    qtbot.waitUntil(lambda: tab.status.text().endswith("MTA-STS policy\u2026"), timeout=5000)


def test_cancel_returns_to_idle_at_once_and_drops_the_result(
    qtbot: Any, make_tab: MakeTab, dns_world: DnsWorld
) -> None:
    tab = hanging_tab(make_tab, dns_world, timeout=3.0)
    outcomes: list[object] = []
    tab.check_finished.connect(outcomes.append)
    tab.check_failed.connect(outcomes.append)

    started = time.monotonic()
    start_and_wait_for_the_fetch(qtbot, tab)
    # the event loop keeps running while the check hangs: a timer ticks
    ticks: list[float] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start(20)
    qtbot.waitUntil(lambda: len(ticks) >= 5, timeout=1000)
    timer.stop()
    assert tab.running, "the check should still hang in the policy fetch"

    task = tab.task
    assert task is not None
    with qtbot.waitSignal(tab.check_cancelled, timeout=500) as cancelled:
        qtbot.mouseClick(tab.cancel_button, Qt.MouseButton.LeftButton)
    # idle again right away, long before the fetch times out
    assert time.monotonic() - started < 2.5
    assert cancelled.args == ["slow.test"]
    assert not tab.running and tab.task is None
    assert not tab.cancel_button.isEnabled() and tab.check_button.isEnabled()
    assert not tab.busy.isVisible()
    assert tab.stack.currentWidget() is tab.placeholder
    assert "cancelled" in tab.placeholder_title.text()
    assert tab.findings_model.rowCount() == 0 and tab.records_view.toPlainText() == ""
    assert task.cancelled

    # the abandoned job ends when the fetch times out; nothing of it is shown
    with qtbot.waitSignal(task.done, timeout=10_000):
        pass
    qtbot.wait(50)  # let its queued signals arrive
    assert outcomes == []
    assert tab.result is None and tab.state == "cancelled"
    assert tab.findings_model.rowCount() == 0
    assert not tab.copy_report_button.isEnabled()


def test_escape_cancels_and_a_new_check_works(
    qtbot: Any, make_tab: MakeTab, dns_world: DnsWorld
) -> None:
    tab = hanging_tab(make_tab, dns_world, timeout=1.5)
    start_and_wait_for_the_fetch(qtbot, tab)
    task = tab.task
    assert task is not None
    tab.domain_edit.setFocus()
    with qtbot.waitSignal(tab.check_cancelled, timeout=500):
        qtbot.keyClick(tab.domain_edit, Qt.Key.Key_Escape)
    assert not tab.running
    # a new check right away is not disturbed by the abandoned one
    with qtbot.waitSignal(tab.check_finished, timeout=15_000) as finished:
        tab.check_domain("bare.test")
    result = finished.args[0]
    assert isinstance(result, CheckResult) and result.domain == "bare.test"
    with qtbot.waitSignal(task.done, timeout=10_000):
        pass
    qtbot.wait(50)
    assert tab.result is result and tab.state == "result"
    assert tab.banner_title.text().startswith("bare.test:")
