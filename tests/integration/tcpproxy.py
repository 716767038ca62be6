"""A TCP proxy that a test can cut and restore: a database outage on demand.

Seawatch connects to the proxy's port instead of the database's. :meth:`TcpProxy.cut`
resets every connection in flight and, until :meth:`TcpProxy.restore`, resets each new
one as soon as it is accepted, so the service sees what a database crash or a network
outage looks like from its side. The database itself runs on untouched, as it would
behind a failed link.

The proxy keeps listening while cut, rather than closing its port: a closed port in the
ephemeral range can be taken by another socket meanwhile, or even by the client itself
(a TCP self-connect), and the outage would then hang instead of failing fast.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from dataclasses import dataclass, field


@dataclass
class TcpProxy:
    target_host: str
    target_port: int
    port: int = 0  # 0: a free one, chosen at start and kept for the proxy's life
    accepted: int = 0  # connections passed on to the target, over the proxy's life
    refused: int = 0  # connections reset while cut
    _listener: socket.socket | None = None
    _up: bool = True
    _pairs: list[tuple[socket.socket, socket.socket]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> TcpProxy:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), name="tcp-proxy-accept", daemon=True).start()
        return self

    @property
    def up(self) -> bool:
        return self._up

    def cut(self) -> None:
        """Reset the open connections (RST, not a polite close), and every new one until restored."""
        with self._lock:
            self._up = False
            pairs, self._pairs = self._pairs, []
        for pair in pairs:
            for sock in pair:
                _reset(sock)

    def restore(self) -> None:
        """Pass connections on to the target again."""
        with self._lock:
            self._up = True

    def stop(self) -> None:
        """Cut, and close the port for good."""
        self.cut()
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # stopped
            if not self._up:
                self.refused += 1
                _reset(client)
                continue
            try:
                server = socket.create_connection((self.target_host, self.target_port), timeout=5)
            except OSError:
                _reset(client)
                continue
            server.settimeout(None)
            with self._lock:
                if not self._up:  # cut while connecting
                    self.refused += 1
                    _reset(client)
                    _reset(server)
                    continue
                self._pairs.append((client, server))
                self.accepted += 1
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=_pump, args=(a, b), name="tcp-proxy-pump", daemon=True).start()


def _pump(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        _reset(dst)
        _reset(src)


def _reset(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()
