"""An MQTT broker inside the Seawatch process, so ``seawatch demo`` needs nothing installed.

amqtt is pure Python and speaks MQTT 3.1.1, which is all the demo needs. It is
far slower than Mosquitto (about 1.6k msg/s embedded in the same event loop), so
production deployments use Mosquitto (see ``docker/``); the demo feed runs at a
few hundred messages a second.
"""

from __future__ import annotations

import logging
from types import TracebackType
from typing import Any

from amqtt.broker import Broker

log = logging.getLogger(__name__)


class EmbeddedBroker:
    """``async with EmbeddedBroker(port=18830):`` serves MQTT on 127.0.0.1 until the block ends."""

    def __init__(self, host: str = "127.0.0.1", port: int = 18830) -> None:
        self.host = host
        self.port = port
        self._broker: Any = None

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    async def __aenter__(self) -> EmbeddedBroker:
        # amqtt logs every connection at INFO; the demo's own figures say what matters.
        # A failed start is reported once, by the OSError below, not by amqtt's traceback.
        for name in ("amqtt", "transitions"):
            logging.getLogger(name).setLevel(logging.CRITICAL)
        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}", "max_connections": 100}},
            "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
        }
        self._broker = Broker(config)
        try:
            await self._broker.start()
        except Exception as exc:
            raise OSError(f"cannot start the embedded MQTT broker on {self.host}:{self.port}: {exc}") from exc
        log.info("embedded MQTT broker listening on %s", self.url)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._broker is not None:
            await self._broker.shutdown()
            self._broker = None
