"""sObject and field definitions: what a default org carries (reference standard-fields.md)."""

from __future__ import annotations

import msgspec

STRING_TYPES = frozenset(
    {"string", "textarea", "email", "phone", "url", "picklist", "multipicklist", "combobox"}
)
NUMBER_TYPES = frozenset({"int", "double", "currency", "percent"})


class FieldDef(msgspec.Struct, kw_only=True):
    name: str
    type: str
    label: str = ""
    length: int = 0
    nillable: bool = True
    createable: bool = True
    updateable: bool = True
    defaulted: bool = False
    """``defaultedOnCreate``: the server fills it when a create leaves it out."""
    formula: str | None = None
    external_id: bool = False
    unique: bool = False
    picklist: tuple[str, ...] = ()
    restricted: bool = False
    reference_to: tuple[str, ...] = ()
    custom: bool = False
    auto_number: bool = False
    precision: int = 0
    scale: int = 0

    @property
    def calculated(self) -> bool:
        return self.formula is not None

    @property
    def required(self) -> bool:
        """Required on create: what describe expresses as not nillable, not defaulted, createable."""
        return not self.nillable and not self.defaulted and self.createable


class SObjectDef(msgspec.Struct, kw_only=True):
    name: str
    key_prefix: str
    label: str
    label_plural: str
    custom: bool = False
    fields: dict[str, FieldDef] = msgspec.field(default_factory=dict)
    """Canonical API name → definition, in describe order."""
    by_lower: dict[str, FieldDef] = msgspec.field(default_factory=dict)
    address_groups: tuple[tuple[str, str], ...] = ()
    """(state field, country field) pairs that state/country picklists turn into code picklists."""

    required_cache: list[str] | None = None
    plain_cache: dict[bool, dict[str, int]] = msgspec.field(default_factory=dict)

    def add(self, field: FieldDef) -> None:
        if not field.label:
            field.label = _label(field.name)
        self.fields[field.name] = field
        self.by_lower[field.name.lower()] = field
        self.required_cache = None
        self.plain_cache.clear()

    def remove(self, name: str) -> None:
        self.fields.pop(name, None)
        self.by_lower.pop(name.lower(), None)
        self.required_cache = None
        self.plain_cache.clear()

    def plain_text_fields(self, creating: bool) -> dict[str, int]:
        """Writable fields with a cheap check, for the fast path of write validation: API name →
        max length for text, the negated max length for email (format checked too), 0 for
        checkboxes."""
        cached = self.plain_cache.get(creating)
        if cached is None:
            cached = self.plain_cache[creating] = {}
            for f in self.fields.values():
                if not (f.createable if creating else f.updateable):
                    continue
                if f.type in ("string", "textarea", "phone", "url", "combobox") or (
                    f.type == "picklist" and not f.restricted
                ):
                    cached[f.name] = f.length
                elif f.type == "email":
                    cached[f.name] = -f.length
                elif f.type == "boolean":
                    cached[f.name] = 0
        return cached

    def required_names(self) -> list[str]:
        """Fields a create must set (not nillable, not defaulted, createable), including
        non-nillable ones the server defaults but a client may not send as null."""
        if self.required_cache is None:
            self.required_cache = [
                f.name
                for f in self.fields.values()
                if not f.nillable and f.createable and f.type != "boolean" and not f.defaulted
            ]
        return self.required_cache

    def get(self, name: str) -> FieldDef | None:
        return self.by_lower.get(name.lower())

    def external_id_fields(self) -> list[str]:
        return [f.name for f in self.fields.values() if f.external_id or f.unique]


def _label(name: str) -> str:
    base = name.removesuffix("__c").removesuffix("Id") or name
    out: list[str] = []
    for i, ch in enumerate(base):
        if ch.isupper() and i and not base[i - 1].isupper():
            out.append(" ")
        out.append("_" if ch == "_" else ch)
    return "".join(out).replace("_", " ").strip()


# --- field constructors, so the object table below reads like the reference --------------------------


def text(name: str, length: int = 255, *, required: bool = False, **kw: object) -> FieldDef:
    return FieldDef(name=name, type="string", length=length, nillable=not required, **kw)  # type: ignore[arg-type]


def typed(name: str, type_: str, *, required: bool = False, **kw: object) -> FieldDef:
    lengths = {"email": 80, "phone": 40, "url": 255, "textarea": 32_000}
    length = kw.pop("length", lengths.get(type_, 0))
    return FieldDef(name=name, type=type_, length=length, nillable=not required, **kw)  # type: ignore[arg-type]


def pick(
    name: str,
    values: tuple[str, ...],
    *,
    required: bool = False,
    default: bool = False,
    restricted: bool = False,
) -> FieldDef:
    return FieldDef(
        name=name,
        type="picklist",
        length=255,
        picklist=values,
        nillable=not required,
        defaulted=default,
        restricted=restricted,
    )


def ref(name: str, *targets: str, createable: bool = True, updateable: bool = True) -> FieldDef:
    return FieldDef(
        name=name,
        type="reference",
        length=18,
        reference_to=targets,
        createable=createable,
        updateable=updateable,
    )


def readonly(name: str, type_: str, length: int = 0, *, nillable: bool = True) -> FieldDef:
    return FieldDef(
        name=name,
        type=type_,
        length=length,
        createable=False,
        updateable=False,
        nillable=nillable,
        defaulted=True,
    )


def flag(name: str) -> FieldDef:
    # Checkboxes are never null; an omitted one defaults to false.
    return FieldDef(name=name, type="boolean", nillable=False, defaulted=True)


def _audit_user(name: str) -> FieldDef:
    """``CreatedById`` / ``LastModifiedById``: the user Salesforce stamps, never written by the API."""
    return FieldDef(
        name=name,
        type="reference",
        length=18,
        reference_to=("User",),
        nillable=False,
        createable=False,
        updateable=False,
        defaulted=True,
    )


def system_fields(has_owner: bool = True) -> list[FieldDef]:
    fields = [
        FieldDef(
            name="Id",
            type="id",
            length=18,
            nillable=False,
            createable=False,
            updateable=False,
            defaulted=True,
            label="Record ID",
        )
    ]
    if has_owner:
        owner = ref("OwnerId", "User")
        owner.nillable = False
        owner.defaulted = True
        fields.append(owner)
    fields += [
        readonly("IsDeleted", "boolean", nillable=False),
        readonly("CreatedDate", "datetime", nillable=False),
        _audit_user("CreatedById"),
        readonly("LastModifiedDate", "datetime", nillable=False),
        _audit_user("LastModifiedById"),
        readonly("SystemModstamp", "datetime", nillable=False),
    ]
    return fields


def hubspot_id() -> FieldDef:
    return FieldDef(
        name="HubSpot_Id__c",
        type="string",
        length=255,
        external_id=True,
        unique=True,
        custom=True,
        label="HubSpot Id",
    )


def new_sobject(
    name: str,
    prefix: str,
    fields: list[FieldDef],
    *,
    label: str | None = None,
    plural: str | None = None,
    has_owner: bool = True,
    custom: bool = False,
    address_groups: tuple[tuple[str, str], ...] = (),
) -> SObjectDef:
    label = label or _label(name)
    obj = SObjectDef(
        name=name,
        key_prefix=prefix,
        label=label,
        label_plural=plural or label + "s",
        custom=custom,
        address_groups=address_groups,
    )
    for f in system_fields(has_owner):
        obj.add(f)
    for f in fields:
        obj.add(f)
    return obj
