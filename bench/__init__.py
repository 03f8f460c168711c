"""Benchmark scripts: each prints a table and writes JSON. Not tests; they assert no timing."""
