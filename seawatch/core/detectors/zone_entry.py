"""Zone entry: a craft of interest enters a risk zone.

Zone inertia (as in frigate's zones): a vessel is *in* only after ``entry_fixes``
consecutive fixes inside and *out* only after ``exit_fixes`` outside, so a track
that weaves along a boundary, or one GPS jump across it, gives one alert, not one
per crossing. After leaving, a re-entry within ``rearm_s`` is the same situation
and raises nothing new. Which vessels count is a rule (small, unidentified,
fishing and unknown-type craft by default), so merchant traffic through a busy
strait is silent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from seawatch.core.alerts import Clearance, Finding, Kind
from seawatch.core.detectors.base import (
    Context,
    Fix,
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

_JUDGE_AGAIN = timedelta(seconds=60)  # an entered vessel that does not count is judged again after this


@dataclass(slots=True)
class _InZone:
    inside: int = 0
    outside: int = 0
    entered: bool = False
    alerted: bool = False
    entered_at: datetime | None = None
    rearm_until: datetime | None = None
    judge_at: datetime | None = None


class ZoneEntryDetector:
    kind = Kind.ZONE_ENTRY

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
        here = {z.id for z in fix.risk}
        for zone in fix.risk:
            rules = self._rules.of(zone)
            if not rules.enabled:
                continue
            st = states.get(zone.id)
            if st is None:
                st = states[zone.id] = _InZone()
            st.inside += 1
            st.outside = 0
            if not st.entered and st.inside >= rules.entry_fixes:
                st.entered = True
                st.entered_at = fix.t
                if st.rearm_until is not None and fix.t < st.rearm_until:
                    st.alerted = True  # the same situation as the alert just resolved: stay quiet
                    st.rearm_until = None
                    continue
            if st.entered and not st.alerted and (st.judge_at is None or fix.t >= st.judge_at):
                groups = vessel_groups(fix.vessel, fix.t, self.ctx.rules.vessel)
                if counts(groups, rules.vessels):
                    st.alerted = True
                    out.append(self._finding(fix, zone, st, sorted(groups or ())))
                elif groups is not None:
                    st.judge_at = fix.t + _JUDGE_AGAIN  # routine traffic: look again in a minute, not every fix
        for zone_id, st in list(states.items()):
            if zone_id in here:
                continue
            zone = self.ctx.zones.by_id[zone_id]
            rules = self._rules.of(zone)
            st.outside += 1
            st.inside = 0
            if st.entered and st.outside >= rules.exit_fixes:
                st.entered = False
                if st.alerted:
                    st.alerted = False
                    st.rearm_until = fix.t + timedelta(seconds=rules.rearm_s)
                    out.append(
                        Clearance(
                            kind=Kind.ZONE_ENTRY,
                            key=(mmsi,),
                            zone_key=zone_id,
                            observed_at=fix.t,
                            reason=f"left {zone.name}",
                            evidence={"left_at": iso(fix.t)},
                        )
                    )
            if not st.entered and (st.rearm_until is None or fix.t >= st.rearm_until) and st.inside == 0:
                del states[zone_id]
        if not states:
            del self._state[mmsi]

    def _finding(self, fix: Fix, zone: Zone, st: _InZone, groups: list[str]) -> Finding:
        vessel = fix.vessel
        what = " ".join(g.replace("_", "-") for g in groups) or "vessel"
        return Finding(
            kind=Kind.ZONE_ENTRY,
            key=(vessel.mmsi,),
            zone_key=zone.id,
            observed_at=fix.t,
            severity=zone.severity,
            summary=f"{label(vessel)} ({what}) entered {zone.name}.",
            evidence={
                "groups": groups,
                "fixes_inside": st.inside,
                "entered_at": iso(st.entered_at or fix.t),
                "ship_type": vessel.ship_type,
                "length_m": vessel.length_m,
                "sog_kn": fix.sog,
                "cog_deg": fix.cog,
            },
            lat=fix.lat,
            lon=fix.lon,
            vessel=vessel_info(vessel),
            zone=zone.ref,
        )

    def on_tick(self, now: datetime, out: Output) -> None:
        return None

    def forget(self, mmsi: int) -> None:
        self._state.pop(mmsi, None)
