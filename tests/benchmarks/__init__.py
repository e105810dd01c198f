"""Benchmark suite: throughput, API calls and memory of both plugins, measured on the sandbox.

    make bench                      # everything, at the sizes the issue names (about 15 minutes)
    .venv/bin/python -m tests.benchmarks --only tap,details --quick

Not part of the test run (pytest collects `test_*.py`; these are `bench_*.py`). Every figure is
printed with the baseline measured in the same run and the ratio between them; see README.md,
"Performance", for this machine's results.
"""
