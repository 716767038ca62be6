"""File sources: NMEA logs (plain and gzip) and MarineCadastre / DMA CSV exports.

The CSV fixtures are written by hand, a few rows each, so every expected report can
be stated exactly: sentinels, a garbage row, a SART, a base station, an aid to
navigation and a hostile vessel name are all in them.
"""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

import pyais
import pytest

from seawatch.adapters.files import (
    MAX_LINE_BYTES,
    SourceError,
    is_csv,
    iter_csv_reports,
    iter_log_lines,
    merged_log_payloads,
)
from seawatch.core.decode import Decoder
from seawatch.core.formats.csv import CsvStats
from seawatch.core.lines import tag_block
from seawatch.core.model import (
    BaseStationReport,
    OtherReport,
    PositionReport,
    RejectReason,
    Report,
    StaticReport,
)

AIS250 = Path(__file__).parents[1] / "data" / "ais" / "dma-aislib" / "ais250.txt"
HOSTILE = "<IMG SRC=X ONERROR=ALERT(1)>"

MARINE_CADASTRE = f"""\
MMSI,BaseDateTime,LAT,LON,SOG,COG,Heading,VesselName,IMO,CallSign,VesselType,Status,Length,Width,Draft,Cargo,TransceiverClass
367596680,2023-01-01T00:00:01,29.93574,-90.05694,0.0,360.0,511.0,{HOSTILE},IMO9222015,WDH4873,31,0,22,8,2.7,31,A
367596680,2023-01-01T00:01:01,29.9358,-90.0569,102.3,45.5,90,{HOSTILE},IMO9222015,WDH4873,31,0,22,8,2.7,31,A
338123456,2023-01-01T00:00:05,91.0,181.0,3.2,10.0,20,SEA BREEZE,,,37,15,12,4,,,B
not-a-number,2023-01-01T00:00:06,29.9,-90.0,0,0,0,,,,,,,,,,A
368000001,yesterday,29.9,-90.0,0,0,0,,,,,,,,,,A
368000002,2023-01-01T00:00:07,29.9,-90.0
009123456,2023-01-01T00:00:08,12.5,-91.0,1.5,200.0,199,,,,,,,,,,B
"""

DMA = """\
# Timestamp,Type of mobile,MMSI,Latitude,Longitude,Navigational status,ROT,SOG,COG,Heading,IMO,Callsign,Name,Ship type,Cargo type,Width,Length,Type of position fixing device,Draught,Destination,ETA,Data source type,A,B,C,D
27/02/2024 00:00:00,Class A,219000873,56.990910,10.304543,Under way using engine,0.0,9.6,182.1,181,Unknown,OXPQ2,AURA,Passenger,,10,60,GPS,4.2,AARHUS,27/02/2024 06:00:00,AIS,50,10,5,5
27/02/2024 00:00:00,Base Station,2190064,56.716570,11.519147,Unknown value,,,,,Unknown,Unknown,,Undefined,,,,GPS,,Unknown,,AIS,,,,
27/02/2024 00:00:01,Search and Rescue Transponder,970010123,55.500000,12.100000,AIS-SART (active),,0.1,360.0,511,Unknown,Unknown,SART ACTIVE,Undefined,,,,GPS,,Unknown,,AIS,,,,
27/02/2024 00:00:02,Class B,211234560,54.500000,10.200000,Unknown value,,102.3,360.0,511,Unknown,DA1234,MOBY,Sailing,,3,12,GPS,,Unknown,,AIS,,,,
27/02/2024 00:00:03,AtoN,992191234,55.000000,11.000000,Unknown value,,,,,Unknown,Unknown,BUOY 7,Undefined,,,,GPS,,Unknown,,AIS,,,,
27/02/2024 00:00:04,Class A,219000873,56.980000,10.300000,Restricted manoeuverability,0.0,3.0,90.0,91,Unknown,OXPQ2,AURA,Passenger,,10,60,GPS,4.2,AARHUS,27/02/2024 06:00:00,AIS,50,10,5,5
31/02/2024 00:00:05,Class A,219000873,56.970000,10.300000,Moored,,0,0,0,Unknown,OXPQ2,AURA,Passenger,,10,60,GPS,4.2,AARHUS,,AIS,50,10,5,5
27/02/2024 00:00:06,Class A,219000873,56.960000,10.300000,Moored,,0,0,0,Unknown,OXPQ2,AURA,Passenger,,10,60,GPS,5.1,AARHUS,,AIS,50,10,5,5
"""  # noqa: E501 - rows as the DMA writes them


def _write(path: Path, text: str, *, compress: bool = False) -> Path:
    data = text.encode("utf-8")
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def _read_csv(path: Path) -> tuple[list[Report], CsvStats]:
    stats = CsvStats()
    return list(iter_csv_reports(path, stats, source="test")), stats


def _positions(reports: list[Report]) -> list[Report]:
    """Reports with their fingerprint zeroed, for exact comparison."""
    return [r._replace(fingerprint=0) if isinstance(r, PositionReport) else r for r in reports]


# ------------------------------------------------------------------ NMEA logs
def test_plain_and_gzip_logs_yield_the_same_lines(tmp_path: Path) -> None:
    raw = AIS250.read_bytes()
    gz = tmp_path / "ais250.txt.gz"
    gz.write_bytes(gzip.compress(raw))

    plain_lines = list(iter_log_lines(AIS250))
    gzip_lines = list(iter_log_lines(gz))

    assert plain_lines == gzip_lines
    assert plain_lines == raw.splitlines()
    assert len(plain_lines) == 243  # the last line has no newline
    assert plain_lines[0] == b"!AIVDM,1,1,,A,B5NIeAP00=qmw14cRKvQSwm5WP06,0*51"


def test_gzip_is_recognised_by_magic_bytes_not_suffix(tmp_path: Path) -> None:
    disguised = tmp_path / "rotated.nmea"
    disguised.write_bytes(gzip.compress(AIS250.read_bytes()))

    assert list(iter_log_lines(disguised)) == AIS250.read_bytes().splitlines()


def test_log_lines_feed_the_decoder() -> None:
    decoder = Decoder()
    reports = [r for line in iter_log_lines(AIS250) for r in decoder.feed(line)]
    decoder.flush()

    assert decoder.stats.lines == 243
    assert len(reports) == decoder.stats.reports
    assert decoder.stats.reports > 200


def test_missing_log_raises_source_error_naming_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "x.nmea"

    with pytest.raises(SourceError) as caught:
        list(iter_log_lines(missing))

    assert str(caught.value) == f"cannot read {str(missing)!r}: No such file or directory"


def test_directory_raises_source_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="cannot read"):
        list(iter_log_lines(tmp_path))


def test_truncated_gzip_yields_complete_lines_then_raises(tmp_path: Path) -> None:
    data = gzip.compress(AIS250.read_bytes())
    cut = tmp_path / "cut.nmea.gz"
    cut.write_bytes(data[: len(data) - 20])

    seen: list[bytes] = []
    with pytest.raises(SourceError, match=r"cut\.nmea\.gz"):
        seen.extend(iter_log_lines(cut))

    assert seen == AIS250.read_bytes().splitlines()[: len(seen)]
    assert len(seen) > 200


def test_over_long_line_is_cut_not_buffered(tmp_path: Path) -> None:
    path = tmp_path / "junk.nmea"
    sentence = b"!AIVDM,1,1,,A,B5NIeAP00=qmw14cRKvQSwm5WP06,0*51"
    path.write_bytes(b"x" * (3 * MAX_LINE_BYTES + 10) + b"\n" + sentence + b"\r\n")

    lines = list(iter_log_lines(path))

    assert lines == [b"x" * MAX_LINE_BYTES, sentence]


def test_blank_lines_are_kept(tmp_path: Path) -> None:
    path = _write(tmp_path / "blank.nmea", "a\n\nb")

    assert list(iter_log_lines(path)) == [b"a", b"", b"b"]


# ------------------------------------------------------------------ sniffing
def test_is_csv_recognises_both_layouts_plain_and_gzip(tmp_path: Path) -> None:
    assert is_csv(_write(tmp_path / "mc.csv", MARINE_CADASTRE))
    assert is_csv(_write(tmp_path / "dma.csv", DMA))
    assert is_csv(_write(tmp_path / "dma.csv.gz", DMA, compress=True))
    assert is_csv(_write(tmp_path / "no_suffix", MARINE_CADASTRE, compress=True))
    assert is_csv(_write(tmp_path / "bom.csv", "\ufeff" + MARINE_CADASTRE))


def test_is_csv_rejects_logs_and_other_csv(tmp_path: Path) -> None:
    assert not is_csv(AIS250)
    assert not is_csv(_write(tmp_path / "other.csv", "a,b,c\n1,2,3\n"))
    assert not is_csv(_write(tmp_path / "empty.csv", ""))
    with pytest.raises(SourceError, match=r"nope\.csv"):
        is_csv(tmp_path / "nope.csv")


# ------------------------------------------------------------------ MarineCadastre
def test_marine_cadastre_rows(tmp_path: Path) -> None:
    reports, stats = _read_csv(_write(tmp_path / "mc.csv", MARINE_CADASTRE))

    t1 = datetime(2023, 1, 1, 0, 0, 1, tzinfo=UTC)
    assert _positions(reports) == [
        StaticReport(
            367596680,
            5,
            t1,
            name=HOSTILE,
            callsign="WDH4873",
            imo=9222015,
            ship_type=31,
            length_m=22,
            beam_m=8,
            destination=None,
            draught_m=2.7,
            part=None,
            source="test",
        ),
        PositionReport(367596680, 1, t1, 29.93574, -90.05694, 0.0, None, None, 0, "test"),
        # Same static columns again: no second static report.
        PositionReport(
            367596680,
            1,
            datetime(2023, 1, 1, 0, 1, 1, tzinfo=UTC),
            29.9358,
            -90.0569,
            None,
            45.5,
            90,
            0,
            "test",
        ),
        # lat 91 / lon 181: no position, but the static data is still news.
        StaticReport(
            338123456,
            24,
            datetime(2023, 1, 1, 0, 0, 5, tzinfo=UTC),
            name="SEA BREEZE",
            ship_type=37,
            length_m=12,
            beam_m=4,
            source="test",
        ),
        # An 009… MMSI is kept, flagged invalid.
        PositionReport(
            9123456,
            18,
            datetime(2023, 1, 1, 0, 0, 8, tzinfo=UTC),
            12.5,
            -91.0,
            1.5,
            200.0,
            199,
            None,
            "test",
            mmsi_valid=False,
        ),
    ]
    assert stats.rows == 7
    assert stats.reports == 5
    assert stats.no_position == 1
    assert stats.rejects == {RejectReason.BAD_CSV_ROW: 3}
    assert stats.rejected == 3


def test_hostile_name_is_kept_verbatim(tmp_path: Path) -> None:
    reports, _ = _read_csv(_write(tmp_path / "mc.csv", MARINE_CADASTRE))

    names = [r.name for r in reports if isinstance(r, StaticReport)]
    assert names[0] == "<IMG SRC=X ONERROR=ALERT(1)>"


def test_position_fingerprints_tell_rows_apart_and_match_repeats(tmp_path: Path) -> None:
    lines = MARINE_CADASTRE.splitlines()
    text = "\n".join([lines[0], lines[1], lines[1], lines[2]]) + "\n"
    reports, _ = _read_csv(_write(tmp_path / "dup.csv", text))

    prints = [r.fingerprint for r in reports if isinstance(r, PositionReport)]
    assert len(prints) == 3
    assert prints[0] == prints[1] != prints[2]
    assert 0 not in prints


def test_column_order_and_spelling_variants(tmp_path: Path) -> None:
    """Columns are found by name: reordered, lower-case, 'TranscieverClass' all work."""
    header, *rows = MARINE_CADASTRE.splitlines()
    names = header.split(",")
    order = list(reversed(range(len(names))))
    names[names.index("TransceiverClass")] = "TranscieverClass"

    def reorder(line: str) -> str:
        fields = line.split(",")
        if len(fields) != len(names):
            return line
        return ",".join(fields[i] for i in order)

    shuffled = "\n".join([",".join(names[i].lower() for i in order), *map(reorder, rows)]) + "\n"
    expected, _ = _read_csv(_write(tmp_path / "mc.csv", MARINE_CADASTRE))
    reports, stats = _read_csv(_write(tmp_path / "shuffled.csv", shuffled))

    assert _positions(reports) == _positions(expected)
    assert stats.rejects == {RejectReason.BAD_CSV_ROW: 3}


def test_gzip_csv_gives_the_same_reports(tmp_path: Path) -> None:
    plain, _ = _read_csv(_write(tmp_path / "mc.csv", MARINE_CADASTRE))
    packed, stats = _read_csv(_write(tmp_path / "mc.csv.gz", MARINE_CADASTRE, compress=True))

    assert packed == plain
    assert stats.rows == 7


# ------------------------------------------------------------------ DMA
def test_dma_rows(tmp_path: Path) -> None:
    reports, stats = _read_csv(_write(tmp_path / "dma.csv", DMA))

    def at(second: int) -> datetime:
        return datetime(2024, 2, 27, 0, 0, second, tzinfo=UTC)

    assert _positions(reports) == [
        StaticReport(
            219000873,
            5,
            at(0),
            name="AURA",
            callsign="OXPQ2",
            imo=None,
            ship_type=60,
            length_m=60,
            beam_m=10,
            destination="AARHUS",
            draught_m=4.2,
            source="test",
        ),
        PositionReport(219000873, 1, at(0), 56.99091, 10.304543, 9.6, 182.1, 181, 0, "test"),
        BaseStationReport(2190064, 4, at(0), 56.71657, 11.519147, "test"),
        StaticReport(970010123, 5, at(1), name="SART ACTIVE", source="test"),
        PositionReport(970010123, 1, at(1), 55.5, 12.1, 0.1, None, None, 14, "test"),
        StaticReport(
            211234560,
            24,
            at(2),
            name="MOBY",
            callsign="DA1234",
            ship_type=36,
            length_m=12,
            beam_m=3,
            source="test",
        ),
        PositionReport(211234560, 18, at(2), 54.5, 10.2, None, None, None, 15, "test"),
        OtherReport(992191234, 21, at(3), 55.0, 11.0, None, None, "test"),
        PositionReport(219000873, 1, at(4), 56.98, 10.3, 3.0, 90.0, 91, 3, "test"),
        # 31/02 is no date: rejected. Then a new draught is news, so a new static.
        StaticReport(
            219000873,
            5,
            at(6),
            name="AURA",
            callsign="OXPQ2",
            ship_type=60,
            length_m=60,
            beam_m=10,
            destination="AARHUS",
            draught_m=5.1,
            source="test",
        ),
        PositionReport(219000873, 1, at(6), 56.96, 10.3, 0.0, 0.0, 0, 5, "test"),
    ]
    assert stats.rows == 8
    assert stats.reports == 11
    assert stats.rejects == {RejectReason.BAD_CSV_ROW: 1}


@pytest.mark.parametrize(
    ("status", "code"),
    [
        ("Under way using engine", 0),
        ("At anchor", 1),
        ("Not under command", 2),
        ("Restricted maneuverability", 3),
        ("Constrained by her draught", 4),
        ("Moored", 5),
        ("Aground", 6),
        ("Engaged in fishing", 7),
        ("Under way sailing", 8),
        ("Reserved for future amendment [HSC]", 9),
        ("Reserved for future amendment [WIG]", 10),
        ("Power-driven vessel towing astern", 11),
        ("Power-driven vessel pushing ahead or towing alongside", 12),
        ("Reserved for future use", 13),
        ("AIS-SART (active)", 14),
        ("Unknown value", 15),
        ("something new", 15),
        ("", None),
    ],
)
def test_dma_navigational_status_text(tmp_path: Path, status: str, code: int | None) -> None:
    header = DMA.splitlines()[0]
    row = f"27/02/2024 00:00:00,Class A,219000873,56.9,10.3,{status},,1,2,3" + ",Unknown" * 3 + ",,,,,,,,,,,,,"
    reports, stats = _read_csv(_write(tmp_path / "s.csv", f"{header}\n{row}\n"))

    assert stats.rejects == {}
    positions = [r for r in reports if isinstance(r, PositionReport)]
    assert [p.nav_status for p in positions] == [code]


@pytest.mark.parametrize(
    ("ship_type", "code"),
    [
        ("Cargo", 70),
        ("Tanker", 80),
        ("Passenger", 60),
        ("Fishing", 30),
        ("Pleasure", 37),
        ("Tug", 52),
        ("Law enforcement", 55),
        ("SAR", 51),
        ("HSC", 40),
        ("Anti-pollution", 54),
        ("Not party to conflict", 59),
        ("Other", 90),
        ("Undefined", None),
        ("Reserved", None),
        ("Spare 1", None),
    ],
)
def test_dma_ship_type_text(tmp_path: Path, ship_type: str, code: int | None) -> None:
    header = DMA.splitlines()[0]
    row = (
        "27/02/2024 00:00:00,Class A,219000873,56.9,10.3,Moored,,0,0,0,Unknown,OXPQ2,AURA,"
        f"{ship_type},,10,60,GPS,,Unknown,,AIS,,,,"
    )
    reports, _ = _read_csv(_write(tmp_path / "t.csv", f"{header}\n{row}\n"))

    statics = [r for r in reports if isinstance(r, StaticReport)]
    assert [s.ship_type for s in statics] == [code]


def test_garbage_rows_are_counted_never_raised(tmp_path: Path) -> None:
    header = MARINE_CADASTRE.splitlines()[0]
    garbage = "\n".join(
        [
            header,
            "",  # blank lines are not rows
            "\x00\x01\x02,,,",
            "367596680,2023-01-01T00:00:01,north,-90.0,0,0,0,,,,,,,,,,A",
            "99999999999,2023-01-01T00:00:01,1.0,2.0,0,0,0,,,,,,,,,,A",
            '"unterminated,2023',
        ]
    )
    path = tmp_path / "garbage.csv"
    path.write_bytes(garbage.encode() + b"\xff\xfe\n")

    reports, stats = _read_csv(path)

    assert reports == []
    assert stats.rows == 4
    assert stats.rejects == {RejectReason.BAD_CSV_ROW: 4}


def test_csv_with_unknown_header_raises_source_error(tmp_path: Path) -> None:
    path = _write(tmp_path / "nope.csv", "a,b,c\n1,2,3\n")

    with pytest.raises(SourceError, match=r"'.*nope\.csv' is not a MarineCadastre or DMA CSV"):
        list(iter_csv_reports(path, CsvStats()))


def test_missing_csv_raises_source_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"cannot read '.*gone\.csv': No such file or directory"):
        list(iter_csv_reports(tmp_path / "gone.csv", CsvStats()))


def test_empty_csv_yields_nothing(tmp_path: Path) -> None:
    stats = CsvStats()

    assert list(iter_csv_reports(_write(tmp_path / "empty.csv", ""), stats)) == []
    assert stats.rows == 0


def test_two_receivers_multipart_messages_never_interleave(tmp_path: Path) -> None:
    """Parts with the same sequence id and channel, timed so that a line-by-line merge would mix them."""

    def static(mmsi: int, name: str, start: int) -> list[str]:
        data = {"type": 5, "mmsi": mmsi, "shipname": name, "destination": f"PORT OF {name}", "ship_type": 70}
        parts = pyais.encode_dict(data, talker_id="AI", sentence_type="VDM", seq_id=1, radio_channel="A")
        assert len(parts) == 2
        return [tag_block(f"c:{start + 2 * i}").decode() + part for i, part in enumerate(parts)]

    first = tmp_path / "rx-a.nmea"
    first.write_text("\n".join(static(533_000_001, "ALPHA", 1_700_000_010)) + "\n", encoding="ascii")
    second = tmp_path / "rx-b.nmea"
    second.write_text("\n".join(static(533_000_002, "BRAVO", 1_700_000_011)) + "\n", encoding="ascii")

    decoder = Decoder()
    reports = [
        r
        for payload, _ in merged_log_payloads([first, second])
        for line in payload.split(b"\n")
        for r in decoder.feed(line)
    ]
    names = {(r.mmsi, r.name, r.destination) for r in reports if isinstance(r, StaticReport)}
    assert names == {(533_000_001, "ALPHA", "PORT OF ALPHA"), (533_000_002, "BRAVO", "PORT OF BRAVO")}
    assert decoder.stats.rejects == {}
