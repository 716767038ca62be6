"""Broker URLs: parsed once, checked when settings load, never printed with secrets."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True, slots=True)
class BrokerAddress:
    host: str
    port: int
    tls: bool


def redacted(url: str) -> str:
    """``url`` fit to print: whatever stands before an ``@`` (a user and password) is hidden.

    Works on mistyped URLs too (``mqtt//user:pw@host``), which urlsplit would not take apart.
    """
    if "@" not in url:
        return url
    head, _, host = url.rpartition("@")
    scheme = head.partition("//")[0] + "//" if "//" in head else ""
    return f"{scheme}***@{host}"


def parse_mqtt_url(url: str) -> BrokerAddress:
    """``mqtt://host:1883`` or ``mqtts://host:8883`` (``tcp://``/``ssl://`` accepted too)."""
    parts = urlsplit(url)
    tls = parts.scheme in ("mqtts", "ssl")
    if parts.username is not None or parts.password is not None:
        # Refused rather than used: a URL ends up in logs and figures, a password must not.
        raise ValueError("put broker credentials in mqtt_username / mqtt_password, not in the URL")
    if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl") or not parts.hostname:
        raise ValueError(f"not an MQTT URL: {redacted(url)!r} (expected mqtt://host:port or mqtts://host:port)")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"bad port in MQTT URL {redacted(url)!r}") from None
    return BrokerAddress(parts.hostname, port or (8883 if tls else 1883), tls)


__all__ = ["BrokerAddress", "parse_mqtt_url", "redacted"]
