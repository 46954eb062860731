"""The bundled question planner: deterministic, offline, rule-based, reading each database's schema.

::

    planner = Planner()                       # or Planner(today=date(2025, 6, 1)) for a fixed clock
    reply = planner.answer("revenue by region last month", database=info, history=turns, run_query=run)
    reply.text, reply.visualizations, reply.state

How a question is answered (one module each):

* ``schema``   — tables, columns, keys, short text values and measures, cached per file;
* ``lexicon``  — the small word lists (money, quantities, aggregates, grains, charts, fillers);
* ``dates``    — "last month", "in 2025", "since March", "between X and Y", "the last 30 days";
* ``parse`` / ``match`` / ``numbers`` — which plan pieces a question names (from its words, then
  from the data: values, columns, tables; comparisons with numbers and units), and which words
  it leaves unexplained;
* ``build`` / ``followup`` — a new :class:`~.plan.Plan`, or the previous plan changed;
* ``plan``     — the plan as JSON-able state, and its SQL (joins along foreign keys);
* ``text`` / ``charts`` / ``describe`` — the answer's words, its chart, schema answers and help.

A question that cannot be read fully is declined with a helpful message; it is never answered
with a guess. Two checks make that so: every word must be understood, a filler word, or a number
some plan piece took (``parse``), and every piece the parser read (limit, order, aggregate, filter,
date range, table, grouping, self-reference) must be in the plan that is run
(``build.check_honoured``); a plan that would drop one is declined, naming it.

:class:`Planner` holds no per-chat state (the plan travels in ``PastTurn.state``), so one instance
serves all worker threads.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from typing import Any

from trellis_jupyter.events import Chart, Table, new_visualization_id
from trellis_jupyter.local.planner.build import Unanswerable, build_plan
from trellis_jupyter.local.planner.charts import chart_type_for, make_chart
from trellis_jupyter.local.planner.describe import describe_answer, help_text, schema_request, tables_answer
from trellis_jupyter.local.planner.followup import is_followup, merge
from trellis_jupyter.local.planner.parse import Parsed, parse
from trellis_jupyter.local.planner.plan import Plan, to_sql
from trellis_jupyter.local.planner.schema import Schema, load_schema
from trellis_jupyter.local.planner.span import span_note
from trellis_jupyter.local.planner.text import result_text, title
from trellis_jupyter.local.planner_protocol import DatabaseInfo, PastTurn, PlannedAnswer, QueryError, RunQuery

__all__ = ["Planner"]

STATE_VERSION = 1
_SQL_START = re.compile(
    r"^\s*(?:select\b|with\s+(?:recursive\s+)?[A-Za-z_\"][\w\"]*\s*(?:\([^)]*\)\s*)?as\s*\()", re.I | re.S
)


def looks_like_sql(text: str) -> bool:
    """A SELECT or WITH query, as opposed to a question that happens to start with "select"."""
    if not _SQL_START.match(text):
        return False
    return bool(
        re.search(r"\bfrom\b|^\s*select\s+[\d'(*]|\bas\s*\(", text, re.I)
    ) and not text.rstrip().endswith("?")


class Planner:
    """Turns questions into SQL over one database, runs it, and states the answer.

    ``today`` fixes the date that "last month" and "this year" are relative to: a date, a
    callable returning one, or None for the local date at each question.
    """

    def __init__(self, today: dt.date | Callable[[], dt.date] | None = None) -> None:
        self._today = today

    def today(self) -> dt.date:
        if self._today is None:
            return dt.date.today()
        if isinstance(self._today, dt.date):
            return self._today
        return self._today()

    def answer(
        self, question: str, *, database: DatabaseInfo, history: Sequence[PastTurn], run_query: RunQuery
    ) -> PlannedAnswer:
        text = question.strip()
        schema = load_schema(database.path, database.attached)
        if looks_like_sql(text):
            try:
                return self._passthrough(text.rstrip().rstrip(";"), run_query)
            except QueryError as exc:
                # "select customers from the west" reads as SQL but is a question: answer it if we can.
                if exc.code != "QUERY_FAILED":
                    raise
                try:
                    plan = build_plan(schema, parse(text, schema, self.today()))
                except Unanswerable:
                    raise exc from None
                return self.run_plan(schema, plan, run_query, question=text)
        request = schema_request(text, schema)
        if request is not None:
            return self._schema_answer(schema, request)
        previous = _previous_plan(history, schema)
        parsed: Parsed | None = None
        try:
            parsed = parse(text, schema, self.today())
            plan = (
                merge(schema, previous, parsed)
                if previous and is_followup(parsed, previous, schema)
                else build_plan(schema, parsed)
            )
        except Unanswerable as exc:
            state: dict[str, Any] = {"version": STATE_VERSION, "kind": "unanswerable", "question": text}
            if previous is not None:
                state["plan"] = previous.to_state()  # a later follow-up continues from the last good plan
            return PlannedAnswer(text=help_text(str(exc), parsed, schema), state=state)
        return self.run_plan(schema, plan, run_query, question=text)

    def run_plan(
        self, schema: Schema, plan: Plan, run_query: RunQuery, *, question: str = ""
    ) -> PlannedAnswer:
        """Run a plan's SQL and phrase the result (also used by tests and benchmarks)."""
        sql = to_sql(schema, plan)
        result = run_query(sql)
        heading = title(schema, plan)
        table = Table(
            id=new_visualization_id(),
            headers=list(result.headers),
            rows=result.rows,
            title=heading,
            sql=result.sql,
            row_count=result.row_count,
            truncated=result.truncated,
        )
        visualizations: list[Table | Chart] = [table]
        chart_type = chart_type_for(plan, result.row_count)
        if chart_type is not None and not result.truncated:
            chart = make_chart(new_visualization_id(), chart_type, heading, result.headers, result.rows)
            if chart is not None:
                visualizations.append(chart)
        words = result_text(schema, plan, result.headers, result.rows, result.row_count, result.truncated)
        words += span_note(schema, plan, result.rows, run_query)
        if plan.chart and chart_type is None:
            words += " (A chart needs a grouping or a time series; ask for example for the same by month.)"
        state = {"version": STATE_VERSION, "kind": "plan", "question": question, "plan": plan.to_state()}
        return PlannedAnswer(text=words, visualizations=visualizations, state=state)

    def _passthrough(self, sql: str, run_query: RunQuery) -> PlannedAnswer:
        result = run_query(sql)
        table = Table(
            id=new_visualization_id(),
            headers=list(result.headers),
            rows=result.rows,
            title="Query result",
            sql=result.sql,
            row_count=result.row_count,
            truncated=result.truncated,
        )
        noun = "row" if result.row_count == 1 else "rows"
        text = f"The query returned {result.row_count:,} {noun}."
        if result.truncated:
            text += f" Showing the first {len(result.rows):,}."
        if result.row_count == 1 and len(result.headers) == 1:
            text = f"The query returned **{result.rows[0][0]}** ({result.headers[0]})."
        return PlannedAnswer(
            text=text, visualizations=[table], state={"version": STATE_VERSION, "kind": "sql", "sql": sql}
        )

    def _schema_answer(self, schema: Schema, request: tuple[str, str | None]) -> PlannedAnswer:
        kind, name = request
        if kind == "describe" and name is not None:
            text, table = describe_answer(schema, name, new_visualization_id())
        else:
            text, table = tables_answer(schema, new_visualization_id())
        return PlannedAnswer(
            text=text,
            visualizations=[table],
            state={"version": STATE_VERSION, "kind": "schema", "table": name},
        )


def _previous_plan(history: Sequence[PastTurn], schema: Schema) -> Plan | None:
    """The plan of the latest earlier answer that had one, if it still fits this schema."""
    for turn in reversed(history):
        state = turn.state
        if not state or not isinstance(state.get("plan"), dict):
            continue
        try:
            plan = Plan.from_state(dict(state["plan"]))
        except (TypeError, ValueError, KeyError):
            return None
        refs = [
            plan.table,
            *(g.split(".")[0] for g in plan.groups),
            *(f.column.split(".")[0] for f in plan.filters),
        ]
        if all(ref in schema.tables for ref in refs) and (
            plan.measure is None or schema.measure(plan.measure)
        ):
            return plan
        return None
    return None
