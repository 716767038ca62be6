"""The input-format registry: every payload format module is registered, and NMEA is the fallback.

Adding a format is one file in ``seawatch/core/formats/`` and one entry in ``FORMATS``: this
test fails when the entry is forgotten, so a new format cannot sit unused beside the others.
"""

from __future__ import annotations

import importlib
import pkgutil

import seawatch.core.formats as formats
from seawatch.core.formats import FORMATS, payload_format

# Modules of the package that are not payload formats: shared rules, and CSV, which is read
# row by row from files rather than as messages.
NOT_PAYLOAD_FORMATS = frozenset({"values", "csv"})


def test_every_format_module_is_registered_once() -> None:
    modules = {info.name for info in pkgutil.iter_modules(formats.__path__)} - NOT_PAYLOAD_FORMATS
    registered = [fmt.name for fmt in FORMATS]
    assert sorted(registered) == sorted(importlib.import_module(f"seawatch.core.formats.{m}").NAME for m in modules)
    assert len(set(registered)) == len(registered)


def test_nmea_comes_last_and_takes_what_no_other_format_claims() -> None:
    assert FORMATS[-1].name == "nmea"
    assert payload_format(b"!").name == "nmea"
    assert payload_format(b"\\").name == "nmea"
    assert payload_format(b"x").name == "nmea"


def test_json_goes_to_ais_catcher() -> None:
    assert payload_format(b"{").name == "aiscatcher"
    assert payload_format(b"[").name == "aiscatcher"
