"""Shared pieces of the planner tests: a read-only run_query, the demo and library databases, checks."""

from __future__ import annotations

import datetime as dt
import functools
import math
import random
import sqlite3
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from trellis_jupyter.events import Chart, Table
from trellis_jupyter.local.demo import ensure_demo_database
from trellis_jupyter.local.planner import Planner
from trellis_jupyter.local.planner_protocol import (
    DatabaseInfo,
    PastTurn,
    PlannedAnswer,
    QueryError,
    QueryResult,
)

# The demo database is built for a fixed day, so every relative date in the tests is known.
DEMO_TODAY = dt.date(2025, 6, 18)
LIBRARY_TODAY = dt.date(2025, 6, 18)
ROW_CAP = 500


def make_run_query(path: str, row_cap: int = ROW_CAP) -> Any:
    """A run_query over ``path`` opened read-only, as the server runs it (row cap, QueryError)."""

    def run_query(sql: str) -> QueryResult:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            cursor = con.execute(sql)
            rows = [list(r) for r in cursor.fetchall()]
            headers = [d[0] for d in cursor.description or []]
        except sqlite3.Error as exc:
            raise QueryError(str(exc)) from None
        finally:
            con.close()
        return QueryResult(sql, headers, rows[:row_cap], len(rows), len(rows) > row_cap)

    return run_query


def rows_of(path: str, sql: str) -> list[list[Any]]:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return [list(r) for r in con.execute(sql).fetchall()]
    finally:
        con.close()


@functools.cache
def demo_path() -> str:
    """The demo database built once per test run, for DEMO_TODAY."""
    folder = tempfile.mkdtemp(prefix="trellis-demo-")
    return ensure_demo_database(str(Path(folder) / "demo.sqlite3"), today=DEMO_TODAY)


@functools.cache
def library_path() -> str:
    """A second database of another domain: a lending library (authors, books, members, loans)."""
    folder = tempfile.mkdtemp(prefix="trellis-library-")
    path = str(Path(folder) / "library.sqlite3")
    rng = random.Random(7)
    con = sqlite3.connect(path)
    con.executescript(
        """
        CREATE TABLE authors (id INTEGER PRIMARY KEY, name TEXT NOT NULL, country TEXT NOT NULL);
        CREATE TABLE books (
            id INTEGER PRIMARY KEY, title TEXT NOT NULL, author_id INTEGER NOT NULL REFERENCES authors(id),
            genre TEXT NOT NULL, published_year INTEGER NOT NULL, pages INTEGER NOT NULL);
        CREATE TABLE members (
            id INTEGER PRIMARY KEY, first_name TEXT NOT NULL, last_name TEXT NOT NULL,
            city TEXT NOT NULL, membership_type TEXT NOT NULL, joined_on DATE NOT NULL);
        CREATE TABLE loans (
            id INTEGER PRIMARY KEY, book_id INTEGER NOT NULL REFERENCES books(id),
            member_id INTEGER NOT NULL REFERENCES members(id), loan_date DATE NOT NULL,
            due_date DATE NOT NULL, returned_date DATE, late_fee REAL NOT NULL);
        """
    )
    countries = ["UK", "USA", "Nigeria", "Japan", "Chile"]
    authors = [(i, f"Author {chr(64 + i)}{i}", countries[i % 5]) for i in range(1, 21)]
    genres = ["Fantasy", "Mystery", "Science Fiction", "Romance", "History", "Poetry"]
    books = [
        (
            i,
            f"Book {i:03d}",
            rng.randint(1, 20),
            rng.choice(genres),
            rng.randint(1950, 2024),
            rng.randint(90, 900),
        )
        for i in range(1, 301)
    ]
    cities = ["Springfield", "Riverton", "Lakeside", "Hillview"]
    first = ["Ada", "Ben", "Cleo", "Dev", "Eve", "Finn", "Gus", "Hal", "Ivy", "Jo"]
    last = ["Stone", "Reed", "Marsh", "Fields", "Brook", "Hale", "Cole", "Wynn", "Lake", "Moss"]
    members = []
    for i in range(1, 101):
        joined = LIBRARY_TODAY - dt.timedelta(days=rng.randint(30, 1500))
        members.append(
            (i, first[i % 10], last[(i // 10) % 10], rng.choice(cities),
             rng.choice(["standard", "student", "senior"]),
             joined.isoformat())
        )  # fmt: skip
    loans = []
    for i in range(1, 4001):
        day = LIBRARY_TODAY - dt.timedelta(days=rng.randint(0, 730))
        due = day + dt.timedelta(days=21)
        returned = None if rng.random() < 0.1 else day + dt.timedelta(days=rng.randint(3, 35))
        fee = round(max(0, ((returned or LIBRARY_TODAY) - due).days) * 0.25, 2)
        loans.append((i, rng.randint(1, 300), rng.randint(1, 100), day.isoformat(), due.isoformat(),
                      returned.isoformat() if returned else None, fee))  # fmt: skip
    with con:
        con.executemany("INSERT INTO authors VALUES (?, ?, ?)", authors)
        con.executemany("INSERT INTO books VALUES (?, ?, ?, ?, ?, ?)", books)
        con.executemany("INSERT INTO members VALUES (?, ?, ?, ?, ?, ?)", members)
        con.executemany("INSERT INTO loans VALUES (?, ?, ?, ?, ?, ?, ?)", loans)
    con.close()
    return path


def database(name: str, path: str) -> DatabaseInfo:
    return DatabaseInfo(name=name, path=path, integration_id=f"{name}-id")


def ask(planner: Planner, path: str, question: str, history: Sequence[PastTurn] = ()) -> PlannedAnswer:
    return planner.answer(
        question, database=database("db", path), history=list(history), run_query=make_run_query(path)
    )


def first_table(answer: PlannedAnswer) -> Table:
    tables = [v for v in answer.visualizations if isinstance(v, Table)]
    assert tables, f"no table in the answer: {answer.text}"
    return tables[0]


def declined(answer: PlannedAnswer) -> bool:
    """No table: the planner said why instead of answering."""
    return not any(isinstance(v, Table) for v in answer.visualizations)


def answer_rows(path: str, answer: PlannedAnswer) -> list[list[Any]]:
    """Every row of the answer's first table (its SQL run again in full, past the row cap)."""
    return rows_of(path, first_table(answer).sql or "")


def charts(answer: PlannedAnswer) -> list[Chart]:
    return [v for v in answer.visualizations if isinstance(v, Chart)]


def _same_cell(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=0.006)
    return bool(a == b)


def same_rows(got: list[list[Any]], expected: list[list[Any]], ordered: bool) -> bool:
    if len(got) != len(expected):
        return False
    if not ordered:
        key = lambda row: [(str(type(c).__name__ == "NoneType"), str(c)) for c in row[:-1]]  # noqa: E731
        got, expected = sorted(got, key=key), sorted(expected, key=key)
    return all(
        len(g) == len(e) and all(_same_cell(x, y) for x, y in zip(g, e, strict=True))
        for g, e in zip(got, expected, strict=True)
    )


def check_answer(path: str, answer: PlannedAnswer, expected_sql: str, ordered: bool) -> Table:
    """The answer's table must equal what the expected SQL returns (values compared to the cent)."""
    table = first_table(answer)
    expected = rows_of(path, expected_sql)
    assert table.row_count == len(expected), (answer.text, table.sql, len(expected))
    assert same_rows(table.rows, expected[:ROW_CAP], ordered), (
        f"\nplanner SQL:\n{table.sql}\nrows: {table.rows[:5]}\nexpected: {expected[:5]}"
    )
    assert table.truncated == (len(expected) > ROW_CAP)
    assert table.sql
    assert len(table.id) == 10
    assert table.id.isalnum()
    return table
