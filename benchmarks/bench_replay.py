"""Benchmark: replay with every detector on, versus decode + fleet alone, on the same lines.

Run from the repository root::

    .venv/bin/python benchmarks/bench_replay.py [--rounds 5] [--min-time 1.0] [--json]

Two contenders run interleaved in one process (A B A B …), each over the same line list,
each run with a fresh pipeline:

* ``Pipeline().feed(line)``: decode + fleet, no detectors;
* ``Pipeline(watch=Watch(zones, rules, shore)).feed(line)``: the whole of ``seawatch replay``
  (zones from ``zones/``, default rules, the GSHHG shore mask), alert events taken and
  serialised to JSON as the command does.

Workloads:

1. ``recorded``: every recording in tests/data/ais as recorded (mostly European and
   American waters: zone lookups find nothing, the detectors still judge every fix);
2. ``moved``: the same recordings' position reports re-encoded with their positions moved
   into the Strait of Malacca and the Andaman Sea (same tracks and timing, so zone lookups,
   zone entry and shore distance are exercised on real traffic patterns);
3. ``scenarios``: the scripted scenarios in replay_data/scenarios (every detector fires).

The shore mask is loaded before timing and its cache is shared across runs, as in a running
service. Figures are printed, never asserted. The target of issue 3 is a ratio >= 0.7.
"""

from __future__ import annotations

import argparse
import gc
import json
import re
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import pyais
from _common import REPO_ROOT, eprint, read_lines, recording_files, versions_line

from seawatch.adapters.shore import LandmaskShore
from seawatch.config.watch import load_zones
from seawatch.core.lines import tag_block
from seawatch.core.pipeline import Pipeline
from seawatch.core.rules import Rules
from seawatch.core.serialize import alert_event_json
from seawatch.core.watch import Watch
from seawatch.core.zones import ZoneIndex

# An AIS sentence with the tag block in front of it, if any (group 1: the sentence alone).
SENTENCE = re.compile(rb"(?:\\[^\\]*\\)?(![A-Z]{2}VD[MO],[^*]*\*[0-9A-Fa-f]{2})")
SCENARIOS = REPO_ROOT / "replay_data" / "scenarios"
# Where the "moved" workload puts each recording's traffic: centred on these points in turn.
MOVE_TARGETS = ((2.9, 100.9), (6.5, 96.5), (5.6, 95.6))


def moved_lines(lines: list[bytes]) -> list[bytes]:
    """Position reports of the recordings, re-encoded with their positions moved into the region.

    Each recording's mean position is shifted onto a target point; times stay as recorded
    (as a tag block ``c:`` where the line had one). Only single-sentence types 1-3 and 18.
    """
    out: list[bytes] = []
    decoded: list[tuple[dict[str, Any], bytes]] = []
    for line in lines:
        found = SENTENCE.search(line)
        if found is None:
            continue
        try:
            msg = pyais.decode(found.group(1))
        except Exception:  # noqa: BLE001 - junk in the recordings is expected
            continue
        if msg.msg_type not in (1, 2, 3, 18):
            continue
        data = msg.asdict()
        lat, lon = data.get("lat"), data.get("lon")
        if not isinstance(lat, float) or not isinstance(lon, float) or abs(lat) > 90 or abs(lon) > 180:
            continue
        tag = found.group(0)[: found.start(1) - found.start(0)]
        decoded.append((data, tag))
    if not decoded:
        return out
    mean_lat = statistics.fmean(d["lat"] for d, _ in decoded)
    mean_lon = statistics.fmean(d["lon"] for d, _ in decoded)
    clock = 1_772_323_200.0  # lines without a time get one, 20 a second, as a receiver would stamp them
    for i, (data, tag) in enumerate(decoded):
        clock += 0.05
        if not tag:
            tag = tag_block(f"c:{int(clock)}")
        target = MOVE_TARGETS[(i // 2000) % len(MOVE_TARGETS)]
        data["lat"] = max(-89.0, min(89.0, data["lat"] - mean_lat + target[0]))
        data["lon"] = data["lon"] - mean_lon + target[1]
        for sentence in pyais.encode_dict(data, talker_id="AI", radio_channel="A"):
            out.append(tag + sentence.encode())
    return out


def scenario_lines() -> list[bytes]:
    return read_lines(sorted(SCENARIOS.glob("*.nmea"))) if SCENARIOS.is_dir() else []


def run_plain(lines: list[bytes]) -> int:
    pipeline = Pipeline()
    feed = pipeline.feed
    for line in lines:
        feed(line)
    pipeline.finish()
    return 0


def make_run_watch(zones: ZoneIndex, shore: LandmaskShore) -> Callable[[list[bytes]], int]:
    def run_watch(lines: list[bytes]) -> int:
        pipeline = Pipeline(watch=Watch(zones, Rules(), shore))
        feed = pipeline.feed
        written = 0
        for line in lines:
            events = feed(line).events
            if events:
                written += sum(len(alert_event_json(e)) for e in events)
        for e in pipeline.finish():
            written += len(alert_event_json(e))
        return written

    return run_watch


def measure(lines: list[bytes], contenders: dict[str, Callable[[list[bytes]], int]], rounds: int, min_time: float):
    repeat = 1
    start = time.perf_counter()
    run_plain(lines)
    one = time.perf_counter() - start
    if one < min_time:
        repeat = max(1, int(min_time / max(one, 1e-6)))
    data = lines * repeat
    rates: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, fn in contenders.items():
            gc.collect()
            t0 = time.perf_counter()
            fn(data)
            rates[name].append(len(data) / (time.perf_counter() - t0))
    return repeat, rates


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--min-time", type=float, default=1.0, help="seconds each run lasts at least")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    zones = load_zones(REPO_ROOT / "zones")
    shore = LandmaskShore()
    t0 = time.perf_counter()
    shore.is_land(0.0, 0.0)
    eprint(f"shore mask loaded in {time.perf_counter() - t0:.2f} s")
    recorded = read_lines(recording_files())
    workloads = {"recorded": recorded, "moved": moved_lines(recorded), "scenarios": scenario_lines()}
    run_watch = make_run_watch(zones, shore)
    results: dict[str, Any] = {}
    for name, lines in workloads.items():
        if not lines:
            eprint(f"{name}: no lines, skipped")
            continue
        run_watch(lines)  # warm the shore cache as a running service would have it
        repeat, rates = measure(
            lines, {"decode+fleet": run_plain, "all detectors": run_watch}, args.rounds, args.min_time
        )
        plain = statistics.median(rates["decode+fleet"])
        full = statistics.median(rates["all detectors"])
        ratios = [w / p for w, p in zip(rates["all detectors"], rates["decode+fleet"], strict=True)]
        results[name] = {
            "lines": len(lines),
            "repeat": repeat,
            "decode_fleet_lines_per_s": plain,
            "all_detectors_lines_per_s": full,
            "ratio_median": statistics.median(ratios),
            "ratio_min": min(ratios),
            "ratio_max": max(ratios),
        }
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print("Seawatch replay benchmark: all detectors versus decode + fleet, same lines, same process")
    print(f"   {versions_line()}")
    print(f"   {'workload':<12}{'lines':>10}{'decode+fleet/s':>18}{'detectors/s':>15}{'ratio':>8}   range")
    for name, r in results.items():
        print(
            f"   {name:<12}{r['lines']:>10,}{r['decode_fleet_lines_per_s']:>18,.0f}"
            f"{r['all_detectors_lines_per_s']:>15,.0f}{r['ratio_median']:>8.2f}   "
            f"{r['ratio_min']:.2f}-{r['ratio_max']:.2f}"
        )
    print(f"   (shore cache: {shore.stats.hits:,} hits, {shore.stats.misses:,} misses)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
