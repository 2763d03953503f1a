"""A trigram index of each report's id and source file, for the free-text filter.

Report ids and source paths are unique per report, so the value table that serves
the other text columns (``text_values``, core/rollups.py) cannot hold them, and a
``LIKE`` over a million of each took about half a second. ``report_text`` is an
FTS5 table of every report's id, path and member (one text, rowid = report id),
cut into trigrams: a term of three characters or more is looked up as the reports
whose text holds all of its trigrams, and those few are then checked with the same
``LIKE`` as before (so a report is found exactly when the ``LIKE`` finds it; the
index only says where to look).

It keeps no copy of the text (``content=''``) nor positions (``detail='none'``):
at a million reports it adds about 40 MB. A deleted report's entry stays behind,
harmless, since every candidate is checked against its row. The import writes it
with the report rows; a bulk import fills it at its end, as it builds its indexes.
SQLite without FTS5 or its trigram tokenizer (before 3.34) has no such table, and
the filter uses the ``LIKE`` over every report; one that meets a table it cannot
read (made elsewhere) leaves it to be filled again where it can, as a bulk import
does, and writes the rest.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Final

from tlsrpt_gui.core import rollups

log = logging.getLogger(__name__)

#: the FTS5 table (and its name in ``deferred_indexes`` while a bulk import runs)
TABLE: Final = "report_text"
CREATE: Final = f"CREATE VIRTUAL TABLE {TABLE} USING fts5(t, tokenize='trigram', content='', detail='none', columnsize=0)"
#: every report's entry, as :func:`text_of` makes it
FILL: Final = (f"INSERT INTO {TABLE} (rowid, t) "
               "SELECT id, report_id || char(10) || source_path || char(10) || source_member FROM reports")
INSERT: Final = f"INSERT INTO {TABLE} (rowid, t) VALUES (?, ?)"
#: empties it (for a bulk import, which fills it again at its end)
CLEAR: Final = f"INSERT INTO {TABLE} ({TABLE}) VALUES ('delete-all')"
#: the shortest term the index can look up (one trigram)
MIN_TERM: Final = 3
#: trigrams of a term looked up at most (a few of a long term already narrow it to its reports)
MAX_TRIGRAMS: Final = 24


#: the tables in which FTS5 keeps the index (with its own settings in a fourth, ``_config``)
SHADOWS: Final = (f"{TABLE}_data", f"{TABLE}_idx")


def copy_from(conn: sqlite3.Connection, schema: str) -> None:
    """Replace the index with the one made in the attached database ``schema`` by the
    same SQLite (see core/index.py, a bulk import's end), inside the caller's transaction."""
    for table in SHADOWS:
        conn.execute(f"DELETE FROM main.{table}")
        conn.execute(f"INSERT INTO main.{table} SELECT * FROM {schema}.{table}")


def text_of(report_id: str, source_path: str, source_member: str) -> str:
    """The indexed text of a report (as :data:`FILL` makes it in SQL)."""
    return f"{report_id}\n{source_path}\n{source_member}"


def create(conn: sqlite3.Connection) -> bool:
    """Create the (empty) table; False if this SQLite has no FTS5 or trigram tokenizer."""
    try:
        conn.execute(CREATE)
    except sqlite3.OperationalError as exc:  # "no such module: fts5", "no such tokenizer: trigram"
        log.info("no free-text index of report ids and sources: %s", exc)
        return False
    return True


def exists(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (TABLE,)).fetchone() is not None


def readable(conn: sqlite3.Connection) -> bool:
    """True if the table exists and this SQLite can read and write it (an index made where
    SQLite has FTS5, opened where it has not, has a table this one cannot use)."""
    try:
        conn.execute(f"SELECT rowid FROM {TABLE} LIMIT 0").fetchall()
    except sqlite3.OperationalError:  # "no such table", "no such module: fts5"
        return False
    return True


def usable(conn: sqlite3.Connection) -> bool:
    """True if the table holds every report: this SQLite can read it, and no bulk import
    has left it to be made again at its end."""
    return readable(conn) and not rollups.deferred(conn, TABLE)


def refill(conn: sqlite3.Connection) -> None:
    """Make it again from every report (inside the caller's transaction)."""
    conn.execute(CLEAR)
    conn.execute(FILL)


def match_query(text: str) -> str | None:
    """The FTS5 query for the reports whose text holds every trigram of ``text`` (its
    case folded, as the tokenizer folds it), or None for a term too short for one."""
    if len(text) < MIN_TERM or "\x00" in text:  # (FTS5 reads a query up to its first NUL only)
        return None
    trigrams = list(dict.fromkeys(text[i : i + MIN_TERM] for i in range(len(text) - MIN_TERM + 1)))
    if len(trigrams) > MAX_TRIGRAMS:  # spread over the term, its ends kept
        step = len(trigrams) / MAX_TRIGRAMS
        trigrams = [trigrams[int(i * step)] for i in range(MAX_TRIGRAMS - 1)] + [trigrams[-1]]
    return " AND ".join('"' + t.replace('"', '""') + '"' for t in trigrams)


def candidates(conn: sqlite3.Connection, query: str, limit: int) -> int:
    """How many reports the index names for ``query``, counting no further than ``limit``."""
    sql = f"SELECT COUNT(*) FROM (SELECT rowid FROM {TABLE} WHERE {TABLE} MATCH ? LIMIT ?)"
    return int(conn.execute(sql, (query, limit)).fetchone()[0])
