"""The saturation ladder: which rates to try, whether a step held, and what stopped it.

Each server climbs its ladder (bench/sizes.py; the delivery rates count as steps)
until a step's p99 reaches ``P99_LIMIT_MS`` or a message is lost, duplicated or
reordered, or a POST fails; then the gap between the last rate that held and the
first that failed is halved down to the ladder's resolution. ``climb`` runs
the steps (the generator times each one); ``saturation`` is the answer, with
``limit_of`` saying whether the server, the generator, the machine or the
ladder stopped it; where a step also timed other processes of the setup (a
second instance, PostgreSQL, Redis: measure_scaleout.py), whether all of them
together filled the machine's cores.
"""

from __future__ import annotations

import math
import os
from collections.abc import Awaitable, Callable
from typing import Any

from sizes import Ladder

P99_LIMIT_MS = 100.0
# What stopped a saturation ladder (limit_of): a process using this much of one core
# is its own limit; sends starting this late (p99; a tenth of the latency limit,
# where ~1 ms is normal) mean the generator could not keep its schedule.
BUSY_CPU_PCT = 85.0
SEND_LAG_LIMIT_MS = P99_LIMIT_MS / 10
# ...and a process that spent this much of a step runnable but waiting for a core was
# held up by other work on the machine (near 0 on an idle machine).
WAITED_LIMIT_PCT = 10.0
# With the whole machine's CPU read too (measure_scaleout.py): waiting for a core
# while work outside the setup used less than this much of one was the setup's doing.
OTHER_WORK_LIMIT_PCT = 25.0
# Processes besides the server and the generator that a step may have timed
# (delivery_generator.py), and what the report calls them.
OTHER_PROCESSES = {
    "agent_server": "agents' instance",
    "postgresql": "PostgreSQL",
    "redis": "Redis",
}


def held(step: dict[str, Any]) -> bool:
    p99 = step.get("p99_ms")
    return (
        p99 is not None
        and p99 < P99_LIMIT_MS
        and step["lost"] == 0
        and step["post_errors"] == 0
        and step["duplicated"] == 0
        and step["out_of_order"] == 0
    )


async def climb(
    step: Callable[[float], Awaitable[bool]],
    rates: list[float],
    rungs: list[float],
    resolution: float,
) -> float | None:
    """Up the ladder (the delivery ``rates`` count as steps) until one fails, then
    halve the gap between the last that held and the first that failed until it is
    no wider than the ladder's ``resolution``. The first rate that failed (None if
    every step held); ``step`` runs one rate and says whether it held."""
    ladder = sorted({*rates, *rungs})
    last_held, failed_at = 0.0, None
    for rate in ladder:
        if not await step(rate):
            failed_at = rate
            break
        last_held = rate
    while failed_at is not None and failed_at - last_held > resolution:
        middle = round((last_held + failed_at) / 2 / 25) * 25
        if middle <= last_held or middle >= failed_at:
            break
        if await step(middle):
            last_held = middle
        else:
            failed_at = middle
    return failed_at


def saturation(
    steps: list[dict[str, Any]], failed_at: float | None, config: dict[str, Any]
) -> dict[str, Any]:
    """The ladder's answer, the highest rate held, and what stopped it (``limit_of``)."""
    ordered = sorted(steps, key=lambda s: float(s["rate"]))
    passed = [s for s in ordered if s["held"]]
    top = max(passed, key=lambda s: float(s["rate"])) if passed else None
    failed = next((s for s in ordered if s["rate"] == failed_at), None)
    limited_by, why = limit_of(top, failed)
    return {
        "p99_limit_ms": P99_LIMIT_MS,
        "ladder": sorted(config["ladder"]),
        "resolution": config["resolution"],
        "steps": ordered,
        "highest_rate": None if top is None else top["rate"],
        "first_failed_rate": failed_at,
        "limited_by": limited_by,
        "limit_reason": why,
        "limited_by_steps": failed_at is None,
        "highest_held_step": None if top is None else step_summary(top),
        "first_failed_step": None if failed is None else step_summary(failed),
    }


def limit_of(top: dict[str, Any] | None, failed: dict[str, Any] | None) -> tuple[str, str]:
    """Who stopped the ladder, "server", "generator", "server and generator",
    "machine" (other work on it) or "ladder", and why, in words for the report.

    CPU while sending first, the higher of the highest step held and the first
    that failed: a process near a full core (each is one Python thread, near
    enough) is its own limit, and on two cores both near one is the machine's.
    With neither busy, a process kept waiting for a core (the run queue), or
    generator sends that started late, mean something else had the cores; a
    server that only answers slowly makes POSTs queue, not start late.
    """
    steps = [s for s in (top, failed) if s is not None]
    if any(f"{label}_cpu_pct" in s for s in steps for label in OTHER_PROCESSES):
        return limit_with_others(steps, failed)
    server = max((busy(s, "server") for s in steps), default=0.0)
    generator = max((busy(s, "generator") for s in steps), default=0.0)
    cpus = f"server {server:g}%, generator {generator:g}% of a core while sending"
    if failed is None:
        return "ladder", f"every step held; at the top, {cpus}"
    lag = float(failed.get("send_lag_p99_ms") or 0)
    waits = [float(failed.get(f"{who}_waited_pct") or 0) for who in ("server", "generator")]
    crowded = max(waits) >= WAITED_LIMIT_PCT
    # Said whatever the verdict: a crowded machine makes any failed step fail sooner.
    others = (
        f"; at {failed['rate']:g}/s the server and the generator also waited for a core "
        f"{waits[0]:g}% and {waits[1]:g}% of the time: other work on the machine"
        if crowded
        else ""
    )
    server_busy, generator_busy = server >= BUSY_CPU_PCT, generator >= BUSY_CPU_PCT
    if server_busy and generator_busy:
        return "server and generator", f"both near a full core, {cpus}{others}"
    if server_busy:
        return "server", f"near a full core: {cpus}{others}"
    if generator_busy:
        return "generator", f"near a full core: {cpus}{others}"
    if crowded or lag >= SEND_LAG_LIMIT_MS:
        return "machine", (
            f"neither process was near a full core ({cpus}), but they waited for one "
            f"{waits[0]:g}% and {waits[1]:g}% of the time and the generator's sends started "
            f"p99 {lag:.1f} ms late: other work on the machine had the cores"
        )
    return "server", f"its latency grew with neither process near a full core: {cpus}"


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def limit_with_others(
    steps: list[dict[str, Any]], failed: dict[str, Any] | None
) -> tuple[str, str]:
    """``limit_of`` where the steps timed more processes than the server and the
    generator: a second instance (the busier of the two is "the server"), PostgreSQL's
    backends, Redis, and the whole machine's CPU.

    One more verdict, "cores": no one process was near a full core, but the setup's
    own processes filled the machine's cores together (85% of them or more), or kept
    each other waiting for one (10% of the time or more) while other work used less
    than ``OTHER_WORK_LIMIT_PCT`` of a core. Other work past that is "machine".
    """
    labels = [label for label in OTHER_PROCESSES if any(f"{label}_cpu_pct" in s for s in steps)]
    mine = ("server", "generator", *labels)

    def peak(who: str) -> float:
        return max((busy(s, who) for s in steps), default=0.0)

    server, generator = peak("server"), peak("generator")
    together = max(sum(busy(s, who) for who in mine) for s in steps)
    parts = [f"server {server:g}%"]
    if "agent_server" in labels:
        parts = [f"customers' instance {server:g}%", f"agents' instance {peak('agent_server'):g}%"]
        server = max(server, peak("agent_server"))
    parts.append(f"generator {generator:g}%")
    parts += [f"{OTHER_PROCESSES[who]} {peak(who):g}%" for who in labels if who != "agent_server"]
    n = cores()
    cpus = (
        f"{', '.join(parts)} of a core while sending; together up to {together:g}% "
        f"of the {n} cores' {100 * n}%"
    )
    if failed is None:
        return "ladder", f"every step held; at the top, {cpus}"
    lag = float(failed.get("send_lag_p99_ms") or 0)
    who_waits = ["server", "generator"] + (["agent_server"] if "agent_server" in labels else [])
    waits = [float(failed.get(f"{who}_waited_pct") or 0) for who in who_waits]
    crowded = max(waits) >= WAITED_LIMIT_PCT
    waited = ", ".join(f"{w:g}%" for w in waits)
    names = "the instances and the generator" if len(waits) > 2 else "the server and the generator"
    machine = failed.get("machine_cpu_sending_pct")
    other = None
    if machine is not None:  # the machine's busy time that none of the setup's processes used
        other = max(0.0, round(float(machine) - sum(busy(failed, who) for who in mine), 1))
    others = "" if other is None else f"; other work {other:g}% of a core"
    also = (
        f"; at {failed['rate']:g}/s {names} also waited for a core {waited} of the time{others}"
        if crowded
        else ""
    )
    full = together >= BUSY_CPU_PCT * n
    server_busy, generator_busy = server >= BUSY_CPU_PCT, generator >= BUSY_CPU_PCT
    if server_busy and generator_busy:
        return "server and generator", f"both near a full core, {cpus}{also}"
    if server_busy:
        return "server", f"near a full core: {cpus}{also}"
    if generator_busy:
        return "generator", f"near a full core: {cpus}{also}"
    if full:
        return "cores", (
            f"no one process was near a full core, but together they filled the "
            f"machine: {cpus}{also}"
        )
    if crowded and other is not None and other < OTHER_WORK_LIMIT_PCT:
        return "cores", (
            f"no process was near a full core ({cpus}), but at {failed['rate']:g}/s "
            f"{names} waited for one {waited} of the time while other work used only "
            f"{other:g}% of a core: the setup's own processes kept each other waiting"
        )
    if crowded or lag >= SEND_LAG_LIMIT_MS:
        return "machine", (
            f"no process was near a full core ({cpus}), but {names} waited for one "
            f"{waited} of the time{others} and the generator's sends started p99 "
            f"{lag:.1f} ms late: other work on the machine had the cores"
        )
    return "server", f"its latency grew with no process near a full core: {cpus}"


def busy(step: dict[str, Any], who: str) -> float:
    """``who``'s CPU (% of a core) while the step's load was offered, else over the step."""
    value = step.get(f"{who}_cpu_sending_pct")
    return float(value if value is not None else step.get(f"{who}_cpu_pct") or 0)


def step_summary(step: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "rate",
        "achieved_rate",
        "p99_ms",
        "lost",
        "post_errors",
        "send_lag_p99_ms",
        "server_cpu_pct",
        "generator_cpu_pct",
        "server_cpu_sending_pct",
        "generator_cpu_sending_pct",
        "server_waited_pct",
        "generator_waited_pct",
    )
    summary = {key: step.get(key) for key in keys}
    for label in (*OTHER_PROCESSES, "machine"):  # only where the step timed them
        for key in (f"{label}_cpu_pct", f"{label}_cpu_sending_pct", f"{label}_waited_pct"):
            if key in step:
                summary[key] = step[key]
    return summary


def max_steps(ladder: Ladder) -> int:
    """Saturation steps the ladder can take at most: every rung, then the halvings."""
    rates = sorted(ladder.rates)
    widest = max((b - a for a, b in zip([0, *rates], rates, strict=False)), default=0)
    halvings = max(0, math.ceil(math.log2(max(1, widest / ladder.resolution))))
    return len(rates) + halvings
