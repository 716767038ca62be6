"""Shared pieces of the pure-core unit tests: the recordings and an independent pyais oracle.

The oracle reads each recording with its own regex and its own multipart assembly, so
that a mistake in Seawatch's line handling cannot hide behind the same mistake here:
it only shares pyais (the reference) with the code under test.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pyais
import pytest

DATA_DIR = Path(__file__).resolve().parents[1] / "data" / "ais"

RECORDINGS = sorted(p for p in DATA_DIR.rglob("*") if p.is_file() and p.suffix not in (".md", ".json"))
"""Every real recording in tests/data/ais (the .md and .json files are notes and expected outputs)."""

# An optional NMEA 4 tag block, then the bare sentence up to and including its checksum;
# anything a logger put before (a timestamp) or after (",1485907262") is left out.
SENTENCE_RE = re.compile(rb"(?:\\[^\\]*\\)?(![A-Z0-9-]{2}VD[MO],[^*!\\]*\*[0-9A-Fa-f]{2})")

ORACLE_COUNTS = pytest.StashKey[dict[str, str]]()


def checksum_ok(sentence: bytes) -> bool:
    """True if the XOR of the bytes between ``!`` and ``*`` equals the two hex digits after ``*``."""
    body, _, given = sentence[1:].rpartition(b"*")
    value = 0
    for byte in body:
        value ^= byte
    try:
        return value == int(given, 16)
    except ValueError:
        return False


def bare_sentences(path: Path) -> list[bytes]:
    """The checksum-valid AIS sentences of a recording, one per line at most, in file order."""
    found = []
    for line in path.read_bytes().splitlines():
        match = SENTENCE_RE.search(line)
        if match is not None and checksum_ok(match.group(1)):
            found.append(match.group(1))
    return found


@cache
def pyais_messages(path: Path) -> tuple[Any, ...]:
    """Every message ``pyais.decode`` accepts in a recording, multipart assembled in file order.

    Fragments are grouped by (fragment count, sequence id, channel); a repeated part
    number starts the group afresh (the old fragments can never complete).
    """
    messages: list[Any] = []
    pending: dict[tuple[bytes, bytes, bytes], dict[int, bytes]] = {}
    for sentence in bare_sentences(path):
        fields = sentence.split(b",")
        try:
            count, number = int(fields[1]), int(fields[2])
        except (ValueError, IndexError):
            continue
        if count == 1:
            parts = [sentence]
        else:
            key = (fields[1], fields[3], fields[4])
            group = pending.setdefault(key, {})
            if number in group:
                group.clear()
            group[number] = sentence
            if len(group) < count:
                continue
            del pending[key]
            parts = [group[n] for n in sorted(group)]
        try:
            messages.append(pyais.decode(*parts))
        except Exception:  # noqa: BLE001 - the oracle only keeps what pyais accepts
            continue
    return tuple(messages)


def _na(msg_type: int, name: str, value: Any) -> Any:
    """ITU-R M.1371 "not available" values as None, written out independently of Seawatch."""
    if value is None:
        return None
    if name == "lat":
        return None if abs(value) > 90 else value
    if name == "lon":
        return None if abs(value) > 180 else value
    if name == "speed":
        if msg_type == 27:
            return None if value >= 63 else float(value)
        if msg_type == 9:
            return None if value >= 1023 else float(value)
        return None if value >= 102.3 else float(value)
    if name == "course":
        return None if value >= 360 else float(value)
    raise AssertionError(name)


def pyais_key(msg: Any) -> tuple[Any, ...]:
    """(mmsi, msg_type, lat, lon, speed, course) of a pyais message, sentinels as None."""
    t = int(msg.msg_type)
    return (
        int(msg.mmsi),
        t,
        _na(t, "lat", getattr(msg, "lat", None)),
        _na(t, "lon", getattr(msg, "lon", None)),
        _na(t, "speed", getattr(msg, "speed", None)),
        _na(t, "course", getattr(msg, "course", None)),
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "recording" in metafunc.fixturenames:
        metafunc.parametrize("recording", RECORDINGS, ids=[str(p.relative_to(DATA_DIR)) for p in RECORDINGS])


@pytest.fixture(scope="session")
def pyais_reference() -> Callable[[Path], tuple[Any, ...]]:
    """``reference(path)``: the pyais messages of a recording (cached for the session)."""
    return pyais_messages


@pytest.fixture(scope="session")
def recorded_sentences() -> tuple[bytes, ...]:
    """Every checksum-valid bare AIS sentence of every recording, found by the oracle's regex."""
    return tuple(s for path in RECORDINGS for s in bare_sentences(path))


@pytest.fixture(scope="session")
def oracle_key() -> Callable[[Any], tuple[Any, ...]]:
    """``key(msg)``: (mmsi, msg_type, lat, lon, speed, course) of a pyais message, sentinels None."""
    return pyais_key


@pytest.fixture(scope="session")
def oracle_counts(request: pytest.FixtureRequest) -> dict[str, str]:
    """Per-file figures of the acceptance oracle, printed at the end of the run."""
    return request.config.stash.setdefault(ORACLE_COUNTS, {})


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    counts = config.stash.get(ORACLE_COUNTS, None)
    if counts:
        terminalreporter.section("pyais acceptance oracle (per recording)")
        for name in sorted(counts):
            terminalreporter.write_line(f"{name}: {counts[name]}")
