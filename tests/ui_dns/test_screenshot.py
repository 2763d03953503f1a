"""A picture of the DNS panel after a real check (also the docs screenshot).

Set ``TLSRPT_GUI_DNS_SCREENSHOT=path.png`` to keep the image
(``docs/screenshots/dns.png`` is made this way).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from tests.ui_dns.conftest import MakeTab

pytestmark = [pytest.mark.dns, pytest.mark.gui]

DOMAIN = os.environ.get("TLSRPT_GUI_DNS_SCREENSHOT_DOMAIN", "notcovered.test")


def test_screenshot_after_a_check(qtbot: Any, make_tab: MakeTab, tmp_path: Path) -> None:
    tab = make_tab()
    tab.set_known_domains(["valid.test", "notcovered.test", "testing.test", "dane.test"])
    with qtbot.waitSignal(tab.check_finished, timeout=15_000):
        tab.check_domain(DOMAIN)
    tab.findings_view.selectRow(0)
    qtbot.waitUntil(lambda: tab.finding_detail.toPlainText() != "")
    out = Path(os.environ.get("TLSRPT_GUI_DNS_SCREENSHOT") or tmp_path / "dns.png")
    image = tab.grab()
    assert image.save(str(out), "PNG")
    saved = QImage(str(out))
    assert (saved.width(), saved.height()) == (1280, 800)
    # the banner is drawn in its severity colour, not in the window grey
    banner = tab.banner
    edge = banner.mapTo(tab, banner.rect().topLeft())  # the thick left border
    pixel = saved.pixelColor(edge.x() + 2, edge.y() + banner.height() // 2)
    assert pixel.hsvSaturation() > 100, pixel.name()
    # every finding row is visible without scrolling
    view = tab.findings_view
    last = view.visualRect(tab.findings_proxy.index(tab.findings_proxy.rowCount() - 1, 0))
    assert last.bottom() <= view.viewport().height()
    assert tab.findings_view.horizontalHeader().sortIndicatorOrder() == (
        Qt.SortOrder.AscendingOrder
    )
