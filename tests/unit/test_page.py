"""The map page renders for every valid configuration."""

from __future__ import annotations

from pathlib import Path

from seawatch.config.watch import load_zones
from seawatch.web.page import render_map

ROOT = Path(__file__).resolve().parents[2]


def test_a_tile_server_without_an_attribution_still_gives_a_page() -> None:
    """Leaflet refuses custom tiles without an attribution; a config that left it empty must not 500 the map."""
    html = render_map(
        load_zones(ROOT / "zones"), tiles_url="http://tiles.rcc.local/{z}/{x}/{y}.png", tiles_attribution=""
    )
    assert "tiles.rcc.local" in html
    assert "Tiles: tiles.rcc.local" in html
