# tlsrpt-gui — every target sets up what it needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: venv run test lint clean system-test-deps package bench

# Idempotent: (re)installs only when pyproject.toml changed.
venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

run: venv
	$(BIN)/tlsrpt-gui

# System packages the tests need (a DNS server, Qt's runtime libraries);
# installed only when missing.
system-test-deps:
	@bash scripts/system-test-deps.sh

test: venv system-test-deps
	$(BIN)/python -m pytest -q

lint: venv
	$(BIN)/ruff check tlsrpt_gui tests benchmarks fuzz
	$(BIN)/mypy tlsrpt_gui/core

# Every benchmark at the README's sizes (about half an hour, 6 GB in bench-work/);
# prints the Performance table. BENCH_ARGS=--quick for a smoke run.
bench: venv
	$(BIN)/python benchmarks/run_all.py $(BENCH_ARGS)

# A one-folder standalone build in dist/tlsrpt-gui/ (PyInstaller), made from a
# separate non-editable install so it holds exactly what a user gets.
PKG_VENV := build/package-venv
package:
	@test -x $(PKG_VENV)/bin/python || $(PYTHON) -m venv $(PKG_VENV)
	$(PKG_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(PKG_VENV)/bin/python -m pip install --quiet . 'pyinstaller>=6.5'
	cd build && ../$(PKG_VENV)/bin/pyinstaller --noconfirm --clean \
		--distpath ../dist --workpath pyinstaller ../packaging/tlsrpt-gui.spec

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
