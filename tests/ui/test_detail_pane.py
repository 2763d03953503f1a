"""The detail pane with a stranger's report: quick and bounded at the index's caps, a
title that never widens the pane, bidi controls shown rather than obeyed, and a period
read as the table reads it."""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QLocale, Qt
from PySide6.QtGui import QTextBlock, QTextCharFormat
from PySide6.QtWidgets import QApplication, QSplitter, QWidget

from tests.ui.conftest import copy_db, make_report
from tlsrpt_gui.core.index import Index
from tlsrpt_gui.core.query import Filter
from tlsrpt_gui.ui.detail import (
    MARK,
    MAX_DIAGNOSTICS_SHOWN,
    MAX_FAILURES_SHOWN,
    MAX_POLICIES_SHOWN,
    DetailPane,
    raw_json_text,
)
from tlsrpt_gui.ui.formatting import TimeMode, format_int, format_period
from tlsrpt_gui.ui.models import ROW_ID_ROLE

#: failure details of the big report: enough that rendering them all took half a minute
MANY = 20_000
POLICIES = 300
BIDI_ORG = "Org\u202egnp.exe\u202c"
LONG_ORG = "VeryLongOrganizationName" * 40
LONG_ID = "R" * 3000
BIDI_RE = re.compile("[\u202a-\u202e\u2066-\u2069]")


def _failure(i: int, **extra: Any) -> dict[str, Any]:
    return {"result-type": "validation-failure", "sending-mta-ip": f"198.51.100.{i % 250}",
            "receiving-mx-hostname": f"mx{i}.example.com", "failed-session-count": 1, **extra}


def _bidi_report() -> dict[str, Any]:
    doc = make_report(org=BIDI_ORG, report_id="id\u2066x\u2069", failures=[_failure(
        0, **{"result-type": "weird\u202etype", "receiving-mx-hostname": "mx\u202e.example",
              "receiving-mx-helo": "helo\u202d", "failure-reason-code": "code\u202a",
              "additional-information": "x\u2066y"})])
    doc["contact-info"] = "c\u202b@reporter.example"
    pol = doc["policies"][0]["policy"]
    pol["policy-string"].append("mx: \u2067mx.example")
    pol["mx-host"] = ["\u202emx.example"]
    return doc


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One index with the hostile reports (read only: tests that write copy it)."""
    src = tmp_path_factory.mktemp("reports")
    docs: dict[str, dict[str, Any]] = {
        # every detail lacks its reason code: a note each, up to the cap of diagnostics
        "many.json": make_report(org="Many Org", report_id="many", failures=[_failure(i) for i in range(MANY)]),
        "b\u202eidi.json": _bidi_report(),
        "midnight.json": make_report(org="Midnight", report_id="midnight", start="2026-02-08T00:00:00Z",
                                     end="2026-02-09T00:00:00Z"),
        "long.json": make_report(org=LONG_ORG, report_id=LONG_ID),
        "tricky.json": make_report(org="Emoji 😀 Org", report_id="tricky", failures=[
            _failure(i, **{"additional-information": f"a\r\nb\u2029c😀{i}", "failure-reason-code": "x\ry😀"})
            for i in range(60)]),
    }
    many_policies = make_report(org="Policy Org", report_id="policies")
    pol = many_policies["policies"][0]
    many_policies["policies"] = [
        {**pol, "policy": {**pol["policy"], "policy-domain": f"d{i}.example"}} for i in range(POLICIES)
    ]
    docs["policies.json"] = many_policies
    for name, doc in docs.items():
        (src / name).write_text(json.dumps(doc), encoding="utf-8")
    path = tmp_path_factory.mktemp("index") / "index.sqlite3"
    with Index(path) as idx:
        result = idx.import_paths([src], workers=1)
    assert result.imported == len(docs)
    return path


@pytest.fixture
def conn(db: Path) -> Iterator[sqlite3.Connection]:
    c = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    yield c
    c.close()


@pytest.fixture(autouse=True)
def c_locale() -> Iterator[None]:
    """Dates as ISO 8601 (the C locale), whatever the machine's locale."""
    before = QLocale()
    QLocale.setDefault(QLocale.c())
    yield
    QLocale.setDefault(before)


@pytest.fixture
def pane(qtbot: Any) -> DetailPane:
    mode = TimeMode(utc=True)
    p = DetailPane(mode)
    mode.setParent(p)
    qtbot.addWidget(p)
    p.resize(350, 700)
    p.show()
    qtbot.waitExposed(p)
    return p


def _rid(conn: sqlite3.Connection, report_id: str) -> int:
    return int(conn.execute("SELECT id FROM reports WHERE report_id = ?", (report_id,)).fetchone()[0])


def _failure_ids(conn: sqlite3.Connection, rid: int) -> list[int]:
    return [r[0] for r in conn.execute("SELECT id FROM failure_details WHERE report_id = ? ORDER BY id", (rid,))]


def _show(pane: DetailPane, *args: Any) -> float:
    """Seconds to show a report, the events it posts included."""
    t = time.perf_counter()
    pane.show_report(*args)
    QApplication.processEvents()
    return time.perf_counter() - t


def _marked_mx(text: str) -> list[str]:
    """The receiving MX of each failure marked ▶."""
    lines = text.splitlines()
    return [next(x for x in lines[i:] if x.startswith("Receiving MX: ")) for i, line in enumerate(lines)
            if line.startswith(MARK)]


def test_a_report_at_scale_shows_a_bounded_part_at_once(pane: DetailPane, conn: sqlite3.Connection) -> None:
    """20,000 failure details froze the window for half a minute: the pane shows a few
    hundred, says how many more there are and where to see them all."""
    rid = _rid(conn, "many")
    assert _show(pane, conn, rid) < 2.0
    text = pane.summary_text()
    assert f"Failure details ({format_int(MANY)})" in text
    shown = [line for line in text.splitlines() if line.lstrip(MARK).startswith("validation-failure — ")]
    assert len(shown) == MAX_FAILURES_SHOWN
    assert (f"Showing {format_int(MAX_FAILURES_SHOWN)} of {format_int(MANY)} failure details" in text
            and f"The other {format_int(MANY - MAX_FAILURES_SHOWN)} are not shown here" in text)
    assert "see them all on the Failure details tab, filtered by reporter “Many Org”" in text
    # the diagnostics (a note per detail, to the cap) are bounded too, the rest counted
    notes = [line for line in text.splitlines() if line.startswith("Info: ")]
    assert 0 < len(notes) <= MAX_DIAGNOSTICS_SHOWN
    assert "more diagnostics are not shown: " in text and "[failure-reason-code-missing]" in text


def test_the_chosen_failure_is_shown_wherever_it_is(pane: DetailPane, conn: sqlite3.Connection) -> None:
    rid = _rid(conn, "many")
    ids = _failure_ids(conn, rid)
    for n in (MANY - 1, MANY // 2, 0):
        assert _show(pane, conn, rid, None, ids[n]) < 2.0
        text = pane.summary_text()
        assert _marked_mx(text) == [f"Receiving MX: mx{n}.example.com"]
        assert "around the one chosen (▶)" in text
        assert ("more failure details before these" in text) == (n > MAX_FAILURES_SHOWN)


def test_moving_between_failure_rows_moves_only_the_mark(pane: DetailPane, conn: sqlite3.Connection) -> None:
    """Each Down arrow between two failure rows of a report rebuilt the whole pane (33 s
    a key press): now only the ▶ moves, unless the row is beyond those shown."""
    rid = _rid(conn, "many")
    ids = _failure_ids(conn, rid)
    pane.show_report(conn, rid, None, ids[5000])
    changes: list[tuple[int, int, int]] = []
    pane.summary.document().contentsChange.connect(lambda pos, removed, added: changes.append((pos, removed, added)))
    for n in (5001, 5002, 4990):
        assert _show(pane, conn, rid, None, ids[n]) < 2.0
        assert _marked_mx(pane.summary_text()) == [f"Receiving MX: mx{n}.example.com"]
    # one change per move, the text as long as before: no clearing, no rebuilding
    assert len(changes) == 3 and all(removed == added < 5000 for _pos, removed, added in changes), changes
    # a row far from those shown: shown anew, around it
    assert _show(pane, conn, rid, None, ids[15000]) < 2.0
    assert _marked_mx(pane.summary_text()) == ["Receiving MX: mx15000.example.com"]


def test_the_down_arrow_on_the_failure_details_tab(
    qtbot: Any, make_window: Any, db: Path, tmp_path: Path
) -> None:
    w = make_window(copy_db(db, tmp_path / "i.sqlite3"))
    w.show()
    qtbot.waitExposed(w)
    w.set_tab("failures")
    w.apply_filter(Filter(reporter="Many Org"))
    page = w.pages["failures"]
    page.view.setFocus()
    page.view.selectRow(0)
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        for _ in range(3):
            t = time.perf_counter()
            qtbot.keyClick(page.view, Qt.Key.Key_Down)
            QApplication.processEvents()
            assert time.perf_counter() - t < 2.0
            fid = page.view.currentIndex().data(ROW_ID_ROLE)
            mx = conn.execute("SELECT receiving_mx_hostname FROM failure_details WHERE id = ?", (fid,)).fetchone()[0]
            assert _marked_mx(w.detail.summary_text()) == [f"Receiving MX: {mx}"]
    finally:
        conn.close()


def test_many_policies_are_bounded_around_the_chosen_one(pane: DetailPane, conn: sqlite3.Connection) -> None:
    rid = _rid(conn, "policies")
    chosen = conn.execute("SELECT id FROM policies WHERE report_id = ? AND idx = ?", (rid, POLICIES - 10)).fetchone()[0]
    pane.show_report(conn, rid, chosen)
    text = pane.summary_text()
    heads = [line for line in text.splitlines() if line.lstrip(MARK).startswith("sts policy for ")]
    assert len(heads) == MAX_POLICIES_SHOWN
    assert f"{MARK}sts policy for d{POLICIES - 10}.example" in heads
    assert f"Showing {format_int(MAX_POLICIES_SHOWN)} of {format_int(POLICIES)} policies" in text
    assert "see them all on the Policies tab, filtered by reporter “Policy Org”" in text


def test_a_big_report_fills_the_raw_view_when_it_is_shown(
    qtbot: Any, pane: DetailPane, conn: sqlite3.Connection
) -> None:
    """Qt took seconds to take in a big report's JSON, shown or not: it goes in when the
    Raw JSON view is shown, a slice at a time, and all of it."""
    rid = _rid(conn, "many")
    expected = raw_json_text(conn, rid)
    assert len(expected) > 1_000_000
    pane.show_report(conn, rid)
    assert pane.raw.document().isEmpty()
    pane.tabs.setCurrentWidget(pane.raw)
    doc = pane.raw.document()
    qtbot.waitUntil(lambda: doc.characterCount() - 1 >= len(expected), timeout=60_000)
    assert pane.raw.toPlainText() == expected
    assert json.loads(expected)["report-id"] == "many"


def _fragments(block: QTextBlock) -> list[tuple[str, QTextCharFormat]]:
    out = []
    it = block.begin()
    while not it.atEnd():
        frag = it.fragment()
        out.append((frag.text(), frag.charFormat()))
        it += 1
    return out


def test_the_summary_is_written_in_one_go_with_its_formats(pane: DetailPane, conn: sqlite3.Connection) -> None:
    """One insertion into the document, not one per piece; its formats land where they
    belong even after characters Qt counts twice (😀) or reads as line ends."""
    rid = _rid(conn, "tricky")
    doc = pane.summary.document()
    changes: list[int] = []
    doc.contentsChange.connect(lambda *_a: changes.append(1))
    pane.show_report(conn, rid, None, _failure_ids(conn, rid)[-1])
    assert len(changes) <= 3
    label_brush = pane.summary.palette().placeholderText()
    checked = 0
    block = doc.begin()
    while block.isValid():
        text, frags = block.text(), _fragments(block)
        if text.startswith(MARK) or text.startswith("validation-failure — "):
            assert all(f.fontWeight() == 700 for _t, f in frags), text
            checked += 1
        for label in ("Organization: ", "Additional info: ", "Reason code: "):
            if text.startswith(label):
                assert frags[0][0] == label and frags[0][1].foreground() == label_brush, text
                assert all(f.foreground() != label_brush and f.fontWeight() != 700 for _t, f in frags[1:]), text
                checked += 1
        block = block.next()
    assert checked >= 60 * 3 + 1
    assert "Organization: Emoji 😀 Org" in pane.summary_text()


def test_a_long_unbreakable_title_neither_widens_the_pane_nor_runs_off(
    qtbot: Any, conn: sqlite3.Connection
) -> None:
    """A 1,000-character organization name widened the pane from 350 to 640 px (the
    table shrank) and was cut without an ellipsis."""
    mode = TimeMode(utc=True)
    splitter = QSplitter()
    mode.setParent(splitter)
    qtbot.addWidget(splitter)
    table = QWidget(splitter)
    table.setMinimumWidth(100)
    pane = DetailPane(mode, splitter)
    splitter.resize(1280, 700)
    splitter.setSizes([930, 350])
    splitter.show()
    qtbot.waitExposed(splitter)
    before = pane.width()
    pane.show_report(conn, _rid(conn, LONG_ID))
    qtbot.wait(50)
    assert pane.width() == before and pane.minimumSizeHint().width() < 400
    title = pane.title
    assert title.text() == f"{LONG_ORG} — {LONG_ID}"
    width = title.contentsRect().width()
    lines = title.lines(width)
    assert 1 < len(lines) <= 3 and lines[-1].endswith("…")
    assert all(title.fontMetrics().horizontalAdvance(line) <= width for line in lines)
    assert title.height() <= 3 * title.fontMetrics().lineSpacing() + 8


def test_bidi_controls_in_a_strangers_report_are_shown_not_obeyed(pane: DetailPane, conn: sqlite3.Connection) -> None:
    """"Org\\u202egnp.exe" showed as "Orgexe.png" in the pane and its title."""
    rid = _rid(conn, "id\u2066x\u2069")
    pane.show_report(conn, rid, None, _failure_ids(conn, rid)[0])
    text = pane.summary_text()
    for shown in (text, pane.title.text(), pane.accessibleDescription(), pane.raw.toPlainText()):
        assert not BIDI_RE.search(shown), shown
    assert "Org⟨U+202E⟩gnp.exe⟨U+202C⟩" in pane.title.text()
    for piece in ("Organization: Org⟨U+202E⟩gnp.exe⟨U+202C⟩", "Report ID: id⟨U+2066⟩x⟨U+2069⟩",
                  "Contact: c⟨U+202B⟩@reporter.example", "mx: ⟨U+2067⟩mx.example", "MX: ⟨U+202E⟩mx.example",
                  "weird⟨U+202E⟩type", "Receiving MX: mx⟨U+202E⟩.example", "HELO: helo⟨U+202D⟩",
                  "Reason code: code⟨U+202A⟩", "Additional info: x⟨U+2066⟩y", "b⟨U+202E⟩idi.json"):
        assert piece in text, piece
    assert pane.accessibleDescription() == "b⟨U+202E⟩idi.json"
    # the raw JSON escapes them the JSON way: the same data, nothing reordered
    raw = pane.raw.toPlainText()
    assert "Org\\u202egnp.exe\\u202c" in raw
    assert json.loads(raw) == _bidi_report()


def test_a_report_to_the_next_midnight_reads_as_one_day(pane: DetailPane, conn: sqlite3.Connection) -> None:
    """The table shows such a report as one day (2026-02-08) and a diagnostic says it is
    read as the same day; the pane said 2026-02-08 00:00 – 2026-02-09 00:00."""
    rid = _rid(conn, "midnight")
    start, end = conn.execute("SELECT start_ts, end_ts FROM reports WHERE id = ?", (rid,)).fetchone()
    assert format_period(start, end, True) == "2026-02-08"  # the table's reading
    pane.show_report(conn, rid)
    text = pane.summary_text()
    period = next(line for line in text.splitlines() if line.startswith("Period: "))
    assert period.startswith("Period: 2026-02-08 00:00 UTC – 2026-02-08 23:59 UTC"), period
    assert "– 2026-02-09" not in period and "read as the same day" in text
    # an ordinary day reads the same way
    pane.show_report(conn, _rid(conn, "many"))
    period = next(line for line in pane.summary_text().splitlines() if line.startswith("Period: "))
    assert period == "Period: 2024-03-01 00:00 UTC – 2024-03-01 23:59 UTC"
