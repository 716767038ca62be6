"""Read AIS from files: NMEA logs (plain or gzip) and pre-decoded CSV exports.

Replay must see the same reports live ingest would, so this module only gets bytes
off the disk: NMEA lines go to :class:`seawatch.core.decode.Decoder` unchanged, and CSV
lines to :mod:`seawatch.core.formats.csv`, which maps their columns onto the core's
reports with the decoder's rules (sentinels -> None, invalid MMSIs kept and flagged).

Files are streamed: a day of AIS for a busy coast is gigabytes, so nothing here
reads a whole file, and a line longer than :data:`MAX_LINE_BYTES` (a binary file
mistaken for a log, a logger that lost its newlines) is cut short rather than
buffered whole. A gzip file is recognised by its magic bytes, not its name, because
rotated logs are often compressed without being renamed.
"""

from __future__ import annotations

import contextlib
import gzip
import heapq
import logging
import os
import zlib
from collections.abc import Generator, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Protocol

from seawatch.core.formats import csv as csvformat
from seawatch.core.formats.csv import CsvStats
from seawatch.core.lines import line_time
from seawatch.core.model import Report

log = logging.getLogger(__name__)

MAX_LINE_BYTES: Final = 64 * 1024
"""Longest line kept; the rest of a longer line is skipped (NMEA sentences are < 100 bytes)."""

_GZIP_MAGIC: Final = b"\x1f\x8b"
_EPOCH: Final = datetime.min.replace(tzinfo=UTC)  # sorts a log's untimed first lines first
_MAX_GROUPED_LINES: Final = 16  # lines held for one message's parts (at most 9 in AIS, plus $PGHP lines)


class SourceError(Exception):
    """A file could not be opened or read; the message names the file."""


class _LineSource(Protocol):
    """What reading needs of a plain or a gzip file."""

    def readline(self, size: int, /) -> bytes: ...


# ------------------------------------------------------------------ opening files
def _cannot_read(path: Path, exc: BaseException) -> SourceError:
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return SourceError(f"cannot read {str(path)!r}: {reason or type(exc).__name__}")


@contextlib.contextmanager
def _open_binary(path: Path) -> Iterator[_LineSource]:
    """Open ``path`` for reading bytes, decompressing on the fly if it is gzip."""
    try:
        raw = open(path, "rb")  # noqa: SIM115 - closed by the ExitStack below
    except OSError as exc:
        raise _cannot_read(path, exc) from exc
    with contextlib.ExitStack() as stack:
        stack.enter_context(raw)
        try:
            magic = raw.peek(2)[:2]
        except OSError as exc:  # a directory opens on some systems, then fails here
            raise _cannot_read(path, exc) from exc
        if magic == _GZIP_MAGIC:
            yield stack.enter_context(gzip.GzipFile(fileobj=raw, mode="rb"))
        else:
            yield raw


class ReadProgress:
    """How far through its file a reader is, in bytes *of the file* (compressed bytes for .gz).

    Updated every few thousand lines, so a progress bar can show a fraction and an ETA
    for archives of any size without knowing their line count.
    """

    __slots__ = ("done", "total")

    def __init__(self) -> None:
        self.done = 0
        self.total = 0


def _raw_lines(path: Path, progress: ReadProgress | None = None) -> Generator[bytes, None, None]:
    """Lines with their terminators, each at most :data:`MAX_LINE_BYTES` long."""
    cut = 0
    with _open_binary(path) as stream:
        readline = stream.readline
        raw: Any = getattr(stream, "fileobj", None) or stream  # the file under a GzipFile
        if progress is not None:
            progress.total = os.fstat(raw.fileno()).st_size
            progress.done = 0
        count = 0
        skipping = False
        while True:
            try:
                line = readline(MAX_LINE_BYTES)
            except (OSError, EOFError, zlib.error) as exc:
                # A truncated .gz (a log copied while being written) ends here, after
                # every complete line has been yielded.
                raise _cannot_read(path, exc) from exc
            if not line:
                break
            if progress is not None:
                count += 1
                if count & 4095 == 0:
                    progress.done = raw.tell()
            if skipping:
                skipping = line[-1:] != b"\n"
                continue
            if len(line) == MAX_LINE_BYTES and line[-1:] != b"\n":
                skipping = True
                cut += 1
            yield line
    if progress is not None:
        progress.done = progress.total
    if cut:
        log.warning("%s: %d lines longer than %d bytes were cut short", path, cut, MAX_LINE_BYTES)


def iter_log_lines(path: Path, progress: ReadProgress | None = None) -> Iterator[bytes]:
    """Yield each line of an NMEA log, plain or gzip, without its line terminator.

    Every line is yielded, blank ones included, so the decoder's line count matches
    the file. Raises :class:`SourceError` if the file cannot be opened or read.
    """
    for line in _raw_lines(path, progress):
        yield line.rstrip(b"\r\n")


def _leading_fragment(line: bytes) -> bool:
    """A part of a multipart sentence that is not its last (``!AIVDM,2,1,…``)."""
    start = line.find(b"!")
    if start < 0:
        return False
    fields = line[start : start + 24].split(b",", 4)
    if len(fields) < 4 or not (fields[1].isdigit() and fields[2].isdigit()):
        return False
    return 1 <= int(fields[2]) < int(fields[1])


def log_payloads(lines: Iterable[bytes]) -> Iterator[tuple[bytes, datetime | None]]:
    """Group a log into payloads with their event time.

    A Gatehouse ``$PGHP`` line travels with its sentence, and the parts of a multipart
    sentence travel together: merged with another receiver's log, or published, the parts
    of two messages with the same sequence id must never interleave. Blank lines are
    dropped. A payload's time is the latest time any of its lines carries (tag block,
    timestamp column or ``$PGHP``), or None.
    """
    held: list[bytes] = []
    for line in lines:
        if not line.strip():
            continue
        held.append(line)
        if line.startswith(b"$PGHP") or (_leading_fragment(line) and len(held) < _MAX_GROUPED_LINES):
            continue
        when = None
        for item in held:
            when = line_time(item) or when
        yield b"\n".join(held), when
        held = []
    if held:
        yield b"\n".join(held), None


def merged_log_payloads(
    paths: Sequence[Path], progress: Sequence[ReadProgress] | None = None
) -> Iterator[tuple[bytes, datetime | None]]:
    """Several logs as one, in event time (untimed payloads keep their place within their file).

    Several receivers' logs of the same hours become the one sea they saw, as a live
    broker would have delivered them. ``progress`` (one per path) follows each file.
    """
    streams = []
    for index, path in enumerate(paths):
        read = progress[index] if progress is not None else None

        def keyed(path: Path = path, index: int = index, read: ReadProgress | None = read) -> Iterator[Any]:
            last = _EPOCH
            for n, (payload, when) in enumerate(log_payloads(iter_log_lines(path, read))):
                if when is not None:
                    last = when
                yield (last, index, n, payload, when)

        streams.append(keyed())
    for _, _, _, payload, when in heapq.merge(*streams):
        yield payload, when


# ------------------------------------------------------------------ CSV files
def is_csv(path: Path) -> bool:
    """True if ``path`` (plain or gzip) starts with a MarineCadastre or DMA CSV header.

    Raises :class:`SourceError` if the file cannot be read, so that a typo in a
    replay's file list is reported as such rather than as "not a CSV", and for a CSV
    with a required column missing, which must not be read as NMEA, every row a silent reject.
    """
    with contextlib.closing(_raw_lines(path)) as lines:
        first = next(lines, b"")
    try:
        return csvformat.is_csv_header(first, path.name.lower().removesuffix(".gz").endswith(".csv"))
    except csvformat.MissingColumnsError as exc:
        raise SourceError(
            f"{str(path)!r} is a CSV without the column(s) it needs: {exc.missing} ({csvformat.REQUIRED_HINT})"
        ) from None


def iter_csv_reports(
    path: Path, stats: CsvStats, *, source: str = "", progress: ReadProgress | None = None
) -> Iterator[Report]:
    """Yield the reports of a MarineCadastre or DMA CSV (plain or gzip): its rows as the core reads them.

    Raises :class:`SourceError` if the file cannot be read or its header is not one
    of the known layouts.
    """
    with contextlib.closing(_raw_lines(path, progress)) as lines:
        first = next(lines, b"")
        if not first.strip():
            return
        header = csvformat.parse_header(first)
        if header is None:
            text = first[:200].decode("utf-8", "replace").strip()
            raise SourceError(f"{str(path)!r} is not a MarineCadastre or DMA CSV (header: {text!r})")
        yield from csvformat.reports(header, lines, stats, source)
