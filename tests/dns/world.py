"""The test world: DNS zones served by NSD and the HTTPS routes of the policy server.

Every address is 127.0.0.1. Each ``*.test`` domain is one scenario; the test
modules name the domain and assert on its findings.
"""

from __future__ import annotations

import hashlib
from typing import Any

HOME = "127.0.0.1"
DIGEST = hashlib.sha256(b"a test public key").hexdigest()  # 64 hex digits
DIGEST512 = hashlib.sha512(b"a test public key").hexdigest()
# A DER SEQUENCE header followed by filler: looks like a certificate to the checker.
FAKE_DER = "3082000a" + "00" * 10

VALID_POLICY = (
    b"version: STSv1\r\nmode: enforce\r\nmx: mx1.valid.test\r\nmx: *.mx.valid.test\r\n"
    b"max_age: 1209600\r\n"
)


def policy(mode: str, *mx: str, max_age: int = 1209600) -> bytes:
    lines = ["version: STSv1", f"mode: {mode}", *(f"mx: {m}" for m in mx), f"max_age: {max_age}"]
    return ("\n".join(lines) + "\n").encode()


# (host, path) -> keyword arguments of conftest.Route
POLICY_PATH = "/.well-known/mta-sts.txt"
ROUTES: dict[tuple[str, str], dict[str, Any]] = {
    ("mta-sts.valid.test", POLICY_PATH): {"body": VALID_POLICY},
    ("mta-sts.cname.test", POLICY_PATH): {"body": policy("enforce", "mx1.cname.test")},
    ("mta-sts.stsonly.test", POLICY_PATH): {"body": policy("enforce", "mx1.stsonly.test")},
    ("mta-sts.multi.test", POLICY_PATH): {"body": policy("enforce", "mx1.multi.test")},
    ("mta-sts.redirect.test", POLICY_PATH): {
        "status": 301,
        "body": b"moved\n",
        "headers": {"Location": "https://mta-sts.redirect.test/elsewhere.txt"},
    },
    ("mta-sts.redirect.test", "/elsewhere.txt"): {"body": policy("enforce", "mx1.redirect.test")},
    ("mta-sts.badpolicy.test", POLICY_PATH): {
        "body": b"version: STSv1\nmode: enforced\nmax_age: 99999999999\nmx: .\n# a comment\n"
    },
    ("mta-sts.notcovered.test", POLICY_PATH): {
        "body": policy("enforce", "*.notcovered.test", "old.notcovered.test")
    },
    ("mta-sts.testing.test", POLICY_PATH): {
        "body": policy("testing", "mx1.testing.test", max_age=3600)
    },
    ("mta-sts.wrongcert.test", POLICY_PATH): {"body": policy("enforce", "mx1.wrongcert.test")},
    ("mta-sts.expiring.test", POLICY_PATH): {"body": policy("enforce", "mx1.expiring.test")},
    ("mta-sts.big.test", POLICY_PATH): {
        "body": policy("enforce", "mx1.big.test") + b"x-padding: " + b"a" * 70_000 + b"\n"
    },
    ("mta-sts.ctype.test", POLICY_PATH): {
        "body": policy("enforce", "mx1.ctype.test"),
        "content_type": "text/html",
    },
    ("mta-sts.trickle.test", POLICY_PATH): {
        "body": policy("enforce", "mx1.trickle.test"),
        "trickle": 0.1,
    },
    ("mta-sts.policyonly.test", POLICY_PATH): {
        "body": policy("enforce", "mx1.policyonly.test")
    },
    ("mta-sts.none.test", POLICY_PATH): {"body": policy("none", max_age=86400)},
    ("mta-sts.stsfail.test", POLICY_PATH): {"body": policy("enforce", "mx1.stsfail.test")},
    ("mta-sts.rptfail.test", POLICY_PATH): {"body": policy("enforce", "mx1.rptfail.test")},
    ("mta-sts.dane.test", POLICY_PATH): {"body": policy("enforce", "*.dane.test")},
    ("mta-sts.notfound.test", "/other"): {"body": b"unrelated\n"},
}

# Names on the main certificate; the SNI callback serves other certificates for
# the names in WRONG_CERT_NAMES / EXPIRING_CERT_NAMES.
GOOD_CERT_NAMES = sorted(
    {host for host, _ in ROUTES}
    | {"mta-sts.notfound.test", "mta-sts.slow.test", "reports.valid.test"}
)
WRONG_CERT_NAMES = frozenset({"mta-sts.wrongcert.test", "reports.ruacert.test"})
EXPIRING_CERT_NAMES = ("mta-sts.expiring.test",)

RPT = '"v=TLSRPTv1; rua=mailto:tlsrpt@valid.test"'
STS = '"v=STSv1; id=20240101T000000"'


def _basic(domain: str, *, rpt: str | None = RPT, sts: str | None = STS,
           policy_host: bool = True) -> list[str]:
    """MX mx1.<domain> with an address, and optionally TLS-RPT, MTA-STS and its host."""
    lines = [f"{domain}. MX 10 mx1.{domain}.", f"mx1.{domain}. A {HOME}"]
    if rpt is not None:
        lines.append(f"_smtp._tls.{domain}. TXT {rpt}")
    if sts is not None:
        lines.append(f"_mta-sts.{domain}. TXT {sts}")
    if policy_host:
        lines.append(f"mta-sts.{domain}. A {HOME}")
    return lines


def zone_records(closed_port: int) -> list[str]:
    records: list[str] = [
        # valid: two MX, multi-string TLS-RPT with mailto and https, enforce policy
        "valid.test. MX 10 mx1.valid.test.",
        "valid.test. MX 20 a.mx.valid.test.",
        f"mx1.valid.test. A {HOME}",
        f"a.mx.valid.test. A {HOME}",
        '_smtp._tls.valid.test. TXT "v=TLSRPTv1; rua=mailto:tlsrpt@va" "lid.test,https://reports'
        '.valid.test/v1"',
        f"_mta-sts.valid.test. TXT {STS}",
        f"mta-sts.valid.test. A {HOME}",
        f"reports.valid.test. A {HOME}",
        # cname: _mta-sts is an alias into another zone
        *_basic("cname.test", sts=None),
        "_mta-sts.cname.test. CNAME _mta-sts.provider.example.",
        # lookups that fail (aliases to names no server here answers for: REFUSED)
        *_basic("stsfail.test", sts=None),
        "_mta-sts.stsfail.test. CNAME _mta-sts.elsewhere.invalid.",
        *_basic("rptfail.test", rpt=None),
        "_smtp._tls.rptfail.test. CNAME _smtp._tls.elsewhere.invalid.",
        *_basic("ruafail.test", rpt='"v=TLSRPTv1; rua=mailto:r@elsewhere.invalid"'),
        # bare: only MX
        *_basic("bare.test", rpt=None, sts=None, policy_host=False),
        # stsonly: MTA-STS without TLS-RPT
        *_basic("stsonly.test", rpt=None),
        # multi: two of each record
        *_basic("multi.test"),
        '_smtp._tls.multi.test. TXT "v=TLSRPTv1; rua=mailto:other@valid.test"',
        '_mta-sts.multi.test. TXT "v=STSv1; id=second"',
        # syntax problems in the TLS-RPT record; whitespace in the STS record
        *_basic("syntax.test", rpt='"v=TLSRPTv1;rua=mailto:tlsrpt@valid.test;;junk"',
                sts='"v=STSv1 ; id=20240101"', policy_host=False),
        # lookalike records that senders skip
        *_basic("lookalike.test", rpt='"v=tlsrptv1; rua=mailto:tlsrpt@valid.test"',
                sts='"v=stsv1; id=1"', policy_host=False),
        # rua missing
        *_basic("norua.test", rpt='"v=TLSRPTv1; ext=1"', sts=None, policy_host=False),
        # invalid rua URIs
        *_basic("badrua.test",
                rpt='"v=TLSRPTv1; rua=mailto:foo@@badrua.test,https://reports.valid.test/!x"',
                sts=None, policy_host=False),
        # an unsupported scheme next to a good one
        *_basic("ftp.test", rpt='"v=TLSRPTv1; rua=mailto:tlsrpt@valid.test,ftp://ftp.valid.test/"',
                sts=None, policy_host=False),
        # destinations that cannot receive reports
        *_basic("unreach.test",
                rpt='"v=TLSRPTv1; rua=mailto:r@nomail.unreach.test,mailto:r@nullmx.unreach.test,'
                f'https://gone.unreach.test/r,https://closed.unreach.test:{closed_port}/r,'
                'mailto:r@aonly.unreach.test"',
                sts=None, policy_host=False),
        "nullmx.unreach.test. MX 0 .",
        f"aonly.unreach.test. A {HOME}",
        f"closed.unreach.test. A {HOME}",
        # an https destination with a certificate for another name
        *_basic("ruacert.test", rpt='"v=TLSRPTv1; rua=https://reports.ruacert.test/r"',
                sts=None, policy_host=False),
        f"reports.ruacert.test. A {HOME}",
        # odd but valid TLS-RPT: whitespace, two rua=, bad extension, short TTL
        "quirks.test. MX 10 mx1.quirks.test.",
        f"mx1.quirks.test. A {HOME}",
        '_smtp._tls.quirks.test. 60 TXT "v=TLSRPTv1 ; rua=mailto:a@quirks.test; '
        'rua=mailto:b@quirks.test; _bad=1; policy-note=x"',
        # non-ASCII in the TLS-RPT record
        *_basic("nonascii.test", rpt='"v=TLSRPTv1; rua=mailto:caf\\195\\169@nonascii.test"',
                sts=None, policy_host=False),
        # an escape sequence in a record must not reach the terminal raw
        *_basic("escape.test", rpt='"v=TLSRPTv1; rua=mailto:a@valid.test\\027[2J"',
                sts=None, policy_host=False),
        # a bidi override (U+202E, in UTF-8) that would reverse the text after it
        *_basic("bidi.test", rpt='"v=TLSRPTv1; rua=mailto:a@valid.test; x=\\226\\128\\174live"',
                sts=None, policy_host=False),
        # invalid and duplicate ids
        *_basic("badid.test", sts='"v=STSv1; id=not_valid!"', policy_host=False),
        *_basic("dupid.test", sts='"v=STSv1; id=abc; id=def"', policy_host=False),
        # MTA-STS record but no policy host
        *_basic("nohost.test", policy_host=False),
        # policy fetch problems
        *_basic("redirect.test"),
        *_basic("notfound.test"),
        *_basic("badpolicy.test"),
        *_basic("wrongcert.test"),
        *_basic("expiring.test"),
        *_basic("big.test"),
        *_basic("ctype.test"),
        *_basic("slow.test"),
        *_basic("trickle.test"),
        # MX hosts outside the policy
        "notcovered.test. MX 10 a.b.notcovered.test.",
        "notcovered.test. MX 20 mx.elsewhere.test.",
        f"a.b.notcovered.test. A {HOME}",
        f"mx.elsewhere.test. A {HOME}",
        f"_smtp._tls.notcovered.test. TXT {RPT}",
        f"_mta-sts.notcovered.test. TXT {STS}",
        f"mta-sts.notcovered.test. A {HOME}",
        "testing.test. MX 10 mx1.testing.test.",
        "testing.test. MX 20 mx2.testing.test.",
        f"mx1.testing.test. A {HOME}",
        f"mx2.testing.test. A {HOME}",
        f"_smtp._tls.testing.test. TXT {RPT}",
        f"_mta-sts.testing.test. TXT {STS}",
        f"mta-sts.testing.test. A {HOME}",
        # a policy without its TXT record; mode none
        *_basic("policyonly.test", sts=None),
        *_basic("none.test"),
        # DANE: good and bad TLSA records, MX TLS-RPT records
        "dane.test. MX 10 mx1.dane.test.",
        "dane.test. MX 20 mx2.dane.test.",
        "dane.test. MX 30 mx3.dane.test.",
        f"mx1.dane.test. A {HOME}",
        f"mx2.dane.test. A {HOME}",
        f"mx3.dane.test. A {HOME}",
        f"_25._tcp.mx1.dane.test. TLSA 3 1 1 {DIGEST}",
        f"_25._tcp.mx1.dane.test. TLSA 3 1 2 {DIGEST512}",
        "_25._tcp.mx2.dane.test. TLSA 3 1 1 abcd",
        f"_25._tcp.mx2.dane.test. TLSA 1 0 1 {DIGEST}",
        f"_25._tcp.mx2.dane.test. TLSA 2 0 0 {FAKE_DER}",
        f"_25._tcp.mx2.dane.test. TLSA 4 1 1 {DIGEST}",
        '_smtp._tls.mx2.dane.test. TXT "v=TLSRPTv1;"',
        f"_smtp._tls.mx3.dane.test. TXT {RPT}",
        f"_mta-sts.dane.test. TXT {STS}",
        f"mta-sts.dane.test. A {HOME}",
        # DANE alone, without TLS-RPT
        *_basic("daneonly.test", rpt=None, sts=None, policy_host=False),
        f"_25._tcp.mx1.daneonly.test. TLSA 3 1 1 {DIGEST}",
        # MX problems
        f"nomx.test. A {HOME}",
        f"_smtp._tls.nomx.test. TXT {RPT}",
        "nullmx.test. MX 0 .",
        "mxnoaddr.test. MX 10 ghost.mxnoaddr.test.",
        # an MX host in a zone nobody serves: its lookups are REFUSED
        "tlsafail.test. MX 10 mx.unserved.invalid.",
    ]
    return records


def zones(closed_port: int) -> dict[str, str]:
    """Zone origin -> zone file text."""
    head = (
        "$TTL 86400\n"
        "@ SOA ns.test. hostmaster.test. 1 3600 600 86400 300\n"
        "@ NS ns.test.\n"
    )
    test_zone = (
        "$ORIGIN test.\n" + head + f"ns.test. A {HOME}\n"
        + "\n".join(zone_records(closed_port)) + "\n"
    )
    provider = (
        "$ORIGIN provider.example.\n" + head
        + '_mta-sts.provider.example. TXT "v=STSv1; id=cname1"\n'
    )
    return {"test.": test_zone, "provider.example.": provider}
