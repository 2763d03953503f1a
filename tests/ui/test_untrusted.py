"""Report text from strangers: links stay inert until asked, formulas stay text, a
damaged index is offered for rebuilding and never deleted."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QUrl, Slot
from PySide6.QtGui import QDesktopServices, QGuiApplication

from tests.ui.conftest import HOSTILE_CODE, fetch_all, make_report
from tlsrpt_gui.core.index import Index

TIMEOUT = 20_000


class _Browser(QObject):
    """Stands in for the web browser: records what it was asked to open."""

    def __init__(self) -> None:
        super().__init__()
        self.opened: list[str] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.opened.append(url.toString())


def test_report_links_open_only_after_showing_them_in_full(make_window: Any, prompts: Any, tmp_path: Path) -> None:
    w = make_window(tmp_path / "i.sqlite3")
    browser = _Browser()
    QDesktopServices.setUrlHandler("https", browser, "open")
    try:
        link = "https://reports.example/report_info?id=5065427c-23d3#StarttlsNotSupported"
        prompts.answer = False
        assert w.open_report_link(link) is False
        assert browser.opened == []
        kind, _title, text = prompts.messages[-1]
        assert kind == "question" and link in text  # the whole address is shown before anything opens
        prompts.answer = True
        assert w.open_report_link(link) is True
        assert browser.opened == [link]
        # a non-web scheme is never handed to the desktop
        assert w.open_report_link("javascript:alert(1)") is False
        assert w.open_report_link("file:///etc/passwd") is False
        assert browser.opened == [link] and prompts.messages[-1][0] == "error"
    finally:
        QDesktopServices.unsetUrlHandler("https")


def _import(qtbot: Any, w: Any, folder: Path) -> None:
    with qtbot.waitSignal(w.import_finished, timeout=TIMEOUT):
        w.import_paths([str(folder)])


def test_clipboard_and_json_export_neutralise_formulas(qtbot: Any, make_window: Any, hostile_folder: Path, tmp_path: Path) -> None:
    w = make_window(tmp_path / "i.sqlite3")
    _import(qtbot, w, hostile_folder)
    w.set_tab("failures")
    page = w.pages["failures"]
    fetch_all(page.model)
    page.view.selectRow(0)
    text = w.copy_selection()
    assert "'" + HOSTILE_CODE in text and "\t" + HOSTILE_CODE not in text
    assert QGuiApplication.clipboard().text() == text
    out = tmp_path / "f.json"
    w.export_page(page, out, "json")
    rows = json.loads(out.read_text(encoding="utf-8"))
    assert rows[0]["failure_reason_code"] == "'" + HOSTILE_CODE


def _damage_an_index(db: Path, index: str = "reports_start") -> None:
    """Overwrite one B-tree page of an index, as a failing disk would: the tables
    stay readable (so there is something to rebuild from), the check fails."""
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (index,)).fetchone()[0]
    data = bytearray(db.read_bytes())
    start = (root - 1) * page_size
    data[start : start + page_size] = b"\xde\xad\xbe\xef" * (page_size // 4)
    db.write_bytes(bytes(data))


def _thirty_reports(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    for i in range(30):
        (src / f"r{i}.json").write_text(json.dumps(make_report(report_id=f"dmg-{i}")), encoding="utf-8")
    db = tmp_path / "d.sqlite3"
    with Index(db) as ix:
        assert ix.import_paths([src]).imported == 30
    return db


def test_a_damaged_index_at_start_is_rebuilt_never_deleted(qtbot: Any, prompts: Any, settings_file: Path,
                                                           tmp_path: Path) -> None:
    from PySide6.QtCore import QSettings

    from tlsrpt_gui.ui.application import open_window

    db = _thirty_reports(tmp_path)
    _damage_an_index(db)  # the Reports table's first query fails on it
    settings = QSettings(str(settings_file), QSettings.Format.IniFormat)
    prompts.answer = True
    w = open_window(db, settings, prompts)
    assert w is not None
    qtbot.addWidget(w)
    try:
        assert [m[0] for m in prompts.messages] == ["question", "info"]
        assert "damaged" in prompts.messages[0][2]
        assert list(tmp_path.glob("d.sqlite3.damaged-*")), "the damaged file is kept"
        assert w.index.totals().reports == 30
        assert w.index.integrity_ok()[0]
    finally:
        w.shutdown()


def test_check_index_menu_finds_damage_and_plans_a_rebuild(qtbot: Any, make_window: Any, prompts: Any,
                                                           settings_file: Path, tmp_path: Path) -> None:
    from PySide6.QtCore import QSettings

    from tlsrpt_gui.ui.application import REBUILD_KEY, open_window

    db = _thirty_reports(tmp_path)
    _damage_an_index(db, "diagnostics_code")  # nothing reads it at start: only a check finds it
    w = make_window(db)
    assert not prompts.messages
    prompts.answer = True
    w.check_index_action.trigger()
    qtbot.waitUntil(lambda: any(m[0] == "question" for m in prompts.messages), timeout=TIMEOUT)
    assert "damaged" in prompts.messages[0][2]
    w.shutdown()
    settings = QSettings(str(settings_file), QSettings.Format.IniFormat)
    assert settings.value(REBUILD_KEY) == str(db)
    prompts.messages.clear()
    w2 = open_window(db, settings, prompts)
    assert w2 is not None
    qtbot.addWidget(w2)
    try:
        assert [m[0] for m in prompts.messages] == ["question", "info"]
        assert w2.index.totals().reports == 30 and w2.index.integrity_ok()[0]
        assert settings.value(REBUILD_KEY) is None
    finally:
        w2.shutdown()


def test_check_index_menu_counts_chart_summaries_out_of_step_again(qtbot: Any, make_window: Any, prompts: Any,
                                                                     tmp_path: Path) -> None:
    from tlsrpt_gui.core import rollups

    db = _thirty_reports(tmp_path)
    w = make_window(db)
    try:
        with sqlite3.connect(db) as conn:  # what a fault in the summaries' upkeep would leave
            conn.execute("UPDATE roll_org_day SET failed = failed + 7")
        conn.close()
        prompts.answer = True
        w.check_index_action.trigger()
        qtbot.waitUntil(lambda: any(m[0] == "info" for m in prompts.messages), timeout=TIMEOUT)
        (kind, title, text), (kind2, title2, _) = prompts.messages
        assert (kind, title) == ("question", "Chart summaries out of step") and "(sessions per day and reporter)" in text
        assert (kind2, title2) == ("info", "Summaries counted")
        with sqlite3.connect(db) as conn:
            assert rollups.consistent(conn)
        conn.close()
        prompts.messages.clear()
        w.check_index_action.trigger()
        qtbot.waitUntil(lambda: bool(prompts.messages), timeout=TIMEOUT)
        assert prompts.messages[0][:2] == ("info", "Index checked") and "sound" in prompts.messages[0][2]
    finally:
        w.shutdown()


def test_declining_the_rebuild_touches_nothing(make_window: Any, prompts: Any, settings_file: Path, tmp_path: Path) -> None:
    from PySide6.QtCore import QSettings

    from tlsrpt_gui.ui.application import REBUILD_KEY, open_window

    db = tmp_path / "d.sqlite3"
    with Index(db) as ix:
        ix.import_paths([])
    db.write_bytes(b"this is not a database at all, just garbage " * 200)
    settings = QSettings(str(settings_file), QSettings.Format.IniFormat)
    settings.setValue(REBUILD_KEY, str(db))
    prompts.answer = False
    before = db.read_bytes()
    assert open_window(db, settings, prompts) is None
    assert db.read_bytes() == before and not list(tmp_path.glob("d.sqlite3.damaged-*"))


def test_an_older_index_is_upgraded_at_start_with_a_note(qtbot: Any, prompts: Any, settings_file: Path,
                                                         tmp_path: Path, monkeypatch: Any) -> None:
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QProgressDialog

    import tlsrpt_gui.core.index as index_mod
    from tlsrpt_gui.core import rollups
    from tlsrpt_gui.core.maintenance import pending_upgrade
    from tlsrpt_gui.ui.application import open_window

    with monkeypatch.context() as m:
        m.setattr(index_mod, "SCHEMA_VERSION", 2)
        db = _thirty_reports(tmp_path)  # an index written at schema 2
    assert pending_upgrade(db) == 2
    assert pending_upgrade(tmp_path / "none.sqlite3") is None
    shown: list[str] = []
    real_show = QProgressDialog.show

    def show(self: QProgressDialog) -> None:
        shown.append(self.labelText())
        real_show(self)

    monkeypatch.setattr(QProgressDialog, "show", show)
    settings = QSettings(str(settings_file), QSettings.Format.IniFormat)
    w = open_window(db, settings, prompts)
    assert w is not None
    qtbot.addWidget(w)
    assert shown and "Upgrading the index" in shown[0]
    assert pending_upgrade(db) is None
    with sqlite3.connect(db) as conn:
        assert rollups.consistent(conn)
    assert not prompts.messages
