"""Judging the planner's answers to the question sets (tests/planner_questions.py) against gold SQL.

Verdicts:
- ``right``: the answer's rows (its SQL re-run in full) hold the gold rows: every gold column is
  found among the answer's columns (or two adjacent text columns joined by a space, such as
  FirstName + LastName), and the rows match as a set, or in order when the question orders them.
  A chart question also needs a chart. A group whose label is missing (NULL) may be shown or not.
- ``declined``: no table, or the text says which part of the question was not used.
- ``wrong``: a table given without a word of doubt whose rows are not the gold rows.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import json
import random
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from planner_helpers import database, make_run_query
from planner_questions import Question

from trellis_jupyter.events import Chart, Table
from trellis_jupyter.local.planner import Planner
from trellis_jupyter.local.planner_protocol import PastTurn, PlannedAnswer

# Words by which an answer says it left part of the question out (then it is not a confident answer).
CAVEATS = ("i ignored", "i did not use", "i could not use", "not used:")


@dataclass(frozen=True)
class Verdict:
    question: Question
    verdict: str  # right | declined | wrong
    text: str
    sql: str | None  # the answer table's SQL, as the planner gave it


def _cell(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        stripped = value.strip()
        try:
            return float(stripped) if stripped and stripped[0] in "-0123456789" else stripped
        except ValueError:
            return stripped
    return value


def _all_rows(path: str, table: Table) -> tuple[list[str], list[list[Any]]]:
    """The answer's rows in full: its SQL re-run without the row cap (its own rows if it has none)."""
    if not table.truncated or not table.sql:
        return list(table.headers), [list(r) for r in table.rows]
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        cursor = con.execute(table.sql)
        return [d[0] for d in cursor.description or []], [list(r) for r in cursor.fetchall()]
    except sqlite3.Error:
        return list(table.headers), [list(r) for r in table.rows]
    finally:
        con.close()


def _columns(rows: list[list[Any]], width: int) -> list[list[Any]]:
    """The answer's columns, plus each pair of adjacent text columns joined by a space."""
    columns = [[_cell(r[i]) for r in rows] for i in range(width)]
    for i in range(width - 1):
        if all(isinstance(r[i], str) and isinstance(r[i + 1], str) for r in rows) and rows:
            columns.append([_cell(f"{r[i]} {r[i + 1]}") for r in rows])
    return columns


def _drop_unlabelled(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return [r for r in rows if r and r[0] is not None]


def _close(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= 0.006 + 1e-9 * abs(b)  # both sides round to the cent differently
    return bool(a == b)


def _same_rows(got: list[tuple[Any, ...]], expected: list[tuple[Any, ...]], ordered: bool) -> bool:
    if len(got) != len(expected):
        return False
    if not ordered:

        def key(row: tuple[Any, ...]) -> list[str]:
            return [f"{c:.1f}" if isinstance(c, float) else repr(c) for c in row]

        got, expected = sorted(got, key=key), sorted(expected, key=key)
    return all(
        all(_close(a, b) for a, b in zip(g, e, strict=True)) for g, e in zip(got, expected, strict=True)
    )


def same_result(answer_rows: list[list[Any]], width: int, gold: list[list[Any]], ordered: bool) -> bool:
    gold_cols = [[_cell(r[i]) for r in gold] for i in range(len(gold[0]))] if gold else []
    if not gold:
        return not answer_rows
    columns = _columns(answer_rows, width)

    def same_values(col: list[Any], gold_col: list[Any]) -> bool:
        a, b = [v for v in col if v is not None], [v for v in gold_col if v is not None]
        if len(a) != len(b):
            return False
        numbers = all(isinstance(v, float) for v in a + b)
        a, b = (sorted(a), sorted(b)) if numbers else (sorted(map(repr, a)), sorted(map(repr, b)))
        return all(_close(x, y) for x, y in zip(a, b, strict=True))

    candidates = [[i for i, col in enumerate(columns) if same_values(col, g)] for g in gold_cols]
    if any(not c for c in candidates):
        return False
    expected = _drop_unlabelled([tuple(_cell(c) for c in r) for r in gold])
    for choice in itertools.islice(itertools.product(*candidates), 200):
        if len(set(choice)) < len(choice):
            continue
        got = _drop_unlabelled(list(zip(*(columns[i] for i in choice), strict=True)))
        if _same_rows(got, expected, ordered):
            return True
    return False


def gold_rows(path: str, sql: str) -> list[list[Any]]:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return [list(r) for r in con.execute(sql).fetchall()]
    finally:
        con.close()


def ask_all(planner: Planner, path: str, turns: Sequence[str]) -> PlannedAnswer:
    """Each turn of a sequence asked in one chat, as the server would (state through JSON)."""
    history: list[PastTurn] = []
    answer: PlannedAnswer | None = None
    for question in turns:
        answer = planner.answer(
            question, database=database("db", path), history=list(history), run_query=make_run_query(path)
        )
        history.append(PastTurn(question, json.loads(json.dumps(answer.state))))
    assert answer is not None
    return answer


def judge(path: str, question: Question, today: dt.date) -> Verdict:
    try:
        answer = ask_all(Planner(today=today), path, question.turns)
    except Exception as exc:  # an error reaches the user as an error, not as an answer
        return Verdict(question, "declined", f"ERROR {type(exc).__name__}: {exc}", "")
    tables = [v for v in answer.visualizations if isinstance(v, Table)]
    if not tables:
        return Verdict(question, "declined", answer.text, "")
    table = tables[0]
    headers, rows = _all_rows(path, table)
    right = any(
        same_result(rows, len(headers), gold_rows(path, sql), question.ordered)
        for sql in (question.sql, *question.also)
    )
    last = question.turns[-1].lower()
    if right and (question.category == "chart" or "chart" in last or "plot" in last):
        right = any(isinstance(v, Chart) for v in answer.visualizations)
    if right:
        return Verdict(question, "right", answer.text, table.sql)
    if any(c in answer.text.lower() for c in CAVEATS):
        return Verdict(question, "declined", answer.text, table.sql)
    return Verdict(question, "wrong", answer.text, table.sql)


def pairs_in_a_chat(questions: Sequence[Question], before: int, seed: int) -> list[tuple[Question, Question]]:
    """(earlier, question) pairs: each self-contained question of a set after ``before`` others."""
    alone = [q for q in questions if len(q.turns) == 1 and q.category not in ("followup", "schema")]
    rng = random.Random(seed)
    chosen: list[tuple[Question, Question]] = []
    for question in alone:
        others = [q for q in alone if q is not question]
        chosen += [(earlier, question) for earlier in rng.sample(others, min(before, len(others)))]
    return chosen


def in_a_chat(earlier: Question, question: Question) -> Question:
    """``question`` asked in a chat right after ``earlier``: judged by its own gold SQL."""
    return dataclasses.replace(question, turns=(earlier.turns[0], question.turns[0]))
