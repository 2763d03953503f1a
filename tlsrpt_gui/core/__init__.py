"""The engine: parsing, sources, the SQLite index, statistics, exports and DNS checks.

Nothing in this package imports Qt or pyqtgraph (a test enforces it), so any script
can use it without a display.
"""
