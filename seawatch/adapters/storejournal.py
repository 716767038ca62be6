"""The feed journal kept in the alert store: how a failover pair shares it (docs/failover.md).

Why in the store and not on disk: the standby must read what the leader journals, on
another machine, and a leader that lost the lease must not be able to add a word to it.
Rows of the store's ``journal_chunks`` table give both: each chunk (the bytes of
:func:`~seawatch.adapters.journal.encode_chunk`, checked by its CRC when read) is
written in a fenced transaction, like every other write of the leader, and read by the
standby as it follows.

Retention follows the snapshots: chunks wholly before the oldest snapshot kept are
deleted after each snapshot; a start never needs them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

from sqlalchemy.exc import SQLAlchemyError

from seawatch.adapters.journal import ReadStats, Record, decode_chunk, encode_chunk, parse_position
from seawatch.adapters.store import AlertStore, StoreError

log = logging.getLogger(__name__)

READ_CHUNKS: int = 200
"""Chunks read per query while following (a chunk holds up to a batch, 2,000 messages by default)."""


class StoreJournalWriter:
    """:class:`~seawatch.adapters.journal.FeedJournal`'s writer when the journal lives in the store (blocking)."""

    def __init__(self, store: AlertStore) -> None:
        self.store = store
        self.segments_on_disk = 0  # chunks, here
        self.bytes_on_disk = 0
        self.removed = 0

    def write(self, first_seq: int, records: Sequence[tuple[bytes, datetime, str]]) -> int:
        chunk = encode_chunk(first_seq, records)
        self.store.append_journal(first_seq, len(records), chunk, datetime.now(UTC))
        self.segments_on_disk += 1
        self.bytes_on_disk += len(chunk)
        return len(chunk)

    def disk_use(self) -> tuple[int, int]:
        try:
            _first, _end, chunks, size = self.store.journal_bounds()
        except (StoreError, SQLAlchemyError):
            return self.segments_on_disk, self.bytes_on_disk
        return chunks, size

    def trim(self) -> int:
        """Drop what the oldest snapshot kept no longer needs; the number of chunks dropped."""
        position = self.store.oldest_snapshot_position()
        if position is None:
            return 0
        removed = self.store.trim_journal(parse_position(position))
        self.removed += removed
        self.segments_on_disk = max(0, self.segments_on_disk - removed)
        return removed

    def close(self) -> None:
        """Nothing to close: the store is closed by its owner."""


def store_records(store: AlertStore, start_seq: int, stats: ReadStats | None = None) -> Iterator[Record]:
    """Every record of the store's journal from ``start_seq`` on, a query of :data:`READ_CHUNKS` at a time."""
    stats = stats if stats is not None else ReadStats()
    seq = start_seq
    while True:
        rows = store.journal_chunks(seq, READ_CHUNKS)
        if not rows:
            return
        for first_seq, count, data in rows:
            for record in decode_chunk(data, stats):
                if record.seq >= seq:
                    yield record
            seq = max(seq, first_seq + count)
