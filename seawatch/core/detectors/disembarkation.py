"""Disembarkation: a vessel linked to a rescue heads for a place where people land.

A vessel is *linked* when it stayed slow within ``link_radius_m`` of an open
distress, drifting or report alert for ``min_alongside_s`` (a rescuer that stopped
beside the boat), or when it is itself the subject of such an alert. A linked
vessel under way whose course line reaches a disembarkation zone within
``max_eta_s`` for ``heading_fixes`` fixes in a row raises the alert, with the ETA
at its present speed; it resolves when the vessel arrives or turns away. Every look
(twice a minute) gives the alert book the latest ETA; the book publishes an update
when the ETA moves into another band (``alerts.eta_bands_s``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from seawatch.core.alerts import Clearance, Finding, Kind, Severity
from seawatch.core.detectors.base import Context, Fix, Need, Output, iso, label, round_m, vessel_info
from seawatch.core.geo import KN_TO_MS, METRES_PER_NM, fast_distance_m
from seawatch.core.zones import Zone, ZoneKind

RESCUE_KINDS = (Kind.DISTRESS, Kind.DRIFTING, Kind.REPORT)
_TURNED_AWAY_S = 1800.0  # the alert resolves after the course has missed the zone this long
_LOOK_EVERY_S = 30.0  # course lines and alongside checks at most twice a minute per vessel


@dataclass(slots=True)
class _Link:
    alert_id: str
    alert_kind: str
    linked_at: datetime
    alongside_s: float
    heading: dict[str, int] = field(default_factory=dict)  # zone id -> consecutive fixes heading there
    alerted_zone: str | None = None
    last_look: datetime | None = None
    missed_since: datetime | None = None


class DisembarkationDetector:
    kind = Kind.DISEMBARKATION
    needs = Need.FIXES | Need.TICKS  # rescuers head for port under way

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.rules = ctx.rules.disembarkation
        self._alongside: dict[tuple[int, str], datetime] = {}  # (vessel, alert id) -> since
        self._links: dict[int, _Link] = {}
        self._checked: dict[int, datetime] = {}  # vessel -> last alongside check

    def on_fix(self, fix: Fix, out: Output) -> None:
        if not self.rules.enabled or not self.ctx.disembarkation_zones:
            return
        mmsi = fix.vessel.mmsi
        link = self._links.get(mmsi)
        if link is None:
            if not any(self.ctx.book.open_count(k) for k in RESCUE_KINDS):
                return  # no rescue under way anywhere: the common case, kept cheap
            self._check_alongside(fix)
            link = self._links.get(mmsi)
            if link is None:
                return
        if fix.t - link.linked_at > timedelta(seconds=self.rules.link_ttl_s):
            del self._links[mmsi]
            return
        if link.last_look is not None and (fix.t - link.last_look).total_seconds() < _LOOK_EVERY_S:
            return
        link.last_look = fix.t
        self._check_heading(fix, link, out)

    # ------------------------------------------------------------- who rescues
    def _check_alongside(self, fix: Fix) -> None:
        mmsi = fix.vessel.mmsi
        book = self.ctx.book
        if book.has_open_alert_about(mmsi):  # the subject of a rescue alert is linked to it
            for kind in RESCUE_KINDS:
                for alert in book.open_for(kind, (mmsi,)):
                    if not alert.key[3]:
                        self._links[mmsi] = _Link(alert.id, kind.value, fix.t, 0.0)
                        return
        sog = fix.sog_kn
        if sog is None or sog > self.rules.alongside_max_speed_kn:
            return
        last_check = self._checked.get(mmsi)
        if last_check is not None and (fix.t - last_check).total_seconds() < _LOOK_EVERY_S:
            return
        self._checked[mmsi] = fix.t
        for alert in [a for kind in RESCUE_KINDS for a in book.open_of_kind(kind)]:
            if alert.key[3]:  # tests never link
                continue
            last = alert.last
            if last.lat is None or last.lon is None or mmsi in alert.key[1]:
                continue
            if fast_distance_m(fix.lat, fix.lon, last.lat, last.lon) > self.rules.link_radius_m:
                self._alongside.pop((mmsi, alert.id), None)
                continue
            since = self._alongside.setdefault((mmsi, alert.id), fix.t)
            alongside = (fix.t - since).total_seconds()
            if alongside >= self.rules.min_alongside_s and mmsi not in self._links:
                self._links[mmsi] = _Link(alert.id, alert.key[0].value, fix.t, alongside)

    # ---------------------------------------------------------- where it goes
    def _check_heading(self, fix: Fix, link: _Link, out: Output) -> None:
        mmsi = fix.vessel.mmsi
        inside = [z for z in fix.zones if z.kind is ZoneKind.DISEMBARKATION]
        if link.alerted_zone is not None and any(z.id == link.alerted_zone for z in inside):
            zone = self.ctx.zones.by_id[link.alerted_zone]
            out.append(
                Clearance(
                    Kind.DISEMBARKATION,
                    (mmsi,),
                    fix.t,
                    f"arrived in {zone.name}",
                    zone_key=zone.id,
                    evidence={"arrived_at": iso(fix.t)},
                )
            )
            del self._links[mmsi]
            return
        sog, cog = fix.sog_kn, fix.cog_deg
        if sog is None or cog is None or sog < self.rules.under_way_min_speed_kn:
            return
        reach_m = sog * KN_TO_MS * self.rules.max_eta_s
        hits = self.ctx.zones.ahead(fix.lat, fix.lon, cog, reach_m, ZoneKind.DISEMBARKATION)
        target: tuple[Zone, float] | None = hits[0] if hits else None
        for zone_id in list(link.heading):
            if target is None or zone_id != target[0].id:
                del link.heading[zone_id]
        if target is None:
            self._maybe_turned_away(fix, link, out)
            return
        zone, dist_m = target
        count = link.heading[zone.id] = link.heading.get(zone.id, 0) + 1
        if link.alerted_zone is not None and link.alerted_zone != zone.id:
            self._maybe_turned_away(fix, link, out)
            if link.alerted_zone is not None:
                return
        if count < self.rules.heading_fixes:
            return
        link.missed_since = None
        eta_s = dist_m / (sog * KN_TO_MS)
        eta = fix.t + timedelta(seconds=eta_s)
        link.alerted_zone = zone.id
        destination = (fix.vessel.destination or "").strip().upper()
        out.append(
            Finding(
                kind=Kind.DISEMBARKATION,
                key=(mmsi,),
                zone_key=zone.id,
                observed_at=fix.t,
                severity=Severity.HIGH,
                summary=(
                    f"{label(fix.vessel)}, linked to {link.alert_kind} alert {link.alert_id}, is heading for "
                    f"{zone.name}: {dist_m / METRES_PER_NM:.0f} nm, ETA {iso(eta)} at {sog:.1f} kn."
                ),
                evidence={
                    "eta": iso(eta),
                    "eta_s": round_m(eta_s),
                    "distance_nm": round(dist_m / METRES_PER_NM, 1),
                    "sog_kn": sog,
                    "cog_deg": cog,
                    "rescue_alert": link.alert_id,
                    "rescue_kind": link.alert_kind,
                    "linked_at": iso(link.linked_at),
                    "alongside_s": round_m(link.alongside_s),
                    "destination": destination or None,
                    "destination_matches": bool(destination) and any(a in destination for a in zone.aliases),
                },
                lat=fix.lat,
                lon=fix.lon,
                vessel=vessel_info(fix.vessel),
                zone=zone.ref,
            )
        )

    def _maybe_turned_away(self, fix: Fix, link: _Link, out: Output) -> None:
        if link.alerted_zone is None:
            return
        if link.missed_since is None:
            link.missed_since = fix.t
            return
        if (fix.t - link.missed_since).total_seconds() < _TURNED_AWAY_S:
            return
        zone = self.ctx.zones.by_id[link.alerted_zone]
        out.append(Clearance(Kind.DISEMBARKATION, (fix.vessel.mmsi,), fix.t, "changed course", zone_key=zone.id))
        link.alerted_zone = None
        link.missed_since = None

    def on_tick(self, now: datetime, out: Output) -> None:
        ttl = timedelta(seconds=self.rules.link_ttl_s)
        for key, since in list(self._alongside.items()):
            if now - since > ttl:
                del self._alongside[key]
        for mmsi, checked in list(self._checked.items()):
            if (now - checked).total_seconds() > _LOOK_EVERY_S:
                del self._checked[mmsi]
        for mmsi, link in list(self._links.items()):
            if now - link.linked_at > ttl and link.alerted_zone is None:
                del self._links[mmsi]

    def forget(self, mmsi: int) -> None:
        self._checked.pop(mmsi, None)
        link = self._links.get(mmsi)
        if link is not None and link.alerted_zone is None:
            del self._links[mmsi]
