"""Benchmark: `seawatch replay` over a 2,000,000-message archive: throughput and peak memory.

The archive is built by ``scripts/make_big_log.py`` from the real recordings (shifted
MMSIs and times, gzip) unless it exists already. The replay runs as its own process,
exactly as an analyst runs it, with every detector and the coastline mask; its peak
resident memory is the child's ``ru_maxrss``. Figures are printed, never asserted.

    .venv/bin/python benchmarks/bench_big_replay.py [--messages 2000000] [--archive /tmp/seawatch-2m.nmea.gz]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--messages", type=int, default=2_000_000)
    parser.add_argument("--archive", type=Path, default=Path("/tmp/seawatch-2m.nmea.gz"))
    args = parser.parse_args()
    if not args.archive.is_file():
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "scripts" / "make_big_log.py"),
                "--messages",
                str(args.messages),
                "--out",
                str(args.archive),
            ],
            check=True,
        )
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "seawatch.cli", "replay", str(args.archive), "-o", "/dev/null", "--no-progress"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    if result.returncode != 0:
        print(result.stderr[-2000:], file=sys.stderr)
        return 1
    print("Seawatch big-archive replay (every detector, coastline mask on)")
    print(f"   {args.archive} ({args.archive.stat().st_size / 1e6:.0f} MB gzip)")
    print(
        f"   {args.messages:,} messages in {elapsed:.0f} s: {args.messages / elapsed:,.0f} msg/s; "
        f"peak RSS {peak_mb:,.0f} MB"
    )
    print("   " + result.stderr.strip().splitlines()[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
