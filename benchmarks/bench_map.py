"""Benchmark: frame times of the live map in Chromium over a scripted pan and zoom with 20,000 vessels.

Everything real: a Mosquitto of its own, the Seawatch app (ingest, watch, store) served by uvicorn, 20,000
vessels published over MQTT on a grid over the region, and the map page in headless Chromium (Debian's
``chromium``, as the browser tests; every request outside 127.0.0.1 blocked). The page draws land from
Seawatch's own coastline files, the zones, and the vessels of its viewport (canvas circles in a crowd).

The script zooms to the whole region, then pans in steps (``panBy`` with animation) and zooms in and out
level by level, twice, waiting for each move to end. Meanwhile a ``requestAnimationFrame`` loop in the page
records the time between frames; the figures are the median, p95, p99 and worst frame interval, and the
share of frames over 50 ms. Headless Chromium renders in software (no GPU), so the figures are an upper
bound of what an operator's browser does. Printed, never asserted.

Usage: python benchmarks/bench_map.py [--vessels 20000] [--rounds 2]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from playwright.sync_api import Page, sync_playwright  # noqa: E402

from tests.e2e.conftest import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    VIEWPORT,
    AppServer,
    Publisher,
    e2e_settings,
    nmea,
    wait_for,
)
from tests.integration.mosquitto import Mosquitto  # noqa: E402

_RECORD = """
window.__frames = [];
window.__recording = false;
(function loop(last) {
  requestAnimationFrame((t) => {
    if (window.__recording && last !== null) window.__frames.push(t - last);
    loop(t);
  });
})(null);
"""


def publish_fleet(publisher: Publisher, total: int) -> None:
    when = datetime.now(UTC).replace(microsecond=0)
    batch: list[bytes] = []
    for i in range(total):
        lat = -12.0 + (i % 200) * 0.15  # a 200 x 100 grid over the region, as the browser test's busy sea
        lon = 88.0 + (i // 200) * 0.3
        fields = {"msg_type": 1, "mmsi": 200_000_000 + i, "lat": lat, "lon": lon, "speed": 10.0, "course": 90.0}
        batch.extend(nmea(fields, when))
        if len(batch) == 200:
            publisher.publish([b"\n".join(batch)])
            batch = []
    if batch:
        publisher.publish([b"\n".join(batch)])


def settle(page: Page) -> None:
    """Wait for the map to stop moving and for the page to answer a frame."""
    page.wait_for_function("() => !window.seawatchMap._animatingZoom && !window.seawatchMap._panAnim?._inProgress")
    page.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")


def scripted_moves(page: Page, rounds: int) -> int:
    moves = 0
    page.evaluate("window.seawatchMap.setView([4.0, 100.0], 5, {animate: false}) && null")
    settle(page)
    page.evaluate("window.__recording = true")
    for _ in range(rounds):
        for dx, dy in [(300, 0)] * 4 + [(0, 200)] * 2 + [(-300, 0)] * 4 + [(0, -200)] * 2:
            page.evaluate(f"window.seawatchMap.panBy([{dx}, {dy}], {{animate: true, duration: 0.35}}) && null")
            settle(page)
            moves += 1
        for zoom in (6, 7, 8, 9, 8, 7, 6, 5):
            page.evaluate(f"window.seawatchMap.setZoom({zoom}, {{animate: true}}) && null")
            settle(page)
            page.wait_for_function("() => window.seawatch.landState() === 'ready'")
            moves += 1
    page.evaluate("window.__recording = false")
    return moves


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vessels", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="seawatch-bench-map-") as tmp:
        workdir = Path(tmp)
        broker = Mosquitto(workdir / "mosquitto")
        broker.start()
        topic = f"seawatch-bench/{uuid.uuid4().hex}"
        server = AppServer(e2e_settings(broker, topic, workdir))
        server.start()
        publisher = Publisher(broker, f"{topic}/rx")
        try:
            publish_fleet(publisher, args.vessels)
            with httpx.Client(base_url=server.url, timeout=30) as http:
                wait_for(
                    lambda: http.get("/api/vessels?limit=1").json()["total"] >= args.vessels, 120, "vessels in state"
                )
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                context = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
                context.route("**/*", lambda r: r.continue_() if r.request.url.startswith(server.url) else r.abort())
                context.add_init_script(_RECORD)
                page = context.new_page()
                page.goto(server.url + "/")
                page.wait_for_selector("#sw-status[data-state='live']")
                page.wait_for_function("() => window.seawatch.vesselCount() > 0")
                page.wait_for_function("() => window.seawatch.landState() === 'ready'")
                started = time.monotonic()
                moves = scripted_moves(page, args.rounds)
                elapsed_s = time.monotonic() - started
                frames: list[float] = page.evaluate("window.__frames")
                shown = page.evaluate("window.seawatch.vesselCount()")
                browser.close()
        finally:
            publisher.close()
            server.stop()
            broker.stop()
    frames.sort()

    def pct(q: float) -> float:
        return frames[min(len(frames) - 1, int(q * len(frames)))]

    slow = sum(1 for f in frames if f > 50) / max(1, len(frames))
    print(f"map frame times, {args.vessels:,} vessels in state, {moves} scripted pans and zooms in {elapsed_s:.1f} s")
    print(f"  frames {len(frames):,}; vessels drawn at the end {shown:,}")
    print(
        f"  median {statistics.median(frames):.1f} ms, p95 {pct(0.95):.1f} ms, p99 {pct(0.99):.1f} ms, "
        f"worst {frames[-1]:.1f} ms; {slow:.1%} of frames over 50 ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
