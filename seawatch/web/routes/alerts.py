"""Alerts: the list (live ones from the alert book, closed ones from the store), one alert with its
audit log, and the SURPIC of an alert (the vessels that could reach it soonest)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Response

from seawatch.core.alerts import AlertEvent, Status
from seawatch.core.serialize import alert_event_to_dict, iso_utc
from seawatch.core.surpic import surpic
from seawatch.web.access import Reader
from seawatch.web.schemas import AlertList, AlertWithHistory, Surpic, json_answer

router = APIRouter()


def _sort_key(ev: AlertEvent) -> tuple[int, float]:
    return (ev.severity.rank, -ev.observed_at.timestamp())


@router.get(
    "/api/alerts",
    summary="Alerts, most severe and newest first",
    responses={200: {"model": AlertList}},
)
async def alerts(
    live: Reader,
    status: Literal["active", "open", "acknowledged", "resolved", "retracted", "all"] = "active",
    kind: str | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 500,
) -> Response:
    found: dict[str, AlertEvent] = {}
    if status in ("active", "open", "acknowledged", "all"):
        for a in live.book:
            found[a.id] = a.last
    if status in ("resolved", "retracted", "all"):
        stored = await asyncio.to_thread(live.read.stored_alerts, kind, None if status == "all" else status, limit)
        for ev in stored:
            found.setdefault(ev.id, ev)
    selected = [
        ev
        for ev in found.values()
        if (kind is None or ev.kind.value == kind)
        and (
            status == "all"
            or (status == "active" and ev.status in (Status.OPEN, Status.ACKNOWLEDGED))
            or ev.status.value == status
        )
    ]
    selected.sort(key=_sort_key)
    return json_answer({"alerts": [alert_event_to_dict(ev) for ev in selected[:limit]]})


@router.get(
    "/api/alerts/{alert_id}",
    summary="One alert with its audit log",
    responses={200: {"model": AlertWithHistory}},
)
async def alert(live: Reader, alert_id: str) -> Response:
    history = await asyncio.to_thread(live.read.history, alert_id)
    current = live.book.get(alert_id)
    latest = current.last if current is not None else (history[-1] if history else None)
    if latest is None:
        raise HTTPException(404, f"no alert {alert_id!r}")
    return json_answer({"alert": alert_event_to_dict(latest), "history": [alert_event_to_dict(e) for e in history]})


@router.get(
    "/api/alerts/{alert_id}/surpic",
    summary="Vessels ranked by time to reach the alert's position",
    responses={200: {"model": Surpic}},
)
async def alert_surpic(live: Reader, alert_id: str, limit: Annotated[int, Query(ge=1, le=100)] = 10) -> Response:
    current = live.book.get(alert_id)
    event = current.last if current is not None else None
    if event is None:
        history = await asyncio.to_thread(live.read.history, alert_id)
        event = history[-1] if history else None
    if event is None:
        raise HTTPException(404, f"no alert {alert_id!r}")
    if event.lat is None or event.lon is None:
        raise HTTPException(409, "this alert has no position")
    now = live.read.now or datetime.now(UTC)
    exclude = [m for m in (event.mmsi, event.other.mmsi if event.other else None) if m is not None]
    ranked = surpic(
        live.read.fleet,
        event.lat,
        event.lon,
        now,
        max_range_nm=live.options.surpic_max_range_nm,
        exclude=exclude,
        limit=limit,
    )
    return json_answer(
        {
            "position": {"lat": event.lat, "lon": event.lon},
            "vessels": [
                {
                    "mmsi": e.mmsi,
                    "name": e.name,
                    "ship_type": e.ship_type,
                    "lat": e.lat,
                    "lon": e.lon,
                    "distance_nm": e.distance_nm,
                    "sog_kn": e.sog_kn,
                    "cog_deg": e.cog_deg,
                    "course_to_deg": e.course_to_deg,
                    "course_change_deg": e.course_change_deg,
                    "time_to_reach_s": e.time_to_reach_s,
                    "last_seen": iso_utc(e.last_seen),
                }
                for e in ranked
            ],
        }
    )
