"""MMSI classification after ITU-R M.585 (Assignment and use of identities in the
maritime mobile service).

Seawatch never drops a report for a bad MMSI: invalid identities (for instance the
``009…`` numbers seen on fishing boats off Thailand and Malaysia) are exactly the
small, unregistered craft it has to watch. The MMSI is kept and *flagged*.
"""

from __future__ import annotations

from enum import StrEnum

# Maritime Identification Digits allocated by the ITU lie between 201 and 775.
_MID_MIN = 201
_MID_MAX = 775

MMSI_LIMIT = 1 << 30
"""The MMSI is a 30-bit field in every AIS message: a number at or above this came from no AIS message."""


class MmsiKind(StrEnum):
    SHIP = "ship"
    GROUP = "group"
    COAST_STATION = "coast_station"
    SAR_AIRCRAFT = "sar_aircraft"
    HANDHELD = "handheld"
    AIS_SART = "ais_sart"  # 970xxyyyy
    MOB = "mob"  # 972xxyyyy
    EPIRB = "epirb"  # 974xxyyyy
    CRAFT_WITH_PARENT = "craft_with_parent"  # 98MIDxxxx
    AID_TO_NAVIGATION = "aid_to_navigation"  # 99MIDxxxx
    INVALID = "invalid"


BEACON_KINDS = frozenset({MmsiKind.AIS_SART, MmsiKind.MOB, MmsiKind.EPIRB})
# The first three digits of AIS-SART, MOB and EPIRB-AIS identities (970xxyyyy, 972xxyyyy, 974xxyyyy):
# the one place Seawatch knows them.
BEACON_PREFIXES = frozenset({970, 972, 974})


def is_beacon(mmsi: int) -> bool:
    """Whether the MMSI is a distress beacon's (AIS-SART, MOB, EPIRB-AIS): a signal, not a vessel."""
    return mmsi // 1_000_000 in BEACON_PREFIXES


def _mid_ok(mid: int) -> bool:
    return _MID_MIN <= mid <= _MID_MAX


def classify_mmsi(mmsi: int) -> MmsiKind:
    """Return what kind of station a nine-digit MMSI identifies (``INVALID`` if none)."""
    if not 0 < mmsi <= 999_999_999:
        return MmsiKind.INVALID
    if mmsi >= 100_000_000:
        head = mmsi // 1_000_000  # first three digits
        if _mid_ok(head):
            return MmsiKind.SHIP
        if head == 970:
            return MmsiKind.AIS_SART
        if head == 972:
            return MmsiKind.MOB
        if head == 974:
            return MmsiKind.EPIRB
        if head == 111 and _mid_ok(mmsi // 1000 % 1000):
            return MmsiKind.SAR_AIRCRAFT
        if 800_000_000 <= mmsi < 900_000_000 and _mid_ok(mmsi // 100_000 % 1000):
            return MmsiKind.HANDHELD
        if 980_000_000 <= mmsi < 990_000_000 and _mid_ok(mmsi // 10_000 % 1000):
            return MmsiKind.CRAFT_WITH_PARENT
        if mmsi >= 990_000_000 and _mid_ok(mmsi // 10_000 % 1000):
            return MmsiKind.AID_TO_NAVIGATION
        return MmsiKind.INVALID
    if mmsi < 10_000_000:  # 00MIDxxxx
        return MmsiKind.COAST_STATION if _mid_ok(mmsi // 10_000) else MmsiKind.INVALID
    # 0MIDxxxxx
    return MmsiKind.GROUP if _mid_ok(mmsi // 100_000) else MmsiKind.INVALID


def is_valid_mmsi(mmsi: int) -> bool:
    """True if the MMSI has one of the ITU-R M.585 forms; the fast path covers ships.

    The one rule every input format flags its reports with (NMEA, CSV, …), so a vessel is
    flagged the same whichever way it was heard.
    """
    if 201_000_000 <= mmsi <= 775_999_999:
        return True
    return classify_mmsi(mmsi) is not MmsiKind.INVALID


def mid_of(mmsi: int) -> int | None:
    """The flag state's Maritime Identification Digits, when the MMSI form carries them."""
    kind = classify_mmsi(mmsi)
    if kind is MmsiKind.SHIP:
        return mmsi // 1_000_000
    if kind is MmsiKind.HANDHELD:
        return mmsi // 100_000 % 1000
    if kind in (MmsiKind.CRAFT_WITH_PARENT, MmsiKind.AID_TO_NAVIGATION):
        return mmsi // 10_000 % 1000
    if kind is MmsiKind.SAR_AIRCRAFT:
        return mmsi // 1000 % 1000
    if kind is MmsiKind.GROUP:
        return mmsi // 100_000
    if kind is MmsiKind.COAST_STATION:
        return mmsi // 10_000
    return None
