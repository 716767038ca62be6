"""Fleet state on tiny hand-built tracks with exact event times."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from seawatch.core.fleet import Fleet, TrackPoint
from seawatch.core.model import BaseStationReport, PositionReport, SafetyText, StaticReport

T0 = datetime(2024, 3, 1, 6, 0, tzinfo=UTC)
MMSI = 525000001
_FINGERPRINTS = itertools.count(1_000)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def pos(
    t: float | None,
    *,
    lat: float | None = -10.0,
    lon: float | None = 105.0,
    fingerprint: int = 0,
    mmsi: int = MMSI,
    msg_type: int = 1,
    sog_kn: float | None = 4.0,
    static: StaticReport | None = None,
    valid: bool = True,
) -> PositionReport:
    # A distinct payload fingerprint per report unless a test says otherwise.
    fp = fingerprint or next(_FINGERPRINTS)
    when = None if t is None else at(t)
    return PositionReport(mmsi, msg_type, when, lat, lon, sog_kn, 90.0, 91, 0, "rx", valid, fp, static)


def times(fleet: Fleet, mmsi: int = MMSI) -> list[datetime | None]:
    vessel = fleet.get(mmsi)
    assert vessel is not None
    return [p.t for p in vessel.track]


# ------------------------------------------------------------------ duplicates
def test_same_transmission_within_the_window_counts_once() -> None:
    fleet = Fleet(duplicate_window_s=30.0)
    assert fleet.apply(pos(0, fingerprint=77)) is not None
    assert fleet.apply(pos(10, fingerprint=77)) is None  # heard again by a second receiver
    assert fleet.apply(pos(30, fingerprint=77)) is None  # the window is inclusive
    vessel = fleet.get(MMSI)
    assert vessel is not None
    assert vessel.messages == 1
    assert fleet.stats.reports == 1
    assert fleet.stats.duplicates == 2
    assert times(fleet) == [T0]
    assert vessel.last_seen == T0


def test_duplicate_arriving_earlier_than_the_first_copy_counts_once() -> None:
    fleet = Fleet(duplicate_window_s=30.0)
    fleet.apply(pos(20, fingerprint=77))
    assert fleet.apply(pos(5, fingerprint=77)) is None
    assert fleet.stats.out_of_order == 0
    assert times(fleet) == [at(20)]


def test_duplicates_without_times_count_once() -> None:
    fleet = Fleet()
    assert fleet.apply(pos(None, fingerprint=5)) is not None
    assert fleet.apply(pos(None, fingerprint=5)) is None
    assert fleet.stats.duplicates == 1
    vessel = fleet.get(MMSI)
    assert vessel is not None and vessel.messages == 1


def test_same_payload_beyond_the_window_counts_again() -> None:
    fleet = Fleet(duplicate_window_s=30.0)
    fleet.apply(pos(0, fingerprint=77))
    assert fleet.apply(pos(31, fingerprint=77)) is not None
    vessel = fleet.get(MMSI)
    assert vessel is not None
    assert vessel.messages == 2
    assert fleet.stats.duplicates == 0
    assert times(fleet) == [T0, at(31)]
    assert vessel.last_seen == at(31)


def test_different_payloads_at_the_same_time_are_not_duplicates() -> None:
    fleet = Fleet()
    fleet.apply(pos(0, fingerprint=1))
    fleet.apply(pos(0, fingerprint=2))
    assert fleet.stats.duplicates == 0
    assert fleet.stats.reports == 2


def test_safety_text_duplicates_count_once() -> None:
    fleet = Fleet()
    text = SafetyText(970012345, 14, at(0), "SART ACTIVE", "rx1", True, 99)
    assert fleet.apply(text) is not None
    assert fleet.apply(text._replace(source="rx2", observed_at=at(2))) is None
    assert fleet.stats.duplicates == 1


# --------------------------------------------------------------- out of order
def test_out_of_order_report_is_filed_in_time_order_without_moving_time_back() -> None:
    fleet = Fleet()
    fleet.apply(pos(0, lat=-10.0))
    newest = pos(120, lat=-10.2)
    fleet.apply(newest)
    vessel = fleet.apply(pos(60, lat=-10.1))
    assert vessel is not None
    assert vessel.last_seen == at(120)
    assert vessel.last_position == newest
    assert vessel.first_seen == T0
    assert [(p.t, p.lat) for p in vessel.track] == [(T0, -10.0), (at(60), -10.1), (at(120), -10.2)]
    assert fleet.stats.out_of_order == 1
    assert vessel.messages == 3


def test_report_older_than_the_first_moves_first_seen_only() -> None:
    fleet = Fleet()
    fleet.apply(pos(0))
    fleet.apply(pos(60))
    vessel = fleet.apply(pos(-60))
    assert vessel is not None
    assert vessel.first_seen == at(-60)
    assert vessel.last_seen == at(60)
    assert times(fleet) == [at(-60), T0, at(60)]


def test_position_without_coordinates_updates_last_position_but_not_the_track() -> None:
    fleet = Fleet()
    fleet.apply(pos(0))
    blind = pos(10, lat=None, lon=None)
    vessel = fleet.apply(blind)
    assert vessel is not None
    assert vessel.last_position == blind
    assert vessel.last_seen == at(10)
    assert times(fleet) == [T0]


# ----------------------------------------------------------------- track bounds
def test_track_is_bounded_by_point_count() -> None:
    fleet = Fleet(max_track_points=3)
    for i in range(5):
        fleet.apply(pos(i * 10, lat=-10.0 - i))
    vessel = fleet.get(MMSI)
    assert vessel is not None
    assert list(vessel.track) == [
        TrackPoint(at(20), -12.0, 105.0, 4.0, 90.0),
        TrackPoint(at(30), -13.0, 105.0, 4.0, 90.0),
        TrackPoint(at(40), -14.0, 105.0, 4.0, 90.0),
    ]


def test_full_track_drops_a_late_fix_older_than_all_it_keeps() -> None:
    fleet = Fleet(max_track_points=3)
    for t in (100, 200, 300):
        fleet.apply(pos(t))
    fleet.apply(pos(50))
    assert times(fleet) == [at(100), at(200), at(300)]
    fleet.apply(pos(250))
    assert times(fleet) == [at(200), at(250), at(300)]


def test_track_is_bounded_by_age_in_event_time() -> None:
    fleet = Fleet(max_track_age_s=600.0)
    for t in (0, 300, 700):
        fleet.apply(pos(t))
    assert times(fleet) == [at(300), at(700)]
    fleet.apply(pos(1000))
    assert times(fleet) == [at(700), at(1000)]
    fleet.apply(pos(100))  # late, and older than the track keeps: filed then trimmed
    assert times(fleet) == [at(700), at(1000)]
    fleet.apply(pos(500))  # late, but within the age bound
    assert times(fleet) == [at(500), at(700), at(1000)]


# ---------------------------------------------------------------- static data
def test_static_from_type5() -> None:
    fleet = Fleet()
    fleet.apply(pos(0))
    vessel = fleet.apply(
        StaticReport(MMSI, 5, at(5), "KM BAHARI", "YB1234", 9123456, 30, 25, 6, "KUPANG", 2.5, None, "rx", True)
    )
    assert vessel is not None
    assert (
        vessel.name,
        vessel.callsign,
        vessel.imo,
        vessel.ship_type,
        vessel.length_m,
        vessel.beam_m,
        vessel.destination,
        vessel.draught_m,
        vessel.static_at,
        vessel.ais_class,
    ) == ("KM BAHARI", "YB1234", 9123456, 30, 25, 6, "KUPANG", 2.5, at(5), "A")
    assert times(fleet) == [T0]  # a static report adds no track point


PART_A = StaticReport(MMSI, 24, at(0), name="PERAHU", part=0)
PART_B = StaticReport(MMSI, 24, at(1), callsign="YC9", ship_type=30, length_m=12, beam_m=4, part=1)


@pytest.mark.parametrize("order", [(PART_A, PART_B), (PART_B, PART_A)], ids=["A then B", "B then A"])
def test_type24_parts_merge_in_any_order(order: tuple[StaticReport, StaticReport]) -> None:
    fleet = Fleet()
    for report in order:
        fleet.apply(report)
    vessel = fleet.get(MMSI)
    assert vessel is not None
    assert (vessel.name, vessel.callsign, vessel.ship_type, vessel.length_m, vessel.beam_m) == (
        "PERAHU",
        "YC9",
        30,
        12,
        4,
    )
    assert vessel.ais_class == "B"


def test_later_static_fills_in_without_erasing() -> None:
    fleet = Fleet()
    fleet.apply(StaticReport(MMSI, 5, at(0), name="OLD NAME", callsign="AB12", destination="DARWIN"))
    fleet.apply(StaticReport(MMSI, 5, at(60), name="NEW NAME"))
    vessel = fleet.get(MMSI)
    assert vessel is not None
    assert (vessel.name, vessel.callsign, vessel.destination, vessel.static_at) == (
        "NEW NAME",
        "AB12",
        "DARWIN",
        at(60),
    )


def test_type19_merges_its_static_part() -> None:
    fleet = Fleet()
    static = StaticReport(MMSI, 19, at(0), name="KAPAL", ship_type=30, length_m=15, beam_m=4)
    vessel = fleet.apply(pos(0, msg_type=19, static=static))
    assert vessel is not None
    assert (vessel.name, vessel.ship_type, vessel.length_m, vessel.beam_m, vessel.ais_class) == (
        "KAPAL",
        30,
        15,
        4,
        "B",
    )
    assert times(fleet) == [T0]


# ---------------------------------------------------------------------- expiry
def test_expire_forgets_vessels_by_event_time_only() -> None:
    fleet = Fleet(vessel_ttl_s=3600.0)
    fleet.apply(pos(0, mmsi=525000001))
    fleet.apply(pos(1800, mmsi=525000002))
    assert len(fleet) == 2
    assert fleet.expire(at(3600)) == []  # silent exactly the TTL: still kept
    assert fleet.expire(at(3601)) == [525000001]
    assert fleet.get(525000001) is None
    assert [v.mmsi for v in fleet] == [525000002]
    assert fleet.stats.expired == 1
    # Nothing ages by itself: without a later event time, the vessel stays forever.
    assert len(fleet) == 1
    assert fleet.expire(at(5400)) == []
    assert fleet.expire(at(5401)) == [525000002]
    assert len(fleet) == 0


def test_a_late_report_does_not_make_a_vessel_expire_earlier() -> None:
    fleet = Fleet(vessel_ttl_s=3600.0)
    fleet.apply(pos(3000))
    fleet.apply(pos(0))  # out of order
    assert fleet.expire(at(3601)) == []


# ----------------------------------------------------------------- identities
@pytest.mark.parametrize(
    ("msg_type", "expected"),
    [(1, "A"), (2, "A"), (3, "A"), (18, "B"), (19, "B")],
)
def test_ais_class_from_position_types(msg_type: int, expected: str) -> None:
    fleet = Fleet()
    vessel = fleet.apply(pos(0, msg_type=msg_type))
    assert vessel is not None and vessel.ais_class == expected


def test_base_station_has_no_ais_class() -> None:
    fleet = Fleet()
    vessel = fleet.apply(BaseStationReport(2190048, 4, at(0), 55.5, 12.25))
    assert vessel is not None and vessel.ais_class is None
    assert list(vessel.track) == []


def test_invalid_mmsi_is_kept_and_flagged() -> None:
    fleet = Fleet()
    fleet.apply(pos(0, mmsi=9123456, valid=False))
    vessel = fleet.get(9123456)
    assert vessel is not None
    assert vessel.mmsi_valid is False
    assert times(fleet, 9123456) == [T0]


def test_a_static_report_heard_by_two_receivers_counts_once() -> None:
    from seawatch.core.decode import Decoder

    parts = [
        "!AIVDM,2,1,1,A,55?MbV02;H;s<HtKR20EHE:0@T4@Dn2222222216L961O5Gf0NSQEp6ClRp8,0*1C",
        "!AIVDM,2,2,1,A,88888888880,2*25",
    ]
    fleet = Fleet()
    for receiver in ("rx1", "rx2"):
        decoder = Decoder()
        reports = [r for line in parts for r in decoder.feed(line, source=receiver)]
        assert len(reports) == 1
        fleet.apply(reports[0])
    assert fleet.stats.duplicates == 1
    assert fleet.stats.reports == 1


def test_a_late_static_report_fills_gaps_but_does_not_bring_back_old_values() -> None:
    fleet = Fleet()
    fleet.apply(StaticReport(MMSI, 5, at(3600), name="NEW NAME", destination="KUPANG"))
    fleet.apply(StaticReport(MMSI, 5, at(0), name="OLD NAME", destination="DARWIN", callsign="YB77"))
    vessel = fleet.get(MMSI)
    assert vessel is not None
    assert (vessel.name, vessel.destination, vessel.callsign) == ("NEW NAME", "KUPANG", "YB77")
    assert vessel.static_at == at(3600)


def test_the_fleet_never_holds_more_than_max_vessels() -> None:
    fleet = Fleet(max_vessels=200)
    for n in range(1000):
        fleet.apply(PositionReport(201_000_000 + n, 1, at(n), -10.0, 120.0, 1.0, 90.0, 90, 0))
    assert len(fleet) <= 200
    assert fleet.stats.evicted == 1000 - len(fleet)
    assert fleet.get(201_000_999) is not None  # the newest stay
    assert fleet.get(201_000_000) is None  # the longest silent went first
