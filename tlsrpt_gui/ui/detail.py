"""The detail pane: everything known about one report, as plain text.

A report may hold 100,000 failure details, thousands of policies and diagnostics and
a 20 MB raw file: the pane shows a bounded part of each (the Failure details and
Policies tabs list every row), builds its text in one go, and fills the Raw JSON view
of a big report only when it is looked at, a slice at a time.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import zlib
from collections.abc import Iterator
from typing import Any, Final

import orjson
from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtGui import (
    QFont,
    QFontDatabase,
    QPainter,
    QPaintEvent,
    QTextCharFormat,
    QTextCursor,
    QTextLayout,
    QTextOption,
)
from PySide6.QtWidgets import (
    QLabel,
    QPlainTextEdit,
    QSizePolicy,
    QTabWidget,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from tlsrpt_gui.ui.formatting import (
    TimeMode,
    domain_to_unicode,
    format_date,
    format_datetime,
    format_int,
    json_list,
    visible_text,
)

EMPTY_TEXT = "Select a row to see its report."

#: failure details the pane shows of one report (it may hold 100,000): the chosen one
#: and those around it; the Failure details tab lists them all
MAX_FAILURES_SHOWN: Final = 200
#: policies the pane shows of one report, likewise (the Policies tab lists them all)
MAX_POLICIES_SHOWN: Final = 200
#: diagnostics the pane shows (a report keeps up to 10,000), the worst first; the
#: rest are counted by kind
MAX_DIAGNOSTICS_SHOWN: Final = 200
#: policy-string lines and MX hosts shown per policy; a stranger's list has no bound
MAX_LIST_ITEMS: Final = 50
#: characters shown of one value; the Raw JSON view has the whole report
MAX_VALUE_CHARS: Final = 5_000
#: the marker of the policy or failure row chosen in a table
MARK: Final = "▶ "

#: a stored report up to this size goes into the Raw JSON view with the rest of the
#: pane; a bigger one when the view is shown, a slice per turn of the event loop (Qt
#: takes seconds to take in a 20 MB text at once, and the window would freeze)
RAW_AT_ONCE_BYTES: Final = 512 * 1024
RAW_SLICE_CHARS: Final = 256 * 1024

_BIDI_RE: Final = re.compile("[\u202a-\u202e\u2066-\u2069]")


def _json_escape(m: re.Match[str]) -> str:
    return f"\\u{ord(m.group()):04x}"


def _raw_bytes(conn: sqlite3.Connection, report_row: int, limit: int = 0) -> bytes | None:
    """The stored report as sent (with ``limit``, at most ``limit + 1`` bytes of it)."""
    row = conn.execute(
        "SELECT encoding, raw FROM report_raw WHERE report_id = ?", (report_row,)
    ).fetchone()
    if row is None:
        return None
    encoding, raw = row
    if encoding != "zlib":
        return bytes(raw[: limit + 1] if limit else raw)
    if limit:
        return zlib.decompressobj().decompress(raw, limit + 1)
    return zlib.decompress(raw)


def pretty_json(data: bytes) -> str:
    """``data`` pretty-printed when it is valid JSON (else as stored), each bidi control
    shown: as its JSON escape (``\\u202e``) inside the JSON, which means the same text and
    cannot reorder what is shown; as ``⟨U+202E⟩`` in text that is not JSON."""
    # orjson: a 20 MB report in a fifth of the time, in json.dumps's layout (a float
    # may be written otherwise, 1.5e-7 for 1.5e-07: the same number)
    try:
        text = orjson.dumps(orjson.loads(data), option=orjson.OPT_INDENT_2).decode()
    except (orjson.JSONDecodeError, orjson.JSONEncodeError):  # NaN, 65-bit numbers, lone surrogates
        try:
            text = json.dumps(json.loads(data), indent=2, ensure_ascii=False)
        except ValueError:
            return visible_text(data.decode("utf-8", "replace"))
    # bidi controls are not JSON whitespace: they can only be inside strings
    return _BIDI_RE.sub(_json_escape, text) if _BIDI_RE.search(text) else text


def raw_json_text(conn: sqlite3.Connection, report_row: int) -> str:
    """The stored report, pretty-printed when it is valid JSON (else as stored)."""
    data = _raw_bytes(conn, report_row)
    return "" if data is None else pretty_json(data)


def _slices(text: str, size: int = RAW_SLICE_CHARS) -> Iterator[str]:
    """``text`` in pieces of about ``size`` characters, each ending at a line's end."""
    start = 0
    while start < len(text):
        end = text.find("\n", start + size)
        end = len(text) if end < 0 else end + 1
        yield text[start:end]
        start = end


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _clip(text: str, limit: int = MAX_VALUE_CHARS) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({format_int(len(text) - limit)} more characters: see Raw JSON)"


def _utf16_len(text: str) -> int:
    """The length of ``text`` as Qt counts it (characters past U+FFFF take two units)."""
    if text.isascii():
        return len(text)
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _span(first: int, last: int) -> str:
    return f"{format_int(first)}–{format_int(last)}" if last > first else format_int(first)


def _window(total: int, rank: int | None, size: int) -> int:
    """The offset of ``size`` rows of ``total`` that has row ``rank`` in its middle."""
    if rank is None or total <= size:
        return 0
    return max(0, min(rank - size // 2, total - size))


class _Title(QLabel):
    """The title: a stranger's name or report ID can be one long word, which a word-
    wrapping label cannot break and so widens the pane to fit. This one wraps anywhere
    (at word boundaries when it can), shows at most :attr:`MAX_LINES` lines, the last one
    elided, and asks for no width of its own. ``text()`` is the whole title."""

    MAX_LINES: Final = 3
    #: characters laid out: more than three lines of any sane width hold
    LAYOUT_CHARS: Final = 2_000

    def __init__(self, text: str, parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        policy = QSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        self._cache: tuple[tuple[str, int, str], list[str]] | None = None

    def lines(self, width: int) -> list[str]:
        """The lines shown in ``width`` pixels (the last one elided if the text goes on)."""
        text = self.text()[: self.LAYOUT_CHARS]
        key = (text, width, self.font().key())
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        width = max(width, 1)
        # QTextLayout counts UTF-16 units; map them back to Python's indexes
        units = [i for i, ch in enumerate(text) for _ in range(2 if ord(ch) > 0xFFFF else 1)]
        units.append(len(text))
        layout = QTextLayout(text, self.font())
        option = QTextOption()
        option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        layout.setTextOption(option)
        starts: list[int] = []
        ends: list[int] = []
        layout.beginLayout()
        while len(starts) <= self.MAX_LINES:
            line = layout.createLine()
            if not line.isValid():
                break
            line.setLineWidth(width)
            starts.append(units[line.textStart()])
            ends.append(units[min(line.textStart() + line.textLength(), len(units) - 1)])
        layout.endLayout()
        shown = [text[s:e].rstrip() for s, e in zip(starts, ends, strict=True)][: self.MAX_LINES]
        cut = len(self.text()) > len(text) and bool(ends) and ends[-1] >= len(text)
        if shown and (len(starts) > self.MAX_LINES or cut):
            last = text[starts[len(shown) - 1] :] + "…"
            shown[-1] = self.fontMetrics().elidedText(last, Qt.TextElideMode.ElideRight, width)
        self._cache = (key, shown or [""])
        return self._cache[1]

    def _inner_width(self, width: int) -> int:
        m = self.contentsMargins()
        return width - m.left() - m.right()

    def heightForWidth(self, width: int) -> int:
        m = self.contentsMargins()
        return len(self.lines(self._inner_width(width))) * self.fontMetrics().lineSpacing() + m.top() + m.bottom()

    def hasHeightForWidth(self) -> bool:
        return True

    def sizeHint(self) -> QSize:
        width = self.width() if self.width() > 1 else 300
        return QSize(width, self.heightForWidth(width))

    def minimumSizeHint(self) -> QSize:
        m = self.contentsMargins()
        return QSize(0, self.fontMetrics().lineSpacing() + m.top() + m.bottom())

    def paintEvent(self, event: QPaintEvent) -> None:
        rect = self.contentsRect()
        painter = QPainter(self)
        painter.setFont(self.font())
        painter.setPen(self.palette().color(self.foregroundRole()))
        step = self.fontMetrics().lineSpacing()
        ascent = self.fontMetrics().ascent()
        for i, line in enumerate(self.lines(rect.width())):
            painter.drawText(rect.left(), rect.top() + i * step + ascent, line)
        painter.end()


class DetailPane(QWidget):
    """Shows the selected report: metadata, policies, failures, diagnostics, raw JSON."""

    def __init__(self, time_mode: TimeMode, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._time = time_mode
        self._conn: sqlite3.Connection | None = None
        self._report: int | None = None
        self._policy: int | None = None
        self._failure: int | None = None
        #: the block of the summary each shown policy or failure row starts, by
        #: ("policy" or "failure", row id): to move the ▶ mark without a new rendering
        self._marks: dict[tuple[str, int], int] = {}
        #: the report the Raw JSON view holds (or is being filled with)
        self._raw_report: int | None = None
        self._raw_slices: Iterator[str] | None = None
        self._raw_timer = QTimer(self)
        self._raw_timer.setInterval(0)
        self._raw_timer.timeout.connect(self._feed_raw)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.title = _Title(EMPTY_TEXT, self)
        f = self.title.font()
        f.setBold(True)
        f.setPointSizeF(f.pointSizeF() * 1.1)
        self.title.setFont(f)
        self.title.setContentsMargins(6, 4, 6, 4)
        lay.addWidget(self.title)
        self.tabs = QTabWidget(self)
        self.tabs.setDocumentMode(True)
        self.summary = QTextEdit(self)
        self.summary.setReadOnly(True)
        self.summary.setAcceptRichText(False)
        self.summary.setUndoRedoEnabled(False)
        self.summary.setAccessibleName("Report details")
        self.summary.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self.raw = QPlainTextEdit(self)
        self.raw.setReadOnly(True)
        self.raw.setUndoRedoEnabled(False)
        self.raw.setAccessibleName("Raw JSON")
        self.raw.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.raw.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.tabs.addTab(self.summary, "&Details")
        self.tabs.addTab(self.raw, "Raw &JSON")
        self.tabs.currentChanged.connect(lambda _i: self._sync_raw())
        lay.addWidget(self.tabs, 1)
        time_mode.changed.connect(lambda _u: self._render())

    @property
    def report_id(self) -> int | None:
        return self._report

    def summary_text(self) -> str:
        return self.summary.toPlainText()

    def clear(self) -> None:
        self._report = None
        self._policy = None
        self._failure = None
        self._marks = {}
        self.title.setText(EMPTY_TEXT)
        self.summary.clear()
        self._clear_raw()

    def show_report(
        self, conn: sqlite3.Connection, report_row: int, policy_id: int | None = None,
        failure_id: int | None = None,
    ) -> None:
        """Show a report; ``policy_id`` and ``failure_id`` mark the policy or failure row
        chosen in a table (▶). Showing what it shows already does nothing (a report never
        changes once indexed): no second rendering, and the scroll position stays; another
        row of the same report shown already just moves the ▶."""
        if (conn, report_row) == (self._conn, self._report):
            if (policy_id, failure_id) == (self._policy, self._failure):
                return
            if self._move_marks(policy_id, failure_id):
                self._policy = policy_id
                self._failure = failure_id
                return
        self._conn = conn
        self._report = report_row
        self._policy = policy_id
        self._failure = failure_id
        self._render()

    # ------------------------------------------------------------ rendering

    def _render(self) -> None:
        conn, rid = self._conn, self._report
        if conn is None or rid is None:
            return
        cur = conn.cursor()
        cur.row_factory = sqlite3.Row
        rep = cur.execute("SELECT * FROM reports WHERE id = ?", (rid,)).fetchone()
        if rep is None:
            self.clear()
            return
        utc = self._time.utc
        self.title.setText(visible_text(_one_line(f"{rep['organization_name']} — {rep['report_id']}")))
        w = _Text()
        w.heading("Report")
        w.field("Organization", rep["organization_name"])
        w.field("Report ID", rep["report_id"])
        w.field("Contact", rep["contact_info"] or "")
        w.field("Period", _period(rep["start_ts"], rep["end_ts"], utc))
        w.field("Sessions", f"{format_int(rep['successful_sessions'])} successful, "
                f"{format_int(rep['failed_sessions'])} failed")  # fmt: skip
        source = rep["source_path"] + (f" › {rep['source_member']}" if rep["source_member"] else "")
        w.field("Source", source)
        w.field("Imported", format_datetime(int(rep["imported_at"]), utc))
        where = _where_to_filter(rep)
        self._write_policies(cur, w, rid, where)
        self._write_failures(cur, w, rid, where)
        self._write_diagnostics(cur, w, rid)
        self._marks = w.write(self.summary)
        self.summary.moveCursor(QTextCursor.MoveOperation.Start)
        self.setToolTip("")
        self.setAccessibleDescription(visible_text(os.path.basename(rep["source_path"])))
        if self._raw_report != rid:
            self._clear_raw()
            self._sync_raw()

    def _write_policies(self, cur: sqlite3.Cursor, w: _Text, rid: int, where: str) -> None:
        total = cur.execute("SELECT COUNT(*) FROM policies WHERE report_id = ?", (rid,)).fetchone()[0]
        rank = None
        if total > MAX_POLICIES_SHOWN and self._policy is not None:
            chosen = cur.execute(
                "SELECT idx FROM policies WHERE id = ? AND report_id = ?", (self._policy, rid)
            ).fetchone()
            if chosen is not None:
                rank = cur.execute(
                    "SELECT COUNT(*) FROM policies WHERE report_id = ? AND idx < ?", (rid, chosen[0])
                ).fetchone()[0]
        offset = _window(total, rank, MAX_POLICIES_SHOWN)
        policies = cur.execute(
            "SELECT * FROM policies WHERE report_id = ? ORDER BY idx LIMIT ? OFFSET ?",
            (rid, MAX_POLICIES_SHOWN, offset),
        ).fetchall()
        w.heading(f"Policies ({format_int(total)})")
        w.window(offset, len(policies), total, rank is not None, "policies", "Policies", where)
        for p in policies:
            domain = p["policy_domain"]
            shown = domain_to_unicode(domain)
            label = shown if shown == domain else f"{shown} ({domain})"
            marker = MARK if p["id"] == self._policy else ""
            w.subheading(f"{marker}{p['policy_type']} policy for {label or '(unknown domain)'}",
                         ("policy", p["id"]))
            if p["sts_mode"]:
                w.field("Mode", p["sts_mode"])
            mx = json_list(p["mx_hosts"])
            if mx:
                more = f" and {format_int(len(mx) - MAX_LIST_ITEMS)} more" if len(mx) > MAX_LIST_ITEMS else ""
                w.field("MX", ", ".join(_clip(m, 300) for m in mx[:MAX_LIST_ITEMS]) + more)
            w.field("Sessions", f"{format_int(p['successful_sessions'])} successful, "
                    f"{format_int(p['failed_sessions'])} failed")  # fmt: skip
            strings = json_list(p["policy_strings"])
            if strings:
                w.field("Policy string", "")
                for line in strings[:MAX_LIST_ITEMS]:
                    w.mono("    " + _clip(line, 300))
                if len(strings) > MAX_LIST_ITEMS:
                    w.plain(f"    … {format_int(len(strings) - MAX_LIST_ITEMS)} more lines: see Raw JSON")
        if offset + len(policies) < total:
            w.plain(f"… {format_int(total - offset - len(policies))} more policies after these.")

    def _write_failures(self, cur: sqlite3.Cursor, w: _Text, rid: int, where: str) -> None:
        # Ordered by id: the index writes a report's failure details policy by policy,
        # in the report's order, and the id order comes from the index (no sort of
        # 100,000 rows to show 200 of them).
        total = cur.execute("SELECT COUNT(*) FROM failure_details WHERE report_id = ?", (rid,)).fetchone()[0]
        rank = None
        if total > MAX_FAILURES_SHOWN and self._failure is not None and cur.execute(
            "SELECT 1 FROM failure_details WHERE id = ? AND report_id = ?", (self._failure, rid)
        ).fetchone():
            rank = cur.execute(
                "SELECT COUNT(*) FROM failure_details WHERE report_id = ? AND id < ?", (rid, self._failure)
            ).fetchone()[0]
        offset = _window(total, rank, MAX_FAILURES_SHOWN)
        fails = cur.execute(
            "SELECT * FROM failure_details WHERE report_id = ? ORDER BY id LIMIT ? OFFSET ?",
            (rid, MAX_FAILURES_SHOWN, offset),
        ).fetchall()
        w.heading(f"Failure details ({format_int(total)})")
        if not fails:
            w.plain("None.")
        w.window(offset, len(fails), total, rank is not None, "failure details", "Failure details", where)
        for f in fails:
            marker = MARK if f["id"] == self._failure else ""
            w.subheading(
                f"{marker}{f['result_type']} — {format_int(f['failed_session_count'])} failed session(s)",
                ("failure", f["id"]),
            )
            for label, key in (
                ("Policy domain", "policy_domain"),
                ("Sending MTA IP", "sending_mta_ip"),
                ("Receiving MX", "receiving_mx_hostname"),
                ("HELO", "receiving_mx_helo"),
                ("Receiving IP", "receiving_ip"),
                ("Reason code", "failure_reason_code"),
                ("Additional info", "additional_information"),
            ):
                value = f[key]
                if value:
                    w.field(label, domain_to_unicode(value) if key == "policy_domain" else value)
        if offset + len(fails) < total:
            w.plain(f"… {format_int(total - offset - len(fails))} more failure details after these.")

    def _write_diagnostics(self, cur: sqlite3.Cursor, w: _Text, rid: int) -> None:
        total = cur.execute("SELECT COUNT(*) FROM diagnostics WHERE report_id = ?", (rid,)).fetchone()[0]
        worst_first = "CASE severity WHEN 'error' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END, id"
        diags = cur.execute(
            f"SELECT * FROM diagnostics WHERE report_id = ? ORDER BY {worst_first} LIMIT ?",
            (rid, MAX_DIAGNOSTICS_SHOWN),
        ).fetchall()
        w.heading(f"Diagnostics ({format_int(total)})")
        if not diags:
            w.plain("The report follows RFC 8460.")
        for d in diags:
            where = f" at {d['path']}" if d["path"] else ""
            w.field(str(d["severity"]).capitalize(), f"{d['message']} [{d['code']}]{where}")
        if total > len(diags):
            kinds = cur.execute(
                f"SELECT code, COUNT(*) FROM (SELECT code FROM diagnostics WHERE report_id = ? "
                f"ORDER BY {worst_first} LIMIT -1 OFFSET ?) GROUP BY code ORDER BY 2 DESC, 1 LIMIT 6",
                (rid, len(diags)),
            ).fetchall()
            listed = ", ".join(f"{format_int(n)} [{_clip(code, 60)}]" for code, n in kinds[:5])
            w.plain(f"… {format_int(total - len(diags))} more diagnostics are not shown: {listed}"
                    + (", …" if len(kinds) > 5 else "") + ".")

    def _move_marks(self, policy_id: int | None, failure_id: int | None) -> bool:
        """Move the ▶ to the policy and failure rows now chosen, when the summary shows
        them (False if it does not: it needs a new rendering)."""
        changes = [(kind, old, new) for kind, old, new in
                   (("policy", self._policy, policy_id), ("failure", self._failure, failure_id))
                   if old != new]
        if any(new is not None and (kind, new) not in self._marks for kind, _old, new in changes):
            return False
        doc = self.summary.document()
        cursor = QTextCursor(doc)
        bold = QTextCharFormat()
        bold.setFontWeight(QFont.Weight.Bold)
        cursor.beginEditBlock()
        for kind, old, new in changes:
            if old is not None and (kind, old) in self._marks:
                block = doc.findBlockByNumber(self._marks[kind, old])
                if block.text().startswith(MARK):
                    cursor.setPosition(block.position())
                    cursor.setPosition(block.position() + len(MARK), QTextCursor.MoveMode.KeepAnchor)
                    cursor.removeSelectedText()
            if new is not None:
                cursor.setPosition(doc.findBlockByNumber(self._marks[kind, new]).position())
                cursor.insertText(MARK, bold)
        cursor.endEditBlock()
        return True

    # ------------------------------------------------------------ raw JSON

    def _clear_raw(self) -> None:
        self._raw_timer.stop()
        self._raw_slices = None
        self._raw_report = None
        self.raw.clear()

    def _sync_raw(self) -> None:
        """Put the shown report in the Raw JSON view: with the rest when it is small or
        the view is in sight, else when the view is shown."""
        conn, rid = self._conn, self._report
        if conn is None or rid is None or self._raw_report == rid:
            return
        if self.tabs.currentWidget() is not self.raw:
            head = _raw_bytes(conn, rid, RAW_AT_ONCE_BYTES)
            if head is not None and len(head) > RAW_AT_ONCE_BYTES:
                return  # when the view is shown
        data = _raw_bytes(conn, rid)
        self._raw_report = rid
        text = "" if data is None else pretty_json(data)
        if len(text) <= RAW_SLICE_CHARS:
            self.raw.setPlainText(text)
            return
        self._raw_slices = _slices(text)
        self._feed_raw()
        self._raw_timer.start()

    def _feed_raw(self) -> None:
        """Append the next slice of a big report to the Raw JSON view."""
        piece = next(self._raw_slices, None) if self._raw_slices is not None else None
        if piece is None:
            self._raw_timer.stop()
            self._raw_slices = None
            return
        cursor = QTextCursor(self.raw.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(piece)


def _period(start: int, end: int, utc: bool) -> str:
    """The report's period as the table reads it: a report to the next midnight (which
    the index keeps as sent, with a diagnostic) is one day, as one to 23:59:59Z is."""
    if end - start == 86400 and end % 86400 == 0:  # see core.report.NOTE_NEXT_MIDNIGHT
        return (f"{format_datetime(start, utc)} – {format_datetime(end - 1, utc)} "
                f"(given as ending at the next midnight, {format_datetime(end, utc)}: read as the same day)")
    return f"{format_datetime(start, utc)} – {format_datetime(end, utc)}"


def _where_to_filter(rep: sqlite3.Row) -> str:
    """The filter that lists a report's rows in a table: its reporter and day (and its
    domain, when it has one), as the filter bar takes them."""
    org = _clip(_one_line(rep["organization_name"]), 80)
    parts = [f"reporter “{org}”"]
    domains = rep["policy_domains"] or ""
    if domains and ", " not in domains:
        parts.append(f"domain “{_clip(domain_to_unicode(domains), 80)}”")
    parts.append(f"the date {format_date(rep['start_ts'], True)}")
    return ", ".join(parts[:-1]) + " and " + parts[-1]


class _Text:
    """The summary's text and what to format in it, gathered first and then written
    into the document in one go (one insertion, then the formats, in one edit): a
    QTextEdit lays its document out again after each separate insertion."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        #: the text's length so far in UTF-16 units, as QTextDocument counts positions
        self.size = 0
        self.spans: list[tuple[int, int, str]] = []
        self.marks: dict[tuple[str, int], int] = {}
        self.first = True

    def _add(self, text: str, kind: str = "") -> None:
        # a stranger's text as shown; "\r\n" would become one block separator, not two,
        # and so would a "\r" ending one piece before a "\n" beginning the next: every
        # line break is one "\n", so the positions counted here stay the document's
        text = visible_text(text).replace("\r\n", "\n").replace("\r", "\n")
        if not text:
            return
        n = _utf16_len(text)
        if kind:
            self.spans.append((self.size, self.size + n, kind))
        self.parts.append(text)
        self.size += n

    def _newline(self) -> None:
        if not self.first:
            self._add("\n")
        self.first = False

    def heading(self, text: str) -> None:
        if not self.first:
            self._add("\n")
        self._newline()
        self._add(text, "head")

    def subheading(self, text: str, mark: tuple[str, int] | None = None) -> None:
        self._newline()
        if mark is not None:
            self.marks[mark] = self.size
        self._add(_clip(text), "bold")

    def field(self, label: str, value: Any) -> None:
        self._newline()
        self._add(f"{label}: ", "label")
        self._add(_clip("" if value is None else str(value)))

    def plain(self, text: str) -> None:
        self._newline()
        self._add(text)

    def mono(self, text: str) -> None:
        self._newline()
        self._add(text, "mono")

    def window(self, offset: int, count: int, total: int, around_chosen: bool, what: str,
               tab: str, where: str) -> None:
        """Say which rows of ``total`` the section shows when it shows only some, and
        where to see them all."""
        if count >= total:
            return
        around = ", around the one chosen (▶)" if around_chosen else ""
        self.plain(f"Showing {format_int(count)} of {format_int(total)} {what}: numbers "
                   f"{_span(offset + 1, offset + count)}{around}. The other {format_int(total - count)} "
                   f"are not shown here: see them all on the {tab} tab, filtered by {where}.")
        if offset:
            self.plain(f"… {format_int(offset)} more {what} before these.")

    def write(self, edit: QTextEdit) -> dict[tuple[str, int], int]:
        """Put the text in ``edit``; returns the block each marked row starts."""
        normal = QTextCharFormat()
        formats = {"head": QTextCharFormat(), "bold": QTextCharFormat(), "label": QTextCharFormat(),
                   "mono": QTextCharFormat()}
        formats["head"].setFontWeight(QFont.Weight.Bold)
        formats["head"].setFontPointSize(edit.font().pointSizeF() * 1.15)
        formats["bold"].setFontWeight(QFont.Weight.Bold)
        formats["label"].setForeground(edit.palette().placeholderText())
        formats["mono"].setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        edit.clear()
        doc = edit.document()
        cursor = QTextCursor(doc)
        cursor.beginEditBlock()
        cursor.insertText("".join(self.parts), normal)
        # (positions hold unless Qt reads the text otherwise than counted: then no formats)
        if doc.characterCount() - 1 == self.size:
            for start, end, kind in self.spans:
                cursor.setPosition(start)
                cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
                cursor.setCharFormat(formats[kind])
        cursor.endEditBlock()
        return {mark: doc.findBlock(pos).blockNumber() for mark, pos in self.marks.items()}
