"""The seam between the local server and its question planner.

The server owns I/O: auth, the chat store, streaming, and running SQL read-only with a time limit
and a row cap. A planner owns meaning: it turns a question (and the plans of earlier answers in the
same chat) into SQL, runs it through the ``run_query`` it is given, and returns the answer's text,
tables and charts. Any object with this ``answer`` method can be plugged in, a language-model
planner included.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from trellis_jupyter.events import Cell, Chart, Table

__all__ = ["DatabaseInfo", "PastTurn", "PlannedAnswer", "Planner", "QueryError", "QueryResult", "RunQuery"]


@dataclass(frozen=True)
class DatabaseInfo:
    """One SQLite database the server serves, as an integration."""

    name: str
    path: str
    integration_id: str
    # The chat's upload database (its CSV/XLSX tables), attached as ``uploads`` to every query of
    # that chat's turns: its tables read by their plain names, like the database's own.
    attached: str | None = None


@dataclass(frozen=True)
class QueryResult:
    """What a read-only query returned: at most the server's row cap of rows."""

    sql: str
    headers: list[str]
    rows: list[list[Cell]]
    row_count: int  # rows the query produced before the cap
    truncated: bool


class QueryError(Exception):
    """A query failed (``QUERY_FAILED``), ran too long (``QUERY_TIMEOUT``) or tried to write."""

    def __init__(self, message: str, code: str = "QUERY_FAILED") -> None:
        super().__init__(message)
        self.code = code


RunQuery = Callable[[str], QueryResult]


@dataclass(frozen=True)
class PastTurn:
    """An earlier turn of the same chat, oldest first: its question and the plan state kept."""

    question: str
    state: Mapping[str, Any] | None


@dataclass
class PlannedAnswer:
    """The planner's answer: markdown text, visualizations in order, and a JSON-able plan state.

    ``state`` is stored with the assistant message (so follow-ups survive a restart) and handed
    back in ``PastTurn.state`` for later questions of the chat.
    """

    text: str
    visualizations: list[Table | Chart] = field(default_factory=list)
    state: dict[str, Any] | None = None


class Planner(Protocol):
    def answer(
        self,
        question: str,
        *,
        database: DatabaseInfo,
        history: Sequence[PastTurn],
        run_query: RunQuery,
    ) -> PlannedAnswer:
        """Answer one question. Raises ``QueryError`` (from ``run_query``) when the SQL fails."""
        ...
