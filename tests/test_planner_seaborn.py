"""The planner on seaborn's sample tables (tests/data/seaborn): what its first run got wrong.

Four tables with no keys between them (titanic, penguins, tips, flights), no dates, a year and a
month name kept as plain columns. Each test is a general rule this set showed missing, checked on
its own data: a number a table is named after ("the average tip" of tips.tip). The whole set and
its held-out set: no wrong answer.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from planner_helpers import ask, first_table, rows_of
from planner_judge import judge
from planner_questions import SEABORN, SEABORN_HELD_OUT, SEABORN_TODAY, Question
from sample_databases import seaborn_path

from trellis_jupyter.events import Table
from trellis_jupyter.local.planner import Planner
from trellis_jupyter.local.planner_protocol import PlannedAnswer


def _ask(question: str, today: dt.date = SEABORN_TODAY) -> PlannedAnswer:
    return ask(Planner(today=today), seaborn_path(), question)


def _declined(answer: PlannedAnswer) -> bool:
    return not any(isinstance(v, Table) for v in answer.visualizations)


def _rows(answer: PlannedAnswer) -> list[list[object]]:
    return rows_of(seaborn_path(), first_table(answer).sql or "")


def _gold(sql: str) -> list[list[object]]:
    return rows_of(seaborn_path(), sql)


def test_the_data_is_small_and_described() -> None:
    folder = Path(__file__).resolve().parent / "data" / "seaborn"
    assert (folder / "NOTICE.md").is_file()
    assert sum(f.stat().st_size for f in folder.iterdir()) < 150_000
    counts = _gold(
        "SELECT (SELECT COUNT(*) FROM titanic), (SELECT COUNT(*) FROM penguins),"
        " (SELECT COUNT(*) FROM tips), (SELECT COUNT(*) FROM flights)"
    )
    assert counts == [[891, 344, 244, 144]]


@pytest.mark.timeout(240)
@pytest.mark.parametrize(
    ("questions", "size"), [(SEABORN, 35), (SEABORN_HELD_OUT, 10)], ids=["seaborn", "held_out"]
)
def test_no_wrong_answer(questions: tuple[Question, ...], size: int) -> None:
    assert len(questions) >= size
    assert len({x.text for x in questions}) == len(questions)
    verdicts = [judge(seaborn_path(), question, SEABORN_TODAY) for question in questions]
    wrong = [
        f"{v.question.text}\n  said: {v.text[:200]}\n  sql: {v.sql}" for v in verdicts if v.verdict == "wrong"
    ]
    assert not wrong, "\n".join(wrong)


def test_the_number_a_table_is_named_after_is_what_its_average_means() -> None:
    # "the average tip" of tips (tip, total_bill) was the average total bill: the table's one
    # amount of money, taken for "tip" read as the table's name. A wrong answer.
    answer = _ask("What is the average tip?")
    assert "tips.tip" in (first_table(answer).sql or "")
    assert _rows(answer) == _gold("SELECT ROUND(AVG(tip), 2) FROM tips")
    assert answer.text.startswith("The average tip")
    # The same number ranks the rows when nothing else is named: "the biggest tips".
    top = _ask("Top 5 biggest tips")
    biggest = _gold("SELECT tip FROM tips ORDER BY tip DESC LIMIT 5")
    assert [r[1] for r in _rows(top)] == [r[0] for r in biggest]
