"""Helpers for the security tests: hostile inputs, and a child process watched for memory.

Peak memory is read from ``VmHWM`` in ``/proc/<pid>/status`` of a fresh child
(``ru_maxrss`` would report the parent's peak after a fork). The parent also
samples ``VmRSS`` and kills the child as soon as it passes the limit, so a test
of a memory blow-up fails in seconds instead of exhausting the machine.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO.parent / "shared" / "corpus"
MiB = 1024 * 1024


@dataclass
class Child:
    returncode: int | None
    stdout: str
    stderr: str
    peak_kib: int
    elapsed: float
    killed: str | None  # why the watcher killed it, if it did

    def describe(self) -> str:
        return (f"rc={self.returncode} killed={self.killed} peak={self.peak_kib // 1024} MiB "
                f"elapsed={self.elapsed:.1f}s\nstdout:{self.stdout[-2000:]}\nstderr:{self.stderr[-3000:]}")


def _status_kib(pid: int, key: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def run_child(code: str, *, max_rss_mib: int, timeout: float, cwd: Path | None = None) -> Child:
    """Run Python *code* in a new interpreter; kill it past *max_rss_mib* or *timeout*.

    The child prints ``VMHWM <kib>`` last; that is its own peak resident size.
    """
    if not Path("/proc/self/status").exists():
        pytest.skip("needs /proc/<pid>/status (Linux) to measure peak memory")
    script = textwrap.dedent(code) + textwrap.dedent("""
        with open("/proc/self/status") as _fh:
            print("VMHWM", [l.split()[1] for l in _fh if l.startswith("VmHWM:")][0], flush=True)
    """)
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, cwd=cwd)
    killed: str | None = None
    sampled = 0
    while proc.poll() is None:
        rss = _status_kib(proc.pid, "VmRSS")
        sampled = max(sampled, _status_kib(proc.pid, "VmHWM"), rss)
        if rss > max_rss_mib * 1024:
            killed = f"resident memory passed {max_rss_mib} MiB"
        elif time.monotonic() - started > timeout:
            killed = f"still running after {timeout:g} s"
        if killed:
            proc.kill()
            break
        time.sleep(0.05)
    out, err = proc.communicate()
    elapsed = time.monotonic() - started
    peak = sampled
    for line in out.splitlines():
        if line.startswith("VMHWM "):
            peak = int(line.split()[1])
    return Child(proc.returncode, out, err, peak, elapsed, killed)


def has_control_chars(text: str) -> bool:
    """C0/C1 control characters (ESC, BEL, CSI…) other than newline and tab."""
    return any((ord(ch) < 0x20 and ch not in "\n\t") or 0x7F <= ord(ch) < 0xA0 for ch in text)
