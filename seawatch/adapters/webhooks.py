"""Webhook delivery from the durable outbox, signed per the Standard Webhooks specification.

Every alert event a partner subscribes to is written to the outbox in the same
transaction as the event itself (:mod:`seawatch.adapters.store`). This module only
reads that outbox and delivers it:

* one worker per partner, at most ``max_concurrency`` requests in flight;
* an alert's events go out in order: the store hands out only the first pending
  event of each alert, so event 2 waits until event 1 was delivered (or given up);
* each attempt is signed afresh (``webhook-timestamp`` is the attempt's time), with the
  same ``webhook-id`` on every attempt and after a restart, so a partner drops duplicates;
* failures (refused connections, timeouts, any non-2xx answer) are retried with
  exponential backoff and full jitter until the event is ``max_age_s`` old; then it
  goes to the dead-letter list, from where it can be re-sent;
* HTTP 410 Gone disables the subscription (the partner said so) until re-enabled;
* a graceful stop lets the requests in flight finish; pending rows simply wait in the
  outbox for the next start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy.exc import SQLAlchemyError
from standardwebhooks import Webhook

from seawatch.adapters.store import AlertStore, Delivery, StoreError

log = logging.getLogger(__name__)

CONTENT_TYPES = {"json": "application/json", "cap": "application/cap+xml"}
USER_AGENT = "Seawatch-Webhooks/1"


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A partner's delivery settings (its filter lives in :class:`~seawatch.core.subscriptions.Subscription`)."""

    name: str
    url: str
    secrets: tuple[str, ...]  # "whsec_…"; the first is current, the others still accepted while rotating
    fmt: str = "json"
    max_concurrency: int = 4
    max_age_s: float = 24 * 3600.0
    timeout_s: float = 10.0


@dataclass(slots=True)
class PartnerFigures:
    delivered: int = 0
    failed_attempts: int = 0
    dead: int = 0
    disabled: bool = False
    last_error: str | None = None
    last_latency_s: float | None = None


@dataclass(slots=True)
class DeliveryFigures:
    partners: dict[str, PartnerFigures] = field(default_factory=dict)


def sign(secrets: Sequence[str], webhook_id: str, at: datetime, body: str) -> str:
    """The ``webhook-signature`` header: one ``v1,…`` signature per secret, space separated."""
    return " ".join(Webhook(secret).sign(webhook_id, at, body) for secret in secrets)


def backoff_s(attempts: int, minimum_s: float, maximum_s: float, rng: random.Random) -> float:
    """Exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff And Jitter")."""
    ceiling = min(maximum_s, minimum_s * 2 ** max(0, attempts - 1))
    return max(minimum_s / 2, rng.uniform(0.0, ceiling))


class WebhookDispatcher:
    def __init__(
        self,
        store: AlertStore,
        endpoints: Sequence[Endpoint],
        *,
        retry_min_s: float = 5.0,
        retry_max_s: float = 600.0,
        poll_s: float = 5.0,
        grace_s: float = 10.0,
    ) -> None:
        self.store = store
        self.endpoints = list(endpoints)
        self.retry_min_s = retry_min_s
        self.retry_max_s = retry_max_s
        self.poll_s = poll_s
        self.grace_s = grace_s
        self.figures = DeliveryFigures({e.name: PartnerFigures() for e in self.endpoints})
        self._wake: dict[str, asyncio.Event] = {}
        self._rng = random.Random()

    def notify(self) -> None:
        """New rows are in the outbox: wake every worker (call from the event loop's thread)."""
        for event in self._wake.values():
            event.set()

    async def run(self) -> None:
        """One worker per partner, until cancelled (in-flight requests are allowed to finish)."""
        if not self.endpoints:
            await asyncio.Event().wait()  # nothing to deliver: idle until cancelled
        limits = httpx.Limits(max_connections=sum(e.max_concurrency for e in self.endpoints) + 4)
        client = httpx.AsyncClient(limits=limits, headers={"user-agent": USER_AGENT})
        async with client, asyncio.TaskGroup() as tasks:
            for endpoint in self.endpoints:
                self._wake[endpoint.name] = asyncio.Event()
                tasks.create_task(self._worker(client, endpoint), name=f"webhooks-{endpoint.name}")

    async def _worker(self, client: httpx.AsyncClient, endpoint: Endpoint) -> None:
        wake = self._wake[endpoint.name]
        limit = asyncio.Semaphore(endpoint.max_concurrency)
        inflight: set[asyncio.Task[None]] = set()
        figures = self.figures.partners[endpoint.name]
        store_away = False
        try:
            while True:
                wake.clear()
                try:
                    disabled = await asyncio.to_thread(self.store.disabled_partners)
                    figures.disabled = endpoint.name in disabled
                    due: list[Delivery] = []
                    if not figures.disabled:
                        now = datetime.now(UTC)
                        due = await asyncio.to_thread(self.store.due, endpoint.name, now, endpoint.max_concurrency * 8)
                    if not due:
                        await self._sleep(wake, endpoint, figures.disabled)
                        continue
                except (SQLAlchemyError, StoreError) as exc:
                    # The outbox is in the store: nothing to send until it is back. Waiting here
                    # (woken when the store returns) keeps the worker, and its partner's order, alive.
                    figures.last_error = self.store.unreachable(exc)
                    if not store_away:
                        log.warning("webhooks %s: waiting for the alert store (%s)", endpoint.name, figures.last_error)
                    store_away = True
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(wake.wait(), timeout=self.poll_s)
                    continue
                if store_away:
                    log.info("webhooks %s: alert store back, delivering", endpoint.name)
                    store_away = False
                for delivery in due:
                    await limit.acquire()
                    task = asyncio.create_task(self._deliver_one(client, endpoint, delivery, limit))
                    inflight.add(task)
                    task.add_done_callback(inflight.discard)
                # the next batch is only asked for once this one is done: an alert's next event
                # becomes due only after its previous one was settled
                if inflight:
                    await asyncio.wait(set(inflight))
        except asyncio.CancelledError:
            if inflight:
                log.info("webhooks %s: letting %d delivery(ies) in flight finish", endpoint.name, len(inflight))
                await asyncio.wait(set(inflight), timeout=self.grace_s)
            raise

    async def _sleep(self, wake: asyncio.Event, endpoint: Endpoint, disabled: bool) -> None:
        timeout = self.poll_s
        if not disabled:
            next_at = await asyncio.to_thread(self.store.next_due_at, endpoint.name)
            if next_at is not None:
                timeout = min(timeout, max(0.0, (next_at - datetime.now(UTC)).total_seconds()))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), timeout=timeout)

    async def _deliver_one(
        self, client: httpx.AsyncClient, endpoint: Endpoint, delivery: Delivery, limit: asyncio.Semaphore
    ) -> None:
        try:
            await self._deliver(client, endpoint, delivery)
        except (SQLAlchemyError, StoreError) as exc:
            log.warning(
                "webhooks %s: cannot record the outcome of %s (%s); it stays pending and may be sent again "
                "with the same webhook-id",
                endpoint.name,
                delivery.webhook_id,
                self.store.unreachable(exc),
            )
        except Exception:  # a bug must not kill the partner's worker; the row stays pending
            log.exception("webhooks %s: delivery %s failed unexpectedly", endpoint.name, delivery.webhook_id)
        finally:
            limit.release()

    async def _deliver(self, client: httpx.AsyncClient, endpoint: Endpoint, delivery: Delivery) -> None:
        figures = self.figures.partners[endpoint.name]
        now = datetime.now(UTC)
        headers = {
            "webhook-id": delivery.webhook_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": sign(endpoint.secrets, delivery.webhook_id, now, delivery.body),
            "content-type": CONTENT_TYPES.get(delivery.fmt, "application/json"),
        }
        error: str
        if not self.store.may_act():
            return  # not (or no longer) the leader of a pair: the row stays pending for the one that leads
        try:
            started = asyncio.get_running_loop().time()
            response = await client.post(
                endpoint.url, content=delivery.body.encode("utf-8"), headers=headers, timeout=endpoint.timeout_s
            )
            figures.last_latency_s = asyncio.get_running_loop().time() - started
            status = response.status_code
            if 200 <= status < 300:
                await asyncio.to_thread(self.store.mark_delivered, delivery.id, datetime.now(UTC))
                figures.delivered += 1
                return
            if status == 410:
                reason = f"HTTP 410 Gone from {endpoint.url} at {now.isoformat()}"
                await asyncio.to_thread(self.store.disable_partner, endpoint.name, now, reason)
                figures.disabled = True
                figures.last_error = reason
                log.warning("webhooks %s: partner answered 410 Gone; subscription disabled", endpoint.name)
                return
            error = f"HTTP {status}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        figures.failed_attempts += 1
        figures.last_error = error
        attempts = delivery.attempts + 1
        age_s = (now - delivery.created_at).total_seconds()
        if age_s >= endpoint.max_age_s:
            await asyncio.to_thread(self.store.mark_dead, delivery.id, now, error)
            figures.dead += 1
            log.error(
                "webhooks %s: giving up on %s after %d attempts over %.0f s (%s); it is in the dead-letter list",
                endpoint.name,
                delivery.webhook_id,
                attempts,
                age_s,
                error,
            )
            return
        delay = backoff_s(attempts, self.retry_min_s, self.retry_max_s, self._rng)
        delay = min(delay, max(0.0, endpoint.max_age_s - age_s))  # a last try right at the maximum age
        await asyncio.to_thread(self.store.mark_retry, delivery.id, attempts, now + timedelta(seconds=delay), error)
        log.info(
            "webhooks %s: %s attempt %d failed (%s); retry in %.1f s",
            endpoint.name,
            delivery.webhook_id,
            attempts,
            error,
            delay,
        )
