"""Broker URLs, settings validation and reconnect backoff (no network needed)."""

from __future__ import annotations

import random

import pytest
from pydantic import ValidationError

from seawatch.adapters.mqtt import Backoff
from seawatch.config.settings import Settings
from seawatch.config.urls import BrokerAddress, parse_mqtt_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mqtt://127.0.0.1", BrokerAddress("127.0.0.1", 1883, False)),
        ("mqtt://broker:1884", BrokerAddress("broker", 1884, False)),
        ("mqtts://broker", BrokerAddress("broker", 8883, True)),
        ("ssl://broker:9999", BrokerAddress("broker", 9999, True)),
    ],
)
def test_urls(url: str, expected: BrokerAddress) -> None:
    assert parse_mqtt_url(url) == expected


@pytest.mark.parametrize("url", ["http://broker", "mqtt://", "mqtt://h:abc", "broker:1883"])
def test_bad_urls_are_refused_with_a_message(url: str) -> None:
    with pytest.raises(ValueError, match="MQTT URL"):
        parse_mqtt_url(url)


def test_credentials_in_the_url_are_refused_and_not_echoed() -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(mqtt_url="mqtt://alice:hunter2@broker")
    assert "hunter2" not in str(caught.value)
    assert "mqtt_password" in str(caught.value)


def test_a_mistyped_setting_does_not_echo_its_value() -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(mqtt_pasword="hunter2")  # type: ignore[call-arg]
    assert "hunter2" not in str(caught.value)


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEAWATCH_MQTT_TOPICS", '["ais/a", "ais/b"]')
    monkeypatch.setenv("SEAWATCH_FRAGMENT_TIMEOUT_S", "12.5")
    settings = Settings()
    assert settings.mqtt_topics == ["ais/a", "ais/b"]
    assert settings.pipeline_options().fragment_timeout_s == 12.5


def test_backoff_grows_with_jitter_and_stays_capped_forever() -> None:
    backoff = Backoff(0.5, 30.0, random.Random(7))
    delays = [backoff.next_delay_s() for _ in range(5000)]  # hours of a broker outage
    assert all(0.25 <= d <= 30.25 for d in delays)
    assert max(delays[:3]) < 2.5  # the first attempts come quickly
    assert max(delays[-100:]) > 20  # later ones spread out up to the cap
    backoff.reset()
    assert backoff.next_delay_s() <= 0.75
