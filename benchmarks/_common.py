"""Helpers shared by the benchmarks: input files, versions, statistics, NMEA building, memory."""

from __future__ import annotations

import gzip
import os
import platform
import statistics
import sys
from collections.abc import Iterable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = REPO_ROOT / "tests" / "data" / "ais"
# Sidecar files next to the recordings: provenance notes and expected-decode JSON.
SKIP_SUFFIXES = frozenset({".md", ".json"})


def recording_files(args: Sequence[str] = ()) -> list[Path]:
    """The files named on the command line (directories searched recursively), else every recording."""
    roots = [Path(a) for a in args] if args else [DATA_DIR]
    found: list[Path] = []
    for root in roots:
        if root.is_dir():
            found.extend(sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() not in SKIP_SUFFIXES))
        else:
            found.append(root)
    return found


def read_lines(paths: Iterable[Path]) -> list[bytes]:
    """Every line of every file, as bytes without line ends (``.gz`` files are unpacked)."""
    lines: list[bytes] = []
    for path in paths:
        data = path.read_bytes()
        if path.suffix == ".gz":
            data = gzip.decompress(data)
        lines.extend(data.splitlines())
    return lines


def display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def versions() -> dict[str, Any]:
    """What the figures were measured with."""
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "pyais": _version("pyais"),
        "seawatch": _version("seawatch"),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
    }


def versions_line() -> str:
    v = versions()
    return (
        f"Python {v['python']} ({v['implementation']}), pyais {v['pyais']}, seawatch {v['seawatch']}, "
        f"{v['platform']}, {v['cpus']} CPUs"
    )


def summary(values: Sequence[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def rss_bytes() -> int:
    """Resident set size of this process."""
    import psutil  # a test extra; imported here so the decode benchmark does not need it

    return int(psutil.Process().memory_info().rss)


def human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def eprint(*args: object) -> None:
    """Progress notes go to stderr so stdout holds only the figures (or the JSON)."""
    print(*args, file=sys.stderr, flush=True)
