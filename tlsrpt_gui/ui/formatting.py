"""How values from the index are shown: dates (UTC or local), numbers, IDN domains.

Everything here returns plain strings; callers put them in models and labels
that render plain text only.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Final

from PySide6.QtCore import QDate, QDateTime, QLocale, QObject, QTime, QTimeZone, Signal

from tlsrpt_gui.core.report import domain_to_unicode


class TimeMode(QObject):
    """The app-wide choice between UTC and local time for every date shown."""

    changed = Signal(bool)  # True when UTC

    def __init__(self, utc: bool = True, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._utc = utc

    @property
    def utc(self) -> bool:
        return self._utc

    def set_utc(self, utc: bool) -> None:
        if utc != self._utc:
            self._utc = utc
            self.changed.emit(utc)


def _qdatetime(ts: int, utc: bool) -> QDateTime:
    if utc:
        return QDateTime.fromSecsSinceEpoch(int(ts), QTimeZone.utc())
    # Python's local time follows TZ changes at run time (Qt caches the zone).
    lt = datetime.fromtimestamp(int(ts))
    return QDateTime(QDate(lt.year, lt.month, lt.day), QTime(lt.hour, lt.minute, lt.second))


def _local_zone_name(ts: int) -> str:
    return datetime.fromtimestamp(int(ts)).astimezone().tzname() or ""


def _iso_locale() -> bool:
    """The C/POSIX locale has no sensible date format: use ISO 8601 there."""
    return QLocale().name() in ("C", "en_US_POSIX")


def format_date(ts: int | None, utc: bool) -> str:
    """A day in the user's locale, e.g. ``29/11/2026``."""
    if ts is None:
        return ""
    d = _qdatetime(ts, utc).date()
    if _iso_locale():
        return d.toString("yyyy-MM-dd")
    return QLocale().toString(d, QLocale.FormatType.ShortFormat)


def format_datetime(ts: int | None, utc: bool) -> str:
    """A date and time in the user's locale, with the zone (``UTC`` or the local one)."""
    if ts is None:
        return ""
    dt = _qdatetime(ts, utc)
    if _iso_locale():
        text = dt.toString("yyyy-MM-dd HH:mm")
    else:
        text = QLocale().toString(dt, QLocale.FormatType.ShortFormat)
    return f"{text} UTC" if utc else f"{text} {_local_zone_name(ts)}"


def format_period(start: int | None, end: int | None, utc: bool) -> str:
    """A report period: one day when it spans at most a day, else ``from – to``."""
    if start is None:
        return ""
    if end is None or end - start <= 86400:
        return format_date(start, utc)
    return f"{format_date(start, utc)} – {format_date(end, utc)}"


#: the ISO texts of the times :func:`iso_utc` wrote last (reports start at midnight, so
#: a million rows hold a few thousand times): ``strftime`` costs a few microseconds a
#: call, as each imports the time module through PySide6's import hook
_ISO_UTC: dict[int, str] = {}
_ISO_UTC_MAX: Final = 65536


def iso_utc(ts: int | None) -> str:
    if ts is None:
        return ""
    ts = int(ts)
    text = _ISO_UTC.get(ts)
    if text is None:
        text = datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        if len(_ISO_UTC) >= _ISO_UTC_MAX:
            _ISO_UTC.clear()
        _ISO_UTC[ts] = text
    return text


def format_int(n: int | float | None) -> str:
    """A count as the user's locale writes it; past 64 bits (absurd counts a stranger's
    report may give, summed) as the nearest it can show."""
    if n is None:
        return ""
    if -(2**63) <= n < 2**63:
        return QLocale().toString(int(n))
    return QLocale().toString(float(n), "f", 0)


def format_percent(value: float | None) -> str:
    """A share as a percentage that never rounds a failure away: 4523 of 4525
    is "99.96 %", not "100.0 %", and one success in a million is not "0.0 %"."""
    if value is None:
        return "–"
    pct = float(value) * 100.0
    decimals = 1
    while decimals < 4 and 0.0 < pct < 100.0 and round(pct, decimals) in (0.0, 100.0):
        decimals += 1
    if 99.0 <= pct < 100.0 and decimals == 1:
        decimals = 2
    return QLocale().toString(pct, "f", decimals) + " %"


def domain_to_ascii(domain: str) -> str:
    """The A-label form of a (possibly Unicode) domain; unchanged when it cannot be encoded."""
    text = domain.strip().rstrip(".").lower()
    if text.isascii():
        return text
    try:
        return text.encode("idna").decode("ascii")
    except UnicodeError:
        return text


def domains_to_unicode(joined: str, sep: str = ", ") -> str:
    return sep.join(domain_to_unicode(d) for d in joined.split(sep)) if joined else joined


def json_list(text: str | None) -> list[str]:
    """A JSON list of strings as stored by the index; a bad value becomes one item."""
    if not text:
        return []
    try:
        value = json.loads(text)
    except ValueError:
        return [text]
    if isinstance(value, list):
        return [str(v) for v in value]
    return [str(value)]


def menu_text(text: str) -> str:
    """``text`` as a menu item shows it: Qt reads ``&`` as the mark of a shortcut key,
    so a reporter named "AT&T" or a folder "R&D" needs each doubled; bidi controls are
    shown (see :func:`visible_text`)."""
    return visible_text(text).replace("&", "&&")


#: bidi embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069): a stranger's
#: text can use them to show "Org<U+202E>gnp.exe" as "Orgexe.png"
_BIDI_CONTROLS: Final = dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A)])


def visible_text(text: str) -> str:
    """Untrusted text as shown: each bidi control that could reorder what follows it
    is shown as its code point (``⟨U+202E⟩``) instead of acting."""
    if text.isascii() or not any(ord(ch) in _BIDI_CONTROLS for ch in text):
        return text
    return "".join(f"\u27e8U+{ord(ch):04X}\u27e9" if ord(ch) in _BIDI_CONTROLS else ch for ch in text)
