"""atheris target: the TLS-RPT / MTA-STS TXT record parsers, rua URIs, TLSA, and the MTA-STS policy parser.

Run by hand (see fuzz/README.md)::

    mkdir -p /tmp/fz-dns
    PYTHONPATH=. /tmp/fz/bin/python fuzz/fuzz_dns.py -max_total_time=60 -rss_limit_mb=1024 \
        -timeout=10 /tmp/fz-dns ../shared/corpus/dns
"""

from __future__ import annotations

import json
import sys

import atheris

with atheris.instrument_imports(include=["tlsrpt_gui"]):
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


def _check(findings: list, to_dict: object) -> None:  # type: ignore[type-arg]
    for f in findings:
        if f.code not in CATALOGUE:
            raise AssertionError(f"uncatalogued finding code {f.code!r}")
    json.dumps(to_dict)


def TestOneInput(raw: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(raw)
    which = fdp.ConsumeIntInRange(0, 3)
    if which == 0:  # a TXT answer: several character-strings of up to 255 bytes
        strings = [fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 255)) for _ in range(fdp.ConsumeIntInRange(1, 8))]
        _, text = decode_txt_strings(strings)
        for rec in (parse_tlsrpt(text), parse_sts_txt(text)):
            _check(rec.findings, rec.to_dict())
        for part in text.split(","):
            uri, findings = parse_rua_uri(part, "fuzz")
            _check(findings, uri.to_dict())
    elif which == 1:
        body = fdp.ConsumeBytes(fdp.remaining_bytes())
        pol = parse_policy(body, "fuzz")
        _check(pol.findings, pol.to_dict())
        for pattern in pol.mx:
            mx_matches("mx1.example.com", pattern)
    elif which == 2:
        rec = check_tlsa(fdp.ConsumeIntInRange(0, 255), fdp.ConsumeIntInRange(0, 255), fdp.ConsumeIntInRange(0, 255),
                         fdp.ConsumeBytes(fdp.remaining_bytes()), "fuzz")
        _check(rec.findings, rec.to_dict())
    else:
        try:
            parse_tlsa_text(fdp.ConsumeUnicodeNoSurrogates(fdp.remaining_bytes()))
        except ValueError:
            pass


def main() -> None:
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
