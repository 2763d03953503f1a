"""The DNS panel: check a domain's TLS-RPT, MTA-STS, MX and DANE set-up.

:class:`DnsTab` runs :func:`tlsrpt_gui.core.dns.check_domain` off the GUI thread
(through :func:`tlsrpt_gui.ui.tasks.run_task`), shows the findings in a sortable
table (:class:`FindingsModel`) and every record as found in a read-only text
panel. Everything that comes from DNS or HTTP is untrusted: it is only ever shown
as plain text (labels use ``Qt.TextFormat.PlainText``, no tooltips carry it).

The resolver (system, or a nameserver and port) and the timeout come from the
Preferences (:class:`tlsrpt_gui.ui.preferences.ResolverSettings`), read anew at
the start of each check.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Sequence
from typing import Any, Final, Literal

from PySide6.QtCore import (
    QAbstractTableModel,
    QEvent,
    QItemSelection,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSettings,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QAction,
    QColor,
    QFont,
    QFontDatabase,
    QGuiApplication,
    QIcon,
    QKeyEvent,
    QKeySequence,
    QPalette,
    QTextCharFormat,
    QTextCursor,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QCompleter,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QStyle,
    QTableView,
    QTextEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from tlsrpt_gui.cli_check import format_text
from tlsrpt_gui.core.dns import (
    CATALOGUE,
    CheckCancelled,
    CheckOptions,
    CheckResult,
    Finding,
    PolicySnapshot,
    ResolverSetupError,
    TlsRptResult,
    check_domain,
    normalize_domain,
)
from tlsrpt_gui.core.dns.records import TLSA_MATCHING, TLSA_SELECTORS, TLSA_USAGES
from tlsrpt_gui.core.dns.resolver import Lookup
from tlsrpt_gui.ui.preferences import PreferencesDialog, ResolverSettings
from tlsrpt_gui.ui.tasks import Task, run_task

log = logging.getLogger(__name__)

#: The :class:`Finding` of a row (any column).
FINDING_ROLE: Final = Qt.ItemDataRole.UserRole + 1
#: Sort key of a cell: severity rank for the severity column, text otherwise.
SORT_ROLE: Final = Qt.ItemDataRole.UserRole + 2

SEVERITY_LABEL: Final = {"error": "Error", "warning": "Warning", "info": "Info"}
SEVERITY_RANK: Final = {"error": 0, "warning": 1, "info": 2}
SEVERITY_PIXMAP: Final = {
    "error": QStyle.StandardPixmap.SP_MessageBoxCritical,
    "warning": QStyle.StandardPixmap.SP_MessageBoxWarning,
    "info": QStyle.StandardPixmap.SP_MessageBoxInformation,
}
SEVERITY_COLOUR: Final = {
    "error": QColor(0xC6, 0x28, 0x28),
    "warning": QColor(0xB2, 0x6A, 0x00),
    "info": QColor(0x15, 0x65, 0xC0),
}

EMPTY_TITLE: Final = "Check a mail domain's TLS set-up"
EMPTY_TEXT: Final = (
    "Type a domain and press Check (or Enter). The panel looks up the domain's "
    "TLS-RPT record (RFC 8460), its MTA-STS record and HTTPS policy (RFC 8461), its MX "
    "hosts and their DANE TLSA records (RFC 7672), checks that report destinations can "
    "receive reports, and lists every problem with its RFC section.\n\n"
    "Nothing is sent anywhere: report destinations are only resolved and, for https, "
    "TLS-handshaken. Right-click a row in the Reports, Policies or Failure details "
    "table and choose \u201cCheck DNS for This Domain\u201d to check a domain from your reports."
)


def visible(text: object) -> str:
    """Untrusted text with control characters shown as ``\\xNN`` (never interpreted)."""
    out = []
    for ch in str(text):
        if (ch < " " and ch != "\t") or "\x7f" <= ch < "\xa0" or ch in "\u2028\u2029":
            out.append(f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out)


def severity_counts(findings: Sequence[Finding]) -> dict[str, int]:
    counts = {"error": 0, "warning": 0, "info": 0}
    for finding in findings:
        counts[finding.severity] = counts.get(finding.severity, 0) + 1
    return counts


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def summary_title(result: CheckResult) -> str:
    """``3 errors, 2 warnings, 1 note`` or ``No problems found``."""
    counts = severity_counts(result.findings)
    parts = []
    if counts["error"]:
        parts.append(_plural(counts["error"], "error"))
    if counts["warning"]:
        parts.append(_plural(counts["warning"], "warning"))
    if not parts:
        head = "No problems found"
        return head + (f" \u2014 {_plural(counts['info'], 'note')}" if counts["info"] else "")
    if counts["info"]:
        parts.append(_plural(counts["info"], "note"))
    return ", ".join(parts)


def summary_detail(result: CheckResult) -> str:
    """One line on each mechanism: TLS-RPT, MTA-STS, MX, DANE."""
    rpt = result.tlsrpt
    if rpt.lookup.status == "error":
        rpt_text = "TLS-RPT lookup failed"
    elif not rpt.records:
        rpt_text = "no TLS-RPT record"
    elif rpt.valid:
        rpt_text = f"TLS-RPT valid ({_plural(len(rpt.rua), 'destination')})"
    else:
        rpt_text = "TLS-RPT invalid"
    sts = result.mta_sts
    if sts.lookup.status == "error":
        sts_text = "MTA-STS lookup failed"
    elif not sts.records:
        sts_text = "no MTA-STS" if sts.policy is None else "MTA-STS policy without record"
    elif sts.policy is not None and sts.policy.mode:
        sts_text = f"MTA-STS mode {visible(sts.policy.mode)}"
    elif sts.fetch is not None and not sts.fetch.ok:
        sts_text = "MTA-STS policy not fetched"
    else:
        sts_text = "MTA-STS policy invalid"
    mx = result.mx
    if mx.null_mx and not mx.hosts:
        mx_text = "null MX"
    elif mx.lookup.status == "error":
        mx_text = "MX lookup failed"
    else:
        mx_text = _plural(len(mx.hosts), "MX host")
    with_tlsa = sum(1 for t in result.tlsa if t.records)
    dane_text = f"DANE on {with_tlsa} of {len(result.tlsa)} MX" if with_tlsa else "no DANE"
    return " \u00b7 ".join([rpt_text, sts_text, mx_text, dane_text])


# --------------------------------------------------------------------------- findings model


_ROOT: Final = QModelIndex()


class FindingsModel(QAbstractTableModel):
    """The findings of one check: severity (with icon), code, message, RFC, subject."""

    COLUMNS: Final = ("Severity", "Code", "Message", "RFC", "Subject")
    SEVERITY, CODE, MESSAGE, RFC, SUBJECT = range(5)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._findings: list[Finding] = []
        self._icons: dict[str, QIcon] = {}

    def set_findings(self, findings: Sequence[Finding]) -> None:
        self.beginResetModel()
        self._findings = list(findings)
        self.endResetModel()

    def finding(self, row: int) -> Finding:
        return self._findings[row]

    def findings(self) -> list[Finding]:
        return list(self._findings)

    def _icon(self, severity: str) -> QIcon:
        icon = self._icons.get(severity)
        if icon is None:
            icon = QApplication.style().standardIcon(SEVERITY_PIXMAP[severity])
            self._icons[severity] = icon
        return icon

    # Qt overrides -----------------------------------------------------------

    def rowCount(
        self, parent: QModelIndex | QPersistentModelIndex = _ROOT
    ) -> int:
        return 0 if parent.isValid() else len(self._findings)

    def columnCount(
        self, parent: QModelIndex | QPersistentModelIndex = _ROOT
    ) -> int:
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(self.COLUMNS)
        ):
            return self.COLUMNS[section]
        return None

    def data(
        self,
        index: QModelIndex | QPersistentModelIndex,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._findings):
            return None
        finding = self._findings[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == self.SEVERITY:
                return SEVERITY_LABEL.get(finding.severity, finding.severity)
            if column == self.CODE:
                return finding.code
            if column == self.MESSAGE:
                return visible(finding.message)
            if column == self.RFC:
                return finding.rfc
            if column == self.SUBJECT:
                return visible(finding.subject)
            return None
        if role == Qt.ItemDataRole.DecorationRole and column == self.SEVERITY:
            return self._icon(finding.severity)
        if role == Qt.ItemDataRole.ForegroundRole and column == self.SEVERITY:
            return SEVERITY_COLOUR.get(finding.severity)
        if role == Qt.ItemDataRole.ToolTipRole and column == self.CODE:
            spec = CATALOGUE.get(finding.code)
            return spec.title if spec is not None else None  # our catalogue text, not DNS data
        if role == Qt.ItemDataRole.AccessibleTextRole and column == self.SEVERITY:
            return SEVERITY_LABEL.get(finding.severity, finding.severity)
        if role == SORT_ROLE:
            if column == self.SEVERITY:
                return SEVERITY_RANK.get(finding.severity, 9) * 10_000 + index.row()
            return self.data(index, Qt.ItemDataRole.DisplayRole)
        if role == FINDING_ROLE:
            return finding
        return None


# --------------------------------------------------------------------------- records text

Style = Literal["heading", "heading-dim", "subheading", "label", "text", "dim", "bad", "good"]


class _Doc:
    """Lines of (text, style) runs, rendered into a QPlainTextEdit or as plain text."""

    LABEL_WIDTH: Final = 13

    def __init__(self) -> None:
        self.lines: list[list[tuple[str, Style]]] = []

    def heading(self, title: str, detail: str = "") -> None:
        if self.lines:
            self.lines.append([])
        runs: list[tuple[str, Style]] = [(title, "heading")]
        if detail:
            runs.append(("  " + detail, "heading-dim"))
        self.lines.append(runs)

    def subheading(self, title: str, detail: str = "", indent: int = 2) -> None:
        runs: list[tuple[str, Style]] = [(" " * indent + title, "subheading")]
        if detail:
            runs.append(("  " + detail, "heading-dim"))
        self.lines.append(runs)

    def field(self, label: str, value: str, style: Style = "text", *, indent: int = 2) -> None:
        width = max(self.LABEL_WIDTH - indent + 2, len(label) + 1)
        self.lines.append([(" " * indent + label.ljust(width), "label"), (value, style)])

    def more(self, value: str, style: Style = "text", *, indent: int = 2) -> None:
        """A continuation line under the previous field."""
        self.field("", value, style, indent=indent)

    def lookup(self, lookup: Lookup, *, indent: int = 2) -> None:
        self.field("lookup", _lookup_state(lookup),
                   "bad" if lookup.status == "error" else "dim", indent=indent)

    def text(self) -> str:
        return "\n".join("".join(t for t, _ in line) for line in self.lines)


def _lookup_state(lookup: Lookup) -> str:
    status = {
        "ok": "found",
        "nodata": "no records",
        "nxdomain": "no such name (NXDOMAIN)",
        "error": "failed",
    }.get(lookup.status, lookup.status)
    parts = [status]
    if lookup.ttl is not None:
        parts.append(f"TTL {lookup.ttl}")
    if lookup.status != "error":
        parts.append("DNSSEC-validated" if lookup.authenticated else "not DNSSEC-validated")
    if lookup.error:
        parts.append(visible(lookup.error))
    return " \u00b7 ".join(parts)


def _quoted(strings: Sequence[str]) -> str:
    return " ".join(f'"{visible(s)}"' for s in strings)


def _duration(seconds: int) -> str:
    days, rest = divmod(seconds, 86400)
    if days and not rest:
        return _plural(days, "day")
    if seconds >= 3600:
        hours = seconds / 3600
        return f"{hours:g} hour" + ("" if hours == 1 else "s")
    return _plural(seconds, "second")


def _txt_fields(doc: _Doc, txts: Sequence[Any]) -> None:
    if not txts:
        doc.field("TXT", "(none)", "dim")
    for i, txt in enumerate(txts):
        doc.field("TXT" if len(txts) == 1 else f"TXT #{i + 1}", _quoted(txt.strings))


def _tlsrpt_section(doc: _Doc, rpt: TlsRptResult) -> None:
    doc.heading("TLS-RPT", visible(rpt.name))
    doc.lookup(rpt.lookup)
    if rpt.lookup.status == "error":
        return
    _txt_fields(doc, rpt.txt)
    for i, record in enumerate(rpt.records):
        label = "record" if len(rpt.records) == 1 else f"record #{i + 1}"
        doc.field(label, visible(record.text), "text" if record.valid else "bad")
        doc.field("version", visible(record.version or "(missing)"))
        for key, value in record.extensions.items():
            doc.field("extension", f"{visible(key)}={visible(value)}")
    for i, status in enumerate(rpt.rua):
        doc.field("rua" if i == 0 else "", visible(status.uri.uri))
        reach: dict[bool | None, tuple[str, Style]] = {
            True: ("\u2713 reachable", "good"),
            False: ("\u2717 NOT reachable", "bad"),
            None: ("not checked", "dim"),
        }
        mark, style = reach[status.reachable]
        detail = f": {visible(status.detail)}" if status.detail else ""
        doc.more("  " + mark + detail, style)
    if rpt.record is not None and not rpt.rua:
        doc.field("rua", "(none)", "bad")


def records_document(result: CheckResult) -> _Doc:
    """Every record as found, the parsed policy, MX coverage and TLSA per MX."""
    doc = _Doc()
    _tlsrpt_section(doc, result.tlsrpt)

    sts = result.mta_sts
    doc.heading("MTA-STS", visible(sts.name))
    doc.lookup(sts.lookup)
    if sts.lookup.cname_chain:
        doc.field("CNAME", " \u2192 ".join(visible(c) for c in sts.lookup.cname_chain))
    if sts.lookup.status != "error":
        _txt_fields(doc, sts.txt)
        for record in sts.records:
            doc.field("id", visible(record.id or "(missing)"),
                      "text" if record.valid else "bad")
            for key, value in record.extensions.items():
                doc.field("extension", f"{visible(key)}={visible(value)}")

    fetch = sts.fetch
    if fetch is not None:
        doc.heading("MTA-STS policy", visible(fetch.host))
        doc.field("URL", visible(fetch.url))
        if fetch.addresses:
            doc.field("address", ", ".join(visible(a) for a in fetch.addresses)
                      + f" port {fetch.port}")
        if fetch.error:
            doc.field("fetch", "failed: " + visible(fetch.error), "bad")
        else:
            status = f"HTTP {fetch.status} {visible(fetch.reason or '')}".rstrip()
            doc.field("fetch", f"{status} in {fetch.elapsed:.2f} s",
                      "good" if fetch.ok else "bad")
            if fetch.location:
                doc.field("Location", visible(fetch.location), "bad")
            if fetch.content_type is not None:
                doc.field("content type", visible(fetch.content_type))
            if fetch.too_large:
                doc.field("size", "over 64 KiB", "bad")
            tls = [visible(fetch.tls_version)] if fetch.tls_version else []
            if fetch.certificate_not_after is not None:
                tls.append(f"certificate until {fetch.certificate_not_after:%Y-%m-%d} UTC")
            if tls:
                doc.field("TLS", " \u00b7 ".join(tls))
        policy = sts.policy
        if policy is not None:
            doc.field("version", visible(policy.version or "(missing)"),
                      "text" if policy.version else "bad")
            doc.field("mode", visible(policy.mode or "(missing)"),
                      "text" if policy.mode else "bad")
            if policy.max_age is not None:
                doc.field("max_age", f"{policy.max_age} ({_duration(policy.max_age)})")
            else:
                doc.field("max_age", "(missing)", "bad")
            for i, pattern in enumerate(policy.mx):
                doc.field("mx" if i == 0 else "", visible(pattern))
            if not policy.mx:
                doc.field("mx", "(none)", "dim")
            for key, value in policy.extensions.items():
                doc.field("extension", f"{visible(key)}: {visible(value)}")
            lines = policy.raw.splitlines() or [""]
            for i, line in enumerate(lines):
                doc.field("policy text" if i == 0 else "", "\u2502 " + visible(line), "dim")

    mx = result.mx
    doc.heading("MX", result.domain)
    doc.lookup(mx.lookup)
    if mx.null_mx:
        doc.field("0", ". (null MX: the domain accepts no mail)", "dim")
    if mx.lookup.status != "error" and not mx.hosts and not mx.null_mx:
        doc.field("MX", "(none)", "dim")
    policy_mx = sts.policy is not None and bool(sts.policy.mx)
    for host in mx.hosts:
        addresses = ", ".join(visible(a) for a in host.addresses)
        doc.field(str(host.preference), f"{visible(host.host)}  {addresses}".rstrip())
        if not host.addresses:
            doc.more("  \u2717 no address: " + visible(host.address_error or "unknown"), "bad")
        if host.covered_by:
            doc.more(f"  \u2713 covered by policy mx {visible(host.covered_by)}", "good")
        elif policy_mx:
            doc.more("  \u2717 not covered by the MTA-STS policy", "bad")

    if result.tlsa:
        doc.heading("DANE", "TLSA records of each MX host")
        for entry in result.tlsa:
            doc.subheading(visible(entry.mx), visible(entry.name))
            if entry.bogus:
                doc.field("lookup", "bogus: fails DNSSEC validation", "bad", indent=4)
            else:
                doc.lookup(entry.lookup, indent=4)
            for tlsa in entry.records:
                doc.field("TLSA", tlsa.text, "text" if tlsa.usable else "bad", indent=4)
                meaning = (
                    f"{TLSA_USAGES.get(tlsa.usage, '?')} "
                    f"{TLSA_SELECTORS.get(tlsa.selector, '?')} "
                    f"{TLSA_MATCHING.get(tlsa.mtype, '?')}"
                )
                doc.more("  " + meaning + ("" if tlsa.usable else " \u2014 unusable"),
                         "dim" if tlsa.usable else "bad", indent=4)
            if entry.malformed:
                doc.field("TLSA", f"{entry.malformed} malformed record(s)", "bad", indent=4)
            rpt_mx = entry.tlsrpt
            if rpt_mx is not None:
                style: Style
                if rpt_mx.lookup.status == "error":
                    text, style = f"lookup failed ({visible(rpt_mx.lookup.error)})", "bad"
                elif rpt_mx.records:
                    text = "; ".join(visible(r.text) for r in rpt_mx.records)
                    style = "text" if rpt_mx.valid else "bad"
                else:
                    text, style = "none", "dim"
                doc.field("TLS-RPT", text, style, indent=4)
    return doc


def records_text(result: CheckResult) -> str:
    """The records panel's text."""
    return records_document(result).text()


def finding_text(finding: Finding) -> str:
    """Full text of a finding, as shown under the table and copied."""
    spec = CATALOGUE.get(finding.code)
    head = f"{SEVERITY_LABEL.get(finding.severity, finding.severity)} \u00b7 {finding.code}"
    if spec is not None:
        head += f" \u2014 {spec.title}"
    return (
        f"{head}\n{visible(finding.message)}\n\nAbout: {visible(finding.subject)}\n"
        f"See: {finding.rfc}"
    )


# --------------------------------------------------------------------------- the panel


State = Literal["empty", "running", "result", "cancelled", "failed"]


class DnsTab(QWidget):
    """Check one domain at a time; show its findings and records.

    ``settings``: where the resolver settings are read (default: ``QSettings()``).
    ``options``: the base :class:`CheckOptions` (HTTPS port, CA file, rua probing);
    the resolver and timeout from the settings replace its own.
    """

    check_started = Signal(str)  # the normalized domain
    check_finished = Signal(object)  # the CheckResult
    check_failed = Signal(str)  # a plain message
    check_cancelled = Signal(str)  # the domain

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        settings: QSettings | None = None,
        options: CheckOptions | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("dns_tab")
        self.settings = settings if settings is not None else QSettings()
        self.options = options or CheckOptions()
        self.result: CheckResult | None = None
        self.state: State = "empty"
        self._task: Task[CheckResult] | None = None
        self._domain = ""
        self._policies: dict[str, PolicySnapshot] = {}
        self._known: list[str] = []
        self.preferences_dialog: PreferencesDialog | None = None

        self._build_top_row()
        self.stack = QStackedWidget(self)
        self._build_placeholder()
        self._build_results()
        self.stack.addWidget(self.placeholder)
        self.stack.addWidget(self.results)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(10, 10, 10, 10)
        lay.setSpacing(8)
        lay.addWidget(self.top)
        lay.addWidget(self.stack, 1)
        self._set_state("empty")

    # ----------------------------------------------------------------- building

    def _build_top_row(self) -> None:
        style = self.style()
        self.top = QWidget(self)
        row = QHBoxLayout(self.top)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(6)
        label = QLabel("&Domain:", self.top)
        label.setTextFormat(Qt.TextFormat.PlainText)
        self.domain_box = QComboBox(self.top)
        self.domain_box.setObjectName("dns_domain")
        self.domain_box.setEditable(True)
        self.domain_box.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.domain_box.setFixedWidth(280)
        self.domain_box.setMaxVisibleItems(20)
        self.domain_box.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.domain_box.setToolTip("The mail domain to check; the list offers the policy "
                                   "domains of your reports")
        line_edit = self.domain_box.lineEdit()
        assert line_edit is not None  # the combo box is editable
        self.domain_edit: QLineEdit = line_edit
        self.domain_edit.setPlaceholderText("example.com")
        self.domain_edit.setClearButtonEnabled(True)
        completer = QCompleter(self.domain_box.model(), self.domain_box)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.domain_box.setCompleter(completer)
        label.setBuddy(self.domain_box)

        self.check_button = QPushButton("Check", self.top)
        self.check_button.setObjectName("dns_check")
        self.check_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_BrowserReload))
        self.check_button.setToolTip("Look up and diagnose the domain (Enter)")
        self.cancel_button = QPushButton("Cancel", self.top)
        self.cancel_button.setObjectName("dns_cancel")
        self.cancel_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_BrowserStop))
        self.cancel_button.setToolTip("Stop the running check (Esc)")

        self.busy = QProgressBar(self.top)
        self.busy.setRange(0, 0)
        self.busy.setTextVisible(False)
        self.busy.setFixedWidth(80)
        self.busy.setMaximumHeight(12)
        self.status = QLabel(self.top)
        self.status.setObjectName("dns_status")
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.status.setMinimumWidth(120)
        self.status.setForegroundRole(QPalette.ColorRole.PlaceholderText)

        self.resolver_button = QToolButton(self.top)
        self.resolver_button.setObjectName("dns_resolver")
        self.resolver_button.setAutoRaise(True)
        self.resolver_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.resolver_button.setIcon(
            style.standardIcon(QStyle.StandardPixmap.SP_DriveNetIcon)
        )
        self.resolver_button.setToolTip("Resolver and timeout (Preferences)")
        self.resolver_button.clicked.connect(self.open_preferences)

        row.addWidget(label)
        row.addWidget(self.domain_box)
        row.addWidget(self.check_button)
        row.addWidget(self.cancel_button)
        row.addSpacing(6)
        row.addWidget(self.busy)
        row.addWidget(self.status, 1)
        row.addWidget(self.resolver_button)

        self.check_button.clicked.connect(self.start_check)
        self.cancel_button.clicked.connect(self.cancel)
        # Enter starts a check. Not through returnPressed: an editable QComboBox hands
        # the key back to its line edit, which would emit it twice.
        self.domain_edit.installEventFilter(self)
        self.domain_box.editTextChanged.connect(self._update_buttons)
        cancel_action = QAction(self)
        cancel_action.setShortcut(QKeySequence(Qt.Key.Key_Escape))
        cancel_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        cancel_action.triggered.connect(self.cancel)
        self.addAction(cancel_action)
        self.cancel_action = cancel_action

    def _build_placeholder(self) -> None:
        self.placeholder = QWidget(self)
        self.placeholder.setObjectName("dns_placeholder")
        # A fixed-width column: word-wrapped labels then get their full height.
        column = QWidget(self.placeholder)
        column.setFixedWidth(620)
        inner = QVBoxLayout(column)
        inner.setContentsMargins(0, 0, 0, 0)
        inner.setSpacing(10)
        self.placeholder_icon = QLabel(column)
        self.placeholder_icon.setTextFormat(Qt.TextFormat.PlainText)
        self.placeholder_icon.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder_title = QLabel(column)
        self.placeholder_title.setObjectName("dns_placeholder_title")
        self.placeholder_title.setTextFormat(Qt.TextFormat.PlainText)
        self.placeholder_title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder_title.setWordWrap(True)
        font = self.placeholder_title.font()
        font.setPointSizeF(font.pointSizeF() * 1.35)
        font.setBold(True)
        self.placeholder_title.setFont(font)
        self.placeholder_text = QLabel(column)
        self.placeholder_text.setObjectName("dns_placeholder_text")
        self.placeholder_text.setTextFormat(Qt.TextFormat.PlainText)
        self.placeholder_text.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.placeholder_text.setWordWrap(True)
        self.placeholder_text.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
        )
        inner.addWidget(self.placeholder_icon)
        inner.addWidget(self.placeholder_title)
        inner.addWidget(self.placeholder_text)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(column)
        row.addStretch(1)
        outer = QVBoxLayout(self.placeholder)
        outer.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(2)

    def _build_results(self) -> None:
        self.results = QWidget(self)
        lay = QVBoxLayout(self.results)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(8)

        # summary banner
        self.banner = QFrame(self.results)
        self.banner.setObjectName("dns_banner")
        self.banner.setFrameShape(QFrame.Shape.StyledPanel)
        banner_row = QHBoxLayout(self.banner)
        banner_row.setContentsMargins(12, 8, 12, 8)
        banner_row.setSpacing(12)
        self.banner_icon = QLabel(self.banner)
        self.banner_icon.setTextFormat(Qt.TextFormat.PlainText)
        self.banner_icon.setFixedSize(32, 32)
        text_col = QVBoxLayout()
        text_col.setSpacing(2)
        self.banner_title = QLabel(self.banner)
        self.banner_title.setObjectName("dns_banner_title")
        self.banner_title.setTextFormat(Qt.TextFormat.PlainText)
        self.banner_title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.banner_title.font()
        font.setPointSizeF(font.pointSizeF() * 1.2)
        font.setBold(True)
        self.banner_title.setFont(font)
        self.banner_detail = QLabel(self.banner)
        self.banner_detail.setObjectName("dns_banner_detail")
        self.banner_detail.setTextFormat(Qt.TextFormat.PlainText)
        self.banner_detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.banner_detail.setWordWrap(True)
        text_col.addWidget(self.banner_title)
        text_col.addWidget(self.banner_detail)
        self.copy_report_button = QPushButton("Copy report", self.banner)
        self.copy_report_button.setObjectName("dns_copy_report")
        self.copy_report_button.setToolTip(
            "Copy the whole check as text (the same as 'tlsrpt-gui check')"
        )
        self.copy_json_button = QPushButton("Copy JSON", self.banner)
        self.copy_json_button.setObjectName("dns_copy_json")
        self.copy_json_button.setToolTip(
            "Copy the whole check as JSON (the same as 'tlsrpt-gui check --json')"
        )
        self.copy_report_button.clicked.connect(self.copy_report)
        self.copy_json_button.clicked.connect(self.copy_json)
        banner_row.addWidget(self.banner_icon, 0, Qt.AlignmentFlag.AlignTop)
        banner_row.addLayout(text_col, 1)
        banner_row.addWidget(self.copy_report_button, 0, Qt.AlignmentFlag.AlignVCenter)
        banner_row.addWidget(self.copy_json_button, 0, Qt.AlignmentFlag.AlignVCenter)
        lay.addWidget(self.banner)

        # findings: table + full text of the selected one
        self.findings_model = FindingsModel(self)
        self.findings_proxy = QSortFilterProxyModel(self)
        self.findings_proxy.setSourceModel(self.findings_model)
        self.findings_proxy.setSortRole(SORT_ROLE)
        self.findings_proxy.setSortCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.findings_view = QTableView(self.results)
        self.findings_view.setObjectName("dns_findings")
        self.findings_view.setModel(self.findings_proxy)
        self.findings_view.setSortingEnabled(True)
        self.findings_view.sortByColumn(FindingsModel.SEVERITY, Qt.SortOrder.AscendingOrder)
        self.findings_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.findings_view.setSelectionMode(
            QAbstractItemView.SelectionMode.ExtendedSelection
        )
        self.findings_view.setAlternatingRowColors(True)
        self.findings_view.setWordWrap(False)
        self.findings_view.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.findings_view.verticalHeader().setVisible(False)
        self.findings_view.verticalHeader().setDefaultSectionSize(
            self.findings_view.fontMetrics().height() + 10
        )
        self.findings_view.setShowGrid(False)
        self.findings_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.findings_view.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        header = self.findings_view.horizontalHeader()
        header.setHighlightSections(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(FindingsModel.MESSAGE, QHeaderView.ResizeMode.Stretch)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.findings_view.setColumnWidth(FindingsModel.SEVERITY, 88)
        metrics = self.findings_view.fontMetrics()
        code_width = max(metrics.horizontalAdvance(code) for code in CATALOGUE) + 16
        self.findings_view.setColumnWidth(FindingsModel.CODE, code_width)
        self.findings_view.setColumnWidth(FindingsModel.RFC, 112)
        self.findings_view.setColumnWidth(FindingsModel.SUBJECT, 140)
        self.copy_findings_action = QAction("&Copy", self.findings_view)
        self.copy_findings_action.setShortcut(QKeySequence.StandardKey.Copy)
        self.copy_findings_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.copy_findings_action.triggered.connect(self.copy_selected_findings)
        self.findings_view.addAction(self.copy_findings_action)
        self.findings_view.selectionModel().selectionChanged.connect(self._on_selection)

        self.finding_detail = QTextEdit(self.results)
        self.finding_detail.setObjectName("dns_finding_detail")
        self.finding_detail.setReadOnly(True)
        self.finding_detail.setAcceptRichText(False)  # filled through a cursor, as plain text
        self.finding_detail.setPlaceholderText("Select a finding to read all of it.")
        self.finding_detail.setLineWrapMode(QTextEdit.LineWrapMode.WidgetWidth)
        self.finding_detail.setHorizontalScrollBarPolicy(
            Qt.ScrollBarPolicy.ScrollBarAlwaysOff
        )

        fixed = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.records_view = QPlainTextEdit(self.results)
        self.records_view.setObjectName("dns_records")
        self.records_view.setReadOnly(True)
        self.records_view.setFont(fixed)
        self.records_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.records_view.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )

        left = QSplitter(Qt.Orientation.Vertical, self.results)
        left.addWidget(self._titled("Findings", self.findings_view))
        left.addWidget(self._titled("Selected finding", self.finding_detail))
        left.setStretchFactor(0, 3)
        left.setStretchFactor(1, 1)
        left.setChildrenCollapsible(False)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self.results)
        self.splitter.setObjectName("dns_splitter")
        self.splitter.addWidget(left)
        self.splitter.addWidget(self._titled("Records as found", self.records_view))
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setSizes([740, 520])
        left.setSizes([470, 200])
        self.splitter.setChildrenCollapsible(False)
        lay.addWidget(self.splitter, 1)
        self.left_splitter = left

    def _titled(self, title: str, widget: QWidget) -> QWidget:
        box = QWidget(self.results)
        col = QVBoxLayout(box)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(3)
        label = QLabel(title, box)
        label.setTextFormat(Qt.TextFormat.PlainText)
        font = label.font()
        font.setBold(True)
        label.setFont(font)
        col.addWidget(label)
        col.addWidget(widget, 1)
        return box

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            watched is self.domain_edit
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        ):
            completer = self.domain_box.completer()
            popup = completer.popup() if completer is not None else None
            if popup is None or not popup.isVisible():
                self.start_check()
                return True
        return super().eventFilter(watched, event)

    # ----------------------------------------------------------------- public API

    def set_known_domains(self, domains: list[str]) -> None:
        """Offer *domains* (the policy domains of the index) in the domain field."""
        unique = sorted({d.strip().rstrip(".") for d in domains if d and d.strip()},
                        key=str.lower)
        if unique == self._known:
            return
        self._known = unique
        text = self.domain_box.currentText()
        self.domain_box.blockSignals(True)
        self.domain_box.clear()
        self.domain_box.addItems(unique)
        self.domain_box.setCurrentIndex(-1)
        self.domain_box.setEditText(text)
        self.domain_box.blockSignals(False)
        self._update_buttons()

    def known_domains(self) -> list[str]:
        return list(self._known)

    def check_domain(self, domain: str) -> None:
        """Put *domain* in the field and start a check (cancelling a running one)."""
        self.domain_box.setEditText(domain)
        self.start_check()

    @property
    def running(self) -> bool:
        return self._task is not None

    @property
    def task(self) -> Task[CheckResult] | None:
        """The running check's task, if any."""
        return self._task

    def start_check(self) -> None:
        """Check the domain in the field with the resolver from the settings."""
        text = self.domain_box.currentText().strip()
        if not text:
            self.domain_edit.setFocus()
            return
        self._abandon()
        try:
            domain = normalize_domain(text)
        except ValueError as exc:
            self._domain = text
            self._fail(str(exc))
            return
        resolver = ResolverSettings.load(self.settings)
        options = resolver.check_options(self.options)
        previous = self._policies.get(domain)
        self._domain = domain

        def job(task: Task[CheckResult]) -> CheckResult:  # runs on a worker thread
            return check_domain(
                domain,
                options,
                cancel=task.cancel_event,
                progress=lambda what: task.report_progress(0, 0, what),
                previous_policy=previous,
            )

        self.result = None
        self._set_state("running")
        self.status.setText(f"Checking {domain} via {resolver.describe()}\u2026")
        self._task = run_task(
            job,
            on_result=self._on_task_finished,
            on_error=self._on_task_failed,
            on_progress=self._on_task_progress,
        )
        self.check_started.emit(domain)

    def cancel(self) -> None:
        """Stop the running check; its result, should it still come, is dropped."""
        if self._task is None:
            return
        self._abandon()
        self._set_state("cancelled")
        self.status.setText(f"Check of {self._domain} cancelled")
        self.check_cancelled.emit(self._domain)

    def refresh_settings(self) -> None:
        """The Preferences were saved elsewhere: show the new resolver (checks read it anyway)."""
        self._update_resolver_button()

    def shutdown(self) -> None:
        """Cancel a running check (the window is closing); nothing more is shown."""
        self._abandon()

    def copy_report(self) -> None:
        if self.result is not None:
            QGuiApplication.clipboard().setText(format_text(self.result))
            self.status.setText("Report copied to the clipboard")

    def copy_json(self) -> None:
        if self.result is not None:
            text = json.dumps(self.result.to_dict(), indent=2, ensure_ascii=False)
            QGuiApplication.clipboard().setText(text + "\n")
            self.status.setText("JSON copied to the clipboard")

    def copy_selected_findings(self) -> None:
        rows = sorted({i.row() for i in self.findings_view.selectionModel().selectedRows()})
        if not rows:
            return
        texts = []
        for row in rows:
            finding = self.findings_proxy.index(row, 0).data(FINDING_ROLE)
            texts.append(finding_text(finding))
        QGuiApplication.clipboard().setText("\n\n".join(texts) + "\n")

    def open_preferences(self) -> PreferencesDialog:
        """Show the Preferences on the DNS page (window-modal, does not block)."""
        dialog = PreferencesDialog(self.settings, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show_section(dialog.resolver_section)
        dialog.settings_saved.connect(self._update_resolver_button)
        dialog.open()
        self.preferences_dialog = dialog
        return dialog

    # ----------------------------------------------------------------- task slots

    def _abandon(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()

    def _on_task_progress(self, _done: int, _total: int, text: str) -> None:
        if self.sender() is not self._task or self._task is None:
            return
        self.status.setText(f"Checking {self._domain}: {text}\u2026")

    def _on_task_finished(self, result: CheckResult) -> None:
        if self.sender() is not self._task or self._task is None:
            return  # a cancelled or superseded check
        self._task = None
        self.result = result
        sts = result.mta_sts
        if sts.id is not None and sts.policy is not None:
            self._policies[result.domain] = PolicySnapshot(sts.id, sts.policy.raw)
        self._show_result(result)
        self._set_state("result")
        when = time.strftime("%H:%M:%S")
        self.status.setText(
            f"Checked {result.domain} at {when} in {result.elapsed:.2f} s via {result.resolver}"
        )
        self.status.setToolTip(self.status.text())
        self.check_finished.emit(result)

    def _on_task_failed(self, exc: BaseException) -> None:
        if self.sender() is not self._task or self._task is None:
            return
        self._task = None
        if isinstance(exc, CheckCancelled):
            self._set_state("cancelled")
            self.status.setText(f"Check of {self._domain} cancelled")
            self.check_cancelled.emit(self._domain)
            return
        if isinstance(exc, ResolverSetupError):
            self._fail(f"The resolver cannot be used: {exc}. Change it in the Preferences "
                       "(Resolver\u2026 button).")
            return
        if isinstance(exc, ValueError):
            self._fail(str(exc))
            return
        text = getattr(exc, "__traceback_text__", "")
        log.error("the DNS check of %s failed: %r\n%s", self._domain, exc, text)
        self._fail(f"The check stopped on an internal error ({type(exc).__name__}: {exc}). "
                   "Details are in the log.")
        sys.excepthook(type(exc), exc, exc.__traceback__)

    def _fail(self, message: str) -> None:
        message = message[:1].upper() + message[1:]
        self._set_state("failed", message)
        self.status.setText("Check failed")
        self.check_failed.emit(message)

    # ----------------------------------------------------------------- display

    def _set_state(self, state: State, message: str = "") -> None:
        self.state = state
        running = state == "running"
        self.busy.setVisible(running)
        self.cancel_button.setEnabled(running)
        style = self.style()
        if state == "result":
            self.stack.setCurrentWidget(self.results)
        else:
            self.stack.setCurrentWidget(self.placeholder)
            self.findings_model.set_findings([])
            self.records_view.clear()
            self.finding_detail.clear()
            icon, title, text = {
                "empty": (QStyle.StandardPixmap.SP_FileDialogContentsView, EMPTY_TITLE, EMPTY_TEXT),
                "running": (QStyle.StandardPixmap.SP_BrowserReload,
                            f"Checking {self._domain}\u2026",
                            "Looking up the TLS-RPT, MTA-STS, MX and TLSA records and "
                            "fetching the MTA-STS policy. Press Cancel (or Esc) to stop."),
                "cancelled": (QStyle.StandardPixmap.SP_BrowserStop,
                              f"Check of {self._domain} cancelled",
                              "No result is shown for a cancelled check. Press Check to "
                              "start again."),
                "failed": (QStyle.StandardPixmap.SP_MessageBoxCritical,
                           f"Could not check {visible(self._domain)}", message),
            }[state]
            self.placeholder_icon.setPixmap(style.standardIcon(icon).pixmap(48, 48))
            self.placeholder_title.setText(title)
            self.placeholder_text.setText(text)
        self._update_buttons()
        self._update_resolver_button()

    def _update_buttons(self, *_args: object) -> None:
        self.check_button.setEnabled(bool(self.domain_box.currentText().strip()))
        has_result = self.result is not None and self.state == "result"
        self.copy_report_button.setEnabled(has_result)
        self.copy_json_button.setEnabled(has_result)

    def _update_resolver_button(self, *_args: object) -> None:
        self.resolver_button.setText(
            "Resolver: " + ResolverSettings.load(self.settings).describe()
        )

    def _show_result(self, result: CheckResult) -> None:
        counts = severity_counts(result.findings)
        if counts["error"]:
            severity, bg, fg = "error", "#fdecea", "#8e1b1b"
            pixmap = QStyle.StandardPixmap.SP_MessageBoxCritical
        elif counts["warning"]:
            severity, bg, fg = "warning", "#fff4e0", "#7a4a00"
            pixmap = QStyle.StandardPixmap.SP_MessageBoxWarning
        else:
            severity, bg, fg = "ok", "#e8f5e9", "#1b5e20"
            pixmap = QStyle.StandardPixmap.SP_DialogApplyButton
        border = {"error": "#c62828", "warning": "#b26a00", "ok": "#2e7d32"}[severity]
        self.banner.setProperty("severity", severity)
        self.banner.setStyleSheet(
            f"QFrame#dns_banner {{ background: {bg}; border: 1px solid {border}; "
            f"border-left: 5px solid {border}; border-radius: 4px; }}"
            f"QFrame#dns_banner QLabel {{ color: {fg}; background: transparent; "
            "border: none; }"
        )
        self.banner_icon.setPixmap(self.style().standardIcon(pixmap).pixmap(32, 32))
        self.banner_title.setText(f"{result.domain}: {summary_title(result)}")
        self.banner_detail.setText(summary_detail(result))

        self.findings_model.set_findings(result.findings)
        self.findings_view.sortByColumn(FindingsModel.SEVERITY, Qt.SortOrder.AscendingOrder)
        self._render_records(result)
        self.finding_detail.clear()
        if self.findings_proxy.rowCount() > 0:
            self.findings_view.selectRow(0)

    def _render_records(self, result: CheckResult) -> None:
        doc = records_document(result)
        view = self.records_view
        view.clear()
        base = QTextCharFormat()
        base.setFont(view.font())
        palette = view.palette()
        formats: dict[str, QTextCharFormat] = {}
        dim = palette.color(QPalette.ColorRole.PlaceholderText)
        for name in ("heading", "heading-dim", "subheading", "label", "text", "dim", "bad",
                     "good"):
            fmt = QTextCharFormat(base)
            if name in ("heading", "subheading"):
                fmt.setFontWeight(QFont.Weight.Bold)
            if name in ("label", "dim", "heading-dim"):
                fmt.setForeground(dim)
            elif name == "bad":
                fmt.setForeground(SEVERITY_COLOUR["error"])
            elif name == "good":
                fmt.setForeground(QColor(0x2E, 0x7D, 0x32))
            formats[name] = fmt
        cursor = QTextCursor(view.document())
        cursor.beginEditBlock()
        for i, line in enumerate(doc.lines):
            if i:
                cursor.insertBlock()
            for text, style in line:
                cursor.insertText(text, formats[style])  # plain text, never markup
        cursor.endEditBlock()
        view.moveCursor(QTextCursor.MoveOperation.Start)

    def _on_selection(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        rows = self.findings_view.selectionModel().selectedRows()
        if not rows:
            self.finding_detail.clear()
            return
        finding = rows[0].data(FINDING_ROLE)
        if isinstance(finding, Finding):
            self._render_finding(finding)

    def _render_finding(self, finding: Finding) -> None:
        view = self.finding_detail
        view.clear()
        head, _, rest = finding_text(finding).partition("\n")
        cursor = QTextCursor(view.document())
        bold = QTextCharFormat()
        bold.setFontWeight(QFont.Weight.Bold)
        bold.setForeground(SEVERITY_COLOUR.get(finding.severity, QColor(0, 0, 0)))
        cursor.insertText(head, bold)
        cursor.insertBlock()
        cursor.insertText(rest, QTextCharFormat())
        view.moveCursor(QTextCursor.MoveOperation.Start)
