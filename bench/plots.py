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


def delivery_cdf(delivery: dict[str, Any], path: Path) -> Path | None:
    """One CDF line per rate, chatcore solid and the relay dashed."""
    figure, axes = plt.subplots(figsize=(8, 5))
    drawn = False
    for target, style in (("chatcore", "-"), ("relay", "--")):
        for rate in delivery.get(target, {}).get("rates", []):
            points = rate.get("cdf") or []
            if not points:
                continue
            axes.plot(
                [p[0] for p in points],
                [p[1] for p in points],
                style,
                label=f"{target} {rate['rate']:g}/s",
            )
            drawn = True
    if not drawn:
        plt.close(figure)
        return None
    axes.set_xscale("log")
    axes.set_xlabel("delivery latency from the scheduled send (ms, log scale)")
    axes.set_ylabel("fraction of messages")
    axes.set_title("End-to-end delivery: POST until message.created on the other socket")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def memory_per_connection(idle: dict[str, Any], path: Path) -> Path | None:
    """Server RSS against open connections, from whatever series measure_idle reports.

    Takes ``samples``: a list of {"connections", "rss_kib"} (per phase, or at the
    top), or, failing that, draws the KiB per connection of each phase as bars.
    """
    phases = [v for v in idle.values() if isinstance(v, dict)] or [idle]
    series: list[tuple[str, list[dict[str, Any]]]] = []
    for name, phase in [(str(k), v) for k, v in idle.items() if isinstance(v, dict)] or [
        ("idle", idle)
    ]:
        samples = phase.get("samples")
        if isinstance(samples, list) and samples:
            series.append((name, samples))
    figure, axes = plt.subplots(figsize=(8, 5))
    if series:
        for name, samples in series:
            xs = [s.get("connections", 0) for s in samples]
            ys = [s.get("rss_kib", 0) / 1024 for s in samples]
            axes.plot(xs, ys, marker="o", label=name)
        axes.set_xlabel("open WebSocket connections")
        axes.set_ylabel("server resident memory (MiB)")
        axes.legend()
    else:
        bars = [
            (str(p.get("phase", i)), float(p["kib_per_connection"]))
            for i, p in enumerate(phases)
            if isinstance(p.get("kib_per_connection"), int | float)
        ]
        if not bars:
            plt.close(figure)
            return None
        axes.bar([b[0] for b in bars], [b[1] for b in bars])
        axes.axhline(30, color="red", linestyle="--", label="target 30 KiB")
        axes.set_ylabel("resident memory per idle connection (KiB)")
        axes.legend()
    axes.set_title("Idle WebSocket connections: what each costs the server")
    axes.grid(True, alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
