"""``seawatch replay`` over a feed journal gives the alerts of the log it recorded; redeliveries after a start."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from seawatch.adapters.journal import SegmentWriter
from seawatch.cli import main
from seawatch.core.commands import (
    COMMAND_TOPIC,
    TICK_TOPIC,
    Acknowledge,
    Assign,
    Command,
    CommandFormatError,
    FileReport,
    Resolve,
    Retract,
    command_from_bytes,
    command_to_bytes,
    tick_from_bytes,
    tick_to_bytes,
)
from seawatch.core.lines import line_time
from seawatch.core.model import RejectReason
from seawatch.core.pipeline import Pipeline
from seawatch.runtime.state import Redeliveries

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "replay_data" / "scenarios" / "beacons_active.nmea"


def _events(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_replaying_a_journal_gives_the_alerts_of_the_log_it_recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SEAWATCH_CONFIG", raising=False)
    lines = [line for line in SCENARIO.read_bytes().splitlines() if line.strip()]
    # recorded as live ingest records it: one message a line, arrival time, topic; several segments
    writer = SegmentWriter(tmp_path / "journal", fsync=False, segment_max_bytes=8192)
    arrival = datetime(2026, 12, 1, tzinfo=UTC)
    for first in range(0, len(lines), 100):
        batch = lines[first : first + 100]
        writer.write(first, [(line, arrival + timedelta(seconds=first + i), "ais/rx") for i, line in enumerate(batch)])
    writer.close()
    assert len(list((tmp_path / "journal").iterdir())) > 1
    zones = ["--no-shore", "--zones", str(ROOT / "zones")]
    assert main(["replay", str(SCENARIO), "-o", "log.jsonl", *zones]) == 0
    assert main(["replay", str(tmp_path / "journal"), "-o", "journal.jsonl", *zones]) == 0
    from_log = _events(tmp_path / "log.jsonl")
    assert from_log
    assert _events(tmp_path / "journal.jsonl") == from_log
    # segments given one by one, in any order, read as the directory is
    segments = sorted((tmp_path / "journal").iterdir(), reverse=True)
    assert main(["replay", *map(str, segments), "-o", "parts.jsonl", *zones]) == 0
    assert _events(tmp_path / "parts.jsonl") == from_log


def test_a_directory_without_a_journal_is_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["replay", str(tmp_path)]) == 2
    assert "holds no journal segment" in capsys.readouterr().err


def test_only_a_redelivery_of_a_journalled_message_is_skipped_and_each_once() -> None:
    seen = Redeliveries(window=4)
    for payload in (b"a", b"b", b"b", b"c"):
        seen.remember("t", payload)
    assert not seen.seen("t", b"a", redelivered=False)  # sent anew: the same bytes may come again
    assert seen.seen("t", b"b", redelivered=True)
    assert seen.seen("t", b"b", redelivered=True)
    assert not seen.seen("t", b"b", redelivered=True)  # both copies consumed
    assert not seen.seen("other", b"c", redelivered=True)
    assert not seen.seen("t", b"x", redelivered=True)
    assert seen.skipped == 2
    for _ in range(4):
        seen.seen("t", b"y", redelivered=False)
    assert not seen.seen("t", b"a", redelivered=True)  # past the window: forgotten


COMMANDS = [
    Acknowledge("distress-1", datetime(2026, 12, 1, 8, tzinfo=UTC), "duty-officer", "on it"),
    Assign("distress-1", datetime(2026, 12, 1, 8, 1, tzinfo=UTC), "duty-officer", "KN Tanjung", None),
    Resolve("distress-1", datetime(2026, 12, 1, 9, tzinfo=UTC), "night-shift", "all 40 aboard safe"),
    Retract("zone_entry-2", datetime(2026, 12, 1, 9, 5, tzinfo=UTC), "duty-officer", "a ferry on its route"),
    FileReport("r-1", datetime(2026, 12, 1, 10, tzinfo=UTC), "radio", 8.5, 96.5, "distress_call", 40, "adrift", "ü"),
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: type(c).__name__)
def test_an_operator_command_survives_the_journal_unchanged(command: Command) -> None:
    assert command_from_bytes(command_to_bytes(command)) == command


@pytest.mark.parametrize(
    "record",
    [
        b"",
        b"not json",
        b"[]",
        b'{"command": "Reboot", "at": "2026-12-01T08:00:00+00:00"}',
        b'{"command": "Resolve", "at": "2026-12-01T08:00:00"}',
        b'{"command": "Resolve", "alert_id": "x"}',
    ],
)
def test_a_record_on_the_command_topic_that_is_no_command_is_counted_not_raised(record: bytes) -> None:
    with pytest.raises(CommandFormatError):
        command_from_bytes(record)
    pipeline = Pipeline()
    assert pipeline.feed_record(record, None, COMMAND_TOPIC).events == []
    assert pipeline.decoder.stats.rejects[RejectReason.BAD_COMMAND] == 1


def test_replaying_a_journal_applies_the_operators_actions_in_their_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A beacon, an acknowledgement, the beacon heard again: the replay acknowledges, then updates, as live did."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SEAWATCH_CONFIG", raising=False)
    lines = [line for line in SCENARIO.read_bytes().splitlines() if line.strip()]
    zones = ["--no-shore", "--zones", str(ROOT / "zones")]
    assert main(["replay", str(SCENARIO), "-o", "log.jsonl", *zones]) == 0
    first = next(e for e in _events(tmp_path / "log.jsonl") if e["kind"] == "distress")
    opened_at = datetime.fromisoformat(str(first["observed_at"]).replace("Z", "+00:00"))
    cut = next(i for i, line in enumerate(lines) if (line_time(line) or opened_at) > opened_at)
    ack = Acknowledge(str(first["id"]), opened_at, "duty-officer", "on it")
    writer = SegmentWriter(tmp_path / "journal", fsync=False)
    arrival = datetime(2026, 12, 1, tzinfo=UTC)
    records = [(line, arrival, "ais/rx") for line in lines[:cut]]
    records += [(command_to_bytes(ack), arrival, COMMAND_TOPIC)]
    records += [(line, arrival, "ais/rx") for line in lines[cut:]]
    writer.write(0, records)
    writer.close()
    assert main(["replay", str(tmp_path / "journal"), "-o", "journal.jsonl", *zones]) == 0
    events = [(e["id"], e["event"], e["by"]) for e in _events(tmp_path / "journal.jsonl") if e["id"] == first["id"]]
    assert events[:2] == [(first["id"], "alert.opened", None), (first["id"], "alert.acknowledged", "duty-officer")]


def test_a_journalled_tick_runs_the_same_check_in_its_place() -> None:
    """A feed gone silent: live ticks on the wall clock; the journal's tick record gives a replay the same alerts."""
    from seawatch.config.settings import Settings
    from seawatch.runtime.parts import build_pipeline

    lines = [line for line in SCENARIO.read_bytes().splitlines() if line.strip()]
    settings = Settings(zones_dir=ROOT / "zones", shore_distance=False)
    live, replayed = build_pipeline(settings), build_pipeline(settings)
    for line in lines:
        live.feed_record(line, None, "ais/rx")
        replayed.feed_record(line, None, "ais/rx")
    assert live.now is not None
    at = live.now + timedelta(hours=6)  # long enough for escalations and silence checks to have something to say
    ticked = live.tick(at)
    assert ticked, "the silent hours raise something in this scenario"
    again = replayed.feed_record(tick_to_bytes(at), None, TICK_TOPIC).events
    assert [(e.id, e.sequence, e.event) for e in again] == [(e.id, e.sequence, e.event) for e in ticked]
    assert tick_from_bytes(tick_to_bytes(at)) == at


@pytest.mark.parametrize("record", [b"", b"yesterday", b"2026-12-01T08:00:00", "\u00e9t\u00e9".encode("latin-1")])
def test_a_record_on_the_tick_topic_that_is_no_time_is_counted_not_raised(record: bytes) -> None:
    pipeline = Pipeline()
    assert pipeline.feed_record(record, None, TICK_TOPIC).events == []
    assert pipeline.decoder.stats.rejects[RejectReason.BAD_COMMAND] == 1
