"""What every detector shares: the fix it is shown, the context it may ask, the protocol.

A :class:`Fix` is one new (non-duplicate) position report with what the watch
already worked out for it (zones here, whether in port). Distance from shore is
computed only when a detector asks, because it is the one expensive question.
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from seawatch.core.alerts import Clearance, Finding, Kind, VesselInfo
from seawatch.core.fleet import Vessel
from seawatch.core.geo import ShoreDistance, fast_distance_m
from seawatch.core.rules import Rules, VesselRules
from seawatch.core.zones import Zone, ZoneIndex, ZoneKind

if TYPE_CHECKING:
    from seawatch.core.alertbook import AlertBook
    from seawatch.core.detectors.feed import FeedHealth
    from seawatch.core.model import PositionReport, SafetyText
    from seawatch.core.trips import Trips

Output = list[Finding | Clearance]
R = TypeVar("R")

# AIS navigational status codes (ITU-R M.1371-5, message 1 table 45) used by the detectors
AT_ANCHOR = 1
NOT_UNDER_COMMAND = 2
MOORED = 5
ANCHORED = frozenset({AT_ANCHOR, MOORED})  # statuses of a vessel that means to stay where it is
AGROUND = 6
ENGAGED_IN_FISHING = 7
SART_ACTIVE = 14
SART_TEST = 15


class Context:
    """Zones, rules, shore distance and the alert book, as detectors see them."""

    def __init__(self, zones: ZoneIndex, rules: Rules, shore: ShoreDistance | None, book: AlertBook) -> None:
        self.zones = zones
        self.rules = rules
        self.shore = shore
        self.book = book
        self.disembarkation_zones = zones.of_kind(ZoneKind.DISEMBARKATION)
        self.trips: Trips | None = None  # set by the watch: where each vessel's trip began (local traffic)
        self.feed: FeedHealth | None = None  # set by the watch: which receivers were listening when

    def local(self, mmsi: int, now: datetime) -> bool:
        """Whether the vessel is on a trip from its own coast (local traffic, not a crossing)."""
        return self.trips is not None and self.trips.is_local(mmsi, now)

    def interest(self, vessel: Vessel, now: datetime, wanted: tuple[str, ...]) -> bool | None:
        """Whether a detector whose rules list ``wanted`` groups should look at this vessel now.

        ``None`` while the vessel is too new to judge (its static data may still come). A vessel
        that something came alongside (an open rendezvous alert) counts whatever it is: a large,
        identified ship is routine until a small boat stops beside it.
        """
        groups = vessel_groups(vessel, now, self.rules.vessel)
        if counts(groups, wanted) or self.book.alongside(vessel.mmsi):
            return True
        return None if groups is None else False

    def offshore_m(self, lat: float, lon: float) -> float | None:
        """Metres to the nearest land, or ``None`` when no coastline dataset is configured."""
        return None if self.shore is None else self.shore(lat, lon)


class RulesByZone(Generic[R]):
    """One detector's rules per zone (a zone's overrides applied), built once per zone and kept.

    Detectors judge a fix by the rules of the first risk zone it is in, or the global
    rules outside risk zones.
    """

    def __init__(self, ctx: Context, section: str) -> None:
        self._ctx = ctx
        self._section = section
        self._cache: dict[str | None, R] = {}

    def of(self, zone: Zone | None) -> R:
        key = None if zone is None else zone.id
        rules = self._cache.get(key)
        if rules is None:
            rules = self._cache[key] = self._ctx.rules.section(self._section, key, None if zone is None else zone.rules)
        return rules

    def at(self, fix: Fix) -> R:
        risk = fix.risk
        rules = self._cache.get(risk[0].id if risk else None)  # the hot path: one lookup per fix
        return rules if rules is not None else self.of(risk[0] if risk else None)


class Fix:
    """One new position of one vessel, with its zones; offshore distance on demand."""

    __slots__ = (
        "_offshore",
        "_shore",
        "cog_deg",
        "heading_deg",
        "in_port",
        "lat",
        "lon",
        "risk",
        "sog_kn",
        "source",
        "status",
        "t",
        "vessel",
        "zones",
    )

    def __init__(
        self,
        vessel: Vessel,
        t: datetime,
        lat: float,
        lon: float,
        sog_kn: float | None,
        cog_deg: float | None,
        heading_deg: int | None,
        status: int | None,
        zones: tuple[Zone, ...],
        risk: tuple[Zone, ...],
        in_port: bool,
        shore: Callable[[float, float], float | None],
        source: str = "",
    ) -> None:
        self.vessel = vessel
        self.source = source
        self.t = t
        self.lat = lat
        self.lon = lon
        self.sog_kn = sog_kn  # the report's names and units, so a detector reads a fix as the report said it
        self.cog_deg = cog_deg
        self.heading_deg = heading_deg
        self.status = status
        self.zones = zones
        self.risk = risk  # the risk zones among ``zones``
        self.in_port = in_port
        self._shore = shore
        self._offshore: float | None = -1.0

    @property
    def offshore_m(self) -> float | None:
        if self._offshore is not None and self._offshore < 0:
            self._offshore = self._shore(self.lat, self.lon)
        return self._offshore

    def at_sea(self, min_offshore_m: float) -> bool:
        """Open water as a detector means it: not in a port zone, and in a risk zone or far enough out.

        Without a coastline dataset only risk zones count as open water.
        """
        if self.in_port:
            return False
        if self.risk:
            return True
        offshore = self.offshore_m
        return offshore is not None and offshore >= min_offshore_m


class Need(enum.Flag):
    """What a detector is shown. Each detector declares its needs; the watch routes by them.

    A detector added to the registry (:data:`seawatch.core.detectors.DETECTORS`) sees exactly
    what it declares, so a detector that must see vessels under way (a speed anomaly, say)
    declares ``FIXES`` and is never hidden behind the slow-speed shortcut.
    """

    FIXES = enum.auto()
    """Every new timed position of every vessel, under way or not (beacons excepted)."""
    SLOW_FIXES = enum.auto()
    """Positions at or below :meth:`SlowDetector.slow_limit_kn`, and every position of a vessel the
    detector holds state for (:meth:`SlowDetector.holds`): most traffic is under way, and only the
    few slow vessels cost anything."""
    UNTIMED_FIXES = enum.auto()
    """Positions from logs without timestamps: where a vessel is counts, how long cannot be known."""
    BEACONS = enum.auto()
    """AIS-SART, MOB and EPIRB-AIS signals: their positions (also those without a usable position,
    :meth:`SignalDetector.on_unplaced`) go only to detectors that declare this. A beacon is a signal,
    not a vessel: it never loiters, enters or goes dark."""
    TEXTS = enum.auto()
    """Safety-related texts (messages 12 and 14): :meth:`SignalDetector.on_text`."""
    TICKS = enum.auto()
    """Time-driven checks (silences, escalations) as event time advances: :meth:`TickingDetector.on_tick`."""


class Detector(Protocol):
    """One alert kind's detector: pure, fed by the watch according to its declared needs."""

    kind: Kind
    needs: Need

    def on_fix(self, fix: Fix, out: Output) -> None: ...

    def forget(self, mmsi: int) -> None: ...


class SlowDetector(Detector, Protocol):
    """A detector that declares ``SLOW_FIXES``."""

    def slow_limit_kn(self) -> float:
        """Above this speed (under any zone's rules) the detector cannot start holding state."""
        ...

    def holds(self, mmsi: int) -> bool:
        """Whether it keeps state for the vessel (then every position of it is shown)."""
        ...


class TickingDetector(Detector, Protocol):
    """A detector that declares ``TICKS``."""

    def on_tick(self, now: datetime, out: Output) -> None: ...


class SignalDetector(Detector, Protocol):
    """A detector that declares ``BEACONS`` or ``TEXTS``."""

    def on_unplaced(self, vessel: Vessel, report: PositionReport, when: datetime, out: Output) -> None: ...

    def on_text(self, vessel: Vessel | None, text: SafetyText, when: datetime, out: Output) -> None: ...


# ----------------------------------------------------------------- vessel groups
SMALL, UNIDENTIFIED, FISHING, UNKNOWN_TYPE = "small", "unidentified", "fishing", "unknown_type"


# Which groups each detector concerns is its rules' ``vessels`` (by default the craft of interest,
# ``rules.INTEREST``; docs/detection.md, "Vessels of interest").
FISHING_TYPE = 30  # AIS ship type "fishing" (ITU-R M.1371 table 53)
OTHER_TYPES = range(90, 100)  # "other type" (ITU-R M.1371 table 53): says nothing of a small craft


def vessel_groups(vessel: Vessel, now: datetime, rules: VesselRules) -> frozenset[str] | None:
    """The groups a vessel belongs to, or ``None`` while it is too new to judge.

    A vessel without static data (or with a name but no type yet: class B sends its name
    and its type in two messages) is not judged until it has been heard for
    ``identify_grace_s``: merchant ships send their voyage data every 6 minutes.
    Detectors call this whenever they judge (not once when they start watching), so
    static data that arrives after the first positions changes the judgement at once.
    """
    groups: set[str] = set()
    if not vessel.mmsi_valid:
        groups.add(UNIDENTIFIED)
    first = vessel.first_seen
    young = first is None or (now - first).total_seconds() < rules.identify_grace_s
    if vessel.static_at is None:
        if young:
            return frozenset(groups) if groups else None
        groups.add(UNIDENTIFIED)
        groups.add(UNKNOWN_TYPE)
    elif vessel.ship_type is None and young:
        # half of a class B unit's static data (part A, the name; part B with the type follows)
        return frozenset(groups) if groups else None
    ship_type = vessel.ship_type
    length = vessel.length_m
    # A ship that gives an IMO number or a length past small craft has told who it is, whatever
    # its type field says: many merchant ships leave it at 0, and would flood a busy strait.
    sized = (length is not None and length >= rules.small_length_max_m) or bool(vessel.imo)
    if vessel.static_at is not None and not sized and not (vessel.name or vessel.callsign):
        # a small craft whose static data names nobody (a class B unit sending only its type, as
        # cheap sets set to type 37 often do): the transponder has not said who it is
        groups.add(UNIDENTIFIED)
    if ship_type is None or ship_type < 20:  # 0 = not available, 1-19 reserved (ITU-R M.1371 table 53)
        if not sized:
            groups.add(UNKNOWN_TYPE)
    elif ship_type in OTHER_TYPES and not sized:
        groups.add(UNKNOWN_TYPE)  # "other type" says nothing of a small craft
    elif ship_type == FISHING_TYPE:
        groups.add(FISHING)
    last = vessel.last_position
    if last is not None and last.nav_status == ENGAGED_IN_FISHING:
        groups.add(FISHING)  # says it is fishing, whatever its type field
    if length is not None and 0 < length < rules.small_length_max_m:
        groups.add(SMALL)
    elif (length is None or length == 0) and vessel.ais_class == "B":
        groups.add(SMALL)  # class B transponders are fitted to small craft
    return frozenset(groups)


def counts(groups: frozenset[str] | None, wanted: tuple[str, ...]) -> bool:
    if groups is None:
        return False
    return "all" in wanted or any(g in groups for g in wanted)


def vessel_info(vessel: Vessel) -> VesselInfo:
    return VesselInfo(
        mmsi=vessel.mmsi,
        name=vessel.name,
        ship_type=vessel.ship_type,
        length_m=vessel.length_m,
        ais_class=vessel.ais_class,
        callsign=vessel.callsign,
        imo=vessel.imo,
    )


def label(vessel: Vessel) -> str:
    """How a summary names a vessel: its AIS name when known, else its MMSI."""
    return f"{vessel.name} (MMSI {vessel.mmsi})" if vessel.name else f"MMSI {vessel.mmsi}"


def expected_interval_s(ais_class: str | None, sog_kn: float | None, status: int | None) -> float:
    """Nominal reporting interval (ITU-R M.1371-5 Annex 1, tables 1 and 2).

    Class A: 3 min at anchor or moored and below 3 kn, 10 s to 14 kn, 6 s to 23 kn,
    2 s above. Class B "CS": 3 min below 2 kn, 30 s above. Unknown class: as B.
    """
    sog = sog_kn or 0.0
    if ais_class == "A":
        if status in ANCHORED and sog <= 3.0:
            return 180.0
        if sog <= 14.0:
            return 10.0
        if sog <= 23.0:
            return 6.0
        return 2.0
    return 180.0 if sog < 2.0 else 30.0


def straightness(points: list[tuple[float, float]]) -> float:
    """Net displacement over path length of (lat, lon) points, 0–1: a current's drift is near 1.

    A boat circling or wandering on one spot scores low; a hull carried by a current
    (or a vessel making way) scores high. Two points or no movement score 0.
    """
    path = 0.0
    for (lat1, lon1), (lat2, lon2) in itertools.pairwise(points):
        path += fast_distance_m(lat1, lon1, lat2, lon2)
    if path <= 0.0:
        return 0.0
    return fast_distance_m(points[0][0], points[0][1], points[-1][0], points[-1][1]) / path


def round_m(value: float) -> int:
    return round(value)


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")
