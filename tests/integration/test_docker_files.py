"""The deployment files in docker/ hold together, checked without a Docker engine.

No Docker engine runs on these machines and the `docker compose` plugin is absent, so:

* ``docker-compose config`` (the standalone docker-compose that
  ``scripts/ensure-docker-compose.sh`` installs) parses and interpolates the compose file
  for each profile; it needs no daemon. Version 1.29 renders every service whatever the
  profile, so which services each profile starts, and whether their dependencies come
  with them, is checked here too, by the Compose rules;
* the compose file is validated against the Compose Specification's JSON schema (the
  copy vendored by check-jsonschema: nothing is downloaded);
* the Dockerfile installs Seawatch the way CI does (``make test``), on the same Python;
* the Prometheus rules name only metrics that a real Seawatch exports on ``/metrics``,
  each used as its type allows.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from fastapi.testclient import TestClient
from packaging.specifiers import SpecifierSet
from pydantic import SecretStr

from seawatch.config.settings import Partner, Settings
from seawatch.runtime import create_app
from tests.integration.mosquitto import Mosquitto, find_mosquitto

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
COMPOSE = DOCKER / "compose.yaml"
DOCKERFILE = DOCKER / "Dockerfile"
RULES = DOCKER / "alert-rules.yml"
PROMETHEUS = DOCKER / "prometheus.yml"
PROMETHEUS_HA = DOCKER / "prometheus-ha.yml"
OPERATIONS = ROOT / "docs" / "operations.md"

# What each way of starting the stack must run (compose.yaml's header says how).
PROFILES: dict[str | None, set[str]] = {
    None: {"mosquitto", "seawatch"},
    "postgres": {"mosquitto", "seawatch", "postgres", "seawatch-pg"},
    "monitoring": {"mosquitto", "seawatch", "prometheus"},
    "ha": {"mosquitto", "seawatch", "postgres", "seawatch-a", "seawatch-b", "prometheus-ha"},
}
ALERTS = {
    "SeawatchFeedDead",
    "SeawatchBrokerDown",
    "SeawatchWebhookBacklogGrowing",
    "SeawatchWebhookDeadLetters",
    "SeawatchStoreFailing",
    "SeawatchNoLeader",
}
SEVERITIES = {"critical", "warning", "info"}
PROMETHEUS_OWN_METRICS = {"up"}  # written by Prometheus itself for every scrape target
HEALTHZ_URL = "http://127.0.0.1:%s/healthz"


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


# ------------------------------------------------------------------------ compose file
def docker_compose() -> str:
    path = shutil.which("docker-compose")
    if path is None:
        pytest.fail("docker-compose is not installed: run `bash scripts/ensure-docker-compose.sh` (make test does)")
    return path


def compose(*args: str) -> str:
    """``docker-compose -f docker/compose.yaml ARGS``; no Docker engine is needed for these."""
    proc = subprocess.run(
        [docker_compose(), "-f", str(COMPOSE), *args],
        cwd=DOCKER,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, f"docker-compose {' '.join(args)} failed:\n{proc.stderr}{proc.stdout}"
    return proc.stdout


def active_services(spec: dict[str, Any], profile: str | None) -> set[str]:
    """The services `docker compose [--profile P] up` starts: those with no profile, or with P."""
    return {
        name
        for name, service in spec["services"].items()
        if not service.get("profiles") or (profile is not None and profile in service["profiles"])
    }


def with_dependencies(spec: dict[str, Any], names: set[str]) -> set[str]:
    out = set(names)
    todo = list(names)
    while todo:
        for dep in spec["services"][todo.pop()].get("depends_on", {}):
            if dep not in out:
                out.add(dep)
                todo.append(dep)
    return out


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    data = load_yaml(COMPOSE)
    assert isinstance(data, dict) and "services" in data
    return data


@pytest.mark.parametrize("profile", list(PROFILES), ids=[p or "default" for p in PROFILES])
def test_docker_compose_config_accepts_each_profile(profile: str | None, spec: dict[str, Any]) -> None:
    args = ["--profile", profile] if profile else []
    rendered = yaml.safe_load(compose(*args, "config"))
    # docker-compose 1.29 renders every service; later versions only the profile's.
    assert PROFILES[profile] <= set(rendered["services"]), rendered["services"].keys()
    assert active_services(spec, profile) == PROFILES[profile]


def test_profiles_start_what_they_need_and_nothing_twice(spec: dict[str, Any]) -> None:
    assert set(compose("config", "--profiles").split()) == {p for p in PROFILES if p}
    for profile in PROFILES:
        active = active_services(spec, profile)
        # Compose refuses to start a service whose dependency its profiles leave out.
        assert with_dependencies(spec, active) == active, profile
    # `docker compose up seawatch-pg` brings what seawatch-pg needs, without the SQLite seawatch:
    # the two share the broker session (client id) and the host port, so only one may run.
    assert with_dependencies(spec, {"seawatch-pg"}) == {"seawatch-pg", "mosquitto", "postgres"}
    # The pair: `docker compose --profile ha up seawatch-a seawatch-b` brings the broker and the store.
    pair = {"seawatch-a", "seawatch-b"}
    assert with_dependencies(spec, pair) == pair | {"mosquitto", "postgres"}
    services = spec["services"]
    assert services["seawatch"]["ports"] == services["seawatch-pg"]["ports"]
    assert services["prometheus"]["ports"] == services["prometheus-ha"]["ports"]
    for name, service in services.items():
        assert "healthcheck" in service, f"{name} has no healthcheck"
        for dep, how in service.get("depends_on", {}).items():
            assert how == {"condition": "service_healthy"}, f"{name} should wait until {dep} is healthy"


def test_compose_file_matches_the_compose_specification(spec: dict[str, Any]) -> None:
    vendored = resources.files("check_jsonschema") / "builtin_schemas" / "vendor" / "compose-spec.json"
    schema = json.loads(vendored.read_text(encoding="utf-8"))
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    errors = sorted(validator_class(schema).iter_errors(spec), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors)


def test_compose_wires_broker_store_and_monitoring(spec: dict[str, Any]) -> None:
    services = spec["services"]
    seawatch, seawatch_pg, mosquitto = services["seawatch"], services["seawatch-pg"], services["mosquitto"]

    # Mosquitto runs with the shipped config, and keeps its queue in a volume.
    conf = (DOCKER / "mosquitto.conf").read_text()
    assert "./mosquitto.conf:/mosquitto/config/mosquitto.conf:ro" in mosquitto["volumes"]
    listener = re.search(r"^listener\s+(\d+)(\s+\S+)?\s*$", conf, re.MULTILINE)
    assert listener and listener.group(1) == "1883" and listener.group(2) is None, "listen on the compose network"
    persistence = re.search(r"^persistence_location\s+(\S+)", conf, re.MULTILINE)
    assert persistence
    mounts = {v.split(":")[1].rstrip("/"): v.split(":")[0] for v in mosquitto["volumes"]}
    assert mounts.get(persistence.group(1).rstrip("/")) in spec["volumes"], "broker persistence is not in a volume"

    for service in (seawatch, seawatch_pg):
        assert service["environment"]["SEAWATCH_MQTT_URL"] == "mqtt://mosquitto:1883"
        assert service["env_file"] == ["seawatch.env"] and (DOCKER / "seawatch.env").is_file()
        assert service["build"] == {"context": "..", "dockerfile": "docker/Dockerfile"}
        assert service["healthcheck"]["test"][:3] == ["CMD", "python", "-c"]
    # Every line of the shipped seawatch.env is a comment: nothing is set behind the reader's back.
    for line in (DOCKER / "seawatch.env").read_text(encoding="utf-8").splitlines():
        assert not line.strip() or line.lstrip().startswith("#"), line

    store = seawatch["environment"]["SEAWATCH_STORE_URL"]
    assert store.startswith("sqlite:////data/")
    data_volume = next(v.split(":")[0] for v in seawatch["volumes"] if v.split(":")[1] == "/data")
    assert data_volume in spec["volumes"]

    pg_store = seawatch_pg["environment"]["SEAWATCH_STORE_URL"]
    postgres = services["postgres"]["environment"]
    assert pg_store == f"postgresql+psycopg://{postgres['POSTGRES_USER']}@postgres:5432/{postgres['POSTGRES_DB']}"
    assert seawatch_pg["environment"]["PGPASSWORD"] == postgres["POSTGRES_PASSWORD"]
    assert "seawatch" in seawatch_pg["networks"]["default"]["aliases"], "Prometheus scrapes it as `seawatch`"

    # Prometheus loads both files, at the paths prometheus.yml names; prometheus-ha differs in
    # its targets only, the two instances of the pair.
    for name, path, targets in (
        ("prometheus", PROMETHEUS, ["seawatch:8000"]),
        ("prometheus-ha", PROMETHEUS_HA, ["seawatch-a:8000", "seawatch-b:8000"]),
    ):
        prom = services[name]
        prom_mounts = {v.split(":")[0]: v.split(":")[1] for v in prom["volumes"]}
        config = load_yaml(path)
        assert prom_mounts[f"./{path.name}"] == "/etc/prometheus/prometheus.yml", name
        assert "--config.file=/etc/prometheus/prometheus.yml" in prom["command"]
        assert config["rule_files"] == [prom_mounts["./alert-rules.yml"]]
        (job,) = config["scrape_configs"]
        assert job["job_name"] == "seawatch" and job["metrics_path"] == "/metrics"
        assert job["static_configs"] == [{"targets": targets}]
    single, pair = load_yaml(PROMETHEUS), load_yaml(PROMETHEUS_HA)
    for config in (single, pair):
        config["scrape_configs"][0].pop("static_configs")
    assert single == pair, "prometheus-ha.yml should differ from prometheus.yml in its targets only"

    # The pair: the same settings but name, URL, host port and spool volume; a PostgreSQL store
    # both reach, one MQTT client id, and the journal in the store (journal_dir empty).
    a, b = services["seawatch-a"], services["seawatch-b"]
    for service, name, port in ((a, "a", 8001), (b, "b", 8002)):
        env = service["environment"]
        assert env["SEAWATCH_FAILOVER"] == "true" and env["SEAWATCH_INSTANCE_NAME"] == name
        assert env["SEAWATCH_INSTANCE_URL"] == f"http://127.0.0.1:{port}/"
        assert env["SEAWATCH_STORE_URL"] == pg_store and env["PGPASSWORD"] == postgres["POSTGRES_PASSWORD"]
        assert env["SEAWATCH_MQTT_URL"] == "mqtt://mosquitto:1883"
        assert env["SEAWATCH_JOURNAL_DIR"] == "", "failover keeps the journal in the store"
        assert service["ports"] == [f"127.0.0.1:{port}:8000"]
        for key in env:
            if key.startswith("SEAWATCH_"):
                assert key.removeprefix("SEAWATCH_").lower() in Settings.model_fields, key
    same = {k: v for k, v in a["environment"].items() if not k.startswith("SEAWATCH_INSTANCE_")}
    assert same == {k: v for k, v in b["environment"].items() if not k.startswith("SEAWATCH_INSTANCE_")}
    assert "SEAWATCH_MQTT_CLIENT_ID" in same, "one client id for both: the broker session passes to the leader"
    (spool_a,) = a["volumes"]
    (spool_b,) = b["volumes"]
    assert spool_a.split(":")[1] == spool_b.split(":")[1] == "/data" and spool_a != spool_b
    assert {spool_a.split(":")[0], spool_b.split(":")[0]} <= set(spec["volumes"])


# -------------------------------------------------------------------------- Dockerfile
@dataclass
class Stage:
    image: str
    name: str | None
    instructions: list[tuple[str, str]]

    def all(self, keyword: str) -> list[str]:
        return [args for kw, args in self.instructions if kw == keyword]


def parse_dockerfile(path: Path) -> list[Stage]:
    """Instructions by stage, continuation lines joined, comments dropped."""
    stages: list[Stage] = []
    logical = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("#") or (not line and not logical):
            continue
        if line.endswith("\\"):
            logical += line[:-1] + " "
            continue
        logical += line
        keyword, _, args = logical.partition(" ")
        logical = ""
        keyword, args = keyword.upper(), args.strip()
        if keyword == "FROM":
            parts = args.split()
            stages.append(Stage(parts[0], parts[2] if len(parts) == 3 and parts[1].upper() == "AS" else None, []))
        else:
            assert stages, f"{keyword} before FROM"
            stages[-1].instructions.append((keyword, args))
    return stages


def env_of(stage: Stage) -> dict[str, str]:
    env: dict[str, str] = {}
    for args in stage.all("ENV"):
        for item in shlex.split(args):
            key, _, value = item.partition("=")
            env[key] = value
    return env


def pip_steps(commands: list[str]) -> list[str]:
    """The pip installs among shell commands, reduced to what they install.

    Dropped on purpose: the interpreter's path (``$(BIN)/``, ``/opt/seawatch/bin/``), ``--quiet``,
    ``-e`` (the Makefile installs editable) and the ``[test]`` extra (the image has no tests).
    """
    steps = []
    for command in commands:
        for part in re.split(r"&&|;|\n", command):
            words = shlex.split(part)
            if "pip" not in words or "install" not in words:
                continue
            assert words[0].endswith("python") and words[1:3] == ["-m", "pip"], f"not `python -m pip`: {part}"
            kept = [w for w in words[3:] if w not in ("--quiet", "-q", "-e", "--editable")]
            steps.append(" ".join(re.sub(r"^\.\[test\]$", ".", w) for w in kept))
    return steps


def makefile_install_commands() -> list[str]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(r"^\$\(STAMP\):.*\n((?:\t.*\n)+)", text, re.MULTILINE)
    assert recipe, "the Makefile's install recipe ($(STAMP)) is gone"
    return [line.strip() for line in recipe.group(1).splitlines()]


@pytest.fixture(scope="module")
def stages() -> list[Stage]:
    return parse_dockerfile(DOCKERFILE)


def test_dockerfile_installs_seawatch_as_ci_does(stages: list[Stage]) -> None:
    # Same steps, same order: upgrade pip, then install this repository.
    ci = pip_steps(makefile_install_commands())
    image = pip_steps([args for stage in stages for args in stage.all("RUN")])
    assert ci == ["install --upgrade pip", "install ."], ci
    assert image == ci, f"the image installs {image}, CI installs {ci}"

    # Same Python (major.minor) as CI: .python-version if the repository pins one, else the
    # interpreter running these tests (the venv `make test` made from python3).
    pinned = ROOT / ".python-version"
    ci_python = (
        ".".join(pinned.read_text().strip().split(".")[:2])
        if pinned.is_file()
        else f"{sys.version_info.major}.{sys.version_info.minor}"
    )
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    for stage in stages:
        match = re.fullmatch(r"python:(\d+\.\d+)(?:\.\d+)?-slim(?:-\w+)?", stage.image)
        assert match, f"{stage.image}: expected an official python:X.Y-slim image"
        assert match.group(1) == ci_python, f"the image has Python {match.group(1)}, CI {ci_python}"
        assert match.group(1) + ".0" in SpecifierSet(pyproject["project"]["requires-python"])

    # What `pip install .` reads is copied before it runs: metadata, readme, the package.
    build = next(s for s in stages if any("pip install" in a for a in s.all("RUN")))
    copied = " ".join(build.all("COPY")).split()
    for needed in ("pyproject.toml", pyproject["project"]["readme"], "seawatch/"):
        assert needed in copied, f"{needed} is not copied before `pip install .`"


def test_image_runs_seawatch_as_non_root_with_health_check(stages: list[Stage]) -> None:
    final = stages[-1]
    (user,) = final.all("USER") or ["root"]
    assert user.split(":")[0] not in ("root", "0"), "the image must not run as root"
    assert final.all("EXPOSE") == ["8000"]
    assert json.loads(final.all("ENTRYPOINT")[-1]) + json.loads(final.all("CMD")[-1]) == ["seawatch", "run"]

    (check,) = final.all("HEALTHCHECK")
    assert "curl" not in check and "wget" not in check, "the slim image has neither curl nor wget"
    probe = json.loads(check[check.index("CMD") + 3 :].strip())
    assert probe[:2] == ["python", "-c"] and "urllib.request.urlopen" in probe[2] and HEALTHZ_URL in probe[2]
    # docker/compose.yaml probes the same way.
    spec = load_yaml(COMPOSE)
    assert spec["x-seawatch"]["healthcheck"]["test"] == ["CMD", *probe]

    env = env_of(final)
    assert env["SEAWATCH_HTTP_HOST"] == "0.0.0.0" and env["SEAWATCH_HTTP_PORT"] == "8000"
    assert env["SEAWATCH_STORE_URL"] == "sqlite:////data/seawatch-alerts.db" and final.all("VOLUME") == ["/data"]
    # Every SEAWATCH_ variable is a real setting (an unknown one would stop Seawatch at start).
    for key in env:
        if key.startswith("SEAWATCH_"):
            assert key.removeprefix("SEAWATCH_").lower() in Settings.model_fields, key
    (workdir,) = final.all("WORKDIR")
    copies = {src: dst for src, dst in (args.split() for args in final.all("COPY") if "--from" not in args)}
    for src in ("zones/", "alerts/", "replay_data/"):
        assert copies.get(src) == src, f"{src} is not copied into {workdir}"
    assert env["SEAWATCH_ZONES_DIR"] == f"{workdir}/zones"
    assert env["SEAWATCH_RULES_FILE"] == f"{workdir}/alerts/rules.toml"
    assert (ROOT / "alerts" / "rules.toml").is_file() and any((ROOT / "zones").glob("*.geojson"))


def dockerignore_excludes(patterns: list[str], path: str) -> bool:
    """Docker's rule: the last pattern matching the path, or a directory above it, decides."""
    excluded = False
    parents = [path]
    while "/" in parents[-1]:
        parents.append(parents[-1].rsplit("/", 1)[0])
    for pattern in patterns:
        negate = pattern.startswith("!")
        glob = pattern.lstrip("!").strip("/")
        regex = re.escape(glob).replace(r"\*\*/", "(?:.*/)?").replace(r"\*\*", ".*").replace(r"\*", "[^/]*")
        regex = regex.replace(r"\?", "[^/]").replace(r"\[", "[").replace(r"\]", "]")
        if any(re.fullmatch(regex, p) for p in parents):
            excluded = not negate
    return excluded


def test_dockerignore_sends_what_the_image_copies_and_nothing_private(stages: list[Stage]) -> None:
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    sources = [
        src.rstrip("/")
        for stage in stages
        for args in stage.all("COPY")
        if "--from" not in args
        for src in args.split()[:-1]
    ]
    assert sources
    for src in sources:
        assert (ROOT / src).exists(), f"COPY {src}: no such file in the repository"
        assert not dockerignore_excludes(patterns, src), f".dockerignore keeps {src} out of the build context"
    for inside in ("seawatch/web/static/map.js", "seawatch/core/decode.py", "zones/risk.geojson"):
        assert not dockerignore_excludes(patterns, inside), inside
    for private in (
        ".venv/bin/python",
        ".git/config",
        "tests/data/ais/SOURCES.md",
        ".mypy_cache/x",
        ".pytest_cache/x",
        "seawatch/__pycache__/cli.cpython-311.pyc",
        "seawatch.toml",
        "docker/seawatch.env",
        "seawatch-alerts.db",
        "seawatch.egg-info/PKG-INFO",
    ):
        assert dockerignore_excludes(patterns, private), f"{private} would be sent to the Docker daemon"


# ----------------------------------------------------------- Prometheus rules vs /metrics
@dataclass(frozen=True)
class Exported:
    types: dict[str, str]  # metric name -> counter | gauge
    healthz: dict[str, Any]


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Exported]:
    """``GET /metrics`` and ``GET /healthz`` of a real Seawatch (broker, store, a webhook partner)."""
    if find_mosquitto() is None:
        pytest.fail("mosquitto is not installed: run `make test`, which installs it")
    work = tmp_path_factory.mktemp("docker-files")
    broker = Mosquitto(work / "mosquitto")
    broker.start()
    settings = Settings(
        mqtt_url=broker.url,
        mqtt_topics=[f"seawatch-test/{uuid.uuid4().hex}/#"],
        mqtt_client_id=f"seawatch-docker-{uuid.uuid4().hex[:8]}",
        store_url=f"sqlite:///{work / 'alerts.db'}",
        zones_dir=ROOT / "zones",
        shore_distance=False,
        alerts_topic_prefix=None,
        partners=[Partner(name="ngo-test", url="http://127.0.0.1:9/hook", secret=SecretStr("whsec_" + "A" * 40))],
    )
    try:
        with TestClient(create_app(settings)) as client:
            metrics = client.get("/metrics")
            healthz = client.get("/healthz")
    finally:
        broker.stop()
    assert metrics.status_code == 200, metrics.text
    types = dict(re.findall(r"^# TYPE (\S+) (\S+)$", metrics.text, re.MULTILINE))
    assert types, metrics.text
    yield Exported(types, healthz.json())


_KEYWORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset"}


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects (no functions, keywords, labels or durations)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    names = set()
    for match in re.finditer(r"(?<![\w.])[A-Za-z_:][\w:]*", text):
        if text[match.end() :].lstrip().startswith("(") or match.group() in _KEYWORDS:
            continue  # a function, or an operator
        names.add(match.group())
    return names


def rules() -> list[dict[str, Any]]:
    doc = load_yaml(RULES)
    return [rule for group in doc["groups"] for rule in group["rules"]]


def test_alert_rules_are_complete_for_a_duty_officer() -> None:
    doc = load_yaml(RULES)
    assert set(doc) == {"groups"}
    names = []
    for group in doc["groups"]:
        assert set(group) == {"name", "rules"} and group["rules"], group.get("name")
        for rule in group["rules"]:
            where = rule.get("alert", rule)
            assert set(rule) == {"alert", "expr", "for", "labels", "annotations"}, where
            assert re.fullmatch(r"\d+[smh]", rule["for"]), where
            assert rule["labels"]["severity"] in SEVERITIES, where
            assert set(rule["annotations"]) == {"summary", "description"}, where
            assert len(rule["annotations"]["description"]) > 150, f"{where}: say what it means and what to check"
            assert rule["expr"].count("(") == rule["expr"].count(")"), where
            names.append(rule["alert"])
    assert len(names) == len(set(names)), "alert names repeat"
    assert set(names) >= ALERTS, ALERTS - set(names)


def test_alert_rules_use_only_metrics_seawatch_exports(exported: Exported) -> None:
    scrape_job = load_yaml(PROMETHEUS)["scrape_configs"][0]["job_name"]
    for rule in rules():
        expr = rule["expr"]
        for name in metric_names(expr):
            assert name in exported.types or name in PROMETHEUS_OWN_METRICS, (
                f"{rule['alert']}: Seawatch exports no metric {name!r} (it has {sorted(exported.types)})"
            )
        # rate() and increase() need counters; deriv() and delta() need gauges.
        for function, name in re.findall(r"\b(rate|irate|increase|deriv|delta|idelta)\(\s*([A-Za-z_:][\w:]*)", expr):
            wanted = "counter" if function in ("rate", "irate", "increase") else "gauge"
            kind = exported.types.get(name)
            assert kind == wanted, f"{rule['alert']}: {function}() of {name}, a {kind}"
        for job in re.findall(r'job="([^"]*)"', expr):
            assert job == scrape_job, f"{rule['alert']}: job {job!r} is not the scrape job {scrape_job!r}"


def test_operations_guide_explains_health_metrics_and_alerts(exported: Exported) -> None:
    text = OPERATIONS.read_text(encoding="utf-8")
    missing = [f"/healthz field {key}" for key in exported.healthz if f"`{key}`" not in text]
    missing += [f"metric {name}" for name in exported.types if name not in text]
    missing += [f"alert {rule['alert']}" for rule in rules() if rule["alert"] not in text]
    assert not missing, f"docs/operations.md does not mention: {', '.join(missing)}"


def test_metric_names_reads_promql() -> None:
    expr = (
        '(rate(seawatch_messages_total{job="x"}[5m]) == 0) or max by (job, instance) (seawatch_age_seconds) > 6e2'
        " unless on (job) (up == bool 0)"
    )
    assert metric_names(expr) == {"seawatch_messages_total", "seawatch_age_seconds", "up"}
