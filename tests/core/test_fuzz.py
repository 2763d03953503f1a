"""Property tests: nothing a stranger sends raises anything but our own parse error."""

from __future__ import annotations

import gzip
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.core.conftest import make_report
from tlsrpt_gui.core.report import (
    ReportHint,
    ReportParseError,
    parse_report_bytes,
    parse_report_value,
)
from tlsrpt_gui.core.sources import read_bytes

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=20), children, max_size=5),
    max_leaves=40,
)

KEYS = ["organization-name", "date-range", "start-datetime", "end-datetime", "contact-info", "report-id", "policies",
        "policy", "policy-type", "policy-string", "policy-domain", "mx-host", "summary", "total-successful-session-count",
        "total-failure-session-count", "failure-details", "result-type", "sending-mta-ip", "receiving-ip",
        "receiving-mx-hostname", "failed-session-count", "additional-information", "failure-reason-code"]

report_like = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30) | st.sampled_from(["2024-01-01T00:00:00Z", "sts", "tlsa", "1", "-1"]),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.sampled_from(KEYS), children, max_size=8),
    max_leaves=60,
)

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _parse_value(value: Any) -> None:
    try:
        parse_report_value(value, ReportHint(filename="a!b.example!1!2.json", header_domain="x.example", from_mail=True))
    except ReportParseError as exc:
        assert str(exc)


@FAST
@given(json_values)
def test_arbitrary_json_values(value: Any) -> None:
    _parse_value(value)
    try:
        parse_report_bytes(json.dumps(value).encode())
    except ReportParseError:
        pass


@FAST
@given(report_like)
def test_report_shaped_values(value: Any) -> None:
    _parse_value(value)


@FAST
@given(st.data())
def test_mutated_real_report(data: st.DataObject) -> None:
    doc = make_report()
    path = data.draw(st.sampled_from([("organization-name",), ("date-range",), ("date-range", "start-datetime"),
                                      ("policies",), ("policies", 0), ("policies", 0, "policy"), ("policies", 0, "summary"),
                                      ("policies", 0, "failure-details"), ("policies", 0, "policy", "mx-host")]))
    target: Any = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = data.draw(json_values)
    _parse_value(doc)


@FAST
@given(st.binary(max_size=2000))
def test_arbitrary_bytes(raw: bytes) -> None:
    try:
        parse_report_bytes(raw)
    except ReportParseError:
        pass
    for item in read_bytes("fuzz", "", raw):
        assert item.outcome in ("payload", "skipped", "failed")
    for item in read_bytes("fuzz.gz", "", gzip.compress(raw)):
        assert item.outcome in ("payload", "skipped", "failed")
