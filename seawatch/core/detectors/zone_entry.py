"""Zone entry: a craft of interest crosses into a risk zone from outside.

Zone inertia (as in frigate's zones): a vessel is *in* only after ``entry_fixes``
consecutive fixes inside and *out* only after ``exit_fixes`` outside, so a track
that weaves along a boundary, or one GPS jump across it, gives one alert, not one
per crossing. After leaving, a re-entry within ``rearm_s`` is the same situation
and raises nothing new.

An entry is a crossing of the boundary from outside:

* a vessel first heard inside a zone (where it switched its transponder on) has not
  entered it; it is judged by its behaviour (loitering, drifting, dark, …), not by where
  it switched on. A vessel heard outside a zone, then silent for ``local.trip_gap_s``,
  then heard inside it crossed in while unheard: that is an entry;
* a boat on a local trip from its own coast (:mod:`seawatch.core.trips`) does not
  count, and is judged again a minute later (a trip of more than a day is a crossing);
* which vessels count is a rule (unidentified, unknown-type and fishing craft by
  default), judged whenever the detector looks, so static data that arrives after the
  entry closes an alert about a vessel that turns out not to concern this service.

Overlapping zones crossed at the same fix give one alert: its ``zone`` is the most
specific (smallest) zone and its ``zones`` lists them all. When the zones' inertias
differ, the alert waits until every zone crossed at that fix is entered (or left).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from seawatch.core.alerts import Clearance, Finding, Kind
from seawatch.core.detectors.base import (
    Context,
    Fix,
    Need,
    Output,
    RulesByZone,
    counts,
    iso,
    label,
    vessel_groups,
    vessel_info,
)
from seawatch.core.rules import ZoneEntryRules
from seawatch.core.zones import Zone

_JUDGE_AGAIN = timedelta(seconds=60)  # a vessel that does not count (or counts) is judged again after this


@dataclass(slots=True)
class _InZone:
    inside: int = 0
    outside: int = 0
    entered: bool = False
    alerted: bool = False
    first_in: datetime | None = None  # the fix that crossed in (start of the present run inside)
    entered_at: datetime | None = None
    rearm_until: datetime | None = None
    judge_at: datetime | None = None
    started_inside: bool = False  # first heard inside: not an entry until it leaves and comes back
    group: str | None = None  # the zone whose alert this zone's entry is part of


class ZoneEntryDetector:
    kind = Kind.ZONE_ENTRY
    needs = Need.FIXES | Need.UNTIMED_FIXES  # where a vessel is counts, even untimed

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._state: dict[int, dict[str, _InZone]] = {}
        self._rules = RulesByZone[ZoneEntryRules](ctx, "zone_entry")

    def on_fix(self, fix: Fix, out: Output) -> None:
        mmsi = fix.vessel.mmsi
        states = self._state.get(mmsi)
        if not fix.risk and states is None:
            return
        if fix.in_port and fix.risk:
            return  # a port inside a risk zone is neither an entry nor an exit
        if states is None:
            states = self._state[mmsi] = {}
        trips = self.ctx.trips
        # the first fix of a trip: inside a zone it was heard outside of before, it crossed in unheard;
        # otherwise that is where it switched its transponder on
        first = trips is not None and trips.first_fix(mmsi, fix.t)
        before = trips.heard_before(mmsi) if first and trips is not None else None
        was_in = {z.id for z in self.ctx.zones.at(*before)} if before is not None else None
        here = {z.id for z in fix.risk}
        candidates: list[tuple[Zone, _InZone, ZoneEntryRules]] = []
        for zone in fix.risk:
            rules = self._rules.of(zone)
            if not rules.enabled:
                continue
            st = states.get(zone.id)
            if st is None:
                st = states[zone.id] = self._new_state(mmsi, zone.id)
            if first and not st.alerted and (was_in is None or zone.id in was_in):
                st.started_inside = True  # where it switched on (or heard inside again): not a crossing
            if st.inside == 0:
                st.first_in = fix.t
            st.inside += 1
            st.outside = 0
            if not st.entered and st.inside >= rules.entry_fixes:
                st.entered = True
                st.entered_at = fix.t
                if st.rearm_until is not None and fix.t < st.rearm_until:
                    st.alerted = True  # the same situation as the alert just resolved: stay quiet
                    st.group = zone.id
                    st.rearm_until = None
                    continue
            if (
                st.entered
                and not st.alerted
                and not st.started_inside
                and (st.judge_at is None or fix.t >= st.judge_at)
            ):
                candidates.append((zone, st, rules))
        if candidates:
            self._judge_entry(fix, states, candidates, out)
        self._rejudge_alerted(fix, states, here, out)
        self._exits(fix, states, here, out)
        if not states:
            del self._state[mmsi]

    def _new_state(self, mmsi: int, zone_id: str) -> _InZone:
        """A zone's state for a vessel; an entry alert still open (restored after a restart) is taken up."""
        for alert in self.ctx.book.open_for(Kind.ZONE_ENTRY, (mmsi,)):
            if alert.key[2] == zone_id:
                return _InZone(entered=True, alerted=True, group=zone_id)
        return _InZone()

    def _judge_entry(
        self, fix: Fix, states: dict[str, _InZone], candidates: list[tuple[Zone, _InZone, ZoneEntryRules]], out: Output
    ) -> None:
        # zones crossed at the same fix whose inertia is not yet met hold the alert back
        pending = {st.first_in for st in states.values() if st.inside and not st.entered}
        ready = [c for c in candidates if c[1].first_in not in pending]
        if not ready:
            return
        groups = vessel_groups(fix.vessel, fix.t, self.ctx.rules.vessel)
        local = self.ctx.local(fix.vessel.mmsi, fix.t)
        counting = [(z, st) for z, st, rules in ready if not local and counts(groups, rules.vessels)]
        if groups is not None or local:
            for _, st, _ in ready:
                st.judge_at = fix.t + _JUDGE_AGAIN  # routine or local traffic: look again in a minute
        if not counting:
            return
        key_zone, key_state = counting[0]  # fix.risk lists the most specific zone first
        for _, st in counting:
            st.alerted = True
            st.group = key_zone.id
            st.judge_at = fix.t + _JUDGE_AGAIN
        out.append(self._finding(fix, [z for z, _ in counting], key_state, sorted(groups or ())))

    def _rejudge_alerted(self, fix: Fix, states: dict[str, _InZone], here: set[str], out: Output) -> None:
        """Static data that came after the entry may show a vessel that does not concern this service."""
        for zone_id, st in states.items():
            if not st.alerted or st.group != zone_id or zone_id not in here:
                continue
            if st.judge_at is not None and fix.t < st.judge_at:
                continue
            st.judge_at = fix.t + _JUDGE_AGAIN
            groups = vessel_groups(fix.vessel, fix.t, self.ctx.rules.vessel)
            if groups is None or counts(groups, self._rules.of(self.ctx.zones.by_id[zone_id]).vessels):
                continue
            if self.ctx.book.in_trouble(fix.vessel.mmsi):
                continue  # whatever it turns out to be, a vessel in trouble stays watched
            what = " ".join(g.replace("_", "-") for g in sorted(groups)) or "identified vessel"
            out.append(
                Clearance(
                    kind=Kind.ZONE_ENTRY,
                    key=(fix.vessel.mmsi,),
                    zone_key=zone_id,
                    observed_at=fix.t,
                    reason=f"identified as {what} (ship type {fix.vessel.ship_type}): not a craft of interest",
                    evidence={"groups": sorted(groups), "ship_type": fix.vessel.ship_type},
                )
            )
            for other in states.values():
                if other.group == zone_id:
                    other.group = None  # judged: no new alert while it stays in these zones

    def _exits(self, fix: Fix, states: dict[str, _InZone], here: set[str], out: Output) -> None:
        mmsi = fix.vessel.mmsi
        for zone_id, st in list(states.items()):
            if zone_id in here:
                continue
            zone = self.ctx.zones.by_id[zone_id]
            rules = self._rules.of(zone)
            st.outside += 1
            st.inside = 0
            if st.entered and st.outside >= rules.exit_fixes:
                st.entered = False
                st.started_inside = False
                if st.alerted:
                    st.alerted = False
                    group, st.group = st.group, None
                    st.rearm_until = fix.t + timedelta(seconds=rules.rearm_s)
                    # the alert resolves when the vessel has left every zone of its entry
                    still_in = group is not None and any(o.group == group and o.alerted for o in states.values())
                    if group is not None and not still_in:
                        left = self.ctx.zones.by_id[group]
                        out.append(
                            Clearance(
                                kind=Kind.ZONE_ENTRY,
                                key=(mmsi,),
                                zone_key=group,
                                observed_at=fix.t,
                                reason=f"left {left.name}" if group == zone_id else f"left {zone.name}",
                                evidence={"left_at": iso(fix.t)},
                            )
                        )
            elif not st.entered and st.inside == 0:
                st.started_inside = False  # out again before its inertia: a later crossing is an entry
            if not st.entered and (st.rearm_until is None or fix.t >= st.rearm_until) and st.inside == 0:
                del states[zone_id]

    def _finding(self, fix: Fix, zones: list[Zone], st: _InZone, groups: list[str]) -> Finding:
        vessel = fix.vessel
        zone = zones[0]
        what = " ".join(g.replace("_", "-") for g in groups) or "vessel"
        also = f" (and {', '.join(z.name for z in zones[1:])})" if len(zones) > 1 else ""
        return Finding(
            kind=Kind.ZONE_ENTRY,
            key=(vessel.mmsi,),
            zone_key=zone.id,
            observed_at=fix.t,
            severity=min((z.severity for z in zones), key=lambda s: s.rank),
            summary=f"{label(vessel)} ({what}) entered {zone.name}{also}.",
            evidence={
                "groups": groups,
                "fixes_inside": st.inside,
                "entered_at": iso(st.entered_at or fix.t),
                "ship_type": vessel.ship_type,
                "length_m": vessel.length_m,
                "sog_kn": fix.sog_kn,
                "cog_deg": fix.cog_deg,
            },
            lat=fix.lat,
            lon=fix.lon,
            vessel=vessel_info(vessel),
            zone=zone.ref,
            zones=tuple(z.ref for z in zones),
        )

    def forget(self, mmsi: int) -> None:
        self._state.pop(mmsi, None)
