"""Shared test setup: Qt runs offscreen, before any Qt module is imported."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Logs of the app and of CLI subprocesses go to a scratch folder, never the user's.
os.environ.setdefault("TLSRPT_GUI_LOG_DIR", tempfile.mkdtemp(prefix="tlsrpt-gui-test-logs-"))
