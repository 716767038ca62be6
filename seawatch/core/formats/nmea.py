"""NMEA text: one or many sentences a line, as receivers and loggers write them.

The payload format every other one ends in: this module only splits a payload into its
lines. Reading the lines — tag blocks, logged timestamps, ``$PGHP``, checksums, multipart
fragments, the six-bit payload — is the decoder's (:mod:`seawatch.core.decode`, with the
pure string handling in :mod:`seawatch.core.lines`), because every format hands its
sentences to that one decoder and its state (fragments, Gatehouse times, the time guard)
spans messages of every format.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from seawatch.core.decode import DecodeStats
    from seawatch.core.formats import Sentences

NAME = "nmea"


def claims(head: bytes) -> bool:
    """Any payload: NMEA is what a payload is when no other format claims it (junk is the decoder's to count)."""
    return True


def sentences(payload: bytes, source: str, stats: DecodeStats) -> Iterator[Sentences]:
    """The payload's non-blank lines, under the payload's source, with no time of their own beyond their text."""
    yield [line for line in payload.splitlines() if line.strip()], source, None
