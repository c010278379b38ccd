"""Latency summaries: percentiles in milliseconds, points for a CDF plot, a fitted line."""

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
    picks: list[int] | range
    if n <= points:
        picks = range(n)
    else:
        picks = sorted({round(i * (n - 1) / (points - 1)) for i in range(points)})
    return [[round(ms[i], 3), round((i + 1) / n, 5)] for i in picks]


def fit_line(xs: list[float], ys: list[float]) -> tuple[float, float] | None:
    """Least squares y = slope * x + intercept: (slope, intercept), or None with fewer
    than two distinct xs. A slope through every reading, not one difference of two,
    so no single noisy reading decides it."""
    if len(xs) != len(ys) or len(set(xs)) < 2:
        return None
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    variance = sum((x - mean_x) ** 2 for x in xs)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / variance
    return slope, mean_y - slope * mean_x
