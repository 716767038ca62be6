"""The zones as GeoJSON: id, name, kind, severity and source of each outline."""

from __future__ import annotations

import json

from fastapi import APIRouter, Response

from seawatch.web.access import Reader
from seawatch.web.schemas import ZoneCollection, json_answer

router = APIRouter()


@router.get("/api/zones", summary="The zones as GeoJSON", responses={200: {"model": ZoneCollection}})
async def zones(live: Reader) -> Response:
    import shapely

    return json_answer(
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "geometry": json.loads(shapely.to_geojson(z.geometry)),
                    "properties": {
                        "id": z.id,
                        "name": z.name,
                        "kind": z.kind.value,
                        "severity": z.severity.value,
                        "source": z.source,
                    },
                }
                for z in live.read.zones
            ],
        }
    )
