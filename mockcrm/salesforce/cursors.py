"""Query locators: the rest of a query's rows, served page by page through ``nextRecordsUrl``.

Like a real cursor, a locator holds the result as it was when the query ran; later changes do not
shift its pages. Locators expire after 15 minutes of disuse and the oldest go first past a cap, so
abandoned queries cannot grow memory without bound.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from mockcrm.clock import MockClock
from mockcrm.salesforce.ids import IdFactory

_TTL_S = 15 * 60
_MAX_CURSORS = 1000


@dataclass
class Cursor:
    rows: list[dict[str, object]]
    total_size: int
    batch: int
    """Rows per page, fixed when the query ran (``Sforce-Query-Options: batchSize``)."""
    last_used: float


class Cursors:
    def __init__(self, clock: MockClock) -> None:
        self._clock = clock
        self._ids = IdFactory()
        self._open: OrderedDict[str, Cursor] = OrderedDict()

    def open(self, rows: list[dict[str, object]], total_size: int, batch: int) -> str:
        self._expire()
        locator = self._ids.new_id("01g")
        self._open[locator] = Cursor(rows, total_size, batch, self._clock.time())
        while len(self._open) > _MAX_CURSORS:
            self._open.popitem(last=False)
        return locator

    def get(self, locator: str) -> Cursor | None:
        self._expire()
        cursor = self._open.get(locator)
        if cursor is not None:
            cursor.last_used = self._clock.time()
            self._open.move_to_end(locator)
        return cursor

    def _expire(self) -> None:
        horizon = self._clock.time() - _TTL_S
        while self._open:
            locator, cursor = next(iter(self._open.items()))
            if cursor.last_used >= horizon:
                break
            del self._open[locator]

    def clear(self) -> None:
        self._open.clear()
