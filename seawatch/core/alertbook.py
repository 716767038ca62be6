"""The alert book: one open alert per situation, and the lifecycle of each.

Detectors may say the same thing on every report; the book turns that into one
``alert.opened``, then ``alert.updated`` only on a *material* change, then
``alert.resolved``. Material, all in event time so that live and replay agree:

* at once: a worse severity, or a first position for an alert that had none;
* once ``update_min_interval_s`` has passed since the alert's last event: a factor
  gained or lost (``evidence.factors``), a move of ``update_move_m`` for alerts whose
  position is the news (:data:`POSITION_NEWS`), an ETA in another band
  (``eta_bands_s``), or a change its detector marks ``notable``.

Anything else (a duration that grew, a speed that changed) is kept as the newest
evidence and goes out with the next event. Every update is a webhook to every partner,
so this rule is the alert's own; channels may add rate limits of their own. Distress
alerts are never quietened: they re-escalate on a doubling interval until a person
acknowledges them.

Alert identity is (kind, subject, zone where the zone is part of the situation,
test or real), and the alert id is derived from that identity and the event time
it opened at, so a replay of the same log yields the same ids, byte for byte.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from seawatch.core.alerts import (
    AlertEvent,
    Clearance,
    EventType,
    Finding,
    Kind,
    Severity,
    Status,
    VesselInfo,
    ZoneRef,
)
from seawatch.core.geo import fast_distance_m
from seawatch.core.rules import AlertBookRules, DistressRules

AlertKey = tuple[Kind, tuple[int | str, ...], str | None, bool]
_ZONE_KEYED = frozenset({Kind.ZONE_ENTRY, Kind.DISEMBARKATION})  # kinds whose zone is part of the situation
# Kinds whose position is the news: where to search. A zone entry's or a disembarkation's vessel
# moves on by design (the map shows where it is); their news is the entry and the ETA.
POSITION_NEWS = frozenset({Kind.DISTRESS, Kind.DRIFTING, Kind.LOITERING, Kind.RENDEZVOUS, Kind.REPORT})


@dataclass(slots=True)
class Alert:
    """The book's record of one alert; its last event is what the API shows."""

    id: str
    key: AlertKey
    last: AlertEvent
    published_at: datetime  # event time of the last published event
    pending: Finding | None = None  # newer evidence not yet published
    pending_notable: bool = False  # a finding marked notable waits for the minimum interval
    escalates: bool = False
    escalations: int = 0
    next_escalation: datetime | None = None
    last_signal_at: datetime | None = None  # event time of the newest finding (a beacon's last report)
    summary: str = ""  # the detector's latest sentence, without escalation wording

    @property
    def status(self) -> Status:
        return self.last.status


class AlertBook:
    def __init__(self, rules: AlertBookRules | None = None, distress: DistressRules | None = None) -> None:
        self.rules = rules or AlertBookRules()
        self.distress = distress or DistressRules()
        self._open: dict[AlertKey, Alert] = {}
        self._by_kind: dict[Kind, dict[AlertKey, Alert]] = {}  # the same alerts, per kind (detectors ask by kind)
        self._by_id: dict[str, Alert] = {}
        self._serial: dict[AlertKey, int] = {}
        self.counts: dict[str, int] = {}  # alerts opened per kind
        self._open_per_mmsi: dict[int, int] = {}

    # ------------------------------------------------------------------ queries
    def __iter__(self) -> Iterator[Alert]:
        return iter(self._open.values())

    def __len__(self) -> int:
        """Open (and acknowledged) alerts."""
        return len(self._open)

    def get(self, alert_id: str) -> Alert | None:
        return self._by_id.get(alert_id)

    def open_for(self, kind: Kind, key: tuple[int | str, ...]) -> list[Alert]:
        return [a for k, a in self._by_kind.get(kind, {}).items() if k[1] == key]

    def open_of_kind(self, kind: Kind) -> list[Alert]:
        return list(self._by_kind.get(kind, {}).values())

    def open_count(self, kind: Kind) -> int:
        return len(self._by_kind.get(kind, ()))

    def has_open_alert_about(self, mmsi: int) -> bool:
        """Whether any open alert is about this vessel (dark counts such vessels always)."""
        return mmsi in self._open_per_mmsi

    def alongside(self, mmsi: int) -> bool:
        """Whether an open rendezvous alert has this vessel in it (something came alongside)."""
        if mmsi not in self._open_per_mmsi:
            return False
        return any(mmsi in key[1] for key in self._by_kind.get(Kind.RENDEZVOUS, ()))

    def in_trouble(self, mmsi: int) -> bool:
        """Whether an open alert says this vessel may need help: anything but a plain zone entry."""
        if mmsi not in self._open_per_mmsi:
            return False
        return any(
            mmsi in key[1] for kind, alerts in self._by_kind.items() if kind is not Kind.ZONE_ENTRY for key in alerts
        )

    def restore(self, events: Iterator[AlertEvent] | list[AlertEvent]) -> int:
        """Take back the open alerts a store kept across a restart (their last events).

        Detectors start afresh, so their next finding about the same situation must
        land on the same alert instead of opening a second one; the key is rebuilt
        from what the event says. Returns how many alerts were restored.
        """
        restored = 0
        for ev in events:
            if ev.status not in (Status.OPEN, Status.ACKNOWLEDGED):
                continue
            if ev.kind is Kind.RENDEZVOUS and ev.mmsi is not None and ev.other is not None:
                a, b = sorted((ev.mmsi, ev.other.mmsi))
                subject: tuple[int | str, ...] = (a, b)
            elif ev.kind is Kind.FEED_OUTAGE:
                subject = (str(ev.evidence.get("source", "")),)
            elif ev.kind is Kind.REPORT:
                subject = (str(ev.evidence.get("report_id", ev.id)),)
            elif ev.mmsi is not None:
                subject = (ev.mmsi,)
            else:
                subject = (ev.id,)
            zone_key = ev.zone.id if ev.zone is not None and ev.kind in _ZONE_KEYED else None
            key: AlertKey = (ev.kind, subject, zone_key, ev.test)
            if key in self._open:
                continue
            alert = Alert(id=ev.id, key=key, last=ev, published_at=ev.observed_at, summary=ev.summary)
            alert.last_signal_at = _last_signal(ev)
            escalating_kind = ev.kind is Kind.DISTRESS or (
                ev.kind is Kind.REPORT and ev.evidence.get("report_kind") == "distress_call"
            )
            if escalating_kind and not ev.test and ev.status is Status.OPEN:
                alert.escalates = True
                alert.escalations = int(ev.evidence.get("escalation", 0) or 0)
                interval = self._escalation_interval_s(alert.escalations)
                alert.next_escalation = ev.observed_at + timedelta(seconds=interval)
            self._index(alert)
            restored += 1
        return restored

    # --------------------------------------------------------------- detectors
    def apply(self, item: Finding | Clearance) -> list[AlertEvent]:
        if isinstance(item, Finding):
            return self._finding(item)
        return self._clearance(item)

    def _finding(self, f: Finding) -> list[AlertEvent]:
        key: AlertKey = (f.kind, f.key, f.zone_key, f.test)
        alert = self._open.get(key)
        if alert is None:
            return [self._open_alert(key, f)]
        if alert.last_signal_at is None or f.observed_at > alert.last_signal_at:
            alert.last_signal_at = f.observed_at
        last = alert.last
        worse = f.severity.rank < last.severity.rank
        # a position for an alert that had none (a beacon first heard without one) goes out at once
        located = f.lat is not None and f.lon is not None and (last.lat is None or last.lon is None)
        if worse or located:
            return [self._publish(alert, EventType.UPDATED, f, severity=min(f.severity, last.severity, key=_rank))]
        alert.pending_notable = alert.pending_notable or f.notable
        interval_over = (f.observed_at - alert.published_at).total_seconds() >= self.rules.update_min_interval_s
        if interval_over and (alert.pending_notable or self.material(alert, f)):
            return [self._publish(alert, EventType.UPDATED, f, severity=min(f.severity, last.severity, key=_rank))]
        alert.pending = f
        return []

    def material(self, alert: Alert, f: Finding) -> bool:
        """Whether a finding differs from the alert's last event in something an operator acts on."""
        last = alert.last
        if _factors(f.evidence) != _factors(last.evidence):
            return True
        if (
            f.kind in POSITION_NEWS
            and f.lat is not None
            and f.lon is not None
            and last.lat is not None
            and last.lon is not None
            and fast_distance_m(f.lat, f.lon, last.lat, last.lon) >= self.rules.update_move_m
        ):
            return True
        return self.eta_band(f.evidence.get("eta_s")) != self.eta_band(last.evidence.get("eta_s"))

    def eta_band(self, eta_s: Any) -> int | None:
        """Index of the ETA band ``eta_s`` falls in (0: the first band), ``None`` without an ETA."""
        if not isinstance(eta_s, int | float) or isinstance(eta_s, bool):
            return None
        return sum(1 for edge in self.rules.eta_bands_s if eta_s >= edge)

    def _clearance(self, c: Clearance) -> list[AlertEvent]:
        events: list[AlertEvent] = []
        for key, alert in list(self._open.items()):
            kind, subject, zone_key, test = key
            if kind is not c.kind or subject != c.key or zone_key != c.zone_key:
                continue
            if c.test is not None and test != c.test:
                continue
            if alert.escalates and not test and alert.status is not Status.ACKNOWLEDGED:
                continue  # a real distress closes only once a person has seen it
            events.append(self._close(alert, c.observed_at, c.reason, c.evidence))
        return events

    # ----------------------------------------------------------------- operators
    def acknowledge(self, alert_id: str, at: datetime, by: str, note: str | None = None) -> AlertEvent | None:
        alert = self._by_id.get(alert_id)
        if alert is None or alert.status not in (Status.OPEN,):
            return None
        alert.escalates = False
        alert.next_escalation = None
        return self._emit(alert, EventType.ACKNOWLEDGED, Status.ACKNOWLEDGED, at, by=by, note=note)

    def assign(self, alert_id: str, at: datetime, by: str, to: str, note: str | None = None) -> AlertEvent | None:
        """Give an open alert to someone (a rescue unit, a duty officer): kept in its evidence and history."""
        alert = self._by_id.get(alert_id)
        if alert is None or alert.status not in (Status.OPEN, Status.ACKNOWLEDGED):
            return None
        evidence = dict(alert.pending.evidence if alert.pending is not None else alert.last.evidence)
        evidence["assigned_to"] = to
        return self._emit(alert, EventType.UPDATED, alert.status, at, by=by, note=note, evidence=evidence)

    def report(self, finding: Finding) -> AlertEvent:
        """A person's report (a sighting, a distress call) opens an alert like any detector's finding."""
        (event,) = self._finding(finding)
        return event

    def resolve(self, alert_id: str, at: datetime, by: str, note: str | None = None) -> AlertEvent | None:
        alert = self._by_id.get(alert_id)
        if alert is None or alert.status not in (Status.OPEN, Status.ACKNOWLEDGED):
            return None
        return self._close(alert, at, "resolved by an operator", {}, by=by, note=note)

    def retract(self, alert_id: str, at: datetime, by: str, note: str) -> AlertEvent | None:
        """Withdraw an alert that should never have been raised (a false alarm), with the reason why.

        Unlike a resolution, this tells partners the alert was wrong (CAP ``Cancel``) and keeps
        the reason in the audit log. It does not mute the vessel: if the evidence goes on, the
        detector opens a new alert, so a retraction can never hide a real distress.
        """
        alert = self._by_id.get(alert_id)
        if alert is None or alert.status not in (Status.OPEN, Status.ACKNOWLEDGED):
            return None
        return self._close(alert, at, "retracted by an operator", {}, by=by, note=note, retracted=True)

    # --------------------------------------------------------------------- time
    def tick(self, now: datetime) -> list[AlertEvent]:
        """Re-escalate unacknowledged distress alerts that are due (at their due time, not ``now``)."""
        events: list[AlertEvent] = []
        for alert in self.open_of_kind(Kind.DISTRESS) + self.open_of_kind(Kind.REPORT):
            horizon = now
            if alert.last_signal_at is not None:
                horizon = min(now, alert.last_signal_at + timedelta(seconds=self.distress.escalate_silent_s))
            while alert.escalates and alert.next_escalation is not None and alert.next_escalation <= horizon:
                due = alert.next_escalation
                alert.escalations += 1
                pending = alert.pending
                if pending is not None and pending.observed_at <= due:
                    # what was known at the due time goes into the escalation; later findings wait
                    alert.last = replace(
                        alert.last,
                        lat=pending.lat,
                        lon=pending.lon,
                        evidence=_carry(pending.evidence, alert.last.evidence),
                    )
                    alert.summary = pending.summary
                    alert.pending = None
                evidence = dict(alert.last.evidence)
                evidence["escalation"] = alert.escalations
                interval = self._escalation_interval_s(alert.escalations)
                alert.next_escalation = due + timedelta(seconds=interval)
                summary = f"Not yet acknowledged (escalation {alert.escalations}): {alert.summary}"
                events.append(
                    self._emit(
                        alert, EventType.UPDATED, alert.status, due, evidence=evidence, summary=summary, absorb=False
                    )
                )
        return events

    # ---------------------------------------------------------------- internals
    def _escalation_interval_s(self, escalations: int) -> float:
        """5, 10, 20, 40 … minutes, capped (the exponent too: a long silence must not overflow)."""
        every = self.distress.escalate_every_s * 2 ** min(escalations, 32)
        return float(min(every, self.distress.escalate_max_interval_s))

    def _open_alert(self, key: AlertKey, f: Finding) -> AlertEvent:
        serial = self._serial.get(key, 0) + 1
        self._serial[key] = serial
        seed = f"{f.kind}|{'/'.join(map(str, f.key))}|{f.zone_key}|{f.test}|{f.observed_at.isoformat()}|{serial}"
        alert_id = f"{f.kind.value}-{hashlib.blake2b(seed.encode(), digest_size=8).hexdigest()}"
        first = AlertEvent(
            id=alert_id,
            event=EventType.OPENED,
            sequence=1,
            kind=f.kind,
            severity=f.severity,
            status=Status.OPEN,
            test=f.test,
            mmsi=_mmsi(f.vessel),
            vessel=f.vessel,
            other=f.other,
            lat=f.lat,
            lon=f.lon,
            zone=f.zone,
            observed_at=f.observed_at,
            opened_at=f.observed_at,
            summary=f.summary,
            evidence=f.evidence,
            zones=_zones(f),
        )
        alert = Alert(id=alert_id, key=key, last=first, published_at=f.observed_at, summary=f.summary)
        alert.last_signal_at = f.observed_at
        if f.escalates and not f.test:
            alert.escalates = True
            alert.next_escalation = f.observed_at + timedelta(seconds=self.distress.escalate_every_s)
        self._index(alert)
        self.counts[f.kind.value] = self.counts.get(f.kind.value, 0) + 1
        return first

    def _publish(self, alert: Alert, event: EventType, f: Finding, severity: Severity) -> AlertEvent:
        alert.pending = None
        alert.pending_notable = False
        ev = replace(
            alert.last,
            event=event,
            sequence=alert.last.sequence + 1,
            severity=severity,
            vessel=f.vessel or alert.last.vessel,
            other=f.other or alert.last.other,
            lat=f.lat if f.lat is not None else alert.last.lat,
            lon=f.lon if f.lon is not None else alert.last.lon,
            zone=f.zone if f.zone is not None else alert.last.zone,
            zones=_zones(f) if f.zone is not None else alert.last.zones,
            observed_at=f.observed_at,
            summary=f.summary,
            evidence=_carry(f.evidence, alert.last.evidence),
            by=None,
            note=None,
        )
        alert.last = ev
        alert.published_at = f.observed_at
        alert.summary = f.summary
        return ev

    def _emit(
        self,
        alert: Alert,
        event: EventType,
        status: Status,
        at: datetime,
        *,
        by: str | None = None,
        note: str | None = None,
        evidence: dict[str, Any] | None = None,
        summary: str | None = None,
        absorb: bool = True,
    ) -> AlertEvent:
        """Publish one lifecycle event stamped ``at``.

        With ``absorb`` the newest unpublished finding (position, evidence) goes into the
        event; escalations do not absorb, so they stay at their due time with the evidence
        that was due then, and the newer finding waits for the next update.
        """
        base = alert.last
        if absorb:
            # never before what the alert already showed (an acknowledgement, a newer finding)
            at = max(at, base.observed_at)
            if alert.pending is not None:
                p = alert.pending
                base = replace(base, lat=p.lat, lon=p.lon, evidence=_carry(p.evidence, base.evidence))
                alert.summary = p.summary
                alert.pending = None
                at = max(at, p.observed_at)
        ev = replace(
            base,
            event=event,
            sequence=alert.last.sequence + 1,
            status=status,
            observed_at=at,
            evidence=evidence if evidence is not None else base.evidence,
            summary=summary or alert.summary,
            by=by,
            note=note,
        )
        alert.last = ev
        alert.published_at = max(at, alert.published_at)
        return ev

    def _close(
        self,
        alert: Alert,
        at: datetime,
        reason: str,
        evidence: dict[str, Any],
        by: str | None = None,
        note: str | None = None,
        retracted: bool = False,
    ) -> AlertEvent:
        latest = alert.pending.evidence if alert.pending is not None else alert.last.evidence
        merged = dict(latest)
        merged.update(evidence)
        merged["resolution"] = reason
        summary = alert.pending.summary if alert.pending is not None else alert.summary
        ev = self._emit(
            alert,
            EventType.RETRACTED if retracted else EventType.RESOLVED,
            Status.RETRACTED if retracted else Status.RESOLVED,
            at,
            by=by,
            note=note,
            evidence=merged,
            summary=f"{'Retracted' if retracted else 'Resolved'} ({reason}): {summary}",
        )
        self._unindex(alert)
        return ev

    def _index(self, alert: Alert) -> None:
        """File an open alert under every view the book answers from (key, id, kind, vessel)."""
        key = alert.key
        self._open[key] = alert
        self._by_id[alert.id] = alert
        self._by_kind.setdefault(key[0], {})[key] = alert
        for m in key[1]:
            if isinstance(m, int):
                self._open_per_mmsi[m] = self._open_per_mmsi.get(m, 0) + 1

    def _unindex(self, alert: Alert) -> None:
        key = alert.key
        del self._open[key]
        del self._by_id[alert.id]
        del self._by_kind[key[0]][key]
        for m in key[1]:
            if isinstance(m, int):
                left = self._open_per_mmsi[m] - 1
                if left:
                    self._open_per_mmsi[m] = left
                else:
                    del self._open_per_mmsi[m]


def _last_signal(ev: AlertEvent) -> datetime:
    """When the signal behind a restored alert was last heard (a beacon's ``last_heard``, else its event time)."""
    heard = ev.evidence.get("last_heard")
    if isinstance(heard, str):
        try:
            return datetime.fromisoformat(heard.replace("Z", "+00:00"))
        except ValueError:
            pass
    return ev.opened_at if "escalation" in ev.evidence else ev.observed_at


_OPERATOR_KEYS = ("assigned_to",)  # evidence an operator added, kept when a detector updates the alert


def _carry(evidence: dict[str, Any], previous: dict[str, Any]) -> dict[str, Any]:
    missing = [k for k in _OPERATOR_KEYS if k in previous and k not in evidence]
    if not missing:
        return evidence
    return {**evidence, **{k: previous[k] for k in missing}}


def _factors(evidence: dict[str, Any]) -> frozenset[str]:
    """The names of the factors in an alert's evidence (a drifting risk score's), or none."""
    factors = evidence.get("factors")
    return frozenset(factors) if isinstance(factors, dict | list | tuple) else frozenset()


def _zones(f: Finding) -> tuple[ZoneRef, ...]:
    """Every zone the alert is in, the most specific (its ``zone``) first."""
    if f.zones:
        return f.zones
    return () if f.zone is None else (f.zone,)


def _rank(severity: Severity) -> int:
    return severity.rank


def _mmsi(vessel: VesselInfo | None) -> int | None:
    return None if vessel is None else vessel.mmsi


__all__ = ["Alert", "AlertBook", "ZoneRef"]
