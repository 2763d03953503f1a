"""Where the index, settings and logs live (platformdirs), with overrides."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import platformdirs

APP_DIR_NAME = "tlsrpt-gui"
DB_ENV = "TLSRPT_GUI_DB"


def data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_DIR_NAME, appauthor=False))


def log_dir() -> Path:
    return Path(platformdirs.user_log_dir(APP_DIR_NAME, appauthor=False))


def config_dir() -> Path:
    return Path(platformdirs.user_config_dir(APP_DIR_NAME, appauthor=False))


def default_db_path() -> Path:
    """The index location: ``$TLSRPT_GUI_DB`` if set, else the user data dir."""
    env = os.environ.get(DB_ENV)
    if env:
        return Path(env).expanduser()
    return data_dir() / "index.sqlite3"


def resolve_db_path(explicit: str | os.PathLike[str] | None, preferred: Callable[[], str] | None = None) -> Path:
    """``--db PATH`` wins over ``$TLSRPT_GUI_DB``, which wins over the index set in the
    window's Preferences (``preferred()``, asked only when it decides: reading it loads
    Qt), which wins over the default. The window and the commands both find it so."""
    if explicit:
        return Path(explicit).expanduser()
    if preferred is not None and not os.environ.get(DB_ENV):
        chosen = preferred()
        if chosen:
            return Path(chosen).expanduser()
    return default_db_path()
