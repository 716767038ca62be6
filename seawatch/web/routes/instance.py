"""``/api/instance``: which instance serves the map, for the badge the map shows with failover on.

With ``failover`` off the answer says so and nothing else; the map then shows no badge and stops
asking. On the standby of a pair it is ``read_only``: operators' actions are refused there (409)
and the map hides them, naming the leader and linking to its map (docs/failover.md).
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from seawatch.web.access import Reader
from seawatch.web.schemas import InstanceOut, json_answer

router = APIRouter()

_ALONE = {"failover": False, "instance": None, "role": None, "read_only": False, "leader": None}


@router.get(
    "/api/instance",
    summary="Which instance serves this map: its name, leader or standby, read-only or not, who leads",
    responses={200: {"model": InstanceOut}},
)
async def instance(live: Reader) -> Response:
    found = live.read.instance()
    return json_answer(_ALONE if found is None else {"failover": True, **found})
