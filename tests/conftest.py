"""Shared test setup: Qt runs offscreen, before any Qt module is imported."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
