"""Dark: a vessel last seen in a risk zone stops reporting far beyond its expected rate.

Silence is measured in *listening* time: outages of the vessel's receiver (from
:class:`~seawatch.core.detectors.feed.FeedHealth`) are subtracted, so a dead feed
raises one feed-outage alert instead of a storm of dark ones. The alert's time is
when the silence crossed the threshold, not when a tick noticed it, so live and
replay agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from seawatch.core.alerts import Clearance, Finding, Kind, Severity, VesselInfo, ZoneRef
from seawatch.core.detectors.base import (
    UNIDENTIFIED,
    Context,
    Fix,
    Need,
    Output,
    RulesByZone,
    counts,
    expected_interval_s,
    iso,
    label,
    round_m,
    vessel_groups,
    vessel_info,
)
from seawatch.core.detectors.feed import FeedHealth
from seawatch.core.fleet import Vessel
from seawatch.core.rules import DarkRules

_FORGET_AFTER = timedelta(days=7)  # a candidate silent this long is dropped (its alert stays open)
_STOPPED_KN = 1.0  # at most this is stopped at the beach or mooring, not under way
_JUDGE_AGAIN = timedelta(seconds=60)  # who is watched is judged again a minute later (static data may arrive)


@dataclass(slots=True)
class _Candidate:
    last_seen: datetime
    lat: float
    lon: float
    source: str
    threshold_s: float
    expected_s: float
    zone: ZoneRef
    zones: tuple[ZoneRef, ...]
    vessel: VesselInfo
    name: str
    vulnerable: bool
    min_gap_s: float
    multiple: float
    judged_until: datetime
    subject: Vessel  # the fleet's record: static data that arrives later is seen when the silence is judged
    vessels: tuple[str, ...]
    alerted: bool = False


class DarkDetector:
    kind = Kind.DARK
    needs = Need.FIXES | Need.TICKS

    def __init__(self, ctx: Context) -> None:
        assert ctx.feed is not None, "the watch sets up feed health before the detectors"
        self.ctx = ctx
        self.feed: FeedHealth = ctx.feed
        self._candidates: dict[int, _Candidate] = {}
        self._skip: dict[int, datetime] = {}  # vessels judged not watched, until then
        self._rules = RulesByZone[DarkRules](ctx, "dark")

    def _home(self, fix: Fix, rules: DarkRules) -> bool:
        """Stopped by the shore or at its own coast: at its beach or mooring, where switching off is routine."""
        if rules.home_offshore_m <= 0 or fix.sog_kn is None or fix.sog_kn >= _STOPPED_KN:
            return False
        trips = self.ctx.trips
        if trips is not None and trips.at_home(fix.vessel.mmsi):
            return True  # moored at its own coast (local traffic), never on a departure coast
        offshore = fix.offshore_m
        return offshore is not None and offshore < rules.home_offshore_m

    def on_fix(self, fix: Fix, out: Output) -> None:
        mmsi = fix.vessel.mmsi
        old = self._candidates.get(mmsi)
        if old is not None and old.alerted:
            gap = (fix.t - old.last_seen).total_seconds()
            out.append(
                Clearance(
                    Kind.DARK,
                    (mmsi,),
                    fix.t,
                    f"reported again after {gap / 3600:.1f} h",
                    evidence={"reappeared_at": iso(fix.t), "gap_s": round_m(gap), "lat": fix.lat, "lon": fix.lon},
                )
            )
        if not fix.risk or fix.in_port:
            if old is not None:
                del self._candidates[mmsi]
            return
        zone = fix.risk[0]
        if old is not None and not old.alerted and old.zone.id == zone.id and fix.t < old.judged_until:
            # the same vessel in the same zone: refresh the position, keep the judgement for a while
            if self._home(fix, self._rules.of(zone)) and not self.ctx.book.in_trouble(mmsi):
                del self._candidates[mmsi]  # came home: what follows is a night ashore, not a gap
                return
            old.last_seen, old.lat, old.lon, old.source = fix.t, fix.lat, fix.lon, fix.source
            if old.expected_s != (expected := expected_interval_s(fix.vessel.ais_class, fix.sog_kn, fix.status)):
                old.expected_s = expected
                old.threshold_s = max(old.min_gap_s, old.multiple * expected)
            return
        skip = self._skip.get(mmsi)
        if skip is not None and fix.t < skip and not self.ctx.book.has_open_alert_about(mmsi):
            return  # judged not watched a moment ago (an alert since then changes that at once)
        rules = self._rules.of(zone)
        groups = vessel_groups(fix.vessel, fix.t, self.ctx.rules.vessel)
        watched = self.ctx.book.has_open_alert_about(mmsi)
        # (last) a boat in trouble (adrift, a beacon, a report) stopped by the shore may be stranded: watch it
        if (
            not rules.enabled
            or not (watched or counts(groups, rules.vessels))
            or (self._home(fix, rules) and not self.ctx.book.in_trouble(mmsi))
        ):
            if old is not None:
                del self._candidates[mmsi]
            self._skip[mmsi] = fix.t + _JUDGE_AGAIN
            return
        self._skip.pop(mmsi, None)
        expected = expected_interval_s(fix.vessel.ais_class, fix.sog_kn, fix.status)
        self._candidates[mmsi] = _Candidate(
            last_seen=fix.t,
            lat=fix.lat,
            lon=fix.lon,
            source=fix.source,
            threshold_s=max(rules.min_gap_s, rules.expected_multiple * expected),
            expected_s=expected,
            zone=zone.ref,
            zones=tuple(z.ref for z in fix.risk),
            vessel=vessel_info(fix.vessel),
            name=label(fix.vessel),
            vulnerable=watched or (groups is not None and UNIDENTIFIED in groups),
            min_gap_s=rules.min_gap_s,
            multiple=rules.expected_multiple,
            judged_until=fix.t + _JUDGE_AGAIN,
            subject=fix.vessel,
            vessels=rules.vessels,
        )

    def on_tick(self, now: datetime, out: Output) -> None:
        if len(self._skip) > 10_000:
            self._skip = {m: t for m, t in self._skip.items() if t > now}
        for mmsi, c in list(self._candidates.items()):
            if c.alerted:
                if now - c.last_seen > _FORGET_AFTER:
                    del self._candidates[mmsi]
                continue
            listening = self.feed.listening_s(c.source, c.last_seen, now)
            if listening < c.threshold_s:
                continue
            if not self.ctx.book.has_open_alert_about(mmsi) and not counts(
                vessel_groups(c.subject, now, self.ctx.rules.vessel), c.vessels
            ):
                del self._candidates[mmsi]  # its static data, come since, says it is not a craft of interest
                continue
            c.alerted = True
            outage_s = (now - c.last_seen).total_seconds() - listening
            crossed = c.last_seen + timedelta(seconds=c.threshold_s + outage_s)
            out.append(
                Finding(
                    kind=Kind.DARK,
                    key=(mmsi,),
                    observed_at=min(crossed, now),
                    severity=Severity.HIGH if c.vulnerable else Severity.MEDIUM,
                    summary=(
                        f"{c.name} has not reported for {c.threshold_s / 3600:.1f} h since it was last seen "
                        f"in {c.zone.name} (expected every {c.expected_s:.0f} s)."
                    ),
                    evidence={
                        "last_seen": iso(c.last_seen),
                        "silent_s": round_m(c.threshold_s),
                        "expected_interval_s": round_m(c.expected_s),
                        "threshold_s": round_m(c.threshold_s),
                        "feed_outage_s": round_m(outage_s),
                        "source": c.source,
                    },
                    lat=c.lat,
                    lon=c.lon,
                    vessel=c.vessel,
                    zone=c.zone,
                    zones=c.zones,
                )
            )

    def forget(self, mmsi: int) -> None:
        self._skip.pop(mmsi, None)
        candidate = self._candidates.get(mmsi)
        if candidate is not None and not candidate.alerted:
            del self._candidates[mmsi]
