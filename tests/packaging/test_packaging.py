"""Install and desktop integration: entry points, resources, desktop entry, AppStream."""

from __future__ import annotations

import configparser
import importlib.resources
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tlsrpt_gui import APP_ID, __version__

REPO = Path(__file__).resolve().parents[2]
PACKAGING = REPO / "packaging"


def test_version_from_python_m() -> None:
    out = subprocess.run([sys.executable, "-m", "tlsrpt_gui", "--version"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    assert out.stdout.strip() == f"tlsrpt-gui {__version__}"
    assert __version__ != "0.0.0+unknown"


def test_console_entry_point_installed() -> None:
    exe = Path(sys.executable).with_name("tlsrpt-gui")
    assert exe.exists(), "pip install did not create the tlsrpt-gui command"
    out = subprocess.run([str(exe), "--version"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and __version__ in out.stdout


def test_icons_are_package_resources() -> None:
    icons = importlib.resources.files("tlsrpt_gui.resources") / "icons"
    names = {p.name for p in icons.iterdir()}
    assert "tlsrpt-gui.svg" in names
    for size in (16, 32, 48, 64, 128, 256, 512):
        data = (icons / f"tlsrpt-gui-{size}.png").read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        width = int.from_bytes(data[16:20], "big")
        assert width == size


def test_desktop_file_names_the_app() -> None:
    path = PACKAGING / f"{APP_ID}.desktop"
    cp = configparser.ConfigParser(interpolation=None)
    cp.optionxform = str  # type: ignore[assignment,method-assign]
    cp.read(path, encoding="utf-8")
    entry = cp["Desktop Entry"]
    assert entry["Exec"] == "tlsrpt-gui %F"
    assert entry["Icon"] == APP_ID
    assert set(entry["MimeType"].strip(";").split(";")) == {"application/tlsrpt+json", "application/tlsrpt+gzip"}
    assert entry["Categories"] and entry["Keywords"]


@pytest.mark.parametrize("tool", ["desktop-file-validate", "appstreamcli"])
def test_validators(tool: str) -> None:
    exe = shutil.which(tool)
    assert exe, f"{tool} is missing: make test installs it (scripts/system-test-deps.sh)"
    if tool == "desktop-file-validate":
        args = [exe, str(PACKAGING / f"{APP_ID}.desktop")]
    else:
        args = [exe, "validate", "--no-net", str(PACKAGING / f"{APP_ID}.metainfo.xml")]
    out = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr


def test_sample_reports_ship_and_import(tmp_path: Path) -> None:
    from tlsrpt_gui.core.index import Index

    sample = importlib.resources.files("tlsrpt_gui.resources") / "samples" / "tlsrpt-samples.zip"
    with importlib.resources.as_file(sample) as path, Index(tmp_path / "s.db") as ix:
        result = ix.import_paths([path], workers=1)
        assert result.failed == [] and result.skipped == []
        t = ix.totals()
        assert t.reports == result.imported >= 300
        assert t.reporters >= 5 and t.policy_domains >= 5
        assert t.failure_details > 100
        assert (t.last_day or 0) - (t.first_day or 0) >= 13 * 86400
        kinds = {r[0] for r in ix.conn.execute("SELECT DISTINCT policy_type FROM policies")}
        assert {"sts", "tlsa", "no-policy-found"} <= kinds
