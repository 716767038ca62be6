"""One settings model for every command: ``seawatch.toml`` plus ``SEAWATCH_*`` variables.

Environment variables win over the file, the file over the defaults. Settings are
built when a command starts (never at import time) so tests can build their own.
Every setting says what it is for and in which unit.
"""

from __future__ import annotations

import base64
import os
import tomllib
from pathlib import Path
from typing import Any, ClassVar, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)

from seawatch.config.urls import parse_mqtt_url
from seawatch.core.alerts import Kind, Severity
from seawatch.core.pipeline import PipelineOptions

DEFAULT_CONFIG_FILE = Path("seawatch.toml")
# Scenarios the demo plays together: beacons at once, then a drift, a rescue and a landing,
# a transfer at sea, boats in port (their MMSIs are distinct).
DEMO_SCENARIOS = (
    "beacons_active",
    "rescue_disembarkation",
    "mothership_transfer",
    "adrift_andaman",
    "loitering_craft",
    "port_anchorage",
)
# The demo receivers' base stations, heard all lap long (scripts/make_demo_stations.py): without them a
# receiver whose scenario ends early falls silent, and the demo reports a feed outage that is not one.
DEMO_STATIONS = Path("replay_data/demo_stations.nmea")
SCENARIO_DIR = Path("replay_data/scenarios")  # the scripted scenarios, relative to the repository


class Partner(BaseModel):
    """A rescue partner's webhook subscription (``[[partners]]`` in seawatch.toml)."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,62}$", description="Short id, used in logs and metrics.")
    url: str = Field(description="HTTPS (or HTTP) endpoint that receives the POSTs.")
    secret: SecretStr = Field(description="Standard Webhooks signing secret, 'whsec_' + base64 (never logged).")
    previous_secret: SecretStr | None = Field(
        None, description="While rotating: the old secret, also signed with, so both verify at the partner."
    )
    kinds: list[str] = Field([], description="Alert kinds to send; empty for all.")
    min_severity: Severity = Field(Severity.INFO, description="Least severity sent: critical, high, medium, low, info.")
    zones: list[str] = Field([], description="Zone ids to send; empty for anywhere.")
    format: Literal["json", "cap"] = Field("json", description="json: the alert event; cap: OASIS CAP 1.2 XML.")
    include_tests: bool = Field(True, description="Also send beacon tests and drills (flagged test: true).")
    max_concurrency: int = Field(4, ge=1, le=64, description="Requests in flight to this partner at once.")
    max_age_s: float = Field(24 * 3600.0, gt=0, description="Retry an event until it is this old, seconds.")
    timeout_s: float = Field(10.0, gt=0, description="Seconds to wait for the partner's answer.")

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        # The URL itself is never echoed: a partner's URL may carry a token in its query.
        if not (value.startswith("https://") or value.startswith("http://")):
            raise ValueError("must be an http:// or https:// URL")
        if any(c.isspace() or not c.isprintable() for c in value):
            raise ValueError("must not contain spaces or control characters (percent-encode them)")
        parts = urlsplit(value)
        if not parts.hostname:
            raise ValueError("must name a host, e.g. https://partner.example/hooks/seawatch")
        try:
            port = parts.port  # urlsplit checks the port only when asked
        except ValueError:
            port = 0
        if port == 0:
            raise ValueError("has a bad port (a number from 1 to 65535)")
        return value

    @field_validator("secret", "previous_secret")
    @classmethod
    def _check_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        raw = value.get_secret_value()
        body = raw[len("whsec_") :] if raw.startswith("whsec_") else raw
        try:
            decoded = base64.b64decode(body + "==", validate=False)
        except ValueError:
            raise ValueError("must be base64 (optionally prefixed whsec_)") from None
        if len(decoded) < 24:
            raise ValueError("must hold at least 24 random bytes (Standard Webhooks recommends 24 to 64)")
        return value

    @field_validator("kinds")
    @classmethod
    def _check_kinds(cls, value: list[str]) -> list[str]:
        known = {k.value for k in Kind}
        bad = [k for k in value if k not in known]
        if bad:
            raise ValueError(f"unknown kind {bad[0]!r} (known: {', '.join(sorted(known))})")
        return value


class Settings(BaseSettings):
    """Seawatch configuration. See the README for a tour and ``docs/`` for the reference."""

    # hide_input_in_errors: a mistyped key must not echo a password into a terminal or log.
    model_config = SettingsConfigDict(
        env_prefix="SEAWATCH_", extra="forbid", validate_default=True, hide_input_in_errors=True
    )
    config_file: ClassVar[Path | None] = None

    # --- MQTT source -----------------------------------------------------------------
    mqtt_url: str = Field(
        "mqtt://127.0.0.1:1883",
        description="Broker URL: mqtt://host:port, or mqtts://host:port for TLS.",
    )
    mqtt_username: str | None = Field(None, description="Broker user name, if the broker needs one.")
    mqtt_password: SecretStr | None = Field(None, description="Broker password (never logged).")
    mqtt_topics: list[str] = Field(["ais/#"], description="Topic filters carrying AIS (NMEA or AIS-catcher JSON).")
    mqtt_client_id: str = Field(
        "seawatch-ingest",
        description="Fixed client id: with a persistent session the broker keeps messages while Seawatch restarts.",
    )
    mqtt_qos: int = Field(1, ge=0, le=1, description="Subscription QoS; 1 = at least once, nothing lost.")
    mqtt_tls_ca_file: Path | None = Field(None, description="CA bundle for mqtts:// (system roots if unset).")
    mqtt_tls_insecure: bool = Field(False, description="Skip broker certificate checks (testing only).")
    mqtt_keepalive_s: int = Field(30, ge=5, description="MQTT keep-alive interval, seconds.")
    mqtt_reconnect_min_s: float = Field(0.5, gt=0, description="First reconnect delay, seconds (doubles, jittered).")
    mqtt_reconnect_max_s: float = Field(30.0, gt=0, description="Longest reconnect delay, seconds.")
    mqtt_max_inflight: int = Field(
        1000, ge=1, description="QoS 1 messages the broker may have in flight to Seawatch at once."
    )
    mqtt_sys_topics: bool = Field(
        True, description="Also read the broker's $SYS counters (dropped messages) into Seawatch's figures."
    )

    # --- pure core ---------------------------------------------------------------------
    fragment_timeout_s: float = Field(60.0, gt=0, description="How long a multipart fragment waits, event seconds.")
    max_track_points: int = Field(120, ge=2, description="Fixes kept per vessel track.")
    max_track_age_s: float = Field(6 * 3600.0, gt=0, description="Oldest fix kept in a track, event seconds.")
    vessel_ttl_s: float = Field(24 * 3600.0, gt=0, description="Forget a vessel silent this long, event seconds.")
    duplicate_window_s: float = Field(
        30.0, ge=0, description="Two copies of one transmission within this many seconds count once."
    )

    max_vessels: int = Field(
        500_000, ge=1, description="Most vessels held; past it the longest-silent make room (memory bound)."
    )

    # --- zones, rules and detectors ---------------------------------------------------
    zones_dir: Path = Field(Path("zones"), description="Directory whose *.geojson files are the zones.")
    rules_file: Path | None = Field(
        None, description="Detector rules (TOML, see alerts/rules.toml); the built-in defaults if unset."
    )
    shore_distance: bool = Field(
        True,
        description="Judge distance from shore with the GSHHG coastline mask (about 400 MB, loaded on first use); "
        "off: only risk zones count as open water.",
    )
    watch_tick_s: float = Field(
        10.0, gt=0, description="Event seconds between time-driven checks (dark vessels, outages, escalations)."
    )

    # --- alert store and delivery ----------------------------------------------------
    store_url: str = Field(
        "sqlite:///seawatch-alerts.db",
        description="Alert store: sqlite:///FILE (default, no server) or postgresql+psycopg://user@host/db.",
    )
    store_spool_file: Path | None = Field(
        Path("seawatch-alerts.spool.jsonl"),
        description="File (fsynced JSON Lines) where alert events wait while the store cannot be written; "
        "put into the store at the next start or write. Empty: memory only (lost on a crash).",
    )
    partners: list[Partner] = Field([], description="Webhook subscriptions of rescue partners ([[partners]]).")
    webhook_retry_min_s: float = Field(5.0, gt=0, description="First webhook retry delay, seconds (doubles, jittered).")
    webhook_retry_max_s: float = Field(600.0, gt=0, description="Longest webhook retry delay, seconds.")
    outbox_keep_delivered_days: float = Field(
        30.0,
        ge=0,
        description="Days a delivered webhook stays in the outbox before it is purged; 0 keeps them all. "
        "The alert audit log is never purged.",
    )
    alerts_topic_prefix: str | None = Field(
        "seawatch/alerts", description="Publish alert events to <prefix>/<kind> at QoS 1; empty to switch off."
    )
    cap_sender: str = Field("seawatch", description="CAP <sender> of this installation (e.g. seawatch@rcc.example).")

    # --- state: feed journal and snapshots ------------------------------------------------
    journal_dir: Path | None = Field(
        None,
        description="Directory of the feed journal (every raw message, written before it is acknowledged; "
        "a start replays it after the last snapshot, so a restart changes nothing). Empty: no journal. "
        "Local disk of this machine (see docs/state.md for a standby pair).",
    )
    journal_fsync: bool = Field(
        True,
        description="fsync each journal batch before its messages are acknowledged (off: flushed to the OS "
        "only; survives a crash of Seawatch, not of the machine).",
    )
    journal_batch_max: int = Field(2000, ge=1, description="Most messages in one journal batch (one chunk).")
    journal_batch_delay_s: float = Field(
        0.005,
        ge=0,
        le=1.0,
        description="Most seconds a journal batch keeps gathering while messages keep arriving (it is written "
        "at once when they pause, e.g. when the broker's in-flight window is full); 0: no gathering.",
    )
    journal_segment_max_mb: float = Field(64.0, gt=0, description="A journal segment closes past this size, MB.")
    journal_segment_max_age_s: float = Field(3600.0, gt=0, description="A journal segment closes this old, seconds.")
    journal_keep_days: float = Field(
        7.0, ge=0, description="Closed journal segments older than this are deleted, days; 0 keeps them by age."
    )
    journal_keep_mb: float = Field(
        0.0, ge=0, description="Oldest journal segments are deleted past this total, MB; 0: no size limit."
    )
    snapshot_interval_s: float = Field(
        300.0, gt=0, description="Seconds between snapshots of the core's state in the store (and one at a stop)."
    )
    snapshot_every_messages: int = Field(
        0, ge=0, description="Also snapshot after this many messages since the last one; 0: by time only."
    )

    # --- failover: an active/standby pair -----------------------------------------------
    failover: bool = Field(
        False,
        description="Run as one of an active/standby pair on one PostgreSQL store: the instance holding the "
        "lease leads (reads MQTT, writes, delivers); the other keeps warm and serves a read-only map, and takes "
        "over when the leader dies or loses the store. The journal is then kept in the store (docs/failover.md).",
    )
    instance_name: str = Field(
        "",
        max_length=60,
        description="This instance's name on the map, in health and in the lease (failover); empty: the host name.",
    )
    instance_url: str | None = Field(
        None,
        description="Where operators reach this instance's map (failover): the standby's map links to the leader's.",
    )
    lease_ttl_s: float = Field(
        8.0,
        ge=2.0,
        le=300.0,
        description="Failover lease length, seconds: renewed every quarter of it; a leader that cannot renew it "
        "in time steps down, and the standby may take it once it has run out.",
    )

    # --- HTTP API and map -------------------------------------------------------------
    http_host: str = Field("127.0.0.1", description="Address the API and map listen on (0.0.0.0 behind a proxy).")
    http_port: int = Field(8000, ge=0, le=65535, description="Port of the API and map; 0 picks a free one.")
    operator_tokens: dict[str, SecretStr] = Field(
        {},
        description="Operator name -> bearer token for write actions (acknowledge, assign, resolve, retract, report).",
    )
    api_read_token: SecretStr | None = Field(
        None, description="Bearer token needed to read the API and map data; unset: reading is open."
    )
    map_tiles_url: str | None = Field(
        None,
        description="Tile layer URL template for the map, e.g. a local tile server's "
        "http://tiles.local/{z}/{x}/{y}.png; unset: no basemap, so the page needs nothing from the internet.",
    )
    map_tiles_attribution: str = Field("", description="Attribution shown for the tile layer (required by most).")
    centre_timezone: str = Field(
        "UTC",
        description="IANA time zone of the coordination centre (e.g. Asia/Jakarta): the map shows every time in UTC "
        "and in this zone.",
    )
    surpic_max_range_nm: float = Field(100.0, gt=0, description="SURPIC lists vessels within this range, nm.")

    # --- demo and figures --------------------------------------------------------------
    demo_broker_port: int = Field(18830, ge=1, le=65535, description="Port of the demo's embedded broker.")
    demo_feed: list[Path] = Field(
        [DEMO_STATIONS, *(SCENARIO_DIR / f"{name}.nmea" for name in DEMO_SCENARIOS)],
        description="Logs the demo publishes over MQTT, merged in event time and looped.",
    )
    demo_speed: float = Field(20.0, gt=0, description="Demo replay speed factor (1 = real time).")
    stats_interval_s: float = Field(2.0, gt=0, description="Seconds between live figure updates.")
    log_format: Literal["text", "json"] = Field(
        "text", description="Log lines as text, or one JSON object a line (read at start, also --log-format)."
    )

    @field_validator("demo_feed", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str | Path) else value

    @field_validator("store_spool_file", "journal_dir", "instance_url", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("partners")
    @classmethod
    def _unique_partners(cls, value: list[Partner]) -> list[Partner]:
        names = [p.name for p in value]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"two partners named {twice[0]!r}: names identify partners in the outbox and metrics")
        return value

    @field_validator("centre_timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (an IANA name such as Asia/Jakarta)") from None
        return value

    @field_validator("mqtt_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        parse_mqtt_url(value)  # raises ValueError with a clear message
        return value

    @model_validator(mode="after")
    def _check_failover(self) -> Settings:
        """A pair needs what both instances can reach: one PostgreSQL store, and the journal inside it."""
        if not self.failover:
            return self
        if not self.store_url.startswith(("postgresql", "postgres:")):
            raise ValueError(
                "failover needs a PostgreSQL store_url that both instances reach (the lease and the journal "
                "live in it); a SQLite file cannot be shared"
            )
        if self.journal_dir is not None:
            raise ValueError(
                "failover keeps the feed journal in the store, where both instances read it and every write is "
                "fenced: leave journal_dir empty (SEAWATCH_JOURNAL_DIR=)"
            )
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        path = cls.config_file
        if path is None:
            env_path = os.environ.get("SEAWATCH_CONFIG")
            path = Path(env_path) if env_path else DEFAULT_CONFIG_FILE
            if env_path and not path.is_file():
                # a file named on purpose must exist: silently running on defaults could send
                # alerts nowhere and watch the wrong zones
                raise FileNotFoundError(f"configuration file {env_path!r} (SEAWATCH_CONFIG) not found")
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if path.is_file():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)

    def pipeline_options(self) -> PipelineOptions:
        return PipelineOptions(
            fragment_timeout_s=self.fragment_timeout_s,
            max_track_points=self.max_track_points,
            max_track_age_s=self.max_track_age_s,
            vessel_ttl_s=self.vessel_ttl_s,
            duplicate_window_s=self.duplicate_window_s,
            max_vessels=self.max_vessels,
        )


class ConfigFileError(Exception):
    """Settings that cannot be read at all (bad TOML, not UTF-8, bad JSON in a variable): one line, no value."""


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build settings from (in order of precedence) overrides, environment, TOML file.

    Raises :class:`ConfigFileError` for a file or variable that cannot be parsed, with a
    message that names the place but never repeats its content (it may hold secrets).
    """
    if config_file is not None and not config_file.is_file():
        raise FileNotFoundError(f"configuration file {str(config_file)!r} not found")

    class _Bound(Settings):
        pass

    _Bound.config_file = config_file
    where = str(config_file or os.environ.get("SEAWATCH_CONFIG") or DEFAULT_CONFIG_FILE)
    try:
        return _Bound(**overrides)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigFileError(f"{where}: not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigFileError(f"{where}: not UTF-8 text (byte {exc.start})") from None
    except SettingsError as exc:
        hint = "a list or table in a SEAWATCH_ variable is JSON, e.g. SEAWATCH_MQTT_TOPICS='[\"ais/#\"]'"
        raise ConfigFileError(f"{exc}: {hint}") from None
    except FileNotFoundError:
        raise  # its message already says which file, and how it was named
    except OSError as exc:
        raise ConfigFileError(f"{where}: cannot read: {exc.strerror}") from None
