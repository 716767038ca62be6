"""Drills: test transmissions that go through the live pipeline and reach partners flagged as tests.

A drill's lines carry a tag-block source beginning ``drill:``. The watch marks every
vessel heard from such a source, and every alert about one of them is ``test: true``
(CAP ``status Test``), whatever the detector said, so a drill can never look like a
real distress to a partner. A beacon drill sends what an AIS-SART sends in test mode
(ITU-R M.1371 / IEC 61097-14): position reports with navigational status 15 in bursts
of eight a minute, and a message 14 "SART TEST".
"""

from __future__ import annotations

import random
import time
from pathlib import Path

import pyais

from seawatch.core.lines import TagBlock, parse_tag_block, strip_wrapping, tag_block
from seawatch.core.watch import DRILL_PREFIX


def drill_lines(
    lat: float, lon: float, minutes: int, start: float | None = None, mmsi: int | None = None
) -> list[bytes]:
    """An AIS-SART in test mode for ``minutes``, stamped from ``start`` (UNIX seconds, default now)."""
    t0 = int(time.time() if start is None else start)
    beacon = mmsi if mmsi is not None else 970_990_000 + random.randrange(10_000)
    lines: list[bytes] = []
    for minute in range(max(1, minutes)):
        for burst in range(8):  # 8 reports a minute, 7.5 s apart (rounded to whole seconds in c:)
            t = t0 + minute * 60 + burst * 7
            fields: dict[str, str | int | float | bytes | bool] = {
                "msg_type": 1,
                "mmsi": beacon,
                "lat": lat,
                "lon": lon,
                "status": 15,
                "speed": 0.0,
            }
            for sentence in pyais.encode_dict(fields, talker_id="AI", radio_channel="A"):
                lines.append(tag_block(f"s:{DRILL_PREFIX}beacon,c:{t}") + sentence.encode())
        text: dict[str, str | int | float | bytes | bool] = {"msg_type": 14, "mmsi": beacon, "text": "SART TEST"}
        for sentence in pyais.encode_dict(text, talker_id="AI", radio_channel="A"):
            lines.append(tag_block(f"s:{DRILL_PREFIX}beacon,c:{t0 + minute * 60 + 3}") + sentence.encode())
    return lines


def scenario_drill_lines(path: Path, start: float | None = None, speed: float = 1.0) -> list[bytes]:
    """A recorded or scripted log as a drill, sources ``drill:…``, re-stamped for publishing at ``speed``.

    The stamps keep the log's own durations (detectors must see a real 45-minute drift)
    and end at the moment the last line is published, so no line is ever stamped ahead
    of its arrival (the decoder distrusts times from the future).
    """
    now = time.time() if start is None else start
    times = [tag.when.timestamp() for tag in _tags(path) if tag.when is not None]
    span = (max(times) - min(times)) if times else 0.0
    t0 = now + span / speed - span if speed > 1 else now
    out: list[bytes] = []
    first: float | None = None
    for raw in path.read_bytes().splitlines():
        line = raw.strip()
        if not line:
            continue
        station = "log"
        when: float | None = None
        if line[:1] == b"\\":
            end = line.find(b"\\", 1)
            tag = parse_tag_block(line[1:end])
            if tag.when is not None:
                when = tag.when.timestamp()
            if tag.source:
                station = tag.source
            line = line[end + 1 :]
        line = strip_wrapping(line)[0]
        if when is None:
            continue  # a drill is paced by its times: untimed lines are left out
        if first is None:
            first = when
        stamp = int(t0 + (when - first))  # never later than its publish time: see the docstring
        out.append(tag_block(f"s:{DRILL_PREFIX}{station},c:{stamp}") + line)
    return out


def _tags(path: Path) -> list[TagBlock]:
    tags = []
    for raw in path.read_bytes().splitlines():
        line = raw.strip()
        if line[:1] == b"\\":
            tags.append(parse_tag_block(line[1 : line.find(b"\\", 1)]))
    return tags
