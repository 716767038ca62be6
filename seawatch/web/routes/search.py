"""Find a vessel by name, MMSI, call sign or IMO number: the map's search box.

A duty officer is told "the KM Bahari", "call sign 9MAB1" or "IMO 9123456" on the phone and must find
the ship on the map at once, wherever the map happens to be looking. The page holds only the vessels
of its viewport, so the search runs here, over the whole fleet state: one pass, no index (a pass over
100,000 vessels takes tens of milliseconds, and a search is a person typing).

Ranking: an exact MMSI, IMO or call sign first, then an MMSI, IMO or call sign that starts with the
query, then a name that starts with it, then a name that contains it; within a rank, the most
recently heard first. Names and call signs are untrusted AIS text: they are returned as data, and
the page shows them with ``textContent``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from seawatch.core.fleet import Vessel
from seawatch.core.serialize import iso_utc
from seawatch.web.access import Reader
from seawatch.web.schemas import SearchAnswer, json_answer

MAX_RESULTS = 50


def _rank(vessel: Vessel, text: str, digits: str | None) -> tuple[int, str] | None:
    """(rank, the field that matched) or None; lower ranks first. ``text`` is upper-case."""
    if digits is not None:
        mmsi = str(vessel.mmsi)
        imo = str(vessel.imo) if vessel.imo else ""
        if digits in (mmsi, imo):
            return (0, "mmsi" if digits == mmsi else "imo")
        if mmsi.startswith(digits):
            return (1, "mmsi")
        if imo.startswith(digits):
            return (1, "imo")
    callsign = (vessel.callsign or "").strip().upper()
    if callsign and callsign == text:
        return (0, "callsign")
    if callsign and callsign.startswith(text):
        return (1, "callsign")
    name = (vessel.name or "").strip().upper()
    if name.startswith(text):
        return (2, "name")
    if text in name:
        return (3, "name")
    return None


def search_vessels(fleet: Iterable[Vessel], query: str, limit: int = 20) -> list[dict[str, Any]]:
    """Vessels matching ``query`` (name, MMSI, call sign or IMO), best first, at most ``limit``."""
    text = " ".join(query.upper().split())
    if not text:
        return []
    compact = text.replace(" ", "").removeprefix("IMO")
    digits = compact if compact.isdigit() else None
    found: list[tuple[int, float, Vessel, str]] = []
    for vessel in fleet:
        ranked = _rank(vessel, text, digits)
        if ranked is not None:
            seen = vessel.last_seen.timestamp() if vessel.last_seen is not None else 0.0
            found.append((ranked[0], -seen, vessel, ranked[1]))
    found.sort(key=lambda item: (item[0], item[1], item[2].mmsi))
    out = []
    for _, _, vessel, field in found[:limit]:
        p = vessel.last_position
        out.append(
            {
                "mmsi": vessel.mmsi,
                "name": vessel.name,
                "callsign": vessel.callsign,
                "imo": vessel.imo,
                "ship_type": vessel.ship_type,
                "lat": None if p is None else p.lat,
                "lon": None if p is None else p.lon,
                "last_seen": iso_utc(vessel.last_seen),
                "matched": field,
            }
        )
    return out


router = APIRouter()


@router.get(
    "/api/search",
    summary="Vessels by name, MMSI, call sign or IMO number, best match first",
    responses={200: {"model": SearchAnswer}},
)
async def search(
    live: Reader,
    q: Annotated[str, Query(min_length=1, max_length=100, description="name, MMSI, call sign or IMO")],
    limit: Annotated[int, Query(ge=1, le=MAX_RESULTS)] = 20,
) -> Response:
    return json_answer({"query": q, "vessels": search_vessels(live.read.fleet, q, limit)})
