"""The Trellis clients: :class:`Trellis` (blocking) and :class:`AsyncTrellis`, with the same surface.

::

    client = Trellis()                       # TRELLIS_* from the environment
    client.models(); client.integrations()
    client.chats.create(); client.chats.list(); client.chats.iter_all(); client.chats.get(chat_id)
    client.chats.rename(chat_id, title); client.chats.delete(chat_id); client.chats.delete_many(ids)
    client.chats.delete_message(chat_id, message_id); client.chats.feedback(message_id, "positive")
    with client.chats.stream("How many orders last month?") as stream: ...
    with client.chats.edit(chat_id, message_id, "...and by region?") as stream: ...
    client.chats.upload(chat_id, ["targets.csv", df]); client.chats.uploads(chat_id)
    client.chats.delete_upload(upload_id)
    client.queries.list(); client.queries.get(id); client.queries.create(title=..., prompt=..., sql=...)
    client.queries.update(id, sql=...); client.queries.delete(id)
    conversation = client.conversation()     # a chat that starts on first use

A stream without ``chat_id`` starts a new chat (see :mod:`trellis_jupyter.chats`). Every
``import httpx`` stays in the client layer (this module, _http.py and _sse.py).
"""

from __future__ import annotations

import dataclasses
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import httpx

from ._http import AsyncHTTP, SyncHTTP
from .auth import AsyncAuth, Auth, Secret, TokenManager
from .chats import AsyncChats, Chats
from .config import Settings
from .conversation import AsyncConversation, Conversation
from .queries import AsyncQueries, Queries
from .scrub import redact_url

if TYPE_CHECKING:
    from .websocket import AsyncChatSocket, ChatSocket

__all__ = ["AsyncChats", "AsyncTrellis", "Chats", "Trellis"]


# --- what both twins share ---------------------------------------------------------------


def _models(body: Any) -> dict[str, Any]:
    """``{"models": [{model_id, display_name, description}], "default"}``; older plain-string lists too."""
    body = body if isinstance(body, dict) else {}
    models = [
        m if isinstance(m, dict) else {"model_id": str(m), "display_name": str(m), "description": ""}
        for m in body.get("models") or []
    ]
    return {**body, "models": models, "default": body.get("default")}


def _repr(client: Trellis | AsyncTrellis) -> str:
    s = client.settings
    auth = "api key" if s.api_key is not None else "token" if s.token is not None else "none"
    return (
        f"<{type(client).__name__} base_url={redact_url(s.base_url)!r} "
        f"integration_id={s.integration_id!r} auth={auth}>"
    )


C = TypeVar("C", httpx.Client, httpx.AsyncClient)
T = TypeVar("T", bound="_Base[Any]")


class _Base(Generic[C]):
    """What both clients share, the constructor included (written once, for both twins)."""

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | Secret | None = None,
        email: str | None = None,
        token: str | Secret | None = None,
        integration_id: str | None = None,
        model: str | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
        *,
        max_retry_wait: float | None = None,
        http_client: C | None = None,
    ) -> None:
        settings = Settings.resolve(
            base_url=base_url,
            api_key=api_key,
            email=email,
            token=token,
            integration_id=integration_id,
            model=model,
            timeout=timeout,
            max_retries=max_retries,
            max_retry_wait=max_retry_wait,
        )
        self._setup(settings, http_client)

    @classmethod
    def from_settings(cls: type[T], settings: Settings, *, http_client: Any = None) -> T:
        """A client with another client's settings (``AsyncTrellis.from_settings(client.settings)``)."""
        client = cls.__new__(cls)
        client._setup(settings, http_client)
        return client

    def _setup(self, settings: Settings, http_client: C | None) -> None:
        self.settings = settings
        self._tokens = TokenManager(api_key=settings.api_key, email=settings.email, token=settings.token)
        self._open(http_client)

    def _open(self, http_client: C | None) -> None:
        """Set up the HTTP core, ``auth``, ``chats`` and ``queries`` (each twin its own)."""
        raise NotImplementedError

    @property
    def base_url(self) -> str:
        return self.settings.base_url

    @property
    def max_retry_wait(self) -> float:
        """Seconds a call may wait in all when rate limited (0: raise at once); settable."""
        return self.settings.max_retry_wait

    @max_retry_wait.setter
    def max_retry_wait(self, seconds: float | None) -> None:
        value = Settings.resolve_retry_wait(seconds)
        self.settings = dataclasses.replace(self.settings, max_retry_wait=value)
        self._http.max_retry_wait = value  # type: ignore[attr-defined]

    def __repr__(self) -> str:
        return _repr(self)  # type: ignore[arg-type]


# --- sync -----------------------------------------------------------------------------------------


class Trellis(_Base[httpx.Client]):
    """Blocking client. Arguments override ``TRELLIS_*`` environment variables.

    Rate limited (429, or 503 with ``Retry-After``), any call waits as told and tries again, up to
    ``max_retry_wait`` seconds in all (default 60; 0: raise at once); past it
    :class:`~trellis_jupyter.errors.RateLimitError` says how long to wait.
    """

    _http: SyncHTTP
    auth: Auth
    """The credentials: ``auth.token()`` (renewed as needed) and ``auth.invalidate(token)``."""
    chats: Chats
    queries: Queries

    def _open(self, http_client: httpx.Client | None) -> None:
        self._http = SyncHTTP(self.settings, self._tokens, http_client)
        self.auth = self._http.auth
        self.chats = Chats(self)
        self.queries = Queries(self)

    def models(self) -> dict[str, Any]:
        """``{"models": [{"model_id", "display_name", "description"}, ...], "default": ...}``."""
        return _models(self._http.request("GET", "/v1/models"))

    def integrations(self) -> list[dict[str, Any]]:
        """The organization's database integrations: ``[{"id", "display_name", "type"}, ...]``."""
        body = self._http.request("GET", "/v1/integrations")
        return list(body.get("integrations") or []) if isinstance(body, dict) else []

    def conversation(
        self,
        chat_id: str | None = None,
        *,
        integration_id: str | None = None,
        model: str | None = None,
        transport: str | None = None,
    ) -> Conversation:
        """A conversation: a new chat on first use, or the existing ``chat_id`` continued.

        ``transport``: ``"sse"`` or ``"websocket"`` (default: ``TRELLIS_TRANSPORT``, else SSE).
        """
        return Conversation(
            self, chat_id=chat_id, integration_id=integration_id, model=model, transport=transport
        )

    def websocket(self, heartbeat: bool = False) -> ChatSocket:
        """An open WebSocket for many questions on one connection (see :mod:`trellis_jupyter.websocket`)."""
        from .websocket import client_socket

        return client_socket(self, heartbeat=heartbeat).connect()

    def close(self) -> None:
        """Close the connection pool (a client passed as ``http_client`` is left open)."""
        self._http.close()

    def __enter__(self) -> Trellis:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


# --- async ----------------------------------------------------------------------------------------


class AsyncTrellis(_Base[httpx.AsyncClient]):
    """Async client, the twin of :class:`Trellis`."""

    _http: AsyncHTTP
    auth: AsyncAuth
    """The credentials: ``await auth.token()`` (renewed as needed) and ``auth.invalidate(token)``."""
    chats: AsyncChats
    queries: AsyncQueries

    def _open(self, http_client: httpx.AsyncClient | None) -> None:
        self._http = AsyncHTTP(self.settings, self._tokens, http_client)
        self.auth = self._http.auth
        self.chats = AsyncChats(self)
        self.queries = AsyncQueries(self)

    async def models(self) -> dict[str, Any]:
        return _models(await self._http.request("GET", "/v1/models"))

    async def integrations(self) -> list[dict[str, Any]]:
        body = await self._http.request("GET", "/v1/integrations")
        return list(body.get("integrations") or []) if isinstance(body, dict) else []

    def conversation(
        self,
        chat_id: str | None = None,
        *,
        integration_id: str | None = None,
        model: str | None = None,
        transport: str | None = None,
    ) -> AsyncConversation:
        return AsyncConversation(
            self, chat_id=chat_id, integration_id=integration_id, model=model, transport=transport
        )

    def websocket(self, heartbeat: bool = False) -> AsyncChatSocket:
        """``socket = await client.websocket()``, or ``async with client.websocket() as socket``."""
        from .websocket import async_client_socket

        return async_client_socket(self, heartbeat=heartbeat)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncTrellis:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
