"""MQTT in (and, for the demo and drills, out). The only module that imports aiomqtt.

Delivery guarantees, and what provides each:

* **QoS 1, persistent session, fixed client id** (``clean_session=False``): while
  Seawatch is away the broker queues what arrives for it, and hands it over on
  reconnect. A restart of Seawatch loses nothing the broker held.
* **Broker restarts**: Mosquitto writes queued messages of persistent sessions to
  its persistence file on shutdown; publishers at QoS 1 resend what was not acked.
* **Reconnect with jittered exponential backoff**: aiomqtt 2.x does not reconnect
  by itself; :meth:`MqttSource.run` re-enters the client in a loop.
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
from urllib.parse import urlsplit

import aiomqtt

from seawatch.config import Settings

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


@dataclass(frozen=True, slots=True)
class BrokerAddress:
    host: str
    port: int
    tls: bool


def parse_mqtt_url(url: str) -> BrokerAddress:
    """``mqtt://host:1883`` or ``mqtts://host:8883`` (``tcp://``/``ssl://`` accepted too)."""
    parts = urlsplit(url)
    tls = parts.scheme in ("mqtts", "ssl")
    if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl") or not parts.hostname:
        raise ValueError(f"not an MQTT URL: {url!r} (expected mqtt://host:port or mqtts://host:port)")
    return BrokerAddress(parts.hostname, parts.port or (8883 if tls else 1883), tls)


def make_client(settings: Settings, *, identifier: str | None = None, clean_session: bool = False) -> aiomqtt.Client:
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
    )


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
        client = make_client(settings)
        topics = [(topic, settings.mqtt_qos) for topic in settings.mqtt_topics]
        if settings.mqtt_sys_topics:
            topics.append((SYS_DROPPED_TOPIC, 0))
        health = self.health
        handler = self._handler
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
                    async for message in client.messages:
                        topic = message.topic.value
                        payload = message.payload
                        if not isinstance(payload, bytes | bytearray):
                            payload = str(payload).encode()
                        if topic.startswith("$SYS/"):
                            self._sys(topic, bytes(payload))
                            continue
                        now = datetime.now(UTC)
                        health.messages += 1
                        health.last_message_at = now
                        handler(bytes(payload), now, topic)
            except aiomqtt.MqttError as exc:
                self._connected.clear()
                if health.connected:
                    health.disconnects += 1
                health.connected = False
                health.last_error = str(exc)
                delay = backoff.next_delay_s()
                log.warning("MQTT link to %s lost (%s); reconnecting in %.1f s", settings.mqtt_url, exc, delay)
                await asyncio.sleep(delay)

    def _sys(self, topic: str, payload: bytes) -> None:
        if topic == SYS_DROPPED_TOPIC:
            try:
                self.health.broker_dropped = int(payload.strip() or b"0")
            except ValueError:
                log.debug("unexpected %s payload %r", topic, payload)
