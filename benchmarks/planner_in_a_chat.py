"""Does a question asked in the middle of a chat get the answer it gets on its own?

A question that stands on its own ("which products are discontinued") must not be read as a
follow-up of whatever was asked before it ("average freight by shipper"): that gives a confident,
wrong answer. For each self-contained question of the Northwind, Sakila, Chinook, jaffle_shop and
seaborn sets (tests/planner_questions.py), this asks it after ``--before`` other questions of its set, each
in its own chat, judges the answer against the gold SQL (tests/planner_judge.py) and prints, per
database, right / declined / wrong beside the same questions asked alone (the baseline of the same
run), and every pair that answered wrong in a chat.

    .venv/bin/python benchmarks/planner_in_a_chat.py [--before N] [--only NAME]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # helpers by plain name, as pytest

from planner_judge import in_a_chat, judge, pairs_in_a_chat
from planner_questions import Question
from public_sets import PUBLIC_SETS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=int, default=3, help="earlier questions tried before each question")
    parser.add_argument("--only", default="", help="run only the sets whose name contains this")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--declines", action="store_true", help="also list pairs declined in a chat only")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="trellis-in-a-chat-"))
    exit_code = 0
    head = f"{'database':12} {'pairs':>5}  {'alone r/d/w':>12}  {'in a chat r/d/w':>16}"
    print(f"{head}  {'right ratio':>11}  {'s/pair':>7}")
    for public in PUBLIC_SETS:
        name, today = public.name, public.today
        if args.only not in name:
            continue
        path = public.build(str(folder / f"{name}.db"))
        chosen = pairs_in_a_chat(public.questions, args.before, args.seed)
        alone: Counter[str] = Counter()
        chat: Counter[str] = Counter()
        hijacked: list[tuple[Question, Question, str]] = []
        started = time.perf_counter()
        for earlier, question in chosen:
            by_itself = judge(path, question, today)
            after = judge(path, in_a_chat(earlier, question), today)
            alone[by_itself.verdict] += 1
            chat[after.verdict] += 1
            if after.verdict == "wrong" or (args.declines and after.verdict != by_itself.verdict):
                hijacked.append((earlier, question, f"[{after.verdict}] {after.text}"))
        seconds = (time.perf_counter() - started) / max(len(chosen), 1)
        counts = lambda c: f"{c['right']}/{c['declined']}/{c['wrong']}"  # noqa: E731
        ratio = chat["right"] / max(alone["right"], 1)
        row = f"{name:12} {len(chosen):5}  {counts(alone):>12}  {counts(chat):>16}"
        print(f"{row}  {ratio:10.3f}x  {seconds:7.3f}")
        for earlier, question, said in hijacked:
            print(f"    {earlier.turns[0]!r} then {question.turns[0]!r}\n        said: {said[:150]!r}")
        if chat["wrong"] > alone["wrong"]:
            exit_code = 1
    sys.exit(exit_code)


if __name__ == "__main__":
    main()
