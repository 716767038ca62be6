"""SURPIC: vessels ranked by time to reach a position, with the course change each needs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from seawatch.core.fleet import Fleet
from seawatch.core.geo import METRES_PER_NM, destination
from seawatch.core.model import PositionReport
from seawatch.core.surpic import surpic

T0 = datetime(2026, 3, 1, tzinfo=UTC)
TARGET = (8.0, 96.0)


def at_range(
    fleet: Fleet,
    mmsi: int,
    bearing_from_target: float,
    nm: float,
    sog: float | None,
    cog: float | None,
    age_s: float = 0.0,
) -> None:
    lat, lon = destination(*TARGET, bearing_from_target, nm * METRES_PER_NM)
    fleet.apply(PositionReport(mmsi, 1, T0 - timedelta(seconds=age_s), lat, lon, sog, cog, None, 0))


def test_ranked_by_time_to_reach_with_course_change() -> None:
    fleet = Fleet()
    at_range(fleet, 533000001, 0.0, 10.0, sog=20.0, cog=180.0)  # 10 nm north, fast, heading straight for it
    at_range(fleet, 533000002, 90.0, 5.0, sog=5.0, cog=0.0)  # 5 nm east, slow, heading north
    at_range(fleet, 533000003, 180.0, 2.0, sog=0.2, cog=None)  # 2 nm south but stopped
    at_range(fleet, 533000004, 270.0, 150.0, sog=20.0, cog=90.0)  # out of range
    at_range(fleet, 970000001, 0.0, 1.0, sog=0.0, cog=None)  # a beacon cannot help
    at_range(fleet, 533000005, 0.0, 3.0, sog=12.0, cog=180.0, age_s=7200)  # not heard for two hours
    ranked = surpic(fleet, *TARGET, T0, max_range_nm=100)
    assert [e.mmsi for e in ranked] == [533000001, 533000002, 533000003]
    first, second, third = ranked
    assert first.time_to_reach_s == pytest.approx(1800, rel=0.01)  # 10 nm at 20 kn
    assert first.course_to_deg == pytest.approx(180.0, abs=0.5) and first.course_change_deg == pytest.approx(0, abs=0.5)
    assert second.time_to_reach_s == pytest.approx(3600, rel=0.01)  # 5 nm at 5 kn
    assert second.course_change_deg == pytest.approx(-90.0, abs=0.5)  # from north to west: turn to port
    assert third.time_to_reach_s is None and third.distance_nm == pytest.approx(2.0, rel=0.01)


def test_excluded_vessels_and_limit() -> None:
    fleet = Fleet()
    for i in range(20):
        at_range(fleet, 533100000 + i, i * 18.0, 1.0 + i, sog=10.0, cog=0.0)
    ranked = surpic(fleet, *TARGET, T0, exclude=[533100000], limit=5)
    assert len(ranked) == 5 and 533100000 not in [e.mmsi for e in ranked]
