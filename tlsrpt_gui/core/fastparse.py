"""A fast path for the well-formed reports that make up nearly every import.

:mod:`report` reads anything a reporter may send and says what is wrong with it.
That care costs time on every report, though nearly all reports are well formed.
:func:`parse` reads such a report straight into plain tuples, and gives up
(returns ``None``) at the first thing it does not expect; the caller then runs the
full parser. It writes only the few notes well-formed reports carry (a count
mismatch, an unknown result type, a file name that names another domain, ...),
built by the same functions as the full parser's.

The contract, checked by tests on the corpus, the synthetic reports and random
mutations of both: whenever :func:`parse` returns a result, it is exactly what
the full parser makes of the same input.
"""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime
from typing import Any, Final, NamedTuple, TypeVar

from tlsrpt_gui.core.report import (
    _CANONICAL_DT_RE,
    _FILENAME_RE,
    _IPV4_RE,
    _MAX_COUNT,
    _TLSA_RE,
    DANE_ONLY_RESULTS,
    KNOWN_POLICY_TYPES,
    KNOWN_RESULT_TYPES,
    MAX_DIAGNOSTICS,
    NOTE_NEXT_MIDNIGHT,
    REASON_CODE_RESULTS,
    STS_RESULTS,
    Diagnostic,
    Report,
    ReportHint,
    normalise_domain,
    note_detail_counts,
    note_detail_sparse,
    note_filename_domain,
    note_reason_code_missing,
    note_result_type_unknown,
    sts_mode,
)

#: result-type, sending-mta-ip, receiving-mx-hostname, receiving-mx-helo, receiving-ip,
#: failed-session-count, failure-reason-code, additional-information
Detail = tuple[str, str | None, str | None, str | None, str | None, int, str | None, str | None]


class FastPolicy(NamedTuple):
    policy_type: str
    policy_domain: str
    policy_domain_source: str
    policy_strings: list[str]
    mx_hosts: list[str]
    sts_mode: str | None
    successful_sessions: int
    failed_sessions: int
    failure_details: list[Detail]


class FastReport(NamedTuple):
    """A report as flat values: what :func:`parse` returns, and what :func:`flatten`
    makes of the full parser's :class:`~tlsrpt_gui.core.report.Report`."""

    organization_name: str
    report_id: str
    contact_info: str | None
    start_ts: int
    end_ts: int
    policies: list[FastPolicy]
    diagnostics: list[Diagnostic]


_DAY: Final = 86400
_CACHE_MAX: Final = 4096
_T = TypeVar("_T")

# Reports of one import share a few dates and sending addresses: each is checked once.
_timestamps: dict[str, int] = {}
_addresses: dict[str, str] = {}


def _timestamp(value: Any) -> int | None:
    """The UTC seconds of a date-time in the canonical form 2025-01-31T23:59:59Z."""
    if type(value) is not str:
        return None
    ts = _timestamps.get(value)
    if ts is not None:
        return ts
    if len(value) != 20:
        return None
    m = _CANONICAL_DT_RE.fullmatch(value)
    if m is None or int(m[6]) >= 60:
        return None
    try:
        ts = int(datetime(int(m[1]), int(m[2]), int(m[3]), int(m[4]), int(m[5]), int(m[6]), tzinfo=UTC).timestamp())
    except ValueError:
        return None
    return _remember(_timestamps, value, ts)


def _address(value: str) -> str | None:
    """A well-formed IPv4 or IPv6 address as the full parser keeps it, or None."""
    known = _addresses.get(value)
    if known is not None:
        return known
    if _IPV4_RE.fullmatch(value):
        text = value
    else:
        text = value.strip()
        try:
            ipaddress.ip_address(text)
        except ValueError:
            return None
    return _remember(_addresses, value, text)


def _remember(cache: dict[str, _T], key: str, value: _T) -> _T:
    if len(cache) >= _CACHE_MAX:  # bounded: start afresh
        cache.clear()
    cache[key] = value
    return value


def _strings(value: Any, policy_type: str) -> list[str] | None:
    if value is None:
        return []
    if type(value) is not list:
        return None
    for item in value:
        if type(item) is not str:
            return None
    if len(value) == 1 and value[0].lstrip().startswith("["):
        return None  # perhaps Microsoft's packed TLSA records
    if policy_type == "tlsa":
        for rec in value:
            if not _TLSA_RE.match(rec.strip()):
                return None
    elif policy_type == "sts":
        for line in value:
            if ":" not in line:
                return None
    return list(value)


def _hosts(value: Any) -> list[str] | None:
    if value is None:
        return []
    if type(value) is not list:
        return None
    out: list[str] = []
    for item in value:
        if type(item) is not str:
            return None
        host = item.strip()
        if host.lower().startswith("mx:"):
            return None
        if host:
            out.append(host)
    return out


def _count(value: Any) -> int | None:
    return value if type(value) is int and 0 <= value <= _MAX_COUNT else None


def _details(value: Any, policy: int, policy_type: str, notes: list[Diagnostic]) -> list[Detail] | None:
    if value is None:
        return []
    if type(value) is not list:
        return None
    out: list[Detail] = []
    for i, raw in enumerate(value):
        if type(raw) is not dict:
            return None
        get = raw.get
        rt = get("result-type")
        if type(rt) is not str:
            return None
        rt = rt.strip()
        if not rt:
            return None
        known = rt in KNOWN_RESULT_TYPES
        if (rt in DANE_ONLY_RESULTS and policy_type != "tlsa") or (rt in STS_RESULTS and policy_type != "sts"):
            return None
        info = get("additional-information")
        if info is None and "additional-info-uri" in raw:
            return None
        n = _count(get("failed-session-count"))
        sip = get("sending-mta-ip")
        rip = get("receiving-ip")
        if sip is not None:
            sip = _address(sip) if type(sip) is str and sip else None
            if sip is None:
                return None
        if rip is not None:
            rip = _address(rip) if type(rip) is str and rip else None
            if rip is None:
                return None
        mx = get("receiving-mx-hostname")
        helo = get("receiving-mx-helo")
        code = get("failure-reason-code")
        # each optional text: absent, or a non-empty string
        if (n is None or (mx is not None and (type(mx) is not str or not mx))
                or (helo is not None and (type(helo) is not str or not helo))
                or (info is not None and (type(info) is not str or not info))
                or (code is not None and (type(code) is not str or not code))):
            return None
        if not known and rt != "unknown":
            notes.append(note_result_type_unknown(f"policies[{policy}].failure-details[{i}]", rt))
        if code is None and rt in REASON_CODE_RESULTS:
            notes.append(note_reason_code_missing(f"policies[{policy}].failure-details[{i}]", rt))
        if rt in STS_RESULTS and (sip is None or mx is None):
            notes.append(note_detail_sparse(f"policies[{policy}].failure-details[{i}]", rt))
        out.append((rt, sip, mx, helo, rip, n, code, info))
    return out


def parse(value: Any, hint: ReportHint, now: float, max_failure_details: int) -> FastReport | None:
    """A well-formed report read fast, or None to ask for the full parser.

    ``value`` is the decoded JSON; ``hint`` must come from a plain file (mails and
    transport notes take the full parser); ``now`` is the current UNIX time.
    """
    if type(value) is not dict or hint.from_mail or hint.header_domain or hint.transport_notes:
        return None
    org = value.get("organization-name")
    dr = value.get("date-range")
    contact = value.get("contact-info")
    rid = value.get("report-id")
    policies_raw = value.get("policies")
    if (type(org) is not str or type(dr) is not dict or type(contact) is not str or not contact
            or type(rid) is not str or type(policies_raw) is not list or not policies_raw):
        return None
    org = org.strip()
    rid = rid.strip()
    start = _timestamp(dr.get("start-datetime"))
    end = _timestamp(dr.get("end-datetime"))
    if not org or not rid or start is None or end is None:
        return None
    # The date checks of report._check_dates that let a report through without a word.
    span = end - start
    if start % _DAY or start >= end or start > now + _DAY:
        return None
    notes: list[Diagnostic] = []
    if span == _DAY and end % _DAY == 0:
        notes.append(NOTE_NEXT_MIDNIGHT)
    elif not 82800 <= span <= 90000:
        return None
    policies: list[FastPolicy] = []
    budget = max_failure_details
    for i, raw in enumerate(policies_raw):
        if type(raw) is not dict:
            return None
        pol = raw.get("policy")
        summary = raw.get("summary")
        if type(pol) is not dict or type(summary) is not dict:
            return None
        ptype = pol.get("policy-type")
        domain = pol.get("policy-domain")
        if type(ptype) is not str or ptype not in KNOWN_POLICY_TYPES or type(domain) is not str or not domain.strip():
            return None
        domain = normalise_domain(domain)
        if not domain.isascii():
            return None
        strings = _strings(pol.get("policy-string"), ptype)
        hosts = _hosts(pol.get("mx-host"))
        ok = _count(summary.get("total-successful-session-count"))
        failed = _count(summary.get("total-failure-session-count"))
        if strings is None or hosts is None or ok is None or failed is None:
            return None
        details = _details(raw.get("failure-details"), i, ptype, notes)
        if details is None:
            return None
        budget -= len(details)
        if budget < 0:
            return None  # the full parser says what it left out
        if details or failed:
            counts = note_detail_counts(f"policies[{i}]", len(details), sum(d[5] for d in details), failed)
            if counts is not None:
                notes.append(counts)
        policies.append(FastPolicy(ptype, domain, "report", strings, hosts, sts_mode(strings) if ptype == "sts" else None,
                                   ok, failed, details))
    if hint.filename:
        domains = {p.policy_domain for p in policies if p.policy_domain}
        base = hint.filename.replace("\\", "/").rsplit("/", 1)[-1]
        parts = base.split("!", 2)
        # An RFC 8460 file name's domain is its second field: when that is a domain of
        # the report, there is nothing to say, whether or not the rest of the name fits.
        if domains and (len(parts) < 3 or parts[1].lower().rstrip(".") not in domains):
            m = _FILENAME_RE.match(base)
            if m is not None:
                named = m["domain"].lower().rstrip(".")
                if named not in domains:
                    notes.append(note_filename_domain(named))
    if len(notes) > MAX_DIAGNOSTICS - 2:
        return None
    return FastReport(org, rid, contact, start, end, policies, notes)


def flatten(report: Report) -> FastReport:
    """The full parser's report in the shape :func:`parse` returns."""
    return FastReport(
        report.organization_name, report.report_id, report.contact_info,
        int(report.start.timestamp()), int(report.end.timestamp()),
        [FastPolicy(p.policy_type, p.policy_domain, p.policy_domain_source, p.policy_strings, p.mx_hosts,
                    p.sts_mode if p.policy_type == "sts" else None, p.successful_sessions, p.failed_sessions,
                    [(d.result_type, d.sending_mta_ip, d.receiving_mx_hostname, d.receiving_mx_helo, d.receiving_ip,
                      d.failed_session_count, d.failure_reason_code, d.additional_information)
                     for d in p.failure_details])
         for p in report.policies],
        report.diagnostics,
    )
