"""Reading zones and rules from disk, and building the watch the pipeline runs.

The core parses documents; this module opens the files, so every problem can be
reported with its file (and, for JSON or TOML syntax errors, its line and column).
"""

from __future__ import annotations

import json
import logging
import tomllib
from pathlib import Path

from seawatch.core.geo import ShoreDistance
from seawatch.core.rules import Rules, RulesError, parse_rules
from seawatch.core.watch import Watch
from seawatch.core.zones import Zone, ZoneError, ZoneIndex, check_unique, parse_zones

log = logging.getLogger(__name__)


class ConfigError(ValueError):
    """Zones or rules that cannot be used; the message lists every located problem."""


# The zones that come with Seawatch, beside the package in a checkout or an editable install.
BUNDLED_ZONES = Path(__file__).resolve().parents[2] / "zones"


def load_zones(directory: Path) -> ZoneIndex:
    """Every ``*.geojson`` in ``directory`` (sorted by name), validated together.

    The default, a relative ``zones``, falls back to the zones that come with Seawatch
    when the working directory has none, so ``seawatch run`` works from anywhere.
    """
    if directory == Path("zones") and not directory.is_dir() and BUNDLED_ZONES.is_dir():
        directory = BUNDLED_ZONES
    if not directory.is_dir():
        raise ConfigError(f"zones directory {str(directory)!r} not found (set SEAWATCH_ZONES_DIR or --zones)")
    problems: list[str] = []
    zones: list[Zone] = []
    files = sorted(directory.glob("*.geojson"))
    if not files:
        raise ConfigError(f"zones directory {str(directory)!r} holds no *.geojson files")
    for path in files:
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            problems.append(f"{path}: line {exc.lineno} column {exc.colno}: {exc.msg}")
            continue
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"{path}: cannot read ({exc})")
            continue
        zones.extend(parse_zones(doc, str(path), problems))
    check_unique(zones, problems)
    if problems:
        raise ConfigError("invalid zones:\n  " + "\n  ".join(problems))
    return ZoneIndex(zones)


def load_rules(path: Path | None) -> Rules:
    """Rules from a TOML file, or the built-in defaults when no file is given."""
    if path is None:
        return Rules()
    try:
        with path.open("rb") as f:
            doc = tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"rules file {str(path)!r} not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    try:
        return parse_rules(doc, str(path))
    except RulesError as exc:
        raise ConfigError("invalid rules:\n  " + "\n  ".join(exc.problems)) from None


def check_zone_rules(zones: ZoneIndex, rules: Rules) -> None:
    """Per-zone tables in the rules file must name zones that exist."""
    unknown = sorted(set(rules.zones) - set(zones.by_id))
    if unknown:
        raise ConfigError(f"rules name zones that no zone file defines: {', '.join(unknown)}")


def build_watch(zones_dir: Path, rules_file: Path | None, use_shore: bool = True, tick_s: float = 10.0) -> Watch:
    zones = load_zones(zones_dir)
    rules = load_rules(rules_file)
    check_zone_rules(zones, rules)
    shore: ShoreDistance | None = None
    if use_shore:
        from seawatch.adapters.shore import LandmaskShore

        shore = LandmaskShore()
    return Watch(zones, rules, shore, tick_s=tick_s)


__all__ = ["ConfigError", "ZoneError", "build_watch", "load_rules", "load_zones"]
