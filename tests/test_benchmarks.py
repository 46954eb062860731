"""The benchmark scripts keep running: each, at a small size, prints its figure beside its
baseline with a ratio (the figures themselves are read by people, never asserted here)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
SMALL = {
    "stream_overhead.py": ["--deltas", "2000", "--rows", "2000", "--rounds", "1"],
    "table_to_dataframe.py": [],
    "planner.py": ["--rounds", "1"],
    "planner_accuracy.py": ["--limit", "12"],
    "planner_in_a_chat.py": ["--before", "1"],
    "planner_length.py": ["--short", "1000", "--rounds", "1"],
    "server_load.py": [
        *("--conversations", "5", "--turns", "1", "--abusers", "2", "--mixed-turns", "2"),
        *("--timeout", "60"),
    ],
    "magic_display.py": ["--deltas", "500", "--rounds", "1"],
    "cold_start.py": ["--rounds", "1"],
    "upload_table.py": ["--rows", "2000", "--rounds", "1"],
}


def test_every_benchmark_is_covered() -> None:
    assert sorted(p.name for p in BENCHMARKS.glob("*.py")) == sorted(SMALL)


@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.parametrize("script", sorted(SMALL))
def test_benchmark_runs_and_prints_a_ratio(script: str) -> None:
    result = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *SMALL[script]],
        capture_output=True,
        text=True,
        timeout=280,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert re.search(r"\d(\.\d+)?\s*(x|\u00d7)|ratio|/baseline", result.stdout, re.I), result.stdout[-2000:]
