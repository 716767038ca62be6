"""The runtime: the composition root and the supervised tasks of the running service.

``seawatch run`` and ``seawatch demo`` call :func:`build_runtime` and
:meth:`Runtime.run`; tests and outside ASGI servers use :func:`create_app`. Nothing
else turns settings into objects (see :mod:`seawatch.runtime.compose` and
:mod:`seawatch.runtime.parts`).

Names are imported on first use, so that ``seawatch replay`` (which needs only
:func:`build_pipeline`) does not load the web, the store and the sinks.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from seawatch.runtime.compose import build_delivery, build_runtime, build_sinks, create_app, web_options
    from seawatch.runtime.ingest import Fanout, FeedFigures, Ingest, IngestFigures
    from seawatch.runtime.parts import build_pipeline, mqtt_options
    from seawatch.runtime.runtime import Runtime
    from seawatch.runtime.supervisor import Policy, SourceFailedError, Supervisor

SOURCE_FAILED_EXIT = 4
"""Exit status of ``seawatch run`` / ``demo`` when the source failed too many times in a row."""

INSTANCE_LOCKED_EXIT = 5
"""Exit status of ``seawatch run`` / ``demo`` when another instance holds the lock on the same store and
MQTT client id: refused at start, or stopped because that instance took the lock while this one's was lost."""

_WHERE = {
    "build_delivery": "compose",
    "build_runtime": "compose",
    "build_sinks": "compose",
    "create_app": "compose",
    "web_options": "compose",
    "build_pipeline": "parts",
    "mqtt_options": "parts",
    "Fanout": "ingest",
    "FeedFigures": "ingest",
    "IngestFigures": "ingest",
    "Ingest": "ingest",
    "Runtime": "runtime",
    "Policy": "supervisor",
    "SourceFailedError": "supervisor",
    "Supervisor": "supervisor",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"seawatch.runtime.{module}"), name)


__all__ = [
    "INSTANCE_LOCKED_EXIT",
    "SOURCE_FAILED_EXIT",
    "Fanout",
    "FeedFigures",
    "Ingest",
    "IngestFigures",
    "Policy",
    "Runtime",
    "SourceFailedError",
    "Supervisor",
    "build_delivery",
    "build_pipeline",
    "build_runtime",
    "build_sinks",
    "create_app",
    "mqtt_options",
    "web_options",
]
