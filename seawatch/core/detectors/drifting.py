"""Drifting: signs of a boat adrift or unseaworthy, as a risk score with named factors.

The factors and their weights are rules; the evidence lists the ones present, so an
operator sees *why* (e.g. ``not_under_command 0.25 + slow_in_open_water 0.15``). The
score is the weight of the factors present divided by the weight of all factors, so it
lies between 0 and 1 whatever weights an operator sets (with the default weights, which
add up to 1, it is their plain sum).
Three gates keep routine shipping and loitering out: the vessel must be slow in
open water; it must be a craft of interest (``vessels``: unidentified, of no declared
type, or fishing; or anything something came alongside), so a large identified ship
waiting for orders, an identified yacht becalmed or a ferry never counts; and something
must say the hull is carried rather than held or steered (not under command, course
apart from heading, or a slow steady drift), so a boat waiting on one spot is
loitering, not drifting. Fishing vessels and boats on a local trip from their own coast
work slowly for hours: for them the alert waits ``working_min_duration_s`` (hauling nets
lasts hours, not half a day), and the small-craft and steady-drift signs count only
after that.
The score must hold for ``min_duration_s`` before an alert opens; the course/heading
factor is judged over the last ten fixes, so one noisy heading does not flap it.
"""

from __future__ import annotations

import dataclasses
import functools
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime

from seawatch.core.alerts import Clearance, Finding, Kind, Severity
from seawatch.core.detectors.base import (
    ANCHORED,
    ENGAGED_IN_FISHING,
    FISHING_TYPE,
    NOT_UNDER_COMMAND,
    SMALL,
    UNIDENTIFIED,
    Context,
    Fix,
    Need,
    Output,
    RulesByZone,
    iso,
    label,
    round_m,
    straightness,
    vessel_groups,
    vessel_info,
)
from seawatch.core.geo import METRES_PER_NM, angle_diff_deg
from seawatch.core.rules import DriftingRules

_AT_REST_OR_FISHING = ANCHORED | {ENGAGED_IN_FISHING}  # not adrift, whatever the speed

_EVAL_EVERY_S = 30.0  # drift is slow: judging twice a minute is plenty
_FAST_SPELL_S = 600.0  # above max_speed_kn this long (below resume_speed_kn) ends a watch not yet alerted
_CALM_S = 600.0  # an open alert resolves after the score stayed low this long
_TRACK_SAMPLES = 60  # one an evaluation: the last 30 minutes, for the steady-drift sign
_STEADY_MIN_SPAN_S = 900.0  # the steady-drift sign needs a quarter of an hour of track
_STEADY_STRAIGHTNESS = 0.6  # net displacement / path length above which the motion is a drift, not a wander
_STEADY_MIN_SOG_KN = 0.3  # slower than this the hull is stopped, not carried
_STEADY_MAX_SOG_KN = 2.0  # surface currents here rarely exceed 2 kn; faster steady motion is a vessel making way


@dataclass(slots=True)
class _Drift:
    since: datetime | None = None
    low_since: datetime | None = None
    last_eval: datetime | None = None
    mismatch: deque[bool] = field(default_factory=lambda: deque(maxlen=10))
    track: deque[tuple[datetime, float, float, float]] = field(default_factory=lambda: deque(maxlen=_TRACK_SAMPLES))
    alerted: bool = False
    factors: tuple[str, ...] = ()
    fast_since: datetime | None = None  # above max_speed_kn since (not yet alerted)


class DriftingDetector:
    kind = Kind.DRIFTING
    needs = Need.SLOW_FIXES

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._state: dict[int, _Drift] = {}
        self._rules = RulesByZone[DriftingRules](ctx, "drifting")

    def on_fix(self, fix: Fix, out: Output) -> None:
        mmsi = fix.vessel.mmsi
        st = self._state.get(mmsi)
        sog = fix.sog_kn
        rules = self._rules.at(fix)
        if sog is None or fix.in_port or fix.status in _AT_REST_OR_FISHING:
            if st is not None and (fix.in_port or fix.status in ANCHORED):
                self._end(mmsi, st, fix, "anchored, moored or in port", out)
            return
        if sog > rules.max_speed_kn:
            if st is None:
                return
            if sog < rules.resume_speed_kn and not st.alerted:
                # one fast fix (a GNSS jump, a wave) must not restart hours of watching: only a
                # spell above max_speed_kn ends it
                if st.fast_since is None:
                    st.fast_since = fix.t
                if (fix.t - st.fast_since).total_seconds() < _FAST_SPELL_S:
                    return
            if sog >= rules.resume_speed_kn or not st.alerted:
                self._end(mmsi, st, fix, "under way again", out)
            return
        if not rules.enabled:
            return
        if st is not None:
            st.fast_since = None
        if st is None:
            if not fix.at_sea(rules.min_offshore_m):
                return  # near shore: nothing to hold state for
            st = self._state[mmsi] = _Drift()
        if st.last_eval is not None and (fix.t - st.last_eval).total_seconds() < _EVAL_EVERY_S:
            return
        st.last_eval = fix.t
        if not fix.at_sea(rules.min_offshore_m):
            self._end(mmsi, st, fix, "near shore or in port", out)
            return
        if fix.heading_deg is not None and fix.cog_deg is not None and sog >= 0.2:
            st.mismatch.append(angle_diff_deg(fix.heading_deg, fix.cog_deg) >= rules.mismatch_deg)
        st.track.append((fix.t, fix.lat, fix.lon, sog))
        interest = self.ctx.interest(fix.vessel, fix.t, rules.vessels)
        if not interest:  # not (or not yet) a craft of interest: the clock of "slow at sea" stops
            st.since = None
            if interest is False and st.alerted:
                self._end(mmsi, st, fix, "identified: not a craft of interest", out)
            else:
                self._calm(mmsi, st, fix, out)
            return
        if st.since is None:
            st.since = fix.t
        duration = (fix.t - st.since).total_seconds()
        working = fix.vessel.ship_type == FISHING_TYPE or self.ctx.local(mmsi, fix.t)
        if working and not self.ctx.book.alongside(mmsi):
            min_duration = rules.working_min_duration_s
            working = duration < min_duration  # past it, every sign counts
        else:
            min_duration = rules.min_duration_s
            working = False
        factors = self._factors(fix, st, rules, working)
        score = round(sum(factors.values()) / _total_weight(rules), 6)  # 0.15 + 0.1 … is exactly what it says
        carried = bool({"not_under_command", "course_heading_mismatch", "steady_drift"} & factors.keys())
        if carried and score >= rules.score_threshold:
            st.low_since = None
            if duration >= min_duration:
                st.alerted = True
                st.factors = tuple(sorted(factors))
                out.append(self._finding(fix, factors, score, duration, st, rules))
            return
        self._calm(mmsi, st, fix, out)

    def _calm(self, mmsi: int, st: _Drift, fix: Fix, out: Output) -> None:
        """Below the threshold: an open alert resolves once that has lasted ``_CALM_S``."""
        if not st.alerted:
            return
        if st.low_since is None:
            st.low_since = fix.t
        elif (fix.t - st.low_since).total_seconds() >= _CALM_S:
            self._end(mmsi, st, fix, "no longer drifting", out)

    def _factors(self, fix: Fix, st: _Drift, rules: DriftingRules, working: bool) -> dict[str, float]:
        """The factors present; ``working``: a fishing or local boat still within its working hours."""
        groups = vessel_groups(fix.vessel, fix.t, self.ctx.rules.vessel) or frozenset()
        factors: dict[str, float] = {"slow_in_open_water": rules.w_slow_in_open_water}
        if fix.status == NOT_UNDER_COMMAND:
            factors["not_under_command"] = rules.w_not_under_command
        if SMALL in groups and not working:  # fishing boats are small and slow by trade
            factors["small_craft"] = rules.w_small_craft
        if UNIDENTIFIED in groups:
            factors["unidentified"] = rules.w_unidentified
        if len(st.mismatch) >= 3 and sum(st.mismatch) * 2 >= len(st.mismatch):
            factors["course_heading_mismatch"] = rules.w_course_heading_mismatch
        if not working and _steady_drift(st.track):  # drift nets drift too
            factors["steady_drift"] = rules.w_steady_drift
        if fix.risk:
            factors["in_risk_zone"] = rules.w_in_risk_zone
        offshore = fix.offshore_m
        if offshore is not None and offshore >= rules.far_offshore_m:
            factors["far_from_shore"] = rules.w_far_from_shore
        return factors

    def _finding(
        self, fix: Fix, factors: dict[str, float], score: float, duration: float, st: _Drift, rules: DriftingRules
    ) -> Finding:
        vessel = fix.vessel
        zone = fix.risk[0] if fix.risk else None
        high = score >= rules.high_score or "not_under_command" in factors
        severity = Severity.HIGH if high else Severity.MEDIUM
        named = ", ".join(f.replace("_", " ") for f in sorted(factors, key=lambda f: (-factors[f], f)))
        offshore = fix.offshore_m
        return Finding(
            kind=Kind.DRIFTING,
            key=(vessel.mmsi,),
            observed_at=fix.t,
            severity=severity,
            summary=f"{label(vessel)} may be adrift at {fix.sog_kn:.1f} kn (risk {score:.2f}: {named}).",
            evidence={
                "risk_score": round(score, 2),
                "factors": {k: factors[k] for k in sorted(factors)},
                "duration_s": round_m(duration),
                "since": iso(st.since or fix.t),
                "sog_kn": fix.sog_kn,
                "cog_deg": fix.cog_deg,
                "heading_deg": fix.heading_deg,
                "nav_status": fix.status,
                "offshore_nm": None if offshore is None else round(offshore / METRES_PER_NM, 1),
            },
            lat=fix.lat,
            lon=fix.lon,
            vessel=vessel_info(vessel),
            zone=zone.ref if zone else None,
            zones=tuple(z.ref for z in fix.risk),
        )

    def _end(self, mmsi: int, st: _Drift, fix: Fix, reason: str, out: Output) -> None:
        del self._state[mmsi]
        if st.alerted:
            out.append(Clearance(Kind.DRIFTING, (mmsi,), fix.t, reason, evidence={"sog_kn": fix.sog_kn}))

    def slow_limit_kn(self) -> float:
        """Above this speed a window cannot start, under the global rules or any zone's."""
        return max(self._rules.of(zone).max_speed_kn for zone in (None, *self.ctx.zones))

    def holds(self, mmsi: int) -> bool:
        """Whether this detector keeps state for the vessel (else a fix under way cannot concern it)."""
        return mmsi in self._state

    def forget(self, mmsi: int) -> None:
        self._state.pop(mmsi, None)


@functools.lru_cache(maxsize=64)  # one per zone's rules at most
def _total_weight(rules: DriftingRules) -> float:
    """The weight of all factors (every ``w_`` setting): the score's denominator, 1 with the defaults."""
    total = sum(getattr(rules, f.name) for f in dataclasses.fields(rules) if f.name.startswith("w_"))
    return total if total > 0 else 1.0


def _steady_drift(track: deque[tuple[datetime, float, float, float]]) -> bool:
    """Slow, steady motion in one direction over a quarter of an hour: what a current does to a hull."""
    if len(track) < 4 or (track[-1][0] - track[0][0]).total_seconds() < _STEADY_MIN_SPAN_S:
        return False
    mean_sog = sum(p[3] for p in track) / len(track)
    if not _STEADY_MIN_SOG_KN <= mean_sog <= _STEADY_MAX_SOG_KN:
        return False
    return straightness([(p[1], p[2]) for p in track]) >= _STEADY_STRAIGHTNESS
