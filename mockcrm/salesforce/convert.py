"""Lead conversion as the control plane offers it: Account (new or given) + Contact, Lead marked.

Real conversion maps the lead's standard fields onto the new records; this follows the default
mapping for the fields the mock carries. The converted lead is then read-only
(CANNOT_UPDATE_CONVERTED_LEAD), as in a real org.
"""

from __future__ import annotations

from mockcrm.salesforce import writes
from mockcrm.salesforce.ids import key15
from mockcrm.salesforce.org import Org
from mockcrm.salesforce.store import Record, Table

_TO_ACCOUNT = {
    "Company": "Name",
    "Website": "Website",
    "Phone": "Phone",
    "Fax": "Fax",
    "Industry": "Industry",
    "AnnualRevenue": "AnnualRevenue",
    "NumberOfEmployees": "NumberOfEmployees",
    "Street": "BillingStreet",
    "City": "BillingCity",
    "State": "BillingState",
    "PostalCode": "BillingPostalCode",
    "Country": "BillingCountry",
}
_TO_CONTACT = {
    "Salutation": "Salutation",
    "FirstName": "FirstName",
    "LastName": "LastName",
    "Email": "Email",
    "Phone": "Phone",
    "MobilePhone": "MobilePhone",
    "Fax": "Fax",
    "Title": "Title",
    "LeadSource": "LeadSource",
    "Description": "Description",
    "Street": "MailingStreet",
    "City": "MailingCity",
    "State": "MailingState",
    "PostalCode": "MailingPostalCode",
    "Country": "MailingCountry",
}


def _mapped(lead: Record, mapping: dict[str, str]) -> dict[str, object]:
    return {dst: lead[src] for src, dst in mapping.items() if lead.get(src) is not None}


def _create(org: Org, sobject: str, values: dict[str, object]) -> str:
    prepared = writes.prepare_create(org, org.tables[sobject], values)
    if isinstance(prepared, list):
        raise ValueError(
            f"cannot create the {sobject}: " + "; ".join(f"{e.code}: {e.message}" for e in prepared)
        )
    return writes.commit(org, prepared, org.stamp())


def convert_lead(org: Org, lead_id: str, account_id: str | None, status: str) -> dict[str, str | None]:
    leads = org.tables["Lead"]
    k = key15(lead_id)
    lead = leads.get(k) if k is not None else None
    if lead is None or lead.get("IsDeleted"):
        raise ValueError(f"no live lead {lead_id}")
    if lead.get("IsConverted"):
        raise ValueError(f"lead {lead_id} is already converted")
    assert k is not None
    # Conversion is a person's action in the UI, not the API user's.
    before, org.acting_user = org.acting_user, org.other_user_id
    try:
        return _convert(org, leads, lead, k, account_id, status)
    finally:
        org.acting_user = before


def _convert(
    org: Org, leads: Table, lead: Record, k: str, account_id: str | None, status: str
) -> dict[str, str | None]:
    if account_id is not None:
        ak = key15(account_id)
        account = org.tables["Account"].get(ak) if ak is not None else None
        if account is None or account.get("IsDeleted"):
            raise ValueError(f"no live account {account_id}")
        account_id = str(account["Id"])
    else:
        account_id = _create(org, "Account", _mapped(lead, _TO_ACCOUNT))
    contact_id = _create(org, "Contact", {**_mapped(lead, _TO_CONTACT), "AccountId": account_id})
    ms, iso = org.stamp()
    lead.update(
        {
            "IsConverted": True,
            "ConvertedAccountId": account_id,
            "ConvertedContactId": contact_id,
            "ConvertedDate": iso[:10],
            "Status": status,
            "LastModifiedDate": iso,
            "SystemModstamp": iso,
            "LastModifiedById": org.other_user_id,
        }
    )
    leads.touch(k, ms)
    return {
        "lead_id": str(lead["Id"]),
        "account_id": account_id,
        "contact_id": contact_id,
        "opportunity_id": None,
    }
