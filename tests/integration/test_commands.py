"""`seawatch demo` and `seawatch run` as a user runs them: real processes, real brokers."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import paho.mqtt.client as paho

from tests.integration.mosquitto import Mosquitto, free_port

ROOT = Path(__file__).resolve().parents[2]
FIGURES = re.compile(r"link (up|DOWN) \| vessels (\d+) \| msgs (\d+)")


def _last_figures(stderr: str) -> tuple[str, int, int]:
    found = FIGURES.findall(stderr)
    assert found, f"no figures in output:\n{stderr[-2000:]}"
    link, vessels, messages = found[-1]
    return link, int(vessels), int(messages)


def _terminate_once(proc: subprocess.Popen[str], done: Callable[[int, int], bool], within_s: float = 90) -> str:
    """Read the figures lines (one a second) until ``done(vessels, messages)``, then SIGTERM; all of stderr.

    No fixed duration: a slow machine only takes longer, it does not fail the test.
    """
    assert proc.stderr is not None
    seen: list[str] = []
    deadline = time.monotonic() + within_s
    for line in proc.stderr:
        seen.append(line)
        found = FIGURES.findall(line)
        if (found and done(int(found[-1][1]), int(found[-1][2]))) or time.monotonic() > deadline:
            break
    proc.send_signal(signal.SIGTERM)  # what a service manager sends: a graceful stop
    _, rest = proc.communicate(timeout=30)
    return "".join(seen) + (rest or "")


def test_demo_runs_with_nothing_installed_and_shows_figures() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "seawatch.cli", "demo", "--port", str(free_port()), "--http-port", "0"],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    # until the six scenarios have filled the sea, however slow the machine
    stderr = _terminate_once(proc, lambda vessels, messages: vessels >= 20 and messages > 200)
    assert proc.returncode == 0, stderr[-2000:]
    assert "seawatch: stopped (SIGTERM)" in stderr
    assert "embedded broker on mqtt://127.0.0.1:" in stderr
    link, vessels, messages = _last_figures(stderr)
    assert link == "up"
    assert vessels >= 20 and messages > 200  # six scenarios together, 39 vessels
    assert "map and API at http://127.0.0.1:" in stderr
    assert "Traceback" not in stderr


def test_demo_with_a_busy_port_fails_in_one_line() -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "seawatch.cli", "demo", "--duration", "3", "--port", str(port), "--http-port", "0"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 2
    assert "cannot start the embedded MQTT broker" in result.stderr
    assert "Traceback" not in result.stderr


def test_run_ingests_from_the_configured_broker(mosquitto: Mosquitto, topic: str, tmp_path: Path) -> None:
    client_id = f"seawatch-run-{uuid.uuid4().hex[:8]}"
    env = dict(
        os.environ,
        SEAWATCH_MQTT_URL=mosquitto.url,
        SEAWATCH_MQTT_TOPICS=f'["{topic}/#"]',
        SEAWATCH_MQTT_CLIENT_ID=client_id,
        SEAWATCH_STATS_INTERVAL_S="1",
        SEAWATCH_HTTP_PORT="0",
    )
    lines = [
        line
        for line in (ROOT / "tests/data/ais/nmea_plus/aivdm_message_samples.txt").read_bytes().splitlines()
        if line.startswith(b"!")
    ]
    # `run` keeps a persistent session under its client id: made here first, the broker queues
    # what is published before `run` has started (however slow the machine), as it would across
    # a restart, so no sleep has to guess when `run` is subscribed.
    session = paho.Client(
        paho.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False, protocol=paho.MQTTv311
    )
    session.connect("127.0.0.1", mosquitto.port)
    session.loop_start()
    session.subscribe(f"{topic}/#", qos=1)
    time.sleep(0.5)  # the SUBACK
    session.loop_stop()
    session.disconnect()
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=f"pub-{uuid.uuid4().hex[:8]}")
    client.connect("127.0.0.1", mosquitto.port)
    client.loop_start()
    infos = [client.publish(f"{topic}/station1", line, qos=1) for line in lines]
    for info in infos:
        info.wait_for_publish(10)
    client.loop_stop()
    client.disconnect()

    proc = subprocess.Popen(
        [sys.executable, "-m", "seawatch.cli", "run", "--duration", "120"],
        cwd=tmp_path,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    stderr = _terminate_once(proc, lambda vessels, messages: messages >= len(lines))
    assert proc.returncode == 0, stderr[-2000:]  # SIGTERM is a clean stop, not a kill
    assert "seawatch: stopped (SIGTERM)" in stderr
    _, vessels, messages = _last_figures(stderr)
    assert messages == len(lines)
    assert vessels == 10  # the recording's distinct MMSIs
    assert "broker dropped 0" in stderr  # Mosquitto's own $SYS counter, read and shown
