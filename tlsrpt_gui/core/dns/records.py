"""Syntax of the DNS records: TLS-RPT TXT (RFC 8460 §3), MTA-STS TXT (RFC 8461 §3.1), TLSA.

Pure functions, no I/O. Each parser returns what it could read plus a list of
:class:`~tlsrpt_gui.core.dns.findings.Finding` about the record; the checker adds
the findings that need more than the record itself (counting records, probing
destinations).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import unquote, urlsplit

from tlsrpt_gui.core.dns.findings import Finding, make_finding

TLSRPT_VERSION: Final = "v=TLSRPTv1"
STS_VERSION: Final = "v=STSv1"

_WSP: Final = " \t"
# RFC 8460 §3 / RFC 8461 §3.1: extension name and value
_EXT_NAME_RE: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")
_EXT_VALUE_RE: Final = re.compile(r"[\x21-\x3a\x3c\x3e-\x7e]+")
_STS_ID_RE: Final = re.compile(r"[A-Za-z0-9]{1,32}")
_URI_SCHEME_RE: Final = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
# RFC 3986 unreserved + reserved characters; "%" is checked separately.
_URI_CHARS: Final = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:/?#[]@!$&'()*+,;="
)
_PCT_RE: Final = re.compile(r"%(?![0-9A-Fa-f]{2})")
# RFC 5322 addr-spec (without obsolete forms and comments)
_ATEXT: Final = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_DOT_ATOM: Final = rf"{_ATEXT}+(?:\.{_ATEXT}+)*"
_QUOTED: Final = r'"(?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\[\x20-\x7e])*"'
_DOMAIN_LITERAL: Final = r"\[[\x21-\x5a\x5e-\x7e]*\]"
_ADDR_SPEC_RE: Final = re.compile(
    rf"(?P<local>{_DOT_ATOM}|{_QUOTED})@(?P<domain>{_DOT_ATOM}|{_DOMAIN_LITERAL})"
)
_LABEL_RE: Final = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")


def has_bad_characters(text: str) -> bool:
    """True when *text* has a non-ASCII or control character (tab is allowed)."""
    return any(not (" " <= ch <= "~" or ch == "\t") for ch in text)


def is_hostname(name: str) -> bool:
    """A DNS host name in A-labels (LDH labels), without a trailing dot, 1+ labels."""
    if not name or len(name) > 253 or name.endswith("."):
        return False
    return all(_LABEL_RE.fullmatch(label) for label in name.split("."))


def decode_txt_strings(strings: list[bytes] | tuple[bytes, ...]) -> tuple[list[str], str]:
    """The raw character-strings of one TXT record, and their concatenation.

    RFC 8460 §3 and RFC 8461 §3.1 join the strings with nothing in between.
    Bytes that are not UTF-8 become U+FFFD, so they still fail the ASCII check
    (and the text stays valid for JSON).
    """
    raw = [s.decode("utf-8", "replace") for s in strings]
    return raw, b"".join(strings).decode("utf-8", "replace")


def _starts_with_version(text: str, version: str) -> bool:
    """``v=...`` first, then only optional whitespace before ``;`` or the end."""
    if not text.startswith(version):
        return False
    rest = text[len(version):].lstrip(_WSP)
    return rest == "" or rest.startswith(";")


def is_tlsrpt_record(text: str) -> bool:
    """Whether a TXT string counts as a TLS-RPT record (RFC 8460 §3).

    The RFC keeps records that begin with ``v=TLSRPTv1;``; this also keeps
    ``v=TLSRPTv1 ;`` (allowed by the ABNF) so that it is counted and warned about.
    """
    return _starts_with_version(text, TLSRPT_VERSION)


def looks_like_tlsrpt(text: str) -> bool:
    """A record that was probably meant as TLS-RPT but that senders will skip."""
    return not is_tlsrpt_record(text) and "v=tlsrptv1" in text.lower()


def is_sts_record(text: str) -> bool:
    """Whether a TXT string counts as an MTA-STS record (RFC 8461 §3.1)."""
    return _starts_with_version(text, STS_VERSION)


def looks_like_sts(text: str) -> bool:
    """A record that was probably meant as MTA-STS but that senders will skip."""
    return not is_sts_record(text) and "v=stsv1" in text.lower()


# --------------------------------------------------------------------------- rua URIs


@dataclass(frozen=True, slots=True)
class RuaUri:
    """One ``rua`` destination as written, with what could be read from it."""

    uri: str
    scheme: str  # lower case; "" when the URI has none
    target: str | None  # the mail domain (mailto) or host (https)
    port: int | None  # explicit port of an https URI
    addresses: tuple[str, ...]  # decoded mailto addresses
    valid: bool  # a usable mailto: or https: URI

    def to_dict(self) -> dict[str, object]:
        return {
            "uri": self.uri,
            "scheme": self.scheme,
            "target": self.target,
            "port": self.port,
            "addresses": list(self.addresses),
            "valid": self.valid,
        }


def parse_rua_uri(uri: str, subject: str) -> tuple[RuaUri, list[Finding]]:
    """Check one rua URI (RFC 8460 §3, RFC 3986, RFC 6068)."""
    findings: list[Finding] = []

    def invalid(why: str) -> tuple[RuaUri, list[Finding]]:
        findings.append(make_finding("tlsrpt-rua-invalid", f"rua URI {uri!r} {why}", subject))
        scheme_match = _URI_SCHEME_RE.match(uri)
        scheme = scheme_match.group(1).lower() if scheme_match else ""
        return RuaUri(uri, scheme, None, None, (), False), findings

    if not uri:
        return invalid(
            "is empty (a stray comma?). Remove the extra comma between the URIs."
        )
    match = _URI_SCHEME_RE.match(uri)
    if not match:
        return invalid("has no scheme. Write it as mailto:user@example.com or https://...")
    bad = sorted({ch for ch in uri if ch not in _URI_CHARS and ch != "%"})
    if bad:
        shown = " ".join(repr(ch) for ch in bad)
        return invalid(f"contains characters not allowed in a URI ({shown}); percent-encode them.")
    if "!" in uri:
        return invalid("contains an unencoded '!'; RFC 8460 requires it to be written %21.")
    if _PCT_RE.search(uri):
        return invalid("has a '%' that is not followed by two hex digits.")
    scheme = match.group(1).lower()
    rest = uri[match.end():]
    if scheme == "mailto":
        to = rest.split("?", 1)[0]
        if not to:
            return invalid("has no address after mailto:. Write mailto:user@example.com.")
        addresses = tuple(a.strip() for a in unquote(to).split(","))
        domains: list[str] = []
        for address in addresses:
            m = _ADDR_SPEC_RE.fullmatch(address)
            if not m:
                return invalid(
                    f"has {address!r}, which is not a valid e-mail address (RFC 5322 addr-spec)."
                )
            domains.append(m.group("domain").lower())
        return RuaUri(uri, scheme, domains[0], None, addresses, True), findings
    if scheme == "https":
        try:
            parts = urlsplit(uri)
            port = parts.port
        except ValueError as exc:
            return invalid(f"is not a valid https URL ({exc}).")
        host = (parts.hostname or "").lower()
        if not rest.startswith("//") or not host:
            return invalid("has no host. Write it as https://host.example.com/path.")
        if not (is_hostname(host) or is_ip_address(host)):
            return invalid(f"has an invalid host name {host!r}.")
        if port == 0:
            return invalid("has port 0, which no server listens on.")
        return RuaUri(uri, scheme, host, port, (), True), findings
    # another scheme: syntactically fine, but senders cannot use it
    return RuaUri(uri, scheme, None, None, (), False), findings


def is_ip_address(host: str) -> bool:
    """True for an IPv4 or IPv6 address (not a host name)."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


# --------------------------------------------------------------------------- TLS-RPT


@dataclass(slots=True)
class TlsRptRecord:
    """A parsed TLS-RPT record (RFC 8460 §3)."""

    text: str
    version: str | None
    rua: list[RuaUri] = field(default_factory=list)
    extensions: dict[str, str] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        """No error-severity finding: senders can use the record."""
        return not any(f.severity == "error" for f in self.findings)

    def to_dict(self) -> dict[str, object]:
        return {
            "text": self.text,
            "version": self.version,
            "rua": [r.to_dict() for r in self.rua],
            "extensions": dict(self.extensions),
            "valid": self.valid,
        }


def _split_fields(text: str) -> tuple[str, list[str], bool]:
    """Version part, the other fields (stripped), and whether one was empty.

    A single trailing ``;`` (optionally followed by whitespace) is allowed by both
    grammars and does not count as an empty field.
    """
    parts = text.split(";")
    version_part, fields = parts[0], [p.strip(_WSP) for p in parts[1:]]
    if fields and fields[-1] == "":
        fields.pop()
    return version_part, fields, "" in fields


def parse_tlsrpt(text: str) -> TlsRptRecord:
    """Parse a (joined) TLS-RPT TXT record and diagnose it."""
    record = TlsRptRecord(text=text, version=None)
    out = record.findings

    def syntax(why: str) -> None:
        out.append(make_finding("tlsrpt-syntax", f"TLS-RPT record {why}", text))

    if has_bad_characters(text):
        syntax(
            "contains non-ASCII or control characters. Retype it in plain ASCII; "
            "senders ignore a malformed record."
        )
    version_part, fields, empty_field = _split_fields(text)
    if version_part.rstrip(_WSP) == TLSRPT_VERSION:
        record.version = TLSRPT_VERSION
        if version_part != TLSRPT_VERSION and fields:
            out.append(
                make_finding(
                    "tlsrpt-version-whitespace",
                    "There is whitespace between v=TLSRPTv1 and the first ';'. The grammar "
                    "allows it, but RFC 8460 tells senders to keep only records beginning "
                    "with 'v=TLSRPTv1;', so some will ignore this record. Write 'v=TLSRPTv1;'.",
                    text,
                )
            )
    else:
        hint = ""
        if version_part.strip().lower() == TLSRPT_VERSION.lower():
            hint = " (it is case-sensitive and must be at the very start)"
        syntax(
            f"must start with exactly 'v=TLSRPTv1;'{hint}; it starts with "
            f"{version_part[:20]!r}. Senders ignore it."
        )
        if not hint and "=" in version_part:
            fields.insert(0, version_part.strip(_WSP))  # a field where the version belongs
    if empty_field:
        syntax("has an empty field (two ';' in a row). Remove the extra ';'.")

    rua_fields = 0
    uris: list[str] = []
    for item in fields:
        if item == "":
            continue
        name, sep, value = item.partition("=")
        if not sep:
            syntax(f"has a field {item!r} that is not name=value.")
            continue
        if name.strip(_WSP).lower() == "v":
            if record.version is not None:
                syntax(f"has a second version field {item!r}; keep only the first.")
            continue
        if name == "rua":
            rua_fields += 1
            if value.strip(_WSP):
                uris.extend(u.strip(_WSP) for u in value.split(","))
            continue
        if name.strip(_WSP).lower() == "rua":
            syntax(
                f"has a field named {name!r}; it must be written exactly 'rua=' "
                "(lower case, no spaces)."
            )
            continue
        if not _EXT_NAME_RE.fullmatch(name) or not _EXT_VALUE_RE.fullmatch(value):
            out.append(
                make_finding(
                    "tlsrpt-extension-invalid",
                    f"The field {item!r} is not a valid extension (name: letters, digits, "
                    "'_', '-', '.', at most 32; value: printable ASCII without spaces, '=' "
                    "or ';'). Fix or remove it.",
                    text,
                )
            )
            continue
        if name in record.extensions:
            continue
        record.extensions[name] = value
        out.append(
            make_finding(
                "tlsrpt-extension-unknown",
                f"The field {name!r} is not defined by RFC 8460; senders ignore it.",
                text,
            )
        )

    if rua_fields == 0 or not uris:
        out.append(
            make_finding(
                "tlsrpt-rua-missing",
                "The TLS-RPT record has no rua destination, so no report can be sent. "
                "Add e.g. 'rua=mailto:tlsrpt@yourdomain'.",
                text,
            )
        )
    if rua_fields > 1:
        out.append(
            make_finding(
                "tlsrpt-rua-repeated",
                "The record has several rua= fields. The grammar allows it, but many "
                "senders read only one. Merge them into one field with comma-separated URIs.",
                text,
            )
        )
    for uri in uris:
        parsed, uri_findings = parse_rua_uri(uri, text)
        record.rua.append(parsed)
        out.extend(uri_findings)
    usable = [r for r in record.rua if r.valid]
    others = sorted(
        {r.scheme for r in record.rua if r.scheme and r.scheme not in ("mailto", "https")}
    )
    if uris and not usable and not any(f.code == "tlsrpt-rua-invalid" for f in out):
        out.append(
            make_finding(
                "tlsrpt-rua-invalid",
                "No rua URI uses mailto: or https:, the only schemes senders support. "
                "Add a mailto: or https: destination.",
                text,
            )
        )
    elif usable and others:
        out.append(
            make_finding(
                "tlsrpt-rua-scheme-unsupported",
                f"rua has URIs with unsupported schemes ({', '.join(others)}); senders use "
                "only mailto: and https:. Remove them.",
                text,
            )
        )
    return record


# --------------------------------------------------------------------------- MTA-STS TXT


@dataclass(slots=True)
class StsTxtRecord:
    """A parsed MTA-STS TXT record (RFC 8461 §3.1)."""

    text: str
    version: str | None
    id: str | None
    extensions: dict[str, str] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not any(f.severity == "error" for f in self.findings)

    def to_dict(self) -> dict[str, object]:
        return {
            "text": self.text,
            "version": self.version,
            "id": self.id,
            "extensions": dict(self.extensions),
            "valid": self.valid,
        }


def parse_sts_txt(text: str) -> StsTxtRecord:
    """Parse a (joined) MTA-STS TXT record and diagnose it."""
    record = StsTxtRecord(text=text, version=None, id=None)
    out = record.findings

    def syntax(why: str) -> None:
        out.append(make_finding("sts-txt-syntax", f"MTA-STS record {why}", text))

    if has_bad_characters(text):
        syntax(
            "contains non-ASCII or control characters; it must be US-ASCII. "
            "Senders treat the domain as having no MTA-STS."
        )
    version_part, fields, empty_field = _split_fields(text)
    if version_part.rstrip(_WSP) == STS_VERSION:
        record.version = STS_VERSION
        if version_part != STS_VERSION and fields:
            out.append(
                make_finding(
                    "sts-txt-whitespace",
                    "There is whitespace between v=STSv1 and the first ';'. The grammar allows "
                    "it, but senders keep only records beginning with 'v=STSv1;' (EID 6285). "
                    "Write 'v=STSv1;'.",
                    text,
                )
            )
    else:
        hint = ""
        if version_part.strip().lower() == STS_VERSION.lower():
            hint = " (it is case-sensitive and must be at the very start)"
        syntax(
            f"must start with exactly 'v=STSv1;'{hint}; it starts with "
            f"{version_part[:20]!r}. Senders ignore it."
        )
        if not hint and "=" in version_part:
            fields.insert(0, version_part.strip(_WSP))  # a field where the version belongs
    if empty_field:
        syntax("has an empty field (two ';' in a row). Remove the extra ';'.")
    ids: list[str] = []
    for item in fields:
        if item == "":
            continue
        name, sep, value = item.partition("=")
        if not sep:
            syntax(f"has a field {item!r} that is not name=value.")
            continue
        if name.strip(_WSP).lower() == "v":
            if record.version is not None:
                syntax(f"has a second version field {item!r}; keep only the first.")
            continue
        if name == "id":
            ids.append(value)
            continue
        if name.strip(_WSP).lower() == "id":
            syntax(f"has a field named {name!r}; write it exactly 'id=' (lower case, no spaces).")
            continue
        if not _EXT_NAME_RE.fullmatch(name) or not _EXT_VALUE_RE.fullmatch(value):
            out.append(
                make_finding(
                    "sts-txt-extension-invalid",
                    f"The field {item!r} is not a valid extension field. Fix or remove it.",
                    text,
                )
            )
            continue
        if name not in record.extensions:
            record.extensions[name] = value
            out.append(
                make_finding(
                    "sts-txt-extension-unknown",
                    f"The field {name!r} is not defined by RFC 8461; senders ignore it.",
                    text,
                )
            )
    if not ids:
        out.append(
            make_finding(
                "sts-id-invalid",
                "The MTA-STS record has no id= field, so senders ignore it. Add "
                "'id=' followed by 1 to 32 letters or digits (e.g. a date like 20240131T1200).",
                text,
            )
        )
    else:
        record.id = ids[0]
        if not _STS_ID_RE.fullmatch(ids[0]):
            out.append(
                make_finding(
                    "sts-id-invalid",
                    f"The id {ids[0]!r} is invalid: it must be 1 to 32 letters or digits, "
                    "nothing else. Senders ignore the record until it is fixed.",
                    text,
                )
            )
        if len(ids) > 1:
            out.append(
                make_finding(
                    "sts-id-duplicate",
                    f"id= appears {len(ids)} times; senders use the first ({ids[0]!r}). "
                    "Keep only one.",
                    text,
                )
            )
    return record


# --------------------------------------------------------------------------- TLSA

TLSA_USAGES: Final = {0: "PKIX-TA", 1: "PKIX-EE", 2: "DANE-TA", 3: "DANE-EE"}
TLSA_SELECTORS: Final = {0: "Cert", 1: "SPKI"}
TLSA_MATCHING: Final = {0: "Full", 1: "SHA2-256", 2: "SHA2-512"}
_DIGEST_LEN: Final = {1: 32, 2: 64}


@dataclass(slots=True)
class TlsaRecord:
    """One TLSA record (RFC 6698 §2.1) and its diagnosis for SMTP (RFC 7672)."""

    usage: int
    selector: int
    mtype: int
    data: bytes
    findings: list[Finding] = field(default_factory=list)

    @property
    def text(self) -> str:
        return f"{self.usage} {self.selector} {self.mtype} {self.data.hex()}"

    @property
    def usable(self) -> bool:
        """Usable by an SMTP client: DANE-TA/DANE-EE, known parameters, sane data."""
        return self.usage in (2, 3) and not any(f.severity == "error" for f in self.findings)

    def to_dict(self) -> dict[str, object]:
        return {
            "usage": self.usage,
            "selector": self.selector,
            "matching_type": self.mtype,
            "data": self.data.hex(),
            "text": self.text,
            "usable": self.usable,
        }


def check_tlsa(usage: int, selector: int, mtype: int, data: bytes, subject: str) -> TlsaRecord:
    """Diagnose a TLSA record for use by SMTP (RFC 6698, RFC 7671, RFC 7672)."""
    record = TlsaRecord(usage, selector, mtype, data)
    out = record.findings
    text = record.text
    unknown = []
    if usage not in TLSA_USAGES:
        unknown.append(f"usage {usage}")
    if selector not in TLSA_SELECTORS:
        unknown.append(f"selector {selector}")
    if mtype not in TLSA_MATCHING:
        unknown.append(f"matching type {mtype}")
    if unknown:
        out.append(
            make_finding(
                "dane-tlsa-unknown-parameter",
                f"TLSA record {text[:40]!r} at {subject} has an unknown {', '.join(unknown)}; "
                "senders treat it as unusable. Use usage 2 or 3, selector 0 or 1, matching "
                "type 0, 1 or 2 (3 1 1 is recommended).",
                subject,
            )
        )
    expected = _DIGEST_LEN.get(mtype)
    if expected is not None and len(data) != expected:
        out.append(
            make_finding(
                "dane-tlsa-data-invalid",
                f"TLSA record at {subject} has {len(data)} bytes of data but matching type "
                f"{mtype} ({TLSA_MATCHING[mtype]}) needs exactly {expected} bytes "
                f"({expected * 2} hex digits). Regenerate the record from the certificate.",
                subject,
            )
        )
    elif mtype == 0 and (not data or data[0] != 0x30):
        out.append(
            make_finding(
                "dane-tlsa-data-invalid",
                f"TLSA record at {subject} uses Full(0) matching but its data is not a DER "
                "certificate or public key. Regenerate the record.",
                subject,
            )
        )
    if usage in (0, 1):
        out.append(
            make_finding(
                "dane-tlsa-pkix-usage",
                f"TLSA record {text[:40]!r} at {subject} uses usage {usage} "
                f"({TLSA_USAGES[usage]}), which SMTP senders treat as unusable. Use usage 3 "
                "(DANE-EE) or 2 (DANE-TA).",
                subject,
            )
        )
    ta_full = usage == 2 and mtype == 0
    if ta_full:
        out.append(
            make_finding(
                "dane-ta-full",
                f"TLSA record at {subject} is DANE-TA with Full(0) matching, which is NOT "
                "RECOMMENDED; publish a SHA2-256 digest (2 1 1 or 2 0 1) instead.",
                subject,
            )
        )
    if not out and (usage, selector, mtype) != (3, 1, 1):
        out.append(
            make_finding(
                "dane-tlsa-not-recommended",
                f"TLSA record at {subject} is '{usage} {selector} {mtype}'. It works, but "
                "'3 1 1' (DANE-EE, public key, SHA2-256) is the recommended form: it survives "
                "certificate renewals with the same key and ignores names and expiry.",
                subject,
            )
        )
    return record


_TLSA_TEXT_RE: Final = re.compile(r"\s*(\d{1,3})\s+(\d{1,3})\s+(\d{1,3})\s+(.*)", re.DOTALL)


def parse_tlsa_text(text: str, subject: str = "") -> TlsaRecord:
    """Parse presentation format ``usage selector mtype hex`` (RFC 6698 §2.2).

    Whitespace inside the hex is allowed, as in zone files. Raises ``ValueError``
    when the text is not a TLSA record at all (bad numbers or hex).
    """
    m = _TLSA_TEXT_RE.fullmatch(text.rstrip())  # no trailing \s* to backtrack over
    if not m:
        raise ValueError(f"not a TLSA record: {text!r} (expected 'usage selector mtype hex')")
    usage, selector, mtype = (int(m.group(i)) for i in (1, 2, 3))
    if max(usage, selector, mtype) > 255:
        raise ValueError(f"TLSA fields are 0..255: {text!r}")
    hexdata = re.sub(r"\s+", "", m.group(4))
    if not hexdata or len(hexdata) % 2 or not re.fullmatch(r"[0-9A-Fa-f]+", hexdata):
        raise ValueError(f"TLSA association data is not an even number of hex digits: {text!r}")
    return check_tlsa(usage, selector, mtype, bytes.fromhex(hexdata), subject or text)
