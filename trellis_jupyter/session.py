"""The kernel's Trellis state: settings, clients, the current chat, and a local server if started.

One :class:`Session` per kernel (:func:`get_session`), shared by the ``%%trellis`` magic and the chat
widget, so that both continue the same conversation. Everything is created lazily: loading the
extension sends nothing and needs no credentials; the first question does.

:class:`MagicSettings` is the ``%config Trellis.<name>`` surface: a traitlets ``Configurable``
registered with the shell, whose trait help texts are what ``%trellis help`` prints.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from traitlets import Bool, Enum, Float, Int, TraitError, Unicode, default, validate
from traitlets.config import Configurable

from ._imports import load as _load
from ._wsproto import resolve_transport
from .errors import ConfigurationError
from .scrub import redact_url

if TYPE_CHECKING:
    from .answer import Answer
    from .client import AsyncTrellis
    from .client import Trellis as Client
    from .conversation import ChatState, Conversation
    from .local import LocalServer
    from .replay import AnswerCache
    from .stream import AnswerStream

NOT_CONNECTED = (
    "Not connected: the last %trellis connect failed; run %trellis connect again "
    "(or %trellis connect --local to try the bundled offline server)."
)
NO_CONNECTION = (
    "Not connected: run %trellis connect --local to try the bundled offline server, or set "
    "TRELLIS_API_KEY and TRELLIS_EMAIL (or TRELLIS_TOKEN) and run %trellis connect."
)

__all__ = ["MagicSettings", "Session", "default_local_store", "get_session", "reset_session"]


class MagicSettings(Configurable):
    """Defaults of the ``%%trellis`` magic, set with ``%config Trellis.<name> = value``."""

    display_rows = Int(
        10, help="Rows shown of each table in a cell's output (-n overrides it for one cell)."
    ).tag(config=True)
    transport = Enum(
        ["sse", "websocket"],
        help="How answers stream: 'sse' (an HTTP request per question) or 'websocket' (a socket per chat).",
    ).tag(config=True)
    coalesce_interval = Float(
        0.08, help="Seconds between display updates while text streams in (deltas in between are merged)."
    ).tag(config=True)
    model = Unicode(
        None, allow_none=True, help="Model id for questions (None: TRELLIS_MODEL, else the server's default)."
    ).tag(config=True)
    integration = Unicode(
        None,
        allow_none=True,
        help="Database integration, by id or display name (None: TRELLIS_INTEGRATION_ID, else the server's).",
    ).tag(config=True)
    offline_charts = Bool(
        True,
        help="Save a static image beside each chart's Vega-Lite spec, so saved notebooks show it anywhere.",
    ).tag(config=True)
    local_store = Unicode(
        "",
        help="Chat store of '%trellis connect --local': a file path, ':memory:', or '' for a per-user file.",
    ).tag(config=True)
    max_retry_wait = Float(
        None,
        allow_none=True,
        help=(
            "Seconds a question may wait in all when rate limited, retrying as the server says "
            "(None: TRELLIS_MAX_RETRY_WAIT, else 60; 0: never wait)."
        ),
    ).tag(config=True)
    local_pace = Float(
        0.01, help="Seconds between text deltas of the local server (0: as fast as it can)."
    ).tag(config=True)
    replay = Bool(
        False,
        help="Show a cell's answer from an earlier run when its question, place in the chat, server, "
        "integration and model are unchanged, with no request (--refresh asks again).",
    ).tag(config=True)
    replay_cache = Unicode(
        "", help="The answer cache file of Trellis.replay ('' for ~/.cache/trellis-jupyter/answers.sqlite)."
    ).tag(config=True)
    replay_cache_mb = Int(
        100, help="Megabytes of answers the replay cache keeps (oldest used go first)."
    ).tag(config=True)

    @default("transport")
    def _transport_default(self) -> str:
        try:
            return resolve_transport(None)  # TRELLIS_TRANSPORT, else "sse"
        except ConfigurationError:
            return "sse"

    @validate("display_rows")
    def _check_rows(self, proposal: Any) -> int:
        if proposal["value"] < 0:
            raise TraitError("Trellis.display_rows must be 0 or more.")
        return int(proposal["value"])

    @validate("max_retry_wait")
    def _check_retry_wait(self, proposal: Any) -> float | None:
        value = proposal["value"]
        if value is not None and not value >= 0:
            raise TraitError("Trellis.max_retry_wait must be 0 or more seconds (0: never wait).")
        return None if value is None else float(value)

    @validate("replay_cache_mb")
    def _check_megabytes(self, proposal: Any) -> int:
        if proposal["value"] < 1:
            raise TraitError("Trellis.replay_cache_mb must be 1 or more.")
        return int(proposal["value"])

    @validate("coalesce_interval", "local_pace")
    def _check_seconds(self, proposal: Any) -> float:
        if proposal["value"] < 0:
            raise TraitError(f"Trellis.{proposal['trait'].name} must be 0 or more seconds.")
        return float(proposal["value"])


# traitlets names a Configurable's config section after its class, and users write
# ``%config Trellis.<name>``; in Python the class has its own name, so it is not taken for the client.
MagicSettings.__name__ = MagicSettings.__qualname__ = "Trellis"


def default_local_store() -> str:
    """The per-user chat store of the local server (the one ``trellis-jupyter serve`` uses too)."""
    from .local.store import default_store_path

    return default_store_path()


class Session:
    """The kernel's Trellis state (see the module docstring); :func:`get_session` gives the one.

    Connection arguments set by :meth:`connect` (and credentials of a local server) are held
    privately and never shown; settings come from :attr:`settings`.
    """

    def __init__(self, settings: MagicSettings | None = None) -> None:
        self.settings = settings if settings is not None else MagicSettings()
        self.local_server: LocalServer | None = None
        self.last_answer: Answer | None = None
        self._connection: dict[str, Any] = {}
        self._client: Client | None = None
        self._async_client: AsyncTrellis | None = None
        self._conversation: Conversation | None = None
        self._state: ChatState | None = None
        self._integrations: list[dict[str, Any]] | None = None
        self._resolved: dict[str, str] = {}
        self._answer_cache: AnswerCache | None = None
        # A connect failed with no connection before it: no question goes anywhere (in particular
        # not to the hosted default the environment would give) until a connect succeeds.
        self._connect_failed = False
        self.settings.observe(self._transport_changed, "transport")
        self.settings.observe(self._offline_charts_changed, "offline_charts")
        self.settings.observe(self._max_retry_wait_changed, "max_retry_wait")

    def _transport_changed(self, change: Any) -> None:
        # The next question uses the new transport; the chat (its state) carries over.
        self._drop_conversation()

    def _max_retry_wait_changed(self, change: Any) -> None:
        # Clients made already follow the new value from their next call on.
        for client in (self._client, self._async_client):
            if client is not None:
                client.max_retry_wait = change["new"]

    def _client_options(self) -> dict[str, Any]:
        options = dict(self._connection)
        if self.settings.max_retry_wait is not None:
            options["max_retry_wait"] = self.settings.max_retry_wait
        return options

    @staticmethod
    def _offline_charts_changed(change: Any) -> None:
        from . import charts

        if change["new"]:
            charts.enable_offline_charts()
        else:
            charts.disable_offline_charts()

    def __repr__(self) -> str:
        return f"<trellis Session base_url={redact_url(self.base_url)!r} chat_id={self.chat_id!r}>"

    # -- clients ------------------------------------------------------------------------------

    @property
    def client(self) -> Client:
        """The sync client (created on first use from :meth:`connect` arguments and the environment)."""
        if self._client is None:
            _load("trellis_jupyter.client")  # httpx: imported where Ctrl-C cannot cut it
            from .client import Trellis as Client

            self._check_connected()
            self._client = Client(**self._client_options())
        return self._client

    def _check_connected(self) -> None:
        """Refuse a client made from the environment after a failed connect; name both ways out
        when there are no credentials at all."""
        if self._connect_failed:
            raise ConfigurationError(NOT_CONNECTED)
        if not self._connection:
            from .config import MISSING_CREDENTIALS, Settings

            try:
                Settings.resolve()
            except ConfigurationError as error:
                if str(error) == MISSING_CREDENTIALS:
                    raise ConfigurationError(NO_CONNECTION) from None
                raise

    def async_client(self) -> AsyncTrellis:
        """An :class:`AsyncTrellis` on the same server and credentials (for the chat widget)."""
        if self._async_client is None:
            _load("trellis_jupyter.client")
            from .client import AsyncTrellis

            self._check_connected()
            self._async_client = AsyncTrellis(**self._client_options())
        return self._async_client

    @property
    def base_url(self) -> str | None:
        """The server in use, once known (no request is made to find it)."""
        if self._client is not None:
            url = getattr(self._client, "base_url", None)
            return str(url) if url is not None else None
        return self._connection.get("base_url")

    @property
    def state(self) -> ChatState:
        """The current chat (id, answers): one object for the kernel's life, shared with the widget."""
        if self._state is None:
            from .conversation import ChatState

            self._state = ChatState()
        return self._state

    @property
    def conversation(self) -> Conversation:
        """The current chat as a :class:`Conversation` on the sync client; ``%%trellis`` continues it."""
        if self._conversation is None:
            self._conversation = self._new_conversation()
        return self._conversation

    @property
    def chat_id(self) -> str | None:
        return self._state.chat_id if self._state is not None else None

    def _new_conversation(self) -> Conversation:
        from .conversation import Conversation

        return Conversation(self.client, state=self.state, transport=self.settings.transport)

    def _drop_conversation(self) -> None:
        # A WebSocket conversation holds a socket: close it (the chat itself is kept).
        conversation, self._conversation = self._conversation, None
        if conversation is not None:
            conversation.close()

    # -- connecting ---------------------------------------------------------------------------

    def connect(
        self,
        base_url: str | None = None,
        *,
        api_key: str | None = None,
        email: str | None = None,
        integration: str | None = None,
        model: str | None = None,
        transport: str | None = None,
        _server: LocalServer | None = None,
    ) -> None:
        """Point the kernel at a server (credentials from the environment unless given).

        The new client is built and the server checked (its integrations listed, ``integration``
        resolved) before anything is replaced, so a failed connect leaves the old one in place.
        A local server started earlier is stopped once the new connection works (``_server`` is
        the one :meth:`connect_local` just started).
        """
        _load("trellis_jupyter.client")  # httpx: imported where Ctrl-C cannot cut it
        from .client import Trellis as Client

        connection: dict[str, Any] = {}
        if base_url is not None:
            connection["base_url"] = base_url
        if api_key is not None:
            connection["api_key"] = api_key
        if email is not None:
            connection["email"] = email
        if self.settings.max_retry_wait is not None:
            connection["max_retry_wait"] = self.settings.max_retry_wait
        try:
            client = Client(**connection)
        except BaseException:
            self._failed_connect()
            raise
        try:
            # Connect means connected: the credentials (authentication) and the server (its
            # integrations) are checked now, not at the first question.
            integrations = _integration_list(client.integrations())
            resolved = _resolve(integration, integrations) if integration is not None else None
        except BaseException:
            client.close()
            self._failed_connect()
            raise
        self._connect_failed = False
        self._close_clients()
        self._connection = connection
        self._client = client
        self._integrations = integrations
        self._resolved = {integration: resolved} if integration is not None and resolved is not None else {}
        if integration is not None:
            self.settings.integration = integration
        if model is not None:
            self.settings.model = model
        if transport is not None:
            self.settings.transport = transport
        self.state.reset()  # a chat id of another server means nothing here
        self.last_answer = None
        old, self.local_server = self.local_server, _server
        if old is not None and old is not _server:
            old.stop()
        if self.settings.offline_charts:
            # vl-convert's first image starts its JavaScript engine (a second or more): do it now,
            # in the background, so the first chart answer does not wait for it.
            from .charts import warm_up_in_background

            warm_up_in_background()

    def _failed_connect(self) -> None:
        # The previous connection stays if there was one; else the kernel is on none.
        if self._client is None:
            self._connect_failed = True

    @property
    def connected(self) -> bool:
        """Whether a client is in place (made by a connect, or from the environment already)."""
        return self._client is not None

    def connect_local(
        self,
        db: str | None = None,
        *,
        integration: str | None = None,
        model: str | None = None,
        transport: str | None = None,
    ) -> LocalServer:
        """Start the bundled local server (the demo database unless ``db``) and connect to it."""
        _load("trellis_jupyter.local")  # the server (Starlette, uvicorn): the same
        from .local import serve_in_background

        databases: Mapping[str, str] | None = None
        try:
            if db is not None:
                path = Path(db).expanduser()
                if not path.is_file():
                    raise ConfigurationError(
                        f"No SQLite file at {db!r}: give --db the path of an existing database file."
                    )
                databases = {path.stem: str(path)}
            store = self.settings.local_store or default_local_store()
            try:
                server = serve_in_background(databases=databases, store=store, pace=self.settings.local_pace)
            except ValueError as exc:  # the file is not a SQLite database
                raise ConfigurationError(f"{exc}: give --db the path of a SQLite database file.") from None
        except BaseException:
            self._failed_connect()
            raise
        try:
            self.connect(
                server.base_url,
                api_key=server.api_key,
                email=server.email,
                integration=integration,
                model=model,
                transport=transport,
                _server=server,
            )
        except BaseException:
            server.stop()
            raise
        if integration is None:
            # The local server's databases are the only ones there: default to its first.
            self.settings.integration = None
            self._resolved = {}
        return server

    # -- integrations and per-question options ------------------------------------------------

    def integrations(self, refresh: bool = False) -> list[dict[str, Any]]:
        """The server's database integrations (cached until ``refresh``)."""
        if self._integrations is None or refresh:
            self._integrations = _integration_list(self.client.integrations())
        return self._integrations

    def integration_id(self, value: str | None = None) -> str | None:
        """The integration id for a question: ``value`` (id or name), else the setting, else the default."""
        value = value if value is not None else self.settings.integration
        if value is None:
            if self.local_server is not None:
                return self.local_server.integration_id
            # TRELLIS_INTEGRATION_ID as the client read it, else None: the server's choice.
            return self.client.settings.integration_id
        if value not in self._resolved:
            self._resolved[value] = _resolve(value, self.integrations())
        return self._resolved[value]

    def integration_name(self, integration_id: str | None) -> str | None:
        """The display name of an integration (its id when the server does not list it)."""
        for item in self.integrations():
            if item.get("id") == integration_id:
                return str(item.get("display_name") or integration_id)
        return integration_id

    def stream(
        self,
        question: str,
        *,
        integration: str | None = None,
        model: str | None = None,
        upload_ids: list[str] | None = None,
        saved_query_id: str | None = None,
        parameters: Mapping[str, Any] | None = None,
    ) -> AnswerStream:
        """Open (not yet enter) the stream of one question in the current chat."""
        return self.conversation.stream(
            question,
            integration_id=self.integration_id(integration),
            model=model if model is not None else self.settings.model,
            upload_ids=upload_ids,
            saved_query_id=saved_query_id,
            parameters=parameters,
        )

    def answer_cache(self) -> AnswerCache:
        """The replay cache (``Trellis.replay_cache``), opened on first use."""
        from .replay import AnswerCache, default_cache_path

        path = self.settings.replay_cache or default_cache_path()
        cache = self._answer_cache
        if cache is None or cache.path != path:
            if cache is not None:
                cache.close()
            cache = self._answer_cache = AnswerCache(path)
        cache.max_bytes = self.settings.replay_cache_mb * 1024 * 1024
        return cache

    def edit(self, content: str, *, integration: str | None = None, model: str | None = None) -> AnswerStream:
        """Open the stream that edits the chat's last question to ``content`` and answers it again."""
        return self.conversation.stream_edit(
            content,
            integration_id=self.integration_id(integration),
            model=model if model is not None else self.settings.model,
        )

    # -- chats --------------------------------------------------------------------------------

    def new_chat(self) -> None:
        """Start another chat with the next question (created lazily, on that question)."""
        self.state.reset()

    def use_chat(self, chat_id: str) -> list[Answer]:
        """Continue an existing chat: its answers are loaded (tables and charts rebuilt if kept).

        Raises :class:`~trellis_jupyter.errors.NotFoundError` for an unknown chat, leaving the
        current chat as it was.
        """
        from .conversation import Conversation

        pairs = Conversation(self.client, chat_id=chat_id).history()
        state = self.state
        state.reset()
        state.chat_id = chat_id
        state.answers.extend(answer for _, answer in pairs)
        return state.answers

    def forget_chat(self, chat_id: str) -> None:
        """After ``chat_id`` was deleted: if it was the current chat, the next question starts another."""
        if self.chat_id == chat_id:
            self.state.reset()
            self.last_answer = None

    # -- lifetime -----------------------------------------------------------------------------

    def _close_clients(self) -> None:
        self._drop_conversation()
        client, self._client = self._client, None
        if client is not None:
            client.close()
        # The async client belongs to the kernel's event loop; dropping it lets its connections be
        # collected (closing it needs that loop, which may be busy running this very cell).
        self._async_client = None
        self._integrations = None
        self._resolved = {}

    def close(self) -> None:
        """Close the clients and stop a local server started by ``connect_local``."""
        self._close_clients()
        server, self.local_server = self.local_server, None
        if server is not None:
            server.stop()
        cache, self._answer_cache = self._answer_cache, None
        if cache is not None:
            cache.close()


def _integration_list(response: Any) -> list[dict[str, Any]]:
    # Tolerate both a bare list and the documented {"integrations": [...]} object.
    items = response.get("integrations", []) if isinstance(response, Mapping) else response
    return [dict(item) for item in items or [] if isinstance(item, Mapping)]


def _resolve(value: str, integrations: list[dict[str, Any]]) -> str:
    """An integration id from an id or a display name (case-insensitive); one sentence if neither."""
    for item in integrations:
        if item.get("id") == value:
            return value
    matches = [item for item in integrations if str(item.get("display_name", "")).lower() == value.lower()]
    if len(matches) == 1:
        return str(matches[0]["id"])
    if len(matches) > 1:
        raise ConfigurationError(
            f"Several integrations are named {value!r}: pass its id instead (see %trellis integrations)."
        )
    raise ConfigurationError(
        f"No integration has the id or name {value!r}: run %trellis integrations to see the ones available."
    )


_SESSION: Session | None = None


def get_session() -> Session:
    """The kernel's one :class:`Session` (created on first use)."""
    global _SESSION
    if _SESSION is None:
        _SESSION = Session()
    return _SESSION


def reset_session(settings: MagicSettings | None = None) -> Session:
    """Close the kernel's session and start a fresh one (used when the extension is reloaded)."""
    global _SESSION
    if _SESSION is not None:
        _SESSION.close()
    _SESSION = Session(settings)
    return _SESSION
