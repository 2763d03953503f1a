"""Logging for the window and the CLI: a rotating file in the platformdirs log dir.

``--verbose`` also prints every message to stderr. The log path can be moved
with ``$TLSRPT_GUI_LOG_DIR`` (tests do).
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
from pathlib import Path

from tlsrpt_gui.core.paths import log_dir

LOG_NAME = "tlsrpt-gui.log"
LOG_ENV = "TLSRPT_GUI_LOG_DIR"
_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(threadName)s]: %(message)s"
_MARK = "_tlsrpt_gui_handler"


def log_path() -> Path:
    env = os.environ.get(LOG_ENV)
    return (Path(env).expanduser() if env else log_dir()) / LOG_NAME


def setup_logging(*, verbose: bool = False, stderr_level: int | None = None) -> Path | None:
    """Send log records to the rotating file (and to stderr when asked).

    Returns the log file's path, or None when it cannot be written (then only
    stderr is used). Calling it again replaces the handlers it added before.
    """
    root = logging.getLogger()
    for h in list(root.handlers):
        if getattr(h, _MARK, False):
            root.removeHandler(h)
            h.close()
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    formatter = logging.Formatter(_FORMAT)
    path: Path | None = log_path()
    try:
        assert path is not None
        path.parent.mkdir(parents=True, exist_ok=True)
        fh: logging.Handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=1024 * 1024, backupCount=5, encoding="utf-8"
        )
    except OSError:
        path = None
    else:
        fh.setFormatter(formatter)
        setattr(fh, _MARK, True)
        root.addHandler(fh)
    level = logging.DEBUG if verbose else stderr_level
    if level is not None:
        sh = logging.StreamHandler(sys.stderr)
        sh.setLevel(level)
        sh.setFormatter(formatter)
        setattr(sh, _MARK, True)
        root.addHandler(sh)
    return path
