"""Benchmark: how fast the HTTP API answers its largest reads, and a digest of what it answers.

The app is the one ``seawatch run`` serves (built from settings, without its store), called through
Starlette's ``TestClient`` in the same process: no sockets, so the figures are the app's own work
(routing, dependencies, building and serialising the body). The fleet is filled straight in (a grid of
vessels over the region, fixed times) and the alert book through the command port (reports at fixed
positions), so every answer is the same from run to run and from version to version: the SHA-256 of each
body is printed, and two versions of the code that print the same digests answered byte for byte the
same.

Figures: the median and minimum wall time of each request over ``--repeat`` calls after one warm-up,
and the median CPU time of the process per request (steadier than wall time on a busy machine).
Printed, never asserted.

Usage: python benchmarks/bench_api.py [--vessels 5000 20000] [--alerts 2000] [--repeat 15]
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fastapi.testclient import TestClient  # noqa: E402

from seawatch.config.settings import Settings  # noqa: E402
from seawatch.core.commands import FileReport  # noqa: E402
from seawatch.core.model import PositionReport  # noqa: E402
from seawatch.runtime import build_runtime  # noqa: E402

EPOCH = datetime(2026, 3, 1, tzinfo=UTC)


def build(vessels: int, alerts: int, workdir: Path) -> TestClient:
    settings = Settings(
        mqtt_url="mqtt://127.0.0.1:1",  # never connected: the lifespan does not run
        store_url=f"sqlite:///{workdir / 'alerts.db'}",
        zones_dir=ROOT / "zones",
        alerts_topic_prefix=None,
    )
    runtime = build_runtime(settings, with_delivery=False)
    pipeline = runtime.ingest.pipeline
    for i in range(vessels):  # a grid over the region, as the API test's twenty thousand
        lat, lon = -12.0 + (i // 200) * 0.3, 88.0 + (i % 200) * 0.22
        at = EPOCH + timedelta(seconds=i % 600)
        pipeline.fleet.apply(PositionReport(300_000_000 + i, 1, at, lat, lon, 10.0, 90.0, 90, 0, "grid"))
    for i in range(alerts):
        lat, lon = -10.0 + (i % 100) * 0.2, 90.0 + (i // 100) * 0.5
        report = FileReport(f"r-bench-{i:05d}", EPOCH + timedelta(seconds=i), "bench", lat, lon, "distress_call")
        assert pipeline.command(report) is not None
    return TestClient(runtime.app)


def time_get(client: TestClient, path: str, repeat: int) -> tuple[float, float, float, str, int]:
    client.get(path)  # warm-up
    times = []
    cpu = []
    body = b""
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        answer = client.get(path)
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
        assert answer.status_code == 200, answer.text
        body = answer.content
    digest = hashlib.sha256(body).hexdigest()[:16]
    return statistics.median(times), min(times), statistics.median(cpu), digest, len(body)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vessels", type=int, nargs="+", default=[5_000, 20_000])
    parser.add_argument("--alerts", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="seawatch-bench-api-") as tmp:
        for vessels in args.vessels:
            client = build(vessels, args.alerts, Path(tmp))
            for path in (
                "/api/vessels?limit=100000",
                "/api/vessels?bbox=95,4,98,7",
                "/api/alerts?limit=10000",
                f"/api/vessels/{300_000_000 + vessels // 2}",
            ):
                median, best, cpu, digest, size = time_get(client, path, args.repeat)
                print(
                    f"{vessels:>6,} vessels, {args.alerts:,} alerts  GET {path:<28} median {median * 1000:6.1f} ms  "
                    f"min {best * 1000:6.1f} ms  cpu {cpu * 1000:6.1f} ms  {size:>10,} bytes  sha256 {digest}"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
