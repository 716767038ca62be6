"""What detectors say and what the alert book publishes.

A detector emits :class:`Finding` (a condition holds, with its evidence) and
:class:`Clearance` (it no longer holds, and why). The alert book turns those into
:class:`AlertEvent` — the one record that replay writes, webhooks carry and the map
shows (the alert event contract: docs/alerts.md, "The alert event").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        """0 for critical … 4 for info: sorts the most urgent first."""
        return _RANK[self]


_RANK = {Severity.CRITICAL: 0, Severity.HIGH: 1, Severity.MEDIUM: 2, Severity.LOW: 3, Severity.INFO: 4}


class Kind(StrEnum):
    DISTRESS = "distress"
    ZONE_ENTRY = "zone_entry"
    LOITERING = "loitering"
    DRIFTING = "drifting"
    DARK = "dark"
    RENDEZVOUS = "rendezvous"
    DISEMBARKATION = "disembarkation"
    REPORT = "report"
    FEED_OUTAGE = "feed_outage"  # feed health: nobody reporting, instead of a storm of `dark`


class EventType(StrEnum):
    OPENED = "alert.opened"
    UPDATED = "alert.updated"
    ACKNOWLEDGED = "alert.acknowledged"
    RESOLVED = "alert.resolved"
    RETRACTED = "alert.retracted"


class Status(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    RETRACTED = "retracted"


@dataclass(frozen=True, slots=True)
class VesselInfo:
    """Who the alert is about, as known when it was raised (all from AIS: untrusted text)."""

    mmsi: int
    name: str | None = None
    ship_type: int | None = None
    length_m: int | None = None
    ais_class: str | None = None
    callsign: str | None = None
    imo: int | None = None


@dataclass(frozen=True, slots=True)
class ZoneRef:
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class Finding:
    """A detector's claim that a condition holds now.

    ``key`` identifies the subject (a vessel, a sorted vessel pair, a feed source);
    together with ``kind``, ``zone_key`` and ``test`` it names the one alert this
    finding opens or updates. ``notable`` marks a material change only the detector
    can see; the book publishes it once the alert's minimum interval has passed.
    ``zones`` lists every zone the finding is in, the most specific (``zone``) first.
    """

    kind: Kind
    key: tuple[int | str, ...]
    observed_at: datetime
    severity: Severity
    summary: str
    evidence: dict[str, Any]
    lat: float | None = None
    lon: float | None = None
    vessel: VesselInfo | None = None
    other: VesselInfo | None = None
    zone: ZoneRef | None = None
    zone_key: str | None = None  # the zone is part of the alert's identity (zone_entry, disembarkation)
    zones: tuple[ZoneRef, ...] = ()
    test: bool = False
    notable: bool = False
    escalates: bool = False  # distress: re-escalates until acknowledged


@dataclass(frozen=True, slots=True)
class Clearance:
    """A detector's word that the condition behind an open alert is over."""

    kind: Kind
    key: tuple[int | str, ...]
    observed_at: datetime
    reason: str
    zone_key: str | None = None
    test: bool | None = None  # None: whichever of test/real is open
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """One line of ``alerts.jsonl``, one webhook body, one API item."""

    id: str
    event: EventType
    sequence: int  # 1, 2, 3 … per alert: partners can order and de-duplicate
    kind: Kind
    severity: Severity
    status: Status
    test: bool
    mmsi: int | None
    vessel: VesselInfo | None
    other: VesselInfo | None
    lat: float | None
    lon: float | None
    zone: ZoneRef | None
    observed_at: datetime
    opened_at: datetime
    summary: str
    evidence: dict[str, Any]
    by: str | None = None  # who acknowledged/resolved, for operator actions
    note: str | None = None
    zones: tuple[ZoneRef, ...] = ()  # every zone the alert is in, ``zone`` (the most specific) first
