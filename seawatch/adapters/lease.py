"""The failover lease: which one of an active/standby pair leads, with a fencing token (docs/failover.md).

Why: two instances with the same configuration watch one feed through one PostgreSQL
store. Exactly one may read the feed, write alerts and call partners; the other keeps
warm and takes over when the first dies or loses the store. The store is the arbiter:
a row of the table ``leases`` (one per MQTT client id) says who leads, until when, and
under which **fencing token** — a number raised by one at every takeover.

* Times are the **server's** (``now()`` in PostgreSQL), so the two hosts' clocks never
  have to agree. A holder renews every quarter of ``ttl_s``; a standby may take the
  lease only once ``expires_at`` has passed.
* The holder also keeps its own deadline on its **monotonic clock**: the moment it *sent*
  its last successful renewal plus ``ttl_s``, less a margin. That deadline always falls
  before the server's ``expires_at``, so a holder that believes it leads does. A process
  paused by SIGSTOP (or a long stall) finds on waking that its deadline has passed —
  the monotonic clock ran on meanwhile — and acts on nothing until it has renewed.
* Every store write of the leader checks the token in the same transaction (the store's
  fence, :class:`seawatch.adapters.store.AlertStore`), holding the lease row ``FOR KEY
  SHARE``: a takeover (it changes the token, part of a unique key) waits for a write in
  flight, and once the new token is committed the old holder can write nothing at all. A
  renewal changes no key and is never held up by the leader's own writes; a holder paused
  in the middle of a transaction has its session ended by the server after a few seconds
  (``idle_in_transaction_session_timeout``), so it cannot hold a takeover up. The local
  deadline is checked too, before a webhook is sent and before the MQTT source
  (re)connects: those leave the store.

The lease is a plain row, never a session lock: it survives the holder's connection
dropping for a moment, and a network cut cannot leave it held by a dead session.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

import psycopg
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from seawatch.adapters.pglink import PostgresLink

log = logging.getLogger(__name__)

RETRY_S: Final = 1.0
"""How often a standby asks whether the lease is free (and who leads, for the map)."""

MARGIN_S: Final = 0.5
"""The local deadline ends this long before ``ttl_s`` after the renewal was sent (clock rates differ a little)."""

TABLE: Final = "leases"

# Taking a lease that has run out. An UPDATE locks only a row its WHERE matches, so asking
# while the lease still runs locks nothing: a standby asking every second never holds up
# the leader's writes (an INSERT ... ON CONFLICT DO UPDATE would lock the row each time).
_TAKE: Final = """
UPDATE leases SET token = token + 1, holder = %(holder)s, holder_url = %(url)s,
    acquired_at = now(), renewed_at = now(), expires_at = now() + make_interval(secs => %(ttl)s)
WHERE name = %(name)s AND expires_at <= now()
RETURNING token
"""

# The very first lease of this name (DO NOTHING locks nothing either).
_FIRST: Final = """
INSERT INTO leases (name, token, holder, holder_url, acquired_at, renewed_at, expires_at)
VALUES (%(name)s, 1, %(holder)s, %(url)s, now(), now(), now() + make_interval(secs => %(ttl)s))
ON CONFLICT (name) DO NOTHING
RETURNING token
"""

_RENEW: Final = """
UPDATE leases SET renewed_at = now(), expires_at = now() + make_interval(secs => %(ttl)s)
WHERE name = %(name)s AND token = %(token)s
RETURNING token
"""

_RELEASE: Final = "UPDATE leases SET expires_at = now() WHERE name = %(name)s AND token = %(token)s"

_READ: Final = """
SELECT token, holder, holder_url,
       EXTRACT(EPOCH FROM expires_at - now())::float8,
       EXTRACT(EPOCH FROM now() - renewed_at)::float8
FROM leases WHERE name = %(name)s
"""


class Role(StrEnum):
    STANDBY = "standby"  # follows the journal, serves a read-only map, waits for the lease
    LEADER = "leader"  # holds the lease: reads the feed, writes, delivers


class LeaseLostError(RuntimeError):
    """This instance led and may no longer: it must stop acting at once and start again as the standby."""


class LeaseUnavailableError(RuntimeError):
    """The store cannot be asked about the lease now (unreachable, too slow)."""


@dataclass(frozen=True, slots=True)
class Holder:
    """Who holds the lease, as last read from the store."""

    holder: str  # "<instance> (pid N on host)"
    url: str | None  # where that instance's map is
    token: int
    expires_in_s: float  # negative: run out, free to take
    renewed_s_ago: float

    @property
    def instance(self) -> str:
        return self.holder.split(" (", 1)[0]

    def view(self) -> dict[str, object]:
        return {
            "instance": self.instance,
            "holder": self.holder,
            "url": self.url,
            "token": self.token,
            "lease_age_s": round(self.renewed_s_ago, 1),
            "expires_in_s": round(self.expires_in_s, 1),
        }


class Lease:
    """The lease of one MQTT client id in one PostgreSQL store, seen from one instance.

    A standby calls :meth:`acquire` every :data:`RETRY_S` until it returns True; the
    leader then runs :meth:`keep` (it raises :class:`LeaseLostError` when the lease is
    gone) and calls :meth:`release` at a clean stop. :meth:`valid` is the local check
    every side effect makes first.
    """

    def __init__(self, url: URL, name: str, instance: str, instance_url: str | None, ttl_s: float) -> None:
        self.name = name  # the MQTT client id: one lease per persistent session
        self.instance = instance
        self.instance_url = instance_url
        self.ttl_s = ttl_s
        self.holder = f"{instance} (pid {os.getpid()} on {socket.gethostname()})"
        self.store = url.render_as_string(hide_password=True)
        self._link = PostgresLink.of(url)
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self.role = Role.STANDBY
        self.token: int | None = None
        self._valid_until = 0.0  # monotonic
        self.renewed_at: float | None = None  # monotonic, of the last renewal (or the acquisition)
        self.leader: Holder | None = None  # who leads, as last read (a standby shows it on its map)
        self.last_error: str | None = None

    # ------------------------------------------------------------------- checks
    def valid(self) -> bool:
        """True while this instance leads by its own clock: the check before any side effect."""
        return self.role is Role.LEADER and time.monotonic() < self._valid_until

    @property
    def remaining_s(self) -> float:
        return max(0.0, self._valid_until - time.monotonic()) if self.role is Role.LEADER else 0.0

    @property
    def age_s(self) -> float | None:
        """Seconds since this leader last renewed (None on a standby)."""
        if self.role is not Role.LEADER or self.renewed_at is None:
            return None
        return time.monotonic() - self.renewed_at

    @property
    def timeout_s(self) -> float:
        """Longest one question to the store may take: a quarter of the lease."""
        return max(0.5, self.ttl_s / 4)

    # ------------------------------------------------------------------ actions
    async def acquire(self) -> bool:
        """Take the lease if it is free or has run out; True if this instance now leads."""
        sent = time.monotonic()
        params = {"name": self.name, "holder": self.holder, "url": self.instance_url}
        row = await self._ask(_TAKE, params)
        if row is None:
            row = await self._ask(_FIRST, params)
        if row is None:
            await self.refresh()
            return False
        self.token = int(row[0])
        self.role = Role.LEADER
        self._renewed(sent)
        self.leader = Holder(self.holder, self.instance_url, self.token, self.ttl_s, 0.0)
        return True

    async def renew(self) -> bool:
        """Extend the lease; False if another instance has taken it (raises if the store cannot tell)."""
        if self.token is None:
            return False
        sent = time.monotonic()
        row = await self._ask(_RENEW, {"name": self.name, "token": self.token})
        if row is None:
            return False
        self._renewed(sent)
        self.leader = Holder(self.holder, self.instance_url, self.token, self.ttl_s, 0.0)
        return True

    async def keep(self) -> None:
        """Renew every quarter of the lease while leading; raise :class:`LeaseLostError` once it is gone.

        A renewal that fails (the store away) is tried again until the local deadline; the
        deadline passing, or another token in the row, ends the leadership.
        """
        while True:
            await asyncio.sleep(self.ttl_s / 4 if self.valid() else 0)
            if self.role is not Role.LEADER:
                raise LeaseLostError("the lease was given up")
            if not self.valid():
                # Paused, or the loop stalled, past the deadline: what came meanwhile was refused
                # unacknowledged, and the broker gives it to the next leader only on a new
                # connection. Leading on here would leave it stuck: step down instead.
                reason = "the lease ran out before it was renewed (the process was paused or stalled)"
                with contextlib.suppress(LeaseUnavailableError):
                    holder = await self.refresh()
                    if holder is not None and holder.token != self.token:
                        reason = f"{holder.instance} (token {holder.token}) took the lease"
                self.lost(reason)
            deadline = self._valid_until
            try:
                if await self.renew():
                    if time.monotonic() >= deadline:
                        self.lost("the renewal came back after the lease had run out")
                    continue
                await self.refresh()
                who = f"{self.leader.instance} (token {self.leader.token})" if self.leader else "another instance"
                self.lost(f"{who} took the lease")
            except LeaseUnavailableError as exc:
                self.last_error = str(exc)
                if self.valid():
                    log.warning("failover: cannot renew the lease (%s); %.1f s left", exc, self.remaining_s)
                    await asyncio.sleep(min(RETRY_S, self.remaining_s))
                    continue
                self.lost(f"the lease could not be renewed in time ({exc})")

    def lost(self, reason: str) -> None:
        """Stop leading now (a renewal refused, a fenced write): raises :class:`LeaseLostError`."""
        self.role = Role.STANDBY
        self._valid_until = 0.0
        self.last_error = reason
        raise LeaseLostError(reason)

    async def release(self) -> None:
        """At a clean stop: let the lease run out now, so the standby takes over at once."""
        token, was_leader = self.token, self.role is Role.LEADER
        self.role = Role.STANDBY
        self._valid_until = 0.0
        if was_leader and token is not None:
            with contextlib.suppress(LeaseUnavailableError):
                await self._ask(_RELEASE, {"name": self.name, "token": token}, fetch=False)
                log.info("failover: %s released the lease (token %d)", self.instance, token)
        await self.close()

    async def refresh(self) -> Holder | None:
        """Read who holds the lease (for a standby's map and health); None if nobody ever did."""
        row = await self._ask(_READ, {"name": self.name})
        self.leader = None if row is None else Holder(str(row[1]), row[2], int(row[0]), float(row[3]), float(row[4]))
        return self.leader

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(psycopg.Error, OSError):
                await conn.close()

    # ------------------------------------------------------------------ helpers
    def _renewed(self, sent: float) -> None:
        self.renewed_at = sent
        self._valid_until = sent + self.ttl_s - MARGIN_S
        self.last_error = None

    async def _ask(self, sql: str, params: dict[str, Any], *, fetch: bool = True) -> tuple[Any, ...] | None:
        """One statement on the lease's own connection, within :attr:`timeout_s`."""
        try:
            async with asyncio.timeout(self.timeout_s):
                if self._conn is None or self._conn.closed:
                    self._conn = await self._link.connect(f"seawatch lease {self.name}"[:63], self.timeout_s)
                cursor = await self._conn.execute(sql, {"ttl": self.ttl_s, **params})
                return await cursor.fetchone() if fetch else None
        except (psycopg.Error, OSError, TimeoutError) as exc:
            await self.close()
            raise LeaseUnavailableError(self._link.reason(exc, self.timeout_s)) from None

    def view(self) -> dict[str, object]:
        """The lease as ``/healthz`` shows it."""
        age = self.age_s
        return {
            "role": self.role.value,
            "instance": self.instance,
            "token": self.token if self.role is Role.LEADER else None,
            "lease_age_s": None if age is None else round(age, 1),
            "lease_ttl_s": self.ttl_s,
            "leader": None if self.leader is None else self.leader.view(),
            "last_error": self.last_error,
        }


def lease_for(store_url: str, client_id: str, instance: str, instance_url: str | None, ttl_s: float) -> Lease:
    """The lease of ``client_id`` in the PostgreSQL store at ``store_url`` (nothing is opened here)."""
    try:
        url = make_url(store_url)
    except (ArgumentError, ValueError):
        raise ValueError("the store URL is not a database URL") from None
    if url.get_backend_name() != "postgresql":
        raise ValueError("failover needs a PostgreSQL store")
    return Lease(url, client_id, instance or socket.gethostname(), instance_url, ttl_s)
