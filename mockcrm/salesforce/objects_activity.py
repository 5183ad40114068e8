"""Service, activity, user and campaign objects of a default org (reference standard-fields.md, B12)."""

from __future__ import annotations

from mockcrm.salesforce.schema import (
    FieldDef,
    SObjectDef,
    flag,
    hubspot_id,
    new_sobject,
    pick,
    readonly,
    ref,
    text,
    typed,
)

CASE_STATUSES = ("New", "Working", "Escalated", "Closed")
TASK_STATUSES = ("Not Started", "In Progress", "Completed", "Waiting on someone else", "Deferred")
ACTIVITY_TYPES = ("Call", "Email", "Meeting", "Other")


def case() -> SObjectDef:
    return new_sobject(
        "Case",
        "500",
        [
            readonly("CaseNumber", "string", 30, nillable=False),
            text("Subject", 255),
            typed("Description", "textarea"),
            pick("Status", CASE_STATUSES, required=True, default=True, restricted=True),
            pick("Priority", ("High", "Medium", "Low"), default=True),
            pick("Origin", ("Phone", "Email", "Web")),
            pick("Type", ("Mechanical", "Electrical", "Electronic", "Structural", "Other")),
            pick(
                "Reason",
                (
                    "Installation",
                    "Equipment Complexity",
                    "Performance",
                    "Breakdown",
                    "Equipment Design",
                    "Feedback",
                    "Other",
                ),
            ),
            ref("ContactId", "Contact"),
            ref("AccountId", "Account"),
            readonly("IsClosed", "boolean", nillable=False),
            hubspot_id(),
        ],
    )


def task() -> SObjectDef:
    subtype = pick("TaskSubtype", ("Task", "Email", "ListEmail", "Cadence", "Call", "LinkedIn"))
    subtype.updateable = False
    return new_sobject(
        "Task",
        "00T",
        [
            FieldDef(name="Subject", type="combobox", length=255),
            typed("Description", "textarea"),
            pick("Status", TASK_STATUSES, required=True, default=True, restricted=True),
            pick("Priority", ("High", "Normal", "Low"), required=True, default=True, restricted=True),
            typed("ActivityDate", "date"),
            ref("WhoId", "Contact", "Lead"),
            ref("WhatId", "Account", "Opportunity", "Case", "Campaign"),
            pick("Type", ACTIVITY_TYPES),
            subtype,
            typed("CallDurationInSeconds", "int", precision=8),
            pick("CallType", ("Internal", "Inbound", "Outbound")),
            readonly("IsClosed", "boolean", nillable=False),
            readonly("IsHighPriority", "boolean", nillable=False),
        ],
    )


def event() -> SObjectDef:
    return new_sobject(
        "Event",
        "00U",
        [
            FieldDef(name="Subject", type="combobox", length=255),
            typed("StartDateTime", "datetime"),
            typed("EndDateTime", "datetime"),
            typed("ActivityDateTime", "datetime"),
            typed("ActivityDate", "date"),
            typed("DurationInMinutes", "int", precision=8),
            ref("WhoId", "Contact", "Lead"),
            ref("WhatId", "Account", "Opportunity", "Case", "Campaign"),
            text("Location", 255),
            typed("Description", "textarea"),
            pick("Type", ACTIVITY_TYPES),
        ],
    )


def user() -> SObjectDef:
    return new_sobject(
        "User",
        "005",
        [
            text("Username", 80, required=True, unique=True),
            typed("Email", "email", required=True),
            text("FirstName", 40),
            text("LastName", 80, required=True),
            readonly("Name", "string", 121),
            text("Alias", 8),
            flag("IsActive"),
        ],
        has_owner=False,
    )


def campaign() -> SObjectDef:
    return new_sobject(
        "Campaign",
        "701",
        [
            text("Name", 80, required=True),
            flag("IsActive"),
            pick("Status", ("Planned", "In Progress", "Completed", "Aborted")),
            pick(
                "Type",
                (
                    "Conference",
                    "Webinar",
                    "Trade Show",
                    "Public Relations",
                    "Partners",
                    "Referral Program",
                    "Advertisement",
                    "Banner Ads",
                    "Direct Mail",
                    "Email",
                    "Telemarketing",
                    "Other",
                ),
            ),
            typed("StartDate", "date"),
            typed("EndDate", "date"),
            typed("Description", "textarea"),
        ],
    )


def campaign_member() -> SObjectDef:
    camp = ref("CampaignId", "Campaign", updateable=False)
    camp.nillable = False
    return new_sobject(
        "CampaignMember",
        "00v",
        [
            camp,
            ref("LeadId", "Lead", updateable=False),
            ref("ContactId", "Contact", updateable=False),
            pick("Status", ("Sent", "Responded"), default=True),
            flag("HasResponded"),
        ],
        has_owner=False,
        label="Campaign Member",
    )
