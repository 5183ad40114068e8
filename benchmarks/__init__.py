"""Benchmarks: ``crmsync bench`` (``benchmarks.bench`` and one module per scenario), and
``python -m benchmarks.mock_capacity`` for the mocks' own capacity."""
