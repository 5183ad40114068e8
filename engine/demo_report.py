"""What ``crmsync demo`` prints: the story's people and what became of each, the conflicts and the
rule that decided each one, the sync errors with their fixes, and the API calls per record."""

from __future__ import annotations

from collections import Counter
from typing import Any

import msgspec
from rich.console import Console
from rich.table import Table

from actors.contact_values import ID_PROPERTY
from engine.demo_story import HS_NEW, INVALID, NO_EMAIL, OLD, PAIR, SF_NEW, Person
from engine.health import Health
from engine.mapping import FieldMapping, SyncRule
from engine.store_types import SyncErrorRow
from engine.summary import PerSystem, Summary

REFERENCE_CALLS_PER_RECORD = 4.0
"""The reference integration's cost, as SPEC §8 puts it (up to ~4 calls per synced record)."""

_STORY_TEXT = {
    PAIR: "existed on both sides before the first run (same email, some fields typed differently); "
    "then one side was edited",
    OLD: "existed only in HubSpot before the first run, never edited",
    HS_NEW: "created in HubSpot after the first run",
    SF_NEW: "created in Salesforce (Contacts and Leads) after the first run",
    NO_EMAIL: "created in HubSpot without an email",
    INVALID: "created in HubSpot with values Salesforce refuses",
}


class Outcome(msgspec.Struct, kw_only=True):
    people: list[Person]
    first: Summary
    """The first run, which only initialises the state file."""
    summary: Summary
    """The run that synced the story."""
    again: Summary
    """One more run afterwards: it should write nothing (no echo)."""
    errors: list[SyncErrorRow]
    health: Health
    hubspot: dict[str, dict[str, Any]]
    """HubSpot contacts' properties by id, after the sync."""
    salesforce: dict[str, dict[str, dict[str, Any]]]
    """Salesforce records by sObject and id, after the sync."""
    mapping: list[FieldMapping]
    first_calls: PerSystem
    """API calls during each run, as the mocks themselves counted them (start-up included)."""
    sync_calls: PerSystem
    again_calls: PerSystem

    def error_for(self, p: Person) -> SyncErrorRow | None:
        ids = {p.hubspot_id, p.salesforce_id} - {None}
        return next((e for e in self.errors if e.record_id in ids), None)

    def status(self, p: Person) -> str:
        """What became of one person, read back from both CRMs."""
        if (error := self.error_for(p)) is not None:
            return f"sync error ({error.error_type}), see below"
        if p.story == SF_NEW:
            prop = ID_PROPERTY[p.salesforce_type or "Contact"]
            hs_id = next((i for i, props in self.hubspot.items() if props.get(prop) == p.salesforce_id), None)
            return f"created in HubSpot: contact {hs_id}" if hs_id else "not in HubSpot"
        hs = self.hubspot.get(p.hubspot_id or "", {})
        if p.story == PAIR:
            if hs.get("salesforcecontactid") != p.salesforce_id:
                return "not linked"
            n = sum(1 for c in self.summary.conflicts if c.hubspot_id == p.hubspot_id)
            return f"linked by email; {n} conflict{'s' if n != 1 else ''} decided"
        made = next(
            (
                (t, i)
                for t, recs in self.salesforce.items()
                for i, r in recs.items()
                if r.get("HubSpot_Id__c") == p.hubspot_id
            ),
            None,
        )
        if made is not None:
            return f"created in Salesforce: {made[0]} {made[1]}"
        if p.story == NO_EMAIL:
            return "not synced: no email (ineligible)"
        if p.story == OLD:
            return "not synced: it existed before the first run and was not edited since"
        return "not in Salesforce"

    def synced_people(self) -> int:
        return sum(1 for p in self.people if self.status(p).startswith(("created", "linked")))


def _person_by_id(outcome: Outcome) -> dict[str, Person]:
    out: dict[str, Person] = {}
    for p in outcome.people:
        for record_id in (p.hubspot_id, p.salesforce_id):
            if record_id:
                out[record_id] = p
    return out


def _value(v: str | None) -> str:
    return "(blank)" if v is None else v


def render(console: Console, outcome: Outcome) -> None:
    console.print()
    story = Table(title="The story", title_justify="left")
    story.add_column("People", justify="right")
    story.add_column("Who")
    for kind, n in Counter(p.story for p in outcome.people).items():
        story.add_row(str(n), _STORY_TEXT[kind])
    console.print(story)
    console.print(
        f"First run: initialised the state file with {outcome.first_calls.hubspot} HubSpot and "
        f"{outcome.first_calls.salesforce} Salesforce calls, synced {outcome.first.synced} "
        "(nothing that already exists syncs by itself)."
    )
    people = Table(title="What became of each person", title_justify="left")
    for column in ("Person", "Email", "Story", "Result"):
        people.add_column(column)
    for p in outcome.people:
        story_text = p.story + (f": {p.note}" if p.note else "")
        people.add_row(p.name, p.email or "—", story_text, outcome.status(p))
    console.print(people)
    _render_counts(console, outcome.summary)
    _render_conflicts(console, outcome)
    _render_errors(console, outcome)
    _render_api(console, outcome)


def _render_counts(console: Console, s: Summary) -> None:
    table = Table(title=f"The sync run ({s.seconds:.2f} s)", title_justify="left")
    for column in ("", "HubSpot", "Salesforce"):
        table.add_column(column, justify="right" if column else "left")
    table.add_row("created", str(s.created.hubspot), str(s.created.salesforce))
    table.add_row("updated", str(s.updated.hubspot), str(s.updated.salesforce))
    table.add_row("deleted", str(s.deleted.hubspot), str(s.deleted.salesforce))
    console.print(table)
    console.print(
        f"synced (changes handled to agreement): {s.synced}   ineligible: {s.ineligible}   "
        f"records with a sync error: {s.errors}"
    )


def _render_conflicts(console: Console, outcome: Outcome) -> None:
    rules = {m.hubspot: m.rule for m in outcome.mapping}
    default = SyncRule.PREFER_SALESFORCE_UNLESS_BLANK
    special = ", ".join(f"{f} {r.value}" for f, r in rules.items() if r is not default)
    console.print(f"\nField rules: {default.value} unless named: {special}.")
    by_id = _person_by_id(outcome)
    table = Table(
        title=f"Conflicts: {len(outcome.summary.conflicts)} fields both sides held differently",
        title_justify="left",
    )
    for column in ("Person", "Field", "HubSpot had", "Salesforce had", "Rule", "Decision"):
        table.add_column(column)
    for c in outcome.summary.conflicts:
        p = by_id.get(c.hubspot_id)
        name = p.name if p else f"contact {c.hubspot_id}"
        table.add_row(name, c.field, _value(c.hubspot_value), _value(c.salesforce_value), c.rule, c.reason)
    console.print(table)


def _render_errors(console: Console, outcome: Outcome) -> None:
    by_id = _person_by_id(outcome)
    table = Table(title=f"Sync errors: {len(outcome.errors)}", title_justify="left", show_lines=True)
    for column in ("Person", "Record", "Type", "Message", "How to fix"):
        table.add_column(column)
    for e in outcome.errors:
        p = by_id.get(e.record_id)
        table.add_row(p.name if p else "?", f"{e.system} {e.record_id}", e.error_type, e.message, e.fix)
    console.print(table)
    console.print("Every other record synced; `crmsync errors` lists these for a real state file.")


def _render_api(console: Console, outcome: Outcome) -> None:
    calls, n = outcome.sync_calls, outcome.synced_people()
    table = Table(title=f"API calls for the {n} people synced", title_justify="left")
    for column in ("System", "Calls", "Per synced person", "Reference"):
        table.add_column(column, justify="left" if column == "System" else "right")

    def per(calls: int) -> str:
        return f"{calls / n:.2f}" if n else "—"

    table.add_row("HubSpot", str(calls.hubspot), per(calls.hubspot), "")
    table.add_row("Salesforce", str(calls.salesforce), per(calls.salesforce), "")
    both = calls.hubspot + calls.salesforce
    table.add_row("Both", str(both), per(both), f"~{REFERENCE_CALLS_PER_RECORD:.0f}")
    console.print(table)
    console.print(
        "Counted by the mocks themselves, start-up included. Reads and writes go in batches "
        "(HubSpot 100, Salesforce 200 per call), so the calls per record fall as volume grows; "
        "a handful of calls here are fixed costs (start-up reads, polling, owners)."
    )
    a, again = outcome.again, outcome.again_calls
    writes = a.created.hubspot + a.created.salesforce + a.updated.hubspot + a.updated.salesforce
    console.print(
        f"A further run found {'nothing to write' if writes == 0 else f'{writes} writes'} (no echo): "
        f"{again.hubspot + again.salesforce} calls (start-up reads and polling)."
    )
    h = outcome.health
    limited = h.salesforce.limited_by_salesforce
    console.print(
        f"Health: HubSpot {h.hubspot.calls_24h:,} of {h.hubspot.allotment:,} calls used in 24 h; "
        f"Salesforce {h.salesforce.calls_24h:,} of {h.salesforce.allotment:,} "
        f"(org limit {'unknown' if limited is None else f'{limited:,}'}), {h.salesforce.remaining:,} left."
    )
