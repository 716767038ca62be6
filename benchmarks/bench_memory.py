"""Benchmark (c): memory per tracked vessel with 100,000 vessels in the Pipeline's state.

Run from the repository root::

    .venv/bin/python benchmarks/bench_memory.py [--vessels 100000] [--fixes 10] [--rebuild] [--json]

Input: ``--vessels`` distinct MMSIs, 80 % sending type 1 and 20 % type 18 position reports, and a
two-fragment type 5 static report for every third vessel. The first fix of every vessel and the
static reports are encoded with ``pyais.encode_dict``; later fixes are that first sentence with its
longitude and latitude moved 0.001 degree per fix (bit-edited here, a sample is checked with
``pyais.decode``), so building a million sentences takes seconds rather than a minute. Every line
carries an NMEA 4 tag block ``c:`` time, 10 s apart from one fix to the next, so a track holds one
point per fix. The sentences are built once and cached in the temp directory (``--rebuild`` redoes it).

Two scenarios: (i) one fix per vessel, (ii) ``--fixes`` fixes per vessel. Each is measured in a
fresh child process, twice: with ``tracemalloc`` (Python allocations still alive once everything
is fed) and with the resident set size from psutil (what the OS sees, allocator overhead
included). Lines are streamed from the cache file so only the Pipeline's state stays behind.
Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import binascii
import gc
import json
import linecache
import os
import random
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pyais
from _common import REPO_ROOT, eprint, human_bytes, rss_bytes, versions, versions_line

from seawatch.core.lines import nmea_checksum, tag_block

CACHE_VERSION = 1
FIRST_MMSI = 201_000_000
T0 = 1_700_000_000  # 2023-11-14T22:13:20Z
FIX_INTERVAL_S = 10
STEP_RAW = 600  # 0.001 degree in the 1/10000-minute units of a position report

# Six-bit armouring <-> base64, so binascii does the bit packing.
_ARMOR = bytes(range(48, 88)) + bytes(range(96, 120))
_BASE64 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_TO_BASE64 = bytes.maketrans(_ARMOR, _BASE64)
_FROM_BASE64 = bytes.maketrans(_BASE64, _ARMOR)
# Bit offsets (from the end of the 168-bit payload) of longitude and latitude.
_SHIFTS = {1: (79, 52), 18: (83, 56)}
_LON_MASK = 0xFFFFFFF
_LAT_MASK = 0x7FFFFFF


# ----------------------------------------------------------------------------- input
def event_time(fix: int, index: int, vessels: int) -> int:
    return T0 + FIX_INTERVAL_S * fix + (FIX_INTERVAL_S * index) // vessels


def _signed(value: int, bits: int) -> int:
    return value - (1 << bits) if value & (1 << (bits - 1)) else value


def moved(payload: bytes, msg_type: int, fix: int) -> tuple[bytes, int, int]:
    """The payload with lon/lat moved ``fix`` steps; also the new raw lon and lat."""
    lon_shift, lat_shift = _SHIFTS[msg_type]
    v = int.from_bytes(binascii.a2b_base64(payload.translate(_TO_BASE64)), "big")
    lon = _signed((v >> lon_shift) & _LON_MASK, 28) + STEP_RAW * fix
    lat = _signed((v >> lat_shift) & _LAT_MASK, 27) + STEP_RAW * fix
    v &= ~((_LON_MASK << lon_shift) | (_LAT_MASK << lat_shift))
    v |= ((lon & _LON_MASK) << lon_shift) | ((lat & _LAT_MASK) << lat_shift)
    out = binascii.b2a_base64(v.to_bytes(21, "big"), newline=False).translate(_FROM_BASE64)
    return out, lon, lat


def sentence(channel: bytes, payload: bytes) -> bytes:
    body = b"AIVDM,1,1,,%s,%s,0" % (channel, payload)
    return b"!%s*%02X" % (body, nmea_checksum(body))


def build_cache(vessels: int, fixes: int, directory: Path) -> dict[str, Any]:
    """Write ``round0.nmea`` (first fixes + statics) and ``later.nmea`` (fixes 2..N)."""
    directory.mkdir(parents=True, exist_ok=True)
    rng = random.Random(20_240_601)
    started = time.perf_counter()
    first: list[bytes] = []
    templates: list[tuple[int, bytes, bytes]] = []  # (type, channel, payload)
    statics = 0
    for i in range(vessels):
        msg_type = 18 if i % 5 == 4 else 1
        data: dict[str, str | int | float | bytes | bool] = {
            "type": msg_type,
            "mmsi": FIRST_MMSI + i,
            "lat": round(rng.uniform(-60.0, 60.0), 4),
            "lon": round(rng.uniform(-170.0, 170.0), 4),
            "speed": round(rng.uniform(0.0, 20.0), 1),
            "course": round(rng.uniform(0.0, 359.9), 1),
            "heading": rng.randrange(360),
        }
        if msg_type == 1:
            data["status"] = 0
        channel = "AB"[i % 2]
        [text] = pyais.encode_dict(data, talker_id="AI", sentence_type="VDM", radio_channel=channel)
        tag = tag_block(f"c:{event_time(0, i, vessels)}")
        first.append(tag + text.encode("ascii"))
        templates.append((msg_type, channel.encode(), text.encode("ascii").split(b",")[5]))
        if i % 3 == 0:
            statics += 1
            static = {
                "type": 5,
                "mmsi": FIRST_MMSI + i,
                "imo": 9_000_000 + i,
                "callsign": f"SW{i:05d}"[-7:],
                "shipname": f"SEAWATCH TEST {i}",
                "ship_type": 70,
                "to_bow": 90,
                "to_stern": 30,
                "to_port": 10,
                "to_starboard": 12,
                "draught": 7.5,
                "destination": "ROTTERDAM",
            }
            parts = pyais.encode_dict(static, talker_id="AI", sentence_type="VDM", radio_channel=channel, seq_id=i % 10)
            first.extend(tag + part.encode("ascii") for part in parts)
    encoded_s = time.perf_counter() - started

    later: list[bytes] = []
    checks: list[tuple[bytes, int, int, int]] = []
    pick = random.Random(7)
    for fix in range(1, fixes):
        for i, (msg_type, channel, payload) in enumerate(templates):
            new, lon, lat = moved(payload, msg_type, fix)
            line = tag_block(f"c:{event_time(fix, i, vessels)}") + sentence(channel, new)
            later.append(line)
            if pick.random() < 500 / (vessels * fixes):
                checks.append((line, FIRST_MMSI + i, lon, lat))
    for line, mmsi, lon, lat in checks:
        msg = pyais.decode(line, error_if_checksum_invalid=True)
        if msg.mmsi != mmsi or abs(msg.lon - lon / 600_000) > 1e-6 or abs(msg.lat - lat / 600_000) > 1e-6:
            raise RuntimeError(f"bit-edited sentence does not decode as intended: {line!r} -> {msg}")

    (directory / "round0.nmea").write_bytes(b"\n".join(first) + b"\n")
    (directory / "later.nmea").write_bytes(b"\n".join(later) + b"\n" if later else b"")
    info = {
        "vessels": vessels,
        "fixes": fixes,
        "statics": statics,
        "round0_lines": len(first),
        "later_lines": len(later),
        "checked_with_pyais": len(checks),
        "pyais_encode_s": encoded_s,
        "build_s": time.perf_counter() - started,
    }
    (directory / "complete.json").write_text(json.dumps(info))
    return info


def cached_input(vessels: int, fixes: int, rebuild: bool) -> tuple[Path, dict[str, Any], bool]:
    directory = Path(tempfile.gettempdir()) / f"seawatch-bench-memory-v{CACHE_VERSION}-{vessels}x{fixes}"
    marker = directory / "complete.json"
    if marker.exists() and not rebuild:
        return directory, json.loads(marker.read_text()), True
    marker.unlink(missing_ok=True)
    eprint(f"encoding {vessels:,} vessels x {fixes} fixes into {directory} (once; later runs reuse it)")
    return directory, build_cache(vessels, fixes, directory), False


# ----------------------------------------------------------------------------- measurement (child)
def measure(mode: str, files: Sequence[Path], top_sites: bool) -> dict[str, Any]:
    """Feed the files into a fresh Pipeline; memory still held afterwards, and what is in the state.

    Under tracemalloc every allocation costs a trace, so the lines are read into memory before
    tracing starts (they are then not counted, and reading them costs no traces); for the RSS
    figure they are streamed, so they never add to the resident set. ``top_sites`` also lists
    where the memory was allocated (a snapshot of millions of traces takes a while).
    """
    from seawatch.core.pipeline import Pipeline

    preloaded: list[bytes] = []
    if mode == "tracemalloc":
        for path in files:
            with path.open("rb") as f:
                preloaded.extend(f)
    gc.collect()
    if mode == "tracemalloc":
        tracemalloc.start(1)
        base = tracemalloc.get_traced_memory()[0]
    else:
        rss_bytes()  # load psutil before the baseline
        base = rss_bytes()
    started = time.perf_counter()
    pipeline = Pipeline()
    feed = pipeline.feed
    lines = 0
    if preloaded:
        for line in preloaded:
            feed(line)
        lines = len(preloaded)
    else:
        for path in files:
            with path.open("rb") as f:
                for line in f:
                    feed(line)
                    lines += 1
    pipeline.finish()
    feed_s = time.perf_counter() - started
    gc.collect()
    result: dict[str, Any] = {"mode": mode, "lines": lines, "feed_s": feed_s}
    if mode == "tracemalloc":
        current, peak = tracemalloc.get_traced_memory()
        result["bytes"] = current - base
        result["peak_bytes"] = peak - base
        result["top"] = []
        if top_sites:
            snapshot = tracemalloc.take_snapshot()
            result["top"] = [
                {
                    "where": f"{short_path(stat.traceback[0].filename)}:{stat.traceback[0].lineno}",
                    "code": linecache.getline(stat.traceback[0].filename, stat.traceback[0].lineno).strip(),
                    "bytes": stat.size,
                    "blocks": stat.count,
                }
                for stat in snapshot.statistics("lineno")[:8]
            ]
        tracemalloc.stop()
    else:
        result["bytes"] = rss_bytes() - base
    fleet = pipeline.fleet
    points = Counter(len(v.track) for v in fleet)
    result["vessels"] = len(fleet)
    result["track_points"] = {str(k): n for k, n in sorted(points.items())}
    result["with_name"] = sum(1 for v in fleet if v.name is not None)
    result["rejects"] = dict(pipeline.decoder.stats.rejects)
    result["duplicates"] = fleet.stats.duplicates
    return result


def short_path(filename: str) -> str:
    path = Path(filename)
    for root in (REPO_ROOT, Path(sys.prefix)):
        if path.is_relative_to(root):
            return str(path.relative_to(root))
    return filename


def run_child(mode: str, files: Sequence[Path], top_sites: bool) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--measure", mode, *map(str, files)]
    if top_sites:
        cmd.append("--top-sites")
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"measurement child failed ({done.returncode}):\n{done.stderr}")
    parsed: dict[str, Any] = json.loads(done.stdout)
    parsed["child_s"] = time.perf_counter() - started
    return parsed


# ----------------------------------------------------------------------------- report
def print_report(results: dict[str, Any]) -> None:
    info = results["input"]
    n = info["vessels"]
    print(f"Seawatch memory benchmark (c): Pipeline state with {n:,} tracked vessels")
    print(f"   {versions_line()}")
    print(
        f"   input: {n:,} distinct MMSIs (80 % type 1, 20 % type 18), a 2-fragment type 5 for "
        f"{info['statics']:,} of them (every third); tag block c: times, {FIX_INTERVAL_S} s between fixes"
    )
    built = "reused" if results["cache_reused"] else f"built in {info['build_s']:.1f} s"
    print(
        "   first fixes and statics encoded with pyais.encode_dict, later fixes bit-edited "
        f"(lat/lon +0.001 deg per fix; {info['checked_with_pyais']} checked with pyais.decode)"
    )
    print(f"   input cache: {results['cache']} ({built})")
    print(
        "   each figure from a fresh child process (run side by side, so feed rates are indicative only); "
        "lines streamed from the cache; default PipelineOptions"
    )
    print()
    print(
        f"   {'scenario':<18}{'lines fed':>11}{'vessels':>10}{'points/vessel':>15}{'named':>9}"
        f"{'tracemalloc':>14}{'per vessel':>12}{'RSS':>12}{'per vessel':>12}{'feed lines/s':>14}"
    )
    for sc in results["scenarios"]:
        tm, rss = sc["tracemalloc"], sc["rss"]
        spread = tm["track_points"]
        points = ", ".join(k if len(spread) == 1 else f"{k}:{v}" for k, v in spread.items())
        print(
            f"   {sc['name']:<18}{tm['lines']:>11,}{tm['vessels']:>10,}{points:>15}{tm['with_name']:>9,}"
            f"{human_bytes(tm['bytes']):>14}{tm['bytes'] / tm['vessels']:>10,.0f} B"
            f"{human_bytes(rss['bytes']):>12}{rss['bytes'] / rss['vessels']:>10,.0f} B"
            f"{rss['lines'] / rss['feed_s']:>14,.0f}"
        )
    if len(results["scenarios"]) == 2:
        one, many = results["scenarios"]
        extra_points = (many["fixes"] - one["fixes"]) * n
        if extra_points:
            per_point = (many["tracemalloc"]["bytes"] - one["tracemalloc"]["bytes"]) / extra_points
            print(f"   each further track point costs about {per_point:,.0f} B (tracemalloc, (ii) - (i))")
    for sc in results["scenarios"]:
        tm = sc["tracemalloc"]
        print(
            f"   {sc['name']}: tracemalloc peak while feeding {human_bytes(tm['peak_bytes'])}; "
            f"decoder rejects {tm['rejects'] or 'none'}; fleet duplicates {tm['duplicates']}"
        )
    for sc in results["scenarios"]:
        tm = sc["tracemalloc"]
        if not tm["top"]:
            continue
        print()
        print(f"   where the memory of {sc['name']} is (tracemalloc, top allocation sites still alive):")
        for top in tm["top"]:
            code = top["code"] or ("NamedTuple __new__: TrackPoint / report tuples" if top["where"][:1] == "<" else "")
            where = f"{top['where']}  {code[:60]}" if code else top["where"]
            print(f"     {human_bytes(top['bytes']):>11}  {top['blocks']:>10,} blocks  {where}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--vessels", type=int, default=100_000, help="distinct MMSIs in state (default 100,000)")
    parser.add_argument("--fixes", type=int, default=10, help="fixes per vessel in scenario (ii) (default 10)")
    parser.add_argument("--rebuild", action="store_true", help="re-encode the input instead of reusing the cache")
    parser.add_argument(
        "--jobs", type=int, default=min(2, os.cpu_count() or 1), help="child processes at a time (default: 2)"
    )
    parser.add_argument(
        "--top-sites",
        action="store_true",
        help="list top allocation sites for every scenario, not only (i) (adds ~15 s at 100k vessels)",
    )
    parser.add_argument("--json", action="store_true", help="print machine-readable results only")
    parser.add_argument("--measure", choices=("tracemalloc", "rss"), help=argparse.SUPPRESS)
    parser.add_argument("files", nargs="*", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.measure:
        print(json.dumps(measure(args.measure, args.files, args.top_sites)))
        return 0
    if args.vessels < 1 or args.vessels > 500_000_000 or args.fixes < 1 or args.jobs < 1:
        parser.error("--vessels must be 1..500,000,000, --fixes and --jobs at least 1")

    directory, info, reused = cached_input(args.vessels, args.fixes, args.rebuild)
    plan = [("(i) 1 fix", 1, [directory / "round0.nmea"])]
    if args.fixes > 1:
        plan.append((f"(ii) {args.fixes} fixes", args.fixes, [directory / "round0.nmea", directory / "later.nmea"]))
    # Every child is its own process, so they can run side by side: memory figures do not depend
    # on it; only the incidental feed rates share the CPUs. Longest jobs first.
    jobs = [(name, mode, files) for name, _, files in reversed(plan) for mode in ("tracemalloc", "rss")]
    eprint(f"measuring {len(jobs)} child processes, {args.jobs} at a time")
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = {
            (name, mode): pool.submit(run_child, mode, files, args.top_sites or name == plan[0][0])
            for name, mode, files in jobs
        }
        measured = {key: future.result() for key, future in futures.items()}
    scenarios = [
        {
            "name": name,
            "fixes": fixes,
            "tracemalloc": measured[(name, "tracemalloc")],
            "rss": measured[(name, "rss")],
        }
        for name, fixes, _ in plan
    ]
    results = {
        "versions": versions(),
        "input": info,
        "cache": str(directory),
        "cache_reused": reused,
        "scenarios": scenarios,
    }
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print_report(results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
