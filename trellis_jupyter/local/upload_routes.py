"""The uploads routes: POST /v1/chats/uploads, GET /v1/chats/{id}/uploads, DELETE /v1/chats/uploads/{id}.

An upload request is checked whole before anything is written (at most 5 files, 30 MB each, of an
accepted type, each readable): either every file is stored or none. CSV and XLSX files become
tables of the chat's upload database (see :mod:`.uploads`); other files are kept as bytes.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .context import Principal, ServerContext
from .store import MessageRow, UploadRow, new_id, utc_now
from .uploads import (
    KINDS,
    MAX_FILE_BYTES,
    MAX_FILES,
    ParsedTable,
    check_file,
    read_tables,
    unique_name,
    write_table,
)
from .wire import ApiError

__all__ = ["delete_upload", "history_message", "list_uploads", "upload"]

_SLACK = 1024 * 1024  # multipart framing and the chat_id field


def _ctx(request: Request) -> ServerContext:
    ctx: ServerContext = request.app.state.ctx
    return ctx


def _principal(request: Request) -> Principal:
    return _ctx(request).principal_from_header(request.headers.get("authorization"))


def _served_tables(ctx: ServerContext) -> set[str]:
    names: set[str] = set()
    for db in ctx.databases:
        try:
            con = sqlite3.connect(f"file:{db.path}?mode=ro", uri=True)
            try:
                names.update(str(r[0]) for r in con.execute("SELECT name FROM sqlite_master"))
            finally:
                con.close()
        except sqlite3.Error:
            continue
    return names


def _store_tables(
    ctx: ServerContext, chat_id: str, batch: Sequence[tuple[int, list[ParsedTable]]]
) -> dict[int, list[str]]:
    """Write the tables of a batch to the chat's upload database, in one transaction; their names."""
    path = os.path.join(ctx.upload_dir, f"{chat_id}.sqlite")
    taken = _served_tables(ctx)
    with ctx.upload_lock:
        fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
        os.close(fd)
        con = sqlite3.connect(path, isolation_level=None)
        try:
            taken.update(str(r[0]) for r in con.execute("SELECT name FROM sqlite_master"))
            con.execute("BEGIN IMMEDIATE")
            named: dict[int, list[str]] = {}
            try:
                for index, tables in batch:
                    for table in tables:
                        name = unique_name(table.base, taken)
                        taken.add(name)
                        write_table(con, name, table)
                        named.setdefault(index, []).append(name)
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")
        finally:
            con.close()
    return named


def _drop_tables(ctx: ServerContext, chat_id: str, tables: Sequence[str]) -> None:
    path = ctx.upload_db(chat_id)
    if path is None or not tables:
        return
    with ctx.upload_lock:
        con = sqlite3.connect(path, isolation_level=None)
        try:
            for name in tables:
                con.execute(f'DROP TABLE IF EXISTS "{name.replace(chr(34), chr(34) * 2)}"')
        finally:
            con.close()


async def _files(request: Request) -> tuple[str, list[UploadFile]]:
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > MAX_FILES * MAX_FILE_BYTES + _SLACK:
        raise ApiError(
            400,
            f"The upload is {int(length) / 2**20:.0f} MB: at most {MAX_FILES} files of 30 MB each a request.",
            "INVALID_REQUEST",
        )
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise ApiError(
            400,
            "Send the files as multipart/form-data, each in a 'files' part, with a 'chat_id'.",
            "INVALID_REQUEST",
        )
    form = await request.form(max_files=50, max_fields=20)
    chat_id = form.get("chat_id")
    if not isinstance(chat_id, str) or not chat_id.strip():
        raise ApiError(
            400, "The upload needs the 'chat_id' of the chat the files are for.", "MISSING_CHAT_ID"
        )
    files = [f for f in form.getlist("files") if isinstance(f, UploadFile)]
    if not files:
        raise ApiError(400, "The upload has no 'files' part: attach at least one file.", "INVALID_REQUEST")
    if len(files) > MAX_FILES:
        raise ApiError(
            400, f"{len(files)} files in one request: at most {MAX_FILES} files a request.", "INVALID_REQUEST"
        )
    return chat_id.strip(), files


async def upload(request: Request) -> Response:
    principal = _principal(request)
    ctx = _ctx(request)
    chat_id, files = await _files(request)
    chat = ctx.store.get_chat(principal.member_id, chat_id)
    if chat is None:
        raise ApiError(404, "Chat not found: it does not exist or is not yours.", "CHAT_NOT_FOUND")
    checked: list[tuple[str, str, bytes]] = []
    for part in files:
        data = await part.read(MAX_FILE_BYTES + 1)
        filename = os.path.basename((part.filename or "upload").replace("\\", "/")) or "upload"
        checked.append((filename, check_file(filename, part.content_type, data), data))
    batch: list[tuple[int, list[ParsedTable]]] = []
    for index, (filename, mime, data) in enumerate(checked):
        if KINDS[mime][0] == "table":
            batch.append((index, await run_in_threadpool(read_tables, filename, mime, data)))
    named = await run_in_threadpool(_store_tables, ctx, chat.id, batch) if batch else {}
    rows: list[UploadRow] = []
    now = utc_now()
    for index, (filename, mime, data) in enumerate(checked):
        upload_id = new_id("upl")
        if KINDS[mime][0] != "table":
            path = os.path.join(ctx.upload_dir, "files", upload_id)
            fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(data)
        rows.append(
            UploadRow(
                upload_id, chat.id, filename, mime, len(data), KINDS[mime][0], named.get(index, []), None, now
            )
        )
    ctx.store.add_uploads(rows)
    return JSONResponse({"chat_id": chat.id, "uploads": [r.to_json() for r in rows]})


async def list_uploads(request: Request) -> Response:
    principal = _principal(request)
    ctx = _ctx(request)
    chat = ctx.store.get_chat(principal.member_id, request.path_params["chat_id"])
    if chat is None:
        raise ApiError(404, "Chat not found: it does not exist or is not yours.", "CHAT_NOT_FOUND")
    return JSONResponse({"chat_id": chat.id, "uploads": [r.to_json() for r in ctx.store.uploads(chat.id)]})


async def delete_upload(request: Request) -> Response:
    principal = _principal(request)
    ctx = _ctx(request)
    row = ctx.store.find_upload(principal.member_id, request.path_params["upload_id"])
    if row is None:
        raise ApiError(404, "Upload not found: it does not exist or is not yours.", "UPLOAD_NOT_FOUND")
    await run_in_threadpool(_drop_tables, ctx, row.chat_id, row.tables)
    try:
        os.unlink(os.path.join(ctx.upload_dir, "files", row.id))
    except FileNotFoundError:
        pass
    ctx.store.delete_upload(row.id)
    return JSONResponse({"message": "Upload deleted successfully"})


def upload_info(ctx: ServerContext, chat_id: str, upload_ids: Any) -> list[UploadRow]:
    """The uploads a turn attaches (``upload_ids`` of a send); 400/404 when not the chat's."""
    if upload_ids is None:
        return []
    if not isinstance(upload_ids, list) or not all(isinstance(u, str) for u in upload_ids):
        raise ApiError(400, "'upload_ids' must be a list of upload id strings.", "INVALID_REQUEST")
    known = {row.id: row for row in ctx.store.uploads(chat_id)}
    missing = [u for u in upload_ids if u not in known]
    if missing:
        raise ApiError(
            404,
            f"Upload {missing[0]} is not in this chat: upload the file to this chat first.",
            "UPLOAD_NOT_FOUND",
        )
    return [known[u] for u in dict.fromkeys(upload_ids)]


def history_message(message: MessageRow, uploads: Mapping[str, UploadRow]) -> dict[str, Any]:
    """A message as Get Chat shows it: a question sent with ``upload_ids`` lists them in
    ``metadata.uploads`` (the documented shape), from the ``attachments`` note kept at send time.

    Each upload is the object the uploads routes answer with, plus ``storage_path``: an opaque
    key, never a path of this machine. ``presigned_url`` is null, as there: the files stay here.
    An upload deleted since is left out (its file is gone, as from ``GET .../uploads``).
    """
    data = message.to_json()
    notes = message.metadata.get("attachments")
    if message.role != "user" or not isinstance(notes, list):
        return data
    ids = [note.get("id") for note in notes if isinstance(note, dict)]
    metadata = {k: v for k, v in message.metadata.items() if k != "attachments"}
    kept = [uploads[i] for i in ids if isinstance(i, str) and i in uploads]
    if kept:
        metadata["uploads"] = [{**row.to_json(), "storage_path": f"chat_uploads/{row.id}"} for row in kept]
    data["metadata"] = metadata
    return data
