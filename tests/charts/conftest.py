"""Fixtures for the chart tests: indexes built from the shared corpus and from synthetic reports."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import importlib.util
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import pytest

from tlsrpt_gui.core.index import Index

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
CORPUS_DIRS = [CORPUS / name for name in ("reports", "malformed", "gz", "eml")]
#: "large" for the widget tests; big enough for every chart to fill, small enough to stay fast
LARGE_REPORTS = 2500


def load_synth() -> ModuleType:
    """benchmarks/synth.py, loaded from its path (benchmarks/ is not a package)."""
    name = "tlsrpt_benchmarks_synth"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / "synth.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def build_index(path: Path, sources: list[Path]) -> Path:
    with Index(path) as index:
        if sources:
            result = index.import_paths(sources, workers=1)
            assert result.imported > 0
    return path


@pytest.fixture(scope="session")
def corpus_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"the shared corpus is not at {CORPUS}")
    return build_index(tmp_path_factory.mktemp("corpus") / "index.db", CORPUS_DIRS)


@pytest.fixture(scope="session")
def synth_reports(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return load_synth().generate(tmp_path_factory.mktemp("synth"), LARGE_REPORTS, seed=7)


@pytest.fixture(scope="session")
def synth_db(tmp_path_factory: pytest.TempPathFactory, synth_reports: list[Path]) -> Path:
    return build_index(tmp_path_factory.mktemp("synthdb") / "index.db", [synth_reports[0].parent])


@pytest.fixture(scope="session")
def empty_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_index(tmp_path_factory.mktemp("empty") / "index.db", [])


def one_report(org: str = "Postbird Mail", domain: str = "example.com") -> dict[str, object]:
    day = datetime(2025, 3, 4, tzinfo=UTC)
    return {
        "organization-name": org,
        "date-range": {"start-datetime": day.strftime("%Y-%m-%dT00:00:00Z"),
                       "end-datetime": day.strftime("%Y-%m-%dT23:59:59Z")},
        "contact-info": "tls@postbird.example",
        "report-id": "one-report-1",
        "policies": [{
            "policy": {"policy-type": "sts", "policy-string": ["version: STSv1", "mode: enforce"],
                       "policy-domain": domain, "mx-host": ["mx1." + domain]},
            "summary": {"total-successful-session-count": 90, "total-failure-session-count": 10},
            "failure-details": [
                {"result-type": "certificate-expired", "sending-mta-ip": "192.0.2.7",
                 "receiving-mx-hostname": "mx1." + domain, "failed-session-count": 6},
                {"result-type": "sts-policy-fetch-error", "failed-session-count": 4},
            ],
        }],
    }


@pytest.fixture()
def one_db(tmp_path: Path) -> Path:
    src = tmp_path / "one.json"
    src.write_text(json.dumps(one_report()), encoding="utf-8")
    return build_index(tmp_path / "index.db", [src])
