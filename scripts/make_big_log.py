"""Build a large AIS archive (default 2,000,000 messages, gzip) from the real recordings.

For the analyst-replay acceptance test of memory: real sentences from tests/data/ais
(their sources and licences are in tests/data/ais/SOURCES.md), repeated with shifted
MMSIs (``--fleets`` sets of them, cycled) and shifted times (a tag block ``c:`` advancing
20 messages a second, like a busy receiver), so the archive is as long as a day of a
national network. MMSIs are rewritten in the six-bit payload itself (bits 8-37) and
the checksum recomputed, so every line is a valid sentence. Deterministic.

    .venv/bin/python scripts/make_big_log.py [--messages 2000000] [--out /tmp/seawatch-2m.nmea.gz]
"""

from __future__ import annotations

import argparse
import gzip
import re
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "data" / "ais"
SENTENCE = re.compile(rb"!(AI|BS)VD[MO],1,1,[^,]*,[AB12]?,([0-9:;<=>?@A-W`a-w]+),0\*[0-9A-Fa-f]{2}")
START = 1_772_323_200  # 2026-03-01T00:00:00Z
RATE = 20  # messages a second of event time


def checksum(body: bytes) -> int:
    value = 0
    for byte in body:
        value ^= byte
    return value


def six(char: int) -> int:
    v = char - 48
    return v - 8 if v > 40 else v


def armor(value: int) -> int:
    return value + 48 if value < 40 else value + 56


def with_mmsi(payload: bytes, mmsi: int) -> bytes:
    bits = 0
    for c in payload[:7]:
        bits = (bits << 6) | six(c)  # 42 bits: type (6), repeat (2), MMSI (30), 4 more
    bits = (bits & ~(((1 << 30) - 1) << 4)) | (mmsi << 4)
    head = bytes(armor((bits >> (6 * (6 - i))) & 63) for i in range(7))
    return head + payload[7:]


def base_sentences() -> list[tuple[bytes, int]]:
    found: list[tuple[bytes, int]] = []
    for path in sorted(p for p in DATA.rglob("*") if p.is_file() and p.suffix not in (".md", ".json")):
        for line in path.read_bytes().splitlines():
            m = SENTENCE.search(line)
            if m is None or len(m.group(2)) < 28:
                continue
            payload = m.group(2)
            bits = 0
            for c in payload[:7]:
                bits = (bits << 6) | six(c)
            if bits >> 36 not in (1, 2, 3, 18, 5, 24):
                continue
            found.append((payload, (bits >> 4) & ((1 << 30) - 1)))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=2_000_000)
    parser.add_argument("--out", type=Path, default=Path("/tmp/seawatch-2m.nmea.gz"))
    parser.add_argument(
        "--fleets",
        type=int,
        default=4,
        help="MMSI shifts cycled through (default 4: about 6,000 vessels, a national network)",
    )
    args = parser.parse_args(argv)
    base = base_sentences()
    started = time.monotonic()
    with gzip.open(args.out, "wb", compresslevel=5) as out:
        for n in range(args.messages):
            copy, index = divmod(n, len(base))
            payload, mmsi = base[index]
            shifted = (mmsi + (copy % args.fleets) * 1_000_003) % 1_000_000_000
            body = b"AIVDM,1,1,,A," + with_mmsi(payload, shifted) + b",0"
            tag = b"c:%d" % (START + n // RATE)
            out.write(b"\\%s*%02X\\!%s*%02X\n" % (tag, checksum(tag), body, checksum(body)))
    size = args.out.stat().st_size
    print(
        f"{args.messages:,} messages from {len(base):,} real sentences -> {args.out} ({size / 1e6:.0f} MB) "
        f"in {time.monotonic() - started:.0f} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
