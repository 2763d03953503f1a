"""The Charts tab offscreen: empty, one-report and large indexes; clicks; export."""

from __future__ import annotations

import csv
import itertools
import json
import threading
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt, QThreadPool
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from tlsrpt_gui.core.query import Filter
from tlsrpt_gui.core.stats import date_to_day
from tlsrpt_gui.ui.charts import ChartsTab
from tlsrpt_gui.ui.charts import tab as tab_module
from tlsrpt_gui.ui.charts.card import NO_REPORTS
from tlsrpt_gui.ui.charts.cards import (
    CertificateCard,
    CoverageCard,
    DomainRateCard,
    MissingReportsCard,
    MxHostCard,
    ReporterCard,
    ResultTypeCard,
    SendingIpCard,
    SessionsPerDayCard,
)
from tlsrpt_gui.ui.charts.widgets import SECONDS_PER_DAY, CalendarStrip, HBarChart, StripRow

from .conftest import build_index, one_report

pytestmark = pytest.mark.gui


def make_tab(qtbot: QtBot, db: Path, **kw: object) -> ChartsTab:
    tab = ChartsTab(db, **kw)  # type: ignore[arg-type]
    qtbot.addWidget(tab)
    tab.resize(1280, 800)
    tab.show()
    with qtbot.waitSignal(tab.ready, timeout=20000):
        pass
    return tab


def test_empty_index_says_what_to_do(qtbot: QtBot, empty_db: Path) -> None:
    tab = make_tab(qtbot, empty_db)
    for card in tab.cards:
        assert not card.showing_chart
        assert card.empty_message == NO_REPORTS
        assert "File → Open" in card.empty_message


def test_missing_index_file_is_an_empty_index(qtbot: QtBot, tmp_path: Path) -> None:
    tab = make_tab(qtbot, tmp_path / "not-there.db")
    assert all(c.empty_message == NO_REPORTS for c in tab.cards)


def test_one_report(qtbot: QtBot, one_db: Path) -> None:
    tab = make_tab(qtbot, one_db)
    rt = tab.card(ResultTypeCard)
    assert rt.showing_chart
    bars = rt.chart
    assert isinstance(bars, HBarChart)
    assert [r.label for r in bars.rows] == ["certificate-expired", "sts-policy-fetch-error"]
    sessions = tab.card(SessionsPerDayCard)
    assert sessions.showing_chart
    assert sessions.chart.days == [date_to_day(date(2025, 3, 4))]  # type: ignore[attr-defined]
    assert "90 successful, 10 failed" in sessions.note_label.text()
    # the IP chart skips details without an address; the MX chart shows them as not reported
    assert [r.label for r in tab.card(SendingIpCard).chart.rows] == ["192.0.2.7"]  # type: ignore[attr-defined]
    assert [r.label for r in tab.card(MxHostCard).chart.rows] == ["mx1.example.com", "(not reported)"]  # type: ignore[attr-defined]
    # a single report cannot show a daily pattern
    missing = tab.card(MissingReportsCard)
    assert not missing.showing_chart and "daily" in missing.empty_message


def test_large_index_fills_every_chart(qtbot: QtBot, synth_db: Path) -> None:
    tab = make_tab(qtbot, synth_db)
    for card in tab.cards:
        assert card.showing_chart, card.title
        assert card.error is None
    assert len(tab.card(ReporterCard).chart.rows) == 8  # type: ignore[attr-defined]
    assert len(tab.card(SendingIpCard).chart.rows) == 15  # type: ignore[attr-defined]
    assert "Top 15 of" in tab.card(SendingIpCard).note_label.text()
    qtbot.waitUntil(tab.all_built, timeout=5000)  # (the cards out of view draw when built)
    assert all(card.showing_chart for card in tab.cards)
    gaps = tab.card(MissingReportsCard)
    assert "have gaps" in gaps.note_label.text()
    assert "broken rua" in gaps.subtitle_label.text()


def test_a_chart_out_of_view_is_built_when_scrolled_to(
    qtbot: QtBot, synth_db: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The charts in view are built and drawn for the first paint; one below keeps its
    result and is drawn when scrolled to (before it is painted), or when saved."""
    monkeypatch.setattr(tab_module, "BUILD_REST_AFTER_MS", 600_000)  # (no quiet moment here)
    tab = make_tab(qtbot, synth_db)
    sessions, certificates, gaps = (tab.card(c) for c in (SessionsPerDayCard, CertificateCard, MissingReportsCard))
    assert sessions.built and "successful" in sessions.note_label.text()
    assert not gaps.built and not certificates.built
    assert gaps.showing_chart and gaps.data is not None and not gaps.note_label.text()
    assert gaps.png_button.isEnabled() and gaps.csv_button.isEnabled()  # (a PNG builds it first)
    assert certificates.export_png(tmp_path / "certificates.png")  # saved: built and drawn first
    assert certificates.built and len(certificates.chart.days) > 1  # type: ignore[attr-defined]
    bar = tab.scroll.verticalScrollBar()
    bar.setValue(bar.maximum())
    assert gaps.built and "have gaps" in gaps.note_label.text()
    assert gaps.png_button.isEnabled() and gaps.csv_button.isEnabled()


def test_a_chart_built_after_a_theme_change_takes_the_new_theme(
    qtbot: QtBot, synth_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tlsrpt_gui.ui.general_prefs import apply_theme
    from tlsrpt_gui.ui.palette import DARK, LIGHT

    monkeypatch.setattr(tab_module, "BUILD_REST_AFTER_MS", 600_000)
    apply_theme("light")
    try:
        tab = make_tab(qtbot, synth_db)
        gaps = tab.card(MissingReportsCard)
        assert not gaps.built and tab.card(SessionsPerDayCard).chart.palette_ == LIGHT
        apply_theme("dark")
        qtbot.waitUntil(lambda: tab.card(SessionsPerDayCard).chart.palette_ == DARK, timeout=2000)
        assert not gaps.built and gaps.palette_ == DARK
        assert gaps.chart.palette_ == DARK
    finally:
        apply_theme("system")


def test_a_chart_that_fails_to_draw_when_built_says_so_and_the_others_are_built(
    qtbot: QtBot, synth_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: object, data: object) -> None:
        raise RuntimeError("a bug in this chart")

    monkeypatch.setattr(DomainRateCard, "show_data", broken)
    monkeypatch.setattr(tab_module, "BUILD_REST_AFTER_MS", 10)
    tab = make_tab(qtbot, synth_db)
    qtbot.waitUntil(tab.all_built, timeout=5000)  # the cards after it too
    broken_card = tab.card(DomainRateCard)
    assert not broken_card.showing_chart and "failed to draw" in broken_card.empty_message
    assert "have gaps" in tab.card(MissingReportsCard).note_label.text()


def test_an_error_or_empty_state_before_the_chart_is_built_stays_when_built(
    qtbot: QtBot, synth_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tab_module, "BUILD_REST_AFTER_MS", 600_000)
    tab = make_tab(qtbot, synth_db)
    gaps, certificates = tab.card(MissingReportsCard), tab.card(CertificateCard)
    assert not gaps.built and not certificates.built
    gaps.set_error("database is locked")
    certificates.set_result(True, [], Filter(reporter="nobody"))
    assert gaps.chart is not None and certificates.chart is not None  # built now
    assert not gaps.showing_chart and "locked" in gaps.empty_message
    assert not certificates.showing_chart and "filter" in certificates.empty_message
    assert not certificates.png_button.isEnabled()


def test_the_charts_out_of_view_are_built_in_a_quiet_moment(qtbot: QtBot, synth_db: Path) -> None:
    """Once the charts are ready, the others are built one at a time, hidden or not: the
    window's tab, computed before its first visit, is only painted when opened."""
    tab = make_tab(qtbot, synth_db)
    assert not tab.all_built()
    qtbot.waitUntil(tab.all_built, timeout=5000)
    assert all(card.built and card.showing_chart for card in tab.cards)
    assert "have gaps" in tab.card(MissingReportsCard).note_label.text()

    hidden = ChartsTab(synth_db)
    qtbot.addWidget(hidden)
    hidden.resize(1280, 800)
    with qtbot.waitSignal(hidden.ready, timeout=20000):
        hidden.prefetch()
    qtbot.waitUntil(hidden.all_built, timeout=5000)
    assert not hidden.isVisible()
    assert "have gaps" in hidden.card(MissingReportsCard).note_label.text()


def test_charts_follow_the_filter(qtbot: QtBot, synth_db: Path) -> None:
    tab = make_tab(qtbot, synth_db)
    with qtbot.waitSignal(tab.ready, timeout=20000):
        tab.set_filter(Filter(reporter="Kestrel Networks"))
    assert [r.label for r in tab.card(ReporterCard).chart.rows] == ["Kestrel Networks"]  # type: ignore[attr-defined]
    with qtbot.waitSignal(tab.ready, timeout=20000):
        tab.set_filter(Filter(reporter="nobody at all"))
    card = tab.card(ResultTypeCard)
    assert not card.showing_chart and "filter" in card.empty_message


def test_a_refresh_paints_when_its_results_are_in(qtbot: QtBot, synth_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Painting waits for the charts' results (each card is painted once), but a slow
    chart holds the others back for HOLD_PAINT_MS at most."""
    tab = make_tab(qtbot, synth_db)
    assert tab.content.updatesEnabled()
    with qtbot.waitSignal(tab.ready, timeout=20000):
        tab.set_filter(Filter(reporter="Kestrel Networks"))
        assert not tab.content.updatesEnabled()
    assert tab.content.updatesEnabled()

    release = threading.Event()
    real = SessionsPerDayCard.compute

    def slow(conn: object, flt: Filter) -> object:
        release.wait(20)
        return real(conn, flt)  # type: ignore[arg-type]

    monkeypatch.setattr(SessionsPerDayCard, "compute", staticmethod(slow))
    tab.set_filter(Filter())
    assert not tab.content.updatesEnabled()
    qtbot.waitUntil(tab.content.updatesEnabled, timeout=tab_module.HOLD_PAINT_MS + 5000)
    assert tab.card(SessionsPerDayCard) in tab._pending  # still computing, the others are shown
    assert len(tab.card(ReporterCard).chart.rows) > 1  # type: ignore[attr-defined]  # unfiltered again
    with qtbot.waitSignal(tab.ready, timeout=20000):
        release.set()
    assert tab.content.updatesEnabled() and not tab._pending


def test_a_hidden_tab_computes_nothing_until_shown(qtbot: QtBot, synth_db: Path) -> None:
    tab = make_tab(qtbot, synth_db)
    shown = [r.label for r in tab.card(ReporterCard).chart.rows]  # type: ignore[attr-defined]
    assert len(shown) > 1
    tab.set_filter(Filter(reporter="Kestrel Networks"))
    tab.hide()  # the jobs just started are for a filter that is gone by the time it is shown
    tab.set_filter(Filter(reporter="Nimbus Cloud Mail"))
    assert not tab._tasks
    with qtbot.assertNotEmitted(tab.ready, wait=500):
        pass
    assert [r.label for r in tab.card(ReporterCard).chart.rows] == shown  # type: ignore[attr-defined]
    with qtbot.waitSignal(tab.ready, timeout=20000):
        tab.show()
    assert [r.label for r in tab.card(ReporterCard).chart.rows] == ["Nimbus Cloud Mail"]  # type: ignore[attr-defined]


def test_a_hidden_tab_computes_once_when_asked_and_again_when_shown_if_that_failed(
    qtbot: QtBot, synth_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ChartsTab.prefetch: the window's tab, built hidden, computes its charts before
    its first visit; a chart that failed meanwhile (the index locked by an import, say)
    is computed again when the tab is shown, not left showing the error."""
    import sqlite3

    real = ReporterCard.compute
    calls: list[int] = []

    def locked_once(conn: object, flt: Filter) -> object:
        calls.append(1)
        if len(calls) == 1:
            raise sqlite3.OperationalError("database is locked")
        return real(conn, flt)  # type: ignore[arg-type]

    monkeypatch.setattr(ReporterCard, "compute", staticmethod(locked_once))
    tab = ChartsTab(synth_db)
    qtbot.addWidget(tab)
    tab.resize(1280, 800)
    assert not tab._tasks  # hidden: nothing computed until asked
    with qtbot.waitSignal(tab.ready, timeout=20000):
        tab.prefetch()
    reporters = tab.card(ReporterCard)
    assert reporters.error is not None and "locked" in reporters.error
    assert tab.card(SessionsPerDayCard).error is None and tab.card(SessionsPerDayCard).data is not None
    with qtbot.waitSignal(tab.ready, timeout=20000):
        tab.show()
    assert reporters.error is None and len(reporters.chart.rows) > 1  # type: ignore[attr-defined]
    assert len(calls) == 2


def test_the_slow_charts_start_first(qtbot: QtBot, synth_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The charts that read failure rows start before the quick ones, so the pool's
    threads run them beside the quick ones."""
    tab = make_tab(qtbot, synth_db)
    started: list[type] = []
    for cls in {type(c) for c in tab.cards}:
        real = cls.compute

        def record(conn: object, flt: Filter, cls: type = cls, real: object = real) -> object:
            started.append(cls)
            return real(conn, flt)  # type: ignore[operator]

        monkeypatch.setattr(cls, "compute", staticmethod(record))
    pool = QThreadPool.globalInstance()
    threads = pool.maxThreadCount()
    pool.setMaxThreadCount(1)  # one thread: the jobs run in the order they were started
    try:
        with qtbot.waitSignal(tab.ready, timeout=20000):
            tab.set_filter(Filter(result_type="certificate-expired"))
    finally:
        pool.setMaxThreadCount(threads)
    assert started[:len(tab_module.SLOW_FIRST)] == list(tab_module.SLOW_FIRST)
    assert sorted(c.__name__ for c in started) == sorted(type(c).__name__ for c in tab.cards)


def _center_of_row(chart: HBarChart, index: int) -> tuple[float, float]:
    row = chart.rows[index]
    return row.total / 2, float(len(chart.rows) - 1 - index)


def test_click_result_type_bar_requests_filter(qtbot: QtBot, synth_db: Path) -> None:
    tab = make_tab(qtbot, synth_db)
    with qtbot.waitSignal(tab.ready, timeout=20000):
        tab.set_filter(Filter(policy_domain="example.org"))
    bars = tab.card(ResultTypeCard).chart
    assert isinstance(bars, HBarChart)
    x, y = _center_of_row(bars, 1)
    expected = Filter(policy_domain="example.org", result_type=bars.rows[1].label)
    with qtbot.waitSignal(tab.filter_requested, timeout=2000) as blocker:
        bars.click_at(x, y)
    assert blocker.args == [expected]
    # between bars nothing is hit
    assert bars.click_at(x, y + 0.5) is None


def test_real_mouse_click_on_reporter_bar(qtbot: QtBot, synth_db: Path) -> None:
    tab = make_tab(qtbot, synth_db)
    card = tab.card(ReporterCard)
    tab.scroll.ensureWidgetVisible(card)
    bars = card.chart
    assert isinstance(bars, HBarChart)
    x, y = _center_of_row(bars, 0)
    pos = bars.map_to_widget(x, y)
    viewport = bars.plot_widget.viewport()
    with qtbot.waitSignal(tab.filter_requested, timeout=3000) as blocker:
        QTest.mouseClick(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                         QPoint(round(pos.x()), round(pos.y())))
    assert blocker.args == [Filter(reporter=bars.rows[0].label)]


def test_click_day_and_other_charts(qtbot: QtBot, synth_db: Path) -> None:
    tab = make_tab(qtbot, synth_db)
    emitted: list[Filter] = []
    tab.filter_requested.connect(emitted.append)
    day_chart = tab.card(SessionsPerDayCard).chart
    day = day_chart.days[3]  # type: ignore[attr-defined]
    day_chart.click_at(day * 86400 + 43200, 10)
    d = date.fromordinal(date(1970, 1, 1).toordinal() + day)
    assert emitted[-1] == Filter(date_from=d, date_to=d)

    mx = tab.card(MxHostCard).chart
    x, y = _center_of_row(mx, 0)  # type: ignore[arg-type]
    mx.click_at(x, y)
    assert emitted[-1] == Filter(mx_host=mx.rows[0].label)  # type: ignore[attr-defined]

    ips = tab.card(SendingIpCard).chart
    x, y = _center_of_row(ips, 0)  # type: ignore[arg-type]
    ips.click_at(x, y)
    assert emitted[-1] == Filter(sending_ip=ips.rows[0].label)  # type: ignore[attr-defined]

    dom = tab.card(DomainRateCard).chart
    x, y = _center_of_row(dom, 0)  # type: ignore[arg-type]
    dom.click_at(x, y)
    assert emitted[-1] == Filter(policy_domain=dom.rows[0].label)  # type: ignore[attr-defined]

    cov = tab.card(CoverageCard).chart
    first = cov.rows[0]  # type: ignore[attr-defined]
    seg = first.segments[0]
    cov.click_at(seg.value / 2, len(cov.rows) - 1)  # type: ignore[attr-defined]
    assert emitted[-1] == Filter(policy_domain=first.label, policy_type=seg.payload["policy_type"])

    cert = tab.card(CertificateCard).chart
    cday = cert.days[0]  # type: ignore[attr-defined]
    cert.click_at(cday * 86400 + 43200, 0.01)
    cd = date.fromordinal(date(1970, 1, 1).toordinal() + cday)
    assert emitted[-1].date_from == cd and emitted[-1].result_type.startswith("certificate-")

    strip = tab.card(MissingReportsCard).chart
    first_row = strip._rows[0]  # type: ignore[attr-defined]
    strip.click_at(strip._first * 86400 + 1, len(strip._rows) - 0.5)  # type: ignore[attr-defined]
    assert emitted[-1] == Filter(**first_row.payload)


def test_tooltips_show_exact_values_and_escape_report_text(qtbot: QtBot, tmp_path: Path) -> None:
    src = tmp_path / "evil.json"
    src.write_text(json.dumps(one_report(org="=cmd|'/c calc'!A1 <b>bold</b>")), encoding="utf-8")
    db = build_index(tmp_path / "index.db", [src])
    tab = make_tab(qtbot, db)
    bars = tab.card(ReporterCard).chart
    assert isinstance(bars, HBarChart)
    x, y = _center_of_row(bars, 0)
    text = bars.tooltip_at(x, y)
    assert text is not None
    assert "&lt;b&gt;bold&lt;/b&gt;" in text and "<b>bold</b>" not in text
    assert ">10<" in text  # 6 + 4 failed sessions, exactly
    day_tip = tab.card(SessionsPerDayCard).chart.tooltip_at(date_to_day(date(2025, 3, 4)) * 86400 + 100, 1)
    assert day_tip is not None and ">90<" in day_tip and "90.0 %" in day_tip


def test_export_png_and_csv_through_injected_prompt(qtbot: QtBot, tmp_path: Path) -> None:
    src = tmp_path / "evil.json"
    src.write_text(json.dumps(one_report(org="=HYPERLINK(\"x\")")), encoding="utf-8")
    db = build_index(tmp_path / "index.db", [src])
    asked: list[tuple[str, str]] = []

    def prompt(parent: object, caption: str, suggested: str, name_filter: str) -> str:
        asked.append((caption, suggested))
        return str(tmp_path / suggested.rsplit(".", 1)[0])  # without extension on purpose for PNG

    tab = make_tab(qtbot, db, ask_save_path=prompt)
    card = tab.card(ReporterCard)
    card.png_button.click()
    png = tmp_path / "failures-by-reporter.png"
    assert png.exists() and png.read_bytes().startswith(b"\x89PNG")
    card.export_csv(tmp_path / "reporters.csv")
    rows = list(csv.reader((tmp_path / "reporters.csv").open(encoding="utf-8")))
    assert rows[0][:2] == ["reporter", "failed_sessions"]
    assert rows[1][0] == "'=HYPERLINK(\"x\")"  # neutralised for spreadsheets
    assert rows[1][1] == "10"
    assert asked and asked[0][1] == "failures-by-reporter.png"


@pytest.mark.parametrize(("days", "widest"), [(list(range(20000, 20400)), 0.9), ([20000, 20030, 20060, 20400], 27.0)])
def test_day_bars_never_overlap_their_neighbours(qtbot: QtBot, days: list[int], widest: float) -> None:
    from tlsrpt_gui.ui.charts.widgets import DayBarChart, DaySeries

    chart = DayBarChart()
    qtbot.addWidget(chart)
    chart.set_data(days, [DaySeries("ok", "#2f9e44", [100.0] * len(days)), DaySeries("failed", "#e03131", [5.0] * len(days))])
    gap = min(b - a for a, b in itertools.pairwise(days))
    assert chart._bar_days < gap  # a bar is narrower than the distance to the next day
    assert chart._bar_days <= widest


def test_the_rate_line_is_drawn_over_the_bars(qtbot: QtBot) -> None:
    """The success rate is a line on a second axis: over the bars, not hidden behind them
    (it has its own view box beside the plot's)."""
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QColor

    from tlsrpt_gui.ui.charts.widgets import DayBarChart, DaySeries

    chart = DayBarChart(rate_label="Success rate")
    qtbot.addWidget(chart)
    chart.resize(800, 400)
    chart.show()
    qtbot.waitExposed(chart)
    chart.set_data([20000], [DaySeries("ok", "#2f9e44", [100.0])], rate=[0.5])
    qtbot.wait(50)
    assert chart.rate_view is not None
    scene_point = chart.rate_view.mapViewToScene(QPointF(20000 * 86400 + 43200, 50.0))
    widget_point = chart.plot_widget.mapFromScene(scene_point)
    image = chart.plot_widget.grab().toImage()
    rate = QColor(chart.palette_.rate)
    near = [image.pixelColor(widget_point.x() + dx, widget_point.y() + dy) for dx in range(-2, 3) for dy in range(-2, 3)]
    assert any(abs(c.red() - rate.red()) + abs(c.green() - rate.green()) + abs(c.blue() - rate.blue()) < 60 for c in near)


def test_calendar_strip_colours_each_day_by_its_state(qtbot: QtBot) -> None:
    strip = CalendarStrip()
    qtbot.addWidget(strip)
    strip.set_rows([
        StripRow("a → x.example", {10: "reported", 11: "missing", 13: "reported", 99: "missing"}),
        StripRow("b → y.example", {12: "missing", 9: "reported", 14: "no such state"}),
        StripRow("c → z.example", {}),
    ], 10, 14)
    assert strip._image is not None
    image = strip._image.image  # [day - first day, row counted from the bottom]
    assert image.shape[:2] == (5, 3)
    colour = {name: getattr(strip.palette_, name).lower() for name in ("reported", "missing", "outside")}
    drawn = {
        (0, 10): "reported", (0, 11): "missing", (0, 12): "outside", (0, 13): "reported", (0, 14): "outside",
        (1, 10): "outside", (1, 11): "outside", (1, 12): "missing", (1, 13): "outside", (1, 14): "outside",
        (2, 10): "outside", (2, 12): "outside",
    }
    for (row, day), state in drawn.items():
        r, g, b = image[day - 10, 2 - row][:3]
        assert f"#{r:02x}{g:02x}{b:02x}" == colour[state], (row, day)
    assert strip.state_at(11 * SECONDS_PER_DAY + 100, 2.5) == "missing"
    assert strip.state_at(12 * SECONDS_PER_DAY + 100, 1.5) == "missing"
    assert strip.state_at(12 * SECONDS_PER_DAY + 100, 2.5) == "outside"


def test_charts_write_numbers_as_the_locale_does(qtbot: QtBot) -> None:
    """As the tables and the status bar do: "893.327" and "97,3 %" in German."""
    from PySide6.QtCore import QLocale

    from tlsrpt_gui.ui.charts.card import fmt_count, fmt_rate
    from tlsrpt_gui.ui.charts.widgets import _CountAxis
    from tlsrpt_gui.ui.formatting import format_int, format_percent

    before = QLocale()
    QLocale.setDefault(QLocale(QLocale.Language.German, QLocale.Country.Germany))
    try:
        assert fmt_count(893327) == format_int(893327) == "893.327"
        assert fmt_rate(0.973) == format_percent(0.973) == "97,3 %"
        assert _CountAxis("left").tickStrings([0.0, 15000.0], 1.0, 5000.0) == ["0", "15.000"]
        assert _CountAxis("right", percent=True).tickStrings([97.5, 100.0], 1.0, 2.5) == ["97,5 %", "100 %"]
    finally:
        QLocale.setDefault(before)


def test_a_legend_wraps_rather_than_clips(qtbot: QtBot) -> None:
    from PySide6.QtGui import QColor
    from PySide6.QtWidgets import QLabel, QWidget

    from tlsrpt_gui.ui.charts.card import LegendRow

    legend = LegendRow()
    qtbot.addWidget(legend)
    names = ["MTA-STS enforce", "MTA-STS testing", "MTA-STS none/unknown", "DANE (tlsa)", "No policy found"]
    legend.set_items([(QColor("#123456"), n) for n in names], "#000000")
    one_line = legend.heightForWidth(2000)
    assert legend.heightForWidth(300) > 2 * one_line  # three lines or more
    legend.resize(300, legend.heightForWidth(300))
    legend.show()
    qtbot.waitExposed(legend)
    holders = [legend._layout.itemAt(i).widget() for i in range(legend._layout.count())]
    assert len(holders) == len(names)
    for holder in holders:
        box = holder.geometry()
        assert box.left() >= 0 and box.right() < 300 and box.width() >= holder.sizeHint().width()
    # its heights are kept per width until the items change, or their sizes do
    assert legend.heightForWidth(600) > one_line
    legend.set_items([(QColor("#123456"), n) for n in names[:2]], "#000000")
    qtbot.waitUntil(lambda: all(h.isVisible() for h in legend.findChildren(QWidget) if h.parent() is legend))
    assert legend.heightForWidth(600) == one_line
    label = legend._layout.itemAt(1).widget().findChildren(QLabel)[-1]
    label.setText(" ".join(names))  # (a label's own change, not the legend's)
    qtbot.waitUntil(lambda: legend.heightForWidth(600) > one_line, timeout=2000)  # on two lines, once laid out


def test_an_empty_chart_offers_no_png_or_csv(qtbot: QtBot, tmp_path: Path) -> None:
    from tlsrpt_gui.core.index import Index
    from tlsrpt_gui.ui.charts.tab import ChartsTab

    Index(tmp_path / "empty.db").close()
    tab = ChartsTab(tmp_path / "empty.db")
    qtbot.addWidget(tab)
    tab.show()
    qtbot.waitUntil(lambda: not tab._tasks, timeout=20000)
    for card in tab.cards:
        assert not card.png_button.isEnabled() and not card.csv_button.isEnabled()


def test_axis_ticks_past_64_bits_are_written_not_a_crash(qtbot: QtBot) -> None:
    """Absurd session counts, summed past 64 bits, reach the axes (an exception while
    painting crashed the window)."""
    from tlsrpt_gui.ui.charts.widgets import _CountAxis

    assert len(_CountAxis("left").tickStrings([0.0, 1e19, 2e19], 1.0, 1e19)) == 3
