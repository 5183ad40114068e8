"""The Salesforce mock's indexes for what long steady runs hit: ``/deleted`` bisects a time-sorted
delete log, and a delete takes the record out of its duplicate-rule entries only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

from mockcrm.config import MockEndpoints
from mockcrm.salesforce.objects import contact
from mockcrm.salesforce.store import Table
from tests.test_salesforce_support import control, fresh_sf

__all__ = ["fresh_sf"]

SF = tuple[Salesforce, MockEndpoints]


def test_deleted_between_is_inclusive_and_sorted_even_when_the_clock_went_back() -> None:
    table = Table(contact())
    for n, ms in enumerate((100, 200, 200, 300, 150)):  # 150: the mock's clock was moved back
        rid = f"003{n:012d}AAA"
        table.records[rid[:15]] = {"Id": rid}
        table.mark_deleted(rid[:15], table.records[rid[:15]], ms, rid)
    assert [ms for ms, _ in table.deleted_log] == [100, 150, 200, 200, 300]
    assert [ms for ms, _ in table.deleted_between(150, 200)] == [150, 200, 200]
    assert table.deleted_between(301, 400) == [] and table.deleted_between(0, 99) == []
    assert len(table.deleted_between(100, 300)) == 5


def test_a_deleted_duplicate_frees_its_values_and_only_its_own(fresh_sf: SF) -> None:
    sf, ep = fresh_sf
    rules = {"duplicate_rules": [{"sobject": "Contact", "fields": ["email"]}]}
    assert control(ep, "POST", "/__mock/rules", rules).status_code == 200
    start = datetime.now(UTC) - timedelta(minutes=1)
    first = sf.Contact.create({"LastName": "A", "Email": "one@example.com"})["id"]
    other = sf.Contact.create({"LastName": "B", "Email": "two@example.com"})["id"]
    assert sf.Contact.delete(first) == 204
    again = sf.Contact.create({"LastName": "C", "Email": "One@Example.com"})["id"]  # no longer a dup
    with pytest.raises(SalesforceMalformedRequest) as dup:  # the other record's entry stayed
        sf.Contact.create({"LastName": "D", "Email": "two@example.com"})
    assert dup.value.content[0]["errorCode"] == "DUPLICATES_DETECTED"
    deleted = sf.Contact.deleted(start, datetime.now(UTC) + timedelta(minutes=1))
    assert [d["id"] for d in deleted["deletedRecords"]] == [first]
    assert again != other
