"""The benchmark suite: every measurement in order, one JSON, one Markdown table, pictures.

    .venv/bin/python bench/run.py [--tiny | --full] [--only NAME ...] [--out DIR] [--publish]

QUICK by default (``make bench``, about four minutes on two cores); ``--tiny``
is what ``make test`` runs so the harness cannot rot; ``--full`` runs longer.
Each measurement is a module ``bench/measure_<name>.py`` with ``NAME`` and
``run(size) -> dict``; one that is missing is skipped with a note, one that
fails is recorded with its error and the rest still run (exit status 1 then).

Writes DIR/latest.json, DIR/latest.md, a timestamped copy of both, and PNGs.
``--publish`` then copies latest.md and the PNGs to docs/benchmarks/ and splices
the summary into docs/benchmarks.md: the committed figures come from a run.
Benchmarks are not tests: nothing here passes or fails on a timing.

This module runs them and writes the files; the targets are in targets.py, the
Markdown in report.py, ``--publish`` in publish.py, the pictures in plots.py.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import platform
import sys
import time
import traceback
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

# bench/ is on sys.path from here: its modules follow.
from publish import BEGIN_MARK, DOCS, END_MARK, publish  # noqa: E402
from report import markdown  # noqa: E402
from sizes import FULL, QUICK, TINY, Size  # noqa: E402
from targets import target_rows  # noqa: E402

# publish and its markers are reached through here too: tests/bench loads run.py as
# a module and publishes into a temporary docs/.
__all__ = ["BEGIN_MARK", "END_MARK", "main", "publish"]

# In this order; a module not (yet) present is skipped with a note.
MEASUREMENTS = (
    "measure_delivery",
    "measure_scaleout",
    "measure_idle",
    "measure_fanout",
    "measure_history",
    "measure_escalation",
)


def draw(results: dict[str, Any], out: Path) -> list[str]:
    try:
        import plots
    except ImportError as missing:  # matplotlib is the "bench" extra
        print(f"no plots: {missing} (pip install -e '.[bench]')", file=sys.stderr)
        return []
    drawn = []
    if "delivery" in results:
        drawn.append(plots.delivery_cdf(results["delivery"], out / "delivery-cdf.png"))
    if isinstance(results.get("idle"), dict):
        drawn.append(plots.memory_per_connection(results["idle"], out / "idle-memory.png"))
    return [str(p) for p in drawn if p is not None]


# ----------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--tiny", action="store_true", help="seconds: what make test runs")
    mode.add_argument("--full", action="store_true", help="longer runs, more steps")
    parser.add_argument("--only", action="append", default=[], metavar="NAME")
    parser.add_argument("--out", type=Path, default=BENCH / "results")
    parser.add_argument(
        "--publish",
        action="store_true",
        help="then copy latest.md and the PNGs to docs/benchmarks/ and the summary "
        "into docs/benchmarks.md (the committed copy)",
    )
    args = parser.parse_args(argv)
    if args.publish and (args.tiny or args.only):
        # The committed table stands for the whole suite at a real size.
        parser.error("--publish takes a whole QUICK or --full run: not --tiny, not --only")
    size: Size = TINY if args.tiny else FULL if args.full else QUICK
    args.out.mkdir(parents=True, exist_ok=True)

    # Other work on the machine shows in every timing: say how busy it was.
    load_before = round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None
    began = time.perf_counter()
    results: dict[str, Any] = {}
    errors: dict[str, str] = {}
    skipped: list[str] = []
    seconds: dict[str, float] = {}
    for module_name in MEASUREMENTS:
        short = module_name.removeprefix("measure_")
        if args.only and short not in args.only and module_name not in args.only:
            continue
        if importlib.util.find_spec(module_name) is None:
            skipped.append(f"{module_name}.py is not there yet")
            print(f"[{short}] skipped: bench/{module_name}.py not found", flush=True)
            continue
        print(f"[{short}] running ({size.name}) …", flush=True)
        started = time.perf_counter()
        try:
            module = importlib.import_module(module_name)
            name = str(getattr(module, "NAME", short))
            results[name] = module.run(size)
        except Exception:
            errors[short] = traceback.format_exc()
            print(f"[{short}] FAILED\n{errors[short]}", file=sys.stderr, flush=True)
        seconds[short] = round(time.perf_counter() - started, 1)
        print(f"[{short}] {seconds[short]} s", flush=True)

    finished = datetime.now(UTC)
    report: dict[str, Any] = {
        "mode": size.name,
        "finished_at": finished.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "wall_seconds": round(time.perf_counter() - began, 1),
        "seconds_per_measurement": seconds,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average_before": load_before,
        },
        "size": asdict(size),
        "targets": target_rows(results),
        "results": results,
        "errors": errors,
        "skipped": skipped,
        "plots": [],
    }
    report["plots"] = draw(results, args.out)
    text = markdown(report)
    stamp = finished.strftime("%Y%m%dT%H%M%SZ")
    for name in ("latest", f"{stamp}-{size.name}"):
        (args.out / f"{name}.json").write_text(json.dumps(report, indent=1) + "\n")
        (args.out / f"{name}.md").write_text(text)
    print()
    print(text)
    print(f"written: {args.out / 'latest.json'}, {args.out / 'latest.md'}")
    if args.publish and errors:
        print("not published: a measurement failed", file=sys.stderr)
    elif args.publish:
        print("published: " + ", ".join(str(p) for p in publish(report, args.out, DOCS)))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
