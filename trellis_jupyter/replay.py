"""Notebooks that re-run without re-asking: a local cache of answers, keyed by what was asked.

With ``%config Trellis.replay = True`` (or ``--replay`` on one cell), a ``%%trellis`` cell whose
server, integration, model, question and place in the chat (the questions before it in this
kernel's chat) are those of an answer it got before shows that answer again from this cache,
with no request to the server. The cache keeps each answer as the events it arrived as, so a
replayed cell shows exactly what the live one showed.

The cache is one SQLite file (``~/.cache/trellis-jupyter/answers.sqlite`` by default), owner-only
(0600 in a 0700 folder) like the chat store, bounded in size (the least recently used answers go
first). It holds questions and answers, never a key or a token: the server is identified by its
URL without any user info, or as "local" for the bundled server.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import stat
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from .answer import Answer
from .events import Event, event_name, parse_event

__all__ = [
    "AnswerCache",
    "CachedAnswer",
    "Recorder",
    "Replay",
    "answer_key",
    "default_cache_path",
    "server_identity",
]

MAX_ENTRY_BYTES = 20 * 1024 * 1024  # a bigger answer is not kept (it would push out many others)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    key TEXT PRIMARY KEY,
    question TEXT NOT NULL,
    events TEXT NOT NULL,
    size INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    used INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS answers_by_use ON answers (used);
"""


def default_cache_path() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "trellis-jupyter", "answers.sqlite")


def server_identity(base_url: str | None, local: bool) -> str:
    """How the cache names a server: its URL without user info or query, or "local"."""
    if local:
        return "local"  # the bundled server's port changes at each start; its databases do not
    if not base_url:
        return ""
    parts = urlsplit(base_url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path.rstrip("/"), "", ""))


def answer_key(**parts: Any) -> str:
    """A stable digest of what makes an answer the same (server, integration, model, question...)."""
    text = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CachedAnswer:
    question: str
    events: list[tuple[str, dict[str, Any]]]
    created_at: str  # ISO 8601, UTC

    @property
    def when(self) -> str:
        """The date it was asked, as a person reads it: ``2026-11-28 18:40 UTC``."""
        try:
            moment = datetime.fromisoformat(self.created_at)
        except ValueError:
            return self.created_at
        return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _private_file(path: str) -> None:
    folder = os.path.dirname(path) or "."
    os.makedirs(folder, mode=0o700, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    mode = stat.S_IMODE(os.stat(path).st_mode)
    if mode & 0o077:
        os.chmod(path, 0o600)


class AnswerCache:
    """The answers cache file; ``max_bytes`` bounds the events kept (least recently used go first)."""

    def __init__(self, path: str | None = None, max_bytes: int = 100 * 1024 * 1024) -> None:
        self.path = path or default_cache_path()
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        if self._db is None:
            _private_file(self.path)
            db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=5)
            db.executescript(_SCHEMA)
            self._db = db
        return self._db

    def get(self, key: str) -> CachedAnswer | None:
        with self._lock:
            db = self._connect()
            row = db.execute(
                "SELECT question, events, created_at FROM answers WHERE key = ?", (key,)
            ).fetchone()
            if row is None:
                return None
            db.execute(
                "UPDATE answers SET used = (SELECT COALESCE(MAX(used), 0) + 1 FROM answers) WHERE key = ?",
                (key,),
            )
        events = [(str(name), dict(data)) for name, data in json.loads(row[1])]
        return CachedAnswer(question=row[0], events=events, created_at=row[2])

    def put(self, key: str, question: str, events: list[tuple[str, dict[str, Any]]]) -> bool:
        """Keep an answer (replacing one under the same key); False when it is too big to keep."""
        text = json.dumps(events, ensure_ascii=False, separators=(",", ":"))
        size = len(text.encode("utf-8"))
        if size > min(MAX_ENTRY_BYTES, self.max_bytes):
            return False
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        with self._lock:
            db = self._connect()
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute(
                    "INSERT OR REPLACE INTO answers (key, question, events, size, created_at, used)"
                    " VALUES (?, ?, ?, ?, ?, (SELECT COALESCE(MAX(used), 0) + 1 FROM answers))",
                    (key, question, text, size, now),
                )
                total = int(db.execute("SELECT COALESCE(SUM(size), 0) FROM answers").fetchone()[0])
                for old_key, old_size in db.execute("SELECT key, size FROM answers ORDER BY used").fetchall():
                    if total <= self.max_bytes:
                        break
                    db.execute("DELETE FROM answers WHERE key = ?", (old_key,))
                    total -= int(old_size)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        return True

    def stats(self) -> tuple[int, int]:
        """(answers kept, bytes of their events)."""
        with self._lock:
            row = self._connect().execute("SELECT COUNT(*), COALESCE(SUM(size), 0) FROM answers").fetchone()
        return int(row[0]), int(row[1])

    def clear(self) -> int:
        """Forget every answer; how many there were."""
        with self._lock:
            db = self._connect()
            count = int(db.execute("SELECT COUNT(*) FROM answers").fetchone()[0])
            db.execute("DELETE FROM answers")
            db.execute("VACUUM")
        return count

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None


class Recorder:
    """Wraps an answer stream, keeping each event as ``(name, data)`` as it passes."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self.events: list[tuple[str, dict[str, Any]]] = []

    @property
    def answer(self) -> Answer:
        answer: Answer = self._stream.answer
        return answer

    def __enter__(self) -> Iterator[Event]:
        events = self._stream.__enter__()
        return self._record(events)

    def _record(self, events: Any) -> Iterator[Event]:
        for event in events:
            self.events.append((event_name(event), event.to_data()))
            yield event

    def __exit__(self, *exc: object) -> Any:
        return self._stream.__exit__(*exc)

    def close(self) -> None:
        self._stream.close()


class Replay:
    """A stream that plays kept events into a fresh answer, sending nothing."""

    def __init__(self, question: str, events: list[tuple[str, Mapping[str, Any]]]) -> None:
        self.answer = Answer(question)
        self._events = events

    def __enter__(self) -> Iterator[Event]:
        return self._play()

    def _play(self) -> Iterator[Event]:
        for name, data in self._events:
            event = parse_event(name, dict(data))
            self.answer.feed(event)
            yield event

    def __exit__(self, *exc: object) -> None:
        return None

    def close(self) -> None:
        return None
