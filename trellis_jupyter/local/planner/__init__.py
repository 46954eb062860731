"""The bundled rule-based question planner (a first cut: grows into the full planner).

Handles SQL passthrough (a SELECT or WITH query runs as given), "what tables are there" and
"how many <table>". Safe to call from worker threads.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import sqlite3
import string
from collections.abc import Sequence

from trellis_jupyter.events import Table
from trellis_jupyter.local.planning import DatabaseInfo, PlannedAnswer, RunQuery, Turn

__all__ = ["Planner"]

_ALPHABET = string.ascii_lowercase + string.digits


def new_id() -> str:
    """A fresh 10-character alphanumeric visualization id."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(10))


def _tables(path: str) -> list[str]:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = con.execute(
            "SELECT name FROM sqlite_master WHERE type IN ('table','view')"
            " AND name NOT LIKE 'sqlite_%' ORDER BY name"
        ).fetchall()
    finally:
        con.close()
    return [str(r[0]) for r in rows]


class Planner:
    """Turns a question into SQL over one database, runs it, and phrases the answer."""

    def __init__(self, today: dt.date | None = None) -> None:
        self._today = today

    def answer(
        self, question: str, *, database: DatabaseInfo, history: Sequence[Turn], run_query: RunQuery
    ) -> PlannedAnswer:
        text = question.strip().rstrip(";").strip()
        if re.match(r"(?is)^\s*(select|with)\b", text):
            result = run_query(text)
            table = Table(
                id=new_id(),
                headers=result.headers,
                rows=result.rows,
                title="Query result",
                sql=result.sql,
                row_count=result.row_count,
                truncated=result.truncated,
            )
            return PlannedAnswer(
                text=f"The query returned {result.row_count:,} rows.",
                visualizations=[table],
                state={"kind": "sql", "sql": text},
            )
        tables = _tables(database.path)
        lowered = text.lower()
        if re.search(r"\btables?\b", lowered) and re.search(r"\b(what|which|list|show)\b", lowered):
            return PlannedAnswer(
                text="This database has these tables: " + ", ".join(f"`{t}`" for t in tables) + ".",
                state={"kind": "tables"},
            )
        match = re.search(r"how many (\w+)", lowered)
        if match:
            word = match.group(1)
            for table_name in tables:
                if table_name.lower() in (word, word.rstrip("s"), word + "s"):
                    sql = f'SELECT COUNT(*) AS count FROM "{table_name}"'
                    result = run_query(sql)
                    count = result.rows[0][0] if result.rows else 0
                    table = Table(
                        id=new_id(),
                        headers=result.headers,
                        rows=result.rows,
                        title=f"Number of {table_name}",
                        sql=sql,
                        row_count=result.row_count,
                        truncated=result.truncated,
                    )
                    return PlannedAnswer(
                        text=f"There are {count:,} {table_name}.",
                        visualizations=[table],
                        state={"kind": "count", "table": table_name},
                    )
        return PlannedAnswer(
            text='I could not turn that into a query yet. Try "what tables are there" or "how many '
            + (tables[0] if tables else "rows")
            + '".',
            state={"kind": "unanswerable"},
        )
