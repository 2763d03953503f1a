"""Missing-report detection on constructed series with known gaps."""

from __future__ import annotations

import statistics
from datetime import date
from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from tlsrpt_gui.core import rollups
from tlsrpt_gui.core.stats import date_to_day, day_to_date, find_missing

D0 = date_to_day(date(2025, 1, 1))


def days(*ranges: tuple[int, int]) -> list[int]:
    out: list[int] = []
    for a, b in ranges:
        out.extend(range(D0 + a, D0 + b + 1))
    return out


def test_gaps_inside_and_at_the_end() -> None:
    series = {
        ("Postbird", "example.com"): days((0, 9), (13, 29)),  # 10..12 missing
        ("Nimbus", "example.com"): days((0, 29)),  # complete
        ("Kestrel", "example.net"): days((5, 20)),  # stopped after day 20
    }
    result = find_missing(series, grace_days=0)
    by_pair = {(g.reporter, g.policy_domain): g for g in result.pairs}
    assert result.end_day == D0 + 29
    assert by_pair[("Postbird", "example.com")].missing == (D0 + 10, D0 + 11, D0 + 12)
    assert by_pair[("Postbird", "example.com")].runs() == [(D0 + 10, D0 + 12)]
    assert not by_pair[("Postbird", "example.com")].stopped
    assert by_pair[("Nimbus", "example.com")].missing == ()
    kestrel = by_pair[("Kestrel", "example.net")]
    assert kestrel.missing == tuple(range(D0 + 21, D0 + 30))
    assert kestrel.stopped
    # most missing days first
    assert [g.reporter for g in result.pairs] == ["Kestrel", "Postbird", "Nimbus"]
    assert by_pair[("Postbird", "example.com")].missing_dates[0] == date(2025, 1, 11)


def test_grace_days_forgive_late_reports() -> None:
    series = {("A", "x"): days((0, 19)), ("B", "x"): days((0, 20))}
    assert find_missing(series, grace_days=1).pairs[0].missing == ()
    strict = {(g.reporter): g.missing for g in find_missing(series, grace_days=0).pairs}
    assert strict == {"A": (D0 + 20,), "B": ()}


def test_irregular_reporters_are_not_checked() -> None:
    series = {
        ("Every3", "x"): [D0 + 3 * i for i in range(7)],  # 0..18
        ("Few", "x"): days((0, 2)),  # too few days to tell
        ("Daily", "x"): days((0, 9), (11, 20)),
    }
    result = find_missing(series)
    assert [g.reporter for g in result.pairs] == ["Daily"]
    assert result.irregular_pairs == 2
    assert result.pairs[0].missing == (D0 + 10,)


def test_explicit_end_day_extends_the_window() -> None:
    result = find_missing({("A", "x"): days((0, 9))}, D0 + 14, grace_days=0)
    assert result.pairs[0].missing == tuple(range(D0 + 10, D0 + 15))
    assert day_to_date(result.pairs[0].missing[-1]) == date(2025, 1, 15)


def test_empty_series() -> None:
    result = find_missing({})
    assert result.pairs == () and result.first_day is None


def reference(series: dict[tuple[str, str], set[int]], end: int | None, min_days: int, grace: int) -> dict[tuple[str, str], tuple[int, ...]] | None:
    """The definition, spelt out: median step of one day, missing days from the first report to end - grace."""
    if not series:
        return None
    end = end if end is not None else max(max(d) for d in series.values())
    out = {}
    for pair, days in series.items():
        ordered = sorted(days)
        if len(ordered) < min_days or len(ordered) < 2 or statistics.median(b - a for a, b in pairwise(ordered)) != 1:
            continue
        out[pair] = tuple(d for d in range(ordered[0], end - grace + 1) if d not in days)
    return out


pairs = st.sampled_from([("A", "x"), ("B", "x"), ("A", "y"), ("C", "z")])
day_sets = st.sets(st.integers(D0 - 40, D0 + 200), min_size=1, max_size=120)


@given(st.dictionaries(pairs, day_sets, max_size=4), st.none() | st.integers(D0 - 10, D0 + 250),
       st.integers(1, 8), st.integers(0, 3))
def test_bitmap_detection_matches_the_definition(series: dict[tuple[str, str], set[int]], end: int | None,
                                                 min_days: int, grace: int) -> None:
    result = find_missing(series, end, min_days=min_days, grace_days=grace)
    expected = reference(series, end, min_days, grace)
    if expected is None:
        assert result.pairs == ()
        return
    assert {(g.reporter, g.policy_domain): g.missing for g in result.pairs} == expected
    assert result.irregular_pairs == len(series) - len(expected)
    for g in result.pairs:
        assert g.reported == series[(g.reporter, g.policy_domain)]
        assert g.first_day == min(g.reported) and g.last_day == max(g.reported)


@given(st.sets(st.integers(-5000, 5000), min_size=1, max_size=300), st.sets(st.integers(-5000, 5000), min_size=1, max_size=300))
def test_day_bitmaps_round_trip_and_merge(a: set[int], b: set[int]) -> None:
    fa = rollups.bits_from_days(a)
    assert rollups.days_of(*fa) == sorted(a)
    assert rollups.decode_bits(rollups.encode_bits(fa[1])) == fa[1]
    merged = rollups.merge_bits(fa, rollups.bits_from_days(b))
    assert rollups.days_of(*merged) == sorted(a | b)
