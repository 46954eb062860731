"""When a question's period lies outside the data: say which period the data covers.

"Orders per month in 1997" on a database whose orders run from 2016 to 2018 finds nothing; the
answer then names the dates there are, so the next question can ask about them.
"""

from __future__ import annotations

import re

from trellis_jupyter.events import Cell
from trellis_jupyter.local.planner.plan import Plan, column_of
from trellis_jupyter.local.planner.schema import Schema, quote
from trellis_jupyter.local.planner.text import noun
from trellis_jupyter.local.planner_protocol import QueryError, RunQuery

__all__ = ["span_note"]


def span_note(schema: Schema, plan: Plan, rows: list[list[Cell]], run_query: RunQuery) -> str:
    """ " The orders' OrderDate runs from 2016-07-04 to 2018-05-06." when nothing was found and
    the asked period misses every date of the table; "" otherwise (one small query, then)."""
    if not plan.date or not (plan.start or plan.end) or not _nothing_found(plan, rows):
        return ""
    column = column_of(schema, plan.date)
    sql = f"SELECT MIN({column.sql}), MAX({column.sql}) FROM {quote(column.table)}"
    try:
        [[first, last]] = run_query(sql).rows
    except QueryError:
        return ""  # a note is not worth failing the answer (a slow table, say)
    if not (_iso(first) and _iso(last)):
        return ""  # no dates, or dates kept as numbers or as "07/04/2016": nothing plain to say
    first, last = str(first)[:10], str(last)[:10]
    if (plan.start and plan.start[:10] > last) or (plan.end and plan.end[:10] <= first):
        return f" The {noun(column.table)}' {column.name} runs from {first} to {last}."
    return ""


def _nothing_found(plan: Plan, rows: list[list[Cell]]) -> bool:
    if not rows:
        return True
    # One total and no grouping: a count of 0 or a sum of nothing (NULL).
    return not plan.groups and not plan.grain and len(rows) == 1 and rows[0][-1] in (0, None)


def _iso(value: Cell) -> bool:
    """A text that starts as an ISO date (2016-07-04), the only kind text order sorts by time."""
    return isinstance(value, str) and bool(_ISO_DATE.match(value))


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
