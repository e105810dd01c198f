# The two set-up commands of the README: `make demo` (a real sync into an embedded database)
# and `make test` (lint, types and the whole test suite). Both create or reuse `.venv`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv

.PHONY: demo test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(UV) pip install --quiet --python $(BIN)/python -e . --group dev
	touch $@

demo: $(VENV)/.installed
	$(BIN)/python -m tests.pipelines.demo

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest

bench: $(VENV)/.installed
	$(BIN)/python -m tests.benchmarks

clean:
	rm -rf $(VENV) .meltano .pytest_cache .ruff_cache .mypy_cache
