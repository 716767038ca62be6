"""Hostile MQTT payloads for the fuzz tests: real sentences mutated, tag blocks, JSON, junk.

Each payload is built from a kind and a seed, so a failing case is reproduced by its
``(kind, seed)`` alone (Hypothesis shrinks over them). Valid messages to put between the
hostile ones come from :func:`valid_payload`: one position report per number, each from
its own MMSI, so a test can tell exactly which of them reached the fleet.
"""

from __future__ import annotations

import json
import random
from functools import cache
from pathlib import Path

import pyais

from seawatch.core.lines import nmea_checksum, tag_block

DATA = Path(__file__).resolve().parent / "data" / "ais"
KINDS = ("mutated", "tagged", "json", "fragments", "junk", "gatehouse", "mixed", "huge")
VALID_MMSI_BASE = 211_000_000  # Germany's MID: valid, and far from the recordings' MMSIs


@cache
def real_sentences() -> tuple[bytes, ...]:
    """AIS sentences (single and multipart) from the recordings under tests/data/ais."""
    found: list[bytes] = []
    for name in ("dma-aislib/stream_example.txt", "pyais/tests/nmea_data_sample.txt", "libais/typeexamples.nmea"):
        for raw in (DATA / name).read_bytes().splitlines():
            start = raw.find(b"!")
            if start != -1 and raw[start + 3 : start + 6] in (b"VDM", b"VDO"):
                found.append(raw[start:].strip())
    return tuple(found)


def valid_payload(number: int, epoch: int) -> tuple[bytes, int]:
    """A clean position report from MMSI ``VALID_MMSI_BASE + number``, tagged with ``epoch``."""
    mmsi = VALID_MMSI_BASE + number
    fields = {"msg_type": 1, "mmsi": mmsi, "lat": 6.0 + number % 100 / 100, "lon": 96.0, "speed": 5.0, "course": 90}
    (sentence,) = pyais.encode_dict(fields, talker_id="AI", radio_channel="A")
    return tag_block(f"s:rx-valid,c:{epoch}") + sentence.encode(), mmsi


def _with_checksum(body: bytes, start: bytes = b"!") -> bytes:
    return start + body + b"*%02X" % nmea_checksum(body)


def _mutate(rng: random.Random, sentence: bytes) -> bytes:
    data = bytearray(sentence)
    for _ in range(rng.randint(1, 4)):
        how = rng.randrange(9)
        if how == 0 and data:  # flip a byte
            data[rng.randrange(len(data))] = rng.randrange(256)
        elif how == 1:  # truncate
            del data[rng.randrange(len(data) + 1) :]
        elif how == 2:  # insert junk
            at = rng.randrange(len(data) + 1)
            data[at:at] = rng.randbytes(rng.randint(1, 40))
        elif how == 3:  # duplicate a field
            fields = bytes(data).split(b",")
            fields.insert(rng.randrange(len(fields) + 1), rng.choice(fields))
            data = bytearray(b",".join(fields))
        elif how == 4:  # a field of absurd size, checksum fixed so it gets far
            fields = bytes(data).split(b"*")[0].lstrip(b"!").split(b",")
            fields[rng.randrange(len(fields))] = rng.choice([b"9" * 5000, b"0" * 300, b"-1", b"", b"\x00"])
            data = bytearray(_with_checksum(b",".join(fields)))
        elif how == 5:  # part numbers and counts out of range, checksum fixed
            fields = bytes(data).split(b"*")[0].lstrip(b"!").split(b",")
            if len(fields) > 3:
                fields[1], fields[2] = rng.choice(
                    [(b"0", b"1"), (b"2", b"3"), (b"10", b"1"), (b"9", b"9"), (b"a", b"")]
                )
            data = bytearray(_with_checksum(b",".join(fields)))
        elif how == 6:  # a six-bit payload of random (even valid) characters
            fields = bytes(data).split(b"*")[0].lstrip(b"!").split(b",")
            if len(fields) > 5:
                alphabet = bytes(range(48, 88)) + bytes(range(96, 120))
                fields[5] = bytes(rng.choice(alphabet) for _ in range(rng.randint(0, 220)))
            data = bytearray(_with_checksum(b",".join(fields)))
        elif how == 7:  # line noise
            data += rng.choice([b"\r", b"\x00", b"\xff\xfe", b"\\", b"*", b"!AIVDM"])
        else:  # another talker
            data[1:3] = rng.choice([b"BS", b"AB", b"SA", b"GP", b"\x00\x00"])
    return bytes(data)


def _tag(rng: random.Random) -> bytes:
    fields = []
    for _ in range(rng.randint(1, 4)):
        key = rng.choice([b"c", b"s", b"g", b"n", b"d", b"x", b""])
        value = rng.choice(
            [
                b"%d" % rng.randint(-(10**20), 10**20),
                b"4070908800",  # 2099
                b"4070908800000",
                b"1.7e9",
                b"nan",
                b"inf",
                b"1e400",
                b"1-2-%d" % rng.randrange(10**6),
                b"rx" * rng.randint(0, 40_000),
                rng.randbytes(rng.randint(0, 30)),
            ]
        )
        fields.append(key + b":" + value)
    body = b",".join(fields)
    star = b"*%02X" % (nmea_checksum(body) if rng.random() < 0.8 else rng.randrange(256))
    closing = b"\\" if rng.random() < 0.9 else b""
    return b"\\" + body + star + closing


def _json(rng: random.Random, sentences: tuple[bytes, ...]) -> bytes:
    how = rng.randrange(8)
    if how == 0:
        return b"[" * rng.randint(1, 100_000)
    if how == 1:
        return b'{"nmea": [' + b",".join(b'"%s"' % s for s in rng.choices(sentences, k=3)) + b"]"  # unterminated
    time_value = rng.choice([4070908800, -1, 10**30, 1.7e9, "20991231235959", "x", None, True, [1], {"a": 1}, 1e308])
    nmea = rng.choice(
        [
            [s.decode("latin-1") for s in rng.choices(sentences, k=rng.randint(0, 4))],
            [_mutate(rng, rng.choice(sentences)).decode("latin-1")],
            [1, 2],
            "!AIVDM,1,1,,A,13HOI:0P0000VOHLCnHQKwvL05Ip,0*23",
            None,
            [],
        ]
    )
    doc: object = {
        "class": "AIS",
        "device": rng.choice(["AIS-catcher", 7, None, "d" * rng.randint(0, 100_000), ["x"]]),
        "nmea": nmea,
        rng.choice(["rxuxtime", "rxtime"]): time_value,
    }
    if rng.random() < 0.3:
        doc["station_id"] = rng.choice(["\x1b[31mred", "s" * 70, 12345, {"nested": True}])
    if how == 2:
        doc = [doc, doc, "not an object", 3]
    return json.dumps(doc).encode()


def hostile_payload(kind: str, seed: int) -> bytes:
    """One hostile payload of ``kind`` (see :data:`KINDS`), the same for the same seed."""
    rng = random.Random(seed)
    sentences = real_sentences()
    sentence = rng.choice(sentences)
    if kind == "mutated":
        return _mutate(rng, sentence)
    if kind == "tagged":
        return _tag(rng) + (sentence if rng.random() < 0.5 else _mutate(rng, sentence))
    if kind == "json":
        return _json(rng, sentences)
    if kind == "fragments":  # orphans, repeats, foreign groups
        fields = sentence.split(b"*")[0].lstrip(b"!").split(b",")
        if len(fields) > 3:
            fields[1] = b"%d" % rng.randint(2, 9)
            fields[2] = b"%d" % rng.randint(1, int(fields[1]))
            fields[3] = b"%d" % rng.randrange(10)
        group = tag_block(f"g:{rng.randint(1, 9)}-{rng.randint(1, 9)}-{rng.randrange(10**6)}")
        return (group if rng.random() < 0.5 else b"") + _with_checksum(b",".join(fields))
    if kind == "junk":
        return rng.choice([b"", b" \r\n\t", rng.randbytes(rng.randint(0, 300)), b"\x00" * 100, b"$GPRMC,1,2*00"])
    if kind == "gatehouse":
        values = [rng.choice([b"1", b"2999", b"99", b"-1", b"x", b"99999999999"]) for _ in range(8)]
        return b"$PGHP,1," + b",".join(values) + b"*00\n" + sentence
    if kind == "mixed":
        parts = [hostile_payload(rng.choice(KINDS[:6]), rng.randrange(2**32)) for _ in range(rng.randint(2, 6))]
        return b"\n".join(p for p in parts if not p.lstrip().startswith((b"{", b"[")))
    if kind == "huge":
        return rng.choice([b"!" + b"A" * 2_000_000, _with_checksum(b"AIVDM,2,1,1,A," + b"0" * 2_000_000 + b",0")])
    raise ValueError(kind)
