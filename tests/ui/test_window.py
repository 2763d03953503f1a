"""The main window as a user drives it: imports, drops, filters, detail, copies, exports."""

from __future__ import annotations

import csv
import json
import sqlite3
import threading
import time
import warnings
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import (
    QItemSelectionModel,
    QMimeData,
    QModelIndex,
    QPoint,
    QPointF,
    QSettings,
    Qt,
    QTimer,
    QUrl,
)
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QGuiApplication, QTextDocument
from PySide6.QtWidgets import QAbstractItemView, QApplication, QLabel

import tlsrpt_gui
from tests.ui.conftest import HOSTILE_CODE, HOSTILE_ORG, FakePrompts, fetch_all, write_reports
from tlsrpt_gui.core.query import Filter
from tlsrpt_gui.ui.main_window import EMPTY_INDEX_TEXT, NO_MATCH_TEXT, MainWindow
from tlsrpt_gui.ui.models import COPY_ROLE, ROW_ID_ROLE

TIMEOUT = 20_000


def _import(qtbot: Any, window: MainWindow, paths: list[Path]) -> Any:
    with qtbot.waitSignal(window.import_finished, timeout=TIMEOUT) as blocker:
        window.import_paths([str(p) for p in paths])
    return blocker.args[0]


def _drag_enter(mime: QMimeData) -> QDragEnterEvent:
    with warnings.catch_warnings():  # Qt 6 keeps only the QPoint overload, marked deprecated
        warnings.simplefilter("ignore", DeprecationWarning)
        return QDragEnterEvent(
            QPoint(50, 50),
            Qt.DropAction.CopyAction,
            mime,
            Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier,
        )


def _literal_tooltip(html_text: str) -> str:
    """What a tool tip shows: Qt renders it as rich text."""
    doc = QTextDocument()
    doc.setHtml(html_text)
    return doc.toPlainText()


def test_empty_index_shows_the_welcome_page(make_window: Any, tmp_path: Path) -> None:
    w = make_window(tmp_path / "empty.sqlite3")
    for page in w.pages.values():
        assert page.stack.currentWidget() is page.welcome
    texts = " ".join(lbl.text() for lbl in w.pages["reports"].welcome.findChildren(QLabel))
    assert "Drop SMTP TLS reports here" in texts and "File → Open" in texts
    # a filter that matches nothing says so instead
    w.apply_filter(Filter(reporter="nobody"))
    page = w.pages["reports"]
    assert page.stack.currentWidget() is page.empty
    assert page.empty.text() != EMPTY_INDEX_TEXT


def test_an_empty_table_of_an_index_with_reports_says_so_not_welcome(qtbot: Any, make_window: Any,
                                                                       tmp_path: Path) -> None:
    """Reports without failure rows: the Failure details table says there are none; the
    first-start welcome page is for an empty index only."""
    from tests.ui.conftest import make_report
    from tlsrpt_gui.ui.main_window import EMPTY_TABLE_TEXT

    w = make_window(tmp_path / "ok.sqlite3")
    for i in range(3):
        (tmp_path / "in").mkdir(exist_ok=True)
        (tmp_path / "in" / f"{i}.json").write_text(json.dumps(make_report(report_id=f"ok-{i}", failures=[])),
                                                   encoding="utf-8")
    _import(qtbot, w, [tmp_path / "in"])
    page = w.pages["failures"]
    assert page.model.rowCount() == 0 and w.pages["reports"].model.rowCount() == 3
    assert page.stack.currentWidget() is page.empty and page.empty.text() == EMPTY_TABLE_TEXT["failures"]
    assert w.pages["reports"].stack.currentWidget() is w.pages["reports"].view


def test_welcome_page_opens_the_sample_reports(qtbot: Any, make_window: Any, tmp_path: Path) -> None:
    w = make_window(tmp_path / "empty.sqlite3")
    page = w.pages["reports"]
    with qtbot.waitSignal(w.import_finished, timeout=TIMEOUT) as blocker:
        page.welcome.samples_button.click()
    result = blocker.args[0]
    assert result.failed == [] and result.imported >= 300
    assert page.stack.currentWidget() is page.view
    assert w.reports_model.rowCount() > 0
    assert f"{result.imported} reports" in w.totals_label.text().replace(",", "")


def test_dropping_a_folder_adds_rows(qtbot: Any, make_window: Any, tmp_path: Path) -> None:
    w = make_window(tmp_path / "i.sqlite3")
    folder = tmp_path / "drop"
    write_reports(folder, 12)
    result = _import(qtbot, w, [folder])
    assert result.imported == 12
    assert w.reports_model.rowCount() == 12
    page = w.pages["reports"]
    assert page.stack.currentWidget() is page.view
    assert "Import finished: 12 imported" in w.banner_label.text()
    assert w.banner.isVisible() is False or w.banner.isVisibleTo(w)
    assert "12 reports" in w.totals_label.text()


def test_real_drop_event_imports_files_and_folders(
    qtbot: Any, make_window: Any, tmp_path: Path
) -> None:
    w = make_window(tmp_path / "i.sqlite3")
    folder = tmp_path / "dropped"
    files = write_reports(folder, 5)
    other = tmp_path / "single"
    single = write_reports(other, 1, prefix="one")[0]
    del files
    text_only = QMimeData()
    text_only.setText("not a file")
    refused = _drag_enter(text_only)
    QApplication.sendEvent(w, refused)
    assert not refused.isAccepted()
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(folder)), QUrl.fromLocalFile(str(single))])
    enter = _drag_enter(mime)
    QApplication.sendEvent(w, enter)  # a drop only reaches a widget that accepted the drag
    assert enter.isAccepted()
    event = QDropEvent(
        QPointF(50, 50),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    with qtbot.waitSignal(w.import_finished, timeout=TIMEOUT):
        QApplication.sendEvent(w, event)
    assert event.isAccepted()
    assert w.reports_model.rowCount() == 6
    assert str(folder) in w.recent_paths()


def test_open_files_and_folder_use_the_prompt_service(
    qtbot: Any, make_window: Any, prompts: FakePrompts, tmp_path: Path
) -> None:
    w = make_window(tmp_path / "i.sqlite3")
    files = write_reports(tmp_path / "a", 3)
    prompts.files = [str(f) for f in files[:2]]
    with qtbot.waitSignal(w.import_finished, timeout=TIMEOUT):
        w.open_files_action.trigger()
    assert w.reports_model.rowCount() == 2
    prompts.folder = str(tmp_path / "a")
    with qtbot.waitSignal(w.import_finished, timeout=TIMEOUT) as blocker:
        w.open_folder_action.trigger()
    assert blocker.args[0].duplicates == 2 and blocker.args[0].imported == 1
    assert w.reports_model.rowCount() == 3
    assert w.open_files_action.shortcut().toString() == "Ctrl+O"
    assert w.open_folder_action.shortcut().toString() == "Ctrl+Shift+O"


def test_cancelling_an_import_leaves_a_consistent_index(
    qtbot: Any, make_window: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tlsrpt_gui.core.index as core_index
    import tlsrpt_gui.ui.importer as importer

    monkeypatch.setattr(core_index, "BATCH_SIZE", 50)  # several committed batches before the cancel
    midway = 120

    class PausingIndex(core_index.Index):
        """The real import, paused once midway until the GUI has pressed Cancel (so the race is fixed)."""

        def import_paths(self, paths: Any, **kw: Any) -> Any:
            progress, cancelled = kw["progress"], kw["cancelled"]
            paused: list[bool] = []

            def on_progress(p: Any) -> None:
                progress(p)
                if p.done >= midway and not paused:
                    paused.append(True)
                    deadline = time.monotonic() + 20
                    while not cancelled() and time.monotonic() < deadline:
                        threading.Event().wait(0.01)

            kw["progress"] = on_progress
            return super().import_paths(paths, **kw)

    monkeypatch.setattr(importer, "Index", PausingIndex)
    db = tmp_path / "c.sqlite3"
    w = make_window(db)
    folder = tmp_path / "many"
    write_reports(folder, 400)

    def cancel_midway(done: int, total: int, current: str) -> None:
        if done >= midway:
            w.importer.progress.disconnect(cancel_midway)
            w.cancel_button.click()

    w.importer.progress.connect(cancel_midway)
    with qtbot.waitSignal(w.import_finished, timeout=60_000) as blocker:
        w.import_paths([str(folder)])
    result = blocker.args[0]
    assert result.cancelled
    assert midway <= result.imported < 400
    assert "Import cancelled" in w.banner_label.text()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        n = conn.execute("SELECT COUNT(*) FROM reports").fetchone()[0]
        assert n == result.imported
        orphans = conn.execute(
            "SELECT COUNT(*) FROM reports r WHERE r.policy_count != "
            "(SELECT COUNT(*) FROM policies p WHERE p.report_id = r.id)"
        ).fetchone()[0]
        assert orphans == 0
        no_source = conn.execute(
            "SELECT COUNT(*) FROM reports r WHERE NOT EXISTS "
            "(SELECT 1 FROM sources s WHERE s.report_id = r.id AND s.outcome = 'imported')"
        ).fetchone()[0]
        assert no_source == 0
        no_raw = conn.execute(
            "SELECT COUNT(*) FROM reports r WHERE NOT EXISTS (SELECT 1 FROM report_raw x WHERE x.report_id = r.id)"
        ).fetchone()[0]
        assert no_raw == 0
    fetch_all(w.reports_model)
    assert w.reports_model.rowCount() == result.imported
    # a re-run completes the index
    monkeypatch.setattr(importer, "Index", core_index.Index)
    again = _import(qtbot, w, [folder])
    assert again.imported + result.imported == 400


def test_hostile_text_is_shown_literally(
    qtbot: Any, make_window: Any, hostile_folder: Path, tmp_path: Path
) -> None:
    w = make_window(tmp_path / "h.sqlite3")
    _import(qtbot, w, [hostile_folder])
    m = w.reports_model
    cell = m.index(0, 0)
    assert cell.data() == HOSTILE_ORG
    assert _literal_tooltip(cell.data(Qt.ItemDataRole.ToolTipRole)) == HOSTILE_ORG
    f = w.failures_model
    code_col = [c.key for c in f.COLUMNS].index("failure_reason_code")
    info_col = [c.key for c in f.COLUMNS].index("additional_information")
    assert f.index(0, code_col).data() == HOSTILE_CODE
    assert _literal_tooltip(f.index(0, code_col).data(Qt.ItemDataRole.ToolTipRole)) == HOSTILE_CODE
    assert _literal_tooltip(f.index(0, info_col).data(Qt.ItemDataRole.ToolTipRole)).startswith(
        "<a href="
    )
    # detail pane
    w.set_tab("failures")
    w.pages["failures"].view.selectRow(0)
    assert w.detail.title.textFormat() == Qt.TextFormat.PlainText
    assert HOSTILE_ORG in w.detail.title.text()
    text = w.detail.summary_text()
    assert (
        HOSTILE_ORG in text and HOSTILE_CODE in text and "<a href='http://evil'>click</a>" in text
    )
    assert "<img" not in w.detail.summary.toHtml().replace("&lt;img", "")
    raw = json.loads(w.detail.raw.toPlainText())
    assert raw["organization-name"] == HOSTILE_ORG
    assert raw["policies"][0]["failure-details"][0]["failure-reason-code"] == HOSTILE_CODE
    # filter bar choices, copies
    assert w.filter_bar.reporter_combo.findText(HOSTILE_ORG) >= 0
    w.set_tab("reports")
    w.pages["reports"].view.selectRow(0)
    assert HOSTILE_ORG in w.copy_selection()
    # CSV export neutralises the formula, like the CLI
    out = tmp_path / "f.csv"
    w.export_page(w.pages["failures"], out, "csv")
    rows = list(csv.reader(out.open(encoding="utf-8")))
    code = rows[0].index("failure_reason_code")
    assert rows[1][code] == "'" + HOSTILE_CODE
    # a dialog shows it literally too (the prompt service gets plain text)
    w.show_about()


def test_detail_pane_shows_the_whole_report(qtbot: Any, make_window: Any, corpus_db: Path) -> None:
    w = make_window(corpus_db)
    w.filter_bar.set_filter(Filter(text="validation-failure"))
    w.set_tab("failures")
    page = w.pages["failures"]
    assert page.model.rowCount() >= 1
    page.view.selectRow(0)
    report_row = page.model.report_id(0)
    text = w.detail.summary_text()
    for heading in ("Report", "Policies (", "Failure details (", "Diagnostics ("):
        assert heading in text
    assert "validation-failure" in text
    assert "Source: " in text and "shared/corpus" in text
    with sqlite3.connect(corpus_db) as conn:
        strings = json.loads(
            conn.execute(
                "SELECT policy_strings FROM policies WHERE report_id = ?", (report_row,)
            ).fetchone()[0]
        )
        diags = [
            r[0]
            for r in conn.execute(
                "SELECT message FROM diagnostics WHERE report_id = ?", (report_row,)
            )
        ]
    for s in strings:
        assert s in text
    for d in diags:
        assert d in text
    raw = w.detail.raw.toPlainText()
    assert json.loads(raw)  # pretty-printed JSON of the stored report
    assert "\n  " in raw


def test_filter_bar_narrows_every_table_and_clears(
    qtbot: Any, make_window: Any, corpus_db: Path
) -> None:
    w = make_window(corpus_db)
    before = {n: p.model.rowCount() for n, p in w.pages.items()}
    with qtbot.waitSignal(w.filter_bar.filter_changed, timeout=3000):
        qtbot.keyClicks(w.filter_bar.domain_edit, "example.com")
    for n, p in w.pages.items():
        assert 0 < p.model.rowCount() < before[n], n
        assert p.model.filter.policy_domain == "example.com"
    assert w.filter_bar.clear_button.isEnabled()
    with qtbot.waitSignal(w.filter_bar.filter_changed, timeout=3000):
        qtbot.keyClicks(w.filter_bar.text_edit, "no such text at all")
    assert w.pages["reports"].empty.text() == NO_MATCH_TEXT
    assert w.pages["reports"].stack.currentWidget() is w.pages["reports"].empty
    qtbot.mouseClick(w.filter_bar.clear_button, Qt.MouseButton.LeftButton)
    assert {n: p.model.rowCount() for n, p in w.pages.items()} == before
    assert not w.filter_bar.clear_button.isEnabled()


def test_detail_pane_follows_the_filter_and_the_tab(make_window: Any, corpus_db: Path) -> None:
    """The detail pane shows the current row of the table in view: a filter that keeps
    that row keeps it shown (and selected), one that hides it clears the pane, and so
    does a table with no current row."""
    w = make_window(corpus_db)
    w.set_tab("reports")
    page = w.pages["reports"]
    page.view.selectRow(0)
    report = page.model.report_id(0)
    org = page.model.index(0, [c.key for c in page.model.COLUMNS].index("organization_name")).data()
    assert w.detail.report_id == report
    w.apply_filter(Filter(reporter=org))
    assert w.detail.report_id == report and page.current_id() == report
    w.apply_filter(Filter(reporter="nobody"))
    assert page.model.rowCount() == 0 and w.detail.report_id is None
    w.apply_filter(Filter())
    assert w.detail.report_id is None and page.current_id() is None
    page.view.selectRow(0)
    assert w.detail.report_id == report
    w.set_tab("failures")  # no row chosen there yet
    assert w.detail.report_id is None
    w.pages["failures"].view.selectRow(0)
    assert w.detail.report_id == w.pages["failures"].model.report_id(0)
    w.set_tab("reports")  # back to the row chosen there
    assert w.detail.report_id == report


def test_filter_choices_offer_every_value_in_the_index(make_window: Any, corpus_db: Path) -> None:
    """The policy and result type filters offer RFC 8460's types and any other a report
    gave (the corpus has an unknown policy type, kept as given)."""
    w = make_window(corpus_db)
    with sqlite3.connect(corpus_db) as conn:
        policy_types = {r[0] for r in conn.execute("SELECT DISTINCT policy_type FROM policies")}
        result_types = {r[0] for r in conn.execute("SELECT DISTINCT result_type FROM failure_details")}
    assert policy_types - {"sts", "tlsa", "no-policy-found"}
    for combo, values in ((w.filter_bar.policy_type_combo, policy_types | {"sts", "tlsa", "no-policy-found"}),
                          (w.filter_bar.result_type_combo, result_types)):
        offered = {combo.itemData(i) for i in range(1, combo.count())}
        assert values <= offered
    combo = w.filter_bar.policy_type_combo
    other = sorted(policy_types - {"sts", "tlsa", "no-policy-found"})[0]
    combo.setCurrentIndex(combo.findData(other))
    w.apply_filter(w.filter_bar.current)
    assert w.pages["policies"].model.rowCount() > 0


def test_dates_the_wrong_way_round_mean_the_days_between(make_window: Any, corpus_db: Path) -> None:
    from datetime import date

    from PySide6.QtCore import QDate

    w = make_window(corpus_db)
    bar = w.filter_bar
    bar.date_from.setDate(QDate(2026, 3, 31))
    bar.date_to.setDate(QDate(2026, 1, 1))
    flt = bar.filter()
    assert (flt.date_from, flt.date_to) == (date(2026, 1, 1), date(2026, 3, 31))


def test_the_detail_pane_marks_the_failure_chosen(make_window: Any, corpus_db: Path) -> None:
    w = make_window(corpus_db)
    w.set_tab("failures")
    page = w.pages["failures"]
    page.view.selectRow(0)
    rt = page.model.index(0, 0).data()
    marked = [line for line in w.detail.summary_text().splitlines() if line.startswith("▶ ")]
    assert len(marked) == 1 and marked[0].startswith(f"▶ {rt} — ")


def test_an_index_with_sums_past_64_bits_opens_and_shows_them(qtbot: Any, make_window: Any, tmp_path: Path) -> None:
    """A stranger's absurd session counts, summed past 64 bits, are kept (as approximate
    numbers): the window, its tables, detail pane and charts show them."""
    from tests.security.test_unstorable_values import hostile_folder

    hostile_folder(tmp_path / "in")
    w = make_window(tmp_path / "big.sqlite3")
    _import(qtbot, w, [tmp_path / "in"])
    assert "successful" in w.totals_label.text()
    page = w.pages["reports"]
    fetch_all(page.model)
    for row in range(page.model.rowCount()):
        for col in range(page.model.columnCount()):
            page.model.index(row, col).data()
    page.view.selectRow(0)
    w.show()
    w.set_tab("charts")
    qtbot.waitUntil(lambda: w._charts is not None, timeout=20000)
    qtbot.waitUntil(lambda: not w._charts._tasks and all(c.data is not None for c in w._charts.cards), timeout=30000)


def test_a_reporter_typed_in_part_or_another_case_names_the_one_it_matches(make_window: Any, corpus_db: Path) -> None:
    """The reporter field offers the reporters containing what is typed: what it names
    unambiguously, whatever the case, is the filter (it took only the exact name)."""
    w = make_window(corpus_db)
    bar = w.filter_bar
    for typed, meant in (("google", "Google Inc."), ("GOOGLE INC.", "Google Inc."), ("mail.RU", "Mail.ru"),
                         ("Example Inc.", "Example Inc."), ("example", "example"), ("nobody", "nobody")):
        bar.reporter_combo.setEditText(typed)
        assert bar.filter().reporter == meant, typed
    bar.reporter_combo.setEditText("google")
    w.apply_filter(bar.filter())
    assert w.pages["reports"].model.rowCount() > 0


def test_a_domain_typed_in_part_or_another_case_names_the_one_it_matches(make_window: Any, corpus_db: Path) -> None:
    """The domain field, like the reporter field, takes what it names unambiguously: a
    partial domain showed "no rows" (it needed the whole domain)."""
    w = make_window(corpus_db)
    bar = w.filter_bar
    for typed, meant in (("blogreen", "blogreen.org"), ("JOSH.SCOT", "josh.scot"), ("GÖPHER", "xn--gpher-jua.test"),
                         ("xn--gpher-jua.test", "xn--gpher-jua.test"), ("nine.testrun.", "nine.testrun.org"),
                         ("example", "example"), ("test", "test"), ("", "")):
        bar.domain_edit.setText(typed)
        assert bar.filter().policy_domain == meant, typed
    bar.domain_edit.setText("blogreen")
    w.apply_filter(bar.filter())
    assert w.pages["reports"].model.rowCount() > 0


def test_typing_is_debounced(qtbot: Any, make_window: Any, corpus_db: Path) -> None:
    w = make_window(corpus_db)
    seen: list[Filter] = []
    w.filter_bar.filter_changed.connect(seen.append)
    with qtbot.waitSignal(w.filter_bar.filter_changed, timeout=3000):
        qtbot.keyClicks(w.filter_bar.text_edit, "google")
    assert [f.text for f in seen] == ["google"]


def test_import_refresh_keeps_sort_filter_and_selection(
    qtbot: Any, make_window: Any, corpus_db: Path, tmp_path: Path
) -> None:
    w = make_window(corpus_db)
    page = w.pages["reports"]
    page.view.sortByColumn(0, Qt.SortOrder.AscendingOrder)
    w.filter_bar.set_filter(Filter(reporter="Google Inc."))
    page.view.selectRow(2)
    chosen = page.model.index(2, 0).data(ROW_ID_ROLE)
    before = page.model.rowCount()
    new = tmp_path / "new"
    write_reports(new, 3, prefix="Google Inc.")  # other reporters: filtered out
    _import(qtbot, w, [new])
    assert page.model.filter.reporter == "Google Inc."
    assert page.model.rowCount() == before
    assert page.view.horizontalHeader().sortIndicatorSection() == 0
    assert page.model.sort_column == 0
    assert page.selected_ids() == [chosen]
    assert page.current_id() == chosen


def test_copy_rows_as_tab_separated_text_with_a_labels(
    qtbot: Any, make_window: Any, corpus_db: Path
) -> None:
    w = make_window(corpus_db)
    w.set_tab("policies")
    w.filter_bar.set_filter(Filter(policy_domain="göpher.test"))
    page = w.pages["policies"]
    assert page.model.index(0, 0).data() == "göpher.test"
    page.view.selectAll()
    text = w.copy_selection()
    assert QGuiApplication.clipboard().text() == text
    lines = text.split("\n")
    assert len(lines) == page.model.rowCount() >= 1
    cells = lines[0].split("\t")
    assert len(cells) == page.model.columnCount()
    assert cells[0] == "xn--gpher-jua.test"
    assert page.model.index(0, 0).data(COPY_ROLE) == "xn--gpher-jua.test"


def test_export_visible_table_with_filters(
    qtbot: Any, make_window: Any, corpus_db: Path, prompts: FakePrompts, tmp_path: Path
) -> None:
    w = make_window(corpus_db)
    w.filter_bar.set_filter(Filter(reporter="Google Inc."))
    page = w.pages["reports"]
    page.view.horizontalHeader().setSectionHidden(1, True)
    expected = page.model.rowCount()
    out = tmp_path / "r.json"
    prompts.save = (str(out), "JSON (*.json)")
    w.export_action.trigger()  # in the background
    qtbot.waitUntil(lambda: not w.busy, timeout=TIMEOUT)
    data = json.loads(out.read_text(encoding="utf-8"))
    assert len(data) == expected > 0
    assert all(row["organization_name"] == "Google Inc." for row in data)
    assert "report_id" not in data[0]
    out_csv = tmp_path / "r.csv"
    prompts.save = (str(out_csv), "CSV (*.csv)")
    w.export_action.trigger()
    qtbot.waitUntil(lambda: not w.busy, timeout=TIMEOUT)
    rows = list(csv.DictReader(out_csv.open(encoding="utf-8")))
    assert len(rows) == expected
    assert rows[0]["period"].endswith("Z")


def test_about_shows_version_and_index(
    make_window: Any, corpus_db: Path, prompts: FakePrompts
) -> None:
    w = make_window(corpus_db)
    w.show_about()
    _kind, _title, text = prompts.messages[-1]
    assert tlsrpt_gui.__version__ in text
    assert str(corpus_db.resolve()) in text


def test_import_log_lists_failed_inputs(qtbot: Any, make_window: Any, tmp_path: Path) -> None:
    w = make_window(tmp_path / "l.sqlite3")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "broken.json").write_text("{ not json", encoding="utf-8")
    write_reports(bad, 1)
    result = _import(qtbot, w, [bad])
    assert result.failed or result.skipped
    assert w.log_button.isVisibleTo(w)
    w.log_button.click()
    dlg = w.import_log_dialog
    assert not dlg.isModal()
    model = dlg.model
    paths = [model.index(r, 2).data() for r in range(model.rowCount())]
    assert any(p.endswith("broken.json") for p in paths)
    reason = model.index(paths.index(next(p for p in paths if p.endswith("broken.json"))), 4).data()
    assert reason


def test_settings_restore_tab_columns_and_time_mode(
    qtbot: Any, make_window: Any, corpus_db: Path, tmp_path: Path
) -> None:
    ini = tmp_path / "restore.ini"
    w = make_window(corpus_db, settings_path=ini)
    w.set_tab("failures")
    hh = w.pages["failures"].view.horizontalHeader()
    hh.setSectionHidden(3, True)
    hh.resizeSection(0, 333)
    w.pages["failures"].view.sortByColumn(1, Qt.SortOrder.AscendingOrder)
    w.set_utc(False)
    w.close()
    assert QSettings(str(ini), QSettings.Format.IniFormat).value("window/tab") == "failures"
    w2 = make_window(corpus_db, settings_path=ini)
    assert w2.tabs.currentIndex() == 2
    hh2 = w2.pages["failures"].view.horizontalHeader()
    assert hh2.isSectionHidden(3)
    assert hh2.sectionSize(0) == 333
    assert w2.pages["failures"].model.sort_column == 1
    assert w2.pages["failures"].model.sort_order == Qt.SortOrder.AscendingOrder
    assert not w2.time_mode.utc
    assert w2.utc_button.text() == "Local time"


def test_recent_menu(qtbot: Any, make_window: Any, tmp_path: Path) -> None:
    w = make_window(tmp_path / "r.sqlite3")
    folder = tmp_path / "rec"
    write_reports(folder, 2)
    _import(qtbot, w, [folder])
    actions = [a for a in w.recent_menu.actions() if str(folder) in a.text()]
    assert actions
    with qtbot.waitSignal(w.import_finished, timeout=TIMEOUT) as blocker:
        actions[0].trigger()
    assert blocker.args[0].duplicates == 2


def test_menus_show_an_ampersand_as_itself(qtbot: Any, make_window: Any, tmp_path: Path) -> None:
    """Qt reads "&" in a menu item as a shortcut mark: a reporter "AT&T" or a folder
    "R&D" must not lose theirs."""
    from tests.ui.conftest import make_report

    folder = tmp_path / "R&D"
    folder.mkdir()
    (folder / "r.json").write_text(json.dumps(make_report(org="AT&T")), encoding="utf-8")
    w = make_window(tmp_path / "amp.sqlite3")
    _import(qtbot, w, [folder])
    assert w.recent_menu.actions()[0].text() == f"&1 {str(folder).replace('&', '&&')}"
    w.set_tab("reports")
    page = w.pages["reports"]
    menu = w.row_menu(page, page.model.index(0, 0))
    texts = [a.text() for a in menu.actions()]
    assert "Filter by Reporter “AT&&T”" in texts
    next(a for a in menu.actions() if "Reporter" in a.text()).trigger()
    assert w.filter_bar.current.reporter == "AT&T"


def test_utc_toggle_changes_every_table(qtbot: Any, make_window: Any, corpus_db: Path) -> None:
    w = make_window(corpus_db)
    assert w.time_mode.utc and w.utc_action.isChecked()
    tip = w.reports_model.index(0, 2).data(Qt.ItemDataRole.ToolTipRole)
    assert "UTC" in _literal_tooltip(tip)
    w.utc_action.trigger()
    assert not w.time_mode.utc
    assert w.utc_button.text() == "Local time"


def test_keyboard_reaches_the_controls(qtbot: Any, make_window: Any, corpus_db: Path) -> None:
    w = make_window(corpus_db)
    w.show()
    qtbot.waitExposed(w)
    # follow the Tab chain from the first filter field once round the window
    seen = []
    start = w.filter_bar.domain_edit
    widget = start.nextInFocusChain()
    while widget is not start and len(seen) < 500:
        if (
            widget.isVisibleTo(w)
            and widget.isEnabled()
            and widget.focusPolicy() & Qt.FocusPolicy.TabFocus
            and widget.window() is w
        ):
            seen.append(widget)
        widget = widget.nextInFocusChain()
    fb = w.filter_bar
    for target in (
        fb.date_from,
        fb.date_to,
        fb.reporter_combo,
        fb.policy_type_combo,
        fb.result_type_combo,
        fb.text_edit,
        w.tabs.tabBar(),
        w.pages["reports"].view,
        w.detail.summary,
    ):
        assert target in seen or any(target.isAncestorOf(s) for s in seen), target
    # every menu command has a keyboard route
    for act in (
        w.open_files_action,
        w.open_folder_action,
        w.export_action,
        w.copy_action,
        w.utc_action,
    ):
        assert not act.shortcut().isEmpty()
    assert w.menuBar().actions()[0].text() == "&File"


def test_charts_filter_requests_reach_the_tables(
    qtbot: Any, make_window: Any, corpus_db: Path
) -> None:
    w = make_window(corpus_db)
    assert w._charts is None, "the charts are built on first use, not at start-up"
    w.set_tab("charts")
    assert w._charts is not None and w.charts is w._charts, "the Charts tab must be integrated"
    w.charts.filter_requested.emit(Filter(reporter="Google Inc."))
    assert w.filter_bar.current.reporter == "Google Inc."
    assert w.reports_model.filter.reporter == "Google Inc."
    assert w.charts.current_filter().reporter == "Google Inc."
    # a sending IP from the chart shows as a removable chip and narrows the failures
    w.charts.filter_requested.emit(Filter(sending_ip="198.51.100.62"))
    assert w.filter_bar.ip_button.isVisibleTo(w.filter_bar)
    assert "198.51.100.62" in w.filter_bar.ip_button.text()
    fetch_all(w.failures_model)
    assert w.failures_model.rowCount() == 2
    w.filter_bar.ip_button.click()
    assert w.filter_bar.current.sending_ip == "" and not w.filter_bar.ip_button.isVisibleTo(w.filter_bar)


def test_the_charts_modules_start_importing_soon_after_the_first_paint(
    qtbot: Any, make_window: Any, corpus_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tlsrpt_gui.ui.main_window as main_window

    # Only the first paint can start the import in time: the fallback after showing
    # is a minute away, and the tab is never built meanwhile.
    monkeypatch.setattr(main_window, "IMPORT_CHARTS_AFTER_SHOW_MS", 60_000)
    monkeypatch.setattr(main_window, "BUILD_CHARTS_AFTER_MS", 60_000)
    w = make_window(corpus_db)
    assert w._charts_import is None
    w.show()
    qtbot.waitExposed(w)
    qtbot.waitUntil(lambda: w._charts_import is not None, timeout=3000)
    w._charts_import.join(30)
    assert w._charts_imported() and w._charts is None


def test_the_charts_tab_opened_while_its_modules_import_says_so_and_is_built_once_they_are_in(
    qtbot: Any, make_window: Any, corpus_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    import tlsrpt_gui.ui.main_window as main_window

    importing, release = threading.Event(), threading.Event()
    real = main_window._import_charts

    def slow_import() -> None:  # the first second or so after start-up, drawn out
        importing.set()
        release.wait(30)
        real()

    monkeypatch.setattr(main_window, "_import_charts", slow_import)
    monkeypatch.setattr(main_window, "BUILD_CHARTS_AFTER_MS", 60_000)
    w = make_window(corpus_db)
    w.show()
    qtbot.waitUntil(importing.is_set, timeout=5000)
    w.set_tab("charts")  # returns at once: the window does not wait for the import
    assert w._charts is None and w._charts_waiting is not None
    assert w._charts_waiting.text() == "Loading the charts…" and w._charts_waiting.isVisibleTo(w)
    qtbot.wait(100)
    assert w._charts is None  # still waiting, and the window still answers
    release.set()
    # (a widget added to a shown one is shown from the event loop: wait for that too)
    qtbot.waitUntil(lambda: w._charts is not None and w._charts.isVisible(), timeout=10000)
    assert w._charts_waiting is None
    qtbot.waitUntil(lambda: not w._charts._tasks and all(c.data is not None for c in w._charts.cards), timeout=20000)


def _charts_built_hidden(qtbot: Any, make_window: Any, corpus_db: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    """A window shown, whose Charts tab it has built hidden after start-up."""
    import tlsrpt_gui.ui.main_window as main_window

    monkeypatch.setattr(main_window, "BUILD_CHARTS_AFTER_MS", 50)
    w = make_window(corpus_db)
    w.show()
    assert w._charts is None
    qtbot.waitUntil(lambda: w._charts is not None, timeout=5000)
    assert not w._charts.isVisible()
    return w, w._charts


def test_the_window_starts_the_parsers_fork_server_a_moment_after_it_is_shown(
    qtbot: Any, make_window: Any, corpus_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tlsrpt_gui.ui.main_window as main_window

    started: list[bool] = []
    monkeypatch.setattr(main_window, "start_parser_server", lambda: started.append(True))
    monkeypatch.setattr(main_window, "START_PARSER_SERVER_AFTER_SHOW_MS", 50)
    w = make_window(corpus_db)
    qtbot.wait(200)
    assert not started  # not before it is shown (the screenshot mode never waits for it)
    w.show()
    qtbot.waitUntil(lambda: bool(started), timeout=5000)
    w.hide()
    w.show()
    qtbot.wait(200)
    assert started == [True]  # once


def test_the_charts_tab_is_not_built_while_an_import_runs_but_after_it(
    qtbot: Any, make_window: Any, corpus_db: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Charts computed during an import would be out of date at its end, and the tab's
    build and queries take the cores the import parses on."""
    import tlsrpt_gui.ui.main_window as main_window
    from tlsrpt_gui.core.index import Index

    started, release = threading.Event(), threading.Event()
    real = Index.import_paths

    def held(self: Index, *args: Any, **kwargs: Any) -> Any:  # an import that takes its time
        started.set()
        release.wait(30)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Index, "import_paths", held)
    monkeypatch.setattr(main_window, "BUILD_CHARTS_AFTER_MS", 50)
    w = make_window(corpus_db)
    w.show()
    w.import_paths([str(corpus / "reports")])
    qtbot.waitUntil(started.is_set, timeout=5000)
    qtbot.waitUntil(lambda: w._charts_imported(), timeout=30000)  # (its modules are in)
    qtbot.wait(300)  # six times the idle time
    assert w.importer.running and w._charts is None
    with qtbot.waitSignal(w.import_finished, timeout=TIMEOUT):
        release.set()
    qtbot.waitUntil(lambda: w._charts is not None, timeout=5000)
    assert not w._charts.isVisible()


def test_the_charts_tab_built_before_its_first_visit_is_computed_so_opening_it_only_paints(
    qtbot: Any, make_window: Any, corpus_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    w, charts = _charts_built_hidden(qtbot, make_window, corpus_db, monkeypatch)
    qtbot.waitUntil(lambda: not charts._tasks and all(card.data is not None for card in charts.cards), timeout=20000)
    generation = charts._generation
    w.set_tab("charts")
    qtbot.wait(50)
    assert charts.isVisible() and charts._generation == generation and not charts._tasks
    assert all(card.data is not None for card in charts.cards)


def test_the_charts_tab_built_hidden_follows_the_filter_and_computes_it_when_shown(
    qtbot: Any, make_window: Any, corpus_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    w, charts = _charts_built_hidden(qtbot, make_window, corpus_db, monkeypatch)
    before = [card.data for card in charts.cards]  # (computed for no filter, or not yet)
    w.filter_bar.set_filter(Filter(reporter="Google Inc."))  # followed, not computed, while hidden
    qtbot.wait(200)
    assert not charts._tasks and all(card.data is data for card, data in zip(charts.cards, before, strict=True))
    with qtbot.waitSignal(charts.ready, timeout=20000):
        w.set_tab("charts")
    assert charts.isVisible() and charts.current_filter().reporter == "Google Inc."
    from tlsrpt_gui.ui.charts.cards import ReporterCard

    assert [r.label for r in charts.card(ReporterCard).chart.rows] == ["Google Inc."]


def test_check_dns_switches_to_the_dns_tab(qtbot: Any, make_window: Any, corpus_db: Path) -> None:
    w = make_window(corpus_db)
    if w.dns is None:
        pytest.skip("the DNS tab is not there yet")
    asked: list[str] = []
    w.dns.check_domain = asked.append  # type: ignore[method-assign]
    w.check_dns("example.com")
    assert w.tabs.currentWidget() is w.dns.parentWidget()
    assert asked == ["example.com"]


def test_the_dns_tab_is_built_on_first_use(qtbot: Any, make_window: Any, corpus_db: Path) -> None:
    """The DNS tab (dnspython: 0.13-0.16 s) is not built at start-up, but when first
    shown or asked to check a domain, with what the window knows by then."""
    w = make_window(corpus_db)
    w.show()
    qtbot.waitExposed(w)
    assert w._dns is None and w.filter_bar.isVisible()
    w.set_tab("dns")
    tab = w._dns
    assert tab is not None and tab.parentWidget() is w.tabs.currentWidget()
    qtbot.waitUntil(tab.isVisible, timeout=2000)
    assert not w.filter_bar.isVisible()  # the DNS tab has its own domain field
    domains = [tab.domain_box.itemText(i) for i in range(tab.domain_box.count())]
    assert domains and domains == sorted(w._known_domains, key=str.lower)  # the index's policy domains
    w.set_tab("reports")
    assert w.filter_bar.isVisible()
    w.set_tab("dns")
    assert w._dns is tab  # built once
    w.close()
    assert not tab.running


def test_a_bulk_import_says_when_it_builds_the_indexes(qtbot: Any, make_window: Any, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import tlsrpt_gui.core.index as index_mod

    monkeypatch.setattr(index_mod, "BULK_MIN_FILES", 10)
    w = make_window(tmp_path / "bulk.sqlite3")
    folder = tmp_path / "many"
    write_reports(folder, 30)
    seen: list[str] = []
    w.importer.progress.connect(lambda done, total, current: seen.append(current))
    banners: list[str] = []
    real = w._on_import_progress

    def record(done: int, total: int, current: str) -> None:
        real(done, total, current)
        banners.append(f"{w.banner_label.text()} | busy={w.progress_bar.maximum() == 0}")

    w.importer.progress.disconnect(w._on_import_progress)
    w.importer.progress.connect(record)
    result = _import(qtbot, w, [folder])
    assert result.imported == 30
    assert index_mod.INDEXING in seen
    assert "Read 30 of 30 files; building the indexes… | busy=True" in banners
    assert "Import finished: 30 imported" in w.banner_label.text()
    with sqlite3.connect(tmp_path / "bulk.sqlite3") as conn:
        assert conn.execute("SELECT COUNT(*) FROM deferred_indexes").fetchone()[0] == 0
        assert conn.execute("SELECT COUNT(*) FROM sqlite_master WHERE name = 'failures_report'").fetchone()[0] == 1


def test_a_bulk_import_leaves_the_sort_indexes_to_the_window(qtbot: Any, make_window: Any, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The import drops the window's sort indexes with the others, but builds only its
    own again: the window shows the rows at once and makes its own in the background."""
    import tlsrpt_gui.core.index as index_mod
    from tlsrpt_gui.ui.models import SORT_INDEXES, missing_sort_indexes

    monkeypatch.setattr(index_mod, "BULK_MIN_FILES", 10)
    db = tmp_path / "bulk.sqlite3"
    w = make_window(db)
    conn = sqlite3.connect(db)
    try:
        qtbot.waitUntil(lambda: not missing_sort_indexes(conn), timeout=10000)  # made at start-up
        missing_when_done: list[int] = []
        real = w._prepare_sort_indexes

        def prepare() -> None:
            missing_when_done.append(len(missing_sort_indexes(conn)))
            real()

        monkeypatch.setattr(w, "_prepare_sort_indexes", prepare)
        folder = tmp_path / "many"
        write_reports(folder, 30)
        assert _import(qtbot, w, [folder]).imported == 30
        assert missing_when_done == [len(SORT_INDEXES)]
        assert all(sql.split()[5].startswith(index_mod.VIEWER_INDEX_PREFIX) for sql in SORT_INDEXES)
        qtbot.waitUntil(lambda: not missing_sort_indexes(conn), timeout=10000)
        assert conn.execute("SELECT COUNT(*) FROM deferred_indexes").fetchone()[0] == 0
    finally:
        conn.close()


def test_closing_the_window_during_a_bulk_import_lets_it_complete_the_index(
        qtbot: Any, make_window: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Closing cancels the import and waits for what it must finish (the groups being
    written, then the indexes and summaries it deferred), so the app never exits with an
    import half way: the index is whole and its run recorded."""
    from PySide6.QtCore import QThreadPool

    import tlsrpt_gui.core.index as index_mod
    from tlsrpt_gui.core import rollups

    monkeypatch.setattr(index_mod, "BULK_MIN_FILES", 10)
    w = make_window(tmp_path / "close.sqlite3")
    write_reports(tmp_path / "many", 400)
    w.show()
    with qtbot.waitSignal(w.importer.progress, timeout=TIMEOUT):
        w.import_paths([str(tmp_path / "many")])
    w.close()
    assert QThreadPool.globalInstance().activeThreadCount() == 0  # waited for it
    with sqlite3.connect(tmp_path / "close.sqlite3") as conn:
        assert conn.execute("SELECT COUNT(*) FROM deferred_indexes").fetchone()[0] == 0
        assert conn.execute("SELECT status FROM import_runs").fetchone()[0] in ("done", "cancelled")
        assert rollups.consistent(conn)


def test_a_cancel_too_late_says_the_import_finished_anyway(make_window: Any, tmp_path: Path) -> None:
    from tlsrpt_gui.core.index import ImportResult

    w = make_window(tmp_path / "late.sqlite3")
    w._cancel_requested = True  # Cancel pressed, but every file was in already
    w._show_summary(ImportResult(imported=3))
    assert w.banner_label.text().startswith("Import finished before it could be cancelled: 3 imported")
    w._show_summary(ImportResult(imported=2, cancelled=True))
    assert w.banner_label.text().startswith("Import cancelled: 2 imported")


def test_an_import_queued_behind_another_keeps_the_first_ones_summary_in_view(
        qtbot: Any, make_window: Any, tmp_path: Path) -> None:
    w = make_window(tmp_path / "q.sqlite3")
    write_reports(tmp_path / "a", 3, prefix="a")
    write_reports(tmp_path / "b", 2, prefix="b")
    summaries: list[str] = []
    started: list[str] = []
    w.import_finished.connect(lambda _r: summaries.append(w.statusBar().currentMessage()))
    w.importer.started.connect(lambda _p: started.append(w.statusBar().currentMessage()))  # (after the window's)
    with qtbot.waitSignals([w.import_finished, w.import_finished], timeout=TIMEOUT):
        w.import_paths([str(tmp_path / "a")])
        w.import_paths([str(tmp_path / "b")])  # queued behind the first
    assert summaries[0].startswith("Import finished: 3 imported")
    assert started[1].startswith("Last import: import finished: 3 imported")  # not stale, not lost
    assert summaries[1].startswith("Import finished: 2 imported")


def test_refreshing_keeps_a_large_selection_at_once(make_window: Any, tmp_path: Path) -> None:
    """F5 (and every import) selects the selected rows again: row by row, 24,000 rows took
    a minute and a million never ended; now it is one selection of runs of rows."""
    from tests.ui.bigdb import build_big_index

    db = tmp_path / "big.sqlite3"
    build_big_index(db, failures=30_000, reports=30_000)
    w = make_window(db)
    page = w.pages["reports"]
    fetch_all(page.model)
    page.view.selectAll()
    page.view.selectionModel().select(page.model.index(5, 0), page.view.selectionModel().SelectionFlag.Deselect
                                      | page.view.selectionModel().SelectionFlag.Rows)  # two runs of rows
    wanted = page.selected_ids()
    assert len(wanted) == page.model.rowCount() - 1 > 20_000
    started = time.monotonic()
    w.refresh_tables()
    assert time.monotonic() - started < 15  # about a second; it took minutes
    assert page.selected_ids() == wanted


def test_copied_cells_never_break_a_row_where_they_are_pasted(qtbot: Any, make_window: Any, tmp_path: Path) -> None:
    """A lone CR (or another line break) in a stranger's text starts a new row in a
    spreadsheet: copied cells have each as a space (tab and LF were, CR was not)."""
    from tests.ui.conftest import make_report

    failure = {"result-type": "validation-failure", "failed-session-count": 1,
               "failure-reason-code": "a\rb\r\nc\u2028d\x0be"}
    src = tmp_path / "in"
    src.mkdir()
    (src / "cr.json").write_text(json.dumps(make_report(report_id="cr", failures=[failure])))
    w = make_window(tmp_path / "i.sqlite3")
    _import(qtbot, w, [src])
    page = w.pages["failures"]
    w.set_tab("failures")
    page.view.selectRow(0)
    text = w.copy_selection()
    assert "a b  c d e" in text and not any(ch in text for ch in "\r\u2028\x0b") and "\n" not in text


def test_a_count_of_an_earlier_view_never_overwrites_the_row_count(qtbot: Any, make_window: Any, tmp_path: Path) -> None:
    """A background count started for one filter, arriving after the table was filtered
    down to rows all loaded, left "11 of 1,000,000 rows loaded" beside 11 rows."""
    from tests.ui.bigdb import build_big_index

    db = tmp_path / "big.sqlite3"
    build_big_index(db, failures=3000, reports=3000)
    w = make_window(db)
    page = w.pages["reports"]
    assert page.model.canFetchMore(page.model.index(-1, -1))
    w._count_rows(page)  # a count of the whole table, in the background
    w.apply_filter(Filter(text="rid-2999"))  # then a filter whose rows are all loaded
    assert not page.model.canFetchMore(page.model.index(-1, -1))
    shown = w.rows_label.text()
    qtbot.waitUntil(lambda: not w._background, timeout=10_000)
    assert w.rows_label.text() == shown and " of " not in shown


def test_bidi_controls_in_a_strangers_text_are_shown_not_obeyed(qtbot: Any, make_window: Any, tmp_path: Path) -> None:
    """"Org\\u202egnp.exe" showed as "Orgexe.png": the tables show each bidi control as
    its code point, and copy the text as it came."""
    from tests.ui.conftest import make_report

    src = tmp_path / "in"
    src.mkdir()
    org = "Org\u202egnp.exe\u202c"
    failure = {"result-type": "validation-failure", "failed-session-count": 1, "additional-information": "x\u2066y"}
    (src / "b.json").write_text(json.dumps(make_report(org=org, report_id="bidi", failures=[failure])))
    w = make_window(tmp_path / "i.sqlite3")
    _import(qtbot, w, [src])
    for name in ("reports", "failures"):
        model = w.pages[name].model
        shown = [model.index(0, c).data() or "" for c in range(model.columnCount())]
        tips = [model.index(0, c).data(Qt.ItemDataRole.ToolTipRole) or "" for c in range(model.columnCount())]
        assert "Org\u27e8U+202E\u27e9gnp.exe\u27e8U+202C\u27e9" in shown, name
        assert not any(ch in "".join(shown + tips) for ch in "\u202e\u202c\u2066"), name
    assert "x\u27e8U+2066\u27e9y" in [w.pages["failures"].model.index(0, c).data() for c in range(w.pages["failures"].model.columnCount())]
    w.set_tab("reports")
    w.pages["reports"].view.selectRow(0)
    assert org in w.copy_selection()  # the data itself, as sent


def test_copy_and_select_all_act_on_the_text_in_focus(qtbot: Any, make_window: Any, corpus_db: Path) -> None:
    """Ctrl+C with text chosen in the Raw JSON view copied the table's row instead, and
    Ctrl+A selected every row: in a text view they act on its text."""
    w = make_window(corpus_db)
    w.show()
    qtbot.waitExposed(w)
    page = w.pages["reports"]
    page.view.selectRow(0)
    w.detail.tabs.setCurrentWidget(w.detail.raw)
    raw = w.detail.raw
    qtbot.waitUntil(lambda: raw.toPlainText().lstrip().startswith("{"), timeout=5000)
    raw.setFocus()
    qtbot.waitUntil(raw.hasFocus, timeout=2000)
    QGuiApplication.clipboard().clear()
    qtbot.keyClick(raw, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert page.selected_rows() == [0]  # the table's selection is untouched
    qtbot.keyClick(raw, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QGuiApplication.clipboard().text() == raw.toPlainText()
    page.view.setFocus()
    qtbot.keyClick(page.view, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert len(page.selected_rows()) == page.model.rowCount() > 1  # in the table, as before


def test_closing_the_window_waits_for_its_own_pools_jobs(qtbot: Any, make_window: Any, corpus_db: Path) -> None:
    """A job in the window's own pool (the signposts' reads) is cancelled and waited for
    when the window closes: left running, it went on as the interpreter ended and Qt
    deleted the window, and crashed the process on its way out."""
    import threading
    import time

    w = make_window(corpus_db)
    w.show()
    started, ended = threading.Event(), threading.Event()

    def job(task: Any) -> None:
        started.set()
        while not task.cancelled:
            time.sleep(0.01)
        time.sleep(0.3)  # (what a cancelled read still does before it returns)
        ended.set()

    w._run_background(job, lambda _r: None, lambda _e: None, pool=w._signpost_pool)
    assert started.wait(5)
    w.close()
    assert ended.is_set() and w._signpost_pool.activeThreadCount() == 0


def test_one_escape_for_the_dns_tab_and_the_window(qtbot: Any, make_window: Any, corpus_db: Path) -> None:
    """The DNS tab's Escape and the window's were ambiguous there ("Ambiguous shortcut
    overload"): neither a check nor an import could be cancelled. One acts now."""
    import socket

    from tlsrpt_gui.ui.preferences import ResolverSettings

    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # a nameserver that never answers
    silent.bind(("127.0.0.1", 0))
    try:
        w = make_window(corpus_db)
        ResolverSettings(use_system=False, nameserver="127.0.0.1", port=silent.getsockname()[1], timeout=20).save(w.settings)
        w.show()
        w.activateWindow()
        qtbot.waitUntil(lambda: QApplication.activeWindow() is w, timeout=2000)
        w.set_tab("dns")
        tab = w.dns
        tab.refresh_settings()
        qtbot.keyClicks(tab.domain_edit, "example.test")
        with qtbot.waitSignal(tab.check_started, timeout=2000):
            tab.start_check()
        assert tab.running
        tab.domain_edit.setFocus()
        with qtbot.waitSignal(tab.check_cancelled, timeout=2000):
            qtbot.keyClick(tab.domain_edit, Qt.Key.Key_Escape)
        assert not tab.running
    finally:
        silent.close()


def test_the_menu_key_opens_the_current_rows_menu(qtbot: Any, make_window: Any, corpus_db: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The Menu key opened the menu of the row below the current one (its position is in
    the view's coordinates, not the viewport's), and Shift+F10 opened none."""
    from PySide6.QtGui import QContextMenuEvent
    from PySide6.QtWidgets import QMenu

    w = make_window(corpus_db)
    w.show()
    qtbot.waitExposed(w)
    w.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w, timeout=2000)
    page = w.pages["reports"]
    page.view.setFocus()
    page.view.setCurrentIndex(page.model.index(5, 0))
    opened: list[int] = []
    real = w.row_menu

    def spy(p: Any, index: Any) -> QMenu:
        opened.append(index.row())
        menu = real(p, index)
        QTimer.singleShot(0, menu.close)
        return menu

    monkeypatch.setattr(w, "row_menu", spy)
    qtbot.waitUntil(page.view.hasFocus, timeout=2000)
    qtbot.keyClick(page.view, Qt.Key.Key_F10, Qt.KeyboardModifier.ShiftModifier)
    rect = page.view.visualRect(page.model.index(5, 0))
    with warnings.catch_warnings():  # Qt 6 marks this constructor deprecated
        warnings.simplefilter("ignore", DeprecationWarning)
        event = QContextMenuEvent(QContextMenuEvent.Reason.Keyboard, rect.center())
    QApplication.sendEvent(page.view, event)
    assert opened == [5, 5]


def test_the_detail_pane_key_shows_it_beside_tables_only(make_window: Any, corpus_db: Path) -> None:
    w = make_window(corpus_db)
    w.show()
    w.set_tab("dns")
    w.detail_action.setChecked(False)
    w.detail_action.setChecked(True)  # F6 twice on the DNS tab: it showed an empty pane
    assert not w.detail.isVisible()
    w.set_tab("reports")
    assert w.detail.isVisible()


def test_alt_keys_name_one_thing_each(make_window: Any, corpus_db: Path) -> None:
    """Alt+F opened the Failure details tab instead of the File menu, and Alt+D the DNS
    tab instead of the detail pane's Details."""
    w = make_window(corpus_db)
    keys = [action.text() for action in w.menuBar().actions()]
    keys += [w.tabs.tabText(i) for i in range(w.tabs.count())]
    keys += [w.detail.tabs.tabText(i) for i in range(w.detail.tabs.count())]
    marks = [t[t.index("&") + 1].lower() for t in keys if "&" in t.replace("&&", "")]
    assert len(marks) == len(set(marks)), keys


def _window_after_a_junk_input(qtbot: Any, make_window: Any, tmp_path: Path) -> Any:
    """A window on a new index that has imported one input it could not read."""
    src = tmp_path / "in"
    src.mkdir()
    (src / "junk.json").write_text("not a report")
    w = make_window(tmp_path / "i.sqlite3")
    _import(qtbot, w, [src])
    return w


def test_one_input_not_imported_is_said_in_the_singular(qtbot: Any, make_window: Any, tmp_path: Path) -> None:
    w = _window_after_a_junk_input(qtbot, make_window, tmp_path)
    assert "1 input not imported" in w.totals_label.text()
    clear = next(a for a in w.menuBar().actions()[1].menu().actions() if a.text().startswith("C&lear Filters"))
    assert clear.text().endswith("\tCtrl+Shift+L")  # the menu shows the filter bar's key


def test_export_runs_in_the_background_and_can_be_cancelled(qtbot: Any, make_window: Any, prompts: Any,
                                                            tmp_path: Path) -> None:
    """File → Export Visible Table froze the window for the whole export (a minute and a
    half at a million rows): it runs in a thread, with progress and Cancel; the file
    appears whole, or, when cancelled, not at all."""
    from tests.ui.bigdb import build_big_index

    db = tmp_path / "big.sqlite3"
    build_big_index(db, failures=30_000, reports=30_000)
    w = make_window(db)
    w.set_tab("reports")
    page = w.pages["reports"]
    page.model.sort(1, Qt.SortOrder.DescendingOrder)  # report id, the other way

    out = tmp_path / "all.csv"
    prompts.save = (str(out), "CSV (*.csv)")
    started = time.monotonic()
    w.export_current()
    assert time.monotonic() - started < 1.0 and w.busy  # the window goes on at once
    qtbot.waitUntil(lambda: not w.busy, timeout=120_000)
    assert w.statusBar().currentMessage().startswith("Exported 30")
    rows = list(csv.reader(out.open(encoding="utf-8")))
    assert len(rows) == 30_001 and not (tmp_path / "all.csv.part").exists()
    same = tmp_path / "same.csv"
    w.export_page(page, same, "csv")  # the same rows, in the same order, as the table shows them
    assert list(csv.reader(same.open(encoding="utf-8"))) == rows

    cancelled = tmp_path / "cancelled.json"
    task = w.export_in_background(page, cancelled, "json")
    qtbot.waitUntil(lambda: (tmp_path / "cancelled.json.part").exists(), timeout=30_000)
    task.cancel()
    qtbot.waitUntil(lambda: not w.busy, timeout=60_000)
    assert not cancelled.exists() and not (tmp_path / "cancelled.json.part").exists()
    assert "cancelled" in w.statusBar().currentMessage()
    assert prompts.messages == []


def test_sorting_the_table_while_it_exports_changes_nothing_in_the_file(qtbot: Any, make_window: Any,
                                                                        tmp_path: Path) -> None:
    """The export read the model's row layout while it ran: sorting the table meanwhile
    made it fail ("invalid literal for int()") or shift its columns. It keeps the
    layout it started with; and its dialog is deleted once done."""
    from PySide6.QtWidgets import QProgressDialog

    from tests.ui.bigdb import build_big_index

    db = tmp_path / "big.sqlite3"
    build_big_index(db, failures=20_000, reports=20_000)
    w = make_window(db)
    page = w.pages["reports"]
    out, expected = tmp_path / "during.csv", tmp_path / "expected.csv"
    w.export_page(page, expected, "csv")
    w.export_in_background(page, out, "csv")
    page.model.sort(0, Qt.SortOrder.DescendingOrder)  # the reporter, while it runs
    page.model.sort(3, Qt.SortOrder.AscendingOrder)
    qtbot.waitUntil(lambda: not w.busy, timeout=60_000)
    assert not [m for m in getattr(w.prompts, "messages", []) if m[0] == "error"]
    assert out.read_text(encoding="utf-8") == expected.read_text(encoding="utf-8")
    QApplication.processEvents()
    QApplication.sendPostedEvents(None, 0)  # (deleteLater)
    assert w.findChildren(QProgressDialog) == []


def test_line_breaks_in_a_strangers_text_keep_the_detail_pane_in_step(qtbot: Any, make_window: Any,
                                                                      tmp_path: Path) -> None:
    """A value ending in CR before the pane's next line made one line break of two:
    every heading lost its bold and the ▶ marked the wrong line."""
    from tests.ui.conftest import make_report

    failures = [{"result-type": "validation-failure", "failed-session-count": 1, "additional-information": f"i{i}\r"}
                for i in range(5)]
    report = make_report(report_id="cr", failures=failures)
    report["contact-info"] = "x@example.com\r"
    src = tmp_path / "in"
    src.mkdir()
    (src / "cr.json").write_text(json.dumps(report))
    w = make_window(tmp_path / "i.sqlite3")
    _import(qtbot, w, [src])
    w.set_tab("failures")
    page = w.pages["failures"]
    page.view.selectRow(3)
    doc = w.detail.summary.document()
    marked = [doc.findBlockByNumber(i).text() for i in range(doc.blockCount()) if "\u25b6" in doc.findBlockByNumber(i).text()]
    assert len(marked) == 1 and marked[0].startswith("\u25b6 validation-failure"), marked
    heading = doc.find("Failure details")
    assert heading.charFormat().fontWeight() >= 600


def test_bidi_controls_in_domains_menus_and_the_reporter_field_are_shown(qtbot: Any, make_window: Any,
                                                                         tmp_path: Path) -> None:
    from tests.ui.conftest import make_report

    src = tmp_path / "in"
    src.mkdir()
    org = "Org\u202egnp.exe"
    (src / "b.json").write_text(json.dumps(make_report(org=org, report_id="bidi", domain="exa\u202emple.com")))
    w = make_window(tmp_path / "i.sqlite3")
    _import(qtbot, w, [src])
    model = w.pages["policies"].model
    cells = [model.index(0, c).data() or "" for c in range(model.columnCount())]
    assert "exa\u27e8U+202E\u27e9mple.com" in cells and not any("\u202e" in c for c in cells)
    menu = w.row_menu(w.pages["policies"], model.index(0, 0))
    texts = [a.text() for a in menu.actions()]
    assert not any("\u202e" in t for t in texts) and any("\u27e8U+202E\u27e9" in t for t in texts)
    combo = w.filter_bar.reporter_combo
    i = combo.findData(org)
    assert i > 0 and combo.itemText(i) == "Org\u27e8U+202E\u27e9gnp.exe"
    combo.setCurrentIndex(i)
    assert w.filter_bar.filter().reporter == org  # the filter is the reporter as sent


def test_select_all_in_the_reporter_field_selects_its_text(qtbot: Any, make_window: Any, corpus_db: Path) -> None:
    w = make_window(corpus_db)
    w.show()
    w.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w, timeout=2000)
    combo = w.filter_bar.reporter_combo
    combo.setEditText("Google")
    combo.setFocus()
    qtbot.waitUntil(combo.hasFocus, timeout=2000)
    w._select_all()
    assert combo.lineEdit().selectedText() == "Google" and w.pages["reports"].selected_rows() == []


def test_the_import_logs_paths_elide_their_start(qtbot: Any, make_window: Any, tmp_path: Path) -> None:
    w = _window_after_a_junk_input(qtbot, make_window, tmp_path)
    w.show_import_log()
    dlg = w.import_log_dialog
    column = next(i for i, c in enumerate(dlg.model.COLUMNS) if c.key == "path")
    from PySide6.QtWidgets import QStyleOptionViewItem

    option = QStyleOptionViewItem()
    dlg.view.itemDelegateForColumn(column).initStyleOption(option, dlg.model.index(0, column))
    assert option.textElideMode == Qt.TextElideMode.ElideLeft
    dlg.close()


def test_hidden_files_are_listed_in_the_import_log_not_counted_as_failures(qtbot: Any, make_window: Any,
                                                                          tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    (src / "junk.json").write_text("not a report")
    (src / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    w = make_window(tmp_path / "i.sqlite3")
    _import(qtbot, w, [src])
    assert "1 input not imported" in w.totals_label.text()  # the junk file only
    w.show_import_log()
    dlg = w.import_log_dialog
    assert dlg.summary.text().startswith("1 input could not be imported. 1 hidden file or folder")
    assert dlg.model.rowCount() == 2
    dlg.close()


def _counted_failures(qtbot: Any, make_window: Any, tmp_path: Path, failures: int) -> tuple[Any, Any, Any, list[int]]:
    """A window on ``failures`` synthetic failure rows, on their tab once counted: the
    window, the page, its model and the row ids in the table's order."""
    from tests.ui.bigdb import build_big_index

    db = tmp_path / "big.sqlite3"
    build_big_index(db, failures=failures, reports=300)
    w = make_window(db)
    w.set_tab("failures")
    page = w.pages["failures"]
    qtbot.waitUntil(lambda: page.model.counted, timeout=10_000)
    order = [r[0] for r in w.conn.execute(f"SELECT f.id FROM {page.model.FROM} ORDER BY {page.model._order_sql()}")]
    return w, page, page.model, order


def test_a_counted_table_spans_every_row_and_reads_the_far_ones_when_shown(
        qtbot: Any, make_window: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Scrolling a million rows loaded them all (930 MB) and took 158 fetches to reach
    the end: once counted, a table is as long as its rows, and the ones past those
    loaded in pages are read in blocks when shown. The end is a jump away, copy takes
    at most MAX_COPY_ROWS, and a reload keeps the place and the selected rows."""
    from tlsrpt_gui.ui import main_window
    from tlsrpt_gui.ui.formatting import format_int

    monkeypatch.setattr(main_window, "MAX_COPY_ROWS", 500)
    w, page, model, order = _counted_failures(qtbot, make_window, tmp_path, 3000)
    assert model.rowCount() == 3000 and model.loaded_rows == 200 and not model.canFetchMore(QModelIndex())
    assert w.rows_label.text() == f"{format_int(3000)} rows"
    page.view.scrollToBottom()
    qtbot.wait(50)
    assert model.index(2999, 0).data(ROW_ID_ROLE) == order[-1]
    assert [model.row_id(r) for r in (1500, 1501, 250, 2999, 200)] == [order[r] for r in (1500, 1501, 250, 2999, 200)]
    assert len(model._blocks) <= 5  # only what was asked for
    page.view.selectAll()
    text = w.copy_selection()
    assert len(text.splitlines()) == 500
    assert "first 500 of 3,000 selected rows".replace("3,000", format_int(3000)) in w.statusBar().currentMessage()
    # Select All stays all (as much as it takes) after a reload
    page.view.setFocus()
    w._select_all()
    assert page._selected_spans() == [(0, 1999)]
    w.refresh_tables()
    assert page._selected_spans() == [(0, 1999)]
    # a reload (an import's end, F5) counts again at once; the view stays where it was,
    # and the selected rows stay selected where they are now: 50 newer rows came first
    page.view.clearSelection()
    page.view.selectRow(10)
    page.view.scrollToBottom()
    for row in (2600, 2990):  # rows seen, then selected
        page.view.scrollTo(model.index(row, 0))
        model.index(row, 0).data()
        page.view.selectionModel().select(model.index(row, 0), QItemSelectionModel.SelectionFlag.Select
                                          | QItemSelectionModel.SelectionFlag.Rows)
    page.view.selectionModel().setCurrentIndex(model.index(2990, 0), QItemSelectionModel.SelectionFlag.NoUpdate)
    top = page.view.verticalScrollBar().value()
    assert top > 0
    w.conn.execute(
        "INSERT INTO failure_details (report_id, policy_id, result_type, failed_session_count, policy_domain, "
        "policy_type, organization_name, start_ts) SELECT report_id, policy_id, result_type, failed_session_count, "
        "policy_domain, policy_type, organization_name, start_ts + 100000000 FROM failure_details LIMIT 50")
    w.conn.commit()
    w.refresh_tables()
    # counted again at once (a quick count), where it was; the current row is found
    # where it went, the selected rows where they are
    assert model.rowCount() == 3050 and model.counted and page.view.verticalScrollBar().value() == top
    assert page.current_id() == order[2990] and page.view.currentIndex().row() == 3040
    assert set(page.selected_ids()) == {order[10], order[2600], order[2990]}
    fresh = [r[0] for r in w.conn.execute(f"SELECT f.id FROM {model.FROM} ORDER BY {model._order_sql()}")]
    assert [model.row_id(r) for r in (2999, 3000, 3049, 1234)] == [fresh[r] for r in (2999, 3000, 3049, 1234)]
    # a count too slow for the reload: as long as before, until counted in the background
    monkeypatch.setattr(main_window, "RECOUNT_BUDGET_S", -1.0)
    w.conn.execute(
        "INSERT INTO failure_details (report_id, policy_id, result_type, failed_session_count, policy_domain, "
        "policy_type, organization_name, start_ts) SELECT report_id, policy_id, result_type, failed_session_count, "
        "policy_domain, policy_type, organization_name, start_ts - 100000000 FROM failure_details LIMIT 20")
    w.conn.commit()  # (older rows: they come last)
    w.refresh_tables()
    assert model.rowCount() == 3050 and not model.counted and w.rows_label.text() == f"about {format_int(3050)} rows"
    assert page.view.currentIndex().row() == 3040 and page.current_id() == order[2990]
    qtbot.waitUntil(lambda: model.counted, timeout=10_000)
    fresh = [r[0] for r in w.conn.execute(f"SELECT f.id FROM {model.FROM} ORDER BY {model._order_sql()}")]
    assert model.rowCount() == 3070 and w.rows_label.text() == f"{format_int(3070)} rows"
    assert [model.row_id(r) for r in (3040, 3049, 3050, 3069, 2000)] == [fresh[r] for r in (3040, 3049, 3050, 3069, 2000)]
    w.apply_filter(Filter(policy_domain="dom1.example"))  # fewer than a page: all loaded, and so counted
    n = w.conn.execute("SELECT COUNT(*) FROM failure_details WHERE policy_domain = 'dom1.example'").fetchone()[0]
    assert model.counted and model.rowCount() == n < 200 and w.rows_label.text() == f"{format_int(n)} rows"


def test_a_far_jump_fills_in_from_the_background(qtbot: Any, make_window: Any, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A jump far from every row in memory shows its rows as "…" at once and fills them
    in when read; a drag that asks for many far blocks reads the last ones it stopped at."""
    from tlsrpt_gui.ui import models

    monkeypatch.setattr(models, "FAR_ROWS", 300)
    monkeypatch.setattr(models, "SIGNPOST_ROWS", 10**9)  # (none: every far jump is read in the background)
    w, page, model, order = _counted_failures(qtbot, make_window, tmp_path, 6000)
    for fraction in (0.2, 0.35, 0.5, 0.65):  # a drag: each place far from the last, its rows painted
        top = int(6000 * fraction)
        page.view.scrollTo(model.index(top, 0), QAbstractItemView.ScrollHint.PositionAtTop)
        shown = [model.index(r, 0).data() for r in range(top, top + 30)]
    assert shown == ["…"] * 30 and model.is_pending(top)
    assert len(w._far_waiting) == 2 and w._far_busy  # the first read, and the two latest
    qtbot.waitUntil(lambda: not model._pending and not w._far_busy, timeout=10_000)  # read, or dropped
    assert [model.index(r, 0).data(ROW_ID_ROLE) for r in range(top, top + 20)] == order[top:top + 20]
    dropped = int(6000 * 0.35)
    assert model.index(dropped, 0).data() == "…"  # shown again: asked for again
    qtbot.waitUntil(lambda: not model._pending and not w._far_busy, timeout=10_000)
    assert model.index(dropped, 0).data(ROW_ID_ROLE) == order[dropped]



def test_a_counted_table_reads_its_signposts_and_then_reads_any_far_jump_at_once(
        qtbot: Any, make_window: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """After a far jump into a common filter's rows, in a sort order that spreads them,
    the rows came up to 1.8 s later at a million rows. Once counted, the window reads
    the keys of every SIGNPOST_ROWS-th row in the background: a jump anywhere then
    walks at most half as many rows from one, and is read at once. A new sort order
    reads them again; a read that the view outlived is dropped."""
    from tlsrpt_gui.ui import models

    monkeypatch.setattr(models, "FAR_ROWS", 300)
    monkeypatch.setattr(models, "SIGNPOST_ROWS", 100)
    w, page, model, order = _counted_failures(qtbot, make_window, tmp_path, 6000)
    qtbot.waitUntil(lambda: model.has_signposts and not w._signposts_read, timeout=10_000)
    assert len(model._signposts) == 60
    for top in (3000, 4321, 1234, 5900):
        page.view.scrollTo(model.index(top, 0), QAbstractItemView.ScrollHint.PositionAtTop)
        assert [model.index(r, 0).data(ROW_ID_ROLE) for r in range(top, top + 30)] == order[top:top + 30]
    assert not model._pending and not w._far_busy
    page.view.sortByColumn(2, Qt.SortOrder.DescendingOrder)
    assert not model.has_signposts
    qtbot.waitUntil(lambda: model.counted and model.has_signposts, timeout=10_000)
    fresh = [r[0] for r in w.conn.execute(f"SELECT f.id FROM {model.FROM} ORDER BY {model._order_sql()}")]
    assert [model.index(r, 0).data(ROW_ID_ROLE) for r in range(4500, 4530)] == fresh[4500:4530]
    # a read outlived by the view (another filter meanwhile) gives nothing
    model.sort(3, Qt.SortOrder.AscendingOrder)
    assert model.set_total(6000)
    stale = model.signpost_reader()
    assert stale is not None and not stale.stale()
    rows = stale.read(w.conn)
    model.sort(4, Qt.SortOrder.AscendingOrder)
    assert stale.stale() and not stale.give(rows) and not model.has_signposts


def test_signposts_are_read_for_the_table_in_view_only(qtbot: Any, make_window: Any, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A signpost read walks all of a view's rows (seconds at a million): it runs on a
    thread of its own, one at a time, and stops when its table is no longer in view (it
    held up the counts and far reads of the next view); the table reads them again
    when shown."""
    import threading

    from tlsrpt_gui.ui import models

    monkeypatch.setattr(models, "SIGNPOST_ROWS", 100)
    gate, started = threading.Event(), threading.Event()
    real = models._Query.signposts

    def held(self: Any, conn: sqlite3.Connection) -> Any:
        started.set()
        gate.wait(10)
        return real(self, conn)

    monkeypatch.setattr(models._Query, "signposts", held)
    w, page, model, _ = _counted_failures(qtbot, make_window, tmp_path, 6000)
    assert started.wait(10) and w._signposts_read is not None and w._signposts_read[0] is page
    w.set_tab("policies")
    assert w._signposts_read is None
    policies = w.pages["policies"].model
    qtbot.waitUntil(lambda: policies.counted, timeout=10_000)  # (not held up by the read)
    gate.set()
    qtbot.waitUntil(lambda: not w.busy, timeout=10_000)
    assert not model.has_signposts  # stopped: the view it was for is gone
    w.set_tab("failures")
    qtbot.waitUntil(lambda: model.has_signposts, timeout=10_000)


def test_a_far_read_that_fails_is_asked_for_again(qtbot: Any, make_window: Any, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A far read that failed once (the database busy) left its rows showing "…" until
    the next reload: they are asked for again, a second later, while shown."""
    from tlsrpt_gui.ui import main_window, models

    monkeypatch.setattr(models, "FAR_ROWS", 300)
    monkeypatch.setattr(models, "SIGNPOST_ROWS", 10**9)  # (none: every far jump is read in the background)
    w, page, model, order = _counted_failures(qtbot, make_window, tmp_path, 3000)
    real, failures = main_window._read_only, []

    def busy_once(path: Any) -> Any:
        if not failures:
            failures.append(path)
            raise sqlite3.OperationalError("database is locked")
        return real(path)

    monkeypatch.setattr(main_window, "_read_only", busy_once)
    page.view.scrollTo(model.index(1500, 0), QAbstractItemView.ScrollHint.PositionAtTop)
    assert model.index(1500, 0).data() == "…"
    qtbot.waitUntil(lambda: bool(failures) and not w._far_busy, timeout=10_000)
    qtbot.waitUntil(lambda: model.index(1500, 0).data() != "…" and not model._pending, timeout=10_000)
    assert model.index(1500, 0).data(ROW_ID_ROLE) == order[1500]


def test_select_all_takes_at_most_its_cap_and_the_detail_pane_follows_the_rows(
        qtbot: Any, make_window: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Qt selects cell by cell: Select All on 900,000 rows took 70 s. It selects the first
    MAX_SELECT_ALL_ROWS and says so. The detail pane shows a row read in the background
    when it comes (it kept the last report), and nothing after a new sort order."""
    from tlsrpt_gui.ui import main_window, models
    from tlsrpt_gui.ui.formatting import format_int

    monkeypatch.setattr(main_window, "MAX_SELECT_ALL_ROWS", 1000)
    monkeypatch.setattr(models, "FAR_ROWS", 300)
    monkeypatch.setattr(models, "SIGNPOST_ROWS", 10**9)  # (none: every far jump is read in the background)
    w, page, model, _ = _counted_failures(qtbot, make_window, tmp_path, 3000)
    page.view.setFocus()
    w._select_all()
    assert page.selected_count() == 1000 and page._selected_spans() == [(0, 999)]
    assert f"first {format_int(1000)} of {format_int(3000)} rows" in w.statusBar().currentMessage()
    page.view.selectRow(5)
    first_report = w.detail.report_id
    assert first_report == model.report_id(5)
    model.set_far_reader(lambda job, done: w._read_far(job, done))  # (the window's own reader)
    page.view.selectRow(1700)  # a row read in the background
    assert model.is_pending(1700) and w.detail.report_id is None
    qtbot.waitUntil(lambda: w.detail.report_id == model.report_id(1700), timeout=10_000)
    page.view.sortByColumn(3, Qt.SortOrder.AscendingOrder)
    qtbot.waitUntil(lambda: w.detail.report_id is None, timeout=10_000)
    assert not page.view.currentIndex().isValid()
