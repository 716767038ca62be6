"""Drills: test transmissions that go through the live pipeline and reach partners flagged as tests.

A drill's lines carry a tag-block source beginning ``drill:``. The watch marks every
vessel heard from such a source, and every alert about one of them is ``test: true``
(CAP ``status Test``), whatever the detector said, so a drill can never look like a
real distress to a partner. A beacon drill sends what an AIS-SART sends in test mode
(ITU-R M.1371 / IEC 61097-14): position reports with navigational status 15 in bursts
of eight a minute, and a message 14 "SART TEST". A scenario drill is the scenario
published by :func:`seawatch.service.publish_log` with its receivers re-labelled ``drill:``.
"""

from __future__ import annotations

import random
import time

import pyais

from seawatch.core.lines import tag_block
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
