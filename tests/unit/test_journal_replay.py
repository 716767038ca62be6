"""``seawatch replay`` over a feed journal gives the alerts of the log it recorded; redeliveries after a start."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from seawatch.adapters.journal import SegmentWriter
from seawatch.cli import main
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
