"""Analyst replay: the live pipeline over logs, with filters, progress, a summary and tracks.

The very :class:`~seawatch.core.pipeline.Pipeline` and watch that live ingest runs are
fed line by line, so a replay raises what live would have raised. What this module adds
is what an analyst needs around it: an event-time window (``since``/``until``), output
filters by MMSI and zone (the whole pipeline still sees every vessel, so a rendezvous
with a vessel outside the filter is still found), pacing in scaled real time, a
progress line with rate and ETA, a summary, and the tracks for the report and exports.

Memory stays bounded whatever the archive's size: lines stream from disk (gzip too),
the fleet forgets vessels by its own rules, and kept tracks are thinned to one point
per ``track_every_s`` and capped per vessel.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TextIO

from seawatch.adapters.files import (
    ReadProgress,
    is_csv,
    iter_csv_reports,
    iter_log_lines,
    merged_log_payloads,
)
from seawatch.adapters.journal import ReadStats, is_journal, journal_paths, read_records
from seawatch.core.alerts import AlertEvent, EventType, VesselInfo
from seawatch.core.fleet import TrackPoint
from seawatch.core.formats.csv import CsvStats
from seawatch.core.lines import line_time
from seawatch.core.model import PositionReport, Report
from seawatch.core.pipeline import Pipeline


@dataclass(slots=True)
class ReplayFilter:
    since: datetime | None = None
    until: datetime | None = None
    mmsis: frozenset[int] = frozenset()  # empty: every vessel
    zones: frozenset[str] = frozenset()  # empty: anywhere

    def keeps_time(self, when: datetime | None) -> bool:
        if when is None:
            return True
        if self.since is not None and when < self.since:
            return False
        return self.until is None or when < self.until

    def keeps_alert(self, event: AlertEvent) -> bool:
        if self.mmsis:
            involved = {event.mmsi, event.other.mmsi if event.other else None}
            if not (involved & self.mmsis):
                return False
        return not self.zones or (event.zone is not None and event.zone.id in self.zones)

    def keeps_vessel(self, mmsi: int) -> bool:
        return not self.mmsis or mmsi in self.mmsis


@dataclass
class ReplaySummary:
    lines: int = 0
    skipped_by_time: int = 0
    alert_events: int = 0
    opened: Counter[tuple[str, str]] = field(default_factory=Counter)  # (kind, zone) -> alerts opened
    vessels_seen: set[int] = field(default_factory=set)
    untimed_reports: int = 0  # reports whose line carried no time at all
    journal_torn: int = 0  # journal chunks cut short by a crash mid-write (skipped)
    journal_corrupt: int = 0  # journal chunks that failed their checksum (skipped)
    elapsed_s: float = 0.0

    def table(self, rejects: Counter[str]) -> str:
        """The summary an analyst reads first: alerts by kind and zone, vessels, rejected input."""
        out = [
            f"{'kind':<16}{'zone':<46}{'opened':>8}",
            f"{'-' * 16}{'-' * 46}{'-' * 8}",
        ]
        for (kind, zone), n in sorted(self.opened.items()):
            out.append(f"{kind:<16}{zone[:45]:<46}{n:>8,}")
        if not self.opened:
            out.append("(no alerts)")
        out.append("")
        out.append(
            f"vessels seen: {len(self.vessels_seen):,}; lines: {self.lines:,}; alert events: {self.alert_events:,}"
        )
        if self.skipped_by_time:
            out.append(f"lines outside --since/--until: {self.skipped_by_time:,}")
        if self.untimed_reports:
            out.append(
                f"reports without any timestamp: {self.untimed_reports:,} (judged at the last event time seen, "
                "or 1970-01-01 before any; loitering, drifting, dark, rendezvous and ETAs need timestamps)"
            )
        if self.journal_torn or self.journal_corrupt:
            out.append(f"journal chunks skipped: {self.journal_torn:,} torn, {self.journal_corrupt:,} corrupt")
        total = sum(rejects.values())
        detail = ", ".join(f"{reason} {n:,}" for reason, n in rejects.most_common()) or "none"
        out.append(f"rejected input: {total:,} ({detail})")
        return "\n".join(out)


class TrackKeeper:
    """Tracks for the report and exports: thinned, capped, only for the vessels the filter keeps."""

    def __init__(self, replay_filter: ReplayFilter, every_s: float = 60.0, max_points: int = 2000) -> None:
        self.filter = replay_filter
        self.every_s = every_s
        self.max_points = max_points
        self.tracks: dict[int, list[TrackPoint]] = {}
        self.vessels: dict[int, VesselInfo] = {}

    def note(self, report: Report) -> None:
        if type(report) is not PositionReport or report.lat is None or report.lon is None:
            return
        mmsi = report.mmsi
        if not self.filter.keeps_vessel(mmsi):
            return
        track = self.tracks.get(mmsi)
        if track is None:
            track = self.tracks[mmsi] = []
        when = report.observed_at
        last = track[-1].t if track else None
        if when is not None and last is not None and (when - last).total_seconds() < self.every_s:
            return
        if len(track) >= self.max_points:
            del track[1::2]  # halve the resolution rather than lose the start of the voyage
        track.append(TrackPoint(when, report.lat, report.lon, report.sog_kn, report.cog_deg))

    def finish(self, pipeline: Pipeline) -> None:
        for mmsi in self.tracks:
            vessel = pipeline.fleet.get(mmsi)
            if vessel is not None:
                self.vessels[mmsi] = VesselInfo(
                    mmsi, vessel.name, vessel.ship_type, vessel.length_m, vessel.ais_class, vessel.callsign, vessel.imo
                )
            else:
                self.vessels[mmsi] = VesselInfo(mmsi)


class Progress:
    """One status line on stderr: file, percent, lines/s, alerts, ETA (only at a terminal)."""

    def __init__(self, stream: TextIO, enabled: bool, total_bytes: int) -> None:
        self.stream = stream
        self.enabled = enabled
        self.total_bytes = max(1, total_bytes)
        self.started = time.monotonic()
        self.last = 0.0

    def show(self, name: str, done_bytes: int, lines: int, events: int, force: bool = False) -> None:
        """``done_bytes``: of all the files, how many bytes were read (finished files included)."""
        now = time.monotonic()
        if not self.enabled or (not force and now - self.last < 0.5):
            return
        self.last = now
        done = done_bytes
        fraction = min(1.0, done / self.total_bytes)
        elapsed = now - self.started
        rate = lines / elapsed if elapsed > 0 else 0.0
        eta = elapsed * (1 - fraction) / fraction if fraction > 0.001 else float("nan")
        eta_text = "--:--" if eta != eta else time.strftime("%H:%M:%S", time.gmtime(eta))
        bar = "#" * int(fraction * 20)
        self.stream.write(
            f"\r  [{bar:<20}] {fraction * 100:5.1f}%  {name[:30]}  {lines:,} lines  {rate:,.0f} lines/s  "
            f"{events:,} alert events  ETA {eta_text}   "
        )
        self.stream.flush()

    def end(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


def replay(
    paths: Sequence[Path],
    pipeline: Pipeline,
    write: Callable[[AlertEvent], None],
    *,
    replay_filter: ReplayFilter | None = None,
    speed: float | None = None,
    tracks: TrackKeeper | None = None,
    progress: bool | None = None,
    csv_stats: CsvStats | None = None,
) -> ReplaySummary:
    """Feed ``paths`` through ``pipeline``; hand kept alert events to ``write``.

    Journal segments (or directories of them) are read first, in sequence order, each
    message fed as live ingest fed it; then CSV files, each whole; NMEA logs after them,
    one line at a time if there is one, merged in event time if there are several (the
    same order ``--publish`` and the demo send them in, so a live instance fed the same
    logs sees the same sea).
    """
    flt = replay_filter or ReplayFilter()
    summary = ReplaySummary()
    stats = csv_stats or CsvStats()
    show = Progress(sys.stderr, sys.stderr.isatty() if progress is None else progress, _total_bytes(paths))
    started = time.monotonic()
    pace = _Pacer(speed)

    def drain(events: list[AlertEvent]) -> None:
        for event in events:
            if flt.keeps_alert(event):
                summary.alert_events += 1
                if event.event is EventType.OPENED:
                    summary.opened[(event.kind.value, event.zone.name if event.zone else "-")] += 1
                write(event)

    journals = [p for p in paths if is_journal(p)]
    if journals:
        _replay_journal(journals, pipeline, drain, flt, pace, summary, show, tracks)
        paths = [p for p in paths if p not in journals]
    for path in [p for p in paths if is_csv(p)]:
        rows_before = stats.rows
        for report in iter_csv_reports(path, stats, source=""):
            if not flt.keeps_time(report.observed_at):
                summary.skipped_by_time += 1
                continue
            pace.wait(report.observed_at)
            events = pipeline.apply(report)
            _seen(summary, report, tracks, pipeline)
            if events:
                drain(events)
        summary.lines += stats.rows - rows_before  # rows, bad ones included, as decode counts them
    logs = [p for p in paths if not is_csv(p)]
    if len(logs) == 1:
        # one log: line by line, blank lines and all, so its reject counts match the file
        path, read = logs[0], ReadProgress()
        for line in iter_log_lines(path, read):
            summary.lines += 1
            if flt.since is not None or flt.until is not None or speed:
                when = line_time(line)
                if not flt.keeps_time(when):
                    summary.skipped_by_time += 1
                    continue
                pace.wait(when)
            fed = pipeline.feed(line)
            for report in fed.reports:
                _seen(summary, report, tracks, pipeline)
            if fed.events:
                drain(fed.events)
            if summary.lines & 1023 == 0:
                show.show(path.name, read.done, summary.lines, summary.alert_events)
        show.show(path.name, read.total, summary.lines, summary.alert_events, force=True)
    elif logs:
        # several logs (receivers, days): merged in event time, as a broker would have delivered them live
        reads = [ReadProgress() for _ in logs]
        name = f"{len(logs)} logs merged"
        for payload, when in merged_log_payloads(logs, reads):
            if not flt.keeps_time(when):
                summary.skipped_by_time += payload.count(b"\n") + 1
                continue
            pace.wait(when)
            for line in payload.split(b"\n"):
                summary.lines += 1
                fed = pipeline.feed(line)
                for report in fed.reports:
                    _seen(summary, report, tracks, pipeline)
                if fed.events:
                    drain(fed.events)
                if summary.lines & 1023 == 0:
                    show.show(name, sum(r.done for r in reads), summary.lines, summary.alert_events)
        show.show(name, sum(r.total for r in reads), summary.lines, summary.alert_events, force=True)
    drain(pipeline.finish())
    show.end()
    if tracks is not None:
        tracks.finish(pipeline)
    summary.elapsed_s = time.monotonic() - started
    return summary


def _replay_journal(
    journals: Sequence[Path],
    pipeline: Pipeline,
    drain: Callable[[list[AlertEvent]], None],
    flt: ReplayFilter,
    pace: _Pacer,
    summary: ReplaySummary,
    show: Progress,
    tracks: TrackKeeper | None,
) -> None:
    """Journal segments (or their directories): each message as live ingest fed it, payload, arrival time and topic.

    The time filter and pacing go by the message's first line's time, else its arrival.
    """
    stats = ReadStats()
    done = [0]

    def progress(read: int, _total: int) -> None:
        done[0] = read

    name = f"journal ({len(journals)})"
    timed = flt.since is not None or flt.until is not None or pace.speed
    for record in read_records(journals, 0, stats, progress):
        summary.lines += 1
        if timed:
            when = line_time(record.payload.split(b"\n", 1)[0]) or record.received_at
            if not flt.keeps_time(when):
                summary.skipped_by_time += 1
                continue
            pace.wait(when)
        fed = pipeline.feed_payload(record.payload, record.received_at, record.topic)
        for report in fed.reports:
            _seen(summary, report, tracks, pipeline)
        if fed.events:
            drain(fed.events)
        if summary.lines & 1023 == 0:
            show.show(name, done[0], summary.lines, summary.alert_events)
    show.show(name, done[0], summary.lines, summary.alert_events, force=True)
    summary.journal_torn += stats.torn
    summary.journal_corrupt += stats.corrupt


def _seen(summary: ReplaySummary, report: Report, tracks: TrackKeeper | None, pipeline: Pipeline) -> None:
    if report.observed_at is None:
        summary.untimed_reports += 1
    if type(report) is PositionReport:
        summary.vessels_seen.add(report.mmsi)
        if tracks is not None:
            tracks.note(report)


def _total_bytes(paths: Sequence[Path]) -> int:
    total = 0
    for path in journal_paths(paths):  # a journal directory counts as its segments
        with contextlib.suppress(OSError):
            total += path.stat().st_size
    return total


class _Pacer:
    """Scaled real time: event time runs ``speed`` times faster than the wall clock."""

    def __init__(self, speed: float | None) -> None:
        self.speed = speed
        self.first_event: datetime | None = None
        self.first_wall = 0.0

    def wait(self, when: datetime | None) -> None:
        if not self.speed or when is None:
            return
        if self.first_event is None:
            self.first_event = when
            self.first_wall = time.monotonic()
            return
        due = self.first_wall + (when - self.first_event).total_seconds() / self.speed
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
