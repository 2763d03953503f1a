"""Inputs recognised by content: json, gzip, zip, mail, mbox and Maildir, with caps."""

from __future__ import annotations

import gzip
import io
import json
import zipfile
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.core.conftest import make_report, write_gz, write_json
from tlsrpt_gui.core.report import parse_report_bytes
from tlsrpt_gui.core.sources import (
    HIDDEN_FILE,
    HIDDEN_FOLDER,
    FileList,
    Limits,
    SourceItem,
    collect_paths,
    expand_paths,
    gunzip_bounded,
    read_bytes,
    read_source,
)

DOC = make_report(report_id="src-1")
RAW = json.dumps(DOC).encode()


def items(path: Path, limits: Limits | None = None) -> list[SourceItem]:
    return list(read_source(str(path), limits or Limits()))


def only_payload(path: Path) -> SourceItem:
    got = items(path)
    assert [i.outcome for i in got] == ["payload"], [(i.outcome, i.reason) for i in got]
    return got[0]


def tls_mail(
    payload: bytes,
    *,
    ctype: str = "application/tlsrpt+gzip",
    filename: str | None = "google.com!example.com!1714521600!1714607999!001.json.gz",
    cte: str = "base64",
    report_type: bool = True,
    headers: bool = True,
) -> bytes:
    msg = EmailMessage()
    msg["From"] = "noreply-smtp-tls-reporting@google.com"
    msg["To"] = "tlsrpt@example.com"
    msg["Subject"] = "Report Domain: example.com Submitter: google.com Report-ID: <x@google.com>"
    if headers:
        msg["TLS-Report-Domain"] = "example.com"
        msg["TLS-Report-Submitter"] = "google.com"
    msg.set_content("This is an aggregate TLS report from google.com")
    maintype, subtype = ctype.split("/")
    msg.add_attachment(payload, maintype=maintype, subtype=subtype, filename=filename, cte=cte)
    if report_type:
        msg.replace_header("Content-Type", msg["Content-Type"].replace("multipart/mixed", "multipart/report").rstrip() + '; report-type="tlsrpt"')
    return bytes(msg)


def test_json_file(tmp_path: Path) -> None:
    item = only_payload(write_json(tmp_path / "a.json", DOC))
    assert parse_report_bytes(item.data or b"").report_id == "src-1"
    assert item.size == len(item.data or b"") and len(item.sha256) == 64


def test_json_recognised_without_extension(tmp_path: Path) -> None:
    p = tmp_path / "report"
    p.write_bytes(RAW)
    assert only_payload(p).data == RAW


def test_gzip_by_content_and_stray_bytes(tmp_path: Path) -> None:
    p = tmp_path / "weird.bin"
    p.write_bytes(gzip.compress(RAW) + b"\r\n--boundary--\r\n")
    item = only_payload(p)
    assert item.data == RAW
    assert any(n.code == "gzip-trailing-bytes" for n in item.hint.transport_notes)


def test_gzip_json_gz_and_gz(tmp_path: Path) -> None:
    assert only_payload(write_gz(tmp_path / "a.json.gz", DOC)).data == RAW
    assert only_payload(write_gz(tmp_path / "b.gz", DOC)).data == RAW


@pytest.mark.parametrize("name, data, limits", [
    ("clean", gzip.compress(RAW), Limits()),
    ("array", gzip.compress(b"[]"), Limits()),
    ("bom", gzip.compress(b"\xef\xbb\xbf" + RAW), Limits()),
    ("white space first", gzip.compress(b"  \n" + RAW), Limits()),
    ("stray bytes after", gzip.compress(RAW) + b"junk", Limits()),
    ("two members", gzip.compress(RAW[:40]) + gzip.compress(RAW[40:]), Limits()),
    ("truncated", gzip.compress(RAW)[:-12], Limits()),
    ("corrupt", gzip.compress(RAW)[:10] + b"\xff" * 40, Limits()),
    ("over the payload cap", gzip.compress(RAW), Limits(max_payload_bytes=len(RAW) - 1)),
    ("just under it", gzip.compress(RAW), Limits(max_payload_bytes=len(RAW))),
    ("nested too deep", gzip.compress(RAW), Limits(max_nesting=-1)),
    ("xml", gzip.compress(b"<?xml version='1.0'?><feedback/>"), Limits()),
    ("empty", gzip.compress(b""), Limits()),
    ("a zip inside", gzip.compress(b"PK\x05\x06" + b"\x00" * 18), Limits()),
])
def test_a_gzip_file_is_read_as_the_classifier_reads_its_bytes(
    tmp_path: Path, name: str, data: bytes, limits: Limits
) -> None:
    # read_source reads the common file (one clean gzip stream of JSON) without the
    # general classifier: every file must come out as the classifier makes it.
    path = tmp_path / "reporter!example.com!1!2!x.json.gz"
    path.write_bytes(data)
    assert items(path, limits) == list(read_bytes(str(path), "", data, limits))


def test_truncated_gzip_fails(tmp_path: Path) -> None:
    p = tmp_path / "t.json.gz"
    p.write_bytes(gzip.compress(RAW * 50)[:-30])
    (item,) = items(p)
    assert item.outcome == "failed" and "truncated" in item.reason


def test_gunzip_bounded_refuses_bomb_without_inflating_it() -> None:
    bomb = gzip.compress(b"\0" * (50 * 1024 * 1024), compresslevel=9)
    with pytest.raises(Exception, match="cap"):
        gunzip_bounded(bomb, 1024 * 1024)


def test_zip_every_member(tmp_path: Path) -> None:
    p = tmp_path / "reports.zip"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("one.json", json.dumps(make_report(report_id="z1")))
        zf.writestr("dir/two.json.gz", gzip.compress(json.dumps(make_report(report_id="z2")).encode()))
        zf.writestr("../../evil.json", json.dumps(make_report(report_id="z3")))
        zf.writestr("readme.txt", "not a report")
    got = items(p)
    payloads = [i for i in got if i.outcome == "payload"]
    assert sorted(parse_report_bytes(i.data or b"").report_id for i in payloads) == ["z1", "z2", "z3"]
    assert {i.member for i in payloads} == {"one.json", "dir/two.json.gz", "../../evil.json"}
    assert [i.outcome for i in got if i.member == "readme.txt"] == ["skipped"]
    assert not (tmp_path.parent / "evil.json").exists()


def test_zip_member_cap(tmp_path: Path) -> None:
    p = tmp_path / "many.zip"
    with zipfile.ZipFile(p, "w") as zf:
        for n in range(30):
            zf.writestr(f"{n}.json", "{}")
    (item,) = items(p, Limits(max_zip_members=10))
    assert item.outcome == "failed" and "30 members" in item.reason


@pytest.mark.parametrize(
    ("ctype", "cte", "compress", "filename"),
    [
        ("application/tlsrpt+gzip", "base64", True, "g.com!example.com!1!2!001.json.gz"),
        ("application/tlsrpt+json", "quoted-printable", False, "g.com!example.com!1!2!001.json"),
        ("application/tlsrpt+json", "base64", False, None),
        ("application/tlsrpt", "base64", False, "r.json"),
        ("application/gzip", "base64", True, "r.json.gz"),
        ("application/octet-stream", "base64", False, "report.json"),
        ("application/octet-stream", "base64", True, "report.json.gz"),
    ],
)
def test_mail_attachment_kinds(tmp_path: Path, ctype: str, cte: str, compress: bool, filename: str | None) -> None:
    payload = gzip.compress(RAW) if compress else RAW
    p = tmp_path / "m.eml"
    p.write_bytes(tls_mail(payload, ctype=ctype, cte=cte, filename=filename))
    item = only_payload(p)
    assert item.data == RAW
    assert item.hint.header_domain == "example.com" and item.hint.from_mail


def test_qp_json_with_long_lines_and_equals(tmp_path: Path) -> None:
    doc = make_report(report_id="qp=1", org="Ünïcode Reporter " + "x" * 200)
    raw = json.dumps(doc, ensure_ascii=False).encode()
    p = tmp_path / "qp.eml"
    p.write_bytes(tls_mail(raw, ctype="application/tlsrpt+json", cte="quoted-printable", filename="r.json"))
    r = parse_report_bytes(only_payload(p).data or b"")
    assert r.report_id == "qp=1" and r.organization_name.startswith("Ünïcode")


def test_dmarc_mail_is_skipped(tmp_path: Path) -> None:
    msg = EmailMessage()
    msg["From"] = "dmarc@google.com"
    msg["Subject"] = "Report domain: example.com Submitter: google.com Report-ID: 123"
    msg.set_content("DMARC aggregate report")
    xml = b'<?xml version="1.0"?><feedback><report_metadata/></feedback>'
    msg.add_attachment(gzip.compress(xml), maintype="application", subtype="gzip", filename="google.com!example.com!1!2.xml.gz")
    p = tmp_path / "dmarc.eml"
    p.write_bytes(bytes(msg))
    (item,) = items(p)
    assert item.outcome == "skipped" and "DMARC" in item.reason


def test_mail_without_report_is_skipped(tmp_path: Path) -> None:
    msg = EmailMessage()
    msg["From"] = "a@example.com"
    msg["To"] = "b@example.com"
    msg["Subject"] = "Lunch?"
    msg.set_content("Shall we?")
    p = tmp_path / "lunch.eml"
    p.write_bytes(bytes(msg))
    (item,) = items(p)
    assert item.outcome == "skipped" and "carries no TLS report" in item.reason and "Lunch?" in item.reason


def test_mbox_yields_every_message(tmp_path: Path) -> None:
    parts = []
    for n in range(5):
        raw = json.dumps(make_report(report_id=f"mbox-{n}")).encode()
        mail = tls_mail(gzip.compress(raw))
        parts.append(b"From MAILER-DAEMON Mon Jan  1 00:00:00 2024\n" + mail.replace(b"\r\n", b"\n") + b"\n")
    p = tmp_path / "inbox"
    p.write_bytes(b"".join(parts))
    got = items(p)
    assert [i.outcome for i in got] == ["payload"] * 5
    assert [parse_report_bytes(i.data or b"").report_id for i in got] == [f"mbox-{n}" for n in range(5)]
    assert got[3].member.startswith("message 4")


def test_maildir_cur_and_new_not_tmp(tmp_path: Path) -> None:
    md = tmp_path / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (md / sub).mkdir(parents=True)
    (md / "cur" / "1700000000.M1P1.host:2,S").write_bytes(tls_mail(gzip.compress(json.dumps(make_report(report_id="cur")).encode())))
    (md / "new" / "1700000001.M2P2.host").write_bytes(tls_mail(gzip.compress(json.dumps(make_report(report_id="new")).encode())))
    (md / "tmp" / "1700000002.M3P3.host").write_bytes(b"partial deliv")
    files = [p for p, problem in expand_paths([md]) if problem is None]
    assert len(files) == 2 and all("/tmp/" not in f[len(str(tmp_path)) :] for f in files)
    ids = sorted(parse_report_bytes(i.data or b"").report_id for f in files for i in read_source(f) if i.outcome == "payload")
    assert ids == ["cur", "new"]


def test_maildir_plus_plus_folders_are_read_other_hidden_folders_not(tmp_path: Path) -> None:
    """Dovecot and Courier keep a mailbox's folders as ``.Name`` beside ``cur`` and ``new``."""
    md = tmp_path / "Maildir"
    for sub in ("cur", "new", "tmp", ".Reports/cur", ".Reports/new", ".Reports/tmp", ".git/cur"):
        (md / sub).mkdir(parents=True)
    (md / "cur" / "1700000000.M1P1.host:2,S").write_bytes(tls_mail(gzip.compress(json.dumps(make_report(report_id="inbox")).encode())))
    (md / ".Reports" / "cur" / "1700000001.M2P2.host:2,S").write_bytes(
        tls_mail(gzip.compress(json.dumps(make_report(report_id="folder")).encode())))
    (md / ".git" / "cur" / "x").write_bytes(b"not a mail")  # hidden, and not a Maildir++ folder
    files = [p for p, problem in expand_paths([md]) if problem is None]
    ids = sorted(parse_report_bytes(i.data or b"").report_id for f in files for i in read_source(f) if i.outcome == "payload")
    assert ids == ["folder", "inbox"] and len(files) == 2


def test_a_named_pipe_fails_at_once_and_never_hangs(tmp_path: Path) -> None:
    """Opening a FIFO for reading waits for a writer, which may never come."""
    import os
    import threading

    folder = tmp_path / "in"
    write_json(folder / "a.json", make_report(report_id="a"))
    os.mkfifo(folder / "p.json")
    got: dict[str, list[tuple[str, str]]] = {}

    def read_all() -> None:
        for f, problem in expand_paths([folder]):
            if problem is None:
                got[Path(f).name] = [(i.outcome, i.reason) for i in read_source(f)]

    reader = threading.Thread(target=read_all, daemon=True)
    reader.start()
    reader.join(20)
    if reader.is_alive():  # it hangs: let it go (a writer opens the pipe), then fail
        os.close(os.open(folder / "p.json", os.O_WRONLY))
        reader.join(5)
        pytest.fail("reading a named pipe waited for a writer")
    assert got["p.json"] == [("failed", "not a regular file (a named pipe)")]
    assert got["a.json"][0][0] == "payload"
    (item,) = items(folder / "p.json")  # named outright too
    assert item.outcome == "failed"


def test_corpus_mails_each_yield_a_report(corpus: Path) -> None:
    for p in sorted((corpus / "eml").iterdir()):
        got = items(p)
        assert [i.outcome for i in got] == ["payload"], (p.name, [(i.outcome, i.reason) for i in got])
        parse_report_bytes(got[0].data or b"", got[0].hint)


def test_input_cap(tmp_path: Path) -> None:
    p = write_json(tmp_path / "big.json", {"organization-name": "x" * 5000})
    (item,) = items(p, Limits(max_input_bytes=1000))
    assert item.outcome == "failed" and "cap" in item.reason


def test_missing_path_is_a_problem_not_an_exception(tmp_path: Path) -> None:
    assert list(expand_paths([tmp_path / "nope"])) == [(str(tmp_path / "nope"), "no such file or folder")]
    files, problems, passed_over = collect_paths([tmp_path / "nope"])
    assert len(files) == 0 and problems == [(str(tmp_path / "nope"), "no such file or folder")] and passed_over == []


def test_collected_paths_are_the_expanded_ones(tmp_path: Path) -> None:
    top = tmp_path / "reports"
    names = ["b.json", "a b.json", "ünï.json.gz", "line\nbreak.json", ".hidden.json", "a.json"]
    for sub in ("", "z", "m/deeper", ".git"):
        (top / sub).mkdir(parents=True, exist_ok=True)
        for name in names:
            (top / sub / name).write_bytes(b"{}")
    (top / "empty").mkdir()
    single = tmp_path / "single.json"
    single.write_bytes(b"{}")
    inputs = [top, tmp_path / "missing", single, "relative-does-not-exist.json", top / "z"]
    expanded = list(expand_paths(inputs))
    files, problems, passed_over = collect_paths(inputs)
    assert list(files) == [p for p, problem in expanded if problem is None]
    assert problems == [(p, problem) for p, problem in expanded if problem is not None]
    assert len(files) == 5 * 3 + 1 + 5 and str(single) in files
    assert not any("/.git/" in f or "/.hidden" in f for f in files)
    # each hidden entry passed over is named, once, with why (a hidden folder is not searched)
    assert sorted(passed_over) == sorted([(str(top / ".git"), HIDDEN_FOLDER)] + [
        (str(top / sub / ".hidden.json"), HIDDEN_FILE) for sub in ("", "z", "m/deeper", "z")])


def test_file_list_indexes_and_slices_across_folders() -> None:
    files = FileList()
    files.add("/r/one", ["a", "b", "c"])
    files.add("", ["rel/x.json"])
    files.add("/", ["root.json"])
    files.add("/r/empty", [])
    files.add("/r/two/", ["d", "e"])
    whole = ["/r/one/a", "/r/one/b", "/r/one/c", "rel/x.json", "/root.json", "/r/two/d", "/r/two/e"]
    assert list(files) == whole and len(files) == len(whole)
    for start in range(-8, 9):
        for stop in range(-8, 9):
            assert files[start:stop] == whole[start:stop]
            assert files[start:stop:2] == whole[start:stop:2]
    assert [files[i] for i in range(-7, 7)] == [whole[i] for i in range(-7, 7)]
    for bad in (7, -8):
        with pytest.raises(IndexError):
            files[bad]


def test_unreadable_text_in_folder_is_skipped_but_explicit_report_fails(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello there")
    (tmp_path / "bad.json").write_text("hello there")
    by_name = {Path(i.path).name: i for f, _ in expand_paths([tmp_path]) for i in read_source(f)}
    assert by_name["notes.txt"].outcome == "skipped"
    assert by_name["bad.json"].outcome == "failed"


def test_read_bytes_in_memory() -> None:
    (item,) = read_bytes("clipboard", "", io.BytesIO(gzip.compress(RAW)).getvalue())
    assert item.outcome == "payload" and item.data == RAW


def test_utf16_json_is_refused_with_the_reason(tmp_path: Path) -> None:
    p = tmp_path / "r.json"
    p.write_bytes(json.dumps(make_report(report_id="u16")).encode("utf-16"))
    (item,) = items(p)
    assert item.outcome == "failed" and item.reason.startswith("UTF-16 text")
