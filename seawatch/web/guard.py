"""What every request meets before any route sees it, and what every answer carries.

Every answer gets ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY`` and a
Content-Security-Policy: ``default-src 'none'`` unless the route set its own. Pages set
theirs with :func:`page_csp`, which allows their own inline scripts by hash (Folium writes
the map's script inline; the page is rendered once, so its hashes are computed once) and
nothing from another origin but the tile server, if one is configured.

FastAPI reads and parses a request body before it runs a route's dependencies, so a
route's own token check would come after a 100 MB body had been read into memory. This
ASGI middleware answers a write without a valid operator token with 401, and a body
larger than ``max_body_bytes`` with 413, before reading a byte of it: a declared
``Content-Length`` is judged at once, a streamed (chunked) body as it arrives.

Validation errors are answered 422 with non-finite numbers in them written as text: a
client's ``NaN`` or ``1e309`` would otherwise make the error body itself unencodable (500).
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
from collections.abc import Callable
from typing import Any

from fastapi import HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY_BYTES = 64 * 1024
"""Largest request body accepted: the largest write (a report) is a few kilobytes of JSON."""

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

DEFAULT_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
"""For everything that is not a page (JSON, metrics, static files): nothing may run or load."""

_SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)
_CSP_HOST = re.compile(r"(\*\.)?[A-Za-z0-9.-]+(:\d{1,5})?")
_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\ssrc=)[^>]*>(.*?)</script>", re.S | re.I)


def page_csp(html: str, tiles_url: str | None = None) -> str:
    """The Content-Security-Policy of ``html``: its own inline scripts by hash, its own origin, the tiles."""
    hashes = "".join(
        f" 'sha256-{base64.b64encode(hashlib.sha256(m.group(1).encode()).digest()).decode()}'"
        for m in _INLINE_SCRIPT.finditer(html)
    )
    images = "'self' data:" + (f" {tile_source(tiles_url)}" if tiles_url else "")
    return (
        f"default-src 'self'; script-src 'self'{hashes}; style-src 'self' 'unsafe-inline'; img-src {images}; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


def tile_source(url: str) -> str:
    """A CSP source for a tile URL template: its origin, a ``{s}``-style first label as a wildcard."""
    scheme, _, rest = url.partition("://")
    host = rest.split("/", 1)[0]
    if not scheme.isalpha() or not host:
        return "'none'"
    labels = host.split(".")
    if "{" in labels[0] and len(labels) > 1:  # https://{s}.tile.example.org/…
        host = ".".join(["*", *labels[1:]])
    if not _CSP_HOST.fullmatch(host):  # another placeholder, or text that is no host: the scheme only
        return f"{scheme.lower()}:"
    return f"{scheme.lower()}://{host}"


class BodyTooLargeError(HTTPException):
    """Raised from ``receive`` when a streamed body passes the limit; FastAPI answers it as 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=f"request body larger than {limit} bytes")


def bearer_token(headers: Headers) -> str | None:
    """The token of an ``Authorization: Bearer …`` header, if there is one."""
    scheme, _, token = headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


class RequestGuard:
    """Pure ASGI middleware: writes need ``authorized(token)``; bodies are capped at ``max_body_bytes``."""

    def __init__(
        self, app: ASGIApp, *, authorized: Callable[[str | None], bool], max_body_bytes: int = MAX_BODY_BYTES
    ) -> None:
        self.app = app
        self.authorized = authorized
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = _with_security_headers(send)
        if scope["method"] not in WRITE_METHODS:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if not self.authorized(bearer_token(headers)):
            await _answer(send, 401, "an operator token is required for this action", {"WWW-Authenticate": "Bearer"})
            return
        declared = headers.get("content-length")
        if declared is not None and not declared.isdigit():
            await _answer(send, 400, "bad Content-Length", {"Connection": "close"})
            return
        if declared is not None and int(declared) > self.max_body_bytes:
            too_large = f"request body larger than {self.max_body_bytes} bytes"
            await _answer(send, 413, too_large, {"Connection": "close"})
            return
        limit = self.max_body_bytes
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLargeError(limit)
            return message

        await self.app(scope, limited, send)


def _with_security_headers(send: Send) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            present = {name.lower() for name, _ in headers}
            headers += [(name, value) for name, value in _SECURITY_HEADERS if name not in present]
            if b"content-security-policy" not in present:
                headers.append((b"content-security-policy", DEFAULT_CSP.encode()))
            message = {**message, "headers": headers}
        await send(message)

    return sending


async def _answer(send: Send, status: int, detail: str, extra: dict[str, str]) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    headers += [(k.lower().encode(), v.encode()) for k, v in extra.items()]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _finite(value: Any) -> Any:
    """JSON-safe: NaN and the infinities become their text ('nan', 'inf'), recursively."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    """422 for every invalid request, whatever numbers it held (FastAPI's own handler fails on NaN)."""
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    return JSONResponse({"detail": _finite(jsonable_encoder(errors))}, status_code=422)


async def store_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """503 with why, for a read that needs the alert store while it is away (live state is still served)."""
    detail = f"{exc}; live alerts and vessels are still served, stored history is not until the store is back"
    return JSONResponse({"detail": detail}, status_code=503, headers={"Retry-After": "10"})


async def read_only(request: Request, exc: Exception) -> JSONResponse:
    """409 with why, for an operator's action sent to the standby of a pair (its map is read-only)."""
    return JSONResponse({"detail": str(exc)}, status_code=409)
