"""The feed journal on disk: round trip, rotation, retention, torn and corrupt chunks, positions, splitting."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from seawatch.adapters.journal import (
    MAGIC,
    FeedJournal,
    JournalError,
    ReadStats,
    SegmentWriter,
    is_journal,
    journal_end,
    list_chunks,
    parse_position,
    position_of,
    read_chunk,
    read_records,
    segments,
)

T0 = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)


def _messages(n: int, start: int = 0) -> list[tuple[bytes, datetime, str]]:
    return [
        (f"!AIVDM,1,1,,A,message {i},0*00".encode(), T0 + timedelta(seconds=i, microseconds=i), f"ais/rx{i % 3}")
        for i in range(start, start + n)
    ]


def _write(directory: Path, batches: list[int], **options: object) -> SegmentWriter:
    writer = SegmentWriter(directory, fsync=False, **options)  # type: ignore[arg-type]
    seq = 0
    for size in batches:
        writer.write(seq, _messages(size, seq))
        seq += size
    writer.close()
    return writer


def test_records_come_back_as_written_payload_time_and_topic(tmp_path: Path) -> None:
    _write(tmp_path, [3, 5, 2])
    records = list(read_records([tmp_path]))
    assert [(r.payload, r.received_at, r.topic) for r in records] == _messages(10)
    assert [r.seq for r in records] == list(range(10))
    assert journal_end(tmp_path) == 10
    assert is_journal(tmp_path)
    assert is_journal(segments(tmp_path)[0])


def test_reading_from_a_position_starts_exactly_there(tmp_path: Path) -> None:
    _write(tmp_path, [4, 4, 4], segment_max_bytes=200)  # a segment per batch or so
    assert len(segments(tmp_path)) > 1
    for start in (0, 3, 4, 5, 11, 12, 40):
        assert [r.seq for r in read_records([tmp_path], start)] == list(range(start, 12))
    assert parse_position(position_of(1234)) == 1234
    with pytest.raises(JournalError):
        parse_position("segment-7")


def test_segments_rotate_by_size_and_by_age_and_names_sort_in_time(tmp_path: Path) -> None:
    by_size = tmp_path / "size"
    _write(by_size, [10] * 6, segment_max_bytes=400)
    names = [p.name for p in segments(by_size)]
    assert len(names) >= 3
    assert names == sorted(names)
    assert [r.seq for r in read_records([by_size])] == list(range(60))

    by_age = tmp_path / "age"
    writer = SegmentWriter(by_age, fsync=False, segment_max_age_s=0.01)
    writer.write(0, _messages(2))
    time.sleep(0.02)
    writer.write(2, _messages(2, 2))
    writer.close()
    assert len(segments(by_age)) == 2


def test_retention_drops_the_oldest_segments_by_size_and_by_age(tmp_path: Path) -> None:
    writer = _write(tmp_path, [10] * 8, segment_max_bytes=400)
    before = segments(tmp_path)
    writer.keep_bytes = sum(p.stat().st_size for p in before[-2:])
    writer.trim()
    after = segments(tmp_path)
    assert after == before[-2:]  # the newest kept
    assert [r.seq for r in read_records([tmp_path])][-1] == 79

    old = time.time() - 10 * 86400
    for path in after[:-1]:
        os.utime(path, (old, old))
    writer.keep_bytes, writer.keep_days = 0, 7
    writer.trim()
    assert segments(tmp_path) == after[-1:]


def test_a_torn_last_chunk_is_skipped_and_counted_and_numbering_resumes_before_it(tmp_path: Path) -> None:
    _write(tmp_path, [3, 3])
    path = segments(tmp_path)[-1]
    size = path.stat().st_size
    with path.open("r+b") as f:
        f.truncate(size - 5)  # the crash came in the middle of the second batch
    stats = ReadStats()
    assert [r.seq for r in read_records([tmp_path], 0, stats)] == [0, 1, 2]
    assert stats.torn == 1
    assert journal_end(tmp_path) == 3
    # a new run writes a new segment from there; the torn chunk stays behind, skipped
    writer = SegmentWriter(tmp_path, fsync=False)
    writer.write(3, _messages(2, 3))
    writer.close()
    stats = ReadStats()
    assert [r.seq for r in read_records([tmp_path], 0, stats)] == [0, 1, 2, 3, 4]
    assert stats.torn == 1


def test_a_chunk_that_fails_its_checksum_is_skipped_and_the_rest_is_read(tmp_path: Path) -> None:
    _write(tmp_path, [3, 3, 3])
    path = segments(tmp_path)[0]
    second = list_chunks(path)[1]
    data = bytearray(path.read_bytes())
    data[second.offset + second.length - 2] ^= 0xFF
    path.write_bytes(bytes(data))
    stats = ReadStats()
    assert [r.seq for r in read_records([tmp_path], 0, stats)] == [0, 1, 2, 6, 7, 8]
    assert stats.corrupt == 1


def test_not_a_journal_is_counted_not_raised(tmp_path: Path) -> None:
    junk = tmp_path / "20260301T000000Z-0000000000000000.swj"
    junk.write_bytes(b"hello")
    stats = ReadStats()
    assert list(read_records([junk], 0, stats)) == []
    assert stats.unreadable == 1
    assert not is_journal(junk)


def test_a_segment_splits_into_chunks_each_readable_alone(tmp_path: Path) -> None:
    _write(tmp_path, [5, 7, 1, 4])
    (path,) = segments(tmp_path)
    refs = list_chunks(path)
    assert [(r.first_seq, r.count) for r in refs] == [(0, 5), (5, 7), (12, 1), (13, 4)]
    assert refs[0].offset == len(MAGIC)
    # another process given only (path, offset, length) reads the same records
    parts = [read_chunk(ref) for ref in reversed(refs)]
    assert sorted(r.seq for part in parts for r in part) == list(range(17))


def test_a_held_message_is_released_only_once_its_batch_is_on_disk(tmp_path: Path) -> None:
    released: list[int] = []

    async def scenario() -> None:
        journal = FeedJournal(SegmentWriter(tmp_path, fsync=True), next_seq=0)
        task = asyncio.create_task(journal.run())
        for i, (payload, at, topic) in enumerate(_messages(50)):
            journal.append(payload, at, topic, lambda i=i: released.append(i))
        assert journal.lag == 50 and not released
        assert await journal.durable_through(50, 10)
        assert released == list(range(50))
        assert journal.lag == 0
        assert journal.figures.written == 50 and journal.figures.batches >= 1
        task.cancel()
        journal.close()

    asyncio.run(scenario())
    assert [r.seq for r in read_records([tmp_path])] == list(range(50))


def test_a_failing_disk_is_counted_and_the_messages_are_released_anyway(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the journal directory should be")
    released: list[int] = []

    async def scenario() -> None:
        journal = FeedJournal(SegmentWriter(blocker / "journal", fsync=False), next_seq=7)
        journal.append(b"x", T0, "t", lambda: released.append(1))
        await journal.flush_once()
        assert released == [1]
        assert journal.figures.write_errors == 1 and journal.figures.lost == 1
        assert journal.figures.failing_since is not None
        assert journal.durable_seq == 8

    asyncio.run(scenario())


class _FlakyWriter:
    """A chunk writer whose store refuses the first ``failures`` batches (the journal kept in the store)."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.chunks: list[tuple[int, int]] = []
        self.segments_on_disk = self.bytes_on_disk = self.removed = 0

    def write(self, first_seq: int, records: Sequence[tuple[bytes, datetime, str]]) -> int:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("the store does not answer")
        self.chunks.append((first_seq, len(records)))
        return 1

    def disk_use(self) -> tuple[int, int]:
        return len(self.chunks), len(self.chunks)

    def close(self) -> None:
        pass


def test_a_batch_the_store_refuses_is_kept_unreleased_and_written_again() -> None:
    released: list[int] = []

    async def scenario() -> None:
        writer = _FlakyWriter(failures=2)
        journal = FeedJournal(writer, next_seq=5, retry_on=(ConnectionError,), retry_s=0.01)
        for i in range(3):
            journal.append(b"x%d" % i, T0, "t", lambda i=i: released.append(i))
        assert not await journal.flush_once()
        assert not released and journal.lag == 3 and journal.durable_seq == 5  # nothing acknowledged
        assert journal.figures.write_errors == 1 and journal.figures.lost == 0
        task = asyncio.create_task(journal.run())
        assert await journal.durable_through(8, 10)
        task.cancel()
        assert released == [0, 1, 2]
        assert writer.chunks == [(5, 3)]  # written once, in order, with its numbers
        assert journal.figures.written == 3 and journal.figures.lost == 0

    asyncio.run(scenario())


def test_the_figures_follow_rotation_and_retention(tmp_path: Path) -> None:
    async def scenario() -> None:
        writer = SegmentWriter(tmp_path, fsync=False, segment_max_bytes=300, keep_bytes=900)
        journal = FeedJournal(writer, next_seq=0)
        task = asyncio.create_task(journal.run())
        for round_ in range(10):
            for payload, at, topic in _messages(5, round_ * 5):
                journal.append(payload, at, topic, None)
            assert await journal.durable_through((round_ + 1) * 5, 10)
        f = journal.figures
        on_disk = segments(tmp_path)
        assert f.segments == len(on_disk) and f.removed_segments > 0
        assert f.bytes_on_disk == sum(p.stat().st_size for p in on_disk)
        task.cancel()
        journal.close()

    asyncio.run(scenario())
