"""Fixtures for the GUI tests: a corpus index, temp settings, a window with fake prompts."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QCoreApplication, QSettings
from PySide6.QtWidgets import QWidget

from tlsrpt_gui.core.index import Index

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO.parent / "shared" / "corpus"
CORPUS_DIRS = ("reports", "malformed", "gz", "eml")

HOSTILE_ORG = "<img src=x><b>bold</b>"
HOSTILE_CODE = '=HYPERLINK("http://x","y")'


@pytest.fixture(scope="session", autouse=True)
def _isolated_settings(tmp_path_factory: pytest.TempPathFactory) -> None:
    """No test ever reads or writes the user's settings."""
    where = str(tmp_path_factory.mktemp("qsettings"))
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, where)
        QSettings.setPath(fmt, QSettings.Scope.SystemScope, where)
    QCoreApplication.setOrganizationName("tlsrpt-gui-tests")
    QCoreApplication.setApplicationName("tlsrpt-gui-tests")


@pytest.fixture(autouse=True)
def _no_key_held_after_a_test() -> Iterator[None]:
    """A test's key press with Shift (Shift+Tab, Shift+F10) leaves Qt believing Shift is
    held, and a later test's selectRow() then extends a selection instead of making one:
    a key release without modifiers after each test tells it none is."""
    yield
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    if not isinstance(QCoreApplication.instance(), QApplication):
        return  # (no widgets in this test)
    widget = QWidget()
    QTest.keyRelease(widget, Qt.Key.Key_Shift)
    widget.deleteLater()


@pytest.fixture(scope="session")
def corpus() -> Path:
    assert CORPUS.is_dir(), f"the shared corpus is missing at {CORPUS}"
    return CORPUS


@pytest.fixture(scope="session")
def corpus_db_master(tmp_path_factory: pytest.TempPathFactory, corpus: Path) -> Path:
    db = tmp_path_factory.mktemp("corpus") / "index.sqlite3"
    with Index(db) as idx:
        result = idx.import_paths([corpus / d for d in CORPUS_DIRS], workers=1)
    assert result.imported > 20
    return db


def copy_db(src: Path, dst: Path) -> Path:
    with sqlite3.connect(src) as a, sqlite3.connect(dst) as b:
        a.backup(b)
    a.close()
    b.close()
    return dst


@pytest.fixture
def corpus_db(corpus_db_master: Path, tmp_path: Path) -> Path:
    """A private copy of the corpus index (tests may import into it)."""
    return copy_db(corpus_db_master, tmp_path / "index.sqlite3")


def make_report(
    org: str = "Example Reporter",
    report_id: str = "r-1",
    domain: str = "example.com",
    start: str = "2024-03-01T00:00:00Z",
    end: str = "2024-03-01T23:59:59Z",
    failures: list[dict[str, Any]] | None = None,
    ok: int = 10,
) -> dict[str, Any]:
    failures = failures or []
    return {
        "organization-name": org,
        "date-range": {"start-datetime": start, "end-datetime": end},
        "contact-info": "tlsrpt@reporter.example",
        "report-id": report_id,
        "policies": [
            {
                "policy": {
                    "policy-type": "sts",
                    "policy-string": [
                        "version: STSv1",
                        "mode: enforce",
                        "mx: *.example.com",
                        "max_age: 86400",
                    ],
                    "policy-domain": domain,
                    "mx-host": ["*.example.com"],
                },
                "summary": {
                    "total-successful-session-count": ok,
                    "total-failure-session-count": sum(f["failed-session-count"] for f in failures),
                },
                "failure-details": failures,
            }
        ],
    }


def write_reports(folder: Path, n: int, prefix: str = "gen") -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        day = 1 + i % 28
        rep = make_report(
            org=f"{prefix} reporter {i % 7}",
            report_id=f"{prefix}-{i}",
            domain=f"d{i % 5}.example",
            start=f"2024-02-{day:02d}T00:00:00Z",
            end=f"2024-02-{day:02d}T23:59:59Z",
            failures=[
                {
                    "result-type": "certificate-expired",
                    "sending-mta-ip": f"192.0.2.{i % 250}",
                    "receiving-mx-hostname": "mx.example.com",
                    "failed-session-count": 1 + i % 4,
                }
            ]
            if i % 3 == 0
            else [],
        )
        p = folder / f"{prefix}-{i:04d}.json"
        p.write_text(json.dumps(rep), encoding="utf-8")
        out.append(p)
    return out


@pytest.fixture
def hostile_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "hostile"
    folder.mkdir()
    rep = make_report(
        org=HOSTILE_ORG,
        report_id="hostile-1",
        domain="xn--gpher-jua.test",
        failures=[
            {
                "result-type": "validation-failure",
                "sending-mta-ip": "192.0.2.7",
                "receiving-mx-hostname": "mx.example.com",
                "failed-session-count": 3,
                "failure-reason-code": HOSTILE_CODE,
                "additional-information": "<a href='http://evil'>click</a>",
            }
        ],
    )
    (folder / "hostile.json").write_text(json.dumps(rep), encoding="utf-8")
    return folder


class FakePrompts:
    """Canned answers instead of modal dialogs; remembers what was asked."""

    def __init__(self) -> None:
        self.files: list[str] = []
        self.folder = ""
        self.save: tuple[str, str] = ("", "")
        self.messages: list[tuple[str, str, str]] = []
        self.answer = False  # what question() answers

    def open_files(self, parent: QWidget | None, directory: str) -> list[str]:
        return list(self.files)

    def open_folder(self, parent: QWidget | None, directory: str) -> str:
        return self.folder

    def save_file(self, parent: QWidget | None, directory: str, filters: str) -> tuple[str, str]:
        return self.save

    def information(self, parent: QWidget | None, title: str, text: str) -> None:
        self.messages.append(("info", title, text))

    def error(self, parent: QWidget | None, title: str, text: str) -> None:
        self.messages.append(("error", title, text))

    def question(self, parent: QWidget | None, title: str, text: str, yes: str) -> bool:
        self.messages.append(("question", title, text))
        return self.answer


@pytest.fixture
def prompts() -> FakePrompts:
    return FakePrompts()


@pytest.fixture
def settings_file(tmp_path: Path) -> Path:
    return tmp_path / "settings.ini"


@pytest.fixture
def make_window(
    qtbot: Any, prompts: FakePrompts, settings_file: Path
) -> Iterator[Callable[..., Any]]:
    from tlsrpt_gui.ui.main_window import MainWindow

    windows: list[MainWindow] = []

    def make(db: Path, **kw: Any) -> MainWindow:
        settings = QSettings(
            str(kw.pop("settings_path", settings_file)), QSettings.Format.IniFormat
        )
        w = MainWindow(db, settings=settings, prompts=kw.pop("prompts", prompts))
        qtbot.addWidget(w)
        windows.append(w)
        return w

    yield make
    for w in windows:
        w.shutdown()


def fetch_all(model: Any) -> None:
    from PySide6.QtCore import QModelIndex

    while model.canFetchMore(QModelIndex()):
        model.fetchMore(QModelIndex())


def copy_corpus_subset(corpus: Path, dst: Path, names: list[str]) -> Path:
    dst.mkdir(parents=True, exist_ok=True)
    for n in names:
        shutil.copy(corpus / "reports" / n, dst / n)
    return dst
