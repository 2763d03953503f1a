"""Write resources/samples/tlsrpt-samples.zip: two weeks of sample reports.

The reports come from the project's own deterministic generator
(benchmarks/synth.py): eight fictional reporters, seven policy domains, and
realistic failures (an expired certificate, a policy fetch error, a reporter
that goes quiet). Run ``python scripts/make_samples.py`` to rebuild; the zip is
committed and shipped with the app for the welcome page's "Open sample reports".
"""

from __future__ import annotations

import importlib.util
import sys
import tempfile
import zipfile
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "resources" / "samples" / "tlsrpt-samples.zip"
DAYS = 14
START = date(2026, 11, 1)


def main() -> int:
    spec = importlib.util.spec_from_file_location("synth", ROOT / "benchmarks" / "synth.py")
    assert spec and spec.loader
    synth = importlib.util.module_from_spec(spec)
    sys.modules["synth"] = synth
    spec.loader.exec_module(synth)
    with tempfile.TemporaryDirectory() as tmp:
        paths = synth.generate(tmp, DAYS * 40, seed=8460, start=START)
        OUT.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(OUT, "w", compression=zipfile.ZIP_STORED) as zf:
            for p in sorted(paths):
                info = zipfile.ZipInfo(p.name, date_time=(2026, 11, 29, 0, 0, 0))
                zf.writestr(info, p.read_bytes())
    print(f"{OUT}: {len(paths)} reports")
    return 0


if __name__ == "__main__":
    sys.exit(main())
