"""The field mapping checked against the CRMs' live schemas at start.

``validate_mappings`` checks what a mapping list says about itself (R-MAP-8, the formula rule);
this module checks what only the schemas can tell: that every HubSpot property and Salesforce
field exists, that their types are compatible (R-MAP-7) and in which canonical kind they compare,
which Salesforce fields are formulas (R-TRG-5: only ever read), and that a rule never asks to
write a field its CRM will not let anyone write. A failure raises ``MappingError`` naming the
mapping, which the CLI turns into exit 2 — better than a sync error on every record later.

Costs one HubSpot call and one Salesforce call per object, once per run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import NoReturn

from loguru import logger

from engine.hubspot import HubSpotClient, Property
from engine.mapping import (
    FieldKind,
    FieldMapping,
    MappingError,
    SyncRule,
    default_contact_mappings,
    kind_for_types,
    validate_mappings,
)
from engine.salesforce import Describe, FieldDescribe, SalesforceClient

OWNER_PROPERTY = "hubspot_owner_id"
"""HubSpot's owner property: the one "HubSpot user" property that may be mapped (R-MAP-9)."""

# Rules under which the reconciler may write each side (SPEC §3: the prefer-unless-blank rules
# fill the preferred side when it is blank).
WRITES_SALESFORCE = frozenset(
    {
        SyncRule.PREFER_SALESFORCE_UNLESS_BLANK,
        SyncRule.TWO_WAY,
        SyncRule.PREFER_HUBSPOT_UNLESS_BLANK,
        SyncRule.ALWAYS_HUBSPOT,
    }
)
WRITES_HUBSPOT = frozenset(
    {
        SyncRule.PREFER_SALESFORCE_UNLESS_BLANK,
        SyncRule.ALWAYS_SALESFORCE,
        SyncRule.TWO_WAY,
        SyncRule.PREFER_HUBSPOT_UNLESS_BLANK,
    }
)

# State and country stay text-like on both sides whatever R-MAP-7 says of the exact pair: HubSpot
# holds free text or a select, Salesforce a text field or (with state/country picklists) a picklist.
_GEO_HUBSPOT = frozenset({"text", "select", "radio"})
_GEO_SALESFORCE = frozenset({"string", "textarea", "picklist"})
_PICKLIST_KINDS = frozenset({FieldKind.ENUMERATION, FieldKind.MULTI, FieldKind.STATE, FieldKind.COUNTRY})


async def check_contact_mappings(
    hubspot: HubSpotClient,
    salesforce: SalesforceClient,
    mappings: Mapping[str, tuple[FieldMapping, ...]],
    *,
    external_id_field: str | None = None,
) -> dict[str, tuple[FieldMapping, ...]]:
    """``mappings`` (per Salesforce object) checked against HubSpot's contact properties and each
    object's describe, with kinds, formula flags and Salesforce spellings taken from the schemas.

    A mapping whose field exists on some of the objects only is kept for those. ``external_id_field``,
    if given, must exist on every object as an External ID and stay unmapped
    (crmsync writes it itself). Reads run one after another so that an auth or allotment failure
    reaches the caller as itself, not inside an exception group.
    """
    properties = {p.name: p for p in await hubspot.properties("contacts")}
    describes = {sobject: await salesforce.describe(sobject) for sobject in mappings}
    names = {t: {f.name.casefold() for f in d.fields} for t, d in describes.items()}
    out: dict[str, tuple[FieldMapping, ...]] = {}
    for sobject, fields in mappings.items():
        describe = describes[sobject]
        if external_id_field is not None:
            _check_external_id(describe, external_id_field, fields)
        kept = [m for m in fields if _applies(m, sobject, names)]
        standard = {(m.hubspot, m.salesforce.casefold()): m.kind for m in default_contact_mappings(sobject)}
        out[sobject] = check_mappings(describe, kept, properties, standard, object_label="contacts")
        formulas = [m.salesforce for m in out[sobject] if m.formula]
        logger.info(
            "mapping checked: {} fields on {}{}",
            len(out[sobject]),
            sobject,
            f" (formula fields, read only: {', '.join(formulas)})" if formulas else "",
        )
    return out


def _applies(m: FieldMapping, sobject: str, names: Mapping[str, set[str]]) -> bool:
    """Whether a mapping applies to ``sobject``: one configured list serves Contact and Lead, and a
    field only one of them has (``MailingStreet``, ``Company``) maps on that one alone (R-MAP-11
    in reverse). A field neither has stays, for check_mappings to refuse by name."""
    wanted = m.salesforce.casefold()
    if wanted in names[sobject] or not any(wanted in n for n in names.values()):
        return True
    logger.warning(
        "mapping '{} ↔ {}': {} has no such field, so it maps on {} only",
        m.hubspot,
        m.salesforce,
        sobject,
        ", ".join(t for t, n in names.items() if wanted in n),
    )
    return False


def check_mappings(
    describe: Describe,
    mappings: Iterable[FieldMapping],
    properties: Mapping[str, Property],
    standard: Mapping[tuple[str, str], FieldKind],
    *,
    object_label: str,
) -> tuple[FieldMapping, ...]:
    """The pure check for one Salesforce object; ``standard`` maps the built-in pairs
    (HubSpot name, Salesforce name case-folded) to their kinds."""
    fields = {f.name.casefold(): f for f in describe.fields}
    checked = []
    for m in mappings:
        fail = _failer(f"mapping '{m.hubspot} ↔ {m.salesforce}' ({describe.name})")
        prop = properties.get(m.hubspot)
        if prop is None:
            fail(f"no such HubSpot property {m.hubspot!r} on {object_label}")
        field = fields.get(m.salesforce.casefold())
        if field is None:
            fail(f"no such Salesforce field {m.salesforce!r} on {describe.name}")
        kind = _kind(m, prop, field, standard.get((m.hubspot, field.name.casefold())), fail)
        # Salesforce names are case-insensitive, but records come back keyed by the schema's
        # spelling, which the engine looks values up by.
        mapping = FieldMapping(
            m.hubspot,
            field.name,
            m.rule,
            kind,
            formula=m.formula or field.calculated,
            values=m.values,
        )
        _check_writable(mapping, prop, field, fail)
        if kind in _PICKLIST_KINDS:
            _check_picklist(mapping, prop, field, fail)
        checked.append(mapping)
    return validate_mappings(checked)


def _failer(name: str) -> Callable[[str], NoReturn]:
    def fail(problem: str) -> NoReturn:
        raise MappingError(f"{name}: {problem}")

    return fail


def _kind(
    m: FieldMapping,
    prop: Property,
    field: FieldDescribe,
    standard_kind: FieldKind | None,
    fail: Callable[[str], NoReturn],
) -> FieldKind:
    is_owner_prop = prop.name == OWNER_PROPERTY
    if prop.referencedObjectType == "OWNER" and not is_owner_prop:
        fail(f"{prop.name!r} is a 'HubSpot user' property, which cannot be mapped (R-MAP-7)")
    if is_owner_prop or m.kind is FieldKind.OWNER:
        # Owners are matched by the user's email (R-MAP-9), so both sides must hold owner ids.
        if not (is_owner_prop and field.type == "reference" and "User" in field.referenceTo):
            fail("an owner mapping pairs HubSpot's 'hubspot_owner_id' with a Salesforce lookup to User")
        return FieldKind.OWNER
    if m.kind in (FieldKind.STATE, FieldKind.COUNTRY):
        if prop.fieldType not in _GEO_HUBSPOT or field.type not in _GEO_SALESFORCE:
            fail(
                f"a {m.kind.value} mapping needs text or picklist fields, not a HubSpot "
                f"{prop.fieldType!r} property and a Salesforce {field.type!r} field"
            )
        return m.kind
    # A HubSpot calculation property is a number (or text) to R-MAP-7; being read only, the
    # writability check below keeps it to rules that never write HubSpot.
    field_type = prop.fieldType
    if field_type == "calculation_equation":
        field_type = "number" if prop.type == "number" else "text"
    try:
        return kind_for_types(field_type, field.type, prop.type)
    except MappingError as exc:
        if standard_kind is not None:
            # A built-in mapping (HubSpot's own defaults, R-MAP-10) is not held to the editor's
            # table: the integration maps HubSpot's text Lead Source to Salesforce's picklist.
            return standard_kind
        fail(str(exc))


def _check_writable(
    m: FieldMapping, prop: Property, field: FieldDescribe, fail: Callable[[str], NoReturn]
) -> None:
    # What the reconciler will do: formulas read only, the owner two-way (R-MAP-9).
    rule = m.effective_rule
    if rule in WRITES_SALESFORCE and not (field.createable or field.updateable):
        # A formula's effective rule writes no Salesforce field; validate_mappings then refuses a
        # configured rule that would, naming the rules that fit.
        fail(
            f"Salesforce field {field.name!r} is read-only, so rule {m.rule.value!r} cannot write it; "
            "use 'always_salesforce' or 'dont_sync'"
        )
    if rule in WRITES_HUBSPOT and prop.read_only:
        fail(
            f"HubSpot property {prop.name!r} is read-only, so rule {m.rule.value!r} cannot write it; "
            "use 'always_hubspot' or 'dont_sync'"
        )


def _check_picklist(
    m: FieldMapping, prop: Property, field: FieldDescribe, fail: Callable[[str], NoReturn]
) -> None:
    """A translation target outside a restricted picklist would fail every write; HubSpot options
    that translate to no Salesforce value are worth a warning (records holding them will error)."""
    if not field.picklistValues or not field.restrictedPicklist:
        return
    allowed = {v.value for v in field.picklistValues if v.active}
    unknown = sorted({v for v in m.values.values() if v.strip() not in allowed})
    if unknown:
        fail(f"{', '.join(map(repr, unknown))} not in the restricted picklist {field.name!r}")
    table = m.table
    orphans = [
        o.value
        for o in prop.options
        if not o.hidden and (table.salesforce_value(o.value) if table else o.value) not in allowed
    ]
    if orphans:
        logger.warning(
            "mapping '{} ↔ {}': HubSpot options {} have no value in the restricted picklist {}; "
            "records holding them will get sync errors",
            m.hubspot,
            m.salesforce,
            orphans,
            field.name,
        )


def _check_external_id(describe: Describe, name: str, mappings: Iterable[FieldMapping]) -> None:
    field = next((f for f in describe.fields if f.name.casefold() == name.casefold()), None)
    if field is None or not field.externalId:
        raise MappingError(
            f"external id field {name!r}: {'not an External ID' if field else 'no such field'} on "
            f"{describe.name}; crmsync links and upserts records by it (create it as a unique "
            "External ID text field)"
        )
    if field.name != name:
        # crmsync reads it back from records, which Salesforce keys by the schema's spelling.
        raise MappingError(f"external id field {name!r}: spell it {field.name!r}, as {describe.name} does")
    for m in mappings:
        if m.salesforce.casefold() == name.casefold():
            raise MappingError(
                f"mapping '{m.hubspot} ↔ {m.salesforce}' ({describe.name}): {name!r} is crmsync's "
                "external id field, which it writes itself; it cannot be mapped"
            )
