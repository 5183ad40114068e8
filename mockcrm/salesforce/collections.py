"""sObject Collections: create, update, upsert, retrieve and delete up to 200 records per call (B4).

Per-record results come back in request order with ``statusCode`` errors and no ``id`` on failure.
With ``allOrNone`` every record is prepared before any is committed, so one failure leaves the org
untouched and the others report ALL_OR_NONE_OPERATION_ROLLED_BACK.
"""

from __future__ import annotations

from typing import Any

import msgspec

from mockcrm.salesforce import writes
from mockcrm.salesforce.api import Call, Reply, Router, decode_as
from mockcrm.salesforce.errors import RecordError, SalesforceError
from mockcrm.salesforce.ids import key15
from mockcrm.salesforce.service import SalesforceMock
from mockcrm.salesforce.sobjects import record_json, select_fields
from mockcrm.salesforce.store import Table
from mockcrm.salesforce.writes import Pending, Prepared

MAX_RECORDS = 200
_ROLLED_BACK = RecordError(
    "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "Record rolled back because not all records were valid and the request was using AllOrNone header",
)


class CollectionBody(msgspec.Struct):
    records: list[dict[str, Any]]
    all_or_none: bool = msgspec.field(default=False, name="allOrNone")


class RetrieveBody(msgspec.Struct):
    ids: list[str]
    fields: list[str] = msgspec.field(default_factory=list)


def _too_many() -> SalesforceError:
    return SalesforceError.one(
        400,
        "EXCEEDED_ID_LIMIT",
        f"record limit reached. cannot submit more than {MAX_RECORDS} records into this call",
    )


def _collection_error(e: RecordError) -> dict[str, Any]:
    if e.code == "NOT_FOUND":  # inside collections an unknown id is a bad cross reference
        e = RecordError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [])
    return e.as_collection()


def _failure(errors: list[RecordError]) -> dict[str, Any]:
    return {"success": False, "errors": [_collection_error(e) for e in errors]}


def _type_of(record: dict[str, Any], default: str | None = None) -> str | None:
    attrs = record.get("attributes")
    if isinstance(attrs, dict) and isinstance(attrs.get("type"), str):
        return str(attrs["type"])
    return default


def _record_id(record: dict[str, Any]) -> str | None:
    for key in ("id", "Id", "ID"):
        value = record.get(key)
        if isinstance(value, str):
            return value
    return None


Outcome = Prepared | list[RecordError]


class CollectionHandlers:
    def __init__(self, mock: SalesforceMock) -> None:
        self.mock = mock
        self.org = mock.org

    def register(self, router: Router) -> None:
        router.add("composite/sobjects", POST=self.create, PATCH=self.update, DELETE=self.delete)
        router.add("composite/sobjects/{sobject}", GET=self.retrieve, POST=self.retrieve_post)
        router.add("composite/sobjects/{sobject}/{field}", PATCH=self.upsert)

    def _body(self, call: Call) -> CollectionBody:
        body = decode_as(call.body, CollectionBody, "sObject collection")
        if len(body.records) > MAX_RECORDS:
            raise _too_many()
        return body

    def _table_for(self, record: dict[str, Any], default: str | None = None) -> Table:
        name = _type_of(record, default)
        if name is None:
            raise SalesforceError.one(400, "INVALID_TYPE", "Must specify an sObject type for every record")
        obj = self.org.sobject(name)
        if obj is None:
            raise SalesforceError.one(400, "INVALID_TYPE", f"sObject type '{name}' is not supported.")
        return self.org.tables[obj.name]

    def _run(
        self, outcomes_of: list[Any], all_or_none: bool, extra: list[dict[str, Any]] | None = None
    ) -> Reply:
        """Prepare every record (callables returning an Outcome), then commit per the allOrNone rule.

        Preparing all before committing any means a request that fails as a whole (a value of the
        wrong JSON type in its fifth record) writes nothing, as a real deserialization failure does;
        ``Pending`` makes later records of the batch see the unique values earlier ones claim.
        """
        stamp = self.org.stamp()
        pending = Pending()
        outcomes: list[Outcome] = [prepare(pending) for prepare in outcomes_of]
        if all_or_none and any(isinstance(o, list) for o in outcomes):
            return Reply(
                200, [_failure(o) if isinstance(o, list) else _failure([_ROLLED_BACK]) for o in outcomes]
            )
        results: list[dict[str, Any]] = []
        for o in outcomes:
            if isinstance(o, list):
                results.append(_failure(o))
            else:
                results.append({"id": writes.commit(self.org, o, stamp), "success": True, "errors": []})
        if extra is not None:
            for result, more in zip(results, extra, strict=True):
                if result["success"]:
                    result.update(more)
        return Reply(200, results)

    def create(self, call: Call) -> Reply:
        body = self._body(call)
        tables = [self._table_for(r) for r in body.records]
        org = self.org

        def preparer(table: Table, rec: dict[str, Any]):  # type: ignore[no-untyped-def]
            return lambda pending: writes.prepare_create(org, table, rec, pending)

        return self._run(
            [preparer(t, r) for t, r in zip(tables, body.records, strict=True)], body.all_or_none
        )

    def update(self, call: Call) -> Reply:
        body = self._body(call)
        org = self.org

        seen: set[str] = set()

        def preparer(rec: dict[str, Any]):  # type: ignore[no-untyped-def]
            rid = _record_id(rec)
            if rid is None:
                return lambda _p: [RecordError("MISSING_ARGUMENT", "Id not specified in an update call", [])]
            if rid[:15] in seen:
                return lambda _p: [RecordError("DUPLICATE_VALUE", f"Duplicate id in list: {rid}", [])]
            seen.add(rid[:15])
            found = org.table_for_id(rid)
            table = self._table_for(rec, found.name if found else None)
            return lambda pending: writes.prepare_update(org, table, rid, rec, pending, skip_id=True)

        return self._run([preparer(r) for r in body.records], body.all_or_none)

    def upsert(self, call: Call) -> Reply:
        table = self.org.table(call.params["sobject"])
        fd = table.sobject.get(call.params["field"])
        if fd is None or not (fd.external_id or fd.unique or fd.name == "Id"):
            raise SalesforceError.one(
                404,
                "NOT_FOUND",
                f"Provided external ID field does not exist or is not accessible: {call.params['field']}",
            )
        body = self._body(call)
        org = self.org
        ext = fd.name
        ext_lower = ext.lower()

        def ext_key(rec: dict[str, Any]) -> str | None:
            """The key under which a record carries the external id (any case), or None."""
            if ext in rec:
                return ext
            return next((k for k in rec if k.lower() == ext_lower), None)

        seen: dict[str, int] = {}
        for rec in body.records:
            key = ext_key(rec)
            if key is not None and rec[key] is not None:
                norm = str(rec[key]).lower()
                seen[norm] = seen.get(norm, 0) + 1
        created_flags: list[dict[str, Any]] = []

        def preparer(rec: dict[str, Any]):  # type: ignore[no-untyped-def]
            declared = _type_of(rec)
            if declared is not None and self.org.sobject(declared) is not table.sobject:
                raise SalesforceError.one(
                    400, "INVALID_TYPE", "All records of an upsert must be of the URL's type"
                )
            key = ext_key(rec)
            value = None if key is None else rec[key]
            if value is None:
                created_flags.append({})
                return lambda _p: [RecordError("MISSING_ARGUMENT", f"{fd.name} not specified", [])]
            if seen.get(str(value).lower(), 0) > 1:
                created_flags.append({})
                return lambda _p: [
                    RecordError(
                        "DUPLICATE_EXTERNAL_ID", f"Duplicate external id specified: {value}", [fd.name]
                    )
                ]
            if fd.name == "Id":
                k = key15(str(value))
                match = k if k is not None and k in table.records else None
            else:
                match = table.find_unique(fd.name, value)
            if match is not None and table.records[match].get("IsDeleted"):
                match = None
            created_flags.append({"created": match is None})
            if match is None:
                # Creating by Id (an unknown or deleted one) drops the Id; otherwise the record as is.
                values = {k: v for k, v in rec.items() if k.lower() != "id"} if ext == "Id" else rec
                return lambda pending: writes.prepare_create(org, table, values, pending)
            rid = str(table.records[match]["Id"])
            values = dict(rec)
            del values[key]  # type: ignore[arg-type]
            return lambda pending: writes.prepare_update(
                org, table, rid, values, pending, skip_id=True, known15=match
            )

        preparers = [preparer(r) for r in body.records]
        return self._run(preparers, body.all_or_none, extra=created_flags)

    def delete(self, call: Call) -> Reply:
        ids = [i for i in (call.query.get("ids") or "").split(",") if i.strip()]
        if not ids:
            raise SalesforceError.one(400, "MISSING_ARGUMENT", "ids parameter is required")
        if len(ids) > MAX_RECORDS:
            raise _too_many()
        all_or_none = (call.query.get("allOrNone") or "false").lower() == "true"
        checks: list[tuple[Table, str] | RecordError] = []
        seen: set[str] = set()
        for rid in ids:
            table = self.org.table_for_id(rid.strip())
            if table is None:
                checks.append(RecordError("MALFORMED_ID", f"invalid record id: {rid}", []))
                continue
            k = writes.prepare_delete(table, rid.strip())
            if isinstance(k, str) and k in seen:
                # The same id twice: the second delete finds it already in the recycle bin.
                k = RecordError("ENTITY_IS_DELETED", "entity is deleted", [])
            if isinstance(k, str):
                seen.add(k)
            checks.append(k if isinstance(k, RecordError) else (table, k))
        if all_or_none and any(isinstance(c, RecordError) for c in checks):
            return Reply(200, [_failure([c if isinstance(c, RecordError) else _ROLLED_BACK]) for c in checks])
        stamp = self.org.stamp()
        results = []
        for c in checks:
            if isinstance(c, RecordError):
                results.append(_failure([c]))
            else:
                rid = writes.commit_delete(self.org, c[0], c[1], stamp)
                results.append({"id": rid, "success": True, "errors": []})
        return Reply(200, results)

    def _retrieve(self, call: Call, ids: list[str], fields_raw: str | None) -> Reply:
        table = self.org.table(call.params["sobject"])
        if len(ids) > 2000:
            raise _too_many()
        fields = select_fields(table, fields_raw)
        out: list[dict[str, Any] | None] = []
        for rid in ids:
            k = key15(rid.strip())
            rec = table.get(k) if k is not None and rid.startswith(table.sobject.key_prefix) else None
            out.append(
                None if rec is None or rec.get("IsDeleted") else record_json(table, rec, call.base, fields)
            )
        return Reply(200, out)

    def retrieve(self, call: Call) -> Reply:
        ids = [i for i in (call.query.get("ids") or "").split(",") if i.strip()]
        return self._retrieve(call, ids, call.query.get("fields"))

    def retrieve_post(self, call: Call) -> Reply:
        body = decode_as(call.body, RetrieveBody, "retrieve request")
        return self._retrieve(call, body.ids, ",".join(body.fields) or None)
