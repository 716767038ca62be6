"""The fuzz run through a real Mosquitto: hostile payloads between valid ones, over the wire.

Smaller than the in-process run (tests/unit/test_fuzz_ingest.py) but end to end: the real
MqttSource and ingest, a topic of the test's own, an over-long topic name; the test waits
for the ingest to have seen every message, never for a time.
"""

from __future__ import annotations

import random
import time
import uuid

from seawatch.core.lines import MAX_SOURCE_CHARS
from seawatch.core.model import RejectReason
from seawatch.runtime import Ingest, build_pipeline, mqtt_options
from tests.hostile import KINDS, hostile_payload, valid_payload
from tests.integration.mosquitto import Mosquitto
from tests.integration.test_mqtt_ingest import Publisher, _settings, _start, _stop, _until


async def test_hostile_payloads_over_a_real_broker(mosquitto: Mosquitto, topic: str) -> None:
    rng = random.Random(1414)
    now = int(time.time())
    payloads: list[bytes] = []
    valid: list[int] = []
    for i in range(400):
        payloads.append(hostile_payload(rng.choice(KINDS[:-1]), rng.randrange(2**32)))
        message, mmsi = valid_payload(i, now)
        payloads.append(message)
        valid.append(mmsi)
    payloads.append(hostile_payload("huge", 1))  # 2 MB
    settings = _settings(mosquitto, topic)
    ingest = Ingest(build_pipeline(settings), mqtt_options(settings))
    task = await _start(ingest)
    publisher = Publisher(mosquitto, f"pub-{uuid.uuid4().hex[:8]}")
    long_topic = f"{topic}/{'t' * 5000}"
    try:
        publisher.publish(f"{topic}/fuzz", payloads)
        publisher.publish(long_topic, [valid_payload(400, now)[0]])
        total = len(payloads) + 1
        assert await _until(lambda: ingest.health.messages >= total, 60), f"{ingest.health.messages} of {total}"
    finally:
        publisher.close()
        await _stop(task)
    pipeline = ingest.pipeline
    stats = pipeline.decoder.stats
    rejects = {str(k): v for k, v in stats.rejects.items()}
    print(f"\nbroker fuzz: {len(payloads) + 1} messages; rejects {rejects}; warnings {dict(stats.warnings)}")
    assert ingest.health.handler_errors == 0
    missing = [m for m in valid if pipeline.fleet.get(m) is None]
    assert missing == [], f"{len(missing)} valid messages lost"
    assert pipeline.fleet.get(valid_payload(400, now)[1]) is not None  # the one on the over-long topic
    assert set(stats.rejects) <= {r.value for r in RejectReason} and stats.rejected > 100
    assert all(len(name) <= MAX_SOURCE_CHARS for name in ingest.feeds)
