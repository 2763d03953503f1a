"""Field-level parsing: every real-world shape is read, each deviation is diagnosed."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.core.conftest import make_report, sts_policy
from tlsrpt_gui.core.report import (
    Report,
    ReportHint,
    ReportParseError,
    json_depth_exceeds,
    parse_report_bytes,
    parse_report_filename,
)


def parse(doc: object, hint: ReportHint | None = None) -> Report:
    return parse_report_bytes(json.dumps(doc).encode(), hint)


def codes(report: Report) -> set[str]:
    return {d.code for d in report.diagnostics}


def test_microsoft_packed_tlsa_list_becomes_separate_records(corpus: Path) -> None:
    r = parse_report_bytes((corpus / "reports/cry-inc-drv__microsoft.json").read_bytes())
    tlsa = [p for p in r.policies if p.policy_type == "tlsa"]
    assert len(tlsa) == 1
    assert tlsa[0].policy_strings == [
        "3 1 1 6007EEE553E85D8DF007A845D19EC343283D4E416E9A33F9EF3040C8B7C285BC",
        "3 1 1 837C773D54C2E2BD71871A3FC352BE8214D5646CBAE5E3091401A7274717998B",
    ]
    assert "policy-string-packed" in codes(r)
    assert r.report_id == "133925885310113267+random.net"


def test_mailru_free_text_failure_reason_code_is_kept(corpus: Path) -> None:
    r = parse_report_bytes((corpus / "reports/parsedmarc__mail.ru.json").read_bytes())
    (p,) = r.policies
    assert [d.failure_reason_code for d in p.failure_details] == ["bad https response code: 404", "bad https response code: 500"]
    assert all(d.sending_mta_ip is None and d.receiving_mx_hostname is None for d in p.failure_details)
    assert p.failed_sessions == 1
    assert "failure-count-mismatch" in codes(r)
    # end-datetime at the next midnight is read as one day
    assert r.end - r.start == (datetime(2024, 2, 23, tzinfo=UTC) - datetime(2024, 2, 22, tzinfo=UTC))


def test_sys4_style_report_without_policy_domain_takes_header_domain() -> None:
    # Postfix + sys4 tlsrpt-reporter: summary before policy, no policy-domain.
    raw = (
        b'{"organization-name":"sonne.floppy.example","date-range":{"start-datetime":"2025-01-10T00:00:00Z",'
        b'"end-datetime":"2025-01-10T23:59:59Z"},"contact-info":"noreply@sonne.floppy.example",'
        b'"report-id":"2025-01-10T00:00:00Z_idx1_example.org","policies":[{"summary":'
        b'{"total-successful-session-count":12,"total-failure-session-count":0},'
        b'"policy":{"policy-type":"no-policy-found"}}]}'
    )
    r = parse_report_bytes(raw, ReportHint(header_domain="Example.ORG.", from_mail=True, header_submitter="sonne.floppy.example"))
    (p,) = r.policies
    assert p.policy_domain == "example.org"
    assert p.policy_domain_source == "header"
    assert p.successful_sessions == 12
    missing = [d for d in r.diagnostics if d.code == "policy-domain-missing"]
    assert missing and missing[0].severity == "warning"


def test_missing_policy_domain_from_rfc_file_name() -> None:
    doc = make_report(policies=[{"policy": {"policy-type": "no-policy-found"}, "summary": {"total-successful-session-count": 3, "total-failure-session-count": 0}}])
    r = parse(doc, ReportHint(filename="mail.sender.example!xn--gpher-jua.test!1714521600!1714607999!abc1.json.gz"))
    assert r.policies[0].policy_domain == "xn--gpher-jua.test"
    assert r.policies[0].policy_domain_source == "filename"
    assert "policy-domain-missing" in codes(r)


def test_missing_policy_domain_without_hint_is_flagged_not_rejected(corpus: Path) -> None:
    r = parse_report_bytes((corpus / "malformed/stalwart-mail-auth__rpt03.json").read_bytes())
    assert [p.policy_domain for p in r.policies] == ["", ""]
    assert [p.policy_type for p in r.policies] == ["no-policy-found", "invalid-policy-type"]
    assert "policy-type-unknown" in codes(r)
    assert "count-missing" in codes(r)  # no total-failure-session-count
    assert r.failed_sessions == 0 and r.successful_sessions == 2


def test_stalwart_quirks() -> None:
    # Stalwart: contact-info null, next-midnight end, empty failure-details,
    # empty policy-string and mx-host for no-policy-found, report-id <unix>_<u64>.
    doc = {
        "organization-name": "mx.egressif.example",
        "date-range": {"start-datetime": "2024-08-19T00:00:00Z", "end-datetime": "2024-08-20T00:00:00Z"},
        "contact-info": None,
        "report-id": "1724025600_12736329483741204531",
        "policies": [
            {
                "policy": {"policy-type": "no-policy-found", "policy-string": [], "policy-domain": "gmail.com", "mx-host": []},
                "summary": {"total-successful-session-count": 4, "total-failure-session-count": 0},
                "failure-details": [],
            }
        ],
    }
    r = parse(doc)
    assert r.contact_info is None
    assert r.report_id == "1724025600_12736329483741204531"
    (p,) = r.policies
    assert p.policy_strings == [] and p.mx_hosts == [] and p.failure_details == []
    c = codes(r)
    assert {"contact-info-missing", "date-range-next-midnight"} <= c
    assert next(d for d in r.diagnostics if d.code == "contact-info-missing").severity == "warning"


def test_contact_info_missing_entirely() -> None:
    doc = make_report()
    del doc["contact-info"]
    r = parse(doc)
    assert r.contact_info is None
    assert "contact-info-missing" in codes(r)


@pytest.mark.parametrize(
    ("mx_host", "expected", "code"),
    [
        ("*.mail.example.com", ["*.mail.example.com"], "mx-host-string"),
        (["a.example.com", "b.example.com"], ["a.example.com", "b.example.com"], None),
        (["mx: mx.server.com"], ["mx.server.com"], "mx-host-prefix"),
    ],
)
def test_mx_host_string_or_list(mx_host: object, expected: list[str], code: str | None) -> None:
    pol = sts_policy()
    pol["policy"]["mx-host"] = mx_host
    r = parse(make_report(policies=[pol]))
    assert r.policies[0].mx_hosts == expected
    if code:
        assert code in codes(r)
    else:
        assert not any(d.code.startswith("mx-host") for d in r.diagnostics)


def test_policy_string_bare_string() -> None:
    pol = sts_policy()
    pol["policy"]["policy-string"] = "version: STSv1"
    r = parse(make_report(policies=[pol]))
    assert r.policies[0].policy_strings == ["version: STSv1"]
    assert "policy-string-not-array" in codes(r)


def test_policy_string_list_and_sts_mode() -> None:
    r = parse(make_report())
    assert r.policies[0].policy_strings[1] == "mode: enforce"
    assert r.policies[0].sts_mode == "enforce"
    assert r.diagnostics == []


def test_datetime_without_offset_assumes_utc(corpus: Path) -> None:
    r = parse_report_bytes((corpus / "malformed/phi-ag-mta-sts-exporter__microsoft-2.json").read_bytes())
    assert r.start == datetime(2024, 3, 26, tzinfo=UTC)
    assert r.end == datetime(2024, 3, 26, 23, 59, 59, tzinfo=UTC)
    flagged = [d for d in r.diagnostics if d.code == "datetime-no-offset"]
    assert len(flagged) == 2 and flagged[0].severity == "warning"


def test_datetime_offsets_are_converted_to_utc() -> None:
    r = parse(make_report(start="2024-05-01T02:00:00+02:00", end="2024-05-02T01:59:59.500+02:00"))
    assert r.start == datetime(2024, 5, 1, tzinfo=UTC)
    assert r.end == datetime(2024, 5, 1, 23, 59, 59, 500000, tzinfo=UTC)


def test_counts_as_numeric_strings() -> None:
    pol = sts_policy()
    pol["summary"] = {"total-successful-session-count": "42", "total-failure-session-count": " 3 "}
    pol["failure-details"] = [{"result-type": "certificate-expired", "failed-session-count": "3", "sending-mta-ip": "192.0.2.1", "receiving-mx-hostname": "mx1.example.com"}]
    r = parse(make_report(policies=[pol]))
    (p,) = r.policies
    assert (p.successful_sessions, p.failed_sessions) == (42, 3)
    assert p.failure_details[0].failed_session_count == 3
    assert sum(d.code == "count-as-string" for d in r.diagnostics) == 3


def test_invalid_counts_are_errors_not_rejections() -> None:
    pol = sts_policy()
    pol["summary"] = {"total-successful-session-count": -5, "total-failure-session-count": "many"}
    r = parse(make_report(policies=[pol]))
    assert (r.policies[0].successful_sessions, r.policies[0].failed_sessions) == (0, 0)
    assert [d.severity for d in r.diagnostics if d.code == "count-invalid"] == ["error", "error"]


def test_bom_and_crlf() -> None:
    raw = b"\xef\xbb\xbf" + json.dumps(make_report(), indent=2).replace("\n", "\r\n").encode()
    r = parse_report_bytes(raw)
    assert r.organization_name == "Example Reporter"
    assert "utf8-bom" in codes(r)


def test_additional_info_uri_alias_and_unknown_result_type(corpus: Path) -> None:
    r = parse_report_bytes((corpus / "malformed/neztore-tls-rpt-monitor__microsoft-report.json").read_bytes())
    (d,) = r.policies[0].failure_details
    assert d.additional_information == "testing.josh.scot"
    assert d.result_type == "Testing"
    assert d.sending_mta_ip == "x.x.x.x"
    assert {"additional-info-uri", "result-type-unknown", "ip-invalid"} <= codes(r)


def test_empty_strings_for_addresses(corpus: Path) -> None:
    r = parse_report_bytes((corpus / "malformed/parsedmarc__empty_failure_detail_fields.json").read_bytes())
    (d,) = r.policies[0].failure_details
    assert d.sending_mta_ip is None and d.receiving_ip is None and d.receiving_mx_hostname is None
    assert d.failure_reason_code == "no-policy-served"
    assert sum(x.code == "empty-string" for x in r.diagnostics) == 4


def test_unknown_policy_type_kept_as_is() -> None:
    pol = sts_policy()
    pol["policy"]["policy-type"] = "tls"
    r = parse(make_report(policies=[pol]))
    assert r.policies[0].policy_type == "tls"
    assert "policy-type-unknown" in codes(r)


def test_policies_object_is_wrapped() -> None:
    r = parse(make_report(policies=sts_policy()))  # type: ignore[arg-type]
    assert len(r.policies) == 1
    assert "policies-not-array" in codes(r)


def test_rfc_example_fields(corpus: Path) -> None:
    r = parse_report_bytes((corpus / "reports/parsedmarc__rfc8460.json").read_bytes())
    (p,) = r.policies
    assert r.organization_name == "Company-X"
    assert (p.successful_sessions, p.failed_sessions) == (5326, 303)
    assert [d.result_type for d in p.failure_details] == ["certificate-expired", "starttls-not-supported", "validation-failure"]
    assert p.failure_details[2].failure_reason_code == "X509_V_ERR_PROXY_PATH_LENGTH_EXCEEDED"
    assert p.failure_details[1].receiving_ip == "203.0.113.56"
    assert p.mx_hosts == ["*.mail.company-y.example"]


@pytest.mark.parametrize(
    ("doc", "reason"),
    [
        ({"policies": []}, "organization-name"),
        ({"organization-name": "x", "policies": []}, "date-range"),
        ({"organization-name": "x", "date-range": {"start-datetime": "yesterday", "end-datetime": "2024-01-01T00:00:00Z"}, "policies": []}, "RFC 3339"),
        ({"organization-name": "x", "date-range": {"start-datetime": "2024-01-01T00:00:00Z", "end-datetime": "2024-01-01T23:59:59Z"}}, "policies"),
        ({"feedback": {"report_metadata": {}}}, "not a TLS report"),
        ([1, 2, 3], "not a TLS report"),
        ("a string", "not JSON"),
    ],
)
def test_rejected_only_when_core_fields_cannot_be_read(doc: object, reason: str) -> None:
    with pytest.raises(ReportParseError, match=reason):
        parse(doc)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "empty"),
        (b"   \n", "empty"),
        (b"<!DOCTYPE html><html><body>404</body></html>", "HTML"),
        (b'<?xml version="1.0"?><feedback></feedback>', "DMARC"),
        (b"[" * 200_000 + b"]" * 200_000, "nested"),
        (b'{"organization-name": "x", ', "invalid JSON"),
    ],
)
def test_bad_bytes_give_plain_reasons(raw: bytes, reason: str) -> None:
    with pytest.raises(ReportParseError, match=reason):
        parse_report_bytes(raw)


def nesting(text: bytes) -> int:
    """The deepest nesting of arrays and objects in JSON ``text``, byte by byte (the
    reference for json_depth_exceeds; an unterminated string runs to the end)."""
    depth = deepest = 0
    in_string = escaped = False
    for c in text:
        if in_string:
            if escaped:
                escaped = False
            elif c == ord("\\"):
                escaped = True
            elif c == ord('"'):
                in_string = False
        elif c == ord('"'):
            in_string = True
        elif c in b"[{":
            depth += 1
            deepest = max(deepest, depth)
        elif c in b"]}":
            depth -= 1
    return deepest


def nested_json(rng: random.Random, depth: int) -> object:
    """A JSON value nesting arrays and objects ``depth`` deep, with strings that hold
    brackets, quotes and backslashes."""
    tricky = ["[", "]", "{", "}", '"', "\\", '\\"', '"]', "\\]", "x"]
    leaf = "".join(rng.choice(tricky) for _ in range(rng.randint(0, 6)))
    if depth == 0:
        return rng.choice([leaf, 1, None])
    inner = [nested_json(rng, rng.randint(0, min(depth - 1, 2))) for _ in range(rng.randint(0, 3))]
    inner.insert(rng.randint(0, len(inner)), nested_json(rng, depth - 1))
    return {f"k{i}{leaf}": v for i, v in enumerate(inner)} if rng.random() < 0.5 else [leaf, *inner]


@pytest.mark.parametrize("seed", range(200))
def test_json_depth_is_measured_outside_strings(seed: int) -> None:
    rng = random.Random(seed)
    limit = rng.choice([2, 5, 64])
    text = json.dumps(nested_json(rng, rng.randint(limit - 1, limit + 2))).encode()
    assert json_depth_exceeds(text, limit) == (nesting(text) > limit), text
    # cut short, perhaps inside a string: as deep, or not JSON (the parser says why)
    cut = text[: rng.randint(1, len(text) - 1)]
    if json_depth_exceeds(cut, limit) != (nesting(cut) > limit):
        with pytest.raises(ReportParseError, match="invalid JSON"):
            parse_report_bytes(cut)


@pytest.mark.parametrize(("text", "limit", "deeper"), [
    (b"[" * 64 + b"]" * 64, 64, False),
    (b"[" * 65 + b"]" * 65, 64, True),
    (b'{"a":' * 65 + b"1" + b"}" * 65, 64, True),
    (b'["' + b"[" * 70 + b'"]', 64, False),  # brackets in a string
    (b'["\\\\", ' + b"[" * 70 + b"]" * 70 + b"]", 64, True),  # an escaped backslash ends the string
    (b'["\\"' + b"[" * 70 + b'"]', 64, False),  # an escaped quote does not
])
def test_json_depth_at_the_edges(text: bytes, limit: int, deeper: bool) -> None:
    assert json_depth_exceeds(text, limit) == deeper == (nesting(text) > limit)


def test_report_without_report_id_is_kept_with_error() -> None:
    doc = make_report()
    del doc["report-id"]
    r = parse(doc)
    assert r.report_id == ""
    assert any(d.code == "report-id-missing" and d.severity == "error" for d in r.diagnostics)


def test_envelope_checks_for_mail() -> None:
    r = parse(make_report(), ReportHint(from_mail=True, header_domain="example.com", header_submitter="other.example"))
    assert "header-submitter-mismatch" in codes(r)
    r = parse(make_report(), ReportHint(from_mail=True))
    assert {"header-domain-missing", "header-submitter-missing"} <= codes(r)


def test_filename_parser() -> None:
    fn = parse_report_filename("google.com!Example.COM!1583107200!1583193599!001.json.gz")
    assert fn is not None
    assert (fn.sender, fn.policy_domain, fn.begin, fn.end, fn.unique_id, fn.extension) == ("google.com", "example.com", 1583107200, 1583193599, "001", "json.gz")
    assert parse_report_filename("report.json") is None


def test_failure_rows_and_diagnostics_are_capped_per_report() -> None:
    pol = sts_policy(failed=5000)
    pol["failure-details"] = [{"failed-session-count": "1"} for _ in range(2500)]  # each: 2 diagnostics
    r = parse_report_bytes(json.dumps(make_report(policies=[pol, pol])).encode(), max_failure_details=3000)
    assert sum(len(p.failure_details) for p in r.policies) == 3000
    truncated = [d for d in r.diagnostics if d.code == "failure-details-truncated"]
    assert len(truncated) == 1 and truncated[0].message.startswith("2000 failure details beyond the first 3000")
    assert r.failed_sessions == 10000  # the summaries are kept as sent
    from tlsrpt_gui.core.report import MAX_DIAGNOSTICS

    big = sts_policy()
    big["failure-details"] = [{} for _ in range(MAX_DIAGNOSTICS)]
    r2 = parse_report_bytes(json.dumps(make_report(policies=[big])).encode())
    assert len(r2.diagnostics) <= MAX_DIAGNOSTICS
    assert r2.diagnostics[-1].code == "diagnostics-truncated"


def test_a_whole_count_past_64_bits_is_too_large_not_a_fraction() -> None:
    raw = json.dumps(make_report(policies=[sts_policy(ok=5)])).replace(
        '"total-successful-session-count": 5', '"total-successful-session-count": 99999999999999999999999')
    assert "99999999999999999999999" in raw
    r = parse_report_bytes(raw.encode())
    notes = [d for d in r.diagnostics if d.code.startswith("count")]
    assert [d.code for d in notes] == ["count-too-large"] and "fraction" not in notes[0].message
    assert r.policies[0].successful_sessions == 2**53
