"""The runtime: the composition root and the supervised tasks of the running service.

``seawatch run`` and ``seawatch demo`` call :func:`build_runtime` and
:meth:`Runtime.run`; tests and outside ASGI servers use :func:`create_app`. Nothing
else turns settings into objects (see :mod:`seawatch.runtime.compose`).
"""

from seawatch.runtime.compose import (
    build_delivery,
    build_pipeline,
    build_runtime,
    build_sinks,
    create_app,
    mqtt_options,
    web_options,
)
from seawatch.runtime.ingest import Fanout, FeedFigures, Figures, Ingest
from seawatch.runtime.runtime import Runtime
from seawatch.runtime.supervisor import Policy, SourceFailedError, Supervisor

SOURCE_FAILED_EXIT = 4
"""Exit status of ``seawatch run`` / ``demo`` when the source failed too many times in a row."""

__all__ = [
    "SOURCE_FAILED_EXIT",
    "Fanout",
    "FeedFigures",
    "Figures",
    "Ingest",
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
