"""Tools run with `python -m scripts.<tool>` (see the Makefile): the README's jobs and generators.

Entry points: `demo`, `sync` and `dev` (`make demo`, `make sync`, `make dev`), `generate_schemas`
(the stream schemas from the official OpenAPI), `about_readme` (`make readme-about`) and
`plugin_definitions` (`make plugin-definitions`). The rest are their parts, which the tests under
tests/pipelines use too: `postgres` (the embedded PostgreSQL), `runner` (Meltano), `warehouse`
(the per-table check), `console` and `sandbox_activity`.
"""
