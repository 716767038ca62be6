"""Operator actions: acknowledge, assign, resolve, retract, and reports that become alerts.

Each builds a command and sends it through the command port into the core; the answer is the
alert event it made, once stored, so the alert's audit log already holds it. Every route needs an
operator's token (:data:`seawatch.web.access.Operator`); the operator's name is the event's ``by``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response

from seawatch.core.commands import Acknowledge, Assign, Command, FileReport, Resolve, Retract
from seawatch.core.serialize import alert_event_to_dict
from seawatch.web.access import Operator, WebContext, live_state
from seawatch.web.schemas import AlertEventOut, AssignBody, NoteBody, ReportBody, RetractBody, json_answer

router = APIRouter()


async def _act(live: WebContext, command: Command, action: str, status_code: int = 200) -> Response:
    event = await live.commands.execute(command)
    if event is None:
        alert_id = getattr(command, "alert_id", "")
        if live.book.get(alert_id) is None:
            raise HTTPException(404, f"no open alert {alert_id!r}")
        raise HTTPException(409, f"cannot {action} alert {alert_id!r} in its present state")
    return json_answer(alert_event_to_dict(event), status_code)


_EVENT: dict[int | str, dict[str, Any]] = {
    200: {"model": AlertEventOut, "description": "The alert event the action made."},
}


@router.post(
    "/api/alerts/{alert_id}/acknowledge",
    summary="Acknowledge an alert (stops distress escalation)",
    responses=_EVENT,
)
async def acknowledge(request: Request, alert_id: str, who: Operator, body: NoteBody | None = None) -> Response:
    note = body.note if body else None
    return await _act(live_state(request), Acknowledge(alert_id, datetime.now(UTC), who, note), "acknowledge")


@router.post("/api/alerts/{alert_id}/assign", summary="Assign an alert to a unit or person", responses=_EVENT)
async def assign(request: Request, alert_id: str, who: Operator, body: AssignBody) -> Response:
    return await _act(live_state(request), Assign(alert_id, datetime.now(UTC), who, body.to, body.note), "assign")


@router.post(
    "/api/alerts/{alert_id}/resolve",
    summary="Resolve an alert, with a note for the audit log",
    responses=_EVENT,
)
async def resolve(request: Request, alert_id: str, who: Operator, body: NoteBody | None = None) -> Response:
    note = body.note if body else None
    return await _act(live_state(request), Resolve(alert_id, datetime.now(UTC), who, note), "resolve")


@router.post(
    "/api/alerts/{alert_id}/retract",
    summary="Retract a false alarm, with the reason (partners are told it was withdrawn)",
    responses=_EVENT,
)
async def retract(request: Request, alert_id: str, who: Operator, body: RetractBody) -> Response:
    note = body.note.strip()
    if not note:
        raise HTTPException(422, "a retraction needs a reason")
    return await _act(live_state(request), Retract(alert_id, datetime.now(UTC), who, note), "retract")


@router.post(
    "/api/reports",
    status_code=201,
    summary="Post a sighting or a distress call: it becomes an alert",
    responses={201: {"model": AlertEventOut, "description": "The report's alert, opened."}},
)
async def report(request: Request, who: Operator, body: ReportBody) -> Response:
    command = FileReport(
        report_id=f"r-{uuid.uuid4().hex[:12]}",
        at=datetime.now(UTC),
        by=who,
        lat=body.lat,
        lon=body.lon,
        report_kind=body.kind,
        persons_on_board=body.persons_on_board,
        condition=body.condition,
        text=body.text,
    )
    return await _act(live_state(request), command, "report", status_code=201)
