"""latest.md: the targets table, delivery and saturation, scale-out (PostgreSQL and
two instances beside delivery's SQLite figures), every other measurement's figures,
failures and the pictures, rendered from the report ``run.py`` builds.

``markdown`` is the whole file; ``summary_markdown`` the shorter part that
``--publish`` splices into docs/benchmarks.md (see publish.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

# What each picture is, said above it in the Markdown.
PICTURES = {
    "delivery-cdf.png": "Delivery latency CDF, one line per rate (chatcore solid, relay dashed)",
    "idle-memory.png": "Server memory against open idle connections, with the 30 KiB target",
}


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


def _header(report: dict[str, Any]) -> str:
    machine = report["machine"]
    load = machine.get("load_average_before")
    return (
        f"{report['finished_at']} · {machine['cpus']} CPUs · "
        f"Python {machine['python']} · {machine['platform']} · "
        f"wall {report['wall_seconds']:.0f} s"
        + (f" · 1-min load average {load:.2f} before the run" if load is not None else "")
    )


def _targets_table(report: dict[str, Any]) -> list[str]:
    lines = ["| metric | value | target | met? |", "|---|---|---|---|"]
    for row in report["targets"]:
        met = {True: "yes", False: "**no**", None: "not measured"}[row["met"]]
        if row["met"] is None and row["value"] is not None:  # reported, with no target
            met = "—"
        lines.append(
            f"| {row['metric']} | {_fmt(row['value'], row['unit'])} | {row['target']} | {met} |"
        )
    return lines


def _saturation_note(target: str, sat: dict[str, Any]) -> str:
    """One sentence: the highest rate held, and which one stopped the ladder, and why."""
    held = (
        f"Saturation, {target}: {_fmt(sat['highest_rate'], ' msg/s')} held "
        f"p99 < {sat['p99_limit_ms']:g} ms with no loss"
    )
    failed = _fmt(sat["first_failed_rate"], " msg/s")
    limited_by = sat.get("limited_by") or ("server" if sat["first_failed_rate"] else "ladder")
    why = sat.get("limit_reason") or "no reason recorded"
    if limited_by == "ladder":
        return (
            f"{held}, as did every step of its ladder: **the ladder, not the server, was "
            f"the limit**; {why}."
        )
    if limited_by == "generator":
        return (
            f"{held}; {failed} did not, but **the load generator was the limit there, not "
            f"{target}**: {why}. {target.capitalize()}'s own limit is higher."
        )
    if limited_by == "machine":
        return (
            f"{held}; {failed} did not, but **other work on the machine was the limit "
            f"there, not {target}**: {why}. Run it again on a quieter machine."
        )
    if limited_by == "cores":
        return (
            f"{held}; {failed} did not: **the machine's cores were the limit**, full with "
            f"the setup's own processes though none of them alone was: {why}."
        )
    if limited_by == "server and generator":
        return (
            f"{held}; {failed} did not: **{target} and the load generator were the limit "
            f"together**: {why}."
        )
    return f"{held}; {failed} did not: **{target} was the limit**: {why}."


def _cpu(phase: dict[str, Any], who: str) -> Any:
    """CPU while the load was offered (a failed step's drain would water it down),
    or over the whole phase in results from before that was measured."""
    sending = phase.get(f"{who}_cpu_sending_pct")
    return sending if sending is not None else phase.get(f"{who}_cpu_pct")


def _waited(phase: dict[str, Any]) -> str:
    """Server / generator time waiting for a core, as "3% / 0.5%" ("—" if not known)."""
    server, generator = phase.get("server_waited_pct"), phase.get("generator_waited_pct")
    if server is None and generator is None:
        return "—"
    return f"{_fmt(server, '%')} / {_fmt(generator, '%')}"


def _delivery_section(delivery: dict[str, Any], level: str) -> list[str]:
    lines = [
        "",
        f"{level} Delivery ({delivery['conversations']} conversations, "
        f"{delivery['agents']} agents; latency from the scheduled send)",
        "",
        "CPU is % of one core while the load was offered; *waited* is how much of that "
        "time the server's / the generator's event loop sat runnable, waiting for a core "
        "(other work on the machine); send lag is how late the generator started its "
        "sends (about 1 ms when it keeps up).",
        "",
        "| server | rate/s | achieved/s | p50 ms | p99 ms | max ms | lost | dup | "
        "out of order | POST errors | server CPU | generator CPU | waited | "
        "send lag p99 ms |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for target in ("chatcore", "relay"):
        part = delivery[target]
        phases = part["rates"] + [s for s in part["saturation"]["steps"] if not s["reused"]]
        for p in phases:
            lines.append(
                f"| {target} | {_fmt(p['rate'])} | {_fmt(p['achieved_rate'])} | "
                f"{_fmt(p['p50_ms'])} | {_fmt(p['p99_ms'])} | {_fmt(p['max_ms'])} | "
                f"{p['lost']} | {p['duplicated']} | {p['out_of_order']} | "
                f"{p['post_errors']} | {_fmt(_cpu(p, 'server'), '%')} | "
                f"{_fmt(_cpu(p, 'generator'), '%')} | {_waited(p)} | "
                f"{_fmt(p.get('send_lag_p99_ms'))} |"
            )
    for target in ("chatcore", "relay"):
        lines += ["", _saturation_note(target, delivery[target]["saturation"])]
    return lines


# Scale-out: the setups side by side, the first from the delivery measurement.
SETUPS = (
    ("delivery", "chatcore", "SQLite, one process"),
    ("scaleout", "postgresql", "PostgreSQL, one process"),
    ("scaleout", "two_instances", "two instances (PostgreSQL + Redis)"),
)


def _setups(results: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(label, the generator's result) for each setup measured in this run."""
    found = []
    for measurement, key, label in SETUPS:
        part = (results.get(measurement) or {}).get(key)
        if isinstance(part, dict) and "rates" in part:
            found.append((label, part))
    return found


def _latency_cell(phase: dict[str, Any] | None) -> str:
    if phase is None:
        return "—"
    cell = f"{_fmt(phase['p50_ms'])} / {_fmt(phase['p99_ms'])}"
    faults = [
        f"{phase[key]} {name}"
        for key, name in (("lost", "lost"), ("duplicated", "dup"), ("out_of_order", "ooo"))
        if phase.get(key)
    ]
    return cell + (f" ({', '.join(faults)})" if faults else "")


def _pct(phase: dict[str, Any], who: str) -> str:
    value = phase.get(f"{who}_cpu_sending_pct")
    if value is None:
        value = phase.get(f"{who}_cpu_pct")
    return _fmt(value, "%")


def _scaleout_section(results: dict[str, Any], level: str, *, detail: bool) -> list[str]:
    scaleout = results["scaleout"]
    setups = _setups(results)
    rates = sorted({float(p["rate"]) for _, part in setups for p in part["rates"]})
    lines = [
        "",
        f"{level} Scale-out: PostgreSQL and two instances ({scaleout['conversations']} "
        f"conversations, {scaleout['agents']} agents)",
        "",
        "The delivery traffic again, on PostgreSQL "
        f"{scaleout.get('postgresql_version') or ''}: one `chatcore serve`, then two on one "
        f"database and Redis {scaleout.get('redis_version') or ''}, every customer on the "
        "first and every agent on the second, so each message crosses through Redis. "
        "Latency from the scheduled send, p50 / p99 in ms; any lost, duplicated or "
        "reordered message is named in the cell.",
        "",
        "| rate/s | " + " | ".join(label for label, _ in setups) + " |",
        "|---|" + "---|" * len(setups),
    ]
    for rate in rates:
        cells = [
            _latency_cell(next((p for p in part["rates"] if float(p["rate"]) == rate), None))
            for _, part in setups
        ]
        lines.append(f"| {_fmt(rate)} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "| setup | highest rate held (p99 < 100 ms, no loss) | first rate that failed | "
        "limited by |",
        "|---|---|---|---|",
    ]
    for label, part in setups:
        sat = part["saturation"]
        lines.append(
            f"| {label} | {_fmt(sat['highest_rate'], ' msg/s')} | "
            f"{_fmt(sat['first_failed_rate'], ' msg/s')} | {sat.get('limited_by') or '—'} |"
        )
    for label, part in setups:
        lines += ["", _saturation_note(label, part["saturation"])]
    if detail:
        lines += _scaleout_detail(scaleout)
    return lines


def _scaleout_detail(scaleout: dict[str, Any]) -> list[str]:
    lines = [
        "",
        "Every phase: CPU is % of one core while the load was offered, for the server "
        "(with two instances: the customers' one), the agents' instance, PostgreSQL's "
        "backends of the database, Redis and the generator; *waited* is the run-queue "
        "time of the server / the generator (/ the agents' instance).",
        "",
        "| setup | rate/s | achieved/s | p50 ms | p99 ms | max ms | lost | dup | "
        "out of order | POST errors | server CPU | agents' instance CPU | PostgreSQL CPU | "
        "Redis CPU | generator CPU | waited | send lag p99 ms |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for _, key, label in SETUPS[1:]:
        part = scaleout.get(key)
        if not isinstance(part, dict):
            continue
        for p in part["rates"] + [s for s in part["saturation"]["steps"] if not s["reused"]]:
            waited = _waited(p)
            if p.get("agent_server_waited_pct") is not None:
                waited += f" / {_fmt(p['agent_server_waited_pct'], '%')}"
            lines.append(
                f"| {label} | {_fmt(p['rate'])} | {_fmt(p['achieved_rate'])} | "
                f"{_fmt(p['p50_ms'])} | {_fmt(p['p99_ms'])} | {_fmt(p['max_ms'])} | "
                f"{p['lost']} | {p['duplicated']} | {p['out_of_order']} | "
                f"{p['post_errors']} | {_pct(p, 'server')} | {_pct(p, 'agent_server')} | "
                f"{_pct(p, 'postgresql')} | {_pct(p, 'redis')} | {_pct(p, 'generator')} | "
                f"{waited} | {_fmt(p.get('send_lag_p99_ms'))} |"
            )
    logs = []
    for _, key, label in SETUPS[1:]:
        for who, found in (scaleout.get(key) or {}).get("server_logs", {}).items():
            text = (
                f"{label}, {who}: {found['unusual_lines']} unusual lines "
                f"({found['tracebacks']} tracebacks), {found['http_5xx']} 5xx answers"
            )
            if found.get("first_unusual"):
                text += "; first: `" + found["first_unusual"][0].replace("`", "'") + "`"
            if found.get("kept"):
                text += f" (log kept: {found['kept']})"
            logs.append(text)
    if logs:
        lines += ["", "Server logs (beyond uvicorn's INFO lines):", ""]
        lines += [f"- {text}" for text in logs]
    return lines


def _samples_text(samples: list[dict[str, Any]]) -> str:
    """RSS readings as "connections → MiB", short enough for one table cell."""
    return (
        ", ".join(f"{_fmt(s['connections'])} → {s['rss_kib'] / 1024:,.1f}" for s in samples)
        + " (open connections → server MiB)"
    )


def _other_sections(results: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    for name, result in results.items():
        if name in ("delivery", "scaleout") or not isinstance(result, dict):
            continue
        lines += ["", f"## {name}", "", "| field | value |", "|---|---|"]
        for key, value in result.items():
            if key == "samples" and isinstance(value, list):
                value = _samples_text(value)
            elif isinstance(value, dict) and "p50_ms" in value:
                value = (
                    f"p50 {_fmt(value['p50_ms'])} ms · p99 {_fmt(value['p99_ms'])} ms · "
                    f"max {_fmt(value['max_ms'])} ms (n={value.get('count')})"
                )
            elif isinstance(value, dict | list):
                value = json.dumps(value)[:200]
            lines.append(f"| {key} | {_fmt(value)} |")
    return lines


def _pictures(plots: list[str], level: str) -> list[str]:
    if not plots:
        return []
    lines = ["", f"{level} Pictures", ""]
    for plot in plots:
        name = Path(plot).name
        lines += [
            f"{PICTURES.get(name, Path(plot).stem)}:",
            "",
            f"![{Path(plot).stem}]({name})",
            "",
        ]
    return lines[:-1]


def markdown(report: dict[str, Any]) -> str:
    lines = [f"# chatcore benchmarks ({report['mode']})", "", _header(report), ""]
    lines += _targets_table(report)
    delivery = report["results"].get("delivery")
    if delivery:
        lines += _delivery_section(delivery, "##")
    if isinstance(report["results"].get("scaleout"), dict):
        lines += _scaleout_section(report["results"], "##", detail=True)
    lines += _other_sections(report["results"])
    for name, error in report["errors"].items():
        lines += ["", f"## {name}: FAILED", "", "```", error.strip()[-1500:], "```"]
    if report["skipped"]:
        lines += ["", "Skipped: " + "; ".join(report["skipped"]) + "."]
    lines += _pictures(report["plots"], "##")
    return "\n".join(lines) + "\n"


def summary_markdown(report: dict[str, Any]) -> str:
    """The part docs/benchmarks.md carries: targets, delivery and saturation, scale-out
    side by side (its every-phase table stays in latest.md), pictures.

    Headings one level down (it sits under "Latest results"); the per-measurement
    tables stay in the full copy beside the pictures.
    """
    lines = [f"Mode **{report['mode']}**, {_header(report)}.", ""]
    lines += _targets_table(report)
    delivery = report["results"].get("delivery")
    if delivery:
        lines += _delivery_section(delivery, "###")
    if isinstance(report["results"].get("scaleout"), dict):
        lines += _scaleout_section(report["results"], "###", detail=False)
    lines += _pictures(report["plots"], "###")
    return "\n".join(lines) + "\n"
