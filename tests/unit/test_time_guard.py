"""One time guard for every time a message carries: live against arrival, replay against the feed's own past."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from seawatch.config.watch import build_watch
from seawatch.core.lines import tag_block
from seawatch.core.model import RejectReason
from seawatch.core.pipeline import Pipeline
from seawatch.core.serialize import alert_event_json
from seawatch.core.timeguard import TimeGuard

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)  # 1700000000
Y2099 = 4070908800
LINE_A = b"!AIVDM,1,1,,A,13HOI:0P0000VOHLCnHQKwvL05Ip,0*23"  # 227006760
LINE_B = b"!AIVDM,1,1,,A,133sVfPP00PD>hRMDH@jNOvN20S8,0*7F"  # 205448890


def stamped(epoch: int, line: bytes = LINE_A, station: str = "rx1") -> bytes:
    return tag_block(f"s:{station},c:{epoch}") + line


def catcher(line: bytes, rxuxtime: float) -> bytes:
    return json.dumps({"class": "AIS", "device": "AIS-catcher", "nmea": [line.decode()], "rxuxtime": rxuxtime}).encode()


# ------------------------------------------------------------------------ live
def test_live_json_receive_time_ahead_of_arrival_is_replaced_by_arrival() -> None:
    pipeline = Pipeline()
    reports = pipeline.feed_payload(catcher(LINE_A, Y2099), T0, "ais/catcher").reports
    assert [r.observed_at for r in reports] == [T0]
    assert pipeline.now == T0
    assert pipeline.decoder.stats.warnings["time_in_future"] == 1


def test_live_tag_block_time_ahead_of_arrival_is_replaced_by_arrival() -> None:
    pipeline = Pipeline()
    reports = pipeline.feed_payload(stamped(Y2099), T0, "ais/rx").reports
    assert [r.observed_at for r in reports] == [T0]
    assert pipeline.decoder.stats.warnings["time_in_future"] == 1


def test_live_times_a_little_ahead_or_behind_arrival_are_kept() -> None:
    pipeline = Pipeline()
    ahead = pipeline.feed_payload(catcher(LINE_A, T0.timestamp() + 60), T0, "ais/catcher").reports
    behind = pipeline.feed_payload(stamped(int(T0.timestamp()) - 3600, LINE_B), T0, "ais/rx").reports
    assert [r.observed_at for r in ahead + behind] == [T0 + timedelta(seconds=60), T0 - timedelta(hours=1)]
    assert pipeline.decoder.stats.warnings["time_in_future"] == 0


# ---------------------------------------------------------------------- replay
def test_replay_one_line_far_from_its_feed_is_refused_and_the_rest_keep_their_times() -> None:
    pipeline = Pipeline()
    base = int(T0.timestamp())
    times = []
    for i in range(40):
        for report in pipeline.feed(stamped(base + 10 * i)).reports:
            times.append(report.observed_at)
        if i == 20:
            assert pipeline.feed(stamped(Y2099, LINE_B, station="bad")).reports == []
    pipeline.finish()
    assert len(times) == 40
    assert pipeline.now == T0 + timedelta(seconds=390)
    assert pipeline.decoder.stats.rejects[RejectReason.TIME_OUT_OF_LINE] == 1
    assert 205448890 not in {v.mmsi for v in pipeline.fleet}


def test_replay_one_line_far_in_the_past_is_refused_too() -> None:
    pipeline = Pipeline()
    base = int(T0.timestamp())
    for i in range(10):
        pipeline.feed(stamped(base + 10 * i))
    assert pipeline.feed(stamped(700_000_000, LINE_B)).reports == []
    assert len(pipeline.feed(stamped(base + 200)).reports) == 1
    assert pipeline.decoder.stats.rejects[RejectReason.TIME_OUT_OF_LINE] == 1


def test_replay_a_real_jump_is_confirmed_by_the_next_line_and_nothing_is_restamped() -> None:
    pipeline = Pipeline()
    base = int(T0.timestamp())
    seen = []
    for epoch in [base, base + 10, base + 20, base + 3 * 3600, base + 3 * 3600 + 10, base + 3 * 3600 + 20]:
        seen += [r.observed_at for r in pipeline.feed(stamped(epoch)).reports]
    pipeline.finish()
    expected = [T0, T0 + timedelta(seconds=10), T0 + timedelta(seconds=20)]
    expected += [T0 + timedelta(hours=3, seconds=s) for s in (0, 10, 20)]
    assert seen == expected
    assert pipeline.decoder.stats.rejects[RejectReason.TIME_OUT_OF_LINE] == 0


def test_replay_a_sparse_feed_moving_forward_loses_nothing() -> None:
    pipeline = Pipeline()
    base = int(T0.timestamp())
    count = 0
    for i in range(12):  # one report every 20 minutes: every line is far from the last
        count += len(pipeline.feed(stamped(base + 1200 * i)).reports)
    assert count == 11  # the last waits for a line that would confirm it
    pipeline.finish()
    assert pipeline.decoder.stats.rejects[RejectReason.TIME_OUT_OF_LINE] == 1  # the end of input confirms nothing


def test_replay_json_receive_time_goes_through_the_same_guard() -> None:
    pipeline = Pipeline()
    for i in range(10):
        pipeline.feed_payload(catcher(LINE_A, T0.timestamp() + 10 * i), source="log")
    assert pipeline.feed_payload(catcher(LINE_B, Y2099), source="log").reports == []
    pipeline.feed_payload(catcher(LINE_A, T0.timestamp() + 200), source="log")
    assert pipeline.now == T0 + timedelta(seconds=200)
    assert pipeline.decoder.stats.rejects[RejectReason.TIME_OUT_OF_LINE] == 1


def test_guard_bounds_the_feeds_it_tracks() -> None:
    guard: TimeGuard[int] = TimeGuard(max_sources=8)
    for i in range(100):
        guard.replay(T0, f"feed-{i}", i)
    assert len(guard._feeds) == 8


def _alerts(lines: list[bytes]) -> tuple[list[str], Pipeline]:
    watch = build_watch(ROOT / "zones", None, False)
    pipeline = Pipeline(watch=watch)
    out: list[str] = []
    for line in lines:
        out += [alert_event_json(e) for e in pipeline.feed(line).events]
    out += [alert_event_json(e) for e in pipeline.finish()]
    return out, pipeline


def test_replay_a_year_2099_line_among_thousands_changes_no_alert() -> None:
    lines = (ROOT / "replay_data" / "scenarios" / "rescue_disembarkation.nmea").read_bytes().splitlines()
    clean, _ = _alerts(lines)
    assert clean  # the scenario raises alerts: there is something to change
    # a real sentence of a vessel the scenario does not have, stamped 2099, from its own station
    bad = stamped(Y2099, LINE_B, station="rx-elsewhere")
    hostile = [*lines[: len(lines) // 2], bad, *lines[len(lines) // 2 :]]
    attacked, pipeline = _alerts(hostile)
    assert attacked == clean
    assert pipeline.decoder.stats.rejects[RejectReason.TIME_OUT_OF_LINE] == 1
