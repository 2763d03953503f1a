"""Malformed MIME, charset tricks, mailboxes and Maildirs: read what can be read, refuse the rest.

Every case must end with items whose reasons are short plain text; where the
report inside is still recoverable it must be found.
"""

from __future__ import annotations

import base64
import gzip
import json
import time
from pathlib import Path

import pytest

from tests.core.conftest import make_report
from tests.security.conftest import has_control_chars
from tlsrpt_gui.core.index import Index
from tlsrpt_gui.core.sources import SourceItem, read_bytes, read_source

REPORT = json.dumps(make_report()).encode()
B64 = base64.encodebytes(gzip.compress(REPORT))


def sane(items: list[SourceItem]) -> list[SourceItem]:
    assert items, "every input yields at least one item"
    for item in items:
        assert item.outcome in ("payload", "skipped", "failed")
        assert (item.data is not None) == (item.outcome == "payload")
        assert len(item.reason) < 400 and not has_control_chars(item.reason), item.reason
        assert not has_control_chars(item.member), item.member
    return items


def mail(headers: str, body: bytes) -> bytes:
    return b"From: r@reporter.example\r\nSubject: Report Domain: example.com\r\n" + headers.encode() + b"\r\n" + body


def payloads(items: list[SourceItem]) -> list[SourceItem]:
    return [i for i in items if i.outcome == "payload"]


ATTACH = "Content-Type: application/tlsrpt+gzip\r\nContent-Transfer-Encoding: base64\r\n"


@pytest.mark.parametrize(
    ("headers", "body", "found"),
    [
        pytest.param(ATTACH + 'Content-Disposition: attachment; filename*=x-no-such-charset\'\'r%FF%FE.json.gz\r\n', B64, 1, id="rfc2231-unknown-charset"),
        pytest.param(ATTACH + "Content-Disposition: attachment; filename*0*=utf-8''%E2%80%AE%1B[31m;\r\n filename*1=\"evil.json.gz\"\r\n", B64, 1, id="rfc2231-continuation-bidi-escape"),
        pytest.param(ATTACH + "Content-Disposition: attachment; filename=\"=?x-unknown?B?AAAA?= =?utf-8?Q?=1B=5B31m?=.json.gz\"\r\n", B64, 1, id="rfc2047-bad-charset-escape"),
        pytest.param("Content-Type: application/tlsrpt+json; charset=x-made-up\r\n", REPORT, 1, id="unknown-part-charset"),
        pytest.param("Content-Type: application/tlsrpt+json; charset=utf-7\r\nContent-Transfer-Encoding: quoted-printable\r\n", REPORT.replace(b'"', b"=22").replace(b"{", b"=7B"), 1, id="qp-json"),
        pytest.param("Content-Type: application/tlsrpt+json\r\nContent-Transfer-Encoding: quoted-printable\r\n", b"=ZZ=\r\n=4" + REPORT, 0, id="broken-qp"),
        pytest.param(ATTACH, B64.replace(b"A", b"!", 3), 0, id="base64-with-bad-chars"),
        pytest.param(ATTACH, B64.rstrip(b"=\n")[:-1], 0, id="base64-bad-padding"),
        pytest.param(ATTACH, b"====\r\n" * 1000, 0, id="base64-only-padding"),
        pytest.param("Content-Type: application/tlsrpt+gzip\r\nContent-Transfer-Encoding: x-uuencode\r\n", gzip.compress(REPORT), 1, id="unknown-transfer-encoding"),
        pytest.param("Content-Type: application/tlsrpt+json\r\nX-Long: " + "a" * 1_000_000 + "\r\n", REPORT, 1, id="1MB-header-line"),
        pytest.param("Content-Type: application/tlsrpt+json\r\nContent-Type: text/html\r\n", REPORT, 1, id="two-content-types"),
        pytest.param("Content-Type: \r\n", REPORT, 0, id="empty-content-type"),
        pytest.param("Content-Type: application/tlsrpt+gzip\r\nContent-Transfer-Encoding: base64\r\n", base64.encodebytes(b"\x1f\x8b" + b"\0" * 100), 0, id="base64-of-corrupt-gzip"),
    ],
)
def test_malformed_single_part_mails(headers: str, body: bytes, found: int) -> None:
    items = sane(list(read_bytes("m.eml", "", mail(headers, body))))
    assert len(payloads(items)) == found, [(i.outcome, i.reason) for i in items]


def multipart(boundary: str, parts: list[bytes], *, close: bool = True, report_type: str = "tlsrpt") -> bytes:
    body = b"".join(b"--" + boundary.encode() + b"\r\n" + p + b"\r\n" for p in parts)
    if close:
        body += b"--" + boundary.encode() + b"--\r\n"
    return mail(f'MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type={report_type}; boundary="{boundary}"\r\n', body)


GZ_PART = (ATTACH + 'Content-Disposition: attachment; filename="a!example.com!1!2.json.gz"\r\n\r\n').encode() + B64


def test_boundary_that_never_closes_still_yields_the_report() -> None:
    items = sane(list(read_bytes("m.eml", "", multipart("b1", [b"Content-Type: text/plain\r\n\r\nhello", GZ_PART], close=False))))
    assert len(payloads(items)) == 1


def test_boundary_that_never_appears() -> None:
    data = mail('Content-Type: multipart/report; report-type=tlsrpt; boundary="nowhere"\r\n', B64)
    items = sane(list(read_bytes("m.eml", "", data)))
    assert payloads(items) == [] and items[0].outcome == "failed" and "report-type=tlsrpt" in items[0].reason


def test_boundary_inside_the_base64_and_empty_boundary() -> None:
    sane(list(read_bytes("m.eml", "", multipart("AAAA", [GZ_PART]))))
    sane(list(read_bytes("m.eml", "", multipart("", [GZ_PART]))))


def test_ten_thousand_parts_are_capped() -> None:
    t = time.monotonic()
    items = sane(list(read_bytes("m.eml", "", multipart("p", [b"Content-Type: text/plain\r\n\r\nx"] * 10_000))))
    assert any("more than 200 parts" in i.reason for i in items)
    assert time.monotonic() - t < 10


def nested(depth: int, leaf: bytes) -> bytes:
    """A mail whose report sits inside *depth* nested multipart/mixed parts."""
    head = b"--n0\r\n" + b"".join(b'Content-Type: multipart/mixed; boundary="n%d"\r\n\r\n--n%d\r\n' % (i, i) for i in range(1, depth))
    tail = b"".join(b"\r\n--n%d--" % i for i in reversed(range(depth)))
    return mail('MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="n0"\r\n', head + leaf + tail + b"\r\n")


@pytest.mark.parametrize("depth", [50, 900, 1000, 5000])
def test_multiparts_nested_deep(depth: int) -> None:
    t = time.monotonic()
    items = sane(list(read_bytes("m.eml", "", nested(depth, GZ_PART))))
    assert time.monotonic() - t < 20
    if depth <= 900:
        assert len(payloads(items)) == 1
    else:  # the stdlib parser's recursion limit: refused with a reason, never raised
        assert items[0].outcome == "failed"


def test_deep_mail_in_an_mbox_does_not_stop_the_rest(tmp_path: Path) -> None:
    """A message that overflows the parser's recursion must not lose the next messages."""
    other = json.dumps(make_report(report_id="second")).encode()
    msgs = [nested(d, GZ_PART).replace(b"\r\n", b"\n") for d in (900, 960, 990, 1500)]
    msgs.append(b"From: a@b.example\nSubject: s\nContent-Type: application/tlsrpt+json\n\n" + other + b"\n")
    box = tmp_path / "box.mbox"
    box.write_bytes(b"".join(b"From x@y Mon Jan  1 00:00:00 2024\n" + m + b"\n" for m in msgs))
    with Index(tmp_path / "i.db") as ix:
        r = ix.import_paths([box], workers=1)
        ids = {rid for (rid,) in ix.conn.execute("SELECT report_id FROM reports")}
    assert "second" in ids, r.failed
    assert all(not has_control_chars(reason) for _, reason in r.failed)


def test_mbox_tricks(tmp_path: Path) -> None:
    rep = lambda i: json.dumps(make_report(report_id=f"m{i}")).encode()  # noqa: E731
    msg = lambda i: b"From: a@b.example\nSubject: s\nContent-Type: application/tlsrpt+json\n\n" + rep(i) + b"\n"  # noqa: E731
    box = (b"From x@y Mon Jan  1 00:00:00 2024\n" + msg(1)
           + b"\nFrom embedded in body without blank line\n"  # a From line that is body text
           + b"\n>From quoted\n\nFrom y@z Tue Jan  2 00:00:00 2024\r\n" + msg(2).replace(b"\n", b"\r\n")
           + b"\nFrom z@z Wed Jan  3 00:00:00 2024\n"  # an empty message
           + b"\nFrom q@q Thu Jan  4 00:00:00 2024\n\x00\x01binary garbage\xff\xfe\n")
    p = tmp_path / "tricky.mbox"
    p.write_bytes(box)
    items = sane(list(read_source(str(p))))
    assert len(payloads(items)) == 2


def test_maildir_with_odd_entries(tmp_path: Path) -> None:
    md = tmp_path / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (md / sub).mkdir(parents=True)
    (md / "new" / "1.host:2,S").write_bytes(mail("Content-Type: application/tlsrpt+json\r\n", REPORT))
    (md / "cur" / "2.host:2,").write_bytes(b"\x00" * 100)
    (md / "cur" / ".hidden").write_bytes(b"x")
    (md / "tmp" / "3.partial").write_bytes(mail("Content-Type: application/tlsrpt+json\r\n", REPORT[:50]))
    (md / "cur" / "4.link").symlink_to("/dev/zero")
    (md / "cur" / "5.loop").symlink_to(md / "cur" / "5.loop")
    (md / "cur" / "6.dir").mkdir()
    t = time.monotonic()
    with Index(tmp_path / "i.db") as ix:
        r = ix.import_paths([md], workers=1)
    assert time.monotonic() - t < 10
    assert r.imported == 1
    assert all(not has_control_chars(reason) for _, reason in r.failed + r.skipped)
