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


class AuthFailed(CrmsyncError):
    """The CRM refused our credentials (401/403 auth): nothing will sync until the token is fixed."""

    def __init__(self, system: str, detail: str) -> None:
        super().__init__(f"{system} refused the credentials: {detail}")
        self.system = system


class Transient(CrmsyncError):
    """A failure worth retrying later: 5xx, timeouts, dropped connections, rate limits that outlived
    the retries. Back-pressure, never a record error."""

    def __init__(self, system: str, detail: str, *, retry_after_s: float | None = None) -> None:
        super().__init__(f"{system}: {detail}")
        self.system = system
        self.retry_after_s = retry_after_s


class RequestRejected(CrmsyncError):
    """The CRM rejected a whole request (4xx) in a way a retry cannot fix: our bug or bad config."""

    def __init__(self, system: str, status: int, detail: str) -> None:
        super().__init__(f"{system} rejected a request with {status}: {detail}")
        self.system = system
        self.status = status
        self.detail = detail


class RecordError(CrmsyncError):
    """One record could not sync (validation, duplicate, permission, invalid value, ...). It is
    stored as a sync error with how to fix it, retried later; every other record carries on."""

    def __init__(self, error_type: str, message: str, fix: str) -> None:
        super().__init__(f"{error_type}: {message}")
        self.error_type = error_type
        self.message = message
        self.fix = fix
