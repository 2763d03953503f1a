"""The table models: the Qt model contract, SQL sorting and filtering against Python."""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import pytest
from PySide6.QtCore import QModelIndex, QModelRoleData, QModelRoleDataSpan, Qt
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import QStyleOptionViewItem

from tests.ui.bigdb import build_big_index
from tests.ui.conftest import fetch_all
from tlsrpt_gui.core.query import FILTER_COLUMNS, Filter
from tlsrpt_gui.ui.formatting import TimeMode
from tlsrpt_gui.ui.models import (
    COPY_ROLE,
    PAGE_SIZE,
    RAW_ROLE,
    REPORT_ID_ROLE,
    RETIRED_SORT_INDEXES,
    ROW_ID_ROLE,
    FailuresModel,
    ImportLogModel,
    PoliciesModel,
    ReportsModel,
    SqlTableModel,
    ensure_sort_indexes,
    keyset_segments,
    missing_sort_indexes,
)

MODELS = (ReportsModel, PoliciesModel, FailuresModel)
ASC, DESC = Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder


@pytest.fixture(scope="module")
def synth_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Several pages of rows, with NULLs in many columns, to exercise keyset paging."""
    db = tmp_path_factory.mktemp("synth") / "synth.sqlite3"
    build_big_index(db, failures=3 * PAGE_SIZE + 37, reports=2 * PAGE_SIZE + 11)
    return db


def _open(db: Path) -> sqlite3.Connection:
    return sqlite3.connect(db)


def _big_sorted_index(tmp_path: Path, failures: int, reports: int) -> sqlite3.Connection:
    """A read-only connection to a big synthetic index with every sort index made."""
    db = tmp_path / "big.sqlite3"
    build_big_index(db, failures=failures, reports=reports)
    with sqlite3.connect(db) as conn:
        ensure_sort_indexes(conn)
    return _open(db)


def _keys_plan(conn: sqlite3.Connection, keys: Any) -> list[str]:
    """The query plan of reading ``keys`` (a model's ``_query().by_keys()``) in its order."""
    return [r[-1] for r in conn.execute(
        f"EXPLAIN QUERY PLAN SELECT {keys.select} FROM {keys.table} WHERE ({keys.where}) ORDER BY {keys.order()}",
        keys.params)]


def _far_jobs_model(db: Path, model_cls: type[SqlTableModel], monkeypatch: pytest.MonkeyPatch,
                    **sizes: int) -> tuple[sqlite3.Connection, SqlTableModel, list[Any]]:
    """A model over ``db`` (and its connection) that leaves each far block it would read
    in the background as a job in the list returned, the models' ``sizes`` (BLOCK_ROWS,
    FAR_ROWS, …) set for the test."""
    from tlsrpt_gui.ui import models

    for name, value in sizes.items():
        monkeypatch.setattr(models, name, value)
    conn = _open(db)
    model = model_cls(conn, TimeMode())
    jobs: list[Any] = []
    model.set_far_reader(lambda job, done: jobs.append(job))
    return conn, model, jobs


def _ids(model: SqlTableModel) -> list[int]:
    return [model.index(r, 0).data(ROW_ID_ROLE) for r in range(model.rowCount())]


def _sql_ids(conn: sqlite3.Connection, model: SqlTableModel) -> list[int]:
    """The ids of the rows that the model's filter matches, in its sort order, as SQL gives them."""
    where, params = model._where()
    return [r[0] for r in conn.execute(
        f"SELECT {model.ID} FROM {model.FROM} WHERE {where} ORDER BY {model._order_sql()}", params)]


def _py_primary(conn: sqlite3.Connection, model: SqlTableModel, column: int, where: str = "1",
                params: tuple[Any, ...] = ()) -> dict[int, Any]:  # fmt: skip
    """The first sort expression of a column, per row id, straight from the table."""
    col = model.COLUMNS[column]
    return dict(
        conn.execute(f"SELECT {model.ID}, {col.sort[0]} FROM {model.FROM} WHERE {where}", params)
    )


def _python_sorted(values: list[Any], desc: bool) -> list[Any]:
    """SQLite order in Python: NULL first when ascending (last when descending)."""
    nulls = [v for v in values if v is None]
    rest = sorted(v for v in values if v is not None)
    return (rest[::-1] + nulls) if desc else (nulls + rest)


@pytest.mark.parametrize("model_cls", [*MODELS, ImportLogModel])
@pytest.mark.parametrize("state", ["default", "sorted", "filtered"])
def test_qtmodeltester(
    qtmodeltester: Any, corpus_db_master: Path, model_cls: type[SqlTableModel], state: str
) -> None:
    conn = _open(corpus_db_master)
    model = model_cls(conn, TimeMode())
    if state == "sorted":
        model.sort(1, DESC)
    elif state == "filtered":
        model.set_filter(Filter(text="google"))
    qtmodeltester.check(model, force_py=True)
    # the tester keeps watching: later changes must follow the contract too
    model.sort(3, ASC)
    model.set_filter(Filter(reporter="Google Inc."))
    model.refresh()
    model.sort(0, DESC)


@pytest.mark.parametrize("model_cls", MODELS)
def test_qtmodeltester_paged(
    qtmodeltester: Any, synth_db: Path, model_cls: type[SqlTableModel]
) -> None:
    model = model_cls(_open(synth_db), TimeMode())
    assert model.canFetchMore(QModelIndex())
    qtmodeltester.check(model, force_py=True)


@pytest.mark.parametrize("model_cls", MODELS)
def test_pages_are_fetched_on_demand(synth_db: Path, model_cls: type[SqlTableModel]) -> None:
    conn = _open(synth_db)
    model = model_cls(conn, TimeMode())
    assert model.rowCount() == PAGE_SIZE
    total = conn.execute(f"SELECT COUNT(*) FROM {model.FROM}").fetchone()[0]
    assert total > 2 * PAGE_SIZE
    fetch_all(model)
    ids = _ids(model)
    assert len(ids) == total == len(set(ids))


def test_deep_scrolls_take_few_pages(synth_db: Path) -> None:
    """Each further page is four times larger: 3 x 200 + 37 failure rows are one fetch
    from the first page (doubling pages would take two), each page a full query."""
    conn = _open(synth_db)
    model = FailuresModel(conn, TimeMode())
    total = conn.execute("SELECT COUNT(*) FROM failure_details").fetchone()[0]
    assert model.rowCount() == PAGE_SIZE < total <= 4 * PAGE_SIZE + PAGE_SIZE
    model.fetchMore(QModelIndex())
    assert model.rowCount() == total and not model.canFetchMore(QModelIndex())


@pytest.mark.parametrize("model_cls", MODELS)
@pytest.mark.parametrize("order", [ASC, DESC])
def test_every_column_sorts_like_python(
    synth_db: Path, model_cls: type[SqlTableModel], order: Qt.SortOrder
) -> None:
    conn = _open(synth_db)
    model = model_cls(conn, TimeMode())
    for column in range(model.columnCount()):
        model.sort(column, order)
        fetch_all(model)
        ids = _ids(model)
        primary = _py_primary(conn, model, column)
        assert sorted(ids) == sorted(primary), model.COLUMNS[column].key
        shown = [primary[i] for i in ids]
        assert shown == _python_sorted(list(primary.values()), order == DESC), model.COLUMNS[
            column
        ].key


@pytest.mark.parametrize("model_cls", MODELS)
def test_every_column_sorts_corpus(corpus_db_master: Path, model_cls: type[SqlTableModel]) -> None:
    conn = _open(corpus_db_master)
    model = model_cls(conn, TimeMode())
    for column in range(model.columnCount()):
        for order in (ASC, DESC):
            model.sort(column, order)
            fetch_all(model)
            primary = _py_primary(conn, model, column)
            shown = [primary[i] for i in _ids(model)]
            assert shown == _python_sorted(list(primary.values()), order == DESC)


def test_the_source_column_shows_what_it_sorts_by(qtbot: Any, corpus_db_master: Path) -> None:
    """The Source column sorts by path: it shows the whole path (eliding its start), so its
    rows read in order; it showed the file name alone, out of order across folders."""
    from tlsrpt_gui.ui.main_window import TablePage

    model = ReportsModel(_open(corpus_db_master), TimeMode())
    page = TablePage("reports", model)
    qtbot.addWidget(page)
    column = next(i for i, c in enumerate(model.COLUMNS) if c.key == "source")
    for order in (ASC, DESC):
        model.sort(column, order)
        fetch_all(model)
        shown = [model.index(r, column).data() for r in range(model.rowCount())]
        assert shown == sorted(shown, reverse=order == DESC) and len({s.split("/")[-2] for s in shown}) > 1
    page.resize(900, 400)
    page.show()
    option = QStyleOptionViewItem()
    page.view.itemDelegateForColumn(column).initStyleOption(option, model.index(0, column))
    assert option.textElideMode == Qt.TextElideMode.ElideLeft


#: every role a view or the window asks of a cell, and some the models never answer
_ROLES: Final = (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.TextAlignmentRole,
                 Qt.ItemDataRole.ForegroundRole, Qt.ItemDataRole.BackgroundRole, Qt.ItemDataRole.FontRole,
                 Qt.ItemDataRole.DecorationRole, Qt.ItemDataRole.CheckStateRole, Qt.ItemDataRole.SizeHintRole,
                 ROW_ID_ROLE, REPORT_ID_ROLE, COPY_ROLE, RAW_ROLE)


def _multi(model: SqlTableModel, index: QModelIndex, role: int) -> Any:
    """What ``model.multiData`` answers for one role (``None`` where it clears it)."""
    item = QModelRoleData(role)
    item.setData("stale")  # (a value a view left there must go)
    model.multiData(index, QModelRoleDataSpan(item))
    return item.data()


@pytest.mark.parametrize("model_cls", MODELS)
def test_every_cell_answers_all_its_roles_at_once_as_one_by_one(
        qtbot: Any, corpus_db_master: Path, model_cls: type[SqlTableModel], monkeypatch: pytest.MonkeyPatch) -> None:
    """The views ask seven roles of each cell they paint in one call (multiData), which
    the models answer from what they worked out when the row was first shown: the same
    as worked out role by role now, also after the time zone, the theme or the sort
    changed."""
    from PySide6.QtWidgets import QStyledItemDelegate

    from tlsrpt_gui.ui.general_prefs import apply_theme

    monkeypatch.setenv("TZ", "XST-13")  # (a day ahead of UTC for most of it: dates differ)
    time.tzset()
    mode = TimeMode(utc=True)
    conn = _open(corpus_db_master)
    model = model_cls(conn, mode)
    fetch_all(model)
    assert model.rowCount() > 5
    delegate = QStyledItemDelegate()

    def check() -> None:
        for r in range(model.rowCount()):
            row = model._row(r)
            assert row is not None
            for c, col in enumerate(model.COLUMNS):
                index = model.index(r, c)
                expected = {  # (as the models work each out, now)
                    Qt.ItemDataRole.DisplayRole: model._display(c, row),
                    Qt.ItemDataRole.ForegroundRole: model._foreground(c, row),
                    Qt.ItemDataRole.BackgroundRole: model._background(row),
                    Qt.ItemDataRole.FontRole: model._font(c, row),
                    Qt.ItemDataRole.TextAlignmentRole: int((Qt.AlignmentFlag.AlignRight if col.numeric
                                                            else Qt.AlignmentFlag.AlignLeft) | Qt.AlignmentFlag.AlignVCenter),
                }
                for role in _ROLES:
                    assert _multi(model, index, role) == model.data(index, role), (r, c, role)
                    if role in expected:
                        assert model.data(index, role) == expected[role], (r, c, role)
                option = QStyleOptionViewItem()  # the delegates' own request, all roles at once
                delegate.initStyleOption(option, index)
                assert option.text == expected[Qt.ItemDataRole.DisplayRole]
                assert option.displayAlignment == Qt.AlignmentFlag(expected[Qt.ItemDataRole.TextAlignmentRole])
                background = expected[Qt.ItemDataRole.BackgroundRole]
                assert option.backgroundBrush == (background if background is not None else QBrush())

    try:
        check()
        mode.set_utc(False)
        check()
        apply_theme("dark")
        check()
        model.sort(1, DESC)
        fetch_all(model)
        check()
    finally:
        apply_theme("system")
        monkeypatch.undo()
        time.tzset()


def test_sorting_by_header_click(qtbot: Any, corpus_db_master: Path) -> None:
    from PySide6.QtWidgets import QTableView

    model = FailuresModel(_open(corpus_db_master), TimeMode())
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(model)
    view.setSortingEnabled(True)
    view.sortByColumn(5, ASC)  # failed sessions
    counts = [model.index(r, 5).data(RAW_ROLE)[0] for r in range(model.rowCount())]
    assert counts == sorted(counts) and len(set(counts)) > 1
    view.sortByColumn(5, DESC)
    counts = [model.index(r, 5).data(RAW_ROLE)[0] for r in range(model.rowCount())]
    assert counts == sorted(counts, reverse=True)


def test_keyset_segments_cover_nulls() -> None:
    segs = keyset_segments(["a", "id"], [None, 5], desc=False)
    assert segs == [("a IS NULL AND id > ?", [5]), ("a IS NOT NULL", [])]
    segs = keyset_segments(["a", "id"], ["x", 5], desc=True)
    assert segs == [("a = ? AND id < ?", ["x", 5]), ("a < ?", ["x"]), ("a IS NULL", [])]


def _all_failures(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    cur = conn.cursor()
    cur.row_factory = sqlite3.Row
    return list(cur.execute("SELECT * FROM failure_details"))


def test_filters_narrow_failures_like_python(corpus_db_master: Path) -> None:
    conn = _open(corpus_db_master)
    rows = _all_failures(conn)
    model = FailuresModel(conn, TimeMode())
    assert model.rowCount() == len(rows)

    def check(flt: Filter, keep: Any) -> None:
        model.set_filter(flt)
        fetch_all(model)
        expected = sorted(r["id"] for r in rows if keep(r))
        assert sorted(_ids(model)) == expected, flt
        assert 0 < len(expected) < len(rows), f"filter {flt} must narrow the corpus"

    some = rows[0]
    check(
        Filter(policy_domain=some["policy_domain"]),
        lambda r: r["policy_domain"] == some["policy_domain"],
    )
    check(Filter(reporter="Google Inc."), lambda r: r["organization_name"] == "Google Inc.")
    check(
        Filter(result_type=some["result_type"]), lambda r: r["result_type"] == some["result_type"]
    )
    starts = sorted({r["start_ts"] for r in rows})
    day = datetime.fromtimestamp(starts[len(starts) // 2], UTC).date()
    from tlsrpt_gui.core.query import day_start

    check(Filter(date_from=day), lambda r: r["start_ts"] >= day_start(day))
    check(Filter(date_to=day), lambda r: r["start_ts"] < day_start(day) + 86400)
    needle = "mx"

    def has_text(r: sqlite3.Row) -> bool:
        cols = ("result_type", "sending_mta_ip", "receiving_mx_hostname", "receiving_mx_helo", "receiving_ip",
                "failure_reason_code", "additional_information", "policy_domain", "organization_name")  # fmt: skip
        return any(needle in (r[c] or "").lower() for c in cols)

    check(Filter(text="MX"), has_text)


def test_filters_narrow_reports_and_policies(corpus_db_master: Path) -> None:
    conn = _open(corpus_db_master)
    reports = ReportsModel(conn, TimeMode())
    policies = PoliciesModel(conn, TimeMode())
    all_reports = reports.rowCount()
    flt = Filter(policy_domain="example.com")
    reports.set_filter(flt)
    policies.set_filter(flt)
    pol = conn.execute(
        "SELECT id, report_id FROM policies WHERE policy_domain = 'example.com'"
    ).fetchall()
    assert sorted(_ids(policies)) == sorted(p[0] for p in pol)
    assert sorted(_ids(reports)) == sorted({p[1] for p in pol})
    policies.set_filter(Filter(policy_type="tlsa"))
    tlsa = conn.execute("SELECT id FROM policies WHERE policy_type = 'tlsa'").fetchall()
    assert sorted(_ids(policies)) == sorted(p[0] for p in tlsa) and tlsa
    assert 0 < reports.rowCount() < all_reports
    reports.set_filter(Filter(text="no-such-text-anywhere"))
    assert reports.rowCount() == 0
    reports.set_filter(Filter())
    assert reports.rowCount() == all_reports


def test_numbers_right_aligned_and_dates_formatted(corpus_db_master: Path) -> None:
    model = ReportsModel(_open(corpus_db_master), TimeMode())
    num = model.index(0, 4).data(Qt.ItemDataRole.TextAlignmentRole)
    text = model.index(0, 0).data(Qt.ItemDataRole.TextAlignmentRole)
    assert num & Qt.AlignmentFlag.AlignRight
    assert not text & Qt.AlignmentFlag.AlignRight
    period = model.index(0, 2).data()
    assert period and "unixepoch" not in period and not period.isdigit()


def test_idn_domains_shown_in_unicode(corpus_db_master: Path) -> None:
    from tlsrpt_gui.ui.models import COPY_ROLE

    model = PoliciesModel(_open(corpus_db_master), TimeMode())
    model.set_filter(Filter(policy_domain="xn--gpher-jua.test"))
    assert model.rowCount() >= 1
    idx = model.index(0, 0)
    assert idx.data() == "göpher.test"
    assert "xn--gpher-jua.test" in idx.data(Qt.ItemDataRole.ToolTipRole)
    assert idx.data(COPY_ROLE) == "xn--gpher-jua.test"


def test_utc_and_local_time(corpus_db_master: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mode = TimeMode(utc=True)
    model = FailuresModel(_open(corpus_db_master), mode)
    col = [c.key for c in model.COLUMNS].index("date")
    hour = datetime.fromtimestamp(model.index(0, col).data(RAW_ROLE)[0], UTC).hour
    # a zone far enough east or west that the local day differs from the UTC day
    monkeypatch.setenv("TZ", "XST-13" if hour >= 11 else "XST+12")
    time.tzset()
    try:
        utc_text = model.index(0, col).data()
        changed: list[Any] = []
        model.dataChanged.connect(lambda *a: changed.append(a))
        mode.set_utc(False)
        assert changed, "switching the time zone must repaint the dates"
        assert model.index(0, col).data() != utc_text
        assert "UTC" not in model.index(0, col).data(Qt.ItemDataRole.ToolTipRole)
        mode.set_utc(True)
        assert model.index(0, col).data() == utc_text
    finally:
        monkeypatch.undo()
        time.tzset()


@pytest.mark.slow
def test_responsive_on_a_large_index(tmp_path: Path) -> None:
    """Every sort and every page stays far below 200 ms (a scaled-down 1M-row check)."""
    db = tmp_path / "big.sqlite3"
    build_big_index(db, failures=100_000, reports=2_000)
    with sqlite3.connect(db) as conn:
        ensure_sort_indexes(conn)
    conn = sqlite3.connect(db)
    model = FailuresModel(conn, TimeMode())
    worst = 0.0
    for column in range(model.columnCount()):
        for order in (ASC, DESC):
            t = time.perf_counter()
            model.sort(column, order)
            for _ in range(5):
                model.fetchMore(QModelIndex())
            worst = max(worst, (time.perf_counter() - t) / 6)
    assert worst < 0.2, f"slowest sort or page took {worst * 1000:.0f} ms"
    t = time.perf_counter()
    model.set_filter(Filter(policy_domain="dom5.example"))
    assert time.perf_counter() - t < 0.2
    assert model.rowCount() == PAGE_SIZE


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_value_colours_follow_the_theme_and_the_charts(qapp: Any, synth_db: Path, theme: str) -> None:
    """The tables colour a result type by its RFC 8460 category and a rate as the charts
    do, in the shade of the theme (fixed light-theme colours were unreadable on dark)."""
    from tlsrpt_gui.core.report import result_category
    from tlsrpt_gui.ui.general_prefs import apply_theme
    from tlsrpt_gui.ui.palette import DARK, LIGHT

    palette = DARK if theme == "dark" else LIGHT
    apply_theme(theme)
    try:
        failures = FailuresModel(_open(synth_db), TimeMode())
        for row in range(20):
            rt = failures.index(row, 0).data()
            assert failures.index(row, 0).data(Qt.ItemDataRole.ForegroundRole).color().name() == \
                palette.categories[result_category(rt)]
        policies = PoliciesModel(_open(synth_db), TimeMode())
        col = [c.key for c in policies.COLUMNS].index("failure_rate")
        seen = set()
        for row in range(policies.rowCount()):
            brush = policies.index(row, col).data(Qt.ItemDataRole.ForegroundRole)
            if brush is not None:
                seen.add(brush.color().name())
        assert seen and seen <= {palette.success, palette.failure, palette.policy_kinds["sts-testing"]}
    finally:
        apply_theme("system")


@pytest.mark.parametrize(("flt", "column"), [(Filter(result_type="certificate-expired"), "result_type"),
                                             (Filter(reporter="org3.example"), "organization_name"),
                                             (Filter(text="mx1"), "receiving_mx_hostname")])
def test_a_filter_on_the_sort_column_seeks_through_its_index(tmp_path: Path, flt: Filter, column: str) -> None:
    """A common value is checked while the sort order is walked; but sorted by its own
    column, that walk (backwards, say) crossed every other value's rows first: half a
    second and more at a million rows (a common free-text term found only in MX
    hosts, sorted by MX host, 3 to 7 s). The value's index gives both: it seeks."""
    db = tmp_path / "big.sqlite3"
    build_big_index(db, failures=20_000, reports=2_000)
    conn = _open(db)
    model = FailuresModel(conn, TimeMode())
    model.set_filter(flt)
    # the value is common: other sorts walk their order
    assert model._common or (model._text_values is not None and model._text_values.common)
    c = next(i for i, col in enumerate(model.COLUMNS) if col.key == column)
    like_where, like_params = flt.where("failures")
    expected = {r[0] for r in conn.execute(f"SELECT f.id FROM {model.FROM} WHERE {like_where}", like_params)}
    for order in (ASC, DESC):
        model.sort(c, order)
        where, params = model._where()
        plan = " ".join(r[-1] for r in conn.execute(
            f"EXPLAIN QUERY PLAN SELECT f.id FROM {model.FROM} WHERE ({where}) ORDER BY {model._order_sql()} LIMIT 200", params))
        assert plan.startswith("SEARCH f USING") and f"({column}=?)" in plan, plan
        fetch_all(model)
        assert {model.row_id(r) for r in range(model.rowCount())} == expected
        values = [model.index(r, c).data(RAW_ROLE)[0] for r in range(model.rowCount())]
        assert values == sorted(values, reverse=order == DESC)
        if not flt.text:
            assert set(values) == {flt.result_type or flt.reporter}


@pytest.mark.parametrize(("flt", "column"), [(Filter(result_type="certificate-expired"), "receiving_mx_helo"),
                                             (Filter(result_type="certificate-expired"), "policy_type"),
                                             (Filter(policy_type="tlsa"), "receiving_mx_helo"),
                                             (Filter(reporter="org5.example"), "receiving_mx_helo")])
def test_a_common_type_sorted_by_a_long_run_column_is_checked_in_the_index(tmp_path: Path, flt: Filter, column: str) -> None:
    """Sorted by HELO (most rows have none) or policy type, a common result or policy
    type's rows can come after a long run of others: the walk to them checked each row
    in the table (0.2 to 0.4 s at a million rows). The sort indexes carry the types (and
    the HELO order the reporter), so the walk checks them in the index; the sort indexes
    they replace are dropped."""
    db = tmp_path / "big.sqlite3"
    build_big_index(db, failures=20_000, reports=2_000)
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE INDEX ui_failures_helo ON failure_details (receiving_mx_helo)")  # as earlier versions made it
        assert ensure_sort_indexes(conn) and not missing_sort_indexes(conn)
        indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert indexes.isdisjoint(RETIRED_SORT_INDEXES)
    conn = _open(db)
    model = FailuresModel(conn, TimeMode())
    model.set_filter(flt)
    assert model._common
    field, value = next((c, v) for c, v in (("result_type", flt.result_type), ("policy_type", flt.policy_type),
                                            ("organization_name", flt.reporter)) if v)
    c = next(i for i, col in enumerate(model.COLUMNS) if col.key == column)
    keys = ", ".join(model.COLUMNS[c].sort)
    for order in (ASC, DESC):
        model.sort(c, order)
        where, params = model._where()
        plan = " ".join(r[-1] for r in conn.execute(
            f"EXPLAIN QUERY PLAN SELECT {model._select_list()} FROM {model.FROM} WHERE ({where}) "
            f"ORDER BY {model._order_sql()} LIMIT 200", params))
        assert plan.startswith("SCAN f USING INDEX ") and "TEMP B-TREE" not in plan, plan
        index = plan.split()[4]
        assert field in {r[2] for r in conn.execute(f"PRAGMA index_info({index})")}, plan
        fetch_all(model)
        d = " DESC" if order == DESC else ""
        expected = [r[0] for r in conn.execute(
            f"SELECT f.id FROM {model.FROM} WHERE f.{field} = ? ORDER BY {keys.replace(',', d + ',')}{d}, f.id{d}",
            [value])]
        assert [model.row_id(r) for r in range(model.rowCount())] == expected


def test_a_table_loads_at_most_its_cap_of_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Scrolled through a million failure rows, the window held 930 MB: a table loads at
    most MAX_LOADED_ROWS (in pages that still grow), says it stopped there, and the
    other sort order shows the rows beyond."""
    from tlsrpt_gui.ui import models

    monkeypatch.setattr(models, "MAX_LOADED_ROWS", 1000)
    db = tmp_path / "big.sqlite3"
    build_big_index(db, failures=3000, reports=300)
    conn = _open(db)
    model = FailuresModel(conn, TimeMode())
    model.sort(11, ASC)
    assert not model.capped
    fetch_all(model)
    assert model.rowCount() == model.loaded_rows == 1000 and model.capped and not model.canFetchMore(QModelIndex())
    everything = [r[0] for r in conn.execute(f"SELECT f.id FROM {model.FROM} ORDER BY {model._order_sql()}")]
    assert _ids(model) == everything[:1000]
    model.refresh()  # keeps what was loaded, no more
    assert _ids(model) == everything[:1000] and model.capped
    model.sort(11, DESC)
    fetch_all(model)
    assert _ids(model) == everything[::-1][:1000]
    model.set_filter(Filter(policy_domain="dom1.example"))  # fewer rows than the cap: all of them, not capped
    fetch_all(model)
    assert not model.capped and model.rowCount() == conn.execute(
        "SELECT COUNT(*) FROM failure_details WHERE policy_domain = 'dom1.example'").fetchone()[0] < 1000


@pytest.mark.parametrize("model_cls", MODELS)
@pytest.mark.parametrize("order", [ASC, DESC])
@pytest.mark.parametrize("keys_first", [1000, 3], ids=["keys-first-far", "keys-first-always"])
def test_far_rows_read_in_blocks_match_the_sql_order(synth_db: Path, model_cls: type[SqlTableModel],
                                                     order: Qt.SortOrder, monkeypatch: pytest.MonkeyPatch,
                                                     keys_first: int) -> None:
    """Counted, a table is as long as its rows; any row, read from the nearest row in
    memory or from the end, in any order of asking, is the one SQL puts there (with
    NULLs, ties and every column's order), and at most MAX_BLOCKS blocks stay in memory."""
    import random

    from tlsrpt_gui.ui import models

    monkeypatch.setattr(models, "KEYS_FIRST_ROWS", keys_first)  # (3: every read that skips finds its start by the keys)
    monkeypatch.setattr(models, "BLOCK_ROWS", 7)
    monkeypatch.setattr(models, "MAX_BLOCKS", 5)
    conn = _open(synth_db)
    model = model_cls(conn, TimeMode())
    rng = random.Random(8460)
    for column in range(model.columnCount()):
        model.sort(column, order)
        expected = [r[0] for r in conn.execute(f"SELECT {model.ID} FROM {model.FROM} ORDER BY {model._order_sql()}")]
        assert model.loaded_rows < len(expected) and model.canFetchMore(QModelIndex())
        assert not model.set_total(model.loaded_rows - 1)  # a count below the rows loaded cannot be right
        assert model.set_total(len(expected)) and model.counted and model.rowCount() == len(expected)
        rows = [len(expected) - 1, len(expected) // 2, model.loaded_rows, *rng.sample(range(len(expected)), 40),
                *range(len(expected) // 3, len(expected) // 3 + 20), *range(len(expected) - 30, len(expected) - 60, -1)]
        got = [model.index(r, 0).data(ROW_ID_ROLE) for r in rows]
        assert got == [expected[r] for r in rows], model.COLUMNS[column].key
        assert len(model._blocks) <= 5


@pytest.mark.parametrize("model_cls", MODELS)
@pytest.mark.parametrize("order", [ASC, DESC])
@pytest.mark.parametrize("keys_first", [1000, 3], ids=["keys-first-far", "keys-first-always"])
def test_far_rows_read_from_signposts_match_the_sql_order(synth_db: Path, model_cls: type[SqlTableModel],
                                                           order: Qt.SortOrder, monkeypatch: pytest.MonkeyPatch,
                                                          keys_first: int) -> None:
    """With its signposts read (the keys of every SIGNPOST_ROWS-th row), a block far from
    every row in memory is read from the nearest signpost, at once: in every column's
    order, filtered too, each row is the one SQL puts there."""
    import random

    # (KEYS_FIRST_ROWS 3: every read that skips finds its start by the keys)
    conn, model, jobs = _far_jobs_model(synth_db, model_cls, monkeypatch, KEYS_FIRST_ROWS=keys_first, BLOCK_ROWS=7,
                                        MAX_BLOCKS=5, SIGNPOST_ROWS=13, FAR_ROWS=40)
    rng = random.Random(8461)
    plans: list[Any] = []
    original = model._block_plan
    monkeypatch.setattr(model, "_block_plan", lambda k: plans.append(original(k)) or plans[-1])
    for flt in (Filter(), Filter(text="a")):
        model.set_filter(flt)
        for column in range(model.columnCount()):
            model.sort(column, order)
            expected = _sql_ids(conn, model)
            if len(expected) < model.loaded_rows + 2 * 13:
                continue
            assert model.signpost_reader() is None  # not counted yet
            assert model.set_total(len(expected))
            signposts = model.signpost_reader()
            assert signposts is not None and not model.has_signposts
            middle = (model.loaded_rows + len(expected)) // 2  # far from every row in memory
            assert model.index(middle, 0).data() == "…" and model.is_pending(middle) and len(jobs) == 1
            jobs.clear()  # (the window's reader would still read it: the signposts come first)
            assert not signposts.give(signposts.read(conn)[:-1])  # not as many as counted: not taken
            changed: list[int] = []
            model.dataChanged.connect(lambda a, b, *_, changed=changed: changed.extend(range(a.row(), b.row() + 1)))
            assert signposts.give(signposts.read(conn)) and model.has_signposts
            # the block awaited is asked for again, and read at once
            assert middle in changed and not model.is_pending(middle)
            assert model.index(middle, 0).data(ROW_ID_ROLE) == expected[middle] and not jobs
            model.dataChanged.disconnect()
            assert model.signpost_reader() is None  # (read once)
            rows = rng.sample(range(model.loaded_rows, len(expected)), 25)
            plans.clear()
            got = [model.index(r, 0).data(ROW_ID_ROLE) for r in rows]
            assert got == [expected[r] for r in rows], (flt, model.COLUMNS[column].key)
            assert not jobs and all(p.skip <= 13 for p in plans)


@pytest.mark.parametrize("model_cls", MODELS)
@pytest.mark.parametrize("order", [ASC, DESC])
def test_far_rows_and_signposts_sought_through_the_filter_match_the_sql_order(
        synth_db: Path, model_cls: type[SqlTableModel], order: Qt.SortOrder, monkeypatch: pytest.MonkeyPatch) -> None:
    """A far read whose walk in sort order would check many more rows than the filter
    matches (SEEK_WALK_RATIO), and the signposts of a filter matching few rows
    (SEEK_SIGNPOST_SHARE), read the matching rows through the filter's indexes and sort
    them: from the start, from the end and after a row in memory, each row and each
    signpost is the one SQL puts there."""
    import random

    from tlsrpt_gui.ui import models

    for name, value in (("KEYS_FIRST_ROWS", 3), ("BLOCK_ROWS", 7), ("MAX_BLOCKS", 5), ("SIGNPOST_ROWS", 13),
                        ("PAGE_SIZE", 5), ("MAX_PAGE_SIZE", 5), ("SEEK_WALK_RATIO", 0.0), ("SEEK_SIGNPOST_SHARE", 1.0)):
        monkeypatch.setattr(models, name, value)
    conn = _open(synth_db)
    model = model_cls(conn, TimeMode())
    rng = random.Random(8462)
    sought = 0
    for flt in (Filter(reporter="org1.example"), Filter(result_type="certificate-expired"), Filter(text="org1"),
                Filter(policy_type="sts"), Filter(text="dom"), Filter(date_from=datetime(2020, 9, 1, tzinfo=UTC).date(), result_type="starttls-not-supported")):
        model.set_filter(flt)
        for column in range(model.columnCount()):
            model.sort(column, order)
            expected = _sql_ids(conn, model)
            if len(expected) < 30:
                continue
            assert model.set_total(len(expected))
            seek = model._seeking(None)
            sought += bool(seek.seek_where)
            if seek.seek_where:  # the same rows, each value's index driving
                assert "+" not in seek.seek_where.replace("+(", "(") and seek.seek_where != model._query().where
            reader = model.signpost_reader()
            assert reader is not None
            signposts = reader.read(conn)
            assert [s[-1] for s in signposts] == expected[12::13], (flt, model.COLUMNS[column].key)
            rows = [len(expected) - 1, len(expected) // 2, model.loaded_rows + 4, *rng.sample(range(len(expected)), 12)]
            got = [model.index(r, 0).data(ROW_ID_ROLE) for r in rows]
            assert got == [expected[r] for r in rows], (flt, model.COLUMNS[column].key)
    assert sought >= 3  # (most orders have a covering index, or no index for the filter to drive)


@pytest.mark.parametrize("model_cls", MODELS)
def test_rows_in_a_tie_are_read_in_index_order(tmp_path: Path, model_cls: type[SqlTableModel]) -> None:
    """A keyset segment that fixes the first keys (``rate = ? AND id > ?``) orders by the
    keys it leaves free: ordered by all of them, SQLite sorted the whole tie in a temporary
    B-tree when the fixed key is an expression (the success rate, 100 % for 699,997 of a
    million reports: each jump into them froze the window for up to 3.9 s)."""
    from tlsrpt_gui.ui.models import keyset_parts

    conn = _big_sorted_index(tmp_path, failures=2000, reports=500)
    model = model_cls(conn, TimeMode())
    checked = 0
    for column in range(model.columnCount()):
        for order in (ASC, DESC):
            model.sort(column, order)
            query, row = model._query(), model._rows[len(model._rows) // 2]
            for reverse in (False, True):
                parts = keyset_parts(query.keys, row[: len(query.keys)], query.desc != reverse)
                for (sql, params, _, _), (_, _, fixed) in zip(query.segments_after(row, reverse), parts, strict=True):
                    if fixed:
                        plan = " ".join(r[-1] for r in conn.execute(f"EXPLAIN QUERY PLAN {sql}", [*params, 10, 0]))
                        assert "TEMP B-TREE FOR ORDER BY" not in plan, (model.COLUMNS[column].key, sql, plan)
                        checked += 1
            got = query.rows_after(conn, row, 5, skip=3)
            expected = list(conn.execute(f"SELECT {query.select} FROM {query.table} ORDER BY {query.order()}"))
            at = expected.index(row)
            assert got == expected[at + 4 : at + 9]
    assert checked > 2 * model.columnCount()


#: per table: the failure rows' key to it, and the orders (and filters) in which its rows
#: with no failure row come first, the first one run: failed sessions, the rate, and one
#: that is not
_THROUGH_FAILURE_ROWS: Final = {
    ReportsModel: ("report_id", [("failed_sessions", ASC), ("success_rate", DESC), ("period", ASC)],
                   [Filter(result_type="certificate-expired"), Filter(mx_host="mx3.dom3.example")]),
    PoliciesModel: ("policy_id", [("failed_sessions", ASC), ("failure_rate", ASC), ("period", DESC)],
                    [Filter(result_type="certificate-expired"), Filter(sending_ip="192.0.2.7")]),
}


@pytest.mark.parametrize(("model_cls", "key", "order", "flt"), [
    (cls, key, order, flt) for cls, (_, orders, filters) in _THROUGH_FAILURE_ROWS.items()
    for key, order in orders for flt in filters])
def test_rows_filtered_through_failure_rows_walk_only_those_with_some(tmp_path: Path, model_cls: type[SqlTableModel],
                                                                      key: str, order: Qt.SortOrder, flt: Filter) -> None:
    """Sorted by failed sessions or success (failure) rate, the reports (policies) with no
    failure come first (seven in ten at a million reports): the walk to a common result
    type's rows crossed them all (0.2-0.65 s). A filter through failure rows implies some
    (each report and, since schema 6, each policy counts its failure rows), and the sort
    indexes over the rows with failure rows serve those orders; the rows are those of the
    filter without that condition."""
    fk = _THROUGH_FAILURE_ROWS[model_cls][0]
    table, a = model_cls.FROM.split()
    db = tmp_path / "big.sqlite3"
    build_big_index(db, failures=1500, reports=5000)
    with sqlite3.connect(db) as conn:  # as an import writes them: only rows with failure rows count some
        conn.execute(f"UPDATE {table} SET failure_detail_count = (SELECT COUNT(*) FROM failure_details f "
                     f"WHERE f.{fk} = {table}.id)")
        conn.execute(f"UPDATE {table} SET failed_sessions = 0 WHERE failure_detail_count = 0")
        ensure_sort_indexes(conn)
    conn = _open(db)
    model = model_cls(conn, TimeMode())
    model.set_filter(flt)
    c = next(i for i, col in enumerate(model.COLUMNS) if col.key == key)
    model.sort(c, order)
    where, params = model._where()
    assert f"{a}.failure_detail_count > 0" in where
    plan = " ".join(r[-1] for r in conn.execute(
        f"EXPLAIN QUERY PLAN SELECT {a}.id FROM {model.FROM} WHERE ({where}) ORDER BY {model._order_sql()} LIMIT 200",
        params))
    assert bool(model._common) == bool(flt.result_type)  # (a rare MX host's or address's rows are found through it)
    if key != "period" and model._common:
        assert f"ui_{table}_{'failed' if key == 'failed_sessions' else 'rate'}_details" in plan, plan
    fetch_all(model)
    column, value = next((FILTER_COLUMNS[f], v) for f, v in (("result_type", flt.result_type), ("mx_host", flt.mx_host),
                                                             ("sending_ip", flt.sending_ip)) if v)
    expected = [r[0] for r in conn.execute(
        f"SELECT {a}.id FROM {model.FROM} WHERE {a}.id IN (SELECT {fk} FROM failure_details WHERE {column} = ?) "
        f"ORDER BY {model._order_sql()}", [value])]
    assert expected and _ids(model) == expected


def test_an_index_whose_policies_do_not_count_failure_rows_is_filtered_without(tmp_path: Path) -> None:
    """An index of schema 5, opened read-only (not upgraded), has no such count: the
    filter through failure rows leaves it out and finds the same policies."""
    db = tmp_path / "big.sqlite3"
    build_big_index(db, failures=1500, reports=5000)
    flt = Filter(result_type="certificate-expired")
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE policies SET failure_detail_count = (SELECT COUNT(*) FROM failure_details f "
                     "WHERE f.policy_id = policies.id)")
    counted = PoliciesModel(_open(db), TimeMode())
    counted.set_filter(flt)
    fetch_all(counted)
    with sqlite3.connect(db) as conn:
        conn.execute("ALTER TABLE policies DROP COLUMN failure_detail_count")
    model = PoliciesModel(_open(db), TimeMode())
    model.set_filter(flt)
    assert "failure_detail_count" not in model._where()[0]
    fetch_all(model)
    assert _ids(model) == _ids(counted) != []


@pytest.mark.parametrize("order", [ASC, DESC])
@pytest.mark.parametrize(("flt", "key", "index", "where", "keys"), [
    (Filter(reporter="org3.example"), "policy_type", "ui_policies_type_walk", "organization_name = 'org3.example'",
     ("policy_type", "start_ts")),
    (Filter(policy_type="tlsa"), "sts_mode", "ui_policies_mode_walk", "policy_type = 'tlsa'", ("sts_mode", "policy_type")),
], ids=["reporter-by-type", "type-by-mode"])
def test_a_common_value_after_a_long_run_of_others_is_checked_in_the_sort_index(
        tmp_path: Path, order: Qt.SortOrder, flt: Filter, key: str, index: str, where: str, keys: tuple[str, ...]) -> None:
    """Policy types and modes come in long runs that a common reporter or policy type may
    not be in: a tenth of a million policies say no policy was found (from reporters that
    check none), three in ten have no mode (DANE and no-policy-found). Sorted by type or
    by mode, the walk to such a value's policies read each of the others from its table
    row (0.12-0.35 s). The sort indexes carry the reporter and the policy type, which
    break ties in those orders, and the walk checks them there."""
    db = tmp_path / "big.sqlite3"
    build_big_index(db, failures=2000, reports=6000)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE policies SET policy_type = 'no-policy-found', sts_mode = NULL "
                     "WHERE organization_name != 'org3.example' AND id % 3 = 0")
        ensure_sort_indexes(conn)
    conn = _open(db)
    model = PoliciesModel(conn, TimeMode())
    model.set_filter(flt)
    assert model._common
    c = next(i for i, col in enumerate(model.COLUMNS) if col.key == key)
    model.sort(c, order)
    sql, params = model._where()
    plan = " ".join(r[-1] for r in conn.execute(
        f"EXPLAIN QUERY PLAN SELECT {model._select_list()} FROM {model.FROM} WHERE ({sql}) "
        f"ORDER BY {model._order_sql()} LIMIT 200", params))
    assert plan == f"SCAN p USING INDEX {index}", plan
    fetch_all(model)
    d = " DESC" if order == DESC else ""
    expected = [r[0] for r in conn.execute(
        f"SELECT id FROM policies WHERE {where} ORDER BY {', '.join(k + d for k in (*keys, 'id'))}")]
    assert expected and _ids(model) == expected


@pytest.mark.parametrize("order", [ASC, DESC])
@pytest.mark.parametrize(("text", "key", "index"), [
    ("enforce", "sts_mode", "ui_policies_mode_walk"),
    ("enforce", "policy_type", "ui_policies_type_walk"),
    ("mx3", "policy_type", "ui_policies_type_walk"),
], ids=["strings-by-mode", "strings-by-type", "mx-patterns-by-type"])
def test_free_text_in_policy_strings_by_mode_is_checked_in_the_sort_index(
        tmp_path: Path, order: Qt.SortOrder, text: str, key: str, index: str) -> None:
    """Free text found in policy strings and modes ("enforce"), sorted by mode: the three
    in ten policies without a mode come as one run at an end, and the walk past them
    read each one's table row for its strings (170-206 ms at a million policies); sorted
    by type, the walk past the types whose policies lack it did the same (126-200 ms), as
    did free text in MX patterns or domains. The order's sort index holds those columns:
    the page's keys are read from it alone, and the rows are those read without it."""
    from tlsrpt_gui.core import rollups

    db = tmp_path / "big.sqlite3"
    build_big_index(db, failures=2000, reports=6000)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE policies SET policy_type = 'tlsa', sts_mode = NULL WHERE id % 3 = 0")
        rollups.rebuild(conn)
        ensure_sort_indexes(conn)
    conn = _open(db)
    model = PoliciesModel(conn, TimeMode())
    model.set_filter(Filter(text=text))
    model.sort(next(i for i, col in enumerate(model.COLUMNS) if col.key == key), order)
    query = model._query()
    keys = query.by_keys()
    plan = _keys_plan(conn, keys)
    assert plan == [f"SCAN p USING COVERING INDEX {index}"], plan
    fetch_all(model)
    with sqlite3.connect(db) as writer:
        writer.execute(f"DROP INDEX {index}")
    conn = _open(db)
    without = PoliciesModel(conn, TimeMode())
    without.set_filter(Filter(text=text))
    without.sort(model._sort_column, order)
    fetch_all(without)
    assert len(_ids(model)) > 100 and _ids(model) == _ids(without)


def test_a_far_row_gone_since_the_count_is_empty_and_a_new_count_fits_the_table(tmp_path: Path) -> None:
    """Rows counted and then deleted (a reload follows): what is read meanwhile is rows
    that exist, or none; the reload keeps the length until counted again (or counts at
    once, given the time); a count of exactly the rows loaded
    leaves them all, and no far rows."""
    db = tmp_path / "big.sqlite3"
    build_big_index(db, failures=3000, reports=300)
    conn = _open(db)
    model = FailuresModel(conn, TimeMode())
    model.sort(11, ASC)
    assert model.set_total(3000)
    order = [r[0] for r in conn.execute(f"SELECT f.id FROM {model.FROM} ORDER BY {model._order_sql()}")]
    conn.execute("DELETE FROM failure_details WHERE id IN (SELECT id FROM failure_details ORDER BY start_ts DESC, id DESC LIMIT 100)")
    conn.commit()
    # the index shrank under the count: far rows read now are what is there (or none), never an error
    assert {model.row_id(r) for r in (2999, 2950, 1000)} <= {*order[:2900], -1}
    removed: list[Any] = []
    model.rowsRemoved.connect(lambda *a: removed.append(a))
    model.refresh()  # as long as before, until counted again
    assert model.rowCount() == 3000 and not model.counted
    assert model.set_total(2900) and removed and model.rowCount() == 2900 and model.counted
    assert model.row_id(2899) == order[2899]
    model.refresh(count_until=time.monotonic() + 10)  # counted again at once
    assert model.rowCount() == 2900 and model.counted and model.row_id(2899) == order[2899]
    removed.clear()
    conn.execute("DELETE FROM failure_details WHERE id NOT IN (SELECT id FROM failure_details ORDER BY start_ts, id LIMIT 200)")
    conn.commit()
    assert not model.set_total(150)  # fewer than the rows loaded: the index changed, a reload follows
    assert model.set_total(200) and removed and model.rowCount() == 200  # as many as loaded: all there
    assert model.counted and not model.canFetchMore(QModelIndex())


def test_a_far_jump_is_read_in_the_background_and_filled_in(synth_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A far block far from every row in memory took up to 1.8 s to read at a million
    rows, in the GUI thread: with a reader it is read in the background, its rows show
    "…" meanwhile and are filled in when it comes; a read begun before a reset is dropped."""
    from tlsrpt_gui.ui import models

    monkeypatch.setattr(models, "BLOCK_ROWS", 10)
    monkeypatch.setattr(models, "FAR_ROWS", 50)
    conn = _open(synth_db)
    model = FailuresModel(conn, TimeMode())
    jobs: list[tuple[Any, Any]] = []
    model.set_far_reader(lambda job, done: jobs.append((job, done)))
    expected = [r[0] for r in conn.execute(f"SELECT f.id FROM {model.FROM} ORDER BY {model._order_sql()}")]
    assert len(expected) > 2 * PAGE_SIZE + 100
    assert model.set_total(len(expected))
    near = PAGE_SIZE + 5  # next to the rows loaded in pages: read at once
    assert model.index(near, 0).data(ROW_ID_ROLE) == expected[near] and not jobs
    far = PAGE_SIZE + 120  # as far from them as from the end, over FAR_ROWS
    assert len(expected) - far > 60
    assert model.index(far, 0).data() == "…" and model.is_pending(far) and len(jobs) == 1
    assert model.index(far, 0).data(ROW_ID_ROLE) is None
    model.index(far + 1, 0).data()
    assert len(jobs) == 1  # one read per block
    changed: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda a, b, *_: changed.append((a.row(), b.row())))
    job, done = jobs.pop()
    done(job(_open(synth_db)))  # as the window's reader does, on a connection of its own
    assert not model.is_pending(far) and any(a <= far <= b for a, b in changed)
    assert model.index(far, 0).data(ROW_ID_ROLE) == expected[far]
    # asking for the row itself (the current row, a copy) reads it at once
    other = far + 30
    assert model.row_id(other) == expected[other] and not jobs
    # a read dropped by the reader: its rows are asked for again when shown
    model.index(len(expected) - 70, 0).data()
    job, done = jobs.pop()
    done(None)
    assert not model.is_pending(len(expected) - 70)
    model.index(len(expected) - 70, 0).data()
    job, done = jobs.pop()
    model.sort(3, ASC)  # a reset while it is read: its rows are elsewhere now
    assert model.set_total(len(expected))
    done(job(_open(synth_db)))
    assert not model._blocks


@pytest.mark.parametrize("model_cls", MODELS)
def test_far_rows_and_signposts_read_in_the_background_in_one_step_are_exactly_those_read_row_by_row(
        synth_db: Path, model_cls: type[SqlTableModel], monkeypatch: pytest.MonkeyPatch) -> None:
    """A read in the background takes each statement's rows in one step of SQLite, as one
    JSON text (row by row, it waited for the GUI thread's hold on the GIL once a row): in
    every column's order, both ways, its rows are those read row by row, value for value
    and type for type; success and failure rates too, which bound the next read exactly."""
    from tlsrpt_gui.ui import models

    conn, model, jobs = _far_jobs_model(synth_db, model_cls, monkeypatch, BLOCK_ROWS=10, FAR_ROWS=50, SIGNPOST_ROWS=13)
    reader = _open(synth_db)
    statements: list[str] = []
    reader.set_trace_callback(statements.append)
    reals = 0
    for column in range(model.columnCount()):
        for order in (ASC, DESC):
            model.sort(column, order)
            total = len(_sql_ids(conn, model))
            if total < PAGE_SIZE + 100:
                continue
            assert model.set_total(total)
            far = (PAGE_SIZE + total) // 2
            assert model.index(far, 0).data() == "…" and len(jobs) == 1
            statements.clear()
            block = jobs.pop()(reader)
            reads = [s for s in statements if s.startswith(("SELECT", "WITH"))
                     and not s.startswith(("SELECT COUNT(*)", "SELECT (SELECT file FROM pragma_database_list"))]
            assert reads and all(s.startswith("WITH q(c0") and "json_group_array" in s for s in reads)
            plan = model._block_plan((far - model.loaded_rows) // models.BLOCK_ROWS)
            row_by_row = plan.read(model._seeking(model._walk(plan)), conn)
            assert block == row_by_row and [list(map(type, r or ())) for r in block] == \
                [list(map(type, r or ())) for r in row_by_row], (model.COLUMNS[column].key, order)
            reals += sum(isinstance(v, float) for r in block if r for v in r)
            signposts = model.signpost_reader()
            assert signposts is not None
            statements.clear()
            read = signposts.read(reader)
            assert read == model._seeking(None).signposts(conn) and len(read) == total // 13
            assert statements
    assert reals or model_cls is FailuresModel  # (the rates, read exactly; failure rows have none)


def test_a_count_of_exactly_the_rows_loaded_ends_the_table(tmp_path: Path) -> None:
    """The pages came back full and the rows ended there (200, 1,000, 4,200 … rows): the
    count says so, and the table is complete (it said "200+ rows" for good)."""
    db = tmp_path / "big.sqlite3"
    build_big_index(db, failures=PAGE_SIZE, reports=50)
    model = FailuresModel(_open(db), TimeMode())
    assert model.rowCount() == PAGE_SIZE and model.canFetchMore(QModelIndex()) and not model.counted
    assert model.set_total(PAGE_SIZE) and model.counted and not model.canFetchMore(QModelIndex())
    assert model.rowCount() == PAGE_SIZE


def test_rows_of_a_block_read_in_the_background_cost_nothing_to_paint(synth_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every cell of a pending row asked how to read its block (a walk over every block
    kept): painting took five times as long during a drag."""
    from tlsrpt_gui.ui import models

    monkeypatch.setattr(models, "BLOCK_ROWS", 10)
    monkeypatch.setattr(models, "FAR_ROWS", 50)
    model = FailuresModel(_open(synth_db), TimeMode())
    model.set_far_reader(lambda job, done: None)
    total = model._conn.execute("SELECT COUNT(*) FROM failure_details").fetchone()[0]
    assert model.set_total(total)
    far = PAGE_SIZE + 120
    assert model.index(far, 0).data() == "…"
    plans: list[int] = []
    original = model._block_plan
    monkeypatch.setattr(model, "_block_plan", lambda k: plans.append(k) or original(k))
    for c in range(model.columnCount()):
        for role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ForegroundRole, Qt.ItemDataRole.ToolTipRole):
            model.index(far + 1, c).data(role)
        for role in _ROLES:  # as a view's delegate asks, all at once
            assert _multi(model, model.index(far + 1, c), role) == model.index(far + 1, c).data(role)
        assert _multi(model, model.index(far + 1, c), Qt.ItemDataRole.DisplayRole) == "…"
    assert not plans


def test_a_filter_matching_few_rows_reads_far_blocks_in_the_background_sooner(tmp_path: Path) -> None:
    """Reading a block walks the rows between it and one in memory, over the share of the
    table that matches: one domain's 9,000 rows of 900,000, sorted by HELO, froze the
    window for a second 2,000 rows away. Such reads go to the background too."""
    db = tmp_path / "big.sqlite3"
    build_big_index(db, failures=80_000, reports=2_000)
    conn = _open(db)
    model = FailuresModel(conn, TimeMode())
    jobs: list[Any] = []
    model.set_far_reader(lambda job, done: jobs.append(job))
    model.sort(3, ASC)
    assert model.set_total(80_000)
    row = PAGE_SIZE + 5_000  # 5,000 rows on, everything matching: read at once
    assert model.index(row, 0).data(ROW_ID_ROLE) is not None and not jobs
    model.set_filter(Filter(policy_domain="dom7.example"))
    n = conn.execute("SELECT COUNT(*) FROM failure_details WHERE policy_domain = 'dom7.example'").fetchone()[0]
    assert PAGE_SIZE + 450 < n < 4_000  # a twentieth of the rows or less
    assert model.set_total(n)
    assert model.index(PAGE_SIZE + 250, 0).data() == "…" and len(jobs) == 1  # 200 rows on: a walk of 20,000 and more
    assert model.index(PAGE_SIZE + 5, 0).data(ROW_ID_ROLE) is not None and len(jobs) == 1  # next to the rows loaded


@pytest.mark.parametrize("model_cls", MODELS)
def test_signposts_hop_through_an_index_that_holds_the_sort_keys(tmp_path: Path, model_cls: type[SqlTableModel],
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Where one index holds the sort keys and the filter's columns, the signposts are
    found each from the one before (a tenth of the time of the ROW_NUMBER walk, whose
    window costs a microsecond a row); they are the same rows. A filter read through a
    value list, a subquery or the table rows keeps the one walk."""
    from tlsrpt_gui.ui import models

    monkeypatch.setattr(models, "SIGNPOST_ROWS", 97)
    conn = _big_sorted_index(tmp_path, failures=3000, reports=1500)
    model = model_cls(conn, TimeMode())
    hopped = 0
    for flt in (Filter(), Filter(text="org1"), Filter(text="mx1"), Filter(result_type="certificate-expired")):
        model.set_filter(flt)
        for column in range(model.columnCount()):
            for order in (ASC, DESC):
                model.sort(column, order)
                query = model._query()
                names = ", ".join(f"k{i}" for i in range(len(query.keys)))
                keys = ", ".join(f"{k} AS k{i}" for i, k in enumerate(query.keys))
                walked = list(conn.execute(
                    f"SELECT {names} FROM (SELECT {keys}, ROW_NUMBER() OVER (ORDER BY {query.order()}) AS n "
                    f"FROM {query.table} WHERE ({query.where})) WHERE n % 97 = 0", query.params))
                keys_only = models.replace(query, select=", ".join(query.keys))
                covered = keys_only.covered(conn)
                plan = " ".join(r[-1] for r in conn.execute(
                    f"EXPLAIN QUERY PLAN SELECT {keys_only.select} FROM {query.table} WHERE ({query.where}) "
                    f"ORDER BY {query.order()}", query.params))
                # (each value of an IN list sought in turn: each hop would walk the rows before it)
                assert not (covered and ("SEARCH" in plan or "SUBQUERY" in plan)), plan
                hopped += covered
                assert query.signposts(conn) == walked, (flt, model.COLUMNS[column].key, order)
    assert hopped >= model.columnCount()  # most unfiltered orders, both ways


@pytest.mark.parametrize("flt", [Filter(result_type="certificate-expired"), Filter(reporter="org3.example")])
@pytest.mark.parametrize(("key", "index"), [("receiving_mx_hostname", "ui_failures_mx_walk"),
                                            ("sending_mta_ip", "ui_failures_ip_walk")])
def test_a_common_result_type_or_reporter_sorted_by_mx_or_address_is_walked_in_one_index(
        tmp_path: Path, flt: Filter, key: str, index: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Sorted by MX host or sending address, a common result type or reporter was checked
    in each failure's table row as the rows were walked (a signpost walk of a million rows
    took up to 2.2 s, a far jump before them up to 1 s). One index holds that order and
    both columns: the sort keys alone are read from it, so the signposts hop through it
    and a far read finds its start there; the rows are those SQL puts there."""
    from tlsrpt_gui.ui import models

    monkeypatch.setattr(models, "KEYS_FIRST_ROWS", 100)  # (1,000 at a million rows)
    conn = _big_sorted_index(tmp_path, failures=40000, reports=500)
    model = FailuresModel(conn, TimeMode())
    model.set_filter(flt)
    assert model._common
    model.sort(next(i for i, col in enumerate(model.COLUMNS) if col.key == key), DESC)
    keys = model._query().by_keys()
    plan = _keys_plan(conn, keys)
    assert plan == [f"SCAN f USING COVERING INDEX {index}"] and keys.covered(conn)
    expected = _sql_ids(conn, model)
    assert model.set_total(len(expected))
    assert len(expected) > model.loaded_rows + 400
    for row in (len(expected) // 2, len(expected) - 150, model.loaded_rows + 250):
        assert model.index(row, 0).data(ROW_ID_ROLE) == expected[row]


@pytest.mark.parametrize("flt", [Filter(result_type="certificate-expired"), Filter(reporter="org3.example"),
                                 Filter(policy_type="tlsa"), Filter(text="mx1")])
def test_under_a_common_filter_every_failure_order_is_walked_in_one_index(
        tmp_path: Path, flt: Filter, monkeypatch: pytest.MonkeyPatch) -> None:
    """A common result type, reporter, policy type or free text naming common MX hosts
    is checked as the sort order is walked. Each failure order's sort
    index holds the columns those filters read: the sort keys of every order are read
    from one index alone (no table row: a third of a million rows named "mx1", sorted by
    sending address, took 0.9-1.1 s at a million rows when each was read, 84-144 ms now),
    and a far jump gives the row SQL puts there. (An order on the filter's own column
    seeks instead.)"""
    from tlsrpt_gui.ui import models

    monkeypatch.setattr(models, "KEYS_FIRST_ROWS", 100)  # (1,000 at a million rows)
    conn = _big_sorted_index(tmp_path, failures=40000, reports=500)
    model = FailuresModel(conn, TimeMode())
    model.set_filter(flt)
    walked = 0  # orders walked in sort order, not sought: all but those of the filter's own column
    for column in range(model.columnCount()):
        for order in (ASC, DESC):
            model.sort(column, order)
            keys = model._query().by_keys()
            plan = _keys_plan(conn, keys)
            # one index, no table row, no sort: walked (SCAN), or sought on the filter's column
            assert len(plan) == 1 and "COVERING INDEX" in plan[0], (model.COLUMNS[column].key, plan)
            walked += keys.covered(conn)
            expected = _sql_ids(conn, model)
            assert model.set_total(len(expected)) and len(expected) > model.loaded_rows + 200
            row = (len(expected) + model.loaded_rows) // 2
            assert model.index(row, 0).data(ROW_ID_ROLE) == expected[row], (model.COLUMNS[column].key, order)
    assert walked == 2 * model.columnCount() - 2


def test_free_text_naming_a_domain_sorted_by_policy_type_is_walked_in_one_index(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A domain's policies are mostly of one type, so sorted by type a term naming a
    domain (found in its rows' domain and MX hosts) is walked past every row of the other
    types: the policy type's sort index holds the domain, so no table row is read for it
    (120-200 ms -> 37 ms at a million rows). The rows are those SQL puts there."""
    from tlsrpt_gui.ui import models

    monkeypatch.setattr(models, "KEYS_FIRST_ROWS", 100)  # (1,000 at a million rows)
    conn = _big_sorted_index(tmp_path, failures=40000, reports=500)
    model = FailuresModel(conn, TimeMode())
    model.set_filter(Filter(text="dom3"))
    values = model._query()
    assert "f.policy_domain" in values.where and "f.receiving_mx_hostname" in values.where
    for order in (ASC, DESC):
        model.sort(next(i for i, col in enumerate(model.COLUMNS) if col.key == "policy_type"), order)
        keys = model._query().by_keys()
        plan = _keys_plan(conn, keys)
        assert plan == ["SCAN f USING COVERING INDEX ui_failures_ptype_domain_walk"], plan
        expected = _sql_ids(conn, model)
        assert model.set_total(len(expected)) and len(expected) > model.loaded_rows + 400
        for row in (len(expected) // 2, len(expected) - 150, model.loaded_rows + 250):
            assert model.index(row, 0).data(ROW_ID_ROLE) == expected[row]


def test_rows_under_a_walked_filter_are_read_by_their_sort_keys_first(tmp_path: Path) -> None:
    """Where one index holds the sort keys and the filter's columns, a page or block is
    read as its rows' sort keys first (walked in that index), then its whole rows by id:
    reading whole rows, SQLite took a narrower index without the filter's columns and
    checked each row passed in its table row (at a million rows, 98-130 ms -> 19 ms for
    a block after a reporter whose last rows free text naming MX hosts hardly matches).
    The rows are those SQL puts there, in its order."""
    conn = _big_sorted_index(tmp_path, failures=40000, reports=500)
    model = FailuresModel(conn, TimeMode())
    model.sort(next(i for i, col in enumerate(model.COLUMNS) if col.key == "organization_name"), ASC)
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    try:
        model.set_filter(Filter(text="mx1"))
        expected = _sql_ids(conn, model)
        model.fetchMore(QModelIndex())
        loaded = _ids(model)
        assert model.set_total(len(expected)) and len(expected) > len(loaded) + 1000
        for row in (len(expected) // 2, len(expected) - 150, len(loaded) + 250):
            assert model.index(row, 0).data(ROW_ID_ROLE) == expected[row]
    finally:
        conn.set_trace_callback(None)
    assert loaded == expected[: len(loaded)] and len(loaded) > PAGE_SIZE
    whole = [sql for sql in statements if sql.startswith("SELECT") and "f.report_id" in sql.split(" FROM ")[0]]
    assert whole and all(" ORDER BY " not in sql and "WHERE f.id IN (" in sql for sql in whole), whole[:1]


@pytest.mark.parametrize("model_cls", MODELS)
def test_rows_that_sqlite_sorts_itself_are_sorted_as_their_keys(tmp_path: Path, model_cls: type[SqlTableModel]) -> None:
    """A range of dates drives the query from the date index, and SQLite sorts the rows
    it finds: it sorts their sort keys, then reads the page's whole rows by id (half a
    year of a million failure rows by additional information: 299-364 ms -> 78-99 ms,
    the whole rows sorted before). The rows are those SQL puts there, in its order."""
    conn = _big_sorted_index(tmp_path, failures=20000, reports=2000)
    model = model_cls(conn, TimeMode())
    day = datetime.fromtimestamp(1600000000 + 700 * 3600, UTC).date()
    flt = Filter(date_from=day, date_to=day + timedelta(days=20))
    sorted_whole = 0
    for column in range(model.columnCount()):
        model.sort(column, DESC)
        statements: list[str] = []
        conn.set_trace_callback(statements.append)
        try:
            model.set_filter(flt)
            model.fetchMore(QModelIndex())
            loaded = _ids(model)
        finally:
            conn.set_trace_callback(None)
        assert loaded == _sql_ids(conn, model)[: len(loaded)] and len(loaded) > PAGE_SIZE
        whole = [sql for sql in statements if sql.startswith("SELECT") and f"{model.REPORT}," in sql.split(" FROM ")[0]]
        plans = [" ".join(r[-1] for r in conn.execute(f"EXPLAIN QUERY PLAN {sql}")) for sql in whole]
        sorted_whole += sum("TEMP B-TREE" in plan for plan in plans)
        model.set_filter(Filter())
    assert sorted_whole == 0


def test_a_range_of_dates_sorted_by_success_rate_reads_no_report_row_to_sort(tmp_path: Path) -> None:
    """A range of dates sorted by success rate is found by date and sorted by SQLite: the
    keys it sorts (the rate, from the session counts) are read from one index, not from
    each report's table row (half a year of a million reports: 200 ms -> 125 ms). The
    rows are those SQL puts there, in its order."""
    conn = _big_sorted_index(tmp_path, failures=2000, reports=20000)
    model = ReportsModel(conn, TimeMode())
    day = datetime.fromtimestamp(1600000000 + 700 * 3600, UTC).date()
    model.set_filter(Filter(date_from=day, date_to=day + timedelta(days=300)))
    for order in (ASC, DESC):
        model.sort(next(i for i, col in enumerate(model.COLUMNS) if col.key == "success_rate"), order)
        keys = model._query().by_keys()
        plan = _keys_plan(conn, keys)
        assert plan[0].startswith("SEARCH r USING COVERING INDEX ui_reports_start_sessions"), plan
        model.fetchMore(QModelIndex())
        loaded, expected = _ids(model), _sql_ids(conn, model)
        assert len(loaded) > PAGE_SIZE and loaded == expected[: len(loaded)]


@pytest.mark.parametrize("key", ["policy_domain", "organization_name"])  # (by policy type: ui_failures_ptype_domain_walk)
def test_the_sort_keys_of_a_common_result_types_rows_are_read_from_one_index(
        tmp_path: Path, key: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A far read under a common result type, sorted by domain or reporter, first finds
    its start by the rows' sort keys alone: the result type's sort index
    holds them after the id (until schema 7 the policy sums index held every failure row
    and them too; without either, each row was read from the table: 195 ms against
    122 ms at a million rows). The rows are those SQL puts there."""
    from tlsrpt_gui.ui import models

    monkeypatch.setattr(models, "KEYS_FIRST_ROWS", 100)  # (1,000 at a million rows)
    conn = _big_sorted_index(tmp_path, failures=40000, reports=500)
    model = FailuresModel(conn, TimeMode())
    model.set_filter(Filter(result_type="certificate-expired"))
    assert model._common
    model.sort(next(i for i, col in enumerate(model.COLUMNS) if col.key == key), ASC)
    expected = _sql_ids(conn, model)
    assert model.set_total(len(expected))
    assert len(expected) > model.loaded_rows + 400
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    try:
        assert model.index(len(expected) // 2, 0).data(ROW_ID_ROLE) == expected[len(expected) // 2]
    finally:
        conn.set_trace_callback(None)
    skips = [sql for sql in statements if " OFFSET " in sql and not sql.rstrip().endswith("OFFSET 0")]
    assert skips  # the start found by the sort keys alone, a few hundred rows along
    for sql in skips:  # (a read after a row is one statement, its keyset segments each read as alone)
        plan = [r[-1] for r in conn.execute(f"EXPLAIN QUERY PLAN {sql}")]
        reads = [step for step in plan if step.startswith(("SCAN f", "SEARCH f"))]
        assert reads and all(step.startswith("SEARCH f USING COVERING INDEX ui_failures_") for step in reads), plan
    for row in (len(expected) - 150, model.loaded_rows + 250):
        assert model.index(row, 0).data(ROW_ID_ROLE) == expected[row]


@pytest.mark.parametrize("flt", [Filter(policy_type="tlsa"), Filter(policy_domain="dom3.example")])
def test_reports_matched_through_a_common_value_of_their_policies_are_checked_in_an_index(
        tmp_path: Path, flt: Filter) -> None:
    """A report matched through its policies (a common policy type or domain) is checked
    with an EXISTS as the reports are walked: an index holds the report's policies' types
    and domains, so no policy row is read (219 ms -> 52 ms at a million reports)."""
    from tlsrpt_gui.core import rollups

    db = tmp_path / "big.sqlite3"
    build_big_index(db, failures=2000, reports=6000)
    with sqlite3.connect(db) as conn:  # one domain in a third of the policies: a common one
        conn.execute("UPDATE policies SET policy_domain = 'dom3.example' WHERE id % 3 = 0")
        rollups.rebuild(conn)
        ensure_sort_indexes(conn)
    conn = _open(db)
    model = ReportsModel(conn, TimeMode())
    model.set_filter(flt)
    assert model._common
    model.sort(next(i for i, col in enumerate(model.COLUMNS) if col.key == "organization_name"), DESC)
    where, params = model._where()
    plan = " ".join(r[-1] for r in conn.execute(
        f"EXPLAIN QUERY PLAN SELECT {model._select_list()} FROM {model.FROM} WHERE ({where}) "
        f"ORDER BY {model._order_sql()} LIMIT 200", params))
    assert "EXISTS" in where and "COVERING INDEX ui_policies_report_kinds" in plan, plan
    fetch_all(model)
    column, value = ("policy_type", flt.policy_type) if flt.policy_type else ("policy_domain", flt.policy_domain)
    expected = [r[0] for r in conn.execute(
        f"SELECT r.id FROM reports r WHERE r.id IN (SELECT report_id FROM policies WHERE {column} = ?) "
        f"ORDER BY {model._order_sql()}", [value])]
    assert expected and _ids(model) == expected


def test_every_text_column_said_to_be_indexed_leads_an_index(tmp_path: Path) -> None:
    """A common free-text term sorted by one of its columns is looked up by index when its
    columns are all in INDEXED_TEXT_COLUMNS (see TextValues.walk_first): a column there
    without an index of the window's would be read whole instead."""
    from tlsrpt_gui.core.index import Index
    from tlsrpt_gui.core.query import ALIASES, INDEXED_TEXT_COLUMNS
    from tlsrpt_gui.core.rollups import TEXT_COLUMNS

    with Index(tmp_path / "i.db") as ix:
        ensure_sort_indexes(ix.conn)
        for kind, (table, alias, _) in TEXT_COLUMNS.items():
            assert ALIASES[kind] == alias
            leading = {ix.conn.execute(f"PRAGMA index_info({name!r})").fetchone()[2]
                       for _, name, *_ in ix.conn.execute(f"PRAGMA index_list({table!r})")}
            said = {c.split(".", 1)[1] for c in INDEXED_TEXT_COLUMNS if c.startswith(f"{alias}.")}
            assert said <= leading, (table, said - leading)
    assert "p.policy_strings" in INDEXED_TEXT_COLUMNS  # (looked up: ui_policies_strings)


_HOSTILE: Final = ("=HYPERLINK(1)", "+1", "-2", "@SUM(A1)", "\tx", "\rx", "", None, "plain")


@pytest.mark.parametrize("model_cls", MODELS)
def test_export_cells_are_those_of_each_columns_kind(corpus_db: Path, model_cls: type[SqlTableModel]) -> None:
    """The export's cells, made by a function per column once per export, are what each
    column's kind makes of its values (``_export_of``), neutralised, on an index whose
    rows hold formulas, empty text and text in number columns in every column they may
    (and NULL where the schema allows it); every kind with every value: below."""
    from tlsrpt_gui.core.export import neutralise
    from tlsrpt_gui.ui.models import _export_of, _exported

    with sqlite3.connect(corpus_db) as conn:
        conn.execute("PRAGMA ignore_check_constraints = ON")
        for table, alias in (("failure_details", "f"), ("policies", "p"), ("reports", "r"), ("sources", "s")):
            names = {c.split(".", 1)[1] for col in model_cls.COLUMNS for c in col.exprs
                     if c.startswith(f"{alias}.") and c[2:].isidentifier()}
            names -= {"id", "start_ts", "end_ts", "report_id", "policy_id", "run_id"} if table != "reports" else {
                "id", "start_ts", "end_ts"}
            ids = [r[0] for r in conn.execute(f"SELECT id FROM {table} ORDER BY id LIMIT {len(_HOSTILE)}")]
            for rid, value in zip(ids, _HOSTILE, strict=False):
                for name in sorted(names):
                    conn.execute(f"UPDATE OR IGNORE {table} SET {name} = ? WHERE id = ?", (value, rid))  # (NOT NULL)
    conn = _open(corpus_db)
    model = model_cls(conn, TimeMode())
    sql, params = model._all_query()
    rows = conn.execute(sql, params).fetchall()
    assert len(rows) > len(_HOSTILE)
    cells = [_exported(col, model._offsets[c]) for c, col in enumerate(model.COLUMNS)]
    spans = [(col, model._offsets[c], model._offsets[c] + len(col.exprs)) for c, col in enumerate(model.COLUMNS)]
    seen = set()
    for row in rows:
        expected = [neutralise(_export_of(col, tuple(row[a:b]))) for col, a, b in spans]
        assert [cell(row) for cell in cells] == expected
        seen.update(v for v in expected if isinstance(v, str) and v[:1] == "'")
    assert seen  # (some formula was neutralised)


_VALUES: Final = (None, 0, -5, 2**63 - 1, 1.5, -0.25, "", "=x", "+1", "-", "@x", "\tx", "\rx", "plain", "1700000000",
                  "[\"a\", \"=b\"]", b"\x00bytes", 1_700_000_000, 86_399)


@pytest.mark.parametrize("kind", ["text", "int", "percent", "date", "datetime", "period", "domain", "domains", "list",
                                  "source"])
def test_export_cells_of_every_kind_and_value(kind: str) -> None:
    """Each kind's cell function, given any value SQLite may hold at any offset (NULL,
    integers, floats, formulas, numbers as text, bytes, times), gives what ``_export_of``
    then ``neutralise`` give, or fails as they fail."""
    from tlsrpt_gui.core.export import neutralise
    from tlsrpt_gui.ui.models import Column, _export_of, _exported

    width = 2 if kind in ("period", "source") else 1
    col = Column("c", "C", tuple(f"x{i}" for i in range(width)), ("x0",), kind)  # type: ignore[arg-type]

    def outcome(fn: Any) -> Any:
        try:
            return ("value", fn())
        except Exception as exc:  # (compared, not handled)
            return ("error", type(exc))

    cases = 0
    for a in (0, 2):
        cell = _exported(col, a)
        for first in _VALUES:
            for second in (_VALUES if width == 2 else (None,)):
                row = ("pad", 7, first, second, "after")[2 - a:]
                got = outcome(lambda: cell(row))  # noqa: B023
                want = outcome(lambda: neutralise(_export_of(col, tuple(row[a:a + width]))))  # noqa: B023
                assert got == want and type(got[1]) is type(want[1]), (kind, a, row, got, want)
                cases += 1
    assert cases >= 2 * len(_VALUES)
