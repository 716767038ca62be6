"""The core is pure: it imports nothing of the I/O shell and never reads a clock or a file."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import seawatch.core

CORE_DIR = Path(seawatch.core.__file__).resolve().parent
CORE_SOURCES = sorted(CORE_DIR.rglob("*.py"))

# Top-level packages that mean waiting on I/O: event loops, brokers, sockets, databases, web.
FORBIDDEN = frozenset(
    {
        "asyncio",
        "aiomqtt",
        "amqtt",
        "paho",
        "gmqtt",
        "socket",
        "ssl",
        "selectors",
        "http",
        "urllib3",
        "httpx",
        "requests",
        "aiohttp",
        "fastapi",
        "starlette",
        "uvicorn",
        "sqlite3",
        "sqlalchemy",
        "psycopg",
        "psycopg2",
        "asyncpg",
        "subprocess",
        "pydantic_settings",
    }
)

_LIST_MODULES = """
import json, sys
before = set(sys.modules)
{imports}
print(json.dumps(sorted(set(sys.modules) - before)))
"""

_IMPORT_CORE = """
import importlib, pkgutil
import seawatch.core
for info in pkgutil.walk_packages(seawatch.core.__path__, "seawatch.core."):
    importlib.import_module(info.name)
"""


def _modules_after(imports: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", _LIST_MODULES.format(imports=imports)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return set(json.loads(done.stdout))


def test_core_imports_nothing_of_the_shell() -> None:
    baseline = _modules_after("import pyais")
    # Importing every module at once pulls in the union of what each would alone.
    core = _modules_after(_IMPORT_CORE)
    core_modules = {m for m in core if m.startswith("seawatch.core.")}
    expected_modules = {
        f"seawatch.core.{p.stem}" for p in CORE_SOURCES if p.stem != "__init__" and p.parent == CORE_DIR
    }
    assert expected_modules <= core_modules  # every module really was imported
    added = core - baseline
    forbidden = sorted(m for m in added if m.split(".")[0] in FORBIDDEN)
    assert forbidden == [], f"the core pulls in {forbidden}"
    shell = sorted(m for m in core if m.startswith("seawatch.") and not m.startswith("seawatch.core"))
    assert shell == [], f"the core imports the shell: {shell}"


def test_core_source_has_no_clock_files_or_environment() -> None:
    patterns = ["datetime.now", "time.time", "open("]
    offenders = [
        f"{path.relative_to(CORE_DIR)}:{n}: {line.strip()}"
        for path in CORE_SOURCES
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if any(p in line for p in patterns)
    ]
    assert offenders == []


_CLOCK_CALLS = re.compile(r"^(now|utcnow|today|time|time_ns|monotonic|monotonic_ns|perf_counter|sleep|getenv)$")


def test_core_ast_has_no_clock_io_or_environment_calls() -> None:
    """A stricter look than the grep: calls and imports, wherever they hide."""
    offenders = []
    for path in CORE_SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            where = f"{path.relative_to(CORE_DIR)}:{getattr(node, 'lineno', '?')}"
            if isinstance(node, ast.Call):
                func = node.func
                if isinstance(func, ast.Name) and func.id in ("open", "input", "print", "exec", "eval"):
                    offenders.append(f"{where} {func.id}()")
                elif isinstance(func, ast.Attribute) and _CLOCK_CALLS.match(func.attr):
                    offenders.append(f"{where} .{func.attr}()")
            elif isinstance(node, ast.Attribute) and node.attr == "environ":
                offenders.append(f"{where} .environ")
            elif isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                for name in names:
                    top = name.split(".")[0]
                    if top in FORBIDDEN or top in ("time", "os", "pathlib", "io", "threading"):
                        offenders.append(f"{where} import {name}")
                    if name.startswith("seawatch.") and not name.startswith("seawatch.core"):
                        offenders.append(f"{where} import {name}")
    assert offenders == []
