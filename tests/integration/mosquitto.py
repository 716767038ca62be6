"""A real Mosquitto broker that a test starts on a free port, and may kill and restart.

The queue limits are set deliberately: Mosquitto's defaults (1000 queued messages
per client) silently drop messages for a subscriber that falls behind.
"""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

MOSQUITTO_CONF = """\
listener {port} 127.0.0.1
# Started as root, Mosquitto would switch to the "mosquitto" user and lose access to
# the test's directory; stay the user that started it.
user {user}
allow_anonymous true
persistence true
persistence_location {data}/
persistence_file mosquitto.db
autosave_interval 60
# Queue limits, set on purpose (the defaults drop messages for a slow subscriber).
max_queued_messages {max_queued}
max_queued_bytes 0
max_inflight_messages 1000
persistent_client_expiration 1d
sys_interval 1
set_tcp_nodelay true
log_dest file {data}/mosquitto.log
log_type error
log_type warning
log_type notice
"""


def find_mosquitto() -> str | None:
    return shutil.which("mosquitto") or ("/usr/sbin/mosquitto" if os.path.exists("/usr/sbin/mosquitto") else None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Mosquitto:
    """One broker process; ``stop()`` + ``start()`` keep the port and persistence file."""

    def __init__(self, workdir: Path, port: int | None = None, max_queued_messages: int = 2_000_000) -> None:
        """``max_queued_messages``: lower it to make the broker drop messages, as a stock one does."""
        self.binary = find_mosquitto()
        if self.binary is None:
            raise RuntimeError("mosquitto binary not found (scripts/ensure-mosquitto.sh installs it)")
        self.port = port or free_port()
        self.data = workdir
        self.data.mkdir(parents=True, exist_ok=True)
        self.conf = self.data / "mosquitto.conf"
        self.conf.write_text(
            MOSQUITTO_CONF.format(
                port=self.port, data=self.data, user=getpass.getuser(), max_queued=max_queued_messages
            )
        )
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 10.0) -> None:
        self.proc = subprocess.Popen([self.binary or "mosquitto", "-c", str(self.conf)])
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                if self.proc.poll() is not None:
                    log = (self.data / "mosquitto.log").read_text(errors="replace")
                    raise RuntimeError(f"mosquitto exited with {self.proc.returncode}: {log[-2000:]}") from None
                time.sleep(0.05)
        raise RuntimeError(f"mosquitto did not listen on port {self.port} within {timeout_s} s")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """SIGTERM: Mosquitto saves queued messages of persistent sessions, then exits."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()
