"""Request bodies of the HubSpot API, decoded with msgspec; a bad body is HubSpot's 400, never a 500."""

from __future__ import annotations

from typing import TypeVar

import msgspec

from mockcrm.hubspot.errors import bad_json, validation

T = TypeVar("T")

Value = str | int | float | bool | None
Id = str | int


class _In(msgspec.Struct, rename="camel", kw_only=True):
    """Wire names are camelCase; unknown keys are ignored as by the real API."""


class AssociationTypeIn(_In):
    association_category: str
    association_type_id: int


class ObjectRef(_In):
    id: Id


class CreateAssociation(_In):
    to: ObjectRef
    types: list[AssociationTypeIn]


class ObjectInput(_In):
    properties: dict[str, Value] = msgspec.field(default_factory=dict)
    associations: list[CreateAssociation] = msgspec.field(default_factory=list)
    object_write_trace_id: str | None = None


class UpdateInput(_In):
    properties: dict[str, Value]


class BatchIdInput(_In):
    id: Id


class BatchRead(_In):
    inputs: list[BatchIdInput]
    properties: list[str] = msgspec.field(default_factory=list)
    properties_with_history: list[str] = msgspec.field(default_factory=list)
    id_property: str | None = None


class BatchCreate(_In):
    inputs: list[ObjectInput]


class BatchUpdateInput(_In):
    id: Id
    properties: dict[str, Value]
    id_property: str | None = None
    object_write_trace_id: str | None = None


class BatchUpdate(_In):
    inputs: list[BatchUpdateInput]


class BatchArchive(_In):
    inputs: list[BatchIdInput]


class Filter(_In):
    property_name: str
    operator: str
    value: Value = None
    values: list[Value] = msgspec.field(default_factory=list)
    high_value: Value = None


class FilterGroup(_In):
    filters: list[Filter] = msgspec.field(default_factory=list)


class Sort(_In):
    property_name: str
    direction: str = "ASCENDING"


class SearchRequest(_In):
    filter_groups: list[FilterGroup] = msgspec.field(default_factory=list)
    sorts: list[Sort | str] = msgspec.field(default_factory=list)
    properties: list[str] = msgspec.field(default_factory=list)
    limit: int = 10
    after: Id | None = None
    query: str | None = None


class OptionIn(_In):
    label: str
    value: str
    description: str = ""
    display_order: int = 0
    hidden: bool = False


class PropertyCreate(_In):
    name: str
    label: str
    type: str
    field_type: str
    group_name: str
    description: str = ""
    options: list[OptionIn] = msgspec.field(default_factory=list)
    display_order: int = -1
    has_unique_value: bool = False
    hidden: bool = False
    form_field: bool = True


class PropertyUpdate(_In):
    label: str | None = None
    description: str | None = None
    group_name: str | None = None
    options: list[OptionIn] | None = None
    display_order: int | None = None
    hidden: bool | None = None


class Labels(_In):
    singular: str
    plural: str


class SchemaCreate(_In):
    name: str
    labels: Labels
    properties: list[PropertyCreate] = msgspec.field(default_factory=list)
    primary_display_property: str | None = None
    required_properties: list[str] = msgspec.field(default_factory=list)
    associated_objects: list[str] = msgspec.field(default_factory=list)


class PairInput(_In):
    from_: ObjectRef = msgspec.field(name="from")
    to: ObjectRef
    types: list[AssociationTypeIn] = msgspec.field(default_factory=list)


class PairBatch(_In):
    inputs: list[PairInput]


class FetchInput(_In):
    id: Id
    after: str | None = None


class FetchBatch(_In):
    inputs: list[FetchInput]


class MultiArchiveInput(_In):
    from_: ObjectRef = msgspec.field(name="from")
    to: list[ObjectRef]


class MultiArchiveBatch(_In):
    inputs: list[MultiArchiveInput]


_decoders: dict[object, msgspec.json.Decoder[object]] = {}


def decode(body: bytes, kind: type[T]) -> T:
    """Decode a request body, turning every decode problem into HubSpot's 400."""
    if not body.strip():
        raise validation("Invalid input JSON: request body is empty")
    decoder = _decoders.get(kind)
    if decoder is None:
        decoder = _decoders[kind] = msgspec.json.Decoder(kind)
    try:
        return decoder.decode(body)  # type: ignore[return-value]
    except msgspec.DecodeError as exc:
        raise bad_json(exc) from None


def ref_id(ref: Id) -> str:
    return str(ref).strip()
