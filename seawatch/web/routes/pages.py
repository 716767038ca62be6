"""The two HTML pages: the live map at ``/`` and the API docs at ``/docs``, both served from local assets.

Each page and the CSP hashes of its inline scripts are made once per app: zones and settings do
not change while the app runs. The map is rendered on first request (Folium takes a moment).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

from seawatch.web.access import live_state
from seawatch.web.guard import page_csp

router = APIRouter()


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def map_page(request: Request) -> HTMLResponse:
    from seawatch.web.page import render_map

    live = live_state(request)
    pages, options = live.pages, live.options
    if "map" not in pages:
        html = render_map(
            live.read.zones,
            tiles_url=options.tiles_url,
            tiles_attribution=options.tiles_attribution,
            timezone=options.centre_timezone,
        )
        pages["map"] = (html, page_csp(html, options.tiles_url))
    html, csp = pages["map"]
    return HTMLResponse(html, headers={"Cache-Control": "no-store", "Content-Security-Policy": csp})


@router.get("/docs", include_in_schema=False)
async def api_docs(request: Request) -> HTMLResponse:
    pages = live_state(request).pages
    if "docs" not in pages:
        docs = get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="Seawatch API",
            swagger_js_url="/static/swagger/swagger-ui-bundle.js",
            swagger_css_url="/static/swagger/swagger-ui.css",
            swagger_favicon_url="/static/swagger/favicon-32x32.png",
        )
        html = bytes(docs.body).decode()
        pages["docs"] = (html, page_csp(html))
    html, csp = pages["docs"]
    return HTMLResponse(html, headers={"Content-Security-Policy": csp})
