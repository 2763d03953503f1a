"""The shared filter narrows each table the way a plain Python filter would."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.core.conftest import CORPUS_DIRS
from tlsrpt_gui.core.index import Index
from tlsrpt_gui.core.query import Filter, common_fields, text_values


@pytest.fixture(scope="module")
def ix(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Index:
    index = Index(tmp_path_factory.mktemp("q") / "q.db")
    index.import_paths([corpus / d for d in CORPUS_DIRS], workers=1)
    return index


def failure_rows(ix: Index) -> list[dict[str, Any]]:
    return [dict(r) for r in ix.rows("SELECT f.*, r.organization_name AS org FROM failure_details f JOIN reports r ON r.id = f.report_id")]


def count(ix: Index, kind: str, flt: Filter) -> int:
    table = {"reports": "reports r", "policies": "policies p", "failures": "failure_details f"}[kind]
    where, params = flt.where(kind)  # type: ignore[arg-type]
    return int(ix.conn.execute(f"SELECT COUNT(*) FROM {table} WHERE {where}", params).fetchone()[0])


def test_empty_filter_is_everything(ix: Index) -> None:
    assert Filter().is_empty()
    t = ix.totals()
    assert (count(ix, "reports", Filter()), count(ix, "policies", Filter()), count(ix, "failures", Filter())) == (t.reports, t.policies, t.failure_details)


@pytest.mark.parametrize(
    "flt",
    [
        Filter(result_type="certificate-expired"),
        Filter(mx_host="mx2.mail.company-y.example"),
        Filter(sending_ip="198.51.100.62"),
        Filter(policy_domain="Company-Y.example."),
        Filter(reporter="Mail.ru"),
        Filter(policy_type="sts", text="bad https"),
        Filter(date_from=date(2024, 1, 1), date_to=date(2024, 12, 31)),
        Filter(text="50%_"),  # LIKE wildcards are literal
    ],
)
def test_failure_filters_match_python(ix: Index, flt: Filter) -> None:
    rows = failure_rows(ix)

    def keep(r: dict[str, Any]) -> bool:
        day = datetime.fromtimestamp(r["start_ts"], UTC).date()
        text_cols = ("result_type", "sending_mta_ip", "receiving_mx_hostname", "receiving_mx_helo", "receiving_ip",
                     "failure_reason_code", "additional_information", "policy_domain", "organization_name")
        return all([
            not flt.result_type or r["result_type"] == flt.result_type,
            not flt.mx_host or r["receiving_mx_hostname"] == flt.mx_host,
            not flt.sending_ip or r["sending_mta_ip"] == flt.sending_ip,
            not flt.policy_domain or r["policy_domain"] == flt.policy_domain.lower().rstrip("."),
            not flt.reporter or r["org"] == flt.reporter,
            not flt.policy_type or r["policy_type"] == flt.policy_type,
            flt.date_from is None or day >= flt.date_from,
            flt.date_to is None or day <= flt.date_to,
            not flt.text or any(flt.text.lower() in (r[c] or "").lower() for c in text_cols),
        ])

    expected = sum(1 for r in rows if keep(r))
    assert count(ix, "failures", flt) == expected
    if flt.text != "50%_":
        assert expected > 0, "the case should match something in the corpus"


def test_report_and_policy_rows_follow_failure_fields(ix: Index) -> None:
    flt = Filter(result_type="sts-policy-fetch-error")
    rows = failure_rows(ix)
    assert count(ix, "reports", flt) == len({r["report_id"] for r in rows if r["result_type"] == flt.result_type})
    assert count(ix, "policies", flt) == len({r["policy_id"] for r in rows if r["result_type"] == flt.result_type})


ALL_FIELDS = frozenset({"reporter", "policy_domain", "policy_type", "result_type", "mx_host", "sending_ip"})
TABLES = {"reports": "reports r", "policies": "policies p", "failures": "failure_details f"}


@pytest.mark.parametrize("flt", [
    Filter(result_type="sts-policy-fetch-error"),
    Filter(policy_domain="company-y.example", policy_type="sts"),
    Filter(reporter="Mail.ru", result_type="sts-policy-fetch-error"),
    Filter(mx_host="mx2.mail.company-y.example", sending_ip="2001:db8:abcd:0013::1"),
    Filter(policy_type="sts", date_from=date(2019, 1, 1)),
], ids=repr)
def test_common_and_rare_forms_select_the_same_rows(ix: Index, flt: Filter) -> None:
    """Filter.where writes a common value's condition another way (for SQLite's plan); the rows are the same."""
    for kind, table in TABLES.items():
        got = []
        for common in (frozenset(), ALL_FIELDS):
            where, params = flt.where(kind, common)  # type: ignore[arg-type]
            got.append(sorted(r[0] for r in ix.conn.execute(f"SELECT {table[-1]}.id FROM {table} WHERE {where}", params)))
        assert got[0] == got[1], kind
        assert got[0], f"{kind}: the case should match something in the corpus"


def test_common_fields_come_from_the_summaries(ix: Index) -> None:
    by_org = dict(ix.conn.execute("SELECT organization_name, COUNT(*) FROM policies GROUP BY 1").fetchall())
    total = sum(by_org.values())
    big = max(by_org, key=lambda k: by_org[k])
    small = min(by_org, key=lambda k: by_org[k])
    assert by_org[big] > 0.02 * total and by_org[small] < by_org[big]
    assert common_fields(ix.conn, Filter(reporter=big)) == {"reporter"}
    assert common_fields(ix.conn, Filter(reporter=big), share=by_org[small] / total) == {"reporter"}
    assert common_fields(ix.conn, Filter(reporter=small), share=by_org[small] / total) == frozenset()
    assert common_fields(ix.conn, Filter(reporter="nobody at all")) == frozenset()
    details = ix.conn.execute("SELECT COUNT(*) FROM failure_details WHERE result_type = 'certificate-expired'").fetchone()[0]
    total_details = ix.conn.execute("SELECT COUNT(*) FROM failure_details").fetchone()[0]
    expect = {"result_type"} if details > 0.02 * total_details else set()
    assert common_fields(ix.conn, Filter(result_type="certificate-expired")) == expect


def test_common_fields_without_summaries_is_empty(tmp_path: Path) -> None:
    import sqlite3

    conn = sqlite3.connect(tmp_path / "old.db")
    assert common_fields(conn, Filter(reporter="x", result_type="y")) == frozenset()


@pytest.mark.parametrize("kind", ["failures", "policies", "reports"])
@pytest.mark.parametrize("term", ["company-y", "MX2.", "2001:db8", "expired", "50%_", "no-such-text-anywhere", "Mail.ru",
                                  "STSv1", "enforce", ".json", "tlsrpt@", "rid-", "Google"])
def test_free_text_through_the_value_table_selects_the_same_rows(ix: Index, term: str, kind: str) -> None:
    flt = Filter(text=term)
    table = TABLES[kind]
    like_where, like_params = flt.where(kind)  # type: ignore[arg-type]
    expected = sorted(r[0] for r in ix.conn.execute(f"SELECT {table[-1]}.id FROM {table} WHERE {like_where}", like_params))
    values = text_values(ix.conn, flt, kind, share=1.0)  # type: ignore[arg-type]  # every term counts as rare here
    assert values is not None
    where, params = flt.where(kind, text_values=values)  # type: ignore[arg-type]
    if kind != "reports":
        assert "LIKE" not in where
    assert sorted(r[0] for r in ix.conn.execute(f"SELECT {table[-1]}.id FROM {table} WHERE {where}", params)) == expected
    if term == "no-such-text-anywhere" and kind != "reports":
        assert where == "0" and not expected
    # the value table of another kind is not applied
    assert flt.where(kind, text_values=text_values(ix.conn, flt, "failures" if kind != "failures" else "policies", share=1.0)) == (like_where, like_params)  # type: ignore[arg-type]


def test_common_free_text_is_checked_in_sort_order(ix: Index) -> None:
    """A term in many rows keeps the walk in sort order (a page is found at once),
    checking each row's values against the term's, except on the column the rows are
    sorted by, whose index finds them in order; among reports, whose ids and sources
    the value table does not hold, a ``LIKE`` checks them."""
    flt = Filter(text="mail")
    assert text_values(ix.conn, flt, "reports") is None
    values = text_values(ix.conn, flt)
    assert values is not None and values.common and "f.receiving_mx_hostname" in values.columns
    like_where, like_params = flt.where("failures")
    expected = sorted(r[0] for r in ix.conn.execute(f"SELECT f.id FROM failure_details f WHERE {like_where}", like_params))
    for lead in ("", "receiving_mx_hostname", "start_ts"):
        where, params = flt.where("failures", (), values, lead)
        assert "LIKE" not in where
        for column in values.columns:
            assert (f"+{column} IN" in where) == (column != f"f.{lead}"), (lead, where)
        assert sorted(r[0] for r in ix.conn.execute(f"SELECT f.id FROM failure_details f WHERE {where}", params)) == expected
    rare = text_values(ix.conn, flt, share=1.0)
    assert rare is not None and not rare.common and "+" not in rare.columns and "+" not in flt.where("failures", (), rare)[0]
    assert text_values(ix.conn, Filter(text="")) is None
    values = text_values(ix.conn, Filter(text="no-such-text-anywhere"))
    assert values is not None and values.columns == {} and not values.common


def _ids_where(ix: Index, kind: str, where: str, params: list[Any]) -> list[int]:
    """The ids of ``kind``'s rows that match ``where``, in order."""
    table = TABLES[kind]
    return sorted(r[0] for r in ix.conn.execute(f"SELECT {table[-1]}.id FROM {table} WHERE {where}", params))


@pytest.mark.parametrize("kind", ["failures", "policies"])
@pytest.mark.parametrize("term", ["mail", "company-y", "expired", "50%_", ",", "STSv1", "."])
def test_a_common_terms_many_values_are_checked_with_its_like_and_find_the_same_rows(
        ix: Index, term: str, kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Walked in sort order, a column with more of a common term's values than
    LIKE_OVER_VALUES is checked with the term's LIKE rather than a lookup in the list of
    them (cheaper per row); its values are exactly those LIKE the term, so the rows are
    the same. A list column's values, when the term has JSON's syntax, are the items'
    (not the JSON's): those stay a list."""
    from tlsrpt_gui.core import query

    monkeypatch.setattr(query, "LIKE_OVER_VALUES", 0)
    flt = Filter(text=term)
    alias = TABLES[kind][-1]
    expected = _ids_where(ix, kind, *flt.where(kind))  # type: ignore[arg-type]
    values = text_values(ix.conn, flt, kind, share=0.0)  # type: ignore[arg-type]  # every term with rows is common
    assert values is not None
    if not expected:
        assert values.columns == {}
        return
    assert values.common
    json_syntax = any(c in term for c in '[]",\\')
    for lead in ("", "start_ts", *(c.split(".", 1)[1] for c in values.columns)):
        where, params = flt.where(kind, (), values, lead)  # type: ignore[arg-type]
        for column in values.columns:
            walked = column != f"{alias}.{lead}"
            listed = json_syntax and column in ("p.policy_strings", "p.mx_hosts")
            assert (f"{column} LIKE" in where) == (walked and not listed), (lead, column, where)
        assert _ids_where(ix, kind, where, params) == expected


@pytest.fixture(scope="module")
def crafted(tmp_path_factory: pytest.TempPathFactory) -> Index:
    """40 reports of one policy and one failure row each, written in SQL: reporters, half of
    whose names hold a comma; MX patterns of two items (a comma and quotes between them in
    the JSON), or of one item that holds a quote, comma and quote itself (escaped in the
    JSON); failure rows whose additional information holds "50%_" or only LIKE's reading
    of it."""
    from tlsrpt_gui.core import rollups

    index = Index(tmp_path_factory.mktemp("crafted") / "c.db")
    c = index.conn
    with c:
        c.execute("""WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 40)
            INSERT INTO reports (id, organization_name, report_id, dedupe_key, contact_info, start_ts, end_ts,
                policy_domains, policy_count, successful_sessions, failed_sessions, failure_detail_count,
                diagnostic_count, worst_severity, source_path, source_member, imported_at)
            SELECT i, 'Org ' || (i % 20) || CASE WHEN i % 20 < 10 THEN ', Inc.' ELSE ' Ltd' END, 'rid-' || i, 'rid-' || i, NULL, 1600000000 + i * 86400,
                1600000000 + i * 86400 + 86399, 'd' || i || '.example', 1, 5, 1, 1, 0, NULL, '/r' || i, '', 0 FROM n""")
        c.execute("""INSERT INTO policies (id, report_id, idx, policy_type, policy_domain, policy_domain_source,
                policy_strings, mx_hosts, sts_mode, successful_sessions, failed_sessions, organization_name,
                start_ts, end_ts, failure_detail_count)
            SELECT id, id, 0, 'sts', policy_domains, 'report', '["version: STSv1","mode: enforce"]',
                CASE WHEN id <= 10 THEN '["mx' || id || '.a.example","mx' || id || '.b.example"]'
                     WHEN id <= 20 THEN '["we\\",\\"mx' || id || '.example"]' ELSE '["mx.example"]' END,
                'enforce', 5, 1, organization_name, start_ts, end_ts, 1 FROM reports""")
        c.execute("""INSERT INTO failure_details (id, report_id, policy_id, result_type, sending_mta_ip,
                receiving_mx_hostname, receiving_mx_helo, receiving_ip, failed_session_count, failure_reason_code,
                additional_information, policy_domain, policy_type, organization_name, start_ts, sts_mode,
                policy_successful, policy_failed, first_of_type)
            SELECT id, id, id, 'validation-failure', NULL, 'mx' || id || '.example', NULL, NULL, 1, NULL,
                CASE WHEN id % 2 THEN '50%_ off ' || id ELSE '500 abc ' || id END, policy_domains, 'sts',
                organization_name, start_ts, 'enforce', 5, 1, 1 FROM reports""")
        rollups.rebuild(c)
    assert c.execute("SELECT mx_hosts FROM policies WHERE id = 11").fetchone()[0] == '["we\\",\\"mx11.example"]'
    return index


@pytest.mark.parametrize(("kind", "term"), [("policies", ","), ("policies", ", "), ("failures", "50%_"),
                                            ("failures", "0%_ off 1"), ("policies", "Org 1")])
def test_a_common_terms_like_keeps_list_items_and_literal_wildcards(
        crafted: Index, kind: str, term: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The term's own LIKE, where it checks a walked column, reads "%" and "_" as
    themselves, and is not used on list columns when the term has JSON's syntax (the
    JSON between two items would match it): the rows are those of the scan in every order."""
    from tlsrpt_gui.core import query

    monkeypatch.setattr(query, "LIKE_OVER_VALUES", 0)
    flt = Filter(text=term)
    expected = _ids_where(crafted, kind, *flt.where(kind))  # type: ignore[arg-type]
    assert 0 < len(expected) < 40
    values = text_values(crafted.conn, flt, kind, share=0.0)  # type: ignore[arg-type]
    assert values is not None and values.common
    likes = 0
    for lead in ("", "start_ts", *(c.split(".", 1)[1] for c in values.columns)):
        where, params = flt.where(kind, (), values, lead)  # type: ignore[arg-type]
        likes += "LIKE" in where
        assert _ids_where(crafted, kind, where, params) == expected, (lead, where)
    assert likes  # (the LIKE was written somewhere)
    if term == ",":  # in the JSON between any two items, but in ten MX items only: their list stays a list
        assert "p.mx_hosts" in values.columns and "p.policy_strings" not in values.columns
        assert "p.mx_hosts LIKE" not in flt.where(kind, (), values, "start_ts")[0]  # type: ignore[arg-type]


def test_a_term_with_what_json_escapes_is_found_in_list_items_by_the_scan(crafted: Index) -> None:
    """List columns are kept as JSON, where an item's quote or backslash is escaped: the
    value table holds them so, and a term with one is not looked up there (it missed the
    items that hold it) but found by the scan of each list's items, in every order."""
    for term, ids in (('","', range(11, 21)), ('we"', range(11, 21)), ('\\', ())):
        flt = Filter(text=term)
        assert text_values(crafted.conn, flt, "policies", share=0.0) is None
        assert text_values(crafted.conn, flt, "failures", share=0.0) is not None  # (no list column there)
        assert _ids_where(crafted, "policies", *flt.where("policies")) == list(ids)


def test_a_term_with_more_values_than_kept_is_left_to_the_scan(crafted: Index, monkeypatch: pytest.MonkeyPatch) -> None:
    """The values looked up are cut at MAX_TEXT_VALUES: a term with more is left to the
    LIKE over every row, even when dropping the JSON around list items would leave fewer
    (a list of values cut short would miss rows in some orders and not in others)."""
    from tlsrpt_gui.core import query

    flt = Filter(text=",")  # in 10 reporters, 20 MX lists (10 of them between items) and the policy strings
    held = crafted.conn.execute("SELECT COUNT(*) FROM text_values WHERE col >= 'p.' AND col < 'p/' AND value LIKE '%,%'").fetchone()[0]
    values = text_values(crafted.conn, flt, "policies", share=0.0)
    assert values is not None and sum(len(v) for v in values.columns.values()) < held - 5
    monkeypatch.setattr(query, "MAX_TEXT_VALUES", held - 5)
    assert text_values(crafted.conn, flt, "policies", share=0.0) is None


def test_a_common_term_sorted_by_its_column_is_looked_up_when_its_values_come_late(
        ix: Index, monkeypatch: pytest.MonkeyPatch) -> None:
    """Sorted by one of a common term's columns, the walk crosses every row before that
    column's first value (unless another column matches sooner): past WALK_ROWS such
    rows, a term in few enough rows to sort (SORT_ROWS) is looked up by index instead,
    with no unary ``+``. The rows before each column's values are counted from the value
    table as the rows themselves say; the rows selected never change."""
    import tlsrpt_gui.core.query as query

    flt = Filter(text="mail")
    values = text_values(ix.conn, flt)
    assert values is not None and values.common and set(values.columns) <= query.INDEXED_TEXT_COLUMNS
    assert values.rows == sum(int(ix.conn.execute(f"SELECT COUNT(*) FROM failure_details f WHERE {c} IN "
                                                  f"({', '.join('?' * len(v))})", v).fetchone()[0])
                              for c, v in values.columns.items())
    for column, vals in values.columns.items():
        asc = ix.conn.execute(f"SELECT COUNT(*) FROM failure_details f WHERE {column} IS NULL OR {column} < ?",
                              (min(vals),)).fetchone()[0]
        desc = ix.conn.execute(f"SELECT COUNT(*) FROM failure_details f WHERE {column} > ?", (max(vals),)).fetchone()[0]
        assert values.before[column] == (asc, desc), column
    column = "f.receiving_mx_hostname"
    lead = column.split(".")[1]
    later = max(values.before[column])
    desc = values.before[column][1] == later
    assert later > 0
    like_where, like_params = flt.where("failures")
    expected = sorted(r[0] for r in ix.conn.execute(f"SELECT f.id FROM failure_details f WHERE {like_where}", like_params))

    def where(walk_rows: int, sort_rows: int) -> str:
        monkeypatch.setattr(query, "WALK_ROWS", walk_rows)
        monkeypatch.setattr(query, "SORT_ROWS", sort_rows)
        sql, params = flt.where("failures", (), values, lead, lead_desc=desc)
        assert sorted(r[0] for r in ix.conn.execute(f"SELECT f.id FROM failure_details f WHERE {sql}", params)) == expected
        return sql

    assert "+" in where(later, values.rows)  # a short walk: walked
    assert "+" not in where(later - 1, values.rows)  # a long one: looked up
    assert "+" in where(later - 1, values.rows - 1)  # too many rows to sort: walked
    # the other order, and a term never sorted by its column, as before
    monkeypatch.setattr(query, "WALK_ROWS", later - 1)
    other = flt.where("failures", (), values, lead, lead_desc=not desc)[0]
    assert ("+" in other) == (values.before[column][0 if desc else 1] <= later - 1)
    assert all(f"+{c} IN" in flt.where("failures", (), values, "start_ts")[0] for c in values.columns)


def test_a_common_field_on_the_lead_column_is_left_to_its_index(ix: Index) -> None:
    flt = Filter(result_type="certificate-expired", reporter="Mail.ru")
    common = {"result_type", "reporter"}
    assert flt.where("failures", common)[0] == "+f.organization_name = ? AND +f.result_type = ?"
    assert flt.where("failures", common, lead="result_type")[0] == "+f.organization_name = ? AND f.result_type = ?"


@pytest.mark.parametrize("term", ["bücher", "BÜCHER", "ücher.exa", "xn--bcher"])
def test_free_text_finds_an_internationalised_domain_as_people_write_it(tmp_path: Path, term: str) -> None:
    """The index keeps a domain as reports give it, in A-labels (``xn--bcher-kva.example``);
    the tables show it in Unicode, and a search for what they show finds it."""
    from tests.core.conftest import make_report, sts_policy, write_json

    details = [{"result-type": "certificate-expired", "receiving-mx-hostname": "mx.xn--bcher-kva.example",
                "failed-session-count": 2}]
    write_json(tmp_path / "in" / "idn.json", make_report(report_id="idn", policies=[
        sts_policy("xn--bcher-kva.example", failed=2, details=details), sts_policy("plain.example")]))
    write_json(tmp_path / "in" / "other.json", make_report(report_id="other", policies=[sts_policy("other.example")]))
    with Index(tmp_path / "idn.db") as idx:
        idx.import_paths([tmp_path / "in"], workers=1)
        def found(kind: str, flt: Filter) -> int:  # as the tables ask (through the value table)
            table = {"reports": "reports r", "policies": "policies p", "failures": "failure_details f"}[kind]
            where, params = flt.where(kind, (), text_values(idx.conn, flt, kind))  # type: ignore[arg-type]
            return int(idx.conn.execute(f"SELECT COUNT(*) FROM {table} WHERE {where}", params).fetchone()[0])

        flt = Filter(text=term)
        assert (found("reports", flt), found("policies", flt), found("failures", flt)) == (1, 1, 1)
        assert found("policies", Filter(text="nothing-like-it-ü")) == 0


@pytest.mark.parametrize("term", ["[", '"', ",", "\\\\", '"mx', "STSv1", "mode: enforce"])
def test_free_text_matches_list_items_never_the_json_around_them(ix: Index, term: str) -> None:
    """Policy strings and MX patterns are kept as JSON lists and shown as their items:
    "[" or a quote matches an item that holds one, not every list."""
    import json

    text_cols = ("policy_domain", "organization_name", "policy_type", "sts_mode")
    expected = set()
    for r in ix.rows("SELECT * FROM policies"):
        items = [*json.loads(r["policy_strings"]), *json.loads(r["mx_hosts"])]
        values = [str(r[c]) for c in text_cols if r[c] is not None] + items
        if any(term.lower() in v.lower() for v in values):
            expected.add(r["id"])
    flt = Filter(text=term)
    for values in (text_values(ix.conn, flt, "policies", share=1.0), None):  # the value table, the scan
        where, params = flt.where("policies", (), values)
        got = {r[0] for r in ix.conn.execute(f"SELECT p.id FROM policies p WHERE {where}", params)}
        assert got == expected, (term, values is None)


# --------------------------------------------------------------------------- report ids and sources


def _report_ids(ix: Index, flt: Filter, values: Any) -> list[int]:
    where, params = flt.where("reports", text_values=values)
    return sorted(r[0] for r in ix.conn.execute(f"SELECT r.id FROM reports r WHERE {where}", params))


def _unique_texts(ix: Index) -> list[str]:
    return [f"{a}\n{b}\n{c}" for a, b, c in ix.conn.execute("SELECT report_id, source_path, source_member FROM reports")]


@pytest.mark.parametrize("term", ["00Z_foo", "JSON.GZ", "eml", "!example", "google.com!", "no-such-text-anywhere",
                                  "r\"q", "Mail.ru", "50%_", "xn--", "2024-", "+RANDOM.net", "drv__", "rid-"])
def test_report_ids_and_sources_are_looked_up_in_the_trigram_index(ix: Index, term: str) -> None:
    """A rare term is looked for in the report ids and sources that the trigram index
    names, and finds exactly the reports a LIKE over every one of them finds."""
    from tlsrpt_gui.core import report_text

    assert report_text.usable(ix.conn)
    flt = Filter(text=term)
    values = text_values(ix.conn, flt, "reports", share=1.0)  # every term counts as rare here
    assert values is not None
    expected = _report_ids(ix, flt, None)  # a LIKE over every report's columns
    assert _report_ids(ix, flt, values) == expected
    in_unique = any(term.lower() in t.lower() for t in _unique_texts(ix))
    assert values.unique == ("trigrams" if in_unique else "none"), values
    where = flt.where("reports", text_values=values)[0]
    assert ("MATCH" in where) == in_unique
    assert "UNION" not in where  # never the LIKE over every report id and source
    if term == "no-such-text-anywhere":
        assert where == "0" and not expected


def test_short_terms_and_common_ones_are_checked_with_like(ix: Index) -> None:
    """A term under three characters has no trigram; one in many report ids or sources
    (here, every file name with ".json") is checked on each report as the rows are walked."""
    short = text_values(ix.conn, Filter(text="ru"), "reports", share=1.0)
    assert short is not None and short.unique == "like" and "UNION" in Filter(text="ru").where("reports", text_values=short)[0]
    assert text_values(ix.conn, Filter(text=".json"), "reports") is None


def test_without_the_trigram_index_report_ids_and_sources_are_read_whole(tmp_path: Path, corpus: Path) -> None:
    """An SQLite without FTS5 (or before the trigram tokenizer) has no such index: the
    ids and sources are read with a LIKE, and the rows are the same."""
    from tlsrpt_gui.core import report_text

    with Index(tmp_path / "i.db") as index:
        index.import_paths([corpus / "reports"], workers=1)
        flt = Filter(text="00Z_")  # in Google's report ids
        with_index = text_values(index.conn, flt, "reports", share=1.0)
        assert with_index is not None and with_index.unique == "trigrams"
        expected = _report_ids(index, flt, with_index)
        assert expected
        with index.conn:
            index.conn.execute(f"DROP TABLE {report_text.TABLE}")
        assert not report_text.usable(index.conn)
        without = text_values(index.conn, flt, "reports", share=1.0)
        assert without is not None and without.unique == "like"
        assert _report_ids(index, flt, without) == expected
        assert index.import_paths([corpus / "dmarc"], workers=1).imported >= 0  # the writer goes on without it


def test_match_query_is_every_trigram_quoted() -> None:
    from tlsrpt_gui.core.report_text import MAX_TRIGRAMS, match_query

    assert match_query("ab") is None
    assert match_query("abcd") == '"abc" AND "bcd"'
    assert match_query('a"bc') == '"a""b" AND """bc"'
    many = match_query("x" * 5 + "".join(chr(65 + i % 26) + str(i) for i in range(60)))
    assert many is not None and many.count(" AND ") == MAX_TRIGRAMS - 1


@pytest.mark.parametrize("term", ["goo\x00gle", "\x00\x00\x00", "rid\x00"])
def test_a_nul_in_the_term_is_searched_as_the_like_searches_it(ix: Index, term: str) -> None:
    """FTS5 reads a query only up to its first NUL (a pasted one survives in the filter
    box): such a term is not looked up in the trigram index, and finds what the LIKE finds."""
    flt = Filter(text=term)
    values = text_values(ix.conn, flt, "reports", share=1.0)  # (None: it matches too many values)
    assert values is None or values.unique == "like"
    assert _report_ids(ix, flt, values) == _report_ids(ix, flt, None)
