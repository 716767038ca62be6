"""The configuration reference matches the settings model, and JSON logs are JSON."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from seawatch.config.reference import render_reference, unit_of
from seawatch.config.settings import Partner, Settings
from seawatch.logs import JsonFormatter, configure

REPO = Path(__file__).resolve().parents[2]
REFERENCE = REPO / "docs" / "configuration.md"


def test_the_committed_reference_is_current() -> None:
    assert REFERENCE.read_text(encoding="utf-8") == render_reference(), (
        "docs/configuration.md is stale: run `seawatch config --reference > docs/configuration.md`"
    )


def test_every_setting_is_in_the_reference_with_its_variable_default_and_description() -> None:
    text = render_reference()
    for name, info in Settings.model_fields.items():
        row = next((line for line in text.splitlines() if line.startswith(f"| `{name}` |")), None)
        assert row is not None, name
        assert f"`SEAWATCH_{name.upper()}`" in row
        assert info.description and info.description.split(" (")[0][:30].replace("|", "\\|") in row
        if name.endswith("_s"):
            assert "| seconds |" in row
    for name in Partner.model_fields:
        assert f"| `{name}` |" in text


def test_units_come_from_names() -> None:
    assert unit_of("webhook_retry_max_s") == "seconds"
    assert unit_of("surpic_max_range_nm") == "nautical miles"
    assert unit_of("mqtt_url") == ""


def test_json_log_lines() -> None:
    record = logging.LogRecord("seawatch.test", logging.WARNING, __file__, 1, "alert %s <b>", ("x",), None)
    doc = json.loads(JsonFormatter().format(record))
    assert doc["level"] == "WARNING" and doc["logger"] == "seawatch.test" and doc["message"] == "alert x <b>"
    assert doc["time"].endswith("Z")


def test_configure_json_writes_one_object_a_line(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        configure("INFO", "json")
        logging.getLogger("seawatch.service").warning("feed %s silent", "rx-andaman")
        logging.getLogger("seawatch.service").debug("not shown at INFO")
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert [json.loads(line)["message"] for line in lines] == ["feed rx-andaman silent"]
