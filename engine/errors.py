"""The error taxonomy: what is retried, what becomes a per-record sync error, what stops the engine."""

from __future__ import annotations


class CrmsyncError(Exception):
    """Root of every error crmsync raises on purpose."""


class ConfigError(CrmsyncError, ValueError):
    """The configuration is invalid; the message names the key. The CLI exits 2."""


class StateFileError(CrmsyncError):
    """The state file cannot be used as it is (damaged, locked, read-only or from a newer crmsync)."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"state file {path}: {problem}")
        self.path = path
        self.problem = problem
