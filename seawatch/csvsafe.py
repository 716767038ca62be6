"""CSV that a spreadsheet opens as data: every CSV Seawatch writes goes through here.

Text in Seawatch's CSV comes from AIS (names, destinations) and from logs, and anyone can
transmit a vessel name such as ``=HYPERLINK(…)``. A spreadsheet takes a cell that starts
with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return as a formula (OWASP "CSV
injection"), so such a text cell is written with a leading single quote, which
spreadsheets show as text and never evaluate. Numbers stay numbers: a negative longitude
written from a float is not touched, only text is.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """``value``, with a text that a spreadsheet would run as a formula made plain text."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class SafeWriter:
    """``csv.writer`` whose text cells are neutralised."""

    def __init__(self, f: Any, **kwargs: Any) -> None:
        self._writer = csv.writer(f, **kwargs)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([safe_cell(v) for v in row])


if TYPE_CHECKING:
    _DictWriter = csv.DictWriter[str]
else:  # not subscriptable at run time before Python 3.12
    _DictWriter = csv.DictWriter


class SafeDictWriter(_DictWriter):
    """``csv.DictWriter`` whose text cells are neutralised (the header is Seawatch's own)."""

    def writerow(self, rowdict: Mapping[str, Any]) -> Any:
        return super().writerow({k: safe_cell(v) for k, v in rowdict.items()})

    def writerows(self, rowdicts: Iterable[Mapping[str, Any]]) -> None:
        for row in rowdicts:
            self.writerow(row)
