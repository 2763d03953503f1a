"""Packages for setuptools: the code, plus the top-level resources/ folder
installed as the ``tlsrpt_gui.resources`` package (read with importlib.resources).
Everything else is declared in pyproject.toml."""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["tlsrpt_gui", "tlsrpt_gui.*"]), "tlsrpt_gui.resources"],
    package_dir={"tlsrpt_gui.resources": "resources"},
)
