"""Start the local server: uvicorn in a background thread, over loopback by default."""

from __future__ import annotations

import logging
import os
import secrets
import threading
import time
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from .context import ServerContext
from .settings import make_settings
from .store import Store

__all__ = ["DEFAULT_EMAIL", "LocalServer", "default_databases", "serve_in_background"]

logger = logging.getLogger("trellis_jupyter.local")

DEFAULT_EMAIL = "analyst@trellis.local"


def default_databases() -> dict[str, str]:
    """The bundled demo database, built on first use."""
    from .demo import ensure_demo_database

    return {"demo": ensure_demo_database()}


class LocalServer:
    """A running local server: its address, credentials and integrations; ``stop()`` ends it.

    The API key never appears in the repr.
    """

    def __init__(
        self, ctx: ServerContext, uvicorn_server: Any, thread: threading.Thread, base_url: str
    ) -> None:
        self._ctx = ctx
        self._uvicorn = uvicorn_server
        self._thread = thread
        self.base_url = base_url
        self.email = DEFAULT_EMAIL

    @property
    def api_key(self) -> str:
        return self._ctx.api_key

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])

    @property
    def store_path(self) -> str:
        return self._ctx.store.path

    @property
    def settings(self) -> Any:
        return self._ctx.settings

    @property
    def integrations(self) -> list[dict[str, Any]]:
        return self._ctx.integrations

    @property
    def integration_id(self) -> str:
        return str(self.integrations[0]["id"])

    @property
    def databases(self) -> dict[str, str]:
        """Database name -> absolute path."""
        return {db.name: db.path for db in self._ctx.databases}

    @property
    def env(self) -> dict[str, str]:
        """The environment a client reads its settings from."""
        env = {
            "TRELLIS_BASE_URL": self.base_url,
            "TRELLIS_API_KEY": self.api_key,
            "TRELLIS_EMAIL": self.email,
        }
        if self._ctx.databases:
            env["TRELLIS_INTEGRATION_ID"] = self.integration_id
        return env

    def mint_token(self, email: str | None = None, expires_in: float = 21600) -> str:
        """A token for ``email`` (default: this server's email); a negative ``expires_in`` is expired."""
        token, _ = self._ctx.mint_token(email or self.email, expires_in)
        return token

    @property
    def requests(self) -> int:
        """HTTP requests and WebSocket connections received since the server started."""
        return self._ctx.requests

    @property
    def active_turns(self) -> int:
        """Turns being answered right now (a turn ends with its message, an error or a cancel)."""
        return self._ctx.active_turns

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving (open streams are cut) and close the store; safe to call twice."""
        if self._thread.is_alive():
            self._uvicorn.should_exit = True
            self._thread.join(timeout)
            if self._thread.is_alive():
                self._uvicorn.force_exit = True
                self._thread.join(timeout)
        self._ctx.close()

    def __enter__(self) -> LocalServer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        names = ", ".join(db.name for db in self._ctx.databases)
        return f"<LocalServer {self.base_url} databases=[{names}] store={self.store_path!r}>"


_SQLITE_HEADER = b"SQLite format 3\x00"


def _check_sqlite(name: str, path: str) -> None:
    """Refuse a file that is not a SQLite database now, not at the first question (a mistyped
    --db such as notes.txt used to start, then fail every question)."""
    with open(path, "rb") as file:
        head = file.read(len(_SQLITE_HEADER))
    if head and head != _SQLITE_HEADER:  # an empty file is a new, empty database to SQLite
        raise ValueError(f"The file for '{name}' is not a SQLite database: {path}")


def serve_in_background(
    databases: Mapping[str, str] | None = None,
    store: str = ":memory:",
    api_key: str | None = None,
    pace: float = 0.0,
    host: str = "127.0.0.1",
    port: int = 0,
    **settings: Any,
) -> LocalServer:
    """Start a local server in a daemon thread and return once it accepts connections.

    ``databases`` maps names to SQLite files (``None``: the demo database). ``store`` is the chat
    store file, or ``":memory:"``. ``api_key=None`` makes a random key (kept in a store file, so a
    restarted server accepts the same key). ``settings`` override :class:`Settings` fields:
    rate limits, intervals, query timeout, row cap, ``planner``...
    """
    import uvicorn

    options = make_settings(pace=pace, **settings)
    if databases is None:
        databases = default_databases()
    for name, path in databases.items():
        if not os.path.isfile(path):
            raise FileNotFoundError(f"The database file for '{name}' does not exist: {path}")
        _check_sqlite(name, path)
    chat_store = Store(store)
    key = api_key or chat_store.meta("api_key", "tj-local-" + secrets.token_urlsafe(24))
    ctx = ServerContext(databases=databases, store=chat_store, api_key=key, settings=options)
    from .app import build_app
    from .conn import guarded_protocol

    config = uvicorn.Config(
        build_app(ctx),
        host=host,
        port=port,
        log_level="warning",
        access_log=False,  # request lines could carry secrets one day; never log them
        lifespan="off",
        ws="websockets-sansio",
        ws_max_size=options.max_frame_bytes,  # a larger frame closes the socket with 1009
        http=guarded_protocol(options.header_timeout),  # h11, closing silent or slow request heads
        timeout_graceful_shutdown=1,
        timeout_keep_alive=30,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="trellis-local-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            ctx.close()
            raise OSError(f"The local server could not start on {host}:{port} (is the port in use?).")
        time.sleep(0.005)
    bound_port = server.servers[0].sockets[0].getsockname()[1]
    url_host = f"[{host}]" if ":" in host else host
    local = LocalServer(ctx, server, thread, f"http://{url_host}:{bound_port}")
    logger.info("local server listening on %s", local.base_url)
    return local
