"""What a run did, counted in records: the JSON line ``crmsync run --until-idle`` ends with."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import msgspec

if TYPE_CHECKING:
    from engine.reconcile import FieldNote

MAX_CONFLICTS_KEPT = 200


class PerSystem(msgspec.Struct, kw_only=True):
    hubspot: int = 0
    salesforce: int = 0


class Conflict(msgspec.Struct, frozen=True, kw_only=True):
    """A field both sides had changed, and which rule decided it (for the demo and the log)."""

    hubspot_id: str
    salesforce_id: str
    field: str
    rule: str
    reason: str
    hubspot_value: str | None
    salesforce_value: str | None


class Summary(msgspec.Struct, kw_only=True):
    synced: int = 0
    """Record pairs where something moved (a write on either side) or that were linked in this run."""
    created: PerSystem = msgspec.field(default_factory=PerSystem)
    updated: PerSystem = msgspec.field(default_factory=PerSystem)
    deleted: PerSystem = msgspec.field(default_factory=PerSystem)
    errors: int = 0
    """Records that ended with a sync error in this run."""
    ineligible: int = 0
    """Changes that are not synced by rule (a HubSpot contact without email, R-ELIG-1)."""
    api_calls: PerSystem = msgspec.field(default_factory=PerSystem)
    seconds: float = 0.0
    paused: str | None = None
    conflicts: list[Conflict] = msgspec.field(default_factory=list)

    def note_conflicts(self, hubspot_id: str, salesforce_id: str, notes: Iterable[FieldNote]) -> None:
        """Keep the first conflicts (both sides changed, a rule chose) for the demo and the log."""
        for note in notes:
            if note.conflict and len(self.conflicts) < MAX_CONFLICTS_KEPT:
                self.conflicts.append(
                    Conflict(
                        hubspot_id=hubspot_id,
                        salesforce_id=salesforce_id,
                        field=note.hubspot,
                        rule=note.rule.value,
                        reason=note.reason,
                        hubspot_value=note.hubspot_value,
                        salesforce_value=note.salesforce_value,
                    )
                )

    def public(self) -> dict[str, object]:
        """The documented summary keys (conflicts are reported elsewhere)."""
        out: dict[str, object] = msgspec.to_builtins(self)
        out.pop("conflicts")
        if self.paused is None:
            out.pop("paused")
        return out
