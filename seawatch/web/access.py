"""Who may do what: the state every route reaches, read access and operator access.

Reading is open unless ``api_read_token`` is set (an operator's token reads too); every write
needs an operator's token (``operator_tokens``, name -> token), and the name is what the alert's
audit log records. Tokens are compared in constant time and never logged. The writes' tokens are
also checked, before their bodies are read, by :class:`seawatch.web.guard.RequestGuard`, with
:func:`operator_of`.

Routes take :data:`Reader` (the :class:`WebContext` state, once read access is granted) or
:data:`Operator` (the operator's name) as a parameter.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, HTTPException, Request

from seawatch.core.alertbook import AlertBook
from seawatch.web.guard import bearer_token
from seawatch.web.ports import Commands, ReadModel, WebOptions

if TYPE_CHECKING:
    from seawatch.web.pagestream import PageStream


@dataclass
class WebContext:
    """What every route reaches: the read model, the command port, the page stream and the options."""

    read: ReadModel
    commands: Commands
    hub: PageStream
    options: WebOptions
    pages: dict[str, tuple[str, str]] = field(default_factory=dict)  # rendered pages and their CSP, made once

    @property
    def book(self) -> AlertBook:
        return self.read.book


def operator_of(options: WebOptions, token: str | None) -> str | None:
    """The operator whose token this is, or None; every token is compared, in constant time."""
    if token is None:
        return None
    found = None
    for name, secret in options.operator_tokens.items():
        if hmac.compare_digest(secret.encode(), token.encode()):
            found = name
    return found


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status_code=401, detail=detail, headers={"WWW-Authenticate": "Bearer"})


def live_state(request: Request) -> WebContext:
    live: WebContext = request.app.state.live
    return live


async def reader(request: Request) -> WebContext:
    live = live_state(request)
    required = live.options.api_read_token
    if required is None:
        return live
    token = bearer_token(request.headers)
    ok = token is not None and hmac.compare_digest(required.encode(), token.encode())
    if not ok and operator_of(live.options, token) is None:
        raise _unauthorized("a read token (or an operator token) is required")
    return live


async def operator(request: Request) -> str:
    name = operator_of(live_state(request).options, bearer_token(request.headers))
    if name is None:
        raise _unauthorized("an operator token is required for this action")
    return name


Reader = Annotated[WebContext, Depends(reader)]
Operator = Annotated[str, Depends(operator)]
