"""The detectors, one module per alert kind, and the one registry the watch builds them from.

To add a detector: write a module here with a class that has ``kind``, ``needs``
(:class:`~seawatch.core.detectors.base.Need`), ``on_fix`` and ``forget`` (and ``on_tick``,
``slow_limit_kn``/``holds``, ``on_text``/``on_unplaced`` as its needs require), give it a
constructor that takes the :class:`~seawatch.core.detectors.base.Context`, and add it to
:data:`DETECTORS`. The watch shows it what it declares, in registry order.
"""

from __future__ import annotations

from collections.abc import Callable
from types import MappingProxyType

from seawatch.core.alerts import Kind
from seawatch.core.detectors.base import Context, Detector
from seawatch.core.detectors.dark import DarkDetector
from seawatch.core.detectors.disembarkation import DisembarkationDetector
from seawatch.core.detectors.distress import DistressDetector
from seawatch.core.detectors.drifting import DriftingDetector
from seawatch.core.detectors.loitering import LoiteringDetector
from seawatch.core.detectors.rendezvous import RendezvousDetector
from seawatch.core.detectors.zone_entry import ZoneEntryDetector

DetectorFactory = Callable[[Context], Detector]

# Order matters a little: rescue alerts (distress, drifting) open before the disembarkation
# detector looks for rescuers on the same fix, and zone entry before dark and loitering judge
# a vessel that just came in.
DETECTORS: tuple[DetectorFactory, ...] = (
    DistressDetector,
    ZoneEntryDetector,
    LoiteringDetector,
    DriftingDetector,
    DarkDetector,
    RendezvousDetector,
    DisembarkationDetector,
)

# Alert kinds that no registered detector raises, and where they come from instead.
OTHER_SOURCES: MappingProxyType[Kind, str] = MappingProxyType(
    {
        Kind.REPORT: "operators: a sighting or a distress call posted to the API (core/commands or web)",
        Kind.FEED_OUTAGE: "feed health (core/detectors/feed.py): a receiver falls silent, kept by the watch itself",
    }
)

__all__ = ["DETECTORS", "OTHER_SOURCES", "DetectorFactory"]
