"""The standard objects and properties of a new portal (``reference/standard-fields.md``), with the
Salesforce integration's properties installed.

Enumeration options use the internal values a new portal has, so only those validate.
"""

from __future__ import annotations

from mockcrm.hubspot.schema import ObjectTypeDef, OptionDef, PropertyDef, Schema

OWNER_PROPERTY = "hubspot_owner_id"
"""An enumeration whose options are the portal's owners: validated against the owners list."""


def _opts(*values: str) -> list[OptionDef]:
    return [
        OptionDef(label=v.replace("_", " ").title(), value=v, displayOrder=i) for i, v in enumerate(values)
    ]


def _string(name: str, group: str, field_type: str = "text", unique: bool = False) -> PropertyDef:
    label = name.replace("_", " ").title()
    return PropertyDef(
        name=name,
        label=label,
        type="string",
        field_type=field_type,
        group_name=group,
        has_unique_value=unique,
    )


def _typed(name: str, group: str, type_: str, field_type: str, read_only: bool = False) -> PropertyDef:
    label = name.replace("_", " ").title()
    return PropertyDef(
        name=name, label=label, type=type_, field_type=field_type, group_name=group, read_only=read_only
    )


def _enum(name: str, group: str, *values: str) -> PropertyDef:
    label = name.replace("_", " ").title()
    return PropertyDef(
        name=name,
        label=label,
        type="enumeration",
        field_type="select",
        group_name=group,
        options=_opts(*values),
    )


def _owner(group: str) -> PropertyDef:
    return PropertyDef(
        name=OWNER_PROPERTY, label="Owner", type="enumeration", field_type="select", group_name=group
    )


def _system(group: str, modified: str, created: str) -> list[PropertyDef]:
    return [
        _typed(created, group, "datetime", "date", read_only=True),
        _typed(modified, group, "datetime", "date", read_only=True),
        _typed("hs_object_id", group, "number", "number", read_only=True),
    ]


LIFECYCLE = (
    "subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity", "customer",
    "evangelist", "other",
)  # fmt: skip
INDUSTRIES = (
    "ACCOUNTING", "AIRLINES_AVIATION", "APPAREL_FASHION", "AUTOMOTIVE", "BANKING", "BIOTECHNOLOGY",
    "CHEMICALS", "COMPUTER_HARDWARE", "COMPUTER_SOFTWARE", "CONSTRUCTION", "CONSUMER_GOODS",
    "EDUCATION_MANAGEMENT", "FINANCIAL_SERVICES", "FOOD_BEVERAGES", "GOVERNMENT_ADMINISTRATION",
    "HOSPITAL_HEALTH_CARE", "HOSPITALITY", "INFORMATION_TECHNOLOGY_AND_SERVICES", "INSURANCE",
    "LOGISTICS_AND_SUPPLY_CHAIN", "MANAGEMENT_CONSULTING", "MARKETING_AND_ADVERTISING",
    "MECHANICAL_OR_INDUSTRIAL_ENGINEERING",
    "MEDIA_PRODUCTION", "NON_PROFIT_ORGANIZATION_MANAGEMENT", "OIL_ENERGY", "PHARMACEUTICALS", "REAL_ESTATE",
    "RETAIL", "TELECOMMUNICATIONS", "TRANSPORTATION_TRUCKING_RAILROAD", "UTILITIES",
)  # fmt: skip


def _contacts() -> tuple[ObjectTypeDef, list[PropertyDef]]:
    g = "contactinformation"
    props = [_string(n, g) for n in (
        "firstname", "lastname", "salutation", "jobtitle", "company", "website", "address", "city",
        "state", "zip", "country", "industry", "annualrevenue", "leadsource",
    )]  # fmt: skip
    props += [_string(n, g, "phonenumber") for n in ("phone", "mobilephone", "fax")]
    props += [
        _string("email", g),
        _string("message", g, "textarea"),
        _enum("numemployees", g, "1-5", "5-25", "25-50", "50-100", "100-500", "500-1000", "1000+"),
        _enum("lifecyclestage", g, *LIFECYCLE),
        _enum(
            "hs_lead_status",
            "sales_properties",
            "NEW",
            "OPEN",
            "IN_PROGRESS",
            "OPEN_DEAL",
            "UNQUALIFIED",
            "ATTEMPTED_TO_CONTACT",
            "CONNECTED",
            "BAD_TIMING",
        ),
        _owner(g),
        _string("salesforcecontactid", "salesforceinformation", unique=True),
        _string("salesforceleadid", "salesforceinformation", unique=True),
        _typed("hs_email_domain", g, "string", "text", read_only=True),
        *_system(g, "lastmodifieddate", "createdate"),
    ]
    otype = ObjectTypeDef(
        name="contacts", singular="contact", type_id="0-1", modified_prop="lastmodifieddate",
        created_prop="createdate", default_props=("createdate", "email", "firstname", "hs_object_id",
        "lastmodifieddate", "lastname"), label_singular="Contact", label_plural="Contacts",
        primary_display_property="email",
    )  # fmt: skip
    return otype, props


def _companies() -> tuple[ObjectTypeDef, list[PropertyDef]]:
    g = "companyinformation"
    props = [_string(n, g) for n in (
        "name", "domain", "website", "address", "address2", "city", "state", "zip", "country",
    )]  # fmt: skip
    props += [
        _string("phone", g, "phonenumber"),
        _string("description", g, "textarea"),
        _enum("industry", g, *INDUSTRIES),
        _typed("annualrevenue", g, "number", "number"),
        _typed("numberofemployees", g, "number", "number"),
        _enum("type", g, "PROSPECT", "PARTNER", "RESELLER", "VENDOR", "OTHER"),
        _enum("lifecyclestage", g, *LIFECYCLE),
        _owner(g),
        _string("salesforceaccountid", "salesforceinformation", unique=True),
        *_system(g, "hs_lastmodifieddate", "createdate"),
    ]
    otype = ObjectTypeDef(
        name="companies", singular="company", type_id="0-2", modified_prop="hs_lastmodifieddate",
        created_prop="createdate", default_props=("name", "domain", "createdate", "hs_lastmodifieddate",
        "hs_object_id"), label_singular="Company", label_plural="Companies", primary_display_property="name",
    )  # fmt: skip
    return otype, props


def _deals() -> tuple[ObjectTypeDef, list[PropertyDef]]:
    g = "dealinformation"
    props = [
        _string("dealname", g),
        _typed("amount", g, "number", "number"),
        _typed("closedate", g, "datetime", "date"),
        _enum("pipeline", g, "default"),
        _enum(
            "dealstage",
            g,
            "appointmentscheduled",
            "qualifiedtobuy",
            "presentationscheduled",
            "decisionmakerboughtin",
            "contractsent",
            "closedwon",
            "closedlost",
        ),
        _enum("dealtype", g, "newbusiness", "existingbusiness"),
        _string("description", g, "textarea"),
        _owner(g),
        _string("salesforceopportunityid", "salesforceinformation", unique=True),
        *_system(g, "hs_lastmodifieddate", "createdate"),
    ]
    otype = ObjectTypeDef(
        name="deals", singular="deal", type_id="0-3", modified_prop="hs_lastmodifieddate",
        created_prop="createdate", default_props=("dealname", "amount", "closedate", "pipeline", "dealstage",
        "createdate", "hs_lastmodifieddate", "hs_object_id"), label_singular="Deal", label_plural="Deals",
        primary_display_property="dealname",
    )  # fmt: skip
    return otype, props


def _tickets() -> tuple[ObjectTypeDef, list[PropertyDef]]:
    g = "ticketinformation"
    props = [
        _string("subject", g),
        _string("content", g, "textarea"),
        _enum("hs_pipeline", g, "0"),
        _enum("hs_pipeline_stage", g, "1", "2", "3", "4"),
        _enum("hs_ticket_priority", g, "LOW", "MEDIUM", "HIGH", "URGENT"),
        _enum(
            "hs_ticket_category", g, "PRODUCT_ISSUE", "BILLING_ISSUE", "FEATURE_REQUEST", "GENERAL_INQUIRY"
        ),
        _owner(g),
        *_system(g, "hs_lastmodifieddate", "createdate"),
    ]
    otype = ObjectTypeDef(
        name="tickets", singular="ticket", type_id="0-5", modified_prop="hs_lastmodifieddate",
        created_prop="createdate", default_props=("subject", "content", "hs_pipeline", "hs_pipeline_stage",
        "createdate", "hs_lastmodifieddate", "hs_object_id"), label_singular="Ticket", label_plural="Tickets",
        primary_display_property="subject",
    )  # fmt: skip
    return otype, props


# Engagements: (plural, singular, type id, text properties, textareas, enumerations, datetimes, numbers)
_ENGAGEMENTS: tuple[tuple[str, str, str, tuple[str, ...], tuple[str, ...], dict[str, tuple[str, ...]],
                          tuple[str, ...], tuple[str, ...]], ...] = (
    ("tasks", "task", "0-27", ("hs_task_subject",), ("hs_task_body",), {
        "hs_task_status": ("NOT_STARTED", "IN_PROGRESS", "WAITING", "COMPLETED", "DEFERRED"),
        "hs_task_priority": ("NONE", "LOW", "MEDIUM", "HIGH"),
        "hs_task_type": ("TODO", "CALL", "EMAIL", "LINKED_IN", "MEETING"),
    }, ("hs_timestamp",), ()),
    ("notes", "note", "0-46", (), ("hs_note_body",), {}, ("hs_timestamp",), ()),
    ("meetings", "meeting", "0-47", ("hs_meeting_title",), ("hs_meeting_body",), {
        "hs_meeting_outcome": ("SCHEDULED", "COMPLETED", "RESCHEDULED", "NO_SHOW", "CANCELED"),
    }, ("hs_timestamp", "hs_meeting_start_time", "hs_meeting_end_time"), ()),
    ("calls", "call", "0-48", ("hs_call_title",), ("hs_call_body",), {
        "hs_call_direction": ("INBOUND", "OUTBOUND"),
        "hs_call_status": ("BUSY", "CALLING_CRM_USER", "CANCELED", "COMPLETED", "CONNECTING", "FAILED",
                           "IN_PROGRESS", "NO_ANSWER", "QUEUED", "RINGING"),
    }, ("hs_timestamp",), ("hs_call_duration",)),
    ("emails", "email", "0-49", ("hs_email_subject",), ("hs_email_text",), {
        "hs_email_direction": ("EMAIL", "INCOMING_EMAIL", "FORWARDED_EMAIL"),
        "hs_email_status": ("BOUNCED", "FAILED", "SCHEDULED", "SENDING", "SENT"),
    }, ("hs_timestamp",), ()),
)  # fmt: skip


def _engagement(
    spec: tuple[str, str, str, tuple[str, ...], tuple[str, ...], dict[str, tuple[str, ...]],
                tuple[str, ...], tuple[str, ...]],
) -> tuple[ObjectTypeDef, list[PropertyDef]]:  # fmt: skip
    name, singular, type_id, texts, areas, enums, datetimes, numbers = spec
    g = "engagement"
    props = [_string(n, g) for n in texts]
    props += [_string(n, g, "textarea") for n in areas]
    props += [_enum(n, g, *values) for n, values in enums.items()]
    props += [_typed(n, g, "datetime", "date") for n in datetimes]
    props += [_typed(n, g, "number", "number") for n in numbers]
    props += [_owner(g), _typed("createdate", g, "datetime", "date", read_only=True)]
    props += _system(g, "hs_lastmodifieddate", "hs_createdate")
    otype = ObjectTypeDef(
        name=name, singular=singular, type_id=type_id, modified_prop="hs_lastmodifieddate",
        created_prop="hs_createdate", default_props=("hs_createdate", "hs_lastmodifieddate", "hs_object_id"),
        label_singular=singular.title(), label_plural=name.title(),
        primary_display_property=(texts or areas)[0],
    )  # fmt: skip
    return otype, props


def fresh_schema() -> Schema:
    """The object types and properties of a new portal with the Salesforce integration installed."""
    schema = Schema()
    for build in (_contacts, _companies, _deals, _tickets):
        schema.add_type(*build())
    for spec in _ENGAGEMENTS:
        schema.add_type(*_engagement(spec))
    return schema
