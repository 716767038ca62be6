"""Benchmark: snapshots of the core's state — size, capture and restore time, store round trip.

Run from the repository root::

    .venv/bin/python benchmarks/bench_snapshot.py [--vessels 100000] [--fixes 10] [--rounds 3] [--json]

Two states:

1. ``synthetic``: ``--vessels`` vessels (fixed seed) spread over the watched region (90–130° E,
   15° S–20° N), each with a type 5 static report and ``--fixes`` position reports a minute
   apart; one in five is slow (under 2 kn), so loitering, drifting and rendezvous windows,
   trips and zone-entry state are held as a busy region would hold them. Reports go straight
   into the pipeline (``Pipeline.apply``): decoding is not what is measured here.
2. ``demo recording``: ``replay_data/demo.nmea`` and ``demo_stations.nmea`` replayed line by line.

The pipeline is the one replay builds (zones from ``zones/``, default rules), without the
coastline mask (it costs 0.9 s and 385 MB to load and holds no state). For each state:
capture time, freeze time (the copy made between two messages) and encode time (what can
run in a worker thread), restore time into a freshly built pipeline, snapshot size (compressed, and
the pickled body before compression) and bytes per vessel; then save to and load from a
SQLite store in a temporary directory, and "start-up after a crash": build the pipeline,
load the latest snapshot from the store and restore it. Medians of ``--rounds``. Also the
compression level trade-off on the same body. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import gc
import json
import pickle
import random
import statistics
import struct
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from _common import REPO_ROOT, eprint, human_bytes, versions, versions_line

from seawatch.adapters.store import AlertStore
from seawatch.config.watch import build_watch
from seawatch.core.model import PositionReport, StaticReport
from seawatch.core.pipeline import Pipeline, PipelineOptions
from seawatch.core.snapshot import capture, freeze, read_info, restore

T0 = datetime(2026, 3, 1, tzinfo=UTC)
FIRST_MMSI = 201_000_000
SEED = 20261206


def fresh() -> Pipeline:
    return Pipeline(PipelineOptions(), build_watch(REPO_ROOT / "zones", None, use_shore=False))


def synthetic(vessels: int, fixes: int) -> Pipeline:
    """``vessels`` vessels with ``fixes`` fixes each, in time order (every vessel's fix n, then n + 1)."""
    rng = random.Random(SEED)
    pipeline = fresh()
    ships: list[tuple[int, float, float, float, float, bool]] = []
    for i in range(vessels):
        mmsi = FIRST_MMSI + i * 7
        slow = rng.random() < 0.2
        sog = rng.uniform(0.2, 1.8) if slow else rng.uniform(6.0, 18.0)
        ships.append((mmsi, rng.uniform(-15.0, 20.0), rng.uniform(90.0, 130.0), sog, rng.uniform(0, 360), slow))
        static = StaticReport(
            mmsi,
            5,
            T0,
            name=f"VESSEL {i}",
            callsign=f"C{i:06d}",
            ship_type=rng.choice((30, 37, 52, 60, 70, 80)),
            length_m=rng.choice((8, 12, 25, 90, 180, 300)),
            destination=rng.choice(("PENANG", "BELAWAN", "SINGAPORE", "PHUKET", "")),
            fingerprint=rng.getrandbits(32) or 1,
        )
        pipeline.apply(static)
    step_s = 60.0
    for n in range(fixes):
        base = T0 + timedelta(seconds=30 + n * step_s)
        for i, (mmsi, lat, lon, sog, cog, slow) in enumerate(ships):
            moved_deg = sog * n * step_s / 3600.0 / 60.0  # knots to degrees of latitude, roughly
            when = base + timedelta(seconds=step_s * i / vessels)
            pipeline.apply(
                PositionReport(
                    mmsi,
                    1 if i % 5 else 18,
                    when,
                    round(lat + moved_deg, 6),
                    round(lon + moved_deg / 2, 6),
                    round(sog, 1),
                    round(cog, 1),
                    int(cog) % 360 if not slow else int(cog + 90) % 360,
                    0,
                    "rx-synthetic",
                    True,
                    rng.getrandbits(32) or 1,
                )
            )
    return pipeline


def recording() -> Pipeline:
    pipeline = fresh()
    for name in ("demo.nmea", "demo_stations.nmea"):
        for line in (REPO_ROOT / "replay_data" / name).read_bytes().splitlines():
            pipeline.feed(line, source=name)
    return pipeline


def timed(fn: Callable[[], Any], rounds: int) -> tuple[float, Any]:
    """Median seconds of ``rounds`` calls (garbage collected before each), and the last result.

    Every result is kept until all rounds are done, so freeing one (100,000 vessels take a
    second to free) is never counted in the next round's time.
    """
    times: list[float] = []
    results: list[Any] = []
    for _ in range(rounds):
        gc.collect()
        start = time.perf_counter()
        results.append(fn())
        times.append(time.perf_counter() - start)
    return statistics.median(times), results[-1]


def measure(label: str, pipeline: Pipeline, rounds: int) -> dict[str, Any]:
    vessels = len(pipeline.fleet)
    book = pipeline.watch.book if pipeline.watch is not None else None
    capture_s, data = timed(lambda: capture(pipeline, "bench:0", created_at=T0), rounds)
    freeze_s, frozen = timed(lambda: freeze(pipeline, "bench:0", created_at=T0), rounds)
    encode_s, encoded = timed(frozen.encode, rounds)
    assert read_info(encoded) == read_info(data)
    info = read_info(data)
    header_length = struct.unpack_from(">8sHI", data)[2]
    body = data[14 + header_length :]
    raw = zlib.decompress(body)
    targets = [fresh() for _ in range(rounds)]  # built beforehand, kept after: restore alone is timed
    remaining = list(targets)
    restore_s, _ = timed(lambda: restore(remaining.pop(), data), rounds)
    pickle_s, _ = timed(lambda: pickle.dumps(pickle.loads(raw), protocol=5), 1)
    levels: dict[int, dict[str, float]] = {}
    for level in (1, 6):
        seconds, packed = timed(lambda level=level: zlib.compress(raw, level), 1)
        levels[level] = {"seconds": seconds, "bytes": len(packed)}
    with tempfile.TemporaryDirectory() as tmp:
        store = AlertStore(f"sqlite:///{Path(tmp) / 'alerts.db'}")
        try:
            save_s, _ = timed(lambda: store.save_snapshot(data, info), rounds)
            load_s, loaded = timed(store.latest_snapshot, rounds)
            assert loaded == data
            build_s, _ = timed(fresh, rounds)

            def start_up() -> Pipeline:
                started = fresh()
                stored = store.latest_snapshot()
                assert stored is not None
                restore(started, stored)
                return started

            start_s, started = timed(start_up, rounds)
        finally:
            store.close()
    assert len(started.fleet) == vessels
    result = {
        "state": label,
        "vessels": vessels,
        "alerts_open": 0 if book is None else len(book),
        "capture_s": capture_s,
        "freeze_s": freeze_s,
        "encode_s": encode_s,
        "restore_s": restore_s,
        "bytes": len(data),
        "raw_bytes": len(raw),
        "bytes_per_vessel": len(data) / max(1, vessels),
        "pickle_roundtrip_s": pickle_s,
        "zlib_levels": levels,
        "store_save_s": save_s,
        "store_load_s": load_s,
        "build_pipeline_s": build_s,
        "start_up_s": start_s,
    }
    eprint(
        f"{label}: {vessels:,} vessels, {result['alerts_open']} open alerts\n"
        f"  capture {capture_s * 1000:,.0f} ms, restore {restore_s * 1000:,.0f} ms\n"
        f"  or freeze {freeze_s * 1000:,.0f} ms (between messages) + encode {encode_s * 1000:,.0f} ms (any thread)\n"
        f"  snapshot {human_bytes(len(data))} ({len(data) / max(1, vessels):,.0f} B per vessel; "
        f"pickled body {human_bytes(len(raw))} before zlib)\n"
        f"  zlib level 1 / 6: "
        + " / ".join(f"{v['seconds'] * 1000:,.0f} ms {human_bytes(v['bytes'])}" for v in levels.values())
        + "\n"
        f"  SQLite store: save {save_s * 1000:,.0f} ms, load {load_s * 1000:,.0f} ms\n"
        f"  start-up after a crash: build the pipeline {build_s * 1000:,.0f} ms, "
        f"+ load and restore = {start_s * 1000:,.0f} ms (then the journal from the snapshot's position)"
    )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vessels", type=int, default=100_000)
    parser.add_argument("--fixes", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON on stdout")
    args = parser.parse_args(argv)
    eprint(versions_line())
    start = time.perf_counter()
    big = synthetic(args.vessels, args.fixes)
    eprint(f"built the synthetic state in {time.perf_counter() - start:.1f} s")
    results = [measure(f"synthetic ({args.fixes} fixes per vessel)", big, args.rounds)]
    del big
    gc.collect()
    results.append(measure("demo recording", recording(), args.rounds))
    if args.json:
        json.dump({"versions": versions(), "results": results}, sys.stdout, indent=2)
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
