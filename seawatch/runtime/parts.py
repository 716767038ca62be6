"""The light half of the composition root: the pipeline and the MQTT options from settings.

``seawatch replay``, ``drill`` and ``replay --publish`` need these and nothing of the
running service, so this module imports neither the web, the store nor the sinks
(:mod:`seawatch.runtime.compose` builds those, and uses these two functions too).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from seawatch.config.settings import Settings
from seawatch.config.watch import build_watch
from seawatch.core.pipeline import Pipeline

if TYPE_CHECKING:
    from seawatch.adapters.mqtt import MqttOptions


def build_pipeline(settings: Settings) -> Pipeline:
    """Zones, rules and shore mask into a watch, and the pipeline around it (live and replay alike)."""
    watch = build_watch(settings.zones_dir, settings.rules_file, settings.shore_distance, tick_s=settings.watch_tick_s)
    return Pipeline(settings.pipeline_options(), watch)


def mqtt_options(settings: Settings) -> MqttOptions:
    """How to reach the broker, from settings (the source, the alert topic, the feed publishers)."""
    from seawatch.adapters.mqtt import MqttOptions  # aiomqtt: only for what talks to a broker

    return MqttOptions(
        url=settings.mqtt_url,
        client_id=settings.mqtt_client_id,
        topics=tuple(settings.mqtt_topics),
        qos=settings.mqtt_qos,
        username=settings.mqtt_username,
        password=settings.mqtt_password.get_secret_value() if settings.mqtt_password else None,
        tls_ca_file=settings.mqtt_tls_ca_file,
        tls_insecure=settings.mqtt_tls_insecure,
        keepalive_s=settings.mqtt_keepalive_s,
        reconnect_min_s=settings.mqtt_reconnect_min_s,
        reconnect_max_s=settings.mqtt_reconnect_max_s,
        max_inflight=settings.mqtt_max_inflight,
        sys_topics=settings.mqtt_sys_topics,
    )
