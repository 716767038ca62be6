"""CAP 1.2 documents and partner subscription filters, from hand-built alert events."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from seawatch.adapters.store import AlertStore, OutboxItem
from seawatch.cli import main
from seawatch.config.settings import Settings
from seawatch.core.alerts import AlertEvent, EventType, Kind, Severity, Status, VesselInfo, ZoneRef
from seawatch.core.cap import CAP_NS, to_cap
from seawatch.core.subscriptions import Subscription, recipients
from seawatch.runtime import build_delivery

T0 = datetime(2026, 3, 1, tzinfo=UTC)
NS = {"cap": CAP_NS}


def event(**changes: object) -> AlertEvent:
    base = AlertEvent(
        id="distress-0123456789abcdef",
        event=EventType.OPENED,
        sequence=1,
        kind=Kind.DISTRESS,
        severity=Severity.CRITICAL,
        status=Status.OPEN,
        test=False,
        mmsi=970012345,
        vessel=VesselInfo(970012345, name="<b>SART</b>", ais_class="A"),
        other=None,
        lat=6.5,
        lon=96.5,
        zone=ZoneRef("andaman-sea-corridor", "Andaman Sea corridor"),
        observed_at=T0,
        opened_at=T0,
        summary="AIS-SART ACTIVE: <b>SART</b> & co",
        evidence={"signal": "nav_status_14", "reports": 8},
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_opened_alert_is_a_cap_alert_with_its_area_and_evidence() -> None:
    root = ET.fromstring(to_cap(event(), sender="seawatch@rcc.example"))
    assert root.tag == f"{{{CAP_NS}}}alert"
    assert root.findtext("cap:identifier", namespaces=NS) == "distress-0123456789abcdef.1"
    assert root.findtext("cap:sender", namespaces=NS) == "seawatch@rcc.example"
    assert root.findtext("cap:sent", namespaces=NS) == "2026-03-01T00:00:00+00:00"  # CAP forbids "Z"
    assert root.findtext("cap:status", namespaces=NS) == "Actual"
    assert root.findtext("cap:msgType", namespaces=NS) == "Alert"
    assert root.find("cap:references", NS) is None
    info = root.find("cap:info", NS)
    assert info is not None
    assert info.findtext("cap:category", namespaces=NS) == "Rescue"
    assert info.findtext("cap:severity", namespaces=NS) == "Extreme"
    assert info.findtext("cap:urgency", namespaces=NS) == "Immediate"
    assert info.findtext("cap:certainty", namespaces=NS) == "Observed"
    assert info.findtext("cap:headline", namespaces=NS) == "AIS-SART ACTIVE: <b>SART</b> & co"
    assert info.findtext("cap:area/cap:areaDesc", namespaces=NS) == "Andaman Sea corridor"
    assert info.findtext("cap:area/cap:circle", namespaces=NS) == "6.50000,96.50000 1.0"
    params = {
        p.findtext("cap:valueName", namespaces=NS): p.findtext("cap:value", namespaces=NS)
        for p in info.findall("cap:parameter", NS)
    }
    assert params["seawatch:evidence"] == '{"reports":8,"signal":"nav_status_14"}'


def test_updates_and_resolutions_reference_the_first_message() -> None:
    update = ET.fromstring(to_cap(event(event=EventType.ACKNOWLEDGED, sequence=2, by="mrcc", note="tasked")))
    assert update.findtext("cap:msgType", namespaces=NS) == "Update"
    assert (
        update.findtext("cap:references", namespaces=NS)
        == "seawatch,distress-0123456789abcdef.1,2026-03-01T00:00:00+00:00"
    )
    resolved = ET.fromstring(to_cap(event(event=EventType.RESOLVED, sequence=3, status=Status.RESOLVED)))
    assert resolved.findtext("cap:msgType", namespaces=NS) == "Cancel"
    assert resolved.findtext("cap:info/cap:responseType", namespaces=NS) == "AllClear"


def test_a_beacon_test_is_a_cap_test() -> None:
    root = ET.fromstring(to_cap(event(test=True, severity=Severity.INFO)))
    assert root.findtext("cap:status", namespaces=NS) == "Test"
    assert "TEST" in (root.findtext("cap:note", namespaces=NS) or "")


def test_long_summaries_are_cut_for_the_headline() -> None:
    root = ET.fromstring(to_cap(event(summary="x" * 300)))
    headline = root.findtext("cap:info/cap:headline", namespaces=NS) or ""
    assert len(headline) == 160 and headline.endswith("...")


def test_subscription_filters() -> None:
    everything = Subscription("all")
    critical_only = Subscription("crit", min_severity=Severity.HIGH)
    andaman = Subscription("andaman", zones=frozenset({"andaman-sea-corridor"}))
    drifting = Subscription("drift", kinds=frozenset({"drifting"}))
    no_tests = Subscription("real", include_tests=False)
    subs = [everything, critical_only, andaman, drifting, no_tests]
    assert recipients(subs, event()) == ["all", "crit", "andaman", "real"]
    assert recipients(subs, event(severity=Severity.MEDIUM, zone=None)) == ["all", "real"]
    assert recipients(subs, event(test=True, severity=Severity.INFO)) == ["all", "andaman"]
    assert recipients(subs, event(kind=Kind.DRIFTING, severity=Severity.HIGH)) == [
        "all",
        "crit",
        "andaman",
        "drift",
        "real",
    ]


def test_outbox_command_lists_and_requeues_dead_letters(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'alerts.db'}"
    store = AlertStore(url)
    ev = event()
    (row,) = store.record([ev], [OutboxItem("ngo", ev.id, 1, "distress", "json", "{}")], T0)
    store.mark_dead(row, T0 + timedelta(hours=24), "HTTP 500")
    store.close()
    config = tmp_path / "seawatch.toml"
    config.write_text(f'store_url = "{url}"\n', encoding="utf-8")
    assert main(["--config", str(config), "outbox", "--dead"]) == 0
    out = capsys.readouterr().out
    assert "ngo: pending 0, delivered 0, dead 1" in out and "HTTP 500" in out
    assert main(["--config", str(config), "outbox", "--requeue", "all"]) == 0
    assert "re-queued 1" in capsys.readouterr().out
    assert main(["--config", str(config), "outbox", "--requeue", "x"]) == 2


def test_outbox_command_purges_old_deliveries(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'alerts.db'}"
    store = AlertStore(url)
    old, recent = event(), replace(event(), id="distress-recent")
    rows = store.record(
        [old, recent], [OutboxItem("ngo", e.id, 1, "distress", "json", "{}") for e in (old, recent)], T0
    )
    now = datetime.now(UTC)
    store.mark_delivered(rows[0], now - timedelta(days=40))
    store.mark_delivered(rows[1], now - timedelta(days=2))
    store.close()
    config = tmp_path / "seawatch.toml"
    config.write_text(f'store_url = "{url}"\n', encoding="utf-8")

    assert main(["--config", str(config), "outbox", "--purge-delivered", "30"]) == 0
    assert "purged 1 delivered webhook row(s)" in capsys.readouterr().out
    assert main(["--config", str(config), "outbox"]) == 0
    assert "ngo: pending 0, delivered 1, dead 0" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["--config", str(config), "outbox", "--purge-delivered", "-1"])
    assert "days must be between 0 and 36500" in capsys.readouterr().err


def test_the_service_keeps_delivered_rows_for_the_configured_days(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'alerts.db'}"
    now = datetime.now(UTC)
    for keep_days, left in ((0, 5), (30, 2)):
        # new alerts each round: an event stored before never brings its purged webhook back
        events = [replace(event(), id=f"distress-{keep_days}-{n}") for n in range(5)]
        delivery = build_delivery(Settings(store_url=url, outbox_keep_delivered_days=keep_days, alerts_topic_prefix=""))
        store = delivery.store
        rows = store.record(events, [OutboxItem("ngo", e.id, 1, "distress", "json", "{}") for e in events], T0)
        for age_days, row in zip((90, 45, 31, 29, 1), rows, strict=True):
            store.mark_delivered(row, now - timedelta(days=age_days))
        asyncio.run(delivery.purge_delivered_once(now))
        assert store.counts()["ngo"]["delivered"] == left, keep_days  # 0 keeps every row
        store.purge_delivered(now + timedelta(days=1))  # empty for the next round
        store.close()
