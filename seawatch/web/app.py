"""The HTTP side: API, live map, operator actions, health and metrics.

:func:`create_app` builds a FastAPI app over a read model and a command port
(:mod:`seawatch.web.ports`): the map and the API read the very state the alerts come
from, and operator actions go through the one command path into the core. The web
starts nothing itself and imports nothing of the runtime: the runtime
(``seawatch.runtime``) builds the app and serves it among its supervised tasks, or
gives it a lifespan that runs the service (tests). Nothing is started at import time.

Reading can be open or need a bearer token (``api_read_token``); every write
(acknowledge, assign, resolve, retract, report) needs an operator's token
(``operator_tokens``, name -> token), and the operator's name is what the alert's
audit log records. Tokens are compared in constant time and never logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import itertools
import json
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from seawatch.core.alertbook import AlertBook
from seawatch.core.alerts import AlertEvent, Severity, Status
from seawatch.core.commands import Acknowledge, Assign, Command, FileReport, Resolve, Retract
from seawatch.core.fleet import Vessel
from seawatch.core.mmsi import is_beacon
from seawatch.core.serialize import alert_event_to_dict, iso_utc
from seawatch.core.surpic import surpic
from seawatch.web.guard import RequestGuard, bearer_token, page_csp, store_unavailable, validation_error
from seawatch.web.ports import Commands, ReadModel, StoreUnavailableError, WebOptions
from seawatch.web.received import ReceivedTimes, received_router
from seawatch.web.search import search_router

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
_MAX_VESSELS = 5000  # features in one /api/vessels answer unless ?limit= says otherwise


# ---------------------------------------------------------------------------- live state
class Hub:
    """Server-sent events to every open page: alert events as they happen, vessel changes once a second.

    The SSE channel of the alert-sink port: ``submit`` puts each event on every open
    page's own queue (never blocking; a stalled page loses events and re-syncs on
    reconnect), and ``run`` announces vessel changes, as one of the runtime's tasks.
    """

    def __init__(self, changes: Callable[[], int] | None = None, name: str = "sse") -> None:
        self.received = ReceivedTimes()  # wall-clock receive times of alert events, for the map's ages
        self._clients: set[asyncio.Queue[tuple[str, str]]] = set()
        self._changes = changes  # a counter that moves when vessels change (reports folded in)
        self.dropped = 0
        self.name = name

    def publish(self, event: str, data: str) -> None:
        for queue in self._clients:
            if queue.qsize() >= 1000:  # a stalled page must not hold memory: it re-syncs on reconnect
                self.dropped += 1
                continue
            queue.put_nowait((event, data))

    def submit(self, events: Sequence[AlertEvent], durable: Callable[[], None] | None = None) -> None:
        for event in events:
            self.received(event)
            self.publish("alert", json.dumps(alert_event_to_dict(event), separators=(",", ":")))
        if durable is not None:
            durable()

    async def run(self) -> None:
        last = -1
        while True:
            await asyncio.sleep(1.0)
            changed = self._changes() if self._changes is not None else 0
            if changed != last:
                last = changed
                self.publish("vessels", json.dumps({"changed": changed, "at": iso_utc(datetime.now(UTC))}))

    @contextlib.contextmanager
    def client(self) -> Any:
        queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        self._clients.add(queue)
        try:
            yield queue
        finally:
            self._clients.discard(queue)

    @property
    def clients(self) -> int:
        return len(self._clients)


@dataclass
class Live:
    """What every route reaches: the read model, the command port, the page stream and the options."""

    read: ReadModel
    commands: Commands
    hub: Hub
    options: WebOptions

    @property
    def book(self) -> AlertBook:
        return self.read.book


# ---------------------------------------------------------------------------------- auth
def _operator_of(options: WebOptions, token: str | None) -> str | None:
    if token is None:
        return None
    found = None
    for name, secret in options.operator_tokens.items():
        if hmac.compare_digest(secret.encode(), token.encode()):
            found = name
    return found


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status_code=401, detail=detail, headers={"WWW-Authenticate": "Bearer"})


def live_state(request: Request) -> Live:
    live: Live = request.app.state.live
    return live


async def reader(request: Request) -> Live:
    live = live_state(request)
    required = live.options.api_read_token
    if required is None:
        return live
    token = bearer_token(request.headers)
    ok = token is not None and hmac.compare_digest(required.encode(), token.encode())
    if not ok and _operator_of(live.options, token) is None:
        raise _unauthorized("a read token (or an operator token) is required")
    return live


async def operator(request: Request) -> str:
    name = _operator_of(live_state(request).options, bearer_token(request.headers))
    if name is None:
        raise _unauthorized("an operator token is required for this action")
    return name


Reader = Annotated[Live, Depends(reader)]
Operator = Annotated[str, Depends(operator)]


# ------------------------------------------------------------------------------ shapes
class AssignBody(BaseModel):
    to: str = Field(min_length=1, max_length=200, description="Who takes the alert: a unit, a person.")
    note: str | None = Field(None, max_length=2000)


class NoteBody(BaseModel):
    note: str | None = Field(None, max_length=2000)


class RetractBody(BaseModel):
    note: str = Field(min_length=1, max_length=2000, description="Why the alert was a false alarm (audit log).")


class ReportBody(BaseModel):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    kind: Literal["sighting", "distress_call"] = "sighting"
    persons_on_board: int | None = Field(None, ge=0, le=100_000)
    condition: str | None = Field(None, max_length=500, description="e.g. 'adrift, no engine, water on board'")
    text: str | None = Field(None, max_length=4000, description="What was seen or said.")


def _risk_by_mmsi(book: AlertBook) -> tuple[dict[int, Severity], dict[int, int]]:
    worst: dict[int, Severity] = {}
    count: dict[int, int] = {}
    for alert in book:
        for m in alert.key[1]:
            if isinstance(m, int):
                count[m] = count.get(m, 0) + 1
                current = worst.get(m)
                severity = alert.last.severity
                if current is None or severity.rank < current.rank:
                    worst[m] = severity
    return worst, count


def vessel_properties(vessel: Vessel, risk: Severity | None = None, alerts: int = 0) -> dict[str, Any]:
    p = vessel.last_position
    return {
        "mmsi": vessel.mmsi,
        "mmsi_valid": vessel.mmsi_valid,
        "name": vessel.name,
        "callsign": vessel.callsign,
        "imo": vessel.imo,
        "ship_type": vessel.ship_type,
        "length_m": vessel.length_m,
        "class": vessel.ais_class,
        "sog_kn": None if p is None else p.sog_kn,
        "cog_deg": None if p is None else p.cog_deg,
        "heading_deg": None if p is None else p.heading_deg,
        "nav_status": None if p is None else p.nav_status,
        "last_seen": iso_utc(vessel.last_seen),
        "beacon": is_beacon(vessel.mmsi),
        "risk": None if risk is None else risk.value,
        "alerts": alerts,
    }


def _parse_bbox(bbox: str | None) -> tuple[float, float, float, float] | None:
    if not bbox:
        return None
    try:
        west, south, east, north = (float(v) for v in bbox.split(","))
    except ValueError:
        raise HTTPException(422, "bbox must be west,south,east,north in degrees") from None
    if not (-90 <= south <= north <= 90) or not (-180 <= west <= 180 and -180 <= east <= 180):
        raise HTTPException(422, "bbox out of range (west,south,east,north; lat -90..90, lon -180..180)")
    return west, south, east, north


def _in_bbox(lat: float, lon: float, box: tuple[float, float, float, float]) -> bool:
    west, south, east, north = box
    if not south <= lat <= north:
        return False
    if west <= east:
        return west <= lon <= east
    return lon >= west or lon <= east  # a box across the antimeridian


def _sort_key(ev: AlertEvent) -> tuple[int, float]:
    return (ev.severity.rank, -ev.observed_at.timestamp())


# --------------------------------------------------------------------------------- app
def create_app(
    read: ReadModel,
    commands: Commands,
    hub: Hub,
    options: WebOptions,
    *,
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]] | None = None,
) -> FastAPI:
    """The app over a read model and a command port; ``lifespan``, if given, runs around it (the runtime's)."""
    app = FastAPI(
        title="Seawatch",
        description="Maritime search-and-rescue monitoring: vessels, alerts, operator actions, SURPIC.",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # served by _routes from local assets: the CDN ones are blank offline
        redoc_url=None,
    )
    app.state.live = Live(read, commands, hub, options)
    # Writes: the token, then the body's size, checked before FastAPI reads the body.
    app.add_middleware(RequestGuard, authorized=lambda token: _operator_of(options, token) is not None)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StoreUnavailableError, store_unavailable)
    _mount_static(app)
    _routes(app, options)
    app.include_router(received_router(hub.received, reader, lambda live: live.read.now))
    app.include_router(search_router(reader, lambda live: live.read.fleet))
    return app


def _mount_static(app: FastAPI) -> None:
    import xstatic.pkg.leaflet as leaflet  # type: ignore[import-untyped]
    from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]

    app.mount("/static/leaflet", StaticFiles(directory=leaflet.BASE_DIR), name="leaflet")
    app.mount("/static/swagger", StaticFiles(directory=str(swagger_ui_path)), name="swagger")
    if STATIC_DIR.is_dir():
        app.mount("/static/seawatch", StaticFiles(directory=STATIC_DIR), name="seawatch")


def _routes(app: FastAPI, options: WebOptions) -> None:
    # Both pages, with the CSP hashes of their inline scripts, are made once: zones and settings do
    # not change while the app runs. The map is rendered on first request (Folium takes a moment).
    pages: dict[str, tuple[str, str]] = {}

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def map_page(request: Request) -> HTMLResponse:
        from seawatch.web.page import render_map

        if "map" not in pages:
            html = render_map(
                live_state(request).read.zones,
                tiles_url=options.tiles_url,
                tiles_attribution=options.tiles_attribution,
                timezone=options.centre_timezone,
            )
            pages["map"] = (html, page_csp(html, options.tiles_url))
        html, csp = pages["map"]
        return HTMLResponse(html, headers={"Cache-Control": "no-store", "Content-Security-Policy": csp})

    @app.get("/docs", include_in_schema=False)
    async def api_docs() -> HTMLResponse:
        if "docs" not in pages:
            docs = get_swagger_ui_html(
                openapi_url="/openapi.json",
                title="Seawatch API",
                swagger_js_url="/static/swagger/swagger-ui-bundle.js",
                swagger_css_url="/static/swagger/swagger-ui.css",
                swagger_favicon_url="/static/swagger/favicon-32x32.png",
            )
            html = bytes(docs.body).decode()
            pages["docs"] = (html, page_csp(html))
        html, csp = pages["docs"]
        return HTMLResponse(html, headers={"Content-Security-Policy": csp})

    @app.get("/api/vessels", summary="Vessels as GeoJSON, optionally within a bounding box")
    async def vessels(
        live: Reader,
        bbox: Annotated[str | None, Query(description="west,south,east,north in degrees")] = None,
        limit: Annotated[int, Query(ge=1, le=100_000)] = _MAX_VESSELS,
    ) -> dict[str, Any]:
        box = _parse_bbox(bbox)
        worst, count = _risk_by_mmsi(live.book)
        features: list[dict[str, Any]] = []
        fleet = live.read.fleet
        truncated = False
        # Beacons and vessels with open alerts first: a crowded view that must be cut never loses them.
        first = [v for m in sorted(set(worst)) if (v := fleet.get(m)) is not None]
        first += [v for v in fleet if is_beacon(v.mmsi) and v.mmsi not in worst]
        chosen = {v.mmsi for v in first}
        for vessel in itertools.chain(first, (v for v in fleet if v.mmsi not in chosen)):
            p = vessel.last_position
            if p is None or p.lat is None or p.lon is None:
                continue
            if box is not None and not _in_bbox(p.lat, p.lon, box):
                continue
            if len(features) >= limit:
                truncated = True
                break
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [p.lon, p.lat]},
                    "properties": vessel_properties(vessel, worst.get(vessel.mmsi), count.get(vessel.mmsi, 0)),
                }
            )
        return {"type": "FeatureCollection", "features": features, "truncated": truncated, "total": len(fleet)}

    @app.get("/api/vessels/{mmsi}", summary="One vessel with its recent track and alerts")
    async def vessel(live: Reader, mmsi: int) -> dict[str, Any]:
        found = live.read.fleet.get(mmsi)
        if found is None:
            raise HTTPException(404, f"no vessel {mmsi} in state")
        worst, count = _risk_by_mmsi(live.book)
        props = vessel_properties(found, worst.get(mmsi), count.get(mmsi, 0))
        p = found.last_position
        props["lat"] = None if p is None else p.lat
        props["lon"] = None if p is None else p.lon
        track = [[pt.lon, pt.lat, iso_utc(pt.t), pt.sog_kn, pt.cog_deg] for pt in found.track]
        alerts = [alert_event_to_dict(a.last) for a in live.book if mmsi in a.key[1]]
        return {"vessel": props, "track": track, "alerts": alerts}

    @app.get("/api/alerts", summary="Alerts, most severe and newest first")
    async def alerts(
        live: Reader,
        status: Literal["active", "open", "acknowledged", "resolved", "retracted", "all"] = "active",
        kind: str | None = None,
        limit: Annotated[int, Query(ge=1, le=10_000)] = 500,
    ) -> dict[str, Any]:
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
        return {"alerts": [alert_event_to_dict(ev) for ev in selected[:limit]]}

    @app.get("/api/alerts/{alert_id}", summary="One alert with its audit log")
    async def alert(live: Reader, alert_id: str) -> dict[str, Any]:
        history = await asyncio.to_thread(live.read.history, alert_id)
        current = live.book.get(alert_id)
        latest = current.last if current is not None else (history[-1] if history else None)
        if latest is None:
            raise HTTPException(404, f"no alert {alert_id!r}")
        return {"alert": alert_event_to_dict(latest), "history": [alert_event_to_dict(e) for e in history]}

    async def _act(live: Live, command: Command, action: str) -> dict[str, Any]:
        event = await live.commands.execute(command)
        if event is None:
            alert_id = getattr(command, "alert_id", "")
            if live.book.get(alert_id) is None:
                raise HTTPException(404, f"no open alert {alert_id!r}")
            raise HTTPException(409, f"cannot {action} alert {alert_id!r} in its present state")
        return alert_event_to_dict(event)

    @app.post("/api/alerts/{alert_id}/acknowledge", summary="Acknowledge an alert (stops distress escalation)")
    async def acknowledge(
        request: Request, alert_id: str, who: Operator, body: NoteBody | None = None
    ) -> dict[str, Any]:
        note = body.note if body else None
        return await _act(live_state(request), Acknowledge(alert_id, datetime.now(UTC), who, note), "acknowledge")

    @app.post("/api/alerts/{alert_id}/assign", summary="Assign an alert to a unit or person")
    async def assign(request: Request, alert_id: str, who: Operator, body: AssignBody) -> dict[str, Any]:
        return await _act(live_state(request), Assign(alert_id, datetime.now(UTC), who, body.to, body.note), "assign")

    @app.post("/api/alerts/{alert_id}/resolve", summary="Resolve an alert, with a note for the audit log")
    async def resolve(request: Request, alert_id: str, who: Operator, body: NoteBody | None = None) -> dict[str, Any]:
        note = body.note if body else None
        return await _act(live_state(request), Resolve(alert_id, datetime.now(UTC), who, note), "resolve")

    @app.post(
        "/api/alerts/{alert_id}/retract",
        summary="Retract a false alarm, with the reason (partners are told it was withdrawn)",
    )
    async def retract(request: Request, alert_id: str, who: Operator, body: RetractBody) -> dict[str, Any]:
        note = body.note.strip()
        if not note:
            raise HTTPException(422, "a retraction needs a reason")
        return await _act(live_state(request), Retract(alert_id, datetime.now(UTC), who, note), "retract")

    @app.post("/api/reports", status_code=201, summary="Post a sighting or a distress call: it becomes an alert")
    async def report(request: Request, who: Operator, body: ReportBody) -> dict[str, Any]:
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
        return await _act(live_state(request), command, "report")

    @app.get("/api/alerts/{alert_id}/surpic", summary="Vessels ranked by time to reach the alert's position")
    async def alert_surpic(
        live: Reader, alert_id: str, limit: Annotated[int, Query(ge=1, le=100)] = 10
    ) -> dict[str, Any]:
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
            max_range_nm=options.surpic_max_range_nm,
            exclude=exclude,
            limit=limit,
        )
        return {
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

    @app.get("/api/zones", summary="The zones as GeoJSON")
    async def zones(live: Reader) -> dict[str, Any]:
        import shapely

        return {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "geometry": json.loads(shapely.to_geojson(z.geometry)),
                    "properties": {
                        "id": z.id,
                        "name": z.name,
                        "kind": z.kind.value,
                        "severity": z.severity.value,
                        "source": z.source,
                    },
                }
                for z in live.read.zones
            ],
        }

    @app.get("/api/stream", summary="Server-sent events: alert events and vessel changes")
    async def stream(live: Reader, request: Request) -> StreamingResponse:
        async def events() -> AsyncIterator[str]:
            with live.hub.client() as queue:
                yield ": connected\n\n"
                while True:
                    try:
                        event, data = await asyncio.wait_for(queue.get(), timeout=15.0)
                    except TimeoutError:
                        if await request.is_disconnected():
                            return
                        yield ": keep-alive\n\n"
                        continue
                    yield f"event: {event}\ndata: {data}\n\n"

        headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
        return StreamingResponse(events(), media_type="text/event-stream", headers=headers)

    @app.get("/healthz", summary="Feed health: broker link, last message, per-source figures, task and sink states")
    async def healthz(request: Request) -> JSONResponse:
        status_code, body = live_state(request).read.health()
        return JSONResponse(body, status_code=status_code)

    @app.get("/metrics", response_class=PlainTextResponse, summary="Prometheus metrics")
    async def metrics(live: Reader) -> PlainTextResponse:
        return PlainTextResponse(await live.read.metrics(), media_type="text/plain; version=0.0.4")
