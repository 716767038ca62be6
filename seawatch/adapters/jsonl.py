"""Alert events appended to a JSON Lines file (``seawatch run --alerts-out``), the format replay writes."""

from __future__ import annotations

from pathlib import Path

from seawatch.adapters.sink import BlockingSink
from seawatch.core.alerts import AlertEvent
from seawatch.core.serialize import alert_event_json


class JsonLinesSink(BlockingSink):
    """One JSON object a line, flushed after every batch; written in a worker thread."""

    def __init__(self, path: Path, name: str = "jsonl") -> None:
        super().__init__(name)
        self.path = path
        self._file = path.open("a", encoding="utf-8", newline="\n")

    def write(self, events: list[AlertEvent]) -> None:
        self._file.write("".join(alert_event_json(e) + "\n" for e in events))
        self._file.flush()

    def close(self) -> None:
        self._file.close()
