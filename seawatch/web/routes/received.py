"""``/api/received``: when Seawatch received each alert event, by the wall clock, for the map's ages.

Why the wall clock and not event time, and how the times are kept: :mod:`seawatch.web.pagestream`.
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from seawatch.core.serialize import iso_utc
from seawatch.web.access import Reader
from seawatch.web.pagestream import wall_clock
from seawatch.web.schemas import AlertReceived, ReceivedTimesOut, json_answer

router = APIRouter()


@router.get(
    "/api/received",
    summary="When each recent alert event was received (wall clock), with the clocks",
    responses={200: {"model": ReceivedTimesOut}},
)
async def received(live: Reader) -> Response:
    return json_answer(
        {
            "now": iso_utc(wall_clock()),
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
