"""The log as an alert channel: opened and critical alerts in the service log, for an operator at a terminal."""

from __future__ import annotations

import logging

from seawatch.adapters.sink import QueuedSink
from seawatch.core.alerts import AlertEvent, EventType, Severity

log = logging.getLogger(__name__)


class LogSink(QueuedSink):
    """Opened alerts, and every event of a critical one, as log lines (WARNING for critical and high)."""

    def __init__(self, name: str = "log") -> None:
        super().__init__(name)

    async def deliver(self, events: list[AlertEvent]) -> None:
        for event in events:
            if event.event is EventType.OPENED or event.severity is Severity.CRITICAL:
                level = logging.WARNING if event.severity in (Severity.CRITICAL, Severity.HIGH) else logging.INFO
                log.log(
                    level, "%s %s [%s]: %s", event.event.value, event.kind.value, event.severity.value, event.summary
                )
