"""``/sobjects``: describe, create, read, update, delete, upsert by external id, updated/deleted (B3, B7)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from mockcrm.clock import salesforce_iso
from mockcrm.salesforce import writes
from mockcrm.salesforce.api import Call, Reply, Router, decode_object
from mockcrm.salesforce.describe import describe, global_describe, object_summary
from mockcrm.salesforce.errors import RecordError, SalesforceError, entity_deleted, malformed_id, not_found
from mockcrm.salesforce.ids import key15
from mockcrm.salesforce.service import SalesforceMock
from mockcrm.salesforce.store import Record, Table
from mockcrm.salesforce.validation import parse_datetime

_NOT_FOUND_CODES = frozenset({"NOT_FOUND", "ENTITY_IS_DELETED"})
# Upserts answer 200 with a body from API 46.0 on; earlier versions answered 204 (reference B3).
_UPSERT_BODY_SINCE = 46.0


def record_errors(errors: list[RecordError]) -> SalesforceError:
    status = 404 if errors[0].code in _NOT_FOUND_CODES else 400
    return SalesforceError(status, errors)


def record_json(table: Table, rec: Record, base: str, fields: list[str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "attributes": {"type": table.name, "url": f"{base}/sobjects/{table.name}/{rec['Id']}"}
    }
    if fields is None:
        out.update(rec)
    else:
        for f in fields:
            out[f] = rec.get(f)
    return out


def select_fields(table: Table, raw: str | None) -> list[str] | None:
    """Canonical names for a ``fields=`` list, or 400 INVALID_FIELD for an unknown one."""
    if raw is None or not raw.strip():
        return None
    names = []
    for part in raw.split(","):
        fd = table.sobject.get(part.strip())
        if fd is None:
            raise SalesforceError.one(
                400,
                "INVALID_FIELD",
                f"No such column '{part.strip()}' on entity '{table.name}'. If you are attempting "
                "to use a custom field, be sure to append the '__c' after the custom field name. "
                "Please reference "
                "your WSDL or the describe call for the appropriate names.",
            )
        names.append(fd.name)
    return names


def _id15(table: Table, value: str) -> str:
    """The key of an id in a URL: 404 for what is not an id at all, MALFORMED_ID for a bad one."""
    if len(value) not in (15, 18) or not value.isalnum():
        raise SalesforceError.one(
            404, "NOT_FOUND", f"Provided external ID field does not exist or is not accessible: {value}"
        )
    k = key15(value)
    if k is None or value[:3] != table.sobject.key_prefix:
        raise malformed_id(table.sobject.label, value)
    return k


def _live(table: Table, k: str) -> Record:
    rec = table.get(k)
    if rec is None:
        raise not_found()
    if rec.get("IsDeleted"):
        raise entity_deleted()
    return rec


class SObjectHandlers:
    def __init__(self, mock: SalesforceMock) -> None:
        self.mock = mock
        self.org = mock.org

    def register(self, router: Router) -> None:
        router.add("sobjects", GET=self.list_objects)
        router.add("sobjects/{sobject}", GET=self.basic_info, POST=self.create)
        router.add("sobjects/{sobject}/describe", GET=self.describe)
        router.add("sobjects/{sobject}/updated", GET=self.updated)
        router.add("sobjects/{sobject}/deleted", GET=self.deleted)
        router.add("sobjects/{sobject}/{id}", GET=self.get, PATCH=self.update, DELETE=self.delete)
        router.add(
            "sobjects/{sobject}/{field}/{value+}",
            GET=self.get_by_ext,
            PATCH=self.upsert,
            DELETE=self.delete_by_ext,
        )

    def list_objects(self, call: Call) -> Reply:
        return Reply(200, global_describe(list(self.org.objects.values()), call.base))

    def basic_info(self, call: Call) -> Reply:
        table = self.org.table(call.params["sobject"])
        return Reply(200, {"objectDescribe": object_summary(table.sobject, call.base), "recentItems": []})

    def describe(self, call: Call) -> Reply:
        return Reply(200, describe(self.org.table(call.params["sobject"]).sobject, call.base))

    def create(self, call: Call) -> Reply:
        table = self.org.table(call.params["sobject"])
        prepared = writes.prepare_create(self.org, table, decode_object(call.body))
        if isinstance(prepared, list):
            raise record_errors(prepared)
        rid = writes.commit(self.org, prepared, self.org.stamp())
        return Reply(201, {"id": rid, "success": True, "errors": []})

    def get(self, call: Call) -> Reply:
        table = self.org.table(call.params["sobject"])
        fields = select_fields(table, call.query.get("fields"))
        rec = _live(table, _id15(table, call.params["id"]))
        return Reply(200, record_json(table, rec, call.base, fields))

    def update(self, call: Call) -> Reply:
        table = self.org.table(call.params["sobject"])
        _id15(table, call.params["id"])
        prepared = writes.prepare_update(self.org, table, call.params["id"], decode_object(call.body))
        if isinstance(prepared, list):
            raise record_errors(prepared)
        writes.commit(self.org, prepared, self.org.stamp())
        return Reply(204)

    def delete(self, call: Call) -> Reply:
        table = self.org.table(call.params["sobject"])
        _id15(table, call.params["id"])
        k = writes.prepare_delete(table, call.params["id"])
        if isinstance(k, RecordError):
            raise record_errors([k])
        writes.commit_delete(self.org, table, k, self.org.stamp())
        return Reply(204)

    # --- by external id ------------------------------------------------------------------------------

    def _ext_field(self, table: Table, name: str) -> str:
        fd = table.sobject.get(name)
        if fd is None or not (fd.external_id or fd.name == "Id" or fd.unique):
            raise SalesforceError.one(
                404, "NOT_FOUND", f"Provided external ID field does not exist or is not accessible: {name}"
            )
        return fd.name

    def _match(self, table: Table, field: str, value: str) -> str | None:
        if field == "Id":
            k = key15(value)
            return k if k is not None and k in table.records else None
        return table.find_unique(field, value)

    def get_by_ext(self, call: Call) -> Reply:
        table = self.org.table(call.params["sobject"])
        field = self._ext_field(table, call.params["field"])
        k = self._match(table, field, call.params["value"])
        if k is None:
            raise not_found()
        fields = select_fields(table, call.query.get("fields"))
        return Reply(200, record_json(table, _live(table, k), call.base, fields))

    def delete_by_ext(self, call: Call) -> Reply:
        table = self.org.table(call.params["sobject"])
        field = self._ext_field(table, call.params["field"])
        k = self._match(table, field, call.params["value"])
        if k is None:
            raise not_found()
        _live(table, k)  # 404 ENTITY_IS_DELETED when it already is
        writes.commit_delete(self.org, table, k, self.org.stamp())
        return Reply(204)

    def upsert(self, call: Call) -> Reply:
        table = self.org.table(call.params["sobject"])
        field = self._ext_field(table, call.params["field"])
        value = call.params["value"]
        body = decode_object(call.body)
        for key in list(body):
            if key.lower() == field.lower():
                if str(body[key]) != value:
                    raise SalesforceError.one(
                        400,
                        "INVALID_FIELD",
                        f"The value of {field} in the request body does not match the URL: {value}",
                    )
                del body[key]
        k = self._match(table, field, value)
        if k is not None and table.records[k].get("IsDeleted"):
            k = None
        created = k is None
        if created:
            if field != "Id":
                body[field] = value
            prepared = writes.prepare_create(self.org, table, body)
        else:
            prepared = writes.prepare_update(self.org, table, str(table.records[k]["Id"]), body)  # type: ignore[index]
        if isinstance(prepared, list):
            raise record_errors(prepared)
        rid = writes.commit(self.org, prepared, self.org.stamp())
        result = {"id": rid, "success": True, "errors": [], "created": created}
        if created:
            return Reply(201, result)
        if float(call.version) >= _UPSERT_BODY_SINCE:
            return Reply(200, result)
        return Reply(204)

    # --- replication ---------------------------------------------------------------------------------

    def _window(self, call: Call, max_days: int) -> tuple[int, int, int]:
        now_ms = self.mock.clock.now_ms()
        bounds = []
        for name in ("start", "end"):
            raw = call.query.get(name)
            if raw is None:
                raise SalesforceError.one(400, "MISSING_ARGUMENT", f"Missing required parameter: {name}")
            dt = parse_datetime(raw.replace(" ", "+"))  # a raw "+" in a query string arrives as a space
            if dt is None:
                raise SalesforceError.one(400, "INVALID_INPUT", f"Invalid {name} date: {raw}")
            bounds.append(int(dt.timestamp() * 1000))
        start, end = bounds
        if end < start:
            raise SalesforceError.one(400, "INVALID_REPLICATION_DATE", "endDate before startDate")
        if start < now_ms - int(timedelta(days=max_days).total_seconds() * 1000):
            raise SalesforceError.one(
                400, "INVALID_REPLICATION_DATE", f"startDate cannot be more than {max_days} days ago"
            )
        return start, end, now_ms

    def updated(self, call: Call) -> Reply:
        table = self.org.table(call.params["sobject"])
        start, end, now_ms = self._window(call, 30)
        ids = [str(rec["Id"]) for _, rec in table.between(start, end) if not rec.get("IsDeleted")]
        return Reply(200, {"ids": ids, "latestDateCovered": salesforce_iso(min(end, now_ms))})

    def deleted(self, call: Call) -> Reply:
        table = self.org.table(call.params["sobject"])
        start, end, now_ms = self._window(call, 15)
        found = [
            {"id": rid, "deletedDate": salesforce_iso(ms)} for ms, rid in table.deleted_between(start, end)
        ]
        return Reply(
            200,
            {
                "deletedRecords": found,
                "earliestDateAvailable": salesforce_iso(self.org.created_ms),
                "latestDateCovered": salesforce_iso(min(end, now_ms)),
            },
        )
