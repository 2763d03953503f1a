"""The app's own files (icons, sample reports), read with importlib.resources.

Installed, they are the package ``tlsrpt_gui.resources`` (the top-level
``resources/`` folder, mapped by setup.py). Run from a source tree that was never
installed, the same folder is found beside the package.
"""

from __future__ import annotations

import importlib.resources
from importlib.resources.abc import Traversable
from pathlib import Path


def resources() -> Traversable:
    try:
        return importlib.resources.files("tlsrpt_gui.resources")
    except ModuleNotFoundError:
        return Path(__file__).resolve().parent.parent / "resources"


def read_bytes(*parts: str) -> bytes:
    node = resources()
    for part in parts:
        node = node / part
    return node.read_bytes()


ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
