"""``tlsrpt-gui check DOMAIN``: the DNS checker on the command line.

:func:`register` adds the ``check`` subcommand to an argparse subparsers object;
:func:`run` executes it and returns the exit code: 0 when no finding is an
error, 1 when one is, 2 for usage errors (bad domain, bad nameserver). This
module can also run alone: ``python -m tlsrpt_gui.cli_check DOMAIN ...``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from tlsrpt_gui.core.dns import (
    CheckOptions,
    CheckResult,
    ResolverSetupError,
    check_domain,
    parse_nameserver,
)

_SEVERITY_LABEL = {"error": "ERROR", "warning": "WARNING", "info": "INFO"}


def _nameserver(value: str) -> tuple[str, int | None]:
    try:
        return parse_nameserver(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _timeout(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {value!r}") from None
    if not 0 < seconds <= 600:
        raise argparse.ArgumentTypeError("the timeout must be between 0 and 600 seconds")
    return seconds


def _port(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 65535:
        raise argparse.ArgumentTypeError(f"not a TCP port: {value!r}")
    return int(value)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``check`` (shared by :func:`register` and :func:`main`)."""
    parser.add_argument("domain", metavar="DOMAIN", help="the mail domain to check")
    parser.add_argument(
        "--nameserver",
        metavar="IP[:PORT]",
        type=_nameserver,
        help="ask this DNS server instead of the system's resolver "
        "(IPv6 as ::1 or [::1]:5353; default port 53)",
    )
    parser.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=_timeout,
        default=5.0,
        help="limit for each DNS query and each HTTPS connection (default 5)",
    )
    parser.add_argument(
        "--mta-sts-port",
        metavar="N",
        type=_port,
        default=443,
        help="HTTPS port of the policy host, also used for https rua URIs without a "
        "port (default 443; for testing)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add the ``check`` subcommand."""
    parser = subparsers.add_parser(
        "check",
        help="check a domain's TLS-RPT, MTA-STS and DANE records",
        description="Look up and diagnose the TLS-RPT, MTA-STS, MX and TLSA records of "
        "DOMAIN, fetch its MTA-STS policy and check that report destinations can receive "
        "reports (nothing is sent). Exit status: 0 no errors, 1 errors found, 2 usage error.",
    )
    add_arguments(parser)


def _safe(text: object) -> str:
    """Untrusted DNS/HTTP text made harmless for a terminal: control characters
    (escape sequences), bidi overrides and other invisible format characters are
    shown escaped (``\\x1b``, ``\\u202e``)."""
    out = []
    for ch in str(text):
        if ch.isprintable() or ch == "\t":
            out.append(ch)
        elif ch <= "\xff":
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}")
    return "".join(out)


def _lookup_state(data: dict[str, Any]) -> str:
    parts = [str(data["status"])]
    if data.get("ttl") is not None:
        parts.append(f"TTL {data['ttl']}")
    if data["status"] != "error":
        parts.append("AD " + ("on" if data.get("authenticated") else "off"))
    if data.get("error"):
        parts.append(_safe(data["error"]))
    return ", ".join(parts)


def _txt_lines(data: dict[str, Any], indent: str, out: list[str]) -> None:
    for txt in data["txt"]:
        strings = " ".join(f'"{_safe(s)}"' for s in txt["strings"])
        out.append(f"{indent}TXT {strings}")


def format_text(result: CheckResult) -> str:
    """The human-readable report: records first, then findings by severity."""
    data = result.to_dict()
    out: list[str] = [f"DNS check of {result.domain} ({result.resolver}, "
                      f"{result.elapsed:.2f} s)", ""]
    rpt = data["tlsrpt"]
    out.append(f"TLS-RPT  {rpt['name']}  [{_lookup_state(rpt)}]")
    _txt_lines(rpt, "  ", out)
    if rpt["record"]:
        out.append(f"  record: {_safe(rpt['record'])}")
    for rua in rpt["rua"]:
        reach = {True: "reachable", False: "NOT reachable", None: "not checked"}[rua["reachable"]]
        detail = f": {_safe(rua['detail'])}" if rua["detail"] else ""
        out.append(f"  rua: {_safe(rua['uri'])}  ({reach}{detail})")
    out.append("")

    sts = data["mta_sts"]
    out.append(f"MTA-STS  {sts['name']}  [{_lookup_state(sts)}]")
    if sts["cname_chain"]:
        out.append("  CNAME -> " + " -> ".join(_safe(c) for c in sts["cname_chain"]))
    _txt_lines(sts, "  ", out)
    if sts["id"] is not None:
        out.append(f"  id: {_safe(sts['id'])}")
    policy = sts["policy"]
    if policy is not None:
        out.append(f"  policy: {policy['url']}")
        if policy["error"]:
            out.append(f"    fetch failed: {_safe(policy['error'])}")
        else:
            details = [f"HTTP {policy['status']}"]
            if policy["content_type"]:
                details.append(_safe(policy["content_type"]))
            if policy["location"]:
                details.append(f"Location: {_safe(policy['location'])}")
            if policy["too_large"]:
                details.append("body over 64 KiB")
            if policy["tls_version"]:
                details.append(policy["tls_version"])
            if policy["certificate_not_after"]:
                details.append(f"certificate valid until {policy['certificate_not_after']}")
            out.append("    " + ", ".join(details))
        if policy["raw"] is not None:
            for line in policy["raw"].splitlines():
                out.append(f"    | {_safe(line)}")
    out.append("")

    mx = data["mx"]
    out.append(f"MX  {mx['name']}  [{_lookup_state(mx)}]")
    if mx["null_mx"]:
        out.append("  0 .  (null MX)")
    for host in mx["hosts"]:
        addresses = ", ".join(host["addresses"]) or f"no address: {_safe(host['address_error'])}"
        covered = f"  (policy: {host['covered_by']})" if host["covered_by"] else ""
        out.append(f"  {host['preference']} {host['host']}  {addresses}{covered}")
    out.append("")

    if data["tlsa"]:
        out.append("TLSA")
        for entry in data["tlsa"]:
            out.append(f"  {entry['name']}  [{_lookup_state(entry)}]")
            for record in entry["records"]:
                usable = "" if record["usable"] else "  (unusable)"
                out.append(f"    {record['text']}{usable}")
            rpt_mx = entry["tlsrpt"]
            if rpt_mx is not None:
                text = rpt_mx["record"] or (
                    "(none)" if rpt_mx["status"] != "error" else f"({_safe(rpt_mx['error'])})"
                )
                out.append(f"    TLS-RPT at {rpt_mx['name']}: {_safe(text)}")
        out.append("")

    counts = {s: sum(1 for f in result.findings if f.severity == s)
              for s in ("error", "warning", "info")}
    out.append(
        f"Findings: {counts['error']} error(s), {counts['warning']} warning(s), "
        f"{counts['info']} info"
    )
    for finding in result.findings:
        out.append(f"  {_SEVERITY_LABEL[finding.severity]:<8} {finding.code}  ({finding.rfc})")
        out.append(f"           {_safe(finding.message)}")
        out.append(f"           about: {_safe(finding.subject)}")
    return "\n".join(out) + "\n"


def format_json(result: CheckResult) -> str:
    """The result as JSON in ASCII, as the other commands write it: untrusted text's
    control and bidi characters are escapes (\\u202e), not raw in a terminal."""
    return json.dumps(result.to_dict(), indent=2, ensure_ascii=True) + "\n"


def run(args: argparse.Namespace, stdout: TextIO | None = None) -> int:
    """Run ``check`` with parsed *args*; print to stdout; return the exit code."""
    out = stdout or sys.stdout
    nameserver: tuple[str, int | None] | None = args.nameserver
    options = CheckOptions(
        nameserver=nameserver[0] if nameserver else None,
        port=(nameserver[1] or 53) if nameserver else 53,
        timeout=args.timeout,
        mta_sts_port=args.mta_sts_port,
    )
    try:
        result = check_domain(args.domain, options)
    except ValueError as exc:
        print(f"tlsrpt-gui check: error: {exc}", file=sys.stderr)
        return 2
    except ResolverSetupError as exc:
        print(f"tlsrpt-gui check: error: {exc}", file=sys.stderr)
        return 2
    out.write(format_json(result) if args.json else format_text(result))
    out.flush()
    return 1 if result.has_errors else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Stand-alone entry point (``python -m tlsrpt_gui.cli_check``)."""
    parser = argparse.ArgumentParser(prog="tlsrpt-gui check")
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
