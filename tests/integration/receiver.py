"""A real HTTP server playing a rescue partner's webhook endpoint.

It verifies every request with the Standard Webhooks reference implementation
(``standardwebhooks.Webhook.verify``) and records what arrived. Its behaviour can be
switched while it runs: answer normally, answer 500, answer 410, be slow, or stop
listening altogether (connections refused) and come back on the same port.
"""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

SECRET = "whsec_" + base64.b64encode(b"seawatch-test-secret-0123456789abcdef").decode()
"""The partner's signing secret in the tests."""


@dataclass
class Received:
    webhook_id: str
    timestamp: str
    body: str
    content_type: str
    verified: bool
    arrived: float  # time.perf_counter() at arrival
    status: int  # what the receiver answered

    def json(self) -> dict[str, Any]:
        doc: dict[str, Any] = json.loads(self.body)
        return doc


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Receiver:
    secret: str
    port: int = field(default_factory=free_port)
    status: int = 200
    delay_s: float = 0.0
    received: list[Received] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/seawatch"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length).decode("utf-8")
                headers = {k.lower(): v for k, v in self.headers.items()}
                try:
                    Webhook(receiver.secret).verify(body, headers, json_parse=False)
                    verified = True
                except WebhookVerificationError:
                    verified = False
                status = receiver.status if verified else 401
                with receiver._lock:  # recorded on arrival: a sender killed mid-request still counts as sent
                    receiver.received.append(
                        Received(
                            headers.get("webhook-id", ""),
                            headers.get("webhook-timestamp", ""),
                            body,
                            headers.get("content-type", ""),
                            verified,
                            time.perf_counter(),
                            status,
                        )
                    )
                if receiver.delay_s:
                    time.sleep(receiver.delay_s)
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="receiver", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop listening: new connections are refused until :meth:`start` again."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def accepted(self) -> list[Received]:
        """Requests that verified and were answered 2xx."""
        with self._lock:
            return [r for r in self.received if r.verified and 200 <= r.status < 300]

    def wait_for(self, count: int, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if len({r.webhook_id for r in self.accepted()}) >= count:
                return True
            time.sleep(0.05)
        return len({r.webhook_id for r in self.accepted()}) >= count
