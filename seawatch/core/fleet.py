"""Per-MMSI state: who a vessel is, where it is, and where it has been lately.

All ageing is driven by *event time* (the reports' ``observed_at``), never by the
wall clock, so a replay of yesterday's log builds exactly the state live ingest did.

Two things real feeds do that this module absorbs:

* the same transmission heard by several receivers (or relayed twice) arrives
  more than once: recognised by its payload fingerprint and counted once;
* reports arrive out of order (receivers with buffered uplinks): an older report
  is filed into the track in time order but never moves the vessel's clock or
  current position backwards.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from seawatch.core.model import PositionReport, Report, StaticReport

CLASS_A_TYPES = frozenset({1, 2, 3, 5})
CLASS_B_TYPES = frozenset({18, 19, 24})
# How many of a vessel's latest transmissions are remembered to recognise a copy.
_RECENT_TRANSMISSIONS = 8
UNTIMED = datetime(1970, 1, 1, tzinfo=UTC)
"""The time given to what a log without any timestamps says: judged at once, never aged."""
_STATIC_FIELDS = ("name", "callsign", "imo", "ship_type", "length_m", "beam_m", "destination", "draught_m")


class TrackPoint(NamedTuple):
    """One fix of a vessel's recent track (kept small: there are many of them)."""

    t: datetime | None
    lat: float
    lon: float
    sog_kn: float | None
    cog_deg: float | None


class Vessel:
    """What Seawatch knows about one MMSI. Mutable, owned by :class:`Fleet`."""

    __slots__ = (
        "ais_class",
        "beam_m",
        "callsign",
        "destination",
        "draught_m",
        "first_seen",
        "imo",
        "last_position",
        "last_seen",
        "length_m",
        "messages",
        "mmsi",
        "mmsi_valid",
        "name",
        "recent",
        "ship_type",
        "static_at",
        "track",
    )

    def __init__(self, mmsi: int, mmsi_valid: bool) -> None:
        self.mmsi = mmsi
        self.mmsi_valid = mmsi_valid
        self.ais_class: str | None = None  # "A" or "B", from the message types it sends
        self.first_seen: datetime | None = None
        self.last_seen: datetime | None = None
        self.last_position: PositionReport | None = None
        self.messages = 0
        self.name: str | None = None
        self.callsign: str | None = None
        self.imo: int | None = None
        self.ship_type: int | None = None
        self.length_m: int | None = None
        self.beam_m: int | None = None
        self.destination: str | None = None
        self.draught_m: float | None = None
        self.static_at: datetime | None = None
        # Plain lists, not deques: a deque allocates a 64-slot block up front, which is
        # most of a vessel's memory when 100,000 of them have a point or two each.
        self.track: list[TrackPoint] = []  # oldest first, bounded by Fleet
        # fingerprints and event times of the last few transmissions, flat: fp, t, fp, t, …
        self.recent: list[Any] = []

    def merge_static(self, report: StaticReport) -> None:
        """Fold in what a static report knows; fields it lacks keep their old values.

        A report older than the static data already held only fills gaps, so a late
        copy never brings back an old name or destination.
        """
        when = report.observed_at
        late = when is not None and self.static_at is not None and when < self.static_at
        for name in _STATIC_FIELDS:
            value = getattr(report, name)
            if value is not None and not (late and getattr(self, name) is not None):
                setattr(self, name, value)
        if when is not None and not late:
            self.static_at = when
        elif when is None and self.static_at is None:
            self.static_at = UNTIMED  # an untimed log: the vessel is identified all the same


@dataclass(slots=True)
class FleetStats:
    reports: int = 0
    duplicates: int = 0
    out_of_order: int = 0
    expired: int = 0
    evicted: int = 0


class Fleet:
    """Every vessel heard recently, keyed by MMSI.

    ``max_track_points`` and ``max_track_age_s`` bound each track (whichever bites
    first); ``vessel_ttl_s`` forgets vessels silent that long in event time;
    ``duplicate_window_s`` is how far apart two copies of one transmission may be;
    ``max_vessels`` caps memory whatever the feed sends (junk with valid checksums
    can name any MMSI): past it, the one percent of vessels silent longest make room.
    """

    def __init__(
        self,
        *,
        max_track_points: int = 120,
        max_track_age_s: float = 6 * 3600.0,
        vessel_ttl_s: float = 24 * 3600.0,
        duplicate_window_s: float = 30.0,
        max_vessels: int = 500_000,
    ) -> None:
        self._vessels: dict[int, Vessel] = {}
        self._max_track_points = max_track_points
        self._max_track_age = timedelta(seconds=max_track_age_s)
        self._ttl = timedelta(seconds=vessel_ttl_s)
        self._duplicate_window_s = duplicate_window_s
        self._max_vessels = max_vessels
        self.stats = FleetStats()

    def __len__(self) -> int:
        return len(self._vessels)

    def __iter__(self) -> Iterator[Vessel]:
        return iter(self._vessels.values())

    def get(self, mmsi: int) -> Vessel | None:
        return self._vessels.get(mmsi)

    def apply(self, report: Report) -> Vessel | None:
        """Fold one report into the fleet; ``None`` when it was a duplicate or carries no vessel."""
        mmsi = report.mmsi
        vessel = self._vessels.get(mmsi)
        if vessel is None:
            if len(self._vessels) >= self._max_vessels:
                self._evict()
            vessel = Vessel(mmsi, report.mmsi_valid)
            self._vessels[mmsi] = vessel
        when = report.observed_at
        fingerprint = report.fingerprint
        if fingerprint and self._is_duplicate(vessel, fingerprint, when):
            self.stats.duplicates += 1
            return None
        self.stats.reports += 1
        vessel.messages += 1
        msg_type = report.msg_type
        if msg_type in CLASS_A_TYPES:
            vessel.ais_class = "A"
        elif msg_type in CLASS_B_TYPES:
            vessel.ais_class = "B"
        in_order = when is None or vessel.last_seen is None or when >= vessel.last_seen
        if when is not None:
            if vessel.first_seen is None or when < vessel.first_seen:
                vessel.first_seen = when
            if in_order:
                vessel.last_seen = when
        if not in_order:
            self.stats.out_of_order += 1
        kind = type(report)
        if kind is PositionReport:
            self._position(vessel, report, in_order)  # type: ignore[arg-type]
        elif kind is StaticReport:
            vessel.merge_static(report)  # type: ignore[arg-type]
        return vessel

    def expire(self, now: datetime) -> list[int]:
        """Forget vessels not heard for ``vessel_ttl_s`` before ``now`` (event time)."""
        cutoff = now - self._ttl
        gone = [m for m, v in self._vessels.items() if v.last_seen is not None and v.last_seen < cutoff]
        for mmsi in gone:
            del self._vessels[mmsi]
        self.stats.expired += len(gone)
        return gone

    # ----------------------------------------------------------------- internals
    def _evict(self) -> None:
        """Make room by forgetting the vessels silent longest (untimed ones first)."""
        count = max(1, self._max_vessels // 100)
        floor = datetime.min.replace(tzinfo=UTC)
        victims = heapq.nsmallest(count, self._vessels.values(), key=lambda v: v.last_seen or floor)
        for victim in victims:
            del self._vessels[victim.mmsi]
        self.stats.evicted += len(victims)

    def _is_duplicate(self, vessel: Vessel, fingerprint: int, when: datetime | None) -> bool:
        recent = vessel.recent
        if fingerprint in recent:
            for i in range(0, len(recent), 2):
                if recent[i] == fingerprint:
                    seen_at = recent[i + 1]
                    if (
                        when is None
                        or seen_at is None
                        or abs((when - seen_at).total_seconds()) <= self._duplicate_window_s
                    ):
                        return True
        if len(recent) >= 2 * _RECENT_TRANSMISSIONS:
            del recent[:2]
        recent.append(fingerprint)
        recent.append(when)
        return False

    def _position(self, vessel: Vessel, report: PositionReport, in_order: bool) -> None:
        if report.static is not None:
            vessel.merge_static(report.static)
        if in_order:
            vessel.last_position = report
        lat, lon = report.lat, report.lon
        if lat is None or lon is None:
            return
        point = TrackPoint(report.observed_at, lat, lon, report.sog_kn, report.cog_deg)
        track = vessel.track
        if in_order or report.observed_at is None:
            track.append(point)
        else:
            self._insert(track, point)
        excess = len(track) - self._max_track_points
        if excess > 0:
            del track[:excess]
        last = vessel.last_seen
        if last is not None:
            oldest = last - self._max_track_age
            cut = 0
            for kept in track:
                if kept.t is None or kept.t >= oldest:
                    break
                cut += 1
            if cut:
                del track[:cut]

    def _insert(self, track: list[TrackPoint], point: TrackPoint) -> None:
        """File a late fix at its place in time order (tracks are short; a scan is fine)."""
        assert point.t is not None
        index = len(track)
        while index > 0:
            previous = track[index - 1].t
            if previous is None or previous <= point.t:
                break
            index -= 1
        if index == 0 and len(track) >= self._max_track_points:
            return  # older than everything we keep
        track.insert(index, point)
