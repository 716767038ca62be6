from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.mosquitto import Mosquitto, find_mosquitto
from tests.integration.receiver import SECRET, Receiver


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    """A broker of the test's own, on a free port, stopped at the end."""
    if find_mosquitto() is None:
        pytest.fail("mosquitto is not installed: run `make test`, which installs it")
    broker = Mosquitto(tmp_path / "mosquitto")
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def topic() -> str:
    """A fresh topic per test, so tests never see each other's messages."""
    return f"seawatch-test/{uuid.uuid4().hex}"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A partner's webhook endpoint of the test's own (a real HTTP server), stopped at the end."""
    r = Receiver(SECRET)
    r.start()
    try:
        yield r
    finally:
        r.stop()
