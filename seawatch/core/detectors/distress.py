"""Distress: AIS-SART, MOB and EPIRB-AIS beacons, and MAYDAY text.

Signals (ITU-R M.493 / M.1371-5, IEC 61097-14):

* a position report from a beacon MMSI (970xxyyyy AIS-SART, 972xxyyyy MOB,
  974xxyyyy EPIRB-AIS) with navigational status 14 ("AIS-SART active") — or any
  status other than 15, because a missed beacon costs more than a false one;
* navigational status 15 from a beacon, or a message 14 "SART TEST" / "MOB TEST" /
  "EPIRB TEST", is a test: raised with ``test: true`` and severity info, never as
  a real distress;
* message 14 "SART ACTIVE" / "MOB ACTIVE" / "EPIRB ACTIVE", or MAYDAY in any
  message 14 text, is a distress call whatever the sender's MMSI.

A beacon sends a burst of 8 reports a minute; all of them land in one alert
because the book keys it by beacon and test flag.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from seawatch.core.alerts import Clearance, Finding, Kind, Severity
from seawatch.core.detectors.base import SART_ACTIVE, SART_TEST, Context, Fix, Need, Output, iso, label, vessel_info
from seawatch.core.fleet import Vessel
from seawatch.core.mmsi import BEACON_KINDS, MmsiKind, classify_mmsi, is_beacon
from seawatch.core.model import PositionReport, SafetyText

_NAMES = {MmsiKind.AIS_SART: "AIS-SART", MmsiKind.MOB: "MOB beacon", MmsiKind.EPIRB: "EPIRB-AIS"}
_TEXT_NAMES = {"SART": _NAMES[MmsiKind.AIS_SART], "MOB": _NAMES[MmsiKind.MOB], "EPIRB": _NAMES[MmsiKind.EPIRB]}
_TEXT = re.compile(r"\b(SART|MOB|EPIRB)\b[\s\-_]*(ACTIVE|TEST)\b")
_TEST_MEMORY = timedelta(minutes=10)  # a test text makes the same beacon's positions tests for this long
_TEST_SILENCE = timedelta(minutes=5)  # a test alert resolves once the test transmissions stop this long


@dataclass(slots=True)
class _Beacon:
    first_heard: datetime
    last_heard: datetime
    reports: int
    test: bool
    signal: str


class DistressDetector:
    kind = Kind.DISTRESS
    needs = Need.BEACONS | Need.TEXTS | Need.TICKS

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.rules = ctx.rules.distress
        self._words = re.compile(r"\b(" + "|".join(re.escape(w.upper()) for w in self.rules.text_words) + r")\b")
        self._beacons: dict[tuple[int, bool], _Beacon] = {}
        self._test_text_at: dict[int, datetime] = {}

    def on_fix(self, fix: Fix, out: Output) -> None:
        vessel = fix.vessel
        mmsi = vessel.mmsi
        if not is_beacon(mmsi):
            return
        kind = classify_mmsi(mmsi)
        if kind not in BEACON_KINDS:
            return
        status = fix.status
        recent_test = self._test_text_at.get(mmsi)
        test = status == SART_TEST or (
            status != SART_ACTIVE and recent_test is not None and fix.t - recent_test <= _TEST_MEMORY
        )
        signal = f"nav_status_{status}" if status is not None else "beacon_mmsi"
        self._raise(vessel, fix.t, fix.lat, fix.lon, test, signal, _NAMES[kind], fix, out)

    def on_unplaced(self, vessel: Vessel, report: PositionReport, when: datetime, out: Output) -> None:
        """A beacon's position report without a usable position (lat or lon not available)."""
        kind = classify_mmsi(vessel.mmsi)
        if kind not in BEACON_KINDS:
            return
        test = report.nav_status == SART_TEST
        signal = f"nav_status_{report.nav_status}" if report.nav_status is not None else "beacon_mmsi"
        known = vessel.last_position
        lat = known.lat if known is not None else None
        lon = known.lon if known is not None else None
        self._raise(vessel, when, lat, lon, test, signal, _NAMES[kind], None, out)

    def on_text(self, vessel: Vessel | None, text: SafetyText, when: datetime, out: Output) -> None:
        """A safety text (message 12 or 14): a beacon's ACTIVE/TEST text or a MAYDAY call.

        ``when`` is the text's event time, or for a log without timestamps the time the
        watch judges at: a distress call is raised whether or not its line carried a time.
        """
        upper = text.text.upper()
        match = _TEXT.search(upper)
        if match:
            test = match.group(2) == "TEST"
            name = _TEXT_NAMES[match.group(1)]
            signal = f"text:{match.group(0)}"
        elif self._words.search(upper):
            test = False
            name = "MAYDAY call"
            signal = "text:MAYDAY"
        else:
            return
        if test:
            self._test_text_at[text.mmsi] = when
        position = vessel.last_position if vessel is not None else None
        lat = position.lat if position is not None else None
        lon = position.lon if position is not None else None
        self._raise(vessel, when, lat, lon, test, signal, name, None, out, mmsi=text.mmsi, text=text.text)

    def _raise(
        self,
        vessel: Vessel | None,
        when: datetime,
        lat: float | None,
        lon: float | None,
        test: bool,
        signal: str,
        name: str,
        fix: Fix | None,
        out: Output,
        mmsi: int | None = None,
        text: str | None = None,
    ) -> None:
        mmsi = mmsi if mmsi is not None else vessel.mmsi if vessel is not None else 0
        beacon = self._beacons.get((mmsi, test))
        if beacon is None:
            beacon = self._beacons[(mmsi, test)] = _Beacon(when, when, 0, test, signal)
        beacon.reports += 1
        if when > beacon.last_heard:
            beacon.last_heard = when
        zone = fix.risk[0] if fix is not None and fix.risk else None
        if zone is None and lat is not None and lon is not None:
            zones = self.ctx.zones.at(lat, lon)
            zone = zones[0] if zones else None
        where = (
            f" at {abs(lat):.4f}{'N' if lat >= 0 else 'S'} {abs(lon):.4f}{'E' if lon >= 0 else 'W'}"
            if (lat is not None and lon is not None)
            else " (position not yet known)"
        )
        who = label(vessel) if vessel is not None else f"MMSI {mmsi}"
        if test:
            summary = f"{name} test transmission from {who}{where}; not a distress."
        else:
            summary = f"{name} ACTIVE: {who}{where}" + (f" in {zone.name}" if zone is not None else "") + "."
        evidence: dict[str, object] = {
            "signal": signal,
            "beacon": name,
            "reports": beacon.reports,
            "first_heard": iso(beacon.first_heard),
            "last_heard": iso(beacon.last_heard),
        }
        if text is not None:
            evidence["text"] = text
        if fix is not None:
            evidence["nav_status"] = fix.status
            evidence["sog_kn"] = fix.sog_kn
        out.append(
            Finding(
                kind=Kind.DISTRESS,
                key=(mmsi,),
                observed_at=when,
                severity=Severity.INFO if test else Severity.CRITICAL,
                summary=summary,
                evidence=evidence,
                lat=lat,
                lon=lon,
                vessel=vessel_info(vessel) if vessel is not None else None,
                zone=zone.ref if zone is not None else None,
                test=test,
                escalates=not test,
            )
        )

    def on_tick(self, now: datetime, out: Output) -> None:
        silence = timedelta(seconds=self.rules.silence_resolve_s)
        minutes = self.rules.silence_resolve_s / 60
        for (mmsi, test), beacon in list(self._beacons.items()):
            if now - beacon.last_heard < silence and not (test and now - beacon.last_heard >= _TEST_SILENCE):
                continue
            # Any open distress alert of the beacon, whatever its test flag: the watch makes a
            # drill's real-looking beacon a test alert, and that alert must clear itself too
            # (the watch marks this clearance a test the same way).
            if not self.ctx.book.open_for(Kind.DISTRESS, (mmsi,)):
                del self._beacons[(mmsi, test)]
                continue
            out.append(
                Clearance(
                    kind=Kind.DISTRESS,
                    key=(mmsi,),
                    observed_at=beacon.last_heard + (_TEST_SILENCE if test else silence),
                    reason="test transmissions ended" if test else f"beacon silent for {minutes:.0f} min",
                    test=test,
                    evidence={"silent_since": iso(beacon.last_heard)},
                )
            )

    def forget(self, mmsi: int) -> None:
        self._test_text_at.pop(mmsi, None)
