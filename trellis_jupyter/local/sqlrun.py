"""Run one SQL query read-only, within a time limit, keeping at most a capped number of rows.

Three locks keep the database unchanged whatever SQL a question (or a passthrough message)
carries: the file is opened with ``mode=ro``, ``PRAGMA query_only`` is on, and an authorizer
refuses every action but reading (no INSERT/UPDATE/DELETE/DDL, no ATTACH, no PRAGMA other than a
few that only describe the schema). A progress handler stops a query that runs past its time
limit (``QUERY_TIMEOUT``) or whose turn was interrupted.
"""

from __future__ import annotations

import math
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from trellis_jupyter.events import Cell

from .planner_protocol import QueryError, QueryResult

__all__ = ["QueryRunner"]

# Schema-describing pragmas that cannot write, in their function form (``PRAGMA table_info(t)``).
_READ_PRAGMAS = frozenset(
    {"table_info", "table_xinfo", "index_list", "index_info", "index_xinfo", "foreign_key_list", "table_list"}
)
_ALLOWED = frozenset(
    {
        sqlite3.SQLITE_SELECT,
        sqlite3.SQLITE_READ,
        sqlite3.SQLITE_FUNCTION,
        getattr(sqlite3, "SQLITE_RECURSIVE", 33),
    }
)
_PROGRESS_STEPS = 2000  # SQLite VM instructions between two checks of the clock


def _authorizer(action: int, arg1: str | None, arg2: str | None, db: str | None, source: str | None) -> int:
    if action in _ALLOWED:
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_PRAGMA and (arg1 or "").lower() in _READ_PRAGMAS:
        return sqlite3.SQLITE_OK
    return sqlite3.SQLITE_DENY


def _cell(value: Any) -> Cell:
    # JSON has no NaN/Infinity and no bytes: such cells become null / a short description.
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"<{len(bytes(value))} bytes>"
    return value  # type: ignore[no-any-return]


class QueryRunner:
    """Runs queries against one SQLite file, read-only; safe to call from several threads."""

    def __init__(self, path: str, *, timeout: float = 10.0, row_cap: int = 1000) -> None:
        self.path = os.path.abspath(path)
        self.timeout = timeout
        self.row_cap = row_cap

    def _connect(self, attach: str | None = None) -> sqlite3.Connection:
        if not Path(self.path).is_file():
            raise QueryError(f"The database file {self.path} does not exist.", "QUERY_FAILED")
        uri = f"file:{quote(self.path)}?mode=ro"
        connection = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None)
        if attach is not None:
            # The chat's uploads, read-only too; attached before the authorizer, which refuses ATTACH.
            # Plain table names then resolve in the main database first, then in "uploads".
            attached = f"file:{quote(os.path.abspath(attach))}?mode=ro"
            connection.execute("ATTACH DATABASE ? AS uploads", (attached,))
        connection.execute("PRAGMA query_only = ON")
        connection.set_authorizer(_authorizer)
        return connection

    def run(
        self,
        sql: str,
        *,
        cancelled: threading.Event | None = None,
        params: dict[str, str] | None = None,
        attach: str | None = None,
    ) -> QueryResult:
        """Run ``sql``; :class:`QueryError` with code QUERY_FAILED or QUERY_TIMEOUT on failure.

        ``params`` are bound to the SQL's ``:name`` parameters; ``attach`` is a chat's upload
        database, readable as schema ``uploads`` (and by plain table names).
        """
        sql = sql.strip()
        if not sql:
            raise QueryError("The query is empty.", "QUERY_FAILED")
        deadline = time.monotonic() + self.timeout
        state = {"timed_out": False}

        def progress() -> int:
            if cancelled is not None and cancelled.is_set():
                return 1
            if time.monotonic() > deadline:
                state["timed_out"] = True
                return 1
            return 0

        connection = self._connect(attach)
        try:
            connection.set_progress_handler(progress, _PROGRESS_STEPS)
            cursor = connection.execute(sql, params or {})
            headers = [str(d[0]) for d in cursor.description or ()]
            rows = [[_cell(v) for v in row] for row in cursor.fetchmany(self.row_cap)]
            row_count = len(rows)
            if row_count == self.row_cap:
                # Count the rest without keeping it, still under the time limit.
                for _ in cursor:
                    row_count += 1
            return QueryResult(
                sql=sql, headers=headers, rows=rows, row_count=row_count, truncated=row_count > len(rows)
            )
        except sqlite3.Error as exc:
            raise self._query_error(exc, state["timed_out"]) from None
        finally:
            connection.close()

    def _query_error(self, exc: sqlite3.Error, timed_out: bool) -> QueryError:
        text = str(exc)
        if timed_out:
            return QueryError(
                f"The query ran longer than the {self.timeout:g} s limit and was stopped; "
                "ask for less data or a simpler question.",
                "QUERY_TIMEOUT",
            )
        if "interrupted" in text:
            return QueryError("The query was stopped because the answer was interrupted.", "QUERY_FAILED")
        if any(word in text for word in ("not authorized", "authorization denied", "readonly", "read-only")):
            return QueryError(
                "The query was refused: only reading queries (SELECT or WITH) run here; they cannot "
                "change, attach or configure the database.",
                "QUERY_FAILED",
            )
        return QueryError(f"The query failed: {text.rstrip('.')}.", "QUERY_FAILED")


def runner_for(path: str, **kwargs: Any) -> Callable[[str], QueryResult]:
    """A ``run_query`` callable over one database (what a planner is given)."""
    return QueryRunner(path, **kwargs).run
