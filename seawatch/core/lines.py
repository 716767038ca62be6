"""Recognise the timestamps that loggers wrap around NMEA sentences.

Real AIS logs come in many shapes; the ones handled here are:

* a leading epoch (seconds or milliseconds) or ISO 8601 column before the sentence,
  separated by a space, tab, comma or semicolon;
* trailing comma-separated fields after the checksum, as written by libais-style
  loggers and AIS dispatchers (``…,0*3A,1485907262`` or ``…*70,b003669794,1272412827``);
  the last all-digit field is taken as the receive epoch.

Everything here is pure string handling: no clock, no I/O.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import NamedTuple

_SENTENCE_STARTS = b"!$\\"
# Epochs above this are in milliseconds (1e11 s would be the year 5138).
_MS_THRESHOLD = 100_000_000_000
# Plausible receive epochs: 1990-01-01 .. 2100-01-01. A bare number outside the
# range is not a timestamp (it may be a station id or a counter).
_EPOCH_MIN_S = 631_152_000
_EPOCH_MAX_S = 4_102_444_800


_CHECKSUM_MASKS = [(1 << (8 * n)) - 1 for n in range(257)]

# Names a message gives its source are kept per source (feed health, fragments, figures),
# so they are bounded: a station name (tag-block s:, AIS-catcher station_id) longer than
# this, or with control characters, is not taken; a feed name (MQTT topic, file) is cut.
MAX_STATION_CHARS = 64
MAX_SOURCE_CHARS = 256


def station_name(value: str) -> str | None:
    """``value`` if it is fit to be kept as a receiver's name, else None (only its head is looked at)."""
    value = value[: MAX_STATION_CHARS + 1]  # one over the limit is enough to refuse it
    return value if len(value) <= MAX_STATION_CHARS and value.isprintable() else None


def nmea_checksum(body: bytes) -> int:
    """XOR of every byte between the start delimiter and the ``*`` (or of a tag block's text).

    Folding one big integer onto itself halves the work at each step, so a whole
    sentence costs a handful of big-int operations instead of a Python loop per byte.
    """
    n = int.from_bytes(body, "big")
    size = len(body)
    while size > 1:
        half = size >> 1
        bits = half << 3
        mask = _CHECKSUM_MASKS[half] if half < 257 else (1 << bits) - 1
        n = (n >> bits) ^ (n & mask)
        size -= half
    return n


def epoch_to_datetime(value: float) -> datetime | None:
    """Seconds or milliseconds since 1970 to an aware UTC datetime (None if implausible)."""
    if value != value:  # NaN
        return None
    if value > _MS_THRESHOLD:
        value /= 1000.0
    if not _EPOCH_MIN_S <= value <= _EPOCH_MAX_S:
        return None
    return datetime.fromtimestamp(value, UTC)


def parse_timestamp(text: str) -> datetime | None:
    """An epoch number or an ISO 8601 date-time; naive times are taken as UTC."""
    text = text.strip()
    if not text:
        return None
    try:
        return epoch_to_datetime(float(text))
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # year 1 or 9999 pushed out of range by its offset
        return None


def strip_wrapping(line: bytes) -> tuple[bytes, datetime | None]:
    """Split a logged line into the bare sentence (tag block kept) and its logged time.

    Returns the line unchanged and ``None`` when there is nothing to strip, or when the
    text has no sentence start at all (the decoder will count it as not AIS).
    """
    when: datetime | None = None
    if line[:1] not in (b"!", b"$", b"\\"):
        starts = [i for i in (line.find(c) for c in (b"!", b"\\", b"$")) if i > 0]
        if not starts:
            return line, None
        cut = min(starts)
        prefix = line[:cut].strip().rstrip(b",;").strip()
        try:
            when = parse_timestamp(prefix.decode("ascii"))
        except UnicodeDecodeError:
            when = None
        line = line[cut:]
    star = line.rfind(b"*")
    if star != -1 and len(line) > star + 3 and line[star + 3 : star + 4] == b",":
        trailer = line[star + 4 :].split(b",")
        line = line[: star + 3]
        for field in reversed(trailer):
            field = field.strip()
            if field.isdigit() or (field.count(b".") == 1 and field.replace(b".", b"").isdigit()):
                when = when or epoch_to_datetime(float(field))
                break
    return line, when


def gatehouse_time(line: bytes) -> datetime | None:
    """The receive time in a Gatehouse ``$PGHP,1,yyyy,m,d,h,min,s,ms,…`` sentence."""
    fields = line.split(b"*", 1)[0].split(b",")
    if len(fields) < 9 or fields[0] != b"$PGHP":
        return None
    try:
        y, mo, d, h, mi, s, ms = (int(f) for f in fields[2:9])
        return datetime(y, mo, d, h, mi, s, ms * 1000, tzinfo=UTC)
    except (ValueError, TypeError, OverflowError):
        return None


class TagBlock(NamedTuple):
    """What an NMEA 4 tag block (the text between the backslashes) says."""

    checksum_ok: bool
    when: datetime | None  # c: UNIX time, seconds or milliseconds
    source: str  # s: source station
    group: str  # g: group id, which ties the fragments of one message
    bad_time: bool  # a c: field that is not a number
    bad_source: bool = False  # an s: too long or not printable: not taken (see MAX_STATION_CHARS)


def tag_block(fields: str) -> bytes:
    """An NMEA 4 tag block with its checksum, e.g. ``\\c:1700000000*4B\\``: the inverse of :func:`parse_tag_block`."""
    body = fields.encode("ascii")
    return b"\\" + body + b"*%02X\\" % nmea_checksum(body)


def parse_tag_block(tag: bytes) -> TagBlock:
    """Parse a tag block; with a bad checksum none of its fields are trusted."""
    star = tag.rfind(b"*")
    if star != -1:
        try:
            expected = int(tag[star + 1 :], 16)
        except ValueError:
            expected = -1
        if nmea_checksum(tag[:star]) != expected:
            return TagBlock(False, None, "", "", False)
        tag = tag[:star]
    when: datetime | None = None
    source = ""
    group = ""
    bad_time = False
    bad_source = False
    for item in tag.split(b","):
        key, _, value = item.partition(b":")
        if key == b"c":
            try:
                when = epoch_to_datetime(float(value))
            except (ValueError, OverflowError):
                bad_time = True
        elif key == b"s":
            name = station_name(value[: MAX_STATION_CHARS + 1].decode("ascii", "replace"))  # decode the head only
            source = name or ""
            bad_source = name is None
        elif key == b"g":
            group = value[:MAX_STATION_CHARS].decode("ascii", "replace").rpartition("-")[2]
    return TagBlock(True, when, source, group, bad_time, bad_source)


def line_time(line: bytes) -> datetime | None:
    """Whatever event time a log line carries by itself, for pacing a replay.

    The decoder makes the authoritative choice between times; this is a quick look
    for publishers that need to know *when* to send a line, not what it means.
    """
    line = line.strip()
    if line.startswith(b"$PGHP"):
        return gatehouse_time(line)
    if line[:1] == b"\\":
        end = line.find(b"\\", 1)
        if end > 0:
            found = parse_tag_block(line[1:end]).when
            if found is not None:
                return found
            line = line[end + 1 :]
    return strip_wrapping(line)[1]
