"""Records as HubSpot returns them: string ``properties``, ``id``, ``createdAt``/``updatedAt``.

The system properties (``createdate``, ``lastmodifieddate``/``hs_lastmodifieddate``,
``hs_object_id``) are derived from the record's own fields at render time, so they can never
disagree with ``createdAt``/``updatedAt``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from mockcrm.hubspot.schema import ObjectTypeDef
from mockcrm.hubspot.store import Record
from mockcrm.hubspot.values import iso_of

_CREATED = frozenset({"createdate", "hs_createdate"})


def value_of(otype: ObjectTypeDef, rec: Record, name: str) -> str | None:
    if name == otype.modified_prop:
        return iso_of(rec.updated_ms)
    if name in _CREATED:
        return iso_of(rec.created_ms)
    if name == "hs_object_id":
        return str(rec.id)
    return rec.props.get(name)


def _system(otype: ObjectTypeDef, rec: Record, props: dict[str, str | None]) -> None:
    props[otype.created_prop] = iso_of(rec.created_ms)
    props[otype.modified_prop] = iso_of(rec.updated_ms)
    props["hs_object_id"] = str(rec.id)


def record_json(
    otype: ObjectTypeDef,
    rec: Record,
    requested: Iterable[str] | None = None,
    *,
    everything: bool = False,
    known: frozenset[str] | Mapping[str, object] | None = None,
) -> dict[str, object]:
    """``requested`` None means the type's default properties; ``everything`` returns all stored
    values (write responses and the dump). Unknown requested names are ignored, as on reads."""
    props: dict[str, str | None]
    if everything:
        props = dict(rec.props)
        _system(otype, rec, props)
    elif requested is None:
        props = {name: value_of(otype, rec, name) for name in otype.default_props}
    else:
        props = {}
        for name in requested:
            if known is None or name in known:
                props[name] = value_of(otype, rec, name)
        _system(otype, rec, props)
    body: dict[str, object] = {
        "id": str(rec.id),
        "properties": props,
        "createdAt": iso_of(rec.created_ms),
        "updatedAt": iso_of(rec.updated_ms),
        "archived": rec.archived,
    }
    if rec.archived:
        body["archivedAt"] = iso_of(rec.archived_ms)
    return body


def written_json(otype: ObjectTypeDef, rec: Record, written: Mapping[str, str]) -> dict[str, object]:
    """An update's answer: the written properties (a cleared one as ``""``) and the computed ones."""
    body = record_json(otype, rec, written)
    props = body["properties"]
    assert isinstance(props, dict)
    for name, value in written.items():
        if value == "":
            props[name] = ""
    return body
