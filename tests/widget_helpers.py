"""A scripted planner for the widget tests: the real local server, with answers we choose.

The planner seam (``trellis_jupyter.local.planner_protocol``) is the server's documented extension point;
plugging this one in keeps everything else real (HTTP, SSE, the chat store, SQLite queries), while
giving the tests long answers (for Stop and coalescing), tables and charts on demand, and hostile
content (for the sanitizing checks), whatever the default planner can do today.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from trellis_jupyter.events import Chart, Table
from trellis_jupyter.local.planner_protocol import DatabaseInfo, PastTurn, PlannedAnswer, RunQuery

EVIL_SCRIPT = "<script>window.__trellis_pwned = 'script'</script>"
EVIL_IMG = "<img src=x onerror=\"window.__trellis_pwned = 'img'\">"
EVIL_LINK = "javascript:window.__trellis_pwned='link'"
# HTML entities: decoded to text by markdown, shown literally in a cell, never turned into markup.
EVIL_ENTITY = "&lt;img src=x onerror=\"window.__trellis_pwned = 'entity'\"&gt;"
REGION_SQL = (
    "SELECT c.region AS region, COUNT(*) AS orders FROM orders o "
    "JOIN customers c ON c.id = o.customer_id GROUP BY c.region ORDER BY orders DESC"
)
LONG_WORDS = 400


def long_text(words: int = LONG_WORDS) -> str:
    """A long markdown answer: numbered words, a few paragraphs, some non-ASCII (UTF-16 positions)."""
    out = []
    for i in range(words):
        out.append(f"word{i}" + (" é😀" if i % 50 == 7 else ""))
        if i % 60 == 59:
            out.append("\n\n")
    return " ".join(out)


class ScriptedPlanner:
    """Answers by keyword: "long", "evil", "region" (a real query, a table and a bar chart)."""

    def answer(
        self,
        question: str,
        *,
        database: DatabaseInfo,
        history: Sequence[PastTurn],
        run_query: RunQuery,
    ) -> PlannedAnswer:
        q = question.lower()
        if "long" in q:
            return PlannedAnswer(text=long_text())
        if "evil" in q:
            return PlannedAnswer(
                text=(
                    f"Careful: {EVIL_SCRIPT} and {EVIL_IMG} and [a link]({EVIL_LINK}) and {EVIL_ENTITY} "
                    "are just text."
                ),
                visualizations=[
                    Table(
                        id="",
                        title=EVIL_SCRIPT,
                        headers=["name", EVIL_IMG],
                        rows=[[EVIL_SCRIPT, EVIL_IMG], [EVIL_LINK, 1], [EVIL_ENTITY, 2]],
                        sql=f"SELECT '{EVIL_SCRIPT}'",
                    ),
                    Chart(
                        id="",
                        chart_type="bar",
                        title=EVIL_SCRIPT,
                        values=[{"label": EVIL_IMG, "value": 3}, {"label": EVIL_LINK, "value": 5}],
                        x_axis_label=EVIL_SCRIPT,
                        y_axis_label="Count",
                    ),
                ],
            )
        if "region" in q:
            result = run_query(REGION_SQL)
            top = result.rows[0]
            return PlannedAnswer(
                text=f"**{top[0]}** leads with {top[1]:,} orders; {len(result.rows)} regions in all. " * 3,
                visualizations=[
                    Table(
                        id="",
                        title="Orders by region",
                        headers=result.headers,
                        rows=result.rows,
                        sql=result.sql,
                        row_count=result.row_count,
                        truncated=result.truncated,
                    ),
                    Chart(
                        id="",
                        chart_type="bar",
                        title="Orders by region",
                        values=[{"label": str(r[0]), "value": r[1]} for r in result.rows],
                        x_axis_label="Region",
                        y_axis_label="Orders",
                    ),
                ],
            )
        return PlannedAnswer(text=f"You asked: {question}")


def start_server(pace: float = 0.0, **settings: Any) -> Any:
    """The real local server with the scripted planner (the caller stops it)."""
    from trellis_jupyter.local import serve_in_background

    return serve_in_background(store=":memory:", pace=pace, planner=ScriptedPlanner(), **settings)
