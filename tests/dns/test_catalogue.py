"""The finding catalogue, the code that emits findings and docs/dns-findings.md agree."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tlsrpt_gui.core.dns import CATALOGUE
from tlsrpt_gui.core.dns.findings import make_finding, sort_findings

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "dns-findings.md"
SOURCES = sorted((REPO / "tlsrpt_gui" / "core" / "dns").glob("*.py"))


def doc_rows() -> dict[str, list[str]]:
    rows = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        m = re.match(r"\| `([a-z0-9-]+)` \|", line)
        if m:
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            assert m.group(1) not in rows, f"{m.group(1)} documented twice"
            rows[m.group(1)] = cells
    return rows


def emitted_codes() -> set[str]:
    pattern = re.compile(r'(?:make_finding|self\.add)\(\s*"([a-z0-9]+(?:-[a-z0-9]+)+)"')
    found: set[str] = set()
    for path in SOURCES:
        found |= set(pattern.findall(path.read_text(encoding="utf-8")))
    return found


def test_codes_are_stable_kebab_case() -> None:
    for code, spec in CATALOGUE.items():
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)+", code)
        assert spec.code == code
        assert spec.rfc.startswith("RFC ")


def test_every_code_is_documented_with_its_severity_and_rfc() -> None:
    rows = doc_rows()
    assert set(rows) == set(CATALOGUE)
    for code, (_, severity, rfc, meaning, todo) in rows.items():
        spec = CATALOGUE[code]
        assert [s.strip() for s in severity.split("/")] == list(spec.severities), code
        assert rfc == spec.rfc, code
        assert meaning and todo, code


def test_every_emitted_code_is_catalogued_and_every_catalogued_code_is_emitted() -> None:
    emitted = emitted_codes()
    assert emitted - set(CATALOGUE) == set()
    assert set(CATALOGUE) - emitted == set()


def test_make_finding_enforces_the_catalogue() -> None:
    finding = make_finding("sts-mx-not-covered", "m", "mx.example", severity="warning")
    assert (finding.severity, finding.rfc) == ("warning", "RFC 8461 §4.1, §5")
    with pytest.raises(ValueError):
        make_finding("sts-mode-testing", "m", "s", severity="error")
    with pytest.raises(KeyError):
        make_finding("no-such-code", "m", "s")


def test_findings_sort_errors_first_and_stay_stable() -> None:
    findings = [
        make_finding("sts-mode-testing", "1", "a"),
        make_finding("tlsrpt-rua-unreachable", "2", "b"),
        make_finding("tlsrpt-multiple", "3", "c"),
        make_finding("dane-and-sts", "4", "d"),
    ]
    assert [f.message for f in sort_findings(findings)] == ["3", "2", "1", "4"]
