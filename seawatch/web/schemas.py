"""The shapes of the API: request bodies, and the documented schema of every JSON answer.

Request bodies are validated by FastAPI as usual. The answers are built as plain dicts and
written by :func:`json_answer`, unfiltered and unconverted, exactly as FastAPI writes an
undeclared ``dict`` (pydantic's JSON serialiser): the models below only document them, through
each route's ``responses``, so ``/docs`` and ``/openapi.json`` show every field while the bytes
sent stay those of the dicts, key order included, at no cost per request. A test validates real
answers of the running service against these models (``extra="forbid"``, every key required),
so the documentation cannot drift from what is sent.

The alert event is the contract of docs/alerts.md ("The alert event"): the same object is a
replay line, a webhook body, a message on the alert topic and an API item.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import Response
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from seawatch.core.alerts import EventType, Kind, Severity, Status
from seawatch.core.zones import ZoneKind

_BODY = TypeAdapter(dict[str, Any])


def json_answer(body: dict[str, Any], status_code: int = 200) -> Response:
    """``body`` as JSON: the bytes, headers and cost of FastAPI's own answer for a route returning a dict."""
    return Response(_BODY.dump_json(body), status_code=status_code, media_type="application/json")


# ------------------------------------------------------------------------------ request bodies
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


# ------------------------------------------------------------------------------------ answers
class Answer(BaseModel):
    """An answer's documented shape: every key is always present (null where unknown), no other key."""

    model_config = ConfigDict(extra="forbid")


class Point(Answer):
    type: Literal["Point"]
    coordinates: tuple[float, float] = Field(description="[lon, lat] in degrees (RFC 7946).")


class VesselProperties(Answer):
    mmsi: int
    mmsi_valid: bool = Field(description="False for an MMSI outside the ITU forms (e.g. 009…): kept and flagged.")
    name: str | None = Field(description="Untrusted AIS text.")
    callsign: str | None
    imo: int | None
    ship_type: int | None
    length_m: int | None
    ais_class: str | None = Field(alias="class", description="AIS class, A or B.")
    sog_kn: float | None
    cog_deg: float | None
    heading_deg: int | None
    nav_status: int | None
    last_seen: str | None = Field(description="ISO 8601 UTC event time of its last message.")
    beacon: bool = Field(description="An AIS-SART, MOB or EPIRB-AIS MMSI (970, 972, 974).")
    risk: Severity | None = Field(description="The worst severity of its open alerts.")
    alerts: int = Field(description="Its open alerts.")


class VesselFeature(Answer):
    type: Literal["Feature"]
    geometry: Point
    properties: VesselProperties


class VesselCollection(Answer):
    """Vessels as a GeoJSON FeatureCollection: beacons and vessels with open alerts first."""

    type: Literal["FeatureCollection"]
    features: list[VesselFeature]
    truncated: bool = Field(description="True when `limit` left vessels of the view out.")
    total: int = Field(description="Vessels in state, in view or not.")


class VesselDetail(VesselProperties):
    lat: float | None
    lon: float | None


class VesselInfoOut(Answer):
    mmsi: int
    name: str | None
    callsign: str | None
    imo: int | None
    ship_type: int | None
    length_m: int | None
    ais_class: str | None = Field(alias="class")


class ZoneRefOut(Answer):
    id: str
    name: str


class AlertEventOut(Answer):
    """One alert event: the contract of docs/alerts.md ("The alert event")."""

    id: str = Field(description="Stable for the life of the alert.")
    event: EventType
    sequence: int = Field(description="1, 2, 3 … per alert.")
    kind: Kind
    severity: Severity
    status: Status
    test: bool
    mmsi: int | None = Field(description="Null for a report.")
    vessel: VesselInfoOut | None
    other_vessel: VesselInfoOut | None = Field(description="The second vessel of a rendezvous.")
    lat: float | None
    lon: float | None
    zone: ZoneRefOut | None = Field(description="The most specific risk zone the alert is in.")
    zones: list[ZoneRefOut] = Field(description="Every zone the alert is in, `zone` first.")
    observed_at: str = Field(description="ISO 8601 UTC event time of the observation behind the event.")
    opened_at: str
    summary: str = Field(description="One sentence; untrusted text from AIS may be in it.")
    evidence: dict[str, Any] = Field(description="The figures behind the alert; depends on its kind.")
    by: str | None = Field(description="The operator, for an operator's action.")
    note: str | None


TrackPoint = tuple[float, float, str | None, float | None, float | None]


class VesselWithTrack(Answer):
    """One vessel: its properties and position, its recent track and its alerts (latest event each)."""

    vessel: VesselDetail
    track: list[TrackPoint] = Field(description="[lon, lat, time (ISO 8601 UTC), sog_kn, cog_deg], oldest first.")
    alerts: list[AlertEventOut]


class AlertList(Answer):
    """Alerts (latest event each), most severe and newest first."""

    alerts: list[AlertEventOut]


class AlertWithHistory(Answer):
    alert: AlertEventOut = Field(description="Its latest event.")
    history: list[AlertEventOut] = Field(description="Every stored event (the audit log), oldest first.")


class Position(Answer):
    lat: float
    lon: float


class SurpicVessel(Answer):
    mmsi: int
    name: str | None
    ship_type: int | None
    lat: float
    lon: float
    distance_nm: float
    sog_kn: float | None
    cog_deg: float | None
    course_to_deg: float
    course_change_deg: float | None = Field(description="Signed: + to starboard, - to port; null without a course.")
    time_to_reach_s: float | None = Field(description="Null when too slow to count.")
    last_seen: str | None


class Surpic(Answer):
    """Vessels near the alert's position, ranked by time to reach it at their speed."""

    position: Position
    vessels: list[SurpicVessel]


class ZoneProperties(Answer):
    id: str
    name: str
    kind: ZoneKind
    severity: Severity
    source: str = Field(description="Where the outline comes from.")


class Geometry(Answer):
    type: str = Field(description="Polygon or MultiPolygon.")
    coordinates: list[Any]


class ZoneFeature(Answer):
    type: Literal["Feature"]
    geometry: Geometry
    properties: ZoneProperties


class ZoneCollection(Answer):
    type: Literal["FeatureCollection"]
    features: list[ZoneFeature]


class SearchHit(Answer):
    mmsi: int
    name: str | None
    callsign: str | None
    imo: int | None
    ship_type: int | None
    lat: float | None
    lon: float | None
    last_seen: str | None
    matched: Literal["mmsi", "imo", "callsign", "name"] = Field(description="The field that matched.")


class SearchAnswer(Answer):
    query: str
    vessels: list[SearchHit] = Field(description="Best match first.")


class ReceivedAlert(Answer):
    first: str = Field(description="When its first known event was received (wall clock, ISO 8601 UTC).")
    first_sequence: int
    last: str = Field(description="When its latest event was received.")
    sequence: int = Field(description="The latest event's sequence.")


class ReceivedTimesOut(Answer):
    now: str = Field(description="The server's wall clock.")
    event_time: str | None = Field(description="The newest event time seen.")
    alerts: dict[str, ReceivedAlert] = Field(description="By alert id.")


class AlertReceived(Answer):
    id: str
    events: dict[str, str] = Field(description="Event sequence -> when it was received (wall clock).")


class LeaderOut(Answer):
    instance: str = Field(description="The leading instance's name (its `instance_name`).")
    url: str | None = Field(description="Where operators reach its map (its `instance_url`); null if not set.")


class InstanceOut(Answer):
    """Which instance serves this map: one of a failover pair, or the only one."""

    failover: bool = Field(description="False when failover is off: a single instance, every other field null.")
    instance: str | None = Field(description="This instance's name (`instance_name`, else the host name).")
    role: Literal["leader", "standby"] | None = Field(description="Whether this instance leads its pair.")
    read_only: bool = Field(description="True while operators' actions are refused here (409): act on the leader.")
    leader: LeaderOut | None = Field(description="Who leads, as this instance last read the lease; null: nobody.")


class Health(Answer):
    """Feed health; the nested figures are described in docs/operations.md."""

    status: str = Field(
        description="ok, broker-dropping, standby (200); broker-down, task-failing, journal-failing, "
        "store-failing (503)."
    )
    alert_events_held: int
    store: dict[str, Any] | None
    broker_connected: bool
    broker_dropped_messages: int | None = Field(description="The broker's own dropped counter; null until it reports.")
    broker_dropped_rose_at: str | None
    last_message_age_s: float | None
    event_time: str | None
    vessels: int
    alerts_open: int
    uptime_s: float
    unacknowledged_messages: int
    topics: dict[str, dict[str, Any]]
    feeds: dict[str, dict[str, Any]]
    failing: list[str]
    tasks: dict[str, dict[str, Any]]
    sinks: dict[str, dict[str, Any]]
    instance_lock: dict[str, Any] | None = Field(description="This instance's lock on its store and client id.")
    failover: dict[str, Any] | None = Field(
        description="Its role in a failover pair, the lease and the lag (docs/failover.md); null when failover is off."
    )
    snapshot: dict[str, Any] = Field(description="The last snapshot of the core's state in the store (docs/state.md).")
    start: dict[str, Any] = Field(description="What this start loaded from a snapshot and replayed from the journal.")
    journal: dict[str, Any] | None = Field(description="The feed journal's figures; null without journal_dir.")


class HealthError(Answer):
    """The answer when the health check itself failed (503)."""

    status: Literal["health-error"]
    error: str
