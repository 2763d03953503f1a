"""Deterministic synthetic TLS-RPT (RFC 8460) reports, for benchmarks and chart tests.

``generate(out_dir, n_reports, seed)`` writes ``n_reports`` gzip-compressed JSON
reports named as RFC 8460 §5.1 asks (``sender!policy-domain!begin!end!id.json.gz``)
and returns their paths. The same arguments always give byte-identical files.

What the data looks like:

* eight fictional reporters of different sizes (the big ones report every pair
  daily, one reports weekly, one only some days), each sending from its own
  documentation-range IPv4 and IPv6 addresses;
* seven policy domains: MTA-STS in enforce and testing mode, MTA-STS plus DANE
  (a second ``tlsa`` policy whose domain is the MX host), DANE only, and
  domains without a policy (``no-policy-found``), one with an IDN A-label; a
  large set covers one year of more domains (copies of the seven under numbered
  sub-domains), as a large organisation's reports do, not decades: its reports
  all lie in the past, as real ones do;
* session counts that follow a weekly rhythm; about 30 % of reports carry one
  to five failure details whose result types fit the policy type (plus a rare
  unknown one), with a failure-reason-code on validation failures;
* events for the charts to find: an expired certificate on one domain's MX for
  a week, a reporter pair that stops for nine days (a full mailbox), one that
  stops for good (a broken ``rua``) and one lost report in a few hundred.

Run ``python benchmarks/synth.py OUT_DIR --reports 10000 --seed 1`` to write a
set from the command line.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

DEFAULT_START = date(2025, 1, 1)
#: changes whenever the same arguments would give other files (2: a year at most)
VERSION = 2


@dataclass(frozen=True)
class Reporter:
    org: str
    domain: str  # the file name's sender part
    contact: str
    weight: float  # share of the sessions of a domain this reporter sees
    cadence: str  # "daily", "weekly" or "sporadic"
    ipv4: str  # a /24 prefix, "a.b.c"
    ipv6: str  # a /64-ish prefix
    next_day_end: bool = False  # end-datetime at next-day 00:00:00Z instead of 23:59:59Z


@dataclass(frozen=True)
class Domain:
    name: str
    kind: str  # "sts-enforce", "sts-testing", "sts-dane", "dane", "none"
    mx: tuple[str, ...]
    volume: int  # successful sessions per day, all reporters together


REPORTERS: tuple[Reporter, ...] = (
    Reporter("Postbird Mail", "postbird.example", "tls-reports@postbird.example", 0.38, "daily",
             "192.0.2", "2001:db8:10:1"),
    Reporter("Nimbus Cloud Mail", "nimbus.example", "tlsrpt-noreply@nimbus.example", 0.27, "daily",
             "198.51.100", "2001:db8:20:1", next_day_end=True),
    Reporter("Kestrel Networks", "kestrel.example", "postmaster@kestrel.example", 0.11, "daily",
             "203.0.113", "2001:db8:30:1"),
    Reporter("Harbor Hosting", "harbor.example", "noc@harbor.example", 0.09, "daily",
             "192.0.2", "2001:db8:40:1"),
    Reporter("Lumen Telecom", "lumen.example", "smtp-tls@lumen.example", 0.07, "daily",
             "198.51.100", "2001:db8:50:1"),
    Reporter("Quill Security Gateway", "quill.example", "reports@quill.example", 0.05, "daily",
             "203.0.113", "2001:db8:60:1"),
    Reporter("Orchard University", "orchard-uni.example", "it-mail@orchard-uni.example", 0.02,
             "weekly", "192.0.2", "2001:db8:70:1"),
    Reporter("Tiny Relay", "tinyrelay.example", "admin@tinyrelay.example", 0.01, "sporadic",
             "198.51.100", "2001:db8:80:1"),
)

DOMAINS: tuple[Domain, ...] = (
    Domain("example.com", "sts-enforce", ("mx1.example.com", "mx2.example.com"), 5200),
    Domain("example.net", "sts-testing", ("mail.example.net",), 1400),
    Domain("example.org", "sts-dane", ("mx1.example.org", "mx2.example.org"), 2600),
    Domain("dane-only.example", "dane", ("mx.dane-only.example",), 380),
    Domain("shop.example", "none", ("mail.shop.example",), 640),
    Domain("xn--bcher-kva.example", "sts-enforce", ("mx.xn--bcher-kva.example",), 210),
    Domain("legacy.example", "none", ("smtp.legacy.example", "smtp2.legacy.example"), 90),
)

#: which reporters report on which domains (the small ones see only a few)
_REPORTER_DOMAINS: dict[str, tuple[str, ...]] = {
    "Lumen Telecom": ("example.com", "example.org", "shop.example", "legacy.example"),
    "Quill Security Gateway": ("example.com", "example.net", "dane-only.example"),
    "Orchard University": ("example.com", "example.org"),
    "Tiny Relay": ("example.com", "legacy.example"),
}

_FAILURES: dict[str, tuple[tuple[str, float], ...]] = {
    "sts": (
        ("sts-policy-fetch-error", 5), ("sts-policy-invalid", 1.5), ("sts-webpki-invalid", 2),
        ("certificate-host-mismatch", 2), ("certificate-not-trusted", 1.5),
        ("certificate-expired", 1), ("validation-failure", 1.5), ("starttls-not-supported", 1),
    ),
    "tlsa": (
        ("tlsa-invalid", 4), ("dnssec-invalid", 2), ("dane-required", 1),
        ("certificate-not-trusted", 1), ("validation-failure", 1),
    ),
    "no-policy-found": (
        ("starttls-not-supported", 5), ("certificate-not-trusted", 2), ("certificate-expired", 1),
        ("certificate-host-mismatch", 1.5), ("validation-failure", 1),
    ),
}
_REASON_CODES = ("X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY", "X509_V_ERR_CERT_HAS_EXPIRED",
                 "tls-handshake-timeout", "X509_V_ERR_HOSTNAME_MISMATCH")
_UNKNOWN_TYPE = "tls-version-too-old"  # not in the IANA registry: the "other" category


#: the longest span a set covers; a larger set adds domains instead of days
MAX_DAYS = 365


def _domains(group: int) -> tuple[Domain, ...]:
    """The seven domains (group 0), or their copies under ``site<group>.``."""
    if group == 0:
        return DOMAINS
    label = f"site{group}"
    return tuple(
        Domain(f"{label}.{d.name}", d.kind, tuple(m.removesuffix(d.name) + f"{label}.{d.name}" for m in d.mx), d.volume)
        for d in DOMAINS
    )


def _pairs(groups: int = 1) -> list[tuple[Reporter, Domain]]:
    out = []
    for rep in REPORTERS:
        allowed = _REPORTER_DOMAINS.get(rep.org)
        for group in range(groups):
            for dom, base in zip(_domains(group), DOMAINS, strict=True):
                if allowed is None or base.name in allowed:
                    out.append((rep, dom))
    return out


def _policies(dom: Domain) -> list[dict[str, Any]]:
    """The policy skeletons (without summary) a reporter evaluated for a domain."""
    def sts_lines(mode: str) -> list[str]:
        return ["version: STSv1", f"mode: {mode}", *[f"mx: {m}" for m in dom.mx], "max_age: 604800"]

    if dom.kind in ("sts-enforce", "sts-testing"):
        mode = dom.kind.split("-", 1)[1]
        return [{"policy-type": "sts", "policy-string": sts_lines(mode), "policy-domain": dom.name,
                 "mx-host": list(dom.mx)}]
    if dom.kind == "sts-dane":
        return [
            {"policy-type": "sts", "policy-string": sts_lines("enforce"), "policy-domain": dom.name,
             "mx-host": list(dom.mx)},
            {"policy-type": "tlsa", "policy-string": [f"3 1 1 {_fake_hash(dom.mx[0])}"],
             "policy-domain": dom.mx[0]},
        ]
    if dom.kind == "dane":
        return [{"policy-type": "tlsa", "policy-string": [f"3 1 1 {_fake_hash(dom.mx[0])}"],
                 "policy-domain": dom.mx[0]}]
    return [{"policy-type": "no-policy-found", "policy-domain": dom.name}]


def _fake_hash(name: str) -> str:
    rng = random.Random(name)
    return "".join(rng.choice("0123456789abcdef") for _ in range(64))


def _skips(rep: Reporter, dom: Domain, day: int, n_days: int, rng: random.Random) -> bool:
    """True when this pair sends no report for ``day`` (0-based)."""
    if rep.cadence == "weekly" and day % 7 != 3:
        return True
    if rep.cadence == "sporadic" and rng.random() < 0.6:
        return True
    # a full mailbox: nine days without reports, 40 % into the run
    if rep.org == "Kestrel Networks" and dom.name == "example.net":
        start = int(n_days * 0.4)
        if start <= day < start + 9:
            return True
    # a broken rua: this pair stops for good 80 % into the run
    if rep.org == "Harbor Hosting" and dom.name == "shop.example" and day >= int(n_days * 0.8):
        return True
    return rng.random() < 0.004  # a lost mail now and then


def _expired_cert(dom: Domain, day: int, n_days: int) -> bool:
    """An expired certificate on example.net's MX for a week, 30 % into the run."""
    start = int(n_days * 0.3)
    return dom.name == "example.net" and start <= day < start + 7


def _ip(rep: Reporter, rng: random.Random) -> str:
    if rng.random() < 0.25:
        return f"{rep.ipv6}::{rng.randint(1, 40):x}"
    return f"{rep.ipv4}.{rng.randint(1, 60)}"


def _receiving_ip(mx: str) -> str:
    h = sum(mx.encode()) % 200
    return f"203.0.113.{h + 20}"


def _details(
    rep: Reporter, dom: Domain, policy: dict[str, Any], rng: random.Random, n: int
) -> list[dict[str, Any]]:
    table = _FAILURES[policy["policy-type"]]
    types = [t for t, _ in table]
    weights = [w for _, w in table]
    out = []
    for _ in range(n):
        rtype = _UNKNOWN_TYPE if rng.random() < 0.02 else rng.choices(types, weights)[0]
        mx = rng.choice(dom.mx)
        count = max(1, int(rng.paretovariate(1.6) * 2))
        detail: dict[str, Any] = {"result-type": rtype}
        if not (rtype.startswith("sts-policy") and rng.random() < 0.5):
            detail["sending-mta-ip"] = _ip(rep, rng)  # some senders leave it out here
            detail["receiving-mx-hostname"] = mx
            if rng.random() < 0.3:
                detail["receiving-mx-helo"] = mx
            detail["receiving-ip"] = _receiving_ip(mx)
        detail["failed-session-count"] = count
        if rtype in ("validation-failure", "certificate-not-trusted"):
            detail["failure-reason-code"] = rng.choice(_REASON_CODES)
        if rng.random() < 0.1:
            detail["additional-information"] = f"https://{rep.domain}/tlsrpt/help"
        out.append(detail)
    return out


def _report(rep: Reporter, dom: Domain, day: date, index: int, n_days: int,
            rng: random.Random, failure_rows: int = 0) -> tuple[str, dict[str, Any]]:
    begin = datetime(day.year, day.month, day.day, tzinfo=UTC)
    end = begin + timedelta(days=1) if rep.next_day_end else begin + timedelta(seconds=86399)
    weekday = 0.55 if day.weekday() >= 5 else 1.0
    report_id = f"{day.isoformat()}T00:00:00Z_{dom.name}_{rng.getrandbits(48):012x}"
    policies = []
    with_failures = rng.random() < 0.30
    for pi, skel in enumerate(_policies(dom)):
        scale = 1.0 if pi == 0 else 0.9  # the tlsa policy of an sts+dane domain
        successful = max(0, int(dom.volume * rep.weight * weekday * scale * rng.uniform(0.8, 1.2)))
        details: list[dict[str, Any]] = []
        if failure_rows and pi == 0:
            details = _details(rep, dom, skel, rng, failure_rows)
        elif with_failures and (pi == 0 or rng.random() < 0.5):
            details = _details(rep, dom, skel, rng, rng.randint(1, 5))
        if _expired_cert(dom, index, n_days):
            details.append({
                "result-type": "certificate-expired", "sending-mta-ip": _ip(rep, rng),
                "receiving-mx-hostname": dom.mx[0], "receiving-ip": _receiving_ip(dom.mx[0]),
                "failed-session-count": max(1, int(successful * 0.6)),
            })
            successful = int(successful * 0.4)
        failed = sum(d["failed-session-count"] for d in details)
        if details and rng.random() < 0.1:
            failed += rng.randint(1, 3)  # failures without details happen too
        policy = {
            "policy": skel,
            "summary": {"total-successful-session-count": successful,
                        "total-failure-session-count": failed},
        }
        if details:
            policy["failure-details"] = details
        policies.append(policy)
    data = {
        "organization-name": rep.org,
        "date-range": {"start-datetime": begin.strftime("%Y-%m-%dT%H:%M:%SZ"),
                       "end-datetime": end.strftime("%Y-%m-%dT%H:%M:%SZ")},
        "contact-info": rep.contact,
        "report-id": report_id,
        "policies": policies,
    }
    uid = f"{rng.getrandbits(32):08x}"
    name = f"{rep.domain}!{dom.name}!{int(begin.timestamp())}!{int(end.timestamp())}!{uid}.json.gz"
    return name, data


def generate(out_dir: str | Path, n_reports: int, seed: int = 0, *,
             start: date = DEFAULT_START, failure_rows: int = 0) -> list[Path]:
    """Write ``n_reports`` synthetic reports into ``out_dir`` and return their paths.
    With ``failure_rows``, each report's first policy has that many failure details
    (as a large sender's reports do for a domain whose MX hosts fail it), not the mix.

    Reports are made day by day from ``start``, every reporter/domain pair in turn
    (less the pairs that skip that day), until ``n_reports`` are written; so more
    reports cover more days (about 50 a day: 10,000 reports make 200 days), up to
    :data:`MAX_DAYS`; beyond that, more domains (about 50 reports a day each seven).
    """
    if n_reports < 0:
        raise ValueError("n_reports must not be negative")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    per_day = max(1, sum(1 for rep, _ in _pairs() if rep.cadence == "daily") - 1)
    groups = max(1, -(-n_reports // (per_day * MAX_DAYS)))
    pairs = _pairs(groups)
    n_days = max(1, -(-n_reports // (per_day * groups)))  # planned span, for the events
    rng = random.Random(seed)
    paths: list[Path] = []
    day = 0
    while len(paths) < n_reports:
        current = start + timedelta(days=day)
        for rep, dom in pairs:
            if len(paths) >= n_reports:
                break
            if _skips(rep, dom, day, n_days, rng):
                continue
            name, data = _report(rep, dom, current, day, n_days, rng, failure_rows)
            body = json.dumps(data, indent=None, separators=(",", ":")).encode()
            path = out / name
            path.write_bytes(gzip.compress(body, compresslevel=6, mtime=0))
            paths.append(path)
        day += 1
    return paths


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--reports", type=int, default=10000, help="how many reports (default 10000)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--start", type=date.fromisoformat, default=DEFAULT_START,
                    help="first day, YYYY-MM-DD (default %(default)s)")
    ap.add_argument("--failure-rows", type=int, default=0,
                    help="failure details in each report's first policy (default: one to five in three reports of ten)")
    args = ap.parse_args(argv)
    paths = generate(args.out_dir, args.reports, args.seed, start=args.start, failure_rows=args.failure_rows)
    print(f"wrote {len(paths)} reports to {args.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
