"""Per-source names and collections stay bounded whatever a feed sends."""

from __future__ import annotations

import gc
import json
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

from seawatch.config.watch import build_watch
from seawatch.core.alerts import Clearance, Finding
from seawatch.core.lines import MAX_SOURCE_CHARS, MAX_STATION_CHARS, tag_block
from seawatch.core.pipeline import Pipeline
from seawatch.core.watch import Watch

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)
LINE = b"!AIVDM,1,1,,A,13HOI:0P0000VOHLCnHQKwvL05Ip,0*23"
MB = 1024 * 1024


def watched() -> Pipeline:
    return Pipeline(watch=build_watch(ROOT / "zones", None, False))


def grown_bytes(pipeline: Pipeline, payloads: list[bytes], topic: str = "ais/rx") -> int:
    """Memory the pipeline still holds after the payloads (the payloads themselves not counted)."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for i, payload in enumerate(payloads):
        pipeline.feed_payload(payload, T0 + timedelta(seconds=i), topic)
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return after - before


def test_megabyte_station_names_in_tag_blocks_are_not_kept() -> None:
    pipeline = watched()
    payloads = [tag_block(f"s:{chr(65 + i % 26) * MB}{i},c:{1772344800 + i}") + LINE for i in range(150)]
    grown = grown_bytes(pipeline, payloads)
    assert grown < 2 * MB, grown  # it was 150 MB: every name kept by the feed-health view
    stats = pipeline.decoder.stats
    assert stats.reports == 150 and stats.warnings["bad_station_name"] == 150
    assert pipeline.watch is not None
    assert all(len(name) <= MAX_STATION_CHARS for name in pipeline.watch.feed.sources)


def test_megabyte_station_ids_in_ais_catcher_json_are_not_kept() -> None:
    pipeline = watched()
    payloads = [
        json.dumps({"nmea": [LINE.decode()], "station_id": "X" * MB + str(i), "rxuxtime": 1772344800 + i}).encode()
        for i in range(50)
    ]
    grown = grown_bytes(pipeline, payloads)
    assert grown < 2 * MB, grown
    assert pipeline.decoder.stats.reports == 50 and pipeline.decoder.stats.warnings["bad_station_name"] == 50


def test_control_characters_in_a_station_name_are_refused() -> None:
    pipeline = watched()
    pipeline.feed_payload(tag_block("s:rx\x07\x1b[31m,c:1772344800") + LINE, T0, "ais/rx")
    assert pipeline.decoder.stats.warnings["bad_station_name"] == 1
    assert pipeline.watch is not None and set(pipeline.watch.feed.sources) == {"ais/rx"}


def test_an_endless_topic_is_cut() -> None:
    pipeline = watched()
    (report,) = pipeline.feed_payload(LINE, T0, "ais/" + "t" * MB).reports
    assert len(report.source) == MAX_SOURCE_CHARS


def test_many_stations_stay_within_the_bounds() -> None:
    pipeline = watched()
    payloads = [tag_block(f"s:rx-{i},c:{1772344800 + i // 100}") + LINE for i in range(20_000)]
    grown_bytes(pipeline, payloads)
    assert pipeline.watch is not None and len(pipeline.watch.feed.sources) <= 4096
    assert pipeline.decoder.stats.reports == 20_000


def test_a_flood_of_invented_station_names_never_evicts_a_receiver_that_feeds_the_watch() -> None:
    """Feed health keeps at most 4,096 sources; junk names go before a receiver with a history."""
    feed = Watch().feed
    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    out: list[Finding | Clearance] = []
    for i in range(150):
        feed.on_message("rx-real", t0 + timedelta(seconds=i), out)
    for i in range(10_000):  # later than the receiver's last message: the old rule evicted it first
        feed.on_message(f"junk-{i}", t0 + timedelta(seconds=200 + i * 0.01), out)
    assert len(feed.sources) <= 4096
    assert feed.sources["rx-real"].messages == 150
