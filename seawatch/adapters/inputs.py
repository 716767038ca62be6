"""Every replay input as a stream of the same items, in the order replay feeds them.

Replay reads five kinds of input: feed-journal segments (each message as live ingest got
it: payload, arrival time, topic), the journal a failover pair keeps in its store, CSV
exports (reports, row by row), one NMEA log (line by line) and several NMEA logs (merged
in event time, as a broker would have delivered them). Each becomes an
:class:`InputStream` of :data:`Item` tuples, so one loop
(:func:`seawatch.analyst.replay.replay`) feeds them all with the same filter, pacing,
progress and summary.

Items are plain tuples, not objects: a replay makes one per line of archives with
millions of lines.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Final

from seawatch.adapters.files import (
    ReadProgress,
    is_csv,
    iter_csv_reports,
    iter_log_lines,
    merged_log_payloads,
)
from seawatch.adapters.journal import ReadStats, is_journal, read_records
from seawatch.core.formats.csv import CsvStats
from seawatch.core.lines import line_time
from seawatch.core.model import Report

LINE: Final = 0  # a log line: Pipeline.feed(line)
PAYLOAD: Final = 1  # a journal record: Pipeline.feed_record(payload, received_at, source)
REPORT: Final = 2  # a pre-decoded report (a CSV row's): Pipeline.apply(report)

# (kind, bytes of a line or payload, the report of a REPORT item, event time for the time
# filter and pacing, arrival time, source). The event time is looked for only when the
# stream was opened ``timed``; None otherwise, or when the input carries none.
Item = tuple[int, bytes, Report | None, datetime | None, datetime | None, str]


class InputStream:
    """One input's items, with how far through it the reading is, for progress and the summary.

    ``lines`` counts the input's lines (CSV rows, journal messages) read so far. Merged
    logs count only the lines that were fed (``counts_skipped`` False): lines outside the
    time window are counted apart, as they always were for several logs.
    """

    counts_skipped = True

    def __init__(self, name: str) -> None:
        self.name = name
        self.lines = 0
        self.journal = ReadStats()  # chunks skipped, for journals

    def __iter__(self) -> Iterator[Item]:
        raise NotImplementedError

    def done_bytes(self) -> int:
        """Bytes of the input's files read so far (compressed bytes for gzip)."""
        raise NotImplementedError

    def total_bytes(self) -> int:
        """What ``done_bytes`` says at the end."""
        return self.done_bytes()


class _JournalStream(InputStream):
    def __init__(self, paths: Sequence[Path], timed: bool) -> None:
        super().__init__(f"journal ({len(paths)})")
        self.paths = paths
        self.timed = timed
        self._done = 0

    def _progress(self, done: int, _total: int) -> None:
        self._done = done

    def __iter__(self) -> Iterator[Item]:
        timed = self.timed
        for record in read_records(self.paths, 0, self.journal, self._progress):
            self.lines += 1
            # the message's first line's time, else its arrival
            when = (line_time(record.payload.split(b"\n", 1)[0]) or record.received_at) if timed else None
            yield PAYLOAD, record.payload, None, when, record.received_at, record.topic

    def done_bytes(self) -> int:
        return self._done


class _StoreJournalStream(InputStream):
    """The feed journal a failover pair keeps in its store (docs/failover.md), oldest record first."""

    def __init__(self, store_url: str, timed: bool) -> None:
        super().__init__("journal in the store")
        self.store_url = store_url
        self.timed = timed
        self._done = 0

    def __iter__(self) -> Iterator[Item]:
        from seawatch.adapters.store import AlertStore
        from seawatch.adapters.storejournal import store_records

        timed = self.timed
        store = AlertStore(self.store_url)  # StoreError (one line, no password) if it cannot be opened
        try:
            start, _end, _chunks, _size = store.journal_bounds()
            for record in store_records(store, start, self.journal):
                self.lines += 1
                self._done += len(record.payload)
                when = (line_time(record.payload.split(b"\n", 1)[0]) or record.received_at) if timed else None
                yield PAYLOAD, record.payload, None, when, record.received_at, record.topic
        finally:
            store.close()

    def done_bytes(self) -> int:
        return self._done


class _CsvStream(InputStream):
    def __init__(self, path: Path, stats: CsvStats) -> None:
        super().__init__(path.name)
        self.path = path
        self.stats = stats
        self.read = ReadProgress()

    def __iter__(self) -> Iterator[Item]:
        stats = self.stats
        rows_before = stats.rows
        for report in iter_csv_reports(self.path, stats, source="", progress=self.read):
            self.lines = stats.rows - rows_before  # rows, bad ones included, as decode counts them
            yield REPORT, b"", report, report.observed_at, None, ""
        self.lines = stats.rows - rows_before

    def done_bytes(self) -> int:
        return self.read.done

    def total_bytes(self) -> int:
        return self.read.total


class _LogStream(InputStream):
    """One log, line by line, blank lines and all, so its reject counts match the file."""

    def __init__(self, path: Path, timed: bool) -> None:
        super().__init__(path.name)
        self.path = path
        self.timed = timed
        self.read = ReadProgress()

    def __iter__(self) -> Iterator[Item]:
        timed = self.timed
        for line in iter_log_lines(self.path, self.read):
            self.lines += 1
            yield LINE, line, None, line_time(line) if timed else None, None, ""

    def done_bytes(self) -> int:
        return self.read.done

    def total_bytes(self) -> int:
        return self.read.total


class _MergedLogStream(InputStream):
    """Several logs (receivers, days) merged in event time; a message's lines share its time."""

    counts_skipped = False

    def __init__(self, paths: Sequence[Path]) -> None:
        super().__init__(f"{len(paths)} logs merged")
        self.paths = paths
        self.reads = [ReadProgress() for _ in paths]

    def __iter__(self) -> Iterator[Item]:
        for payload, when in merged_log_payloads(self.paths, self.reads):
            for line in payload.split(b"\n"):
                self.lines += 1
                yield LINE, line, None, when, None, ""

    def done_bytes(self) -> int:
        return sum(r.done for r in self.reads)

    def total_bytes(self) -> int:
        return sum(r.total for r in self.reads)


def input_streams(
    paths: Sequence[Path], csv_stats: CsvStats, *, timed: bool, store_url: str | None = None
) -> Iterator[InputStream]:
    """The streams of ``paths`` in replay order: journals, then each CSV, then the NMEA logs.

    ``store_url``: first, the journal kept in that store (a failover pair's), as far back as
    it reaches.

    Journal segments (or directories of them) come first, in sequence order; then CSV
    files, each whole; NMEA logs after them, one line at a time if there is one, merged in
    event time if there are several (the same order ``--publish`` and the demo send them
    in, so a live instance fed the same logs sees the same sea). A file is classified when
    its turn comes, so an unreadable CSV stops the replay after the journals, not before.
    ``timed``: look for each item's event time (a time window or pacing needs it).
    """
    if store_url is not None:
        yield _StoreJournalStream(store_url, timed)
    journals = [p for p in paths if is_journal(p)]
    if journals:
        yield _JournalStream(journals, timed)
        paths = [p for p in paths if p not in journals]
    csvs = [p for p in paths if is_csv(p)]
    for path in csvs:
        yield _CsvStream(path, csv_stats)
    logs = [p for p in paths if p not in csvs]
    if len(logs) == 1:
        yield _LogStream(logs[0], timed)
    elif logs:
        yield _MergedLogStream(logs)
