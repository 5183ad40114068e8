"""The mock portal's state and its write rules: validation, uniqueness, timestamps, archiving.

Every API handler, the control plane and the workload generator change records only through
``Portal``, so they all obey the same rules and keep the indexes consistent.
"""

from __future__ import annotations

import random
from collections.abc import Mapping

from mockcrm.clock import MockClock
from mockcrm.hubspot.associations import AssociationStore
from mockcrm.hubspot.errors import HubSpotError, PropertyProblem, not_found, property_errors
from mockcrm.hubspot.owners import Owner, seed_owners
from mockcrm.hubspot.schema import ObjectTypeDef, PropertyDef, Schema
from mockcrm.hubspot.standard import fresh_schema
from mockcrm.hubspot.store import ObjectStore, Record
from mockcrm.hubspot.values import MAX_STRING, RawValue, normalize, parse_id

FIRST_ID = 10_001


class Portal:
    def __init__(self, clock: MockClock) -> None:
        self.clock = clock
        self.reset()

    def reset(self) -> None:
        """Back to a fresh portal: standard schema, seeded owners, no records."""
        self.schema: Schema = fresh_schema()
        self.stores: dict[str, ObjectStore] = {}
        for otype in self.schema.types.values():
            self._add_store(otype)
        self.owners: list[Owner] = seed_owners(self.clock.now_ms())
        self.owner_ids = frozenset(o.id for o in self.owners if not o.archived)
        self.associations = AssociationStore()
        self._next_id = FIRST_ID

    def _add_store(self, otype: ObjectTypeDef) -> None:
        unique = self.schema.unique_props(otype.name)
        if otype.name == "contacts":
            unique.append("email")  # unique by rule, though the property is not flagged as such
        self.stores[otype.name] = ObjectStore(otype, unique)

    def add_object_type(self, otype: ObjectTypeDef, props: list[PropertyDef]) -> None:
        self.schema.add_type(otype, props)
        self._add_store(otype)

    def add_property(self, otype: ObjectTypeDef, prop: PropertyDef) -> None:
        self.schema.props[otype.name][prop.name] = prop
        self.schema.changed(otype.name)
        if prop.has_unique_value:
            self.stores[otype.name].add_unique(prop.name)

    def add_owner(self, owner: Owner) -> None:
        self.owners.append(owner)
        self.owner_ids = frozenset(o.id for o in self.owners if not o.archived)

    def record_counts(self) -> dict[str, int]:
        return {name: store.live_count() for name, store in self.stores.items()}

    # --- lookups -----------------------------------------------------------------------------
    def find(self, otype: ObjectTypeDef, key: str, id_property: str | None = None) -> Record | None:
        """A live record by id, or by the value of a unique property."""
        store = self.stores[otype.name]
        if id_property and id_property not in ("hs_object_id", "id"):
            self.schema.require_unique(otype, id_property)
            if id_property == "email":
                key = key.strip().lower()
            return store.by_unique(id_property, key)
        rec_id = parse_id(key)
        return store.get_live(rec_id) if rec_id is not None else None

    def must_find(self, otype: ObjectTypeDef, key: str, id_property: str | None = None) -> Record:
        rec = self.find(otype, key, id_property)
        if rec is None:
            raise not_found(
                "resource not found"
                if parse_id(key) is not None
                else "Object not found.  objectId are usually numeric."
            )
        return rec

    # --- validation ---------------------------------------------------------------------------
    def clean(self, otype: ObjectTypeDef, raw: Mapping[str, RawValue]) -> dict[str, str]:
        """Validated, normalised values; raises one VALIDATION_ERROR listing every bad property."""
        defs = self.schema.props[otype.name]
        plain = self.schema.plain_names(otype.name)
        # Fast lane first: most values are free-text strings that are valid as sent.
        out = {k: v for k, v in raw.items() if k in plain and v.__class__ is str and len(v) <= MAX_STRING}
        problems: list[PropertyProblem] = []
        if len(out) != len(raw):
            owners = self.owner_ids
            for name, value in raw.items():
                if name in out:
                    continue
                prop = defs.get(name)
                if prop is None:
                    msg = f'Property "{name}" does not exist'
                    problems.append(PropertyProblem(name=name, error="PROPERTY_DOESNT_EXIST", message=msg))
                elif prop.read_only:
                    msg = f'"{name}" is a read only property; its value cannot be set.'
                    problems.append(PropertyProblem(name=name, error="READ_ONLY_VALUE", message=msg))
                else:
                    result = normalize(prop, value, owners)
                    if isinstance(result, PropertyProblem):
                        problems.append(result)
                    else:
                        out[name] = result
        if problems:
            raise property_errors(problems)
        if otype.name == "contacts" and "email" in out:
            email = out["email"].strip().lower()
            out["email"] = email
            out["hs_email_domain"] = email.rpartition("@")[2]
        return out

    def require(self, otype: ObjectTypeDef, values: Mapping[str, str]) -> None:
        """A new record must set its type's required properties (custom object schemas)."""
        missing = [name for name in otype.required_properties if not values.get(name)]
        if missing:
            raise property_errors(
                [
                    PropertyProblem(name=n, error="REQUIRED_PROPERTY", message=f'Property "{n}" is required')
                    for n in missing
                ]
            )

    def check_unique(self, otype: ObjectTypeDef, values: Mapping[str, str], rec_id: int | None) -> None:
        store = self.stores[otype.name]
        for prop in store.unique:
            value = values.get(prop)
            if not value:
                continue
            other = store.by_unique(prop, value)
            if other is not None and other.id != rec_id:
                if prop == "email":
                    raise HubSpotError(409, "CONFLICT", f"Contact already exists. Existing ID: {other.id}")
                raise HubSpotError(
                    409,
                    "CONFLICT",
                    f"A {otype.singular} with the unique value {value!r} for property {prop!r} already "
                    f"exists. Existing ID: {other.id}",
                )

    # --- writes -------------------------------------------------------------------------------
    def new_id(self) -> int:
        rec_id = self._next_id
        self._next_id += 1
        return rec_id

    def create(self, otype: ObjectTypeDef, values: dict[str, str], ms: int | None = None) -> Record:
        """Store already-cleaned values as a new record (the caller checked uniqueness)."""
        stamp = self.clock.now_ms() if ms is None else ms
        props = {k: v for k, v in values.items() if v} if "" in values.values() else values
        return self.stores[otype.name].insert(self.new_id(), props, stamp)

    def update(
        self, otype: ObjectTypeDef, rec: Record, values: dict[str, str], ms: int | None = None
    ) -> None:
        stamp = self.clock.now_ms() if ms is None else ms
        if otype.name == "contacts" and values.get("email") == "":
            values["hs_email_domain"] = ""
        self.stores[otype.name].update(rec, values, stamp)

    def archive(self, otype: ObjectTypeDef, rec: Record) -> None:
        self.stores[otype.name].archive(rec, self.clock.now_ms())
        self.associations.drop_record(otype.type_id, rec.id)

    def create_checked(self, otype: ObjectTypeDef, raw: Mapping[str, RawValue]) -> Record:
        values = self.clean(otype, raw)
        self.require(otype, values)
        self.check_unique(otype, values, None)
        return self.create(otype, values)

    def pick(self, otype: ObjectTypeDef, rng: random.Random) -> Record | None:
        return self.stores[otype.name].pick_live(rng)
