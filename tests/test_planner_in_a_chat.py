"""A question that stands on its own gets the same answer in the middle of a chat.

Found by use: after "average freight by shipper", "which products are discontinued" was answered
"average freight by product with Discontinued 1", a confident wrong answer. Here every
self-contained question of the five public question sets is asked after two others of its set
(a fixed draw; benchmarks/planner_in_a_chat.py draws more) and judged by its own gold SQL: none
may be wrong. A question declined in a chat is allowed; being wrong is not.
"""

from __future__ import annotations

import pytest
from planner_judge import ask_all, in_a_chat, judge, pairs_in_a_chat
from planner_questions import NORTHWIND, NORTHWIND_TODAY, Question
from public_sets import PUBLIC_SETS, PublicSet
from sample_databases import northwind_path

from trellis_jupyter.local.planner import Planner


@pytest.mark.parametrize("public", PUBLIC_SETS, ids=lambda s: s.name)
def test_no_question_is_answered_wrong_after_another(public: PublicSet) -> None:
    path, today = public.path(), public.today
    wrong: list[str] = []
    chosen = pairs_in_a_chat(public.questions, before=2, seed=7)
    assert len(chosen) >= 2 * 30
    for earlier, question in chosen:
        verdict = judge(path, in_a_chat(earlier, question), today)
        if verdict.verdict == "wrong" and judge(path, question, today).verdict != "wrong":
            wrong.append(f"{earlier.turns[0]!r} then {question.turns[0]!r}: {verdict.text[:120]!r}")
    assert not wrong, "\n".join(wrong)


def test_the_pairs_are_judged_by_the_later_question() -> None:
    first, second = NORTHWIND[0], NORTHWIND[1]
    asked: Question = in_a_chat(first, second)
    assert asked.turns == (first.turns[0], second.turns[0])
    assert (asked.sql, asked.category) == (second.sql, second.category)
    assert judge(northwind_path(), asked, NORTHWIND_TODAY).verdict == "right"


# Follow-ups people type, some naming a column of a table the previous rows cannot join ("and by
# island?" after tips): each must be answered or declined, never fail (found by use: "and by
# sex?" after "survival rate by class" failed on the server with "no foreign-key path").
FOLLOW_UPS = (
    "and by month?", "and by sex?", "and by island?", "and by region", "only the top 3",
    "as a pie chart", "what about last year?", "and the average?", "now the bottom 5",
    "only those over 100", "and per customer?", "split by category",
)  # fmt: skip


@pytest.mark.parametrize("public", PUBLIC_SETS, ids=lambda s: s.name)
def test_no_follow_up_fails_after_any_question(public: PublicSet) -> None:
    path = public.path()
    alone = [q for q in public.questions if len(q.turns) == 1][:12]
    failed: list[str] = []
    for question in alone:
        for follow_up in FOLLOW_UPS:
            try:
                ask_all(Planner(today=public.today), path, (question.turns[0], follow_up))
            except Exception as exc:  # any failure reaches the user as the server's INTERNAL error
                failed.append(f"{question.turns[0]!r} then {follow_up!r}: {type(exc).__name__}: {exc}")
    assert not failed, "\n".join(failed[:10])
