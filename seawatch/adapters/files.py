"""Read AIS from files: NMEA logs (plain or gzip) and pre-decoded CSV exports.

Replay must see the same reports live ingest would, so this module only gets bytes
off the disk and, for CSV, maps columns onto the core's report types with the
decoder's rules (sentinels -> None, invalid MMSIs kept and flagged). NMEA lines go
to :class:`seawatch.core.decode.Decoder` unchanged.

Files are streamed: a day of AIS for a busy coast is gigabytes, so nothing here
reads a whole file, and a line longer than :data:`MAX_LINE_BYTES` (a binary file
mistaken for a log, a logger that lost its newlines) is cut short rather than
buffered whole. A gzip file is recognised by its magic bytes, not its name, because
rotated logs are often compressed without being renamed.

CSV layouts understood (columns matched by name, case-insensitively, in any order):

* MarineCadastre (US AIS archive): ``MMSI,BaseDateTime,LAT,LON,SOG,COG,Heading,
  VesselName,IMO,CallSign,VesselType,Status,Length,Width,Draft,Cargo,TransceiverClass``
  (some years spell the last ``TranscieverClass``); times are ISO 8601 in UTC.
* Danish Maritime Authority: ``# Timestamp,Type of mobile,MMSI,Latitude,Longitude,
  Navigational status,ROT,SOG,COG,Heading,IMO,Callsign,Name,Ship type,…``; times are
  day first (``27/02/2024 00:00:00``, UTC) and status and ship type are text.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import heapq
import logging
import os
import zlib
from collections import Counter
from collections.abc import Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from operator import itemgetter
from pathlib import Path
from typing import Any, Final, NamedTuple, Protocol

from seawatch.core.lines import line_time, parse_timestamp
from seawatch.core.mmsi import is_valid_mmsi
from seawatch.core.model import (
    BaseStationReport,
    OtherReport,
    PositionReport,
    RejectReason,
    Report,
    StaticReport,
)

log = logging.getLogger(__name__)

MAX_LINE_BYTES: Final = 64 * 1024
"""Longest line kept; the rest of a longer line is skipped (NMEA sentences are < 100 bytes)."""

MAX_TRACKED_MMSI: Final = 200_000
"""How many vessels' last static data a CSV reader remembers to suppress repeats."""

_GZIP_MAGIC: Final = b"\x1f\x8b"
_EPOCH: Final = datetime.min.replace(tzinfo=UTC)  # sorts a log's untimed first lines first
_MAX_GROUPED_LINES: Final = 16  # lines held for one message's parts (at most 9 in AIS, plus $PGHP lines)
_MMSI_LIMIT: Final = 1 << 30  # MMSI is a 30-bit field in every AIS message


class SourceError(Exception):
    """A file could not be opened or read; the message names the file."""


class _LineSource(Protocol):
    """What reading needs of a plain or a gzip file."""

    def readline(self, size: int, /) -> bytes: ...


# ------------------------------------------------------------------ opening files
def _cannot_read(path: Path, exc: BaseException) -> SourceError:
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return SourceError(f"cannot read {str(path)!r}: {reason or type(exc).__name__}")


@contextlib.contextmanager
def _open_binary(path: Path) -> Iterator[_LineSource]:
    """Open ``path`` for reading bytes, decompressing on the fly if it is gzip."""
    try:
        raw = open(path, "rb")  # noqa: SIM115 - closed by the ExitStack below
    except OSError as exc:
        raise _cannot_read(path, exc) from exc
    with contextlib.ExitStack() as stack:
        stack.enter_context(raw)
        try:
            magic = raw.peek(2)[:2]
        except OSError as exc:  # a directory opens on some systems, then fails here
            raise _cannot_read(path, exc) from exc
        if magic == _GZIP_MAGIC:
            yield stack.enter_context(gzip.GzipFile(fileobj=raw, mode="rb"))
        else:
            yield raw


class ReadProgress:
    """How far through its file a reader is, in bytes *of the file* (compressed bytes for .gz).

    Updated every few thousand lines, so a progress bar can show a fraction and an ETA
    for archives of any size without knowing their line count.
    """

    __slots__ = ("done", "total")

    def __init__(self) -> None:
        self.done = 0
        self.total = 0


def _raw_lines(path: Path, progress: ReadProgress | None = None) -> Generator[bytes, None, None]:
    """Lines with their terminators, each at most :data:`MAX_LINE_BYTES` long."""
    cut = 0
    with _open_binary(path) as stream:
        readline = stream.readline
        raw: Any = getattr(stream, "fileobj", None) or stream  # the file under a GzipFile
        if progress is not None:
            progress.total = os.fstat(raw.fileno()).st_size
            progress.done = 0
        count = 0
        skipping = False
        while True:
            try:
                line = readline(MAX_LINE_BYTES)
            except (OSError, EOFError, zlib.error) as exc:
                # A truncated .gz (a log copied while being written) ends here, after
                # every complete line has been yielded.
                raise _cannot_read(path, exc) from exc
            if not line:
                break
            if progress is not None:
                count += 1
                if count & 4095 == 0:
                    progress.done = raw.tell()
            if skipping:
                skipping = line[-1:] != b"\n"
                continue
            if len(line) == MAX_LINE_BYTES and line[-1:] != b"\n":
                skipping = True
                cut += 1
            yield line
    if progress is not None:
        progress.done = progress.total
    if cut:
        log.warning("%s: %d lines longer than %d bytes were cut short", path, cut, MAX_LINE_BYTES)


def iter_log_lines(path: Path, progress: ReadProgress | None = None) -> Iterator[bytes]:
    """Yield each line of an NMEA log, plain or gzip, without its line terminator.

    Every line is yielded, blank ones included, so the decoder's line count matches
    the file. Raises :class:`SourceError` if the file cannot be opened or read.
    """
    for line in _raw_lines(path, progress):
        yield line.rstrip(b"\r\n")


def _leading_fragment(line: bytes) -> bool:
    """A part of a multipart sentence that is not its last (``!AIVDM,2,1,…``)."""
    start = line.find(b"!")
    if start < 0:
        return False
    fields = line[start : start + 24].split(b",", 4)
    if len(fields) < 4 or not (fields[1].isdigit() and fields[2].isdigit()):
        return False
    return 1 <= int(fields[2]) < int(fields[1])


def log_payloads(lines: Iterable[bytes]) -> Iterator[tuple[bytes, datetime | None]]:
    """Group a log into payloads with their event time.

    A Gatehouse ``$PGHP`` line travels with its sentence, and the parts of a multipart
    sentence travel together: merged with another receiver's log, or published, the parts
    of two messages with the same sequence id must never interleave. Blank lines are
    dropped. A payload's time is the latest time any of its lines carries (tag block,
    timestamp column or ``$PGHP``), or None.
    """
    held: list[bytes] = []
    for line in lines:
        if not line.strip():
            continue
        held.append(line)
        if line.startswith(b"$PGHP") or (_leading_fragment(line) and len(held) < _MAX_GROUPED_LINES):
            continue
        when = None
        for item in held:
            when = line_time(item) or when
        yield b"\n".join(held), when
        held = []
    if held:
        yield b"\n".join(held), None


def merged_log_payloads(
    paths: Sequence[Path], progress: Sequence[ReadProgress] | None = None
) -> Iterator[tuple[bytes, datetime | None]]:
    """Several logs as one, in event time (untimed payloads keep their place within their file).

    Several receivers' logs of the same hours become the one sea they saw, as a live
    broker would have delivered them. ``progress`` (one per path) follows each file.
    """
    streams = []
    for index, path in enumerate(paths):
        read = progress[index] if progress is not None else None

        def keyed(path: Path = path, index: int = index, read: ReadProgress | None = read) -> Iterator[Any]:
            last = _EPOCH
            for n, (payload, when) in enumerate(log_payloads(iter_log_lines(path, read))):
                if when is not None:
                    last = when
                yield (last, index, n, payload, when)

        streams.append(keyed())
    for _, _, _, payload, when in heapq.merge(*streams):
        yield payload, when


# ------------------------------------------------------------------ CSV layouts
# Normalised header name -> the field it carries. Both layouts share one table:
# matching by name, not position, is what lets column order vary between years.
_COLUMNS: Final[dict[str, str]] = {
    "mmsi": "mmsi",
    "basedatetime": "time",
    "timestamp": "time",
    "lat": "lat",
    "latitude": "lat",
    "lon": "lon",
    "longitude": "lon",
    "sog": "sog",
    "cog": "cog",
    "heading": "heading",
    "status": "status",
    "navigational status": "status",
    "transceiverclass": "kind",
    "transcieverclass": "kind",
    "type of mobile": "kind",
    "vesselname": "name",
    "name": "name",
    "callsign": "callsign",
    "imo": "imo",
    "vesseltype": "ship_type",
    "ship type": "ship_type",
    "length": "length",
    "width": "width",
    "draft": "draught",
    "draught": "draught",
    "destination": "destination",
}
_REQUIRED: Final = frozenset({"mmsi", "time", "lat", "lon"})
# In StaticReport field order.
_STATIC_FIELDS: Final = ("name", "callsign", "imo", "ship_type", "length", "width", "destination", "draught")


class _Header(NamedTuple):
    columns: dict[str, int]  # field -> index of its column
    n_columns: int  # every row must have exactly this many


def _header_columns(first_line: bytes) -> _Header:
    """The known fields a header line names (perhaps not all the required ones)."""
    text = first_line.decode("utf-8", "replace").lstrip("\ufeff").strip()
    if not text:
        return _Header({}, 0)
    try:
        names = next(csv.reader([text]))
    except (csv.Error, StopIteration):
        return _Header({}, 0)
    columns: dict[str, int] = {}
    for index, name in enumerate(names):
        key = " ".join(name.strip().lstrip("#").lower().split())
        known = _COLUMNS.get(key)
        if known is not None and known not in columns:
            columns[known] = index
    return _Header(columns, len(names))


def _parse_header(first_line: bytes) -> _Header | None:
    """Find the known fields in a header line; None if it is not a known layout."""
    header = _header_columns(first_line)
    return header if header.columns.keys() >= _REQUIRED else None


def is_csv(path: Path) -> bool:
    """True if ``path`` (plain or gzip) starts with a MarineCadastre or DMA CSV header.

    Raises :class:`SourceError` if the file cannot be read, so that a typo in a
    replay's file list is reported as such rather than as "not a CSV".
    """
    with contextlib.closing(_raw_lines(path)) as lines:
        first = next(lines, b"")
    columns = _header_columns(first).columns
    if columns.keys() >= _REQUIRED:
        return True
    named_csv = path.name.lower().removesuffix(".gz").endswith(".csv")
    if first.lstrip()[:1] not in (b"!", b"$", b"\\") and (len(columns) >= 2 or (named_csv and columns)):
        # A CSV with a column missing must not be read as NMEA, every row a silent reject.
        missing = ", ".join(sorted(_REQUIRED - columns.keys()))
        raise SourceError(
            f"{str(path)!r} is a CSV without the column(s) it needs: {missing} "
            "(MarineCadastre: MMSI, BaseDateTime, LAT, LON; DMA: MMSI, # Timestamp, Latitude, Longitude)"
        )
    return False


# ------------------------------------------------------------------ CSV values
@dataclass(slots=True)
class CsvStats:
    """What a CSV reader saw; rejects are counted by :class:`RejectReason`, never raised."""

    rows: int = 0
    reports: int = 0
    rejects: Counter[str] = field(default_factory=Counter)
    no_position: int = 0  # vessel rows whose lat/lon were "not available": static data only

    @property
    def rejected(self) -> int:
        return sum(self.rejects.values())


# "Type of mobile" / TransceiverClass -> AIS message type the row stands for. Aids to
# navigation and SAR aircraft become the same OtherReport the decoder gives for
# messages 21 and 9, so replay from CSV and live decoding agree on what is a vessel.
_KIND_MSG_TYPE: Final[dict[str, int]] = {
    "a": 1,
    "class a": 1,
    "b": 18,
    "class b": 18,
    "base station": 4,
    "aton": 21,
    "sar airborne": 9,
    "search and rescue transponder": 1,
    "man overboard device": 1,
}

# DMA navigational status text -> ITU-R M.1371 code. Checked in order, by keyword,
# because the export's spelling varies ("manoeuverability", "maneuverability").
_NAV_STATUS_KEYWORDS: Final = (
    ("test", 15),  # a beacon under test transmits status 15, never 14
    ("sart", 14),
    ("mob", 14),
    ("epirb", 14),
    ("using engine", 0),
    ("anchor", 1),
    ("not under command", 2),
    ("restricted", 3),
    ("draught", 4),
    ("moored", 5),
    ("aground", 6),
    ("fishing", 7),
    ("sailing", 8),
    ("hsc", 9),
    ("wig", 10),
    ("towing astern", 11),
    ("pushing ahead", 12),
    ("towing alongside", 12),
    ("reserved", 13),
)
_NAV_STATUS_UNKNOWN: Final = 15

# DMA ship type text -> a representative ITU-R M.1371 type code (the first of its
# range where the text names a range). Undefined, reserved and spare stay unknown.
_SHIP_TYPES: Final[dict[str, int]] = {
    "wig": 20,
    "fishing": 30,
    "towing": 31,
    "towing long/wide": 32,
    "dredging": 33,
    "diving": 34,
    "military": 35,
    "sailing": 36,
    "pleasure": 37,
    "hsc": 40,
    "pilot": 50,
    "sar": 51,
    "tug": 52,
    "port tender": 53,
    "anti-pollution": 54,
    "law enforcement": 55,
    "medical": 58,
    "not party to conflict": 59,
    "passenger": 60,
    "cargo": 70,
    "tanker": 80,
    "other": 90,
}


def _number(text: str) -> float | None:
    """A float, or None for an empty or unreadable field (decimal comma tolerated)."""
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        try:
            return float(text.replace(",", "."))
        except ValueError:
            return None


def _coordinate(text: str, limit_deg: float) -> float | None:
    """Latitude or longitude; outside ±limit (91 and 181 are "not available") -> None.

    Raises ValueError for text that is not a number at all: a row whose position is
    garbage is a bad row, not a row without a position.
    """
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        value = float(text.replace(",", "."))
    return value if -limit_deg <= value <= limit_deg else None


def _below(text: str, limit: float) -> float | None:
    """SOG or COG: a value in [0, limit), else None (102.3 kn and 360° mean "not available")."""
    value = _number(text)
    return value if value is not None and 0.0 <= value < limit else None


def _heading(text: str) -> int | None:
    value = _number(text)
    return int(value) if value is not None and 0.0 <= value < 360.0 else None


@lru_cache(maxsize=256)
def _nav_status(text: str) -> int | None:
    """Numeric status (MarineCadastre) or DMA text to the ITU code; unknown text -> 15."""
    text = text.strip()
    if not text:
        return None
    value = _number(text)
    if value is not None:
        return int(value) if 0 <= value <= 15 else None
    lowered = text.lower()
    for keyword, code in _NAV_STATUS_KEYWORDS:
        if keyword in lowered:
            return code
    return _NAV_STATUS_UNKNOWN


@lru_cache(maxsize=256)
def _ship_type(text: str) -> int | None:
    """Numeric VesselType (MarineCadastre) or DMA text to an ITU ship type code."""
    text = text.strip()
    value = _number(text)
    if value is not None:
        return int(value) if 0 < value < 256 else None
    return _SHIP_TYPES.get(" ".join(text.lower().split()))


@lru_cache(maxsize=64)
def _msg_type(kind: str) -> int:
    return _KIND_MSG_TYPE.get(" ".join(kind.lower().split()), 1)


def _text(text: str) -> str | None:
    """Free text as the decoder keeps it (padding '@' and blanks stripped); 'Unknown' -> None.

    The text is untrusted and kept verbatim otherwise: escaping is the job of whatever
    renders it.
    """
    text = text.strip(" @")
    if not text or text.lower() == "unknown":
        return None
    return text


def _imo(text: str) -> int | None:
    text = text.strip()
    if text[:3].upper() == "IMO":
        text = text[3:]
    value = _number(text)
    return int(value) if value is not None and 0 < value < 1_000_000_000 else None


def _metres(text: str) -> int | None:
    value = _number(text)
    return round(value) if value is not None and 0.0 < value < 10_000.0 else None


def _draught(text: str) -> float | None:
    value = _number(text)
    return value if value is not None and 0.0 < value < 100.0 else None


# name, callsign, imo, ship_type, length_m, beam_m, destination, draught_m
_StaticFields = tuple[str | None, str | None, int | None, int | None, int | None, int | None, str | None, float | None]


def _static_fields(raw: tuple[str, ...]) -> _StaticFields:
    name, callsign, imo, ship_type, length, width, destination, draught = raw
    return (
        _text(name),
        _text(callsign),
        _imo(imo),
        _ship_type(ship_type),
        _metres(length),
        _metres(width),
        _text(destination),
        _draught(draught),
    )


_DAY_FIRST_FORMATS: Final = ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y")


def _day_first(text: str) -> datetime | None:
    """``dd/mm/yyyy HH:MM:SS`` (DMA), taken as UTC; slicing is ten times faster than strptime."""
    try:
        if len(text) == 19 and text[2] == "/" and text[5] == "/" and text[13] == ":":
            return datetime(
                int(text[6:10]),
                int(text[3:5]),
                int(text[0:2]),
                int(text[11:13]),
                int(text[14:16]),
                int(text[17:19]),
                tzinfo=UTC,
            )
    except ValueError:
        return None
    for layout in _DAY_FIRST_FORMATS:
        try:
            return datetime.strptime(text, layout).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


def _row_time(text: str) -> datetime | None:
    """A row's event time: DMA day-first, else ISO 8601 or epoch; naive times are UTC."""
    text = text.strip()
    if "/" in text[:6]:
        return _day_first(text)
    return parse_timestamp(text)


# ------------------------------------------------------------------ CSV reader
def iter_csv_reports(path: Path, stats: CsvStats, *, source: str = "") -> Iterator[Report]:
    """Yield reports built from the rows of a MarineCadastre or DMA CSV (plain or gzip).

    Each row gives a position (``PositionReport`` for vessels and beacons, type 1 for
    class A and 18 for class B; ``BaseStationReport`` for base stations; the decoder's
    ``OtherReport`` 21 for aids to navigation and 9 for SAR aircraft). A vessel row
    whose static columns say something new about the MMSI gives a ``StaticReport``
    first (type 5, or 24 for class B, with ``part`` None as it holds both halves), so
    a file that repeats the name on every row yields it once. Rows that cannot be
    parsed are counted in ``stats.rejects`` and skipped.

    Raises :class:`SourceError` if the file cannot be read or its header is not one
    of the known layouts.
    """
    with contextlib.closing(_raw_lines(path)) as lines:
        first = next(lines, b"")
        if not first.strip():
            return
        header = _parse_header(first)
        if header is None:
            text = first[:200].decode("utf-8", "replace").strip()
            raise SourceError(f"{str(path)!r} is not a MarineCadastre or DMA CSV (header: {text!r})")
        yield from _rows(csv.reader(line.decode("utf-8", "replace") for line in lines), header, stats, source)


def _rows(reader: Iterator[list[str]], header: _Header, stats: CsvStats, source: str) -> Iterator[Report]:
    """The per-row loop, kept flat: it runs once per row of files with millions of rows."""
    columns, n_columns = header
    # A missing optional column reads the empty field appended to every row (index -1).
    at = {name: columns.get(name, -1) for name in (*_STATIC_FIELDS, "sog", "cog", "heading", "status", "kind")}
    i_mmsi, i_time, i_lat, i_lon = columns["mmsi"], columns["time"], columns["lat"], columns["lon"]
    i_sog, i_cog, i_heading, i_status, i_kind = at["sog"], at["cog"], at["heading"], at["status"], at["kind"]
    has_static = any(at[name] != -1 for name in _STATIC_FIELDS)
    static_of = itemgetter(*(at[name] for name in _STATIC_FIELDS))
    fingerprint_of = itemgetter(i_mmsi, i_time, i_lat, i_lon, i_sog, i_cog, i_heading)
    # MMSI -> (raw static columns last seen, static fields last emitted)
    last_static: dict[int, tuple[tuple[str, ...], tuple[object, ...] | None]] = {}
    bad_row = RejectReason.BAD_CSV_ROW
    last_time_text = ""
    when: datetime | None = None

    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error:  # an oversized or unterminated quoted field
            stats.rows += 1
            stats.rejects[bad_row] += 1
            continue
        if not row:
            continue  # blank line
        stats.rows += 1
        if len(row) != n_columns:
            stats.rejects[bad_row] += 1
            continue
        row.append("")
        try:
            mmsi = int(row[i_mmsi])
            lat = _coordinate(row[i_lat], 90.0)
            lon = _coordinate(row[i_lon], 180.0)
        except ValueError:
            stats.rejects[bad_row] += 1
            continue
        if not 0 <= mmsi < _MMSI_LIMIT:
            stats.rejects[bad_row] += 1
            continue
        time_text = row[i_time]
        if time_text != last_time_text:
            last_time_text = time_text
            when = _row_time(time_text)
        if when is None:
            stats.rejects[bad_row] += 1
            continue
        valid = 201_000_000 <= mmsi <= 775_999_999 or is_valid_mmsi(mmsi)
        msg_type = _msg_type(row[i_kind])

        if msg_type == 4:
            stats.reports += 1
            yield BaseStationReport(mmsi, 4, when, lat, lon, source, valid)
            continue
        if msg_type == 21 or msg_type == 9:
            stats.reports += 1
            sog = _below(row[i_sog], 1023.0) if msg_type == 9 else None
            yield OtherReport(mmsi, msg_type, when, lat, lon, sog, _below(row[i_cog], 360.0), source, valid)
            continue

        if has_static:
            raw = static_of(row)
            seen = last_static.get(mmsi)
            if seen is None or seen[0] != raw:
                fields = _static_fields(raw)
                emitted = seen[1] if seen is not None else None
                if _is_news(fields, emitted):
                    stats.reports += 1
                    yield StaticReport(
                        mmsi,
                        24 if msg_type == 18 else 5,
                        when,
                        *fields,
                        part=None,
                        source=source,
                        mmsi_valid=valid,
                    )
                    emitted = _merge(fields, emitted)
                if seen is None and len(last_static) >= MAX_TRACKED_MMSI:
                    del last_static[next(iter(last_static))]
                last_static[mmsi] = (raw, emitted)

        if lat is None or lon is None:
            stats.no_position += 1
            continue
        stats.reports += 1
        yield PositionReport(
            mmsi,
            msg_type,
            when,
            lat,
            lon,
            _below(row[i_sog], 102.3),
            _below(row[i_cog], 360.0),
            _heading(row[i_heading]),
            _nav_status(row[i_status]),
            source,
            valid,
            # The same report relayed twice (two stations, one export) gets the same
            # fingerprint, as the same payload heard twice does in the decoder.
            hash(fingerprint_of(row)) or 1,
        )


def _is_news(fields: _StaticFields, emitted: tuple[object, ...] | None) -> bool:
    """True if ``fields`` has a known value that differs from what was last emitted.

    A row that leaves a column blank says nothing new, so it does not re-emit.
    """
    if emitted is None:
        return any(value is not None for value in fields)
    return any(value is not None and value != old for value, old in zip(fields, emitted, strict=True))


def _merge(fields: _StaticFields, emitted: tuple[object, ...] | None) -> tuple[object, ...]:
    """What is known after emitting ``fields``: blanks keep the value emitted before."""
    if emitted is None:
        return fields
    return tuple(new if new is not None else old for new, old in zip(fields, emitted, strict=True))
