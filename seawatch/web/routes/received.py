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
