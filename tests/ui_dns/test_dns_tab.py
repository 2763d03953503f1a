"""The DNS panel against the real loopback DNS + HTTPS world of tests/dns."""

from __future__ import annotations

import json
from typing import Any

import pytest
from PySide6.QtCore import Qt, QThreadPool
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLabel

from tests.ui_dns.conftest import HOSTILE_RPT, HOSTILE_STS, HostileWorld, MakeTab
from tlsrpt_gui.cli_check import format_text
from tlsrpt_gui.core.dns import CheckResult
from tlsrpt_gui.ui.dns_tab import FINDING_ROLE, DnsTab, FindingsModel, records_text
from tlsrpt_gui.ui.preferences import ResolverSettings

pytestmark = [pytest.mark.dns, pytest.mark.gui]

CHECK_TIMEOUT = 15_000  # ms; a check of a world domain takes well under a second


def shown_codes(tab: DnsTab) -> list[str]:
    proxy = tab.findings_proxy
    return [proxy.index(r, FindingsModel.CODE).data() for r in range(proxy.rowCount())]


def shown_severities(tab: DnsTab) -> list[str]:
    proxy = tab.findings_proxy
    return [proxy.index(r, FindingsModel.SEVERITY).data() for r in range(proxy.rowCount())]


def type_and_check(qtbot: Any, tab: DnsTab, domain: str) -> CheckResult:
    tab.domain_edit.clear()
    qtbot.keyClicks(tab.domain_edit, domain)
    with qtbot.waitSignal(tab.check_finished, timeout=CHECK_TIMEOUT) as blocker:
        qtbot.mouseClick(tab.check_button, Qt.MouseButton.LeftButton)
    result = blocker.args[0]
    assert isinstance(result, CheckResult)
    return result


def test_empty_state_explains_the_panel(qtbot: Any, make_tab: MakeTab) -> None:
    tab = make_tab()
    assert tab.stack.currentWidget() is tab.placeholder
    assert "TLS-RPT" in tab.placeholder_text.text()
    assert "MTA-STS" in tab.placeholder_text.text()
    assert_fully_shown(qtbot, tab.placeholder_text)
    assert not tab.check_button.isEnabled()  # nothing typed yet
    assert not tab.cancel_button.isEnabled()
    assert not tab.copy_report_button.isEnabled()


def test_valid_domain_shows_no_error(qtbot: Any, make_tab: MakeTab) -> None:
    tab = make_tab()
    result = type_and_check(qtbot, tab, "valid.test")
    assert result.domain == "valid.test"
    assert tab.stack.currentWidget() is tab.results
    assert "Error" not in shown_severities(tab)
    assert sorted(shown_codes(tab)) == ["dane-not-used", "dnssec-unvalidated"]
    assert tab.banner_title.text() == "valid.test: No problems found \u2014 2 notes"
    assert tab.banner.property("severity") == "ok"
    records = tab.records_view.toPlainText()
    # raw TXT strings of the two-string TLS-RPT record, the parsed policy, MX coverage
    assert '"v=TLSRPTv1; rua=mailto:tlsrpt@va" "lid.test,https://reports.valid.test/v1"' in records
    assert "mailto:tlsrpt@valid.test" in records and "reachable" in records
    assert "enforce" in records and "1209600" in records
    assert "\u2502 mx: *.mx.valid.test" in records  # the policy text, line by line
    assert "20           a.mx.valid.test  127.0.0.1\n" in records
    assert "\u2713 covered by policy mx *.mx.valid.test" in records
    assert "_25._tcp.mx1.valid.test" in records
    assert records == records_text(result)
    assert not tab.cancel_button.isEnabled() and tab.check_button.isEnabled()
    assert "Checked valid.test" in tab.status.text()


def test_broken_domain_lists_its_errors_first(qtbot: Any, make_tab: MakeTab) -> None:
    tab = make_tab()
    type_and_check(qtbot, tab, "multi.test")
    codes = shown_codes(tab)
    assert codes[:2] == ["tlsrpt-multiple", "sts-txt-multiple"]
    assert "sts-without-tlsrpt" in codes
    assert shown_severities(tab)[:3] == ["Error", "Error", "Warning"]
    assert tab.banner.property("severity") == "error"
    assert tab.banner_title.text().startswith("multi.test: 2 errors, 1 warning")
    # the first finding is selected and its whole text shown
    detail = tab.finding_detail.toPlainText()
    assert detail.startswith("Error \u00b7 tlsrpt-multiple")
    assert "Merge them into one record" in detail
    assert "RFC 8460 §3" in detail


def test_selecting_a_finding_shows_its_full_text(qtbot: Any, make_tab: MakeTab) -> None:
    tab = make_tab()
    result = type_and_check(qtbot, tab, "notcovered.test")
    view = tab.findings_view
    row = shown_codes(tab).index("sts-mx-pattern-unused")
    rect = view.visualRect(tab.findings_proxy.index(row, FindingsModel.MESSAGE))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    finding = tab.findings_proxy.index(row, 0).data(FINDING_ROLE)
    assert finding.code == "sts-mx-pattern-unused"
    assert finding in result.findings
    assert finding.message in tab.finding_detail.toPlainText()
    assert f"About: {finding.subject}" in tab.finding_detail.toPlainText()


def test_sorting_by_code(qtbot: Any, make_tab: MakeTab) -> None:
    tab = make_tab()
    type_and_check(qtbot, tab, "syntax.test")
    header = tab.findings_view.horizontalHeader()
    qtbot.mouseClick(
        header.viewport(), Qt.MouseButton.LeftButton,
        pos=header.rect().topLeft() + _section_centre(header, FindingsModel.CODE),
    )
    codes = shown_codes(tab)
    assert codes == sorted(codes, key=str.lower)
    assert tab.findings_view.horizontalHeader().sortIndicatorSection() == FindingsModel.CODE


def _section_centre(header: Any, section: int) -> Any:
    from PySide6.QtCore import QPoint

    x = header.sectionViewportPosition(section) + header.sectionSize(section) // 2
    return QPoint(x, header.height() // 2)


def test_enter_in_the_domain_field_starts_one_check(qtbot: Any, make_tab: MakeTab) -> None:
    tab = make_tab()
    starts: list[str] = []
    tab.check_started.connect(starts.append)
    qtbot.keyClicks(tab.domain_edit, "testing.test")
    with qtbot.waitSignal(tab.check_finished, timeout=CHECK_TIMEOUT) as finished:
        qtbot.keyClick(tab.domain_edit, Qt.Key.Key_Return)
    assert finished.args[0].domain == "testing.test"
    assert starts == ["testing.test"]  # one check, not a second one superseding it
    assert "sts-mode-testing" in shown_codes(tab)


def test_choosing_a_known_domain_with_the_keyboard(qtbot: Any, make_tab: MakeTab) -> None:
    tab = make_tab()
    tab.set_known_domains(["alpha.example", "valid.test", "quirks.test"])
    starts: list[str] = []
    tab.check_started.connect(starts.append)
    tab.domain_edit.setFocus()
    qtbot.keyClicks(tab.domain_edit, "VALI")  # case-insensitive, matches anywhere
    popup = tab.domain_box.completer().popup()
    qtbot.waitUntil(popup.isVisible, timeout=2000)
    qtbot.keyClick(popup, Qt.Key.Key_Down)
    qtbot.keyClick(popup, Qt.Key.Key_Return)  # Enter in the list picks the domain ...
    assert tab.domain_box.currentText() == "valid.test"
    assert starts == []
    with qtbot.waitSignal(tab.check_finished, timeout=CHECK_TIMEOUT) as finished:
        qtbot.keyClick(tab.domain_edit, Qt.Key.Key_Return)  # ... and Enter again checks it
    assert finished.args[0].domain == "valid.test"


def test_check_domain_api_normalizes_and_checks(qtbot: Any, make_tab: MakeTab) -> None:
    tab = make_tab()
    with qtbot.waitSignal(tab.check_finished, timeout=CHECK_TIMEOUT) as finished:
        tab.check_domain("  Valid.TEST. ")
    assert finished.args[0].domain == "valid.test"
    assert tab.domain_box.currentText() == "  Valid.TEST. "


def test_invalid_domain_fails_without_a_check(qtbot: Any, make_tab: MakeTab) -> None:
    tab = make_tab()
    with qtbot.waitSignal(tab.check_failed, timeout=1000) as failed:
        tab.check_domain("not a domain!")
    assert failed.args[0].startswith("Not a valid domain name: 'not a domain!'")
    assert tab.task is None and not tab.running
    assert tab.stack.currentWidget() is tab.placeholder
    assert failed.args[0] in tab.placeholder_text.text()
    assert_fully_shown(qtbot, tab.placeholder_text)


def assert_fully_shown(qtbot: Any, label: QLabel) -> None:
    """A word-wrapped label is given the height its text needs (not cut off)."""
    def whole() -> bool:
        return label.isVisible() and label.height() >= label.heightForWidth(label.width())

    qtbot.waitUntil(whole, timeout=2000)


def test_copy_report_and_json(qtbot: Any, make_tab: MakeTab) -> None:
    tab = make_tab()
    result = type_and_check(qtbot, tab, "badpolicy.test")
    qtbot.mouseClick(tab.copy_report_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == format_text(result)
    qtbot.mouseClick(tab.copy_json_button, Qt.MouseButton.LeftButton)
    data = json.loads(QGuiApplication.clipboard().text())
    assert data == json.loads(json.dumps(result.to_dict()))
    assert [f["code"] for f in data["findings"]].count("sts-policy-syntax") == 4


def test_known_domains_are_offered(qtbot: Any, make_tab: MakeTab) -> None:
    tab = make_tab()
    tab.domain_box.setEditText("val")
    tab.set_known_domains(["valid.test", "example.com", "", "valid.test"])
    assert tab.known_domains() == ["example.com", "valid.test"]
    assert [tab.domain_box.itemText(i) for i in range(tab.domain_box.count())] == [
        "example.com", "valid.test"]
    assert tab.domain_box.currentText() == "val"  # what the user typed is kept
    tab.set_known_domains(["new.example"])  # the index changed: the list follows
    assert [tab.domain_box.itemText(i) for i in range(tab.domain_box.count())] == [
        "new.example"]
    assert tab.domain_box.currentText() == "val"


def test_findings_model_contract(qtmodeltester: Any, qtbot: Any, make_tab: MakeTab) -> None:
    tab = make_tab()
    type_and_check(qtbot, tab, "dane.test")
    assert tab.findings_model.rowCount() > 10
    qtmodeltester.check(tab.findings_model)
    qtmodeltester.check(tab.findings_proxy)


def test_findings_model_empty(qtmodeltester: Any) -> None:
    model = FindingsModel()
    qtmodeltester.check(model)
    assert model.rowCount() == 0


def test_labels_never_interpret_markup(make_tab: MakeTab) -> None:
    tab = make_tab()
    labels = tab.findChildren(QLabel)
    assert len(labels) > 5
    for label in labels:
        assert label.textFormat() == Qt.TextFormat.PlainText, label.objectName() or label.text()


def test_hostile_records_show_literally(
    qtbot: Any, make_tab: MakeTab, hostile_world: HostileWorld
) -> None:
    tab = make_tab(resolver=ResolverSettings(use_system=False, nameserver="127.0.0.1",
                                             port=hostile_world.port, timeout=2.0))
    result = type_and_check(qtbot, tab, "hostile.test")
    records = tab.records_view.toPlainText()
    assert f'"{HOSTILE_RPT}"' in records
    assert f'"{HOSTILE_STS}"' in records
    assert "<img src=x>" in records and "<b>x</b>" in records
    # the document holds the characters, not an image or bold run
    assert "<img" in tab.records_view.document().toPlainText()
    subjects = [tab.findings_proxy.index(r, FindingsModel.SUBJECT).data()
                for r in range(tab.findings_proxy.rowCount())]
    messages = [tab.findings_proxy.index(r, FindingsModel.MESSAGE).data()
                for r in range(tab.findings_proxy.rowCount())]
    assert any("<img src=x>" in s for s in subjects + messages), (subjects, messages)
    assert any("<b>x</b>" in s for s in subjects + messages), (subjects, messages)
    assert "sts-id-invalid" in result.codes()
    # select the finding about the id: its text is shown as is
    row = shown_codes(tab).index("sts-id-invalid")
    tab.findings_view.selectRow(row)
    assert "<img src=x>" in tab.finding_detail.toPlainText()
    for label in tab.findChildren(QLabel):
        assert label.textFormat() == Qt.TextFormat.PlainText


def test_a_new_check_supersedes_the_running_one(qtbot: Any, make_tab: MakeTab) -> None:
    tab = make_tab()
    finished: list[CheckResult] = []
    failed: list[str] = []
    tab.check_finished.connect(finished.append)
    tab.check_failed.connect(failed.append)
    tab.check_domain("valid.test")
    first = tab.task
    assert first is not None
    with qtbot.waitSignal(tab.check_finished, timeout=CHECK_TIMEOUT):
        tab.check_domain("bare.test")
    assert first.cancelled
    qtbot.waitUntil(lambda: first not in _live_tasks(), timeout=CHECK_TIMEOUT)
    qtbot.wait(50)  # let any queued signal of the first check be delivered
    assert [r.domain for r in finished] == ["bare.test"]
    assert failed == []
    assert tab.banner_title.text().startswith("bare.test:")


def _live_tasks() -> set[Any]:
    from tlsrpt_gui.ui import tasks

    return tasks._live


def test_ctrl_c_copies_the_selected_findings(qtbot: Any, make_tab: MakeTab) -> None:
    tab = make_tab()
    result = type_and_check(qtbot, tab, "multi.test")
    view = tab.findings_view
    view.setFocus()
    view.selectRow(0)
    qtbot.keyClick(view, Qt.Key.Key_Down, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClick(view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    copied = QGuiApplication.clipboard().text()
    first, second = result.findings[0], result.findings[1]
    assert copied.startswith("Error \u00b7 tlsrpt-multiple")
    assert first.message in copied and second.message in copied
    assert result.findings[2].message not in copied


def test_shutdown_drops_a_running_check(qtbot: Any, make_tab: MakeTab) -> None:
    tab = make_tab()
    finished: list[object] = []
    tab.check_finished.connect(finished.append)
    tab.check_domain("valid.test")
    task = tab.task
    assert task is not None
    tab.shutdown()
    assert tab.task is None and task.cancelled
    # the check's thread ends (it may have sent its result already: that waits in the
    # event loop, for the tab to drop), and the events it sent are delivered
    assert QThreadPool.globalInstance().waitForDone(CHECK_TIMEOUT)
    qtbot.wait(50)
    assert finished == [] and tab.result is None
