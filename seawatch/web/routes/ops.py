"""For operations: ``/healthz`` (open to probes, whatever the read token) and ``/metrics`` (Prometheus)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from seawatch.web.access import Reader, live_state
from seawatch.web.schemas import Health, HealthError

router = APIRouter()


@router.get(
    "/healthz",
    summary="Feed health: broker link, last message, per-source figures, task and sink states",
    responses={
        200: {"model": Health},
        503: {"model": Health | HealthError, "description": "Unhealthy (see `status`), or the check failed."},
    },
)
async def healthz(request: Request) -> JSONResponse:
    status_code, body = live_state(request).read.health()
    return JSONResponse(body, status_code=status_code)


@router.get("/metrics", response_class=PlainTextResponse, summary="Prometheus metrics")
async def metrics(live: Reader) -> PlainTextResponse:
    return PlainTextResponse(await live.read.metrics(), media_type="text/plain; version=0.0.4")
