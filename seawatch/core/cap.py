"""Alert events as OASIS CAP 1.2 XML: the format emergency-management systems ingest.

Mapping (CAP 1.2, OASIS Standard, 1 July 2010):

* ``identifier`` is ``<alert id>.<sequence>``: unique per message, stable across retries.
* ``status``: ``Actual``, or ``Test`` for beacon tests and drills (``test: true``).
* ``msgType``: ``Alert`` when an alert opens, ``Update`` for updates and acknowledgements,
  ``Cancel`` when it is resolved or retracted; the later ones ``reference`` the first
  message (``sender,identifier,sent``) so a receiving system threads them.
* ``info``: category ``Rescue``; ``severity``/``urgency``/``certainty`` from the Seawatch
  severity and kind; ``headline`` the summary (CAP asks for under 160 characters);
  ``parameter`` elements carry the evidence; ``area`` is the zone name (or the position)
  with a ``circle`` of 1 km around the position.

Text from AIS (names, messages) and from operators (notes, reports) is untrusted:
ElementTree escapes markup, so it stays text, and characters XML 1.0 cannot hold at all
(control characters other than tab and newlines, lone surrogates, U+FFFE/U+FFFF) become
U+FFFD, so a partner's parser never meets a document that is not well-formed.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import datetime

from seawatch.core.alerts import AlertEvent, EventType, Kind, Severity

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"

_SEVERITY = {
    Severity.CRITICAL: "Extreme",
    Severity.HIGH: "Severe",
    Severity.MEDIUM: "Moderate",
    Severity.LOW: "Minor",
    Severity.INFO: "Unknown",
}
_URGENCY = {
    Severity.CRITICAL: "Immediate",
    Severity.HIGH: "Immediate",
    Severity.MEDIUM: "Expected",
    Severity.LOW: "Future",
    Severity.INFO: "Unknown",
}
# How sure the observation is: a beacon or a person's report is observed; inferences are likely or possible.
_CERTAINTY = {
    Kind.DISTRESS: "Observed",
    Kind.REPORT: "Observed",
    Kind.ZONE_ENTRY: "Observed",
    Kind.FEED_OUTAGE: "Observed",
    Kind.DISEMBARKATION: "Likely",
    Kind.DRIFTING: "Likely",
    Kind.RENDEZVOUS: "Likely",
    Kind.LOITERING: "Possible",
    Kind.DARK: "Possible",
}
_EVENT_NAME = {
    Kind.DISTRESS: "Distress signal at sea",
    Kind.ZONE_ENTRY: "Vessel of concern entered a risk zone",
    Kind.LOITERING: "Vessel loitering at sea",
    Kind.DRIFTING: "Vessel possibly adrift",
    Kind.DARK: "Vessel stopped reporting (dark)",
    Kind.RENDEZVOUS: "Vessels meeting at sea",
    Kind.DISEMBARKATION: "Rescue vessel heading for disembarkation",
    Kind.REPORT: "Reported sighting or distress call",
    Kind.FEED_OUTAGE: "AIS feed outage",
}
_RESPONSE = {Kind.DISTRESS: "Execute", Kind.REPORT: "Assess", Kind.DISEMBARKATION: "Prepare"}
# Not a Char of XML 1.0 (§2.2): ElementTree would write them, and no parser would read the result.
_NOT_XML_CHAR = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    """``text`` with every character XML 1.0 cannot carry replaced by U+FFFD."""
    return _NOT_XML_CHAR.sub("\ufffd", text)


def cap_time(when: datetime) -> str:
    """CAP's dateTime: seconds precision with an explicit offset, never ``Z`` (CAP 1.2 §3.3.2)."""
    return when.replace(microsecond=0).isoformat()


def to_cap(event: AlertEvent, sender: str = "seawatch", sent: datetime | None = None) -> str:
    """One CAP 1.2 ``alert`` document for one alert event, as UTF-8 XML text."""
    ET.register_namespace("", CAP_NS)

    def sub(parent: ET.Element, tag: str, text: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{CAP_NS}}}{tag}")
        element.text = xml_text(text)
        return element

    alert = ET.Element(f"{{{CAP_NS}}}alert")
    sub(alert, "identifier", f"{event.id}.{event.sequence}")
    sub(alert, "sender", sender)
    sub(alert, "sent", cap_time(sent or event.observed_at))
    sub(alert, "status", "Test" if event.test else "Actual")
    if event.event is EventType.OPENED:
        msg_type = "Alert"
    elif event.event in (EventType.RESOLVED, EventType.RETRACTED):
        msg_type = "Cancel"
    else:
        msg_type = "Update"
    sub(alert, "msgType", msg_type)
    sub(alert, "scope", "Restricted")
    sub(alert, "restriction", "For search-and-rescue coordination and partners")
    if event.test:  # CAP 1.2 orders note before references
        sub(alert, "note", "TEST: a beacon test or drill, not a real distress.")
    if msg_type != "Alert":
        sub(alert, "references", f"{sender},{event.id}.1,{cap_time(event.opened_at)}")

    info = ET.SubElement(alert, f"{{{CAP_NS}}}info")
    sub(info, "language", "en")
    sub(info, "category", "Rescue")
    sub(info, "event", _EVENT_NAME.get(event.kind, event.kind.value))
    sub(info, "responseType", _RESPONSE.get(event.kind, "Monitor") if msg_type != "Cancel" else "AllClear")
    sub(info, "urgency", _URGENCY[event.severity] if msg_type != "Cancel" else "Past")
    sub(info, "severity", _SEVERITY[event.severity])
    sub(info, "certainty", _CERTAINTY.get(event.kind, "Possible"))
    sub(info, "senderName", "Seawatch maritime search-and-rescue monitor")
    headline = event.summary if len(event.summary) <= 160 else event.summary[:157] + "..."
    sub(info, "headline", headline)
    lines = [event.summary]
    if event.vessel is not None:
        v = event.vessel
        ship_type = "unknown" if v.ship_type is None else str(v.ship_type)
        lines.append(
            f"Vessel: MMSI {v.mmsi}, name {v.name or 'unknown'}, ship type {ship_type}, "
            f"length {v.length_m or 'unknown'} m, AIS class {v.ais_class or 'unknown'}."
        )
    if event.by:
        lines.append(f"By: {event.by}." + (f" Note: {event.note}" if event.note else ""))
    sub(info, "description", "\n".join(lines))
    for name, value in (
        ("seawatch:kind", event.kind.value),
        ("seawatch:event", event.event.value),
        ("seawatch:alert_id", event.id),
        ("seawatch:sequence", str(event.sequence)),
        ("seawatch:mmsi", "" if event.mmsi is None else str(event.mmsi)),
        ("seawatch:evidence", json.dumps(event.evidence, sort_keys=True, separators=(",", ":"))),
    ):
        parameter = ET.SubElement(info, f"{{{CAP_NS}}}parameter")
        sub(parameter, "valueName", name)
        sub(parameter, "value", value)
    area = ET.SubElement(info, f"{{{CAP_NS}}}area")
    if event.zone is not None:
        desc = event.zone.name
    elif event.lat is not None and event.lon is not None:
        desc = f"Position {event.lat:.4f}, {event.lon:.4f}"
    else:
        desc = "Position unknown"
    sub(area, "areaDesc", desc)
    if event.lat is not None and event.lon is not None:
        sub(area, "circle", f"{event.lat:.5f},{event.lon:.5f} 1.0")
    return ET.tostring(alert, encoding="unicode", xml_declaration=False)
