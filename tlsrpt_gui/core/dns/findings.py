"""Findings of the DNS checker and the catalogue of their codes.

Every finding has a stable kebab-case code. The catalogue below is the single
source of truth for each code's default severity and RFC section;
``docs/dns-findings.md`` documents the same codes for admins (a test keeps the two
in step).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

Severity = Literal["error", "warning", "info"]

#: Sort order for reports: errors first.
SEVERITY_ORDER: Final[Mapping[str, int]] = {"error": 0, "warning": 1, "info": 2}


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing the checker noticed.

    ``subject`` names the record, value or host the finding is about (the raw TXT
    text, a policy line, an MX host, a URI ...).
    """

    severity: Severity
    code: str
    message: str
    rfc: str
    subject: str

    def to_dict(self) -> dict[str, str]:
        return {
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
            "rfc": self.rfc,
            "subject": self.subject,
        }


@dataclass(frozen=True, slots=True)
class FindingSpec:
    """Catalogue entry: the default severity, the other allowed ones, the RFC section."""

    code: str
    severity: Severity
    rfc: str
    title: str
    also: tuple[Severity, ...] = ()

    @property
    def severities(self) -> tuple[Severity, ...]:
        return (self.severity, *self.also)


_SPECS: Final[tuple[FindingSpec, ...]] = (
    # --- TLS-RPT record of the domain (RFC 8460 §3) ---
    FindingSpec("tlsrpt-missing", "info", "RFC 8460 §3; RFC 8461 §6",
                "No TLS-RPT record", also=("warning",)),
    FindingSpec("tlsrpt-lookup-failed", "warning", "RFC 8460 §3", "TLS-RPT lookup failed"),
    FindingSpec("tlsrpt-multiple", "error", "RFC 8460 §3", "More than one TLS-RPT record"),
    FindingSpec("tlsrpt-syntax", "error", "RFC 8460 §3", "TLS-RPT record syntax error"),
    FindingSpec("tlsrpt-version-whitespace", "warning", "RFC 8460 §3",
                "Whitespace between v=TLSRPTv1 and ';'"),
    FindingSpec("tlsrpt-rua-missing", "error", "RFC 8460 §3", "No rua destination"),
    FindingSpec("tlsrpt-rua-invalid", "error", "RFC 8460 §3; RFC 3986; RFC 6068",
                "Invalid rua URI"),
    FindingSpec("tlsrpt-rua-scheme-unsupported", "warning", "RFC 8460 §3",
                "rua URI with a scheme other than mailto or https"),
    FindingSpec("tlsrpt-rua-repeated", "warning", "RFC 8460 §3", "Several rua= fields"),
    FindingSpec("tlsrpt-rua-unreachable", "warning", "RFC 8460 §3",
                "rua destination cannot receive reports"),
    FindingSpec("tlsrpt-rua-certificate", "info", "RFC 8460 §3",
                "https rua endpoint with an invalid certificate"),
    FindingSpec("tlsrpt-rua-external", "info", "RFC 8460 §7", "rua destination in another domain"),
    FindingSpec("tlsrpt-extension-invalid", "warning", "RFC 8460 §3",
                "Malformed extension field"),
    FindingSpec("tlsrpt-extension-unknown", "info", "RFC 8460 §3", "Unknown extension field"),
    FindingSpec("tlsrpt-ttl-short", "info", "RFC 8460 §7", "Short TTL on the TLS-RPT record"),
    # --- MTA-STS TXT record (RFC 8461 §3.1) ---
    FindingSpec("sts-txt-missing", "info", "RFC 8461 §3.1", "No MTA-STS record"),
    FindingSpec("sts-txt-lookup-failed", "warning", "RFC 8461 §3.1", "MTA-STS lookup failed"),
    FindingSpec("sts-txt-cname", "info", "RFC 8461 §3.1, §8.2", "MTA-STS record behind a CNAME"),
    FindingSpec("sts-txt-multiple", "error", "RFC 8461 §3.1", "More than one MTA-STS record"),
    FindingSpec("sts-txt-syntax", "error", "RFC 8461 §3.1", "MTA-STS record syntax error"),
    FindingSpec("sts-txt-whitespace", "warning", "RFC 8461 §3.1 (EID 6285)",
                "Whitespace between v=STSv1 and ';'"),
    FindingSpec("sts-txt-extension-invalid", "warning", "RFC 8461 §3.1",
                "Malformed extension field in the MTA-STS record"),
    FindingSpec("sts-txt-extension-unknown", "info", "RFC 8461 §3.1",
                "Unknown field in the MTA-STS record"),
    FindingSpec("sts-id-invalid", "error", "RFC 8461 §3.1", "Missing or invalid id"),
    FindingSpec("sts-id-duplicate", "warning", "RFC 8461 §3.2", "id given more than once"),
    # --- MTA-STS policy fetch (RFC 8461 §3.2, §3.3) ---
    FindingSpec("sts-policy-unreachable", "error", "RFC 8461 §3.2, §3.3",
                "Policy cannot be fetched", also=("warning",)),
    FindingSpec("sts-policy-certificate", "error", "RFC 8461 §3.3, §7.1",
                "Policy host certificate invalid"),
    FindingSpec("sts-policy-certificate-expiring", "warning", "RFC 8461 §3.3",
                "Policy host certificate expires soon"),
    FindingSpec("sts-policy-http-status", "error", "RFC 8461 §3.3",
                "Policy URL does not answer 200"),
    FindingSpec("sts-policy-content-type", "warning", "RFC 8461 §3.2",
                "Policy not served as text/plain"),
    FindingSpec("sts-policy-too-large", "warning", "RFC 8461 §3.3", "Policy larger than 64 KiB"),
    FindingSpec("sts-policy-without-txt", "warning", "RFC 8461 §3, §3.3",
                "Policy published but no MTA-STS record"),
    # --- MTA-STS policy content (RFC 8461 §3.2) ---
    FindingSpec("sts-policy-syntax", "error", "RFC 8461 §3.2", "Policy invalid"),
    FindingSpec("sts-policy-blank-line", "warning", "RFC 8461 §3.2", "Blank line in the policy"),
    FindingSpec("sts-policy-line-endings", "info", "RFC 8461 §3.2 (EID 6253)",
                "Mixed LF and CRLF line endings"),
    FindingSpec("sts-policy-duplicate-key", "warning", "RFC 8461 §3.2", "Key given twice"),
    FindingSpec("sts-policy-unknown-key", "info", "RFC 8461 §3.2", "Unknown key"),
    FindingSpec("sts-max-age-short", "warning", "RFC 8461 §3.2, §10.2", "max_age below one day"),
    FindingSpec("sts-max-age-below-week", "info", "RFC 8461 §3.2, §10.2",
                "max_age below one week"),
    FindingSpec("sts-mx-wildcard-broad", "warning", "RFC 8461 §10.4",
                "mx wildcard covers a public suffix"),
    # --- MTA-STS consistency (RFC 8461 §4.1, §5, §6, §8) ---
    FindingSpec("sts-mx-not-covered", "error", "RFC 8461 §4.1, §5",
                "MX host not covered by the policy", also=("warning",)),
    FindingSpec("sts-mx-pattern-unused", "info", "RFC 8461 §4.1", "mx pattern matches no MX"),
    FindingSpec("sts-id-unchanged", "warning", "RFC 8461 §3.1, §8.1",
                "Policy changed but id did not"),
    FindingSpec("sts-mode-testing", "info", "RFC 8461 §5", "Policy in testing mode"),
    FindingSpec("sts-mode-none", "info", "RFC 8461 §5, §8.3", "Policy in mode none"),
    FindingSpec("sts-without-tlsrpt", "warning", "RFC 8461 §6", "MTA-STS without TLS-RPT"),
    # --- MX (RFC 5321 §5.1, RFC 7505) ---
    FindingSpec("mx-missing", "warning", "RFC 5321 §5.1", "No MX records"),
    FindingSpec("mx-null", "info", "RFC 7505", "Null MX: the domain accepts no mail"),
    FindingSpec("mx-lookup-failed", "warning", "RFC 5321 §5.1", "MX lookup failed"),
    FindingSpec("mx-host-unresolved", "warning", "RFC 5321 §5.1", "MX host has no address"),
    # --- DNSSEC and DANE (RFC 6698, 7671, 7672) ---
    FindingSpec("dnssec-unvalidated", "info", "RFC 6698 §4.1; RFC 7672 §2.2.1; RFC 8460 §7",
                "Answers not DNSSEC-validated (AD flag off)"),
    FindingSpec("dane-not-used", "info", "RFC 7672 §2.2.3", "No TLSA records at any MX"),
    FindingSpec("dane-mx-insecure", "info", "RFC 7672 §2.2.1", "MX RRset not DNSSEC-secure"),
    FindingSpec("dane-mx-address-insecure", "info", "RFC 7672 §2.2.3",
                "MX host address not DNSSEC-secure"),
    FindingSpec("dane-tlsa-missing", "info", "RFC 7672 §2.2.3", "MX host without TLSA records"),
    FindingSpec("dane-tlsa-lookup-failed", "warning", "RFC 7672 §2.2.3", "TLSA lookup failed"),
    FindingSpec("dane-tlsa-bogus", "error", "RFC 6698 §4.1; RFC 7672 §2.1",
                "TLSA answer fails DNSSEC validation"),
    FindingSpec("dane-tlsa-insecure", "warning", "RFC 6698 §4.1",
                "TLSA answer not DNSSEC-validated"),
    FindingSpec("dane-tlsa-pkix-usage", "warning", "RFC 7672 §3.1.3",
                "TLSA usage 0 or 1, unusable for SMTP"),
    FindingSpec("dane-tlsa-unknown-parameter", "error", "RFC 6698 §4.1",
                "Unknown TLSA usage, selector or matching type"),
    FindingSpec("dane-tlsa-data-invalid", "error", "RFC 6698 §2.1.3, §2.2",
                "TLSA association data malformed"),
    FindingSpec("dane-ta-full", "warning", "RFC 7671 §5.2.1", "DANE-TA with Full(0) matching"),
    FindingSpec("dane-tlsa-not-recommended", "info", "RFC 7671 §5.1",
                "TLSA parameters other than 3 1 1"),
    FindingSpec("dane-and-sts", "info", "RFC 8461 §2", "Both DANE and MTA-STS in use"),
    FindingSpec("dane-mx-tlsrpt-missing", "info", "RFC 8460 §1.1",
                "No TLS-RPT record at the MX host"),
    FindingSpec("dane-mx-tlsrpt-invalid", "warning", "RFC 8460 §1.1, §3",
                "Invalid TLS-RPT record at the MX host"),
)

CATALOGUE: Final[Mapping[str, FindingSpec]] = {spec.code: spec for spec in _SPECS}


def make_finding(
    code: str, message: str, subject: str, *, severity: Severity | None = None
) -> Finding:
    """Build a finding for a catalogued code (a bug if the code or severity is unknown)."""
    spec = CATALOGUE[code]
    chosen = spec.severity if severity is None else severity
    if chosen not in spec.severities:
        raise ValueError(f"severity {chosen!r} not allowed for {code}")
    return Finding(severity=chosen, code=code, message=message, rfc=spec.rfc, subject=subject)


def sort_findings(findings: list[Finding]) -> list[Finding]:
    """Errors first, then warnings, then info; stable within a severity."""
    return sorted(findings, key=lambda f: SEVERITY_ORDER[f.severity])
