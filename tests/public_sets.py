# ruff: noqa: E501 - one database a line reads best
"""The five public databases the planner is judged on, each with its question sets and its day.

One registry for the accuracy benchmark, the in-a-chat benchmark and their tests, so a new
database is added in one place.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from planner_questions import (
    CHINOOK,
    CHINOOK_HELD_OUT,
    CHINOOK_TODAY,
    JAFFLE,
    JAFFLE_HELD_OUT,
    JAFFLE_TODAY,
    NORTHWIND,
    NORTHWIND_HELD_OUT,
    NORTHWIND_TODAY,
    SAKILA,
    SAKILA_HELD_OUT,
    SAKILA_TODAY,
    SEABORN,
    SEABORN_HELD_OUT,
    SEABORN_TODAY,
    Question,
)
from sample_databases import (
    build_chinook,
    build_jaffle_shop,
    build_northwind,
    build_sakila,
    build_seaborn,
    chinook_path,
    jaffle_shop_path,
    northwind_path,
    sakila_path,
    seaborn_path,
)


@dataclass(frozen=True)
class PublicSet:
    name: str
    build: Callable[[str], str]  # builds the database at a path and returns it
    path: Callable[[], str]  # one built copy for the whole test run
    questions: tuple[Question, ...]  # written before the planner was tuned for it
    held_out: tuple[Question, ...]  # written with them or after, never tuned on
    today: dt.date  # the day the questions are asked on ("last month")
    right_at_least: float  # of ``questions`` (none may be wrong, in either set)


# fmt: off
PUBLIC_SETS: tuple[PublicSet, ...] = (
    PublicSet("northwind", build_northwind, northwind_path, NORTHWIND, NORTHWIND_HELD_OUT, NORTHWIND_TODAY, 0.95),
    PublicSet("sakila", build_sakila, sakila_path, SAKILA, SAKILA_HELD_OUT, SAKILA_TODAY, 0.95),
    PublicSet("chinook", build_chinook, chinook_path, CHINOOK, CHINOOK_HELD_OUT, CHINOOK_TODAY, 0.95),
    PublicSet("jaffle_shop", build_jaffle_shop, jaffle_shop_path, JAFFLE, JAFFLE_HELD_OUT, JAFFLE_TODAY, 0.9),
    PublicSet("seaborn", build_seaborn, seaborn_path, SEABORN, SEABORN_HELD_OUT, SEABORN_TODAY, 0.75),
)
# fmt: on
