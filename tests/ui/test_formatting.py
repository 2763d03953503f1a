"""Numbers shown to the admin never hide a failure behind rounding."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QLocale

from tlsrpt_gui.ui.formatting import format_percent


@pytest.fixture(autouse=True)
def c_locale() -> None:
    QLocale.setDefault(QLocale.c())


@pytest.mark.parametrize(
    ("value", "shown"),
    [(None, "–"), (0.0, "0.0 %"), (1.0, "100.0 %"), (0.5, "50.0 %"), (0.95, "95.0 %"),
     (4523 / 4525, "99.96 %"), (0.994, "99.40 %"), (1e-6, "0.0001 %")],
)
def test_format_percent(value: float | None, shown: str) -> None:
    assert format_percent(value) == shown
