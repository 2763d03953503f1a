"""Preferences → General: index location, theme and the import size caps."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from PySide6.QtGui import QGuiApplication, QPalette

from tests.ui.conftest import make_report
from tlsrpt_gui.ui.general_prefs import GeneralSettings, apply_theme

REPO = Path(__file__).resolve().parents[2]
TIMEOUT = 20_000


def test_edit_preferences_opens_general_and_dns_pages(qtbot: Any, make_window: Any, tmp_path: Path) -> None:
    w = make_window(tmp_path / "i.sqlite3")
    w.preferences_action.trigger()
    dlg = w.preferences_dialog
    qtbot.waitUntil(dlg.isVisible, timeout=5_000)
    assert [dlg.tabs.tabText(i) for i in range(dlg.tabs.count())] == ["General", "DNS"]
    dlg.reject()


def test_size_caps_apply_to_the_next_import(qtbot: Any, make_window: Any, tmp_path: Path) -> None:
    w = make_window(tmp_path / "i.sqlite3")
    folder = tmp_path / "in"
    folder.mkdir()
    doc = make_report("Big Reporter", "big-1", "example.com")
    doc["padding"] = "x" * (2 * 1024 * 1024)  # a 2 MiB report
    (folder / "big.json").write_text(json.dumps(doc))
    w.show_preferences()
    dlg = w.preferences_dialog
    dlg.general_section.input_spin.setValue(1)
    dlg.general_section.payload_spin.setValue(1)
    dlg.accept()
    assert GeneralSettings.load(w.settings).limits().max_input_bytes == 1024 * 1024
    with qtbot.waitSignal(w.import_finished, timeout=TIMEOUT) as blocker:
        w.import_paths([str(folder)])
    result = blocker.args[0]
    assert result.imported == 0
    assert len(result.failed) == 1 and "1 MiB" in result.failed[0][1]
    # back to the defaults, the same file imports
    w.show_preferences()
    w.preferences_dialog.general_section.restore_defaults()
    w.preferences_dialog.accept()
    with qtbot.waitSignal(w.import_finished, timeout=TIMEOUT) as blocker:
        w.import_paths([str(folder)])
    assert blocker.args[0].imported == 1


def test_theme_is_saved_and_applied(qtbot: Any, make_window: Any, tmp_path: Path) -> None:
    w = make_window(tmp_path / "i.sqlite3")
    w.show_preferences()
    section = w.preferences_dialog.general_section
    section.theme_combo.setCurrentIndex(section.theme_combo.findData("dark"))
    w.preferences_dialog.accept()
    assert GeneralSettings.load(w.settings).theme == "dark"
    from tlsrpt_gui.ui.palette import system_is_dark

    assert QGuiApplication.palette().color(QPalette.ColorRole.Window).lightness() < 100
    assert system_is_dark()  # the charts follow
    apply_theme("light")
    assert QGuiApplication.palette().color(QPalette.ColorRole.Window).lightness() > 180
    assert not system_is_dark()
    apply_theme("system")


def test_index_location_from_preferences_is_used_at_start(tmp_path: Path) -> None:
    config = tmp_path / "config"
    (config / "tlsrpt-gui").mkdir(parents=True)
    wanted = tmp_path / "chosen" / "my-index.sqlite3"
    (config / "tlsrpt-gui" / "tlsrpt-gui.conf").write_text(f"[index]\npath={wanted}\n")
    env = dict(os.environ, XDG_CONFIG_HOME=str(config), PYTHONPATH=str(REPO), QT_QPA_PLATFORM="offscreen",
               TLSRPT_GUI_QUIT_AFTER_PAINT="1")
    env.pop("TLSRPT_GUI_DB", None)
    proc = subprocess.run([sys.executable, "-m", "tlsrpt_gui"], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert wanted.exists()
