"""The standard sales objects of a default org, field by field (reference standard-fields.md).

Case, activities, users and campaigns live in ``objects_activity``."""

from __future__ import annotations

from mockcrm.salesforce.objects_activity import campaign, campaign_member, case, event, task, user
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

SALUTATIONS = ("Mr.", "Ms.", "Mrs.", "Dr.", "Prof.")
LEAD_SOURCES = ("Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other")
INDUSTRIES = (
    "Agriculture",
    "Apparel",
    "Banking",
    "Biotechnology",
    "Chemicals",
    "Communications",
    "Construction",
    "Consulting",
    "Education",
    "Electronics",
    "Energy",
    "Engineering",
    "Entertainment",
    "Environmental",
    "Finance",
    "Food & Beverage",
    "Government",
    "Healthcare",
    "Hospitality",
    "Insurance",
    "Machinery",
    "Manufacturing",
    "Media",
    "Not For Profit",
    "Recreation",
    "Retail",
    "Shipping",
    "Technology",
    "Telecommunications",
    "Transportation",
    "Utilities",
    "Other",
)
LEAD_STATUSES = (
    "Open - Not Contacted",
    "Working - Contacted",
    "Closed - Converted",
    "Closed - Not Converted",
)
STAGE_PROBABILITY = {
    "Prospecting": 10,
    "Qualification": 10,
    "Needs Analysis": 20,
    "Value Proposition": 50,
    "Id. Decision Makers": 60,
    "Perception Analysis": 70,
    "Proposal/Price Quote": 75,
    "Negotiation/Review": 90,
    "Closed Won": 100,
    "Closed Lost": 0,
}


def _address(
    prefix: str, street: int = 255, city: int = 40, state: int = 80, country: int = 80
) -> list[FieldDef]:
    return [
        typed(f"{prefix}Street", "textarea", length=street),
        text(f"{prefix}City", city),
        text(f"{prefix}State", state),
        text(f"{prefix}PostalCode", 20),
        text(f"{prefix}Country", country),
    ]


def _person_name() -> list[FieldDef]:
    return [
        pick("Salutation", SALUTATIONS),
        text("FirstName", 40),
        text("LastName", 80, required=True),
        readonly("Name", "string", 121),
    ]


def contact() -> SObjectDef:
    return new_sobject(
        "Contact",
        "003",
        [
            *_person_name(),
            ref("AccountId", "Account"),
            typed("Email", "email"),
            typed("Phone", "phone"),
            typed("MobilePhone", "phone"),
            typed("HomePhone", "phone"),
            typed("OtherPhone", "phone"),
            typed("Fax", "phone"),
            text("Title", 128),
            text("Department", 80),
            text("AssistantName", 40),
            typed("Birthdate", "date"),
            typed("Description", "textarea"),
            pick("LeadSource", LEAD_SOURCES),
            *_address("Mailing"),
            ref("ReportsToId", "Contact"),
            flag("HasOptedOutOfEmail"),
            flag("DoNotCall"),
            hubspot_id(),
        ],
        address_groups=(("MailingState", "MailingCountry"),),
    )


def lead() -> SObjectDef:
    return new_sobject(
        "Lead",
        "00Q",
        [
            *_person_name(),
            text("Company", 255, required=True),
            typed("Email", "email"),
            typed("Phone", "phone"),
            typed("MobilePhone", "phone"),
            typed("Fax", "phone"),
            text("Title", 128),
            typed("Website", "url"),
            pick("Industry", INDUSTRIES),
            typed("AnnualRevenue", "currency", precision=18, scale=0),
            typed("NumberOfEmployees", "int", precision=8),
            pick("LeadSource", LEAD_SOURCES),
            pick("Status", LEAD_STATUSES, required=True, default=True, restricted=True),
            pick("Rating", ("Hot", "Warm", "Cold")),
            *_address("", state=80),
            typed("Description", "textarea"),
            readonly("IsConverted", "boolean", nillable=False),
            readonly("ConvertedDate", "date"),
            FieldDef(
                name="ConvertedContactId",
                type="reference",
                length=18,
                reference_to=("Contact",),
                createable=False,
                updateable=False,
            ),
            FieldDef(
                name="ConvertedAccountId",
                type="reference",
                length=18,
                reference_to=("Account",),
                createable=False,
                updateable=False,
            ),
            FieldDef(
                name="ConvertedOpportunityId",
                type="reference",
                length=18,
                reference_to=("Opportunity",),
                createable=False,
                updateable=False,
            ),
            hubspot_id(),
        ],
        address_groups=(("State", "Country"),),
    )


def account() -> SObjectDef:
    return new_sobject(
        "Account",
        "001",
        [
            text("Name", 255, required=True),
            typed("Website", "url"),
            typed("Phone", "phone"),
            typed("Fax", "phone"),
            pick("Industry", INDUSTRIES),
            pick(
                "Type",
                (
                    "Prospect",
                    "Customer - Direct",
                    "Customer - Channel",
                    "Channel Partner / Reseller",
                    "Installation Partner",
                    "Technology Partner",
                    "Other",
                ),
            ),
            typed("AnnualRevenue", "currency", precision=18),
            typed("NumberOfEmployees", "int", precision=8),
            typed("Description", "textarea"),
            *_address("Billing"),
            *_address("Shipping"),
            ref("ParentId", "Account"),
            text("AccountNumber", 40),
            hubspot_id(),
        ],
        address_groups=(("BillingState", "BillingCountry"), ("ShippingState", "ShippingCountry")),
    )


def opportunity() -> SObjectDef:
    return new_sobject(
        "Opportunity",
        "006",
        [
            text("Name", 120, required=True),
            pick("StageName", tuple(STAGE_PROBABILITY), required=True, restricted=True),
            typed("CloseDate", "date", required=True),
            typed("Amount", "currency", precision=18, scale=2),
            FieldDef(name="Probability", type="percent", precision=3, defaulted=True),
            ref("AccountId", "Account"),
            pick(
                "Type",
                (
                    "Existing Customer - Upgrade",
                    "Existing Customer - Replacement",
                    "Existing Customer - Downgrade",
                    "New Customer",
                ),
            ),
            pick("LeadSource", LEAD_SOURCES),
            typed("Description", "textarea"),
            readonly("IsClosed", "boolean", nillable=False),
            readonly("IsWon", "boolean", nillable=False),
            # Computed in code (derived.py); the formula text is what describe shows.
            FieldDef(
                name="ExpectedRevenue",
                type="currency",
                createable=False,
                updateable=False,
                defaulted=True,
                formula="Amount * Probability / 100",
                precision=18,
                scale=2,
            ),
            hubspot_id(),
        ],
        label="Opportunity",
        plural="Opportunities",
    )


def opportunity_contact_role() -> SObjectDef:
    opp = ref("OpportunityId", "Opportunity", updateable=False)
    opp.nillable = False
    contact_ref = ref("ContactId", "Contact")
    contact_ref.nillable = False
    return new_sobject(
        "OpportunityContactRole",
        "00K",
        [
            opp,
            contact_ref,
            pick(
                "Role",
                (
                    "Business User",
                    "Decision Maker",
                    "Economic Buyer",
                    "Economic Decision Maker",
                    "Evaluator",
                    "Executive Sponsor",
                    "Influencer",
                    "Technical Buyer",
                    "Other",
                ),
            ),
            flag("IsPrimary"),
        ],
        has_owner=False,
        label="Opportunity Contact Role",
    )


def standard_objects() -> dict[str, SObjectDef]:
    """A fresh copy of every standard object (rules and formula fields mutate their copies)."""
    objs = [
        contact(),
        lead(),
        account(),
        opportunity(),
        opportunity_contact_role(),
        case(),
        task(),
        event(),
        user(),
        campaign(),
        campaign_member(),
    ]
    return {o.name: o for o in objs}


def custom_object(name: str, prefix: str, label: str | None, fields: list[FieldDef]) -> SObjectDef:
    obj = new_sobject(
        name, prefix, [text("Name", 80, required=True), *fields], label=label or None, custom=True
    )
    return obj
