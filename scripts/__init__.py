"""Maintenance tools that write product files (run with `python -m scripts.<tool>`)."""
