"""The detail pane: everything known about one report, as plain text."""

from __future__ import annotations

import json
import os
import sqlite3
import zlib
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontDatabase, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QLabel,
    QPlainTextEdit,
    QTabWidget,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from tlsrpt_gui.ui.formatting import (
    TimeMode,
    domain_to_unicode,
    format_datetime,
    format_int,
    json_list,
)

EMPTY_TEXT = "Select a row to see its report."


def raw_json_text(conn: sqlite3.Connection, report_row: int) -> str:
    """The stored report, pretty-printed when it is valid JSON (else as stored)."""
    row = conn.execute(
        "SELECT encoding, raw FROM report_raw WHERE report_id = ?", (report_row,)
    ).fetchone()
    if row is None:
        return ""
    encoding, raw = row
    data = zlib.decompress(raw) if encoding == "zlib" else bytes(raw)
    try:
        return json.dumps(json.loads(data), indent=2, ensure_ascii=False)
    except ValueError:
        return data.decode("utf-8", "replace")


class DetailPane(QWidget):
    """Shows the selected report: metadata, policies, failures, diagnostics, raw JSON."""

    def __init__(self, time_mode: TimeMode, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._time = time_mode
        self._conn: sqlite3.Connection | None = None
        self._report: int | None = None
        self._policy: int | None = None
        self._failure: int | None = None
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.title = QLabel(EMPTY_TEXT, self)
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.title.setWordWrap(True)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
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
        self.summary.setAccessibleName("Report details")
        self.summary.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self.raw = QPlainTextEdit(self)
        self.raw.setReadOnly(True)
        self.raw.setAccessibleName("Raw JSON")
        self.raw.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.raw.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.tabs.addTab(self.summary, "&Details")
        self.tabs.addTab(self.raw, "Raw &JSON")
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
        self.title.setText(EMPTY_TEXT)
        self.summary.clear()
        self.raw.clear()

    def show_report(
        self, conn: sqlite3.Connection, report_row: int, policy_id: int | None = None,
        failure_id: int | None = None,
    ) -> None:
        """Show a report; ``policy_id`` and ``failure_id`` mark the policy or failure row
        chosen in a table (▶). Showing what it shows already does nothing (a report never
        changes once indexed): no second rendering, and the scroll position stays."""
        if (conn, report_row, policy_id, failure_id) == (self._conn, self._report, self._policy, self._failure):
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
        self.title.setText(f"{rep['organization_name']} — {rep['report_id']}")
        w = _Writer(self.summary)
        w.heading("Report")
        w.field("Organization", rep["organization_name"])
        w.field("Report ID", rep["report_id"])
        w.field("Contact", rep["contact_info"] or "")
        w.field(
            "Period",
            f"{format_datetime(rep['start_ts'], utc)} – {format_datetime(rep['end_ts'], utc)}",
        )
        w.field("Sessions", f"{format_int(rep['successful_sessions'])} successful, "
                f"{format_int(rep['failed_sessions'])} failed")  # fmt: skip
        source = rep["source_path"] + (f" › {rep['source_member']}" if rep["source_member"] else "")
        w.field("Source", source)
        w.field("Imported", format_datetime(int(rep["imported_at"]), utc))

        policies = cur.execute(
            "SELECT * FROM policies WHERE report_id = ? ORDER BY idx", (rid,)
        ).fetchall()
        w.heading(f"Policies ({len(policies)})")
        for p in policies:
            domain = p["policy_domain"]
            shown = domain_to_unicode(domain)
            label = shown if shown == domain else f"{shown} ({domain})"
            marker = "▶ " if p["id"] == self._policy else ""
            w.subheading(f"{marker}{p['policy_type']} policy for {label or '(unknown domain)'}")
            if p["sts_mode"]:
                w.field("Mode", p["sts_mode"])
            mx = json_list(p["mx_hosts"])
            if mx:
                w.field("MX", ", ".join(mx))
            w.field("Sessions", f"{format_int(p['successful_sessions'])} successful, "
                    f"{format_int(p['failed_sessions'])} failed")  # fmt: skip
            strings = json_list(p["policy_strings"])
            if strings:
                w.field("Policy string", "")
                for line in strings:
                    w.mono("    " + line)

        fails = cur.execute(
            "SELECT f.*, p.idx AS pidx FROM failure_details f JOIN policies p ON p.id = f.policy_id "
            "WHERE f.report_id = ? ORDER BY p.idx, f.id",
            (rid,),
        ).fetchall()
        w.heading(f"Failure details ({len(fails)})")
        if not fails:
            w.plain("None.")
        for f in fails:
            marker = "▶ " if f["id"] == self._failure else ""
            w.subheading(
                f"{marker}{f['result_type']} — {format_int(f['failed_session_count'])} failed session(s)"
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

        diags = cur.execute(
            "SELECT * FROM diagnostics WHERE report_id = ? ORDER BY id", (rid,)
        ).fetchall()
        w.heading(f"Diagnostics ({len(diags)})")
        if not diags:
            w.plain("The report follows RFC 8460.")
        for d in diags:
            where = f" at {d['path']}" if d["path"] else ""
            w.field(d["severity"].capitalize(), f"{d['message']} [{d['code']}]{where}")
        w.finish()
        self.raw.setPlainText(raw_json_text(conn, rid))
        self.setToolTip("")
        self.setAccessibleDescription(os.path.basename(rep["source_path"]))


class _Writer:
    """Appends plain text with character formats: nothing is ever parsed as HTML."""

    def __init__(self, edit: QTextEdit) -> None:
        self.edit = edit
        edit.clear()
        self.cursor = QTextCursor(edit.document())
        base = QTextCharFormat()
        self.normal = base
        self.bold = QTextCharFormat()
        self.bold.setFontWeight(QFont.Weight.Bold)
        self.head = QTextCharFormat()
        self.head.setFontWeight(QFont.Weight.Bold)
        self.head.setFontPointSize(edit.font().pointSizeF() * 1.15)
        self.label = QTextCharFormat()
        self.label.setForeground(edit.palette().placeholderText())
        self.mono_fmt = QTextCharFormat()
        self.mono_fmt.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.first = True

    def _newline(self) -> None:
        if not self.first:
            self.cursor.insertText("\n", self.normal)
        self.first = False

    def heading(self, text: str) -> None:
        if not self.first:
            self.cursor.insertText("\n", self.normal)
        self._newline()
        self.cursor.insertText(text, self.head)

    def subheading(self, text: str) -> None:
        self._newline()
        self.cursor.insertText(text, self.bold)

    def field(self, label: str, value: Any) -> None:
        self._newline()
        self.cursor.insertText(f"{label}: ", self.label)
        self.cursor.insertText("" if value is None else str(value), self.normal)

    def plain(self, text: str) -> None:
        self._newline()
        self.cursor.insertText(text, self.normal)

    def mono(self, text: str) -> None:
        self._newline()
        self.cursor.insertText(text, self.mono_fmt)

    def finish(self) -> None:
        self.edit.moveCursor(QTextCursor.MoveOperation.Start)
