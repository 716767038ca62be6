"""When Seawatch received each alert event, by the wall clock, for the map's ages and timelines.

An alert event's ``observed_at`` is event time: the time the AIS message says (a tag block, a
logger's timestamp). That is the right time for the record and for replay, and the wrong one to
measure "how long ago" by: a receiver with a late uplink, a satellite feed an hour behind, or the
demo (whose event time runs twenty times faster than the wall clock and reaches the present only at
the end of each lap) make an alert raised a second ago look hours old. So this alert sink notes the
wall-clock time at which the service handled each event, and the map measures ages from that, and
shows both times where they differ.

The times live in memory, bounded: after a restart, alerts taken back from the store have none, and
the map falls back to event time for them. The core stays free of clocks: nothing here feeds back
into detection or into the alert events that partners and replays see.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Response

from seawatch.core.alerts import AlertEvent
from seawatch.core.serialize import iso_utc
from seawatch.web.access import Reader
from seawatch.web.schemas import AlertReceived, ReceivedTimesOut, json_answer

MAX_ALERTS = 5000
"""Alerts whose receive times are kept (least recently updated forgotten first)."""

MAX_EVENTS_PER_ALERT = 64
"""Events kept per alert: the first (opened) always, then the latest ones (a beacon escalates often)."""


def _wall_clock() -> datetime:
    return datetime.now(UTC)


class ReceivedTimes:
    """An alert sink that remembers, per alert and event sequence, when the service handled the event."""

    def __init__(self, clock: Callable[[], datetime] = _wall_clock, max_alerts: int = MAX_ALERTS) -> None:
        self._clock = clock
        self._max_alerts = max_alerts
        self._alerts: OrderedDict[str, dict[int, datetime]] = OrderedDict()

    def __call__(self, event: AlertEvent) -> None:
        events = self._alerts.get(event.id)
        if events is None:
            events = self._alerts[event.id] = {}
            while len(self._alerts) > self._max_alerts:
                self._alerts.popitem(last=False)
        else:
            self._alerts.move_to_end(event.id)
        events.setdefault(event.sequence, self._clock())
        if len(events) > MAX_EVENTS_PER_ALERT:  # one over: drop the oldest after the first (opened)
            del events[sorted(events)[1]]

    def of(self, alert_id: str) -> dict[int, datetime]:
        return dict(self._alerts.get(alert_id, {}))

    def summary(self) -> dict[str, dict[str, Any]]:
        """Per alert: when its first known event and its latest event were received, and that sequence."""
        out: dict[str, dict[str, Any]] = {}
        for alert_id, events in self._alerts.items():
            first, last = min(events), max(events)
            out[alert_id] = {
                "first": iso_utc(events[first]),
                "first_sequence": first,
                "last": iso_utc(events[last]),
                "sequence": last,
            }
        return out


router = APIRouter()


@router.get(
    "/api/received",
    summary="When each recent alert event was received (wall clock), with the clocks",
    responses={200: {"model": ReceivedTimesOut}},
)
async def received(live: Reader) -> Response:
    return json_answer(
        {
            "now": iso_utc(_wall_clock()),
            "event_time": iso_utc(live.read.now),
            "alerts": live.hub.received.summary(),
        }
    )


@router.get(
    "/api/alerts/{alert_id}/received",
    summary="When each event of one alert was received (wall clock)",
    responses={200: {"model": AlertReceived}},
)
async def alert_received(alert_id: str, live: Reader) -> Response:
    events = live.hub.received.of(alert_id)  # none for an alert older than this run: the map shows event times only
    return json_answer({"id": alert_id, "events": {str(seq): iso_utc(at) for seq, at in sorted(events.items())}})
