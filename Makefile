# The two set-up commands of the README: `make demo` (a real sync into an embedded database)
# and `make test` (lint, types and the whole test suite). Both create or reuse `.venv`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv

.PHONY: demo test lint bench clean readme-about plugin-definitions

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(UV) pip install --quiet --python $(BIN)/python -e . --group dev
	touch $@

# `make demo ARGS=--fresh` starts over; `ARGS=--serve` keeps PostgreSQL up to query it.
demo: $(VENV)/.installed
	$(BIN)/python -m tests.pipelines.demo $(ARGS)

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest

# The benchmark suite (not part of `test`): prints a table of figures, each against its baseline.
# `make bench ARGS="--only tap,details --quick"`; see tests/benchmarks/__init__.py.
bench: $(VENV)/.installed
	$(BIN)/python -m tests.benchmarks $(ARGS)

# Paste both plugins' live `--about --format=markdown` into README.md between their markers.
readme-about: $(VENV)/.installed
	$(BIN)/python -m tests.pipelines.about_readme

# Rewrite plugins/*/*.yml (Hub-style definitions for other Meltano projects) from the live --about.
plugin-definitions: $(VENV)/.installed
	$(BIN)/python -m scripts.plugin_definitions

clean:
	rm -rf $(VENV) .meltano .pytest_cache .ruff_cache .mypy_cache
