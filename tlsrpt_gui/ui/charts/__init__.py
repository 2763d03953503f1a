"""The Charts tab: pyqtgraph charts behind our own small widgets.

Only this package imports pyqtgraph; the rest of the UI uses :class:`ChartsTab`.
"""

from __future__ import annotations

from tlsrpt_gui.ui.charts.tab import ChartsTab

__all__ = ["ChartsTab"]
