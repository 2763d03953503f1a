"""rollups.at_once: a query's rows read in one step of SQLite as one JSON text (the
charts' queries, run off the GUI thread), which must give exactly the rows, in the
order, that reading them one by one gives."""

from __future__ import annotations

import random
import sqlite3

import pytest

from tlsrpt_gui.core import rollups

TEXTS = ["", "plain", 'a "quoted" \\ back\\slash', "line\nbreak\ttab\r", "nul\x00inside", "é ü ß 😀 漢字",
         "</script><b>x</b>", "=1+2", " leading and trailing "]


@pytest.fixture()
def conn() -> sqlite3.Connection:
    c = sqlite3.connect(":memory:")
    c.execute("CREATE TABLE t (k INTEGER, s TEXT, n INTEGER)")
    rnd = random.Random(8460)
    rows = [(rnd.randrange(-50, 50), rnd.choice([*TEXTS, None]), rnd.choice([0, 1, -1, 2**53, 2**63 - 1, -(2**63), None]))
            for _ in range(2000)]
    c.executemany("INSERT INTO t VALUES (?, ?, ?)", rows)
    return c


def one_by_one(conn: sqlite3.Connection, sql: str, params: object = ()) -> list[list[object]]:
    return [list(r) for r in conn.execute(sql, params)]  # type: ignore[arg-type]


@pytest.mark.parametrize("sql", [
    "SELECT k, s, n FROM t ORDER BY k DESC, s, n",
    "SELECT s, COUNT(*), MAX(n) FROM t GROUP BY s ORDER BY 2 DESC, 1",
    "SELECT k, s, n FROM t WHERE n IS NULL ORDER BY rowid DESC",
    "SELECT k, NULL, s FROM t WHERE k < -40 UNION ALL SELECT k, n, s FROM t WHERE k > 40 ORDER BY 1, 3, 2",
    "WITH u AS (SELECT k FROM t WHERE k % 7 = 0) SELECT k, COUNT(*), k * 2 FROM u GROUP BY k ORDER BY k",
    "SELECT k, s, n FROM t WHERE 0",
])
def test_rows_read_at_once_equal_those_read_one_by_one_in_order(conn: sqlite3.Connection, sql: str) -> None:
    expected = one_by_one(conn, sql)
    assert rollups.at_once(conn, sql, width=3) == expected
    assert all(type(a) is type(b) for got, want in zip(rollups.at_once(conn, sql, width=3), expected, strict=True)
               for a, b in zip(got, want, strict=True))  # ints stay ints, texts texts, NULL None


def test_parameters_both_ways_and_a_wrong_width(conn: sqlite3.Connection) -> None:
    sql = "SELECT k, s, n FROM t WHERE k BETWEEN ? AND ? ORDER BY rowid"
    assert rollups.at_once(conn, sql, (-3, 3), width=3) == one_by_one(conn, sql, (-3, 3))
    named = "SELECT k, s, n FROM t WHERE k BETWEEN :lo AND :hi ORDER BY rowid"
    assert rollups.at_once(conn, named, {"lo": -3, "hi": 3}, width=3) == one_by_one(conn, sql, (-3, 3))
    with pytest.raises(sqlite3.OperationalError):
        rollups.at_once(conn, sql, (-3, 3), width=2)


def test_sums_read_at_once_and_past_64_bits(conn: sqlite3.Connection) -> None:
    sql = "SELECT k, SUM(n), COUNT(*) FROM t WHERE n BETWEEN -1 AND 2 GROUP BY k ORDER BY k"
    assert rollups.summed(conn, sql, width=3) == one_by_one(conn, sql) == [list(r) for r in rollups.summed(conn, sql)]
    # past 64 bits: SUM fails, TOTAL sums as a real number, read exactly (not as JSON's 15 digits)
    over = "SELECT k, SUM(n), COUNT(*) FROM t WHERE n > 2 GROUP BY k ORDER BY k"
    got = rollups.summed(conn, over, width=3)
    assert [list(r) for r in got] == one_by_one(conn, over.replace("SUM(", "TOTAL("))
    assert any(isinstance(r[1], float) and r[1] > 2**63 for r in got)
