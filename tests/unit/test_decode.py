"""The decoder against pyais, real recordings, hand-built messages and hostile input.

Expected values come from pyais (its encoder builds messages, its decoder is the
reference) or are written out by hand; none are read back from Seawatch itself.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyais
import pytest

from seawatch.adapters.files import iter_log_lines
from seawatch.core.decode import Decoder, _from_pyais, nmea_checksum
from seawatch.core.model import (
    BaseStationReport,
    OtherReport,
    PositionReport,
    RejectReason,
    Report,
    SafetyText,
    StaticReport,
)

T0 = datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)  # 1700000000
EPOCH_T0 = 1_700_000_000
ARMOR = "0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVW`abcdefghijklmnopqrstuvw"

# Real sentences from the recordings (pyais/tests/ais_test_messages and mixed.txt).
TYPE1 = b"!AIVDM,1,1,,A,13HOI:0P0000VOHLCnHQKwvL05Ip,0*23"
TYPE1_B = b"!AIVDM,1,1,,A,133sVfPP00PD>hRMDH@jNOvN20S8,0*7F"
TYPE5_REAL = (
    b"!AIVDM,2,1,1,A,55?MbV02;H;s<HtKR20EHE:0@T4@Dn2222222216L961O5Gf0NSQEp6ClRp8,0*1C",
    b"!AIVDM,2,2,1,A,88888888880,2*25",
)


def no_fp(reports: list[Any]) -> list[Any]:
    """Reports with their payload fingerprints zeroed, to compare with hand-built ones."""
    return [r._replace(fingerprint=0) for r in reports]


def nmea(body: str, start: str = "!") -> bytes:
    """A sentence with a correct checksum around ``body`` (the text between ``!`` and ``*``)."""
    raw = body.encode("ascii")
    return start.encode() + raw + b"*%02X" % nmea_checksum(raw)


def tag(text: str) -> bytes:
    """An NMEA 4 tag block with a correct checksum."""
    raw = text.encode("ascii")
    return b"\\" + raw + b"*%02X\\" % nmea_checksum(raw)


def encode(data: dict[str, Any], seq_id: int | None = None, channel: str = "A") -> list[bytes]:
    sentences = pyais.encode_dict(data, talker_id="AI", sentence_type="VDM", radio_channel=channel, seq_id=seq_id)
    return [s.encode("ascii") for s in sentences]


def feed_all(decoder: Decoder, lines: list[bytes], **kwargs: Any) -> list[Report]:
    out: list[Report] = []
    for line in lines:
        out.extend(decoder.feed(line, **kwargs))
    return out


def only(reports: list[Report]) -> Report:
    assert len(reports) == 1, reports
    return reports[0]


def test_checksum_helper_matches_real_sentences() -> None:
    assert nmea_checksum(TYPE1[1:-3]) == 0x23
    assert nmea_checksum(b"") == 0
    assert nmea(TYPE1[1:-3].decode()) == TYPE1
    long_body = b"AIVDM," + bytes(range(32, 127)) * 1000
    expected = 0
    for byte in long_body:
        expected ^= byte
    assert nmea_checksum(long_body) == expected


# ---------------------------------------------------------------- (1) acceptance oracle
def _our_key(report: Report) -> tuple[Any, ...]:
    return (
        report.mmsi,
        report.msg_type,
        getattr(report, "lat", None),
        getattr(report, "lon", None),
        getattr(report, "sog_kn", None),
        getattr(report, "cog_deg", None),
    )


def test_every_pyais_message_in_a_recording_is_decoded_identically(
    recording: Path,
    pyais_reference: Callable[[Path], tuple[Any, ...]],
    oracle_key: Callable[[Any], tuple[Any, ...]],
    oracle_counts: dict[str, str],
) -> None:
    """Acceptance: no crash, and every message pyais accepts is in our output, same fields."""
    expected = Counter(oracle_key(m) for m in pyais_reference(recording))
    decoder = Decoder()
    ours: Counter[tuple[Any, ...]] = Counter()
    for line in iter_log_lines(recording):
        for report in decoder.feed(line):
            ours[_our_key(report)] += 1
    decoder.flush()
    missing = expected - ours
    rejects = ", ".join(f"{reason} {n}" for reason, n in sorted(decoder.stats.rejects.items())) or "none"
    summary = (
        f"pyais {sum(expected.values())}, seawatch {sum(ours.values())}, missing {sum(missing.values())}, "
        f"extra {sum((ours - expected).values())}; lines {decoder.stats.lines}; rejects: {rejects}"
    )
    oracle_counts[recording.name] = summary
    print(f"{recording.name}: {summary}")
    assert sum(expected.values()) > 0
    assert not missing, f"{summary}; first missing: {list(missing)[:5]}"


def test_recording_with_empty_payloads_and_orphans_counts_them_by_reason() -> None:
    # SOURCES.md: 898 sentences, 778 decoded, 100 empty payloads, 20 orphan fragments.
    decoder = Decoder()
    reports = feed_all(
        decoder, list(iter_log_lines(Path(__file__).parents[1] / "data/ais/pyais/tests/nmea_data_sample.txt"))
    )
    decoder.flush()
    assert len(reports) == 778
    assert decoder.stats.reports == 778
    assert decoder.stats.rejects == Counter({RejectReason.EMPTY_PAYLOAD: 100, RejectReason.ORPHAN_FRAGMENT: 20})


# ------------------------------------------------------------ (2) fast path == pyais
def _fast_path_candidates(sentences: tuple[bytes, ...]) -> list[bytes]:
    """Single-part type 1/2/3/18 sentences with the standard 28-character payload and no fill."""
    found = []
    for sentence in sentences:
        fields = sentence[:-3].split(b",")
        if len(fields) < 7 or fields[1] != b"1":
            continue
        payload, fill = fields[5], fields[-1]
        if len(payload) == 28 and fill == b"0" and ARMOR.index(chr(payload[0])) in (1, 2, 3, 18):
            found.append(sentence)
    return found


@pytest.fixture
def slow_path_forbidden(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any use of the pyais path fail loudly, proving that the fast path did the work."""

    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the pyais path was used for a standard position report")

    monkeypatch.setattr(Decoder, "_slow", forbidden)


@pytest.mark.usefixtures("slow_path_forbidden")
def test_fast_path_equals_pyais_on_every_recorded_position_report(recorded_sentences: tuple[bytes, ...]) -> None:
    candidates = _fast_path_candidates(recorded_sentences)
    assert len(candidates) > 7000
    decoder = Decoder()
    mismatches = []
    for sentence in candidates:
        ours = only(decoder.feed(sentence))
        assert isinstance(ours, PositionReport)
        reference = _from_pyais(pyais.decode(sentence), ours.msg_type, None, "", ours.fingerprint)
        if ours != reference:
            mismatches.append((sentence, ours, reference))
    assert not mismatches, mismatches[:3]


@pytest.mark.usefixtures("slow_path_forbidden")
def test_fast_path_equals_pyais_on_random_payloads() -> None:
    rng = random.Random(1234)
    decoder = Decoder()
    for _ in range(3000):
        msg_type = rng.choice((1, 2, 3, 18))
        payload = ARMOR[msg_type] + "".join(rng.choice(ARMOR) for _ in range(27))
        sentence = nmea(f"AIVDM,1,1,,B,{payload},0")
        ours = only(decoder.feed(sentence))
        assert isinstance(ours, PositionReport)
        assert ours == _from_pyais(pyais.decode(sentence), msg_type, None, "", ours.fingerprint), sentence


def test_fast_path_fields_of_a_known_message() -> None:
    # pyais/tests: 13HOI:0P0000VOHLCnHQKwvL05Ip -> MMSI 227006760, status 0, 49.475577 N 0.13138 E, SOG 0, COG 36.7
    report = only(Decoder().feed(TYPE1))
    assert isinstance(report, PositionReport)
    assert report == PositionReport(
        mmsi=227006760,
        msg_type=1,
        observed_at=None,
        lat=49.475577,
        lon=0.13138,
        sog_kn=0.0,
        cog_deg=36.7,
        heading_deg=None,
        nav_status=0,
        source="",
        mmsi_valid=True,
        fingerprint=report.fingerprint,
    )
    assert report.fingerprint != 0


def test_str_and_bytes_lines_decode_alike() -> None:
    assert Decoder().feed(TYPE1.decode()) == Decoder().feed(TYPE1)


# ------------------------------------------------------------- (3) malformed input
MALFORMED: list[tuple[str, bytes | str, RejectReason]] = [
    ("empty", b"", RejectReason.EMPTY),
    ("blank", b"  \t \r\n", RejectReason.EMPTY),
    ("garbage text", b"IamNotAnAisMessage1111", RejectReason.NOT_AIS),
    ("comment", b"# Sample file with comments", RejectReason.NOT_AIS),
    ("gprmc", b"$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*6A", RejectReason.NOT_AIS),
    (
        "gpgga",
        nmea("GPGGA,184353.07,1929.045,S,02410.506,E,1,04,2.6,100.00,M,-33.9,M,,0000", "$"),
        RejectReason.NOT_AIS,
    ),
    ("other talker sentence", nmea("AIVDX,1,1,,A,13HOI:0P0000VOHLCnHQKwvL05Ip,0"), RejectReason.NOT_AIS),
    ("bad checksum", TYPE1[:-2] + b"24", RejectReason.BAD_CHECKSUM),
    ("bad checksum in payload", TYPE1.replace(b"13HOI", b"13HOJ"), RejectReason.BAD_CHECKSUM),
    ("missing *hh", TYPE1[:-3], RejectReason.MALFORMED),
    ("star without digits", TYPE1[:-2], RejectReason.MALFORMED),
    ("non-hex checksum", TYPE1[:-2] + b"ZZ", RejectReason.MALFORMED),
    ("too few fields", nmea("AIVDM,1,1,,A,13HOI:0P0000VOHLCnHQKwvL05Ip"), RejectReason.MALFORMED),
    ("part 3 of 2", nmea("AIVDM,2,3,1,A,13HOI:0P0000VOHLCnHQKwvL05Ip,0"), RejectReason.BAD_PART_NUMBER),
    ("part 0 of 2", nmea("AIVDM,2,0,1,A,13HOI:0P0000VOHLCnHQKwvL05Ip,0"), RejectReason.BAD_PART_NUMBER),
    ("fragment count 0", nmea("AIVDM,0,1,,A,13HOI:0P0000VOHLCnHQKwvL05Ip,0"), RejectReason.BAD_PART_NUMBER),
    ("non-digit count", nmea("AIVDM,x,1,,A,13HOI:0P0000VOHLCnHQKwvL05Ip,0"), RejectReason.MALFORMED),
    ("non-digit part", nmea("AIVDM,1,one,,A,13HOI:0P0000VOHLCnHQKwvL05Ip,0"), RejectReason.MALFORMED),
    ("empty payload", b"!AIVDM,1,1,,B,,0*25", RejectReason.EMPTY_PAYLOAD),
    ("payload outside six-bit alphabet", nmea("AIVDM,1,1,,A,1xyz{|,0"), RejectReason.BAD_PAYLOAD),
    ("payload with a space", nmea("AIVDM,1,1,,A,13HOI:0P0000 OHLCnHQKwvL05Ip,0"), RejectReason.BAD_PAYLOAD),
    ("fill bits 7", nmea("AIVDM,1,1,,A,13HOI:0P0000VOHLCnHQKwvL05Ip,7"), RejectReason.BAD_PAYLOAD),
    ("fill bits missing", nmea("AIVDM,1,1,,A,13HOI:0P0000VOHLCnHQKwvL05Ip,"), RejectReason.BAD_PAYLOAD),
    ("unknown type 63", nmea("AIVDM,1,1,,A,w" + "0" * 27 + ",0"), RejectReason.UNKNOWN_TYPE),
    ("unknown type 36", nmea("AIVDM,1,1,,A,T" + "0" * 27 + ",0"), RejectReason.UNKNOWN_TYPE),
    ("non-ASCII bytes", TYPE1[:20] + "é".encode() + TYPE1[20:], RejectReason.MALFORMED),
    ("latin-1 byte", b"\xff" + TYPE1, RejectReason.MALFORMED),
    ("str with non-ASCII", TYPE1.decode() + " Ω", RejectReason.MALFORMED),
    ("100 kB of text", b"!" + b"A" * 100_000, RejectReason.MALFORMED),
    ("100 kB of junk", b"x" * 100_000, RejectReason.NOT_AIS),
    ("NUL bytes", b"\x00" * 200, RejectReason.NOT_AIS),
    ("unterminated tag block", b"\\s:rx1,c:1700000000*00!AIVDM,1,1,,A", RejectReason.BAD_TAG_BLOCK),
]


@pytest.mark.parametrize(("line", "reason"), [c[1:] for c in MALFORMED], ids=[c[0] for c in MALFORMED])
def test_malformed_line_is_counted_by_reason(line: bytes | str, reason: RejectReason) -> None:
    decoder = Decoder()
    assert decoder.feed(line) == []
    decoder.flush()
    assert decoder.stats.rejects == Counter({reason: 1})
    assert decoder.stats.reports == 0
    assert decoder.stats.lines == 1
    # The decoder is still usable afterwards.
    assert only(decoder.feed(TYPE1)).mmsi == 227006760


def test_100_kb_sentence_with_a_valid_checksum_is_rejected_not_raised() -> None:
    decoder = Decoder()
    assert decoder.feed(nmea("AIVDM,1,1,,A," + "1" * 100_000 + ",0")) == []
    assert decoder.stats.rejected == 1


def test_types_pyais_decodes_beyond_the_standard_are_kept() -> None:
    # pyais reads type 0 as a type 1 layout and knows a type 28; the acceptance oracle
    # requires every message pyais accepts, so they are kept as "other" reports.
    decoder = Decoder()
    zero = only(decoder.feed(nmea("AIVDM,1,1,,A,0" + "0" * 27 + ",0")))
    assert isinstance(zero, OtherReport)
    assert (zero.mmsi, zero.msg_type, zero.mmsi_valid) == (0, 0, False)
    assert decoder.stats.rejected == 0


def _random_lines(rng: random.Random, n: int) -> list[bytes]:
    lines = []
    for _ in range(n):
        lines.append(bytes(rng.randrange(256) for _ in range(rng.randrange(0, 160))))
    return lines


def test_random_bytes_never_raise_and_each_line_is_counted_once() -> None:
    rng = random.Random(1234)
    decoder = Decoder()
    lines = _random_lines(rng, 3000)
    for line in lines:
        assert decoder.feed(line) == []
    decoder.flush()
    assert decoder.stats.lines == 3000
    assert decoder.stats.rejected == 3000


def test_random_printable_text_never_raises() -> None:
    rng = random.Random(1234)
    alphabet = "!$\\*,0123456789ABCDEFGHIVDMO:;<=>?@`abcw \t-."
    decoder = Decoder()
    for _ in range(3000):
        line = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 100)))
        for report in decoder.feed(line, T0):
            assert isinstance(report, PositionReport | StaticReport | SafetyText | BaseStationReport | OtherReport)
    decoder.flush()
    assert decoder.stats.lines == 3000


def test_checksum_valid_random_sentences_never_raise() -> None:
    """Random payloads, part numbers and fill bits behind a correct checksum reach pyais."""
    rng = random.Random(1234)
    decoder = Decoder()
    kinds: Counter[str] = Counter()
    for i in range(3000):
        payload = "".join(rng.choice(ARMOR) for _ in range(rng.randrange(1, 90)))
        count = rng.choice((1, 1, 1, 2, 3))
        number = rng.randint(1, count)
        seq = rng.choice(("", "1", "2", "9"))
        head = rng.choice(("AIVDM", "BSVDM", "AIVDO"))
        body = f"{head},{count},{number},{seq},{rng.choice('AB12')},{payload},{rng.randrange(6)}"
        for report in decoder.feed(nmea(body), T0 + timedelta(seconds=i)):
            kinds[type(report).__name__] += 1
    decoder.flush()
    stats = decoder.stats
    assert stats.lines == 3000
    assert stats.reports == sum(kinds.values())
    assert kinds["PositionReport"] > 0 and kinds["StaticReport"] > 0
    assert stats.rejects[RejectReason.UNKNOWN_TYPE] > 0


# -------------------------------------------------------------------- (4) multipart
SHIP5 = {
    "type": 5,
    "mmsi": 211000001,
    "imo": 9123456,
    "callsign": "DABC",
    "shipname": "SEA WATCH 3",
    "ship_type": 52,
    "to_bow": 30,
    "to_stern": 20,
    "to_port": 5,
    "to_starboard": 6,
    "draught": 4.2,
    "destination": "LAMPEDUSA",
}
SHIP5_REPORT = StaticReport(
    mmsi=211000001,
    msg_type=5,
    observed_at=None,
    name="SEA WATCH 3",
    callsign="DABC",
    imo=9123456,
    ship_type=52,
    length_m=50,
    beam_m=11,
    destination="LAMPEDUSA",
    draught_m=4.2,
)


def test_type5_in_two_parts_is_reassembled() -> None:
    parts = encode(SHIP5, seq_id=3)
    assert len(parts) == 2
    decoder = Decoder()
    assert decoder.feed(parts[0]) == []
    assert decoder.pending_fragments == 1
    assert no_fp(decoder.feed(parts[1])) == [SHIP5_REPORT]
    assert decoder.pending_fragments == 0
    assert decoder.stats.rejects == Counter()
    assert decoder.stats.sentences == 2
    assert decoder.stats.types == Counter({5: 1})


def test_real_type5_from_a_recording() -> None:
    report = only(feed_all(Decoder(), list(TYPE5_REAL)))
    reference: Any = pyais.decode(*TYPE5_REAL)
    assert isinstance(report, StaticReport)
    assert report.mmsi == reference.mmsi == 351759000
    assert report.name == reference.shipname.strip() == "EVER DIADEM"
    assert report.callsign == reference.callsign.strip()
    assert report.imo == reference.imo
    assert report.destination == reference.destination.strip()
    assert report.length_m == reference.to_bow + reference.to_stern


def test_parts_in_reverse_order_are_reassembled() -> None:
    parts = encode(SHIP5, seq_id=3)
    assert no_fp(feed_all(Decoder(), parts[::-1])) == [SHIP5_REPORT]


def test_interleaved_multiparts_with_different_sequence_ids() -> None:
    other = dict(SHIP5, mmsi=211000002, shipname="OCEAN VIKING", callsign="LAOW")
    a1, a2 = encode(SHIP5, seq_id=1)
    b1, b2 = encode(other, seq_id=2)
    c1, c2 = encode(dict(SHIP5, mmsi=211000003), seq_id=1, channel="B")  # same id, other channel
    reports = feed_all(Decoder(), [a1, b1, c1, a2, c2, b2])
    assert [(r.mmsi, r.name) for r in reports if isinstance(r, StaticReport)] == [
        (211000001, "SEA WATCH 3"),
        (211000003, "SEA WATCH 3"),
        (211000002, "OCEAN VIKING"),
    ]


def test_tag_block_group_ties_fragments_whose_source_is_on_the_first_only() -> None:
    p1, p2 = encode(SHIP5, seq_id=6)
    lines = [tag(f"g:1-2-4242,s:rORBCOMM008,c:{EPOCH_T0}") + p1, tag("g:2-2-4242") + p2]
    decoder = Decoder()
    report = only(feed_all(decoder, lines))
    assert no_fp([report]) == [SHIP5_REPORT._replace(observed_at=T0, source="rORBCOMM008")]
    assert decoder.stats.rejects == Counter()


def test_real_tag_block_multipart_from_libais() -> None:
    lines = [
        b"\\g:1-2-1604,s:rORBCOMM008,c:1418169601,T:2014-12-10 00.00.01*37\\!AIVDM,2,1,6,A,"
        b"53@o0E000001Q0CG37U8u<Tp4q@D00000000000018330400000000000000,0*63",
        b"\\s:rORBCOMM104,q:u,c:1418172113,T:2014-12-10 00.41.53*55\\!AIVDM,1,1,,B,13F?Vv700<DJuLEtvep`iToV0<00,0*78",
        b"\\g:2-2-1604,s:rORBCOMM008,c:1418169601,T:2014-12-10 00.00.01*34\\!AIVDM,2,2,6,A,00000000008,2*2A",
    ]
    reports = feed_all(Decoder(), lines)
    assert [(r.msg_type, r.source, r.observed_at) for r in reports] == [
        (1, "rORBCOMM104", datetime(2014, 12, 10, 0, 41, 53, tzinfo=UTC)),
        (5, "rORBCOMM008", datetime(2014, 12, 10, 0, 0, 1, tzinfo=UTC)),
    ]


def test_orphan_fragment_is_counted_by_flush() -> None:
    p1, p2 = encode(SHIP5, seq_id=3)
    decoder = Decoder()
    assert decoder.feed(p1) == []
    assert decoder.stats.rejects == Counter()
    decoder.flush()
    assert decoder.stats.rejects == Counter({RejectReason.ORPHAN_FRAGMENT: 1})
    assert decoder.pending_fragments == 0
    assert decoder.feed(p2) == []  # its sibling is gone: this one waits alone now
    assert decoder.pending_fragments == 1


@pytest.mark.parametrize(("gap_s", "completes"), [(59.0, True), (60.0, True), (61.0, False)])
def test_fragment_expires_after_timeout_in_event_time(gap_s: float, completes: bool) -> None:
    p1, p2 = encode(SHIP5, seq_id=3)
    decoder = Decoder(fragment_timeout_s=60.0)
    assert decoder.feed(p1, T0) == []
    reports = decoder.feed(p2, T0 + timedelta(seconds=gap_s))
    if completes:
        assert no_fp(reports) == [SHIP5_REPORT._replace(observed_at=T0)]
        assert decoder.stats.rejects == Counter()
    else:
        assert reports == []
        assert decoder.stats.rejects == Counter({RejectReason.ORPHAN_FRAGMENT: 1})
        assert decoder.pending_fragments == 1  # the late part waits for a sibling of its own


def test_fragment_expiry_uses_tag_block_time_not_arrival() -> None:
    p1, p2 = encode(SHIP5, seq_id=3)
    decoder = Decoder(fragment_timeout_s=60.0)
    # Arrival times are a second apart, event times two minutes apart: the event time rules.
    decoder.feed(tag(f"c:{EPOCH_T0}") + p1, T0)
    assert decoder.feed(tag(f"c:{EPOCH_T0 + 120}") + p2, T0 + timedelta(seconds=1)) == []
    assert decoder.stats.rejects == Counter({RejectReason.ORPHAN_FRAGMENT: 1})


def test_repeated_part_one_orphans_the_old_fragment() -> None:
    first, _ = encode(SHIP5, seq_id=4)
    other = dict(SHIP5, mmsi=211000002, shipname="OCEAN VIKING")
    b1, b2 = encode(other, seq_id=4)
    decoder = Decoder()
    reports = feed_all(decoder, [first, b1, b2])
    assert [(r.mmsi, r.name) for r in reports if isinstance(r, StaticReport)] == [(211000002, "OCEAN VIKING")]
    assert decoder.stats.rejects == Counter({RejectReason.ORPHAN_FRAGMENT: 1})


def test_fragments_from_different_sources_do_not_mix() -> None:
    p1, p2 = encode(SHIP5, seq_id=3)
    decoder = Decoder()
    assert decoder.feed(p1, source="rx1") == []
    assert decoder.feed(p2, source="rx2") == []
    assert no_fp(decoder.feed(p2, source="rx1")) == [SHIP5_REPORT._replace(source="rx1")]
    decoder.flush()
    assert decoder.stats.rejects == Counter({RejectReason.ORPHAN_FRAGMENT: 1})


# -------------------------------------------------------------------- (5) tag blocks and times
def test_tag_block_time_in_seconds_and_milliseconds() -> None:
    seconds = only(Decoder().feed(tag(f"c:{EPOCH_T0}") + TYPE1))
    millis = only(Decoder().feed(tag(f"c:{EPOCH_T0}000") + TYPE1))
    assert seconds.observed_at == millis.observed_at == T0
    assert seconds.observed_at is not None and seconds.observed_at.utcoffset() == timedelta(0)


def test_tag_block_source_becomes_report_source() -> None:
    report = only(Decoder().feed(tag(f"s:r003669945,c:{EPOCH_T0}") + TYPE1, source="mqtt"))
    assert report.source == "r003669945"
    assert only(Decoder().feed(TYPE1, source="mqtt")).source == "mqtt"


def test_tag_block_with_bad_checksum_still_decodes_the_sentence() -> None:
    later = T0 + timedelta(hours=1)
    decoder = Decoder()
    report = only(decoder.feed(b"\\s:rx9,c:1700000000*00\\" + TYPE1, later, source="mqtt"))
    assert report.mmsi == 227006760
    assert report.observed_at == later  # the tag's time is not trusted
    assert report.source == "mqtt"
    assert decoder.stats.warnings == Counter({"bad_tag_block_checksum": 1})
    assert decoder.stats.rejects == Counter()


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (b"1700000000 " + TYPE1, T0),
        (b"1700000000.250\t" + TYPE1, T0 + timedelta(milliseconds=250)),
        (b"1700000000000;" + TYPE1, T0),
        (b"2023-11-14T22:13:20Z " + TYPE1, T0),
        (b"2023-11-14T23:13:20+01:00," + TYPE1, T0),
        (b"2023-11-14 22:13:20 " + TYPE1, T0),
        (TYPE1 + b",1485907262", datetime(2017, 2, 1, 0, 1, 2, tzinfo=UTC)),
        (TYPE1 + b",b003669794,1272412827", datetime(2010, 4, 28, 0, 0, 27, tzinfo=UTC)),
        (
            b"!AIVDM,1,1,,A,403Ovl@000Htt<tSF0l4Q@100`Pq,0*28,d-109,S2105,t050056.00,T56.13718694,"
            b"r003669946,1325394060,1325394001",
            datetime(2012, 1, 1, 5, 0, 1, tzinfo=UTC),
        ),
        (tag(f"c:{EPOCH_T0}") + TYPE1 + b",1485907262", T0),  # tag block beats the trailing epoch
        (b"1485907262 " + tag(f"c:{EPOCH_T0}") + TYPE1, T0),  # ... and a leading one
    ],
    ids=[
        "leading epoch",
        "leading fractional epoch",
        "leading epoch ms",
        "leading ISO Z",
        "leading ISO offset",
        "leading naive ISO",
        "trailing epoch",
        "trailing station and epoch",
        "libais NAIS trailer",
        "tag beats trailing epoch",
        "tag beats leading epoch",
    ],
)
def test_logged_timestamps_set_observed_at(line: bytes, expected: datetime) -> None:
    decoder = Decoder()
    report = only(decoder.feed(line, T0 + timedelta(days=1)))
    assert report.mmsi in (227006760, 3669713)
    assert report.observed_at == expected
    assert decoder.stats.rejects == Counter()


@pytest.mark.parametrize("prefix", [b"0001-01-01T00:00:00+01:00 ", b"9999-12-31T23:59:59-01:00 "])
def test_out_of_range_leading_iso_time_is_ignored_not_raised(prefix: bytes) -> None:
    decoder = Decoder()
    report = only(decoder.feed(prefix + TYPE1, T0))
    assert (report.mmsi, report.observed_at) == (227006760, T0)


def test_implausible_leading_epoch_is_ignored() -> None:
    for prefix in (b"12 ", b"99999999999999999999 ", b"nan ", b"1e400 "):
        report = only(Decoder().feed(prefix + TYPE1, T0))
        assert report.observed_at == T0, prefix


def test_gatehouse_time_applies_to_the_next_sentence_only() -> None:
    decoder = Decoder()
    assert decoder.feed(b"$PGHP,1,2008,5,9,0,0,0,10,338,2,,1,09*17") == []
    first = only(decoder.feed(TYPE1))
    second = only(decoder.feed(TYPE1_B))
    assert first.observed_at == datetime(2008, 5, 9, 0, 0, 0, 10_000, tzinfo=UTC)
    assert second.observed_at is None
    assert decoder.stats.rejects == Counter()


def test_gatehouse_time_beats_arrival_but_not_a_tag_block() -> None:
    arrival = T0 + timedelta(days=1)
    decoder = Decoder()
    decoder.feed(b"$PGHP,1,2008,5,9,0,0,0,10,338,2,,1,09*17")
    assert only(decoder.feed(TYPE1, arrival)).observed_at == datetime(2008, 5, 9, 0, 0, 0, 10_000, tzinfo=UTC)
    decoder.feed(b"$PGHP,1,2008,5,9,0,0,0,10,338,2,,1,09*17")
    assert only(decoder.feed(tag(f"c:{EPOCH_T0}") + TYPE1, arrival)).observed_at == T0


def test_tag_block_time_beats_received_at_and_received_at_is_the_fallback() -> None:
    arrival = T0 + timedelta(minutes=5)
    assert only(Decoder().feed(tag(f"c:{EPOCH_T0}") + TYPE1, arrival)).observed_at == T0
    assert only(Decoder().feed(TYPE1, arrival)).observed_at == arrival
    assert only(Decoder().feed(TYPE1)).observed_at is None


def test_real_gatehouse_recording_times() -> None:
    path = Path(__file__).parents[1] / "data/ais/pyais/examples/gatehouse.nmea"
    decoder = Decoder()
    reports = feed_all(decoder, list(iter_log_lines(path)))
    assert [r.observed_at for r in reports] == [
        datetime(2008, 5, 9, 0, 0, 0, 10_000, tzinfo=UTC),
        None,
        datetime(2009, 5, 9, 0, 0, 0, 10_000, tzinfo=UTC),
        None,
    ]


# -------------------------------------------------------------------- (6) sentinels
def _both_paths(sentences: list[bytes], msg_type: int) -> list[Report]:
    """The decoder's report and the pyais-path mapping of the same message."""
    ours = only(feed_all(Decoder(), sentences))
    return [ours, _from_pyais(pyais.decode(*sentences), msg_type, None, "", getattr(ours, "fingerprint", 0))]


@pytest.mark.parametrize("msg_type", [1, 2, 3, 18])
def test_position_sentinels_become_none(msg_type: int) -> None:
    sentences = encode(
        {"type": msg_type, "mmsi": 211000001, "lat": 91, "lon": 181, "speed": 102.3, "course": 360, "heading": 511}
    )
    for report in _both_paths(sentences, msg_type):
        assert isinstance(report, PositionReport)
        assert (report.lat, report.lon, report.sog_kn, report.cog_deg, report.heading_deg) == (
            None,
            None,
            None,
            None,
            None,
        )


@pytest.mark.parametrize("msg_type", [1, 18])
def test_values_next_to_the_sentinels_are_kept(msg_type: int) -> None:
    cases: list[tuple[dict[str, float], tuple[float | None, ...]]] = [
        ({"lat": 90, "lon": 180, "speed": 102.2, "course": 359.9, "heading": 359}, (90.0, 180.0, 102.2, 359.9, 359)),
        ({"lat": -90, "lon": -180, "speed": 0, "course": 0, "heading": 0}, (-90.0, -180.0, 0.0, 0.0, 0)),
        (
            {"lat": -33.8675, "lon": 151.2, "speed": 12.3, "course": 181.5, "heading": 400},
            (-33.8675, 151.2, 12.3, 181.5, None),
        ),
    ]
    for fields, expected in cases:
        sentences = encode({"type": msg_type, "mmsi": 211000001, **fields})
        for report in _both_paths(sentences, msg_type):
            assert isinstance(report, PositionReport)
            assert (report.lat, report.lon, report.sog_kn, report.cog_deg, report.heading_deg) == expected


def test_type19_sentinels_become_none() -> None:
    sentences = encode(
        {"type": 19, "mmsi": 211000001, "lat": 91, "lon": 181, "speed": 102.3, "course": 360, "heading": 511}
    )
    report = only(feed_all(Decoder(), sentences))
    assert isinstance(report, PositionReport)
    assert (report.lat, report.lon, report.sog_kn, report.cog_deg, report.heading_deg) == (None, None, None, None, None)


def test_type27_not_available_speed_and_course() -> None:
    na = only(
        feed_all(Decoder(), encode({"type": 27, "mmsi": 211000001, "lat": 91, "lon": 181, "speed": 63, "course": 511}))
    )
    assert isinstance(na, PositionReport)
    assert (na.msg_type, na.lat, na.lon, na.sog_kn, na.cog_deg, na.heading_deg) == (27, None, None, None, None, None)
    ok = only(
        feed_all(
            Decoder(),
            encode(
                {"type": 27, "mmsi": 211000001, "lat": 10.5, "lon": -20.25, "speed": 62, "course": 359, "status": 14}
            ),
        )
    )
    assert isinstance(ok, PositionReport)
    assert (ok.lat, ok.lon, ok.sog_kn, ok.cog_deg, ok.nav_status) == (10.5, -20.25, 62.0, 359.0, 14)


def test_base_station_sentinel_position() -> None:
    report = only(feed_all(Decoder(), encode({"type": 4, "mmsi": 2190048, "lat": 91, "lon": 181})))
    assert report._replace(fingerprint=0) == BaseStationReport(2190048, 4, None, None, None)


# ---------------------------------------------------------------- (7) MMSIs and other types
@pytest.mark.parametrize(
    ("mmsi", "valid"),
    [
        (9123456, False),  # 009123456: "009…" as seen off Thailand and Malaysia
        (12345, False),
        (0, False),
        (123456789, False),
        (970012345, True),  # AIS-SART
        (972012345, True),  # MOB
        (974012345, True),  # EPIRB
        (211000001, True),
        (2190048, True),  # coast station 00MIDxxxx
    ],
)
def test_mmsi_is_kept_and_flagged(mmsi: int, valid: bool) -> None:
    report = only(feed_all(Decoder(), encode({"type": 1, "mmsi": mmsi, "lat": 6.5, "lon": 97.25, "status": 14})))
    assert isinstance(report, PositionReport)
    assert (report.mmsi, report.mmsi_valid, report.lat, report.lon, report.nav_status) == (mmsi, valid, 6.5, 97.25, 14)


def test_static_report_type24_parts_a_and_b() -> None:
    part_a = only(feed_all(Decoder(), encode({"type": 24, "mmsi": 503000001, "partno": 0, "shipname": "KM BAHARI"})))
    part_b = only(
        feed_all(
            Decoder(),
            encode(
                {
                    "type": 24,
                    "mmsi": 503000001,
                    "partno": 1,
                    "callsign": "YB1234",
                    "ship_type": 30,
                    "to_bow": 8,
                    "to_stern": 4,
                    "to_port": 2,
                    "to_starboard": 3,
                }
            ),
        )
    )
    assert part_a._replace(fingerprint=0) == StaticReport(503000001, 24, None, name="KM BAHARI", part=0)
    assert part_b._replace(fingerprint=0) == StaticReport(
        503000001, 24, None, callsign="YB1234", ship_type=30, length_m=12, beam_m=5, part=1
    )


def test_type19_is_a_position_with_static_data() -> None:
    sentences = encode(
        {
            "type": 19,
            "mmsi": 525000001,
            "lat": -10.5,
            "lon": 105.75,
            "speed": 3.5,
            "course": 90,
            "heading": 88,
            "shipname": "KAPAL",
            "ship_type": 30,
            "to_bow": 10,
            "to_stern": 5,
            "to_port": 2,
            "to_starboard": 2,
        }
    )
    report = only(feed_all(Decoder(), sentences))
    assert isinstance(report, PositionReport)
    assert (report.msg_type, report.lat, report.lon, report.sog_kn, report.cog_deg, report.heading_deg) == (
        19,
        -10.5,
        105.75,
        3.5,
        90.0,
        88,
    )
    assert report.static._replace(fingerprint=0) == StaticReport(
        525000001, 19, None, name="KAPAL", ship_type=30, length_m=15, beam_m=4
    )


def test_type14_safety_text() -> None:
    report = only(feed_all(Decoder(), encode({"type": 14, "mmsi": 970012345, "text": "SART ACTIVE"})))
    assert isinstance(report, SafetyText)
    assert (report.mmsi, report.msg_type, report.text, report.mmsi_valid) == (970012345, 14, "SART ACTIVE", True)
    assert report.fingerprint != 0


def test_type4_base_station() -> None:
    report = only(feed_all(Decoder(), encode({"type": 4, "mmsi": 2190048, "lat": 55.5, "lon": 12.25})))
    assert report._replace(fingerprint=0) == BaseStationReport(2190048, 4, None, 55.5, 12.25)


def test_real_base_station_from_a_recording() -> None:
    line = b"!AIVDM,1,1,,B,402R3Wiuef:dO0tgkNOgc?A00HBd,0*76"
    reference: Any = pyais.decode(line)
    report = only(Decoder().feed(line))
    assert isinstance(report, BaseStationReport)
    assert (report.mmsi, report.lat, report.lon) == (reference.mmsi, reference.lat, reference.lon)


def test_other_types_are_counted() -> None:
    decoder = Decoder()
    line = b"!AIVDM,1,1,5,B,E<eNSpRtjkGoqmIsgm`>ekv92?KN9R<Man9UV;cwLhuFLh,4*62"  # type 21 (libais)
    report = only(decoder.feed(line))
    assert isinstance(report, OtherReport)
    assert report.msg_type == 21
    assert decoder.stats.types == Counter({21: 1})


def test_a_time_far_ahead_of_arrival_is_not_trusted() -> None:
    # A receiver with a clock years ahead must not drag the event clock into the future.
    decoder = Decoder()
    arrival = T0
    future = int((T0 + timedelta(days=365)).timestamp())
    report = only(decoder.feed(tag(f"c:{future}") + TYPE1, arrival))
    assert report.observed_at == arrival
    assert decoder.stats.warnings["time_in_future"] == 1


def test_grouped_fragments_from_two_feeds_do_not_mix() -> None:
    parts = encode(SHIP5, seq_id=3)
    decoder = Decoder()
    assert decoder.feed(tag("g:1-2-42,s:X") + parts[0], source="topic/a") == []
    assert decoder.feed(tag("g:1-2-42,s:Y") + parts[0], source="topic/b") == []
    (report,) = decoder.feed(tag("g:2-2-42") + parts[1], source="topic/a")
    assert report.source == "X"
    assert decoder.pending_fragments == 1  # topic/b's part 1 still waits for its own part 2


def test_tag_block_is_the_inverse_of_parse_tag_block() -> None:
    from seawatch.core.lines import parse_tag_block, tag_block

    made = tag_block("s:rx-andaman,c:1772323200")
    assert made.startswith(b"\\") and made.endswith(b"\\")
    parsed = parse_tag_block(made[1:-1])
    assert parsed.checksum_ok and parsed.source == "rx-andaman"
    assert parsed.when is not None and int(parsed.when.timestamp()) == 1772323200
