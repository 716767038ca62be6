"""The feed journal: every raw message, appended to disk before the broker hears it was received.

Why: a restart must change nothing (start = last snapshot + the journal after it), and
analysts must be able to replay exactly what the live service saw
(``seawatch replay JOURNAL``). The journal is the raw feed as it arrived: payload
bytes, arrival time (UTC) and topic, numbered by one global sequence number.

Format (version 1, also in docs/state.md):

* a directory of **segments** named ``<UTC start, YYYYMMDDTHHMMSSZ>-<first sequence, 16 digits>.swj``,
  so names sort in time and a reader finds the segment holding a sequence number
  from its name alone;
* a segment starts with the 8-byte magic ``SWJRNL1\\n`` and holds **chunks**, one per
  written batch, each independently readable: a 24-byte header
  (``>4sIIQI``: ``SWJC``, compressed length, CRC-32 of the compressed bytes, first
  sequence number, record count) and a zlib stream of records;
* a **record** is ``>qHI`` (arrival time in microseconds since the epoch, topic length,
  payload length), the topic (UTF-8), then the payload.

A reader can list a segment's chunks from their headers without decompressing
anything (:func:`list_chunks`), so a distributed replay can hand chunks to workers. A
torn last chunk (a crash in the middle of a write) is skipped and counted, never
raised; a chunk whose CRC does not match is skipped and counted too.

Durability: a batch is written, flushed and (with ``fsync``, the default) ``fsync``-ed
before the holds it took on the messages' receipts are released, so a message is
acknowledged to the broker only once it is on disk. If the disk fails, the error is
counted and shown in health, the holds are released anyway (ingest must go on), and
those messages are then *not* in the journal.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import struct
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO, Protocol

log = logging.getLogger(__name__)

MAGIC = b"SWJRNL1\n"
CHUNK_MAGIC = b"SWJC"
_CHUNK = struct.Struct(">4sIIQI")
_RECORD = struct.Struct(">qHI")
SUFFIX = ".swj"
_NAME = re.compile(r"^(\d{8}T\d{6}Z)-(\d{16})\.swj$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
POSITION_PREFIX = "journal:"


class JournalError(Exception):
    """A journal that cannot be read at all (not a journal, a bad position)."""


def position_of(seq: int) -> str:
    """The opaque snapshot position: the sequence number of the first message *not* in the state."""
    return f"{POSITION_PREFIX}{seq}"


def parse_position(position: str) -> int:
    """The first sequence number to replay after a snapshot taken at ``position``."""
    if not position.startswith(POSITION_PREFIX) or not position[len(POSITION_PREFIX) :].isdigit():
        raise JournalError(f"not a journal position: {position!r}")
    return int(position[len(POSITION_PREFIX) :])


@dataclass(frozen=True, slots=True)
class Record:
    """One raw message as the live service received it."""

    seq: int
    payload: bytes
    received_at: datetime
    topic: str


@dataclass(frozen=True, slots=True)
class ChunkRef:
    """Where one chunk lies: enough for another process to read it alone."""

    path: Path
    offset: int
    length: int  # header included
    first_seq: int
    count: int


@dataclass(slots=True)
class ReadStats:
    """What a reader skipped: a torn last chunk is expected after a crash, a bad CRC is not."""

    records: int = 0
    chunks: int = 0
    torn: int = 0
    corrupt: int = 0
    unreadable: int = 0  # segments that could not be opened, or are not journal segments


def segment_name(first_seq: int, at: datetime) -> str:
    return f"{at.astimezone(UTC):%Y%m%dT%H%M%SZ}-{first_seq:016d}{SUFFIX}"


def segment_first_seq(path: Path) -> int | None:
    match = _NAME.match(path.name)
    return int(match.group(2)) if match else None


def segments(directory: Path) -> list[Path]:
    """The journal's segments, oldest first (by first sequence number)."""
    if not directory.is_dir():
        return []
    found = [(seq, p) for p in directory.iterdir() if (seq := segment_first_seq(p)) is not None]
    return [p for _, p in sorted(found)]


def journal_paths(paths: Sequence[Path]) -> list[Path]:
    """Directories expanded into their segments; files kept as given. Sorted by first sequence number."""
    out: list[Path] = []
    for path in paths:
        out.extend(segments(path) if path.is_dir() else [path])
    return sorted(out, key=lambda p: (segment_first_seq(p) or 0, p.name))


def is_journal(path: Path) -> bool:
    """A journal segment (or a directory of them)? Read from the file's first bytes, not its name."""
    if path.is_dir():
        return bool(segments(path))
    try:
        with path.open("rb") as f:
            return f.read(len(MAGIC)) == MAGIC
    except OSError:
        return False


# ---------------------------------------------------------------------- encoding
def encode_chunk(first_seq: int, records: Sequence[tuple[bytes, datetime, str]]) -> bytes:
    """One batch as a chunk: header + zlib stream of records."""
    parts: list[bytes] = []
    for payload, received_at, topic in records:
        us = (received_at - _EPOCH) // timedelta(microseconds=1)
        name = topic.encode("utf-8", "replace")[:65535]
        parts.append(_RECORD.pack(us, len(name), len(payload)))
        parts.append(name)
        parts.append(payload)
    body = zlib.compress(b"".join(parts), 1)  # level 1: cheap on the ingest path, AIS text still shrinks ~3x
    return _CHUNK.pack(CHUNK_MAGIC, len(body), zlib.crc32(body), first_seq, len(records)) + body


def _decode_body(first_seq: int, count: int, body: bytes) -> list[Record]:
    raw = zlib.decompress(body)
    out: list[Record] = []
    at = 0
    for i in range(count):
        us, tlen, plen = _RECORD.unpack_from(raw, at)
        at += _RECORD.size
        topic = raw[at : at + tlen].decode("utf-8", "replace")
        at += tlen
        payload = raw[at : at + plen]
        at += plen
        out.append(Record(first_seq + i, payload, _EPOCH + timedelta(microseconds=us), topic))
    return out


def decode_chunk(data: bytes, stats: ReadStats | None = None) -> list[Record]:
    """The records of one whole chunk held in memory (a row of the store's journal); a bad one is counted."""
    stats = stats if stats is not None else ReadStats()
    if len(data) < _CHUNK.size:
        stats.torn += 1
        return []
    magic, length, crc, first_seq, count = _CHUNK.unpack_from(data)
    body = data[_CHUNK.size :]
    if magic != CHUNK_MAGIC or len(body) != length or zlib.crc32(body) != crc:
        stats.corrupt += 1
        return []
    try:
        records = _decode_body(first_seq, count, body)
    except (zlib.error, struct.error):
        stats.corrupt += 1
        return []
    stats.chunks += 1
    stats.records += len(records)
    return records


# ----------------------------------------------------------------------- reading
def list_chunks(path: Path, stats: ReadStats | None = None) -> list[ChunkRef]:
    """A segment's chunks from their headers alone (nothing decompressed): the unit of a split replay."""
    stats = stats if stats is not None else ReadStats()
    refs: list[ChunkRef] = []
    try:
        f = path.open("rb")
    except OSError:
        stats.unreadable += 1
        return refs
    with f:
        if f.read(len(MAGIC)) != MAGIC:
            stats.unreadable += 1
            return refs
        size = os.fstat(f.fileno()).st_size
        offset = len(MAGIC)
        while offset < size:
            header = f.read(_CHUNK.size)
            if len(header) < _CHUNK.size:
                stats.torn += 1
                break
            magic, length, _crc, first_seq, count = _CHUNK.unpack(header)
            if magic != CHUNK_MAGIC:
                stats.corrupt += 1  # nothing after it can be trusted to line up
                break
            if offset + _CHUNK.size + length > size:
                stats.torn += 1
                break
            refs.append(ChunkRef(path, offset, _CHUNK.size + length, first_seq, count))
            offset += _CHUNK.size + length
            f.seek(offset)
    return refs


def read_chunk(ref: ChunkRef, stats: ReadStats | None = None) -> list[Record]:
    """The records of one chunk; a chunk that fails its CRC (or will not decompress) is counted, not raised."""
    stats = stats if stats is not None else ReadStats()
    try:
        with ref.path.open("rb") as f:
            f.seek(ref.offset)
            data = f.read(ref.length)
    except OSError:
        stats.unreadable += 1
        return []
    if len(data) < ref.length:
        stats.torn += 1
        return []
    return decode_chunk(data, stats)


def read_records(
    paths: Sequence[Path],
    start_seq: int = 0,
    stats: ReadStats | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Iterator[Record]:
    """Every record of these segments (or journal directories) from sequence number ``start_seq`` on.

    Segments and chunks wholly before ``start_seq`` are skipped from their names and
    headers. ``progress(bytes_done, bytes_total)`` is called after each chunk.
    """
    stats = stats if stats is not None else ReadStats()
    files = journal_paths(paths)
    # a segment ends where the next begins: skip those whose successor starts at or before start_seq
    firsts = [segment_first_seq(p) for p in files]
    total = 0
    for path in files:
        with contextlib.suppress(OSError):
            total += path.stat().st_size
    done = 0
    for i, path in enumerate(files):
        following = firsts[i + 1] if i + 1 < len(firsts) else None
        if following is not None and following <= start_seq:
            with contextlib.suppress(OSError):
                done += path.stat().st_size
            continue
        refs = list_chunks(path, stats)
        for ref in refs:
            if ref.first_seq + ref.count > start_seq:
                for record in read_chunk(ref, stats):
                    if record.seq >= start_seq:
                        yield record
            done += ref.length
            if progress is not None:
                progress(done, total)


def journal_end(directory: Path) -> int:
    """The sequence number after the last readable record (0 for an empty journal)."""
    for path in reversed(segments(directory)):
        refs = list_chunks(path)
        for ref in reversed(refs):
            if read_chunk(ref):
                return ref.first_seq + ref.count
        first = segment_first_seq(path)
        if refs and first is not None:
            return first
    return 0


# ----------------------------------------------------------------------- writing
@dataclass(slots=True)
class JournalFigures:
    """What ``/healthz`` and ``/metrics`` say about the journal."""

    appended: int = 0  # messages handed to the journal
    written: int = 0  # messages durable on disk
    batches: int = 0
    bytes_written: int = 0
    write_errors: int = 0
    lost: int = 0  # messages whose batch could not be written (acknowledged anyway)
    last_error: str | None = None
    failing_since: datetime | None = None
    segments: int = 0
    bytes_on_disk: int = 0
    removed_segments: int = 0


class ChunkWriter(Protocol):
    """Where :class:`FeedJournal` puts its batches: segments on disk, or rows of the store (failover)."""

    segments_on_disk: int
    bytes_on_disk: int
    removed: int

    def write(self, first_seq: int, records: Sequence[tuple[bytes, datetime, str]]) -> int: ...

    def disk_use(self) -> tuple[int, int]: ...

    def close(self) -> None: ...


class SegmentWriter:
    """Appends chunks to the current segment, rotates and trims: blocking, run in a worker thread."""

    def __init__(
        self,
        directory: Path,
        *,
        fsync: bool = True,
        segment_max_bytes: int = 64 * 1024 * 1024,
        segment_max_age_s: float = 3600.0,
        keep_days: float = 7.0,
        keep_bytes: int = 0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.directory = directory
        self.fsync = fsync
        self.segment_max_bytes = segment_max_bytes
        self.segment_max_age_s = segment_max_age_s
        self.keep_days = keep_days
        self.keep_bytes = keep_bytes
        self.clock = clock
        self._file: BinaryIO | None = None
        self._path: Path | None = None
        self._opened_at = 0.0
        self._size = 0
        self.segments_on_disk = 0  # as of the last rotation, plus what was written since
        self.bytes_on_disk = 0
        self.removed = 0

    @property
    def current(self) -> Path | None:
        return self._path

    def write(self, first_seq: int, records: Sequence[tuple[bytes, datetime, str]]) -> int:
        """Write one batch as one chunk, durable on return; the bytes written."""
        chunk = encode_chunk(first_seq, records)
        if self._file is None or self._due(len(chunk)):
            self.rotate(first_seq)
        f = self._file
        assert f is not None
        try:
            f.write(chunk)
            f.flush()
            if self.fsync:
                os.fsync(f.fileno())
        except OSError:
            self.close()  # a half-written chunk stays a torn chunk; the next batch opens a new segment
            raise
        self._size += len(chunk)
        self.bytes_on_disk += len(chunk)
        return len(chunk)

    def _due(self, incoming: int) -> bool:
        too_big = self._size > len(MAGIC) and self._size + incoming > self.segment_max_bytes
        too_old = time.monotonic() - self._opened_at >= self.segment_max_age_s
        return too_big or too_old

    def rotate(self, first_seq: int) -> None:
        """Close the current segment and open a new one starting at ``first_seq``; then apply retention."""
        self.close()
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / segment_name(first_seq, self.clock())
        # "wb": a segment of this name can only be one left without a readable record (every
        # record in it would be numbered first_seq or more, and numbering resumes after them)
        f = path.open("wb")
        try:
            f.write(MAGIC)
            f.flush()
            if self.fsync:
                os.fsync(f.fileno())
                _fsync_dir(self.directory)
        except OSError:
            f.close()
            raise
        self._file, self._path = f, path
        self._opened_at = time.monotonic()
        self._size = f.tell()
        self.removed += self.trim()
        self.segments_on_disk, self.bytes_on_disk = self.disk_use()

    def trim(self) -> int:
        """Retention: drop the oldest closed segments past ``keep_days`` or past ``keep_bytes`` in all."""
        files = segments(self.directory)
        closed = [p for p in files if p != self._path]
        sizes = {}
        for p in files:
            with contextlib.suppress(OSError):
                sizes[p] = p.stat().st_size
        total = sum(sizes.values())
        cutoff = time.time() - self.keep_days * 86400 if self.keep_days > 0 else None
        removed = 0
        for path in closed:
            try:
                mtime = path.stat().st_mtime
            except OSError:
                continue
            old = cutoff is not None and mtime < cutoff
            big = self.keep_bytes > 0 and total > self.keep_bytes
            if not (old or big):
                break  # oldest first: once one stays, the newer ones stay too
            with contextlib.suppress(OSError):
                path.unlink()
                total -= sizes.get(path, 0)
                removed += 1
        return removed

    def close(self) -> None:
        f, self._file = self._file, None
        if f is not None:
            with contextlib.suppress(OSError):
                f.close()

    def disk_use(self) -> tuple[int, int]:
        """(segments, bytes) in the directory."""
        count = size = 0
        for p in segments(self.directory):
            with contextlib.suppress(OSError):
                size += p.stat().st_size
                count += 1
        return count, size


def _fsync_dir(directory: Path) -> None:
    """Make a new file's name durable too (POSIX: fsync the directory)."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@dataclass(slots=True)
class _Pending:
    payload: bytes
    received_at: datetime
    topic: str
    release: Callable[[], None] | None


@dataclass(slots=True)
class FeedJournal:
    """The journal as the runtime uses it: ``append`` on the event loop, ``run`` writes batches off it.

    ``append`` numbers the message and takes a hold (the ``release`` it is given); ``run``
    (a supervised task) takes whatever is pending as one batch (group commit: while one
    batch is written the next gathers, so a small broker in-flight window still fills
    batches), waits at most ``batch_delay_s`` for more, writes it in a worker thread and
    releases the holds once it is durable.
    """

    writer: ChunkWriter
    next_seq: int = 0
    batch_max: int = 2000
    batch_delay_s: float = 0.005
    figures: JournalFigures = field(default_factory=JournalFigures)
    _pending: list[_Pending] = field(default_factory=list)
    _pending_first: int = 0
    _writing: int = 0
    _wake: asyncio.Event | None = None
    _lock: asyncio.Lock | None = None
    _durable: asyncio.Condition | None = None
    durable_seq: int = 0  # every message below this number is durable (or lost to a disk error)
    retry_on: tuple[type[Exception], ...] = ()
    """Errors after which a batch is kept and written again (its messages stay unacknowledged), not counted lost:
    the store's, when the journal lives there (failover): the broker then redelivers to whoever leads."""
    retry_s: float = 1.0
    _retry_len: int = 0  # a batch to write again is written again exactly: the same numbers, the same records
    _error_logged_at: float = 0.0

    def __post_init__(self) -> None:
        self._pending_first = self.next_seq
        self.durable_seq = self.next_seq

    def append(self, payload: bytes, received_at: datetime, topic: str, release: Callable[[], None] | None) -> int:
        """Queue one message for the next batch; its sequence number."""
        seq = self.next_seq
        if not self._pending:
            self._pending_first = seq
        self._pending.append(_Pending(payload, received_at, topic, release))
        self.next_seq = seq + 1
        self.figures.appended += 1
        if self._wake is not None:
            self._wake.set()
        return seq

    def resume_at(self, seq: int) -> None:
        """Number the next message ``seq`` (at start, once the journal before it has been replayed)."""
        assert not self._pending, "resume before anything is appended"
        self.next_seq = self._pending_first = self.durable_seq = seq

    @property
    def lag(self) -> int:
        """Messages received but not yet durable in the journal."""
        return len(self._pending) + self._writing

    async def run(self) -> None:
        """Write batches until cancelled; a failing disk is counted and logged, never raised."""
        self._wake = self._wake or asyncio.Event()
        self._durable = self._durable or asyncio.Condition()
        await asyncio.to_thread(self._refresh_disk_use)
        while True:
            if not self._pending:
                self._wake.clear()
                await self._wake.wait()
            await self._gather()
            if not await self.flush_once():
                await asyncio.sleep(self.retry_s)

    async def _gather(self) -> None:
        """Let a batch grow while messages keep coming, for at most ``batch_delay_s``.

        One turn of the event loop hands over what the broker's socket holds; a turn that
        brought nothing new means the feed paused, or the broker's in-flight window is full
        and it waits for acknowledgements (20 with stock Mosquitto): then waiting longer
        would only hold the feed back, so the batch is written at once.
        """
        deadline = time.monotonic() + self.batch_delay_s
        while len(self._pending) < self.batch_max and time.monotonic() < deadline:
            before = self.next_seq
            await asyncio.sleep(0)
            if self.next_seq == before:
                return

    async def flush_once(self) -> bool:
        """Write what is pending now (up to ``batch_max``) and release its holds; False if it is to be retried."""
        self._lock = self._lock or asyncio.Lock()
        async with self._lock:  # the writer task and a stop's drain never write at once
            return await self._flush_locked()

    async def _flush_locked(self) -> bool:
        if not self._pending:
            return True
        size = self._retry_len or self.batch_max
        batch = self._pending[:size]
        del self._pending[:size]
        first = self._pending_first
        self._pending_first = first + len(batch)
        self._writing = len(batch)
        try:
            written = await asyncio.to_thread(
                self.writer.write, first, [(p.payload, p.received_at, p.topic) for p in batch]
            )
        except self.retry_on as exc:
            self._pending[:0] = batch  # kept, unacknowledged: written again, or redelivered to the next leader
            self._pending_first = first
            # the same batch next time: a write that did commit (the answer lost) then meets itself
            self._retry_len = len(batch)
            self._failed(exc, 0)
            return False
        except OSError as exc:
            self._failed(exc, len(batch))
        except BaseException:
            # cancelled (or a bug) mid-write: put the batch back so the next run writes it
            self._pending[:0] = batch
            self._pending_first = first
            raise
        else:
            self._retry_len = 0
            f = self.figures
            f.written += len(batch)
            f.batches += 1
            f.bytes_written += written
            f.failing_since = None
        finally:
            self._writing = 0
            self._note_disk_use()
        for item in batch:
            if item.release is not None:
                item.release()
        self.durable_seq = first + len(batch)
        if self._durable is not None:
            async with self._durable:
                self._durable.notify_all()
        return True

    def _failed(self, exc: Exception, count: int) -> None:
        f = self.figures
        f.write_errors += 1
        f.lost += count
        f.last_error = f"{type(exc).__name__}: {exc}"
        if f.failing_since is None:
            f.failing_since = datetime.now(UTC)
        now = time.monotonic()
        if now - self._error_logged_at >= 60:  # one line a minute while the disk fails, not one per batch
            self._error_logged_at = now
            if count:
                log.error(
                    "journal write failed (%s): %d message(s) acknowledged without being journalled; ingest goes on",
                    f.last_error,
                    count,
                )
            else:
                log.error("journal write failed (%s): the batch is kept and written again", f.last_error)

    async def durable_through(self, seq: int, timeout_s: float | None = None) -> bool:
        """Wait until every message below ``seq`` is durable (or given up to a disk error)."""
        if self.durable_seq >= seq:
            return True
        self._durable = self._durable or asyncio.Condition()
        durable = self._durable

        async def wait() -> None:
            async with durable:
                await durable.wait_for(lambda: self.durable_seq >= seq)

        try:
            await asyncio.wait_for(wait(), timeout_s)
        except TimeoutError:
            return False
        return True

    async def drain(self, timeout_s: float) -> bool:
        """At a stop: write everything pending now (the writer task may already be gone)."""
        deadline = time.monotonic() + timeout_s
        while self._pending and time.monotonic() < deadline:
            if not await self.flush_once():
                await asyncio.sleep(min(self.retry_s, max(0.0, deadline - time.monotonic())))
        return not self._pending

    def _refresh_disk_use(self) -> None:
        self.writer.segments_on_disk, self.writer.bytes_on_disk = self.writer.disk_use()
        self._note_disk_use()

    def _note_disk_use(self) -> None:
        f, w = self.figures, self.writer
        f.segments, f.bytes_on_disk, f.removed_segments = w.segments_on_disk, w.bytes_on_disk, w.removed

    def close(self) -> None:
        self.writer.close()
