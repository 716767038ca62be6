"""Input formats: pure parsing of what a receiver or an archive hands Seawatch.

A *payload format* turns one message (an MQTT payload, a journalled message) into NMEA
sentences with the source they are heard under and any receive time the message carries;
the one decoder (:mod:`seawatch.core.decode`) makes reports of them. :data:`FORMATS` lists
them in the order they are asked: the first whose ``claims`` accepts the payload's first
non-blank byte reads it, and NMEA, which claims everything, comes last.

CSV exports are read row by row, not as payloads: :mod:`seawatch.core.formats.csv` maps
their columns onto reports directly. The rules every format shares — "not available"
values and MMSI validity — are in :mod:`seawatch.core.formats.values` and
:mod:`seawatch.core.mmsi`.

Nothing here reads a file or a socket: the byte sources are in :mod:`seawatch.adapters`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple

from seawatch.core.formats import aiscatcher, nmea

if TYPE_CHECKING:
    from seawatch.core.decode import DecodeStats

# The sentences of one message (str or bytes lines), the source they are heard under, and the
# receive time the message carries (None: the arrival time or the sentences' own times decide).
Sentences = tuple[Sequence[bytes | str], str, datetime | None]


class PayloadFormat(NamedTuple):
    """One way a message may be written; each format module provides these three names."""

    name: str
    claims: Callable[[bytes], bool]  # given the payload's first non-blank byte
    sentences: Callable[[bytes, str, DecodeStats], Iterator[Sentences]]  # bad input is counted in the stats


FORMATS: tuple[PayloadFormat, ...] = (
    PayloadFormat(aiscatcher.NAME, aiscatcher.claims, aiscatcher.sentences),
    PayloadFormat(nmea.NAME, nmea.claims, nmea.sentences),  # last: it claims whatever is left
)


def payload_format(head: bytes) -> PayloadFormat:
    """The format that reads a payload starting (after blanks) with ``head``."""
    for fmt in FORMATS:
        if fmt.claims(head):
            return fmt
    return FORMATS[-1]
