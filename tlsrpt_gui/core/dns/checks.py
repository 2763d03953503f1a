"""The DNS checker: look up a domain's TLS-RPT, MTA-STS, MX and TLSA set-up and
diagnose it (spec digest §6).

:func:`check_domain` is a plain blocking function returning a :class:`CheckResult`;
run it in a worker thread and pass ``cancel`` (a :class:`threading.Event` or a
callable) to stop it between steps (:class:`CheckCancelled` is raised).
Nothing is ever sent to a report destination: ``rua`` endpoints are only
resolved and, for https, TLS-handshaken.
"""

from __future__ import annotations

import ipaddress
import logging
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import dns.exception
import dns.name

from tlsrpt_gui.core.dns.findings import Finding, make_finding, sort_findings
from tlsrpt_gui.core.dns.policy import (
    PolicyFetch,
    StsPolicy,
    fetch_policy,
    mx_matches,
    parse_policy,
    probe_tls,
)
from tlsrpt_gui.core.dns.records import (
    RuaUri,
    StsTxtRecord,
    TlsaRecord,
    TlsRptRecord,
    check_tlsa,
    decode_txt_strings,
    is_hostname,
    is_sts_record,
    is_tlsrpt_record,
    looks_like_sts,
    looks_like_tlsrpt,
    parse_sts_txt,
    parse_tlsrpt,
)
from tlsrpt_gui.core.dns.resolver import DEFAULT_TIMEOUT, DnsClient, Lookup

log = logging.getLogger(__name__)

CancelToken = threading.Event | Callable[[], bool]
Progress = Callable[[str], None]

#: TTLs below this on the TLS-RPT record get an info finding (RFC 8460 §7).
SHORT_TTL: Final = 3600
#: The policy host certificate should not expire within this period.
CERT_WARN_DAYS: Final = 14


class CheckCancelled(Exception):
    """Raised by :func:`check_domain` when its cancel token fires."""


@dataclass(frozen=True, slots=True)
class CheckOptions:
    """How to run a check.

    ``nameserver``/``port``: one resolver to ask (``None`` = the system's).
    ``timeout``: limit in seconds for each DNS query and for each HTTPS
    connection (an overall deadline per fetch or probe, not per read).
    ``mta_sts_port``: TCP port of the policy host (443 outside tests); also used
    for https ``rua`` URIs that name no port.
    ``cafile`` / ``ssl_context``: trust anchors for HTTPS (default: the system
    store, which honours ``SSL_CERT_FILE``); ``ssl_context`` wins.
    ``probe_rua``: check that rua destinations can receive reports.
    ``dnssec``: set DO and AD in queries and report the AD flag.
    """

    nameserver: str | None = None
    port: int = 53
    timeout: float = DEFAULT_TIMEOUT
    mta_sts_port: int = 443
    cafile: str | None = None
    ssl_context: ssl.SSLContext | None = field(default=None, compare=False)
    probe_rua: bool = True
    dnssec: bool = True


@dataclass(frozen=True, slots=True)
class PolicySnapshot:
    """A policy seen earlier with its id, to catch a policy changed without a new id."""

    id: str
    text: str


@dataclass(frozen=True, slots=True)
class TxtRecord:
    """One TXT record: its raw character-strings and their concatenation."""

    strings: tuple[str, ...]
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"strings": list(self.strings), "text": self.text}


@dataclass(slots=True)
class RuaStatus:
    """A rua destination and whether it can receive reports (``None``: not probed)."""

    uri: RuaUri
    reachable: bool | None = None
    detail: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {**self.uri.to_dict(), "reachable": self.reachable, "detail": self.detail}


@dataclass(slots=True)
class TlsRptResult:
    """The TLS-RPT TXT lookup at ``_smtp._tls.<name>``."""

    name: str
    lookup: Lookup
    txt: list[TxtRecord] = field(default_factory=list)
    records: list[TlsRptRecord] = field(default_factory=list)  # those starting v=TLSRPTv1
    rua: list[RuaStatus] = field(default_factory=list)

    @property
    def record(self) -> TlsRptRecord | None:
        """The TLS-RPT record when there is exactly one."""
        return self.records[0] if len(self.records) == 1 else None

    @property
    def valid(self) -> bool:
        record = self.record
        return record is not None and record.valid

    def to_dict(self) -> dict[str, Any]:
        record = self.record
        return {
            **self.lookup.to_dict(),
            "txt": [t.to_dict() for t in self.txt],
            "records": [r.to_dict() for r in self.records],
            "record": record.text if record else None,
            "version": record.version if record else None,
            "extensions": dict(record.extensions) if record else {},
            "rua": [r.to_dict() for r in self.rua],
            "valid": self.valid,
        }


@dataclass(slots=True)
class StsResult:
    """The MTA-STS TXT record at ``_mta-sts.<domain>`` and the HTTPS policy."""

    name: str
    lookup: Lookup
    txt: list[TxtRecord] = field(default_factory=list)
    records: list[StsTxtRecord] = field(default_factory=list)  # those starting v=STSv1
    policy_host: str = ""
    fetch: PolicyFetch | None = None
    policy: StsPolicy | None = None

    @property
    def record(self) -> StsTxtRecord | None:
        return self.records[0] if len(self.records) == 1 else None

    @property
    def id(self) -> str | None:
        record = self.record
        return record.id if record else None

    def to_dict(self) -> dict[str, Any]:
        record = self.record
        policy: dict[str, Any] | None = None
        if self.fetch is not None:
            policy = self.fetch.to_dict()
            policy["raw"] = self.policy.raw if self.policy else None
            policy.update(
                self.policy.to_dict()
                if self.policy
                else {"version": None, "mode": None, "max_age": None, "mx": [],
                      "extensions": {}, "valid": False}
            )
        return {
            **self.lookup.to_dict(),
            "txt": [t.to_dict() for t in self.txt],
            "records": [r.to_dict() for r in self.records],
            "record": record.text if record else None,
            "id": self.id,
            "valid": bool(record and record.valid),
            "policy_host": self.policy_host,
            "policy": policy,
        }


@dataclass(slots=True)
class MxHost:
    """One MX target, its addresses and the policy pattern that covers it."""

    preference: int
    host: str
    addresses: list[str] = field(default_factory=list)
    address_error: str | None = None
    addresses_authenticated: bool = False
    covered_by: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "preference": self.preference,
            "host": self.host,
            "addresses": list(self.addresses),
            "address_error": self.address_error,
            "addresses_authenticated": self.addresses_authenticated,
            "covered_by": self.covered_by,
        }


@dataclass(slots=True)
class MxResult:
    lookup: Lookup
    hosts: list[MxHost] = field(default_factory=list)
    null_mx: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.lookup.to_dict(),
            "null_mx": self.null_mx,
            "hosts": [h.to_dict() for h in self.hosts],
        }


@dataclass(slots=True)
class TlsaResult:
    """TLSA records at ``_25._tcp.<mx>`` and the MX host's own TLS-RPT record."""

    mx: str
    name: str
    lookup: Lookup
    records: list[TlsaRecord] = field(default_factory=list)
    bogus: bool = False
    malformed: int = 0  # records too short to be TLSA at all
    tlsrpt: TlsRptResult | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "mx": self.mx,
            **self.lookup.to_dict(),
            "bogus": self.bogus,
            "malformed": self.malformed,
            "records": [r.to_dict() for r in self.records],
            "tlsrpt": self.tlsrpt.to_dict() if self.tlsrpt else None,
        }


@dataclass(slots=True)
class CheckResult:
    """Everything found for one domain. ``findings`` are sorted, errors first."""

    domain: str
    tlsrpt: TlsRptResult
    mta_sts: StsResult
    mx: MxResult
    tlsa: list[TlsaResult]
    findings: list[Finding]
    resolver: str = ""
    elapsed: float = 0.0

    @property
    def has_errors(self) -> bool:
        return any(f.severity == "error" for f in self.findings)

    def codes(self) -> set[str]:
        return {f.code for f in self.findings}

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of ``tlsrpt-gui check --json``."""
        return {
            "domain": self.domain,
            "tlsrpt": self.tlsrpt.to_dict(),
            "mta_sts": self.mta_sts.to_dict(),
            "mx": self.mx.to_dict(),
            "tlsa": [t.to_dict() for t in self.tlsa],
            "findings": [f.to_dict() for f in self.findings],
        }


def normalize_domain(domain: str) -> str:
    """Lower-case A-label form without the trailing dot; ``ValueError`` if not a domain."""
    text = domain.strip()
    if text.endswith("."):
        text = text[:-1]
    if not text:
        raise ValueError("the domain is empty")
    try:
        name = dns.name.from_text(text)
    except (dns.exception.DNSException, UnicodeError) as exc:
        raise ValueError(f"not a valid domain name: {domain!r} ({exc})") from None
    ascii_name = name.to_text(omit_final_dot=True).lower()
    if not is_hostname(ascii_name):
        raise ValueError(f"not a valid domain name: {domain!r}")
    return ascii_name


def _meaning(policy: StsPolicy) -> tuple[Any, ...]:
    """What senders take from a policy: a change in layout, line endings, the order or
    case of its ``mx`` lines, or a repeated line is no change (and needs no new id)."""
    return (policy.version, policy.mode, policy.max_age, frozenset(m.lower() for m in policy.mx),
            tuple(sorted(policy.extensions.items())))


def _in_domain(name: str, domain: str) -> bool:
    name = name.lower().rstrip(".")
    return name == domain or name.endswith("." + domain)


def _txt_records(lookup: Lookup) -> list[TxtRecord]:
    out = []
    for rd in lookup.rdatas:
        strings, text = decode_txt_strings(rd.strings)  # type: ignore[attr-defined]
        out.append(TxtRecord(tuple(strings), text))
    return out


class _Checker:
    def __init__(
        self,
        domain: str,
        options: CheckOptions,
        cancel: CancelToken | None,
        progress: Progress | None,
        previous_policy: PolicySnapshot | None,
    ) -> None:
        self.domain = domain
        self.options = options
        self.cancel = cancel
        self.progress = progress
        self.previous = previous_policy
        self.client = DnsClient(
            nameserver=options.nameserver,
            port=options.port,
            timeout=options.timeout,
            dnssec=options.dnssec,
        )
        try:
            self.context = options.ssl_context or ssl.create_default_context(
                cafile=options.cafile
            )
        except (OSError, ssl.SSLError) as exc:
            raise ValueError(f"cannot load the CA file {options.cafile!r}: {exc}") from exc
        self.findings: list[Finding] = []

    # ----------------------------------------------------------------- helpers

    def step(self, what: str) -> None:
        cancel = self.cancel
        if cancel is not None and (
            cancel.is_set() if isinstance(cancel, threading.Event) else cancel()
        ):
            raise CheckCancelled(f"check of {self.domain} cancelled")
        if self.progress is not None:
            self.progress(what)

    def add(self, code: str, message: str, subject: str, **kwargs: Any) -> None:
        self.findings.append(make_finding(code, message, subject, **kwargs))

    # ----------------------------------------------------------------- TLS-RPT

    def tlsrpt_at(self, name: str) -> tuple[TlsRptResult, list[Finding]]:
        """Look up and parse a TLS-RPT record; findings except 'missing'."""
        lookup = self.client.lookup(name, "TXT")
        result = TlsRptResult(name=name, lookup=lookup, txt=_txt_records(lookup))
        found: list[Finding] = []
        if lookup.status == "error":
            found.append(
                make_finding(
                    "tlsrpt-lookup-failed",
                    f"The TXT lookup of {name} failed ({lookup.error}); whether a TLS-RPT "
                    "record exists is unknown. Check that the zone's name servers answer.",
                    name,
                )
            )
            return result, found
        texts = [t.text for t in result.txt]
        result.records = [parse_tlsrpt(t) for t in texts if is_tlsrpt_record(t)]
        if len(result.records) > 1:
            found.append(
                make_finding(
                    "tlsrpt-multiple",
                    f"{name} has {len(result.records)} TXT records starting with v=TLSRPTv1; "
                    "senders then act as if there were none. Merge them into one record "
                    "(several URIs go into one rua=, separated by commas).",
                    name,
                )
            )
        if not result.records:
            for text in texts:
                if looks_like_tlsrpt(text):
                    found.extend(parse_tlsrpt(text).findings)
        for parsed in result.records:
            found.extend(parsed.findings)
        record = result.record
        if record is not None and lookup.ttl is not None and lookup.ttl < SHORT_TTL:
            found.append(
                make_finding(
                    "tlsrpt-ttl-short",
                    f"The TLS-RPT record's TTL is {lookup.ttl} s. RFC 8460 §7 advises a long "
                    "TTL (or DNSSEC) so a spoofed answer cannot redirect reports for long; "
                    "consider an hour or more.",
                    name,
                )
            )
        if record is not None:
            result.rua = [RuaStatus(uri) for uri in record.rua]
        return result, found

    def check_tlsrpt(self) -> TlsRptResult:
        self.step("TLS-RPT record")
        result, found = self.tlsrpt_at(f"_smtp._tls.{self.domain}")
        self.findings.extend(found)
        for status in result.rua:
            target = status.uri.target
            if status.uri.valid and target and not _in_domain(target, self.domain):
                self.add(
                    "tlsrpt-rua-external",
                    f"Reports go to {target}, outside {self.domain}. That is allowed (no "
                    "authorization record is needed, unlike DMARC); make sure it is intended.",
                    status.uri.uri,
                )
        return result

    def probe_rua(self, result: TlsRptResult) -> None:
        mail_cache: dict[str, tuple[bool | None, str]] = {}
        for status in result.rua:
            uri = status.uri
            if not uri.valid or uri.target is None:
                continue
            self.step(f"rua destination {uri.uri}")
            if uri.scheme == "mailto":
                if uri.target not in mail_cache:
                    mail_cache[uri.target] = self.mail_domain_reachable(uri.target)
                status.reachable, status.detail = mail_cache[uri.target]
                if status.reachable is None:  # its lookup failed: unknown, not unreachable
                    self.add(
                        "tlsrpt-rua-unreachable",
                        f"Whether reports to {uri.uri} can be delivered is unknown: {status.detail}. "
                        f"Check the DNS servers of {uri.target}, then check again.",
                        uri.uri,
                    )
                elif not status.reachable:
                    self.add(
                        "tlsrpt-rua-unreachable",
                        f"Reports to {uri.uri} cannot be delivered: {status.detail}. Publish "
                        "an MX record for the mail domain or use another address.",
                        uri.uri,
                    )
            else:
                self.probe_https_rua(status)

    def mail_domain_reachable(self, domain: str) -> tuple[bool | None, str]:
        """Whether mail to ``domain`` can be delivered (None: its lookup failed), and why."""
        if domain.startswith("["):
            return True, "address literal"
        lookup = self.client.lookup(domain, "MX")
        if lookup.status == "ok":
            targets = [rd.exchange.to_text(omit_final_dot=True)  # type: ignore[attr-defined]
                       for rd in lookup.rdatas]
            if all(t in ("", ".") for t in targets):
                return False, f"{domain} publishes a null MX (it accepts no mail)"
            return True, f"{domain} has MX records"
        if lookup.status == "nxdomain":
            return False, f"the domain {domain} does not exist"
        if lookup.status == "error":
            return None, f"the MX lookup of {domain} failed ({lookup.error})"
        addresses, _, _ = self.client.addresses(domain)
        if addresses:
            return True, f"{domain} has no MX but has an address record"
        return False, f"{domain} has neither MX nor address records"

    def probe_https_rua(self, status: RuaStatus) -> None:
        uri = status.uri
        host = uri.target or ""
        port = uri.port or self.options.mta_sts_port
        try:
            ipaddress.ip_address(host)
            addresses = [host]
        except ValueError:
            addresses, _, _ = self.client.addresses(host)
        if not addresses:
            status.reachable = False
            status.detail = f"{host} has no A or AAAA record"
        else:
            probe = probe_tls(host, addresses, port=port, timeout=self.options.timeout,
                              context=self.context)
            status.reachable = probe.connected
            if probe.connected and not probe.certificate_valid:
                status.detail = f"TLS works but {probe.certificate_error}"
                self.add(
                    "tlsrpt-rua-certificate",
                    f"{uri.uri}: {probe.certificate_error}. Senders MAY ignore certificate "
                    "errors for report delivery, but many will not; install a valid "
                    "certificate.",
                    uri.uri,
                )
                return
            status.detail = "accepts TLS with a valid certificate" if probe.connected else (
                probe.error or "unreachable"
            )
        if not status.reachable:
            self.add(
                "tlsrpt-rua-unreachable",
                f"Reports to {uri.uri} cannot be delivered: {status.detail} (port {port}). "
                "Fix the endpoint or remove it from rua.",
                uri.uri,
            )

    # ----------------------------------------------------------------- MTA-STS

    def check_sts_txt(self) -> StsResult:
        self.step("MTA-STS record")
        name = f"_mta-sts.{self.domain}"
        lookup = self.client.lookup(name, "TXT")
        result = StsResult(name=name, lookup=lookup, txt=_txt_records(lookup),
                           policy_host=f"mta-sts.{self.domain}")
        if lookup.status == "error":
            self.add(
                "sts-txt-lookup-failed",
                f"The TXT lookup of {name} failed ({lookup.error}); whether MTA-STS is "
                "published is unknown.",
                name,
            )
            return result
        if lookup.cname_chain:
            self.add(
                "sts-txt-cname",
                f"{name} is an alias (CNAME) for {' -> '.join(lookup.cname_chain)}; senders "
                "follow it, so the record found there applies.",
                name,
            )
        texts = [t.text for t in result.txt]
        result.records = [parse_sts_txt(t) for t in texts if is_sts_record(t)]
        if len(result.records) > 1:
            self.add(
                "sts-txt-multiple",
                f"{name} has {len(result.records)} TXT records starting with v=STSv1; senders "
                "then treat the domain as having no MTA-STS. Keep exactly one.",
                name,
            )
        for record in result.records:
            self.findings.extend(record.findings)
        if not result.records:
            lookalikes = [t for t in texts if looks_like_sts(t)]
            for text in lookalikes:
                self.findings.extend(parse_sts_txt(text).findings)
            if not lookalikes:
                self.add(
                    "sts-txt-missing",
                    f"No MTA-STS record at {name}: senders do not use MTA-STS for "
                    f"{self.domain}. To protect inbound mail against downgrades, publish a "
                    "policy at https://mta-sts." + self.domain + "/.well-known/mta-sts.txt "
                    "and then 'v=STSv1; id=...' here.",
                    name,
                )
        return result

    def fetch_sts_policy(self, result: StsResult) -> None:
        host = result.policy_host
        announced = bool(result.records)
        #: the TXT lookup failed: whether MTA-STS is published is unknown (said already)
        unknown = result.lookup.status == "error"
        self.step("MTA-STS policy host")
        addresses, a, aaaa = self.client.addresses(host)
        if not addresses and not announced:
            return  # no policy host and no record: MTA-STS simply not in use (or unknown)
        if not addresses:
            why = "has no A or AAAA record"
            advice = "Add an A/AAAA record for it pointing to a web server with a valid certificate."
            failed = [lk for lk in (a, aaaa) if lk.status == "error"]
            if failed:
                why = f"could not be resolved ({failed[0].error})"
                advice = f"Check the DNS servers of {host}'s zone: they must answer for it."
            result.fetch = PolicyFetch(
                url=f"https://{host}/.well-known/mta-sts.txt", host=host,
                port=self.options.mta_sts_port, error_kind="dns", error=f"{host} {why}",
            )
            self.add(
                "sts-policy-unreachable",
                f"The policy host {host} {why}, so senders cannot fetch the MTA-STS policy "
                f"(sts-policy-fetch-error). {advice}",
                host,
            )
            return
        self.step("MTA-STS policy")
        fetch = fetch_policy(host, addresses, port=self.options.mta_sts_port,
                             timeout=self.options.timeout, context=self.context)
        result.fetch = fetch
        if fetch.body is not None:
            result.policy = parse_policy(fetch.body, subject=fetch.url)
        if not announced and not unknown:
            if fetch.ok:
                which = "no valid MTA-STS TXT record" if result.txt else "no MTA-STS TXT record"
                self.add(
                    "sts-policy-without-txt",
                    f"A policy is published at {fetch.url} but there is {which} "
                    f"at {result.name}, so senders never look for it. Publish "
                    "'v=STSv1; id=<new id>' there.",
                    fetch.url,
                )
                self.policy_findings(result)
            return
        self.fetch_findings(fetch)
        self.policy_findings(result)

    def fetch_findings(self, fetch: PolicyFetch) -> None:
        url = fetch.url
        if fetch.error_kind == "certificate":
            self.add(
                "sts-policy-certificate",
                f"{fetch.error}. Senders reject the policy (sts-webpki-invalid). Install a "
                f"certificate for {fetch.host} from a public CA, unexpired, with the full "
                "chain.",
                url,
            )
            return
        if fetch.error_kind == "timeout" and fetch.connected_address is not None:
            # connected, but the answer came too slowly for this check's limit, not the
            # senders' (about a minute); a host that never connects or completes a TLS
            # handshake is unreachable (below)
            self.add(
                "sts-policy-unreachable",
                f"Fetching {url} took too long: {fetch.error}, the limit of this check. Senders "
                "wait longer (RFC 8461 §3.3 suggests about a minute), but a policy host this slow "
                f"risks failed fetches (sts-policy-fetch-error); make the web server on {fetch.host} "
                "answer promptly, then check again.",
                url,
                severity="warning",
            )
            return
        if fetch.error_kind is not None:
            self.add(
                "sts-policy-unreachable",
                f"Fetching {url} failed: {fetch.error}. Senders cannot get the policy "
                "(sts-policy-fetch-error); make sure the web server answers HTTPS on "
                f"{fetch.host} quickly.",
                url,
            )
            return
        if fetch.status != 200:
            if fetch.status is not None and 300 <= fetch.status < 400:
                detail = (
                    f"a redirect ({fetch.status}) to {fetch.location or '?'}; senders never "
                    "follow redirects. Serve the file itself at this URL"
                )
            else:
                detail = f"HTTP {fetch.status} {fetch.reason or ''}".rstrip() + (
                    "; only 200 is accepted. Serve the policy file at this exact path"
                )
            self.add("sts-policy-http-status", f"{url} answered {detail}.", url)
            return
        if fetch.too_large:
            self.add(
                "sts-policy-too-large",
                f"The policy at {url} is larger than 64 KiB; senders may refuse it, and this "
                "check did not read its content. A policy is a few lines: serve only those.",
                url,
            )
        media = (fetch.content_type or "").split(";")[0].strip().lower()
        charset = ""
        for param in (fetch.content_type or "").split(";")[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "charset":
                charset = value.strip().strip('"').lower()
        if media != "text/plain" or charset not in ("", "utf-8", "us-ascii"):
            self.add(
                "sts-policy-content-type",
                f"The policy is served {'as ' + fetch.content_type if fetch.content_type else 'without a Content-Type'}; it should "
                "be text/plain (charset utf-8 or us-ascii). Some senders reject other types.",
                url,
            )
        if fetch.certificate_not_after is not None:
            left = fetch.certificate_not_after - datetime.now(UTC)
            if left < timedelta(days=CERT_WARN_DAYS):
                self.add(
                    "sts-policy-certificate-expiring",
                    f"The certificate of {fetch.host} expires on "
                    f"{fetch.certificate_not_after:%Y-%m-%d %H:%M} UTC "
                    f"(in {max(left.days, 0)} days). Renew it; once expired senders reject "
                    "the policy.",
                    fetch.host,
                )

    def policy_findings(self, result: StsResult) -> None:
        policy = result.policy
        if policy is None:
            return
        self.findings.extend(policy.findings)
        if policy.mode == "testing":
            self.add(
                "sts-mode-testing",
                "The policy is in testing mode: senders report failures through TLS-RPT but "
                "still deliver over unverified connections. Switch to 'mode: enforce' once "
                "reports show no failures (and change the id).",
                "mode: testing",
            )
        elif policy.mode == "none":
            self.add(
                "sts-mode-none",
                "The policy mode is none: senders treat the domain as having no policy. That "
                "is the first step of removing MTA-STS; don't leave it in place for long.",
                "mode: none",
            )
        record = result.record
        if (
            self.previous is not None
            and record is not None
            and record.id == self.previous.id
            and _meaning(policy) != _meaning(parse_policy(self.previous.text.encode("utf-8", "replace")))
        ):
            self.add(
                "sts-id-unchanged",
                f"The policy changed but the id is still {record.id!r}; senders with the "
                "old policy cached will not refetch it. Change the id in the TXT record "
                "whenever the policy changes.",
                record.text,
            )

    def coverage_findings(self, result: StsResult, mx: MxResult) -> None:
        policy = result.policy
        if policy is None or policy.mode not in ("enforce", "testing") or not policy.mx:
            return
        used: set[str] = set()
        for host in mx.hosts:
            for pattern in policy.mx:
                if mx_matches(host.host, pattern):
                    host.covered_by = host.covered_by or pattern
                    used.add(pattern)
            if host.covered_by is None:
                enforce = policy.mode == "enforce"
                consequence = (
                    "senders that enforce the policy will not deliver to it"
                    if enforce
                    else "senders will report failures for it through TLS-RPT"
                )
                self.add(
                    "sts-mx-not-covered",
                    f"The MX host {host.host} matches no mx line of the policy "
                    f"({', '.join(policy.mx)}): {consequence}. Add 'mx: {host.host}' "
                    "(or a matching '*.' pattern) to the policy and change the id.",
                    host.host,
                    severity="error" if enforce else "warning",
                )
        for pattern in policy.mx:
            if pattern not in used and mx.hosts:
                self.add(
                    "sts-mx-pattern-unused",
                    f"The policy's mx pattern {pattern!r} matches none of the current MX "
                    "hosts; probably left over. Remove it if it is stale.",
                    f"mx: {pattern}",
                )

    # ----------------------------------------------------------------- MX, DANE

    def check_mx(self) -> MxResult:
        self.step("MX records")
        lookup = self.client.lookup(self.domain, "MX")
        result = MxResult(lookup=lookup)
        if lookup.status == "error":
            self.add(
                "mx-lookup-failed",
                f"The MX lookup of {self.domain} failed ({lookup.error}).",
                self.domain,
            )
            return result
        if lookup.status in ("nxdomain", "nodata"):
            why = (
                f"The domain {self.domain} does not exist in DNS"
                if lookup.status == "nxdomain"
                else f"{self.domain} has no MX records; senders fall back to its address "
                "records (implicit MX), which MTA-STS and DANE do not cover well"
            )
            self.add("mx-missing", f"{why}. Publish MX records for the mail servers.",
                     self.domain)
            return result
        entries = sorted(
            (int(rd.preference),  # type: ignore[attr-defined]
             rd.exchange.to_text(omit_final_dot=True).lower())  # type: ignore[attr-defined]
            for rd in lookup.rdatas
        )
        for preference, host in entries:
            if host in ("", "."):
                result.null_mx = True
                continue
            result.hosts.append(MxHost(preference, host))
        if result.null_mx and not result.hosts:
            self.add(
                "mx-null",
                f"{self.domain} publishes a null MX (RFC 7505): it accepts no mail, so "
                "MTA-STS, DANE and TLS-RPT for inbound mail are moot.",
                self.domain,
            )
        for host in result.hosts:
            self.step(f"address of {host.host}")
            addresses, a, aaaa = self.client.addresses(host.host)
            host.addresses = addresses
            answered = [lk for lk in (a, aaaa) if lk.status == "ok"]
            host.addresses_authenticated = bool(answered) and all(
                lk.authenticated for lk in answered
            )
            failed = [lk for lk in (a, aaaa) if lk.status == "error"]
            if not addresses:
                host.address_error = (
                    failed[0].error if failed else "no A or AAAA record"
                )
                self.add(
                    "mx-host-unresolved",
                    f"The MX host {host.host} has no usable address ({host.address_error}); "
                    "mail cannot be delivered to it. Add A/AAAA records or fix the MX.",
                    host.host,
                )
        return result

    def check_tlsa(self, mx: MxResult) -> list[TlsaResult]:
        results: list[TlsaResult] = []
        for host in mx.hosts:
            self.step(f"TLSA of {host.host}")
            name = f"_25._tcp.{host.host}"
            lookup, raw = self.client.lookup_records(name, "TLSA")
            entry = TlsaResult(mx=host.host, name=name, lookup=lookup)
            if lookup.rcode == "SERVFAIL" and self.options.dnssec:
                # A validating resolver answers SERVFAIL for bogus data; with CD set it
                # hands the data over anyway.
                retry, _ = self.client.lookup_records(name, "TLSA", checking_disabled=True)
                entry.bogus = retry.status in ("ok", "nodata", "nxdomain")
            for rr in raw:
                if len(rr.rdata) < 3:
                    entry.malformed += 1
                    continue
                usage, selector, mtype = rr.rdata[0], rr.rdata[1], rr.rdata[2]
                entry.records.append(check_tlsa(usage, selector, mtype, rr.rdata[3:], name))
            self.step(f"TLS-RPT record of {host.host}")
            entry.tlsrpt, _ = self.tlsrpt_at(f"_smtp._tls.{host.host}")
            results.append(entry)
        return results

    def dane_findings(self, mx: MxResult, tlsa: list[TlsaResult], sts: StsResult) -> bool:
        """Findings about DANE; returns whether any MX publishes TLSA records."""
        for entry in tlsa:
            if entry.bogus:
                self.add(
                    "dane-tlsa-bogus",
                    f"The TLSA answer for {entry.name} fails DNSSEC validation (bogus): "
                    f"DANE senders will not deliver to {entry.mx}. Fix the zone's signatures "
                    "or the DS record.",
                    entry.name,
                )
            elif entry.lookup.status == "error":
                self.add(
                    "dane-tlsa-lookup-failed",
                    f"The TLSA lookup of {entry.name} failed ({entry.lookup.error}); DANE "
                    f"senders may defer mail to {entry.mx}.",
                    entry.name,
                )
        with_tlsa = [e for e in tlsa if e.records or e.malformed]
        if not mx.hosts:
            return False
        if not with_tlsa:
            if not any(e.bogus or e.lookup.status == "error" for e in tlsa):
                self.add(
                    "dane-not-used",
                    f"None of the MX hosts of {self.domain} publishes TLSA records at "
                    "_25._tcp.<mx>, so DANE is not used. DANE needs DNSSEC-signed zones.",
                    self.domain,
                )
            return False
        if self.options.dnssec and not mx.lookup.authenticated:
            self.add(
                "dane-mx-insecure",
                f"The MX records of {self.domain} were not DNSSEC-validated (AD flag off). "
                "Without a secure MX RRset senders need not apply DANE and fall back to "
                "opportunistic TLS. Sign the zone, or check with a validating resolver.",
                self.domain,
            )
        by_host = {h.host: h for h in mx.hosts}
        for entry in tlsa:
            if not entry.records and not entry.malformed:
                if not entry.bogus and entry.lookup.status != "error":
                    self.add(
                        "dane-tlsa-missing",
                        f"The MX host {entry.mx} has no TLSA record at {entry.name}, while "
                        "other MX hosts do; mail through it is not DANE-protected.",
                        entry.name,
                    )
                continue
            for record in entry.records:
                self.findings.extend(record.findings)
            if entry.malformed:
                self.add(
                    "dane-tlsa-data-invalid",
                    f"{entry.malformed} record(s) at {entry.name} are too short to be TLSA "
                    "records (usage, selector, matching type and data). Fix the zone.",
                    entry.name,
                )
            if self.options.dnssec and not entry.lookup.authenticated:
                self.add(
                    "dane-tlsa-insecure",
                    f"The TLSA records at {entry.name} were not DNSSEC-validated (AD flag "
                    "off): either the zone is not signed or the resolver does not validate. "
                    "Senders ignore unvalidated TLSA records; sign the zone.",
                    entry.name,
                )
            host = by_host.get(entry.mx)
            if self.options.dnssec and host is not None and host.addresses and (
                not host.addresses_authenticated
            ):
                self.add(
                    "dane-mx-address-insecure",
                    f"The address records of {entry.mx} were not DNSSEC-validated; senders "
                    "use its TLSA records only when they are.",
                    entry.mx,
                )
            rpt = entry.tlsrpt
            if rpt is not None and rpt.lookup.status != "error":
                if not rpt.records:
                    self.add(
                        "dane-mx-tlsrpt-missing",
                        f"No TLS-RPT record at {rpt.name}. Some senders send DANE failure "
                        "reports to the MX host's TLS-RPT record rather than the domain's "
                        "(RFC 8460 §1.1); publish one there too.",
                        rpt.name,
                    )
                elif not rpt.valid:
                    errors = [f for r in rpt.records for f in r.findings
                              if f.severity == "error"]
                    detail = errors[0].message if errors else "more than one record"
                    self.add(
                        "dane-mx-tlsrpt-invalid",
                        f"The TLS-RPT record at {rpt.name} is unusable: {detail}",
                        rpt.name,
                    )
        if sts.records:
            self.add(
                "dane-and-sts",
                f"{self.domain} uses both DANE and MTA-STS. That is fine: senders that "
                "support DANE use it and ignore MTA-STS for the MX hosts it covers.",
                self.domain,
            )
        return True

    # ----------------------------------------------------------------- run

    def run(self) -> CheckResult:
        started = time.monotonic()
        tlsrpt = self.check_tlsrpt()
        sts = self.check_sts_txt()
        self.fetch_sts_policy(sts)
        mx = self.check_mx()
        self.coverage_findings(sts, mx)
        tlsa = self.check_tlsa(mx)
        uses_dane = self.dane_findings(mx, tlsa, sts)
        if self.options.probe_rua:
            self.probe_rua(tlsrpt)
        self.step("summary")
        uses_sts = bool(sts.records)
        name = tlsrpt.name
        if tlsrpt.lookup.status != "error" and not tlsrpt.records and not any(
            looks_like_tlsrpt(t.text) for t in tlsrpt.txt
        ):
            why = []
            if uses_sts:
                why.append("MTA-STS")
            if uses_dane:
                why.append("DANE")
            self.add(
                "tlsrpt-missing",
                f"No TLS-RPT record at {name}: senders cannot tell you when TLS to your "
                "mail servers fails"
                + (f", which matters because the domain uses {' and '.join(why)}" if why else "")
                + ". Publish e.g. 'v=TLSRPTv1; rua=mailto:tlsrpt@" + self.domain + "'.",
                name,
                # with MTA-STS, sts-without-tlsrpt below is the warning: one problem, counted once
                severity="warning" if why and not uses_sts else "info",
            )
        if uses_sts and not tlsrpt.valid and tlsrpt.lookup.status != "error":  # (a failed lookup is said)
            self.add(
                "sts-without-tlsrpt",
                f"{self.domain} publishes MTA-STS but has no usable TLS-RPT record, so you "
                "will not hear about senders failing to validate your servers or fetch the "
                "policy. Publish a TLS-RPT record at " + name + ".",
                name,
            )
        if self.options.dnssec:
            answered = [lk for lk in (mx.lookup, tlsrpt.lookup, sts.lookup)
                        if lk.status != "error"]
            if answered and not any(lk.authenticated for lk in answered):
                self.add(
                    "dnssec-unvalidated",
                    f"No answer for {self.domain} came back DNSSEC-validated (AD flag off) "
                    f"from the {self.client.describe()}: either the zone is not signed or this "
                    "resolver does not validate. DANE needs validated answers, and DNSSEC also "
                    "protects the TLS-RPT and MTA-STS records from spoofing. To check, sign the "
                    "zone and query a validating resolver.",
                    self.domain,
                )
        return CheckResult(
            domain=self.domain,
            tlsrpt=tlsrpt,
            mta_sts=sts,
            mx=mx,
            tlsa=tlsa,
            findings=sort_findings(self.findings),
            resolver=self.client.describe(),
            elapsed=time.monotonic() - started,
        )


def check_domain(
    domain: str,
    options: CheckOptions | None = None,
    *,
    cancel: CancelToken | None = None,
    progress: Progress | None = None,
    previous_policy: PolicySnapshot | None = None,
) -> CheckResult:
    """Check *domain*'s TLS-RPT, MTA-STS, MX and DANE records.

    Blocking; safe to call from a worker thread (no shared state). Raises
    ``ValueError`` for an invalid domain or CA file, :class:`ResolverSetupError` when the
    resolver cannot be set up, and :class:`CheckCancelled` when *cancel* fires.
    *progress* is called with a short description before each step.
    """
    name = normalize_domain(domain)
    return _Checker(name, options or CheckOptions(), cancel, progress, previous_policy).run()
