#!/usr/bin/env python3
"""Generate the region's zone outlines: zones/risk.geojson, zones/disembarkation.geojson, zones/ports.geojson.

Why a generator and not hand-drawn GeoJSON: every outline here comes from a few documented
inputs (a port position, a landing beach, waypoints of a published route description) and a
radius in nautical miles. Keeping those inputs in code, each next to its source, means a
reviewer checks a few dozen positions instead of thousands of vertices, anyone can regenerate
byte-identical files, and the sanity checks the detectors depend on (the Malacca shipping lane
is inside the Malacca zone, open ocean is in no zone, ...) run on every build.

The outlines are indicative operational areas for alerting. They are not legal boundaries,
maritime limits or search-and-rescue regions.

Usage:
    .venv/bin/python scripts/build_zones.py            # write the three files, print a summary
    .venv/bin/python scripts/build_zones.py --check    # exit 1 if the files on disk are stale
    .venv/bin/python scripts/build_zones.py -v         # also list every zone with its area
"""

import argparse
import itertools
import json
import math
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, NamedTuple

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, mapping
from shapely.geometry.polygon import orient

ZONES_DIR = Path(__file__).resolve().parent.parent / "zones"

NM_PER_DEG_LAT = 60.0  # 1 nm = 1 minute of latitude (1852 m); good to ~0.5 % at these latitudes
KM_PER_NM = 1.852
COORD_DECIMALS = 4  # 1e-4 degree is about 11 m: far finer than these outlines are accurate
GRID_DEG = 10.0**-COORD_DECIMALS
CIRCLE_QUAD_SEGS = 16  # 64 vertices per full circle
MAX_PORT_RADIUS_NM = 6.0  # port circles stay small so they never swallow open sea

Kind = Literal["risk", "disembarkation", "port"]
Severity = Literal["critical", "high", "medium", "low", "info"]
FloatArray = npt.NDArray[np.float64]

SEVERITIES_BY_KIND: dict[str, frozenset[str]] = {
    "risk": frozenset({"high", "medium"}),
    "disembarkation": frozenset({"medium"}),
    "port": frozenset({"info"}),
}
FILE_BY_KIND: dict[str, str] = {
    "risk": "risk.geojson",
    "disembarkation": "disembarkation.geojson",
    "port": "ports.geojson",
}
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class ZoneCheckError(Exception):
    """A generated zone breaks a rule the detectors depend on."""


class Site(NamedTuple):
    """A documented position (WGS 84 degrees). Geometry is built in (lon, lat) order from it."""

    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class ZoneSpec:
    """One zone as it will appear in a FeatureCollection."""

    id: str
    name: str
    kind: Kind
    severity: Severity
    source: str
    geometry: Polygon | MultiPolygon
    aliases: tuple[str, ...] = ()
    rules: dict[str, dict[str, int | bool]] | None = None

    def properties(self) -> dict[str, Any]:
        props: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "kind": self.kind,
            "severity": self.severity,
            "source": self.source,
        }
        if self.aliases:
            props["aliases"] = list(self.aliases)
        if self.rules:
            props["rules"] = self.rules
        return props


# --------------------------------------------------------------------------------------------
# Geometry helpers. Buffering happens in a small local equirectangular projection in nautical
# miles centred on the feature (x = dlon * 60 * cos(lat0), y = dlat * 60), so a "10 nm" circle
# really is about 10 nm across (cos(lat) barely changes within one feature or one segment).
# Long polylines are buffered segment by segment, each in its own projection, then unioned.
# --------------------------------------------------------------------------------------------


def _buffer_nm(geom: shapely.Geometry, radius_nm: float, origin: Site) -> Polygon | MultiPolygon:
    """Buffer a lon/lat geometry by radius_nm, measured in a projection centred on origin."""
    scale_x = NM_PER_DEG_LAT * math.cos(math.radians(origin.lat))

    def to_nm(lonlat: FloatArray) -> FloatArray:
        return np.column_stack(((lonlat[:, 0] - origin.lon) * scale_x, (lonlat[:, 1] - origin.lat) * NM_PER_DEG_LAT))

    def to_lonlat(xy: FloatArray) -> FloatArray:
        return np.column_stack((xy[:, 0] / scale_x + origin.lon, xy[:, 1] / NM_PER_DEG_LAT + origin.lat))

    buffered = shapely.buffer(shapely.transform(geom, to_nm), radius_nm, quad_segs=CIRCLE_QUAD_SEGS)
    return _as_area(shapely.transform(buffered, to_lonlat))


def _mean_site(sites: Sequence[Site]) -> Site:
    return Site(lat=sum(s.lat for s in sites) / len(sites), lon=sum(s.lon for s in sites) / len(sites))


def circle(site: Site, radius_nm: float) -> Polygon | MultiPolygon:
    """A circle of radius_nm around a position."""
    return _buffer_nm(Point(site.lon, site.lat), radius_nm, origin=site)


def corridor(waypoints: Sequence[Site], radius_nm: float) -> Polygon | MultiPolygon:
    """A polyline through waypoints, widened by radius_nm on each side (round ends and joins)."""
    parts = [
        _buffer_nm(LineString([(a.lon, a.lat), (b.lon, b.lat)]), radius_nm, origin=_mean_site([a, b]))
        for a, b in itertools.pairwise(waypoints)
    ]
    return _as_area(shapely.union_all(parts))


def buffered_polygon(vertices: Sequence[Site], radius_nm: float) -> Polygon | MultiPolygon:
    """The polygon through vertices, grown outwards by radius_nm."""
    return _buffer_nm(Polygon([(v.lon, v.lat) for v in vertices]), radius_nm, origin=_mean_site(vertices))


def polygon(vertices: Sequence[Site]) -> Polygon:
    """An explicit polygon through vertices (each vertex commented where it is defined)."""
    poly = Polygon([(v.lon, v.lat) for v in vertices])
    if not poly.is_valid:
        raise ZoneCheckError(f"explicit polygon is not valid: {shapely.is_valid_reason(poly)}")
    return poly


def union(*parts: Polygon | MultiPolygon) -> Polygon | MultiPolygon:
    return _as_area(shapely.union_all(parts))


def _as_area(geom: shapely.Geometry) -> Polygon | MultiPolygon:
    if not isinstance(geom, Polygon | MultiPolygon):
        raise ZoneCheckError(f"expected a polygonal geometry, got {type(geom).__name__}")
    return geom


def finalise(geom: Polygon | MultiPolygon) -> Polygon | MultiPolygon:
    """Snap to the 4-decimal grid (keeping the geometry valid) and orient rings per RFC 7946."""
    snapped = _as_area(shapely.set_precision(geom, GRID_DEG))
    if isinstance(snapped, MultiPolygon):
        return MultiPolygon([orient(p, 1.0) for p in snapped.geoms])
    return orient(snapped, 1.0)


def area_km2(geom: Polygon | MultiPolygon) -> float:
    """Area on a sphere via the sinusoidal (equal-area) projection; good to a few per cent."""

    def sinusoidal(lonlat: FloatArray) -> FloatArray:
        lat_rad = np.radians(lonlat[:, 1])
        return np.column_stack((lonlat[:, 0] * np.cos(lat_rad), lonlat[:, 1])) * NM_PER_DEG_LAT * KM_PER_NM

    return float(shapely.transform(geom, sinusoidal).area)


# --------------------------------------------------------------------------------------------
# Risk zones (kind "risk").
# --------------------------------------------------------------------------------------------


def risk_zones() -> list[ZoneSpec]:
    # Bay of Bengal / Andaman Sea crossing. Waypoints follow the route sketched in UNHCR's
    # "Mixed Maritime Movements in South-East Asia" reports (2015, 2016) and "Left Adrift at
    # Sea" (2020): from the Teknaf / northern Rakhine coast south along the Myanmar coast,
    # into the Andaman Sea by the Preparis channels, then south-east to southern Thailand and
    # Malaysia or south to Aceh. A second branch covers boats that go south through the open
    # Bay of Bengal west of the Andaman and Nicobar Islands and reach Aceh by the Great Channel
    # (the drift and landing reports of late 2022 and 2023 in UNHCR briefing notes).
    andaman_trunk = [
        Site(lat=20.30, lon=92.25),  # off Teknaf / St Martin's Island, departure coast
        Site(lat=18.60, lon=93.10),  # off the central Rakhine coast (Kyaukpyu-Thandwe), ~50 nm offshore
        Site(lat=16.20, lon=93.90),  # west of Cape Negrais (16.03 N, 94.19 E)
        Site(lat=14.50, lon=94.40),  # Preparis channels, between Preparis Island and Cape Negrais
        Site(lat=12.50, lon=95.10),  # central Andaman Sea, east of the Andaman Islands
        Site(lat=10.50, lon=95.50),  # central Andaman Sea, latitude of the Ten Degree Channel
        Site(lat=8.50, lon=96.50),  # southern Andaman Sea
        Site(lat=7.00, lon=97.00),  # southern Andaman Sea, north of Aceh
        Site(lat=5.75, lon=96.50),  # off the Pidie / Bireuen coast of Aceh, where boats land
    ]
    andaman_thailand_malaysia = [
        Site(lat=10.50, lon=95.50),  # joins the trunk
        Site(lat=9.40, lon=97.40),  # west of the Surin Islands, off Ranong / Phang Nga
        Site(lat=7.80, lon=97.90),  # west of Phuket
        Site(lat=6.70, lon=98.80),  # off Trang (Ko Rok)
        Site(lat=6.45, lon=99.40),  # between Ko Lipe (Satun) and Langkawi
    ]
    bay_of_bengal_to_aceh = [
        Site(lat=20.00, lon=91.90),  # off Teknaf, departure coast
        Site(lat=15.50, lon=91.80),  # open Bay of Bengal
        Site(lat=11.50, lon=91.70),  # west of the Andaman Islands
        Site(lat=8.50, lon=92.20),  # west of Car Nicobar
        Site(lat=6.30, lon=94.20),  # Great Channel, between Great Nicobar and Aceh
        Site(lat=5.95, lon=95.20),  # off Pulau Weh (Sabang)
    ]
    andaman = union(
        corridor(andaman_trunk, radius_nm=60.0),
        corridor(andaman_thailand_malaysia, radius_nm=50.0),
        corridor(bay_of_bengal_to_aceh, radius_nm=50.0),
    )

    # Departure coast: Cox's Bazar and Teknaf (Bangladesh) to Maungdaw and Sittwe (Rakhine,
    # Myanmar). Offshore line about 5-10 nm off the coast, buffered 20 nm.
    departure_coast = corridor(
        [
            Site(lat=21.45, lon=91.90),  # off Cox's Bazar (town 21.43 N, 91.98 E)
            Site(lat=21.20, lon=91.98),  # off Inani
            Site(lat=20.95, lon=92.12),  # off Shamlapur
            Site(lat=20.72, lon=92.25),  # off Shah Porir Dwip (20.77 N, 92.33 E) and the Naf mouth
            Site(lat=20.50, lon=92.45),  # off the Maungdaw coast
            Site(lat=20.20, lon=92.70),  # off the Mayu peninsula (Rathedaung)
            Site(lat=20.05, lon=92.85),  # off Sittwe (20.14 N, 92.90 E)
        ],
        radius_nm=20.0,
    )

    # Strait of Malacca, coast to coast between Sumatra and peninsular Malaysia. South-east
    # limit: the IHO line Tanjung Piai - Karimun (IHO S-23 "Limits of Oceans and Seas", 1953).
    # North-west limit: Diamond Point (Aceh) to Tarutao (Thailand), short of the IHO limit so
    # the Andaman Sea and the north Aceh coast stay in their own zones. Vertices sit on or just
    # inland of the coast so the whole water area, including the IMO traffic separation scheme,
    # is inside.
    malacca = polygon(
        [
            Site(lat=1.05, lon=103.40),  # Karimun, Riau Islands (SE limit, Sumatra side)
            Site(lat=1.35, lon=102.30),  # Bengkalis Island
            Site(lat=1.75, lon=101.60),  # Rupat Island / Dumai
            Site(lat=2.00, lon=100.80),  # Bagansiapiapi
            Site(lat=2.85, lon=99.80),  # Tanjung Balai / Asahan river mouth
            Site(lat=3.65, lon=98.70),  # Belawan
            Site(lat=4.10, lon=98.10),  # Pangkalan Susu
            Site(lat=4.50, lon=97.85),  # Langsa
            Site(lat=5.25, lon=97.45),  # Diamond Point / Tanjung Jambu Air (NW limit, Sumatra side)
            Site(lat=6.60, lon=99.65),  # Ko Tarutao, Satun (NW limit, Thai side)
            Site(lat=6.45, lon=100.15),  # Kuala Perlis
            Site(lat=5.50, lon=100.40),  # Butterworth, opposite Penang
            Site(lat=4.30, lon=100.60),  # Lumut / Manjung
            Site(lat=3.90, lon=100.85),  # Bernam river mouth
            Site(lat=3.10, lon=101.30),  # Kapar, north of Port Klang
            Site(lat=2.50, lon=101.85),  # Port Dickson
            Site(lat=2.15, lon=102.35),  # Melaka
            Site(lat=1.75, lon=103.00),  # Batu Pahat
            Site(lat=1.28, lon=103.55),  # Tanjung Piai (SE limit, Malaysian side)
        ]
    )

    # Aceh coastal waters, north and east coast from Sabang to Langsa: the coast where almost
    # all Rohingya boat landings in Indonesia since 2015 took place. Line about 5-10 nm off the
    # coast, buffered 25 nm.
    aceh_coast = corridor(
        [
            Site(lat=6.00, lon=95.25),  # north of Pulau Weh (Sabang 5.89 N, 95.32 E)
            Site(lat=5.75, lon=95.55),  # off Krueng Raya (5.60 N, 95.53 E)
            Site(lat=5.55, lon=95.95),  # off Sigli, Pidie (5.38 N, 95.96 E)
            Site(lat=5.42, lon=96.40),  # off Pidie Jaya / Samalanga
            Site(lat=5.40, lon=96.90),  # off Bireuen (Jangka, Peusangan)
            Site(lat=5.35, lon=97.20),  # off Lhokseumawe (5.18 N, 97.15 E)
            Site(lat=5.40, lon=97.60),  # off Diamond Point
            Site(lat=5.00, lon=97.90),  # off Idi Rayeuk, East Aceh (4.96 N, 97.77 E)
            Site(lat=4.60, lon=98.15),  # off Kuala Langsa (4.52 N, 98.02 E)
        ],
        radius_nm=25.0,
    )

    # Timor Sea and Ashmore Reef: the area enclosed by the south coast of Rote, Cartier Island
    # and Ashmore Reef, buffered 30 nm.
    ashmore = buffered_polygon(
        [
            Site(lat=-10.95, lon=122.85),  # Ndana Island, south-west of Rote
            Site(lat=-10.90, lon=123.30),  # off south-east Rote
            Site(lat=-12.53, lon=123.55),  # Cartier Island (Cartier Island Marine Park)
            Site(lat=-12.25, lon=122.95),  # Ashmore Reef, West Islet (Ashmore Reef Marine Park)
        ],
        radius_nm=30.0,
    )

    # Rote and Kupang departure waters: Kupang Bay, the Semau and Pukuafu straits and the coast
    # of Rote, buffered 15 nm.
    rote_kupang = corridor(
        [
            Site(lat=-10.15, lon=123.55),  # Kupang Bay (Tenau port -10.20, 123.53)
            Site(lat=-10.25, lon=123.47),  # strait between Semau and Timor
            Site(lat=-10.45, lon=123.45),  # Pukuafu Strait, between Timor and the north-east tip of Rote
            Site(lat=-10.65, lon=123.45),  # off eastern Rote (Papela / Pepela)
            Site(lat=-10.85, lon=123.20),  # off the south-east coast of Rote
            Site(lat=-10.98, lon=122.95),  # off the south coast of Rote
            Site(lat=-11.02, lon=122.86),  # Ndana Island, south-west of Rote
            Site(lat=-10.85, lon=122.75),  # off west Rote (Nemberala)
        ],
        radius_nm=15.0,
    )

    # Approaches to Christmas Island: the sea between the south-west coast of Java and the
    # island, buffered 25 nm (which also rings the island itself).
    christmas = buffered_polygon(
        [
            Site(lat=-7.00, lon=105.30),  # off Ujung Kulon, SW tip of Java
            Site(lat=-7.10, lon=106.45),  # off Pelabuhan Ratu / Ujung Genteng
            Site(lat=-7.65, lon=107.40),  # off Cidaun, south coast of West Java
            Site(lat=-10.47, lon=105.63),  # Christmas Island
        ],
        radius_nm=25.0,
    )

    # South coast of Java, the departure coast for Christmas Island: line about 5-10 nm off the
    # coast from Pelabuhan Ratu east to the Blambangan peninsula, buffered 20 nm.
    south_java = corridor(
        [
            Site(lat=-7.05, lon=106.45),  # Pelabuhan Ratu bay (-6.99, 106.54)
            Site(lat=-7.45, lon=106.35),  # off Ujung Genteng
            Site(lat=-7.55, lon=107.00),  # off Agrabinta, Cianjur
            Site(lat=-7.75, lon=107.70),  # off Pameungpeuk, Garut
            Site(lat=-7.80, lon=108.60),  # off Pangandaran
            Site(lat=-7.85, lon=109.00),  # off Cilacap (-7.73, 109.01)
            Site(lat=-8.00, lon=109.70),  # off Kebumen
            Site(lat=-8.15, lon=110.30),  # off Parangtritis, Yogyakarta
            Site(lat=-8.35, lon=111.10),  # off Pacitan
            Site(lat=-8.40, lon=111.70),  # off Prigi, Trenggalek
            Site(lat=-8.55, lon=112.70),  # off Sendang Biru, Malang
            Site(lat=-8.50, lon=113.50),  # off Puger, Jember
            Site(lat=-8.75, lon=114.30),  # off Grajagan, Banyuwangi
            Site(lat=-8.85, lon=114.55),  # off the Blambangan peninsula
        ],
        radius_nm=20.0,
    )

    return [
        ZoneSpec(
            id="andaman-sea-corridor",
            name="Bay of Bengal and Andaman Sea crossing corridor",
            kind="risk",
            severity="high",
            source=(
                "Route waypoints from UNHCR's 'Mixed Maritime Movements in South-East Asia' reports (2015, 2016) "
                "and 'Left Adrift at Sea: Dangerous Journeys of Refugees Across the Bay of Bengal and Andaman Sea' "
                "(2020), and Mixed Migration Centre Asia and the Pacific quarterly updates; the branch west of the "
                "Andaman and Nicobar Islands follows UNHCR briefing notes on boats adrift in late 2022."
            ),
            geometry=andaman,
        ),
        ZoneSpec(
            id="rakhine-coxs-bazar-departure-coast",
            name="Rakhine and Cox's Bazar departure coast",
            kind="risk",
            severity="high",
            source=(
                "Departure points named in UNHCR's 'Left Adrift at Sea' (2020) and Mixed Migration Centre Asia "
                "and the Pacific quarterly updates (Cox's Bazar and Teknaf beaches, Shah Porir Dwip, the Maungdaw "
                "coast and Sittwe); an offshore line along that coast buffered 20 nm."
            ),
            geometry=departure_coast,
            # A boat leaving this coast may be starting a crossing: its trips are never local traffic.
            rules={"local": {"enabled": False}},
        ),
        ZoneSpec(
            id="strait-of-malacca",
            name="Strait of Malacca",
            kind="risk",
            severity="medium",
            source=(
                "Coast-to-coast polygon between Sumatra and peninsular Malaysia from the Tanjung Piai-Karimun line "
                "of IHO S-23 'Limits of Oceans and Seas' (1953) north-west to Diamond Point and Ko Tarutao, "
                "enclosing the IMO traffic separation scheme in the Straits of Malacca and Singapore."
            ),
            geometry=malacca,
            # One of the world's busiest straits: tens of thousands of through transits a year
            # plus ferries and fishing boats crossing between Sumatra and Malaysia, many running
            # along the coast-to-coast boundary. Requiring 5 consecutive fixes inside (more than
            # the default) before a zone_entry alert keeps that traffic from flapping in and out.
            rules={"zone_entry": {"entry_fixes": 5}},
        ),
        ZoneSpec(
            id="aceh-coastal-waters",
            name="Aceh coastal waters (Sabang to Langsa)",
            kind="risk",
            severity="high",
            source=(
                "North and east coast of Aceh where Rohingya boats have landed since 2015, as reported in UNHCR "
                "Indonesia statements and briefing notes (notably November-December 2023) and news reports of "
                "landings in Sabang, Aceh Besar, Pidie, Bireuen, Lhokseumawe, East Aceh and Langsa."
            ),
            geometry=aceh_coast,
        ),
        ZoneSpec(
            id="timor-sea-ashmore-reef",
            name="Timor Sea and Ashmore Reef",
            kind="risk",
            severity="high",
            source=(
                "Ashmore Reef and Cartier Island positions from Parks Australia (Ashmore Reef and Cartier Island "
                "Marine Parks); the Rote-Ashmore approach as described in Australian Border Force / Operation "
                "Sovereign Borders reporting and news reports (ABC News) of boats intercepted near Ashmore Reef."
            ),
            geometry=ashmore,
        ),
        ZoneSpec(
            id="rote-kupang-departure-waters",
            name="Rote and Kupang departure waters",
            kind="risk",
            severity="medium",
            source=(
                "Rote Island and Kupang as departure and return points for boats bound for Ashmore Reef, as "
                "described in Amnesty International's 'By Hook or By Crook: Australia's Abuse of Asylum-Seekers at "
                "Sea' (2015) and news reports (ABC News); coastline waypoints buffered 15 nm."
            ),
            geometry=rote_kupang,
            # A boat leaving this coast may be starting a crossing: its trips are never local traffic.
            rules={"local": {"enabled": False}},
        ),
        ZoneSpec(
            id="christmas-island-approaches",
            name="Approaches to Christmas Island",
            kind="risk",
            severity="high",
            source=(
                "The Java-Christmas Island route described in the report of the Joint Select Committee on the "
                "Christmas Island Tragedy of 15 December 2010 (Parliament of Australia, 2011) and the Report of the "
                "Expert Panel on Asylum Seekers (2012); Java coast and island positions buffered 25 nm."
            ),
            geometry=christmas,
        ),
        ZoneSpec(
            id="south-java-coast",
            name="South coast of Java (departure coast)",
            kind="risk",
            severity="medium",
            source=(
                "Departure coast for boats to Christmas Island (2009-2013) as described in the Joint Select "
                "Committee report on the Christmas Island tragedy (2011) and news reports of departures and "
                "sinkings off West Java (e.g. Cianjur, September 2013); an offshore line buffered 20 nm."
            ),
            geometry=south_java,
            # A boat leaving this coast may be starting a crossing: its trips are never local traffic.
            rules={"local": {"enabled": False}},
        ),
    ]


# --------------------------------------------------------------------------------------------
# Disembarkation zones (kind "disembarkation"): landing areas and ports of safety, 8-15 nm
# circles around the landing place. They are not clipped to the sea: covering land is harmless.
# --------------------------------------------------------------------------------------------

_ACEH_LANDINGS = "UNHCR Indonesia statements and briefing notes and news reports (Reuters, AP, ABC News)"


def disembarkation_zones() -> list[ZoneSpec]:
    def zone(
        zone_id: str, name: str, geometry: Polygon | MultiPolygon, source: str, aliases: Sequence[str]
    ) -> ZoneSpec:
        return ZoneSpec(
            id=zone_id,
            name=name,
            kind="disembarkation",
            severity="medium",
            source=source,
            geometry=geometry,
            aliases=tuple(aliases),
        )

    return [
        zone(
            "sabang-weh",
            "Sabang (Pulau Weh), Aceh",
            circle(Site(lat=5.85, lon=95.30), radius_nm=12.0),  # Pulau Weh; Sabang town 5.89 N, 95.32 E
            f"Landing place of Rohingya boats in November 2023 ({_ACEH_LANDINGS}); circle around Pulau Weh.",
            ["SABANG", "ID SBG", "IDSBG", "PULAU WEH"],
        ),
        zone(
            "aceh-besar-krueng-raya",
            "Aceh Besar coast: Krueng Raya to Banda Aceh",
            union(
                circle(Site(lat=5.60, lon=95.53), radius_nm=10.0),  # Krueng Raya bay, Lamreh/Ladong, Malahayati port
                circle(Site(lat=5.56, lon=95.29), radius_nm=8.0),  # Ulee Lheue, Banda Aceh's harbour
            ),
            f"Landings at Ladong and Lamreh (Krueng Raya) in 2022-2023 ({_ACEH_LANDINGS}); Malahayati port, "
            "Krueng Raya, and Ulee Lheue are Banda Aceh's harbours.",
            ["KRUENG RAYA", "MALAHAYATI", "BANDA ACEH", "ULEE LHEUE"],
        ),
        zone(
            "pidie-coast",
            "Pidie coast, Aceh",
            circle(Site(lat=5.42, lon=96.00), radius_nm=12.0),  # Sigli 5.38 N, 95.96 E; Batee and Kulee beaches
            f"Landings on the Pidie coast (Batee, Kulee, Muara Tiga) in 2023 ({_ACEH_LANDINGS}).",
            ["SIGLI", "PIDIE"],
        ),
        zone(
            "bireuen-coast",
            "Bireuen coast, Aceh",
            circle(Site(lat=5.25, lon=96.75), radius_nm=10.0),  # Jangka / Peusangan coast
            f"Landing attempts on the Bireuen coast (Jangka) in November-December 2023 ({_ACEH_LANDINGS}).",
            ["BIREUEN"],
        ),
        zone(
            "lhokseumawe-north-aceh",
            "Lhokseumawe and North Aceh coast",
            circle(Site(lat=5.20, lon=97.15), radius_nm=12.0),  # Lhokseumawe city and Ujong Blang beach
            f"Landings near Lhokseumawe in June and September 2020 ({_ACEH_LANDINGS}).",
            ["LHOKSEUMAWE", "LHOK SEUMAWE"],
        ),
        zone(
            "idi-east-aceh",
            "Idi Rayeuk, East Aceh",
            circle(Site(lat=4.97, lon=97.77), radius_nm=10.0),  # Idi Rayeuk / Kuala Idi
            f"Landings on the East Aceh coast at Idi Rayeuk, 2021-2023 ({_ACEH_LANDINGS}).",
            ["IDI", "IDI RAYEUK", "KUALA IDI"],
        ),
        zone(
            "langsa",
            "Kuala Langsa, Aceh",
            circle(Site(lat=4.55, lon=98.10), radius_nm=10.0),  # just off Kuala Langsa port (4.52 N, 98.02 E)
            "Port where Acehnese fishermen brought several hundred rescued Rohingya and Bangladeshis in May 2015 "
            "(UNHCR and IOM statements; Amnesty International, 'Deadly Journeys', 2015).",
            ["LANGSA", "KUALA LANGSA"],
        ),
        zone(
            "langkawi",
            "Langkawi, Malaysia",
            circle(Site(lat=6.33, lon=99.80), radius_nm=12.0),  # Kuah 6.31 N, 99.85 E
            "Landing place of over a thousand people in May 2015 and of intercepted boats in 2020 (UNHCR "
            "statements; Amnesty International, 'Deadly Journeys', 2015; news reports).",
            ["LANGKAWI", "KUAH", "MY LGK", "MYLGK"],
        ),
        zone(
            "penang",
            "Penang, Malaysia",
            circle(Site(lat=5.40, lon=100.30), radius_nm=10.0),  # George Town / Butterworth
            "Port of safety chosen for this project: the main Malaysian port nearest the Andaman Sea route "
            "(position of Penang Port, George Town and Butterworth, after UN/LOCODE MYPEN).",
            ["PENANG", "PULAU PINANG", "GEORGE TOWN", "GEORGETOWN", "BUTTERWORTH"],
        ),
        zone(
            "satun",
            "Satun and Ko Lipe, Thailand",
            union(
                circle(Site(lat=6.55, lon=100.05), radius_nm=10.0),  # Tammalang pier, Satun
                circle(Site(lat=6.49, lon=99.30), radius_nm=8.0),  # Ko Lipe / Adang-Rawi islands
            ),
            "Satun coast and the Adang-Rawi islands (Ko Lipe), where a boat of several hundred Rohingya was found "
            "in May 2015 (UNHCR 'Mixed Maritime Movements in South-East Asia 2015'; BBC and Reuters reports).",
            ["SATUN", "TAMMALANG", "KO LIPE", "KOH LIPE"],
        ),
        zone(
            "ranong",
            "Ranong, Thailand",
            circle(Site(lat=9.95, lon=98.58), radius_nm=10.0),  # Ranong town and port
            "Thai Andaman-coast port where boats from Myanmar are landed and screened, named in UNHCR's 'Mixed "
            "Maritime Movements in South-East Asia' reports; port position from the Port Authority of Thailand.",
            ["RANONG"],
        ),
        zone(
            "christmas-island",
            "Christmas Island (Flying Fish Cove)",
            circle(Site(lat=-10.42, lon=105.67), radius_nm=12.0),  # Flying Fish Cove
            "Landing place for boats from Java; Flying Fish Cove and Rocky Point as in the Joint Select "
            "Committee report on the Christmas Island tragedy of 15 December 2010 (Parliament of Australia, 2011).",
            ["CHRISTMAS ISLAND", "CHRISTMAS IS", "FLYING FISH COVE", "CX FFC", "CXFFC"],
        ),
        zone(
            "darwin",
            "Darwin, Northern Territory",
            circle(Site(lat=-12.45, lon=130.83), radius_nm=12.0),  # Darwin Harbour
            "Port where boats intercepted in the Timor and Arafura Seas are brought, per Parliamentary Library "
            "research paper 'Boat arrivals in Australia since 1976' (Phillips and Spinks); Darwin Port position.",
            ["DARWIN", "AU DRW", "AUDRW"],
        ),
        zone(
            "broome",
            "Broome, Western Australia",
            circle(Site(lat=-17.98, lon=122.22), radius_nm=12.0),  # Broome port, Entrance Point
            "Nearest Kimberley port to Ashmore Reef, where people intercepted in the Timor Sea have been brought "
            "(Australian Border Force / Operation Sovereign Borders reporting; ABC News).",
            ["BROOME", "AU BME", "AUBME"],
        ),
        zone(
            "beagle-bay",
            "Beagle Bay, Dampier Peninsula",
            circle(Site(lat=-16.92, lon=122.55), radius_nm=12.0),  # Beagle Bay, Dampier Peninsula coast
            "Unassisted landing on the Dampier Peninsula north of Broome in February 2024 (ABC News reports; "
            "Operation Sovereign Borders statements).",
            ["BEAGLE BAY"],
        ),
    ]


# --------------------------------------------------------------------------------------------
# Port zones (kind "port"): where slow movement and anchoring are normal. Small circles (3-6 nm)
# around the harbour and its anchorage. Positions approximate the UN/LOCODE (UNECE) and NGA
# World Port Index (Pub. 150) entries, moved onto the anchorage where that is the busy part.
# --------------------------------------------------------------------------------------------

_PORT_POSITIONS = "Position after the UN/LOCODE (UNECE) and NGA World Port Index (Pub. 150) entries"


def port_zones() -> list[ZoneSpec]:
    def port(
        zone_id: str,
        name: str,
        sites: Sequence[tuple[Site, float]],
        source: str,
        aliases: Sequence[str],
    ) -> ZoneSpec:
        circles = [circle(site, radius_nm) for site, radius_nm in sites]
        for _, radius_nm in sites:
            if radius_nm > MAX_PORT_RADIUS_NM:
                raise ZoneCheckError(f"{zone_id}: port circle of {radius_nm} nm exceeds {MAX_PORT_RADIUS_NM} nm")
        return ZoneSpec(
            id=zone_id,
            name=name,
            kind="port",
            severity="info",
            source=source,
            geometry=union(*circles),
            aliases=tuple(aliases),
        )

    return [
        port(
            "chittagong-anchorage",
            "Chittagong (Chattogram) port and outer anchorage",
            [(Site(lat=22.15, lon=91.75), 6.0)],  # outer anchorages off the Karnaphuli mouth (22.22 N, 91.80 E)
            f"{_PORT_POSITIONS}; anchorage areas as published by the Chittagong Port Authority.",
            ["CHITTAGONG", "CHATTOGRAM", "BD CGP", "BDCGP"],
        ),
        port(
            "coxs-bazar-port",
            "Cox's Bazar (Bakkhali river mouth)",
            [(Site(lat=21.44, lon=91.96), 3.0)],  # fishing harbour at the Bakkhali mouth
            f"{_PORT_POSITIONS}.",
            ["COXS BAZAR", "COX'S BAZAR", "COX BAZAR"],
        ),
        port(
            "sittwe-port",
            "Sittwe port",
            [(Site(lat=20.13, lon=92.89), 4.0)],  # Kaladan river mouth
            f"{_PORT_POSITIONS}; Myanma Port Authority (Sittwe).",
            ["SITTWE", "AKYAB"],
        ),
        port(
            "yangon-river-mouth",
            "Yangon River mouth (Elephant Point)",
            [(Site(lat=16.47, lon=96.30), 6.0)],  # Elephant Point, 16.47 N, 96.32 E
            f"{_PORT_POSITIONS} (MMRGN); Myanma Port Authority pilot boarding area at the river mouth.",
            ["YANGON", "RANGOON", "MM RGN", "MMRGN"],
        ),
        port(
            "belawan-port",
            "Belawan (Medan)",
            [(Site(lat=3.79, lon=98.70), 5.0)],  # 3.79 N, 98.69 E
            f"{_PORT_POSITIONS}; PT Pelabuhan Indonesia (Pelindo) Belawan.",
            ["BELAWAN", "MEDAN", "ID BLW", "IDBLW"],
        ),
        port(
            "lhokseumawe-port",
            "Lhokseumawe port (Krueng Geukueh)",
            [(Site(lat=5.21, lon=97.08), 5.0)],  # Krueng Geukueh (~97.03 E) and the Blang Lancang terminal (~97.10 E)
            f"{_PORT_POSITIONS}; PT Pelabuhan Indonesia (Pelindo) Lhokseumawe.",
            ["LHOKSEUMAWE", "KRUENG GEUKUEH", "ID LSW", "IDLSW"],
        ),
        port(
            "penang-port",
            "Penang port (George Town and Butterworth)",
            [(Site(lat=5.41, lon=100.35), 4.0)],  # Swettenham Pier and the North Butterworth container terminal
            f"{_PORT_POSITIONS} (MYPEN); Penang Port Sdn Bhd.",
            ["PENANG", "GEORGE TOWN", "BUTTERWORTH", "MY PEN", "MYPEN"],
        ),
        port(
            "port-klang",
            "Port Klang (Northport and Westport)",
            [(Site(lat=2.99, lon=101.36), 6.0)],  # Northport 3.00 N, 101.36 E; Westport 2.96 N, 101.32 E
            f"{_PORT_POSITIONS} (MYPKG); Port Klang Authority.",
            ["PORT KLANG", "PORT KELANG", "KLANG", "NORTHPORT", "WESTPORT", "MY PKG", "MYPKG"],
        ),
        port(
            "singapore-anchorages",
            "Singapore anchorages (Singapore Strait, east end of the Malacca route)",
            [
                (Site(lat=1.24, lon=103.82), 6.0),  # Keppel harbour, Western and Eastern anchorages
                (Site(lat=1.29, lon=104.05), 6.0),  # Changi General Purpose and Eastern Bunkering anchorages
            ],
            f"{_PORT_POSITIONS} (SGSIN); anchorages as in the Maritime and Port Authority of Singapore port limits.",
            ["SINGAPORE", "SG SIN", "SGSIN"],
        ),
        port(
            "dumai-port",
            "Dumai",
            [(Site(lat=1.69, lon=101.45), 4.0)],  # Rupat Strait
            f"{_PORT_POSITIONS}; PT Pelabuhan Indonesia (Pelindo) Dumai.",
            ["DUMAI", "ID DUM", "IDDUM"],
        ),
        port(
            "phuket-port",
            "Phuket (Ao Chalong and Phuket Deep Sea Port)",
            [(Site(lat=7.82, lon=98.39), 5.0)],  # Ao Chalong 7.81 N, 98.36 E; deep sea port ~7.84 N, 98.41 E
            f"{_PORT_POSITIONS}; Phuket Deep Sea Port and the Ao Chalong yacht anchorage.",
            ["PHUKET", "AO CHALONG", "CHALONG"],
        ),
        port(
            "ranong-port",
            "Ranong port",
            [(Site(lat=9.93, lon=98.59), 4.0)],  # Ranong port, opposite Kawthaung
            f"{_PORT_POSITIONS}; Port Authority of Thailand (Ranong Port).",
            ["RANONG"],
        ),
        port(
            "kupang-tenau-port",
            "Kupang (Tenau)",
            [(Site(lat=-10.20, lon=123.53), 4.0)],  # Tenau harbour
            f"{_PORT_POSITIONS}; PT Pelabuhan Indonesia (Pelindo) Tenau Kupang.",
            ["KUPANG", "TENAU", "ID KOE", "IDKOE"],
        ),
        port(
            "darwin-port",
            "Darwin port (Fort Hill and East Arm wharves)",
            [(Site(lat=-12.47, lon=130.86), 5.0)],  # Fort Hill -12.47, 130.85; East Arm -12.49, 130.88
            f"{_PORT_POSITIONS}; Darwin Port.",
            ["DARWIN", "EAST ARM", "AU DRW", "AUDRW"],
        ),
        port(
            "flying-fish-cove-port",
            "Flying Fish Cove, Christmas Island",
            [(Site(lat=-10.42, lon=105.67), 3.0)],  # Flying Fish Cove moorings
            f"{_PORT_POSITIONS}.",
            ["FLYING FISH COVE", "CHRISTMAS ISLAND", "CX FFC", "CXFFC"],
        ),
    ]


# --------------------------------------------------------------------------------------------
# Checks the detectors depend on.
# --------------------------------------------------------------------------------------------

MUST_CONTAIN: dict[str, list[tuple[float, float]]] = {  # zone id -> (lon, lat) points
    "strait-of-malacca": [(100.0, 3.2), (101.3, 2.5), (98.8, 4.6), (100.9, 2.9), (102.5, 1.8)],
    "andaman-sea-corridor": [(95.5, 10.5), (96.5, 8.5), (97.0, 7.0), (97.5, 9.0), (92.0, 15.0)],
    "timor-sea-ashmore-reef": [(123.0, -12.2), (122.9, -12.25), (123.3, -11.5), (123.55, -12.53)],
    "christmas-island-approaches": [(105.6, -9.5), (106.5, -8.9), (105.67, -10.42)],
    "aceh-coastal-waters": [(96.5, 5.6), (95.4, 5.9), (97.2, 5.3), (98.1, 4.7)],
    "rakhine-coxs-bazar-departure-coast": [(92.3, 20.8), (91.9, 21.4), (92.8, 20.0)],
    "rote-kupang-departure-waters": [(123.5, -10.2), (123.1, -10.9)],
    "south-java-coast": [(106.5, -7.1), (109.0, -7.9), (112.7, -8.6)],
    "sabang-weh": [(95.32, 5.89)],
    "langsa": [(98.02, 4.52)],
    "langkawi": [(99.85, 6.31)],
    "christmas-island": [(105.67, -10.42)],
    "port-klang": [(101.36, 3.0)],
}
OPEN_OCEAN: list[tuple[float, float]] = [(90.0, 0.0), (85.0, 10.0), (100.0, -5.0), (110.0, -14.0), (125.0, -16.0)]


def check(zones: Sequence[ZoneSpec]) -> None:
    """Raise ZoneCheckError if any zone breaks the schema or a sanity constraint."""
    by_id: dict[str, ZoneSpec] = {}
    aliases_by_kind: dict[str, dict[str, str]] = {kind: {} for kind in FILE_BY_KIND}
    for zone in zones:
        if not SLUG_RE.match(zone.id):
            raise ZoneCheckError(f"{zone.id!r}: id must be a lowercase slug")
        if zone.id in by_id:
            raise ZoneCheckError(f"{zone.id!r}: duplicate id")
        by_id[zone.id] = zone
        if zone.severity not in SEVERITIES_BY_KIND[zone.kind]:
            raise ZoneCheckError(f"{zone.id}: severity {zone.severity!r} not allowed for kind {zone.kind!r}")
        if not zone.name.strip() or not zone.source.strip():
            raise ZoneCheckError(f"{zone.id}: name and source must not be empty")
        geom = zone.geometry
        if not isinstance(geom, Polygon | MultiPolygon) or geom.is_empty or not geom.is_valid:
            raise ZoneCheckError(f"{zone.id}: geometry invalid: {shapely.is_valid_reason(geom)}")
        parts = geom.geoms if isinstance(geom, MultiPolygon) else [geom]
        for part in parts:
            if not part.exterior.is_ccw or any(ring.is_ccw for ring in part.interiors):
                raise ZoneCheckError(f"{zone.id}: rings not oriented per RFC 7946 (exterior CCW, holes CW)")
        for alias in zone.aliases:
            if alias != alias.upper() or alias != alias.strip() or not alias:
                raise ZoneCheckError(f"{zone.id}: alias {alias!r} must be non-empty uppercase")
            # A destination may name both a port zone and a disembarkation zone for the same
            # place (ports of safety are ports), but never two zones of the same kind.
            other = aliases_by_kind[zone.kind].setdefault(alias, zone.id)
            if other != zone.id:
                raise ZoneCheckError(f"alias {alias!r} used by both {other} and {zone.id}")
    for zone_id, points in MUST_CONTAIN.items():
        for lon, lat in points:
            if not by_id[zone_id].geometry.contains(Point(lon, lat)):
                raise ZoneCheckError(f"{zone_id} must contain (lon, lat) ({lon}, {lat})")
    for lon, lat in OPEN_OCEAN:
        inside = [z.id for z in zones if z.geometry.intersects(Point(lon, lat))]
        if inside:
            raise ZoneCheckError(f"open-ocean point ({lon}, {lat}) lies in {inside}")
    malacca_rules = by_id["strait-of-malacca"].rules or {}
    if malacca_rules.get("zone_entry", {}).get("entry_fixes") != 5:
        raise ZoneCheckError("strait-of-malacca must override zone_entry.entry_fixes to 5")


# --------------------------------------------------------------------------------------------
# Output.
# --------------------------------------------------------------------------------------------

_PAIR_RE = re.compile(r"\[\s+(-?\d+(?:\.\d+)?),\s+(-?\d+(?:\.\d+)?)\s+\]")


def _rounded(coords: Any) -> Any:
    if isinstance(coords, float | int):
        return round(float(coords), COORD_DECIMALS)
    return [_rounded(c) for c in coords]


def feature_collection_text(zones: Sequence[ZoneSpec]) -> str:
    """Deterministic RFC 7946 text: fixed key order, 4-decimal coordinates, one position per line."""
    features = []
    for zone in zones:
        geo = mapping(zone.geometry)
        features.append(
            {
                "type": "Feature",
                "properties": zone.properties(),
                "geometry": {"type": geo["type"], "coordinates": _rounded(geo["coordinates"])},
            }
        )
    text = json.dumps({"type": "FeatureCollection", "features": features}, indent=1, ensure_ascii=False)
    return _PAIR_RE.sub(r"[\1, \2]", text) + "\n"


def build() -> dict[str, list[ZoneSpec]]:
    """All zones, finalised, grouped by output file name."""
    files: dict[str, list[ZoneSpec]] = {name: [] for name in FILE_BY_KIND.values()}
    for spec in [*risk_zones(), *disembarkation_zones(), *port_zones()]:
        final = ZoneSpec(
            id=spec.id,
            name=spec.name,
            kind=spec.kind,
            severity=spec.severity,
            source=spec.source,
            geometry=finalise(spec.geometry),
            aliases=spec.aliases,
            rules=spec.rules,
        )
        files[FILE_BY_KIND[spec.kind]].append(final)
    check([zone for zones in files.values() for zone in zones])
    return files


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=ZONES_DIR, help="output directory (default: zones/)")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if the files are stale")
    parser.add_argument("-v", "--verbose", action="store_true", help="list every zone with its area")
    args = parser.parse_args(argv)

    try:
        files = build()
    except ZoneCheckError as exc:
        print(f"build_zones: check failed: {exc}", file=sys.stderr)
        return 1

    stale: list[str] = []
    for file_name, zones in files.items():
        path: Path = args.out / file_name
        text = feature_collection_text(zones)
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(str(path))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        total_km2 = sum(area_km2(z.geometry) for z in zones)
        print(f"{path}: {len(zones)} features, {total_km2:,.0f} km2 in total (overlaps counted twice)")
        if args.verbose:
            for zone in zones:
                print(f"  {zone.id:38} {zone.severity:7} {area_km2(zone.geometry):>11,.0f} km2")
    if stale:
        print(f"build_zones: stale, re-run scripts/build_zones.py: {', '.join(stale)}", file=sys.stderr)
        return 1
    print("checks passed: schema, validity, RFC 7946 ring orientation, containment and open-ocean points")
    return 0


if __name__ == "__main__":
    sys.exit(main())
