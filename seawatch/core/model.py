"""Typed reports that the decoder produces and the rest of Seawatch consumes.

Reports are ``NamedTuple``s rather than frozen dataclasses on purpose: they are
created once per AIS message on the hot path, and a tuple is built several times
faster than a frozen dataclass (which pays one ``object.__setattr__`` per
field). They are just as immutable and just as typed.

Units are in the names (``sog_kn``, ``cog_deg``, ``length_m``); AIS "not
available" sentinels (lat 91, lon 181, SOG 102.3, COG 360, heading 511) are
``None`` by the time a report exists.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import NamedTuple


class RejectReason(StrEnum):
    """Why a line or sentence was not turned into a report (counted, never raised)."""

    EMPTY = "empty"
    NOT_AIS = "not_ais"  # other NMEA sentences ($GPRMC, …) and non-NMEA text
    MALFORMED = "malformed"  # wrong field count, bad numbers, non-ASCII bytes
    BAD_CHECKSUM = "bad_checksum"
    BAD_TAG_BLOCK = "bad_tag_block"
    EMPTY_PAYLOAD = "empty_payload"
    BAD_PAYLOAD = "bad_payload"  # characters outside the six-bit alphabet, bad fill bits
    BAD_PART_NUMBER = "bad_part_number"
    ORPHAN_FRAGMENT = "orphan_fragment"  # a multipart piece whose siblings never came
    UNKNOWN_TYPE = "unknown_type"
    UNDECODABLE = "undecodable"  # pyais could not make sense of the bits
    BAD_JSON = "bad_json"
    BAD_CSV_ROW = "bad_csv_row"
    TIME_OUT_OF_LINE = "time_out_of_line"  # replay: a time far from its feed's own, not confirmed by the next line
    BAD_COMMAND = "bad_command"  # a journal record on the operators' command topic that is not a command


class StaticReport(NamedTuple):
    """Identity and voyage data: type 5, type 24 part A or B, or the static half of 19."""

    mmsi: int
    msg_type: int
    observed_at: datetime | None
    name: str | None = None
    callsign: str | None = None
    imo: int | None = None
    ship_type: int | None = None
    length_m: int | None = None
    beam_m: int | None = None
    destination: str | None = None
    draught_m: float | None = None
    part: int | None = None  # 0 = 24A, 1 = 24B, None for 5/19
    source: str = ""
    mmsi_valid: bool = True
    fingerprint: int = 0


class PositionReport(NamedTuple):
    """A position fix from types 1, 2, 3 (class A), 18, 19 (class B) or 27 (long range)."""

    mmsi: int
    msg_type: int
    observed_at: datetime | None
    lat: float | None
    lon: float | None
    sog_kn: float | None
    cog_deg: float | None
    heading_deg: int | None
    nav_status: int | None
    source: str = ""
    mmsi_valid: bool = True
    # A fingerprint of the raw payload: the same transmission heard by two receivers
    # has the same fingerprint, which is how the fleet recognises duplicates.
    fingerprint: int = 0
    static: StaticReport | None = None  # type 19 carries name, type and size too


class SafetyText(NamedTuple):
    """Type 12 (addressed) or 14 (broadcast) safety-related text: a beacon's ACTIVE/TEST text, or a MAYDAY.

    A MAYDAY RELAY sent to one station as type 12 is still a distress call heard on the air.
    """

    mmsi: int
    msg_type: int
    observed_at: datetime | None
    text: str
    source: str = ""
    mmsi_valid: bool = True
    fingerprint: int = 0


class BaseStationReport(NamedTuple):
    """Type 4: a shore station's heartbeat, kept for feed health rather than the map."""

    mmsi: int
    msg_type: int
    observed_at: datetime | None
    lat: float | None
    lon: float | None
    source: str = ""
    mmsi_valid: bool = True
    fingerprint: int = 0


class OtherReport(NamedTuple):
    """Any other message type pyais decodes (8, 9, 21, …): counted, position kept if present."""

    mmsi: int
    msg_type: int
    observed_at: datetime | None
    lat: float | None = None
    lon: float | None = None
    sog_kn: float | None = None
    cog_deg: float | None = None
    source: str = ""
    mmsi_valid: bool = True
    fingerprint: int = 0


Report = PositionReport | StaticReport | SafetyText | BaseStationReport | OtherReport
