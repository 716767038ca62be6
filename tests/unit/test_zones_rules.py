"""Zones (GeoJSON -> ZoneIndex) and rules (TOML -> Rules): lookups, located problems, defaults.

Zones are built here from small GeoJSON documents; lookups are checked against points whose
answer is plain from the drawing. Every problem an operator can make in a zone or rules file
must come back with where it is (file, feature, table, key), never as a crash.
"""

from __future__ import annotations

import dataclasses
import json
import tomllib
from pathlib import Path
from typing import Any

import pytest

from seawatch.cli import main
from seawatch.config.watch import ConfigError, load_rules, load_zones
from seawatch.core.geo import distance_m
from seawatch.core.rules import (
    Rules,
    RulesError,
    ZoneEntryRules,
    parse_rules,
    render_defaults,
    sections,
)
from seawatch.core.zones import Zone, ZoneIndex, ZoneKind, check_unique, parse_zones

REPO = Path(__file__).resolve().parents[2]


# ------------------------------------------------------------------------- helpers
def square(west: float, south: float, east: float, north: float) -> list[list[list[float]]]:
    """A counter-clockwise ring as GeoJSON Polygon coordinates (lon, lat)."""
    return [[[west, south], [east, south], [east, north], [west, north], [west, south]]]


def feature(
    zone_id: str,
    coordinates: Any,
    kind: str = "risk",
    severity: str = "high",
    geometry_type: str = "Polygon",
    **extra: Any,
) -> dict[str, Any]:
    props = {"id": zone_id, "name": zone_id.replace("-", " ").title(), "kind": kind, "severity": severity}
    props["source"] = "drawn for a test"
    props.update(extra)
    return {"type": "Feature", "properties": props, "geometry": {"type": geometry_type, "coordinates": coordinates}}


def collection(*features: dict[str, Any]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features)}


def zones_of(*features: dict[str, Any]) -> list[Zone]:
    problems: list[str] = []
    zones = parse_zones(collection(*features), "test", problems)
    assert problems == []
    return zones


def index(*features: dict[str, Any]) -> ZoneIndex:
    return ZoneIndex(zones_of(*features))


def problems_of(doc: Any, origin: str = "zones/test.geojson") -> list[str]:
    problems: list[str] = []
    parse_zones(doc, origin, problems)
    return problems


def ids(zones: tuple[Zone, ...] | list[Zone]) -> list[str]:
    return [z.id for z in zones]


# ------------------------------------------------------------------ ZoneIndex.at
def test_point_inside_and_outside_a_zone() -> None:
    zi = index(feature("box", square(60.0, 10.0, 60.5, 10.5)))
    assert ids(zi.at(10.25, 60.25)) == ["box"]
    assert zi.at(10.25, 60.75) == ()
    assert zi.at(9.99, 60.25) == ()
    assert zi.at(-10.25, -60.25) == ()


def test_point_in_a_cell_the_zone_covers_entirely_needs_no_exact_test() -> None:
    zi = index(feature("box", square(60.0, 10.0, 60.5, 10.5)))
    assert ids(zi.at(10.26, 60.26)) == ["box"]
    assert ids(zi.at(10.27, 60.27)) == ["box"]  # same 0.05° cell, from the cache
    assert zi.exact_tests == 0


def test_points_in_a_cell_the_boundary_crosses() -> None:
    # The west edge at 60.02 runs through the cell 60.00–60.05.
    zi = index(feature("box", square(60.02, 10.02, 60.48, 10.48)))
    assert ids(zi.at(10.25, 60.03)) == ["box"]
    assert zi.at(10.25, 60.01) == ()
    assert ids(zi.at(10.25, 60.02)) == ["box"]  # on the boundary: inside
    assert ids(zi.at(10.02, 60.25)) == ["box"]  # on the south edge
    assert ids(zi.at(10.48, 60.48)) == ["box"]  # on a corner
    assert zi.exact_tests == 5


def test_boundary_on_a_cell_edge_counts_as_inside_from_either_cell() -> None:
    zi = index(feature("box", square(60.0, 10.0, 60.5, 10.5)))
    assert ids(zi.at(10.25, 60.5)) == ["box"]
    assert ids(zi.at(10.5, 60.25)) == ["box"]
    assert ids(zi.at(10.0, 60.0)) == ["box"]
    assert zi.at(10.25, 60.500001) == ()


@pytest.mark.parametrize("order", [("outer", "inner"), ("inner", "outer")])
def test_overlapping_zones_come_back_in_file_order(order: tuple[str, str]) -> None:
    shapes = {
        "outer": feature("outer", square(60.0, 10.0, 61.0, 11.0)),
        # the inner box's edges cross cells, so both the cached and the exact paths are taken
        "inner": feature("inner", square(60.42, 10.42, 60.58, 10.58), kind="port", severity="info"),
    }
    zi = index(*(shapes[name] for name in order))
    assert ids(zi.at(10.5, 60.5)) == list(order)  # a cell both cover entirely
    assert ids(zi.at(10.43, 60.43)) == list(order)  # outer covers the cell, inner crosses it
    assert ids(zi.at(10.41, 60.43)) == ["outer"]
    assert ids(zi.at(10.5, 61.5)) == []


def test_overlap_where_both_boundaries_cross_the_cell() -> None:
    zi = index(
        feature("west", square(60.0, 10.0, 60.33, 10.5)),
        feature("east", square(60.31, 10.0, 61.0, 10.5)),
    )
    assert ids(zi.at(10.25, 60.32)) == ["west", "east"]
    assert ids(zi.at(10.25, 60.305)) == ["west"]
    assert ids(zi.at(10.25, 60.335)) == ["east"]


def test_multipolygon_zone() -> None:
    coords = [square(60.0, 10.0, 60.2, 10.2), square(60.6, 10.0, 60.8, 10.2)]
    zi = index(feature("pair", coords, geometry_type="MultiPolygon"))
    assert ids(zi.at(10.1, 60.1)) == ["pair"]
    assert ids(zi.at(10.1, 60.7)) == ["pair"]
    assert zi.at(10.1, 60.4) == ()


def test_an_empty_index_answers_nothing() -> None:
    assert ZoneIndex(()).at(10.0, 60.0) == ()


# --------------------------------------------------------------- ZoneIndex.ahead
def port_ahead_index() -> ZoneIndex:
    return index(
        feature("far", square(61.5, 10.0, 61.7, 10.2), kind="disembarkation", severity="medium"),
        feature("near", square(61.0, 10.0, 61.2, 10.2), kind="disembarkation", severity="medium"),
        feature("risk", square(60.7, 9.0, 60.8, 11.0)),
    )


def test_distance_to_a_zone_ahead_along_the_course() -> None:
    zi = port_ahead_index()
    hits = zi.ahead(10.1, 60.5, 90.0, 60_000.0, ZoneKind.DISEMBARKATION)
    assert [z.id for z, _ in hits] == ["near"]
    expected = distance_m(10.1, 60.5, 10.1, 61.0)
    assert hits[0][1] == pytest.approx(expected, rel=0.005)


def test_zones_ahead_nearest_first_whatever_the_file_order() -> None:
    zi = port_ahead_index()
    hits = zi.ahead(10.1, 60.5, 90.0, 200_000.0, ZoneKind.DISEMBARKATION)
    assert [z.id for z, _ in hits] == ["near", "far"]
    assert hits[0][1] < hits[1][1]
    assert hits[1][1] == pytest.approx(distance_m(10.1, 60.5, 10.1, 61.5), rel=0.005)


def test_no_zone_ahead_when_heading_away_or_out_of_reach() -> None:
    zi = port_ahead_index()
    assert zi.ahead(10.1, 60.5, 270.0, 200_000.0, ZoneKind.DISEMBARKATION) == []
    assert zi.ahead(10.1, 60.5, 0.0, 200_000.0, ZoneKind.DISEMBARKATION) == []
    assert zi.ahead(10.1, 60.5, 90.0, 50_000.0, ZoneKind.DISEMBARKATION) == []  # 54.8 km away


def test_zones_ahead_are_of_the_asked_kind_only() -> None:
    zi = port_ahead_index()
    hits = zi.ahead(10.1, 60.5, 90.0, 200_000.0, ZoneKind.RISK)
    assert [z.id for z, _ in hits] == ["risk"]
    assert hits[0][1] == pytest.approx(distance_m(10.1, 60.5, 10.1, 60.7), rel=0.005)


def test_a_vessel_inside_a_zone_is_at_distance_zero() -> None:
    zi = port_ahead_index()
    hits = zi.ahead(10.1, 61.1, 90.0, 10_000.0, ZoneKind.DISEMBARKATION)
    assert [(z.id, d) for z, d in hits] == [("near", 0.0)]


# -------------------------------------------------------- parse_zones problems
WHERE = "zones/test.geojson: feature 1 ('bad')"


def good() -> dict[str, Any]:
    return feature("good", square(60.0, 10.0, 60.5, 10.5))


def test_a_valid_file_has_no_problems_and_keeps_its_properties() -> None:
    doc = collection(good(), feature("p", square(60.1, 10.1, 60.2, 10.2), kind="port", severity="info"))
    problems: list[str] = []
    zones = parse_zones(doc, "zones/test.geojson", problems)
    assert problems == []
    assert [(z.id, z.kind, z.severity.value, z.origin) for z in zones] == [
        ("good", ZoneKind.RISK, "high", "zones/test.geojson: feature 0 ('good')"),
        ("p", ZoneKind.PORT, "info", "zones/test.geojson: feature 1 ('p')"),
    ]


def test_feature_without_properties() -> None:
    bare = {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": square(60, 10, 61, 11)}}
    assert problems_of(collection(good(), bare)) == ["zones/test.geojson: feature 1: no properties"]


def test_missing_properties_are_named() -> None:
    bad = feature("bad", square(60, 10, 61, 11))
    del bad["properties"]["severity"]
    bad["properties"]["source"] = ""
    assert problems_of(collection(good(), bad)) == [f"{WHERE}: missing or empty severity, source"]


def test_feature_without_an_id_is_located_by_index() -> None:
    bad = feature("bad", square(60, 10, 61, 11))
    del bad["properties"]["id"]
    assert problems_of(collection(good(), bad)) == ["zones/test.geojson: feature 1: missing or empty id"]


def test_bad_kind() -> None:
    problems = problems_of(collection(good(), feature("bad", square(60, 10, 61, 11), kind="danger")))
    assert problems == [f"{WHERE}: kind 'danger' is not one of risk, disembarkation, port, sar_region"]


def test_bad_severity() -> None:
    problems = problems_of(collection(good(), feature("bad", square(60, 10, 61, 11), severity="urgent")))
    assert problems == [f"{WHERE}: severity 'urgent' is not one of critical, high, medium, low, info"]


def test_self_intersecting_polygon() -> None:
    bow_tie = [[[60.0, 10.0], [61.0, 11.0], [61.0, 10.0], [60.0, 11.0], [60.0, 10.0]]]
    problems = problems_of(collection(good(), feature("bad", bow_tie)))
    assert len(problems) == 1
    assert problems[0].startswith(f"{WHERE}: invalid geometry (Self-intersection")


def test_lat_lon_swapped_is_out_of_range() -> None:
    # Penang written (lat, lon) instead of GeoJSON's (lon, lat): "latitude" 100
    swapped = [[[5.3, 100.2], [5.5, 100.2], [5.5, 100.4], [5.3, 100.4], [5.3, 100.2]]]
    problems = problems_of(collection(good(), feature("bad", swapped)))
    assert problems == [f"{WHERE}: coordinates outside lon -180..180 / lat -90..90 (GeoJSON is lon, lat)"]


def test_point_geometry_is_refused() -> None:
    bad = feature("bad", [60.0, 10.0], geometry_type="Point")
    assert problems_of(collection(good(), bad)) == [f"{WHERE}: geometry must be a Polygon or MultiPolygon"]


@pytest.mark.parametrize(
    "doc",
    [
        {"type": "Feature", "properties": {}, "geometry": None},
        [1, 2, 3],
        "FeatureCollection",
        {"features": []},
    ],
)
def test_not_a_feature_collection(doc: Any) -> None:
    assert problems_of(doc) == ["zones/test.geojson: not a GeoJSON FeatureCollection"]


def test_duplicate_ids_name_both_places() -> None:
    problems: list[str] = []
    zones = parse_zones(collection(good()), "zones/a.geojson", problems)
    zones += parse_zones(collection(good()), "zones/b.geojson", problems)
    check_unique(zones, problems)
    assert problems == [
        "zones/b.geojson: feature 0 ('good'): id 'good' already used by zones/a.geojson: feature 0 ('good')"
    ]


def test_every_problem_is_reported_not_just_the_first() -> None:
    doc = collection(
        feature("a", square(60, 10, 61, 11), kind="danger"),
        good(),
        feature("c", square(60, 10, 61, 11), severity="urgent"),
    )
    problems = problems_of(doc)
    assert [p.split(":")[1].strip() for p in problems] == ["feature 0 ('a')", "feature 2 ('c')"]


@pytest.mark.parametrize(
    ("rules", "problem"),
    [
        ({"distress": {"escalate_every_s": 60}}, "rules.distress: not a per-zone section (allowed: zone_entry, "),
        ({"zone_entry": {"entry_fxes": 5}}, "rules.zone_entry.entry_fxes: unknown setting (known: "),
        ({"zone_entry": {"entry_fixes": "5"}}, "rules.zone_entry.entry_fixes: expected a number (fixes), got '5'"),
        ({"zone_entry": {"entry_fixes": 2.5}}, "rules.zone_entry.entry_fixes: expected a whole number, got 2.5"),
        ({"loitering": {"enabled": "no"}}, "rules.loitering.enabled: expected true or false, got 'no'"),
        ({"zone_entry": 5}, "rules.zone_entry: expected a table of settings, got int"),
        ([1], "rules: expected a table of detector sections, got list"),
    ],
)
def test_bad_per_zone_rules_are_located(rules: Any, problem: str) -> None:
    problems = problems_of(collection(good(), feature("bad", square(60, 10, 61, 11), rules=rules)))
    assert len(problems) == 1
    assert problems[0].startswith(f"{WHERE}: {problem}")


def test_good_per_zone_rules_are_kept() -> None:
    zones = zones_of(feature("z", square(60, 10, 61, 11), rules={"zone_entry": {"entry_fixes": 5}}))
    assert zones[0].rules == {"zone_entry": {"entry_fixes": 5}}


# ---------------------------------------------------------------------- rules
def rules_problems(doc: dict[str, Any]) -> list[str]:
    with pytest.raises(RulesError) as caught:
        parse_rules(doc, "alerts/my.toml")
    return caught.value.problems


def test_unknown_table() -> None:
    problems = rules_problems({"loitring": {"max_speed_kn": 1.0}})
    assert problems == [
        "alerts/my.toml: [loitring]: unknown table (known: vessel, alerts, distress, zone_entry, loitering, "
        "drifting, dark, feed, rendezvous, disembarkation, local, zone)"
    ]


def test_unknown_key_lists_the_known_ones() -> None:
    problems = rules_problems({"zone_entry": {"entry_fixs": 5}})
    assert problems == [
        "alerts/my.toml: [zone_entry].entry_fixs: unknown setting "
        "(known: enabled, entry_fixes, exit_fixes, rearm_s, vessels)"
    ]


@pytest.mark.parametrize(
    ("table", "problem"),
    [
        ({"dark": {"min_gap_s": "1h"}}, "[dark].min_gap_s: expected a number (s), got '1h'"),
        ({"dark": {"min_gap_s": True}}, "[dark].min_gap_s: expected a number (s), got True"),
        ({"dark": {"enabled": 1}}, "[dark].enabled: expected true or false, got 1"),
        ({"dark": {"vessels": "small"}}, "[dark].vessels: expected a list, got 'small'"),
        ({"loitering": {"exempt_ship_types": ["30"]}}, "[loitering].exempt_ship_types: expected a list of int"),
        ({"feed": {"outage_gap_s": float("nan")}}, "[feed].outage_gap_s: expected a finite number, got nan"),
        ({"zone_entry": 3}, "[zone_entry]: expected a table of settings, got int"),
    ],
)
def test_wrong_types(table: dict[str, Any], problem: str) -> None:
    problems = rules_problems(table)
    assert len(problems) == 1
    assert problems[0].startswith(f"alerts/my.toml: {problem}")


def test_below_minimum() -> None:
    problems = rules_problems({"zone_entry": {"entry_fixes": 0}, "distress": {"escalate_every_s": 5}})
    assert problems == [
        "alerts/my.toml: [zone_entry].entry_fixes: 0 is below the minimum 1 fixes",
        "alerts/my.toml: [distress].escalate_every_s: 5 is below the minimum 30 s",
    ]


def test_distress_cannot_be_switched_off() -> None:
    problems = rules_problems({"distress": {"enabled": False}})
    assert len(problems) == 1
    assert problems[0].startswith("alerts/my.toml: [distress].enabled: ")


def test_distress_switch_off_is_refused_with_the_reason() -> None:
    assert rules_problems({"distress": {"enabled": False}}) == [
        "alerts/my.toml: [distress].enabled: distress alerts cannot be switched off"
    ]


def test_vessel_group_typo() -> None:
    problems = rules_problems({"zone_entry": {"vessels": ["small", "smal"]}})
    assert problems == [
        "alerts/my.toml: [zone_entry].vessels: unknown vessel group 'smal' "
        "(known: all, small, unidentified, fishing, unknown_type)"
    ]


def test_all_problems_of_a_file_at_once() -> None:
    problems = rules_problems({"zone_entry": {"entry_fixes": 0, "typo": 1}, "nope": {}})
    assert len(problems) == 3


def test_values_are_applied_with_their_types() -> None:
    rules = parse_rules({"zone_entry": {"rearm_s": 60, "vessels": ["all"]}, "dark": {"enabled": False}})
    assert rules.zone_entry == ZoneEntryRules(rearm_s=60.0, vessels=("all",))
    assert isinstance(rules.zone_entry.rearm_s, float)
    assert rules.dark.enabled is False
    assert rules.loitering == Rules().loitering


def test_zone_overrides_in_the_rules_file() -> None:
    rules = parse_rules({"zone": {"malacca": {"zone_entry": {"entry_fixes": 5}, "dark": {"min_gap_s": 7200}}}})
    assert rules.zones == {"malacca": {"zone_entry": {"entry_fixes": 5}, "dark": {"min_gap_s": 7200.0}}}


def test_bad_zone_overrides_in_the_rules_file_are_located() -> None:
    problems = rules_problems(
        {"zone": {"malacca": {"zone_entry": {"entry_fxes": 5}, "distress": {"escalate_every_s": 60}}}}
    )
    assert len(problems) == 2
    assert problems[0].startswith("alerts/my.toml: [zone].malacca.zone_entry.entry_fxes: unknown setting")
    assert problems[1].startswith("alerts/my.toml: [zone].malacca.distress: not a per-zone section")


def test_section_merges_zone_geojson_then_rules_file() -> None:
    rules = Rules(zones={"z1": {"zone_entry": {"entry_fixes": 7}}})
    geojson = {"zone_entry": {"entry_fixes": 5, "rearm_s": 10.0}}
    merged = rules.section("zone_entry", "z1", geojson)
    assert (merged.entry_fixes, merged.rearm_s) == (7, 10.0)  # the rules file wins over the zone file
    assert rules.section("zone_entry", "z2", geojson) == ZoneEntryRules(entry_fixes=5, rearm_s=10.0)
    assert rules.section("zone_entry", "z1", None) == ZoneEntryRules(entry_fixes=7)
    assert rules.section("zone_entry") is rules.zone_entry
    assert rules.section("loitering", "z1", geojson) is rules.loitering


# ----------------------------------------------------------- defaults in TOML
def test_rendered_defaults_parse_back_to_exactly_the_defaults() -> None:
    doc = tomllib.loads(render_defaults())
    defaults = Rules()
    assert set(doc) == {name for name, _ in sections()}
    for name, cls in sections():
        fields = {f.name: f.default for f in dataclasses.fields(cls)}
        assert set(doc[name]) == set(fields), name
        for key, value in doc[name].items():
            default = fields[key]
            assert value == (list(default) if isinstance(default, tuple) else default), f"{name}.{key}"
            assert type(value) is (list if isinstance(default, tuple) else type(default)), f"{name}.{key}"
    assert parse_rules(doc) == defaults


def test_every_setting_is_documented_in_the_rendered_file() -> None:
    text = render_defaults()
    for name, cls in sections():
        assert f"[{name}]" in text
        for f in dataclasses.fields(cls):
            assert f.metadata["help"], f"{name}.{f.name} has no description"


def test_alerts_rules_toml_is_the_rendered_defaults() -> None:
    shipped = (REPO / "alerts" / "rules.toml").read_text(encoding="utf-8")
    assert shipped == render_defaults(), (
        "alerts/rules.toml is out of date: run `seawatch rules --defaults > alerts/rules.toml`"
    )


def test_rules_defaults_command_prints_the_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "--defaults"]) == 0
    assert capsys.readouterr().out == render_defaults()


def test_rules_command_prints_the_rules_in_effect_as_a_usable_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    changed = tmp_path / "rules.toml"
    changed.write_text(
        '[zone_entry]\nentry_fixes = 5\n[zone."strait-of-malacca".loitering]\nmin_duration_s = 7200\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("SEAWATCH_RULES_FILE", str(changed))
    assert main(["rules"]) == 0
    out = capsys.readouterr().out
    assert "entry_fixes = 5  # fixes; default 3" in out
    assert "# 1 setting(s) differ from the defaults; 1 zone(s) override rules in the file" in out
    # the output is itself a rules file that gives the same rules
    again = tmp_path / "again.toml"
    again.write_text(out, encoding="utf-8")
    assert load_rules(again) == load_rules(changed)

    broken = tmp_path / "broken.toml"
    broken.write_text("[zone_entry]\nentry_fixes = -1\n", encoding="utf-8")
    monkeypatch.setenv("SEAWATCH_RULES_FILE", str(broken))
    assert main(["rules"]) == 2
    assert "entry_fixes" in capsys.readouterr().err


def test_a_missing_configuration_file_named_on_purpose_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEAWATCH_CONFIG", str(tmp_path / "nowhere.toml"))
    assert main(["check-config"]) == 2
    assert "nowhere.toml' (SEAWATCH_CONFIG) not found" in capsys.readouterr().err


# ------------------------------------------------------------ files on disk
def test_the_shipped_zones_load_without_problems() -> None:
    zones = load_zones(REPO / "zones")
    kinds = {z.kind for z in zones}
    assert {ZoneKind.RISK, ZoneKind.DISEMBARKATION, ZoneKind.PORT} <= kinds
    assert len({z.id for z in zones}) == len(zones)
    # per-zone overrides in the shipped files are valid and take effect
    for zone in zones:
        for section in zone.rules:
            Rules().section(section, zone.id, zone.rules)


def test_the_shipped_rules_file_loads_to_the_defaults() -> None:
    assert load_rules(REPO / "alerts" / "rules.toml") == Rules()
    assert load_rules(None) == Rules()


def test_zone_json_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "a.geojson").write_text(json.dumps(collection(good())), encoding="utf-8")
    bad = tmp_path / "b.geojson"
    bad.write_text('{\n  "type": "FeatureCollection",\n  "features": [,]\n}\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_zones(tmp_path)
    message = str(caught.value)
    assert f"{bad}: line 3 column 16:" in message


def test_zone_problems_from_several_files_are_all_reported(tmp_path: Path) -> None:
    (tmp_path / "a.geojson").write_text(json.dumps(collection(good())), encoding="utf-8")
    (tmp_path / "b.geojson").write_text(json.dumps(collection(good(), feature("x", [], kind="?"))), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_zones(tmp_path)
    lines = str(caught.value).splitlines()
    assert lines[0] == "invalid zones:"
    assert any(f"{tmp_path / 'b.geojson'}: feature 1 ('x'): kind '?'" in line for line in lines)
    assert any("id 'good' already used by" in line for line in lines)


def test_missing_or_empty_zones_directory(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_zones(tmp_path / "nope")
    with pytest.raises(ConfigError, match=r"holds no \*\.geojson files"):
        load_zones(tmp_path)


def test_rules_toml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text("[dark]\nmin_gap_s = = 3\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_rules(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert "line 2" in message


def test_rules_problems_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text("[dark]\nmin_gap = 3\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_rules(path)
    assert f"{path}: [dark].min_gap: unknown setting" in str(caught.value)
    with pytest.raises(ConfigError, match="not found"):
        load_rules(tmp_path / "missing.toml")


@pytest.fixture
def clean_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No ./seawatch.toml and no SEAWATCH_* variables from the developer's shell."""
    import os

    for name in list(os.environ):
        if name.startswith("SEAWATCH_"):
            monkeypatch.delenv(name)
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    return tmp_path


def test_check_config_with_a_bad_zone_exits_2_with_the_located_problem(
    clean_settings: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    zones = clean_settings / "zones"
    zones.mkdir()
    path = zones / "mine.geojson"
    path.write_text(json.dumps(collection(good(), feature("bad", square(60, 10, 61, 11), severity="urgent"))))
    assert main(["check-config", "--zones", str(zones)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"{path}: feature 1 ('bad'): severity 'urgent' is not one of" in captured.err


def test_check_config_with_a_rules_file_naming_an_unknown_zone(
    clean_settings: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    zones = clean_settings / "zones"
    zones.mkdir()
    (zones / "mine.geojson").write_text(json.dumps(collection(good())))
    rules = clean_settings / "rules.toml"
    rules.write_text('[zone."nowhere".zone_entry]\nentry_fixes = 5\n')
    assert main(["check-config", "--zones", str(zones), "--rules", str(rules)]) == 2
    assert "rules name zones that no zone file defines: nowhere" in capsys.readouterr().err


def test_check_config_accepts_the_shipped_files(clean_settings: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", "--zones", str(REPO / "zones"), "--rules", str(REPO / "alerts" / "rules.toml")]) == 0
    out = capsys.readouterr().out
    assert "zones OK:" in out and "risk" in out and "disembarkation" in out and "port" in out
