"""Snapshots of the core's state: what a restart needs so that it changes nothing.

A restart that forgets what the detectors knew opens a drifting boat's alert late
(its window starts again) and leaves a restored drill alert open for ever (its beacon
is no longer known). So the whole mutable state of a :class:`Pipeline` (decoder with
its multipart buffers, duplicate filter and time guard; the fleet; every detector's
windows; trips and homes; the alert book with its serials and escalations; feed
health; the event clock) is captured between two messages into one ``bytes`` value,
and restored into a pipeline freshly built from the *current* configuration.

What is state and what is configuration is said here, per object, in one place
(:data:`PIPELINE_PARTS` and :data:`DETECTOR_STATE`): only the state attributes are
written, so zones, rules, prepared geometries and caches derived from them always
come from the configuration the service starts with. A test checks that every
attribute of every part is classified, so new state cannot be forgotten silently.

The format (docs/state.md): a fixed header (magic, format version, header length),
a JSON header (:class:`SnapshotInfo` and how the body is encoded), and the body: the
state parts pickled together (so a vessel shared by the fleet and a detector stays
one object) and zlib-compressed. Pickle because the state is hundreds of thousands of
small objects of about thirty types and pickle writes them at C speed with their shared
references; it is only ever read from Seawatch's own store, by the same format
version and the same layout of state types (:data:`LAYOUT`), and the reader refuses
every type that is not a core state type or a plain standard-library value. Never
load a snapshot from anywhere else.

:func:`capture` does it all at once; a live service calls :func:`freeze` between two
messages (a copy, a fraction of the work) and :meth:`Frozen.encode` in a worker thread.

Pure: no clock, no I/O. The caller gives the creation time and stores the bytes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import functools
import gc
import hashlib
import json
import pickle
import struct
import zlib
from collections import Counter, OrderedDict, deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Final

from seawatch.core.alertbook import Alert
from seawatch.core.alerts import (
    AlertEvent,
    Clearance,
    EventType,
    Finding,
    Kind,
    Severity,
    Status,
    VesselInfo,
    ZoneRef,
)
from seawatch.core.decode import DecodeStats, _Pending
from seawatch.core.detectors.dark import DarkDetector, _Candidate
from seawatch.core.detectors.disembarkation import DisembarkationDetector, _Link
from seawatch.core.detectors.distress import DistressDetector, _Beacon
from seawatch.core.detectors.drifting import DriftingDetector, _Drift
from seawatch.core.detectors.feed import _Source
from seawatch.core.detectors.loitering import LoiteringDetector, _Window
from seawatch.core.detectors.rendezvous import RendezvousDetector, _Pair, _Slow
from seawatch.core.detectors.zone_entry import ZoneEntryDetector, _InZone
from seawatch.core.fleet import UNTIMED, FleetStats, TrackPoint, Vessel
from seawatch.core.model import (
    BaseStationReport,
    OtherReport,
    PositionReport,
    RejectReason,
    SafetyText,
    StaticReport,
)
from seawatch.core.pipeline import Pipeline
from seawatch.core.timeguard import _Feed
from seawatch.core.trips import _Trip

__all__ = [
    "DETECTOR_STATE",
    "FORMAT_VERSION",
    "LAYOUT",
    "MAGIC",
    "PIPELINE_PARTS",
    "Frozen",
    "SnapshotError",
    "SnapshotInfo",
    "capture",
    "freeze",
    "read_info",
    "restore",
]

MAGIC: Final = b"SWSNAP\r\n"
"""The first 8 bytes of every snapshot (the CR LF catches a copy through a text-mode channel)."""

FORMAT_VERSION: Final = 1
"""The framing and body encoding. A reader accepts exactly its own version."""

_FIXED = struct.Struct(">8sHI")  # magic, format version, JSON header length (big-endian)
_MAX_HEADER_BYTES = 64 * 1024  # a header is a few hundred bytes; more is not a snapshot
_PICKLE_PROTOCOL = 5
_ZLIB_LEVEL = 1  # level 6: a tenth smaller, two to three times as slow (benchmarks/bench_snapshot.py)

# --- what is state -----------------------------------------------------------------------

PIPELINE_PARTS: Final[Mapping[str, tuple[str, tuple[str, ...]]]] = {
    # part name -> (path from the pipeline, state attributes); everything else is configuration
    "pipeline": ("", ("now", "_next_expiry")),
    "decoder": ("decoder", ("stats", "_pending", "_gatehouse_time", "_sentence_no")),
    "time_guard": ("decoder._time_guard", ("_feeds",)),
    "fleet": ("fleet", ("_vessels", "stats")),
    "watch": ("watch", ("fixes", "_drill", "now", "_next_tick")),
    "book": ("watch.book", ("_open", "_by_kind", "_by_id", "_serial", "counts", "_open_per_mmsi")),
    "trips": ("watch.trips", ("_trips", "_homes")),
    "feed": ("watch.feed", ("sources",)),
}
"""The state attributes of each part of a pipeline (the watch's parts only when it has a watch)."""

DETECTOR_STATE: Final[Mapping[type, tuple[str, ...]]] = {
    DistressDetector: ("_beacons", "_test_text_at"),
    ZoneEntryDetector: ("_state",),
    LoiteringDetector: ("_windows",),
    DriftingDetector: ("_state",),
    DarkDetector: ("_candidates", "_skip"),
    RendezvousDetector: ("_slow", "_grid", "_pairs", "_pairs_of"),
    DisembarkationDetector: ("_alongside", "_links", "_checked"),
}
"""The state attributes of each detector class; a detector not listed here cannot be snapshotted."""

_STATE_TYPES: Final[tuple[type, ...]] = (
    # every type the body may hold besides plain values (a test captures every scenario to prove it)
    Vessel,
    TrackPoint,
    FleetStats,
    PositionReport,
    StaticReport,
    SafetyText,
    BaseStationReport,
    OtherReport,
    RejectReason,
    DecodeStats,
    _Pending,
    _Feed,
    Alert,
    AlertEvent,
    Finding,
    Clearance,
    EventType,
    Kind,
    Severity,
    Status,
    VesselInfo,
    ZoneRef,
    _Trip,
    _Source,
    _Beacon,
    _InZone,
    _Window,
    _Drift,
    _Candidate,
    _Slow,
    _Pair,
    _Link,
)
_VALUE_TYPES: Final[tuple[type, ...]] = (datetime, timedelta, timezone, deque, Counter, OrderedDict, set, frozenset)
_ALLOWED: Final[dict[tuple[str, str], Any]] = {(t.__module__, t.__qualname__): t for t in _STATE_TYPES + _VALUE_TYPES}


def _layout(types: tuple[type, ...]) -> str:
    """A digest of the state types' names and fields: a snapshot of another layout is not read.

    Pickle rebuilds objects by field name, so an object written before a field was added
    would come back without it and fail later, far from the cause. The digest turns that
    into a clear refusal at start-up (and a replay of the journal instead).
    """
    parts: list[str] = []
    for t in types:
        if isinstance(t, enum.EnumMeta):
            fields = [f"{m.name}={m.value}" for m in t]  # type: ignore[var-annotated]
        elif dataclasses.is_dataclass(t):
            fields = [f"{f.name}:{f.type}" for f in dataclasses.fields(t)]
        elif hasattr(t, "_fields"):
            fields = [f"{name}:{t.__annotations__.get(name)}" for name in t._fields]
        else:
            fields = sorted(getattr(t, "__slots__", ()))
        parts.append(f"{t.__module__}.{t.__qualname__}({','.join(fields)})")
    parts.extend(f"{name}={path}:{','.join(attrs)}" for name, (path, attrs) in PIPELINE_PARTS.items())
    parts.extend(f"{t.__qualname__}:{','.join(attrs)}" for t, attrs in DETECTOR_STATE.items())
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


LAYOUT: Final = _layout(_STATE_TYPES)
"""Digest of the state types and of which attributes are state; part of every snapshot's header."""


class SnapshotError(ValueError):
    """A snapshot that cannot be read here: not a snapshot, damaged, or of another format or layout."""


@dataclass(frozen=True, slots=True)
class SnapshotInfo:
    """What a snapshot's header says: enough to decide whether to use it, without reading the body."""

    position: str  # the feed position the state corresponds to (opaque; the journal's)
    event_time: datetime | None  # the pipeline's event clock when captured
    created_at: datetime
    format_version: int
    vessels: int
    alerts_open: int


# --- capture -----------------------------------------------------------------------------


def capture(pipeline: Pipeline, position: str, *, created_at: datetime | None = None) -> bytes:
    """The full mutable state of ``pipeline`` after every message up to ``position``.

    Call it between two messages (on the event loop that feeds the pipeline), so the
    state is exactly that of "everything up to ``position`` fed". ``created_at`` is
    the wall-clock time the caller stamps it with (the core reads no clock); without
    it the pipeline's event time stands in, or the epoch before any event. With a large
    fleet this takes seconds; :func:`freeze` keeps the part that must happen between
    two messages short.
    """
    return _frozen(pipeline, position, created_at, copy=False).encode()


def freeze(pipeline: Pipeline, position: str, *, created_at: datetime | None = None) -> Frozen:
    """A copy of the pipeline's state now, to :meth:`Frozen.encode` later, in any thread.

    The copy is what has to happen between two messages, and it is a fifth of
    :func:`capture`'s work or less: vessels and detector records are copied, everything
    immutable (reports, track points, times, alert events) is shared. The pipeline may
    go on at once; ``freeze(...).encode()`` gives the bytes ``capture`` would have given.
    """
    return _frozen(pipeline, position, created_at, copy=True)


@dataclass(frozen=True, slots=True)
class Frozen:
    """A pipeline's state copied between two messages, not yet written (see :func:`freeze`)."""

    body: dict[str, Any]
    header: dict[str, Any]

    def encode(self) -> bytes:
        """The snapshot's bytes: pickled and compressed here (seconds for a large fleet; zlib lets go of the GIL)."""
        out = _Writer()
        pickler = pickle.Pickler(out, protocol=_PICKLE_PROTOCOL)
        pickler.dispatch_table = _DISPATCH
        with _collector_paused():
            pickler.dump(self.body)
        raw = out.value()
        compressed = zlib.compress(raw, _ZLIB_LEVEL)
        header = {
            **self.header,
            "body": {
                "encoding": f"pickle-{_PICKLE_PROTOCOL}",
                "compression": "zlib",
                "bytes": len(compressed),
                "raw_bytes": len(raw),
                "crc32": zlib.crc32(compressed),
            },
        }
        head = json.dumps(header, separators=(",", ":"), sort_keys=True).encode()
        return _FIXED.pack(MAGIC, FORMAT_VERSION, len(head)) + head + compressed


def _frozen(pipeline: Pipeline, position: str, created_at: datetime | None, *, copy: bool) -> Frozen:
    parts = {name: _read_attrs(obj, attrs) for name, obj, attrs in _parts(pipeline)}
    detectors: dict[str, dict[str, Any]] = {}
    if pipeline.watch is not None:
        for detector in pipeline.watch.detectors:
            attrs = DETECTOR_STATE.get(type(detector))
            if attrs is None:
                raise SnapshotError(
                    f"detector {type(detector).__qualname__} has no entry in DETECTOR_STATE "
                    "(seawatch/core/snapshot.py): say which of its attributes are state"
                )
            detectors[detector.kind.value] = _read_attrs(detector, attrs)
    if created_at is not None and created_at.utcoffset() is None:
        raise ValueError(f"created_at must be timezone-aware: {created_at.isoformat()}")
    body: dict[str, Any] = {"parts": parts, "detectors": detectors}
    if copy:
        with _collector_paused():
            body = _Copier().copy(body)
    now = pipeline.now
    when = created_at if created_at is not None else now if now is not None else UNTIMED
    book = pipeline.watch.book if pipeline.watch is not None else None
    header = {
        "position": position,
        "event_time": None if now is None else _iso(now),
        "created_at": _iso(when),
        "format_version": FORMAT_VERSION,
        "seawatch_version": _seawatch_version(),
        "vessels": len(pipeline.fleet),
        "alerts_open": 0 if book is None else len(book),
        "layout": LAYOUT,
    }
    return Frozen(body, header)


def _parts(pipeline: Pipeline) -> list[tuple[str, object, tuple[str, ...]]]:
    """(name, object, state attributes) of every part the pipeline has."""
    found: list[tuple[str, object, tuple[str, ...]]] = []
    for name, (path, attrs) in PIPELINE_PARTS.items():
        obj: object | None = pipeline
        for step in path.split(".") if path else ():
            obj = getattr(obj, step, None)
        if obj is not None:
            found.append((name, obj, attrs))
    return found


def _read_attrs(obj: object, attrs: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in attrs}


# --- reading -----------------------------------------------------------------------------


def read_info(data: bytes) -> SnapshotInfo:
    """The header of a snapshot, without the body (cheap: for health and start-up logs)."""
    return _info(_header(data)[0])


def restore(pipeline: Pipeline, data: bytes) -> SnapshotInfo:
    """Load a snapshot's state into ``pipeline``, freshly built from the current configuration.

    Everything the snapshot holds replaces the pipeline's state; zones, rules and every
    other setting stay the pipeline's own. State about zones that are no longer
    configured is dropped (their open alerts stay open for an operator to resolve).
    The pipeline is only changed once the whole snapshot has been read: a
    :class:`SnapshotError` leaves it as it was. A pipeline that was already fed is a
    mistake of the caller's (``ValueError``), not a bad snapshot.
    """
    if pipeline.now is not None or len(pipeline.fleet):
        # state half from the snapshot, half from what was fed: no restart looks like that
        raise ValueError("restore into a freshly built pipeline, before anything is fed to it")
    header, offset = _header(data)
    info = _info(header)
    if header.get("layout") != LAYOUT:
        raise SnapshotError(
            f"snapshot written by seawatch {header.get('seawatch_version', '?')} holds state of another layout "
            f"({header.get('layout')!r}, this seawatch reads {LAYOUT!r})"
        )
    spec = header.get("body")
    if not isinstance(spec, dict) or spec.get("encoding") != f"pickle-{_PICKLE_PROTOCOL}":
        raise SnapshotError(f"snapshot body of an unknown encoding: {spec!r}")
    body_bytes = data[offset:]
    if len(body_bytes) != spec.get("bytes"):
        raise SnapshotError(f"snapshot body is {len(body_bytes)} bytes, its header says {spec.get('bytes')}: truncated")
    if zlib.crc32(body_bytes) != spec.get("crc32"):
        raise SnapshotError("snapshot body does not match its checksum: damaged")
    try:
        raw = zlib.decompress(body_bytes)
        with _collector_paused():
            body = _Unpickler(_Reader(raw)).load()
    except SnapshotError:
        raise
    except Exception as exc:  # noqa: BLE001 - whatever a damaged body raises, the caller needs one error type
        raise SnapshotError(f"snapshot body cannot be read: {type(exc).__name__}: {exc}") from None
    parts, detectors = _check_body(body)
    targets = _parts(pipeline)
    names = {name for name, _, _ in targets}
    if names != set(parts):
        raise SnapshotError(
            f"snapshot holds the parts {sorted(parts)} but this pipeline has {sorted(names)} (a watch on one side only)"
        )
    for name, _, attrs in targets:
        state = parts[name]
        if set(state) != set(attrs):
            raise SnapshotError(f"snapshot part {name!r} holds {sorted(state)}, expected {sorted(attrs)}")
    # everything read and checked: from here on nothing fails
    for name, obj, _ in targets:
        for attr, value in parts[name].items():
            setattr(obj, attr, value)
    if pipeline.watch is not None:
        for detector in pipeline.watch.detectors:
            saved = detectors.get(detector.kind.value)
            attrs = DETECTOR_STATE.get(type(detector), ())
            if saved is None or set(saved) != set(attrs):
                continue  # a detector new since the snapshot (or reshaped) starts afresh
            for attr, value in saved.items():
                setattr(detector, attr, value)
        _drop_unknown_zones(pipeline)
    return info


def _header(data: bytes) -> tuple[dict[str, Any], int]:
    """The JSON header and the offset of the body."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise SnapshotError(f"a snapshot is bytes, not {type(data).__name__}")
    data = bytes(data)
    if len(data) < _FIXED.size:
        raise SnapshotError(f"not a Seawatch snapshot: {len(data)} bytes, shorter than the fixed header")
    magic, version, length = _FIXED.unpack_from(data)
    if magic != MAGIC:
        raise SnapshotError(f"not a Seawatch snapshot (starts with {magic!r})")
    if version != FORMAT_VERSION:
        raise SnapshotError(f"snapshot format version {version}; this seawatch reads version {FORMAT_VERSION} only")
    if length > _MAX_HEADER_BYTES or _FIXED.size + length > len(data):
        raise SnapshotError(f"snapshot header of {length} bytes does not fit in {len(data)} bytes: truncated")
    try:
        header = json.loads(data[_FIXED.size : _FIXED.size + length])
    except (ValueError, UnicodeDecodeError) as exc:
        raise SnapshotError(f"snapshot header is not JSON: {exc}") from None
    if not isinstance(header, dict):
        raise SnapshotError("snapshot header is not a JSON object")
    return header, _FIXED.size + length


def _info(header: dict[str, Any]) -> SnapshotInfo:
    try:
        position = header["position"]
        vessels = header["vessels"]
        alerts_open = header["alerts_open"]
        format_version = header["format_version"]
        event_time = None if header["event_time"] is None else _time(header["event_time"])
        created_at = _time(header["created_at"])
    except (KeyError, TypeError, ValueError) as exc:
        raise SnapshotError(f"snapshot header is incomplete or wrong: {type(exc).__name__}: {exc}") from None
    if not isinstance(position, str) or not all(isinstance(n, int) for n in (vessels, alerts_open, format_version)):
        raise SnapshotError("snapshot header has a field of the wrong type")
    if format_version != FORMAT_VERSION:
        raise SnapshotError(f"snapshot header says format version {format_version}, its fixed header another")
    return SnapshotInfo(position, event_time, created_at, format_version, vessels, alerts_open)


def _check_body(body: Any) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    if (
        not isinstance(body, dict)
        or not isinstance(body.get("parts"), dict)
        or not isinstance(body.get("detectors"), dict)
    ):
        raise SnapshotError("snapshot body is not of the expected shape")
    parts, detectors = body["parts"], body["detectors"]
    for group in (parts, detectors):
        for name, state in group.items():
            if not isinstance(name, str) or not isinstance(state, dict):
                raise SnapshotError(f"snapshot body has a malformed entry {name!r}")
    return parts, detectors


class _Unpickler(pickle.Unpickler):
    """Rebuilds only the core's state types and plain standard-library values.

    Defence in depth, not a licence to read untrusted snapshots: nothing else can be
    named in the body, so no function of any other module can be called from it.
    """

    def find_class(self, module: str, name: str) -> Any:
        found = _ALLOWED.get((module, name))
        if found is None:
            raise SnapshotError(f"snapshot body names {module}.{name}, which is not a state type")
        return found


# --- vessels, compactly -------------------------------------------------------------------
# Vessels are nearly all of a snapshot: a busy region holds 100,000 of them with tracks of up
# to 120 points. Pickled as they are, every track point is a named tuple and a datetime, each
# rebuilt through a call of its own; flattened to plain numbers (event times as POSIX seconds,
# which round-trip to the microsecond until 2106), a vessel is a tuple of floats that pickle
# writes and reads in C.

_VESSEL_FIELDS: Final = (
    "ais_class",
    "messages",
    "name",
    "callsign",
    "imo",
    "ship_type",
    "length_m",
    "beam_m",
    "destination",
    "draught_m",
    "last_position",
)


def _ts(t: datetime | None) -> float | None:
    return None if t is None else t.timestamp()


def _reduce_vessel(v: Vessel) -> tuple[Any, ...]:
    track: list[float | None] = []
    extend = track.extend
    for t, lat, lon, sog, cog in v.track:  # unpacked, not by attribute: this loop is most of a capture
        extend((None if t is None else t.timestamp(), lat, lon, sog, cog))
    recent = v.recent  # fingerprint, time, fingerprint, time, …
    flat_recent = [x if i % 2 == 0 or x is None else x.timestamp() for i, x in enumerate(recent)]
    times = (_ts(v.first_seen), _ts(v.last_seen), _ts(v.static_at))
    fields = tuple([getattr(v, f) for f in _VESSEL_FIELDS])
    return (_vessel, (v.mmsi, v.mmsi_valid, times, fields, track, flat_recent))


def _vessel(
    mmsi: int,
    valid: bool,
    times: tuple[float | None, float | None, float | None],
    fields: tuple[Any, ...],
    track: list[float | None],
    recent: list[Any],
) -> Vessel:
    """A vessel back from :func:`_reduce_vessel` (named in the body: the reader allows it by name).

    One datetime per distinct time, as in the live fleet, where a report's time is shared by
    its track point and the duplicate filter: a restored fleet takes the memory the original did.
    """
    v = Vessel(mmsi, valid)
    made: dict[float | None, datetime | None] = {None: None}
    from_ts = datetime.fromtimestamp
    for group in (times, track[::5], recent[1::2]):
        for ts in group:
            if ts not in made:
                made[ts] = from_ts(ts, UTC)  # type: ignore[arg-type]
    v.first_seen, v.last_seen, v.static_at = (made[t] for t in times)
    for name, value in zip(_VESSEL_FIELDS, fields, strict=True):
        setattr(v, name, value)
    make = tuple.__new__  # what TrackPoint(...) does, without its Python-level __new__
    points = iter(track)
    v.track = [
        make(TrackPoint, (made[t], lat, lon, sog, cog))
        for t, lat, lon, sog, cog in zip(points, points, points, points, points, strict=True)
    ]
    v.recent = [x if i % 2 == 0 else made[x] for i, x in enumerate(recent)]
    return v


_DISPATCH: Final[dict[type, Any]] = {Vessel: _reduce_vessel}
_ALLOWED[(__name__, _vessel.__name__)] = _vessel


# --- copying the state (freeze) -----------------------------------------------------------
# Immutable values are shared between the copy and the live state; these are the types whose
# instances never change once made (frozen dataclasses hold evidence dicts that, by the same
# convention the alert book follows, are replaced, never changed in place).
_SHARED: Final[frozenset[type]] = frozenset(
    {str, bytes, int, float, bool, type(None), datetime, timedelta, timezone, tuple, frozenset}
    | {t for t in _STATE_TYPES if issubclass(t, tuple | enum.Enum)}
    | {t for t in _STATE_TYPES if dataclasses.is_dataclass(t) and t.__dataclass_params__.frozen}  # type: ignore[attr-defined]
)
_MUTABLE_RECORDS: Final[dict[type, tuple[str, ...]]] = {
    t: tuple(f.name for f in dataclasses.fields(t))
    for t in _STATE_TYPES
    if dataclasses.is_dataclass(t) and not t.__dataclass_params__.frozen  # type: ignore[attr-defined]
}
_VESSEL_SLOTS: Final = tuple(Vessel.__slots__)


class _Copier:
    """A deep copy of state as :func:`freeze` needs it: fast, and sure of every type it meets.

    Like :func:`copy.deepcopy`, an object met twice is copied once (the alert book files
    each alert under three indexes; a vessel is in the fleet and in detectors), so the copy
    keeps the sharing the snapshot must keep. Unlike it, immutable values are shared with the
    live state, not copied, and a type it does not know raises rather than being shared by
    mistake.
    """

    def __init__(self) -> None:
        self._done: dict[int, Any] = {}

    def copy(self, value: Any) -> Any:
        t = type(value)
        if t in _SHARED:
            return value
        done = self._done.get(id(value))
        if done is not None:
            return done
        copy = self.copy
        shared = _SHARED  # tested inline before calling copy: most values are immutable
        result: Any
        if t is dict:
            result = {k: v if type(v) in shared else copy(v) for k, v in value.items()}  # keys are immutable
        elif t is list:
            result = [v if type(v) in shared else copy(v) for v in value]
        elif t is Vessel:
            result = object.__new__(Vessel)
            for name in _VESSEL_SLOTS:
                setattr(result, name, getattr(value, name))  # reports, times and names are immutable
            result.track = list(value.track)
            result.recent = list(value.recent)
        elif t in _MUTABLE_RECORDS:
            result = object.__new__(t)
            for name in _MUTABLE_RECORDS[t]:
                field = getattr(value, name)
                setattr(result, name, field if type(field) in shared else copy(field))
        elif t is deque:
            result = deque([copy(v) for v in value], maxlen=value.maxlen)
        elif t is set:
            result = set(value)  # of ints or tuples
        elif t is Counter:
            result = Counter(value)
        elif t is OrderedDict:
            result = OrderedDict((k, copy(v)) for k, v in value.items())
        else:
            raise SnapshotError(f"cannot copy a {t.__module__}.{t.__qualname__} into a snapshot")
        self._done[id(value)] = result
        return result


class _Writer:
    """The in-memory file the pickler writes to."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []

    def write(self, chunk: bytes) -> int:
        self._chunks.append(bytes(chunk))
        return len(chunk)

    def value(self) -> bytes:
        return b"".join(self._chunks)


class _Reader:
    """The in-memory file the unpickler reads from; ``peek`` lets it take the body in large pieces."""

    def __init__(self, data: bytes) -> None:
        self._data = memoryview(data)
        self._pos = 0

    def read(self, size: int = -1) -> bytes:
        start = self._pos
        end = len(self._data) if size < 0 else min(len(self._data), start + size)
        self._pos = end
        return self._data[start:end].tobytes()

    def readinto(self, buffer: memoryview) -> int:
        chunk = self.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)

    def readline(self) -> bytes:
        end = bytes(self._data[self._pos : self._pos + 4096]).find(b"\n")
        return self.read(-1 if end < 0 else end + 1)

    def peek(self, size: int = 0) -> bytes:
        return self._data[self._pos : self._pos + max(size, 1)].tobytes()


def _drop_unknown_zones(pipeline: Pipeline) -> None:
    """Forget detector state about zones the current configuration no longer has.

    Such state would name a zone the detectors look up by id; what it was about cannot
    happen again, and any alert it raised stays open until an operator resolves it.
    """
    watch = pipeline.watch
    assert watch is not None
    known = watch.zones.by_id
    for detector in watch.detectors:
        if isinstance(detector, ZoneEntryDetector):
            for mmsi, states in list(detector._state.items()):
                for zone_id in [z for z in states if z not in known]:
                    del states[zone_id]
                for st in states.values():
                    if st.group is not None and st.group not in known:
                        st.group = None
                if not states:
                    del detector._state[mmsi]
        elif isinstance(detector, DisembarkationDetector):
            for link in detector._links.values():
                if link.alerted_zone is not None and link.alerted_zone not in known:
                    link.alerted_zone = None
                    link.missed_since = None
                for zone_id in [z for z in link.heading if z not in known]:
                    del link.heading[zone_id]


# --- helpers -----------------------------------------------------------------------------


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while millions of objects are written or made.

    Each allocation burst would otherwise start collections that walk the whole heap (the
    fleet itself); state objects hold no cycles that need collecting meanwhile. Restoring
    100,000 vessels takes about half as long (benchmarks/bench_snapshot.py).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat()


def _time(text: Any) -> datetime:
    if not isinstance(text, str):
        raise TypeError(f"a time is an ISO 8601 string, not {type(text).__name__}")
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise ValueError(f"naive time {text!r}")
    return value.astimezone(UTC)


@functools.cache
def _seawatch_version() -> str:
    """The installed seawatch's version, for the header (informative: readers go by format and layout)."""
    import importlib.metadata  # only when a snapshot is written: it reads the installed package's metadata

    try:
        return importlib.metadata.version("seawatch")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"
