"""The ``seawatch`` command: run | demo | replay | drill | decode | rules | outbox | config | check-config.

This is the one module that prints: results to stdout (or the output file),
figures and summaries to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import json
import logging
import os
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Coroutine, Iterator, Sequence
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, NoReturn, TypeVar

from pydantic import ValidationError

from seawatch.config.settings import ConfigFileError, Settings, load_settings

log = logging.getLogger("seawatch")

INTERRUPTED = 130  # the shell's convention for a program stopped by Ctrl-C (128 + SIGINT)
TERMINATED = 143  # 128 + SIGTERM: a stop forced by a second SIGTERM


STOP_DEADLINE_S = 60.0
"""Longest an ordered stop may take after a signal before the process ends anyway (the ordered
stop bounds each of its steps, but a worker thread blocked on a store that does not answer
would hold the interpreter's exit for as long as it blocks)."""


class _StopSignals:
    """SIGTERM and SIGINT for a long-running command: the first stops it in order, a second at once.

    Python's own handling (KeyboardInterrupt, or an exception raised from a handler) lands
    wherever the main thread happens to be: inside a task that the supervisor restarts as a
    failure, or inside uvicorn, which keeps the signals to itself while it serves. A signal
    could then be lost, and the process needed SIGKILL. Here the handler only asks the event
    loop to cancel the command's main task, which unwinds the runtime through its ordered
    stop. A second signal while it stops, or ``STOP_DEADLINE_S`` without an end, ends the
    process there and then, with one line saying so: nothing more runs, not a drain, not a
    worker thread waiting on a connect.
    """

    def __init__(self, deadline_s: float = STOP_DEADLINE_S) -> None:
        self.received: int | None = None
        self.deadline_s = deadline_s
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[Any] | None = None
        self._signalled = threading.Event()
        self._finished = threading.Event()

    def __enter__(self) -> _StopSignals:
        # The deadline's thread is started here, not in the handler: a handler that starts a
        # thread could interrupt the main thread while it holds threading's own locks.
        threading.Thread(target=self._watch, name="stop-deadline", daemon=True).start()
        self._previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._finished.set()
        self._signalled.set()

    def _on_signal(self, signum: int, frame: Any) -> None:
        # os.write, not print: the main thread may be inside a write to sys.stderr right now
        name = signal.Signals(signum).name
        if self.received is not None:
            self._force(f"{name} while stopping", signum)
        self.received = signum
        os.write(2, f"seawatch: stopping ({name}); a second signal stops at once\n".encode())
        self._signalled.set()
        if self._loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop has just closed: the process is ending anyway
                self._loop.call_soon_threadsafe(self._cancel)

    def _watch(self) -> None:
        self._signalled.wait()
        if not self._finished.wait(self.deadline_s) and self.received is not None:
            self._force(f"still stopping {self.deadline_s:g} s after {signal.Signals(self.received).name}")

    def _force(self, why: str, signum: int | None = None) -> NoReturn:
        """End the process now: no cleanup, no waiting for any thread (the store keeps what it committed)."""
        os.write(2, f"seawatch: stop forced ({why})\n".encode())
        os._exit(INTERRUPTED if (signum or self.received) == signal.SIGINT else TERMINATED)

    def _cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def run(self, job: Coroutine[Any, Any, object]) -> None:
        self._loop = asyncio.get_running_loop()
        self._loop.set_exception_handler(_closed_socket_race)
        self._task = asyncio.current_task()
        if self.received is not None:  # signalled before the loop ran
            job.close()
            return
        try:
            await job
        except asyncio.CancelledError:
            if self.received is None:
                raise


def _serving(job: Coroutine[Any, Any, object]) -> int:
    """Run a long-lived command (run, demo) until it ends, or a signal stops it: 0 after SIGTERM, 130 after Ctrl-C.

    The first SIGTERM or SIGINT stops the service in order (in-flight webhook deliveries finish,
    the store is closed, the instance lock released), so a service manager sees a clean stop; a
    second one while it stops (or a stop still going after ``STOP_DEADLINE_S``) ends the process
    at once, 143 (SIGTERM) or 130 (SIGINT).
    """
    with _StopSignals() as signals:
        asyncio.run(signals.run(job))
    if signals.received == signal.SIGINT:
        print("seawatch: stopped (SIGINT)", file=sys.stderr)
        return INTERRUPTED
    if signals.received == signal.SIGTERM:
        print("seawatch: stopped (SIGTERM)", file=sys.stderr)
    return 0


def _closed_socket_race(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """One line, not a traceback, for paho asking the loop to watch a socket that has just closed.

    The MQTT client (paho under aiomqtt) schedules ``add_writer`` from its own callbacks; when
    the broker closes the link in between (a pair's other instance took the session over, a
    process resumed after a pause), the loop finds the descriptor gone (EBADF). Nothing is
    lost: the source sees the link drop and handles it. Anything else goes to asyncio's own handler.
    """
    exc = context.get("exception")
    handle = repr(context.get("handle", ""))
    if isinstance(exc, OSError) and exc.errno == errno.EBADF and ("add_writer" in handle or "add_reader" in handle):
        log.debug("socket closed before the event loop could watch it (%s)", exc)
        return
    loop.default_exception_handler(context)


def _fail(message: str, code: int = 2) -> int:
    print(f"seawatch: {message}", file=sys.stderr)
    return code


N = TypeVar("N", int, float)


def _number(
    convert: Callable[[str], N], noun: str, within: Callable[[N], bool], out_of_range: str
) -> Callable[[str], N]:
    """An argparse type: ``convert`` the text ("… is not a {noun}" if it cannot), then check ``within``
    (``out_of_range``, with ``{text}`` for the argument, if not; a NaN is never within anything)."""

    def parse(text: str) -> N:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {noun}") from None
        if not within(value):
            raise argparse.ArgumentTypeError(out_of_range.format(text=repr(text)))
        return value

    return parse


# a number of days, zero or more (fractions allowed); a finite number above zero (a speed, a duration)
_non_negative_days = _number(float, "number of days", lambda d: 0 <= d <= 36_500, "days must be between 0 and 36500")
_positive = _number(float, "number", lambda v: 0 < v < float("inf"), "must be a number above 0 (got {text})")


def _degrees(limit: float) -> Callable[[str], float]:
    """A latitude (limit 90) or longitude (limit 180) in degrees."""
    return _number(
        float,
        "number of degrees",
        lambda v: -limit <= v <= limit,
        f"must be between {-limit:g} and {limit:g} degrees (got {{text}})",
    )


def _whole(low: int, high: int, what: str) -> Callable[[str], int]:
    """A whole number from ``low`` to ``high``."""
    return _number(
        int, "whole number", lambda v: low <= v <= high, f"{what} must be from {low} to {high} (got {{text}})"
    )


def _mmsi_list(text: str) -> str:
    """An argparse type: MMSIs, comma-separated (checked here, split where they are used)."""
    for part in (p.strip() for p in text.split(",")):
        if part and not (part.isdigit() and len(part) <= 9):
            raise argparse.ArgumentTypeError(f"{part!r} is not an MMSI (up to nine digits)")
    return text


_PORT = _whole(0, 65535, "a port")


class _Parser(argparse.ArgumentParser):
    """Argument errors in one line (``seawatch replay: --speed: …``), exit status 2, no usage dump."""

    def error(self, message: str) -> Any:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _settings(args: argparse.Namespace, **overrides: Any) -> Settings:
    return load_settings(getattr(args, "config", None), **overrides)


# ------------------------------------------------------------------------- decode
def _decode_reports(paths: Sequence[Path], summary: dict[str, Any]) -> Iterator[dict[str, Any]]:
    from seawatch.adapters.files import is_csv, iter_csv_reports, iter_log_lines
    from seawatch.core.formats.csv import CsvStats
    from seawatch.core.pipeline import Pipeline, PipelineOptions
    from seawatch.core.serialize import report_to_dict

    pipeline = Pipeline(PipelineOptions(guard_replay_times=False))  # every message, with the time its log gives
    csv_stats = CsvStats()
    summary["pipeline"] = pipeline
    summary["csv"] = csv_stats
    progress = sys.stderr.isatty()
    last_note = time.monotonic()
    for path in paths:
        if is_csv(path):
            for report in iter_csv_reports(path, csv_stats, source=path.name):
                pipeline.apply(report)
                yield report_to_dict(report)
            continue
        for line in iter_log_lines(path):
            for report in pipeline.feed(line).reports:
                yield report_to_dict(report)
            if progress and time.monotonic() - last_note > 2.0:
                last_note = time.monotonic()
                print(f"  {path.name}: {pipeline.decoder.stats.lines:,} lines", file=sys.stderr, end="\r")
        pipeline.finish()


def cmd_decode(args: argparse.Namespace) -> int:
    from seawatch.adapters.files import SourceError
    from seawatch.core.serialize import ALL_KEYS
    from seawatch.csvsafe import SafeDictWriter

    paths = [Path(p) for p in args.logs]
    for path in paths:
        if not path.is_file():
            reason = "is a directory" if path.is_dir() else "no such file"
            return _fail(f"cannot read {str(path)!r}: {reason}")
    summary: dict[str, Any] = {}
    started = time.perf_counter()
    count = 0
    with ExitStack() as stack:
        out: IO[str] = sys.stdout
        if args.output and args.output != "-":
            try:
                out = stack.enter_context(open(args.output, "w", encoding="utf-8", newline=""))
            except OSError as exc:
                return _fail(f"cannot write {args.output!r}: {exc.strerror}")
        try:
            if args.format == "csv":
                writer = SafeDictWriter(out, fieldnames=ALL_KEYS, extrasaction="raise")
                writer.writeheader()
                for row in _decode_reports(paths, summary):
                    writer.writerow(row)
                    count += 1
            else:
                dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
                for row in _decode_reports(paths, summary):
                    out.write(dumps(row))
                    out.write("\n")
                    count += 1
        except SourceError as exc:
            return _fail(str(exc))
    elapsed = time.perf_counter() - started
    pipeline = summary["pipeline"]
    stats = pipeline.decoder.stats
    csv_stats = summary["csv"]
    rejects = stats.rejects + csv_stats.rejects
    lines = stats.lines + csv_stats.rows
    print(
        f"seawatch decode: {count:,} reports from {lines:,} lines in {len(paths)} file(s), "
        f"{len(pipeline.fleet):,} vessels, {elapsed:.2f} s ({lines / max(elapsed, 1e-9):,.0f} lines/s)",
        file=sys.stderr,
    )
    if rejects:
        detail = ", ".join(f"{reason} {n:,}" for reason, n in rejects.most_common())
        print(f"rejected {sum(rejects.values()):,}: {detail}", file=sys.stderr)
    else:
        print("rejected 0", file=sys.stderr)
    return 0


# -------------------------------------------------------------------------- replay
def _when(text: str | None, flag: str) -> datetime | None:
    from seawatch.core.lines import parse_timestamp

    if text is None:
        return None
    when = parse_timestamp(text)
    if when is None:
        raise ValueError(f"{flag}: not a time: {text!r} (ISO 8601, e.g. 2026-03-01T06:00Z, or UNIX seconds)")
    return when


def _split_publish(url: str) -> tuple[str, str]:
    """``mqtt://host:port/topic/path`` -> (broker URL, topic)."""
    from urllib.parse import urlsplit

    from seawatch.config.urls import parse_mqtt_url, redacted

    parse_mqtt_url(url)  # a clear error (credentials hidden) before anything connects
    parts = urlsplit(url)
    topic = parts.path.lstrip("/")
    if not topic:
        example = "mqtt://127.0.0.1:1883/ais/training"
        raise ValueError(f"--publish needs a topic in the URL, e.g. {example} (got {redacted(url)!r})")
    return f"{parts.scheme}://{parts.netloc}", topic


def cmd_replay(args: argparse.Namespace) -> int:
    """The whole pipeline over logs, alert events out: the analyst's view of what live would have raised."""
    from seawatch.adapters.journal import is_journal
    from seawatch.analyst.replay import ReplayError, ReplayFilter, run_replay
    from seawatch.config.watch import ConfigError
    from seawatch.runtime import build_pipeline

    overrides: dict[str, Any] = {}
    if args.zones is not None:
        overrides["zones_dir"] = Path(args.zones)
    if args.rules is not None:
        overrides["rules_file"] = Path(args.rules)
    if args.no_shore:
        overrides["shore_distance"] = False
    settings = _settings(args, **overrides)
    paths = [Path(p) for p in args.logs]
    store_url: str | None = None
    if args.store_journal is not None:
        store_url = args.store_journal or settings.store_url
    if not paths and store_url is None:
        return _fail("nothing to replay: give logs, CSV files or journals, or --store-journal")
    if store_url is not None and args.publish:
        return _fail("--publish re-publishes files; the journal in the store is replayed, not published")
    for path in paths:
        if not path.is_file() and not (path.is_dir() and is_journal(path)):
            reason = "is a directory (and holds no journal segment)" if path.is_dir() else "no such file"
            return _fail(f"cannot read {str(path)!r}: {reason}")
    try:
        flt = ReplayFilter(
            since=_when(args.since, "--since"),
            until=_when(args.until, "--until"),
            mmsis=frozenset(int(m) for arg in args.mmsi or () for m in arg.split(",") if m.strip()),
            zones=frozenset(z for arg in args.zone or () for z in arg.split(",") if z.strip()),
        )
        publish = _split_publish(args.publish) if args.publish else None
    except ValueError as exc:
        return _fail(str(exc))
    if publish is not None:
        return _publish(settings, paths, publish, args.speed or 1.0)
    try:
        pipeline = build_pipeline(settings)
    except ConfigError as exc:
        return _fail(str(exc))
    try:
        run_replay(
            paths,
            pipeline,
            flt,
            out=args.out or "-",
            speed=args.speed,
            progress=args.progress,
            report=args.report,
            tracks_out=args.tracks,
            say=lambda text: print(text, file=sys.stderr),
            store_url=store_url,
        )
    except ReplayError as exc:
        return _fail(str(exc))
    return 0


def _publish(settings: Settings, paths: list[Path], target: tuple[str, str], speed: float) -> int:
    """Re-publish logs to a broker in scaled real time (to drive a live instance for training)."""
    from seawatch.runtime import mqtt_options
    from seawatch.service import publish_log

    url, topic = target
    try:
        settings = settings.model_copy(update={"mqtt_url": url})
        from seawatch.config.urls import parse_mqtt_url

        parse_mqtt_url(url)
    except ValueError as exc:
        return _fail(str(exc))
    print(f"seawatch replay: publishing {len(paths)} log(s) to {url} topic {topic!r} at {speed:g}x", file=sys.stderr)
    job = publish_log(mqtt_options(settings), paths, topic, speed=speed, duplicate_window_s=settings.duplicate_window_s)
    return _publishing(job, url, "published")


def _publishing(job: Any, url: str, done: str) -> int:
    """Run one publishing job; a broker that is down is a one-line message, not a traceback."""
    started = time.monotonic()
    try:
        sent = asyncio.run(job)
    except KeyboardInterrupt:
        return INTERRUPTED
    except Exception as exc:  # noqa: BLE001 - see above
        return _fail(f"publishing to {url} failed: {exc}")
    print(f"{done}: {sent:,} messages in {time.monotonic() - started:.1f} s", file=sys.stderr)
    return 0


def cmd_drill(args: argparse.Namespace) -> int:
    """A drill end to end: test transmissions into a running instance, flagged test all the way to partners."""
    from seawatch.analyst.drill import drill_lines
    from seawatch.core.watch import DRILL_PREFIX
    from seawatch.runtime import mqtt_options
    from seawatch.service import publish_lines, publish_log

    try:
        url, topic = _split_publish(args.publish)
    except ValueError as exc:
        return _fail(str(exc))
    mqtt = mqtt_options(_settings(args).model_copy(update={"mqtt_url": url}))
    done = "drill published (every alert it raises carries test: true)"
    if args.scenario:
        path = Path(args.scenario)
        if not path.is_file():
            path = Path("replay_data/scenarios") / f"{args.scenario}.nmea"
        if not path.is_file():
            return _fail(f"no scenario {args.scenario!r} (a file, or a name in replay_data/scenarios/)")
        print(
            f"seawatch drill: scenario {path.stem} as a drill -> {url} topic {topic!r} at {args.speed:g}x",
            file=sys.stderr,
        )
        # re-stamped to end now (real durations, nothing ahead of its arrival), receivers labelled drill:…
        job = publish_log(mqtt, [path], topic, speed=args.speed, live_times=True, station_prefix=DRILL_PREFIX)
        return _publishing(job, url, done)
    what = f"a test AIS-SART at {args.lat:.4f}, {args.lon:.4f} for {args.minutes} min"
    print(f"seawatch drill: {what} -> {url} topic {topic!r}", file=sys.stderr)
    return _publishing(publish_lines(mqtt, drill_lines(args.lat, args.lon, args.minutes), topic), url, done)


def cmd_outbox(args: argparse.Namespace) -> int:
    """The webhook outbox of the configured store: counts, dead letters, re-sending them, purging."""
    from datetime import UTC, datetime, timedelta

    from seawatch.adapters.store import AlertStore, StoreError

    settings = _settings(args)
    try:
        store = AlertStore(settings.store_url)
    except StoreError as exc:
        return _fail(str(exc))
    try:
        if args.requeue is not None:
            ids = None if args.requeue == ["all"] else [int(i) for i in args.requeue]
            count = store.requeue(ids, datetime.now(UTC))
            print(f"re-queued {count} dead letter(s); a running service sends them within seconds")
            return 0
        if args.purge_delivered is not None:
            before = datetime.now(UTC) - timedelta(days=args.purge_delivered)
            count = 0  # in batches: a running service keeps writing between them
            while (n := store.purge_delivered(before, limit=2000)) > 0:
                count += n
            print(f"purged {count} delivered webhook row(s) finished before {before:%Y-%m-%d %H:%M} UTC")
            return 0
        if args.enable:
            store.enable_partner(args.enable)
            print(f"partner {args.enable!r} enabled again")
            return 0
        disabled = store.disabled_partners()
        counts = store.counts()
        for partner in sorted(set(counts) | set(disabled)):
            c = counts.get(partner, {})
            state = f" DISABLED ({disabled[partner]})" if partner in disabled else ""
            print(
                f"{partner}: pending {c.get('pending', 0)}, delivered {c.get('delivered', 0)}, "
                f"dead {c.get('dead', 0)}{state}"
            )
        if args.dead:
            for d in store.dead_letters():
                print(
                    f"  #{d.id} {d.partner} {d.webhook_id} alert {d.alert_id} seq {d.sequence} ({d.kind}), "
                    f"{d.attempts} attempts, last error: {d.last_error}"
                )
    except ValueError:
        return _fail("--requeue takes outbox ids (numbers) or 'all'")
    finally:
        store.close()
    return 0


def cmd_config(args: argparse.Namespace) -> int:
    """The configuration reference (every setting, its variable, default and unit), or the effective settings."""
    if args.reference:
        from seawatch.config.reference import render_reference

        sys.stdout.write(render_reference())
        return 0
    settings = _settings(args)
    print(settings.model_dump_json(indent=2))  # secrets print as '**********'
    return 0


def cmd_rules(args: argparse.Namespace) -> int:
    """The built-in defaults (``--defaults``), or the rules in effect: what a rules file changed, and where."""
    from seawatch.config.watch import ConfigError, load_rules
    from seawatch.core.rules import render_defaults, render_in_effect

    if args.defaults:
        sys.stdout.write(render_defaults())
        return 0
    settings = _settings(args)
    try:
        rules = load_rules(settings.rules_file)
    except ConfigError as exc:
        return _fail(str(exc))
    source = str(settings.rules_file) if settings.rules_file is not None else "the built-in defaults"
    sys.stdout.write(render_in_effect(rules, source))
    return 0


# -------------------------------------------------------------------- run and demo
def _show(figures: Any) -> None:
    print(figures.line(), file=sys.stderr, flush=True)


def _listening(url: str) -> None:
    print(f"seawatch: map and API at {url} (API docs at /docs)", file=sys.stderr)


async def _run(settings: Settings, duration_s: float | None, alerts_out: Path | None = None) -> None:
    from seawatch.adapters.lease import LeaseLostError
    from seawatch.runtime import build_runtime
    from seawatch.runtime.failover import JournalGapError

    # said once the signals are ours (see _serving): from this line on, SIGTERM is a clean stop
    print(f"seawatch run: ingesting {settings.mqtt_topics} from {settings.mqtt_url}", file=sys.stderr)
    stepped_down: str | None = None
    takeovers = 0
    deadline = None if duration_s is None else time.monotonic() + duration_s
    while True:
        runtime = build_runtime(settings, show=_show, alerts_out=alerts_out)
        if runtime.failover is not None:  # what health shows of the instances built before this one
            runtime.failover.stepped_down = stepped_down
            runtime.failover.takeovers = takeovers
        try:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            await runtime.run(duration_s=left, on_listening=_listening)
            return
        except (LeaseLostError, JournalGapError) as exc:
            if deadline is not None and time.monotonic() >= deadline:
                return  # the run was over anyway
            # One of a failover pair that may not lead (any more), or a standby the journal left
            # behind: everything is built again from the store, as the standby (docs/failover.md).
            name = runtime.failover.lease.instance if runtime.failover is not None else "this instance"
            takeovers = runtime.failover.takeovers if runtime.failover is not None else takeovers
            what = "steps down" if isinstance(exc, LeaseLostError) else "starts again from the newest snapshot"
            log.warning("failover: %s %s: %s; following again as the standby", name, what, exc)
            stepped_down = f"{datetime.now(UTC).replace(microsecond=0).isoformat()}: {exc}"


def cmd_run(args: argparse.Namespace) -> int:
    from seawatch.adapters.instancelock import InstanceLockedError
    from seawatch.adapters.store import StoreError
    from seawatch.config.watch import ConfigError
    from seawatch.runtime import INSTANCE_LOCKED_EXIT, SOURCE_FAILED_EXIT, SourceFailedError

    overrides: dict[str, Any] = {}
    if args.http_port is not None:
        overrides["http_port"] = args.http_port
    settings = _settings(args, **overrides)
    alerts_out = Path(args.alerts_out) if args.alerts_out else None
    try:
        return _serving(_run(settings, args.duration, alerts_out))
    except SourceFailedError as exc:
        return _fail(str(exc), SOURCE_FAILED_EXIT)
    except InstanceLockedError as exc:
        return _fail(str(exc), INSTANCE_LOCKED_EXIT)
    except (ConfigError, StoreError, OSError) as exc:
        return _fail(str(exc))


async def _demo(settings: Settings, duration_s: float | None) -> None:
    from seawatch.adapters.broker import EmbeddedBroker
    from seawatch.runtime import build_runtime, mqtt_options
    from seawatch.service import publish_log

    scratch = tempfile.TemporaryDirectory(prefix="seawatch-demo-")
    async with EmbeddedBroker(port=settings.demo_broker_port) as broker:
        # The demo starts clean every time: its alert store lives in a scratch directory.
        # Its spool too: a demo must never take (and then throw away) events a real service left.
        store_url = f"sqlite:///{Path(scratch.name) / 'alerts.db'}"
        spool = Path(scratch.name) / "alerts.spool.jsonl"
        settings = settings.model_copy(
            update={
                "mqtt_url": broker.url,
                "mqtt_topics": ["ais/#"],
                "store_url": store_url,
                "store_spool_file": spool,
                "journal_dir": Path(scratch.name) / "journal",
            }
        )
        names = ", ".join(p.stem for p in settings.demo_feed)
        print(
            f"seawatch demo: embedded broker on {broker.url}; publishing {names} "
            f"at {settings.demo_speed:g}x real time to ais/demo (Ctrl-C to stop)",
            file=sys.stderr,
        )
        runtime = build_runtime(settings, show=_show)

        async def feed() -> None:
            await publish_log(
                mqtt_options(settings),
                settings.demo_feed,
                "ais/demo",
                speed=settings.demo_speed,
                loop=True,
                live_times=True,
                duplicate_window_s=settings.duplicate_window_s,
            )

        await runtime.run(duration_s=duration_s, feed=feed, on_listening=_listening)
    scratch.cleanup()


def cmd_demo(args: argparse.Namespace) -> int:
    overrides: dict[str, Any] = {}
    if args.speed is not None:
        overrides["demo_speed"] = args.speed
    if args.port is not None:
        overrides["demo_broker_port"] = args.port
    if args.http_port is not None:
        overrides["http_port"] = args.http_port
    if args.feed:
        overrides["demo_feed"] = [Path(f) for f in args.feed]
    settings = _settings(args, **overrides)
    missing = [str(p) for p in settings.demo_feed if not p.is_file()]
    if missing:
        return _fail(f"demo feed {missing[0]!r} not found (run from the repository root)")
    from seawatch.adapters.instancelock import InstanceLockedError
    from seawatch.adapters.store import StoreError
    from seawatch.config.watch import ConfigError
    from seawatch.runtime import INSTANCE_LOCKED_EXIT, SOURCE_FAILED_EXIT, SourceFailedError

    try:
        return _serving(_demo(settings, args.duration))
    except SourceFailedError as exc:
        return _fail(str(exc), SOURCE_FAILED_EXIT)
    except InstanceLockedError as exc:
        return _fail(str(exc), INSTANCE_LOCKED_EXIT)
    except (OSError, ConfigError, StoreError) as exc:
        return _fail(str(exc))


def cmd_check_config(args: argparse.Namespace) -> int:
    from seawatch.config.watch import ConfigError, check_zone_rules, load_rules, load_zones
    from seawatch.core.zones import ZoneKind

    overrides: dict[str, Any] = {}
    if args.zones is not None:
        overrides["zones_dir"] = Path(args.zones)
    if args.rules is not None:
        overrides["rules_file"] = Path(args.rules)
    settings = _settings(args, **overrides)
    try:
        zones = load_zones(settings.zones_dir)
        rules = load_rules(settings.rules_file)
        check_zone_rules(zones, rules)
    except ConfigError as exc:
        return _fail(str(exc))
    per_kind = ", ".join(f"{len(zones.of_kind(k))} {k.value}" for k in ZoneKind if zones.of_kind(k))
    print(f"configuration OK: broker {settings.mqtt_url}, topics {', '.join(settings.mqtt_topics)}")
    print(f"zones OK: {len(zones)} from {settings.zones_dir} ({per_kind})")
    print(f"rules OK: {settings.rules_file or 'built-in defaults'}")
    return 0


# ---------------------------------------------------------------------------- main
def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="seawatch", description="Maritime search-and-rescue AIS monitoring.")
    parser.add_argument(
        "--log-level",
        default="WARNING",
        type=str.upper,
        choices=("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"),
        help="logging level (default WARNING)",
    )
    parser.add_argument(
        "--log-format",
        choices=("text", "json"),
        default=None,
        help="text lines, or one JSON object a line (default text; env SEAWATCH_LOG_FORMAT)",
    )
    parser.add_argument("--config", type=Path, default=None, help="TOML settings file (default ./seawatch.toml)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("decode", help="decode AIS logs or CSV into JSON Lines (or CSV)")
    p.add_argument("logs", nargs="+", help="NMEA logs (plain or .gz) or MarineCadastre/DMA CSV files")
    p.add_argument("-o", "--output", default="-", help="output file (default stdout)")
    p.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    p.set_defaults(func=cmd_decode)

    p = sub.add_parser("run", help="ingest from the configured MQTT broker")
    p.add_argument("--duration", type=_positive, default=None, help="stop after this many seconds")
    p.add_argument("--alerts-out", default=None, help="append alert events to this JSON Lines file")
    p.add_argument("--http-port", type=_PORT, default=None, help="port of the map and API (default 8000; 0: any)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("demo", help="embedded broker + recorded feed + the service, nothing to install")
    p.add_argument("--duration", type=_positive, default=None, help="stop after this many seconds")
    p.add_argument("--speed", type=_positive, default=None, help="replay speed factor (default from settings)")
    p.add_argument("--port", type=_whole(1, 65535, "a port"), default=None, help="embedded broker port")
    p.add_argument(
        "--feed", action="append", default=None, help="log to publish (repeatable; default: six scenarios together)"
    )
    p.add_argument("--http-port", type=_PORT, default=None, help="port of the map and API (default 8000; 0: any)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("replay", help="run the whole pipeline over logs and write alert events (JSON Lines)")
    p.add_argument(
        "logs",
        nargs="*",
        help="NMEA logs (plain or .gz; several are merged in event time), MarineCadastre/DMA CSV files, "
        "or feed journal segments and directories (docs/replay.md)",
    )
    p.add_argument(
        "--store-journal",
        nargs="?",
        const="",
        default=None,
        metavar="STORE_URL",
        help="also (first) the feed journal a failover pair keeps in its store (default: the configured "
        "store_url), as far back as it reaches",
    )
    p.add_argument("-o", "--out", default="-", help="alert events output, JSON Lines (default stdout)")
    p.add_argument("--zones", default=None, help="zones directory (default from settings: zones/)")
    p.add_argument("--rules", default=None, help="rules TOML file (default: built-in defaults, see alerts/rules.toml)")
    p.add_argument("--no-shore", action="store_true", help="skip the coastline mask (only risk zones are open water)")
    p.add_argument("--since", default=None, help="ignore lines before this event time (ISO 8601 or UNIX seconds)")
    p.add_argument("--until", default=None, help="ignore lines from this event time on")
    p.add_argument(
        "--mmsi",
        action="append",
        type=_mmsi_list,
        help="only alerts (and tracks) about these MMSIs (repeat or comma list)",
    )
    p.add_argument("--zone", action="append", help="only alerts in these zone ids (repeat or comma list)")
    p.add_argument("--speed", type=_positive, default=None, help="scaled real time (e.g. 60 = an hour a minute)")
    p.add_argument(
        "--publish",
        default=None,
        metavar="MQTT_URL/TOPIC",
        help="re-publish the logs to a broker instead, at --speed (default 1x): mqtt://host:port/topic",
    )
    p.add_argument("--report", default=None, metavar="FILE.html", help="also write a standalone HTML report map")
    p.add_argument("--tracks", default=None, metavar="FILE", help="also export tracks: .parquet (GeoParquet) or .csv")
    p.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress line with rate and ETA (default: at a terminal)",
    )
    p.set_defaults(func=cmd_replay)

    p = sub.add_parser("drill", help="inject a test beacon (or a scenario as a drill) into a running instance")
    p.add_argument("--publish", required=True, metavar="MQTT_URL/TOPIC", help="the live instance's broker and topic")
    p.add_argument("--scenario", default=None, help="a scenario name (replay_data/scenarios) or log file, as a drill")
    p.add_argument("--lat", type=_degrees(90), default=8.5, help="test beacon latitude (default 8.5, Andaman Sea)")
    p.add_argument("--lon", type=_degrees(180), default=96.5, help="test beacon longitude (default 96.5)")
    p.add_argument(
        "--minutes", type=_whole(1, 1440, "minutes"), default=3, help="test beacon transmitting time (default 3)"
    )
    p.add_argument("--speed", type=_positive, default=1.0, help="scenario speed factor (default 1 = real time)")
    p.set_defaults(func=cmd_drill)

    p = sub.add_parser("outbox", help="webhook deliveries in the alert store: counts, dead letters, re-send")
    p.add_argument("--dead", action="store_true", help="list the dead letters")
    p.add_argument("--requeue", nargs="+", metavar="ID", help="re-send dead letters by outbox id, or 'all'")
    p.add_argument("--enable", metavar="PARTNER", help="enable a partner that a 410 Gone disabled")
    p.add_argument(
        "--purge-delivered",
        type=_non_negative_days,
        metavar="DAYS",
        help="delete delivered rows finished more than DAYS ago (a running service does this hourly "
        "per outbox_keep_delivered_days); pending and dead rows and the audit log are kept",
    )
    p.set_defaults(func=cmd_outbox)

    p = sub.add_parser("config", help="print the effective settings (secrets hidden), or --reference")
    p.add_argument("--reference", action="store_true", help="the configuration reference (docs/configuration.md)")
    p.set_defaults(func=cmd_config)

    p = sub.add_parser("rules", help="print the detector rules in effect (or --defaults, with their reasons)")
    p.add_argument("--defaults", action="store_true", help="the built-in defaults, as alerts/rules.toml holds them")
    p.set_defaults(func=cmd_rules)

    p = sub.add_parser("check-config", help="validate settings, zones and rules, and exit")
    p.add_argument("--zones", default=None, help="zones directory to check (default from settings)")
    p.add_argument("--rules", default=None, help="rules file to check (default from settings)")
    p.set_defaults(func=cmd_check_config)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from seawatch.logs import configure

    configure(args.log_level, args.log_format or os.environ.get("SEAWATCH_LOG_FORMAT", "text"))
    try:
        return int(args.func(args))
    except ValidationError as exc:
        problems = "\n".join(
            f"  {'.'.join(str(part) for part in error['loc']) or 'settings'}: {error['msg']}" for error in exc.errors()
        )
        return _fail(f"invalid configuration:\n{problems}")
    except (FileNotFoundError, ConfigFileError) as exc:
        return _fail(str(exc))
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
