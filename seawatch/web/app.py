"""The HTTP side: API, live map, operator actions, health and metrics.

:func:`create_app` builds a FastAPI app whose lifespan runs the whole service (MQTT
ingest, watch, store, webhooks, alert topic) in one TaskGroup, so the map and the
API read the very state the alerts come from. Nothing is started at import time.

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
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from seawatch.config import Settings
from seawatch.core.alertbook import AlertBook
from seawatch.core.alerts import AlertEvent, Finding, Kind, Severity, Status
from seawatch.core.fleet import Vessel
from seawatch.core.serialize import alert_event_to_dict, iso_utc
from seawatch.core.surpic import surpic
from seawatch.delivery import AlertDelivery
from seawatch.service import Figures, Ingest, log_sink, run_service
from seawatch.web.guard import RequestGuard, page_csp, validation_error
from seawatch.web.received import ReceivedTimes, received_router
from seawatch.web.search import search_router

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
_BEACON_PREFIXES = (970, 972, 974)
_MAX_VESSELS = 5000  # features in one /api/vessels answer unless ?limit= says otherwise


# ---------------------------------------------------------------------------- live state
class Hub:
    """Server-sent events to every open page: alert events as they happen, vessel changes once a second."""

    def __init__(self) -> None:
        self._clients: set[asyncio.Queue[tuple[str, str]]] = set()
        self.dropped = 0

    def publish(self, event: str, data: str) -> None:
        for queue in self._clients:
            if queue.qsize() >= 1000:  # a stalled page must not hold memory: it re-syncs on reconnect
                self.dropped += 1
                continue
            queue.put_nowait((event, data))

    def alert_sink(self, event: AlertEvent) -> None:
        self.publish("alert", json.dumps(alert_event_to_dict(event), separators=(",", ":")))

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
    settings: Settings
    ingest: Ingest
    delivery: AlertDelivery | None
    hub: Hub
    started: float = field(default_factory=time.monotonic)

    @property
    def book(self) -> AlertBook:
        watch = self.ingest.pipeline.watch
        assert watch is not None
        return watch.book

    def publish(self, event: AlertEvent) -> None:
        """An operator's event goes the way detector events go: store, partners, topic, pages."""
        self.ingest.pipeline.events.append(event)
        self.ingest.dispatch()


async def _vessel_changes(live: Live) -> None:
    last = -1
    while True:
        await asyncio.sleep(1.0)
        reports = live.ingest.pipeline.fleet.stats.reports
        if reports != last:
            last = reports
            live.hub.publish("vessels", json.dumps({"changed": reports, "at": iso_utc(datetime.now(UTC))}))


# ---------------------------------------------------------------------------------- auth
def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _operator_of(settings: Settings, token: str | None) -> str | None:
    if token is None:
        return None
    found = None
    for name, secret in settings.operator_tokens.items():
        if hmac.compare_digest(secret.get_secret_value().encode(), token.encode()):
            found = name
    return found


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status_code=401, detail=detail, headers={"WWW-Authenticate": "Bearer"})


def live_state(request: Request) -> Live:
    live: Live = request.app.state.live
    return live


async def reader(request: Request) -> Live:
    live = live_state(request)
    required = live.settings.api_read_token
    if required is None:
        return live
    token = _bearer(request)
    ok = token is not None and hmac.compare_digest(required.get_secret_value().encode(), token.encode())
    if not ok and _operator_of(live.settings, token) is None:
        raise _unauthorized("a read token (or an operator token) is required")
    return live


async def operator(request: Request) -> str:
    name = _operator_of(live_state(request).settings, _bearer(request))
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


def _is_beacon(mmsi: int) -> bool:
    return mmsi // 1_000_000 in _BEACON_PREFIXES


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
        "beacon": _is_beacon(vessel.mmsi),
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


# ----------------------------------------------------------------------------- metrics
def _metrics(live: Live) -> str:
    ingest = live.ingest
    pipeline = ingest.pipeline
    stats = pipeline.decoder.stats
    lines = [
        "# HELP seawatch_messages_total MQTT messages received.",
        "# TYPE seawatch_messages_total counter",
        f"seawatch_messages_total {ingest.health.messages}",
        "# HELP seawatch_reports_total AIS reports decoded.",
        "# TYPE seawatch_reports_total counter",
        f"seawatch_reports_total {stats.reports}",
        "# HELP seawatch_rejects_total Input rejected, by reason.",
        "# TYPE seawatch_rejects_total counter",
    ]
    for reason, n in sorted(stats.rejects.items()):
        lines.append(f'seawatch_rejects_total{{reason="{reason}"}} {n}')
    lines += [
        "# HELP seawatch_vessels Vessels in state.",
        "# TYPE seawatch_vessels gauge",
        f"seawatch_vessels {len(pipeline.fleet)}",
        "# HELP seawatch_alerts_opened_total Alerts opened, by kind.",
        "# TYPE seawatch_alerts_opened_total counter",
    ]
    watch = pipeline.watch
    if watch is not None:
        for kind, n in sorted(watch.book.counts.items()):
            lines.append(f'seawatch_alerts_opened_total{{kind="{kind}"}} {n}')
        lines += ["# HELP seawatch_alerts_open Alerts open or acknowledged.", "# TYPE seawatch_alerts_open gauge"]
        lines.append(f"seawatch_alerts_open {sum(1 for _ in watch.book)}")
    lines += [
        "# HELP seawatch_broker_connected 1 while the MQTT link is up.",
        "# TYPE seawatch_broker_connected gauge",
        f"seawatch_broker_connected {1 if ingest.health.connected else 0}",
        "# HELP seawatch_ingest_lag_seconds Wall clock minus the newest event time (receiver clock skew included).",
        "# TYPE seawatch_ingest_lag_seconds gauge",
    ]
    if pipeline.now is not None:
        lines.append(f"seawatch_ingest_lag_seconds {(datetime.now(UTC) - pipeline.now).total_seconds():.3f}")
    last = ingest.health.last_message_at
    lines += [
        "# HELP seawatch_last_message_age_seconds Seconds since the last MQTT message.",
        "# TYPE seawatch_last_message_age_seconds gauge",
    ]
    if last is not None:
        lines.append(f"seawatch_last_message_age_seconds {(datetime.now(UTC) - last).total_seconds():.3f}")
    if live.delivery is not None:
        figures = live.delivery.dispatcher.figures.partners
        for name, kind, help_text, value in (
            ("deliveries_total", "counter", "Webhook deliveries accepted by the partner.", "delivered"),
            ("failures_total", "counter", "Failed webhook attempts (retried).", "failed_attempts"),
            ("dead_total", "counter", "Webhook events given up (dead letters).", "dead"),
        ):
            lines += [f"# HELP seawatch_webhook_{name} {help_text}", f"# TYPE seawatch_webhook_{name} {kind}"]
            lines += [f'seawatch_webhook_{name}{{partner="{p}"}} {getattr(f, value)}' for p, f in figures.items()]
        lines += [
            "# HELP seawatch_store_errors_total Failed alert-store writes (events spooled and retried).",
            "# TYPE seawatch_store_errors_total counter",
            f"seawatch_store_errors_total {live.delivery.store_errors}",
            "# HELP seawatch_spool_errors_total Failed spool writes (events then held in memory only).",
            "# TYPE seawatch_spool_errors_total counter",
            f"seawatch_spool_errors_total {live.delivery.spool_errors}",
            "# HELP seawatch_alert_events_held Alert events waiting (spool and memory) for the store to come back.",
            "# TYPE seawatch_alert_events_held gauge",
            f"seawatch_alert_events_held {live.delivery.waiting}",
        ]
        lines += [
            "# HELP seawatch_webhook_pending Webhook events waiting in the outbox.",
            "# TYPE seawatch_webhook_pending gauge",
        ]
        for p, c in sorted(live.delivery.store.counts().items()):
            lines.append(f'seawatch_webhook_pending{{partner="{p}"}} {c.get("pending", 0)}')
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------- app
def create_app(
    settings: Settings,
    *,
    show: Callable[[Figures], None] | None = None,
    extra_sinks: Iterable[Callable[[AlertEvent], None]] = (),
    with_delivery: bool = True,
) -> FastAPI:
    """The app; its lifespan runs ingest and delivery in one TaskGroup and stops them on shutdown."""
    received = ReceivedTimes()  # wall-clock receive times of alert events, for the map's ages
    extra_sinks = (*extra_sinks, received)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        hub = Hub()
        delivery = AlertDelivery(settings) if with_delivery else None
        ingest = Ingest(settings, sinks=[log_sink, hub.alert_sink, *extra_sinks], delivery=delivery)
        app.state.live = Live(settings, ingest, delivery, hub)
        try:
            async with asyncio.TaskGroup() as tasks:
                service = tasks.create_task(run_service(settings, show, ingest=ingest), name="service")
                changes = tasks.create_task(_vessel_changes(app.state.live), name="vessel-changes")
                yield
                changes.cancel()
                service.cancel()
        finally:
            if delivery is not None:
                delivery.store.close()

    app = FastAPI(
        title="Seawatch",
        description="Maritime search-and-rescue monitoring: vessels, alerts, operator actions, SURPIC.",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # served by _routes from local assets: the CDN ones are blank offline
        redoc_url=None,
    )
    # Writes: the token, then the body's size, checked before FastAPI reads the body.
    app.add_middleware(RequestGuard, authorized=lambda token: _operator_of(settings, token) is not None)
    app.add_exception_handler(RequestValidationError, validation_error)
    _mount_static(app)
    _routes(app, settings)
    app.include_router(received_router(received, reader, lambda live: live.ingest.pipeline.now))
    app.include_router(search_router(reader, lambda live: live.ingest.pipeline.fleet))
    return app


def _mount_static(app: FastAPI) -> None:
    import xstatic.pkg.leaflet as leaflet  # type: ignore[import-untyped]
    from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]

    app.mount("/static/leaflet", StaticFiles(directory=leaflet.BASE_DIR), name="leaflet")
    app.mount("/static/swagger", StaticFiles(directory=str(swagger_ui_path)), name="swagger")
    if STATIC_DIR.is_dir():
        app.mount("/static/seawatch", StaticFiles(directory=STATIC_DIR), name="seawatch")


def _routes(app: FastAPI, settings: Settings) -> None:
    page: list[str] = []  # the rendered map page and its CSP: zones and settings do not change while the app runs

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def map_page(request: Request) -> HTMLResponse:
        from seawatch.web.page import render_map

        live = live_state(request)
        if not page:
            watch = live.ingest.pipeline.watch
            assert watch is not None
            page.append(
                render_map(
                    watch.zones,
                    tiles_url=settings.map_tiles_url,
                    tiles_attribution=settings.map_tiles_attribution,
                    timezone=settings.centre_timezone,
                )
            )
            page.append(page_csp(page[0], settings.map_tiles_url))
        return HTMLResponse(page[0], headers={"Cache-Control": "no-store", "Content-Security-Policy": page[1]})

    @app.get("/docs", include_in_schema=False)
    async def api_docs() -> HTMLResponse:
        docs = get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="Seawatch API",
            swagger_js_url="/static/swagger/swagger-ui-bundle.js",
            swagger_css_url="/static/swagger/swagger-ui.css",
            swagger_favicon_url="/static/swagger/favicon-32x32.png",
        )
        html = bytes(docs.body).decode()
        return HTMLResponse(html, headers={"Content-Security-Policy": page_csp(html)})

    @app.get("/api/vessels", summary="Vessels as GeoJSON, optionally within a bounding box")
    async def vessels(
        live: Reader,
        bbox: Annotated[str | None, Query(description="west,south,east,north in degrees")] = None,
        limit: Annotated[int, Query(ge=1, le=100_000)] = _MAX_VESSELS,
    ) -> dict[str, Any]:
        box = _parse_bbox(bbox)
        worst, count = _risk_by_mmsi(live.book)
        features: list[dict[str, Any]] = []
        fleet = live.ingest.pipeline.fleet
        truncated = False
        # Beacons and vessels with open alerts first: a crowded view that must be cut never loses them.
        first = [v for m in sorted(set(worst)) if (v := fleet.get(m)) is not None]
        first += [v for v in fleet if _is_beacon(v.mmsi) and v.mmsi not in worst]
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
        found = live.ingest.pipeline.fleet.get(mmsi)
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
        if status in ("resolved", "retracted", "all") and live.delivery is not None:
            for ev in live.delivery.store.alerts(kind=kind, status=None if status == "all" else status, limit=limit):
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
        history: list[AlertEvent] = live.delivery.store.history(alert_id) if live.delivery is not None else []
        current = live.book.get(alert_id)
        latest = current.last if current is not None else (history[-1] if history else None)
        if latest is None:
            raise HTTPException(404, f"no alert {alert_id!r}")
        return {"alert": alert_event_to_dict(latest), "history": [alert_event_to_dict(e) for e in history]}

    def _act(live: Live, alert_id: str, event: AlertEvent | None, action: str) -> dict[str, Any]:
        if event is None:
            if live.book.get(alert_id) is None:
                raise HTTPException(404, f"no open alert {alert_id!r}")
            raise HTTPException(409, f"cannot {action} alert {alert_id!r} in its present state")
        live.publish(event)
        return alert_event_to_dict(event)

    @app.post("/api/alerts/{alert_id}/acknowledge", summary="Acknowledge an alert (stops distress escalation)")
    async def acknowledge(
        request: Request, alert_id: str, who: Operator, body: NoteBody | None = None
    ) -> dict[str, Any]:
        live = live_state(request)
        note = body.note if body else None
        return _act(live, alert_id, live.book.acknowledge(alert_id, datetime.now(UTC), who, note), "acknowledge")

    @app.post("/api/alerts/{alert_id}/assign", summary="Assign an alert to a unit or person")
    async def assign(request: Request, alert_id: str, who: Operator, body: AssignBody) -> dict[str, Any]:
        live = live_state(request)
        return _act(live, alert_id, live.book.assign(alert_id, datetime.now(UTC), who, body.to, body.note), "assign")

    @app.post("/api/alerts/{alert_id}/resolve", summary="Resolve an alert, with a note for the audit log")
    async def resolve(request: Request, alert_id: str, who: Operator, body: NoteBody | None = None) -> dict[str, Any]:
        live = live_state(request)
        note = body.note if body else None
        return _act(live, alert_id, live.book.resolve(alert_id, datetime.now(UTC), who, note), "resolve")

    @app.post(
        "/api/alerts/{alert_id}/retract",
        summary="Retract a false alarm, with the reason (partners are told it was withdrawn)",
    )
    async def retract(request: Request, alert_id: str, who: Operator, body: RetractBody) -> dict[str, Any]:
        live = live_state(request)
        note = body.note.strip()
        if not note:
            raise HTTPException(422, "a retraction needs a reason")
        return _act(live, alert_id, live.book.retract(alert_id, datetime.now(UTC), who, note), "retract")

    @app.post("/api/reports", status_code=201, summary="Post a sighting or a distress call: it becomes an alert")
    async def report(request: Request, who: Operator, body: ReportBody) -> dict[str, Any]:
        live = live_state(request)
        now = datetime.now(UTC)
        report_id = f"r-{uuid.uuid4().hex[:12]}"
        watch = live.ingest.pipeline.watch
        assert watch is not None
        zones = watch.zones.at(body.lat, body.lon)
        zone = zones[0] if zones else None
        distress = body.kind == "distress_call"
        what = "Distress call" if distress else "Sighting"
        pob = f", {body.persons_on_board} on board" if body.persons_on_board is not None else ""
        condition = f", {body.condition}" if body.condition else ""
        finding = Finding(
            kind=Kind.REPORT,
            key=(report_id,),
            observed_at=now,
            severity=Severity.CRITICAL if distress else Severity.HIGH,
            summary=f"{what} reported by {who} at {body.lat:.4f}, {body.lon:.4f}{pob}{condition}.",
            evidence={
                "report_id": report_id,
                "report_kind": body.kind,
                "persons_on_board": body.persons_on_board,
                "condition": body.condition,
                "text": body.text,
                "reported_by": who,
            },
            lat=body.lat,
            lon=body.lon,
            zone=None if zone is None else zone.ref,
            escalates=distress,
        )
        event = live.book.report(finding)
        live.publish(event)
        return alert_event_to_dict(event)

    @app.get("/api/alerts/{alert_id}/surpic", summary="Vessels ranked by time to reach the alert's position")
    async def alert_surpic(
        live: Reader, alert_id: str, limit: Annotated[int, Query(ge=1, le=100)] = 10
    ) -> dict[str, Any]:
        current = live.book.get(alert_id)
        event = current.last if current is not None else None
        if event is None and live.delivery is not None:
            history = live.delivery.store.history(alert_id)
            event = history[-1] if history else None
        if event is None:
            raise HTTPException(404, f"no alert {alert_id!r}")
        if event.lat is None or event.lon is None:
            raise HTTPException(409, "this alert has no position")
        pipeline = live.ingest.pipeline
        now = pipeline.now or datetime.now(UTC)
        exclude = [m for m in (event.mmsi, event.other.mmsi if event.other else None) if m is not None]
        ranked = surpic(
            pipeline.fleet,
            event.lat,
            event.lon,
            now,
            max_range_nm=settings.surpic_max_range_nm,
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

        watch = live.ingest.pipeline.watch
        assert watch is not None
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
                for z in watch.zones
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

    @app.get("/healthz", summary="Feed health: broker link, age of the last message, per-source figures")
    async def healthz(request: Request) -> JSONResponse:
        live = live_state(request)
        ingest = live.ingest
        now = datetime.now(UTC)
        last = ingest.health.last_message_at
        watch = ingest.pipeline.watch
        feeds = {}
        if watch is not None:
            for name, src in watch.feed.sources.items():
                feeds[name or "(untagged)"] = {
                    "last_message_event_time": iso_utc(src.last),
                    "messages": src.messages,
                    "in_outage": src.open_since is not None,
                }
        held = live.delivery.waiting if live.delivery is not None else 0
        status = "ok" if ingest.health.connected else "broker-down"
        if held:
            status = "store-failing"  # alert events wait in the spool (or memory) until the store takes them
        body = {
            "status": status,
            "alert_events_held": held,
            "broker_connected": ingest.health.connected,
            "last_message_age_s": None if last is None else round((now - last).total_seconds(), 3),
            "event_time": iso_utc(ingest.pipeline.now),
            "vessels": len(ingest.pipeline.fleet),
            "alerts_open": sum(1 for _ in watch.book) if watch is not None else 0,
            "uptime_s": round(time.monotonic() - live.started, 1),
            "topics": {topic: f.view(time.monotonic()) for topic, f in sorted(ingest.feeds.items())},
            "feeds": feeds,
        }
        return JSONResponse(body, status_code=200 if status == "ok" else 503)

    @app.get("/metrics", response_class=PlainTextResponse, summary="Prometheus metrics")
    async def metrics(live: Reader) -> PlainTextResponse:
        return PlainTextResponse(_metrics(live), media_type="text/plain; version=0.0.4")
