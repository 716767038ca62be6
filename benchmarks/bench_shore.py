"""Benchmark: distance from shore (``LandmaskShore``) — mask load, memory, cold and warm lookups.

Run from the repository root::

    .venv/bin/python benchmarks/bench_shore.py [--points 4000] [--warm-rounds 20] [--seed 1] [--json]

Steps, in one process:

1. Load: the first lookup loads roaring-landmask's GSHHG mask. Load time as the adapter measures it,
   and the resident set (VmRSS) before and after.
2. Input: ``--points`` random open-sea positions, uniform in lon 85–130°E, lat 15°S–22°N (Andaman
   Sea, Bay of Bengal, South China Sea, Indonesian waters); points on a land cell are drawn again.
   Each lands in its own 0.01° cache cell (duplicates are drawn again), so every first lookup is a
   cache miss.
3. Cold: one lookup per point, each timed alone with ``perf_counter_ns``: lookups/s over the whole
   pass, p50/p90/p99/max latency, and the same split by outcome (at the 30 nm cap, i.e. the whole
   disc searched, versus land found nearer). The shares of each outcome depend on the region.
4. Warm: the same points again, ``--warm-rounds`` times, all cache hits: lookups/s (median and best
   round). Points within half a cell diagonal of land also pay one exact ``contains`` each.

Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import random
import re
import statistics
import time
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from _common import eprint, human_bytes, versions, versions_line

from seawatch.adapters.shore import LandmaskShore
from seawatch.core.geo import METRES_PER_NM

LON_RANGE = (85.0, 130.0)
LAT_RANGE = (-15.0, 22.0)


def vm_rss_bytes() -> int:
    """Resident set size now, from /proc (no psutil needed)."""
    match = re.search(r"VmRSS:\s+(\d+)\s+kB", Path("/proc/self/status").read_text())
    return int(match.group(1)) * 1024 if match else 0


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def latency_summary(ns: Sequence[int]) -> dict[str, float]:
    us = sorted(v / 1000 for v in ns)
    if not us:
        return {"count": 0}
    return {
        "count": len(us),
        "mean_us": statistics.fmean(us),
        "p50_us": percentile(us, 50),
        "p90_us": percentile(us, 90),
        "p99_us": percentile(us, 99),
        "max_us": us[-1],
    }


def open_sea_points(shore: LandmaskShore, n: int, seed: int) -> list[tuple[float, float]]:
    """``n`` random (lat, lon) in the region, none on land, no two in one cache cell."""
    rng = random.Random(seed)
    points: list[tuple[float, float]] = []
    cells: set[tuple[int, int]] = set()
    while len(points) < n:
        lat, lon = rng.uniform(*LAT_RANGE), rng.uniform(*LON_RANGE)
        cell = (math.floor(lat / shore.cell_deg), math.floor(lon / shore.cell_deg))
        if cell in cells or shore.is_land(lat, lon):
            continue
        cells.add(cell)
        points.append((lat, lon))
    return points


def run(n_points: int, warm_rounds: int, seed: int) -> dict[str, Any]:
    rss_before = vm_rss_bytes()
    shore = LandmaskShore()
    start = time.perf_counter()
    shore.is_land(0.0, 0.0)  # loads the mask
    first_call_s = time.perf_counter() - start
    rss_after = vm_rss_bytes()
    eprint(f"mask loaded in {shore.stats.load_s:.2f} s; drawing {n_points:,} open-sea points")

    points = open_sea_points(shore, n_points, seed)
    misses_before = shore.stats.misses

    eprint("cold pass (every lookup a cache miss)")
    gc.collect()
    gc.disable()
    try:
        cold_ns: list[int] = []
        distances: list[float] = []
        clock = time.perf_counter_ns
        start_ns = clock()
        for lat, lon in points:
            t0 = clock()
            distances.append(shore(lat, lon))
            cold_ns.append(clock() - t0)
        cold_total_s = (clock() - start_ns) / 1e9
    finally:
        gc.enable()
    cold_misses = shore.stats.misses - misses_before
    rss_cold = vm_rss_bytes()

    eprint(f"warm passes x{warm_rounds} (every lookup a cache hit)")
    hits_before = shore.stats.hits
    warm_s: list[float] = []
    for _ in range(warm_rounds):
        gc.collect()
        start = time.perf_counter()
        for lat, lon in points:
            shore(lat, lon)
        warm_s.append(time.perf_counter() - start)
    warm_hits = shore.stats.hits - hits_before

    at_cap = [ns for ns, d in zip(cold_ns, distances, strict=True) if d >= shore.cap_m]
    nearer = [ns for ns, d in zip(cold_ns, distances, strict=True) if d < shore.cap_m]
    within_half_diagonal = sum(d <= shore._half_diagonal_m for d in distances)
    return {
        "versions": {**versions(), "roaring-landmask": metadata.version("roaring-landmask")},
        "settings": {
            "cap_m": shore.cap_m,
            "cell_deg": shore.cell_deg,
            "cache_cells": shore.cache_cells,
            "region": {"lon": LON_RANGE, "lat": LAT_RANGE},
            "points": len(points),
            "seed": seed,
        },
        "load": {
            "load_s": shore.stats.load_s,
            "first_call_s": first_call_s,
            "rss_before_bytes": rss_before,
            "rss_after_load_bytes": rss_after,
            "rss_after_cold_bytes": rss_cold,
        },
        "cold": {
            "lookups": len(points),
            "cache_misses": cold_misses,
            "total_s": cold_total_s,
            "lookups_per_s": len(points) / cold_total_s,
            "latency": latency_summary(cold_ns),
            "latency_at_cap": latency_summary(at_cap),
            "latency_land_nearer": latency_summary(nearer),
            "distance_nm": {
                "median": statistics.median(distances) / METRES_PER_NM,
                "within_half_cell_diagonal": within_half_diagonal,
            },
        },
        "warm": {
            "rounds": warm_rounds,
            "lookups_per_round": len(points),
            "cache_hits": warm_hits,
            "lookups_per_s": {
                "median": len(points) / statistics.median(warm_s),
                "best": len(points) / min(warm_s),
            },
            "us_per_lookup_median": statistics.median(warm_s) / len(points) * 1e6,
        },
    }


def print_latency(label: str, lat: dict[str, float]) -> None:
    if not lat.get("count"):
        print(f"   {label:<30}{'-':>8}")
        return
    print(
        f"   {label:<30}{lat['count']:>8,}{lat['mean_us'] / 1000:>10.2f}{lat['p50_us'] / 1000:>10.2f}"
        f"{lat['p90_us'] / 1000:>10.2f}{lat['p99_us'] / 1000:>10.2f}{lat['max_us'] / 1000:>10.2f}"
    )


def run_tracks(points: list[tuple[float, float]], n_tracks: int = 100, fixes: int = 720) -> dict[str, Any]:
    """Lookups along vessel tracks (12 kn, a fix every 10 s, two hours each): the cache as ingest uses it."""
    from seawatch.core.geo import destination

    shore = LandmaskShore()
    rng = random.Random(7)
    tracks: list[list[tuple[float, float]]] = []
    for lat, lon in points[:n_tracks]:
        course = rng.uniform(0, 360)
        track = [(lat, lon)]
        for _ in range(fixes - 1):
            track.append(destination(track[-1][0], track[-1][1], course, 12 * METRES_PER_NM / 360))
        tracks.append(track)
    start = time.perf_counter()
    for step in range(fixes):  # interleaved, as fixes arrive from many vessels
        for track in tracks:
            shore(*track[step])
    elapsed = time.perf_counter() - start
    lookups = n_tracks * fixes
    return {
        "tracks": n_tracks,
        "lookups": lookups,
        "cache_misses": shore.stats.misses,
        "total_s": elapsed,
        "lookups_per_s": lookups / elapsed,
        "us_per_lookup": elapsed / lookups * 1e6,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--points", type=int, default=4000, help="random open-sea points (default 4,000)")
    parser.add_argument("--warm-rounds", type=int, default=20, help="warm passes over the points (default 20)")
    parser.add_argument("--seed", type=int, default=1, help="random seed for the points")
    parser.add_argument("--json", action="store_true", help="print machine-readable results only")
    args = parser.parse_args(argv)

    res = run(args.points, args.warm_rounds, args.seed)
    res["tracks"] = run_tracks(open_sea_points(LandmaskShore(), 100, args.seed + 1))
    if args.json:
        print(json.dumps(res, indent=2))
        return 0

    st, ld, cold, warm = res["settings"], res["load"], res["cold"], res["warm"]
    print("Seawatch shore-distance benchmark: LandmaskShore over roaring-landmask's GSHHG mask")
    print(f"   {versions_line()}, roaring-landmask {res['versions']['roaring-landmask']}")
    print(
        f"   cap {st['cap_m'] / METRES_PER_NM:.0f} nm ({st['cap_m']:,.0f} m), cache cells {st['cell_deg']}°, "
        f"cache bound {st['cache_cells']:,} cells; {st['points']:,} random open-sea points in lon "
        f"{st['region']['lon'][0]:g}–{st['region']['lon'][1]:g}, lat {st['region']['lat'][0]:g}–"
        f"{st['region']['lat'][1]:g} (seed {st['seed']}), one per cache cell"
    )
    print()
    print("== load (first lookup)")
    print(f"   mask load {ld['load_s']:.2f} s (first call {ld['first_call_s']:.2f} s)")
    print(
        f"   VmRSS {human_bytes(ld['rss_before_bytes'])} before, {human_bytes(ld['rss_after_load_bytes'])} after "
        f"the load (+{human_bytes(ld['rss_after_load_bytes'] - ld['rss_before_bytes'])}), "
        f"{human_bytes(ld['rss_after_cold_bytes'])} after the cold pass"
    )
    print()
    print("== cold lookups (cache misses: a full search each)")
    print(
        f"   {cold['lookups']:,} lookups, {cold['cache_misses']:,} cache misses, {cold['total_s']:.2f} s: "
        f"{cold['lookups_per_s']:,.0f} lookups/s"
    )
    print(
        f"   median distance {cold['distance_nm']['median']:.1f} nm; "
        f"{cold['distance_nm']['within_half_cell_diagonal']:,} points within half a cell diagonal of land"
    )
    print(f"   {'latency, ms':<30}{'n':>8}{'mean':>10}{'p50':>10}{'p90':>10}{'p99':>10}{'max':>10}")
    print_latency("all", cold["latency"])
    print_latency("no land within the cap", cold["latency_at_cap"])
    print_latency("land nearer than the cap", cold["latency_land_nearer"])
    print()
    print("== warm lookups (cache hits)")
    print(
        f"   {warm['rounds']} rounds x {warm['lookups_per_round']:,} lookups, {warm['cache_hits']:,} cache hits: "
        f"{warm['lookups_per_s']['median']:,.0f} lookups/s median, {warm['lookups_per_s']['best']:,.0f} best "
        f"({warm['us_per_lookup_median']:.2f} µs each)"
    )
    tr = res["tracks"]
    print()
    print("== along tracks (100 vessels at 12 kn, a fix every 10 s for 2 h, interleaved)")
    print(
        f"   {tr['lookups']:,} lookups, {tr['cache_misses']:,} cache misses, {tr['total_s']:.2f} s: "
        f"{tr['lookups_per_s']:,.0f} lookups/s ({tr['us_per_lookup']:.1f} µs each on average)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
