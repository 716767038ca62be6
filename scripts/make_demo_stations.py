#!/usr/bin/env python3
"""Generate replay_data/demo_stations.nmea: the demo receivers' own base stations, heard all lap long.

Why: ``seawatch demo`` plays several scenarios together as one sea, all starting at the same time. Each
scenario's receiver hears only that scenario's vessels, so a receiver whose story is short (the beacons off
Christmas Island last half an hour, the Timor Sea craft three hours) fell silent for the rest of each lap, and
after ten minutes of event time the feed-outage detector rightly reported it: the demo opened a
``feed_outage`` for ``rx-christmas`` within three minutes. A real coast station is never that quiet: it hears
its own AIS base station (message 4, every 10 s by ITU-R M.1371). This file gives each demo receiver that
base station, one report a minute from the first to the last event time of the demo scenarios, so every
receiver speaks for the whole lap. Base stations are not vessels: they raise no alert and draw nothing on
the map.

The output is deterministic; ``tests/unit/test_demo_feed.py`` checks the committed file is what this script
writes and that the demo feed raises only the alerts its scenarios expect.

Usage:
    .venv/bin/python scripts/make_demo_stations.py           # write replay_data/demo_stations.nmea
    .venv/bin/python scripts/make_demo_stations.py --check   # write nothing; exit 1 if the file is stale
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pyais

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere: the seawatch package sits next to scripts/
    sys.path.insert(0, str(ROOT))

from seawatch.config.settings import DEMO_SCENARIOS, DEMO_STATIONS, SCENARIO_DIR  # noqa: E402
from seawatch.core.lines import parse_tag_block, tag_block  # noqa: E402

OUT = ROOT / DEMO_STATIONS
INTERVAL_S = 60  # one base-station report a minute: far inside the 10 min outage gap, small on disk

# Receiver -> (base station MMSI, lat, lon). Base station MMSIs are 00 + MID + 4 digits (ITU-R M.585);
# positions are the ports the receivers are named after.
STATIONS: dict[str, tuple[int, float, float]] = {
    "rx-andaman": (4_190_001, 11.6670, 92.7360),  # Port Blair, India (MID 419)
    "rx-belawan": (5_250_003, 3.7900, 98.6900),  # Belawan, Indonesia (MID 525)
    "rx-christmas": (5_030_001, -10.4220, 105.6790),  # Flying Fish Cove, Christmas Island (MID 503)
    "rx-klang": (5_330_001, 3.0000, 101.3900),  # Port Klang, Malaysia (MID 533)
    "rx-penang": (5_330_002, 5.4140, 100.3450),  # George Town, Penang, Malaysia
    "rx-sabang": (5_250_001, 5.8930, 95.3200),  # Sabang, Pulau Weh, Indonesia
    "rx-timor": (5_250_002, -10.1700, 123.5800),  # Kupang, West Timor, Indonesia
}


def scenario_paths(names: Sequence[str] = DEMO_SCENARIOS) -> list[Path]:
    return [ROOT / SCENARIO_DIR / f"{name}.nmea" for name in names]


def receivers_and_span(paths: Iterable[Path]) -> tuple[set[str], int, int]:
    """The receivers the scenarios name, and their first and last event time (epoch seconds)."""
    receivers: set[str] = set()
    first, last = None, None
    for path in paths:
        for line in path.read_bytes().splitlines():
            end = line.find(b"\\", 1) if line[:1] == b"\\" else -1
            tag = parse_tag_block(line[1:end]) if end > 0 else None
            if tag is None or tag.when is None or not tag.source:
                continue
            receivers.add(tag.source)
            t = int(tag.when.timestamp())
            first = t if first is None or t < first else first
            last = t if last is None or t > last else last
    if first is None or last is None:
        raise SystemExit("the demo scenarios carry no tag-block times")
    return receivers, first, last


def base_station_lines(
    receiver: str, mmsi: int, lat: float, lon: float, first: int, last: int
) -> list[tuple[int, str]]:
    out = []
    for t in range(first, last + 1, INTERVAL_S):
        when = datetime.fromtimestamp(t, UTC)
        fields = {
            "msg_type": 4,
            "mmsi": mmsi,
            "year": when.year,
            "month": when.month,
            "day": when.day,
            "hour": when.hour,
            "minute": when.minute,
            "second": when.second,
            "accuracy": 1,
            "lon": lon,
            "lat": lat,
            "epfd": 7,  # surveyed
        }
        for sentence in pyais.encode_dict(fields, talker_id="AI", sentence_type="VDM", radio_channel="A"):
            out.append((t, tag_block(f"s:{receiver},c:{t}").decode() + sentence))
    return out


def render() -> str:
    receivers, first, last = receivers_and_span(scenario_paths())
    missing = sorted(receivers - set(STATIONS))
    if missing:
        raise SystemExit(f"no base station for receiver(s) {', '.join(missing)}: add them to STATIONS")
    lines: list[tuple[int, str]] = []
    for receiver in sorted(receivers):
        mmsi, lat, lon = STATIONS[receiver]
        lines += base_station_lines(receiver, mmsi, lat, lon, first, last)
    lines.sort(key=lambda item: item[0])  # stable: receivers stay in name order within a second
    return "".join(line + "\n" for _, line in lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if the file is stale")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = OUT.read_text(encoding="ascii") if OUT.is_file() else ""
        if current != text:
            print(f"{OUT.relative_to(ROOT)} is stale: run scripts/make_demo_stations.py", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text, encoding="ascii")
    print(f"wrote {OUT.relative_to(ROOT)} ({text.count(chr(10)):,} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
