"""Operators' actions on the alert book, as data: the one command path into the core.

The web (or any other front end) builds a command and hands it to
:meth:`seawatch.core.pipeline.Pipeline.command`; the resulting event then goes to the
sinks exactly like a detector's. Commands carry their own time and identifiers, since
the core reads no clock and draws no random numbers: whoever builds the command does.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from seawatch.core.alertbook import AlertBook
from seawatch.core.alerts import AlertEvent, Finding, Kind, Severity
from seawatch.core.zones import ZoneIndex


@dataclass(frozen=True, slots=True)
class Acknowledge:
    alert_id: str
    at: datetime
    by: str
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Assign:
    alert_id: str
    at: datetime
    by: str
    to: str
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Resolve:
    alert_id: str
    at: datetime
    by: str
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Retract:
    alert_id: str
    at: datetime
    by: str
    note: str


@dataclass(frozen=True, slots=True)
class FileReport:
    """A person's sighting or distress call with a position: it opens a ``report`` alert."""

    report_id: str
    at: datetime
    by: str
    lat: float
    lon: float
    report_kind: Literal["sighting", "distress_call"] = "sighting"
    persons_on_board: int | None = None
    condition: str | None = None
    text: str | None = None


Command = Acknowledge | Assign | Resolve | Retract | FileReport

COMMAND_TOPIC = "$seawatch/command"
"""The journal's topic for operators' actions (MQTT reserves ``$`` topics for the server: no feed has it)."""

TICK_TOPIC = "$seawatch/tick"
"""The journal's topic for a time-driven check run while the feed was silent (payload: its event time, ISO 8601).

Live, a silent feed lets event time run on with the wall clock (dark vessels, feed
outages, escalations); journalled in its place, a restart, a standby and an analyst's
replay run the same check at the same event time, and raise the same alerts.
"""

RESERVED_PREFIX = "$seawatch/"
"""Topics of the journal's own records; a feed message on one is refused."""


def tick_to_bytes(at: datetime) -> bytes:
    return at.astimezone(UTC).isoformat().encode()


def tick_from_bytes(data: bytes) -> datetime:
    """The event time of a journalled tick; :class:`CommandFormatError` for anything else."""
    try:
        at = datetime.fromisoformat(data.decode())
    except (ValueError, UnicodeDecodeError) as exc:
        raise CommandFormatError(f"not a tick: {exc}") from None
    if at.tzinfo is None:
        raise CommandFormatError("not a tick: a naive time")
    return at


_COMMANDS: dict[str, type[Command]] = {c.__name__: c for c in (Acknowledge, Assign, Resolve, Retract, FileReport)}


class CommandFormatError(ValueError):
    """A journal record on the command topic that is not a command this version knows."""


def command_to_bytes(command: Command) -> bytes:
    """The command as one JSON object, for the feed journal: a restart replays it in its place among the messages."""
    fields = asdict(command)
    fields["at"] = command.at.astimezone(UTC).isoformat()
    return json.dumps({"command": type(command).__name__, **fields}, separators=(",", ":")).encode()


def command_from_bytes(data: bytes) -> Command:
    """The inverse of :func:`command_to_bytes`; :class:`CommandFormatError` for anything else."""
    try:
        fields: dict[str, Any] = json.loads(data)
        kind = _COMMANDS[fields.pop("command")]
        at = datetime.fromisoformat(fields.pop("at"))
        if at.tzinfo is None:
            raise ValueError("a naive time")
        return kind(at=at, **fields)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise CommandFormatError(f"not an operator command: {exc}") from None


def report_finding(report: FileReport, zones: ZoneIndex) -> Finding:
    """The finding a report makes: a distress call is critical and escalates until acknowledged."""
    inside = zones.at(report.lat, report.lon)
    zone = inside[0] if inside else None
    distress = report.report_kind == "distress_call"
    what = "Distress call" if distress else "Sighting"
    pob = f", {report.persons_on_board} on board" if report.persons_on_board is not None else ""
    condition = f", {report.condition}" if report.condition else ""
    return Finding(
        kind=Kind.REPORT,
        key=(report.report_id,),
        observed_at=report.at,
        severity=Severity.CRITICAL if distress else Severity.HIGH,
        summary=f"{what} reported by {report.by} at {report.lat:.4f}, {report.lon:.4f}{pob}{condition}.",
        evidence={
            "report_id": report.report_id,
            "report_kind": report.report_kind,
            "persons_on_board": report.persons_on_board,
            "condition": report.condition,
            "text": report.text,
            "reported_by": report.by,
        },
        lat=report.lat,
        lon=report.lon,
        zone=None if zone is None else zone.ref,
        escalates=distress,
    )


def execute(book: AlertBook, zones: ZoneIndex, command: Command) -> AlertEvent | None:
    """Apply one command; its event, or None if the alert is unknown or cannot take it in its state."""
    match command:
        case Acknowledge(alert_id, at, by, note):
            return book.acknowledge(alert_id, at, by, note)
        case Assign(alert_id, at, by, to, note):
            return book.assign(alert_id, at, by, to, note)
        case Resolve(alert_id, at, by, note):
            return book.resolve(alert_id, at, by, note)
        case Retract(alert_id, at, by, note):
            return book.retract(alert_id, at, by, note)
        case FileReport():
            return book.report(report_finding(command, zones))
