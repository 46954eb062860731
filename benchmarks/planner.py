"""Answer time of the planner (plan + query + text) beside running the expected SQL alone.

For each question of the demo suite (tests/test_planner.py), measures ``Planner.answer`` end to end
and the hand-written SQL alone over the same read-only connection kind, a few rounds each, and
prints p50 and p99 of both and their ratio. The planner's own overhead is the difference.

    .venv/bin/python benchmarks/planner.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # helpers by plain name, as pytest

from planner_helpers import DEMO_TODAY, ask, demo_path, rows_of
from test_planner import DEMO_CASES

from trellis_jupyter.local.planner import Planner


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, round(q * (len(ordered) - 1)))
    return ordered[index]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    path = demo_path()
    planner = Planner(today=DEMO_TODAY)
    ask(planner, path, "how many orders")  # load the schema once, as a running server would have
    planner_times: list[float] = []
    sql_times: list[float] = []
    plan_only: list[float] = []
    for _ in range(args.rounds):
        for question, expected_sql, _ordered in DEMO_CASES:
            start = time.perf_counter()
            answer = ask(planner, path, question)
            planner_times.append(time.perf_counter() - start)
            start = time.perf_counter()
            rows_of(path, expected_sql)
            sql_times.append(time.perf_counter() - start)
            assert answer.visualizations
    from trellis_jupyter.local.planner.parse import parse
    from trellis_jupyter.local.planner.schema import load_schema

    schema = load_schema(path)
    for _ in range(args.rounds):
        for question, _sql, _ordered in DEMO_CASES:
            start = time.perf_counter()
            parse(question, schema, DEMO_TODAY)
            plan_only.append(time.perf_counter() - start)

    def row(name: str, values: list[float]) -> str:
        p50, p99 = percentile(values, 0.5) * 1000, percentile(values, 0.99) * 1000
        return f"{name:<28} p50 {p50:8.2f} ms   p99 {p99:8.2f} ms"

    print(f"{len(DEMO_CASES)} questions x {args.rounds} rounds on the demo database")
    print(row("planner.answer (plan+query)", planner_times))
    print(row("expected SQL alone", sql_times))
    print(row("parsing alone", plan_only))
    p50 = percentile(planner_times, 0.5) / percentile(sql_times, 0.5)
    p99 = percentile(planner_times, 0.99) / percentile(sql_times, 0.99)
    total = sum(planner_times) / sum(sql_times)
    print(f"ratio planner / SQL: p50 {p50:.2f}x   p99 {p99:.2f}x   total time {total:.2f}x")


if __name__ == "__main__":
    main()
