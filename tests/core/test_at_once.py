"""rollups.at_once: a query's rows read in one step of SQLite as one JSON text (the
charts' queries, run off the GUI thread), which must give exactly the rows, in the
order, that reading them one by one gives."""

from __future__ import annotations

import random
import sqlite3
from typing import Any

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


def _doubles(rnd: random.Random) -> list[float]:
    """Real numbers of every kind: any 64 bits, rates, the extremes, infinities."""
    import math
    import struct

    out = [struct.unpack("<d", rnd.getrandbits(64).to_bytes(8, "little"))[0] for _ in range(3000)]
    for _ in range(3000):
        ok, failed = rnd.randrange(0, 10**7), rnd.randrange(0, 10**7)
        if ok + failed:
            out += [ok / (ok + failed), 100.0 * ok / (ok + failed), failed * 1.0 / max(ok + failed, 1)]
    out += [0.0, -0.0, 1.0, -1.0, 0.1, 1 / 3, 2 / 3, 5e-324, -5e-324, 2.2250738585072014e-308, 1.7976931348623157e308,
            -1.7976931348623157e308, math.inf, -math.inf, 2.0**53 + 1, 9007199254740993.0, 123456789012345678.0]
    return [x for x in out if x == x]  # (SQLite keeps no NaN: it stores NULL)


def test_exact_rows_are_those_read_one_by_one_real_numbers_exactly() -> None:
    """exact_rows: every value as row-by-row reading gives it, real numbers to the last
    bit (at_once's JSON writes 15 digits), as tuples, in the query's order."""
    rnd = random.Random(8461)
    c = sqlite3.connect(":memory:")
    c.execute("CREATE TABLE t (x, s, n)")
    doubles = _doubles(rnd)
    rows = [(x, rnd.choice([*TEXTS, None, 1.5]), rnd.choice([0, -1, 2**63 - 1, -(2**63), None, 0.25])) for x in doubles]
    c.executemany("INSERT INTO t VALUES (?, ?, ?)", rows)
    for sql in ("SELECT x, s, n FROM t ORDER BY rowid DESC", "SELECT n, x, s FROM t WHERE x > 0 ORDER BY x, rowid",
                "SELECT x / 3, s, n * 2 FROM t ORDER BY s, rowid LIMIT 500 OFFSET 10", "SELECT x, s, n FROM t WHERE 0"):
        expected = c.execute(sql).fetchall()
        got = rollups.exact_rows(c, sql, width=3)
        assert got == expected
        assert [tuple(map(type, r)) for r in got] == [tuple(map(type, r)) for r in expected]
    with pytest.raises(sqlite3.OperationalError):
        rollups.exact_rows(c, "SELECT x, s FROM t", width=3)


def test_exact_rows_of_a_query_with_a_blob_are_read_row_by_row() -> None:
    c = sqlite3.connect(":memory:")
    c.execute("CREATE TABLE t (a, b)")
    c.executemany("INSERT INTO t VALUES (?, ?)", [(1, "x"), (b"\x00\xffblob", 2.5), (None, "y")])
    sql = "SELECT a, b FROM t ORDER BY rowid"
    assert rollups.exact_rows(c, sql, width=2) == c.execute(sql).fetchall()


def test_exact_rows_work_each_column_out_once_a_row_and_end_a_query_anywhere() -> None:
    """SQLite merged the query into the one reading it as JSON, and worked each column's
    expression out once for each use of it there (three times a row); a query ending in a
    comment ended the JSON's query too."""
    c = sqlite3.connect(":memory:")
    calls = [0]

    def third(x: int) -> float:
        calls[0] += 1
        return x / 3

    c.create_function("third", 1, third)
    c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER)")
    c.executemany("INSERT INTO t VALUES (?, ?)", [(i, i) for i in range(1, 21)])
    for sql in ("SELECT third(a), id FROM t WHERE id IN (2, 3, 5, 7)", "SELECT third(a), id FROM t ORDER BY a DESC LIMIT 4",
                "SELECT third(a), id FROM t WHERE a % 5 = 0 ORDER BY id -- the multiples of five"):
        calls[0] = 0
        expected = c.execute(sql).fetchall()
        plain, calls[0] = calls[0], 0
        assert rollups.exact_rows(c, sql, width=2) == expected and len(expected) == 4
        assert calls[0] == plain  # (as often as reading the rows one by one does)


def test_exact_rows_read_row_by_row_where_sqlite_printf_is_not_exact(monkeypatch: pytest.MonkeyPatch) -> None:
    """Before SQLite 3.43, printf's digits are exact to 18 only where ``long double`` has
    64 bits of mantissa: where this SQLite fails the probe, every query is read row by row."""
    c = sqlite3.connect(":memory:")
    exact = all(float(c.execute("SELECT printf('%!.18g', ?)", (x,)).fetchone()[0]) == x for x in rollups._PRINTF_PROBES)
    assert rollups.printf_is_exact(c) is exact
    c.execute("CREATE TABLE t (x REAL, s TEXT)")
    c.executemany("INSERT INTO t VALUES (?, ?)", [(k / 7, str(k)) for k in range(50)])
    statements: list[str] = []
    c.set_trace_callback(statements.append)
    monkeypatch.setattr(rollups, "_printf_exact", False)
    sql = "SELECT x, s FROM t ORDER BY x DESC"
    assert rollups.exact_rows(c, sql, width=2) == c.execute(sql).fetchall()
    assert statements == [sql, sql]  # (row by row, as fetchall)
    monkeypatch.setattr(rollups, "_printf_exact", True)
    statements.clear()
    assert rollups.exact_rows(c, sql, width=2) == c.execute(sql).fetchall()
    assert "json_group_array" in statements[0]


class _NoJson(sqlite3.Connection):
    """A connection as to an SQLite built without its JSON functions."""

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:  # type: ignore[override]
        if "json_" in sql:
            raise sqlite3.OperationalError("no such function: json_group_array")
        return super().execute(sql, *args)


def test_exact_rows_read_row_by_row_where_sqlite_has_no_json() -> None:
    c = sqlite3.connect(":memory:", factory=_NoJson)
    c.execute("CREATE TABLE t (x REAL, s TEXT)")
    c.executemany("INSERT INTO t VALUES (?, ?)", [(k / 7, str(k)) for k in range(50)])
    sql = "SELECT x, s FROM t ORDER BY x DESC"
    assert rollups.exact_rows(c, sql, width=2) == c.execute(sql).fetchall() != []
    with pytest.raises(sqlite3.OperationalError):  # (other errors are raised)
        rollups.exact_rows(c, "SELECT x, s FROM no_such_table", width=2)
