"""The state one mock Salesforce server holds, shared by every handler module."""

from __future__ import annotations

from mockcrm.clock import MockClock
from mockcrm.config import MockConfig
from mockcrm.limits import RollingDailyCounter
from mockcrm.salesforce.api import Router
from mockcrm.salesforce.cursors import Cursors
from mockcrm.salesforce.org import Org
from mockcrm.stats import CallStats

# What ``Sforce-Limit-Info`` and ``/limits`` show as the maximum when the daily limit is lifted
# (``salesforce_daily_limit = 0``): a Full sandbox's allocation, large enough never to bind.
UNLIMITED_DISPLAY = 5_000_000


class SalesforceMock:
    def __init__(self, config: MockConfig) -> None:
        self.config = config
        self.clock = MockClock()
        self.org = Org(self.clock)
        self.stats = CallStats()
        self.daily = RollingDailyCounter(self.clock, config.salesforce_daily_limit)
        self.cursors = Cursors(self.clock)
        self.tokens: set[str] = {config.salesforce_token}
        self.refresh_tokens: set[str] = set()
        self.router = Router()

    def usage(self) -> tuple[int, int]:
        """(used, max) for ``Sforce-Limit-Info`` and ``/limits``."""
        limit = self.daily.limit or UNLIMITED_DISPLAY
        return self.daily.used(), limit

    def reset(self) -> None:
        self.org.reset()
        self.daily.reset()
        self.cursors.clear()
        self.tokens = {self.config.salesforce_token}
        self.refresh_tokens.clear()
