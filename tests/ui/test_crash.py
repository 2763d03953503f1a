"""Uncaught errors on any thread reach one crash dialog and the log; logs rotate in a file."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from tlsrpt_gui.logsetup import LOG_ENV, setup_logging
from tlsrpt_gui.ui.crash import CrashDialog, CrashHandler
from tlsrpt_gui.ui.tasks import run_task

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def handler(qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv(LOG_ENV, str(tmp_path / "logs"))
    log_file = setup_logging()
    shown: list[CrashDialog] = []
    h = CrashHandler(log_file, show=shown.append)
    h.install()
    yield h, shown, log_file
    h.uninstall()
    if h.dialog is not None:
        h.dialog.deleteLater()
    for hd in list(logging.getLogger().handlers):
        if getattr(hd, "_tlsrpt_gui_handler", False):
            logging.getLogger().removeHandler(hd)
            hd.close()


def test_exception_in_a_worker_opens_the_crash_dialog(qtbot: Any, handler: Any) -> None:
    h, shown, log_file = handler

    def job(_task: Any) -> None:
        raise RuntimeError("worker exploded <b>here</b>")

    with qtbot.waitSignal(h.crashed, timeout=10_000):
        run_task(job)
    qtbot.waitUntil(lambda: len(shown) == 1, timeout=5_000)
    dialog = shown[0]
    assert "RuntimeError: worker exploded <b>here</b>" in dialog.details.toPlainText()
    assert "in job" in dialog.details.toPlainText()  # the traceback, not just the message
    assert str(log_file) in dialog.message.text()
    assert "worker exploded" in log_file.read_text(encoding="utf-8")


def test_exception_in_a_python_thread_and_a_second_one_share_one_dialog(qtbot: Any, handler: Any) -> None:
    h, shown, _ = handler

    def boom(msg: str) -> None:
        raise ValueError(msg)

    for msg in ("first failure", "second failure"):
        t = threading.Thread(target=boom, args=(msg,))
        with qtbot.waitSignal(h.crashed, timeout=10_000):
            t.start()
        t.join()
    qtbot.waitUntil(lambda: h.count == 2, timeout=5_000)
    assert h.dialog is not None and all(d is h.dialog for d in shown)
    text = h.dialog.details.toPlainText()
    assert "first failure" in text and "second failure" in text


def test_verbose_prints_logs_and_qt_messages_go_to_the_log(tmp_path: Path) -> None:
    env = dict(os.environ, **{LOG_ENV: str(tmp_path / "logs")}, QT_QPA_PLATFORM="offscreen")
    env["PYTHONPATH"] = str(REPO)
    db = tmp_path / "i.db"
    quiet = subprocess.run([sys.executable, "-m", "tlsrpt_gui", "--db", str(db), "--screenshot", str(tmp_path / "a.png")],
                           capture_output=True, text=True, env=env, timeout=120)
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr.strip() == ""
    loud = subprocess.run([sys.executable, "-m", "tlsrpt_gui", "--verbose", "--db", str(db), "--screenshot", str(tmp_path / "b.png")],
                          capture_output=True, text=True, env=env, timeout=120)
    assert loud.returncode == 0
    assert " INFO tlsrpt_gui.ui.application [MainThread]: tlsrpt-gui " in loud.stderr
    assert str(db) in loud.stderr
    log_text = (tmp_path / "logs" / "tlsrpt-gui.log").read_text(encoding="utf-8")
    assert " qt " in log_text or " qt:" in log_text or "qt [" in log_text  # Qt's own messages are routed in


def test_window_icon_has_every_size(qtbot: Any) -> None:
    from tlsrpt_gui.assets import ICON_SIZES
    from tlsrpt_gui.ui.application import app_icon

    icon = app_icon()
    assert not icon.isNull()
    assert {s.width() for s in icon.availableSizes()} == set(ICON_SIZES)
