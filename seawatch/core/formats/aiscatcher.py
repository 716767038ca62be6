"""AIS-catcher's JSON: the NMEA sentences a receiver heard, with its receive time and station.

AIS-catcher publishes one object (or a list of them) per message: ``nmea`` holds the
sentences, ``rxuxtime`` (UNIX seconds) or ``rxtime`` (``YYYYMMDDHHMMSS``, UTC) the receive
time, ``station_id`` or ``device`` the receiver. The sentences go on to the NMEA decoder;
the receive time travels with them as a claim the decoder's time guard judges.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from seawatch.core.lines import epoch_to_datetime, station_name
from seawatch.core.model import RejectReason

if TYPE_CHECKING:
    from seawatch.core.decode import DecodeStats
    from seawatch.core.formats import Sentences

NAME = "aiscatcher"


def claims(head: bytes) -> bool:
    """A payload whose first non-blank byte opens a JSON object or list."""
    return head in (b"{", b"[")


def sentences(payload: bytes, source: str, stats: DecodeStats) -> Iterator[Sentences]:
    """The sentences of each object, with the source they are heard under and their receive time.

    A payload that is not JSON, or an object without a list of strings in ``nmea``, is
    counted as ``bad_json``; an empty ``nmea`` list like an empty message.
    """
    try:
        doc = json.loads(payload)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: "[[[[…" bombs
        stats.rejects[RejectReason.BAD_JSON] += 1
        return
    items = doc if isinstance(doc, list) else [doc]
    for item in items:
        nmea = item.get("nmea") if isinstance(item, dict) else None
        if not isinstance(nmea, list) or not all(isinstance(line, str) for line in nmea):
            stats.rejects[RejectReason.BAD_JSON] += 1
            continue
        if not nmea:  # nothing in it: counted like an empty message
            stats.rejects[RejectReason.EMPTY] += 1
            continue
        when = receive_time(item)  # the receiver's claim: the decoder's time guard judges it
        station = item.get("station_id") or item.get("device")
        src = source
        if isinstance(station, str | int) and not isinstance(station, bool):
            name = station_name(str(station))
            if name is None:
                stats.warnings["bad_station_name"] += 1
            else:
                src = f"{source}|{name}"
        yield nmea, src, when


def receive_time(item: dict[str, Any]) -> datetime | None:
    """AIS-catcher writes ``rxuxtime`` (UNIX seconds) and ``rxtime`` (``YYYYMMDDHHMMSS``, UTC)."""
    epoch = item.get("rxuxtime")
    if isinstance(epoch, int | float) and not isinstance(epoch, bool):
        try:
            return epoch_to_datetime(float(epoch))
        except OverflowError:  # an integer too large for a float
            return None
    text = item.get("rxtime")
    if isinstance(text, str) and len(text) == 14 and text.isdigit():
        try:
            return datetime.strptime(text, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
        except ValueError:
            return None
    return None
