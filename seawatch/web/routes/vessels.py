"""Vessels: the map's GeoJSON of a viewport, and one vessel with its recent track and its alerts."""

from __future__ import annotations

import itertools
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Response

from seawatch.core.alertbook import AlertBook
from seawatch.core.alerts import Severity
from seawatch.core.fleet import Vessel
from seawatch.core.mmsi import is_beacon
from seawatch.core.serialize import alert_event_to_dict, iso_utc
from seawatch.web.access import Reader
from seawatch.web.schemas import VesselCollection, VesselWithTrack, json_answer

MAX_VESSELS = 5000
"""Features in one ``/api/vessels`` answer unless ``?limit=`` says otherwise."""

router = APIRouter()


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


@router.get(
    "/api/vessels",
    summary="Vessels as GeoJSON, optionally within a bounding box",
    responses={200: {"model": VesselCollection}},
)
async def vessels(
    live: Reader,
    bbox: Annotated[str | None, Query(description="west,south,east,north in degrees")] = None,
    limit: Annotated[int, Query(ge=1, le=100_000)] = MAX_VESSELS,
) -> Response:
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
    return json_answer({"type": "FeatureCollection", "features": features, "truncated": truncated, "total": len(fleet)})


@router.get(
    "/api/vessels/{mmsi}",
    summary="One vessel with its recent track and alerts",
    responses={200: {"model": VesselWithTrack}},
)
async def vessel(live: Reader, mmsi: int) -> Response:
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
    return json_answer({"vessel": props, "track": track, "alerts": alerts})
