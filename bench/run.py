"""The benchmark suite: every measurement in order, one JSON, one Markdown table, pictures.

    .venv/bin/python bench/run.py [--tiny | --full] [--only NAME ...] [--out DIR]

QUICK by default (``make bench``, under three minutes on two cores); ``--tiny``
is what ``make test`` runs so the harness cannot rot; ``--full`` runs longer.
Each measurement is a module ``bench/measure_<name>.py`` with ``NAME`` and
``run(size) -> dict``; one that is missing is skipped with a note, one that
fails is recorded with its error and the rest still run (exit status 1 then).

Writes DIR/latest.json, DIR/latest.md, a timestamped copy of both, and PNGs.
Benchmarks are not tests: nothing here passes or fails on a timing.
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
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

from sizes import FULL, QUICK, TINY, Size  # noqa: E402 - bench/ is on sys.path from here

# In this order; a module not (yet) present is skipped with a note.
MEASUREMENTS = (
    "measure_delivery",
    "measure_idle",
    "measure_fanout",
    "measure_history",
    "measure_escalation",
)

Number = float | int


# ----------------------------------------------------------------------------- targets


def dig(value: Any, *keys: str | int) -> Any:
    """value[k1][k2]…, or None where the path is not there."""
    for key in keys:
        if isinstance(value, dict) and key in value:
            value = value[key]
        elif isinstance(value, list) and isinstance(key, int) and abs(key) < len(value) + 1:
            value = value[key] if key < len(value) else None
        else:
            return None
    return value


def find_number(value: Any, names: tuple[str, ...]) -> Number | None:
    """The first number under any of ``names``, searching nested dicts breadth-first."""
    queue = [value]
    while queue:
        current = queue.pop(0)
        if not isinstance(current, dict):
            continue
        for name in names:
            found = current.get(name)
            if isinstance(found, int | float) and not isinstance(found, bool):
                return found
        queue.extend(v for v in current.values() if isinstance(v, dict))
    return None


def delivery_at(results: dict[str, Any], target: str, rate: float) -> dict[str, Any] | None:
    """The delivery phase of ``target`` at ``rate``, or the measured rate closest to it."""
    rates = dig(results, "delivery", target, "rates") or []
    if not rates:
        return None
    return dict(min(rates, key=lambda r: abs(float(r["rate"]) - rate)))


@dataclass(frozen=True)
class Target:
    metric: str
    measurement: str
    target: str
    value: Callable[[dict[str, Any]], Number | None]
    met: Callable[[Number], bool]
    unit: str = ""
    label: Callable[[dict[str, Any]], str] | None = None  # the metric, once measured


def _at(results: dict[str, Any]) -> str:
    phase = delivery_at(results, "chatcore", 500)
    return f" at {phase['rate']:g}/s" if phase else " at 500/s"


def _delivery(key: str) -> Callable[[dict[str, Any]], Number | None]:
    def value(results: dict[str, Any]) -> Number | None:
        phase = delivery_at(results, "chatcore", 500)
        return None if phase is None else phase.get(key)

    return value


def _faults(results: dict[str, Any]) -> Number | None:
    phases = [
        *(dig(results, "delivery", "chatcore", "rates") or []),
        *(dig(results, "delivery", "relay", "rates") or []),
    ]
    if not phases:
        return None
    return sum(p["lost"] + p["duplicated"] + p["out_of_order"] for p in phases)


def _ratio(results: dict[str, Any]) -> Number | None:
    mine, theirs = delivery_at(results, "chatcore", 500), delivery_at(results, "relay", 500)
    if not mine or not theirs or not mine.get("p50_ms") or not theirs.get("p50_ms"):
        return None
    return round(float(mine["p50_ms"]) / float(theirs["p50_ms"]), 2)


def _idle(names: tuple[str, ...]) -> Callable[[dict[str, Any]], Number | None]:
    return lambda results: find_number(results.get("idle"), names)


TARGETS = (
    Target(
        "delivery p50",
        "delivery",
        "≤ 3 ms at 500/s",
        _delivery("p50_ms"),
        lambda v: v <= 3,
        " ms",
        lambda r: "delivery p50" + _at(r),
    ),
    Target(
        "delivery p99",
        "delivery",
        "≤ 15 ms at 500/s",
        _delivery("p99_ms"),
        lambda v: v <= 15,
        " ms",
        lambda r: "delivery p99" + _at(r),
    ),
    Target(
        "delivery lost + duplicated + out of order (all rates, both servers)",
        "delivery",
        "0",
        _faults,
        lambda v: v == 0,
    ),
    Target(
        "saturation: highest rate with p99 < 100 ms",
        "delivery",
        "≥ 2,000 msg/s",
        lambda r: dig(r, "delivery", "chatcore", "saturation", "highest_rate"),
        lambda v: v >= 2000,
        " msg/s",
    ),
    Target(
        "delivery p50, chatcore ÷ bare relay",
        "delivery",
        "≤ 2×",
        _ratio,
        lambda v: v <= 2,
        "×",
        lambda r: "delivery p50, chatcore ÷ bare relay" + _at(r),
    ),
    Target(
        "idle connections held",
        "idle",
        "≥ 10,000",
        _idle(("connections", "opened", "connections_opened", "held")),
        lambda v: v >= 10_000,
    ),
    Target(
        "memory per idle connection",
        "idle",
        "≤ 30 KiB",
        _idle(("kib_per_connection", "per_connection_kib", "kib_each", "kib_per_socket")),
        lambda v: v <= 30,
        " KiB",
    ),
    Target(
        "fan-out: presence change until the last agent has it (p99)",
        "fanout",
        "≤ 50 ms",
        lambda r: dig(r, "fanout", "last_socket", "p99_ms"),
        lambda v: v <= 50,
        " ms",
    ),
    Target(
        "history: 50-message page, p99",
        "history",
        "≤ 10 ms",
        lambda r: dig(r, "history", "history_page", "p99_ms"),
        lambda v: v <= 10,
        " ms",
    ),
    Target(
        "escalation: double assignments",
        "escalation",
        "0",
        lambda r: dig(r, "escalation", "double_assignments"),
        lambda v: v == 0,
    ),
    Target(
        "escalation: load spread between agents (max − min)",
        "escalation",
        "≤ 1",
        lambda r: dig(r, "escalation", "load_spread"),
        lambda v: v <= 1,
    ),
)


def target_rows(results: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for target in TARGETS:
        value = target.value(results) if target.measurement in results else None
        rows.append(
            {
                "metric": target.label(results) if target.label else target.metric,
                "measurement": target.measurement,
                "value": value,
                "unit": target.unit,
                "target": target.target,
                "met": None if value is None else bool(target.met(value)),
            }
        )
    return rows


# ----------------------------------------------------------------------------- output


def _fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        text = f"{value:,.0f}" if abs(value) >= 1000 else f"{value:,.2f}".rstrip("0").rstrip(".")
    elif isinstance(value, int):
        text = f"{value:,}"
    else:
        text = str(value)
    return text + unit


def markdown(report: dict[str, Any]) -> str:
    lines = [
        f"# chatcore benchmarks ({report['mode']})",
        "",
        f"{report['finished_at']} · {report['machine']['cpus']} CPUs · "
        f"Python {report['machine']['python']} · {report['machine']['platform']} · "
        f"wall {report['wall_seconds']:.0f} s",
        "",
        "| metric | value | target | met? |",
        "|---|---|---|---|",
    ]
    for row in report["targets"]:
        met = {True: "yes", False: "**no**", None: "not measured"}[row["met"]]
        lines.append(
            f"| {row['metric']} | {_fmt(row['value'], row['unit'])} | {row['target']} | {met} |"
        )
    delivery = report["results"].get("delivery")
    if delivery:
        lines += [
            "",
            f"## Delivery ({delivery['conversations']} conversations, "
            f"{delivery['agents']} agents; latency from the scheduled send)",
            "",
            "| server | rate/s | achieved/s | p50 ms | p99 ms | max ms | lost | dup | "
            "out of order | POST errors | server CPU | generator CPU |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for target in ("chatcore", "relay"):
            part = delivery[target]
            phases = part["rates"] + [s for s in part["saturation"]["steps"] if not s["reused"]]
            for p in phases:
                lines.append(
                    f"| {target} | {_fmt(p['rate'])} | {_fmt(p['achieved_rate'])} | "
                    f"{_fmt(p['p50_ms'])} | {_fmt(p['p99_ms'])} | {_fmt(p['max_ms'])} | "
                    f"{p['lost']} | {p['duplicated']} | {p['out_of_order']} | "
                    f"{p['post_errors']} | {_fmt(p['server_cpu_pct'], '%')} | "
                    f"{_fmt(p['generator_cpu_pct'], '%')} |"
                )
        for target in ("chatcore", "relay"):
            sat = delivery[target]["saturation"]
            note = " (every step held: the ladder, not the server, was the limit)"
            lines.append(
                f"\nSaturation, {target}: {_fmt(sat['highest_rate'], ' msg/s')} held "
                f"p99 < {sat['p99_limit_ms']:g} ms with no loss"
                + (
                    f"; {_fmt(sat['first_failed_rate'], ' msg/s')} did not"
                    if sat["first_failed_rate"]
                    else note
                )
                + "."
            )
    for name, result in report["results"].items():
        if name == "delivery" or not isinstance(result, dict):
            continue
        lines += ["", f"## {name}", "", "| field | value |", "|---|---|"]
        for key, value in result.items():
            if isinstance(value, dict) and "p50_ms" in value:
                value = (
                    f"p50 {_fmt(value['p50_ms'])} ms · p99 {_fmt(value['p99_ms'])} ms · "
                    f"max {_fmt(value['max_ms'])} ms (n={value.get('count')})"
                )
            elif isinstance(value, dict | list):
                value = json.dumps(value)[:200]
            lines.append(f"| {key} | {_fmt(value)} |")
    for name, error in report["errors"].items():
        lines += ["", f"## {name}: FAILED", "", "```", error.strip()[-1500:], "```"]
    if report["skipped"]:
        lines += ["", "Skipped: " + "; ".join(report["skipped"]) + "."]
    if report["plots"]:
        lines += [""] + [f"![{Path(p).stem}]({Path(p).name})" for p in report["plots"]]
    return "\n".join(lines) + "\n"


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
    args = parser.parse_args(argv)
    size: Size = TINY if args.tiny else FULL if args.full else QUICK
    args.out.mkdir(parents=True, exist_ok=True)

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
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
