"""The one palette of the app, light or dark, following the system theme: the charts,
and the colours of the tables' values.

Failure categories (RFC 8460 §4.3) and policy kinds keep one colour in every
chart; only the shade changes between the light and the dark theme.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette


@dataclass(frozen=True, slots=True)
class ChartPalette:
    dark: bool
    background: str
    card: str
    foreground: str
    muted: str
    grid: str
    success: str
    failure: str
    rate: str
    #: RFC 8460 category -> colour (see core.stats.CATEGORIES)
    categories: dict[str, str] = field(default_factory=dict)
    #: policy kind -> colour (see core.stats.POLICY_KINDS)
    policy_kinds: dict[str, str] = field(default_factory=dict)
    #: a certificate-* result type -> colour (all in the negotiation hue family)
    certificates: dict[str, str] = field(default_factory=dict)
    #: missing-reports strip: a report came, none came, outside the checked window
    reported: str = ""
    missing: str = ""
    outside: str = ""

    def category(self, name: str) -> QColor:
        return QColor(self.categories.get(name, self.categories["other"]))

    def policy_kind(self, name: str) -> QColor:
        return QColor(self.policy_kinds.get(name, self.policy_kinds["other"]))

    def certificate(self, result_type: str) -> QColor:
        return QColor(self.certificates.get(result_type, self.certificates["other"]))

    def rate_colour(self, rate: float | None) -> QColor:
        """Green when (nearly) every session succeeded, amber below 99 %, red below 90 %."""
        if rate is None:
            return QColor(self.muted)
        if rate >= 0.99:
            return QColor(self.success)
        if rate >= 0.90:
            return QColor(self.policy_kinds["sts-testing"])
        return QColor(self.failure)


LIGHT = ChartPalette(
    dark=False,
    background="#f6f8fa",
    card="#ffffff",
    foreground="#1f2328",
    muted="#6e7781",
    grid="#d0d7de",
    success="#2da44e",
    failure="#cf222e",
    rate="#1b6ac9",
    categories={"negotiation": "#e8590c", "dane": "#8250df", "sts": "#0a7ea4", "other": "#8c959f"},
    policy_kinds={
        "sts-enforce": "#1a7f37",
        "sts-testing": "#bf8700",
        "sts-other": "#d4a72c",
        "tlsa": "#8250df",
        "no-policy-found": "#8c959f",
        "other": "#57606a",
    },
    certificates={
        "certificate-expired": "#e8590c",
        "certificate-host-mismatch": "#f59f00",
        "certificate-not-trusted": "#c92a2a",
        "other": "#a61e4d",
    },
    reported="#8fd19e",
    missing="#cf222e",
    outside="#eaeef2",
)

DARK = ChartPalette(
    dark=True,
    background="#16181c",
    card="#1f2228",
    foreground="#e6edf3",
    muted="#8b949e",
    grid="#373e47",
    success="#3fb950",
    failure="#f85149",
    rate="#58a6ff",
    categories={"negotiation": "#ff8c42", "dane": "#b083f0", "sts": "#39c5cf", "other": "#8b949e"},
    policy_kinds={
        "sts-enforce": "#3fb950",
        "sts-testing": "#d29922",
        "sts-other": "#e3b341",
        "tlsa": "#b083f0",
        "no-policy-found": "#8b949e",
        "other": "#6e7681",
    },
    certificates={
        "certificate-expired": "#ff8c42",
        "certificate-host-mismatch": "#ffc53d",
        "certificate-not-trusted": "#ff6b6b",
        "other": "#f06595",
    },
    reported="#2ea043",
    missing="#f85149",
    outside="#2d333b",
)


def system_is_dark() -> bool:
    app = QGuiApplication.instance()
    if not isinstance(app, QGuiApplication):
        return False
    scheme = app.styleHints().colorScheme()
    if scheme == Qt.ColorScheme.Dark:
        return True
    if scheme == Qt.ColorScheme.Light:
        return False
    window = app.palette().color(QPalette.ColorRole.Window)
    return window.lightness() < 128


def current_palette() -> ChartPalette:
    """The palette for the system theme now."""
    return DARK if system_is_dark() else LIGHT
