"""Reports and alert events as plain dicts: the ``seawatch decode`` output contract (docs/decoding.md)
and the alert event contract (docs/alerts.md), with its inverse :func:`event_from_dict`.

Keys appear only where they apply to the report's kind, with "not available"
values as ``None`` (JSON ``null``). Times are ISO 8601 UTC with a ``Z``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from seawatch.core.alerts import AlertEvent, EventType, Kind, Severity, Status, VesselInfo, ZoneRef
from seawatch.core.model import (
    BaseStationReport,
    OtherReport,
    PositionReport,
    Report,
    SafetyText,
    StaticReport,
)

POSITION_KEYS = ("lat", "lon", "sog_kn", "cog_deg", "heading_deg", "nav_status")
STATIC_KEYS = ("name", "callsign", "imo", "ship_type", "length_m", "beam_m", "destination")
ALL_KEYS = ("mmsi", "mmsi_valid", "msg_type", "observed_at", *POSITION_KEYS, *STATIC_KEYS, "text")

# Other message types that carry a position: 9 (SAR aircraft) with speed and course,
# 17 (DGNSS broadcast) and 21 (aid to navigation) with a position only.
_OTHER_WITH_MOTION = frozenset({9})
_OTHER_WITH_POSITION = frozenset({9, 17, 21})


def iso_utc(when: datetime | None) -> str | None:
    if when is None:
        return None
    return when.isoformat().replace("+00:00", "Z")


def _static_fields(out: dict[str, Any], s: StaticReport) -> None:
    out["name"] = s.name
    out["callsign"] = s.callsign
    out["imo"] = s.imo
    out["ship_type"] = s.ship_type
    out["length_m"] = s.length_m
    out["beam_m"] = s.beam_m
    out["destination"] = s.destination


def report_to_dict(report: Report) -> dict[str, Any]:
    out: dict[str, Any] = {
        "mmsi": report.mmsi,
        "mmsi_valid": report.mmsi_valid,  # invalid MMSIs (e.g. 009…) are kept and flagged, never dropped
        "msg_type": report.msg_type,
        "observed_at": iso_utc(report.observed_at),
    }
    if isinstance(report, PositionReport):
        out["lat"] = report.lat
        out["lon"] = report.lon
        out["sog_kn"] = report.sog_kn
        out["cog_deg"] = report.cog_deg
        out["heading_deg"] = report.heading_deg
        out["nav_status"] = report.nav_status
        if report.static is not None:
            _static_fields(out, report.static)
    elif isinstance(report, StaticReport):
        _static_fields(out, report)
    elif isinstance(report, SafetyText):
        out["text"] = report.text
    elif isinstance(report, BaseStationReport):
        out["lat"] = report.lat
        out["lon"] = report.lon
    elif isinstance(report, OtherReport) and (
        report.msg_type in _OTHER_WITH_POSITION or report.lat is not None or report.lon is not None
    ):
        # Types 9/17/21 always carry a position; others (11, some type 8 applications) when decoded.
        out["lat"] = report.lat
        out["lon"] = report.lon
        if report.msg_type in _OTHER_WITH_MOTION:
            out["sog_kn"] = report.sog_kn
            out["cog_deg"] = report.cog_deg
    return out


def _vessel_dict(v: VesselInfo | None) -> dict[str, Any] | None:
    if v is None:
        return None
    return {
        "mmsi": v.mmsi,
        "name": v.name,
        "callsign": v.callsign,
        "imo": v.imo,
        "ship_type": v.ship_type,
        "length_m": v.length_m,
        "class": v.ais_class,
    }


def _coordinate(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def alert_event_to_dict(ev: AlertEvent) -> dict[str, Any]:
    """The alert event contract (docs/alerts.md, "The alert event"): replay lines, webhook bodies and API items."""
    return {
        "id": ev.id,
        "event": ev.event.value,
        "sequence": ev.sequence,
        "kind": ev.kind.value,
        "severity": ev.severity.value,
        "status": ev.status.value,
        "test": ev.test,
        "mmsi": ev.mmsi,
        "vessel": _vessel_dict(ev.vessel),
        "other_vessel": _vessel_dict(ev.other),
        "lat": _coordinate(ev.lat),
        "lon": _coordinate(ev.lon),
        "zone": None if ev.zone is None else {"id": ev.zone.id, "name": ev.zone.name},
        "zones": [{"id": z.id, "name": z.name} for z in ev.zones],
        "observed_at": iso_utc(ev.observed_at),
        "opened_at": iso_utc(ev.opened_at),
        "summary": ev.summary,
        "evidence": ev.evidence,
        "by": ev.by,
        "note": ev.note,
    }


def alert_event_json(ev: AlertEvent) -> str:
    """One JSON line, byte-identical for identical events (fixed key order, ASCII only)."""
    return json.dumps(alert_event_to_dict(ev), separators=(",", ":"), ensure_ascii=True, allow_nan=False)


# --- alert events from dicts: the inverse of alert_event_to_dict ---------------------------


def _vessel_from_dict(d: Mapping[str, Any] | None) -> VesselInfo | None:
    if d is None:
        return None
    return VesselInfo(
        mmsi=d["mmsi"],
        name=d["name"],
        ship_type=d["ship_type"],
        length_m=d["length_m"],
        ais_class=d["class"],
        callsign=d["callsign"],
        imo=d["imo"],
    )


def _time_from_iso(value: str) -> datetime:
    when = datetime.fromisoformat(value)
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"naive time {value!r}: alert events carry timezone-aware UTC times only")
    return when.astimezone(UTC)


def event_from_dict(d: Mapping[str, Any]) -> AlertEvent:
    """The inverse of :func:`alert_event_to_dict`.

    Lets a restart rebuild open alerts, the API serve the audit log, and the spool be
    read back, from the stored JSON. Exact for everything the contract carries;
    coordinates come back as the contract writes them (6 decimals, about 0.1 m).
    """
    zone = d["zone"]
    zones = d.get("zones")  # events stored before the list was added carry only ``zone``
    if zones is None:
        zones = [] if zone is None else [zone]
    return AlertEvent(
        id=d["id"],
        event=EventType(d["event"]),
        sequence=d["sequence"],
        kind=Kind(d["kind"]),
        severity=Severity(d["severity"]),
        status=Status(d["status"]),
        test=d["test"],
        mmsi=d["mmsi"],
        vessel=_vessel_from_dict(d["vessel"]),
        other=_vessel_from_dict(d["other_vessel"]),
        lat=d["lat"],
        lon=d["lon"],
        zone=None if zone is None else ZoneRef(id=zone["id"], name=zone["name"]),
        observed_at=_time_from_iso(d["observed_at"]),
        opened_at=_time_from_iso(d["opened_at"]),
        summary=d["summary"],
        evidence=d["evidence"],
        by=d["by"],
        note=d["note"],
        zones=tuple(ZoneRef(id=z["id"], name=z["name"]) for z in zones),
    )
