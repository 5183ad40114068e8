"""Properties API (``/crm/v3/properties/{objectType}``) and custom object schemas (``/crm/v3/schemas``)."""

from __future__ import annotations

import re

from aiohttp import web

from mockcrm.hubspot.bodies import OptionIn, PropertyCreate, PropertyUpdate, SchemaCreate, decode
from mockcrm.hubspot.context import HubSpotMock, mock_of
from mockcrm.hubspot.errors import HubSpotError, json_response, not_found, validation
from mockcrm.hubspot.schema import ObjectTypeDef, OptionDef, PropertyDef
from mockcrm.hubspot.standard import OWNER_PROPERTY
from mockcrm.hubspot.values import iso_of

TYPES = frozenset({"bool", "date", "datetime", "enumeration", "number", "phone_number", "string"})
FIELD_TYPES = frozenset({
    "booleancheckbox", "calculation_equation", "checkbox", "date", "file", "html", "number", "phonenumber",
    "radio", "select", "text", "textarea",
})  # fmt: skip
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def _options(items: list[OptionIn]) -> list[OptionDef]:
    return [
        OptionDef(
            label=o.label,
            value=o.value,
            description=o.description,
            displayOrder=o.display_order,
            hidden=o.hidden,
        )
        for o in items
    ]


def new_property(mock: HubSpotMock, body: PropertyCreate, existing: dict[str, PropertyDef]) -> PropertyDef:
    if not _NAME.match(body.name):
        raise validation(f"Property name {body.name!r} must be lowercase letters, digits and underscores")
    if body.name in existing:
        raise HubSpotError(409, "OBJECT_ALREADY_EXISTS", f"A property named '{body.name}' already exists.")
    if body.type not in TYPES:
        raise validation(f"Invalid property type {body.type!r}; one of {sorted(TYPES)}")
    if body.field_type not in FIELD_TYPES:
        raise validation(f"Invalid fieldType {body.field_type!r}; one of {sorted(FIELD_TYPES)}")
    if body.type == "enumeration" and not body.options:
        raise validation("Enumeration properties need at least one option")
    ms = mock.clock.now_ms()
    return PropertyDef(
        name=body.name,
        label=body.label,
        type=body.type,
        field_type=body.field_type,
        group_name=body.group_name,
        description=body.description,
        options=_options(body.options),
        display_order=body.display_order,
        has_unique_value=body.has_unique_value,
        hidden=body.hidden,
        hubspot_defined=False,
        created_ms=ms,
        updated_ms=ms,
    )


def _otype(request: web.Request) -> ObjectTypeDef:
    return mock_of(request).portal.schema.resolve(request.match_info["objectType"])


def _prop(request: web.Request) -> PropertyDef:
    mock = mock_of(request)
    name = request.match_info["propertyName"]
    prop = mock.portal.schema.prop(_otype(request).name, name)
    if prop is None:
        raise not_found(f"Unable to find property {name}")
    return prop


def _prop_json(mock: HubSpotMock, prop: PropertyDef) -> dict[str, object]:
    body = prop.to_json()
    if prop.name == OWNER_PROPERTY:  # its options are the portal's active owners
        owners = [o for o in mock.portal.owners if not o.archived]
        body["options"] = [
            {"label": f"{o.first_name} {o.last_name}".strip() or o.email, "value": o.id, "description": "",
             "displayOrder": i, "hidden": False}
            for i, o in enumerate(owners)
        ]  # fmt: skip
    return body


async def list_properties(request: web.Request) -> web.Response:
    mock = mock_of(request)
    props = mock.portal.schema.props[_otype(request).name].values()
    return json_response({"results": [_prop_json(mock, p) for p in props]})


async def get_property(request: web.Request) -> web.Response:
    return json_response(_prop_json(mock_of(request), _prop(request)))


async def create_property(request: web.Request) -> web.Response:
    mock = mock_of(request)
    otype = _otype(request)
    body = decode(await request.read(), PropertyCreate)
    prop = new_property(mock, body, mock.portal.schema.props[otype.name])
    mock.portal.add_property(otype, prop)
    return json_response(prop.to_json(), status=201)


async def update_property(request: web.Request) -> web.Response:
    mock = mock_of(request)
    prop = _prop(request)
    body = decode(await request.read(), PropertyUpdate)
    if prop.hubspot_defined and (body.options is not None or body.group_name is not None):
        raise validation(f"The definition of HubSpot-defined property {prop.name} is read-only")
    if body.label is not None:
        prop.label = body.label
    if body.description is not None:
        prop.description = body.description
    if body.group_name is not None:
        prop.group_name = body.group_name
    if body.options is not None:
        prop.set_options(_options(body.options))
    if body.display_order is not None:
        prop.display_order = body.display_order
    if body.hidden is not None:
        prop.hidden = body.hidden
    prop.updated_ms = mock.clock.now_ms()
    return json_response(prop.to_json())


async def delete_property(request: web.Request) -> web.Response:
    mock = mock_of(request)
    prop = _prop(request)
    if prop.hubspot_defined:
        raise validation(f"HubSpot-defined property {prop.name} cannot be archived")
    type_name = _otype(request).name
    del mock.portal.schema.props[type_name][prop.name]
    mock.portal.schema.changed(type_name)
    return web.Response(status=204)


def _schema_json(mock: HubSpotMock, otype: ObjectTypeDef) -> dict[str, object]:
    props = mock.portal.schema.props[otype.name]
    return {
        "id": otype.type_id.split("-", 1)[1],
        "objectTypeId": otype.type_id,
        "name": otype.name,
        "fullyQualifiedName": otype.fully_qualified_name,
        "labels": {"singular": otype.label_singular, "plural": otype.label_plural},
        "primaryDisplayProperty": otype.primary_display_property,
        "requiredProperties": list(otype.required_properties),
        "searchableProperties": [],
        "secondaryDisplayProperties": [],
        "properties": [p.to_json() for p in props.values()],
        "associations": [],
        "archived": False,
        "createdAt": iso_of(0),
        "updatedAt": iso_of(0),
    }


async def list_schemas(request: web.Request) -> web.Response:
    mock = mock_of(request)
    custom = [t for t in mock.portal.schema.types.values() if t.custom]
    return json_response({"results": [_schema_json(mock, t) for t in custom]})


async def get_schema(request: web.Request) -> web.Response:
    mock = mock_of(request)
    otype = mock.portal.schema.resolve(request.match_info["objectType"])
    return json_response(_schema_json(mock, otype))


async def create_schema(request: web.Request) -> web.Response:
    mock = mock_of(request)
    body = decode(await request.read(), SchemaCreate)
    name = body.name.strip().lower()
    if not _NAME.match(name):
        raise validation(f"Object name {body.name!r} must be lowercase letters, digits and underscores")
    if mock.portal.schema.find(name) is not None:
        raise HubSpotError(409, "OBJECT_ALREADY_EXISTS", f"An object type named '{name}' already exists.")
    props: dict[str, PropertyDef] = {}
    for item in body.properties:
        props[item.name] = new_property(mock, item, props)
    primary = body.primary_display_property or next(iter(props), "")
    type_id = mock.portal.schema.next_custom_type_id()
    otype = ObjectTypeDef(
        name=name,
        singular=name,
        type_id=type_id,
        modified_prop="hs_lastmodifieddate",
        created_prop="hs_createdate",
        default_props=(
            "hs_createdate",
            "hs_lastmodifieddate",
            "hs_object_id",
            *([primary] if primary else []),
        ),
        label_singular=body.labels.singular,
        label_plural=body.labels.plural,
        custom=True,
        fully_qualified_name=f"p{62515}_{name}",
        primary_display_property=primary,
        required_properties=tuple(body.required_properties),
    )
    system = [
        PropertyDef(name=n, label=n, type=t, field_type=ft, group_name=name, read_only=True)
        for n, t, ft in (
            ("hs_createdate", "datetime", "date"),
            ("hs_lastmodifieddate", "datetime", "date"),
            ("hs_object_id", "number", "number"),
        )
    ]
    mock.portal.add_object_type(otype, [*props.values(), *system])
    return json_response(_schema_json(mock, otype), status=201)


def add_routes(app: web.Application) -> None:
    base = "/crm/v3/properties/{objectType}"
    app.router.add_get(base, list_properties)
    app.router.add_post(base, create_property)
    app.router.add_get(base + "/{propertyName}", get_property)
    app.router.add_patch(base + "/{propertyName}", update_property)
    app.router.add_delete(base + "/{propertyName}", delete_property)
    app.router.add_get("/crm/v3/schemas", list_schemas)
    app.router.add_post("/crm/v3/schemas", create_schema)
    app.router.add_get("/crm/v3/schemas/{objectType}", get_schema)
