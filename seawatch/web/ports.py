"""What the web needs from the running service, and nothing more: a read model and a command port.

The runtime (``seawatch.runtime``) implements both; the web imports nothing of it, so the
HTTP side can be tested, replaced or run elsewhere without the service's wiring, and the
service never depends on the web's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from seawatch.core.alertbook import AlertBook
from seawatch.core.alerts import AlertEvent
from seawatch.core.commands import Command
from seawatch.core.fleet import Fleet
from seawatch.core.zones import ZoneIndex


class StoreUnavailableError(RuntimeError):
    """What the read model raises when a read needs the alert store and it does not answer (HTTP 503)."""


class ReadOnlyError(RuntimeError):
    """What the command port raises on the standby of a failover pair: actions go to the leader (HTTP 409)."""


@dataclass(frozen=True, slots=True)
class WebOptions:
    """The web's own settings: tokens (plain text here, never logged), map tiles, SURPIC range."""

    api_read_token: str | None = None
    operator_tokens: Mapping[str, str] = field(default_factory=dict)  # operator name -> token
    tiles_url: str | None = None
    tiles_attribution: str = ""
    surpic_max_range_nm: float = 100.0
    centre_timezone: str = "UTC"  # the coordination centre's IANA time zone, for times on the map


class ReadModel(Protocol):
    """The live state the pages and the API show. Read on the event loop; never changed through here."""

    @property
    def fleet(self) -> Fleet: ...

    @property
    def book(self) -> AlertBook: ...

    @property
    def zones(self) -> ZoneIndex: ...

    @property
    def now(self) -> datetime | None:
        """The newest event time seen."""
        ...

    def stored_alerts(self, kind: str | None, status: str | None, limit: int) -> list[AlertEvent]:
        """Alerts from the store (closed ones too). Blocking: call it in a worker thread."""
        ...

    def history(self, alert_id: str) -> list[AlertEvent]:
        """Every stored event of one alert, oldest first. Blocking: call it in a worker thread."""
        ...

    def health(self) -> tuple[int, dict[str, Any]]:
        """The ``/healthz`` answer: HTTP status and body."""
        ...

    def instance(self) -> dict[str, Any] | None:
        """Which instance of a failover pair serves this map: None when failover is off.

        Else ``instance`` (this one's name), ``role`` (``leader`` or ``standby``), ``read_only``
        (True while operators' actions are refused here) and ``leader`` (``instance``, ``url``;
        None while nobody is known to lead). From memory only: it never waits on the store.
        """
        ...

    async def metrics(self) -> str:
        """The ``/metrics`` answer, Prometheus text format."""
        ...


class Commands(Protocol):
    """The one way operators change the watch: a command in, its alert event out (None: cannot).

    Answered once the event is stored, so that what the API shows next includes it.
    """

    async def execute(self, command: Command) -> AlertEvent | None: ...
