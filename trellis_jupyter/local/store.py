"""The chat store: members, chats and messages in one SQLite file (or in memory).

A turn touches the store twice, each time in one transaction: :meth:`Store.begin_turn` writes the
user message (deleting the edited message and everything after it first, for an edit), and
:meth:`Store.finish_turn` writes the whole assistant message (content, visualizations and plan in
its metadata). A turn that is interrupted, fails or is killed in between leaves the user message
and no assistant message. The file runs in WAL mode, so a process killed at any point leaves a
consistent store that the next server opens as it is.

One connection serves every thread, behind a lock: each operation is a few indexed statements.
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import stat
import threading
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

__all__ = [
    "ChatRow",
    "MessageRow",
    "Store",
    "StoreError",
    "UploadRow",
    "default_store_path",
    "new_id",
    "private_folder",
    "utc_now",
]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS members (
    email TEXT PRIMARY KEY,
    member_id TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS chats (
    id TEXT PRIMARY KEY,
    member_id TEXT NOT NULL,
    organization_id TEXT NOT NULL,
    title TEXT NOT NULL,
    integration_id TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    activity INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS chats_by_member ON chats (member_id, activity);
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    chat_id TEXT NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    content TEXT NOT NULL,
    created_at TEXT NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS messages_by_chat ON messages (chat_id, seq);
CREATE TABLE IF NOT EXISTS uploads (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    chat_id TEXT NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    filename TEXT NOT NULL,
    mime_type TEXT NOT NULL,
    file_size INTEGER NOT NULL,
    upload_type TEXT NOT NULL,
    tables TEXT NOT NULL DEFAULT '[]',
    message_id TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS uploads_by_chat ON uploads (chat_id, seq);
CREATE TABLE IF NOT EXISTS saved_queries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    organization_id TEXT NOT NULL,
    body TEXT NOT NULL
);
"""


def default_store_path() -> str:
    """Where ``trellis-jupyter serve`` keeps chats by default: the user's cache directory."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = os.path.join(base, "trellis-jupyter")
    private_folder(folder)  # the store keeps the API key: owner only
    return os.path.join(folder, "chats.sqlite")


def private_folder(folder: str) -> None:
    """Create ``folder`` readable by its owner only (0700), or tighten it when it exists already.

    Whoever comes first (the store, or the demo database built before it) makes it 0700, so the
    order of first use does not matter.
    """
    os.makedirs(folder, mode=0o700, exist_ok=True)
    try:
        st = os.stat(folder)
        if stat.S_IMODE(st.st_mode) & 0o077 and st.st_uid == getattr(os, "getuid", lambda: -1)():
            os.chmod(folder, 0o700)
    except OSError:
        pass  # not ours to change: the store file itself is still created 0600


def utc_now() -> str:
    """The current instant, ISO 8601 with milliseconds and an explicit UTC offset."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def new_id(prefix: str) -> str:
    """``chat_<hex>`` / ``msg_<hex>``: 24 random hex digits after the prefix."""
    return f"{prefix}_{secrets.token_hex(12)}"


def _make_private(path: str) -> None:
    """Create (or tighten) the store file as owner-only: it keeps the API key and the JWT secret.

    SQLite creates the ``-wal`` and ``-shm`` files with the database file's permissions.
    """
    try:
        os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
        mode = stat.S_IMODE(os.stat(path).st_mode)
        if mode & 0o077 and os.stat(path).st_uid == getattr(os, "getuid", lambda: -1)():
            os.chmod(path, mode & 0o700)
    except OSError:
        pass  # sqlite3.connect reports an unusable path in its own words


class StoreError(Exception):
    """A turn cannot be saved: its chat or its question was deleted meanwhile."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class ChatRow:
    id: str
    member_id: str
    organization_id: str
    title: str
    integration_id: str | None
    created_at: str
    updated_at: str
    preview: str | None


@dataclass(frozen=True)
class MessageRow:
    id: str
    chat_id: str
    role: str
    content: str
    created_at: str
    metadata: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "role": self.role,
            "content": self.content,
            "timestamp": self.created_at,
            "metadata": self.metadata,
        }


@dataclass(frozen=True)
class UploadRow:
    id: str
    chat_id: str
    filename: str
    mime_type: str
    file_size: int
    upload_type: str
    tables: list[str]
    message_id: str | None
    created_at: str

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "filename": self.filename,
            "mime_type": self.mime_type,
            "file_size": self.file_size,
            # The API knows two upload types: a CSV or XLSX (kept here as "table", which questions
            # can read) is a "document" on the wire, as on the hosted service; `tables` says more.
            "upload_type": "image" if self.upload_type == "image" else "document",
            "presigned_url": None,  # files stay on this machine: there is nothing to presign
            "created_at": self.created_at,
            "message_id": self.message_id,
            "tables": self.tables,
        }


_UPLOAD_COLUMNS = ", ".join(
    f"u.{c}"
    for c in (
        "id",
        "chat_id",
        "filename",
        "mime_type",
        "file_size",
        "upload_type",
        "tables",
        "message_id",
        "created_at",
    )
)


def _upload(row: Sequence[Any]) -> UploadRow:
    return UploadRow(
        id=row[0],
        chat_id=row[1],
        filename=row[2],
        mime_type=row[3],
        file_size=row[4],
        upload_type=row[5],
        tables=json.loads(row[6]),
        message_id=row[7],
        created_at=row[8],
    )


_CHAT_COLUMNS = (
    "c.id, c.member_id, c.organization_id, c.title, c.integration_id, c.created_at, c.updated_at, "
    "(SELECT substr(m.content, 1, 120) FROM messages m WHERE m.chat_id = c.id ORDER BY m.seq LIMIT 1)"
)


class Store:
    """Chats and messages of every member; ``path`` is a file or ``":memory:"``."""

    def __init__(self, path: str = ":memory:") -> None:
        self.path = path
        self._lock = threading.RLock()
        if path != ":memory:":
            _make_private(path)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA foreign_keys = ON")
        if path != ":memory:":
            self._db.execute("PRAGMA journal_mode = WAL")
            # NORMAL in WAL mode survives a killed process (not a power cut), at a fraction of FULL's cost.
            self._db.execute("PRAGMA synchronous = NORMAL")
            self._db.execute("PRAGMA busy_timeout = 5000")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # --- small helpers ---------------------------------------------------------------------

    def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        with self._lock:
            return self._db.execute(sql, params).fetchone()

    def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    def _transaction(self, statements: Iterable[tuple[str, Sequence[Any]]]) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for sql, params in statements:
                    self._db.execute(sql, params)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # --- server secrets and members --------------------------------------------------------

    def meta(self, key: str, default: str) -> str:
        """A value kept in the store, set to ``default`` the first time it is asked for."""
        with self._lock:
            self._db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)", (key, default))
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(row[0])

    def member_id(self, email: str) -> str:
        """The member id of an email (lower-cased), created on first use and stable afterwards."""
        email = email.strip().lower()
        with self._lock:
            self._db.execute(
                "INSERT OR IGNORE INTO members (email, member_id, created_at) VALUES (?, ?, ?)",
                (email, str(uuid.uuid4()), utc_now()),
            )
            row = self._db.execute("SELECT member_id FROM members WHERE email = ?", (email,)).fetchone()
        return str(row[0])

    # --- chats -----------------------------------------------------------------------------

    def create_chat(
        self, member_id: str, organization_id: str, title: str, integration_id: str | None
    ) -> ChatRow:
        chat_id, now = new_id("chat"), utc_now()
        self._transaction(
            [
                (
                    "INSERT INTO chats (id, member_id, organization_id, title, integration_id, created_at,"
                    " updated_at, activity) VALUES (?, ?, ?, ?, ?, ?, ?,"
                    " (SELECT COALESCE(MAX(activity), 0) + 1 FROM chats))",
                    (chat_id, member_id, organization_id, title, integration_id, now, now),
                )
            ]
        )
        return ChatRow(chat_id, member_id, organization_id, title, integration_id, now, now, None)

    def count_chats(self, member_id: str) -> int:
        return int(self._one("SELECT COUNT(*) FROM chats WHERE member_id = ?", (member_id,))[0])

    def get_chat(self, member_id: str, chat_id: str) -> ChatRow | None:
        row = self._one(
            f"SELECT {_CHAT_COLUMNS} FROM chats c WHERE c.id = ? AND c.member_id = ?", (chat_id, member_id)
        )
        return ChatRow(*row) if row else None

    def list_chats(self, member_id: str, page: int, page_size: int) -> tuple[list[ChatRow], int]:
        """One page of a member's chats, most recent activity first, and the total."""
        rows = self._all(
            f"SELECT {_CHAT_COLUMNS} FROM chats c WHERE c.member_id = ?"
            " ORDER BY c.activity DESC LIMIT ? OFFSET ?",
            (member_id, page_size, (page - 1) * page_size),
        )
        return [ChatRow(*r) for r in rows], self.count_chats(member_id)

    def rename_chat(self, member_id: str, chat_id: str, title: str) -> ChatRow | None:
        with self._lock:
            cursor = self._db.execute(
                "UPDATE chats SET title = ? WHERE id = ? AND member_id = ?", (title, chat_id, member_id)
            )
            if cursor.rowcount == 0:
                return None
        return self.get_chat(member_id, chat_id)

    def set_chat_integration(self, chat_id: str, integration_id: str) -> None:
        with self._lock:
            self._db.execute("UPDATE chats SET integration_id = ? WHERE id = ?", (integration_id, chat_id))

    def delete_chats(self, member_id: str, chat_ids: Sequence[str]) -> tuple[list[str], list[str]]:
        """Delete the member's chats among ``chat_ids``: (deleted, not found), each in input order."""
        deleted: list[str] = []
        not_found: list[str] = []
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for chat_id in chat_ids:
                    cursor = self._db.execute(
                        "DELETE FROM chats WHERE id = ? AND member_id = ?", (chat_id, member_id)
                    )
                    (deleted if cursor.rowcount else not_found).append(chat_id)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        return deleted, not_found

    # --- messages --------------------------------------------------------------------------

    def messages(self, chat_id: str) -> list[MessageRow]:
        rows = self._all(
            "SELECT id, chat_id, role, content, created_at, metadata FROM messages"
            " WHERE chat_id = ? ORDER BY seq",
            (chat_id,),
        )
        return [MessageRow(r[0], r[1], r[2], r[3], r[4], json.loads(r[5])) for r in rows]

    def find_message(self, member_id: str, message_id: str) -> MessageRow | None:
        """A message of one of the member's chats."""
        row = self._one(
            "SELECT m.id, m.chat_id, m.role, m.content, m.created_at, m.metadata FROM messages m"
            " JOIN chats c ON c.id = m.chat_id WHERE m.id = ? AND c.member_id = ?",
            (message_id, member_id),
        )
        return MessageRow(row[0], row[1], row[2], row[3], row[4], json.loads(row[5])) if row else None

    def delete_messages_from(self, chat_id: str, message_id: str) -> bool:
        """Delete a message and every later message of its chat; False when it is not in that chat."""
        with self._lock:
            row = self._db.execute(
                "SELECT seq FROM messages WHERE id = ? AND chat_id = ?", (message_id, chat_id)
            ).fetchone()
            if row is None:
                return False
            self._db.execute("DELETE FROM messages WHERE chat_id = ? AND seq >= ?", (chat_id, row[0]))
        return True

    def set_feedback(self, message_id: str, feedback: str, note: str | None) -> dict[str, Any]:
        """Store feedback (and its note) in a message's metadata; the updated metadata."""
        with self._lock:
            row = self._db.execute("SELECT metadata FROM messages WHERE id = ?", (message_id,)).fetchone()
            metadata: dict[str, Any] = json.loads(row[0]) if row else {}
            metadata["feedback"] = feedback
            if note is not None:
                metadata["note"] = note
            else:
                metadata.pop("note", None)
            self._db.execute(
                "UPDATE messages SET metadata = ? WHERE id = ?", (json.dumps(metadata), message_id)
            )
        return metadata

    # --- turns -----------------------------------------------------------------------------

    def begin_turn(
        self, chat_id: str, question: str, *, metadata: dict[str, Any], replace_from: str | None = None
    ) -> str:
        """Save a turn's user message (for an edit, after deleting the edited one and all later)."""
        message_id, now = new_id("msg"), utc_now()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                if replace_from is not None:
                    row = self._db.execute(
                        "SELECT seq FROM messages WHERE id = ? AND chat_id = ?", (replace_from, chat_id)
                    ).fetchone()
                    if row is None:
                        raise StoreError("The message to edit no longer exists.", "MESSAGE_NOT_FOUND")
                    self._db.execute("DELETE FROM messages WHERE chat_id = ? AND seq >= ?", (chat_id, row[0]))
                self._insert_message(message_id, chat_id, "user", question, now, metadata)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        return message_id

    def finish_turn(self, chat_id: str, user_message_id: str, content: str, metadata: dict[str, Any]) -> str:
        """Save a turn's assistant message, all of it at once, if its question still stands."""
        message_id, now = new_id("msg"), utc_now()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                if (
                    self._db.execute("SELECT 1 FROM messages WHERE id = ?", (user_message_id,)).fetchone()
                    is None
                ):
                    raise StoreError(
                        "The question was deleted while it was being answered; the answer was not saved.",
                        "MESSAGE_NOT_FOUND",
                    )
                self._insert_message(message_id, chat_id, "assistant", content, now, metadata)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        return message_id

    def _insert_message(
        self, message_id: str, chat_id: str, role: str, content: str, now: str, metadata: dict[str, Any]
    ) -> None:
        # Called inside a transaction: the message and the chat's activity move together.
        cursor = self._db.execute(
            "UPDATE chats SET updated_at = ?, activity = (SELECT COALESCE(MAX(activity), 0) + 1 FROM chats)"
            " WHERE id = ?",
            (now, chat_id),
        )
        if cursor.rowcount == 0:
            raise StoreError("The chat was deleted; start a new one.", "CHAT_NOT_FOUND")
        self._db.execute(
            "INSERT INTO messages (id, chat_id, role, content, created_at, metadata)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (message_id, chat_id, role, content, now, json.dumps(metadata, allow_nan=False)),
        )

    # --- uploads ---------------------------------------------------------------------------

    def add_uploads(self, rows: Sequence[UploadRow]) -> None:
        self._transaction(
            (
                "INSERT INTO uploads (id, chat_id, filename, mime_type, file_size, upload_type, tables,"
                " message_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    r.id,
                    r.chat_id,
                    r.filename,
                    r.mime_type,
                    r.file_size,
                    r.upload_type,
                    json.dumps(r.tables),
                    r.message_id,
                    r.created_at,
                ),
            )
            for r in rows
        )

    def uploads(self, chat_id: str) -> list[UploadRow]:
        rows = self._all(
            f"SELECT {_UPLOAD_COLUMNS} FROM uploads u WHERE u.chat_id = ? ORDER BY u.seq", (chat_id,)
        )
        return [_upload(r) for r in rows]

    def find_upload(self, member_id: str, upload_id: str) -> UploadRow | None:
        """An upload of one of the member's chats."""
        row = self._one(
            f"SELECT {_UPLOAD_COLUMNS} FROM uploads u JOIN chats c ON c.id = u.chat_id"
            " WHERE u.id = ? AND c.member_id = ?",
            (upload_id, member_id),
        )
        return _upload(row) if row else None

    def delete_upload(self, upload_id: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM uploads WHERE id = ?", (upload_id,))

    def link_uploads(self, upload_ids: Sequence[str], message_id: str) -> None:
        """Mark uploads as attached to a user message: they keep the first message they were sent
        with, while it exists (an edit deletes it, and the edited question takes its files)."""
        with self._lock:
            self._db.executemany(
                "UPDATE uploads SET message_id = ? WHERE id = ?"
                " AND (message_id IS NULL OR message_id NOT IN (SELECT id FROM messages))",
                [(message_id, u) for u in upload_ids],
            )

    # --- saved queries ---------------------------------------------------------------------

    def saved_queries(self, organization_id: str) -> list[dict[str, Any]]:
        rows = self._all(
            "SELECT body FROM saved_queries WHERE organization_id = ? ORDER BY seq", (organization_id,)
        )
        return [json.loads(r[0]) for r in rows]

    def saved_query(self, organization_id: str, query_id: str) -> dict[str, Any] | None:
        row = self._one(
            "SELECT body FROM saved_queries WHERE organization_id = ? AND id = ?", (organization_id, query_id)
        )
        return json.loads(row[0]) if row else None

    def put_saved_query(self, body: dict[str, Any]) -> None:
        """Insert or replace a saved query (``body`` holds its id and organization id)."""
        with self._lock:
            cursor = self._db.execute(
                "UPDATE saved_queries SET body = ? WHERE id = ?", (json.dumps(body), body["id"])
            )
            if cursor.rowcount == 0:
                self._db.execute(
                    "INSERT INTO saved_queries (id, organization_id, body) VALUES (?, ?, ?)",
                    (body["id"], body["organization_id"], json.dumps(body)),
                )

    def delete_saved_query(self, organization_id: str, query_id: str) -> bool:
        with self._lock:
            cursor = self._db.execute(
                "DELETE FROM saved_queries WHERE organization_id = ? AND id = ?", (organization_id, query_id)
            )
        return cursor.rowcount > 0
