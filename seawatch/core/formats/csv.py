"""CSV exports: MarineCadastre and Danish Maritime Authority rows mapped onto the core's reports.

Pre-decoded exports name their columns, so a row is read by name, not position, and mapped
with the decoder's rules: "not available" values become None
(:mod:`seawatch.core.formats.values`), invalid MMSIs are kept and flagged
(:func:`seawatch.core.mmsi.is_valid_mmsi`), so replay from CSV and from the radio log of the
same hours see the same vessels. Everything here is text in, reports out: the files are
opened and read by :mod:`seawatch.adapters.files`.

Layouts understood (columns matched by name, case-insensitively, in any order):

* MarineCadastre (US AIS archive): ``MMSI,BaseDateTime,LAT,LON,SOG,COG,Heading,
  VesselName,IMO,CallSign,VesselType,Status,Length,Width,Draft,Cargo,TransceiverClass``
  (some years spell the last ``TranscieverClass``); times are ISO 8601 in UTC.
* Danish Maritime Authority: ``# Timestamp,Type of mobile,MMSI,Latitude,Longitude,
  Navigational status,ROT,SOG,COG,Heading,IMO,Callsign,Name,Ship type,…``; times are
  day first (``27/02/2024 00:00:00``, UTC) and status and ship type are text.

A new layout whose columns carry the same fields is one more set of names in ``_COLUMNS``.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from operator import itemgetter
from typing import Final, NamedTuple

from seawatch.core.formats.values import cog_deg, heading_deg, lat_deg, lon_deg, sar_sog_kn, sog_kn
from seawatch.core.lines import parse_timestamp
from seawatch.core.mmsi import MMSI_LIMIT, is_valid_mmsi
from seawatch.core.model import (
    BaseStationReport,
    OtherReport,
    PositionReport,
    RejectReason,
    Report,
    StaticReport,
)

NAME = "csv"

MAX_TRACKED_MMSI: Final = 200_000
"""How many vessels' last static data a CSV reader remembers to suppress repeats."""

REQUIRED_HINT: Final = "MarineCadastre: MMSI, BaseDateTime, LAT, LON; DMA: MMSI, # Timestamp, Latitude, Longitude"


class MissingColumnsError(ValueError):
    """A header that names some of a layout's columns but not all it needs: a CSV, yet unreadable."""

    def __init__(self, missing: str) -> None:
        super().__init__(missing)
        self.missing = missing


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


class CsvHeader(NamedTuple):
    """Where a layout's known fields are, read from its header line."""

    columns: dict[str, int]  # field -> index of its column
    n_columns: int  # every row must have exactly this many


def _header_columns(first_line: bytes) -> CsvHeader:
    """The known fields a header line names (perhaps not all the required ones)."""
    text = first_line.decode("utf-8", "replace").lstrip("\ufeff").strip()
    if not text:
        return CsvHeader({}, 0)
    try:
        names = next(csv.reader([text]))
    except (csv.Error, StopIteration):
        return CsvHeader({}, 0)
    columns: dict[str, int] = {}
    for index, name in enumerate(names):
        key = " ".join(name.strip().lstrip("#").lower().split())
        known = _COLUMNS.get(key)
        if known is not None and known not in columns:
            columns[known] = index
    return CsvHeader(columns, len(names))


def parse_header(first_line: bytes) -> CsvHeader | None:
    """Find the known fields in a header line; None if it is not a known layout."""
    header = _header_columns(first_line)
    return header if header.columns.keys() >= _REQUIRED else None


def is_csv_header(first_line: bytes, named_csv: bool) -> bool:
    """True if ``first_line`` is the header of a known layout, False if the text is not a CSV.

    Raises :class:`MissingColumnsError` for a CSV with a required column missing (two known
    columns, or one in a file named ``.csv``): read as NMEA, every row would be a silent reject.
    """
    columns = _header_columns(first_line).columns
    if columns.keys() >= _REQUIRED:
        return True
    if first_line.lstrip()[:1] not in (b"!", b"$", b"\\") and (len(columns) >= 2 or (named_csv and columns)):
        raise MissingColumnsError(", ".join(sorted(_REQUIRED - columns.keys())))
    return False


def reports(header: CsvHeader, lines: Iterable[bytes], stats: CsvStats, source: str = "") -> Iterator[Report]:
    """Reports from the rows after ``header`` (lines of bytes, terminators kept or not).

    Each row gives a position (``PositionReport`` for vessels and beacons, type 1 for
    class A and 18 for class B; ``BaseStationReport`` for base stations; the decoder's
    ``OtherReport`` 21 for aids to navigation and 9 for SAR aircraft). A vessel row
    whose static columns say something new about the MMSI gives a ``StaticReport``
    first (type 5, or 24 for class B, with ``part`` None as it holds both halves), so
    a file that repeats the name on every row yields it once. Rows that cannot be
    parsed are counted in ``stats.rejects`` and skipped.
    """
    return _rows(csv.reader(line.decode("utf-8", "replace") for line in lines), header, stats, source)


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


def _position_number(text: str) -> float | None:
    """A latitude or longitude field as a number (None if empty); its range is checked by the shared rule.

    Raises ValueError for text that is not a number at all: a row whose position is
    garbage is a bad row, not a row without a position.
    """
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        return float(text.replace(",", "."))


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


def _rows(reader: Iterator[list[str]], header: CsvHeader, stats: CsvStats, source: str) -> Iterator[Report]:
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
            lat = lat_deg(_position_number(row[i_lat]))
            lon = lon_deg(_position_number(row[i_lon]))
        except ValueError:
            stats.rejects[bad_row] += 1
            continue
        if not 0 <= mmsi < MMSI_LIMIT:
            stats.rejects[bad_row] += 1
            continue
        time_text = row[i_time]
        if time_text != last_time_text:
            last_time_text = time_text
            when = _row_time(time_text)
        if when is None:
            stats.rejects[bad_row] += 1
            continue
        valid = is_valid_mmsi(mmsi)
        msg_type = _msg_type(row[i_kind])

        if msg_type == 4:
            stats.reports += 1
            yield BaseStationReport(mmsi, 4, when, lat, lon, source, valid)
            continue
        if msg_type == 21 or msg_type == 9:
            stats.reports += 1
            sog = sar_sog_kn(_number(row[i_sog])) if msg_type == 9 else None
            yield OtherReport(mmsi, msg_type, when, lat, lon, sog, cog_deg(_number(row[i_cog])), source, valid)
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
            sog_kn(_number(row[i_sog])),
            cog_deg(_number(row[i_cog])),
            heading_deg(_number(row[i_heading])),
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
