"""Benchmarks: run each as ``python -m benchmarks.<name>``; they print a table and can write JSON."""
