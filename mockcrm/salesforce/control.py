"""The Salesforce mock's own ``/__mock/`` routes: seed, dump, rules, lead conversion, custom objects.

Control calls are not API calls: they are not counted, not limited and never see injected faults.
Bad bodies get ``{"error": message}`` with 400, like the shared control routes.
"""

from __future__ import annotations

from typing import Literal, TypeVar

import msgspec
from aiohttp import web

from mockcrm.fakedata import FakeData
from mockcrm.salesforce import writes
from mockcrm.salesforce.convert import convert_lead
from mockcrm.salesforce.duplicates import rebuild_duplicate_index
from mockcrm.salesforce.errors import SalesforceError
from mockcrm.salesforce.rules import CompiledRule, Formula, RulesChange, compile_rule
from mockcrm.salesforce.schema import FieldDef
from mockcrm.salesforce.service import SalesforceMock
from mockcrm.salesforce.target import OrgTarget, WriteRejected

MAX_SEED = 1_000_000


class SeedRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    sobject: str
    count: int
    seed: int | None = None
    email_tag: str = ""
    """Lower-case letters and digits put into every email: seeding in several calls with
    different seeds and tags never repeats an address."""


class ConvertLead(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    lead_id: str
    account_id: str | None = None
    converted_status: str = "Closed - Converted"


class CustomField(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: str
    type: Literal[
        "string",
        "textarea",
        "email",
        "phone",
        "url",
        "picklist",
        "boolean",
        "int",
        "double",
        "currency",
        "percent",
        "date",
        "datetime",
        "reference",
    ] = "string"
    length: int = 255
    required: bool = False
    external_id: bool = False
    unique: bool = False
    picklist_values: list[str] = msgspec.field(default_factory=list)
    restricted: bool = False
    reference_to: list[str] = msgspec.field(default_factory=list)
    label: str = ""


class CustomObject(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: str
    label: str | None = None
    fields: list[CustomField] = msgspec.field(default_factory=list)


def _json(body: object, status: int = 200) -> web.Response:
    return web.Response(body=msgspec.json.encode(body), status=status, content_type="application/json")


def _bad(message: str) -> web.Response:
    return _json({"error": message}, status=400)


def _field_def(f: CustomField) -> FieldDef:
    if not f.name.endswith("__c"):
        raise ValueError(f"custom field names end in __c: {f.name}")
    text_like = f.type in ("string", "textarea", "email", "phone", "url", "picklist")
    return FieldDef(
        name=f.name,
        type=f.type,
        label=f.label,
        length=f.length if text_like else 18 if f.type == "reference" else 0,
        nillable=not f.required,
        external_id=f.external_id,
        unique=f.unique,
        picklist=tuple(f.picklist_values),
        restricted=f.restricted,
        reference_to=tuple(f.reference_to),
        custom=True,
    )


class SalesforceControl:
    def __init__(self, mock: SalesforceMock, target: OrgTarget) -> None:
        self.mock = mock
        self.org = mock.org
        self.target = target

    def install(self, app: web.Application) -> None:
        app.router.add_post("/__mock/seed", self.seed)
        app.router.add_get("/__mock/dump/{sobject}", self.dump)
        app.router.add_post("/__mock/rules", self.rules)
        app.router.add_get("/__mock/rules", self.get_rules)
        app.router.add_post("/__mock/convert-lead", self.convert_lead)
        app.router.add_post("/__mock/sobjects", self.register_sobject)

    async def seed(self, request: web.Request) -> web.Response:
        try:
            req = msgspec.json.decode(await request.read(), type=SeedRequest)
        except (msgspec.DecodeError, RecursionError) as exc:
            return _bad(f"invalid seed request: {exc}")
        obj = self.org.sobject(req.sobject)
        if obj is None:
            return _bad(f"unknown sObject {req.sobject}")
        if not 0 <= req.count <= MAX_SEED:
            return _bad(f"count must be between 0 and {MAX_SEED}")
        try:
            fake = FakeData(
                req.seed if req.seed is not None else self.mock.config.seed, email_tag=req.email_tag
            )
        except ValueError as exc:
            return _bad(str(exc))
        ids: list[str] = []
        try:
            for _ in range(req.count):
                ids.append(self.target.create(obj.name, fake))  # noqa: PERF401 - keep the ids made before a failure
        except WriteRejected as exc:
            return _json(
                {"error": f"seeding stopped after {len(ids)} records: {exc}", "ids": ids}, status=409
            )
        return _json({"sobject": obj.name, "created": len(ids), "ids": ids})

    async def dump(self, request: web.Request) -> web.Response:
        obj = self.org.sobject(request.match_info["sobject"])
        if obj is None:
            return _json({"error": "unknown sObject"}, status=404)
        records = self.org.tables[obj.name].records.values()
        wanted = request.query.get("fields")
        if wanted:
            # Some fields of every record (Id always): a million whole records would be a gigabyte.
            names = list(dict.fromkeys(["Id", *(f.strip() for f in wanted.split(",") if f.strip())]))
            return _json({"sobject": obj.name, "records": [{f: r.get(f) for f in names} for r in records]})
        return _json({"sobject": obj.name, "records": list(records)})

    async def get_rules(self, _: web.Request) -> web.Response:
        return _json(
            {
                "validation_rules": [r.rule for rules in self.org.validation_rules.values() for r in rules],
                "duplicate_rules": [r for rules in self.org.duplicate_rules.values() for r in rules],
                "formula_fields": [
                    {"sobject": name, "name": fd.name, "type": fd.type, "expression": fd.formula}
                    for name, items in self.org.formulas.items()
                    for fd, _ in items
                ],
                "state_country_picklists": self.org.state_country,
            }
        )

    async def rules(self, request: web.Request) -> web.Response:
        try:
            change = msgspec.json.decode(await request.read(), type=RulesChange)
        except (msgspec.DecodeError, RecursionError) as exc:
            return _bad(f"invalid rules: {exc}")
        org = self.org
        try:
            # Check everything first so a bad rule leaves the org as it was.
            compiled: list[tuple[str, CompiledRule]] = []
            for vr in change.validation_rules:
                obj = _need(org.sobject(vr.sobject), vr.sobject)
                canonical = {k: f.name for k, f in obj.by_lower.items()}
                compiled.append((obj.name, compile_rule(vr, canonical)))
            dups = []
            for dr in change.duplicate_rules:
                obj = _need(org.sobject(dr.sobject), dr.sobject)
                fields = [_need(obj.get(f), f).name for f in dr.fields]
                if not fields:
                    raise ValueError("a duplicate rule needs at least one field")
                dups.append((obj.name, dr, fields))
            formulas = []
            for ff in change.formula_fields:
                obj = _need(org.sobject(ff.sobject), ff.sobject)
                if not ff.name.endswith("__c") or obj.get(ff.name) is not None:
                    raise ValueError(f"formula field names end in __c and are new: {ff.name}")
                canonical = {k: f.name for k, f in obj.by_lower.items()}
                formulas.append((obj.name, ff, Formula(ff.expression, canonical)))
        except ValueError as exc:
            return _bad(str(exc))
        if change.clear:
            self._clear_rules()
        for name, rule in compiled:
            org.validation_rules.setdefault(name, []).append(rule)
        for name, dr, fields in dups:
            dr.sobject, dr.fields = name, fields
            dr.name = dr.name or f"Mock_{name}_Duplicate_Rule_{len(org.duplicate_rules.get(name, [])) + 1}"
            org.duplicate_rules.setdefault(name, []).append(dr)
            rebuild_duplicate_index(org, org.tables[name])
        for name, ff, formula in formulas:
            fd = FieldDef(
                name=ff.name,
                type=ff.type,
                length=1300 if ff.type == "string" else 0,
                formula=ff.expression,
                createable=False,
                updateable=False,
                custom=True,
                precision=18 if ff.type != "string" else 0,
            )
            org.objects[name].add(fd)
            org.formulas.setdefault(name, []).append((fd, formula))
            org.schema_changed(name)
            writes.recompute_formulas(org, org.tables[name])
        if change.state_country_picklists is not None:
            org.set_state_country(change.state_country_picklists)
        return await self.get_rules(request)

    def _clear_rules(self) -> None:
        org = self.org
        org.validation_rules.clear()
        org.duplicate_rules.clear()
        for table in org.tables.values():
            table.dup_index.clear()
        for name, items in org.formulas.items():
            for fd, _ in items:
                org.objects[name].remove(fd.name)
                for rec in org.tables[name].records.values():
                    rec.pop(fd.name, None)
            org.schema_changed(name)
        org.formulas.clear()

    async def register_sobject(self, request: web.Request) -> web.Response:
        try:
            req = msgspec.json.decode(await request.read(), type=CustomObject)
            fields = [_field_def(f) for f in req.fields]
            obj = self.org.register_custom(req.name, req.label, fields)
        except (msgspec.DecodeError, RecursionError, ValueError) as exc:
            return _bad(f"invalid custom object: {exc}")
        except SalesforceError as exc:
            return _bad(exc.errors[0].message)
        return _json({"name": obj.name, "keyPrefix": obj.key_prefix, "fields": list(obj.fields)})

    async def convert_lead(self, request: web.Request) -> web.Response:
        try:
            req = msgspec.json.decode(await request.read(), type=ConvertLead)
        except (msgspec.DecodeError, RecursionError) as exc:
            return _bad(f"invalid conversion: {exc}")
        try:
            result = convert_lead(self.org, req.lead_id, req.account_id, req.converted_status)
        except ValueError as exc:
            return _bad(str(exc))
        return _json(result)


T = TypeVar("T")


def _need(value: T | None, name: str) -> T:
    if value is None:
        raise ValueError(f"unknown: {name}")
    return value
