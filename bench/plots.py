"""Pictures beside the results: a latency CDF per rate, and memory per connection.

matplotlib with the Agg backend (no display). Each function returns the PNG it
wrote, or None when the results hold nothing to draw.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from stats import fit_line

TARGET_KIB_PER_CONNECTION = 30.0  # the budget for one idle socket
# Server by line style, rate by colour: the two lines of one rate share a colour,
# so chatcore and the relay at 500/s are read side by side.
STYLES = {"chatcore": "-", "relay": "--"}
P99 = 0.99


def delivery_cdf(delivery: dict[str, Any], path: Path) -> Path | None:
    """One CDF line per rate and server: chatcore solid, the relay dashed, a colour per rate."""
    rates = sorted(
        {
            float(phase["rate"])
            for target in STYLES
            for phase in delivery.get(target, {}).get("rates", [])
        }
    )
    colours = {rate: f"C{i % 10}" for i, rate in enumerate(rates)}
    figure, axes = plt.subplots(figsize=(9, 5))
    drawn = False
    for target, style in STYLES.items():
        for phase in delivery.get(target, {}).get("rates", []):
            points = phase.get("cdf") or []
            if not points:
                continue
            axes.plot(
                [p[0] for p in points],
                [p[1] for p in points],
                style,
                color=colours[float(phase["rate"])],
                linewidth=2 if target == "chatcore" else 1.5,
                label=f"{target} {phase['rate']:g}/s",
            )
            drawn = True
    if not drawn:
        plt.close(figure)
        return None
    axes.axhline(P99, color="grey", linestyle=":", linewidth=1, label="p99")
    axes.set_xscale("log")
    axes.set_xlabel("delivery latency from the scheduled send (ms, log scale)")
    axes.set_ylabel("fraction of messages")
    axes.set_title("End-to-end delivery: POST until message.created on the other socket")
    axes.grid(True, which="both", alpha=0.3)
    # Outside the axes: wherever the lines fall, the legend covers none of them.
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    figure.tight_layout()
    figure.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(figure)
    return path


def sample_series(idle: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    """(label, samples) to draw: the result's own ``samples``, or each phase's.

    measure_idle reports one series at the top; a result with one dict per phase
    (customer sockets, agent sockets) gets a line per phase.
    """
    if isinstance(idle.get("samples"), list) and idle["samples"]:
        return [("server RSS", idle["samples"])]
    return [
        (str(name), phase["samples"])
        for name, phase in idle.items()
        if isinstance(phase, dict) and isinstance(phase.get("samples"), list) and phase["samples"]
    ]


def memory_per_connection(idle: dict[str, Any], path: Path) -> Path | None:
    """Server RSS (MiB) against open connections, the fitted KiB per connection,
    and where 30 KiB per connection from the same baseline would have put it."""
    series = sample_series(idle)
    if not series:
        return None
    figure, axes = plt.subplots(figsize=(8, 5))
    for i, (name, samples) in enumerate(series):
        xs = [float(s["connections"]) for s in samples]
        colour = f"C{i % 10}"
        axes.plot(xs, [s["rss_kib"] / 1024 for s in samples], "o", color=colour, label=name)
        fit = fit_line(xs, [float(s["rss_kib"]) for s in samples])
        if fit is not None:
            slope, intercept = fit
            ends = [min(xs), max(xs)]
            axes.plot(
                ends,
                [(intercept + slope * x) / 1024 for x in ends],
                "-",
                color=colour,
                label=f"fit: {slope:.1f} KiB per connection",
            )
        # The target drawn from the same baseline: the points should stay under it.
        base = samples[0]["rss_kib"]
        axes.plot(
            [0, max(xs)],
            [base / 1024, (base + TARGET_KIB_PER_CONNECTION * max(xs)) / 1024],
            "--",
            color="red",
            label=f"target: {TARGET_KIB_PER_CONNECTION:g} KiB per connection",
        )
    axes.set_xlabel("open idle customer WebSocket connections")
    axes.set_ylabel("server resident memory, VmRSS (MiB)")
    axes.set_title("Idle WebSocket connections: what each costs the server")
    axes.set_xlim(left=0)
    axes.set_ylim(bottom=0)
    axes.grid(True, alpha=0.3)
    axes.legend(loc="lower right")  # the points climb from lower left to upper right
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
