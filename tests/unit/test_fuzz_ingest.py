"""Fuzzing the MQTT ingest entry point in-process: hostile payloads between valid ones.

For every hostile payload: no exception, and it is accounted for (a report, a reject or a
warning counted by reason, a fragment waiting, or a ``$PGHP`` time); the valid message
after it reaches the fleet; memory stays bounded. Hypothesis chooses the kinds and seeds
(derandomized: the same cases every run, so the suite stays deterministic); a seeded run
of 10,000 payloads measures memory.
"""

from __future__ import annotations

import gc
import random
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seawatch.config.watch import build_watch
from seawatch.core.model import RejectReason
from seawatch.core.pipeline import Pipeline
from seawatch.core.watch import Watch
from tests.hostile import KINDS, hostile_payload, valid_payload

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)
REASONS = {r.value for r in RejectReason}


@cache
def _zones() -> Path:
    return ROOT / "zones"


def _watch() -> Watch:
    return build_watch(_zones(), None, False)


class Accounting:
    """Feeds payloads as the MQTT adapter does and checks each one leaves a trace."""

    def __init__(self) -> None:
        self.pipeline = Pipeline(watch=_watch())
        self.valid = 0
        self.hostile = 0

    def _trace(self) -> tuple[int, int, int]:
        stats = self.pipeline.decoder.stats
        return stats.rejected, stats.warnings.total(), self.pipeline.decoder.pending_fragments

    def hostile_then_valid(self, payload: bytes, arrival: datetime, topic: str = "ais/fuzz") -> None:
        before = self._trace()
        reports = self.pipeline.feed_payload(payload, arrival, topic).reports
        self.hostile += 1
        accounted = reports or self._trace() != before or b"$PGHP" in payload
        assert accounted, f"a payload vanished without a trace: {payload[:200]!r}"
        message, mmsi = valid_payload(self.valid, int(arrival.timestamp()))
        self.valid += 1
        got = self.pipeline.feed_payload(message, arrival, topic).reports
        assert [r.mmsi for r in got] == [mmsi], f"the valid message after {payload[:200]!r} was lost"
        assert self.pipeline.fleet.get(mmsi) is not None

    def finish(self) -> None:
        self.pipeline.finish()
        stats = self.pipeline.decoder.stats
        assert set(stats.rejects) <= REASONS
        assert self.pipeline.decoder.pending_fragments == 0


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(st.lists(st.tuples(st.sampled_from(KINDS), st.integers(0, 2**32 - 1)), min_size=1, max_size=12))
def test_hostile_payloads_never_crash_and_never_hide(cases: list[tuple[str, int]]) -> None:
    run = Accounting()
    for i, (kind, seed) in enumerate(cases):
        run.hostile_then_valid(hostile_payload(kind, seed), T0 + timedelta(seconds=i))
    run.finish()


def _held_bytes(feed: Callable[[Accounting, int], None], count: int) -> tuple[Accounting, int]:
    run = Accounting()
    gc.collect()
    tracemalloc.start()
    try:
        for i in range(count):
            feed(run, i)
        gc.collect()
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    return run, held


def test_ten_thousand_hostile_payloads_in_bounded_memory() -> None:
    """Memory held after 10,000 hostile payloads, over what the 10,000 valid ones between them hold."""
    count = 10_000
    rng = random.Random(14)

    def valid_only(run: Accounting, i: int) -> None:
        message, _ = valid_payload(i, int((T0 + timedelta(seconds=i // 10)).timestamp()))
        run.pipeline.feed_payload(message, T0 + timedelta(seconds=i // 10), "ais/fuzz")
        run.valid += 1

    def hostile_between(run: Accounting, i: int) -> None:
        kind = rng.choice(KINDS[:-1])  # the 2 MB ones are covered above; here volume counts
        run.hostile_then_valid(hostile_payload(kind, rng.randrange(2**32)), T0 + timedelta(seconds=i // 10))

    _, baseline = _held_bytes(valid_only, count)
    run, held = _held_bytes(hostile_between, count)
    stats = run.pipeline.decoder.stats
    print(f"\nfuzz: {run.hostile:,} hostile + {run.valid:,} valid payloads, all valid ones in the fleet")
    rejects = {str(k): v for k, v in sorted(stats.rejects.items())}
    print(f"rejects by reason: {rejects}; warnings: {dict(sorted(stats.warnings.items()))}")
    print(f"memory held: {baseline / 1e6:.1f} MB for the valid ones alone, {held / 1e6:.1f} MB with the hostile ones")
    run.finish()
    assert run.valid == count and len(run.pipeline.fleet) >= count
    assert held - baseline < 8e6, (baseline, held)  # at most 10,000 waiting fragments of a few hundred bytes
