"""NMEA/AIS lines in, typed reports out: the one decoding path every source shares.

The decoder is pure (no clock, no I/O). A caller hands it one line at a time with
the time the line was received, if it knows one; the decoder works out the event
time from, in order of preference, an NMEA 4 tag block ``c:`` field, a timestamp
the logger wrapped around the sentence, a preceding Gatehouse ``$PGHP`` sentence,
and finally the caller's receive time.

Nothing the decoder is given can make it raise. Every line that does not become a
report is counted in :class:`DecodeStats` under a :class:`RejectReason`.

Position reports of types 1, 2, 3 and 18 — nine in ten messages on a real feed —
take a fast path that extracts the fields straight from the payload bits; it gives
results identical to pyais (a unit test checks every recorded message), which
decodes everything else.
"""

from __future__ import annotations

import binascii
import logging
import zlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pyais
from pyais.exceptions import UnknownMessageException

from seawatch.core.formats.values import (
    COG_NA_RAW,
    SOG_NA_RAW,
    cog_deg,
    heading_deg,
    lat_deg,
    lon_deg,
    sar_sog_kn,
    sog_kn,
)
from seawatch.core.lines import (
    MAX_SOURCE_CHARS,
    gatehouse_time,
    nmea_checksum,
    parse_tag_block,
    strip_wrapping,
)
from seawatch.core.mmsi import is_valid_mmsi
from seawatch.core.model import (
    BaseStationReport,
    OtherReport,
    PositionReport,
    RejectReason,
    Report,
    SafetyText,
    StaticReport,
)
from seawatch.core.timeguard import TimeGuard

__all__ = ["DecodeStats", "Decoder", "nmea_checksum"]

log = logging.getLogger(__name__)

# pyais >= 3.2 lets a message class decode straight from a bit vector. The decoder has
# already checked, split and joined the sentences, so going through pyais.decode()
# would parse them all again (about half the cost of the slow path). Older pyais
# releases lack these names; the decoder then falls back to pyais.decode().
_PYAIS_CLASSES: Any
try:
    from pyais.bit_vector import bit_vector as _pyais_bits
    from pyais.messages import MSG_CLASS as _PYAIS_CLASSES
except ImportError:  # pragma: no cover - depends on the installed pyais
    _PYAIS_CLASSES = None

# --- six-bit armouring ---------------------------------------------------------------
# ITU-R M.1371 / IEC 61162-1: payload characters '0'..'W' and '`'..'w' carry six bits
# each. Re-mapping them onto the base64 alphabet lets binascii do the bit packing in C.
_ARMOR_CHARS = bytes(range(48, 88)) + bytes(range(96, 120))
_BASE64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_ARMOR_TO_BASE64 = bytes.maketrans(_ARMOR_CHARS, bytes(_BASE64_ALPHABET[i] for i in range(len(_ARMOR_CHARS))))
_SIXBIT = {c: i for i, c in enumerate(_ARMOR_CHARS)}

_SMALL_INTS = {str(i).encode(): i for i in range(100)}

# A report's payload fingerprint (the fleet's duplicate filter): CRC-32, not hash(), because
# hash() of bytes changes from process to process, and fingerprints outlive the process in
# snapshots of the fleet (a copy heard just after a restart must still be known as a copy).
_fingerprint = zlib.crc32

_TEXT_TYPES = (12, 14)  # addressed and broadcast safety-related messages (ITU-R M.1371)
# The longest AIS message (five slots, 1008 bits) is 168 characters; pyais refuses
# sentences with more than 200, and so does Seawatch.
_MAX_SENTENCE_PAYLOAD = 200
# A whole sentence (tag block aside) is at most a few dozen bytes more; a longer one is junk,
# and a waiting fragment keeps its sentence and sequence id: capped, they cannot fill memory.
_MAX_SENTENCE_BYTES = 320
# Gatehouse times wait for their sentence per source; a feed has a handful of sources.
_MAX_GATEHOUSE_SOURCES = 1024


def _nearest_micro_degrees(raw: int, per_degree: int) -> float:
    """Raw 1/10000-minute units to degrees rounded to 1e-6, exactly as pyais rounds."""
    q, r = divmod(raw * 1_000_000, per_degree)
    if 2 * r >= per_degree:
        q += 1
    return q / 1e6


def _text(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.strip(" @")
    return value or None


def _positive(value: Any) -> int | None:
    return int(value) if isinstance(value, int) and value > 0 else None


@dataclass(slots=True)
class DecodeStats:
    """What the decoder saw, for the figures an operator watches and the summary a CLI prints."""

    lines: int = 0
    sentences: int = 0  # AIS sentences with a good checksum (fragments count one each)
    reports: int = 0
    rejects: Counter[str] = field(default_factory=Counter)
    types: Counter[int] = field(default_factory=Counter)
    warnings: Counter[str] = field(default_factory=Counter)

    @property
    def rejected(self) -> int:
        return sum(self.rejects.values())


@dataclass(slots=True)
class _Pending:
    """Fragments of one multipart message seen so far."""

    parts: dict[int, tuple[bytes, int, bytes]]  # part number -> (payload, fill bits, sentence)
    when: datetime | None
    own_time: bool  # the time came from the sentence itself, not from its arrival
    source: str
    born_sentence: int


class Decoder:
    """Stateful line decoder: keeps multipart fragments and Gatehouse times between lines.

    ``fragment_timeout_s`` bounds, in event time, how long a fragment waits for its
    siblings; ``fragment_gap_sentences`` bounds it in sentences, for logs without
    times; ``max_pending`` caps memory under a flood of unmatched fragments.
    ``guard_replay_times`` on puts the times of lines without an arrival time through the
    replay time guard (the pipeline does, for replay); off, they stay as the log says them
    (``seawatch decode`` shows a log as it is; nothing alerts on them).
    """

    def __init__(
        self,
        *,
        fragment_timeout_s: float = 60.0,
        fragment_gap_sentences: int = 2_000,
        max_pending: int = 10_000,
        guard_replay_times: bool = False,
    ) -> None:
        self.stats = DecodeStats()
        self._guard_replay_times = guard_replay_times
        self._fragment_timeout_s = fragment_timeout_s
        self._fragment_gap = fragment_gap_sentences
        self._max_pending = max_pending
        self._pending: dict[tuple[int, bytes, bytes, str], _Pending] = {}
        self._gatehouse_time: dict[str, datetime] = {}
        self._time_guard: TimeGuard[tuple[bytes, str, str]] = TimeGuard()
        self._sentence_no = 0

    # ----------------------------------------------------------------- public API
    def feed(
        self,
        line: bytes | str,
        received_at: datetime | None = None,
        source: str = "",
        carried_at: datetime | None = None,
    ) -> list[Report]:
        """Decode one line (a sentence, with or without tag block or logged timestamps).

        ``received_at`` is the arrival time (live only); ``carried_at`` a time the message
        brought with it from outside the line (AIS-catcher's JSON): like a tag block's, it
        is a receiver's claim and goes through the time guard.
        """
        stats = self.stats
        stats.lines += 1
        if isinstance(line, str):
            try:
                line = line.encode("ascii")
            except UnicodeEncodeError:
                return self._reject(RejectReason.MALFORMED)
        line = line.strip()
        if not line:
            return self._reject(RejectReason.EMPTY)
        if not line.isascii():
            return self._reject(RejectReason.MALFORMED)
        when = received_at if carried_at is None else carried_at
        if len(source) > MAX_SOURCE_CHARS:  # kept per source: bounded
            source = source[:MAX_SOURCE_CHARS]
        feed_source = source  # the caller's (topic, file): tag blocks may name a station
        if line[:1] not in (b"!", b"$", b"\\") or line[-3:-2] != b"*":
            line, logged = strip_wrapping(line)
            if logged is not None:
                when = logged
        group = ""
        if line[:1] == b"\\":
            end = line.find(b"\\", 1)
            if end == -1:
                return self._reject(RejectReason.BAD_TAG_BLOCK)
            tag_time, tag_source, group = self._parse_tag_block(line[1:end])
            line = line[end + 1 :]
            if tag_time is not None:
                when = tag_time
            if tag_source:
                source = tag_source
            if line[-3:-2] != b"*":
                line, logged = strip_wrapping(line)
                if logged is not None and tag_time is None:
                    when = logged
        first = line[:1]
        if first == b"!":
            gh_time = self._gatehouse_time.pop(feed_source, None) if self._gatehouse_time else None
            if gh_time is not None and when is received_at:
                when = gh_time
            # Fragments grouped by a tag block (g:part-total-id) often carry s: only on the
            # first part, so the feed and the group, not the station, tie them together.
            key_source = f"{feed_source}|g:{group}" if group else source
            if when is not None and when is not received_at:
                return self._own_time(line, when, received_at, source, feed_source, key_source)
            return self._sentence(line, when, source, key_source, False)
        if line.startswith(b"$PGHP"):
            self._gatehouse(line, feed_source)
            return []
        return self._reject(RejectReason.NOT_AIS)

    def flush(self) -> None:
        """End of input: fragments still waiting for their siblings are orphans.

        Lines the time guard still holds had nothing after them to confirm their time: refused.
        """
        refused = self._time_guard.flush()
        if refused:
            self.stats.rejects[RejectReason.TIME_OUT_OF_LINE] += refused
        for pending in self._pending.values():
            self.stats.rejects[RejectReason.ORPHAN_FRAGMENT] += len(pending.parts)
        self._pending.clear()

    @property
    def pending_fragments(self) -> int:
        return sum(len(p.parts) for p in self._pending.values())

    # ----------------------------------------------------------------- internals
    def _reject(self, reason: RejectReason) -> list[Report]:
        self.stats.rejects[reason] += 1
        return []

    def _own_time(
        self,
        line: bytes,
        when: datetime,
        received_at: datetime | None,
        source: str,
        feed_source: str,
        key_source: str,
    ) -> list[Report]:
        """A sentence with a time of its own: through the time guard (see :mod:`seawatch.core.timeguard`)."""
        if received_at is not None:
            if self._time_guard.live(when, received_at) is None:
                # Stamped well after it arrived: a receiver with a wrong clock. Trusting it
                # would push the event clock into the future and expire the fleet.
                self.stats.warnings["time_in_future"] += 1
                return self._sentence(line, received_at, source, key_source, False)
            return self._sentence(line, when, source, key_source, True)
        if not self._guard_replay_times:
            return self._sentence(line, when, source, key_source, True)
        taken, refused = self._time_guard.replay(when, feed_source, (line, source, key_source))
        if refused:
            self.stats.rejects[RejectReason.TIME_OUT_OF_LINE] += refused
        if len(taken) == 1:  # the usual case: this line, on time
            at, (sentence, src, key) = taken[0]
            return self._sentence(sentence, at, src, key, True)
        reports: list[Report] = []
        for at, (sentence, src, key) in taken:
            reports.extend(self._sentence(sentence, at, src, key, True))
        return reports

    def _parse_tag_block(self, tag: bytes) -> tuple[datetime | None, str, str]:
        """The tag block's time, station and group; problems are counted as warnings."""
        parsed = parse_tag_block(tag)
        if not parsed.checksum_ok:
            # The sentence may still be good; its tag fields are not to be trusted.
            self.stats.warnings["bad_tag_block_checksum"] += 1
        elif parsed.bad_time:
            self.stats.warnings["bad_tag_block_time"] += 1
        if parsed.bad_source:  # the sentence is kept, under its feed's name
            self.stats.warnings["bad_station_name"] += 1
        return parsed.when, parsed.source, parsed.group

    def _gatehouse(self, line: bytes, source: str) -> None:
        """``$PGHP,1,yyyy,m,d,h,min,s,ms,…``: the receive time of the next sentence."""
        when = gatehouse_time(line)
        if when is None:
            self.stats.warnings["bad_gatehouse_time"] += 1
        else:
            if len(self._gatehouse_time) >= _MAX_GATEHOUSE_SOURCES:  # bound memory under junk sources
                self._gatehouse_time.clear()
            self._gatehouse_time[source] = when

    def _sentence(self, s: bytes, when: datetime | None, source: str, key_source: str, own_time: bool) -> list[Report]:
        star = len(s) - 3
        if star < 1 or s[star] != 0x2A or star > _MAX_SENTENCE_BYTES:  # '*'
            return self._reject(RejectReason.MALFORMED)
        try:
            expected = int(s[star + 1 :], 16)
        except ValueError:
            return self._reject(RejectReason.MALFORMED)
        if nmea_checksum(s[1:star]) != expected:
            return self._reject(RejectReason.BAD_CHECKSUM)
        fields = s[:star].split(b",")
        if len(fields) < 7:
            return self._reject(RejectReason.MALFORMED)
        head = fields[0]
        if len(head) != 6 or (head[3:] != b"VDM" and head[3:] != b"VDO"):
            return self._reject(RejectReason.NOT_AIS)
        count = _SMALL_INTS.get(fields[1])
        num = _SMALL_INTS.get(fields[2])
        if count is None or num is None:
            return self._reject(RejectReason.MALFORMED)
        if not 1 <= count <= 9 or not 1 <= num <= count:
            return self._reject(RejectReason.BAD_PART_NUMBER)
        fill = _SMALL_INTS.get(fields[-1])
        payload = fields[5]
        if fill is None or fill > 5:
            return self._reject(RejectReason.BAD_PAYLOAD)
        if not payload:
            return self._reject(RejectReason.EMPTY_PAYLOAD)
        if len(payload) > _MAX_SENTENCE_PAYLOAD or payload.translate(None, _ARMOR_CHARS):
            return self._reject(RejectReason.BAD_PAYLOAD)
        self.stats.sentences += 1
        self._sentence_no += 1
        if count == 1:
            return self._payload(payload, fill, when, source, (s,))
        return self._fragment(count, num, fields[3], fields[4], payload, fill, s, when, source, key_source, own_time)

    def _fragment(
        self,
        count: int,
        num: int,
        seq_id: bytes,
        channel: bytes,
        payload: bytes,
        fill: int,
        sentence: bytes,
        when: datetime | None,
        source: str,
        key_source: str,
        own_time: bool,
    ) -> list[Report]:
        self._expire(when)
        key = (count, seq_id, channel, key_source)
        pending = self._pending.get(key)
        if pending is not None and num in pending.parts:
            # A repeated part number starts a new message: the old one can never complete.
            self.stats.rejects[RejectReason.ORPHAN_FRAGMENT] += len(pending.parts)
            del self._pending[key]
            pending = None
        if pending is None:
            if len(self._pending) >= self._max_pending:
                oldest = next(iter(self._pending))
                self.stats.rejects[RejectReason.ORPHAN_FRAGMENT] += len(self._pending.pop(oldest).parts)
            pending = _Pending({}, when, own_time, source, self._sentence_no)
            self._pending[key] = pending
        else:
            # A time the sentence carries beats an arrival time, whichever part brings it.
            if pending.when is None or (own_time and not pending.own_time and when is not None):
                pending.when = when
                pending.own_time = own_time
            if not pending.source:
                pending.source = source
        pending.parts[num] = (payload, fill, sentence)
        if len(pending.parts) < count:
            return []
        del self._pending[key]
        ordered = [pending.parts[i] for i in range(1, count + 1)]
        return self._payload(
            b"".join(p[0] for p in ordered),
            ordered[-1][1],
            pending.when if pending.when is not None else when,
            pending.source,
            tuple(p[2] for p in ordered),
        )

    def _expire(self, when: datetime | None) -> None:
        pending = self._pending
        while pending:
            key = next(iter(pending))
            oldest = pending[key]
            too_old = (
                when is not None
                and oldest.when is not None
                and (when - oldest.when).total_seconds() > self._fragment_timeout_s
            )
            if not too_old and self._sentence_no - oldest.born_sentence <= self._fragment_gap:
                return
            self.stats.rejects[RejectReason.ORPHAN_FRAGMENT] += len(oldest.parts)
            del pending[key]

    def _payload(
        self,
        payload: bytes,
        fill: int,
        when: datetime | None,
        source: str,
        sentences: tuple[bytes, ...],
    ) -> list[Report]:
        msg_type = _SIXBIT[payload[0]]
        if len(payload) == 28 and fill == 0 and (msg_type <= 3 or msg_type == 18) and msg_type:
            report: Report = self._fast_position(payload, msg_type, when, source)
        else:
            slow = self._slow(sentences, msg_type, when, source, payload, fill)
            if slow is None:
                return []
            report = slow
        self.stats.reports += 1
        self.stats.types[msg_type] += 1
        return [report]

    @staticmethod
    def _fast_position(payload: bytes, msg_type: int, when: datetime | None, source: str) -> PositionReport:
        """Types 1/2/3/18 at their standard 168 bits, straight from the bits."""
        v = int.from_bytes(binascii.a2b_base64(payload.translate(_ARMOR_TO_BASE64)), "big")
        mmsi = (v >> 130) & 0x3FFFFFFF
        if msg_type == 18:
            status = None
            sog_raw = (v >> 112) & 0x3FF
            lon_raw = (v >> 83) & 0xFFFFFFF
            lat_raw = (v >> 56) & 0x7FFFFFF
            cog_raw = (v >> 44) & 0xFFF
            heading = (v >> 35) & 0x1FF
        else:
            status = (v >> 126) & 0xF
            sog_raw = (v >> 108) & 0x3FF
            lon_raw = (v >> 79) & 0xFFFFFFF
            lat_raw = (v >> 52) & 0x7FFFFFF
            cog_raw = (v >> 40) & 0xFFF
            heading = (v >> 31) & 0x1FF
        if lon_raw & 0x8000000:
            lon_raw -= 0x10000000
        if lat_raw & 0x4000000:
            lat_raw -= 0x8000000
        # 1/10000 minute units; |lon| > 180 or |lat| > 90 (181/91 = not available) -> None
        lon = _nearest_micro_degrees(lon_raw, 600_000) if -108_000_000 <= lon_raw <= 108_000_000 else None
        lat = _nearest_micro_degrees(lat_raw, 600_000) if -54_000_000 <= lat_raw <= 54_000_000 else None
        return PositionReport(
            mmsi,
            msg_type,
            when,
            lat,
            lon,
            sog_raw / 10.0 if sog_raw < SOG_NA_RAW else None,
            cog_raw / 10.0 if cog_raw < COG_NA_RAW else None,
            heading if heading < 360 else None,
            status,
            source,
            is_valid_mmsi(mmsi),
            _fingerprint(payload),
        )

    def _slow(
        self,
        sentences: tuple[bytes, ...],
        msg_type: int,
        when: datetime | None,
        source: str,
        payload: bytes,
        fill: int,
    ) -> Report | None:
        try:
            if _PYAIS_CLASSES is None:
                msg = pyais.decode(*sentences)
            else:
                cls = _PYAIS_CLASSES.get(msg_type)
                if cls is None:
                    raise UnknownMessageException(f"message type {msg_type}")
                msg = cls.from_vector(_pyais_bits(payload, fill))
        except UnknownMessageException:
            self.stats.rejects[RejectReason.UNKNOWN_TYPE] += 1
            return None
        except Exception as exc:  # noqa: BLE001 - hostile input must never escape as an error
            log.debug("pyais could not decode %r: %s", sentences, exc)
            self.stats.rejects[RejectReason.UNDECODABLE] += 1
            return None
        try:
            return _from_pyais(msg, msg_type, when, source, _fingerprint(payload))
        except Exception as exc:  # noqa: BLE001
            log.debug("unexpected field values in %r: %s", sentences, exc)
            self.stats.rejects[RejectReason.UNDECODABLE] += 1
            return None


def _static_from(
    msg: Any, msg_type: int, when: datetime | None, source: str, valid: bool, fingerprint: int
) -> StaticReport:
    bow, stern = _positive(getattr(msg, "to_bow", None)), _positive(getattr(msg, "to_stern", None))
    port, starboard = _positive(getattr(msg, "to_port", None)), _positive(getattr(msg, "to_starboard", None))
    length = (bow or 0) + (stern or 0) or None
    beam = (port or 0) + (starboard or 0) or None
    draught = getattr(msg, "draught", None)
    part = getattr(msg, "partno", None) if msg_type == 24 else None
    return StaticReport(
        mmsi=int(msg.mmsi),
        msg_type=msg_type,
        observed_at=when,
        name=_text(getattr(msg, "shipname", None)),
        callsign=_text(getattr(msg, "callsign", None)),
        imo=_positive(getattr(msg, "imo", None)),
        ship_type=_positive(getattr(msg, "ship_type", None)),
        length_m=length if part != 0 else None,
        beam_m=beam if part != 0 else None,
        destination=_text(getattr(msg, "destination", None)),
        draught_m=float(draught) if draught else None,
        part=part,
        source=source,
        mmsi_valid=valid,
        fingerprint=fingerprint,
    )


def _from_pyais(msg: Any, msg_type: int, when: datetime | None, source: str, fingerprint: int) -> Report:
    """Map a pyais message object onto Seawatch's reports, sentinels to None."""
    mmsi = int(msg.mmsi)
    valid = is_valid_mmsi(mmsi)
    if msg_type in (1, 2, 3, 18, 19):
        status = getattr(msg, "status", None)
        return PositionReport(
            mmsi,
            msg_type,
            when,
            lat_deg(msg.lat),
            lon_deg(msg.lon),
            sog_kn(msg.speed),
            cog_deg(msg.course),
            heading_deg(msg.heading),
            int(status) if status is not None else None,
            source,
            valid,
            fingerprint,
            _static_from(msg, msg_type, when, source, valid, fingerprint) if msg_type == 19 else None,
        )
    if msg_type == 27:
        # Long-range: 1/10 minute positions, knots in 6 bits (63 = n/a), degrees in 9 (511 = n/a)
        speed, course, status = msg.speed, msg.course, msg.status
        return PositionReport(
            mmsi,
            msg_type,
            when,
            lat_deg(msg.lat),
            lon_deg(msg.lon),
            float(speed) if speed is not None and speed < 63 else None,
            float(course) if course is not None and course < 360 else None,
            None,
            int(status) if status is not None else None,
            source,
            valid,
            fingerprint,
        )
    if msg_type in (5, 24):
        return _static_from(msg, msg_type, when, source, valid, fingerprint)
    if msg_type in _TEXT_TYPES:
        return SafetyText(mmsi, msg_type, when, str(msg.text or ""), source, valid, fingerprint)
    if msg_type == 4:
        return BaseStationReport(mmsi, msg_type, when, lat_deg(msg.lat), lon_deg(msg.lon), source, valid, fingerprint)
    lat = lat_deg(getattr(msg, "lat", None))
    lon = lon_deg(getattr(msg, "lon", None))
    sog: float | None = None
    cog: float | None = None
    if msg_type == 9:  # SAR aircraft: speed in whole knots, 1023 = n/a
        sog = sar_sog_kn(getattr(msg, "speed", None))
        cog = cog_deg(getattr(msg, "course", None))
    return OtherReport(mmsi, msg_type, when, lat, lon, sog, cog, source, valid, fingerprint)
