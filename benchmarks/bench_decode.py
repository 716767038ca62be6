"""Benchmark (a): Seawatch decode + fleet update versus bare ``pyais.decode`` of the same lines.

Run from the repository root::

    .venv/bin/python benchmarks/bench_decode.py [FILE_OR_DIR ...] [--rounds 7] [--min-time 0.5] [--json]

Without arguments every recording in tests/data/ais/ is used (sidecar .md/.json files skipped).
All lines are read into memory once. Outside the timed region, each line is cut down to its AIS
sentence (a regex drops leading logger timestamps and the fields some loggers append after the
checksum; an NMEA 4 tag block is kept, both sides accept it). ``pyais.decode(line)`` takes one
sentence, so only single-fragment sentences are used, and Seawatch gets exactly the same lines.

Three contenders run interleaved in one process (A B C A B C …), each run over the same line list
repeated often enough that every run takes at least ``--min-time`` seconds:

* ``pyais.decode(line)`` in a try/except loop, as a user would write it;
* ``Pipeline().feed(line)``: Seawatch's decode plus fleet update;
* ``Decoder().feed(line)``: Seawatch's decode alone.

A second input set keeps only the lines pyais decodes as position reports (types 1, 2, 3, 18).
Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyais
from _common import display_path, eprint, read_lines, recording_files, summary, versions, versions_line

from seawatch.core.decode import Decoder
from seawatch.core.pipeline import Pipeline

# An AIS sentence, with the tag block in front of it if there is one. Anything before it (a
# logger's timestamp) and after its checksum (",1485907262", ",d-109,S2105,…") is dropped.
SENTENCE = re.compile(rb"(?:\\[^\\]*\\)?![A-Z]{2}VD[MO],[^*]*\*[0-9A-Fa-f]{2}")
POSITION_TYPES = frozenset({1, 2, 3, 18})


# ----------------------------------------------------------------------------- input
@dataclass
class Prepared:
    raw_lines: int
    single: list[bytes]  # single-fragment AIS sentences, wrappers stripped
    multipart: int  # fragments of multipart messages, left out
    other: int  # lines with no AIS sentence: comments, $PGHP, other NMEA, junk
    wrapped: int  # lines that had a logger wrapper cut off


def prepare(raw: Sequence[bytes]) -> Prepared:
    single: list[bytes] = []
    multipart = other = wrapped = 0
    for line in raw:
        stripped = line.strip()
        match = SENTENCE.search(stripped)
        if match is None:
            other += 1
            continue
        sentence = match.group()
        if sentence != stripped:
            wrapped += 1
        start = sentence.rfind(b"!")
        if sentence[start:].split(b",", 2)[1] != b"1":
            multipart += 1
            continue
        single.append(sentence)
    return Prepared(len(raw), single, multipart, other, wrapped)


def pyais_position_lines(lines: Sequence[bytes]) -> list[bytes]:
    """The lines pyais decodes to a type 1, 2, 3 or 18 report."""
    kept: list[bytes] = []
    for line in lines:
        try:
            msg = pyais.decode(line)
        except Exception:  # noqa: BLE001 - selection only: a line pyais refuses is simply not kept
            continue
        if msg.msg_type in POSITION_TYPES:
            kept.append(line)
    return kept


# ----------------------------------------------------------------------------- contenders
@dataclass
class Run:
    seconds: float
    reports: int  # per timed run (all repetitions)
    extra: dict[str, Any] = field(default_factory=dict)


def run_pyais(lines: Sequence[bytes], repeat: int) -> Run:
    decode = pyais.decode
    n = 0
    start = time.perf_counter()
    for _ in range(repeat):
        for line in lines:
            try:
                decode(line)
            except Exception:  # noqa: BLE001 - exactly the loop a user writes around pyais
                continue
            n += 1
    return Run(time.perf_counter() - start, n)


def run_pipeline(lines: Sequence[bytes], repeat: int) -> Run:
    pipeline = Pipeline()
    feed = pipeline.feed
    n = 0
    start = time.perf_counter()
    for _ in range(repeat):
        for line in lines:
            n += len(feed(line).reports)
    elapsed = time.perf_counter() - start
    stats = pipeline.fleet.stats
    return Run(
        elapsed,
        n,
        {"fleet_reports": stats.reports, "fleet_duplicates": stats.duplicates, "vessels": len(pipeline.fleet)},
    )


def run_decoder(lines: Sequence[bytes], repeat: int) -> Run:
    decoder = Decoder()
    feed = decoder.feed
    n = 0
    start = time.perf_counter()
    for _ in range(repeat):
        for line in lines:
            n += len(feed(line))
    return Run(time.perf_counter() - start, n)


CONTENDERS: dict[str, tuple[str, Callable[[Sequence[bytes], int], Run]]] = {
    "pyais": ("pyais.decode(line), bare", run_pyais),
    "pipeline": ("Seawatch Pipeline().feed(line)", run_pipeline),
    "decoder": ("Seawatch Decoder().feed(line)", run_decoder),
}


def timed(fn: Callable[[Sequence[bytes], int], Run], lines: Sequence[bytes], repeat: int) -> Run:
    gc.collect()
    return fn(lines, repeat)


# ----------------------------------------------------------------------------- fast / slow path
def classify(lines: Sequence[bytes]) -> tuple[list[str], str]:
    """Which path each line takes in Seawatch's decoder: ``fast``, ``slow`` or ``rejected``.

    Counted by wrapping the decoder's two report builders on one instance (an untimed pass).
    If those internals are not there, the fast-path condition is re-stated here instead.
    """
    decoder = Decoder()
    fast = getattr(decoder, "_fast_position", None)
    slow = getattr(decoder, "_slow", None)
    taken: list[str] = []
    if fast is not None and slow is not None:

        def fast_wrap(*args: Any) -> Any:
            taken.append("fast")
            return fast(*args)

        def slow_wrap(*args: Any) -> Any:
            taken.append("slow")
            return slow(*args)

        decoder._fast_position = fast_wrap  # type: ignore[method-assign]
        decoder._slow = slow_wrap  # type: ignore[method-assign]
        paths: list[str] = []
        for line in lines:
            taken.clear()
            reports = decoder.feed(line)
            paths.append("rejected" if not reports else ("fast" if "fast" in taken else "slow"))
        return paths, "counted by wrapping Decoder._fast_position / Decoder._slow"
    paths = []
    for line in lines:
        reports = Decoder().feed(line)
        fields = line[line.rfind(b"!") :].split(b",")
        payload, fill = fields[5], fields[-1][:1]
        first = payload[:1]
        fast_shape = len(payload) == 28 and fill == b"0" and first in (b"1", b"2", b"3", b"B")
        paths.append("rejected" if not reports else ("fast" if fast_shape else "slow"))
    return paths, "estimated from the payload shape (decoder internals not found)"


def per_line_cost(lines: Sequence[bytes], min_time: float) -> float:
    """Seconds per line for ``Decoder().feed`` over these lines (best of three runs)."""
    if not lines:
        return 0.0
    once = run_decoder(lines, 1).seconds
    repeat = max(1, math.ceil(min_time / max(once, 1e-9)))
    return min(timed(run_decoder, lines, repeat).seconds for _ in range(3)) / (repeat * len(lines))


def path_share(lines: Sequence[bytes], min_time: float) -> dict[str, Any]:
    paths, method = classify(lines)
    counts = Counter(paths)
    out: dict[str, Any] = {"method": method, "paths": {}}
    costs = {}
    for name in ("fast", "slow", "rejected"):
        subset = [line for line, p in zip(lines, paths, strict=True) if p == name]
        costs[name] = per_line_cost(subset, min_time) * len(subset)
    total_cost = sum(costs.values()) or 1.0
    for name in ("fast", "slow", "rejected"):
        n = counts.get(name, 0)
        out["paths"][name] = {
            "lines": n,
            "line_share": n / len(lines) if lines else 0.0,
            "us_per_line": costs[name] / n * 1e6 if n else None,
            "time_share": costs[name] / total_cost,
        }
    return out


# ----------------------------------------------------------------------------- one input set
def bench_set(name: str, lines: list[bytes], rounds: int, min_time: float) -> dict[str, Any]:
    eprint(f"[{name}] {len(lines):,} lines: calibrating")
    # Warm-up pass for each contender, and the reports one pass yields.
    once = {key: timed(fn, lines, 1) for key, (_, fn) in CONTENDERS.items()}
    fastest = min(r.seconds for r in once.values())
    repeat = max(1, math.ceil(min_time * 1.05 / max(fastest, 1e-9)))
    eprint(f"[{name}] repeat x{repeat}, {rounds} interleaved rounds")
    runs: dict[str, list[Run]] = {key: [] for key in CONTENDERS}
    for _ in range(rounds):
        for key, (_, fn) in CONTENDERS.items():
            runs[key].append(timed(fn, lines, repeat))
    eprint(f"[{name}] fast/slow path share")
    share = path_share(lines, min_time / 2)

    per_run = len(lines) * repeat
    result: dict[str, Any] = {
        "lines": len(lines),
        "repeat": repeat,
        "lines_per_run": per_run,
        "rounds": rounds,
        "contenders": {},
    }
    for key, (label, _) in CONTENDERS.items():
        seconds = [r.seconds for r in runs[key]]
        result["contenders"][key] = {
            "label": label,
            "seconds": summary(seconds),
            "lines_per_s": {"median": per_run / statistics.median(seconds), "best": per_run / min(seconds)},
            "msgs_per_s": {
                "median": runs[key][0].reports / statistics.median(seconds),
                "best": runs[key][0].reports / min(seconds),
            },
            "reports_per_pass": once[key].reports,
            "reports_per_run": runs[key][0].reports,
        }
    pipe_run = runs["pipeline"][0]
    result["fleet"] = {
        "first_pass": once["pipeline"].extra,
        "timed_run": pipe_run.extra,
    }
    py = [r.seconds for r in runs["pyais"]]
    for key in ("pipeline", "decoder"):
        sw = [r.seconds for r in runs[key]]
        paired = [a / b for a, b in zip(py, sw, strict=True)]
        result[f"ratio_{key}"] = {
            "median_rates": statistics.median(py) / statistics.median(sw),
            "best_rates": min(py) / min(sw),
            "per_round": summary(paired),
        }
    result["paths"] = share
    return result


# ----------------------------------------------------------------------------- report
def print_set(title: str, res: dict[str, Any]) -> None:
    print()
    print(f"== {title}")
    print(
        f"   {res['lines']:,} lines x {res['repeat']} repetitions = {res['lines_per_run']:,} lines per timed run; "
        f"{res['rounds']} interleaved rounds (A B C A B C ...)"
    )
    print(
        f"   {'contender':<34}{'median lines/s':>16}{'best lines/s':>14}{'median msgs/s':>15}"
        f"{'best msgs/s':>13}{'median s/run':>14}{'reports/pass':>14}"
    )
    for c in res["contenders"].values():
        print(
            f"   {c['label']:<34}{c['lines_per_s']['median']:>16,.0f}{c['lines_per_s']['best']:>14,.0f}"
            f"{c['msgs_per_s']['median']:>15,.0f}{c['msgs_per_s']['best']:>13,.0f}"
            f"{c['seconds']['median']:>14.3f}{c['reports_per_pass']:>14,}"
        )
    for key, label in (("pipeline", "decode + fleet"), ("decoder", "decode only   ")):
        r = res[f"ratio_{key}"]
        print(
            f"   ratio Seawatch/pyais, {label}: {r['median_rates']:.2f} (medians), {r['best_rates']:.2f} (bests), "
            f"per round {r['per_round']['min']:.2f}-{r['per_round']['max']:.2f}"
        )
    first, timed_run = res["fleet"]["first_pass"], res["fleet"]["timed_run"]
    print(
        f"   fleet dedupe: one pass applied {first['fleet_reports']:,} reports, dropped {first['fleet_duplicates']:,} "
        f"duplicates, {first['vessels']:,} vessels; a timed run ({res['repeat']} passes) applied "
        f"{timed_run['fleet_reports']:,}, dropped {timed_run['fleet_duplicates']:,} as duplicates"
    )
    print(f"   Seawatch decoder paths (decode only; {res['paths']['method']}):")
    for name, p in res["paths"]["paths"].items():
        cost = f"{p['us_per_line']:.2f} us/line" if p["us_per_line"] is not None else "-"
        print(
            f"     {name:<9}{p['lines']:>8,} lines ({p['line_share']:6.1%})  {cost:>16}  "
            f"time share {p['time_share']:6.1%}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("paths", nargs="*", help="recordings (files or directories); default tests/data/ais/")
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds per contender (>= 5 advised)")
    parser.add_argument("--min-time", type=float, default=0.5, help="minimum seconds per timed run")
    parser.add_argument("--json", action="store_true", help="print machine-readable results only")
    args = parser.parse_args(argv)

    files = recording_files(args.paths)
    missing = [p for p in files if not p.is_file()]
    if missing:
        print(f"bench_decode: not a file: {missing[0]}", file=sys.stderr)
        return 2
    raw = read_lines(files)
    prep = prepare(raw)
    if not prep.single:
        print("bench_decode: no single-fragment AIS sentences in the input", file=sys.stderr)
        return 2
    position = pyais_position_lines(prep.single)

    results: dict[str, Any] = {
        "versions": versions(),
        "files": [display_path(p) for p in files],
        "input": {
            "raw_lines": prep.raw_lines,
            "single_fragment_sentences": len(prep.single),
            "multipart_fragments_left_out": prep.multipart,
            "other_lines_left_out": prep.other,
            "lines_with_wrapper_stripped": prep.wrapped,
            "position_lines": len(position),
        },
        "sets": {},
    }
    results["sets"]["all"] = bench_set("all", prep.single, args.rounds, args.min_time)
    if position:
        results["sets"]["position"] = bench_set("position", position, args.rounds, args.min_time)

    if args.json:
        print(json.dumps(results, indent=2))
        return 0

    inp = results["input"]
    print("Seawatch decode benchmark (a): decode + fleet update vs bare pyais.decode, same lines, same process")
    print(f"   {versions_line()}")
    print(f"   input: {len(files)} files, {inp['raw_lines']:,} lines read into memory once")
    print(
        f"   identical input for both sides: {inp['single_fragment_sentences']:,} single-fragment AIS sentence lines "
        f"(pyais.decode(line) takes one sentence)"
    )
    print(
        f"   left out for both sides: {inp['multipart_fragments_left_out']:,} multipart fragments, "
        f"{inp['other_lines_left_out']:,} lines without an AIS sentence ($PGHP, other NMEA, comments, junk)"
    )
    print(
        f"   {inp['lines_with_wrapper_stripped']:,} lines had logger timestamps/trailing fields cut off by a regex "
        "before timing (tag blocks kept), so most reports carry no event time"
    )
    print(
        "   repeating the list makes the fleet see each transmission again: it drops a repeat as a duplicate while "
        "the vessel's few most recent fingerprints still hold it (counts below; realistic for multi-receiver feeds)"
    )
    print("   pyais counts every line it returns a message for (it does not check checksums by default);")
    print("   Seawatch counts the reports it returns (bad checksums, empty payloads etc. are rejects)")
    print_set("all single-fragment sentences", results["sets"]["all"])
    if "position" in results["sets"]:
        print_set(
            f"position reports only: {len(position):,} lines pyais decodes as type 1/2/3/18",
            results["sets"]["position"],
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
