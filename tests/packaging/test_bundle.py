"""The standalone PyInstaller bundle builds and runs headless (a broken bundle fails)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO.parent / "shared" / "corpus"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("make") is None:
        pytest.fail("make is needed to build the bundle")
    proc = subprocess.run(["make", "package", f"PYTHON={sys.executable}"], cwd=REPO, capture_output=True, text=True, timeout=1500)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    exe = REPO / "dist" / "tlsrpt-gui" / "tlsrpt-gui"
    assert exe.is_file() and os.access(exe, os.X_OK)
    return exe


@pytest.mark.slow
def test_bundle_runs_headless(bundle: Path, tmp_path: Path) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HOME=str(tmp_path))
    env.pop("PYTHONPATH", None)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(bundle), *args], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)

    version = run("--version")
    assert version.returncode == 0 and version.stdout.startswith("tlsrpt-gui "), version.stderr
    db = tmp_path / "b.db"
    imp = run("import", str(CORPUS / "gz"), "--db", str(db), "--json")
    assert imp.returncode == 0, imp.stderr
    stats = run("stats", "--db", str(db), "--json")
    assert stats.returncode == 0 and '"reports": ' in stats.stdout
    shot = tmp_path / "shot.png"
    out = run("--db", str(db), "--screenshot", str(shot), "--tab", "reports")
    assert out.returncode == 0, out.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
    # the resources travel with the bundle
    assert any((bundle.parent / "_internal" / "tlsrpt_gui" / "resources" / "icons").glob("*.png"))
