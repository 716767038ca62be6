"""Detector thresholds: every one with its unit, its meaning and why it has its default.

The dataclasses below are the single source of truth. ``alerts/rules.toml`` is
generated from them (``seawatch rules --defaults``) so an operator sees every
threshold with its description, and a test keeps the two in step. Operators
change values in their own copy of that file, or per zone: in a zone's GeoJSON
``rules`` property, or in a ``[zone."<id>".<detector>]`` table of the rules file.

Parsing is pure (a dict in, rules or a :class:`RulesError` with the location of
every problem out); reading the files is the shell's job.
"""

from __future__ import annotations

import dataclasses
import itertools
import textwrap
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

NM = 1852.0  # metres per nautical mile, for readable defaults


def setting(
    default: Any, unit: str, help: str, why: str = "", *, minimum: float | None = None, maximum: float | None = None
) -> Any:
    """A threshold with its documentation; ``why`` is the rationale of its default."""
    return field(
        default=default, metadata={"unit": unit, "help": help, "why": why, "minimum": minimum, "maximum": maximum}
    )


VESSEL_GROUPS = ("all", "small", "unidentified", "fishing", "unknown_type")
# Vessels of interest (docs/detection.md, "Vessels of interest"): unidentified, of no declared type, or fishing.
INTEREST = ("unidentified", "unknown_type", "fishing")
_INTEREST_WHY = (
    "Boats that carry people across these seas are unidentified, of no declared type or fishing boats; "
    "identified yachts, ferries, tugs, patrol craft and large identified ships are routine and must raise "
    "nothing (a vessel something came alongside always counts). A zone where any vessel matters can "
    'widen this: vessels = ["all"].'
)


@dataclass(frozen=True, slots=True)
class VesselRules:
    """How detectors tell a small, unidentified or unknown-type craft from routine traffic."""

    small_length_max_m: float = setting(
        24.0,
        "m",
        "A vessel shorter than this is a small craft.",
        "24 m is the length below which the Load Line and Torremolinos conventions stop applying: "
        "the boats that carry people across these seas are almost all smaller.",
        minimum=0,
    )
    identify_grace_s: float = setting(
        900.0,
        "s",
        "How long a vessel may be seen without static data before it counts as unidentified.",
        "Class A sends its voyage data (type 5) every 6 minutes and class B its type 24 every 6 minutes "
        "(ITU-R M.1371-5); in dense traffic a broadcast or two is often lost, so 15 minutes waits out two "
        "missed ones before a merchant ship is called unidentified.",
        minimum=0,
    )


@dataclass(frozen=True, slots=True)
class AlertBookRules:
    """How open alerts are updated, escalated and kept quiet."""

    update_min_interval_s: float = setting(
        900.0,
        "s",
        "Shortest time (event time) between two updates of one open alert. Only a material change is "
        "published (a worse severity, a first position: at once; a factor gained or lost, a move of "
        "update_move_m, a new ETA band: once this interval has passed since the last event).",
        "Every update is a webhook to every partner; a quarter of an hour keeps a drifting boat's "
        "position current for search planning without an event per AIS report.",
        minimum=0,
    )
    update_move_m: float = setting(
        1852.0,
        "m",
        "A move this far since the alert's last event is a material change (for alerts whose position is "
        "the news: distress, drifting, loitering, rendezvous, report).",
        "One nautical mile is a change a coordinator re-plans for.",
        minimum=0,
    )
    eta_bands_s: tuple[float, ...] = setting(
        (3600.0, 3 * 3600.0, 6 * 3600.0, 12 * 3600.0, 24 * 3600.0),
        "s",
        "Upper edges of the ETA bands of a disembarkation alert; an ETA that moves into another band is a "
        "material change.",
        "Those who prepare a landing plan in hours: within the hour, 1-3 h, 3-6 h, 6-12 h, 12-24 h, later.",
    )


@dataclass(frozen=True, slots=True)
class DistressRules:
    """AIS-SART, MOB and EPIRB-AIS beacons (MMSI 970/972/974) and MAYDAY text; never suppressed."""

    escalate_every_s: float = setting(
        300.0,
        "s",
        "First interval at which an unacknowledged distress alert is re-escalated; it then doubles.",
        "An AIS-SART sends a burst of 8 reports every minute; five minutes without an acknowledgement is "
        "long enough to ask again and short enough not to lose a life.",
        minimum=30,
    )
    escalate_max_interval_s: float = setting(
        3600.0,
        "s",
        "Longest interval between two re-escalations.",
        "Keeps an unattended alert visible every hour at least, for as long as it is not acknowledged.",
        minimum=60,
    )
    escalate_silent_s: float = setting(
        86400.0,
        "s",
        "Re-escalation stops once the signal has been silent this long; the alert stays open until acknowledged.",
        "A day of reminders about a beacon nobody hears any more is enough; beyond that they only bury "
        "newer alerts (and a replay of logs months apart would repeat them hourly for months).",
        minimum=600,
    )
    silence_resolve_s: float = setting(
        1800.0,
        "s",
        "A beacon silent this long is resolved once its alert has been acknowledged "
        "(a test alert resolves after 5 min of silence).",
        "Thirty minutes is 240 missed AIS-SART transmissions: the beacon was switched off, recovered or "
        "sank. An unacknowledged real alert is never closed by silence.",
        minimum=60,
    )
    text_words: tuple[str, ...] = setting(
        ("MAYDAY",),
        "",
        "Words that make a safety-related text (message 14) a distress call, from any MMSI.",
        "MAYDAY is the radiotelephony distress signal (ITU Radio Regulations, Art. 32).",
    )


@dataclass(frozen=True, slots=True)
class ZoneEntryRules:
    """A craft of interest enters a risk zone."""

    enabled: bool = setting(True, "", "Raise zone_entry alerts.")
    entry_fixes: int = setting(
        3,
        "fixes",
        "Consecutive fixes inside a zone before the vessel counts as having entered.",
        "Three fixes rule out single-fix GPS or multipath jumps across a boundary (zone inertia).",
        minimum=1,
    )
    exit_fixes: int = setting(
        3, "fixes", "Consecutive fixes outside before the vessel counts as having left.", "Symmetric with entry."
    )
    rearm_s: float = setting(
        3600.0,
        "s",
        "After a vessel left a zone, a new entry within this time raises no new alert.",
        "A boat weaving along a boundary is one situation, not one alert per crossing.",
        minimum=0,
    )
    vessels: tuple[str, ...] = setting(
        INTEREST,
        "",
        f"Which vessels count, any of: {', '.join(VESSEL_GROUPS)}. A vessel counts only when it crosses "
        "the boundary from outside on a trip that is not local (first heard inside, or on a trip from its "
        "own coast, it is judged by its behaviour).",
        _INTEREST_WHY,
    )


@dataclass(frozen=True, slots=True)
class LoiteringRules:
    """Slow within a small area for a long time, in a risk zone or far from shore."""

    enabled: bool = setting(True, "", "Raise loitering alerts.")
    max_speed_kn: float = setting(
        2.0,
        "kn",
        "Mean speed over ground below which a vessel is loitering.",
        "Global Fishing Watch's loitering events: average speed under 2 knots.",
        minimum=0,
    )
    max_diameter_m: float = setting(
        4000.0,
        "m",
        "Largest extent of the positions in the loitering window.",
        "Currents of 0.5–1 kn carry a stopped boat about 2 km in an hour; the window must tolerate that.",
        minimum=100,
    )
    min_duration_s: float = setting(
        3600.0,
        "s",
        "How long the vessel must stay slow in that area.",
        "One hour separates waiting from a brief stop (MovingPandas-style stop detection with a minimum duration).",
        minimum=60,
    )
    min_offshore_m: float = setting(
        20 * NM,
        "m",
        "Outside risk zones, loitering counts only this far from the nearest land.",
        "Global Fishing Watch counts loitering at least 20 nautical miles from shore; nearer in, "
        "vessels wait for pilots, berths and weather.",
        minimum=0,
    )
    resume_speed_kn: float = setting(
        4.0, "kn", "A speed at which the vessel has moved on: the alert resolves.", "Twice the loitering speed."
    )
    anchorage_offshore_m: float = setting(
        12 * NM,
        "m",
        "A vessel reporting 'at anchor' or 'moored' this near land is not loitering.",
        "Ships anchor all along a shallow strait, outside any port circle; within the 12 nm territorial sea "
        "that is routine. Farther out (deep water) an anchor claim is no excuse.",
        minimum=0,
    )
    sample_s: float = setting(
        60.0,
        "s",
        "Fixes closer together than this are thinned in the loitering window.",
        "Bounds memory and work per slow vessel: a class A ship at 1 kn reports every 10 s.",
        minimum=1,
    )
    exempt_ship_types: tuple[int, ...] = setting(
        (30, 31, 32, 33, 34, 35, 50, 51, 52, 53, 54, 55, 58),
        "",
        "AIS ship types (ITU-R M.1371 table 53) whose work is to stay put: fishing, towing, dredging, "
        "diving, military, pilot, SAR, tug, tender, anti-pollution, law enforcement, medical.",
        "Their slow work is normal and would bury the boats that matter.",
    )
    vessels: tuple[str, ...] = setting(
        ("unidentified", "unknown_type"),
        "",
        f"Which vessels count, any of: {', '.join(VESSEL_GROUPS)}; a vessel something came alongside "
        "always counts, a boat on a local trip from its own coast never does.",
        "Fishing boats stay put by trade (see exempt_ship_types); the boats that wait for a transfer or a "
        "landing are unidentified or say nothing of their type. " + _INTEREST_WHY,
    )
    exempt_nav_statuses: tuple[int, ...] = setting(
        (7, 11, 12),
        "",
        "Navigational statuses (ITU-R M.1371) that explain slow work: engaged in fishing (7), towing astern "
        "(11), pushing ahead or towing alongside (12).",
        "The same work as the exempt ship types, told by vessels whose ship type is missing or generic: a "
        "trawler reporting 'engaged in fishing' with ship type 0 is fishing, not loitering.",
    )


@dataclass(frozen=True, slots=True)
class DriftingRules:
    """Adrift or unseaworthy: a risk score from named factors, shown in the evidence."""

    enabled: bool = setting(True, "", "Raise drifting alerts.")
    max_speed_kn: float = setting(
        3.0,
        "kn",
        "Speed over ground at or below which a vessel may be drifting.",
        "Monsoon surface currents of the Andaman Sea and Bay of Bengal run up to about 1–2 kn; with leeway "
        "a powerless boat seldom makes more than 3 kn.",
        minimum=0,
    )
    min_duration_s: float = setting(
        1800.0,
        "s",
        "How long the score must stay above the threshold before the alert opens.",
        "Half an hour separates drifting from a pause to fish or to fix an engine.",
        minimum=0,
    )
    vessels: tuple[str, ...] = setting(
        INTEREST,
        "",
        f"Which vessels count, any of: {', '.join(VESSEL_GROUPS)}; a vessel something came alongside always counts.",
        _INTEREST_WHY,
    )
    working_min_duration_s: float = setting(
        6 * 3600.0,
        "s",
        "Fishing vessels, and boats on a local trip from their own coast, are judged adrift only after "
        "this long slow in open water (other craft after min_duration_s).",
        "Hauling nets and drift-net soaks last hours, not half a day: six hours slow with the signs of a "
        "drift, far out, is a boat that cannot get home.",
        minimum=0,
    )
    score_threshold: float = setting(
        0.38,
        "",
        "Risk score at which a drifting alert opens. The score is the weight of the factors present "
        "divided by the weight of all factors: 0 to 1.",
        "Chosen so that no single factor, and no two factors without a sign that the hull is carried, "
        "reach it (slow + small craft + course/heading apart = 0.40 opens; slow + small + steady = 0.35 "
        "does not).",
        minimum=0,
        maximum=1,
    )
    high_score: float = setting(
        0.5,
        "",
        "Risk score from which a drifting alert is of high severity (not under command always is).",
        "Half of all the evidence the rules know of.",
        minimum=0,
        maximum=1,
    )
    mismatch_deg: float = setting(
        45.0,
        "°",
        "Course over ground and heading this far apart mean the hull is not driving the boat.",
        "MarineTraffic's DRIFTING status uses the same sign: slow, with course and heading apart.",
        minimum=0,
    )
    min_offshore_m: float = setting(
        3 * NM,
        "m",
        "Closer to land than this (and outside risk zones) nothing counts as adrift.",
        "Beaches and moorings.",
    )
    far_offshore_m: float = setting(
        12 * NM,
        "m",
        "Beyond this distance from land the far_from_shore factor applies.",
        "The 12 nm territorial sea limit (UNCLOS Art. 3): beyond it help is further away.",
    )
    resume_speed_kn: float = setting(
        5.0, "kn", "A speed at which the vessel is under way again: the alert resolves.", "Above any drift."
    )
    w_not_under_command: float = setting(
        0.25,
        "",
        "Weight: navigational status 2, not under command. The default weights add up to 1.",
        "The crew says the vessel cannot manoeuvre.",
        minimum=0,
    )
    w_slow_in_open_water: float = setting(
        0.15, "", "Weight: slow in open water (always present: it is the gate).", "", minimum=0
    )
    w_course_heading_mismatch: float = setting(
        0.15, "", "Weight: course over ground differs from heading by mismatch_deg or more.", "", minimum=0
    )
    w_steady_drift: float = setting(
        0.1,
        "",
        "Weight: slow, steady motion in one direction for 15 minutes (0.3–2 kn, nearly straight).",
        "What a current does to a hull without power; loitering boats wander instead.",
        minimum=0,
    )
    w_small_craft: float = setting(
        0.1, "", "Weight: shorter than small_length_max_m, or class B without a length.", "", minimum=0
    )
    w_unidentified: float = setting(
        0.1, "", "Weight: no static data after the grace time, an invalid MMSI, or no ship type.", "", minimum=0
    )
    w_in_risk_zone: float = setting(0.1, "", "Weight: inside a risk zone.", "", minimum=0)
    w_far_from_shore: float = setting(0.05, "", "Weight: beyond far_offshore_m from land.", "", minimum=0)


@dataclass(frozen=True, slots=True)
class DarkRules:
    """A vessel last seen in a risk zone stops reporting far beyond its expected rate."""

    enabled: bool = setting(True, "", "Raise dark alerts.")
    min_gap_s: float = setting(
        3600.0,
        "s",
        "Shortest silence that can make a vessel dark.",
        "Global Fishing Watch and Skylight use gaps of 6 h and more on global data; inside a risk zone an "
        "hour of silence from a small craft already matters.",
        minimum=60,
    )
    expected_multiple: float = setting(
        20.0,
        "",
        "The silence must also exceed this many expected report intervals.",
        "Expected intervals come from ITU-R M.1371-5: class A 2–10 s under way, 3 min at anchor; class B "
        "30 s, 3 min below 2 kn. Twenty missed reports are not reception noise.",
        minimum=1,
    )
    vessels: tuple[str, ...] = setting(
        INTEREST,
        "",
        f"Which vessels count, any of: {', '.join(VESSEL_GROUPS)}; a vessel with an open alert always counts.",
        "Merchant ships and yachts leave receiver coverage all the time. " + _INTEREST_WHY,
    )
    home_offshore_m: float = setting(
        1852.0,
        "m",
        "A vessel last seen stopped (under 1 kn) this near land has come home or ashore: its silence is "
        "not a gap. Needs the coastline (shore_distance); 0 turns it off.",
        "Fishing boats switch AIS off at their beach or mooring every night; Global Fishing Watch counts "
        "only gaps that begin far from shore. One nautical mile keeps a boat stopped at sea off a "
        "departure coast in sight.",
        minimum=0,
    )


@dataclass(frozen=True, slots=True)
class FeedRules:
    """Feed health: a receiver (or everyone) silent is a feed outage, not many dark vessels."""

    outage_gap_s: float = setting(
        600.0,
        "s",
        "A source silent this long is in outage (in event time).",
        "A receiver with traffic in range hears class A ships every few seconds; ten silent minutes "
        "is a dead feed, not a quiet sea.",
        minimum=10,
    )
    min_messages: int = setting(
        100,
        "messages",
        "A source must have sent this many messages before its silence counts as an outage.",
        "A receiver heard only now and then (a satellite pass, a test station, a short log) is not a feed "
        "anyone relies on; its silences are normal.",
        minimum=1,
    )


@dataclass(frozen=True, slots=True)
class RendezvousRules:
    """Two vessels close together and slow for a while at sea: a transfer."""

    enabled: bool = setting(True, "", "Raise rendezvous alerts.")
    max_distance_m: float = setting(
        500.0, "m", "Vessels at most this far apart are together.", "Global Fishing Watch encounters: 500 m."
    )
    break_distance_m: float = setting(
        1000.0, "m", "Vessels this far apart have separated: the pair is forgotten.", "Twice max_distance_m."
    )
    max_speed_kn: float = setting(
        2.0, "kn", "Both vessels must be slower than this.", "Global Fishing Watch encounters: median speed < 2 kn."
    )
    min_duration_s: float = setting(
        1800.0,
        "s",
        "How long they must stay together.",
        "Skylight's rendezvous: 30 minutes. GFW's 2 h suits fish transshipment; moving people takes less.",
        minimum=60,
    )
    max_fix_age_s: float = setting(
        600.0, "s", "The other vessel's fix must be this recent to be compared.", "Covers class B at 3 min."
    )
    min_offshore_m: float = setting(
        3 * NM, "m", "Outside risk zones, only this far from land.", "Anchorages and moorings are near shore."
    )
    vessels: tuple[str, ...] = setting(
        INTEREST,
        "",
        f"At least one of the two vessels must be one of these, any of: {', '.join(VESSEL_GROUPS)}; two "
        "fishing vessels together are fishing in company (pair trawling), not a transfer.",
        "Ships waiting for orders lie near each other for days; a transfer of people needs a boat. " + _INTEREST_WHY,
    )
    exempt_ship_types: tuple[int, ...] = setting(
        (50, 52, 53, 54),
        "",
        "Ship types whose work is to go alongside: pilot, tug, port tender, anti-pollution.",
        "Search-and-rescue craft (51) are not exempt: their rendezvous are rescues.",
    )
    anchorage_offshore_m: float = setting(
        12 * NM,
        "m",
        "Two vessels that both report 'at anchor' or 'moored' this near land are an anchorage, not a transfer.",
        "Merchant ships anchor a few hundred metres apart along the Strait of Malacca, inside its risk zone; "
        "within the 12 nm territorial sea that is routine (as for loitering). One anchored vessel is not enough: "
        "a boat coming alongside an anchored ship is what a transfer looks like.",
        minimum=0,
    )


@dataclass(frozen=True, slots=True)
class LocalRules:
    """Local traffic versus a crossing: a boat on a trip from its own coast is local."""

    enabled: bool = setting(
        True,
        "",
        "Recognise local traffic where a trip begins. Departure-coast zones set this to false: there a "
        "boat leaving the coast may be starting a crossing.",
        "Fishing boats and ferries go out from the same jetty every day; counting their trips as "
        "entries and loitering buries the boats that come from open sea.",
    )
    coast_offshore_m: float = setting(
        3 * NM,
        "m",
        "A vessel stopped this near land is moored (no loitering, no transfer with another moored boat); "
        "moored here for home_min_stop_s, it lives here: its home. Needs the coastline (shore_distance).",
        "Jetties, beaches and moorings; three nautical miles also covers boats moored off a shallow shore.",
        minimum=0,
    )
    home_min_stop_s: float = setting(
        3 * 3600.0,
        "s",
        "How long a vessel must stay moored near land before that spot is its home.",
        "A night moored off its jetty shows where a boat lives; a short stop at a beach (loading people) "
        "does not, so a boat that leaves a beach it was first seen at is not a day trip.",
        minimum=600,
    )
    home_radius_m: float = setting(
        15 * NM,
        "m",
        "A trip first heard within this distance of the vessel's home is a trip from home.",
        "Many boats switch AIS on only once out; day trips reach 5-10 nm offshore.",
        minimum=0,
    )
    max_trip_s: float = setting(
        24 * 3600.0,
        "s",
        "A trip longer than this is not local: the boat is at sea for days, as a crossing is.",
        "A day trip is out and home within the day.",
        minimum=3600,
    )
    trip_gap_s: float = setting(
        4 * 3600.0,
        "s",
        "A silence this long ends a trip: the next position starts a new one where it is heard.",
        "A night ashore with AIS off; shorter gaps at sea are reception.",
        minimum=600,
    )
    max_homes: int = setting(
        200_000,
        "vessels",
        "Most homes remembered (the oldest learned are forgotten first); read from the global [local] table.",
        "Bounds memory: homes outlive the fleet's memory of a vessel, which forgets silent ones.",
        minimum=1,
    )


@dataclass(frozen=True, slots=True)
class DisembarkationRules:
    """A vessel linked to a rescue heads for a disembarkation zone; with an ETA."""

    enabled: bool = setting(True, "", "Raise disembarkation alerts.")
    link_radius_m: float = setting(
        1852.0,
        "m",
        "A vessel stopped within this distance of a distress, drifting or report alert is a rescuer.",
        "One nautical mile: close enough to take people aboard.",
    )
    alongside_max_speed_kn: float = setting(
        3.0, "kn", "Rescuer speed at or below which it counts as stopped beside the boat.", ""
    )
    min_alongside_s: float = setting(
        600.0, "s", "How long the rescuer must stay beside the boat.", "Ten minutes: long enough to take people on."
    )
    link_ttl_s: float = setting(
        48 * 3600.0, "s", "How long after the rescue the link holds.", "Two days covers the passage to any port."
    )
    under_way_min_speed_kn: float = setting(
        4.0, "kn", "Speed at which the linked vessel counts as heading somewhere.", ""
    )
    heading_fixes: int = setting(
        3,
        "fixes",
        "Consecutive fixes whose course line reaches the zone before the alert opens.",
        "Rules out a course that crosses a zone for one fix while the vessel turns.",
        minimum=1,
    )
    max_eta_s: float = setting(
        48 * 3600.0, "s", "Zones farther than this at the current speed are not counted.", "Same horizon as the link."
    )


@dataclass(frozen=True, slots=True)
class Rules:
    vessel: VesselRules = field(default_factory=VesselRules)
    alerts: AlertBookRules = field(default_factory=AlertBookRules)
    distress: DistressRules = field(default_factory=DistressRules)
    zone_entry: ZoneEntryRules = field(default_factory=ZoneEntryRules)
    loitering: LoiteringRules = field(default_factory=LoiteringRules)
    drifting: DriftingRules = field(default_factory=DriftingRules)
    dark: DarkRules = field(default_factory=DarkRules)
    feed: FeedRules = field(default_factory=FeedRules)
    rendezvous: RendezvousRules = field(default_factory=RendezvousRules)
    disembarkation: DisembarkationRules = field(default_factory=DisembarkationRules)
    local: LocalRules = field(default_factory=LocalRules)
    # zone id -> section name -> overridden values (validated)
    zones: Mapping[str, Mapping[str, Mapping[str, Any]]] = field(default_factory=dict)

    def section(self, name: str, zone_id: str | None = None, zone_rules: Mapping[str, Any] | None = None) -> Any:
        """Rules of one detector, with a zone's overrides (from its GeoJSON, then from the rules file)."""
        base = getattr(self, name)
        changes: dict[str, Any] = {}
        if zone_rules and name in zone_rules:
            changes.update(zone_rules[name])
        if zone_id is not None and zone_id in self.zones and name in self.zones[zone_id]:
            changes.update(self.zones[zone_id][name])
        return dataclasses.replace(base, **changes) if changes else base


# Sections an operator may override per zone (vessel classes and the book are global).
ZONE_SECTIONS = ("zone_entry", "loitering", "drifting", "dark", "rendezvous", "disembarkation", "local")


class RulesError(ValueError):
    """Every problem found, each with where it is (file, table, key)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def sections() -> Iterator[tuple[str, type[Any]]]:
    for f in dataclasses.fields(Rules):
        if f.name != "zones":
            yield f.name, f.default_factory  # type: ignore[misc]


def parse_section(cls: type[Any], table: Any, where: str, problems: list[str]) -> dict[str, Any]:
    """Validate one table against a rules dataclass; returns the values to change."""
    if not isinstance(table, Mapping):
        problems.append(f"{where}: expected a table of settings, got {type(table).__name__}")
        return {}
    fields = {f.name: f for f in dataclasses.fields(cls)}
    values: dict[str, Any] = {}
    for key, value in table.items():
        f = fields.get(key)
        if f is None and cls is DistressRules and key == "enabled":
            problems.append(f"{where}.enabled: distress alerts cannot be switched off")
            continue
        if f is None:
            known = ", ".join(sorted(fields))
            problems.append(f"{where}.{key}: unknown setting (known: {known})")
            continue
        checked = _check(f, value, f"{where}.{key}", problems)
        if checked is not None:
            values[key] = checked
    return values


def _check(f: dataclasses.Field[Any], value: Any, where: str, problems: list[str]) -> Any:
    default = f.default
    minimum = f.metadata.get("minimum")
    if isinstance(default, bool):
        if not isinstance(value, bool):
            problems.append(f"{where}: expected true or false, got {value!r}")
            return None
        return value
    if isinstance(default, int | float):
        if isinstance(value, bool) or not isinstance(value, int | float):
            problems.append(f"{where}: expected a number ({f.metadata['unit'] or 'no unit'}), got {value!r}")
            return None
        if isinstance(default, int) and not isinstance(value, int):
            problems.append(f"{where}: expected a whole number, got {value!r}")
            return None
        if value != value or value in (float("inf"), float("-inf")):
            problems.append(f"{where}: expected a finite number, got {value!r}")
            return None
        if minimum is not None and value < minimum:
            problems.append(f"{where}: {value!r} is below the minimum {minimum:g} {f.metadata['unit']}".rstrip())
            return None
        maximum = f.metadata.get("maximum")
        if maximum is not None and value > maximum:
            problems.append(f"{where}: {value!r} is above the maximum {maximum:g} {f.metadata['unit']}".rstrip())
            return None
        return type(default)(value)
    if isinstance(default, tuple):
        if not isinstance(value, list | tuple):
            problems.append(f"{where}: expected a list, got {value!r}")
            return None
        item_type = type(default[0]) if default else str
        accepted: type[Any] | tuple[type[Any], ...] = (int, float) if item_type is float else item_type
        if not all(isinstance(v, accepted) and not isinstance(v, bool) for v in value):
            problems.append(f"{where}: expected a list of {item_type.__name__}, got {value!r}")
            return None
        if item_type is float:
            numbers = [float(v) for v in value]
            invalid = any(v != v or v in (float("inf"), float("-inf")) or v < 0 for v in numbers)
            if invalid or not numbers or any(a >= b for a, b in itertools.pairwise(numbers)):
                problems.append(f"{where}: expected finite, non-negative numbers, rising, at least one, got {value!r}")
                return None
            return tuple(numbers)
        if f.name == "vessels":
            if not value:
                problems.append(f"{where}: name at least one vessel group (to switch it off: enabled = false)")
                return None
            bad = [v for v in value if v not in VESSEL_GROUPS]
            if bad:
                problems.append(f"{where}: unknown vessel group {bad[0]!r} (known: {', '.join(VESSEL_GROUPS)})")
                return None
        return tuple(value)
    raise AssertionError(f"unsupported setting type for {where}")  # pragma: no cover - a bug in this file


def parse_rules(doc: Mapping[str, Any], origin: str = "rules") -> Rules:
    """Rules from a parsed TOML document; unknown tables and keys are errors (typos must not pass)."""
    problems: list[str] = []
    known = dict(sections())
    changes: dict[str, Any] = {}
    zones: dict[str, dict[str, dict[str, Any]]] = {}
    for name, table in doc.items():
        if name == "zone":
            zones = parse_zone_tables(table, f"{origin}: [zone]", problems)
            continue
        cls = known.get(name)
        if cls is None:
            problems.append(f"{origin}: [{name}]: unknown table (known: {', '.join([*known, 'zone'])})")
            continue
        values = parse_section(cls, table, f"{origin}: [{name}]", problems)
        if values:
            changes[name] = dataclasses.replace(cls(), **values)
    if problems:
        raise RulesError(problems)
    return Rules(**changes, zones=zones)


def parse_zone_tables(table: Any, where: str, problems: list[str]) -> dict[str, dict[str, dict[str, Any]]]:
    if not isinstance(table, Mapping):
        problems.append(f"{where}: expected tables named by zone id")
        return {}
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for zone_id, per_zone in table.items():
        out[zone_id] = parse_zone_overrides(per_zone, f"{where}.{zone_id}", problems)
    return out


def parse_zone_overrides(table: Any, where: str, problems: list[str]) -> dict[str, dict[str, Any]]:
    """Per-zone overrides: ``{section: {setting: value}}`` for the sections in :data:`ZONE_SECTIONS`."""
    if not isinstance(table, Mapping):
        problems.append(f"{where}: expected a table of detector sections, got {type(table).__name__}")
        return {}
    known = dict(sections())
    out: dict[str, dict[str, Any]] = {}
    for name, section_table in table.items():
        if name not in ZONE_SECTIONS:
            problems.append(f"{where}.{name}: not a per-zone section (allowed: {', '.join(ZONE_SECTIONS)})")
            continue
        values = parse_section(known[name], section_table, f"{where}.{name}", problems)
        if values:
            out[name] = values
    return out


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.1f}" if value == int(value) else repr(value)
    if isinstance(value, tuple):
        return "[" + ", ".join(f'"{v}"' if isinstance(v, str) else str(v) for v in value) + "]"
    return str(value)


def render_defaults() -> str:
    """The defaults as a commented TOML file: ``alerts/rules.toml`` is this text."""
    lines = [
        "# Seawatch detector rules: every threshold, its unit and why it has its default.",
        "# Generated by `seawatch rules --defaults`; edit a copy and pass it with --rules or",
        "# SEAWATCH_RULES_FILE. Per-zone overrides go in a zone's GeoJSON `rules` property or here:",
        '#   [zone."strait-of-malacca".zone_entry]',
        "#   entry_fixes = 5",
        "",
    ]
    for name, cls in sections():
        lines.append(f"[{name}]")
        lines.append(f"# {cls.__doc__}")
        for f in dataclasses.fields(cls):
            unit = f.metadata["unit"]
            text = f.metadata["help"] + (f" Unit: {unit}." if unit else "")
            lines.extend(textwrap.wrap(text, 100, initial_indent="# ", subsequent_indent="# "))
            if f.metadata["why"]:
                lines.extend(
                    textwrap.wrap(f.metadata["why"], 100, initial_indent="#   Why: ", subsequent_indent="#   ")
                )
            lines.append(f"{f.name} = {_toml_value(f.default)}")
        lines.append("")
    return "\n".join(lines)


def render_in_effect(rules: Rules, source: str) -> str:
    """The rules in effect as a TOML file that gives the same rules: each value with its unit,
    those that differ from the defaults marked, then the per-zone overrides of the rules file."""
    lines = [f"# rules in effect, from {source}; `seawatch rules --defaults` prints every default with its reason"]
    changed = 0
    for name, _cls in sections():
        section = getattr(rules, name)
        lines.append(f"[{name}]")
        for f in dataclasses.fields(section):
            value = getattr(section, f.name)
            notes = [f.metadata["unit"]] if f.metadata["unit"] else []
            if value != f.default:
                changed += 1
                notes.append(f"default {_toml_value(f.default)}")
            lines.append(f"{f.name} = {_toml_value(value)}" + (f"  # {'; '.join(notes)}" if notes else ""))
        lines.append("")
    for zone_id, overrides in sorted(rules.zones.items()):
        for name, values in sorted(overrides.items()):
            lines.append(f'[zone."{zone_id}".{name}]')
            lines.extend(f"{key} = {_toml_value(value)}" for key, value in sorted(values.items()))
            lines.append("")
    lines.append(
        f"# {changed} setting(s) differ from the defaults; {len(rules.zones)} zone(s) override rules in the file"
    )
    return "\n".join(lines) + "\n"
