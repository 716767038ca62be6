"""The HTTP side: API, live map, operator actions, health and metrics.

:func:`create_app` builds a FastAPI app over a read model and a command port
(:mod:`seawatch.web.ports`): the map and the API read the very state the alerts come
from, and operator actions go through the one command path into the core. The web
starts nothing itself and imports nothing of the runtime: the runtime
(``seawatch.runtime``) builds the app and serves it among its supervised tasks, or
gives it a lifespan that runs the service (tests). Nothing is started at import time.

Where things are:

- :mod:`seawatch.web.access`: the state every route reaches, read and operator access, tokens;
- :mod:`seawatch.web.guard`: what every request meets first (tokens and sizes of writes,
  security headers, 422 and 503 answers);
- :mod:`seawatch.web.schemas`: request bodies and the documented shape of every JSON answer;
- :mod:`seawatch.web.routes`: one router per resource, included below;
- :mod:`seawatch.web.page`: the map page itself.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles

from seawatch.web.access import WebContext, operator_of
from seawatch.web.guard import RequestGuard, read_only, store_unavailable, validation_error
from seawatch.web.pagestream import PageStream
from seawatch.web.ports import Commands, ReadModel, ReadOnlyError, StoreUnavailableError, WebOptions
from seawatch.web.routes import actions, alerts, instance, ops, pages, received, search, stream, vessels, zones

__all__ = [
    "ROUTERS",
    "STATIC_DIR",
    "PageStream",
    "create_app",
]  # PageStream: the runtime adds the page stream to its sinks

STATIC_DIR = Path(__file__).resolve().parent / "static"

ROUTERS = (
    pages.router,  # GET /, GET /docs
    vessels.router,  # GET /api/vessels, GET /api/vessels/{mmsi}
    alerts.router,  # GET /api/alerts, /api/alerts/{alert_id}, /api/alerts/{alert_id}/surpic
    actions.router,  # POST /api/alerts/{alert_id}/acknowledge|assign|resolve|retract, POST /api/reports
    zones.router,  # GET /api/zones
    stream.router,  # GET /api/stream
    ops.router,  # GET /healthz, GET /metrics
    received.router,  # GET /api/received, GET /api/alerts/{alert_id}/received
    search.router,  # GET /api/search
    instance.router,  # GET /api/instance
)


def create_app(
    read: ReadModel,
    commands: Commands,
    hub: PageStream,
    options: WebOptions,
    *,
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]] | None = None,
) -> FastAPI:
    """The app over a read model and a command port; ``lifespan``, if given, runs around it (the runtime's)."""
    app = FastAPI(
        title="Seawatch",
        description="Maritime search-and-rescue monitoring: vessels, alerts, operator actions, SURPIC.",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # served by routes/pages.py from local assets: the CDN ones are blank offline
        redoc_url=None,
    )
    app.state.live = WebContext(read, commands, hub, options)
    # Writes: the token, then the body's size, checked before FastAPI reads the body.
    app.add_middleware(RequestGuard, authorized=lambda token: operator_of(options, token) is not None)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StoreUnavailableError, store_unavailable)
    app.add_exception_handler(ReadOnlyError, read_only)
    _mount_static(app)
    for router in ROUTERS:
        app.include_router(router)
    return app


def _mount_static(app: FastAPI) -> None:
    import xstatic.pkg.leaflet as leaflet  # type: ignore[import-untyped]
    from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]

    app.mount("/static/leaflet", StaticFiles(directory=leaflet.BASE_DIR), name="leaflet")
    app.mount("/static/swagger", StaticFiles(directory=str(swagger_ui_path)), name="swagger")
    if STATIC_DIR.is_dir():
        app.mount("/static/seawatch", StaticFiles(directory=STATIC_DIR), name="seawatch")
