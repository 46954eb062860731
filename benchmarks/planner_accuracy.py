"""How often the planner answers right on databases it was not written for, and its time beside SQL.

Runs each question of the Northwind, Sakila, Chinook, jaffle_shop and seaborn sets
(tests/planner_questions.py, built from their published files by tests/sample_databases.py) through
the planner as the server calls it, judges each answer against its gold SQL (tests/planner_judge.py)
and prints, per database and category: right, declined, wrong. A wrong answer (rows that are not
the gold rows, given without a word of doubt) is worse than a decline. Also prints the planner's
time per question beside the gold SQL's.

    .venv/bin/python benchmarks/planner_accuracy.py [--limit N] [--show declined,wrong]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # helpers by plain name, as pytest

from planner_judge import Verdict, gold_rows, judge
from public_sets import PUBLIC_SETS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=0, help="at most this many questions per database")
    parser.add_argument("--only", default="", help="run only the sets whose name contains this")
    parser.add_argument("--show", default="declined,wrong", help="verdicts whose questions are listed")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="trellis-accuracy-"))
    built = {p.name: p.build(str(folder / f"{p.name}.db")) for p in PUBLIC_SETS}
    sets = [(p.name, built[p.name], p.questions, p.today) for p in PUBLIC_SETS]
    sets += [(f"{p.name} (held out)", built[p.name], p.held_out, p.today) for p in PUBLIC_SETS]
    show = set(args.show.split(","))
    exit_code = 0
    for name, path, questions, today in sets:
        if args.only not in name:
            continue
        chosen = questions[: args.limit] if args.limit else questions
        verdicts: list[Verdict] = []
        planner_time = sql_time = 0.0
        for question in chosen:
            start = time.perf_counter()
            verdicts.append(judge(path, question, today))
            planner_time += time.perf_counter() - start
            start = time.perf_counter()
            gold_rows(path, question.sql)
            sql_time += time.perf_counter() - start
        by_category: dict[str, Counter[str]] = defaultdict(Counter)
        for v in verdicts:
            by_category[v.question.category][v.verdict] += 1
        total = Counter(v.verdict for v in verdicts)
        print(f"\n{name}: {len(verdicts)} questions")
        print(f"  {'category':<12}{'right':>7}{'declined':>10}{'wrong':>7}")
        for category, counts in by_category.items():
            print(f"  {category:<12}{counts['right']:>7}{counts['declined']:>10}{counts['wrong']:>7}")
        print(f"  {'all':<12}{total['right']:>7}{total['declined']:>10}{total['wrong']:>7}")
        print(
            f"  right rate {total['right'] / len(verdicts):.2f}, wrong {total['wrong']};"
            f" time: planner {planner_time * 1000 / len(verdicts):.1f} ms per question (judging included),"
            f" gold SQL alone {sql_time * 1000 / len(verdicts):.1f} ms:"
            f" {planner_time / max(sql_time, 1e-9):.1f}x"
        )
        for v in verdicts:
            if v.verdict in show:
                print(f"    [{v.verdict}] {v.question.category}: {v.question.text}")
                print(f"        said: {v.text[:300]!r}")
                if v.sql:
                    print(f"        sql: {v.sql[:300]}")
    sys.exit(exit_code)


if __name__ == "__main__":
    main()
