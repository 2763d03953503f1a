"""``tlsrpt-gui --db FILE --screenshot OUT.png --tab …`` writes a real PNG for every tab."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

from tests.ui.conftest import REPO

TABS = ("reports", "policies", "failures", "charts", "dns")


@pytest.mark.parametrize("tab", TABS)
def test_screenshot_every_tab(corpus_db_master: Path, tmp_path: Path, tab: str) -> None:
    out = tmp_path / f"{tab}.png"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("DISPLAY", None)
    env.pop("QT_QPA_PLATFORM", None)  # the command must choose offscreen by itself
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "tlsrpt_gui",
            "--db",
            str(corpus_db_master),
            "--screenshot",
            str(out),
            "--tab",
            tab,
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert out.stat().st_size > 10_000
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1280, 800)
    # not a blank canvas: many distinct colours
    colours = {image.pixel(x, y) for x in range(0, 1280, 37) for y in range(0, 800, 23)}
    assert len(colours) > 5


def test_screenshot_of_a_missing_folder_fails_cleanly(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "tlsrpt_gui",
            "--db",
            str(tmp_path / "x.db"),
            "--screenshot",
            str(tmp_path / "no" / "such" / "dir" / "s.png"),
            "--tab",
            "nosuchtab",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "invalid choice" in proc.stderr


def test_paths_on_the_command_line_are_imported(corpus: Path, tmp_path: Path) -> None:
    import sqlite3

    db = tmp_path / "cli.sqlite3"
    out = tmp_path / "shot.png"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "tlsrpt_gui",
            str(corpus / "reports"),
            "--db",
            str(db),
            "--screenshot",
            str(out),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    with sqlite3.connect(db) as conn:
        n = conn.execute("SELECT COUNT(*) FROM reports").fetchone()[0]
    from tlsrpt_gui.core.index import Index

    with Index(tmp_path / "expected.sqlite3") as idx:
        expected = idx.import_paths([corpus / "reports"], workers=1).imported
    assert n == expected > 0
    assert out.stat().st_size > 10_000
