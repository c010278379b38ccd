"""latest.md: the targets table, delivery and saturation, every other measurement's
figures, failures and the pictures, rendered from the report ``run.py`` builds.

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


def _samples_text(samples: list[dict[str, Any]]) -> str:
    """RSS readings as "connections → MiB", short enough for one table cell."""
    return (
        ", ".join(f"{_fmt(s['connections'])} → {s['rss_kib'] / 1024:,.1f}" for s in samples)
        + " (open connections → server MiB)"
    )


def _other_sections(results: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    for name, result in results.items():
        if name == "delivery" or not isinstance(result, dict):
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
    lines += _other_sections(report["results"])
    for name, error in report["errors"].items():
        lines += ["", f"## {name}: FAILED", "", "```", error.strip()[-1500:], "```"]
    if report["skipped"]:
        lines += ["", "Skipped: " + "; ".join(report["skipped"]) + "."]
    lines += _pictures(report["plots"], "##")
    return "\n".join(lines) + "\n"


def summary_markdown(report: dict[str, Any]) -> str:
    """The part docs/benchmarks.md carries: targets, delivery and saturation, pictures.

    Headings one level down (it sits under "Latest results"); the per-measurement
    tables stay in the full copy beside the pictures.
    """
    lines = [f"Mode **{report['mode']}**, {_header(report)}.", ""]
    lines += _targets_table(report)
    delivery = report["results"].get("delivery")
    if delivery:
        lines += _delivery_section(delivery, "###")
    lines += _pictures(report["plots"], "###")
    return "\n".join(lines) + "\n"
