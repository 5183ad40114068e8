"""The runtime: builds the engine from settings and runs it inside one task group.

``run_until_idle`` (burst mode, for tests, benchmarks and cron) polls every change stream, waits
until every actor is done, checkpoints the cursors and polls again, until a pass finds nothing new.
``run`` polls forever every ``poll_interval_s``. Shutdown is cancellation; the store's final
flush is shielded.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import anyio
import msgspec
from anyio.abc import TaskGroup
from loguru import logger

from actors.contact import ContactActor
from actors.contact_io import ContactIO
from actors.contact_values import ID_PROPERTY
from actors.owners import OwnerDirectory
from actors.poll_round import PollRound
from actors.prefetch import PrefetchingSource
from actors.router import Router
from actors.sources import HubSpotSource, SalesforceDeletedSource, SalesforceSource, iso_utc
from actors.stream import READ_AHEAD, Change, ChangeSource, ChangeStream, Ticket
from engine.auth import TokenProvider, hubspot_grant, salesforce_grant
from engine.budget import AllotmentExhausted, Budget, carry_over
from engine.canonical import parse_timestamp_ms
from engine.errors import Transient
from engine.http import HttpClient, make_session
from engine.hubspot import HubSpotClient, HubSpotPolicy, last_modified_property
from engine.mapping import FieldMapping, default_contact_mappings, validate_mappings
from engine.pacing import WindowLimiter
from engine.runs import RunMode, RunRecorder
from engine.salesforce import SalesforceClient, SalesforcePolicy
from engine.schema_check import check_contact_mappings
from engine.settings import Settings
from engine.store import StateStore
from engine.summary import Summary

SF_OBJECTS = ("Contact", "Lead")


class Engine(msgspec.Struct, kw_only=True):
    settings: Settings
    calls_at_open: dict[str, int]
    """Each budget's 24-hour count before start-up, so a run's summary includes start-up calls."""
    store: StateStore
    hubspot: HubSpotClient
    salesforce: SalesforceClient
    budgets: dict[str, Budget]
    streams: list[ChangeStream]
    actor: ContactActor
    summary: Summary
    run: RunRecorder
    """This run's row in the state file's run history."""
    rounds: dict[str, PollRound] = msgspec.field(default_factory=dict)
    """Per CRM whose streams share one call per poll (``actors/poll_round.py``): Salesforce."""


def contact_mappings(settings: Settings) -> dict[str, tuple[FieldMapping, ...]]:
    """Per Salesforce object; a configured list replaces the default, and email ↔ Email is kept."""
    out: dict[str, tuple[FieldMapping, ...]] = {}
    for sobject in SF_OBJECTS:
        configured = settings.contacts.fields
        fields = list(default_contact_mappings(sobject) if configured is None else configured)
        if not any(m.hubspot == "email" for m in fields):
            fields.insert(0, default_contact_mappings(sobject)[0])
        out[sobject] = validate_mappings(fields)
    return out


@asynccontextmanager
async def open_engine(
    settings: Settings,
    *,
    clock: Callable[[], float] = time.time,
    mode: RunMode = "until-idle",
    backfill: bool = False,
) -> AsyncIterator[Engine]:
    """Everything a run needs, connected; ``clock`` drives the API budget (tests inject one).
    The run is recorded in the state file's run history (``mode``/``backfill`` only label it)."""
    async with AsyncExitStack() as stack:
        store = await StateStore.open(settings.state.path, link_cache=settings.tuning.link_cache)
        stack.push_async_callback(store.close)
        run = await stack.enter_async_context(RunRecorder(store, mode, backfill))
        hs = settings.hubspot
        burst = search = None
        if hs.burst_per_10s:
            # Ordinary calls only: searches have their own window (``search``, engine/pacing.py).
            burst = WindowLimiter(hs.burst_per_10s, 10.0)
        if hs.search_per_s:
            search = WindowLimiter(hs.search_per_s, 1.0)
        budgets = {
            "hubspot": Budget("hubspot", hs.daily_api_allotment, store, burst=burst, clock=clock),
            "salesforce": Budget("salesforce", settings.salesforce.daily_api_allotment, store, clock=clock),
        }
        for budget in budgets.values():
            await budget.load()
        # The previous run's last calls may still be in HubSpot's windows (a run started right
        # after another one was refused a search): they are counted before this one calls.
        previous = [r for r in await store.runs(2) if run.row is None or r.id != run.row.id]
        if previous:
            ended = previous[0].ended_ms  # the run history's clock: time.time()
            limiters = [lim for lim in (burst, search) if lim is not None]
            carry_over(budgets["hubspot"], limiters, None if ended is None else time.time() - ended / 1000)
        calls_at_open = {name: budget.used_24h() for name, budget in budgets.items()}
        run.count_calls(budgets)
        tuning = settings.tuning
        hs_session = await stack.enter_async_context(make_session(tuning.http_connections))
        sf_session = await stack.enter_async_context(
            make_session(tuning.http_connections, settings.salesforce.ca_file)
        )
        hubspot = HubSpotClient(
            HttpClient(
                "hubspot",
                settings.hubspot.base_url,
                TokenProvider("hubspot", hs.token, hubspot_grant(hs), hs_session),
                budgets["hubspot"],
                hs_session,
                HubSpotPolicy(),
            ),
            search_limiter=search,
        )
        salesforce = SalesforceClient(
            HttpClient(
                "salesforce",
                settings.salesforce.instance_url,
                TokenProvider(
                    "salesforce", settings.salesforce.token, salesforce_grant(settings.salesforce), sf_session
                ),
                budgets["salesforce"],
                sf_session,
                SalesforcePolicy(),
            ),
            settings.salesforce.api_version,
        )
        mappings = contact_mappings(settings)
        mappings = await check_contact_mappings(
            hubspot, salesforce, mappings, external_id_field=settings.contacts.external_id_field
        )
        hs_props = sorted(
            {m.hubspot for ms in mappings.values() for m in ms}
            | {"email", *ID_PROPERTY.values(), "lastmodifieddate"}
        )
        ext = settings.contacts.external_id_field
        # CreatedDate: a record we made and never read back is told from one edited since.
        always = {"Id", "Email", "CreatedDate", "LastModifiedDate", "SystemModstamp", ext}
        sf_fields = {
            t: sorted(
                {m.salesforce for m in mappings[t]}
                | always
                | ({"IsConverted", "ConvertedContactId"} if t == "Lead" else set())
            )
            for t in SF_OBJECTS
        }
        owners = await _owner_directory(hubspot, salesforce)
        summary = Summary()
        run.summary = summary
        io = ContactIO(
            hubspot=hubspot,
            salesforce=salesforce,
            store=store,
            hubspot_properties=hs_props,
            salesforce_fields={t: list(f) for t, f in sf_fields.items()},
            external_id_field=ext,
            batch_size=tuning.batch_size,
            linger_s=tuning.batch_linger_ms / 1000,
            concurrency=max(1, tuning.http_connections // 2),
        )
        echo = tuning.echo_suppression == "on"
        actor = ContactActor(io, settings.contacts, mappings, owners, summary, echo_suppression=echo)

        # Each page's links are looked up in one query before it is routed (actors/prefetch.py).
        def source(inner: ChangeSource) -> ChangeSource:
            return PrefetchingSource(inner, actor.prefetch)

        hs_source = source(HubSpotSource(hubspot, "contacts", hs_props))
        ahead = READ_AHEAD if search is not None else 1  # a search lane to keep busy, or none
        streams = [ChangeStream("hubspot:contacts", hs_source, store, read_ahead=ahead)]
        # One call per Salesforce poll: each stream's first read of a poll shares one /composite.
        sf_round = PollRound(salesforce)
        for t in SF_OBJECTS:
            name = f"salesforce:{t}"
            records = SalesforceSource(salesforce, t, sf_fields[t], poll_round=sf_round, member=name)
            streams.append(ChangeStream(name, source(records), store))
        # Deletes unlink the pair even under do_nothing, so the delete log is always read.
        for t in SF_OBJECTS:
            name = f"salesforce:{t}:deleted"
            log = SalesforceDeletedSource(salesforce, t, poll_round=sf_round, member=name)
            streams.append(ChangeStream(name, source(log), store))
        for stream in streams:
            # A saved cursor makes the starting point moot: ask the CRMs only for a new state file.
            fresh = await store.cursor(stream.name) is None
            await stream.load(
                initial_ms=await _newest_stamp(stream.name, hubspot, salesforce) if fresh else 0
            )
        yield Engine(
            settings=settings,
            calls_at_open=calls_at_open,
            store=store,
            hubspot=hubspot,
            salesforce=salesforce,
            budgets=budgets,
            streams=streams,
            actor=actor,
            summary=summary,
            run=run,
            rounds={"salesforce": sf_round},
        )


async def _owner_directory(hubspot: HubSpotClient, salesforce: SalesforceClient) -> OwnerDirectory:
    owners = await hubspot.owners()
    users: list[tuple[str, str | None, bool]] = []
    page = await salesforce.query("SELECT Id, Email, IsActive FROM User")
    while True:
        users += [(str(r["Id"]), r.get("Email"), bool(r.get("IsActive"))) for r in page.records]
        if not page.nextRecordsUrl:
            break
        page = await salesforce.query_more(page.nextRecordsUrl)
    hs_owners = [(o.id, o.email) for o in owners if not o.archived]
    return OwnerDirectory.build(hs_owners, users, api_user=await salesforce.api_user())


async def _newest_stamp(stream: str, hubspot: HubSpotClient, salesforce: SalesforceClient) -> int:
    """Where a new state file starts: the newest existing change by the CRM's own clock, so that
    nothing that exists syncs by itself (SPEC §4) and our clock's skew does not matter. (A change
    in the very same timestamp unit as that newest record — one second in Salesforce — is taken
    for an existing one.)"""
    system, _, obj = stream.partition(":")
    if obj.endswith(":deleted"):
        # The log's entries carry Salesforce's whole-second clock, not ours: a floor from our clock
        # dropped every delete in the same second, or in the next minutes with Salesforce behind.
        # So the floor is Salesforce's own now (latestDateCovered) less one second; an older delete
        # that slips in finds no link and does nothing.
        sobject = obj.removesuffix(":deleted")
        now_ms = int(time.time() * 1000)
        log = await salesforce.deleted(sobject, iso_utc(now_ms - 86_400_000), iso_utc(now_ms + 3_600_000))
        crm_now_ms = parse_timestamp_ms(log.latestDateCovered) if log.latestDateCovered else now_ms
        return crm_now_ms - 1000
    if system == "salesforce":
        page = await salesforce.query(
            f"SELECT SystemModstamp FROM {obj} ORDER BY SystemModstamp DESC LIMIT 1"
        )
        if page.records:
            return parse_timestamp_ms(str(page.records[0]["SystemModstamp"]))
        return 0  # nothing exists yet, so everything to come is new
    newest = await hubspot.newest(obj)
    if newest is not None:
        return parse_timestamp_ms(newest.properties.get(last_modified_property(obj)) or newest.updatedAt)
    return 0


RETRYABLE: tuple[type[BaseException], ...] = (AllotmentExhausted, Transient)


class _Setbacks:
    """What went wrong this pass that a later pass can fix: an allotment, or a CRM that failed."""

    def __init__(self) -> None:
        self.exhausted: AllotmentExhausted | None = None
        self.transient = 0

    def __call__(self, exc: BaseException) -> None:
        if isinstance(exc, AllotmentExhausted):
            if self.exhausted is None or exc.resume_at > self.exhausted.resume_at:
                self.exhausted = exc
        else:
            self.transient += 1
            logger.warning("will retry: {}", exc)


async def run_until_idle(engine: Engine, *, backfill: bool = False, retry_passes: int = 5) -> Summary:
    """Drain every stream and actor, then return. An exhausted allotment ends the run as
    ``paused`` with its cursors held; changes a CRM failed are retried a few passes, then left
    for the next run (their cursors held as well)."""
    started = time.monotonic()
    calls_before = engine.calls_at_open
    setbacks = _Setbacks()
    if backfill:
        _rewind(engine.streams)
    async with anyio.create_task_group() as tg:
        router = _router(tg, engine, setbacks)
        failing_passes = 0
        while True:
            # A page that failed to read counts as found: the next pass starts from the cursor again.
            found = await _poll_all(engine.streams, router, setbacks, engine.rounds)
            await router.wait_idle()
            await _checkpoint(engine.streams)
            if setbacks.exhausted is not None:
                engine.summary.paused = f"{setbacks.exhausted.system} allotment"
                logger.warning("paused: {}", setbacks.exhausted)
                break
            if any(stream.failed for stream in engine.streams) or setbacks.transient:
                failing_passes += 1
                setbacks.transient = 0
                if failing_passes > retry_passes:
                    logger.error("giving up for this run; the next run retries what failed")
                    engine.run.incomplete = "a CRM kept failing through every retry"
                    break
                await anyio.sleep(min(30.0, 0.5 * 2**failing_passes))
                continue
            if found == 0:
                break
    engine.summary.api_calls.hubspot = engine.budgets["hubspot"].used_24h() - calls_before["hubspot"]
    engine.summary.api_calls.salesforce = engine.budgets["salesforce"].used_24h() - calls_before["salesforce"]
    engine.summary.seconds = round(time.monotonic() - started, 3)
    engine.calls_at_open = {s: b.used_24h() for s, b in engine.budgets.items()}  # a next run counts from here
    return engine.summary


async def run_forever(
    engine: Engine, *, backfill: bool = False, clock: Callable[[], float] = time.time
) -> None:
    """Poll every ``poll_interval_s`` until cancelled. An exhausted allotment pauses polling until
    its window has room again (then it resumes by itself); failed changes are retried each poll.

    Each CRM's streams are polled by a loop of their own: a long pass over one CRM (a burst of
    changes, its readers held back by full mailboxes) no longer keeps the other CRM's changes
    unread until it ends. Within a CRM the streams keep their order (a Salesforce record's last
    edit is read before its deletion in the same pass)."""
    setbacks = _Setbacks()
    if backfill:
        _rewind(engine.streams)
    interval = engine.settings.tuning.poll_interval_s
    async with anyio.create_task_group() as tg:
        router = _router(tg, engine, setbacks)
        for group in _by_system(engine.streams):
            reads = engine.rounds.get(_system(group[0]))
            tg.start_soon(_poll_forever, group, router, setbacks, interval, clock, reads)


async def _poll_forever(
    streams: Sequence[ChangeStream],
    router: Router,
    setbacks: _Setbacks,
    interval: float,
    clock: Callable[[], float],
    reads: PollRound | None,
) -> None:
    while True:
        if setbacks.exhausted is not None:
            wait = setbacks.exhausted.resume_at - clock()
            if wait > 0:
                logger.warning("paused: {}", setbacks.exhausted)
                await anyio.sleep(min(wait, 60.0))  # look again at least every minute
                continue
            setbacks.exhausted = None
            logger.info("resumed")
        # Polls start every ``interval`` (a pass's own time is not added to the wait): a change
        # waits at most one interval to be read, not an interval plus the pass before it.
        due = anyio.current_time() + interval
        await _poll_group(streams, router, setbacks, reads)
        await _checkpoint(streams)
        await anyio.sleep(max(0.0, due - anyio.current_time()))


def _router(tg: TaskGroup, engine: Engine, setbacks: _Setbacks) -> Router:
    return Router(
        tg,
        engine.actor.handle,
        max_actors=engine.settings.tuning.max_actors,
        retry_on=RETRYABLE,
        on_retry=setbacks,
        settled=engine.actor.settled,
        grouped=engine.actor.grouped,
        handle_group=engine.actor.handle_group,
    )


def _rewind(streams: Sequence[ChangeStream]) -> None:
    for stream in streams:
        stream.rewind()


async def _checkpoint(streams: Sequence[ChangeStream]) -> None:
    """Persist every stream's low watermark; shielded, so a shutdown cannot cut it half way."""
    with anyio.CancelScope(shield=True):
        for stream in streams:
            await stream.checkpoint()


def _by_system(streams: Sequence[ChangeStream]) -> list[list[ChangeStream]]:
    """The streams of each CRM, in their given order."""
    groups: dict[str, list[ChangeStream]] = {}
    for stream in streams:
        groups.setdefault(_system(stream), []).append(stream)
    return list(groups.values())


def _system(stream: ChangeStream) -> str:
    return stream.name.partition(":")[0]


async def _poll_all(
    streams: Sequence[ChangeStream], router: Router, setbacks: _Setbacks, rounds: Mapping[str, PollRound]
) -> int:
    """One pass over every stream, each CRM's at once (see ``run_forever``); a CRM whose pass failed
    counts as one change found, so that the caller polls again."""
    found: list[int] = []  # appended once each has finished (``x += await ...`` would lose one)

    async def poll_group(group: Sequence[ChangeStream]) -> None:
        found.append(await _poll_group(group, router, setbacks, rounds.get(_system(group[0]))))

    async with anyio.create_task_group() as tg:
        for group in _by_system(streams):
            tg.start_soon(poll_group, group)
    return sum(found)


async def _poll_group(
    streams: Sequence[ChangeStream], router: Router, setbacks: _Setbacks, reads: PollRound | None = None
) -> int:
    """One pass over one CRM's streams; a failed pass is a setback and counts as one change found
    (the next pass starts from the cursor again)."""
    try:
        if reads is not None and len(streams) > 1:
            return await _poll_together(streams, router, reads)
        return await _poll_each(streams, router)
    except RETRYABLE as exc:
        setbacks(exc)
        return 1


async def _poll_each(streams: Sequence[ChangeStream], router: Router) -> int:
    async def deliver(change: Change, ticket: Ticket) -> None:
        await router.route(f"{change.system}:{change.record_id}", change, ticket)

    found = 0
    for stream in streams:
        found += await stream.poll(deliver)
    return found


async def _poll_together(streams: Sequence[ChangeStream], router: Router, reads: PollRound) -> int:
    """The streams' passes at once, so that their first reads share one call (``PollRound``), with
    their changes routed in the streams' order all the same: a stream routes once the streams
    before it have finished their pass (a Salesforce record's last edit before its deletion; an
    edit read after the delete log cannot be of a record the log holds, since a query does not
    return deleted records). A stream that must wait before its first read (changes to deliver
    again) leaves the round first, so the others' call does not wait for it."""
    finished = [anyio.Event() for _ in streams]
    found = [0] * len(streams)
    errors: list[Exception] = []

    async def poll(i: int, stream: ChangeStream) -> None:
        async def deliver(change: Change, ticket: Ticket) -> None:
            if not all(e.is_set() for e in finished[:i]):
                reads.leave(stream.name)
                for event in finished[:i]:
                    await event.wait()
            await router.route(f"{change.system}:{change.record_id}", change, ticket)

        try:
            found[i] = await stream.poll(deliver)
        except Exception as exc:
            # Kept, not raised here: the other passes end as they would have (a pass cancelled
            # half way could leave a change it took undelivered, holding its cursor for good).
            errors.append(exc)
        finally:
            reads.leave(stream.name)
            finished[i].set()

    with reads.round(stream.name for stream in streams):
        async with anyio.create_task_group() as tg:
            for i, stream in enumerate(streams):
                tg.start_soon(poll, i, stream)
    if errors:
        # One that a later pass cannot fix (a rejected request, bad credentials) is what the run
        # must see; otherwise the first.
        raise next((e for e in errors if not isinstance(e, RETRYABLE)), errors[0])
    return sum(found)


async def sync_until_idle(
    settings: Settings,
    *,
    clock: Callable[[], float] = time.time,
    backfill: bool = False,
    watch: Callable[[Engine], Coroutine[Any, Any, None]] | None = None,
) -> Summary:
    """``crmsync run --until-idle``: open, drain, close. An allotment that is used up already at
    start gives a paused summary, as it would mid-run. ``watch`` runs beside the sync (the CLI's
    progress bar) and is cancelled when it ends."""
    paused: AllotmentExhausted | None = None
    try:
        async with (
            open_engine(settings, clock=clock, backfill=backfill) as engine,
            anyio.create_task_group() as tg,
        ):
            if watch is not None:
                tg.start_soon(watch, engine)
            summary = await run_until_idle(engine, backfill=backfill)
            tg.cancel_scope.cancel()
            return summary
    except* AllotmentExhausted as group:
        first = group.exceptions[0]
        assert isinstance(first, AllotmentExhausted)
        paused = first
    assert paused is not None  # the try block returns otherwise
    logger.warning("paused before starting: {}", paused)
    return Summary(paused=f"{paused.system} allotment")
