"""Property-based fuzzing of everything a stranger controls.

Sources (mail, mbox, Maildir, zip, gzip) must never raise and must yield sane
items; the DNS record parsers and the MTA-STS policy parser must never raise
and must only produce catalogued findings. Crashers found here are kept as
explicit examples (``@example``) so they stay regression tests.
"""

from __future__ import annotations

import base64
import gzip
import io
import json
import os
import quopri
import tempfile
import time
import warnings
import zipfile
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.core.conftest import make_report
from tests.security.conftest import CORPUS, has_control_chars
from tlsrpt_gui.core.dns.findings import CATALOGUE
from tlsrpt_gui.core.dns.policy import mx_matches, parse_policy
from tlsrpt_gui.core.dns.records import (
    check_tlsa,
    decode_txt_strings,
    parse_rua_uri,
    parse_sts_txt,
    parse_tlsa_text,
    parse_tlsrpt,
)
from tlsrpt_gui.core.report import ReportParseError, parse_report_bytes
from tlsrpt_gui.core.sources import Limits, SourceItem, expand_paths, read_bytes, read_source

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
REPORT = json.dumps(make_report()).encode()
SMALL = Limits(max_input_bytes=256 * 1024, max_payload_bytes=256 * 1024)


def check(items: list[SourceItem]) -> None:
    assert items
    for item in items:
        assert item.outcome in ("payload", "skipped", "failed")
        assert (item.data is not None) == (item.outcome == "payload")
        # control characters: test_reasons_carry_no_control_characters; length: test_zip_reasons_are_short
        if item.outcome == "payload":
            assert item.data is not None and len(item.data) <= SMALL.max_payload_bytes
            try:
                parse_report_bytes(item.data, item.hint)
            except ReportParseError as exc:
                assert str(exc)


# --------------------------------------------------------------------------- mail

header_text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40)
ctypes = st.sampled_from(["application/tlsrpt+gzip", "application/tlsrpt+json", "application/gzip", "application/json",
                          "application/octet-stream", "application/zip", "text/plain", "multipart/mixed", "message/rfc822",
                          "text/xml", "application/x-garbage", "", "/", "multipart/", "a/b; charset=\"x-nope\""])
ctes = st.sampled_from(["base64", "quoted-printable", "7bit", "8bit", "binary", "x-uuencode", "", "BASE64 ", "base64; x"])
bodies = st.one_of(
    st.binary(max_size=300),
    st.just(REPORT),
    st.just(gzip.compress(REPORT)),
    st.binary(max_size=200).map(lambda b: gzip.compress(REPORT)[: len(b)]),
    st.binary(max_size=100).map(lambda b: REPORT.replace(b"{", b, 1)),
)


def encode(body: bytes, cte: str, mangle: int) -> bytes:
    c = cte.strip().lower()
    out = base64.encodebytes(body) if c.startswith("base64") else quopri.encodestring(body) if c == "quoted-printable" else body
    if mangle and out:
        i = mangle % len(out)
        out = out[:i] + b"=!\x00\xff"[mangle % 4 : mangle % 4 + 1] + out[i + 1 :]
    return out


@st.composite
def mails(draw: st.DrawFn, depth: int = 0) -> bytes:
    headers = [f"From: {draw(header_text)}", f"Subject: {draw(header_text)}"]
    for _ in range(draw(st.integers(0, 3))):
        headers.append(f"{draw(st.sampled_from(['TLS-Report-Domain', 'TLS-Report-Submitter', 'X-A', 'Content-Disposition', 'MIME-Version']))}: {draw(header_text)}")
    if depth < 3 and draw(st.booleans()):
        boundary = draw(st.text("abcXYZ019'()+_,-./:=? ", min_size=0, max_size=20))
        headers.append(f'Content-Type: multipart/{draw(st.sampled_from(["mixed", "report; report-type=tlsrpt", "alternative"]))}; boundary="{boundary}"')
        parts = draw(st.lists(mails(depth + 1), max_size=3))
        body = b"".join(b"--" + boundary.encode() + b"\r\n" + p + b"\r\n" for p in parts)
        if draw(st.booleans()):
            body += b"--" + boundary.encode() + b"--\r\n"
    else:
        cte = draw(ctes)
        name = draw(st.one_of(st.none(), header_text, st.just("r.json.gz")))
        headers.append(f"Content-Type: {draw(ctypes)}")
        headers.append(f"Content-Transfer-Encoding: {cte}")
        if name is not None:
            form = draw(st.sampled_from(['filename="{}"', "filename*=utf-8''{}", "filename*0*=x-bad''{}", "name={}"]))
            headers.append("Content-Disposition: attachment; " + form.format(name))
        body = encode(draw(bodies), cte, draw(st.integers(0, 5)))
    text = "\r\n".join(headers).encode("utf-8", "surrogateescape")
    return text + b"\r\n\r\n" + body


@FUZZ
@given(mails())
@example(b"From: a\r\nContent-Type: multipart/mixed; boundary=\"\"\r\n\r\n--\r\n\r\n")
@example(b"Content-Type: a/b; charset=\"x-nope\"\r\nSubject: =?x-nope?q?=1b?=\r\n\r\n{}")
def test_fuzzed_mails(data: bytes) -> None:
    check(list(read_bytes("m.eml", "", data, SMALL)))


@FUZZ
@given(st.data())
def test_mutated_corpus_mails(data: st.DataObject) -> None:
    files = sorted((CORPUS / "eml").iterdir())
    raw = bytearray(data.draw(st.sampled_from(files)).read_bytes())
    for _ in range(data.draw(st.integers(1, 20))):
        op = data.draw(st.integers(0, 2))
        pos = data.draw(st.integers(0, max(0, len(raw) - 1)))
        if op == 0 and raw:
            raw[pos] = data.draw(st.integers(0, 255))
        elif op == 1:
            raw[pos:pos] = data.draw(st.sampled_from([b"\r\n", b"--", b"=", b"\x00", b"\r\n\r\n", b"Content-Type: multipart/mixed; boundary=x\r\n"]))
        else:
            del raw[pos : pos + data.draw(st.integers(1, 200))]
    check(list(read_bytes("m.eml", "", bytes(raw), SMALL)))


# --------------------------------------------------------------------------- mbox, gzip, zip


@FUZZ
@given(st.lists(st.one_of(mails(), st.binary(max_size=200)), min_size=0, max_size=5),
       st.sampled_from([b"\n", b"\r\n"]), st.booleans())
def test_fuzzed_mbox(messages: list[bytes], eol: bytes, blank: bool) -> None:
    sep = b"From x@y Mon Jan  1 00:00:00 2024" + eol
    data = sep + (eol if blank else b"").join(m.replace(b"\r\n", eol) + eol + (eol + sep if i < len(messages) - 1 else b"")
                                             for i, m in enumerate(messages))
    check(list(read_bytes("box.mbox", "", data, SMALL)))
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "box.mbox")
        Path(p).write_bytes(data)
        check(list(read_source(p, SMALL)))


@FUZZ
@given(st.binary(max_size=2000), st.integers(0, 3000), st.binary(max_size=50), st.integers(1, 3))
@example(b"", 0, b"\x1f\x8b", 2)
def test_fuzzed_gzip(payload: bytes, cut: int, trailer: bytes, members: int) -> None:
    data = b"".join(gzip.compress(payload or REPORT) for _ in range(members))
    data = data[: cut or len(data)] + trailer
    check(list(read_bytes("g.json.gz", "", data, SMALL)))


# An empty member name crashes the zip reader (bug 8): kept apart in
# test_zip_member_with_an_empty_name so that this test keeps finding other crashers.
names = st.one_of(
    st.text(min_size=1, max_size=40),
    st.sampled_from(["../x.json", "../../../../tmp/pwn.json", "/abs.json", "C:\\w.json", "a/./../b.json", "\x1b[2J.json", "dir/"]),
)


@FUZZ
@given(st.lists(st.tuples(names, st.one_of(st.just(REPORT), st.just(gzip.compress(REPORT)), st.binary(max_size=100))), max_size=6),
       st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]), st.integers(0, 10_000), st.integers(0, 255))
def test_fuzzed_zip(members: list[tuple[str, bytes]], method: int, flip: int, value: int) -> None:
    buf = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buf, "w", method) as zf:
        warnings.simplefilter("ignore")  # duplicate names are part of the attack
        for name, content in members:
            info = zipfile.ZipInfo("x")
            info.filename = name  # as sent, without zipfile's cleaning
            try:
                zf.writestr(info, content)
            except (IndexError, ValueError):  # zipfile cannot even write this name
                continue
    raw = bytearray(buf.getvalue())
    if flip and len(raw) > 4:
        raw[4 + flip % (len(raw) - 4)] = value
    with tempfile.TemporaryDirectory() as d:
        cwd = os.getcwd()
        os.chdir(d)
        try:
            check(list(read_bytes("a.zip", "", bytes(raw), SMALL)))
        except NotImplementedError:  # bug 10, kept in test_zip_with_an_unsupported_version; remove once fixed
            pass
        finally:
            os.chdir(cwd)
        assert os.listdir(d) == []  # nothing was extracted


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(["cur", "new", "tmp", ".hidden", "cur/sub"]),
                          st.text(st.characters(exclude_characters="/\x00", exclude_categories=["Cs"]), min_size=1, max_size=30),
                          st.one_of(mails(), st.binary(max_size=100))), max_size=8))
def test_fuzzed_maildir(entries: list[tuple[str, str, bytes]]) -> None:
    with tempfile.TemporaryDirectory() as d:
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(d, sub), exist_ok=True)
        for sub, name, content in entries:
            folder = os.path.join(d, sub)
            os.makedirs(folder, exist_ok=True)
            if name in (".", ".."):
                continue
            try:
                Path(folder, name).write_bytes(content)
            except OSError:  # a name the file system refuses
                continue
        for path, problem in expand_paths([d]):
            assert "/tmp/" not in path[len(d):] or problem is not None
            if problem is None:
                check(list(read_source(path, SMALL)))


# --------------------------------------------------------------------------- DNS records and policy

txt = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=300)
tlsrpt_like = st.lists(st.sampled_from(["v=TLSRPTv1", "v=TLSRPTv1 ", "rua=", "mailto:", "https://", "a@b.example", ",", ";", " ",
                                        "%", "%2C", "!", "=", "rua", "x=y", "\t", "[::1]", ":443", "@", "\"", "\\", "é"]), max_size=30).map("".join)
sts_like = st.lists(st.sampled_from(["v=STSv1", "v=STSv1 ", "id=", "20240101", ";", " ", "=", "x", "id", "\x00", "é", "v=stsv1"]), max_size=30).map("".join)
policy_like = st.lists(st.sampled_from(["version: STSv1", "mode: enforce", "mode: testing", "max_age: 86400", "max_age: 99999999999",
                                        "mx: *.example.com", "mx: *.", "mx: *", "mx: a..b", "mx: " + "a" * 300, "x", ":", "mx:",
                                        "\r", "\n", "\r\n", " ", "\x00", "é", "#comment", "MODE: none"]), max_size=40).map("".join)


def check_findings(findings: list, to_dict: object) -> None:  # type: ignore[type-arg]
    for f in findings:
        assert f.code in CATALOGUE, f.code
        assert f.severity in CATALOGUE[f.code].severities
    json.dumps(to_dict)


@FUZZ
@given(st.one_of(txt, tlsrpt_like))
@example("v=TLSRPTv1;rua=mailto:" + "a," * 5000)
@example("v=TLSRPTv1;rua=https://[::1" + "]" * 100)
def test_fuzzed_tlsrpt_records(text: str) -> None:
    rec = parse_tlsrpt(text)
    check_findings(rec.findings, rec.to_dict())
    for part in text.split(","):
        uri, findings = parse_rua_uri(part, "s")
        check_findings(findings, uri.to_dict())


@FUZZ
@given(st.one_of(txt, sts_like))
def test_fuzzed_sts_records(text: str) -> None:
    rec = parse_sts_txt(text)
    check_findings(rec.findings, rec.to_dict())


@FUZZ
@given(st.one_of(st.binary(max_size=500), policy_like.map(lambda s: s.encode())))
@example(b"\xff\xfe" + "mode: enforce".encode("utf-16-le"))
def test_fuzzed_policies(body: bytes) -> None:
    pol = parse_policy(body, "https://mta-sts.example.com/.well-known/mta-sts.txt")
    check_findings(pol.findings, pol.to_dict())
    for pattern in pol.mx:
        mx_matches("mx1.example.com", pattern)


@FUZZ
@given(st.integers(0, 255), st.integers(0, 255), st.integers(0, 255), st.binary(max_size=100), txt)
def test_fuzzed_tlsa(usage: int, selector: int, mtype: int, data: bytes, text: str) -> None:
    rec = check_tlsa(usage, selector, mtype, data, "_25._tcp.mx.example.com")
    check_findings(rec.findings, rec.to_dict())
    try:
        parse_tlsa_text(text)
    except ValueError as exc:
        assert str(exc)


def test_64k_multi_string_txt_records_parse_quickly() -> None:
    """DNS answers with huge TXT records: 256 strings of 255 bytes (64 KiB)."""
    cases = [
        [b"v=TLSRPTv1;rua=mailto:" + b"a" * 230 + b"@example.com,"] + [b"mailto:" + b"b" * 235 + b"@example.com,"] * 255,
        [b"v=TLSRPTv1;"] + [b";" * 255] * 255,
        [b"v=STSv1; id="] + [b"a" * 255] * 255,
        [b"v=STSv1;"] + [b" x=y;" * 51] * 255,
        [bytes(range(256))[i % 256 :] [:255] for i in range(256)],
    ]
    for strings in cases:
        t = time.monotonic()
        raw, text = decode_txt_strings(strings)
        assert len(raw) == len(strings)
        for rec in (parse_tlsrpt(text), parse_sts_txt(text)):
            check_findings(rec.findings, rec.to_dict())
        assert time.monotonic() - t < 2


def test_64k_policy_and_pathological_lines_parse_quickly() -> None:
    for body in (b"version: STSv1\nmode: enforce\nmax_age: 86400\n" + b"mx: *.a.example\n" * 4000,
                 b"mx: " + b"a." * 32000 + b"\n", b"\n" * 65536, b"\r" * 65536, b":" * 65536, b"mx:" + b" " * 65530 + b"x"):
        t = time.monotonic()
        pol = parse_policy(body)
        check_findings(pol.findings, pol.to_dict())
        assert time.monotonic() - t < 2


def test_reasons_carry_no_control_characters() -> None:
    """Reasons are stored in the index and shown in the import log: no ESC, BEL or bidi controls."""
    data = b"From: a@b.example\r\nSubject: \x1b]0;owned\x07\x1b[31mred =?utf-8?q?=E2=80=AE?=\r\n\r\nhello\r\n"
    (item,) = read_bytes("m.eml", "", data)
    assert item.outcome == "skipped"
    assert not has_control_chars(item.reason) and "\u202e" not in item.reason, repr(item.reason)


def test_zip_member_with_an_empty_name() -> None:
    from tests.security.test_limits import _stored_zip

    data = _stored_zip([b"", b"good.json"], REPORT)
    items = list(read_bytes("a.zip", "", data, SMALL))
    check(items)
    # the archive is read on: the nameless member too, shown under a placeholder name
    assert [i.member for i in items if i.outcome == "payload"] == ["(unnamed)", "good.json"]


def test_tlsa_text_parser_is_linear() -> None:
    t = time.monotonic()
    rec = parse_tlsa_text("3 1 1 ab" + " " * 20_000 + "cd")
    assert rec.data == bytes.fromhex("abcd")
    assert time.monotonic() - t < 0.5


def test_zip_with_an_unsupported_version() -> None:
    from tests.security.test_limits import _stored_zip

    items = list(read_bytes("a.zip", "", _stored_zip([b"r.json"], REPORT, version=64), SMALL))
    check(items)
    assert items[0].outcome == "failed"


def test_zip_reasons_are_short() -> None:
    from tests.security.test_limits import _stored_zip

    data = _stored_zip([b"a" * 60_000 + b".json"], REPORT, local_names=[b"b" * 60_000 + b".json"])
    items = list(read_bytes("a.zip", "", data, SMALL))
    check(items)
    assert items[0].outcome == "failed" and len(items[0].reason) < 600, len(items[0].reason)
