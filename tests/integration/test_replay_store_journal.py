"""``seawatch replay --store-journal``: the journal a failover pair keeps in its store gives the alerts of the log."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from seawatch.adapters.store import AlertStore
from seawatch.adapters.storejournal import StoreJournalWriter
from seawatch.cli import main
from tests.integration.test_store import fresh_postgres_database

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "replay_data" / "scenarios" / "beacons_active.nmea"
ZONES = ["--no-shore", "--zones", str(ROOT / "zones")]


def _events(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.fixture(autouse=True)
def _no_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SEAWATCH_CONFIG", "")


def test_the_journal_in_the_store_replays_as_the_log_it_recorded(tmp_path: Path) -> None:
    lines = [line for line in SCENARIO.read_bytes().splitlines() if line.strip()]
    arrival = datetime(2026, 12, 1, tzinfo=UTC)
    with fresh_postgres_database() as url:
        store = AlertStore(url)
        writer = StoreJournalWriter(store)
        for first in range(0, len(lines), 250):
            batch = lines[first : first + 250]
            writer.write(
                first, [(line, arrival + timedelta(seconds=first + i), "ais/rx") for i, line in enumerate(batch)]
            )
        store.close()
        assert main(["replay", str(SCENARIO), "-o", "log.jsonl", *ZONES]) == 0
        assert main(["replay", "--store-journal", url, "-o", "store.jsonl", *ZONES]) == 0
        # the store's URL from the settings when none is given
        assert main(["--config", _config(tmp_path, url), "replay", "--store-journal", "-o", "set.jsonl", *ZONES]) == 0
    from_log = _events(tmp_path / "log.jsonl")
    assert from_log and {e["kind"] for e in from_log} >= {"distress"}
    assert _events(tmp_path / "store.jsonl") == from_log
    assert _events(tmp_path / "set.jsonl") == from_log


def _config(tmp_path: Path, url: str) -> str:
    config = tmp_path / "seawatch.toml"
    config.write_text(f'store_url = "{url}"\n', encoding="utf-8")
    return str(config)


def test_a_store_that_cannot_be_read_is_one_line_not_a_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    url = "postgresql+psycopg://postgres:secret@127.0.0.1:1/none"
    assert main(["replay", "--store-journal", url, "-o", "out.jsonl", *ZONES]) == 2
    err = capsys.readouterr().err
    assert "cannot read the journal in the store" in err and "Traceback" not in err
    assert "secret" not in err


def test_nothing_to_replay_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", *ZONES]) == 2
    assert "nothing to replay" in capsys.readouterr().err
