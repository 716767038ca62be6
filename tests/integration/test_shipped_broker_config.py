"""The Mosquitto configuration we ship must start, and must keep its deliberate queue limits."""

from __future__ import annotations

import getpass
import re
import socket
import subprocess
import time
from pathlib import Path

from tests.integration.mosquitto import find_mosquitto, free_port

SHIPPED = Path(__file__).resolve().parents[2] / "docker" / "mosquitto.conf"


def _setting(text: str, name: str) -> str:
    match = re.search(rf"^{name}\s+(\S+)", text, re.MULTILINE)
    assert match, f"{name} is not set in {SHIPPED.name}"
    return match.group(1)


def test_shipped_config_sets_queue_limits_on_purpose() -> None:
    text = SHIPPED.read_text()
    assert int(_setting(text, "max_queued_messages")) >= 1_000_000  # default 1000 drops a burst
    assert _setting(text, "persistence") == "true"
    assert int(_setting(text, "max_inflight_messages")) >= 100


def test_shipped_config_starts_a_broker(tmp_path: Path) -> None:
    binary = find_mosquitto()
    assert binary, "mosquitto is not installed: run `make test`, which installs it"
    port = free_port()
    text = SHIPPED.read_text()
    text = text.replace("listener 1883", f"listener {port} 127.0.0.1")
    text = text.replace("persistence_location /mosquitto/data/", f"persistence_location {tmp_path}/")
    text += f"\nuser {getpass.getuser()}\n"
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(text)
    proc = subprocess.Popen([binary, "-c", str(conf)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else "exited"
                assert time.monotonic() < deadline, "broker did not listen"
                time.sleep(0.05)
    finally:
        proc.terminate()
        proc.wait(10)
