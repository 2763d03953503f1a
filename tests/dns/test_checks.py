"""check_domain against a real NSD and real HTTPS servers on loopback (see world.py)."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from tests.dns.conftest import DnsWorld
from tlsrpt_gui.core.dns import (
    CheckCancelled,
    CheckOptions,
    CheckResult,
    Finding,
    PolicySnapshot,
    check_domain,
    normalize_domain,
)

pytestmark = pytest.mark.dns

Checked = Callable[[str], CheckResult]

# Codes issue #5 requires, spelled exactly.
REQUIRED_CODES = {
    "tlsrpt-missing", "tlsrpt-multiple", "tlsrpt-syntax", "tlsrpt-rua-missing",
    "tlsrpt-rua-invalid", "tlsrpt-rua-unreachable", "sts-txt-missing", "sts-txt-multiple",
    "sts-id-invalid", "sts-policy-unreachable", "sts-policy-http-status", "sts-policy-syntax",
    "sts-mx-not-covered", "sts-mode-testing", "sts-without-tlsrpt",
}


def find(result: CheckResult, code: str) -> list[Finding]:
    return [f for f in result.findings if f.code == code]


def only(result: CheckResult, code: str) -> Finding:
    found = find(result, code)
    assert len(found) == 1, (code, result.findings)
    return found[0]


# --------------------------------------------------------------------------- valid set-ups


def test_valid_domain_has_only_the_dnssec_infos(checked: Checked, dns_world: DnsWorld) -> None:
    result = checked("valid.test")
    assert result.codes() == {"dane-not-used", "dnssec-unvalidated"}
    assert not result.has_errors
    assert all(f.severity == "info" for f in result.findings)
    # TLS-RPT: two strings joined, both kept raw
    rpt = result.tlsrpt
    assert rpt.txt[0].strings == (
        "v=TLSRPTv1; rua=mailto:tlsrpt@va",
        "lid.test,https://reports.valid.test/v1",
    )
    assert rpt.record is not None and rpt.record.text == (
        "v=TLSRPTv1; rua=mailto:tlsrpt@valid.test,https://reports.valid.test/v1"
    )
    assert [(r.uri.uri, r.reachable) for r in rpt.rua] == [
        ("mailto:tlsrpt@valid.test", True),
        ("https://reports.valid.test/v1", True),
    ]
    # MTA-STS: record, policy fetched over TLS with SNI, parsed
    sts = result.mta_sts
    assert sts.id == "20240101T000000"
    assert sts.fetch is not None and sts.fetch.status == 200 and sts.fetch.ok
    assert sts.fetch.connected_address == "127.0.0.1"
    assert sts.policy is not None
    assert (sts.policy.mode, sts.policy.max_age) == ("enforce", 1209600)
    assert sts.policy.mx == ["mx1.valid.test", "*.mx.valid.test"]
    assert [(h.preference, h.host, h.covered_by) for h in result.mx.hosts] == [
        (10, "mx1.valid.test", "mx1.valid.test"),
        (20, "a.mx.valid.test", "*.mx.valid.test"),
    ]
    assert [t.name for t in result.tlsa] == ["_25._tcp.mx1.valid.test", "_25._tcp.a.mx.valid.test"]
    assert all(t.lookup.status == "nxdomain" and not t.records for t in result.tlsa)
    # AD flag reported, off on this unsigned loopback zone
    assert result.mx.lookup.authenticated is False
    assert only(result, "dnssec-unvalidated").severity == "info"
    server = dns_world.https.server
    assert "mta-sts.valid.test" in server.sni_seen
    assert ("GET", "mta-sts.valid.test", "/.well-known/mta-sts.txt") in server.requests


def test_rua_https_probe_only_handshakes(checked: Checked, dns_world: DnsWorld) -> None:
    checked("valid.test")
    server = dns_world.https.server
    assert "reports.valid.test" in server.sni_seen  # connected, with SNI
    assert [r for r in server.requests if r[1] == "reports.valid.test"] == []  # sent nothing
    assert all(method == "GET" for method, _, _ in server.requests)


def test_result_is_json_with_the_issue_keys(checked: Checked) -> None:
    data = orjson.loads(orjson.dumps(checked("valid.test").to_dict()))
    assert list(data) == ["domain", "tlsrpt", "mta_sts", "mx", "tlsa", "findings"]
    assert data["domain"] == "valid.test"
    assert data["tlsrpt"]["txt"][0]["strings"][1] == "lid.test,https://reports.valid.test/v1"
    assert [r["uri"] for r in data["tlsrpt"]["rua"]] == [
        "mailto:tlsrpt@valid.test", "https://reports.valid.test/v1"
    ]
    assert data["mta_sts"]["record"] == "v=STSv1; id=20240101T000000"
    assert data["mta_sts"]["id"] == "20240101T000000"
    assert data["mta_sts"]["policy"]["raw"].startswith("version: STSv1\r\nmode: enforce")
    assert data["mta_sts"]["policy"]["mode"] == "enforce"
    for finding in data["findings"]:
        assert set(finding) == {"severity", "code", "message", "rfc", "subject"}


def test_cname_to_another_zone_is_followed(checked: Checked) -> None:
    result = checked("cname.test")
    assert result.mta_sts.lookup.cname_chain == ("_mta-sts.provider.example",)
    assert result.mta_sts.id == "cname1"
    assert only(result, "sts-txt-cname").severity == "info"
    assert result.mta_sts.policy is not None and result.mta_sts.policy.valid
    assert not result.has_errors


def test_ipv6_nameserver(dns_world: DnsWorld) -> None:
    result = check_domain("valid.test", dns_world.options(nameserver="::1"))
    assert result.codes() == {"dane-not-used", "dnssec-unvalidated"}
    assert "[::1]" in result.resolver


# --------------------------------------------------------------------------- TLS-RPT


def test_missing_tlsrpt_is_info_without_sts(checked: Checked) -> None:
    result = checked("bare.test")
    assert only(result, "tlsrpt-missing").severity == "info"
    assert only(result, "sts-txt-missing").severity == "info"
    assert "sts-without-tlsrpt" not in result.codes()
    assert result.mta_sts.fetch is None  # no record, no policy host: nothing fetched


def test_missing_tlsrpt_with_sts_is_a_warning(checked: Checked) -> None:
    """One warning for the one problem (there were two, this and tlsrpt-missing)."""
    result = checked("stsonly.test")
    missing = only(result, "tlsrpt-missing")
    assert missing.severity == "info" and "uses MTA-STS" in missing.message
    assert only(result, "sts-without-tlsrpt").severity == "warning"
    assert [f.code for f in result.findings if f.severity == "warning"] == ["sts-without-tlsrpt"]
    assert not result.has_errors


def test_missing_tlsrpt_with_dane_alone_is_a_warning(checked: Checked) -> None:
    result = checked("daneonly.test")
    missing = only(result, "tlsrpt-missing")
    assert missing.severity == "warning" and "uses DANE" in missing.message
    assert "sts-without-tlsrpt" not in result.codes()


def test_multiple_records(checked: Checked) -> None:
    result = checked("multi.test")
    assert only(result, "tlsrpt-multiple").severity == "error"
    assert only(result, "sts-txt-multiple").severity == "error"
    assert len(result.tlsrpt.records) == 2 and result.tlsrpt.record is None
    assert len(result.mta_sts.records) == 2 and result.mta_sts.id is None
    assert "sts-without-tlsrpt" in result.codes()  # no usable TLS-RPT record


def test_tlsrpt_syntax_and_sts_whitespace(checked: Checked) -> None:
    result = checked("syntax.test")
    messages = [f.message for f in find(result, "tlsrpt-syntax")]
    assert any("empty field" in m for m in messages)
    assert any("'junk'" in m for m in messages)
    assert only(result, "sts-txt-whitespace").severity == "warning"


def test_lookalike_records_are_syntax_errors_not_missing(checked: Checked) -> None:
    result = checked("lookalike.test")
    assert "case-sensitive" in only(result, "tlsrpt-syntax").message
    assert only(result, "sts-txt-syntax").severity == "error"
    assert not {"tlsrpt-missing", "sts-txt-missing"} & result.codes()


def test_rua_missing(checked: Checked) -> None:
    result = checked("norua.test")
    assert only(result, "tlsrpt-rua-missing").subject == "v=TLSRPTv1; ext=1"
    assert only(result, "tlsrpt-extension-unknown").severity == "info"


def test_rua_invalid(checked: Checked) -> None:
    result = checked("badrua.test")
    invalid = find(result, "tlsrpt-rua-invalid")
    assert len(invalid) == 2
    assert "foo@@badrua.test" in invalid[0].message
    assert "%21" in invalid[1].message
    assert all(f.severity == "error" for f in invalid)


def test_unsupported_scheme_beside_a_good_one(checked: Checked) -> None:
    result = checked("ftp.test")
    assert only(result, "tlsrpt-rua-scheme-unsupported").severity == "warning"
    assert "tlsrpt-rua-invalid" not in result.codes()


def test_rua_destinations_that_cannot_receive(checked: Checked, dns_world: DnsWorld) -> None:
    result = checked("unreach.test")
    unreachable = {f.subject: f for f in find(result, "tlsrpt-rua-unreachable")}
    closed = f"https://closed.unreach.test:{dns_world.https.closed_port}/r"
    assert set(unreachable) == {
        "mailto:r@nomail.unreach.test",
        "mailto:r@nullmx.unreach.test",
        "https://gone.unreach.test/r",
        closed,
    }
    assert all(f.severity == "warning" for f in unreachable.values())
    assert "does not exist" in unreachable["mailto:r@nomail.unreach.test"].message
    assert "null MX" in unreachable["mailto:r@nullmx.unreach.test"].message
    assert "no A or AAAA" in unreachable["https://gone.unreach.test/r"].message
    assert "refused" in unreachable[closed].message.lower()
    reach = {r.uri.uri: r.reachable for r in result.tlsrpt.rua}
    assert reach["mailto:r@aonly.unreach.test"] is True  # no MX, but an address
    assert not result.has_errors


def test_rua_https_with_a_bad_certificate_is_info(checked: Checked) -> None:
    result = checked("ruacert.test")
    finding = only(result, "tlsrpt-rua-certificate")
    assert finding.severity == "info" and "not valid" in finding.message
    assert result.tlsrpt.rua[0].reachable is True
    assert "tlsrpt-rua-unreachable" not in result.codes()


def test_valid_but_quirky_tlsrpt(checked: Checked) -> None:
    result = checked("quirks.test")
    assert {
        "tlsrpt-version-whitespace", "tlsrpt-rua-repeated", "tlsrpt-extension-invalid",
        "tlsrpt-extension-unknown", "tlsrpt-ttl-short",
    } <= result.codes()
    assert "60 s" in only(result, "tlsrpt-ttl-short").message
    assert result.tlsrpt.valid and not result.has_errors
    assert [r.uri.uri for r in result.tlsrpt.rua] == ["mailto:a@quirks.test", "mailto:b@quirks.test"]


def test_non_ascii_tlsrpt(checked: Checked) -> None:
    result = checked("nonascii.test")
    assert any("non-ASCII" in f.message for f in find(result, "tlsrpt-syntax"))
    assert result.tlsrpt.txt[0].text == "v=TLSRPTv1; rua=mailto:café@nonascii.test"


# --------------------------------------------------------------------------- MTA-STS record


def test_sts_id_invalid_and_duplicate(checked: Checked) -> None:
    bad = checked("badid.test")
    assert "'not_valid!'" in only(bad, "sts-id-invalid").message
    dup = checked("dupid.test")
    assert only(dup, "sts-id-duplicate").severity == "warning"
    assert dup.mta_sts.id == "abc"


# --------------------------------------------------------------------------- policy fetch


def test_policy_host_without_address(checked: Checked) -> None:
    finding = only(checked("nohost.test"), "sts-policy-unreachable")
    assert "mta-sts.nohost.test has no A or AAAA record" in finding.message


def test_redirect_is_refused_not_followed(checked: Checked, dns_world: DnsWorld) -> None:
    result = checked("redirect.test")
    finding = only(result, "sts-policy-http-status")
    assert "redirect (301)" in finding.message and "elsewhere.txt" in finding.message
    assert result.mta_sts.fetch is not None and result.mta_sts.fetch.status == 301
    assert result.mta_sts.policy is None
    hosts_paths = [(h, p) for _, h, p in dns_world.https.server.requests]
    assert ("mta-sts.redirect.test", "/elsewhere.txt") not in hosts_paths


def test_not_found(checked: Checked) -> None:
    assert "HTTP 404" in only(checked("notfound.test"), "sts-policy-http-status").message


def test_invalid_policy(checked: Checked) -> None:
    result = checked("badpolicy.test")
    messages = " | ".join(f.message for f in find(result, "sts-policy-syntax"))
    assert "mode is 'enforced'" in messages
    assert "max_age is '99999999999'" in messages
    assert "mx value '.'" in messages
    assert "Line 5 is not 'key: value'" in messages
    assert result.mta_sts.policy is not None and not result.mta_sts.policy.valid


def test_wrong_certificate_name(checked: Checked) -> None:
    result = checked("wrongcert.test")
    finding = only(result, "sts-policy-certificate")
    assert finding.severity == "error"
    assert "mta-sts.wrongcert.test" in finding.message
    assert "mismatch" in finding.message.lower()
    assert result.mta_sts.policy is None


def test_certificate_expiring_soon(checked: Checked) -> None:
    result = checked("expiring.test")
    assert re.search(r"in [45] days", only(result, "sts-policy-certificate-expiring").message)
    assert not result.has_errors


def test_oversized_policy(checked: Checked) -> None:
    result = checked("big.test")
    assert only(result, "sts-policy-too-large").severity == "warning"
    assert result.mta_sts.fetch is not None and result.mta_sts.fetch.too_large
    assert result.mta_sts.policy is None


def test_wrong_content_type(checked: Checked) -> None:
    finding = only(checked("ctype.test"), "sts-policy-content-type")
    assert "text/html" in finding.message


def test_server_that_never_answers_times_out(dns_world: DnsWorld) -> None:
    started = time.monotonic()
    result = check_domain(
        "slow.test",
        dns_world.options(mta_sts_port=dns_world.https.blackhole_port, timeout=1.0),
    )
    assert time.monotonic() - started < 4
    finding = only(result, "sts-policy-unreachable")
    assert "TLS handshake in time" in finding.message and finding.severity == "error"  # unreachable, not slow
    assert result.mta_sts.fetch is not None and result.mta_sts.fetch.elapsed < 1.5


def test_trickling_server_hits_the_overall_deadline(dns_world: DnsWorld) -> None:
    # The server sends one byte every 0.1 s: no single read times out, the deadline must.
    result = check_domain("trickle.test", dns_world.options(timeout=1.0))
    fetch = result.mta_sts.fetch
    assert fetch is not None and fetch.error_kind == "timeout"
    assert 0.9 < fetch.elapsed < 1.5
    finding = only(result, "sts-policy-unreachable")
    # the check's limit, not the senders' (about a minute): a warning
    assert "in time" in finding.message and finding.severity == "warning"


def test_policy_without_txt_record(checked: Checked) -> None:
    result = checked("policyonly.test")
    assert only(result, "sts-policy-without-txt").severity == "warning"
    assert "sts-txt-missing" in result.codes()


# --------------------------------------------------------------------------- consistency


def test_mx_not_covered_under_enforce(checked: Checked) -> None:
    result = checked("notcovered.test")
    not_covered = {f.subject: f.severity for f in find(result, "sts-mx-not-covered")}
    # "*.notcovered.test" matches exactly one label, so a.b.notcovered.test is outside
    assert not_covered == {"a.b.notcovered.test": "error", "mx.elsewhere.test": "error"}
    unused = {f.subject for f in find(result, "sts-mx-pattern-unused")}
    assert unused == {"mx: *.notcovered.test", "mx: old.notcovered.test"}


def test_testing_mode(checked: Checked) -> None:
    result = checked("testing.test")
    assert only(result, "sts-mode-testing").severity == "info"
    finding = only(result, "sts-mx-not-covered")
    assert (finding.subject, finding.severity) == ("mx2.testing.test", "warning")
    assert only(result, "sts-max-age-short").severity == "warning"
    assert not result.has_errors


def test_mode_none(checked: Checked) -> None:
    result = checked("none.test")
    assert only(result, "sts-mode-none").severity == "info"
    assert "sts-mx-not-covered" not in result.codes()
    assert not result.has_errors


def test_policy_changed_without_new_id(dns_world: DnsWorld) -> None:
    options = dns_world.options()
    same_id = PolicySnapshot(id="20240101T000000", text="version: STSv1\nmode: testing\n")
    changed = check_domain("valid.test", options, previous_policy=same_id)
    assert only(changed, "sts-id-unchanged").severity == "warning"
    old_text = "version: STSv1\nmode: enforce\nmx: mx1.valid.test\nmx: *.mx.valid.test\n"
    unchanged = PolicySnapshot(id="20240101T000000", text=old_text + "max_age: 1209600\n")
    assert "sts-id-unchanged" not in check_domain(
        "valid.test", options, previous_policy=unchanged
    ).codes()
    # the same policy laid out otherwise: mx lines reordered, in capitals, repeated, CRLF,
    # spaces and a blank line at the end (flagged while the raw text was compared)
    relaid = "version: STSv1\r\nmx: *.MX.valid.test\r\nmode:   enforce\r\nmax_age: 1209600 \r\nmx: mx1.valid.test\r\nmx: mx1.valid.test\r\n\r\n"
    assert "sts-id-unchanged" not in check_domain(
        "valid.test", options, previous_policy=PolicySnapshot(id="20240101T000000", text=relaid)
    ).codes()
    for changed_text in (old_text + "max_age: 86400\n", old_text.replace("mx1.", "mx9.") + "max_age: 1209600\n", "not a policy"):
        assert "sts-id-unchanged" in check_domain(
            "valid.test", options, previous_policy=PolicySnapshot(id="20240101T000000", text=changed_text)
        ).codes(), changed_text


# --------------------------------------------------------------------------- MX and DANE


def test_dane_records(checked: Checked) -> None:
    result = checked("dane.test")
    by_mx = {t.mx: t for t in result.tlsa}
    assert sorted(r.text for r in by_mx["mx1.dane.test"].records)[0].startswith("3 1 1 20852dd3")
    assert [r.usable for r in by_mx["mx1.dane.test"].records] == [True, True]
    mx2 = sorted(by_mx["mx2.dane.test"].records, key=lambda r: r.text)  # RRsets are unordered
    assert [r.text.split()[:3] for r in mx2] == [
        ["1", "0", "1"], ["2", "0", "0"], ["3", "1", "1"], ["4", "1", "1"]
    ]
    assert mx2[2].data == bytes.fromhex("abcd")
    assert by_mx["mx3.dane.test"].records == []
    codes = result.codes()
    assert {
        "dane-tlsa-data-invalid", "dane-tlsa-unknown-parameter", "dane-tlsa-pkix-usage",
        "dane-ta-full", "dane-tlsa-not-recommended", "dane-tlsa-insecure", "dane-mx-insecure",
        "dane-mx-address-insecure", "dane-tlsa-missing", "dane-mx-tlsrpt-missing",
        "dane-mx-tlsrpt-invalid", "dane-and-sts", "dnssec-unvalidated",
    } <= codes
    assert "dane-not-used" not in codes
    assert only(result, "dane-tlsa-data-invalid").subject == "_25._tcp.mx2.dane.test"
    assert "2 bytes" in only(result, "dane-tlsa-data-invalid").message
    assert only(result, "dane-tlsa-missing").subject == "_25._tcp.mx3.dane.test"
    assert only(result, "dane-mx-tlsrpt-missing").subject == "_smtp._tls.mx1.dane.test"
    assert only(result, "dane-mx-tlsrpt-invalid").subject == "_smtp._tls.mx2.dane.test"
    assert {f.subject for f in find(result, "dane-tlsa-insecure")} == {
        "_25._tcp.mx1.dane.test", "_25._tcp.mx2.dane.test"
    }
    missing = only(result, "tlsrpt-missing")  # the domain uses MTA-STS too: that finding warns
    assert missing.severity == "info" and "MTA-STS and DANE" in missing.message
    assert only(result, "sts-without-tlsrpt").severity == "warning"
    rpt3 = by_mx["mx3.dane.test"].tlsrpt
    assert rpt3 is not None and rpt3.valid


def test_no_mx(checked: Checked) -> None:
    result = checked("nomx.test")
    assert only(result, "mx-missing").severity == "warning"
    assert result.mx.hosts == [] and result.tlsa == []


def test_null_mx(checked: Checked) -> None:
    result = checked("nullmx.test")
    assert only(result, "mx-null").severity == "info"
    assert result.mx.null_mx and result.mx.hosts == []


def test_mx_host_without_address(checked: Checked) -> None:
    assert only(checked("mxnoaddr.test"), "mx-host-unresolved").subject == "ghost.mxnoaddr.test"


def test_tlsa_lookup_failure(checked: Checked) -> None:
    result = checked("tlsafail.test")
    finding = only(result, "dane-tlsa-lookup-failed")
    assert finding.subject == "_25._tcp.mx.unserved.invalid" and "REFUSED" in finding.message
    assert only(result, "mx-host-unresolved").severity == "warning"
    assert "dane-not-used" not in result.codes()  # unknown, not absent


def test_lookup_failures_are_warnings_not_missing(checked: Checked) -> None:
    result = checked("outside.invalid")  # not served: the server answers REFUSED
    assert result.codes() == {"tlsrpt-lookup-failed", "sts-txt-lookup-failed", "mx-lookup-failed"}
    assert "REFUSED" in only(result, "mx-lookup-failed").message


def test_a_failed_lookup_is_unknown_never_absent(checked: Checked) -> None:
    """A record whose lookup failed may exist: no finding says it is missing, and what
    can still be checked is."""
    sts = checked("stsfail.test")  # the MTA-STS TXT lookup fails; the policy is served
    assert "sts-txt-lookup-failed" in sts.codes() and "sts-policy-without-txt" not in sts.codes()
    assert sts.mta_sts.policy is not None and sts.mta_sts.policy.valid
    rpt = checked("rptfail.test")  # MTA-STS in use; the TLS-RPT lookup fails
    assert "tlsrpt-lookup-failed" in rpt.codes()
    assert not {"sts-without-tlsrpt", "tlsrpt-missing"} & rpt.codes()
    rua = checked("ruafail.test")  # the rua's mail domain cannot be looked up
    finding = only(rua, "tlsrpt-rua-unreachable")
    assert finding.message.startswith("Whether reports to mailto:r@elsewhere.invalid can be delivered is unknown")
    assert "REFUSED" in finding.message and "Publish an MX" not in finding.message
    assert rua.tlsrpt.rua[0].reachable is None


def test_every_issue_code_is_produced_by_some_world_domain(checked: Checked) -> None:
    domains = [
        "valid.test", "bare.test", "multi.test", "syntax.test", "norua.test", "badrua.test",
        "unreach.test", "badid.test", "nohost.test", "redirect.test", "badpolicy.test",
        "notcovered.test", "testing.test", "stsonly.test",
    ]
    seen = set().union(*(checked(d).codes() for d in domains))
    assert seen >= REQUIRED_CODES, REQUIRED_CODES - seen


# --------------------------------------------------------------------------- options, API


def test_trust_comes_from_cafile_or_the_system_store(
    dns_world: DnsWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_ca = check_domain(
        "valid.test", dns_world.options(ssl_context=None, cafile=str(dns_world.pki.cafile))
    )
    assert "sts-policy-certificate" not in with_ca.codes()
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    system = check_domain("valid.test", dns_world.options(ssl_context=None))
    assert "is not valid" in only(system, "sts-policy-certificate").message
    monkeypatch.setenv("SSL_CERT_FILE", str(dns_world.pki.cafile))
    via_env = check_domain("valid.test", dns_world.options(ssl_context=None))
    assert "sts-policy-certificate" not in via_env.codes()


def test_dnssec_off_reports_no_ad_findings(dns_world: DnsWorld) -> None:
    result = check_domain("dane.test", dns_world.options(dnssec=False))
    assert not {"dnssec-unvalidated", "dane-tlsa-insecure", "dane-mx-insecure"} & result.codes()
    assert "dane-tlsa-unknown-parameter" in result.codes()


def test_rua_probing_can_be_turned_off(dns_world: DnsWorld) -> None:
    result = check_domain("unreach.test", dns_world.options(probe_rua=False))
    assert "tlsrpt-rua-unreachable" not in result.codes()
    assert all(r.reachable is None for r in result.tlsrpt.rua)


def test_cancel_with_an_event(dns_world: DnsWorld) -> None:
    event = threading.Event()
    event.set()
    with pytest.raises(CheckCancelled):
        check_domain("valid.test", dns_world.options(), cancel=event)


def test_cancel_midway_and_progress(dns_world: DnsWorld) -> None:
    steps: list[str] = []
    with pytest.raises(CheckCancelled):
        check_domain(
            "valid.test", dns_world.options(), cancel=lambda: len(steps) >= 3,
            progress=steps.append,
        )
    assert steps == ["TLS-RPT record", "MTA-STS record", "MTA-STS policy host"]
    steps.clear()
    check_domain("valid.test", dns_world.options(), progress=steps.append)
    assert "MTA-STS policy" in steps and steps[-1] == "summary"


def test_check_in_a_worker_thread(dns_world: DnsWorld) -> None:
    results: list[CheckResult] = []
    thread = threading.Thread(
        target=lambda: results.append(check_domain("cname.test", dns_world.options()))
    )
    thread.start()
    thread.join(30)
    assert results and results[0].mta_sts.id == "cname1"


@pytest.mark.parametrize("domain", ["", "bad domain.test", "a..b", "x" * 64 + ".test"])
def test_invalid_domain_is_a_value_error(domain: str) -> None:
    with pytest.raises(ValueError):
        check_domain(domain, CheckOptions(nameserver="127.0.0.1", port=9))


def test_unicode_domain_becomes_a_labels() -> None:
    assert normalize_domain("Bücher.Example.") == "xn--bcher-kva.example"


def test_missing_cafile_is_a_value_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="CA file"):
        check_domain("valid.test", CheckOptions(nameserver="127.0.0.1", port=9,
                                                cafile=str(tmp_path / "none.pem")))


def test_domain_is_normalised(dns_world: DnsWorld) -> None:
    result = check_domain("VALID.test.", dns_world.options())
    assert result.domain == "valid.test"
    assert result.tlsrpt.name == "_smtp._tls.valid.test"
