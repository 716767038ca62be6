"""A connection of its own to the PostgreSQL store, for the instance lock and the failover lease.

Why apart from the store's pool: a lock or a lease must answer within its own short
timeout and hold its own session; and what it reports must never carry the password.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from sqlalchemy.engine import URL


@dataclass(frozen=True, slots=True)
class PostgresLink:
    """psycopg's view of a store URL: how to connect (autocommit), and its errors in one password-free line."""

    conninfo: str
    password: str | None
    own_connect_timeout: bool  # the URL sets connect_timeout itself: leave it alone

    @classmethod
    def of(cls, url: URL) -> PostgresLink:
        return cls(
            url.set(drivername="postgresql").render_as_string(hide_password=False),
            url.password,
            "connect_timeout" in url.query,
        )

    async def connect(self, application_name: str, connect_timeout_s: float) -> psycopg.AsyncConnection[Any]:
        options: dict[str, Any] = {"autocommit": True, "application_name": application_name}
        if not self.own_connect_timeout:
            options["connect_timeout"] = max(1, int(connect_timeout_s))
        return await psycopg.AsyncConnection.connect(self.conninfo, **options)

    def reason(self, exc: BaseException, timeout_s: float) -> str:
        """Why a call failed: the driver's words without the password, or the timeout that ran out."""
        if isinstance(exc, TimeoutError):
            return f"the store did not answer within {timeout_s:g} s"
        text = " ".join(str(exc).split()) or type(exc).__name__
        return text.replace(self.password, "***") if self.password else text
