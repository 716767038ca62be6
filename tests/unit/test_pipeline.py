"""The one entry point adapters call: MQTT payloads (NMEA text or AIS-catcher JSON) in."""

from __future__ import annotations

import json
import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pyais
import pytest

from seawatch.core.decode import nmea_checksum
from seawatch.core.model import PositionReport, RejectReason, StaticReport
from seawatch.core.pipeline import Pipeline, PipelineOptions

T0 = datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)  # 1700000000

# Real sentences (pyais/tests/ais_test_messages).
LINE_A = b"!AIVDM,1,1,,A,13HOI:0P0000VOHLCnHQKwvL05Ip,0*23"  # 227006760
LINE_B = b"!AIVDM,1,1,,A,133sVfPP00PD>hRMDH@jNOvN20S8,0*7F"  # 205448890
LINE_C = b"!AIVDM,1,1,,B,100h00PP0@PHFV`Mg5gTH?vNPUIp,0*3B"  # 786434


def tag(text: str) -> bytes:
    raw = text.encode("ascii")
    return b"\\" + raw + b"*%02X\\" % nmea_checksum(raw)


def type5(mmsi: int = 211000001, name: str = "SEA WATCH 3", seq_id: int = 3) -> list[bytes]:
    data: dict[str, Any] = {
        "type": 5,
        "mmsi": mmsi,
        "shipname": name,
        "callsign": "DABC",
        "destination": "LAMPEDUSA",
    }
    return [s.encode() for s in pyais.encode_dict(data, talker_id="AI", sentence_type="VDM", seq_id=seq_id)]


def catcher(nmea: list[bytes], **extra: Any) -> bytes:
    doc = {"class": "AIS", "device": "AIS-catcher", "channel": "A", "nmea": [s.decode() for s in nmea], **extra}
    return json.dumps(doc).encode()


# ------------------------------------------------------------------ NMEA text
def test_multi_line_nmea_payload() -> None:
    pipeline = Pipeline()
    payload = LINE_A + b"\r\n" + LINE_B + b"\n\n   \n" + LINE_C + b"\n"
    reports = pipeline.feed_payload(payload, T0, "ais/rx1").reports
    assert [r.mmsi for r in reports] == [227006760, 205448890, 786434]
    assert all(r.observed_at == T0 and r.source == "ais/rx1" for r in reports)
    assert pipeline.decoder.stats.lines == 3
    assert pipeline.decoder.stats.rejects == Counter()
    assert len(pipeline.fleet) == 3


def test_garbage_lines_in_a_payload_are_counted_and_the_rest_kept() -> None:
    pipeline = Pipeline()
    reports = pipeline.feed_payload(b"hello\n" + LINE_A + b"\n" + LINE_B[:-2] + b"00\n", T0).reports
    assert [r.mmsi for r in reports] == [227006760]
    assert pipeline.decoder.stats.rejects == Counter({RejectReason.NOT_AIS: 1, RejectReason.BAD_CHECKSUM: 1})


def test_multipart_split_across_two_payloads_on_the_same_source() -> None:
    p1, p2 = type5()
    pipeline = Pipeline()
    assert pipeline.feed_payload(p1, T0, "ais/rx1").reports == []
    reports = pipeline.feed_payload(p2, T0 + timedelta(seconds=1), "ais/rx1").reports
    assert len(reports) == 1
    report = reports[0]
    assert isinstance(report, StaticReport)
    assert (report.mmsi, report.name, report.observed_at, report.source) == (211000001, "SEA WATCH 3", T0, "ais/rx1")
    vessel = pipeline.fleet.get(211000001)
    assert vessel is not None and vessel.name == "SEA WATCH 3"


def test_multipart_parts_from_different_sources_are_not_joined() -> None:
    p1, p2 = type5()
    pipeline = Pipeline()
    assert pipeline.feed_payload(p1, T0, "ais/rx1").reports == []
    assert pipeline.feed_payload(p2, T0, "ais/rx2").reports == []
    pipeline.finish()
    assert pipeline.decoder.stats.rejects == Counter({RejectReason.ORPHAN_FRAGMENT: 2})


def test_same_sentence_from_two_receivers_is_one_fleet_message() -> None:
    pipeline = Pipeline()
    assert len(pipeline.feed_payload(LINE_A, T0, "ais/rx1").reports) == 1
    assert len(pipeline.feed_payload(LINE_A, T0 + timedelta(seconds=2), "ais/rx2").reports) == 1
    vessel = pipeline.fleet.get(227006760)
    assert vessel is not None
    assert vessel.messages == 1
    assert pipeline.fleet.stats.duplicates == 1


# ------------------------------------------------------------- AIS-catcher JSON
def test_ais_catcher_json_with_rxuxtime() -> None:
    pipeline = Pipeline()
    later = T0 + timedelta(hours=2)
    reports = pipeline.feed_payload(catcher([LINE_A], rxuxtime=1700000000), later, "ais/catcher").reports
    assert len(reports) == 1
    report = reports[0]
    assert isinstance(report, PositionReport)
    assert (report.mmsi, report.observed_at, report.source) == (227006760, T0, "ais/catcher|AIS-catcher")


def test_ais_catcher_json_with_rxtime() -> None:
    pipeline = Pipeline()
    reports = pipeline.feed_payload(catcher([LINE_A, LINE_B], rxtime="20231114221320"), T0 + timedelta(hours=2)).reports
    assert [(r.mmsi, r.observed_at) for r in reports] == [(227006760, T0), (205448890, T0)]


def test_ais_catcher_json_without_time_uses_arrival() -> None:
    pipeline = Pipeline()
    reports = pipeline.feed_payload(catcher([LINE_A]), T0).reports
    assert [r.observed_at for r in reports] == [T0]


def test_ais_catcher_json_tag_block_time_wins() -> None:
    pipeline = Pipeline()
    line = tag("c:1700000060") + LINE_A
    reports = pipeline.feed_payload(catcher([line], rxuxtime=1700000000)).reports
    assert [r.observed_at for r in reports] == [T0 + timedelta(seconds=60)]


def test_ais_catcher_json_list_of_messages() -> None:
    pipeline = Pipeline()
    docs = [json.loads(catcher([LINE_A], rxuxtime=1700000000)), json.loads(catcher([LINE_B], rxuxtime=1700000010))]
    reports = pipeline.feed_payload(json.dumps(docs).encode()).reports
    assert [(r.mmsi, r.observed_at) for r in reports] == [
        (227006760, T0),
        (205448890, T0 + timedelta(seconds=10)),
    ]


def test_ais_catcher_multipart_in_two_json_messages() -> None:
    p1, p2 = type5()
    pipeline = Pipeline()
    assert pipeline.feed_payload(catcher([p1], rxuxtime=1700000000), source="ais/c").reports == []
    reports = pipeline.feed_payload(catcher([p2], rxuxtime=1700000001), source="ais/c").reports
    assert [(r.mmsi, r.msg_type, r.observed_at) for r in reports] == [(211000001, 5, T0)]


@pytest.mark.parametrize(
    "payload",
    [b"{not json", b'{"nmea": ["!AIVDM"', b"[1, 2", b"{\xff\xfe}"],
    ids=["unclosed", "truncated", "truncated list", "bad utf-8"],
)
def test_bad_json_is_counted(payload: bytes) -> None:
    pipeline = Pipeline()
    assert pipeline.feed_payload(payload, T0).reports == []
    assert pipeline.decoder.stats.rejects == Counter({RejectReason.BAD_JSON: 1})


@pytest.mark.parametrize(
    "doc",
    [
        {"class": "AIS", "device": "AIS-catcher", "rxuxtime": 1700000000},
        {"nmea": "!AIVDM,1,1,,A,13HOI:0P0000VOHLCnHQKwvL05Ip,0*23"},
        {"nmea": [1, 2]},
        [1],
    ],
    ids=["no nmea", "nmea not a list", "nmea not strings", "list of non-objects"],
)
def test_json_without_nmea_lines_is_counted(doc: Any) -> None:
    pipeline = Pipeline()
    assert pipeline.feed_payload(json.dumps(doc).encode(), T0).reports == []
    assert pipeline.decoder.stats.rejects == Counter({RejectReason.BAD_JSON: 1})


def test_deeply_nested_json_is_counted_not_raised() -> None:
    pipeline = Pipeline()
    assert pipeline.feed_payload(b"[" * 100_000, T0).reports == []
    assert pipeline.decoder.stats.rejects == Counter({RejectReason.BAD_JSON: 1})


def test_huge_integer_rxuxtime_is_ignored_not_raised() -> None:
    pipeline = Pipeline()
    payload = b'{"nmea": ["' + LINE_A + b'"], "rxuxtime": 1' + b"0" * 400 + b"}"
    reports = pipeline.feed_payload(payload, T0).reports
    assert [(r.mmsi, r.observed_at) for r in reports] == [(227006760, T0)]


def test_implausible_rxuxtime_falls_back_to_arrival() -> None:
    pipeline = Pipeline()
    for value in (0, -5, 1e300, 12.5):
        reports = pipeline.feed_payload(catcher([LINE_A], rxuxtime=value), T0 + timedelta(seconds=1)).reports
        assert [r.observed_at for r in reports] == [T0 + timedelta(seconds=1)], value


def _random_json(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(9 if depth < 4 else 6)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice((True, False))
    if kind == 2:
        return rng.choice((0, -1, 1700000000, 10**30, 1.5e300, -7.25))
    if kind == 3:
        return rng.choice(("", "20231114221320", "2023", "!AIVDM", LINE_A.decode(), "\u0000é"))
    if kind == 4:
        return float(rng.choice(("nan", "inf", "-inf")))
    if kind == 5:
        return [LINE_A.decode(), rng.choice(("x", "\\s:a*00\\", "$PGHP,1"))]
    if kind == 6:
        return [_random_json(rng, depth + 1) for _ in range(rng.randrange(4))]
    keys = ("nmea", "rxuxtime", "rxtime", "device", "station_id", "class", "x")
    return {rng.choice(keys): _random_json(rng, depth + 1) for _ in range(rng.randrange(5))}


def test_random_json_and_bytes_never_raise() -> None:
    rng = random.Random(1234)
    pipeline = Pipeline()
    for _ in range(2000):
        pipeline.feed_payload(json.dumps(_random_json(rng)).encode(), T0)
        pipeline.feed_payload(bytes(rng.randrange(256) for _ in range(rng.randrange(120))), T0)
    pipeline.finish()
    assert pipeline.decoder.stats.rejects[RejectReason.BAD_JSON] > 0


# ------------------------------------------------------------------ event clock
def test_now_never_goes_backwards() -> None:
    pipeline = Pipeline()
    assert pipeline.now is None
    pipeline.feed(LINE_A, T0 + timedelta(seconds=100))
    assert pipeline.now == T0 + timedelta(seconds=100)
    pipeline.feed(LINE_B, T0)  # a late report
    assert pipeline.now == T0 + timedelta(seconds=100)
    pipeline.feed(LINE_C)  # no time at all
    assert pipeline.now == T0 + timedelta(seconds=100)
    pipeline.feed(tag("c:1700000200") + LINE_C)
    assert pipeline.now == T0 + timedelta(seconds=200)


def test_fleet_expiry_follows_event_time() -> None:
    pipeline = Pipeline(PipelineOptions(vessel_ttl_s=600.0, expire_every_s=60.0))
    pipeline.feed(LINE_A, T0)
    pipeline.feed(LINE_B, T0 + timedelta(seconds=300))
    assert len(pipeline.fleet) == 2
    pipeline.feed(LINE_C, T0 + timedelta(seconds=700))  # LINE_A's vessel has been silent > 600 s
    assert sorted(v.mmsi for v in pipeline.fleet) == [786434, 205448890]
    assert pipeline.fleet.stats.expired == 1


def test_pipeline_options_reach_decoder_and_fleet() -> None:
    p1, p2 = type5()
    pipeline = Pipeline(PipelineOptions(fragment_timeout_s=5.0, max_track_points=2))
    pipeline.feed(p1, T0)
    assert pipeline.feed(p2, T0 + timedelta(seconds=6)).reports == []
    assert pipeline.decoder.stats.rejects == Counter({RejectReason.ORPHAN_FRAGMENT: 1})
    for i in range(4):
        pipeline.feed(tag(f"c:{1700000000 + 60 * i}") + LINE_A)
    vessel = pipeline.fleet.get(227006760)
    assert vessel is not None
    assert [p.t for p in vessel.track] == [T0 + timedelta(seconds=120), T0 + timedelta(seconds=180)]
