"""What every route and socket of one server shares: settings, store, databases, keys, limits."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from . import tokens
from .limits import RateLimiter
from .planner_protocol import DatabaseInfo, Planner
from .settings import Settings
from .sqlrun import QueryRunner
from .store import Store
from .wire import ApiError

__all__ = ["MODELS", "Principal", "ServerContext", "integration_id_for"]

logger = logging.getLogger("trellis_jupyter.local")

MODELS: list[dict[str, str]] = [
    {
        "model_id": "claude-sonnet-4-6",
        "display_name": "Claude Sonnet 4.6",
        "description": "Balanced default.",
    },
    {"model_id": "claude-opus-4-6", "display_name": "Claude Opus 4.6", "description": "Most capable Claude."},
    {"model_id": "claude-haiku-4-5", "display_name": "Claude Haiku 4.5", "description": "Fastest Claude."},
    {"model_id": "gpt-5.2", "display_name": "GPT-5.2", "description": "Most capable OpenAI model."},
    {"model_id": "gpt-5-mini", "display_name": "GPT-5 Mini", "description": "Light and fast."},
    {"model_id": "gemini-3.0-pro", "display_name": "Gemini 3.0 Pro", "description": "Strong reasoning."},
    {"model_id": "gemini-3.0-flash", "display_name": "Gemini 3.0 Flash", "description": "Ultra-fast."},
]
DEFAULT_MODEL = "claude-sonnet-4-6"
MODEL_IDS = frozenset(m["model_id"] for m in MODELS)


def integration_id_for(name: str, path: str) -> str:
    """A stable integration id: the same name and file give the same id on every start."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"trellis-jupyter-local:{name}:{os.path.abspath(path)}"))


@dataclass(frozen=True)
class Principal:
    """Who a valid token speaks for; ``jti`` keys its limits."""

    member_id: str
    organization_id: str
    jti: str
    expires_at: float | None = None  # the token's exp (POSIX seconds): a socket's auth ends with it


def _load_planner() -> Planner:
    from .planner import Planner as BundledPlanner

    planner: Planner = BundledPlanner()
    return planner


class ServerContext:
    """The state of one local server."""

    def __init__(
        self, *, databases: Mapping[str, str], store: Store, api_key: str, settings: Settings
    ) -> None:
        self.settings = settings
        self.store = store
        self.api_key = api_key
        secret = settings.jwt_secret or store.meta("jwt_secret", secrets.token_hex(32))
        self.secret = secret.encode("utf-8")
        self.databases = [
            DatabaseInfo(name=name, path=os.path.abspath(path), integration_id=integration_id_for(name, path))
            for name, path in databases.items()
        ]
        self.runners = {
            db.integration_id: QueryRunner(
                db.path,
                timeout=settings.query_timeout,
                row_cap=settings.row_cap,
                max_cell_chars=settings.max_cell_chars,
                max_table_bytes=settings.max_table_bytes,
                max_value_bytes=settings.max_value_bytes,
            )
            for db in self.databases
        }
        self.planner: Planner = settings.planner if settings.planner is not None else _load_planner()
        self.executor = ThreadPoolExecutor(settings.planner_threads, thread_name_prefix="trellis-planner")
        # Long questions cost the most to plan: a few at a time, so that they cannot take every
        # planner thread (and the GIL) from short ones. Waiting turns hold no thread.
        self.long_lane = asyncio.Semaphore(max(1, settings.long_question_lane))
        self.create_limiter = RateLimiter(settings.create_chat_limits)
        self.token_send_limiter = RateLimiter(settings.token_send_limits)
        self.socket_send_limiter = RateLimiter(settings.ws_send_limits)
        self.auth_failure_limiter = RateLimiter(settings.auth_failure_limits)  # per client address
        self._busy_chats: set[str] = set()  # chats with a turn running: one at a time per chat
        self.upload_dir, self._own_upload_dir = _upload_dir(store.path)
        self.upload_lock = threading.Lock()  # one writer at a time for the chats' upload databases
        self.active_turns = 0  # turns running now (read by tests and benchmarks)
        self.requests = 0  # HTTP requests and WebSockets received (read by tests)
        self._sockets: dict[str, int] = {}
        self._sockets_lock = threading.Lock()

    @property
    def integrations(self) -> list[dict[str, Any]]:
        return [
            {"id": db.integration_id, "display_name": db.name, "type": "database"} for db in self.databases
        ]

    def database(self, integration_id: str | None) -> DatabaseInfo:
        """The database of an integration id (the first one for ``None``); 404 when unknown."""
        if integration_id is None:
            if not self.databases:
                raise ApiError(
                    404,
                    "This server serves no database; start it with --db NAME=PATH.",
                    "INTEGRATION_NOT_FOUND",
                )
            return self.databases[0]
        for db in self.databases:
            if db.integration_id == integration_id:
                return db
        raise ApiError(
            404,
            "Integration not found: list the valid ids with GET /v1/integrations.",
            "INTEGRATION_NOT_FOUND",
        )

    # --- tokens ----------------------------------------------------------------------------

    def mint_token(self, email: str, expires_in: float | None = None) -> tuple[str, dict[str, Any]]:
        member_id = self.store.member_id(email)
        ttl = self.settings.token_ttl if expires_in is None else expires_in
        return tokens.mint(
            self.secret, member_id=member_id, organization_id=self.settings.organization_id, ttl=ttl
        )

    def principal(self, token: str) -> Principal:
        """The principal of a token; :class:`tokens.TokenError` when it is not valid."""
        claims = tokens.verify(token, self.secret)
        return Principal(
            member_id=claims["sub"],
            organization_id=str(claims.get("org", self.settings.organization_id)),
            jti=str(claims.get("jti", claims["sub"])),
            expires_at=float(claims["exp"]),
        )

    def principal_from_header(self, authorization: str | None) -> Principal:
        """The principal of an ``Authorization: Bearer`` header; 401 otherwise."""
        if not authorization:
            raise ApiError(
                401,
                "Missing Authorization header: send 'Authorization: Bearer <token>' with a token from "
                "POST /v1/authenticate.",
                "UNAUTHORIZED",
            )
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(401, "The Authorization header must be 'Bearer <token>'.", "UNAUTHORIZED")
        try:
            return self.principal(token.strip())
        except tokens.TokenError as exc:
            raise ApiError(401, str(exc), "UNAUTHORIZED") from None

    # --- one turn at a time per chat, on every transport ---------------------------------------

    def claim_chat(self, chat_id: str) -> None:
        """Mark a chat busy for one turn; 409 TURN_IN_PROGRESS when a turn already runs in it."""
        with self._sockets_lock:
            if chat_id in self._busy_chats:
                raise ApiError(
                    409,
                    "An answer is already being written in this chat: wait for it (or interrupt it), "
                    "then send again.",
                    "TURN_IN_PROGRESS",
                )
            self._busy_chats.add(chat_id)

    async def claim_chat_soon(self, chat_id: str, patience: float = 3.0) -> None:
        """:meth:`claim_chat`, waiting up to ``patience`` s for a turn whose client just left.

        A client that stops an answer and asks again at once can reach the server before the
        server has seen the first connection close; that is not two turns at once.
        """
        deadline = time.monotonic() + patience
        while True:
            try:
                return self.claim_chat(chat_id)
            except ApiError:
                if time.monotonic() >= deadline:
                    raise
            await asyncio.sleep(0.02)

    def release_chat(self, chat_id: str) -> None:
        with self._sockets_lock:
            self._busy_chats.discard(chat_id)

    # --- WebSocket connection cap ----------------------------------------------------------

    def open_socket(self, jti: str) -> bool:
        """Count one more socket for a token; False (nothing counted) when at the cap."""
        with self._sockets_lock:
            cap = self.settings.ws_connection_cap
            if cap and self._sockets.get(jti, 0) >= cap:
                return False
            self._sockets[jti] = self._sockets.get(jti, 0) + 1
            return True

    def close_socket(self, jti: str) -> None:
        with self._sockets_lock:
            left = self._sockets.get(jti, 0) - 1
            if left > 0:
                self._sockets[jti] = left
            else:
                self._sockets.pop(jti, None)

    def upload_db(self, chat_id: str) -> str | None:
        """The chat's upload database (its CSV and XLSX tables), if it has one."""
        path = os.path.join(self.upload_dir, f"{chat_id}.sqlite")
        return path if os.path.isfile(path) else None

    def delete_chats(self, member_id: str, chat_ids: list[str]) -> tuple[list[str], list[str]]:
        """Delete the member's chats (``store.delete_chats``), and their uploaded files and tables."""
        files = [
            u.id
            for chat_id in chat_ids
            if self.store.get_chat(member_id, chat_id)
            for u in self.store.uploads(chat_id)
        ]
        deleted, not_found = self.store.delete_chats(member_id, chat_ids)
        gone = [os.path.join(self.upload_dir, "files", upload_id) for upload_id in files]
        with self.upload_lock:
            gone += [p for p in (self.upload_db(chat_id) for chat_id in deleted) if p is not None]
            for path in gone:
                try:
                    os.unlink(path)
                except FileNotFoundError:
                    pass
        return deleted, not_found

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.store.close()
        if self._own_upload_dir:
            shutil.rmtree(self.upload_dir, ignore_errors=True)


def _upload_dir(store_path: str) -> tuple[str, bool]:
    """Where uploads live: beside a file store (kept), or a temporary folder for a memory store."""
    if store_path == ":memory:":
        folder = tempfile.mkdtemp(prefix="trellis-uploads-")  # 0700
        os.makedirs(os.path.join(folder, "files"), mode=0o700)
        return folder, True
    folder = os.path.abspath(store_path) + ".uploads"
    os.makedirs(os.path.join(folder, "files"), mode=0o700, exist_ok=True)
    os.chmod(folder, 0o700)  # uploads are the members' data: owner only, like the store
    return folder, False
