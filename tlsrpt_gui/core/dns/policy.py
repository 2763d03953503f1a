"""MTA-STS policy: parser (RFC 8461 §3.2), MX matching (§4.1), HTTPS fetch (§3.3).

The fetch connects to an address found with the checker's own resolver while
using the policy host name for SNI and certificate verification, never follows
redirects, caps the body and enforces one overall deadline (a server that
trickles bytes cannot hold it up).
"""

from __future__ import annotations

import http.client
import io
import re
import socket
import ssl
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final, Literal

from tlsrpt_gui.core.dns.findings import Finding, make_finding
from tlsrpt_gui.core.dns.records import is_hostname, is_ip_address

MAX_POLICY_BYTES: Final = 64 * 1024
MAX_MAX_AGE: Final = 31_557_600
ONE_DAY: Final = 86_400
ONE_WEEK: Final = 604_800
POLICY_PATH: Final = "/.well-known/mta-sts.txt"
STS_MODES: Final = ("enforce", "testing", "none")
KNOWN_KEYS: Final = ("version", "mode", "max_age", "mx")

# Public suffixes with more than one label that a wildcard must never cover.
# (A one-label base such as "*.com" is always flagged.) Not the full PSL: a
# hint, not a verdict.
_MULTI_LABEL_SUFFIXES: Final = frozenset(
    {
        "co.uk", "org.uk", "ac.uk", "gov.uk", "ltd.uk", "plc.uk", "me.uk", "sch.uk",
        "com.au", "net.au", "org.au", "edu.au", "gov.au",
        "co.nz", "org.nz", "co.jp", "ne.jp", "or.jp", "ac.jp", "co.kr", "co.za",
        "com.br", "com.cn", "net.cn", "org.cn", "com.mx", "com.tr", "com.tw", "co.in",
        "co.il", "com.sg", "com.hk", "gv.at", "co.at", "or.at",
    }
)

_KEY_RE: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")
# value: VCHAR / UTF-8 non-ASCII, with single WSP runs inside; no CTL
_VALUE_CHAR_RE: Final = re.compile(r"[^\x00-\x1f\x7f]")
_MAX_AGE_RE: Final = re.compile(r"[0-9]{1,10}")


# --------------------------------------------------------------------------- parser


@dataclass(slots=True)
class StsPolicy:
    """A parsed MTA-STS policy. ``mx`` keeps every syntactically valid pattern."""

    raw: str
    version: str | None = None
    mode: str | None = None
    max_age: int | None = None
    mx: list[str] = field(default_factory=list)
    extensions: dict[str, str] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not any(f.severity == "error" for f in self.findings)

    def to_dict(self) -> dict[str, object]:
        return {
            "version": self.version,
            "mode": self.mode,
            "max_age": self.max_age,
            "mx": list(self.mx),
            "extensions": dict(self.extensions),
            "valid": self.valid,
        }


def mx_pattern_problem(pattern: str) -> str | None:
    """Why an ``mx`` value is invalid (RFC 8461 §3.2, §4.1), or ``None``."""
    if not pattern:
        return "is empty"
    if any(ord(ch) > 126 for ch in pattern):
        return "uses non-ASCII characters (U-labels); write the A-label form (xn--...)"
    if pattern.endswith("."):
        return "ends with a dot; write the name without the trailing dot"
    base = pattern[2:] if pattern.startswith("*.") else pattern
    if "*" in base:
        return "has a '*' that is not the whole left-most label ('*.' is the only wildcard form)"
    if is_ip_address(base):
        return "is an IP address; mx patterns match the MX host names, never addresses"
    if not is_hostname(base):
        return "is not a valid host name (letters, digits and '-' in dot-separated labels)"
    if not pattern.startswith("*.") and "." not in base:
        return "is not a fully qualified domain name"
    return None


def wildcard_too_broad(pattern: str) -> bool:
    """``*.com`` or ``*.co.uk``: a wildcard over a (well-known) public suffix."""
    if not pattern.startswith("*."):
        return False
    base = pattern[2:].lower()
    return "." not in base or base in _MULTI_LABEL_SUFFIXES


def mx_matches(host: str, pattern: str) -> bool:
    """RFC 8461 §4.1: exact match, or ``*.`` matching exactly one left-most label."""
    name = host.lower().rstrip(".")
    pat = pattern.lower().rstrip(".")
    if pat.startswith("*."):
        base = pat[2:]
        if not name.endswith("." + base):
            return False
        label = name[: -len(base) - 1]
        return bool(label) and "." not in label
    return name == pat


def parse_policy(body: bytes, subject: str = "policy") -> StsPolicy:
    """Parse and diagnose an MTA-STS policy body (RFC 8461 §3.2).

    Accepts LF and CRLF (EID 6253). Duplicated keys other than ``mx``: the first
    wins. Unknown keys are kept in ``extensions``.
    """
    out: list[Finding] = []
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        text = body.decode("utf-8", "replace")
        out.append(
            make_finding(
                "sts-policy-syntax",
                "The policy is not valid UTF-8. Save it as plain ASCII/UTF-8 text.",
                subject,
            )
        )
    policy = StsPolicy(raw=text, findings=out)

    def syntax(why: str, line: str) -> None:
        out.append(make_finding("sts-policy-syntax", why, line or subject))

    if not text.strip():
        syntax("The policy is empty. It needs version, mode, max_age and mx lines.", subject)
        return policy
    if text.startswith("\ufeff"):  # invisible in an editor; senders read "\ufeffversion" as an unknown key
        syntax("The policy starts with a UTF-8 byte order mark (BOM), so its first line does not read "
               "'version: STSv1'. Save the file as UTF-8 without a BOM.", subject)
        text = text[1:]
    body_text = text
    if body_text.endswith("\r\n"):
        body_text = body_text[:-2]
        crlf, lf = 1, 0
    elif body_text.endswith("\n"):
        body_text = body_text[:-1]
        crlf, lf = 0, 1
    else:
        crlf = lf = 0
    lines = body_text.split("\n")
    for i, line in enumerate(lines[:-1]):
        if line.endswith("\r"):
            lines[i] = line[:-1]
            crlf += 1
        else:
            lf += 1
    if crlf and lf:
        out.append(
            make_finding(
                "sts-policy-line-endings",
                "The policy mixes LF and CRLF line endings. Senders should accept both "
                "(EID 6253), but use one style throughout to be safe.",
                subject,
            )
        )
    seen: dict[str, int] = {}
    mx_lines = 0
    for number, line in enumerate(lines, start=1):
        if line.strip() == "":
            out.append(
                make_finding(
                    "sts-policy-blank-line",
                    f"Line {number} is blank. The RFC 8461 grammar has no empty lines and a "
                    "strict sender may reject the policy. Remove it.",
                    f"line {number}",
                )
            )
            continue
        key, sep, rest = line.partition(":")
        if not sep or not _KEY_RE.fullmatch(key):
            syntax(
                f"Line {number} is not 'key: value' (a key of letters, digits, '_', '-', '.' "
                "right at the start of the line, then ':'). Senders reject the whole policy "
                "(sts-policy-invalid); comments are not allowed either.",
                line,
            )
            continue
        value = rest.strip(" \t")
        if not value or not all(_VALUE_CHAR_RE.match(ch) for ch in value):
            syntax(
                f"Line {number} ({key}) has an empty value or control characters.",
                line,
            )
            continue
        if key == "mx":
            mx_lines += 1
            problem = mx_pattern_problem(value)
            if problem:
                syntax(
                    f"mx value {value!r} {problem}. Senders reject the policy.",
                    line,
                )
            else:
                policy.mx.append(value)
                if wildcard_too_broad(value):
                    out.append(
                        make_finding(
                            "sts-mx-wildcard-broad",
                            f"The mx pattern {value!r} covers a whole public suffix: any "
                            "host there passes the MX check, which makes the policy almost "
                            "worthless. List your MX hosts or your own subdomain instead.",
                            line,
                        )
                    )
            continue
        if key in seen:
            out.append(
                make_finding(
                    "sts-policy-duplicate-key",
                    f"'{key}' appears again on line {number} (first on line {seen[key]}); "
                    "senders use the first value. Remove the duplicate.",
                    line,
                )
            )
            continue
        seen[key] = number
        if key == "version":
            policy.version = value
            if value != "STSv1":
                syntax(f"version is {value!r}; it must be exactly 'STSv1'.", line)
        elif key == "mode":
            policy.mode = value
            if value not in STS_MODES:
                syntax(
                    f"mode is {value!r}; it must be exactly 'enforce', 'testing' or 'none' "
                    "(lower case, nothing else on the line).",
                    line,
                )
        elif key == "max_age":
            if _MAX_AGE_RE.fullmatch(value) and int(value) <= MAX_MAX_AGE:
                policy.max_age = int(value)
            else:
                syntax(
                    f"max_age is {value!r}; it must be a whole number of seconds from 0 to "
                    f"{MAX_MAX_AGE} (one year). 604800 (a week) or more is usual.",
                    line,
                )
        else:
            policy.extensions[key] = value
            hint = ""
            if key.lower() in KNOWN_KEYS:
                hint = f" Keys are case-sensitive: did you mean '{key.lower()}'?"
            out.append(
                make_finding(
                    "sts-policy-unknown-key",
                    f"'{key}' on line {number} is not a key RFC 8461 defines; senders ignore "
                    f"it.{hint}",
                    line,
                )
            )
    for key in ("version", "mode", "max_age"):
        if key not in seen:
            syntax(f"The policy has no '{key}:' line; it is required.", subject)
    if policy.mode != "none" and mx_lines == 0:
        syntax(
            "The policy has no 'mx:' line. Unless the mode is none, list every MX host "
            "(or a '*.' pattern) on its own 'mx:' line.",
            subject,
        )
    if policy.max_age is not None and policy.mode in ("enforce", "testing"):
        if policy.max_age < ONE_DAY:
            out.append(
                make_finding(
                    "sts-max-age-short",
                    f"max_age is {policy.max_age} s, less than a day: senders forget the "
                    "policy quickly, which weakens protection against downgrade attacks. "
                    "Use at least 604800 (a week); weeks or months are common.",
                    f"max_age: {policy.max_age}",
                )
            )
        elif policy.max_age < ONE_WEEK:
            out.append(
                make_finding(
                    "sts-max-age-below-week",
                    f"max_age is {policy.max_age} s, less than a week. RFC 8461 suggests "
                    "weeks or more once the policy is stable.",
                    f"max_age: {policy.max_age}",
                )
            )
    return policy


# --------------------------------------------------------------------------- fetch

FetchErrorKind = Literal["dns", "connect", "timeout", "tls", "certificate", "http"]


class _FetchError(Exception):
    def __init__(self, kind: FetchErrorKind, message: str) -> None:
        super().__init__(message)
        self.kind: FetchErrorKind = kind


@dataclass(slots=True)
class PolicyFetch:
    """What happened when the policy URL was fetched."""

    url: str
    host: str
    port: int
    addresses: list[str] = field(default_factory=list)
    connected_address: str | None = None
    status: int | None = None
    reason: str | None = None
    content_type: str | None = None
    location: str | None = None
    body: bytes | None = None
    too_large: bool = False
    error_kind: FetchErrorKind | None = None
    error: str | None = None
    certificate_not_after: datetime | None = None
    tls_version: str | None = None
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        """A 200 with a body within the size cap."""
        return self.status == 200 and self.body is not None and not self.too_large

    def to_dict(self) -> dict[str, object]:
        return {
            "url": self.url,
            "addresses": list(self.addresses),
            "connected_address": self.connected_address,
            "status": self.status,
            "reason": self.reason,
            "content_type": self.content_type,
            "location": self.location,
            "too_large": self.too_large,
            "error_kind": self.error_kind,
            "error": self.error,
            "certificate_not_after": (
                self.certificate_not_after.isoformat() if self.certificate_not_after else None
            ),
            "tls_version": self.tls_version,
            "elapsed": round(self.elapsed, 3),
        }


class _DeadlineReader(io.RawIOBase):
    """Raw reader over a socket that gives up once an absolute deadline passes."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        super().__init__()
        self._sock = sock
        self._deadline = deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("deadline reached while reading")
        self._sock.settimeout(remaining)
        return self._sock.recv_into(buffer)


class _SocketShim:
    """What :class:`http.client.HTTPResponse` needs from a socket: ``makefile``."""

    def __init__(self, reader: _DeadlineReader) -> None:
        self._reader = reader

    def makefile(self, mode: str, *args: object, **kwargs: object) -> io.BufferedReader:
        return io.BufferedReader(self._reader)


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise _FetchError("timeout", "the time limit was reached")
    return left


def connect_tls(
    host: str,
    port: int,
    addresses: Sequence[str],
    context: ssl.SSLContext,
    deadline: float,
) -> tuple[ssl.SSLSocket, str]:
    """Connect to the first address that answers and do the TLS handshake.

    SNI and certificate verification use *host*. Raises ``_FetchError``.
    """
    if not addresses:
        raise _FetchError("dns", f"{host} has no A or AAAA record")
    last: _FetchError | None = None
    for address in addresses:
        try:
            sock = socket.create_connection((address, port), timeout=_remaining(deadline))
        except TimeoutError:
            last = _FetchError("timeout", f"connecting to {address} port {port} timed out")
            continue
        except OSError as exc:
            last = _FetchError("connect", f"cannot connect to {address} port {port}: "
                               f"{exc.strerror or exc}")
            continue
        tls: ssl.SSLSocket | None = None
        try:
            sock.settimeout(_remaining(deadline))
            tls = context.wrap_socket(sock, server_hostname=host, do_handshake_on_connect=False)
            tls.do_handshake()
            tls.settimeout(_remaining(deadline))
            return tls, address
        except ssl.SSLCertVerificationError as exc:
            (tls or sock).close()
            raise _FetchError(
                "certificate",
                f"the certificate of {host} ({address}) is not valid: "
                f"{exc.verify_message or exc.reason}",
            ) from exc
        except TimeoutError:
            (tls or sock).close()
            last = _FetchError("timeout", f"{address} port {port} did not complete the TLS "
                               "handshake in time")
        except _FetchError as exc:
            (tls or sock).close()
            last = exc
        except (ssl.SSLError, OSError) as exc:
            (tls or sock).close()
            last = _FetchError("tls", f"TLS handshake with {address} port {port} failed: {exc}")
    assert last is not None
    raise last


def fetch_policy(
    host: str,
    addresses: Sequence[str],
    *,
    port: int = 443,
    timeout: float = 10.0,
    context: ssl.SSLContext | None = None,
    max_bytes: int = MAX_POLICY_BYTES,
    user_agent: str = "tlsrpt-gui",
) -> PolicyFetch:
    """GET ``https://HOST/.well-known/mta-sts.txt`` from one of *addresses*.

    Never raises for network outcomes: the result says what happened. The whole
    fetch (connect, handshake, request, response) must finish within *timeout*.
    """
    context = context or ssl.create_default_context()
    url = f"https://{host}{'' if port == 443 else f':{port}'}{POLICY_PATH}"
    result = PolicyFetch(url=url, host=host, port=port, addresses=list(addresses))
    started = time.monotonic()
    deadline = started + timeout
    tls: ssl.SSLSocket | None = None
    try:
        tls, result.connected_address = connect_tls(host, port, addresses, context, deadline)
        result.tls_version = tls.version()
        cert = tls.getpeercert()
        not_after = cert.get("notAfter") if cert else None
        if isinstance(not_after, str):
            result.certificate_not_after = datetime.fromtimestamp(
                ssl.cert_time_to_seconds(not_after), UTC
            )
        host_header = host if port == 443 else f"{host}:{port}"
        request = (
            f"GET {POLICY_PATH} HTTP/1.1\r\nHost: {host_header}\r\n"
            f"User-Agent: {user_agent}\r\nAccept: text/plain\r\n"
            "Cache-Control: no-cache\r\nConnection: close\r\n\r\n"
        ).encode("ascii")
        tls.settimeout(_remaining(deadline))
        tls.sendall(request)
        response = http.client.HTTPResponse(
            _SocketShim(_DeadlineReader(tls, deadline)),  # type: ignore[arg-type]
            method="GET",
        )
        try:
            response.begin()
            result.status = response.status
            result.reason = response.reason
            result.content_type = response.getheader("Content-Type")
            result.location = response.getheader("Location")
            if response.status == 200:
                chunks: list[bytes] = []
                total = 0
                while total <= max_bytes:
                    chunk = response.read(min(16384, max_bytes + 1 - total))
                    if not chunk:
                        break
                    chunks.append(chunk)
                    total += len(chunk)
                if total > max_bytes:
                    result.too_large = True
                else:
                    result.body = b"".join(chunks)
        except TimeoutError as exc:
            raise _FetchError("timeout", "the server did not send the whole response in "
                              f"time ({timeout:g} s)") from exc
        except (http.client.HTTPException, ValueError) as exc:
            raise _FetchError("http", f"invalid HTTP response: {exc!r}") from exc
        finally:
            response.close()
    except _FetchError as exc:
        result.error_kind = exc.kind
        result.error = str(exc)
    except TimeoutError:
        result.error_kind = "timeout"
        result.error = f"no complete answer within {timeout:g} s"
    except (ssl.SSLError, OSError) as exc:
        result.error_kind = "connect"
        result.error = f"connection failed: {exc}"
    finally:
        if tls is not None:
            tls.close()
        result.elapsed = time.monotonic() - started
    return result


@dataclass(slots=True)
class TlsProbe:
    """Whether a host accepts a TLS connection, and with a valid certificate."""

    host: str
    port: int
    addresses: list[str]
    connected: bool = False
    certificate_valid: bool = False
    error: str | None = None
    certificate_error: str | None = None


def probe_tls(
    host: str,
    addresses: Sequence[str],
    *,
    port: int = 443,
    timeout: float = 10.0,
    context: ssl.SSLContext | None = None,
) -> TlsProbe:
    """Connect and handshake only (nothing is sent). On a certificate error, retry
    without verification to tell "bad certificate" from "no TLS at all"."""
    context = context or ssl.create_default_context()
    probe = TlsProbe(host, port, list(addresses))
    deadline = time.monotonic() + timeout
    try:
        tls, _ = connect_tls(host, port, addresses, context, deadline)
        tls.close()
        probe.connected = probe.certificate_valid = True
        return probe
    except _FetchError as exc:
        if exc.kind != "certificate":
            probe.error = str(exc)
            return probe
        probe.certificate_error = str(exc)
    lax = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    lax.check_hostname = False
    lax.verify_mode = ssl.CERT_NONE
    try:
        tls, _ = connect_tls(host, port, addresses, lax, deadline)
        tls.close()
        probe.connected = True
    except _FetchError as exc:
        probe.error = str(exc)
    return probe

