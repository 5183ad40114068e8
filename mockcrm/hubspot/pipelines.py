"""Pipelines API (read-only): ``GET /crm/v3/pipelines/{deals|tickets}[/{pipelineId}]``.

A new portal's default deal and ticket pipelines. Their stage ids are exactly the options of the
``dealstage`` and ``hs_pipeline_stage`` properties, which is what the engine's pipeline/stage
mapping tables are checked against.
"""

from __future__ import annotations

from aiohttp import web

from mockcrm.hubspot.context import mock_of
from mockcrm.hubspot.errors import json_response, not_found, validation
from mockcrm.hubspot.values import iso_of

# (pipeline id, label, [(stage id, label, metadata)]) per object type.
_PIPELINES: dict[str, tuple[str, str, list[tuple[str, str, dict[str, str]]]]] = {
    "deals": ("default", "Sales Pipeline", [
        ("appointmentscheduled", "Appointment Scheduled", {"isClosed": "false", "probability": "0.2"}),
        ("qualifiedtobuy", "Qualified To Buy", {"isClosed": "false", "probability": "0.4"}),
        ("presentationscheduled", "Presentation Scheduled", {"isClosed": "false", "probability": "0.6"}),
        ("decisionmakerboughtin", "Decision Maker Bought-In", {"isClosed": "false", "probability": "0.8"}),
        ("contractsent", "Contract Sent", {"isClosed": "false", "probability": "0.9"}),
        ("closedwon", "Closed Won", {"isClosed": "true", "probability": "1.0"}),
        ("closedlost", "Closed Lost", {"isClosed": "true", "probability": "0.0"}),
    ]),
    "tickets": ("0", "Support Pipeline", [
        ("1", "New", {"ticketState": "OPEN", "isClosed": "false"}),
        ("2", "Waiting on contact", {"ticketState": "OPEN", "isClosed": "false"}),
        ("3", "Waiting on us", {"ticketState": "OPEN", "isClosed": "false"}),
        ("4", "Closed", {"ticketState": "CLOSED", "isClosed": "true"}),
    ]),
}  # fmt: skip


def _pipeline_json(type_name: str) -> dict[str, object]:
    pipeline_id, label, stages = _PIPELINES[type_name]
    stamp = iso_of(0)
    return {
        "id": pipeline_id,
        "label": label,
        "displayOrder": 0,
        "stages": [
            {"id": sid, "label": slabel, "displayOrder": i, "metadata": meta, "createdAt": stamp,
             "updatedAt": stamp, "archived": False, "writePermissions": "CRM_PERMISSIONS_ENFORCEMENT"}
            for i, (sid, slabel, meta) in enumerate(stages)
        ],
        "createdAt": stamp,
        "updatedAt": stamp,
        "archived": False,
    }  # fmt: skip


def _type_name(request: web.Request) -> str:
    otype = mock_of(request).portal.schema.resolve(request.match_info["objectType"])
    if otype.name not in _PIPELINES:
        raise validation(f"{otype.name} do not have pipelines")
    return otype.name


async def list_pipelines(request: web.Request) -> web.Response:
    return json_response({"results": [_pipeline_json(_type_name(request))]})


async def get_pipeline(request: web.Request) -> web.Response:
    type_name = _type_name(request)
    if request.match_info["pipelineId"] != _PIPELINES[type_name][0]:
        raise not_found(f"Unable to find pipeline {request.match_info['pipelineId']}")
    return json_response(_pipeline_json(type_name))


def add_routes(app: web.Application) -> None:
    app.router.add_get("/crm/v3/pipelines/{objectType}", list_pipelines)
    app.router.add_get("/crm/v3/pipelines/{objectType}/{pipelineId}", get_pipeline)
