"""Parse TLS-RPT (RFC 8460) JSON into dataclasses: lenient, lossless, diagnosed.

Real reporters deviate from RFC 8460 in many small ways (see the spec digest §2 and
§7). This parser accepts every deviation that still lets it read the data, and
records each as a :class:`Diagnostic` with a severity, a stable code and a plain
message. A report is rejected (:class:`ReportParseError`) only when its
organization, date range or policies cannot be read. The caller keeps the raw
bytes, so a later parser can always re-read what this one made of them.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal

try:  # orjson is a dependency, but the parser works without it
    import orjson

    _orjson_loads: Any = orjson.loads
    _ORJSON_ERROR: type[Exception] = orjson.JSONDecodeError
except ImportError:  # pragma: no cover - exercised only without orjson
    _orjson_loads = None
    _ORJSON_ERROR = ValueError

Severity = Literal["error", "warning", "info"]

#: Default caps; the sources module enforces the byte caps before this parser runs.
MAX_JSON_DEPTH: Final = 64
#: failure-detail rows kept per report; the rest are counted in one diagnostic
MAX_FAILURE_DETAILS: Final = 100_000
#: diagnostics kept per report; the rest are counted in one diagnostic
MAX_DIAGNOSTICS: Final = 10_000
MAX_REPORT_BYTES: Final = 20 * 1024 * 1024

KNOWN_POLICY_TYPES: Final = frozenset({"sts", "tlsa", "no-policy-found"})

#: RFC 8460 §4.3 categories of result types.
NEGOTIATION_RESULTS: Final = frozenset(
    {
        "starttls-not-supported",
        "certificate-host-mismatch",
        "certificate-expired",
        "certificate-not-trusted",
        "validation-failure",
    }
)
DANE_RESULTS: Final = frozenset({"tlsa-invalid", "dnssec-invalid", "dane-required"})
#: the DANE results that only a ``tlsa`` policy can give ("dane-required" is not one)
DANE_ONLY_RESULTS: Final = DANE_RESULTS - {"dane-required"}
STS_RESULTS: Final = frozenset({"sts-policy-fetch-error", "sts-policy-invalid", "sts-webpki-invalid"})
KNOWN_RESULT_TYPES: Final = NEGOTIATION_RESULTS | DANE_RESULTS | STS_RESULTS


def result_category(result_type: str) -> str:
    """The RFC 8460 §4.3 category of a result type: negotiation, dane, sts or other."""
    if result_type in NEGOTIATION_RESULTS:
        return "negotiation"
    if result_type in DANE_RESULTS:
        return "dane"
    if result_type in STS_RESULTS:
        return "sts"
    return "other"


class ReportParseError(Exception):
    """The input cannot be read as a TLS report. ``str(err)`` is a plain reason."""


@dataclass(frozen=True, slots=True)
class Diagnostic:
    severity: Severity
    code: str
    message: str
    path: str = ""


@dataclass(slots=True)
class FailureDetail:
    result_type: str
    failed_session_count: int
    sending_mta_ip: str | None = None
    receiving_mx_hostname: str | None = None
    receiving_mx_helo: str | None = None
    receiving_ip: str | None = None
    additional_information: str | None = None
    failure_reason_code: str | None = None


@dataclass(slots=True)
class Policy:
    policy_type: str
    policy_strings: list[str]
    policy_domain: str
    #: where ``policy_domain`` came from: report, header, filename or "" (unknown)
    policy_domain_source: str
    mx_hosts: list[str]
    successful_sessions: int
    failed_sessions: int
    failure_details: list[FailureDetail] = field(default_factory=list)

    @property
    def sts_mode(self) -> str | None:
        """The ``mode`` of an sts policy-string, if one is given."""
        return sts_mode(self.policy_strings)


def sts_mode(policy_strings: list[str]) -> str | None:
    """The ``mode`` line's value of an sts policy-string, if it has one."""
    for line in policy_strings:
        key, sep, value = line.partition(":")
        if sep and key.strip() == "mode":
            return value.strip()
    return None


@dataclass(slots=True)
class Report:
    organization_name: str
    report_id: str
    contact_info: str | None
    start: datetime
    end: datetime
    policies: list[Policy]
    diagnostics: list[Diagnostic]

    @property
    def successful_sessions(self) -> int:
        return sum(p.successful_sessions for p in self.policies)

    @property
    def failed_sessions(self) -> int:
        return sum(p.failed_sessions for p in self.policies)

    @property
    def policy_domains(self) -> list[str]:
        seen: dict[str, None] = {}
        for p in self.policies:
            if p.policy_domain:
                seen.setdefault(p.policy_domain, None)
        return list(seen)

    def failure_details(self) -> Iterator[tuple[Policy, FailureDetail]]:
        for p in self.policies:
            for d in p.failure_details:
                yield p, d


@dataclass(frozen=True, slots=True)
class ReportHint:
    """What the envelope says about a report: file name and mail headers."""

    filename: str | None = None
    header_domain: str | None = None
    header_submitter: str | None = None
    from_mail: bool = False
    #: notes from the transport (e.g. "stray bytes after the gzip stream")
    transport_notes: tuple[Diagnostic, ...] = ()


# --------------------------------------------------------------------------- filename

_FILENAME_RE: Final = re.compile(
    r"^(?P<sender>[^!/\\]+)!(?P<domain>[^!/\\]+)!(?P<begin>\d+)!(?P<end>\d+)"
    r"(?:!(?P<uid>[A-Za-z0-9]+))?\.(?P<ext>json(?:\.gz)?)$",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class ReportFilename:
    sender: str
    policy_domain: str
    begin: int
    end: int
    unique_id: str | None
    extension: str


def parse_report_filename(name: str) -> ReportFilename | None:
    """Parse an RFC 8460 §5.1 file name (``sender!domain!begin!end[!uid].json[.gz]``)."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    m = _FILENAME_RE.match(base)
    if m is None:
        return None
    return ReportFilename(
        sender=m["sender"].lower(),
        policy_domain=m["domain"].lower().rstrip("."),
        begin=int(m["begin"]),
        end=int(m["end"]),
        unique_id=m["uid"],
        extension=m["ext"].lower(),
    )


# --------------------------------------------------------------------------- JSON

#: for json_depth_exceeds: every byte but a quote and the four brackets, which it
#: deletes; and a brace made a square bracket
_NOT_STRUCTURE: Final = bytes(b for b in range(256) if b not in b'"[]{}')
_BRACES_AS_BRACKETS: Final = bytes.maketrans(b"{}", b"[]")


def json_depth_exceeds(data: bytes, limit: int) -> bool:
    """True if the JSON text nests arrays/objects deeper than ``limit``.

    Cheap for ordinary reports: when the text holds fewer brackets than the limit it
    cannot nest deeper, and the check is skipped. Otherwise it runs in a few passes of
    byte-string methods: the escapes that could hide a quote go, then all but quotes
    and brackets, braces made brackets; what lies between quotes is a string's (an
    unterminated one runs to the end), and the brackets outside them are paired up
    innermost first, a level per pass (a pair that a pass makes adjacent waits for the
    next). A scan token by token took ten times as long as parsing the JSON, for a
    report of 5,000 failure details (37 ms). Brackets that do not pair up make text that
    no JSON parser takes: False, and the parser says why.
    """
    if data.count(b"[") + data.count(b"{") <= limit:
        return False
    if b"\\" in data:  # an escaped quote, or an escaped backslash before a closing quote
        data = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    brackets = b"".join(data.translate(_BRACES_AS_BRACKETS, _NOT_STRUCTURE).split(b'"')[::2])
    for _ in range(limit):
        inner = brackets.replace(b"[]", b"")
        if not inner or len(inner) == len(brackets):
            return False
        brackets = inner
    return True


def decode_json(data: bytes, *, max_depth: int = MAX_JSON_DEPTH) -> tuple[Any, list[Diagnostic]]:
    """Bytes to a JSON value. Strips a UTF-8 BOM; caps the nesting depth."""
    notes: list[Diagnostic] = []
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
        notes.append(Diagnostic("warning", "utf8-bom", "The report starts with a UTF-8 byte order mark, which I-JSON (RFC 7493) forbids; it was ignored."))
    stripped = data.strip()
    if not stripped:
        raise ReportParseError("empty file: there is no JSON in it")
    first = stripped[:1]
    if first == b"<":
        head = stripped[:200].lower()
        if b"<feedback" in head or (b"<?xml" in head and b"feedback" in stripped[:2000].lower()):
            raise ReportParseError("this is a DMARC aggregate report (XML), not a TLS report")
        if b"<html" in head or b"<!doctype" in head or b"<head" in head or b"<body" in head:
            raise ReportParseError("this is an HTML page, not a JSON TLS report")
        raise ReportParseError("this is XML or markup, not a JSON TLS report")
    if first not in (b"{", b"["):
        raise ReportParseError("not JSON: a TLS report must be a JSON object")
    if json_depth_exceeds(stripped, max_depth):
        raise ReportParseError(f"JSON nested more than {max_depth} levels deep; refused")
    value: Any
    try:
        if _orjson_loads is None:
            raise ValueError
        value = _orjson_loads(stripped)
    except (_ORJSON_ERROR, ValueError, TypeError):
        try:
            text = stripped.decode("utf-8")
        except UnicodeDecodeError:
            text = stripped.decode("utf-8", errors="replace")
            notes.append(Diagnostic("error", "not-utf8", "The report is not valid UTF-8 (RFC 7493); invalid bytes were replaced."))
        try:
            value = json.loads(text, parse_constant=_reject_constant)
        except RecursionError:
            raise ReportParseError("JSON nested too deeply; refused") from None
        except ValueError as exc:
            raise ReportParseError(f"invalid JSON: {_short(str(exc), 200)}") from None
    return value, notes


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


# --------------------------------------------------------------------------- helpers

_DT_RE: Final = re.compile(
    r"^\s*(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?"
    r"\s*(Z|z|UTC|[+-]\d{2}(?::?\d{2})?)?\s*$"
)
_DATE_ONLY_RE: Final = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})\s*$")


def _short(text: str, limit: int = 120) -> str:
    text = text.replace("\n", " ").replace("\r", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return "an object" if isinstance(value, dict) else "a list"
    return repr(_short(str(value), 60)) if isinstance(value, str) else _short(str(value), 60)


class _Collector:
    """Collects diagnostics for one report, and the budget of failure rows it may keep."""

    def __init__(self, max_details: int = MAX_FAILURE_DETAILS, max_items: int = MAX_DIAGNOSTICS) -> None:
        self.items: list[Diagnostic] = []
        self.max_items = max_items
        self.dropped = 0
        self.max_details = max_details
        self.details_left = max_details
        self.details_dropped = 0

    def add(self, severity: Severity, code: str, message: str, path: str = "") -> None:
        self.put(Diagnostic(severity, code, message, path))

    def put(self, note: Diagnostic) -> None:
        if len(self.items) >= self.max_items - 2:  # room for the two notes of finish()
            self.dropped += 1
            return
        self.items.append(note)

    def finish(self) -> list[Diagnostic]:
        """The diagnostics, with a note of what the caps left out (the raw JSON keeps it all)."""
        out = list(self.items)
        if self.details_dropped:
            out.append(Diagnostic("warning", "failure-details-truncated",
                                  f"{self.details_dropped} failure details beyond the first {self.max_details} were not "
                                  "indexed; they stay in the kept raw JSON.", "policies"))
        if self.dropped:
            out.append(Diagnostic("info", "diagnostics-truncated",
                                  f"{self.dropped} more diagnostics were not kept (at most {self.max_items} per report)."))
        return out


_CANONICAL_DT_RE: Final = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)Z")
_MAX_COUNT: Final = 2**53


def parse_datetime(value: Any, diag: _Collector, path: str) -> datetime:
    # The form nearly every reporter writes, without the general pattern's work.
    if type(value) is str and len(value) == 20:
        m = _CANONICAL_DT_RE.fullmatch(value)
        if m is not None:
            sec = int(m[6])
            if sec < 60:
                try:
                    return datetime(int(m[1]), int(m[2]), int(m[3]), int(m[4]), int(m[5]), sec, tzinfo=UTC)
                except ValueError:
                    pass  # the general path says what is wrong
    if not isinstance(value, str):
        raise ReportParseError(f"{path} is {_describe(value)}, not an RFC 3339 date-time")
    m = _DT_RE.match(value)
    if m is None:
        d = _DATE_ONLY_RE.match(value)
        if d is None:
            raise ReportParseError(f"{path} {_describe(value)} is not an RFC 3339 date-time")
        diag.add("warning", "datetime-date-only", f"{path} is a date without a time; midnight UTC assumed.", path)
        try:
            return datetime(int(d[1]), int(d[2]), int(d[3]), tzinfo=UTC)
        except ValueError:
            raise ReportParseError(f"{path} {_describe(value)} is not a valid date") from None
    y, mo, da, hh, mi, ss, frac, tz = m.groups()
    try:
        second = int(ss or 0)
        leap = second == 60
        dt = datetime(int(y), int(mo), int(da), int(hh), int(mi), 59 if leap else second)
        if frac:
            dt = dt.replace(microsecond=int(frac[:6].ljust(6, "0")))
        if leap:
            dt += timedelta(seconds=1)
    except ValueError:
        raise ReportParseError(f"{path} {_describe(value)} is not a valid date-time") from None
    if tz is None:
        diag.add("warning", "datetime-no-offset", f"{path} {value!r} has no UTC offset (RFC 3339 requires one); UTC assumed.", path)
        return dt.replace(tzinfo=UTC)
    if tz in ("Z", "z"):
        return dt.replace(tzinfo=UTC)
    if tz == "UTC":
        diag.add("info", "datetime-format", f"{path} {value!r} spells UTC as a word, not 'Z'.", path)
        return dt.replace(tzinfo=UTC)
    sign = 1 if tz[0] == "+" else -1
    digits = tz[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    if hours > 23 or minutes > 59:
        raise ReportParseError(f"{path} {_describe(value)} has an invalid UTC offset")
    offset = timedelta(hours=hours, minutes=minutes) * sign
    return (dt - offset).replace(tzinfo=UTC)


def _count(value: Any, diag: _Collector, path: str, *, missing_ok: bool = False) -> int:
    if value is None:
        if not missing_ok:
            diag.add("warning", "count-missing", f"{path} is missing; 0 assumed.", path)
        return 0
    if isinstance(value, bool):
        diag.add("error", "count-invalid", f"{path} is {_describe(value)}, not a count; 0 assumed.", path)
        return 0
    if isinstance(value, int):
        if value < 0:
            diag.add("error", "count-invalid", f"{path} is negative ({value}); 0 assumed.", path)
            return 0
        if value > 2**53:
            diag.add("error", "count-too-large", f"{path} ({_short(str(value), 30)}) exceeds I-JSON's integer range; clamped.", path)
            return 2**53
        return value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")) or value < 0:
            diag.add("error", "count-invalid", f"{path} is {value}; 0 assumed.", path)
            return 0
        if value.is_integer() and value <= 2**53:
            diag.add("warning", "count-not-integer", f"{path} is written as a decimal number ({value}); read as {int(value)}.", path)
            return int(value)
        if value.is_integer():  # (a whole number past 64 bits reaches here as a float)
            diag.add("error", "count-too-large", f"{path} ({value:.0f}) exceeds I-JSON's integer range; clamped.", path)
            return 2**53
        diag.add("error", "count-invalid", f"{path} is a fraction ({value}); rounded down.", path)
        return int(min(value, 2**53))
    if isinstance(value, str):
        text = value.strip()
        if text.isascii() and text.isdigit() and len(text) <= 16:
            diag.add("warning", "count-as-string", f"{path} is a string ({value!r}), not a number; read as {int(text)}.", path)
            return int(text)
        diag.add("error", "count-invalid", f"{path} is {_describe(value)}, not a count; 0 assumed.", path)
        return 0
    diag.add("error", "count-invalid", f"{path} is {_describe(value)}, not a count; 0 assumed.", path)
    return 0


def _text(value: Any, diag: _Collector, path: str, *, empty_is_none: bool = True) -> str | None:
    """An optional string field. Non-strings are kept as text, with a diagnostic."""
    if value is None:
        return None
    if isinstance(value, str):
        if value == "" and empty_is_none:
            diag.add("warning", "empty-string", f"{path} is an empty string; treated as absent.", path)
            return None
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        diag.add("warning", "not-a-string", f"{path} is a number ({value}), not a string; kept as text.", path)
        return str(value)
    diag.add("error", "not-a-string", f"{path} is {_describe(value)}, not a string; ignored.", path)
    return None


_IPV4_RE: Final = re.compile(r"(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}")


def _ip(value: Any, diag: _Collector, path: str) -> str | None:
    text = _text(value, diag, path)
    if text is None:
        return None
    if _IPV4_RE.fullmatch(text):  # the common case, without building an address object
        return text
    try:
        ipaddress.ip_address(text.strip())
    except ValueError:
        diag.add("warning", "ip-invalid", f"{path} {_short(text, 60)!r} is not an IPv4 or IPv6 address; kept as given.", path)
        return text
    return text.strip()


def normalise_domain(name: str) -> str:
    return name.strip().rstrip(".").lower()


def domain_to_unicode(domain: str) -> str:
    """An A-label domain (``xn--…``, as reports give and the index keeps them) in Unicode,
    as people write it; anything undecodable as is."""
    if "xn--" not in domain.lower():
        return domain
    labels = []
    for label in domain.split("."):
        if label.lower().startswith("xn--"):
            try:
                label = label[4:].encode("ascii").decode("punycode")
            except (UnicodeError, ValueError):
                return domain
        labels.append(label)
    return ".".join(labels)


def _as_list(value: Any, diag: _Collector, path: str, what: str) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        diag.add("warning", f"{what}-not-array", f"{path} is a single object, not an array; read as a one-item array.", path)
        return [value]
    diag.add("error", f"{what}-invalid", f"{path} is {_describe(value)}, not an array; ignored.", path)
    return []


# --------------------------------------------------------------------------- policies


def _policy_strings(value: Any, diag: _Collector, path: str, policy_type: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        diag.add("warning", "policy-string-not-array", f"{path} is a bare string, not an array of strings (RFC 8460 §4.4); read as one item.", path)
        items: list[Any] = [value]
    elif isinstance(value, list):
        items = value
    else:
        diag.add("error", "policy-string-invalid", f"{path} is {_describe(value)}, not an array of strings; ignored.", path)
        return []
    out: list[str] = []
    for i, item in enumerate(items):
        if isinstance(item, str):
            out.append(item)
        elif item is None:
            diag.add("warning", "policy-string-invalid", f"{path}[{i}] is null; ignored.", f"{path}[{i}]")
        else:
            diag.add("warning", "policy-string-invalid", f"{path}[{i}] is {_describe(item)}, not a string; kept as text.", f"{path}[{i}]")
            out.append(json.dumps(item, ensure_ascii=False) if isinstance(item, (dict, list)) else str(item))
    # Microsoft packs all TLSA records into one item holding a JSON-encoded array.
    if len(out) == 1 and out[0].lstrip().startswith("["):
        try:
            packed = json.loads(out[0])
        except (ValueError, RecursionError):
            packed = None
        if isinstance(packed, list) and all(isinstance(x, str) for x in packed):
            diag.add("info", "policy-string-packed", f"{path} holds a JSON-encoded array in one string (as Microsoft sends it); split into {len(packed)} records.", path)
            out = list(packed)
    if policy_type == "tlsa":
        for i, rec in enumerate(out):
            if not _TLSA_RE.match(rec.strip()):
                diag.add("warning", "tlsa-record-syntax", f"{path}[{i}] {_short(rec, 80)!r} is not a TLSA record 'usage selector matching-type hex'.", f"{path}[{i}]")
    elif policy_type == "sts":
        for i, line in enumerate(out):
            if ":" not in line:
                diag.add("warning", "sts-policy-line-syntax", f"{path}[{i}] {_short(line, 80)!r} is not a 'key: value' policy line.", f"{path}[{i}]")
    return out


_TLSA_RE: Final = re.compile(r"^\d{1,3}\s+\d{1,3}\s+\d{1,3}\s+[0-9A-Fa-f]+$")


def _mx_hosts(value: Any, diag: _Collector, path: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        diag.add("info", "mx-host-string", f"{path} is a string, not an array (as printed in RFC 8460 Appendix B, erratum 6241); read as a one-item array.", path)
        items: list[Any] = [value]
    elif isinstance(value, list):
        items = value
    else:
        diag.add("error", "mx-host-invalid", f"{path} is {_describe(value)}, not an array of strings; ignored.", path)
        return []
    out: list[str] = []
    for i, item in enumerate(items):
        if not isinstance(item, str):
            diag.add("warning", "mx-host-invalid", f"{path}[{i}] is {_describe(item)}, not a string; ignored.", f"{path}[{i}]")
            continue
        host = item.strip()
        if host.lower().startswith("mx:"):
            diag.add("warning", "mx-host-prefix", f"{path}[{i}] {_short(item, 80)!r} carries the policy-file prefix 'mx:'; removed.", f"{path}[{i}]")
            host = host[3:].strip()
        if host:
            out.append(host)
    return out


def _failure_detail(raw: Any, diag: _Collector, path: str, policy_type: str) -> FailureDetail | None:
    if not isinstance(raw, dict):
        diag.add("error", "failure-detail-invalid", f"{path} is {_describe(raw)}, not an object; ignored.", path)
        return None
    rt_raw = raw.get("result-type")
    if isinstance(rt_raw, str) and rt_raw.strip():
        result_type = rt_raw.strip()
    else:
        diag.add("error", "result-type-missing", f"{path}.result-type is {'missing' if rt_raw is None else _describe(rt_raw)}; recorded as 'unknown'.", path)
        result_type = "unknown"
    if result_type not in KNOWN_RESULT_TYPES and result_type != "unknown":
        diag.put(note_result_type_unknown(path, result_type))
    if result_type in DANE_ONLY_RESULTS and policy_type not in ("tlsa", ""):
        diag.add("warning", "result-type-mismatch", f"{path}.result-type {result_type!r} is a DANE result under a {policy_type!r} policy.", path)
    if result_type in STS_RESULTS and policy_type not in ("sts", ""):
        diag.add("warning", "result-type-mismatch", f"{path}.result-type {result_type!r} is an MTA-STS result under a {policy_type!r} policy.", path)
    info = raw.get("additional-information")
    if info is None and "additional-info-uri" in raw:
        diag.add("warning", "additional-info-uri", f"{path} uses the draft key 'additional-info-uri' instead of 'additional-information'; read as the same.", path)
        info = raw.get("additional-info-uri")
    # Each field takes its well-formed value as is; anything else goes through the
    # helper that says what is wrong (and builds the JSON path only then).
    get = raw.get
    n = get("failed-session-count")
    sip = get("sending-mta-ip")
    mx = get("receiving-mx-hostname")
    helo = get("receiving-mx-helo")
    rip = get("receiving-ip")
    code = get("failure-reason-code")
    detail = FailureDetail(
        result_type=result_type,
        failed_session_count=n if type(n) is int and 0 <= n <= _MAX_COUNT else _count(n, diag, f"{path}.failed-session-count"),
        sending_mta_ip=sip if type(sip) is str and _IPV4_RE.fullmatch(sip) else _ip(sip, diag, f"{path}.sending-mta-ip"),
        receiving_mx_hostname=mx if type(mx) is str and mx else _text(mx, diag, f"{path}.receiving-mx-hostname"),
        receiving_mx_helo=helo if type(helo) is str and helo else _text(helo, diag, f"{path}.receiving-mx-helo"),
        receiving_ip=rip if type(rip) is str and _IPV4_RE.fullmatch(rip) else _ip(rip, diag, f"{path}.receiving-ip"),
        additional_information=info if type(info) is str and info else _text(info, diag, f"{path}.additional-information"),
        failure_reason_code=code if type(code) is str and code else _text(code, diag, f"{path}.failure-reason-code"),
    )
    if detail.failure_reason_code is None and result_type in REASON_CODE_RESULTS:
        diag.put(note_reason_code_missing(path, result_type))
    if result_type in STS_RESULTS and (detail.sending_mta_ip is None or detail.receiving_mx_hostname is None):
        diag.put(note_detail_sparse(path, result_type))
    return detail


# Notes that the fast path (core/fastparse.py) writes too, so both say the same.

#: result types whose failure details should carry a failure-reason-code (RFC 8460 §4.3)
REASON_CODE_RESULTS: Final = ("certificate-not-trusted", "validation-failure")

NOTE_NEXT_MIDNIGHT: Final = Diagnostic("info", "date-range-next-midnight", "date-range ends at the next midnight rather than 23:59:59Z; read as the same day.", "date-range.end-datetime")


def note_result_type_unknown(path: str, result_type: str) -> Diagnostic:
    return Diagnostic("info", "result-type-unknown", f"{path}.result-type {_short(result_type, 60)!r} is not in the IANA registry; kept as given.", path)


def note_reason_code_missing(path: str, result_type: str) -> Diagnostic:
    return Diagnostic("info", "failure-reason-code-missing", f"{path} ({result_type}) has no failure-reason-code, which RFC 8460 §4.3 asks for.", path)


def note_detail_sparse(path: str, result_type: str) -> Diagnostic:
    return Diagnostic("info", "failure-detail-sparse", f"{path} ({result_type}) names no sending IP or receiving MX, as is common for policy errors.", path)


def note_detail_counts(path: str, n_details: int, detail_sum: int, failed: int) -> Diagnostic | None:
    """How a policy's failure details compare with its failed-session count, if they differ."""
    if n_details and failed == 0 and detail_sum > 0:
        return Diagnostic("warning", "failure-count-mismatch", f"{path}: total-failure-session-count is 0 but the failure details count {detail_sum} failed sessions.", path)
    if n_details and detail_sum != failed:
        return Diagnostic("info", "failure-count-mismatch", f"{path}: the failure details add up to {detail_sum} sessions, the summary says {failed} (result types can overlap, and transient failures need not be detailed).", path)
    if failed > 0 and not n_details:
        return Diagnostic("info", "failure-details-missing", f"{path}: {failed} failed sessions but no failure details.", path)
    return None


def note_filename_domain(filename_domain: str) -> Diagnostic:
    return Diagnostic("info", "filename-domain-mismatch", f"The file name names {_short(filename_domain, 80)!r}, the report body does not; the body wins (RFC 8460 §5.6).")


def _policy(raw: Any, diag: _Collector, path: str, hint: ReportHint, fallback_domain: tuple[str, str] | None) -> Policy | None:
    if not isinstance(raw, dict):
        diag.add("error", "policy-invalid", f"{path} is {_describe(raw)}, not an object; ignored.", path)
        return None
    pol = raw.get("policy")
    if not isinstance(pol, dict):
        if pol is None:
            diag.add("error", "policy-missing", f"{path}.policy is missing.", path)
        else:
            diag.add("error", "policy-invalid", f"{path}.policy is {_describe(pol)}, not an object; ignored.", path)
        pol = {}
    ptype_raw = pol.get("policy-type")
    if isinstance(ptype_raw, str) and ptype_raw.strip():
        policy_type = ptype_raw.strip()
    else:
        diag.add("error", "policy-type-missing", f"{path}.policy.policy-type is {'missing' if ptype_raw is None else _describe(ptype_raw)}.", f"{path}.policy")
        policy_type = ""
    if policy_type and policy_type not in KNOWN_POLICY_TYPES:
        diag.add("warning", "policy-type-unknown", f"{path}.policy.policy-type {_short(policy_type, 60)!r} is not sts, tlsa or no-policy-found; kept as given.", f"{path}.policy")
    domain_raw = pol.get("policy-domain")
    domain_source = "report"
    if isinstance(domain_raw, str) and domain_raw.strip():
        domain = normalise_domain(domain_raw)
        if not domain.isascii():
            diag.add("info", "policy-domain-ulabel", f"{path}.policy.policy-domain {_short(domain_raw, 80)!r} is not in A-label (punycode) form.", f"{path}.policy")
    else:
        if domain_raw is not None and not (isinstance(domain_raw, str)):
            diag.add("error", "policy-domain-invalid", f"{path}.policy.policy-domain is {_describe(domain_raw)}, not a domain.", f"{path}.policy")
        if fallback_domain is not None:
            domain, domain_source = fallback_domain
            diag.add("warning", "policy-domain-missing", f"{path}.policy.policy-domain is missing; {domain!r} taken from the {domain_source.replace('header', 'TLS-Report-Domain header').replace('filename', 'report file name')}.", f"{path}.policy")
        else:
            domain, domain_source = "", ""
            diag.add("warning", "policy-domain-missing", f"{path}.policy.policy-domain is missing and neither a TLS-Report-Domain header nor an RFC 8460 file name names it.", f"{path}.policy")
    strings = _policy_strings(pol.get("policy-string"), diag, f"{path}.policy.policy-string", policy_type)
    mx = _mx_hosts(pol.get("mx-host"), diag, f"{path}.policy.mx-host")
    summary = raw.get("summary")
    if not isinstance(summary, dict):
        if summary is None:
            diag.add("warning", "summary-missing", f"{path}.summary is missing; counts of 0 assumed.", path)
        else:
            diag.add("error", "summary-invalid", f"{path}.summary is {_describe(summary)}, not an object; counts of 0 assumed.", path)
        summary = {}
        successful = failed = 0
    else:
        ok_raw = summary.get("total-successful-session-count")
        successful = ok_raw if type(ok_raw) is int and 0 <= ok_raw <= _MAX_COUNT else _count(
            ok_raw, diag, f"{path}.summary.total-successful-session-count")
        failed_raw = summary.get("total-failure-session-count")
        failed = failed_raw if type(failed_raw) is int and 0 <= failed_raw <= _MAX_COUNT else _count(
            failed_raw, diag, f"{path}.summary.total-failure-session-count")
    details: list[FailureDetail] = []
    raw_details = _as_list(raw.get("failure-details"), diag, f"{path}.failure-details", "failure-details")
    for i, item in enumerate(raw_details):
        if diag.details_left <= 0:  # a bounded number of rows per report
            diag.details_dropped += len(raw_details) - i
            break
        d = _failure_detail(item, diag, f"{path}.failure-details[{i}]", policy_type)
        if d is not None:
            details.append(d)
            diag.details_left -= 1
    counts = note_detail_counts(path, len(details), sum(d.failed_session_count for d in details), failed)
    if counts is not None:
        diag.put(counts)
    return Policy(
        policy_type=policy_type,
        policy_strings=strings,
        policy_domain=domain,
        policy_domain_source=domain_source,
        mx_hosts=mx,
        successful_sessions=successful,
        failed_sessions=failed,
        failure_details=details,
    )


# --------------------------------------------------------------------------- report


def parse_report_bytes(data: bytes, hint: ReportHint | None = None, *, max_depth: int = MAX_JSON_DEPTH, now: datetime | None = None,
                       max_failure_details: int = MAX_FAILURE_DETAILS) -> Report:
    """Parse the bytes of one report. Raises :class:`ReportParseError` only."""
    try:
        value, notes = decode_json(data, max_depth=max_depth)
        return parse_report_value(value, hint, pre_diagnostics=notes, now=now, max_failure_details=max_failure_details)
    except ReportParseError:
        raise
    except (RecursionError, MemoryError):
        raise ReportParseError("the report is too large or too deeply nested to read") from None


def parse_report_value(value: Any, hint: ReportHint | None = None, *, pre_diagnostics: list[Diagnostic] | None = None, now: datetime | None = None,
                       max_failure_details: int = MAX_FAILURE_DETAILS) -> Report:
    """Parse a decoded JSON value into a :class:`Report`."""
    hint = hint or ReportHint()
    diag = _Collector(max_failure_details)
    diag.items.extend(hint.transport_notes)
    diag.items.extend(pre_diagnostics or ())
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], dict):
        diag.add("warning", "report-wrapped-in-array", "The report is wrapped in a one-item JSON array; the item was read.")
        value = value[0]
    if not isinstance(value, dict):
        raise ReportParseError(f"the JSON is {_describe(value)}, not a TLS report object")
    if not any(k in value for k in ("organization-name", "date-range", "policies", "report-id")):
        keys = ", ".join(_short(str(k), 30) for k in list(value)[:5])
        raise ReportParseError(f"JSON that is not a TLS report (no organization-name, date-range or policies; keys: {keys or 'none'})")

    org_raw = value.get("organization-name")
    if isinstance(org_raw, str) and org_raw.strip():
        org = org_raw.strip()
    elif isinstance(org_raw, (int, float)) and not isinstance(org_raw, bool):
        org = str(org_raw)
        diag.add("warning", "organization-name-not-string", "organization-name is a number; kept as text.", "organization-name")
    else:
        raise ReportParseError("organization-name is missing or empty" if org_raw in (None, "") else f"organization-name is {_describe(org_raw)}, not a string")

    dr = value.get("date-range")
    if not isinstance(dr, dict):
        raise ReportParseError("date-range is missing" if dr is None else f"date-range is {_describe(dr)}, not an object")
    start = parse_datetime(dr.get("start-datetime"), diag, "date-range.start-datetime")
    end = parse_datetime(dr.get("end-datetime"), diag, "date-range.end-datetime")
    _check_dates(start, end, diag, now or datetime.now(UTC))

    contact_raw = value.get("contact-info")
    contact: str | None
    if contact_raw is None or contact_raw == "":
        contact = None
        diag.add("warning", "contact-info-missing", f"contact-info is {'null' if 'contact-info' in value and contact_raw is None else 'missing' if contact_raw is None else 'empty'} (RFC 8460 §4.4 requires it).", "contact-info")
    else:
        contact = _text(contact_raw, diag, "contact-info")

    rid_raw = value.get("report-id")
    if isinstance(rid_raw, str) and rid_raw.strip():
        report_id = rid_raw.strip()
    elif isinstance(rid_raw, (int, float)) and not isinstance(rid_raw, bool):
        report_id = str(rid_raw)
        diag.add("warning", "report-id-not-string", "report-id is a number, not a string; kept as text.", "report-id")
    else:
        report_id = ""
        diag.add("error", "report-id-missing", "report-id is missing or empty (RFC 8460 §4.4); duplicates are recognised by content instead.", "report-id")

    if "policies" not in value:
        raise ReportParseError("policies is missing")
    pol_raw = value["policies"]
    if isinstance(pol_raw, dict):
        diag.add("warning", "policies-not-array", "policies is a single object, not an array (RFC 8460 §4); read as a one-item array.", "policies")
        pol_list: list[Any] = [pol_raw]
    elif isinstance(pol_raw, list):
        pol_list = pol_raw
    else:
        raise ReportParseError(f"policies is {_describe(pol_raw)}, not an array")
    if not pol_list:
        diag.add("warning", "policies-empty", "policies is an empty array: the report covers no sessions.", "policies")

    filename = parse_report_filename(hint.filename) if hint.filename else None
    fallback = _fallback_domain(hint, filename)
    policies: list[Policy] = []
    for i, raw in enumerate(pol_list):
        p = _policy(raw, diag, f"policies[{i}]", hint, fallback)
        if p is not None:
            policies.append(p)
    if pol_list and not policies:
        raise ReportParseError("none of the policies can be read")

    _check_envelope(hint, filename, contact, policies, diag)
    return Report(
        organization_name=org,
        report_id=report_id,
        contact_info=contact,
        start=start,
        end=end,
        policies=policies,
        diagnostics=diag.finish(),
    )


def _fallback_domain(hint: ReportHint, filename: ReportFilename | None) -> tuple[str, str] | None:
    if hint.header_domain and hint.header_domain.strip():
        return normalise_domain(hint.header_domain), "header"
    if filename is not None:
        return filename.policy_domain, "filename"
    return None


def _check_dates(start: datetime, end: datetime, diag: _Collector, now: datetime) -> None:
    if start >= end:
        diag.add("error", "date-range-inverted", f"date-range starts ({start:%Y-%m-%dT%H:%M:%SZ}) at or after it ends ({end:%Y-%m-%dT%H:%M:%SZ}).", "date-range")
        return
    span = end - start
    if end.hour == 0 and end.minute == 0 and end.second == 0 and span == timedelta(days=1):
        diag.put(NOTE_NEXT_MIDNIGHT)
    elif not (timedelta(hours=23) <= span <= timedelta(hours=25)):
        hours = span.total_seconds() / 3600
        diag.add("info", "date-range-not-one-day", f"date-range spans {hours:.1f} hours, not one UTC day (RFC 8460 §4.1).", "date-range")
    if start.hour or start.minute or start.second:
        diag.add("info", "date-range-not-midnight", "date-range does not start at 00:00Z (RFC 8460 §4.1).", "date-range.start-datetime")
    if start > now + timedelta(days=1):
        diag.add("warning", "date-range-future", "date-range starts in the future.", "date-range.start-datetime")


def _check_envelope(hint: ReportHint, fn: ReportFilename | None, contact: str | None, policies: list[Policy], diag: _Collector) -> None:
    if hint.from_mail:
        if not hint.header_domain:
            diag.add("warning", "header-domain-missing", "The mail has no TLS-Report-Domain header (RFC 8460 §5.3).")
        if not hint.header_submitter:
            diag.add("warning", "header-submitter-missing", "The mail has no TLS-Report-Submitter header (RFC 8460 §5.3).")
        elif contact and "@" in contact:
            cdomain = normalise_domain(contact.rsplit("@", 1)[1])
            sub = normalise_domain(hint.header_submitter)
            if cdomain != sub and not cdomain.endswith("." + sub):
                diag.add("warning", "header-submitter-mismatch", f"TLS-Report-Submitter {_short(sub, 80)!r} differs from the contact-info domain {_short(cdomain, 80)!r} (RFC 8460 §5.3).")
    domains = {p.policy_domain for p in policies if p.policy_domain and p.policy_domain_source == "report"}
    if hint.header_domain and domains and normalise_domain(hint.header_domain) not in domains:
        diag.add("info", "header-domain-mismatch", f"TLS-Report-Domain {_short(hint.header_domain, 80)!r} is not a policy domain of the report; the report body wins (RFC 8460 §5.6).")
    if fn is not None and domains and fn.policy_domain not in domains:
        diag.put(note_filename_domain(fn.policy_domain))
