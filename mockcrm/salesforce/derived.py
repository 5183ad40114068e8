"""Values the org computes itself: defaults on create, compound names, stage-driven flags."""

from __future__ import annotations

from mockcrm.salesforce.objects import STAGE_PROBABILITY

Record = dict[str, object]

_DEFAULTS: dict[str, dict[str, object]] = {
    "Lead": {"Status": "Open - Not Contacted"},
    "Case": {"Status": "New", "Priority": "Medium"},
    "Task": {"Status": "Not Started", "Priority": "Normal", "TaskSubtype": "Task"},
    "CampaignMember": {"Status": "Sent"},
}


def _name(rec: Record) -> str | None:
    parts = [str(rec[f]) for f in ("FirstName", "LastName") if rec.get(f)]
    return " ".join(parts) or None


def apply_defaults(sobject: str, rec: Record, given: Record) -> None:
    """Fill defaulted fields a create left out (``rec`` already holds the client's values, ``given``)."""
    if sobject == "User" and "IsActive" not in given:
        rec["IsActive"] = True  # the one checkbox here that starts out ticked
    for field, value in _DEFAULTS.get(sobject, {}).items():
        if rec.get(field) is None:
            rec[field] = value
    if sobject == "Opportunity" and rec.get("Probability") is None:
        rec["Probability"] = _stage_probability(rec)


def _stage_probability(rec: Record) -> float | None:
    p = STAGE_PROBABILITY.get(str(rec.get("StageName")))
    return None if p is None else float(p)


def recompute(sobject: str, rec: Record, changed: Record) -> None:
    """Refresh derived fields of ``rec`` after ``changed`` (already merged into ``rec``)."""
    if sobject in ("Contact", "Lead", "User"):
        if "FirstName" in changed or "LastName" in changed:
            rec["Name"] = _name(rec)
    elif sobject == "Opportunity":
        if "StageName" in changed and "Probability" not in changed:
            rec["Probability"] = _stage_probability(rec)
        stage = rec.get("StageName")
        rec["IsClosed"] = stage in ("Closed Won", "Closed Lost")
        rec["IsWon"] = stage == "Closed Won"
        amount, prob = rec.get("Amount"), rec.get("Probability")
        rec["ExpectedRevenue"] = (
            float(amount) * float(prob) / 100  # type: ignore[arg-type]
            if amount is not None and prob is not None
            else None
        )
    elif sobject == "Case":
        rec["IsClosed"] = rec.get("Status") == "Closed"
    elif sobject == "Task":
        rec["IsClosed"] = rec.get("Status") == "Completed"
        rec["IsHighPriority"] = rec.get("Priority") == "High"
    elif sobject == "CampaignMember":
        rec["HasResponded"] = rec.get("Status") == "Responded"
