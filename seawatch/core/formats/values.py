"""What AIS field values mean, whatever format brought them: the "not available" sentinels.

ITU-R M.1371 marks a field it has no value for with a number just out of range: latitude
91, longitude 181, speed over ground 102.3 kn (1023 in the 1/10-knot field), course 360°,
true heading 511. Exports keep those numbers (a MarineCadastre row says ``LAT 91``), so
every format turns them into ``None`` with these functions: a vessel without a position
must look the same to the detectors whether it came from a radio log or a CSV.

The checks are on ranges, not on the exact sentinels: anything out of range says nothing.
"""

from __future__ import annotations

from typing import Final

LAT_NA_DEG: Final = 91.0
LON_NA_DEG: Final = 181.0
SOG_NA_KN: Final = 102.3
COG_NA_DEG: Final = 360.0
HEADING_NA_DEG: Final = 511
SAR_SOG_NA_KN: Final = 1023.0  # message 9 (SAR aircraft) gives whole knots; 1023 = not available

# The same limits in the raw units of the position reports' bit fields (1/10 knot, 1/10 degree),
# for the decoder's fast path, which checks the integers before scaling them.
SOG_NA_RAW: Final = 1023
COG_NA_RAW: Final = 3600


def lat_deg(value: float | None) -> float | None:
    """A latitude in [-90, 90], else None (91 = not available)."""
    if value is None or not -90.0 <= value <= 90.0:
        return None
    return value


def lon_deg(value: float | None) -> float | None:
    """A longitude in [-180, 180], else None (181 = not available)."""
    if value is None or not -180.0 <= value <= 180.0:
        return None
    return value


def sog_kn(value: float | None) -> float | None:
    """Speed over ground in [0, 102.3) knots, else None (102.3 = not available)."""
    return float(value) if value is not None and 0.0 <= value < SOG_NA_KN else None


def sar_sog_kn(value: float | None) -> float | None:
    """A SAR aircraft's speed in [0, 1023) knots, else None (1023 = not available)."""
    return float(value) if value is not None and 0.0 <= value < SAR_SOG_NA_KN else None


def cog_deg(value: float | None) -> float | None:
    """Course over ground in [0, 360) degrees, else None (360 = not available)."""
    return float(value) if value is not None and 0.0 <= value < COG_NA_DEG else None


def heading_deg(value: float | None) -> int | None:
    """True heading in [0, 360) whole degrees, else None (511 = not available)."""
    return int(value) if value is not None and 0.0 <= value < 360.0 else None
