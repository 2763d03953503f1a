"""atheris target: bytes from a stranger through ``sources.read_bytes`` and ``report.parse_report_bytes``.

Not a project dependency and not run by pytest. Run by hand (see fuzz/README.md)::

    python3 -m venv /tmp/fz && /tmp/fz/bin/pip install atheris orjson dnspython platformdirs
    mkdir -p /tmp/fz-sources
    PYTHONPATH=. /tmp/fz/bin/python fuzz/fuzz_sources.py -max_total_time=60 -rss_limit_mb=1024 \
        -timeout=10 /tmp/fz-sources ../shared/corpus/eml ../shared/corpus/gz ../shared/corpus/reports

The first byte picks an envelope (as is, gzip, zip member, mail attachment,
mbox message) so that the fuzzer reaches every reader from one input. Any
exception other than our own ``ReportParseError``, a time-out or an RSS over the
limit is a finding: keep the crasher as a regression test in tests/security/.
"""

from __future__ import annotations

import base64
import gzip
import io
import sys
import zipfile

import atheris

with atheris.instrument_imports(include=["tlsrpt_gui"]):
    from tlsrpt_gui.core.report import ReportParseError, parse_report_bytes
    from tlsrpt_gui.core.sources import Limits, read_bytes

LIMITS = Limits(max_input_bytes=1 << 20, max_payload_bytes=1 << 20)


def envelope(kind: int, data: bytes) -> tuple[str, bytes]:
    if kind == 1:
        return "r.json.gz", gzip.compress(data, 1)
    if kind == 2:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("r.json", data)
        return "r.zip", buf.getvalue()
    if kind == 3:
        return "m.eml", (b"From: a@b.example\r\nSubject: Report Domain: example.com\r\n"
                         b"Content-Type: application/tlsrpt+gzip\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                         + base64.encodebytes(gzip.compress(data, 1)))
    if kind == 4:
        return "box.mbox", b"From x@y Mon Jan  1 00:00:00 2024\n" + data + b"\n"
    return "input", data


def TestOneInput(raw: bytes) -> None:
    if not raw:
        return
    name, data = envelope(raw[0] % 5, raw[1:])
    for item in read_bytes(name, "", data, LIMITS):
        if item.outcome not in ("payload", "skipped", "failed"):
            raise AssertionError(f"unknown outcome {item.outcome!r}")
        if item.outcome == "payload":
            if item.data is None:
                raise AssertionError("payload without data")
            try:
                parse_report_bytes(item.data, item.hint)
            except ReportParseError:
                pass


def main() -> None:
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
