"""The API writes its answers exactly as FastAPI writes a route's dict: same bytes, same headers.

Routes return :func:`seawatch.web.schemas.json_answer` so that their documented response models
neither filter nor re-serialise what is sent; this holds it to FastAPI's own answer for a route
that returns the dict, over values where JSON writers differ (non-ASCII text, small and large
floats, non-finite numbers, tuples, key order).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Response
from fastapi.testclient import TestClient

from seawatch.web.schemas import json_answer

BODY: dict[str, Any] = {
    "z": 'KM Bahari — 船 ⚓ \u2028 "quoted" <b>',
    "a": [1e-7, 1e16, 123456789.123456789, -0.0, 0.1 + 0.2, 6.5021, 2**63, -(2**40)],
    "nan": float("nan"),
    "inf": [float("inf"), float("-inf")],
    "track": [(96.3, 6.4, "2026-03-01T00:00:00Z", None, 80.0)],
    "nested": {"b": True, "a": None, "class": "A", "": {}},
}


def test_json_answer_is_fastapis_own_answer_for_a_dict() -> None:
    app = FastAPI()

    @app.get("/fastapi")
    async def fastapi_way() -> dict[str, Any]:
        return BODY

    @app.get("/ours", status_code=201)
    async def ours() -> Response:
        return json_answer(BODY, 201)

    with TestClient(app) as client:
        theirs, mine = client.get("/fastapi"), client.get("/ours")
    assert mine.content == theirs.content
    assert mine.headers == theirs.headers
    assert mine.status_code == 201
    assert list(mine.json()) == list(BODY)  # key order kept
