"""Planning time against the question's length: 4,000 characters beside 40,000 (linear is about 10x).

For a few question shapes (a long sentence of known words, one mixing numbers and values, one of
unknown words), times ``Planner.answer`` on the demo database for a question of ``--short``
characters and one ten times as long, and prints both and their ratio. The baseline is the short
question, measured in the same run.

    .venv/bin/python benchmarks/planner_length.py [--short 4000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # helpers by plain name, as pytest

from planner_helpers import DEMO_TODAY, ask, demo_path

from trellis_jupyter.local.planner import Planner

SHAPES = {
    "known words": "total revenue by region for completed orders last month and ",
    "numbers and values": "how many orders 12 customers East cancelled over 5 top 3 ",
    "unknown words": "zorblax quantum wombat ",
}


def timed(planner: Planner, path: str, question: str, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        ask(planner, path, question)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", type=int, default=4_000, help="characters of the short question")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    path = demo_path()
    planner = Planner(today=DEMO_TODAY)
    ask(planner, path, "how many orders")  # the schema loaded once, as a running server has it
    print(f"{'shape':<20}{args.short:>10,} ch{args.short * 10:>12,} ch{'ratio':>9}")
    for name, shape in SHAPES.items():
        short = (shape * (args.short // len(shape) + 1))[: args.short]
        long = (shape * (args.short * 10 // len(shape) + 1))[: args.short * 10]
        a, b = timed(planner, path, short, args.rounds), timed(planner, path, long, args.rounds)
        print(f"{name:<20}{a * 1000:>10.1f} ms{b * 1000:>9.1f} ms{b / a:>8.1f}x")
    print("(a linear planner shows about 10x; a quadratic one about 100x)")


if __name__ == "__main__":
    main()
