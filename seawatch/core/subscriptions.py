"""Which partner receives which alert event.

A partner subscribes to kinds, a minimum severity and zones (all optional). The
decision is made per event on what the event says; the events of one alert that
pass are delivered in their order. Beacon tests and drills are delivered too,
flagged ``test: true`` (and CAP ``status Test``), unless a partner opts out: a
partner must be able to see that its own drill arrived.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from seawatch.core.alerts import AlertEvent, Severity


@dataclass(frozen=True, slots=True)
class Subscription:
    name: str
    kinds: frozenset[str] = frozenset()  # empty: every kind
    min_severity: Severity = Severity.INFO
    zones: frozenset[str] = frozenset()  # empty: anywhere (also alerts outside every zone); else any listed zone
    include_tests: bool = True

    def wants(self, event: AlertEvent) -> bool:
        if self.kinds and event.kind.value not in self.kinds:
            return False
        if event.severity.rank > self.min_severity.rank:
            return False
        if self.zones and not any(z.id in self.zones for z in (*event.zones, *((event.zone,) if event.zone else ()))):
            return False  # any zone the alert is in matches (a boat in two overlapping zones concerns both)
        return self.include_tests or not event.test


def recipients(subscriptions: Iterable[Subscription], event: AlertEvent) -> list[str]:
    return [s.name for s in subscriptions if s.wants(event)]
