"""``/query`` and ``/queryAll``: SOQL through the SOQL engine, paged by ``nextRecordsUrl`` (B5).

Candidates come from ``narrow`` (index lookups), so the change-stream queries do not scan the table.
"""

from __future__ import annotations

from typing import Any

from mockcrm.salesforce.api import Call, Reply, Router
from mockcrm.salesforce.errors import SalesforceError
from mockcrm.salesforce.narrow import candidates
from mockcrm.salesforce.schema import SObjectDef
from mockcrm.salesforce.service import SalesforceMock
from mockcrm.salesforce.soql import FieldInfo, SoqlError, execute, parse_soql

DEFAULT_BATCH = 2000
MIN_BATCH, MAX_BATCH = 200, 2000


def soql_fields(obj: SObjectDef) -> dict[str, FieldInfo]:
    return {
        k: FieldInfo(name=f.name, type="string" if f.type == "combobox" else f.type)
        for k, f in obj.by_lower.items()
    }


def _batch_size(header: str | None) -> int:
    if not header:
        return DEFAULT_BATCH
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key.strip().lower() == "batchsize":
            try:
                return max(MIN_BATCH, min(MAX_BATCH, int(value)))
            except ValueError:
                return DEFAULT_BATCH
    return DEFAULT_BATCH


class QueryHandlers:
    def __init__(self, mock: SalesforceMock) -> None:
        self.mock = mock

    def register(self, router: Router) -> None:
        router.add("query", GET=self.query)
        router.add("queryAll", GET=self.query_all)
        router.add("query/{locator}", GET=self.more)
        router.add("queryAll/{locator}", GET=self.more)

    def query(self, call: Call) -> Reply:
        return self._run(call, include_deleted=False)

    def query_all(self, call: Call) -> Reply:
        return self._run(call, include_deleted=True)

    def _run(self, call: Call, include_deleted: bool) -> Reply:
        text = call.query.get("q")
        if text is None or not text.strip():
            raise SalesforceError.one(
                400, "MALFORMED_QUERY", "A query string must be provided with the q parameter"
            )
        try:
            parsed = parse_soql(text)
            obj = self.mock.org.sobject(parsed.sobject)
            if obj is None:
                raise SalesforceError.one(
                    400,
                    "INVALID_TYPE",
                    f"\n{text}\n{' ' * parsed.sobject_pos}^\nERROR at Row:1:Column:"
                    f"{parsed.sobject_pos + 1}\nsObject type '{parsed.sobject}' is not supported. If you are "
                    "attempting to use a custom object, be sure to append the '__c' after the entity name. "
                    "Please "
                    "reference your WSDL or the describe call for the appropriate names.",
                )
            table = self.mock.org.tables[obj.name]
            result = execute(
                parsed,
                candidates(table, parsed, include_deleted),
                soql_fields(obj),
                now=self.mock.clock.now(),
            )
        except SoqlError as exc:
            raise SalesforceError.one(400, exc.error_code, exc.message) from None
        if parsed.is_count:
            return Reply(200, {"totalSize": result.total_size, "done": True, "records": []})
        kind = "AggregateResult" if parsed.is_aggregate else obj.name
        rows = [self._with_attributes(row, kind, call.base) for row in result.rows]
        return self._page(
            call, rows, result.total_size, 0, _batch_size(call.headers.get("Sforce-Query-Options"))
        )

    @staticmethod
    def _with_attributes(row: dict[str, object], kind: str, base: str) -> dict[str, Any]:
        attrs: dict[str, str] = {"type": kind}
        rid = row.get("Id")
        if rid is not None and kind != "AggregateResult":
            attrs["url"] = f"{base}/sobjects/{kind}/{rid}"
        out: dict[str, Any] = {"attributes": attrs}
        out.update(row)
        return out

    def _page(
        self,
        call: Call,
        rows: list[dict[str, Any]],
        total: int,
        start: int,
        batch: int,
        locator: str | None = None,
    ) -> Reply:
        end = start + batch
        body: dict[str, Any] = {"totalSize": total, "done": end >= len(rows)}
        if end < len(rows):
            if locator is None:
                locator = self.mock.cursors.open(rows, total, batch)
            body["nextRecordsUrl"] = f"{call.base}/query/{locator}-{end}"
        body["records"] = rows[start:end]
        return Reply(200, body)

    def more(self, call: Call) -> Reply:
        locator, _, offset_text = call.params["locator"].rpartition("-")
        cursor = self.mock.cursors.get(locator) if locator else None
        if cursor is None or not offset_text.isdigit() or int(offset_text) > len(cursor.rows):
            raise SalesforceError.one(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        return self._page(call, cursor.rows, cursor.total_size, int(offset_text), cursor.batch, locator)
