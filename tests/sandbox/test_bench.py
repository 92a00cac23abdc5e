"""bench/sandbox_bench.py fails (exit 1) when the p95 target is missed, after the table."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "sandbox_bench.py"


def _run(target_ms: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(BENCH), "--n", "5", "--warmup", "1", "--target-ms", target_ms],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("target_ms", "code", "verdict"), [("0.001", 1, "NOT met"), ("60000", 0, "met")]
)
def test_exit_status_follows_the_p95_target(target_ms: str, code: int, verdict: str) -> None:
    result = _run(target_ms)
    assert result.returncode == code, result.stderr[-2000:]
    assert "| client | n | p50 ms | p95 ms | p99 ms | max ms |" in result.stdout
    assert f"(SDK): {verdict} (" in result.stdout
