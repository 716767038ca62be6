"""What every request meets before any route sees it: the token of a write, the size of a body.

FastAPI reads and parses a request body before it runs a route's dependencies, so a
route's own token check would come after a 100 MB body had been read into memory. This
ASGI middleware answers a write without a valid operator token with 401, and a body
larger than ``max_body_bytes`` with 413, before reading a byte of it: a declared
``Content-Length`` is judged at once, a streamed (chunked) body as it arrives.

Validation errors are answered 422 with non-finite numbers in them written as text: a
client's ``NaN`` or ``1e309`` would otherwise make the error body itself unencodable (500).
"""

from __future__ import annotations

import json
import math
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
        if scope["type"] != "http" or scope["method"] not in WRITE_METHODS:
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
