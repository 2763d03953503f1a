"""Shared test setup: Qt runs offscreen, before any Qt module is imported."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Logs of the app and of CLI subprocesses go to a scratch folder, never the user's.
os.environ.setdefault("TLSRPT_GUI_LOG_DIR", tempfile.mkdtemp(prefix="tlsrpt-gui-test-logs-"))
# Settings too (the window's Preferences, which the CLI reads as well): never the user's.
os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="tlsrpt-gui-test-config-")

# CI runs the property tests on a fixed seed, so a red build is always reproducible;
# locally they explore new examples on every run.
from hypothesis import settings as _hypothesis_settings

_hypothesis_settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    _hypothesis_settings.load_profile("ci")
