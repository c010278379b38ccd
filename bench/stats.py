"""Latency summaries: percentiles in milliseconds, and points for a CDF plot."""

from __future__ import annotations

import math
from typing import Any


def percentile(sorted_values: list[float], fraction: float) -> float:
    """The nearest-rank percentile of already sorted values (``fraction`` in 0..1)."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def summarize(latencies_s: list[float]) -> dict[str, Any]:
    """count, p50_ms, p99_ms, max_ms, mean_ms of latencies given in seconds.

    With no latencies the figures are null (JSON has no NaN), the count 0.
    """
    ms = sorted(1000.0 * x for x in latencies_s)
    if not ms:
        return {"count": 0, "p50_ms": None, "p99_ms": None, "max_ms": None, "mean_ms": None}
    return {
        "count": len(ms),
        "p50_ms": round(percentile(ms, 0.50), 3),
        "p99_ms": round(percentile(ms, 0.99), 3),
        "max_ms": round(ms[-1], 3),
        "mean_ms": round(sum(ms) / len(ms), 3),
    }


def cdf_points(latencies_s: list[float], points: int = 200) -> list[list[float]]:
    """At most ``points`` pairs [latency ms, fraction at or below it], for a CDF plot."""
    ms = sorted(1000.0 * x for x in latencies_s)
    if not ms:
        return []
    n = len(ms)
    if n <= points:
        picks = range(n)
    else:
        picks = sorted({round(i * (n - 1) / (points - 1)) for i in range(points)})
    return [[round(ms[i], 3), round((i + 1) / n, 5)] for i in picks]
