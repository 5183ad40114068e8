"""Object types and property definitions of the mock portal, and how requests name them.

A fresh portal gets the standard objects and properties of ``standard.py``; custom objects and
custom properties are added through the schemas and properties APIs and vanish on reset.
"""

from __future__ import annotations

import msgspec

from mockcrm.clock import hubspot_iso
from mockcrm.hubspot.errors import HubSpotError, validation


class OptionDef(msgspec.Struct, kw_only=True):
    label: str
    value: str
    description: str = ""
    displayOrder: int = 0
    hidden: bool = False


class PropertyDef(msgspec.Struct, kw_only=True):
    name: str
    label: str
    type: str
    """bool, date, datetime, enumeration, number, phone_number, string"""
    field_type: str
    group_name: str
    description: str = ""
    options: list[OptionDef] = msgspec.field(default_factory=list)
    display_order: int = -1
    has_unique_value: bool = False
    read_only: bool = False
    calculated: bool = False
    hubspot_defined: bool = True
    hidden: bool = False
    created_ms: int = 0
    updated_ms: int = 0
    option_values: frozenset[str] = frozenset()
    """The enumeration's allowed values, kept beside ``options`` for O(1) validation."""
    plain: bool = False
    """Any string up to the length limit is valid as is (the write path's fast lane)."""

    def __post_init__(self) -> None:
        self.option_values = frozenset(o.value for o in self.options)
        self.plain = self.type in ("string", "phone_number") and self.name != "email" and not self.read_only

    def set_options(self, options: list[OptionDef]) -> None:
        self.options = options
        self.option_values = frozenset(o.value for o in options)

    def to_json(self) -> dict[str, object]:
        body: dict[str, object] = {
            "name": self.name,
            "label": self.label,
            "type": self.type,
            "fieldType": self.field_type,
            "description": self.description,
            "groupName": self.group_name,
            "options": [msgspec.to_builtins(o) for o in self.options],
            "displayOrder": self.display_order,
            "calculated": self.calculated,
            "externalOptions": False,
            "hasUniqueValue": self.has_unique_value,
            "hidden": self.hidden,
            "hubspotDefined": self.hubspot_defined,
            "modificationMetadata": {
                "archivable": not self.hubspot_defined,
                "readOnlyDefinition": self.hubspot_defined,
                "readOnlyValue": self.read_only,
            },
            "formField": not self.read_only,
            "archived": False,
        }
        if self.created_ms:
            body["createdAt"] = hubspot_iso(self.created_ms)
            body["updatedAt"] = hubspot_iso(self.updated_ms or self.created_ms)
        return body


class ObjectTypeDef(msgspec.Struct, kw_only=True, frozen=True):
    name: str
    """Canonical plural name used in paths and stats, e.g. ``contacts`` (custom: the schema name)."""
    singular: str
    type_id: str
    modified_prop: str
    created_prop: str
    default_props: tuple[str, ...]
    label_singular: str
    label_plural: str
    custom: bool = False
    fully_qualified_name: str = ""
    primary_display_property: str = ""
    required_properties: tuple[str, ...] = ()

    @property
    def upper(self) -> str:
        """How HubSpot names the type in some messages (``CONTACT``)."""
        return self.singular.upper()


class Schema:
    """Object types and their properties; resolves the many spellings of an object type."""

    def __init__(self) -> None:
        self.types: dict[str, ObjectTypeDef] = {}
        self.props: dict[str, dict[str, PropertyDef]] = {}
        self._aliases: dict[str, str] = {}
        self._next_custom = 1
        self._plain: dict[str, frozenset[str]] = {}

    def plain_names(self, type_name: str) -> frozenset[str]:
        """Properties of the type whose every string value is valid as is (cached)."""
        names = self._plain.get(type_name)
        if names is None:
            names = self._plain[type_name] = frozenset(
                p.name for p in self.props[type_name].values() if p.plain
            )
        return names

    def changed(self, type_name: str) -> None:
        """Call after adding or removing a property of the type."""
        self._plain.pop(type_name, None)

    def add_type(self, otype: ObjectTypeDef, props: list[PropertyDef]) -> None:
        self.types[otype.name] = otype
        self.props[otype.name] = {p.name: p for p in props}
        self.changed(otype.name)
        names = [otype.name, otype.singular, otype.type_id]
        if otype.fully_qualified_name:
            names.append(otype.fully_qualified_name)
        for alias in names:
            self._aliases[alias.lower()] = otype.name

    def next_custom_type_id(self) -> str:
        type_id = f"2-{1_000_000 + self._next_custom}"
        self._next_custom += 1
        return type_id

    def find(self, name: str) -> ObjectTypeDef | None:
        canonical = self._aliases.get(name.lower())
        return self.types[canonical] if canonical is not None else None

    def resolve(self, name: str) -> ObjectTypeDef:
        otype = self.find(name)
        if otype is None:
            raise validation(f"Unable to infer object type from: {name}")
        return otype

    def prop(self, type_name: str, prop_name: str) -> PropertyDef | None:
        return self.props[type_name].get(prop_name)

    def unique_props(self, type_name: str) -> list[str]:
        return [p.name for p in self.props[type_name].values() if p.has_unique_value]

    def require_unique(self, otype: ObjectTypeDef, id_property: str) -> None:
        """``idProperty`` must name a unique-value property (or ``email`` on contacts)."""
        if id_property in ("hs_object_id", "id"):
            return
        if otype.name == "contacts" and id_property == "email":
            return
        prop = self.props[otype.name].get(id_property)
        if prop is None:
            raise validation(f'Property "{id_property}" does not exist')
        if not prop.has_unique_value:
            raise HubSpotError(
                400,
                "VALIDATION_ERROR",
                f"{id_property} is not a unique property and cannot be used as an idProperty",
            )
