"""Benchmarks for space-mirror; run with `make bench` (or `python -m bench --quick`)."""
