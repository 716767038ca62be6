"""Rendezvous: two vessels close together and slow for a while at sea — a transfer.

Slow vessels at sea sit in a grid of 0.01° cells (about 1.1 km, more than twice
``max_distance_m``), so finding the neighbours of a fix looks at nine cells, not at
the fleet. A pair is remembered from the first fix that finds them together; it is
forgotten when they part (``break_distance_m``), speed up, or one falls silent.

A transfer of people needs a boat: at least one of the two must be a craft of interest
(``vessels``), and two identified fishing vessels (ship type 30, named) together are
fishing in company (pair trawling), not a transfer; nor are two small craft moored by the
shore outside a departure coast. Ships waiting for orders side by side are not either. The pair is
judged when its time together is long enough, and again at every look after that, so
static data that arrives late closes an alert about two vessels that turn out to be
fishing together.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from seawatch.core.alerts import Clearance, Finding, Kind, Severity
from seawatch.core.detectors.base import (
    ANCHORED,
    FISHING,
    FISHING_TYPE,
    SMALL,
    UNIDENTIFIED,
    Context,
    Fix,
    Need,
    Output,
    RulesByZone,
    counts,
    iso,
    label,
    round_m,
    vessel_groups,
    vessel_info,
)
from seawatch.core.fleet import Vessel
from seawatch.core.geo import fast_distance_m
from seawatch.core.rules import RendezvousRules

_CELL_DEG = 0.01
_EVAL_EVERY_S = 20.0  # a transfer lasts tens of minutes; three looks a minute suffice


@dataclass(slots=True)
class _Slow:
    vessel: Vessel
    t: datetime
    lat: float
    lon: float
    sog: float
    cell: tuple[int, int]
    last_eval: datetime | None = None
    status: int | None = None  # navigational status of the latest fix


@dataclass(slots=True)
class _Pair:
    since: datetime
    last_together: datetime
    closest_m: float
    alerted: bool = False
    dismissed: bool = False  # judged not a transfer after an alert closed: no second alert while together


class RendezvousDetector:
    kind = Kind.RENDEZVOUS
    needs = Need.FIXES | Need.TICKS  # a slow boat may come alongside a ship under way

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._slow: dict[int, _Slow] = {}
        self._grid: dict[tuple[int, int], set[int]] = {}
        self._pairs: dict[tuple[int, int], _Pair] = {}
        self._pairs_of: dict[int, set[tuple[int, int]]] = {}
        self._rules = RulesByZone[RendezvousRules](ctx, "rendezvous")

    def on_fix(self, fix: Fix, out: Output) -> None:
        mmsi = fix.vessel.mmsi
        rules = self._rules.at(fix)
        sog = fix.sog_kn
        slow = self._slow.get(mmsi)
        eligible = (
            rules.enabled
            and sog is not None
            and sog <= rules.max_speed_kn
            and fix.vessel.ship_type not in rules.exempt_ship_types
        )
        if eligible and slow is None:
            eligible = fix.at_sea(rules.min_offshore_m)
        elif eligible and slow is not None and (fix.t - (slow.last_eval or slow.t)).total_seconds() >= 300:
            eligible = fix.at_sea(rules.min_offshore_m)  # re-check now and then: it may have drifted into port
        if not eligible:
            if slow is not None:
                self._remove(mmsi, slow)
                self._part(mmsi, fix.t, "one vessel moved on", out)
            return
        assert sog is not None
        cell = (math.floor(fix.lat / _CELL_DEG), math.floor(fix.lon / _CELL_DEG))
        if slow is None:
            slow = self._slow[mmsi] = _Slow(fix.vessel, fix.t, fix.lat, fix.lon, sog, cell)
            self._grid.setdefault(cell, set()).add(mmsi)
        else:
            if cell != slow.cell:
                self._grid_discard(slow.cell, mmsi)
                self._grid.setdefault(cell, set()).add(mmsi)
                slow.cell = cell
            slow.t, slow.lat, slow.lon, slow.sog = fix.t, fix.lat, fix.lon, sog
        slow.status = fix.status
        if slow.last_eval is not None and (fix.t - slow.last_eval).total_seconds() < _EVAL_EVERY_S:
            return
        slow.last_eval = fix.t
        self._look_around(mmsi, slow, rules, fix, out)

    def _anchorage(self, a: _Slow, b: _Slow, rules: RendezvousRules) -> bool:
        """Both report at anchor or moored, near enough to land (where the coastline says so)."""
        if a.status not in ANCHORED or b.status not in ANCHORED:
            return False
        for s in (a, b):
            offshore = self.ctx.offshore_m(s.lat, s.lon)
            if offshore is None or offshore >= rules.anchorage_offshore_m:
                return False
        return True

    def _moored(self, a: _Slow, b: _Slow) -> bool:
        """Two small craft moored by the shore, outside a departure coast: boats at their jetty.

        A boat beside a ship near the shore still counts: that is what a transfer looks like.
        """
        trips = self.ctx.trips
        if trips is None or not (trips.moored(a.vessel.mmsi) and trips.moored(b.vessel.mmsi)):
            return False
        vessel_rules = self.ctx.rules.vessel
        return all(SMALL in (vessel_groups(s.vessel, s.t, vessel_rules) or ()) for s in (a, b))

    def _counts(self, a: _Slow, b: _Slow, rules: RendezvousRules) -> bool | None:
        """Whether the pair can be a transfer; ``None`` while either vessel is too new to judge."""
        vessel_rules = self.ctx.rules.vessel
        ga = vessel_groups(a.vessel, a.t, vessel_rules)
        gb = vessel_groups(b.vessel, b.t, vessel_rules)
        if ga is None or gb is None:
            return None
        if not (counts(ga, rules.vessels) or counts(gb, rules.vessels)):
            return False  # ships waiting for orders, side by side
        # two identified fishing vessels together are fishing in company (pair trawling); a boat that only
        # says it is fishing (nav status 7, or a type with no name) beside one is no such alibi
        return not all(
            g is not None and FISHING in g and UNIDENTIFIED not in g and s.vessel.ship_type == FISHING_TYPE
            for g, s in ((ga, a), (gb, b))
        )

    def _look_around(self, mmsi: int, me: _Slow, rules: RendezvousRules, fix: Fix, out: Output) -> None:
        cx, cy = me.cell
        near: set[int] = set()
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                near.update(self._grid.get((cx + dx, cy + dy), ()))
        near.discard(mmsi)
        together: set[tuple[int, int]] = set()
        # sets iterate in an order that depends on their history, which a restored snapshot does not
        # share: sorted, simultaneous findings come out in the same order after a restart as without one
        for other_mmsi in sorted(near):
            other = self._slow[other_mmsi]
            age = (me.t - other.t).total_seconds()
            if abs(age) > rules.max_fix_age_s:
                continue
            d = fast_distance_m(me.lat, me.lon, other.lat, other.lon)
            if d > rules.max_distance_m:
                continue
            key = (mmsi, other_mmsi) if mmsi < other_mmsi else (other_mmsi, mmsi)
            pair = self._pairs.get(key)
            if pair is None and (self._anchorage(me, other, rules) or self._moored(me, other)):
                continue  # riding at anchor or moored side by side: an anchorage (a pair already found goes on)
            together.add(key)
            if pair is None:
                pair = self._pairs[key] = _Pair(me.t, me.t, d)
                self._pairs_of.setdefault(mmsi, set()).add(key)
                self._pairs_of.setdefault(other_mmsi, set()).add(key)
            pair.last_together = me.t
            pair.closest_m = min(pair.closest_m, d)
            duration = (me.t - pair.since).total_seconds()
            if duration >= rules.min_duration_s:
                judged = self._counts(me, other, rules)
                if judged and pair.dismissed:
                    pair.dismissed = False  # judged a transfer again: it may alert again
                if judged is False and pair.alerted:
                    # static data came late: two fishing boats, or ships waiting; the pair stays judged
                    pair.alerted, pair.dismissed = False, True
                    out.append(
                        Clearance(Kind.RENDEZVOUS, key, me.t, "identified: fishing in company or routine traffic")
                    )
                elif judged and not pair.dismissed:
                    pair.alerted = True
                    out.append(self._finding(key, pair, d, duration, fix))
        # pairs this vessel was in that are no longer together
        for key in sorted(self._pairs_of.get(mmsi, ())):
            if key in together:
                continue
            other_mmsi = key[1] if key[0] == mmsi else key[0]
            peer = self._slow.get(other_mmsi)
            pair = self._pairs[key]
            apart = peer is None or fast_distance_m(me.lat, me.lon, peer.lat, peer.lon) > rules.break_distance_m
            stale = (me.t - pair.last_together).total_seconds() > 2 * rules.max_fix_age_s
            if apart or stale:
                self._drop_pair(key, me.t, "the vessels separated", out)

    def _finding(self, key: tuple[int, int], pair: _Pair, d: float, duration: float, fix: Fix) -> Finding:
        a, b = self._slow[key[0]], self._slow[key[1]]
        # the larger vessel leads the alert (a mother ship, a rescuer); else the lower MMSI
        first, second = (b, a) if (b.vessel.length_m or 0) > (a.vessel.length_m or 0) else (a, b)
        zone = fix.risk[0] if fix.risk else None
        return Finding(
            kind=Kind.RENDEZVOUS,
            key=key,
            observed_at=fix.t,
            severity=Severity.HIGH if zone is not None else Severity.MEDIUM,
            summary=(
                f"{label(first.vessel)} and {label(second.vessel)} have been within {round_m(d)} m of each other "
                f"at low speed for {duration / 60:.0f} min" + (f" in {zone.name}." if zone else " at sea.")
            ),
            evidence={
                "distance_m": round_m(d),
                "closest_m": round_m(pair.closest_m),
                "duration_s": round_m(duration),
                "since": iso(pair.since),
                "sog_kn": [first.sog, second.sog],
                "mmsis": [first.vessel.mmsi, second.vessel.mmsi],
            },
            lat=round((a.lat + b.lat) / 2, 6),
            lon=round((a.lon + b.lon) / 2, 6),
            vessel=vessel_info(first.vessel),
            other=vessel_info(second.vessel),
            zone=zone.ref if zone else None,
            zones=tuple(z.ref for z in fix.risk),
        )

    def _drop_pair(self, key: tuple[int, int], t: datetime, reason: str, out: Output) -> None:
        pair = self._pairs.pop(key)
        for m in key:
            keys = self._pairs_of.get(m)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._pairs_of[m]
        if pair.alerted:
            total = (pair.last_together - pair.since).total_seconds()
            out.append(Clearance(Kind.RENDEZVOUS, key, t, reason, evidence={"together_s": round_m(total)}))

    def _part(self, mmsi: int, t: datetime, reason: str, out: Output) -> None:
        for key in sorted(self._pairs_of.get(mmsi, ())):
            self._drop_pair(key, t, reason, out)

    def _remove(self, mmsi: int, slow: _Slow) -> None:
        del self._slow[mmsi]
        self._grid_discard(slow.cell, mmsi)

    def _grid_discard(self, cell: tuple[int, int], mmsi: int) -> None:
        members = self._grid.get(cell)
        if members is not None:
            members.discard(mmsi)
            if not members:
                del self._grid[cell]

    def on_tick(self, now: datetime, out: Output) -> None:
        """Forget slow vessels that went quiet, and the pairs they were in."""
        for mmsi, slow in list(self._slow.items()):
            if (now - slow.t).total_seconds() > 3600:
                self._remove(mmsi, slow)
                self._part(mmsi, slow.t, "one vessel fell silent", out)

    def forget(self, mmsi: int) -> None:
        gone = self._slow.get(mmsi)
        if gone is not None:
            self._remove(mmsi, gone)
        for key in list(self._pairs_of.get(mmsi, ())):
            self._drop_pair(key, gone.t if gone else datetime.min, "vessel forgotten", [])
