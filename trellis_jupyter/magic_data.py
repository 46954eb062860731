"""The magic's data commands: ``--attach``, ``%trellis uploads``, saved queries, and the replay key.

Kept apart from :mod:`.magics` (which parses and shows) so each stays small; every function takes
the kernel's :class:`~.session.Session`.
"""

from __future__ import annotations

import argparse
import hashlib
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError

if TYPE_CHECKING:
    from .session import Session
    from .types import SavedQuery

__all__ = [
    "attachments",
    "print_queries",
    "print_uploads",
    "replay_command",
    "replay_key",
    "save_last",
    "save_sql",
    "saved_query_id",
]

Part = tuple[str, bytes, str]


def attachments(names: list[str], namespace: Mapping[str, Any]) -> list[Part]:
    """What ``--attach`` names: DataFrame variables (sent as NAME.csv) or files, read now."""
    if not names:
        return []
    from .uploads import upload_parts

    items: list[Any] = []
    for name in names:
        value = namespace.get(name)
        path = os.path.expanduser(name)
        if value is not None and type(value).__name__ == "DataFrame":
            items.append((name, value))
        elif os.path.isfile(path):
            items.append(path)
        else:
            raise UsageError(
                f"--attach {name}: no DataFrame variable or file has that name; "
                "give a DataFrame's variable name or a file path."
            )
    return upload_parts(items)


def replay_key(session: Session, question: str, args: argparse.Namespace, parts: list[Part]) -> str:
    """The replay cache key of a cell: server, integration, model, question, its place in the chat."""
    from .replay import answer_key, server_identity

    client = session.client  # made from the settings; sends nothing
    return answer_key(
        server=server_identity(client.base_url, session.local_server is not None),
        integration=session.integration_id(args.integration),
        model=args.model or session.settings.model or client.settings.model,
        question=question,
        before=[answer.question for answer in session.state.answers],
        query=args.query,
        parameters=args.parameters,
        attachments=[(name, hashlib.sha256(data).hexdigest()) for name, data, _ in parts],
    )


def saved_query_id(session: Session, ref: str) -> str:
    """The id of a saved query given by id or by title (case-insensitive)."""
    queries = session.client.queries.list()
    for query in queries:
        if query.id == ref:
            return query.id
    matches = [q for q in queries if q.title.casefold() == ref.strip().casefold()]
    if len(matches) == 1:
        return matches[0].id
    if matches:
        raise UsageError(f"Several saved queries are titled {ref!r}: give its id (see %trellis queries).")
    raise UsageError(f"No saved query has the id or title {ref!r}: %trellis queries lists them.")


def _saved(query: SavedQuery) -> None:
    title = f'"{query.title}"' if " " in query.title else query.title
    params = "".join(f" -p {name}=..." for name in query.parameters)
    print(f"Saved query {query.title!r} ({query.id}).")
    print(f"Run it with: %%trellis --query {title}{params}")


def save_last(session: Session, title: str) -> None:
    """``%trellis save TITLE``: the last answer's SQL as a saved query."""
    last = session.last_answer
    sql = next((t.sql for t in last.tables if t.sql), None) if last is not None else None
    if last is None or not sql:
        raise UsageError(
            "The last answer has no SQL to save: ask a question that gives a table first, or write "
            "the SQL in a '%%trellis save TITLE' cell."
        )
    _saved(session.client.queries.create(title=title, prompt=last.question or title, sql=sql))


def save_sql(session: Session, title: str, body: str) -> None:
    """``%%trellis save TITLE`` with SQL in the body (its ``{{name}}`` are the query's placeholders)."""
    title, sql = title.strip(), body.strip()
    if not title or not sql:
        raise UsageError("Write %%trellis save TITLE, with the query's SQL in the cell body.")
    _saved(session.client.queries.create(title=title, prompt=title, sql=sql))


def print_queries(session: Session) -> None:
    queries = session.client.queries.list()
    if not queries:
        print("No saved queries: save one with %trellis save TITLE or a %%trellis save TITLE cell.")
        return
    for query in queries:
        params = f"  ({', '.join(query.parameters)})" if query.parameters else ""
        print(f"{query.id}  {query.title}{params}")


def print_uploads(session: Session) -> None:
    uploads = session.conversation.uploads()
    if not uploads:
        print("No uploads in this chat: attach files with %%trellis --attach NAME.")
        return
    for upload in uploads:
        tables = f"  -> {', '.join(upload.tables)}" if upload.tables else ""
        size = f"{(upload.file_size or 0) / 1024:,.1f} KB"
        print(f"{upload.id}  {upload.filename}  ({upload.upload_type or upload.mime_type}, {size}){tables}")


def replay_command(session: Session, action: str) -> None:
    """``%trellis replay [status|clear]``."""
    cache = session.answer_cache()
    if action == "clear":
        count = cache.clear()
        print(f"Replay cache emptied ({count} answer{'' if count == 1 else 's'} forgotten).")
        return
    count, size = cache.stats()
    state = "on" if session.settings.replay else "off (%config Trellis.replay = True, or --replay)"
    noun = "answer" if count == 1 else "answers"
    print(f"Replay: {state}. {count} {noun} kept ({size / 1024:,.0f} KB) in {cache.path}")
