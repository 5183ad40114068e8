"""One Salesforce poll's first reads, sent as one ``/composite`` call.

An idle poll reads each Salesforce stream once: the Contact and Lead queries and their two delete
logs. Sent one by one that is four API calls every poll interval (2,880 an hour at 5 s, most of a
small org's daily allotment); carried by one ``/composite`` call it is one, since Salesforce counts
a composite call as one request whatever its subrequests.

The runtime opens a *round* for a poll of a CRM's streams, naming its members (the streams). Each
member's source hands its first read of the round here and waits; the call goes out once every
member has handed one in or left the round (its poll ended, or it waits on something else first,
see ``leave``). What a member reads after that (a next page, a second pass in the same poll) goes
out on its own at once: a stream with many pages does not hold the others back, and a stream never
waits for another's later pages. Outside a round (a source used alone, a test) ``read`` answers
None and the source makes its ordinary call.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import anyio

from engine.errors import Transient
from engine.salesforce import COMPOSITE_QUERIES_MAX, SalesforceClient, SubResponse


class _Call:
    """The reads handed in during one round, and their answers once the call is back."""

    def __init__(self) -> None:
        self.urls: list[str] = []
        self.full = anyio.Event()
        """Every member has handed in its read or left: the call may go."""
        self.done = anyio.Event()
        self.answers: list[SubResponse] = []
        self.error: BaseException | None = None


class PollRound:
    def __init__(self, client: SalesforceClient) -> None:
        self._client = client
        self._waiting: set[str] = set()
        """Members of the open round that have neither handed in a read nor left."""
        self._call: _Call | None = None
        self.calls = 0
        """Composite calls sent (for tests)."""

    @contextmanager
    def round(self, members: Iterable[str]) -> Iterator[None]:
        """One poll of ``members``; each reads at most once through the round. At most five members
        (a composite call carries at most five queries)."""
        names = set(members)
        if self._call is not None:
            raise RuntimeError("a poll round is open already")  # one polling loop per CRM
        if len(names) > COMPOSITE_QUERIES_MAX:
            raise ValueError(f"a round has at most {COMPOSITE_QUERIES_MAX} members")
        self._waiting = names
        self._call = _Call()
        try:
            yield
        finally:
            self._waiting = set()
            call, self._call = self._call, None
            call.full.set()  # nobody is left to wait for (every member has left by now)

    def leave(self, member: str) -> None:
        """``member`` reads nothing more through this round: its poll ended, or it is about to wait
        for another member (which may be waiting for this read), so the call must not wait for it."""
        self._waiting.discard(member)
        if not self._waiting and self._call is not None:
            self._call.full.set()

    async def read(self, member: str, url: str) -> SubResponse | None:
        """``url`` (a GET) read in the round's call; None when ``member`` is not waited for (no round
        is open, or it has read through this one already): the caller reads it on its own."""
        call = self._call
        if call is None or member not in self._waiting:
            return None
        index = len(call.urls)
        call.urls.append(url)
        self.leave(member)
        if index == 0:
            await self._send(call)  # the first to hand a read in sends the call, once all are in
        else:
            await call.done.wait()
        if call.error is not None:
            raise call.error
        return call.answers[index]

    async def _send(self, call: _Call) -> None:
        try:
            await call.full.wait()
            self.calls += 1
            call.answers = await self._client.composite_get(call.urls)
        except BaseException as exc:  # the others raise it too (a cancelled sender: a Transient)
            call.error = exc if isinstance(exc, Exception) else Transient("salesforce", "poll call cancelled")
            raise
        finally:
            call.done.set()
