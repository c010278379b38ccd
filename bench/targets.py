"""The targets the benchmarks are read against, and each one's figure from the results.

``TARGETS`` is the table latest.md opens with: for each, the measurement it
comes from, what it should be, how to find the figure in ``run.py``'s results
(a dict by measurement name) and whether the figure meets it. ``target_rows``
turns results into that table's rows, which the report keeps in latest.json.

Some rows are reported with no target (scale-out: PostgreSQL and two instances):
the figure stands in the table for reading beside the others, and *met?* says
"no target" rather than yes or no.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Number = float | int


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


def delivery_at(
    results: dict[str, Any], target: str, rate: float, measurement: str = "delivery"
) -> dict[str, Any] | None:
    """The delivery phase of ``target`` at ``rate``, or the measured rate closest to it."""
    rates = dig(results, measurement, target, "rates") or []
    if not rates:
        return None
    return dict(min(rates, key=lambda r: abs(float(r["rate"]) - rate)))


@dataclass(frozen=True)
class Target:
    metric: str
    measurement: str
    target: str
    value: Callable[[dict[str, Any]], Number | None]
    met: Callable[[Number], bool] | None  # None: reported, with no target
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
    return sum(int(p["lost"] + p["duplicated"] + p["out_of_order"]) for p in phases)


def _ratio(results: dict[str, Any]) -> Number | None:
    mine, theirs = delivery_at(results, "chatcore", 500), delivery_at(results, "relay", 500)
    if not mine or not theirs or not mine.get("p50_ms") or not theirs.get("p50_ms"):
        return None
    return round(float(mine["p50_ms"]) / float(theirs["p50_ms"]), 2)


def _two_instances(key: str) -> Callable[[dict[str, Any]], Number | None]:
    def value(results: dict[str, Any]) -> Number | None:
        phase = delivery_at(results, "two_instances", 500, "scaleout")
        return None if phase is None else phase.get(key)

    return value


def _two_instances_label(what: str) -> Callable[[dict[str, Any]], str]:
    def label(results: dict[str, Any]) -> str:
        phase = delivery_at(results, "two_instances", 500, "scaleout")
        at = f" at {phase['rate']:g}/s" if phase else " at 500/s"
        return f"two instances (PostgreSQL + Redis): delivery {what}{at}"

    return label


def _scaleout_faults(results: dict[str, Any]) -> Number | None:
    phases = [
        *(dig(results, "scaleout", "postgresql", "rates") or []),
        *(dig(results, "scaleout", "two_instances", "rates") or []),
    ]
    if not phases:
        return None
    return sum(int(p["lost"] + p["duplicated"] + p["out_of_order"]) for p in phases)


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
    # Scale-out: reported beside the figures above, with no target of their own.
    Target(
        "two instances (PostgreSQL + Redis): delivery p50",
        "scaleout",
        "no target",
        _two_instances("p50_ms"),
        None,
        " ms",
        _two_instances_label("p50"),
    ),
    Target(
        "two instances (PostgreSQL + Redis): delivery p99",
        "scaleout",
        "no target",
        _two_instances("p99_ms"),
        None,
        " ms",
        _two_instances_label("p99"),
    ),
    Target(
        "scale-out lost + duplicated + out of order (all rates, both setups)",
        "scaleout",
        "no target",
        _scaleout_faults,
        None,
    ),
    Target(
        "saturation, PostgreSQL, one process",
        "scaleout",
        "no target",
        lambda r: dig(r, "scaleout", "postgresql", "saturation", "highest_rate"),
        None,
        " msg/s",
    ),
    Target(
        "saturation, two instances (PostgreSQL + Redis)",
        "scaleout",
        "no target",
        lambda r: dig(r, "scaleout", "two_instances", "saturation", "highest_rate"),
        None,
        " msg/s",
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
                "met": None if value is None or target.met is None else bool(target.met(value)),
            }
        )
    return rows
