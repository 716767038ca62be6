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
import logging
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TextIO

from sqlalchemy.exc import SQLAlchemyError

from seawatch.adapters.inputs import LINE, PAYLOAD, input_streams
from seawatch.adapters.journal import journal_paths
from seawatch.adapters.store import StoreError
from seawatch.core.alerts import AlertEvent, EventType, VesselInfo
from seawatch.core.fleet import TrackPoint
from seawatch.core.formats.csv import CsvStats
from seawatch.core.model import PositionReport, Report
from seawatch.core.pipeline import Pipeline

log = logging.getLogger(__name__)


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
    store_url: str | None = None,
) -> ReplaySummary:
    """Feed ``paths`` (and the journal kept in the store at ``store_url``) through ``pipeline``; events to ``write``.

    Every input is a stream of the same items (:mod:`seawatch.adapters.inputs`, which says
    in what order they come); this one loop feeds them all, with the time window, pacing,
    progress and summary.
    """
    flt = replay_filter or ReplayFilter()
    summary = ReplaySummary()
    stats = csv_stats or CsvStats()
    show = Progress(sys.stderr, sys.stderr.isatty() if progress is None else progress, _total_bytes(paths))
    started = time.monotonic()
    pace = _Pacer(speed)
    timed = flt.since is not None or flt.until is not None or bool(speed)
    keeps_time, keeps_alert = flt.keeps_time, flt.keeps_alert
    feed, feed_record, apply = pipeline.feed, pipeline.feed_record, pipeline.apply

    def drain(events: list[AlertEvent]) -> None:
        for event in events:
            if keeps_alert(event):
                summary.alert_events += 1
                if event.event is EventType.OPENED:
                    summary.opened[(event.kind.value, event.zone.name if event.zone else "-")] += 1
                write(event)

    for stream in input_streams(paths, stats, timed=timed, store_url=store_url):
        before = summary.lines
        skipped = 0  # items outside the time window, taken off the lines of a stream that does not count them
        uncounted = 0 if stream.counts_skipped else 1
        for kind, data, report, when, received_at, source in stream:
            if timed:
                if not keeps_time(when):
                    summary.skipped_by_time += 1
                    skipped += uncounted
                    continue
                pace.wait(when)
            if kind == LINE:
                fed = feed(data)
                reports, events = fed.reports, fed.events
            elif kind == PAYLOAD:
                fed = feed_record(data, received_at, source)  # a journal record: a message or an operator's action
                reports, events = fed.reports, fed.events
            else:
                assert report is not None
                reports, events = [report], apply(report)
            for seen in reports:
                _seen(summary, seen, tracks, pipeline)
            if events:
                drain(events)
            summary.lines = before + stream.lines - skipped
            if summary.lines & 1023 == 0:
                show.show(stream.name, stream.done_bytes(), summary.lines, summary.alert_events)
        summary.lines = before + stream.lines - skipped
        show.show(stream.name, stream.total_bytes(), summary.lines, summary.alert_events, force=True)
        summary.journal_torn += stream.journal.torn
        summary.journal_corrupt += stream.journal.corrupt
    drain(pipeline.finish())
    show.end()
    if tracks is not None:
        tracks.finish(pipeline)
    summary.elapsed_s = time.monotonic() - started
    return summary


def _store_reason(exc: BaseException, store_url: str | None) -> str:
    """The store's own one-line reason (its messages never hold a password); a driver's error, password hidden."""
    if isinstance(exc, StoreError):
        return str(exc)
    from sqlalchemy.engine import make_url

    text = " ".join(str(exc).split()[:40])
    password = make_url(store_url).password if store_url else None
    return text.replace(password, "***") if password else text


class ReplayError(Exception):
    """Something the analyst has to put right (an unknown zone, a file that cannot be read or written)."""


def run_replay(
    paths: Sequence[Path],
    pipeline: Pipeline,
    replay_filter: ReplayFilter,
    *,
    out: str = "-",
    speed: float | None = None,
    progress: bool | None = None,
    report: str | None = None,
    tracks_out: str | None = None,
    say: Callable[[str], None] = log.info,
    store_url: str | None = None,
) -> ReplaySummary:
    """``seawatch replay`` after its arguments: alert events as JSON Lines to ``out`` ("-": stdout),
    the summary told to ``say`` (the CLI prints it on stderr), the tracks export and the HTML report if asked for.

    Raises :class:`ReplayError` with a one-line message for what the analyst has to put right.
    """
    from seawatch.adapters.files import SourceError
    from seawatch.core.serialize import alert_event_json

    watch = pipeline.watch
    if watch is None:
        raise ValueError("replay needs a pipeline with a watch (zones, rules, alert book)")
    unknown = sorted(replay_filter.zones - set(watch.zones.by_id))
    if unknown:
        raise ReplayError(f"--zone: no zone {unknown[0]!r} (see seawatch check-config, or the ids in zones/)")
    tracks = TrackKeeper(replay_filter) if (report or tracks_out) else None
    csv_stats = CsvStats()
    events: list[AlertEvent] = []
    with contextlib.ExitStack() as stack:
        stream: TextIO = sys.stdout
        if out != "-":
            try:
                stream = stack.enter_context(open(out, "w", encoding="utf-8", newline="\n"))
            except OSError as exc:
                raise ReplayError(f"cannot write {out!r}: {exc.strerror}") from None

        def write(event: AlertEvent) -> None:
            stream.write(alert_event_json(event))
            stream.write("\n")
            if report:
                events.append(event)

        try:
            summary = replay(
                paths,
                pipeline,
                write,
                replay_filter=replay_filter,
                speed=speed,
                tracks=tracks,
                progress=progress,
                csv_stats=csv_stats,
                store_url=store_url,
            )
        except SourceError as exc:
            raise ReplayError(str(exc)) from None
        except (StoreError, SQLAlchemyError) as exc:
            raise ReplayError(f"cannot read the journal in the store: {_store_reason(exc, store_url)}") from None
    rejects = pipeline.decoder.stats.rejects + csv_stats.rejects  # counted as decode counts them
    inputs = f"{len(paths)} file(s)" + (" and the journal in the store" if store_url is not None else "")
    say(
        f"seawatch replay: {summary.lines:,} lines in {inputs}, {len(pipeline.fleet):,} vessels in state, "
        f"{summary.elapsed_s:.2f} s ({summary.lines / max(summary.elapsed_s, 1e-9):,.0f} lines/s)"
    )
    say(summary.table(rejects))
    if tracks is not None and tracks_out:
        from seawatch.analyst.export import ExportError, write_tracks

        try:
            rows = write_tracks(Path(tracks_out), tracks.tracks, tracks.vessels)
        except (ExportError, OSError) as exc:
            raise ReplayError(str(exc)) from None
        say(f"tracks: {rows:,} points of {len(tracks.tracks):,} vessels written to {tracks_out}")
    if tracks is not None and report:
        from seawatch.analyst.report import write_html_report

        latest: dict[str, AlertEvent] = {}
        for event in events:
            latest[event.id] = event
        try:
            write_html_report(
                Path(report),
                tracks=tracks.tracks,
                vessels=tracks.vessels,
                alerts=list(latest.values()),
                zones=watch.zones,
                title=f"Seawatch replay of {', '.join(p.name for p in paths)}",
            )
        except OSError as exc:
            raise ReplayError(f"cannot write {report!r}: {exc.strerror}") from None
        say(f"report: {report}")
    return summary


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
