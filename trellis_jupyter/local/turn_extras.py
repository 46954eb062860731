"""What a turn's ``upload_ids``, ``saved_query_id`` and ``parameters`` change.

* A saved query with SQL runs that SQL (placeholders bound as SQLite parameters) instead of the
  planner; its table is titled with the query's title. A prompt-only saved query asks its prompt.
* A question that attaches only PDFs or images, or names one, is declined: this server reads tables.
* "the uploaded table" in a question names the one table the upload made, so the planner reads it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from trellis_jupyter.events import Table, new_visualization_id

from .context import Principal, ServerContext
from .planner_protocol import PlannedAnswer, QueryResult
from .savedsql import PlaceholderError, bind_sql, parameters_of
from .store import UploadRow
from .wire import ApiError

__all__ = ["SavedRun", "attachment_notes", "decline_text", "saved_answer", "saved_run", "upload_question"]

_UPLOADED = re.compile(
    r"\b(?:the\s+)?(?:uploaded|attached)\s+(?:table|file|data\s*set|dataset|data|csv|spreadsheet|sheet)\b",
    re.I,
)
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


@dataclass(frozen=True)
class SavedRun:
    """A saved query to run in a turn, with its parameter values (strings)."""

    query_id: str
    title: str
    prompt: str
    sql: str | None
    parameters: Mapping[str, str]


def saved_run(ctx: ServerContext, principal: Principal, query_id: Any, parameters: Any) -> SavedRun | None:
    """The checked saved-query run of a send; 400/404 when the query or a value is missing."""
    if query_id is None:
        if parameters is not None:
            raise ApiError(400, "'parameters' go with a 'saved_query_id'.", "INVALID_REQUEST")
        return None
    if not isinstance(query_id, str):
        raise ApiError(400, "'saved_query_id' must be a string.", "INVALID_REQUEST")
    query = ctx.store.saved_query(principal.organization_id, query_id)
    if query is None:
        raise ApiError(
            404, "Saved query not found: list the valid ids with GET /v1/queries.", "QUERY_NOT_FOUND"
        )
    values = parameters if parameters is not None else {}
    if not isinstance(values, dict) or not all(
        isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in values.values()
    ):
        raise ApiError(400, "'parameters' must be an object of name -> string value.", "INVALID_REQUEST")
    sql = query.get("sql")
    needed = parameters_of(sql) if sql else parameters_of(query.get("prompt"))
    missing = [name for name in needed if name not in values]
    if missing:
        names = ", ".join(missing)
        raise ApiError(
            400,
            f"The saved query '{query.get('title')}' needs a value for {names}: pass parameters={{"
            + ", ".join(f'"{n}": ...' for n in missing)
            + "}.",
            "INVALID_REQUEST",
        )
    strings = {str(k): str(v) for k, v in values.items() if k in needed}
    bound = None
    if sql:
        try:
            bound = bind_sql(sql)
        except PlaceholderError as exc:
            raise ApiError(400, str(exc), "INVALID_REQUEST") from None
    # A prompt is natural language for the planner: its placeholders are filled in as text.
    prompt = _PLACEHOLDER.sub(lambda m: strings.get(m.group(1), m.group(0)), str(query.get("prompt") or ""))
    return SavedRun(query_id, str(query.get("title") or "Saved query"), prompt, bound, strings)


def saved_answer(
    run: SavedRun, run_query: Callable[[str, dict[str, str] | None], QueryResult]
) -> PlannedAnswer:
    """Run a saved query's SQL and state its result."""
    assert run.sql is not None
    result = run_query(run.sql, dict(run.parameters))
    table = Table(
        id=new_visualization_id(),
        headers=list(result.headers),
        rows=result.rows,
        title=run.title,
        sql=result.sql,
        row_count=result.row_count,
        truncated=result.truncated,
    )
    noun = "row" if result.row_count == 1 else "rows"
    text = f"The saved query **{run.title}** returned {result.row_count:,} {noun}"
    if run.parameters:
        text += " (" + ", ".join(f"{k} = {v}" for k, v in run.parameters.items()) + ")"
    text += "."
    if result.truncated:
        text += f" Showing the first {len(result.rows):,}."
    state = {
        "version": 1,
        "kind": "saved_query",
        "query_id": run.query_id,
        "parameters": dict(run.parameters),
    }
    return PlannedAnswer(text=text, visualizations=[table], state=state)


def attachment_notes(uploads: Sequence[UploadRow], saved: SavedRun | None) -> dict[str, Any]:
    """What the user message's metadata records of its attachments and saved query."""
    notes: dict[str, Any] = {}
    if uploads:
        notes["attachments"] = [
            {
                "id": u.id,
                "filename": u.filename,
                "mime_type": u.mime_type,
                "upload_type": u.upload_type,
                "tables": u.tables,
            }
            for u in uploads
        ]
    if saved is not None:
        notes["saved_query_id"] = saved.query_id
        notes["parameters"] = dict(saved.parameters)
    return notes


def decline_text(
    question: str, attached: Sequence[UploadRow], chat_uploads: Sequence[UploadRow]
) -> str | None:
    """A polite decline when the question is about files this server cannot read (PDF, images)."""
    unreadable = [u for u in attached if u.upload_type != "table"]
    lowered = question.lower()
    named = [u for u in chat_uploads if u.upload_type != "table" and u.filename.lower() in lowered]
    if (attached and len(unreadable) == len(attached)) or named:
        files = ", ".join(f"**{u.filename}**" for u in (unreadable or named))
        return (
            f"I can't read {files} here: this server answers from tables (the database, and CSV or XLSX "
            "uploads), not from the text of PDFs or images. The file is kept with this chat. To ask about "
            "its data, upload it as a CSV or XLSX file."
        )
    return None


def upload_question(
    question: str, attached: Sequence[UploadRow], chat_uploads: Sequence[UploadRow]
) -> str | None:
    """The question with "the uploaded table" replaced by the one table it can mean, if only one."""
    if not _UPLOADED.search(question):
        return None
    candidates = [t for u in attached for t in u.tables]
    if not candidates:
        tables = [u.tables for u in chat_uploads if u.tables]
        candidates = list(tables[-1]) if tables else []
    if len(candidates) != 1:
        return None
    return _UPLOADED.sub(candidates[0], question)
