"""DNS checks for TLS-RPT (RFC 8460), MTA-STS (RFC 8461) and DANE (RFC 7672).

No Qt here. The GUI and the CLI call :func:`check_domain` (blocking; run it in a
worker thread) and show the :class:`CheckResult` it returns.
"""

from tlsrpt_gui.core.dns.checks import (
    CancelToken,
    CheckCancelled,
    CheckOptions,
    CheckResult,
    MxHost,
    MxResult,
    PolicySnapshot,
    RuaStatus,
    StsResult,
    TlsaResult,
    TlsRptResult,
    TxtRecord,
    check_domain,
    normalize_domain,
)
from tlsrpt_gui.core.dns.findings import CATALOGUE, Finding, FindingSpec, Severity
from tlsrpt_gui.core.dns.resolver import ResolverSetupError, parse_nameserver

__all__ = [
    "CATALOGUE",
    "CancelToken",
    "CheckCancelled",
    "CheckOptions",
    "CheckResult",
    "Finding",
    "FindingSpec",
    "MxHost",
    "MxResult",
    "PolicySnapshot",
    "ResolverSetupError",
    "RuaStatus",
    "Severity",
    "StsResult",
    "TlsRptResult",
    "TlsaResult",
    "TxtRecord",
    "check_domain",
    "normalize_domain",
    "parse_nameserver",
]
