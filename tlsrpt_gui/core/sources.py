"""Turn paths into report payloads: json, gzip, zip, mail (eml), mbox and Maildir.

Inputs are recognised by content, not only by extension. Nothing is extracted to
disk; every read and every decompression is bounded, so a gzip bomb costs no
memory. Each input yields :class:`SourceItem` values: a payload to parse, or a
*skipped* input (it is not a TLS report, e.g. a DMARC report) or a *failed* one
(it should have been a report but cannot be read), each with a plain reason.
"""

from __future__ import annotations

import bisect
import email
import email.message
import email.policy
import email.utils
import hashlib
import io
import os
import re
import stat
import zipfile
import zlib
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from email.message import Message
from itertools import accumulate
from typing import Final, Literal, overload

from tlsrpt_gui.core.report import Diagnostic, ReportHint

Outcome = Literal["payload", "skipped", "failed"]

MiB: Final = 1024 * 1024

#: Extensions under which content we cannot read is a failure, not a skip.
REPORT_EXTENSIONS: Final = (".json", ".gz", ".zip", ".eml", ".mbox", ".msg", ".elm", ".mail")

_CHUNK: Final = 256 * 1024


@dataclass(frozen=True, slots=True)
class Limits:
    """Size caps. Defaults follow RFC 8460 §5.2 and the spec digest §7."""

    #: bytes read from one file (or one mail message) before decompression
    max_input_bytes: int = 20 * MiB
    #: bytes of one report after decompression
    max_payload_bytes: int = 20 * MiB
    #: JSON nesting depth
    max_json_depth: int = 64
    #: failure-detail rows indexed per report (the raw JSON keeps the rest)
    max_failure_details: int = 100_000
    #: members read from one zip archive
    max_zip_members: int = 10_000
    #: containers inside containers (a gzip in a zip in a mail …)
    max_nesting: int = 4
    #: attachments looked at in one mail
    max_mail_parts: int = 200


DEFAULT_LIMITS: Final = Limits()


@dataclass(slots=True)
class SourceItem:
    """One input or one member of a container, with what became of it."""

    path: str
    member: str
    outcome: Outcome
    reason: str = ""
    data: bytes | None = None
    hint: ReportHint = field(default_factory=ReportHint)
    size: int = 0
    sha256: str = ""
    #: the sender's gzip bytes of ``data`` (a single clean stream), kept as the raw copy
    compressed: bytes | None = None

    @property
    def label(self) -> str:
        return f"{self.path} » {self.member}" if self.member else self.path


class _Refused(Exception):
    """Raised inside the readers with a plain reason."""


# --------------------------------------------------------------------------- walking


def expand_paths(paths: Iterable[str | os.PathLike[str]]) -> Iterator[tuple[str, str | None]]:
    """Yield ``(file path, problem)`` for every file under the given paths.

    Folders are searched recursively in a stable order; hidden entries and a
    Maildir's ``tmp/`` are passed over. A path that does not exist or cannot be
    listed yields a problem instead of raising.
    """
    for folder, names, problems, _ in _expand(paths):
        for name in names:
            yield os.path.join(folder, name), None
        yield from problems


def collect_paths(paths: Iterable[str | os.PathLike[str]]) -> tuple[FileList, list[tuple[str, str]], list[tuple[str, str]]]:
    """The files of :func:`expand_paths` in a compact :class:`FileList`, the
    ``(path, problem)`` of each path that could not be searched, and the ``(path,
    why)`` of each hidden file or folder passed over (so an import can say so)."""
    files = FileList()
    problems: list[tuple[str, str]] = []
    passed_over: list[tuple[str, str]] = []
    for folder, names, found, hidden in _expand(paths):
        files.add(folder, names)
        problems.extend(found)
        passed_over.extend(hidden)
    return files, problems, passed_over


#: why a hidden entry in a folder is not imported
HIDDEN_FILE: Final = "a hidden file (its name begins with a dot): passed over"
HIDDEN_FOLDER: Final = "a hidden folder (its name begins with a dot): not searched"

_Found = tuple[str, list[str], list[tuple[str, str]], list[tuple[str, str]]]


def _expand(paths: Iterable[str | os.PathLike[str]]) -> Iterator[_Found]:
    """``(folder, names, problems, passed over)``: files as a folder and the sorted
    names in it ('' and the path itself for a file named outright), then what went
    wrong, then the hidden entries left out."""
    for p in paths:
        path = os.fspath(p)
        try:
            if os.path.isdir(path):
                yield from _walk(path)
            elif os.path.exists(path):
                yield "", [path], [], []
            else:
                yield "", [], [(path, "no such file or folder")], []
        except OSError as exc:
            yield "", [], [(path, _os_reason(exc))], []


def _walk(top: str) -> Iterator[_Found]:
    errors: list[tuple[str, str]] = []

    def onerror(exc: OSError) -> None:
        errors.append((exc.filename or top, _os_reason(exc)))

    for root, dirs, files in os.walk(top, onerror=onerror):
        is_maildir = {"cur", "new"} <= set(dirs)
        # hidden folders are left out, but for a Maildir++ mailbox's folders (".Reports/cur")
        searched = sorted(d for d in dirs if (not d.startswith(".") or (is_maildir and _is_maildir_folder(root, d)))
                          and not (is_maildir and d == "tmp"))
        hidden = [(os.path.join(root, d), HIDDEN_FOLDER) for d in sorted(set(dirs) - set(searched)) if d.startswith(".")]
        hidden += [(os.path.join(root, f), HIDDEN_FILE) for f in sorted(files) if f.startswith(".")]
        dirs[:] = searched
        yield root, sorted(name for name in files if not name.startswith(".")), [], hidden
    yield "", [], errors, []


def _is_maildir_folder(root: str, name: str) -> bool:
    """True for a Maildir++ folder (Dovecot, Courier): ``.Name`` beside ``cur`` and ``new``, with its own."""
    folder = os.path.join(root, name)
    return os.path.isdir(os.path.join(folder, "cur")) and os.path.isdir(os.path.join(folder, "new"))


class FileList(Sequence[str]):
    """Many file paths in little memory, in the order they were added.

    Each folder's names are kept as one string (separated by NUL, which no file
    name holds) with their offsets, and joined to the folder only when asked for:
    the paths of a folder of a million reports take about 80 MB here, as a list of
    strings they would take 160 MB.
    """

    def __init__(self) -> None:
        #: (folder, names joined, offset of each name and one past the last)
        self._runs: list[tuple[str, str, array[int]]] = []
        #: the index of each run's first path
        self._firsts: list[int] = []
        self._len = 0

    def add(self, folder: str, names: Sequence[str]) -> None:
        """Add the files ``names`` of ``folder`` ('' if the names are whole paths)."""
        if not names:
            return
        offsets = array("q", accumulate((len(n) + 1 for n in names), initial=0))
        self._runs.append((folder, "\0".join(names), offsets))
        self._firsts.append(self._len)
        self._len += len(names)

    def __len__(self) -> int:
        return self._len

    @overload
    def __getitem__(self, i: int) -> str: ...
    @overload
    def __getitem__(self, i: slice) -> list[str]: ...
    def __getitem__(self, i: int | slice) -> str | list[str]:
        if isinstance(i, slice):
            start, stop, step = i.indices(self._len)
            if step != 1:
                return [self[j] for j in range(start, stop, step)]
            return list(self._paths(start, stop))
        if i < 0:
            i += self._len
        if not 0 <= i < self._len:
            raise IndexError("FileList index out of range")
        return next(self._paths(i, i + 1))

    def __iter__(self) -> Iterator[str]:
        return self._paths(0, self._len)

    def _paths(self, start: int, stop: int) -> Iterator[str]:
        run = bisect.bisect_right(self._firsts, start) - 1
        while start < stop:
            folder, names, offsets = self._runs[run]
            prefix = os.path.join(folder, "") if folder else ""  # as os.path.join(folder, name) joins
            first = self._firsts[run]
            end = min(stop, first + len(offsets) - 1)
            for k in range(start - first, end - first):
                yield prefix + names[offsets[k] : offsets[k + 1] - 1]
            start = end
            run += 1


def _file_kind(mode: int) -> str:
    for test, kind in ((stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISDIR, "a folder")):
        if test(mode):
            return kind
    return "a special file"


def _os_reason(exc: OSError) -> str:
    return exc.strerror.lower() if exc.strerror else str(exc)


# --------------------------------------------------------------------------- reading


#: (without O_NONBLOCK, opening a FIFO would wait for a writer: forever)
_OPEN_FLAGS: Final = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)


#: deflate's largest ratio of output to input (see payload_size)
_DEFLATE_RATIO: Final = 1032


def payload_size(path: str) -> int:
    """About how many bytes the file ``path`` holds once unpacked, read without parsing
    it: a gzip file's as its trailer gives them (the size of its last member, modulo
    4 GiB; a stranger's file may say anything there, so no more than deflate can make of
    the file's own size), any other's its size. 0 for what is not a regular file or
    cannot be read (reading it says why), and never waits (a named pipe)."""
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError:
        return 0
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return 0
        if path[-3:].lower() != ".gz" or st.st_size < 4:
            return st.st_size
        os.lseek(fd, -4, os.SEEK_END)
        return min(int.from_bytes(os.read(fd, 4), "little"), st.st_size * _DEFLATE_RATIO)
    except OSError:
        return 0
    finally:
        os.close(fd)


def read_source(path: str, limits: Limits = DEFAULT_LIMITS) -> Iterator[SourceItem]:
    """Every payload (or refusal) found in one file. Never raises for bad input."""
    try:
        # os-level reads: half the cost of a file object, for the many small files of an import
        fd = os.open(path, _OPEN_FLAGS)
        try:
            # Ask for the file's own size (a huge read() would allocate the whole cap).
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):  # a FIFO, socket or device: it may never end
                yield SourceItem(path, "", "failed", f"not a regular file ({_file_kind(st.st_mode)})")
                return
            size = st.st_size
            data = _read_fd(fd, min(size, limits.max_input_bytes) + 1)
            if _looks_like_mbox(data[:64]) or data[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
                with open(fd, "rb", closefd=False) as fh:  # streamed, never held whole
                    if _looks_like_mbox(data[:64]):
                        yield from _read_mbox(path, fh, limits)
                    else:
                        fh.seek(0)
                        yield from _read_zip(path, "", fh, limits, depth=0)
                return
            if len(data) > limits.max_input_bytes:
                yield _refuse(path, "", f"file is {_fmt_size(size)}, over the {_fmt_size(limits.max_input_bytes)} input cap", size)
                return
        finally:
            os.close(fd)
    except OSError as exc:
        yield SourceItem(path, "", "failed", f"cannot read: {_os_reason(exc)}")
        return
    hint = ReportHint(filename=os.path.basename(path))
    if data[:2] == b"\x1f\x8b" and limits.max_nesting >= 0:
        item = _gzipped_json(path, data, limits, hint)
        if item is not None:
            yield item
            return
    yield from _classify(path, "", data, limits, depth=0, hint=hint, explicit=_has_report_ext(path))


def _gzipped_json(path: str, data: bytes, limits: Limits, hint: ReportHint) -> SourceItem | None:
    """The payload of the commonest file, one clean gzip stream of JSON under the caps,
    as :func:`_classify` would find it, at less than half the cost (most of an import's
    files are these); None for anything else, which the classifier then sorts out."""
    d = zlib.decompressobj(wbits=31)
    try:
        payload = d.decompress(data, limits.max_payload_bytes + 1)
    except zlib.error:
        return None
    if not d.eof or d.unused_data or len(payload) > limits.max_payload_bytes or payload[:1] not in (b"{", b"["):
        return None  # more to it, or white space or a byte order mark before the JSON
    return SourceItem(path, "", "payload", "", payload, hint, len(payload), hashlib.sha256(payload).hexdigest(), data)


def _read_fd(fd: int, limit: int) -> bytes:
    """Up to ``limit`` bytes from the start of an open file (fewer at its end)."""
    first = os.read(fd, limit)
    if len(first) in (0, limit):
        return first
    parts = [first]
    left = limit - len(first)
    while left > 0:
        more = os.read(fd, left)
        if not more:
            break
        parts.append(more)
        left -= len(more)
    return b"".join(parts)


def read_bytes(path: str, member: str, data: bytes, limits: Limits = DEFAULT_LIMITS, *, hint: ReportHint | None = None) -> Iterator[SourceItem]:
    """Classify bytes that did not come from a file (tests, drag-and-drop of data)."""
    yield from _classify(path, member, data, limits, depth=0, hint=hint or ReportHint(filename=member or os.path.basename(path)), explicit=True)


def _has_report_ext(name: str) -> bool:
    return name.lower().endswith(REPORT_EXTENSIONS)


def _refuse(path: str, member: str, reason: str, size: int = 0) -> SourceItem:
    return SourceItem(path, member, "failed", reason, size=size)


def _skip(path: str, member: str, reason: str, size: int = 0) -> SourceItem:
    return SourceItem(path, member, "skipped", reason, size=size)


def _join(member: str, name: str) -> str:
    return f"{member} / {name}" if member else name


def _classify(path: str, member: str, data: bytes, limits: Limits, *, depth: int, hint: ReportHint, explicit: bool) -> Iterator[SourceItem]:
    """Decide what ``data`` is by its content and yield its payloads."""
    size = len(data)
    if size > limits.max_input_bytes:
        yield _refuse(path, member, f"input is over the {_fmt_size(limits.max_input_bytes)} cap", size)
        return
    if depth > limits.max_nesting:
        yield _refuse(path, member, "containers nested too deeply", size)
        return
    if size == 0:
        yield _refuse(path, member, "empty file", 0) if explicit else _skip(path, member, "empty file", 0)
        return
    if data[:2] == b"\x1f\x8b":
        try:
            payload, trailing = gunzip_bounded(data, limits.max_payload_bytes)
        except _Refused as exc:
            yield _refuse(path, member, str(exc), size)
            return
        notes = hint.transport_notes
        if trailing:
            notes = (*notes, Diagnostic("info", "gzip-trailing-bytes", f"{trailing} stray bytes after the gzip stream were ignored."))
        inner = ReportHint(hint.filename, hint.header_domain, hint.header_submitter, hint.from_mail, notes)
        for item in _classify_payload(path, member, payload, limits, depth=depth + 1, hint=inner, explicit=True):
            if item.outcome == "payload" and not trailing and item.data is payload:
                item.compressed = data
            yield item
        return
    if data[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        yield from _read_zip(path, member, io.BytesIO(data), limits, depth=depth + 1)
        return
    if data[:3] == b"BZh" or data[:6] == b"\xfd7zXZ\x00" or data[:4] == b"\x28\xb5\x2f\xfd":
        yield _refuse(path, member, "compressed with bzip2, xz or zstd; TLS reports are sent as gzip (RFC 8460 §5.1)", size)
        return
    yield from _classify_payload(path, member, data, limits, depth=depth, hint=hint, explicit=explicit)


_HEADER_LINE_RE: Final = re.compile(rb"^[A-Za-z0-9][A-Za-z0-9-]{0,75}:")


def _classify_payload(path: str, member: str, data: bytes, limits: Limits, *, depth: int, hint: ReportHint, explicit: bool) -> Iterator[SourceItem]:
    size = len(data)
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    stripped = body.lstrip()[:512]
    if not stripped:
        yield _refuse(path, member, "empty file (only white space)", size) if explicit else _skip(path, member, "empty file", size)
        return
    if stripped[:1] in (b"{", b"["):
        yield _payload(path, member, data, hint)
        return
    low = stripped.lower()
    if low.startswith(b"<?xml") or low.startswith(b"<feedback"):
        if b"<feedback" in body[:4096].lower():
            yield _skip(path, member, "a DMARC aggregate report, not a TLS report", size)
        else:
            yield _refuse(path, member, "XML, not a JSON TLS report", size) if explicit else _skip(path, member, "XML, not a TLS report", size)
        return
    if low.startswith(b"<"):
        yield _refuse(path, member, "an HTML page, not a JSON TLS report", size) if explicit else _skip(path, member, "HTML, not a TLS report", size)
        return
    if _looks_like_mbox(stripped):
        yield from _mbox_messages(path, member, io.BytesIO(data), limits, depth=depth)
        return
    if _looks_like_mail(body):
        yield from _read_mail(path, member, body, limits, depth=depth)
        return
    if stripped[:2] in (b"\xff\xfe", b"\xfe\xff") or (len(stripped) > 3 and b"\x00" in stripped[:4] and b"{" in stripped[:4]):
        reason = "UTF-16 text: a TLS report is JSON, which must be UTF-8 (RFC 8259 §8.1)"
    elif _is_binary(stripped):
        reason = "binary data that is not gzip, zip or a mail"
    else:
        reason = "text that is not JSON, a mail or a mailbox"
    yield _refuse(path, member, reason, size) if explicit else _skip(path, member, f"not a TLS report ({reason})", size)


def _payload(path: str, member: str, data: bytes, hint: ReportHint) -> SourceItem:
    return SourceItem(path, member, "payload", "", data, hint, len(data), hashlib.sha256(data).hexdigest())


def _is_binary(head: bytes) -> bool:
    if b"\x00" in head:
        return True
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start < len(head) - 4
    return False


def _looks_like_mbox(head: bytes) -> bool:
    return head.startswith(b"From ")


def _looks_like_mail(data: bytes) -> bool:
    head = data[:8192]
    lines = head.replace(b"\r\n", b"\n").split(b"\n", 40)[:40]
    headers = 0
    for line in lines:
        if not line.strip():
            break
        if line[:1] in (b" ", b"\t"):
            continue
        if not _HEADER_LINE_RE.match(line):
            return False
        headers += 1
    return headers >= 2


def gunzip_bounded(data: bytes, cap: int) -> tuple[bytes, int]:
    """Inflate one gzip stream, refusing output over ``cap`` bytes.

    Returns the payload and the number of stray bytes after the stream. A
    second gzip member (``cat a.gz b.gz``) is read too. Memory never exceeds
    ``cap`` plus one chunk, whatever the compression ratio.
    """
    # The common case in one call: one member, nothing after it, under the cap
    # (``max_length`` bounds the output, so a bomb stops at cap + 1 bytes).
    d = zlib.decompressobj(wbits=31)
    try:
        whole = d.decompress(data, cap + 1)
    except zlib.error:
        whole = None  # the general path below says what is wrong
    if whole is not None and d.eof and not d.unused_data and len(whole) <= cap:
        return whole, 0
    out = bytearray()
    pos = 0
    trailing = 0
    while True:
        d = zlib.decompressobj(wbits=31)
        view = memoryview(data)[pos:]
        offset = 0
        try:
            while not d.eof:
                if d.unconsumed_tail:
                    chunk = d.decompress(d.unconsumed_tail, cap + 1 - len(out))
                elif offset < len(view):
                    piece = view[offset : offset + _CHUNK]
                    offset += len(piece)
                    chunk = d.decompress(piece, cap + 1 - len(out))
                else:
                    raise _Refused("truncated gzip: the stream ends early" if out or offset else "not a gzip stream")
                out += chunk
                if len(out) > cap:
                    raise _Refused(f"decompresses to more than the {_fmt_size(cap)} cap (a gzip bomb?)")
        except zlib.error as exc:
            raise _Refused(f"corrupt gzip data ({exc})") from None
        rest = d.unused_data + view[offset:].tobytes()
        if rest[:2] == b"\x1f\x8b":
            pos = len(data) - len(rest)
            continue
        trailing = len(rest.rstrip(b"\x00")) if rest else 0
        break
    return bytes(out), trailing


def _read_zip(path: str, member: str, fh: io.BufferedIOBase | io.BytesIO | io.BufferedReader, limits: Limits, *, depth: int) -> Iterator[SourceItem]:
    try:
        zf = zipfile.ZipFile(fh)
    except Exception as exc:  # zipfile raises many kinds (NotImplementedError for odd versions…)
        yield _refuse(path, member, f"not a readable zip archive ({_short_exc(exc)})")
        return
    with zf:
        infos = [i for i in zf.infolist() if not i.filename.endswith("/")]
        if not infos:
            yield _skip(path, member, "the zip archive is empty")
            return
        if len(infos) > limits.max_zip_members:
            yield _refuse(path, member, f"the zip archive has {len(infos)} members, over the cap of {limits.max_zip_members}; none was read")
            return
        for info in infos:
            name = _join(member, _safe_name(info.filename))
            if info.flag_bits & 0x1:
                yield _refuse(path, name, "encrypted zip member")
                continue
            if info.file_size > limits.max_payload_bytes:
                yield _refuse(path, name, f"zip member is {_fmt_size(info.file_size)}, over the {_fmt_size(limits.max_payload_bytes)} cap", info.compress_size)
                continue
            try:
                with zf.open(info) as mf:
                    data = mf.read(limits.max_payload_bytes + 1)
            except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, RuntimeError, zlib.error) as exc:
                yield _refuse(path, name, f"cannot read zip member ({_short_exc(exc)})")
                continue
            if len(data) > limits.max_payload_bytes:
                yield _refuse(path, name, f"zip member decompresses to more than the {_fmt_size(limits.max_payload_bytes)} cap")
                continue
            base = info.filename.replace("\\", "/").rsplit("/", 1)[-1]
            yield from _classify(path, name, data, limits, depth=depth, hint=ReportHint(filename=base), explicit=_has_report_ext(base))


def _short_exc(exc: BaseException, limit: int = 200) -> str:
    """An exception's text for a reason: one line, bounded (zipfile quotes member names)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    text = "".join(ch if ch.isprintable() else "?" for ch in text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _safe_name(name: str) -> str:
    """A member name for display: never used as a path."""
    cleaned = "".join(ch if ch.isprintable() else "?" for ch in name)
    return cleaned[:300] or "(unnamed)"


# --------------------------------------------------------------------------- mail

_TLSRPT_TYPES: Final = frozenset(
    {
        "application/tlsrpt+gzip",
        "application/tlsrpt+json",
        "application/tlsrpt",
        "application/tlsrpt-gzip",
        "application/tlsrpt-json",
        "application/gzip",
        "application/x-gzip",
        "application/json",
    }
)
_GENERIC_TYPES: Final = frozenset({"application/octet-stream", "application/zip", "application/x-zip-compressed", "application/x-zip", "text/plain", "binary/octet-stream"})
_JSON_NAME_RE: Final = re.compile(r"\.json(\.gz)?$|\.gz$|\.zip$", re.IGNORECASE)


def _read_mail(path: str, member: str, data: bytes, limits: Limits, *, depth: int) -> Iterator[SourceItem]:
    try:
        msg = email.message_from_bytes(data, policy=email.policy.compat32)
    except Exception as exc:  # the stdlib parser is lenient, but be safe
        yield _refuse(path, member, f"cannot parse the mail ({type(exc).__name__})", len(data))
        return
    header_domain = _header(msg, "TLS-Report-Domain")
    header_submitter = _header(msg, "TLS-Report-Submitter")
    found = 0
    dmarc = False
    parts_seen = 0
    report_type = (msg.get_param("report-type", header="content-type") or "")
    is_tlsrpt_report = isinstance(report_type, str) and report_type.lower() == "tlsrpt"
    for part in msg.walk():
        if part.is_multipart():
            continue
        parts_seen += 1
        if parts_seen > limits.max_mail_parts:
            yield _refuse(path, member, f"the mail has more than {limits.max_mail_parts} parts; the rest were not read")
            break
        ctype = part.get_content_type().lower()
        fname = _part_filename(part)
        wanted = ctype in _TLSRPT_TYPES or (ctype in _GENERIC_TYPES and fname is not None and _JSON_NAME_RE.search(fname) is not None)
        if not wanted and fname and _JSON_NAME_RE.search(fname) and ctype.startswith("application/"):
            wanted = True
        if not wanted:
            if ctype in ("application/zip", "application/x-zip-compressed", "application/xml", "text/xml") or (fname and fname.lower().endswith((".xml", ".xml.gz"))):
                dmarc = True
            continue
        try:
            payload = part.get_payload(decode=True)
        except Exception:  # malformed transfer encoding
            payload = None
        if not isinstance(payload, bytes):
            yield _refuse(path, _join(member, fname or ctype), "attachment cannot be decoded")
            found += 1
            continue
        name = _join(member, _safe_name(fname or ctype))
        hint = ReportHint(filename=fname, header_domain=header_domain, header_submitter=header_submitter, from_mail=True)
        for item in _classify(path, name, payload, limits, depth=depth + 1, hint=hint, explicit=True):
            if item.outcome == "skipped" and "DMARC" in item.reason:
                dmarc = True
                continue
            found += 1
            yield item
    if found == 0:
        subject = _short_header(_header(msg, "Subject") or "")
        if dmarc or "dmarc" in subject.lower() or (subject.lower().startswith("report domain:") and not is_tlsrpt_report):
            yield _skip(path, member, f"a DMARC aggregate report mail, not a TLS report (subject: {subject or 'none'})", len(data))
        elif is_tlsrpt_report:
            yield _refuse(path, member, "a TLS report mail (report-type=tlsrpt) without a readable report attachment", len(data))
        else:
            yield _skip(path, member, f"a mail that carries no TLS report (subject: {subject or 'none'})", len(data))


def _header(msg: Message, name: str) -> str | None:
    try:
        value = msg.get(name)
    except Exception:
        return None
    if value is None:
        return None
    text = str(value)
    try:
        from email.header import decode_header, make_header

        text = str(make_header(decode_header(text)))
    except Exception:
        pass
    text = " ".join(text.split())[:1000]
    # Header text from strangers ends up in reasons: no escape sequences or bidi tricks.
    return "".join(ch if ch.isprintable() else "?" for ch in text) or None


def _short_header(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _part_filename(part: Message) -> str | None:
    try:
        name = part.get_filename()
    except Exception:
        name = None
    if not name:
        try:
            raw = part.get_param("name")
        except Exception:
            raw = None
        if isinstance(raw, tuple):
            raw = email.utils.collapse_rfc2231_value(raw)
        name = raw if isinstance(raw, str) else None
    if name:
        try:
            from email.header import decode_header, make_header

            name = str(make_header(decode_header(name)))
        except Exception:
            pass
        return " ".join(name.split())[:300]
    return None


# --------------------------------------------------------------------------- mbox

def _read_mbox(path: str, fh: io.BufferedIOBase | io.BytesIO | io.BufferedReader, limits: Limits) -> Iterator[SourceItem]:
    """Every message of an mbox file, streamed: the file is never held whole."""
    fh.seek(0)
    yield from _mbox_messages(path, "", fh, limits, depth=0)


def _mbox_messages(path: str, member: str, fh: io.BufferedIOBase | io.BytesIO | io.BufferedReader, limits: Limits, *, depth: int) -> Iterator[SourceItem]:
    number = 0
    buf: list[bytes] = []
    buf_size = 0
    overflow = False
    prev_blank = True

    def flush() -> Iterator[SourceItem]:
        name = _join(member, f"message {number}")
        if overflow:
            yield _refuse(path, name, f"mail message is over the {_fmt_size(limits.max_input_bytes)} cap", buf_size)
        else:
            data = b"".join(buf)
            items = list(_classify(path, name, data, limits, depth=depth + 1, hint=ReportHint(), explicit=False))
            if len(items) == 1 and items[0].outcome == "skipped" and items[0].reason.startswith("not a TLS report"):
                items[0].reason = "a message that is not a mail"
            yield from items

    at_line_start = True
    while True:
        # Bounded reads: a 300 MiB line arrives as pieces, never as one string.
        piece = fh.readline(_CHUNK)
        if not piece:
            break
        starts_line = at_line_start
        at_line_start = piece.endswith(b"\n")
        if starts_line and piece.startswith(b"From ") and prev_blank:
            if number:
                yield from flush()
            number += 1
            buf, buf_size, overflow = [], 0, False
            prev_blank = False
            continue
        if starts_line:
            prev_blank = piece in (b"\n", b"\r\n")
        elif piece.strip():
            prev_blank = False
        if number == 0:
            continue
        if starts_line and (piece.startswith(b">From ") or piece.startswith(b">>From ")):
            piece = piece[1:]
        buf_size += len(piece)
        if buf_size > limits.max_input_bytes:
            overflow = True
            buf = []
        elif not overflow:
            buf.append(piece)
    if number:
        yield from flush()
    else:
        yield _refuse(path, member, "an empty mailbox")


def _fmt_size(n: int) -> str:
    if n >= MiB:
        return f"{n / MiB:.0f} MiB" if n % MiB == 0 else f"{n / MiB:.1f} MiB"
    if n >= 1024:
        return f"{n / 1024:.0f} KiB"
    return f"{n} bytes"
