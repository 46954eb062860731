"""Run one SQL query read-only, within a time limit, keeping at most a capped number of rows.

Three locks keep the database unchanged whatever SQL a question (or a passthrough message)
carries: the file is opened with ``mode=ro``, ``PRAGMA query_only`` is on, and an authorizer
refuses every action but reading (no INSERT/UPDATE/DELETE/DDL, no ATTACH, no PRAGMA other than a
few that only describe the schema). A progress handler stops a query that runs past its time
limit (``QUERY_TIMEOUT``) or whose turn was interrupted.

Functions are allowed by name from :data:`ALLOWED_FUNCTIONS`, a list of functions that only read
and compute: anything else (``fts3_tokenizer``, ``load_extension``, ``readfile``, an application
function...) is refused, whatever the build of SQLite provides.

What a query may return is bounded, so that the server's memory is too: SQLite refuses to build
a value longer than ``max_value_bytes`` (``QUERY_TOO_LARGE``), a cell longer than
``max_cell_chars`` is cut, and rows stop being kept once the table holds about ``max_table_bytes``
of cells or ``row_cap`` rows; the rest is counted, not kept, and the result is ``truncated``.
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

# Every function a reading query may call: SQLite's core scalar, aggregate, window, date, math and
# JSON functions. An allowlist, so that a function this list has never heard of (fts3_tokenizer,
# which hands out native pointers and registers tokenizers; load_extension; readfile/writefile of
# the CLI; anything a future SQLite adds) is refused rather than trusted.
ALLOWED_FUNCTIONS = frozenset(
    {
        "abs",
        "avg",
        "changes",
        "char",
        "coalesce",
        "concat",
        "concat_ws",
        "count",
        "cume_dist",
        "date",
        "datetime",
        "dense_rank",
        "first_value",
        "format",
        "glob",
        "group_concat",
        "hex",
        "ifnull",
        "iif",
        "instr",
        "json",
        "json_array",
        "json_array_length",
        "json_each",
        "json_extract",
        "json_group_array",
        "json_group_object",
        "json_insert",
        "json_object",
        "json_patch",
        "json_quote",
        "json_remove",
        "json_replace",
        "json_set",
        "json_tree",
        "json_type",
        "json_valid",
        "julianday",
        "lag",
        "last_insert_rowid",
        "last_value",
        "lead",
        "length",
        "like",
        "likelihood",
        "likely",
        "lower",
        "ltrim",
        "max",
        "min",
        "nth_value",
        "ntile",
        "nullif",
        "octet_length",
        "percent_rank",
        "printf",
        "quote",
        "random",
        "randomblob",
        "rank",
        "replace",
        "round",
        "row_number",
        "rtrim",
        "sign",
        "soundex",
        "sqlite_version",
        "string_agg",
        "strftime",
        "substr",
        "substring",
        "sum",
        "time",
        "timediff",
        "total",
        "trim",
        "typeof",
        "unhex",
        "unicode",
        "unixepoch",
        "unlikely",
        "upper",
        "zeroblob",
        "acos",
        "acosh",
        "asin",
        "asinh",
        "atan",
        "atan2",
        "atanh",
        "ceil",
        "ceiling",
        "cos",
        "cosh",
        "degrees",
        "exp",
        "floor",
        "ln",
        "log",
        "log10",
        "log2",
        "mod",
        "pi",
        "pow",
        "power",
        "radians",
        "sin",
        "sinh",
        "sqrt",
        "tan",
        "tanh",
        "trunc",
    }
)


_refused_function = threading.local()  # the last function the authorizer refused, per thread


def _authorizer(action: int, arg1: str | None, arg2: str | None, db: str | None, source: str | None) -> int:
    if action == sqlite3.SQLITE_FUNCTION:
        # arg2 is the function's name (arg1 is unused for functions).
        if (arg2 or "").lower() in ALLOWED_FUNCTIONS:
            return sqlite3.SQLITE_OK
        _refused_function.name = arg2
        return sqlite3.SQLITE_DENY
    if action in _ALLOWED:
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_PRAGMA and (arg1 or "").lower() in _READ_PRAGMAS:
        return sqlite3.SQLITE_OK
    return sqlite3.SQLITE_DENY


def _cell(value: Any, max_chars: int) -> tuple[Cell, bool]:
    """A JSON-able cell, and whether it was cut to ``max_chars``."""
    # JSON has no NaN/Infinity and no bytes: such cells become null / a short description.
    if isinstance(value, float) and not math.isfinite(value):
        return None, False
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"<{len(bytes(value))} bytes>", False
    if isinstance(value, str) and len(value) > max_chars:
        return value[: max(0, max_chars - 1)] + "\u2026", True
    return value, False


def _size(cell: Cell) -> int:
    """About the bytes a cell takes in JSON (its text and a separator)."""
    return (len(cell) if isinstance(cell, str) else 8) + 3


class QueryRunner:
    """Runs queries against one SQLite file, read-only; safe to call from several threads."""

    def __init__(
        self,
        path: str,
        *,
        timeout: float = 10.0,
        row_cap: int = 1000,
        max_cell_chars: int = 10_000,
        max_table_bytes: int = 2_000_000,
        max_value_bytes: int = 1_000_000,
    ) -> None:
        self.path = os.path.abspath(path)
        self.timeout = timeout
        self.row_cap = row_cap
        self.max_cell_chars = max_cell_chars
        self.max_table_bytes = max_table_bytes
        self.max_value_bytes = max_value_bytes

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
        # SQLite itself refuses to build a longer string or blob (printf('%.*c', 1e8, 'x')), so
        # a query cannot make the server allocate more than this per value; nor take a huge SQL text.
        # (Connection.setlimit is Python 3.11+: on 3.10 only the cell and table caps apply.)
        setlimit: Any = getattr(connection, "setlimit", None)
        if setlimit is not None:
            setlimit(getattr(sqlite3, "SQLITE_LIMIT_LENGTH", 0), self.max_value_bytes)
            setlimit(getattr(sqlite3, "SQLITE_LIMIT_SQL_LENGTH", 1), 100_000)
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
        if cancelled is not None and cancelled.is_set():
            raise QueryError("The query was stopped because the answer was interrupted.", "QUERY_FAILED")
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
        _refused_function.name = None
        try:
            connection.set_progress_handler(progress, _PROGRESS_STEPS)
            cursor = connection.execute(sql, params or {})
            headers = [str(d[0]) for d in cursor.description or ()]
            rows: list[list[Cell]] = []
            # A cell never takes more than its share of the table, so that even one row fits.
            max_chars = max(1, min(self.max_cell_chars, self.max_table_bytes // max(1, len(headers))))
            size, full, cells_cut, row_count = 0, False, False, 0
            for row in cursor:
                row_count += 1
                if full or len(rows) >= self.row_cap:
                    continue  # counted, not kept (still under the time limit)
                cells = [_cell(v, max_chars) for v in row]
                row_size = sum(_size(c) for c, _ in cells)
                if rows and size + row_size > self.max_table_bytes:
                    full = True
                    continue
                size += row_size
                rows.append([c for c, _ in cells])
                cells_cut = cells_cut or any(was_cut for _, was_cut in cells)
            return QueryResult(
                sql=sql,
                headers=headers,
                rows=rows,
                row_count=row_count,
                truncated=cells_cut or row_count > len(rows),
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
        if "too big" in text:
            return QueryError(
                f"The query built a value larger than the {self.max_value_bytes:,}-byte limit and was "
                "stopped; ask for shorter values (e.g. substr(...)) or fewer columns.",
                "QUERY_TOO_LARGE",
            )
        if "interrupted" in text:
            return QueryError("The query was stopped because the answer was interrupted.", "QUERY_FAILED")
        refused = getattr(_refused_function, "name", None)
        if refused and ("not authorized" in text or "authorization denied" in text):
            return QueryError(
                f"The query was refused: the function {refused}() is not among the reading functions "
                "allowed here; use standard SQL functions.",
                "QUERY_FAILED",
            )
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
