"""TLS-RPT, MTA-STS TXT and TLSA syntax (no network)."""

from __future__ import annotations

import re

import pytest

from tests.dns.conftest import CORPUS
from tlsrpt_gui.core.dns.records import (
    check_tlsa,
    decode_txt_strings,
    is_sts_record,
    is_tlsrpt_record,
    looks_like_sts,
    looks_like_tlsrpt,
    parse_sts_txt,
    parse_tlsa_text,
    parse_tlsrpt,
)


def codes(findings: list) -> list[str]:  # type: ignore[type-arg]
    return sorted(f.code for f in findings)


def corpus_txt(filename: str) -> list[str]:
    """The quoted TXT data of a zone-file-like corpus file, strings joined."""
    path = CORPUS / "dns" / filename
    assert path.exists(), f"shared corpus file missing: {path}"
    out = []
    for line in path.read_text().splitlines():
        strings = re.findall(r'"([^"]*)"', line)
        if strings:
            out.append("".join(strings))
    return out


# --------------------------------------------------------------------------- TLS-RPT


def test_txt_strings_are_joined_with_nothing_between() -> None:
    raw, text = decode_txt_strings((b"v=TLSRPTv1; rua=mailto:a@ex", b"ample.com"))
    assert raw == ["v=TLSRPTv1; rua=mailto:a@ex", "ample.com"]
    assert text == "v=TLSRPTv1; rua=mailto:a@example.com"
    record = parse_tlsrpt(text)
    assert record.valid and record.rua[0].addresses == ("a@example.com",)


def test_bytes_that_are_not_utf8_fail_the_ascii_check() -> None:
    raw, text = decode_txt_strings((b"v=TLSRPTv1; rua=mailto:caf\xe9@example.com",))
    assert "\ufffd" in text and raw == [text]
    record = parse_tlsrpt(text)
    assert "tlsrpt-syntax" in codes(record.findings) and not record.valid


@pytest.mark.parametrize(
    "text",
    [
        "v=TLSRPTv1; rua=mailto:tlsrpt@example.com",
        "v=TLSRPTv1;rua=mailto:tlsrpt@example.com;",
        "v=TLSRPTv1; rua=mailto:a@example.com, https://tlsrpt.example.net/v1 ;",
        "v=TLSRPTv1; rua=https://reports.example.com:8443/x?y=1",
        "v=TLSRPTv1; rua=mailto:a@example.com%2Cb@example.org",
        "v=TLSRPTv1; rua=mailto:%22a%20b%22@example.com",
        "v=TLSRPTv1; rua=mailto:a@example.com?subject=TLS%20report",
    ],
)
def test_valid_tlsrpt_records(text: str) -> None:
    record = parse_tlsrpt(text)
    assert record.valid, record.findings
    assert record.findings == []
    assert record.version == "v=TLSRPTv1"
    assert all(r.valid and r.scheme in ("mailto", "https") for r in record.rua)


def test_rua_targets_are_read() -> None:
    two = parse_tlsrpt("v=TLSRPTv1; rua=mailto:a@example.com%2Cb@example.org")
    assert two.rua[0].addresses == ("a@example.com", "b@example.org")
    # RFC 6068: an encoded comma separates addresses, so "a" alone is no address
    assert not parse_tlsrpt("v=TLSRPTv1; rua=mailto:a%2Cb@example.com").valid
    record = parse_tlsrpt(
        "v=TLSRPTv1; rua=mailto:Reports@Example.COM,https://tlsrpt.example.net:8443/v1"
    )
    assert [(r.scheme, r.target, r.port) for r in record.rua] == [
        ("mailto", "example.com", None),
        ("https", "tlsrpt.example.net", 8443),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("v=tlsrptv1; rua=mailto:a@example.com", ["tlsrpt-syntax"]),
        (" v=TLSRPTv1; rua=mailto:a@example.com", ["tlsrpt-syntax"]),
        ("rua=mailto:a@example.com; v=TLSRPTv1", ["tlsrpt-syntax"]),
        ("v=TLSRPTv1;; rua=mailto:a@example.com", ["tlsrpt-syntax"]),
        ("v=TLSRPTv1; rua=mailto:a@example.com; junk", ["tlsrpt-syntax"]),
        ("v=TLSRPTv1; RUA=mailto:a@example.com", ["tlsrpt-rua-missing", "tlsrpt-syntax"]),
        ("v=TLSRPTv1; rua = mailto:a@example.com", ["tlsrpt-rua-missing", "tlsrpt-syntax"]),
        ("v=TLSRPTv1; rua=mailto:a@example.com\x07", ["tlsrpt-rua-invalid", "tlsrpt-syntax"]),
        ("v=TLSRPTv1; rua=mailto:café@example.com", ["tlsrpt-rua-invalid", "tlsrpt-syntax"]),
        ("v=TLSRPTv1", ["tlsrpt-rua-missing"]),
        ("v=TLSRPTv1;", ["tlsrpt-rua-missing"]),
        ("v=TLSRPTv1; rua=", ["tlsrpt-rua-missing"]),
        ("v=TLSRPTv1; ext=1", ["tlsrpt-extension-unknown", "tlsrpt-rua-missing"]),
        ("v=TLSRPTv1; rua=mailto:a@example.com,", ["tlsrpt-rua-invalid"]),
        ("v=TLSRPTv1; rua=mailto:a@@example.com", ["tlsrpt-rua-invalid"]),
        ("v=TLSRPTv1; rua=mailto:", ["tlsrpt-rua-invalid"]),
        ("v=TLSRPTv1; rua=mailto:a!b@example.com", ["tlsrpt-rua-invalid"]),
        ("v=TLSRPTv1; rua=mailto:a%zz@example.com", ["tlsrpt-rua-invalid"]),
        ("v=TLSRPTv1; rua=example.com", ["tlsrpt-rua-invalid"]),
        ("v=TLSRPTv1; rua=https:/no-host", ["tlsrpt-rua-invalid"]),
        ("v=TLSRPTv1; rua=https://bad_host.example/", ["tlsrpt-rua-invalid"]),
        ("v=TLSRPTv1; rua=https://h.example.com:99999/", ["tlsrpt-rua-invalid"]),
        ("v=TLSRPTv1; rua=https://h.example.com:0/", ["tlsrpt-rua-invalid"]),
        ("v=TLSRPTv1; rua=ftp://ftp.example.com/", ["tlsrpt-rua-invalid"]),
        (
            "v=TLSRPTv1; rua=mailto:a@example.com,ftp://ftp.example.com/",
            ["tlsrpt-rua-scheme-unsupported"],
        ),
        (
            "v=TLSRPTv1; rua=mailto:a@example.com; rua=mailto:b@example.com",
            ["tlsrpt-rua-repeated"],
        ),
        ("v=TLSRPTv1 ; rua=mailto:a@example.com", ["tlsrpt-version-whitespace"]),
        ("v=TLSRPTv1; rua=mailto:a@example.com; x y=1", ["tlsrpt-extension-invalid"]),
        ("v=TLSRPTv1; rua=mailto:a@example.com; x=a b", ["tlsrpt-extension-invalid"]),
        (
            "v=TLSRPTv1; rua=mailto:a@example.com; " + "n" * 33 + "=1",
            ["tlsrpt-extension-invalid"],
        ),
    ],
)
def test_tlsrpt_problems(text: str, expected: list[str]) -> None:
    record = parse_tlsrpt(text)
    assert sorted(set(codes(record.findings))) == expected, record.findings
    errors = any(f.severity == "error" for f in record.findings)
    assert record.valid is not errors
    for finding in record.findings:
        assert finding.subject == text
        assert finding.rfc.startswith("RFC 8460")
        assert len(finding.message) > 30


def test_tlsrpt_severities_follow_the_checklist() -> None:
    severities = {
        f.code: f.severity
        for text in (
            "v=TLSRPTv1 ; rua=mailto:a@example.com,ftp://x.example/; rua=mailto:b@example.com;"
            " _x=1; ok=2",
        )
        for f in parse_tlsrpt(text).findings
    }
    assert severities == {
        "tlsrpt-version-whitespace": "warning",
        "tlsrpt-rua-scheme-unsupported": "warning",
        "tlsrpt-rua-repeated": "warning",
        "tlsrpt-extension-invalid": "warning",
        "tlsrpt-extension-unknown": "info",
    }


def test_which_txt_records_count_as_tlsrpt_or_sts() -> None:
    assert is_tlsrpt_record("v=TLSRPTv1; rua=mailto:a@b.c")
    assert is_tlsrpt_record("v=TLSRPTv1 ;rua=mailto:a@b.c")
    assert is_tlsrpt_record("v=TLSRPTv1")
    assert not is_tlsrpt_record("v=TLSRPTv10; rua=mailto:a@b.c")
    assert not is_tlsrpt_record("v=spf1 -all")
    assert looks_like_tlsrpt("V=TLSRPTv1; rua=mailto:a@b.c")
    assert not looks_like_tlsrpt("v=spf1 -all")
    assert is_sts_record("v=STSv1; id=1") and not is_sts_record("v=STSv1x; id=1")
    assert looks_like_sts(" v=STSv1; id=1") and not looks_like_sts("v=STSv1; id=1")


def test_corpus_tlsrpt_records() -> None:
    records = corpus_txt("mimecast-mta-sts__doc-records.txt")
    tlsrpt = [t for t in records if is_tlsrpt_record(t)]
    assert len(tlsrpt) == 5
    results = [parse_tlsrpt(t) for t in tlsrpt]
    # The third example ends its rua list with a comma: an empty URI.
    assert [r.valid for r in results] == [True, True, False, True, True]
    assert codes(results[2].findings) == ["tlsrpt-rua-invalid"]
    assert [len(r.rua) for r in results] == [1, 1, 3, 2, 2]
    cddo = [t for t in corpus_txt("co-cddo-mta-sts-template__README-records.txt")]
    assert parse_tlsrpt(cddo[0]).findings == []
    assert parse_sts_txt(cddo[1]).findings == [] and parse_sts_txt(cddo[1]).id == "20240215"


# --------------------------------------------------------------------------- MTA-STS TXT


@pytest.mark.parametrize(
    ("text", "expected_id"),
    [
        ("v=STSv1; id=20240131T120000", "20240131T120000"),
        ("v=STSv1;id=abc;", "abc"),
        ("v=STSv1; id=" + "a" * 32, "a" * 32),
        ("v=STSv1; id=aca9f86d663;", "aca9f86d663"),
    ],
)
def test_valid_sts_records(text: str, expected_id: str) -> None:
    record = parse_sts_txt(text)
    assert record.findings == [] and record.valid and record.id == expected_id


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("v=STSv1;", ["sts-id-invalid"]),
        ("v=STSv1; id=", ["sts-id-invalid"]),
        ("v=STSv1; id=" + "a" * 33, ["sts-id-invalid"]),
        ("v=STSv1; id=2024-01-31", ["sts-id-invalid"]),
        ("v=STSv1; id=abc; id=def", ["sts-id-duplicate"]),
        ("v=STSv1 ; id=abc", ["sts-txt-whitespace"]),
        ("v=stsv1; id=abc", ["sts-txt-syntax"]),
        ("id=abc; v=STSv1", ["sts-txt-syntax"]),
        ("v=STSv1; id=abc; é=1", ["sts-txt-extension-invalid", "sts-txt-syntax"]),
        ("v=STSv1; id=abc; ID=def", ["sts-txt-syntax"]),
        ("v=STSv1; id=abc; note=x", ["sts-txt-extension-unknown"]),
        ("v=STSv1; id=abc;; note=x", ["sts-txt-extension-unknown", "sts-txt-syntax"]),
    ],
)
def test_sts_record_problems(text: str, expected: list[str]) -> None:
    record = parse_sts_txt(text)
    assert sorted(set(codes(record.findings))) == expected, record.findings
    assert all(f.rfc.startswith("RFC 8461") for f in record.findings)


def test_duplicate_id_first_wins() -> None:
    record = parse_sts_txt("v=STSv1; id=first; id=second")
    assert record.id == "first" and record.valid


# --------------------------------------------------------------------------- TLSA

DIGEST = "ab" * 32


def test_recommended_tlsa_has_no_findings() -> None:
    record = parse_tlsa_text(f"3 1 1 {DIGEST}", "_25._tcp.mx.example.com")
    assert record.findings == [] and record.usable
    assert record.text == f"3 1 1 {DIGEST}"
    # whitespace inside the hex, as zone files allow
    spaced = parse_tlsa_text(f"3 1 1 {DIGEST[:20]} {DIGEST[20:]}")
    assert spaced.data == bytes.fromhex(DIGEST)


@pytest.mark.parametrize(
    ("text", "expected", "usable"),
    [
        (f"2 1 1 {DIGEST}", ["dane-tlsa-not-recommended"], True),
        ("3 1 2 " + "cd" * 64, ["dane-tlsa-not-recommended"], True),
        ("3 1 1 abcd", ["dane-tlsa-data-invalid"], False),
        ("3 1 2 " + DIGEST, ["dane-tlsa-data-invalid"], False),
        ("3 0 0 0102", ["dane-tlsa-data-invalid"], False),
        ("2 0 0 3082010a0000", ["dane-ta-full"], True),
        (f"1 0 1 {DIGEST}", ["dane-tlsa-pkix-usage"], False),
        (f"0 1 1 {DIGEST}", ["dane-tlsa-pkix-usage"], False),
        (f"4 1 1 {DIGEST}", ["dane-tlsa-unknown-parameter"], False),
        (f"3 2 1 {DIGEST}", ["dane-tlsa-unknown-parameter"], False),
        (f"3 1 3 {DIGEST}", ["dane-tlsa-unknown-parameter"], False),
        (f"255 255 255 {DIGEST}", ["dane-tlsa-unknown-parameter"], False),
    ],
)
def test_tlsa_problems(text: str, expected: list[str], usable: bool) -> None:
    record = parse_tlsa_text(text, "_25._tcp.mx.example.com")
    assert sorted(set(codes(record.findings))) == expected
    assert record.usable is usable
    assert all(f.subject == "_25._tcp.mx.example.com" for f in record.findings)


@pytest.mark.parametrize("text", ["3 1 1", "3 1 1 abc", "3 1 1 zz", "x 1 1 ab", "3 1 256 ab"])
def test_tlsa_text_that_is_not_tlsa(text: str) -> None:
    with pytest.raises(ValueError):
        parse_tlsa_text(text)


def test_check_tlsa_on_binary_data() -> None:
    record = check_tlsa(3, 1, 1, bytes(31), "_25._tcp.mx")
    assert codes(record.findings) == ["dane-tlsa-data-invalid"]
    assert "32 bytes" in record.findings[0].message
