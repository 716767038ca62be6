"""A local file where alert events wait while the alert store cannot be written.

The store is written before the AIS message behind an event is acknowledged to the
broker; if that write fails (PostgreSQL down, a disk full of WAL) the message is still
acknowledged, because holding the feed back would blind the watch. Without a spool the
event would then exist only in memory, and a crash before the store came back would lose
it. With one, every such event is appended here and fsynced first; the next start, or
the next successful write, puts the spooled events into the store (duplicates are
ignored there) and empties the file.

One JSON object per line, the alert event contract (docs/alerts.md, "The alert event"), so an operator can
read it with any tool. A torn last line (a crash in mid-write) is skipped and counted.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path

from seawatch.core.alerts import AlertEvent
from seawatch.core.serialize import alert_event_json, event_from_dict

log = logging.getLogger(__name__)


class SpoolError(OSError):
    """The spool file cannot be written: events stay in memory only."""


class EventSpool:
    """Append-only, fsynced JSON Lines of alert events not yet in the store."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.torn_lines = 0
        self.unreadable = False

    def load(self) -> list[AlertEvent]:
        """Events left by an earlier run (or this one), oldest first; unreadable lines skipped."""
        self.unreadable = False  # as of this read: a disk problem may have been fixed since
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return []
        except OSError as exc:
            # not fatal: the service must start and watch; the file stays for a person to look at
            log.error("cannot read the alert spool %s (%s); events in it are NOT stored", self.path, exc)
            self.unreadable = True
            return []
        events: list[AlertEvent] = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                events.append(event_from_dict(json.loads(line)))
            except (ValueError, KeyError, TypeError) as exc:
                self.torn_lines += 1
                log.warning("alert spool %s line %d is not an alert event (%s); skipped", self.path, number, exc)
        return events

    def append(self, events: Sequence[AlertEvent]) -> None:
        """Write events durably (fsync) before returning; raises :class:`SpoolError` if it cannot.

        All or nothing: a failed or short write is cut back off, so the file never ends in half
        an event that the next append would glue its first event onto.
        """
        if not events:
            return
        data = "".join(alert_event_json(e) + "\n" for e in events).encode("utf-8")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            created = not self.path.exists()
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                size = os.fstat(fd).st_size
                if size and os.pread(fd, 1, size - 1) != b"\n":
                    data = b"\n" + data  # a torn last line from a crash: keep it apart
                try:
                    view = memoryview(data)
                    while view:
                        view = view[os.write(fd, view) :]
                    os.fsync(fd)
                except OSError:
                    os.ftruncate(fd, size)
                    raise
            finally:
                os.close(fd)
            if created:
                _fsync_directory(self.path.parent)  # the new file's name is durable too
        except OSError as exc:
            raise SpoolError(f"cannot write the alert spool {self.path}: {exc.strerror or exc}") from exc

    def clear(self) -> None:
        """Empty the spool once its events are in the store."""
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            # left in place, the same events are recorded again at the next start: duplicates are ignored
            log.warning("cannot remove the alert spool %s (%s); its events are already stored", self.path, exc)


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return  # some platforms cannot open a directory: the file's own fsync is what they offer
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
