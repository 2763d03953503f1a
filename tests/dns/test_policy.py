"""MTA-STS policy parsing (RFC 8461 §3.2) and MX matching (§4.1); no network."""

from __future__ import annotations

import pytest

from tests.dns.conftest import CORPUS
from tlsrpt_gui.core.dns.policy import (
    mx_matches,
    mx_pattern_problem,
    parse_policy,
    wildcard_too_broad,
)


def codes(policy_bytes: bytes) -> list[str]:
    return sorted({f.code for f in parse_policy(policy_bytes).findings})


# file, valid, mode, max_age, mx, finding codes
CORPUS_EXPECTATIONS = [
    ("adisa-certification__mta-sts.txt", True, "enforce", 1209600,
     ["mailserver.adisa.org.uk"], []),
    ("baskerville-school__mta-sts.txt", True, "enforce", 1814400,
     ["baskvill-bham-sch-uk.mail.protection.outlook.com"], []),
    ("bhamsts-boldmere.bham.sch.uk__mta-sts.txt", True, "enforce", 1209600,
     ["boldmere-bham-sch-uk.mail.protection.outlook.com"], []),
    ("bs-pre-mta-sts-policy__mta-sts.txt", True, "testing", 86400, ["*.google.com"],
     ["sts-max-age-below-week"]),
    ("co-cddo-mta-sts-template__mta-sts.txt", False, "testing", 86401, [],
     ["sts-max-age-below-week", "sts-policy-syntax"]),
    ("jpawlowski-mta-sts.template__mta-sts.txt", False, "[enforce|testing|none] # 1. Decide "
     "your mode.", None, [], ["sts-policy-syntax"]),
    ("melvyndekort-mta-sts__mta-sts.txt", True, "testing", 604800,
     ["route1.mx.cloudflare.net", "route2.mx.cloudflare.net", "route3.mx.cloudflare.net"], []),
    ("mimecast-mta-sts__doc-mta-sts-policy-example.txt", True, "testing", 86400,
     ["mx1.example.com", "mx2.example.com", "*.example.com"], ["sts-max-age-below-week"]),
    ("remkohat-dynamic_mta-sts.txt__mta-sts.txt", True, "enforce", 604800,
     ["mx1.domain.tld", "mx2.domain.tld"], []),
]


@pytest.mark.parametrize(
    ("filename", "valid", "mode", "max_age", "mx", "expected"), CORPUS_EXPECTATIONS
)
def test_corpus_policies(
    filename: str,
    valid: bool,
    mode: str,
    max_age: int | None,
    mx: list[str],
    expected: list[str],
) -> None:
    path = CORPUS / "dns" / filename
    assert path.exists(), f"shared corpus file missing: {path}"
    policy = parse_policy(path.read_bytes())
    assert policy.valid is valid, policy.findings
    assert policy.version == "STSv1"
    assert policy.mode == mode
    assert policy.max_age == max_age
    assert policy.mx == mx
    assert sorted({f.code for f in policy.findings}) == expected


def test_template_with_comments_is_rejected_line_by_line() -> None:
    path = CORPUS / "dns" / "jpawlowski-mta-sts.template__mta-sts.txt"
    policy = parse_policy(path.read_bytes())
    messages = [f.message for f in policy.findings]
    # the mode value with its comment, the two mx lines with '#', the max_age with a
    # comment, and the indented comment-only lines
    assert any("mode is" in m for m in messages)
    assert sum("is not 'key: value'" in m for m in messages) == 2
    assert any("max_age is" in m for m in messages)
    assert policy.mx == []


def test_line_endings() -> None:
    assert codes(b"version: STSv1\nmode: none\nmax_age: 86400") == []
    assert codes(b"version: STSv1\r\nmode: none\r\nmax_age: 86400\r\n") == []
    mixed = parse_policy(b"version: STSv1\r\nmode: none\nmax_age: 86400\r\n")
    assert mixed.valid
    assert [f.code for f in mixed.findings] == ["sts-policy-line-endings"]
    assert mixed.findings[0].severity == "info"


def test_values_and_whitespace() -> None:
    policy = parse_policy(b"version:STSv1\nmode:\t enforce  \nmx: mx.example.com\t\nmax_age: 0\n")
    assert policy.valid and policy.mode == "enforce" and policy.mx == ["mx.example.com"]
    assert policy.max_age == 0
    assert [f.code for f in policy.findings] == ["sts-max-age-short"]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"", ["sts-policy-syntax"]),
        (b"mode: none\nmax_age: 1\n", ["sts-policy-syntax"]),  # no version
        (b"version: STSv2\nmode: none\nmax_age: 1\n", ["sts-policy-syntax"]),
        (b"version: STSv1\nmax_age: 1\n", ["sts-policy-syntax"]),  # no mode
        (b"version: STSv1\nmode: Enforce\nmx: a.example\nmax_age: 1\n", ["sts-policy-syntax"]),
        (b"version: STSv1\nmode: enforce\nmx: a.example\n", ["sts-policy-syntax"]),
        (b"version: STSv1\nmode: none\nmax_age: 31557601\n", ["sts-policy-syntax"]),
        (b"version: STSv1\nmode: none\nmax_age: -1\n", ["sts-policy-syntax"]),
        (b"version: STSv1\nmode: none\nmax_age: 00000000086400\n", ["sts-policy-syntax"]),
        (b"version: STSv1\nmode: enforce\nmax_age: 604800\n", ["sts-policy-syntax"]),  # no mx
        (b"version: STSv1\nmode: enforce\nmx: a.example.\nmax_age: 604800\n",
         ["sts-policy-syntax"]),
        (b"version: STSv1\nmode: enforce\nmx : a.example\nmax_age: 604800\n",
         ["sts-policy-syntax"]),
        (b" version: STSv1\nmode: none\nmax_age: 604800\n", ["sts-policy-syntax"]),
        (b"version: STSv1\nmode: none\nmax_age: 604800\nnote:\n", ["sts-policy-syntax"]),
        (b"version: STSv1\xff\nmode: none\nmax_age: 604800\n", ["sts-policy-syntax"]),
        (b"version: STSv1\nmode: none\nmax_age: 31557600\n", []),
        (b"version: STSv1\nmode: none\nmax_age: 86400\n\n", ["sts-policy-blank-line"]),
        (b"version: STSv1\n\nmode: none\nmax_age: 86400\n", ["sts-policy-blank-line"]),
        (b"version: STSv1\nmode: none\nmode: enforce\nmax_age: 86400\n",
         ["sts-policy-duplicate-key"]),
        (b"version: STSv1\nmode: none\nmax_age: 86400\nfoo: bar\n", ["sts-policy-unknown-key"]),
        (b"version: STSv1\nmode: testing\nmx: a.example\nmax_age: 86399\n",
         ["sts-max-age-short"]),
        (b"version: STSv1\nmode: testing\nmx: a.example\nmax_age: 604799\n",
         ["sts-max-age-below-week"]),
        (b"version: STSv1\nmode: none\nmax_age: 60\n", []),
        (b"version: STSv1\nmode: testing\nmx: *.com\nmax_age: 604800\n",
         ["sts-mx-wildcard-broad"]),
        (b"version: STSv1\nmode: testing\nmx: *.co.uk\nmax_age: 604800\n",
         ["sts-mx-wildcard-broad"]),
    ],
)
def test_policy_problems(body: bytes, expected: list[str]) -> None:
    assert codes(body) == expected


def test_duplicate_keys_first_wins_and_mx_accumulates() -> None:
    policy = parse_policy(
        b"version: STSv1\nmode: testing\nmode: enforce\nmx: a.example.com\nmx: *.b.example.com\n"
        b"max_age: 604800\nmax_age: 1\n"
    )
    assert policy.mode == "testing" and policy.max_age == 604800
    assert policy.mx == ["a.example.com", "*.b.example.com"]
    assert [f.severity for f in policy.findings] == ["warning", "warning"]


def test_unknown_key_with_wrong_case_gets_a_hint() -> None:
    policy = parse_policy(b"version: STSv1\nMode: enforce\nmx: a.example\nmax_age: 604800\n")
    hint = [f for f in policy.findings if f.code == "sts-policy-unknown-key"]
    assert hint and "did you mean 'mode'" in hint[0].message
    assert any("no 'mode:' line" in f.message for f in policy.findings)
    assert policy.extensions == {"Mode": "enforce"}


@pytest.mark.parametrize(
    ("pattern", "ok"),
    [
        ("mx.example.com", True),
        ("*.example.com", True),
        ("xn--bcher-kva.example", True),
        ("MX1.Example.COM", True),
        ("mx.example.com.", False),
        ("bücher.example", False),
        ("mx.*.example.com", False),
        ("*mx.example.com", False),
        ("**.example.com", False),
        ("*", False),
        ("localhost", False),
        ("under_score.example.com", False),
        ("-bad.example.com", False),
        (".", False),
        ("", False),
        ("192.0.2.25", False),  # an address: patterns match host names only
        ("*.192.0.2.25", False),
    ],
)
def test_mx_pattern_syntax(pattern: str, ok: bool) -> None:
    assert (mx_pattern_problem(pattern) is None) is ok


@pytest.mark.parametrize(
    ("host", "pattern", "matches"),
    [
        ("mx1.example.com", "mx1.example.com", True),
        ("MX1.Example.com.", "mx1.example.COM", True),
        ("mx1.example.com", "mx2.example.com", False),
        ("a.example.com", "*.example.com", True),
        ("example.com", "*.example.com", False),
        ("a.b.example.com", "*.example.com", False),
        ("aexample.com", "*.example.com", False),
        ("a.example.com.", "*.example.com", True),
        ("mx.example.org", "*.example.com", False),
    ],
)
def test_mx_matching(host: str, pattern: str, matches: bool) -> None:
    assert mx_matches(host, pattern) is matches


def test_broad_wildcards() -> None:
    assert wildcard_too_broad("*.com")
    assert wildcard_too_broad("*.CO.UK")
    assert not wildcard_too_broad("*.example.com")
    assert not wildcard_too_broad("mx.com")


def test_a_byte_order_mark_is_named_and_the_rest_still_read() -> None:
    policy = parse_policy("\ufeffversion: STSv1\nmode: enforce\nmx: mx.example.com\nmax_age: 604800\n".encode())
    syntax = [f for f in policy.findings if f.code == "sts-policy-syntax"]
    assert len(syntax) == 1 and "byte order mark" in syntax[0].message
    assert not policy.valid and policy.mode == "enforce" and policy.mx == ["mx.example.com"]
