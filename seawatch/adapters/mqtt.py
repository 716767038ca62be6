"""MQTT in (and, for the demo and drills, out). The only module that imports aiomqtt.

Delivery guarantees, and what provides each:

* **QoS 1, persistent session, fixed client id** (``clean_session=False``): while
  Seawatch is away the broker queues what arrives for it, and hands it over on
  reconnect. A restart of Seawatch loses nothing the broker held.
* **Broker restarts**: Mosquitto writes queued messages of persistent sessions to
  its persistence file on shutdown; publishers at QoS 1 resend what was not acked.
* **Reconnect with jittered exponential backoff**: aiomqtt 2.x does not reconnect
  by itself; :meth:`MqttSource.run` re-enters the client in a loop.
* **Acknowledge after durability (manual acks)**: paho runs with ``manual_ack``
  (aiomqtt 2.x has no switch for it, so it is set on the paho client underneath,
  ``aiomqtt.Client._client``, with aiomqtt pinned below 3). Each message is handed to
  the pipeline inside the client's receive callback together with a
  :class:`~seawatch.adapters.acks.Receipt`; whatever must be durable first (the alert
  events it raised, written by the store sink in a worker thread) holds the receipt,
  and the PUBACK goes out, in arrival order, once nothing holds it
  (:mod:`seawatch.adapters.acks`). A message that raised no alert is acknowledged as
  soon as it was handled, as before. A crash before the PUBACK leaves the message with
  the broker, which redelivers it; there is no in-process queue of
  acknowledged-but-unprocessed messages to lose, and no database write on the event
  loop. The broker's in-flight window (``max_inflight_messages`` in Mosquitto: 20 by
  default, 1000 in the configurations Seawatch ships) bounds how many messages may wait
  for their acknowledgement. Handling in the callback is also several times faster than
  aiomqtt's message iterator, which schedules a task per message.
* **Queue limits**: Mosquitto drops messages for a slow subscriber once
  ``max_queued_messages`` is reached. Seawatch reads the broker's own
  ``$SYS/broker/publish/messages/dropped`` counter, where offered, into its figures.
"""

from __future__ import annotations

import asyncio
import logging
import random
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import aiomqtt
import paho.mqtt.client as mqtt

from seawatch.adapters.acks import AckLedger, Receipt
from seawatch.adapters.sink import QueuedSink
from seawatch.config.urls import parse_mqtt_url
from seawatch.core.alerts import AlertEvent
from seawatch.core.lines import MAX_SOURCE_CHARS
from seawatch.core.serialize import alert_event_json

log = logging.getLogger(__name__)

SYS_DROPPED_TOPIC = "$SYS/broker/publish/messages/dropped"

PayloadHandler = Callable[[bytes, datetime, str, Receipt], None]
"""Handles one message; takes a hold on the receipt for anything that must be durable before the ack."""


@dataclass(frozen=True, slots=True)
class MqttOptions:
    """How to reach the broker and what to subscribe to (filled from settings by the runtime)."""

    url: str = "mqtt://127.0.0.1:1883"
    client_id: str = "seawatch"
    topics: tuple[str, ...] = ("ais/#",)
    qos: int = 1
    username: str | None = None
    password: str | None = None
    tls_ca_file: Path | None = None
    tls_insecure: bool = False
    keepalive_s: int = 30
    reconnect_min_s: float = 0.5
    reconnect_max_s: float = 30.0
    max_inflight: int = 1000  # our own QoS 1 publishes in flight (the alert topic, feeds)
    sys_topics: bool = True


@dataclass(slots=True)
class SourceHealth:
    """What the feed-health figures say about one source."""

    name: str
    connected: bool = False
    connects: int = 0
    disconnects: int = 0
    messages: int = 0
    last_message_at: datetime | None = None  # wall clock of arrival
    last_error: str | None = None
    broker_dropped: int | None = None  # the broker's own counter, when it publishes one
    broker_dropped_rose_at: datetime | None = None  # when that counter last went up (not its first reading)
    handler_errors: int = 0


def make_client(
    options: MqttOptions,
    *,
    identifier: str | None = None,
    clean_session: bool = False,
    queue_type: type[asyncio.Queue[aiomqtt.Message]] | None = None,
) -> aiomqtt.Client:
    """An aiomqtt client for the broker in ``options`` (credentials, TLS, in-flight window)."""
    address = parse_mqtt_url(options.url)
    tls_context: ssl.SSLContext | None = None
    if address.tls:
        tls_context = ssl.create_default_context(cafile=str(options.tls_ca_file) if options.tls_ca_file else None)
        if options.tls_insecure:
            tls_context.check_hostname = False
            tls_context.verify_mode = ssl.CERT_NONE
    return aiomqtt.Client(
        address.host,
        address.port,
        username=options.username,
        password=options.password,
        identifier=identifier if identifier is not None else options.client_id,
        clean_session=clean_session,
        keepalive=options.keepalive_s,
        tls_context=tls_context,
        tls_insecure=options.tls_insecure if address.tls else None,
        max_inflight_messages=options.max_inflight,
        queue_type=queue_type,
    )


def _inline_queue(handle: Callable[[aiomqtt.Message], None]) -> type[asyncio.Queue[aiomqtt.Message]]:
    """A queue type for aiomqtt that processes each message as it is put, instead of queueing it.

    aiomqtt puts every received message into its queue from paho's ``on_message``
    callback, and paho acknowledges a QoS 1 message only after that callback returns.
    """

    class InlineQueue(asyncio.Queue[aiomqtt.Message]):
        def put_nowait(self, item: aiomqtt.Message) -> None:
            handle(item)

    return InlineQueue


async def publish_qos1(client: aiomqtt.Client, topic: str, payload: bytes) -> None:
    """Publish at QoS 1 and wait for the broker's PUBACK.

    Python 3.11's ``asyncio.wait_for``, which aiomqtt waits in, can swallow a
    cancellation that coincides with the PUBACK (fixed in 3.12); a publishing loop
    would then never stop. The cancellation is honoured here instead.
    """
    await client.publish(topic, payload, qos=1)
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


class Backoff:
    """Full-jitter exponential backoff (AWS architecture blog, "Exponential Backoff And Jitter")."""

    def __init__(self, min_s: float, max_s: float, rng: random.Random | None = None) -> None:
        self._min_s = min_s
        self._max_s = max_s
        self._attempt = 0
        self._rng = rng or random.Random()

    def reset(self) -> None:
        self._attempt = 0

    def next_delay_s(self) -> float:
        ceiling = min(self._max_s, self._min_s * (2**self._attempt))
        if ceiling < self._max_s:  # stop counting once at the cap (and never overflow a float)
            self._attempt += 1
        return self._min_s / 2 + self._rng.uniform(0, ceiling)


class MqttSource:
    """Subscribe to the AIS topics and hand every payload to ``handler`` as it arrives.

    The handler is synchronous and quick (the pure pipeline); anything slow must sit
    behind a queue on the handler's side (a sink), holding the message's receipt if the
    message may be acknowledged only once that work is durable.
    """

    def __init__(
        self,
        options: MqttOptions,
        handler: PayloadHandler,
        health: SourceHealth | None = None,
        gate: Callable[[], bool] | None = None,
    ) -> None:
        self._options = options
        self._handler = handler
        # False: this instance must not read the feed now (one of a failover pair without the
        # lease): it neither connects nor takes a message, so the broker keeps it for the leader
        self._gate = gate
        self.health = health or SourceHealth(name=f"mqtt {options.url}")
        self._connected = asyncio.Event()
        self._ledger = AckLedger()
        self._client: aiomqtt.Client | None = None
        self.redelivered = False  # the broker's DUP flag on the message being handled

    async def wait_connected(self) -> None:
        await self._connected.wait()

    @property
    def unacknowledged(self) -> int:
        """Messages received on this connection and not yet acknowledged (waiting for durability)."""
        return self._ledger.waiting

    async def run(self) -> None:
        """Receive until cancelled, reconnecting with backoff whenever the link drops."""
        options = self._options
        backoff = Backoff(options.reconnect_min_s, options.reconnect_max_s)
        client = self._client = make_client(options, queue_type=_inline_queue(self._on_message))
        # aiomqtt 2.x offers no manual acknowledgement; paho underneath does (see the module docstring).
        client._client.manual_ack_set(True)
        # Nor does aiomqtt's Message keep the DUP flag; paho's message has it. A handler reads it
        # as ``redelivered`` (a restart tells a journalled message sent again from a new one by it).
        to_aiomqtt = client._client.on_message
        assert to_aiomqtt is not None

        def note_dup(paho: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
            self.redelivered = bool(message.dup)
            to_aiomqtt(paho, userdata, message)

        client._client.on_message = note_dup
        topics = [(topic, options.qos) for topic in options.topics]
        if options.sys_topics:
            topics.append((SYS_DROPPED_TOPIC, 0))
        health = self.health
        try:
            while True:
                # One ledger per connection (message ids are per connection), made before
                # connecting: a persistent session's queued messages may come before SUBACK.
                self._ledger = AckLedger()
                # never connects with the pair's client id without the lease (a clock-based predicate, polled)
                while self._gate is not None and not self._gate():  # noqa: ASYNC110
                    await asyncio.sleep(0.1)
                try:
                    async with client:
                        await client.subscribe(topics)
                        health.connected = True
                        health.connects += 1
                        health.last_error = None
                        self._connected.set()
                        backoff.reset()
                        log.info("connected to %s, subscribed to %s", options.url, list(options.topics))
                        # Messages are handled in _on_message as they arrive; this loop only
                        # waits for the link to drop (it raises MqttError when it does).
                        async for _ in client.messages:
                            pass
                except aiomqtt.MqttError as exc:
                    self._ledger.close()  # the broker redelivers what was not acknowledged
                    self._connected.clear()
                    if health.connected:
                        health.disconnects += 1
                    health.connected = False
                    health.last_error = str(exc)
                    delay = backoff.next_delay_s()
                    log.warning("MQTT link to %s lost (%s); reconnecting in %.1f s", options.url, exc, delay)
                    await asyncio.sleep(delay)
        finally:
            self._ledger.close()
            self._connected.clear()
            health.connected = False

    def _on_message(self, message: aiomqtt.Message) -> None:
        if self._gate is not None and not self._gate():
            return  # neither handled nor acknowledged: the broker gives it to the instance that leads
        topic = message.topic.value[:MAX_SOURCE_CHARS]  # MQTT allows 65,535 bytes; figures are kept per topic
        payload = message.payload
        if not isinstance(payload, bytes):
            payload = bytes(payload) if isinstance(payload, bytearray) else str(payload).encode()
        ack = None
        if message.qos and self._client is not None:
            ack = partial(self._client._client.ack, message.mid, message.qos)
        receipt = self._ledger.accept(ack)
        try:
            if topic.startswith("$SYS/"):
                self._sys(topic, payload)
                return
            now = datetime.now(UTC)
            health = self.health
            health.messages += 1
            health.last_message_at = now
            try:
                self._handler(payload, now, topic, receipt)
            except Exception:  # a bug must not stop ingest: logged, counted, and the message acked
                health.handler_errors += 1
                log.exception("handler failed on a message from %s", topic)
        finally:
            self._ledger.release(receipt)  # the handling itself is done

    def _sys(self, topic: str, payload: bytes) -> None:
        if topic == SYS_DROPPED_TOPIC:
            try:
                dropped = int(payload.strip() or b"0")
            except ValueError:
                log.debug("unexpected %s payload %r", topic, payload)
                return
            health = self.health
            before = health.broker_dropped
            if before is not None and dropped > before:
                # The counter is the broker's since it started: only a rise says messages are being lost now.
                health.broker_dropped_rose_at = datetime.now(UTC)
                log.warning(
                    "the broker dropped %d message(s) since its last report (%d in all): raise its queue limits "
                    '(docs/delivery.md, "Queue limits")',
                    dropped - before,
                    dropped,
                )
            health.broker_dropped = dropped


class AlertPublisher(QueuedSink):
    """The MQTT alert topic as a sink: each event to ``<prefix>/<kind>`` at QoS 1, on a connection of its own.

    Best effort by design: the queue is bounded (``max_queued``) and past it the oldest
    events are dropped and counted, because the durable path for partners is the webhook
    outbox, not this topic. A publish cut short by a lost link is sent again after the
    reconnect (QoS 1: at least once).
    """

    def __init__(self, options: MqttOptions, prefix: str, max_queued: int = 10_000, name: str = "alert-topic") -> None:
        super().__init__(name, max_queued=max_queued)
        self._options = options
        self._prefix = prefix.rstrip("/")
        self._client: aiomqtt.Client | None = None
        self.connected = False

    @property
    def published(self) -> int:
        return self.figures.delivered

    @property
    def dropped(self) -> int:
        return self.figures.dropped

    async def run(self) -> None:
        options = self._options
        backoff = Backoff(options.reconnect_min_s, options.reconnect_max_s)
        client = make_client(options, identifier=f"{options.client_id}-alerts", clean_session=True)
        while True:
            try:
                async with client:
                    self._client = client
                    self.connected = True
                    backoff.reset()
                    await super().run()
            except aiomqtt.MqttError as exc:
                self._client = None
                self.connected = False
                delay = backoff.next_delay_s()
                log.warning("alert topic: MQTT link lost (%s); reconnecting in %.1f s", exc, delay)
                await asyncio.sleep(delay)

    async def deliver(self, events: list[AlertEvent]) -> None:
        client = self._client
        assert client is not None
        for event in events:
            await publish_qos1(client, f"{self._prefix}/{event.kind.value}", alert_event_json(event).encode())
