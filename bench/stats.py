"""Latency statistics and markdown tables shared by the benchmarks."""

import statistics
from collections.abc import Sequence


def percentile(samples: Sequence[float], pct: float) -> float:
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def row(name: str, samples_ms: Sequence[float], extra: str = "") -> str:
    return (
        f"| {name} | {len(samples_ms)} | {statistics.fmean(samples_ms):.2f} | "
        f"{percentile(samples_ms, 50):.2f} | {percentile(samples_ms, 95):.2f} | "
        f"{percentile(samples_ms, 99):.2f} | {extra} |"
    )


HEADER = (
    "| what | n | mean ms | p50 ms | p95 ms | p99 ms | notes |\n"
    "| --- | ---: | ---: | ---: | ---: | ---: | --- |"
)
