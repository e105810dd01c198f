# The set-up commands of the README: `make demo` (a real sync into an embedded database),
# `make sync` (your account into it), `make dev` (the services of meltano.yml's dev environment)
# and `make test` (lint, types and the whole test suite). All create or reuse `.venv` and install
# the dependency groups they need (pyproject.toml), each set with its own stamp file.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
# `pipelines` group only: Meltano, the embedded PostgreSQL, psycopg (no Airflow, no test tools).
PIPELINES := $(VENV)/.installed-pipelines
# `dev` group: everything, Airflow included (its DAG test runs in `make test`).
DEV := $(VENV)/.installed-dev

.PHONY: demo sync dev test lint bench clean readme-about plugin-definitions

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv

$(PIPELINES): $(BIN)/python pyproject.toml
	$(UV) pip install --quiet --python $(BIN)/python -e . --group pipelines
	touch $@

$(DEV): $(BIN)/python pyproject.toml
	$(UV) pip install --quiet --python $(BIN)/python -e . --group dev
	touch $@

# `make demo ARGS=--fresh` starts over; `ARGS=--serve` keeps PostgreSQL up to query it.
demo: $(PIPELINES)
	$(BIN)/python -m scripts.demo $(ARGS)

# Your account (TAP_GETRESPONSE_* in .env) into the embedded PostgreSQL in .meltano/sync/.
# `make sync ARGS=--serve` keeps it up to query; `ARGS=--all-streams`, `ARGS=--fresh`.
sync: $(PIPELINES)
	$(BIN)/python -m scripts.sync $(ARGS)

# The sandbox (127.0.0.1:8765) and PostgreSQL (127.0.0.1:55432) that `meltano --environment=dev`
# points at, until Ctrl-C.
dev: $(PIPELINES)
	$(BIN)/python -m scripts.dev $(ARGS)

# lint-imports: the import direction in pyproject.toml's [tool.importlinter] (no cycles; the HTTP
# layer imports neither plugin; the target uses only tap_getresponse.api of the tap package).
lint: $(DEV)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache --no-logo

test: lint
	$(BIN)/python -m pytest

# The benchmark suite (not part of `test`): prints a table of figures, each against its baseline.
# `make bench ARGS="--only tap,details --quick"`; see tests/benchmarks/__init__.py.
bench: $(DEV)
	$(BIN)/python -m tests.benchmarks $(ARGS)

# Paste both plugins' live `--about --format=markdown` into README.md between their markers.
readme-about: $(DEV)
	$(BIN)/python -m scripts.about_readme

# Rewrite plugins/*/*.yml (Hub-style definitions for other Meltano projects) from the live --about.
plugin-definitions: $(DEV)
	$(BIN)/python -m scripts.plugin_definitions

clean:
	rm -rf $(VENV) .meltano .pytest_cache .ruff_cache .mypy_cache
