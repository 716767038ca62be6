"""An active/standby pair: the standby's warm state, and what a takeover does (docs/failover.md).

The standby never reads the feed and never writes. It starts from the newest snapshot in
the store and then **follows** the journal the leader writes there, feeding each record
through its own pipeline exactly as the leader did (so its map is live, read-only, and its
state is the leader's a moment ago). Alert events raised while following are shown on
its map and remembered, but not delivered: the leader delivers them.

When the lease is free (the leader died, stopped, or lost the store), the standby takes
it and, in order:

1. fences the store with the new token (every write checks it);
2. catches up with the rest of the journal — nothing more can be added to it now;
3. hands the events it remembered to the store sink: those the old leader had stored are
   skipped (same alert and sequence), the others (the old leader died before writing
   them) are stored and delivered — nothing lost, nothing twice;
4. goes live: numbers the next message after the last one journalled and connects to
   MQTT with the pair's client id, so the broker delivers what it queued meanwhile.

The remembered events are those raised after the newest snapshot: a snapshot is stored
only once the events raised before it are in the store, so nothing older can be missing.
They are bounded too (:data:`REMEMBER_EVENTS`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence

from sqlalchemy.exc import SQLAlchemyError

from seawatch.adapters.journal import JournalError, ReadStats, decode_chunk, parse_position, position_of
from seawatch.adapters.lease import Lease, LeaseLostError, LeaseUnavailableError, Role
from seawatch.adapters.store import AlertStore, Fence, StoreError
from seawatch.core.alerts import AlertEvent
from seawatch.runtime.state import StateKeeper

log = logging.getLogger(__name__)

POLL_S: float = 0.25
"""How often a standby looks for new journal chunks once it has caught up."""

REMEMBER_EVENTS: int = 10_000
"""Alert events a standby keeps from following, to write at takeover what the old leader did not."""

_CHUNKS_PER_READ = 50
_FORGET_EVERY_S = 5.0  # how often a standby drops remembered events the newest snapshot covers
_YIELD_EVERY = 500  # records fed between two turns of the event loop


FAILOVER_LEADER_HELP = "# HELP seawatch_failover_leader 1 while this instance leads its pair, 0 as the standby."
FAILOVER_LEADER_TYPE = "# TYPE seawatch_failover_leader gauge"


class JournalGapError(RuntimeError):
    """The journal no longer holds what the standby needs next (trimmed past it): it must start again."""


class Follower:
    """The journal, as the leader writes it into the store, through the standby's own pipeline."""

    def __init__(
        self,
        state: StateKeeper,
        store: AlertStore,
        show: Callable[[Sequence[AlertEvent]], None],
        *,
        poll_s: float = POLL_S,
        remember: int = REMEMBER_EVENTS,
    ) -> None:
        self.state = state
        self.store = store
        self.show = show
        self.poll_s = poll_s
        # (sequence number of the record that raised it, event): only those after the newest
        # snapshot can be missing from the store (a snapshot is stored once the events before it are)
        self.remembered: deque[tuple[int, AlertEvent]] = deque(maxlen=remember)
        self._snapshot_checked = 0.0
        self.stats = ReadStats()
        self.applied = 0  # records fed while following
        self.journal_end: int | None = None  # as last read from the store
        self.last_error: str | None = None
        self._error_logged = False

    @property
    def seq(self) -> int:
        return self.state.seq

    @property
    def lag(self) -> int:
        """Journal records the leader wrote that this standby has not applied yet (as of the last look)."""
        return 0 if self.journal_end is None else max(0, self.journal_end - self.seq)

    async def run(self) -> None:
        """Follow until cancelled (the takeover cancels it); a store away is waited out, never raised."""
        started = time.monotonic()
        caught_up = False
        while True:
            try:
                fed = await self.step()
            except (StoreError, SQLAlchemyError) as exc:
                self.last_error = self.store.unreachable(exc)
                if not self._error_logged:
                    log.warning("failover: cannot read the journal from the store (%s); retrying", self.last_error)
                    self._error_logged = True
                await asyncio.sleep(1.0)
                continue
            if self._error_logged:
                log.info("failover: reading the journal from the store again")
            self._error_logged = False
            self.last_error = None
            if not fed:
                if self.remembered and time.monotonic() - self._snapshot_checked >= _FORGET_EVERY_S:
                    self._snapshot_checked = time.monotonic()
                    with contextlib.suppress(StoreError, SQLAlchemyError, JournalError):
                        await self.forget_stored()
                if not caught_up:
                    caught_up = True
                    log.info(
                        "failover: the standby has caught up with the journal at %s (%d record(s) in %.2f s); "
                        "following it",
                        position_of(self.seq),
                        self.applied,
                        time.monotonic() - started,
                    )
                await asyncio.sleep(self.poll_s)

    async def catch_up(self) -> int:
        """Apply everything the journal holds now (at takeover: the old leader can add nothing more)."""
        total = 0
        while fed := await self.step():
            total += fed
        return total

    async def step(self) -> int:
        """Read and apply the next chunks; the number of records applied."""
        rows = await asyncio.to_thread(self.store.journal_chunks, self.seq, _CHUNKS_PER_READ)
        if not rows:
            self.journal_end = self.seq
            return 0
        fed = 0
        for first_seq, count, data in rows:
            if first_seq > self.seq:  # the first: trimmed past this standby; a later one: a hole
                raise JournalGapError(
                    f"the journal in the store goes on at {position_of(first_seq)}, after this standby's "
                    f"{position_of(self.seq)}"
                )
            for record in decode_chunk(data, self.stats):
                if record.seq < self.seq:
                    continue
                events = self.state.apply(record)
                fed += 1
                if events:
                    self.remembered.extend((record.seq, event) for event in events)
                    self.show(events)
                if fed % _YIELD_EVERY == 0:
                    await asyncio.sleep(0)  # the map and health answer meanwhile
            self.state.seq = max(self.state.seq, first_seq + count)  # a corrupt chunk is skipped, counted
        self.applied += fed
        self.journal_end = max(self.journal_end or 0, self.state.seq)
        return fed

    async def forget_stored(self) -> None:
        """Drop the remembered events raised before the newest snapshot's position: the store has them."""
        info = await asyncio.to_thread(self.store.snapshot_info)
        if info is None:
            return
        position = parse_position(info.position)
        while self.remembered and self.remembered[0][0] < position:
            self.remembered.popleft()

    def take_remembered(self) -> list[AlertEvent]:
        events = [event for _, event in self.remembered]
        self.remembered.clear()
        return events


class Failover:
    """One instance of a pair: its lease, its follower, and the figures health shows."""

    def __init__(self, lease: Lease, follower: Follower, store: AlertStore) -> None:
        self.lease = lease
        self.follower = follower
        self.store = store
        self.takeovers = 0
        self.last_takeover_s: float | None = None
        self.took_over_at: str | None = None  # the journal position this instance led from
        self.stepped_down: str | None = None  # why the last leadership ended (set by the runtime)
        self.fenced_reason: str | None = None
        self.leading = False  # set once a takeover has gone live: operators' actions are taken from then on
        store.fence = self._refusing_fence()

    @property
    def role(self) -> Role:
        return self.lease.role

    def may_act(self) -> bool:
        """Operators' actions are taken: this instance leads, and its takeover has gone live."""
        return self.leading and self.lease.valid()

    def _refusing_fence(self) -> Fence:
        """A standby's fence: it refuses every write, so nothing a standby runs can write by mistake."""
        return Fence(self.lease.name, -1, lambda: False, self._fenced)

    def _fenced(self, reason: str) -> None:
        """A write found another token in the lease row: stop leading now (the keeper raises at its next turn)."""
        if self.fenced_reason is None:
            self.fenced_reason = reason
            log.error("failover: %s was fenced off by the store: %s", self.lease.instance, reason)
        self.lease.role = Role.STANDBY  # valid() is False from now on: nothing more is sent or connected
        self.leading = False

    async def wait_for_lease(self) -> None:
        """As the standby: ask for the lease every second until it is this instance's."""
        lease = self.lease
        said: tuple[str, int] | None = None
        while True:
            try:
                if await lease.acquire():
                    return
            except LeaseUnavailableError as exc:
                lease.last_error = str(exc)
            holder = lease.leader
            now = (holder.holder, holder.token) if holder is not None else ("", 0)
            if now != said:
                said = now
                who = f"{holder.instance} leads (token {holder.token})" if holder is not None else "no leader yet"
                log.info("failover: %s is the standby (%s)", lease.instance, who)
            await asyncio.sleep(1.0)

    async def take_over(self) -> list[AlertEvent]:
        """With the lease just taken: fence the store, catch up with the journal; the events to write."""
        started = time.monotonic()
        lease = self.lease
        assert lease.token is not None
        self.store.fence = Fence(lease.name, lease.token, lease.valid, self._fenced)
        while True:
            try:
                caught_up = await self.follower.catch_up()
                break
            except (StoreError, SQLAlchemyError) as exc:  # a moment's blip: tried again while the lease lasts
                reason = self.store.unreachable(exc)
                if not lease.valid():
                    raise LeaseLostError(f"the store did not answer while taking over ({reason})") from None
                log.warning("failover: cannot read the journal to take over (%s); retrying", reason)
                await asyncio.sleep(0.5)
        with contextlib.suppress(StoreError, SQLAlchemyError, JournalError):  # else all are handed over
            await self.follower.forget_stored()
        events = self.follower.take_remembered()
        self.takeovers += 1
        self.took_over_at = position_of(self.follower.seq)
        self.last_takeover_s = time.monotonic() - started
        log.info(
            "failover: %s leads (token %d): took over at %s in %.2f s (%d journalled message(s) caught up, "
            "%d alert event(s) from following handed to the store)",
            lease.instance,
            lease.token,
            self.took_over_at,
            self.last_takeover_s,
            caught_up,
            len(events),
        )
        return events

    def health(self) -> dict[str, object]:
        follower = self.follower
        return {
            **self.lease.view(),
            "lag_messages": follower.lag if self.role is Role.STANDBY else 0,
            "position": position_of(follower.seq) if self.role is Role.STANDBY else None,
            "followed_messages": follower.applied,
            "follow_error": follower.last_error,
            "takeovers": self.takeovers,
            "took_over_at": self.took_over_at,
            "last_takeover_s": None if self.last_takeover_s is None else round(self.last_takeover_s, 3),
            "stepped_down": self.stepped_down,
        }

    def metric_lines(self) -> list[str]:
        lease = self.lease
        instance = lease.instance.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
        leading = 1 if lease.role is Role.LEADER else 0
        lines = [
            FAILOVER_LEADER_HELP,
            FAILOVER_LEADER_TYPE,
            f'seawatch_failover_leader{{instance="{instance}"}} {leading}',
            "# HELP seawatch_failover_token The fencing token this instance leads under (0 as the standby).",
            "# TYPE seawatch_failover_token gauge",
            f"seawatch_failover_token {lease.token if leading and lease.token is not None else 0}",
            "# HELP seawatch_failover_lag_messages Journal records the standby has not applied yet.",
            "# TYPE seawatch_failover_lag_messages gauge",
            f"seawatch_failover_lag_messages {self.follower.lag if not leading else 0}",
            "# HELP seawatch_failover_takeovers_total Times this instance took the lease over.",
            "# TYPE seawatch_failover_takeovers_total counter",
            f"seawatch_failover_takeovers_total {self.takeovers}",
        ]
        age = lease.age_s
        if age is not None:
            lines += [
                "# HELP seawatch_failover_lease_age_seconds Seconds since this leader last renewed its lease.",
                "# TYPE seawatch_failover_lease_age_seconds gauge",
                f"seawatch_failover_lease_age_seconds {age:.2f}",
            ]
        return lines
