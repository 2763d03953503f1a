"""The import's fast path says exactly what the full parser says, whenever it answers."""

from __future__ import annotations

import copy
import json
import random
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.charts.conftest import load_synth
from tests.core.conftest import CORPUS, make_report, sts_policy, write_json
from tlsrpt_gui.core import fastparse
from tlsrpt_gui.core.index import Index
from tlsrpt_gui.core.report import (
    MAX_FAILURE_DETAILS,
    ReportHint,
    ReportParseError,
    decode_json,
    parse_report_value,
)
from tlsrpt_gui.core.sources import read_source

NOW = datetime(2026, 1, 1, tzinfo=UTC)

#: values a mutation puts in place of a field: each is something the fast path must notice
ODD_VALUES: list[Any] = [
    None, "", " ", 0, -1, 1.5, 2.0, "7", True, [], {}, "x", "2025-01-01", "2025-01-01T00:00:00+02:00",
    "2025-01-01 00:00:00 UTC", "2025-01-01T00:00:60Z", "2025-02-30T00:00:00Z", "2025-01-01T12:00:00Z",
    "mx:mx1.example.com", ["a"], [1, None], ["[\"3 1 1 ab\"]"], "192.0.2.1", " 2001:db8::1 ", "2001:db8::1",
    "not-an-ip", 2**60, "certificate-expired", "sts-policy-invalid", "tlsa-invalid", "dane-required", "unknown",
    "weird-type", "enforce", "mode: testing", "ÉXAMPLE.com", "example.com.", ".", "3 1 1 abcdef", "sts", "tlsa",
    "no-policy-found", " sts", [" "], ["mx1.example.com", "", " mx2.example.com "], ["MX: mx1.example.com"],
]


def _payloads() -> list[tuple[Any, ReportHint]]:
    out: list[tuple[Any, ReportHint]] = []
    files = [p for p in sorted(CORPUS.rglob("*")) if p.is_file()]
    for path in files:
        for item in read_source(str(path)):
            if item.outcome != "payload" or item.data is None:
                continue
            try:
                value, notes = decode_json(item.data)
            except ReportParseError:
                continue
            if not notes:
                out.append((value, ReportHint(filename=item.hint.filename)))  # as if saved as a file
    return out


def _mutate(rnd: random.Random, value: Any) -> Any:
    if isinstance(value, dict):
        value = dict(value)
        keys = list(value)
        if keys and rnd.random() < 0.5:
            key = rnd.choice(keys)
            roll = rnd.random()
            if roll < 0.25:
                del value[key]
            elif roll < 0.8:
                value[key] = rnd.choice(ODD_VALUES)
            else:
                value[key] = _mutate(rnd, value[key])
        for key in list(value):
            if isinstance(value[key], (dict, list)) and rnd.random() < 0.5:
                value[key] = _mutate(rnd, value[key])
        return value
    if isinstance(value, list):
        value = [_mutate(rnd, x) if rnd.random() < 0.5 else x for x in value]
        if rnd.random() < 0.1:
            value.append(rnd.choice(ODD_VALUES))
        return value
    return value


def _paths(value: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The path of every value in a JSON document."""
    out = [at]
    if isinstance(value, dict):
        for key, item in value.items():
            out += _paths(item, (*at, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            out += _paths(item, (*at, i))
    return out


def _replace_one(rnd: random.Random, value: Any) -> Any:
    """The document with one value, anywhere in it, replaced by an odd one."""
    value = copy.deepcopy(value)
    path = rnd.choice(_paths(value)[1:])
    parent = value
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = copy.deepcopy(rnd.choice(ODD_VALUES))
    return value


def _full(value: Any, hint: ReportHint) -> Any:
    try:
        return fastparse.flatten(parse_report_value(copy.deepcopy(value), hint, now=NOW))
    except ReportParseError as exc:
        return ("refused", str(exc))


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Any, ReportHint]]:
    out = []
    for path in load_synth().generate(tmp_path_factory.mktemp("synth"), 400, seed=3):
        for item in read_source(str(path)):
            assert item.data is not None
            out.append((decode_json(item.data)[0], item.hint))
    return out


@pytest.fixture(scope="module")
def samples(synth: list[tuple[Any, ReportHint]]) -> list[tuple[Any, ReportHint]]:
    if not CORPUS.is_dir():
        pytest.skip(f"the shared corpus is not at {CORPUS}")
    return _payloads() + synth


def test_fast_path_reads_the_synthetic_reports(synth: list[tuple[Any, ReportHint]]) -> None:
    assert len(synth) == 400
    taken = sum(fastparse.parse(v, h, NOW.timestamp(), MAX_FAILURE_DETAILS) is not None for v, h in synth)
    assert taken == len(synth)  # the well-formed reports of a bulk import all take the fast path


def test_fast_path_agrees_with_the_full_parser(samples: list[tuple[Any, ReportHint]]) -> None:
    rnd = random.Random(11)
    cases = list(samples)
    for _ in range(4000):
        value, hint = rnd.choice(samples)
        filename = rnd.choice([hint.filename, "reporter.example!example.com!1!2.json", "x.json", None])
        cases.append((_mutate(rnd, copy.deepcopy(value)), ReportHint(filename=filename)))
        cases.append((_replace_one(rnd, value), hint))
    taken = 0
    for value, hint in cases:
        fast = fastparse.parse(value, hint, NOW.timestamp(), MAX_FAILURE_DETAILS)
        if fast is not None:
            taken += 1
            assert fast == _full(value, hint), json.dumps(value)[:500]
    assert taken > len(cases) // 4  # the comparison covers many reports, with their notes


def test_fast_path_declines_what_needs_the_full_parser() -> None:
    base = make_report(policies=[sts_policy(details=[{"result-type": "certificate-expired", "sending-mta-ip": "192.0.2.1",
                                                      "receiving-mx-hostname": "mx.example.com", "failed-session-count": 2}],
                                            ok=5, failed=2)])
    now = NOW.timestamp()
    assert fastparse.parse(base, ReportHint(), now, MAX_FAILURE_DETAILS) is not None
    mail = ReportHint(from_mail=True, header_domain="example.com", header_submitter="reporter.example")
    assert fastparse.parse(base, mail, now, MAX_FAILURE_DETAILS) is None
    assert fastparse.parse(base, ReportHint(), now, 0) is None  # over the failure-detail cap
    for change in (
        lambda r: r.pop("contact-info"),
        lambda r: r["date-range"].update({"start-datetime": "2025-01-01T00:00:00+00:00"}),
        lambda r: r["policies"][0]["policy"].update({"policy-domain": "bücher.example"}),
        lambda r: r["policies"][0]["failure-details"][0].update({"failed-session-count": "2"}),
        lambda r: r["policies"][0]["failure-details"][0].update({"receiving-mx-helo": ""}),
    ):
        report = copy.deepcopy(base)
        change(report)
        assert fastparse.parse(report, ReportHint(), now, MAX_FAILURE_DETAILS) is None
        assert parse_report_value(report, ReportHint(), now=NOW).diagnostics  # the full parser has something to say


def _rows(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    conn = sqlite3.connect(db)
    try:
        out = {}
        for table in ("reports", "policies", "failure_details", "diagnostics", "text_values", "roll_domain_day",
                      "roll_failures_key", "report_days"):
            cols = [r[1] for r in conn.execute(f"PRAGMA table_info({table})") if r[1] != "imported_at"]
            out[table] = conn.execute(f"SELECT {', '.join(cols)} FROM {table} ORDER BY 1, 2, 3").fetchall()
        return out
    finally:
        conn.close()


def test_index_rows_are_the_same_with_and_without_the_fast_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if not CORPUS.is_dir():
        pytest.skip(f"the shared corpus is not at {CORPUS}")
    reports = load_synth().generate(tmp_path / "synth", 120, seed=5)
    odd = make_report(policies=[sts_policy(details=[{"result-type": "sts-policy-fetch-error", "failed-session-count": 1}],
                                           ok=3, failed=4)])
    sources = [*reports, write_json(tmp_path / "odd.json", odd), CORPUS / "reports", CORPUS / "gz"]
    with Index(tmp_path / "fast.db") as index:
        index.import_paths(sources, workers=1)
    monkeypatch.setattr(fastparse, "parse", lambda *args: None)
    with Index(tmp_path / "full.db") as index:
        index.import_paths(sources, workers=1)
    fast, full = _rows(tmp_path / "fast.db"), _rows(tmp_path / "full.db")
    assert len(fast["reports"]) > 120 and len(fast["failure_details"]) > 20
    assert fast == full
