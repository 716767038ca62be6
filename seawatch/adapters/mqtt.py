"""MQTT in (and, for the demo and drills, out). The only module that imports aiomqtt.

Delivery guarantees, and what provides each:

* **QoS 1, persistent session, fixed client id** (``clean_session=False``): while
  Seawatch is away the broker queues what arrives for it, and hands it over on
  reconnect. A restart of Seawatch loses nothing the broker held.
* **Broker restarts**: Mosquitto writes queued messages of persistent sessions to
  its persistence file on shutdown; publishers at QoS 1 resend what was not acked.
* **Reconnect with jittered exponential backoff**: aiomqtt 2.x does not reconnect
  by itself; :meth:`MqttSource.run` re-enters the client in a loop.
* **Acknowledge after processing**: each message is handed to the pipeline inside
  the client's receive callback, *before* paho sends the PUBACK. A crash between
  receipt and processing therefore leaves the message with the broker, which
  redelivers it; there is no in-process queue of acknowledged-but-unprocessed
  messages to lose. It is also several times faster than aiomqtt's message
  iterator, which schedules a task per message. A slow pipeline slows the socket
  reads, and TCP flow control pushes back to the broker.
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

import aiomqtt

from seawatch.config import Settings
from seawatch.core.lines import MAX_SOURCE_CHARS
from seawatch.urls import parse_mqtt_url

log = logging.getLogger(__name__)

SYS_DROPPED_TOPIC = "$SYS/broker/publish/messages/dropped"

PayloadHandler = Callable[[bytes, datetime, str], None]


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
    handler_errors: int = 0


def make_client(
    settings: Settings,
    *,
    identifier: str | None = None,
    clean_session: bool = False,
    queue_type: type[asyncio.Queue[aiomqtt.Message]] | None = None,
) -> aiomqtt.Client:
    """An aiomqtt client configured from settings (credentials, TLS, in-flight window)."""
    address = parse_mqtt_url(settings.mqtt_url)
    tls_context: ssl.SSLContext | None = None
    if address.tls:
        tls_context = ssl.create_default_context(
            cafile=str(settings.mqtt_tls_ca_file) if settings.mqtt_tls_ca_file else None
        )
        if settings.mqtt_tls_insecure:
            tls_context.check_hostname = False
            tls_context.verify_mode = ssl.CERT_NONE
    password = settings.mqtt_password.get_secret_value() if settings.mqtt_password else None
    return aiomqtt.Client(
        address.host,
        address.port,
        username=settings.mqtt_username,
        password=password,
        identifier=identifier if identifier is not None else settings.mqtt_client_id,
        clean_session=clean_session,
        keepalive=settings.mqtt_keepalive_s,
        tls_context=tls_context,
        tls_insecure=settings.mqtt_tls_insecure if address.tls else None,
        max_inflight_messages=settings.mqtt_max_inflight,
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
    behind a queue on the handler's side so that it never holds up the broker.
    """

    def __init__(self, settings: Settings, handler: PayloadHandler, health: SourceHealth | None = None) -> None:
        self._settings = settings
        self._handler = handler
        self.health = health or SourceHealth(name=f"mqtt {settings.mqtt_url}")
        self._connected = asyncio.Event()

    async def wait_connected(self) -> None:
        await self._connected.wait()

    async def run(self) -> None:
        """Receive until cancelled, reconnecting with backoff whenever the link drops."""
        settings = self._settings
        backoff = Backoff(settings.mqtt_reconnect_min_s, settings.mqtt_reconnect_max_s)
        client = make_client(settings, queue_type=_inline_queue(self._on_message))
        topics = [(topic, settings.mqtt_qos) for topic in settings.mqtt_topics]
        if settings.mqtt_sys_topics:
            topics.append((SYS_DROPPED_TOPIC, 0))
        health = self.health
        while True:
            try:
                async with client:
                    await client.subscribe(topics)
                    health.connected = True
                    health.connects += 1
                    health.last_error = None
                    self._connected.set()
                    backoff.reset()
                    log.info("connected to %s, subscribed to %s", settings.mqtt_url, settings.mqtt_topics)
                    # Messages are handled in _on_message as they arrive; this loop only
                    # waits for the link to drop (it raises MqttError when it does).
                    async for _ in client.messages:
                        pass
            except aiomqtt.MqttError as exc:
                self._connected.clear()
                if health.connected:
                    health.disconnects += 1
                health.connected = False
                health.last_error = str(exc)
                delay = backoff.next_delay_s()
                log.warning("MQTT link to %s lost (%s); reconnecting in %.1f s", settings.mqtt_url, exc, delay)
                await asyncio.sleep(delay)

    def _on_message(self, message: aiomqtt.Message) -> None:
        topic = message.topic.value[:MAX_SOURCE_CHARS]  # MQTT allows 65,535 bytes; figures are kept per topic
        payload = message.payload
        if not isinstance(payload, bytes):
            payload = bytes(payload) if isinstance(payload, bytearray) else str(payload).encode()
        if topic.startswith("$SYS/"):
            self._sys(topic, payload)
            return
        now = datetime.now(UTC)
        health = self.health
        health.messages += 1
        health.last_message_at = now
        try:
            self._handler(payload, now, topic)
        except Exception:  # a bug must not stop ingest: logged, counted, and the message acked
            health.handler_errors += 1
            log.exception("handler failed on a message from %s", topic)

    def _sys(self, topic: str, payload: bytes) -> None:
        if topic == SYS_DROPPED_TOPIC:
            try:
                self.health.broker_dropped = int(payload.strip() or b"0")
            except ValueError:
                log.debug("unexpected %s payload %r", topic, payload)


class AlertPublisher:
    """Alert events to ``<prefix>/<kind>`` at QoS 1, on a connection of its own.

    Ingest hands events over with :meth:`put` and never waits: the queue is bounded
    (``max_queued``), and past it the oldest events are dropped and counted, because
    the durable path for partners is the webhook outbox, not this topic.
    """

    def __init__(self, settings: Settings, prefix: str, max_queued: int = 10_000) -> None:
        self._settings = settings
        self._prefix = prefix.rstrip("/")
        self._queue: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()
        self._max_queued = max_queued
        self.published = 0
        self.dropped = 0
        self.connected = False

    def put(self, kind: str, payload: bytes) -> None:
        if self._queue.qsize() >= self._max_queued:
            self._queue.get_nowait()
            self.dropped += 1
        self._queue.put_nowait((f"{self._prefix}/{kind}", payload))

    async def run(self) -> None:
        settings = self._settings
        backoff = Backoff(settings.mqtt_reconnect_min_s, settings.mqtt_reconnect_max_s)
        client = make_client(settings, identifier=f"{settings.mqtt_client_id}-alerts", clean_session=True)
        held: tuple[str, bytes] | None = None
        while True:
            try:
                async with client:
                    self.connected = True
                    backoff.reset()
                    while True:
                        if held is None:
                            held = await self._queue.get()
                        await publish_qos1(client, held[0], held[1])
                        self.published += 1
                        held = None
            except aiomqtt.MqttError as exc:
                self.connected = False
                delay = backoff.next_delay_s()
                log.warning("alert topic: MQTT link lost (%s); reconnecting in %.1f s", exc, delay)
                await asyncio.sleep(delay)
