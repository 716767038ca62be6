"""The configuration reference, generated from the settings model itself.

``docs/configuration.md`` is this module's output (``seawatch config --reference``), and
a test fails when the file and the model disagree, so the reference can't go stale.
Units come from the setting's name (``_s`` seconds, ``_m`` metres, ``_nm`` nautical
miles, ``_kn`` knots …), as the house style names every physical quantity.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo

from seawatch.config.settings import Partner, Settings

_UNITS = (
    ("_s", "seconds"),
    ("_m", "metres"),
    ("_nm", "nautical miles"),
    ("_kn", "knots"),
    ("_deg", "degrees"),
)


def unit_of(name: str) -> str:
    for suffix, unit in _UNITS:
        if name.endswith(suffix):
            return unit
    return ""


def _type_name(info: FieldInfo) -> str:
    text = str(info.annotation).replace("typing.", "").replace("pathlib.", "").replace("pydantic.types.", "")
    text = text.replace("<class '", "").replace("'>", "").replace("seawatch.config.settings.", "")
    text = text.replace("seawatch.config.", "")
    return text.replace("seawatch.core.alerts.", "")


def _default(info: FieldInfo) -> str:
    if info.is_required():
        return "(required)"
    value: Any = info.get_default(call_default_factory=True)
    if isinstance(value, SecretStr):
        return "(secret)"
    if isinstance(value, Path):
        return f"`{value}`"
    if isinstance(value, list) and value and isinstance(value[0], Path):
        return "`" + ", ".join(str(v) for v in value) + "`"
    if value is None:
        return "unset"
    if isinstance(value, str):
        return f'`"{value}"`' if value else '`""`'
    return f"`{json.dumps(value, default=str)}`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _table(model: type[BaseModel], env_prefix: str | None) -> list[str]:
    head = "| setting | environment variable | type | default | unit | meaning |"
    rows = (
        [head, "|---|---|---|---|---|---|"]
        if env_prefix is not None
        else [
            "| key | type | default | unit | meaning |",
            "|---|---|---|---|---|",
        ]
    )
    for name, info in model.model_fields.items():
        cells = [f"`{name}`"]
        if env_prefix is not None:
            cells.append(f"`{env_prefix}{name.upper()}`")
        cells += [f"`{_cell(_type_name(info))}`", _cell(_default(info)), unit_of(name), _cell(info.description or "")]
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def render_reference() -> str:
    lines = [
        "# Configuration reference",
        "",
        "Generated from the settings model by `seawatch config --reference`; a test keeps this file in step",
        "with the code. Settings come from `seawatch.toml` in the working directory (or `--config FILE`, or",
        "`SEAWATCH_CONFIG`), overridden by the environment variables below. Unknown keys are an error, and",
        "so is a missing file named by `--config` or `SEAWATCH_CONFIG` (`./seawatch.toml` is optional).",
        "Lists and tables given as environment variables are JSON, e.g.",
        "`SEAWATCH_MQTT_TOPICS='[\"ais/#\"]'`. Detector thresholds are not here: they live in",
        "`alerts/rules.toml` (`seawatch rules --defaults`), each with its unit and rationale.",
        "",
        "## Settings",
        "",
        *_table(Settings, "SEAWATCH_"),
        "",
        "## `[[partners]]`: webhook subscriptions",
        "",
        "Each `[[partners]]` table in `seawatch.toml` (or an item of the JSON list in `SEAWATCH_PARTNERS`):",
        "",
        *_table(Partner, None),
        "",
    ]
    return "\n".join(lines)
