"""The web imports nothing of the runtime: it reads through a read model and acts through a command port.

``seawatch.web`` may use the pure core and its own ports (``seawatch.web.ports``); the
runtime (``seawatch.runtime``), the old wiring module (``seawatch.service``), the sinks
(``seawatch.delivery``, ``seawatch.adapters``), the settings and the CLI build on it,
never the other way round.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import seawatch.web

WEB_DIR = Path(seawatch.web.__file__).resolve().parent
WEB_SOURCES = sorted(WEB_DIR.rglob("*.py"))
SHELL = (
    "seawatch.runtime",
    "seawatch.service",
    "seawatch.delivery",
    "seawatch.adapters",
    "seawatch.config",
    "seawatch.cli",
)

_IMPORT_WEB = """
import importlib, json, pkgutil, sys
import seawatch.web
for info in pkgutil.walk_packages(seawatch.web.__path__, "seawatch.web."):
    importlib.import_module(info.name)
print(json.dumps(sorted(m for m in sys.modules if m.startswith("seawatch."))))
"""


def _is_shell(name: str) -> bool:
    return any(name == s or name.startswith(s + ".") for s in SHELL)


def test_importing_the_web_loads_nothing_of_the_runtime() -> None:
    done = subprocess.run([sys.executable, "-c", _IMPORT_WEB], capture_output=True, text=True, timeout=120, check=True)
    loaded = json.loads(done.stdout)
    assert "seawatch.web.app" in loaded and "seawatch.web.ports" in loaded  # the web really was imported
    assert [m for m in loaded if _is_shell(m)] == []


def test_web_source_names_nothing_of_the_runtime() -> None:
    """Also imports that only run later (inside functions, under TYPE_CHECKING)."""
    offenders = []
    for path in WEB_SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                offenders += [f"{path.name}:{node.lineno} import {n}" for n in names if _is_shell(n)]
    assert offenders == []
