"""Fixtures for the engine tests (no Qt here)."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO.parent / "shared" / "corpus"
CORPUS_DIRS = ("reports", "malformed", "gz", "eml")


@pytest.fixture(scope="session")
def corpus() -> Path:
    assert CORPUS.is_dir(), f"the shared corpus is missing at {CORPUS}"
    return CORPUS


def make_report(
    *,
    org: str = "Example Reporter",
    report_id: str = "r-1",
    start: str = "2024-05-01T00:00:00Z",
    end: str = "2024-05-01T23:59:59Z",
    policies: list[dict[str, Any]] | None = None,
    contact: str | None = "tlsrpt@reporter.example",
    **extra: Any,
) -> dict[str, Any]:
    if policies is None:
        policies = [sts_policy()]
    doc: dict[str, Any] = {
        "organization-name": org,
        "date-range": {"start-datetime": start, "end-datetime": end},
        "contact-info": contact,
        "report-id": report_id,
        "policies": policies,
    }
    doc.update(extra)
    return doc


def sts_policy(domain: str = "example.com", ok: int = 10, failed: int = 0, details: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "policy": {
            "policy-type": "sts",
            "policy-string": ["version: STSv1", "mode: enforce", f"mx: mx1.{domain}", "max_age: 86400"],
            "policy-domain": domain,
            "mx-host": [f"mx1.{domain}"],
        },
        "summary": {"total-successful-session-count": ok, "total-failure-session-count": failed},
        "failure-details": details or [],
    }


def write_json(path: Path, doc: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))
    return path


def write_gz(path: Path, doc: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(json.dumps(doc).encode()))
    return path


@pytest.fixture
def run_cli(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run ``python -m tlsrpt_gui ARGS`` as a user would, with a private index."""

    def run(*args: str, env: dict[str, str] | None = None, check_rc: int | None = None) -> subprocess.CompletedProcess[str]:
        full_env = dict(os.environ)
        full_env.setdefault("TLSRPT_GUI_DB", str(tmp_path / "default-index.sqlite3"))
        full_env["PYTHONPATH"] = str(REPO) + os.pathsep + full_env.get("PYTHONPATH", "")
        if env:
            full_env.update(env)
        proc = subprocess.run(
            [sys.executable, "-m", "tlsrpt_gui", *args],
            capture_output=True, text=True, env=full_env, timeout=300, cwd=tmp_path,
        )
        if check_rc is not None:
            assert proc.returncode == check_rc, f"rc={proc.returncode}\nstdout:{proc.stdout}\nstderr:{proc.stderr}"
        return proc

    return run
